"""Voice-to-voice latency of the real-time loop through real (virtual PulseAudio) devices,
against a naive sequential pipeline; barge-in reaction time (headphones, and through
speakers, over the assistant's echo); echo self-triggers.

Latency is measured outside the engine: from the true end of the user's speech in the signal
played into the virtual microphone to the first reply sample recorded from the virtual
speaker, minus the rig's own play→record delay (calibrated with clicks).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from tests.audio_rig import MIC, RATE, SPEAKER, PulseRig, calibrate, speech_bounds
from tests.benchmarks import app_llm_name
from tests.benchmarks.stats import print_table, summary
from tests.conftest import EVAL_DIR

EXTRA_QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What colour is the sky on a clear day?",
    "Can you recommend a good book?",
]
STAGES = [
    "pause",
    "stt_start",
    "stt_done",
    "first_token",
    "first_phrase",
    "first_audio_ready",
    "first_sample",
    "endpoint",
]


def _clips(models) -> list[tuple[str, np.ndarray]]:
    from vistavox.pipelines.audio.files import load_audio
    from vistavox.pipelines.audio.resample import resample

    clips = []
    listing = EVAL_DIR / "speech" / "transcripts.jsonl"
    if listing.is_file():
        for line in listing.read_text().splitlines():
            row = json.loads(line)
            clips.append((row["file"], load_audio(EVAL_DIR / "speech" / row["file"])))
    for q in EXTRA_QUESTIONS:  # questions, as the product is meant for
        clips.append((q, resample(models.tts.speak(q), models.tts.sample_rate, RATE)))
    return clips


def _engine(models, rig, settings):
    from vistavox.pipelines.audio.microphone import Microphone
    from vistavox.pipelines.audio.speaker import Speaker
    from vistavox.pipelines.conversation import Conversation
    from vistavox.pipelines.events import EventBus, EventLog

    bus = EventBus()
    log = EventLog(bus)
    engine = Conversation(
        models,
        Microphone(MIC),
        Speaker(SPEAKER, source_rate=models.tts.sample_rate),
        settings=settings,
        bus=bus,
    )
    engine.start()
    time.sleep(1.5)  # the first input block can take a while
    return engine, log


def _wait_reply_after(log, moment: float, timeout: float = 30.0) -> None:
    """Wait until a reply that finished after ``moment`` is there, and the engine is idle."""
    from vistavox.pipelines.events import ReplyFinished

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.at > moment for e in log.of_type(ReplyFinished)):
            return
        time.sleep(0.05)


def _run_turns(models, rig, clips, settings, calibration):
    from vistavox.pipelines.events import FinalTranscript

    engine, log = _engine(models, rig, settings)
    rows = []
    try:
        for i, (name, audio) in enumerate(clips):
            _, speech_end = speech_bounds(audio)
            last_before = max((t.id for t in engine.turns), default=0)
            finals_before = len(log.of_type(FinalTranscript))
            start, _ = rig.player.say(f"{settings.speculative}-{i}", audio)
            true_end = start + speech_end
            _wait_reply_after(log, true_end)
            first = rig.recorder.first_sound_after(true_end)
            newest = engine.turns[-1] if engine.turns else None
            turn = newest if newest is not None and newest.id > last_before else None
            # A clip with a long pause inside is two turns; if the first reply was still
            # playing when the clip ended, its sound is not the answer to the end: skip it.
            talking = rig.recorder.last_sound_between(true_end - 0.3, true_end) is not None
            if talking or turn is None:
                first = None
            marks = (
                {k: round(v - turn.speech_end_at, 4) for k, v in turn.marks.items()} if turn else {}
            )
            rows.append(
                {
                    "clip": name,
                    "heard": turn.text if turn else "",
                    # every turn the clip made (one with a long pause is two)
                    "heard_all": " ".join(
                        e.text for e in log.of_type(FinalTranscript)[finals_before:]
                    ),
                    "voice_to_voice_s": None
                    if first is None
                    else round(first - true_end - calibration, 4),
                    "marks": marks,
                }
            )
            time.sleep(0.8)
    finally:
        engine.stop()
    return rows


def _word_error_rates(rows) -> dict[str, float | int] | None:
    """Word error rate of what the engine heard of each real recording (every turn it
    made of the clip), over all of them, against the material's transcripts."""
    from tests.conftest import word_error_rate

    listing = EVAL_DIR / "speech" / "transcripts.jsonl"
    if not listing.is_file():
        return None
    truth = {}
    for line in listing.read_text().splitlines():
        row = json.loads(line)
        truth[row["file"]] = row["transcript"]
    pairs = [(truth[r["clip"]], r["heard_all"]) for r in rows if r["clip"] in truth]
    if not pairs:
        return None
    refs, hyps = zip(*pairs, strict=True)
    return {"clips": len(pairs), "wer": round(word_error_rate(list(refs), list(hyps)), 4)}


