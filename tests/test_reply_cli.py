"""`vistavox reply`: a real spoken round trip, and a clear error for every kind of bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import character_error_rate, user_speech, word_error_rate

VISTAVOX = Path(sys.executable).with_name("vistavox")


def run_reply(audio_in: Path, audio_out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(VISTAVOX),
            "reply",
            "--audio-in",
            str(audio_in),
            "--audio-out",
            str(audio_out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "Can you tell me something about the moon?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_spoken_question_gets_a_spoken_answer(
    question, synthesizer, transcriber, tmp_path, artifacts_dir
):
    from vistavox.pipelines.audio.files import load_audio, write_wav

    # Piper speaks the question, with silence around it as a microphone would record it.
    rate = synthesizer.sample_rate
    pad = np.zeros(int(0.5 * rate), dtype=np.float32)
    spoken = np.concatenate([pad, user_speech(synthesizer, question, to_rate=rate), pad])
    question_wav = tmp_path / "question.wav"
    write_wav(question_wav, spoken, rate)
    answer_wav = tmp_path / "answer.wav"
    answer_txt = tmp_path / "answer.txt"

    done = run_reply(question_wav, answer_wav, "--text-out", str(answer_txt))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    heard_line = next(line for line in done.stdout.splitlines() if line.startswith("You said: "))
    heard_question = heard_line.removeprefix("You said: ")
    assert word_error_rate(question, heard_question) <= 0.25, heard_question

    reply = answer_txt.read_text(encoding="utf-8").strip()
    assert reply, "the reply text is empty"
    assert f"Vistavox: {reply}" in done.stdout

    info = sf.info(answer_wav)
    assert info.samplerate == synthesizer.sample_rate and info.channels == 1
    assert info.duration > 0.5
    (artifacts_dir / f"answer-{QUESTIONS.index(question)}.wav").write_bytes(answer_wav.read_bytes())

    # The answer audio is the reply, spoken intelligibly: Whisper hears the same words.
    heard_answer = transcriber.transcribe(load_audio(answer_wav)).text
    assert len(heard_answer.split()) >= 2, heard_answer
    # (The measuring ear is Whisper tiny.en, whose int8 arithmetic differs by CPU: on one
    # machine it heard "A spider has 8 legs." as "Ispirator has 8 legs.", 0.26. A garbled,
    # cut or wrong answer is far above 0.4.)
    assert character_error_rate(reply, heard_answer) <= 0.4, (reply, heard_answer)


def _write(path: Path, audio: np.ndarray, rate: int = 16_000) -> Path:
    sf.write(path, audio.astype(np.float32), rate)
    return path


def _bad_inputs(folder: Path, good: Path) -> dict[str, tuple[Path, Path, str]]:
    """name → (audio_in, audio_out, text the error must contain)."""
    out = folder / "out.wav"
    not_audio = folder / "notes.wav"
    not_audio.write_text("this is a text file, not audio\n")
    empty = folder / "empty.wav"
    empty.write_bytes(b"")
    truncated = folder / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:40])
    rng = np.random.default_rng(7)
    return {
        "missing file": (folder / "nowhere.wav", out, "no such file"),
        "text file": (not_audio, out, "not an audio file"),
        "zero-byte file": (empty, out, "empty"),
        "truncated header": (truncated, out, "not an audio file"),
        "no samples": (_write(folder / "nosamples.wav", np.zeros(0)), out, "no audio samples"),
        "silence": (_write(folder / "silence.wav", np.zeros(48_000)), out, "no speech"),
        "noise": (_write(folder / "noise.wav", rng.normal(0, 0.05, 48_000)), out, "no speech"),
        "output folder missing": (good, folder / "absent" / "out.wav", "does not exist"),
        "output is a folder": (good, folder, "is a folder"),
    }


BAD_CASES = [
    "missing file",
    "text file",
    "zero-byte file",
    "truncated header",
    "no samples",
    "silence",
    "noise",
    "output folder missing",
    "output is a folder",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_gives_one_clear_error_line(case, tmp_path):
    good = Path(__file__).resolve().parents[1] / "resources" / "samples" / "question.wav"
    audio_in, audio_out, expected = _bad_inputs(tmp_path, good)[case]
    done = run_reply(audio_in, audio_out)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("vistavox: error: ")
    assert expected in lines[0]
    assert not (tmp_path / "out.wav").exists(), "no answer file is written on error"


def test_shipped_sample_question_is_understood(transcriber):
    from vistavox.pipelines.audio.files import load_audio

    sample = Path(__file__).resolve().parents[1] / "resources" / "samples" / "question.wav"
    heard = transcriber.transcribe(load_audio(sample)).text
    assert word_error_rate("How many legs does a spider have?", heard) <= 0.2, heard
