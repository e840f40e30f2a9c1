"""`vistavox reply`: one spoken question from an audio file, answered out loud into another
file."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ..errors import NoSpeechError, VistavoxError


def cmd_reply(args: argparse.Namespace) -> int:
    from ..audio.files import load_audio, write_wav
    from ..files import check_writable, write_atomic

    # Check everything the user gave us before loading any model.
    audio_out = check_writable(args.audio_out)
    text_out = check_writable(args.text_out) if args.text_out else None
    question = load_audio(args.audio_in)

    from ..conversation import EngineSettings, scratch_voice_kernel
    from ..voice_models import VoiceModels
    from ..voice_turn import run_voice_turn

    models = VoiceModels.load_defaults()
    kernel, scratch = scratch_voice_kernel(models.llm, EngineSettings())  # intents, guard

    def show_transcript(text: str) -> None:
        print(f"You said: {text}", flush=True)
        print("Vistavox: ", end="", flush=True)

    def show_piece(piece: str) -> None:
        print(piece, end="", flush=True)

    try:
        result = run_voice_turn(
            models,
            question,
            on_transcript=show_transcript,
            on_reply_text=show_piece,
            kernel=kernel,
        )
    except NoSpeechError as exc:
        raise NoSpeechError(f"{args.audio_in}: {exc}") from exc
    finally:
        kernel.store.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(flush=True)
    if not result.reply:
        raise VistavoxError("the language model gave an empty reply; nothing to say")
    write_wav(audio_out, result.audio, result.sample_rate)
    if text_out:
        write_atomic(text_out, (result.reply + "\n").encode("utf-8"))
    seconds = result.audio.size / result.sample_rate
    print(f"Answer audio: {audio_out} ({seconds:.1f} s)", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    reply = sub.add_parser(
        "reply",
        help="answer one spoken question from an audio file, out loud into another file",
        description="Transcribe the question in AUDIO_IN, answer it, and speak the answer.",
    )
    reply.add_argument("--audio-in", required=True, type=Path, help="wav/flac/mp3/ogg question")
    reply.add_argument("--audio-out", required=True, type=Path, help="WAV file for the answer")
    reply.add_argument("--text-out", type=Path, help="also write the answer's text here")
    reply.set_defaults(run=cmd_reply)