def _barge_in(models, rig, calibration, trials: int):
    """The user says "Stop, wait a moment please." over a long reply, ``trials`` times, each
    with a fresh engine (no history from the trial before): seconds from the user's onset
    until the speaker falls silent, and what the assistant had said when it was cut off."""
    from vistavox.pipelines.audio.resample import resample
    from vistavox.pipelines.conversation import EngineSettings
    from vistavox.pipelines.events import Interrupted, PhraseSpoken

    ask = resample(
        models.tts.speak("Tell me a long story about a brave knight and a dragon."),
        models.tts.sample_rate,
        RATE,
    )
    stop = resample(models.tts.speak("Stop, wait a moment please."), models.tts.sample_rate, RATE)
    onset_in_clip, _ = speech_bounds(stop)
    reactions, heard = [], []
    for i in range(trials):
        engine, log = _engine(models, rig, EngineSettings())
        try:
            rig.player.say(f"ask{i}", ask)
            if log.wait_for(PhraseSpoken, 2, timeout=60) is None:
                print(f"barge-in trial {i}: the reply never started")
                continue
            time.sleep(0.5)
            start, _ = rig.player.say(f"stop{i}", stop, wait=False)
            onset = start + onset_in_clip
            got = log.wait_for(Interrupted, 1, timeout=20)
            time.sleep(stop.size / RATE + 0.2)
            if got is None:
                print(f"barge-in trial {i}: talking over the reply did not interrupt it")
                continue
            # The assistant's output must fall silent; the reply to "stop" comes later. Its
            # first sample left the engine at the turn's "first_sample" mark, and cannot
            # reach the recorder before that.
            later = [
                t.marks["first_sample"]
                for t in engine.turns
                if "first_sample" in t.marks and t.marks["first_sample"] > onset
            ]
            window_end = min(later) if later else onset + 3.0
            last = rig.recorder.last_sound_between(onset - 1.0, window_end)
            reactions.append(round(max(0.0, (last or onset) - onset - calibration), 4))
            heard.append(got[0].heard)
        finally:
            engine.stop()
        time.sleep(1.0)
    return reactions, heard


def _echo(models, rig, clips, cancel: bool):
    """Speakers instead of headphones: count speech onsets the assistant's own voice caused
    (detected while no user clip was playing)."""
    from vistavox.pipelines.conversation import EngineSettings
    from vistavox.pipelines.events import PhraseSpoken, SpeechStarted

    engine, log = _engine(models, rig, EngineSettings(echo_cancellation=cancel))
    spans = []
    try:
        for i, (_, audio) in enumerate(clips):
            start, end = rig.player.say(f"echo{cancel}-{i}", audio)
            spans.append((start, end))
            _wait_reply_after(log, end)
            time.sleep(2.0)  # let any self-triggered turn show up
            _wait_reply_after(log, time.monotonic() - 0.1, timeout=5)
    finally:
        engine.stop()
    # Detection comes 0.1-0.5 s after an onset; allow a second after each user clip.
    own = [
        e for e in log.of_type(SpeechStarted) if not any(s <= e.at <= end + 1.0 for s, end in spans)
    ]
    return {
        "user_turns": len(clips),
        "speech_onsets": len(log.of_type(SpeechStarted)),
        "self_triggers": len(own),
        "phrases_spoken": len(log.of_type(PhraseSpoken)),
    }


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    from vistavox.pipelines.conversation import EngineSettings
    from vistavox.pipelines.voice_models import VoiceModels

    models = VoiceModels.load_defaults(app_llm_name())
    print(f"language model: {models.llm.model_info.spec.name}", flush=True)
    rig = PulseRig().start()
    try:
        rig.start_io()
        time.sleep(1.0)
        calibration = calibrate(rig)
        print(f"rig play→record delay (subtracted): {calibration * 1000:.1f} ms")
        clips = _clips(models)
        streaming = _run_turns(models, rig, clips, EngineSettings(), calibration)
        naive = _run_turns(
            models, rig, clips, EngineSettings(speculative=False, stream_reply=False), calibration
        )
        reactions, heard = _barge_in(models, rig, calibration, trials=max(3, repeat))
        rig.loop_speaker_into_mic()
        # Through speakers: the user talks over the assistant's echo.
        reactions_echo, heard_echo = _barge_in(models, rig, calibration, trials=max(3, repeat))
        questions = clips[-len(EXTRA_QUESTIONS) :]
        echo_on = _echo(models, rig, questions * 2, cancel=True)
        echo_off = _echo(models, rig, questions, cancel=False)
    finally:
        rig.close()

    wer = _word_error_rates(streaming)
    v2v = [r["voice_to_voice_s"] for r in streaming]
    v2v_naive = [r["voice_to_voice_s"] for r in naive]
    stages = {k: summary([r["marks"].get(k) for r in streaming]) for k in STAGES}
    s_stream, s_naive = summary(v2v), summary(v2v_naive)
    rows = [
        {"measure": "voice-to-voice, streaming", **s_stream},
        {"measure": "voice-to-voice, naive sequential", **s_naive},
        {"measure": "barge-in reaction", **summary(reactions)},
        {"measure": "barge-in reaction, through speakers", **summary(reactions_echo)},
    ] + [{"measure": f"  stage '{k}' after speech end", **v} for k, v in stages.items()]
    print_table(rows, ["measure", "n", "median", "p95", "min", "max"])
    ratio = (s_naive["median"] / s_stream["median"]) if s_stream["median"] else None
    print(f"naive/streaming median ratio: {ratio:.2f}" if ratio else "no ratio")
    print(f"word error rate on the recordings (all turns of each clip): {wer}")
    print(f"echo with cancellation: {echo_on}")
    print(f"echo without cancellation: {echo_off}")
    return {
        "rig_delay_subtracted_s": round(calibration, 4),
        "llm": models.llm.model_info.spec.name,
        "word_error_rate": wer,
        "voice_to_voice_s": s_stream,
        "voice_to_voice_naive_s": s_naive,
        "naive_over_streaming_median": round(ratio, 2) if ratio else None,
        "stages_after_speech_end_s": stages,
        "barge_in_reaction_s": summary(reactions),
        "barge_in_heard": heard,
        "barge_in_through_speakers_reaction_s": summary(reactions_echo),
        "barge_in_through_speakers_heard": heard_echo,
        "echo_with_cancellation": echo_on,
        "echo_without_cancellation": echo_off,
        "turns": streaming,
        "naive_turns": naive,
    }
