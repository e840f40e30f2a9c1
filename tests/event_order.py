"""File-driven conversation scenarios and the order of their milestone events, kept from
before the engine was split into stages (``tests/data/event_order``): the redesign must
keep it. ``python -m tests.event_order record`` writes the files anew.

``python -m tests.event_order traces`` records what the engine's Listener got and did, frame
by frame, in the same scenarios (``tests/data/listener_traces``), for replay without models
(tests/test_listener.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from tests.conftest import play_out, user_speech

RATE = 16_000
GOLDEN = Path(__file__).parent / "data" / "event_order"
TRACES = Path(__file__).parent / "data" / "listener_traces"
# The events a user sees change in the window (tokens, phrases, levels and states are left
# out: their number depends on the model's words and the machine's speed).
MILESTONES = ("SpeechStarted", "SpeechEnded", "FinalTranscript", "Interrupted", "ReplyFinished")

SCENARIOS: dict[str, list[tuple[float, str | None]]] = {
    # (silence before, words said); the reply to each question ends before the next.
    "two_questions": [(1.0, "What is the capital of France?"), (9.0, "How are you today?")],
    # The user cuts a long reply off (before it is heard or as it begins: longer than the
    # hold-off at its start, see Gate).
    "barge_in": [
        (1.0, "Tell me a long story about a dragon and a knight."),
        (3.0, "Stop, stop talking now."),
    ],
    # ... later, while it is being said: held as possible echo, judged the user's.
    "stop_while_speaking": [
        (1.0, "Tell me a long story about a dragon and a knight."),
        (7.0, "Please stop talking now."),
    ],
}


def scenario_audio(models, name: str) -> np.ndarray:
    parts = []
    for gap, text in SCENARIOS[name]:
        parts.append(np.zeros(int(gap * RATE), np.float32))
        if text:
            parts.append(user_speech(models.tts, text))
    return np.concatenate(parts)


def milestones(events) -> list[str]:
    """The milestone events in order, as ``Type`` or ``Type(barge-in)`` / ``Type(cut)``."""
    out = []
    for event in events:
        kind = type(event).__name__
        if kind not in MILESTONES:
            continue
        if getattr(event, "barge_in", False) or getattr(event, "interrupted", False):
            kind += "(cut)"
        out.append(kind)
    return out


def run(models, name: str, workdir: Path, trace: list | None = None) -> list[str]:
    """Play the scenario into a conversation through a file microphone; its milestones.
    With ``trace``, each frame the Listener got and the actions it gave are added to it
    (see ``trace_line``), ``{"trust": true}`` where the engine told it held speech was
    the user's and ``{"complete": true}`` where the words drafted made a whole sentence."""
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.audio.microphone import FileMicrophone
    from vistavox.pipelines.audio.speaker import RecordingSpeaker
    from vistavox.pipelines.conversation import Conversation, EngineSettings
    from vistavox.pipelines.events import EventBus, EventLog

    wav = workdir / f"{name}.wav"
    write_wav(wav, scenario_audio(models, name), RATE)
    bus = EventBus()
    log = EventLog(bus)
    mic = FileMicrophone(wav, tail_s=6.0)
    speaker = RecordingSpeaker(source_rate=models.tts.sample_rate)
    conversation = Conversation(models, mic, speaker, settings=EngineSettings(), bus=bus)
    if trace is not None:
        listener = conversation._listener
        trust = listener.trust

        def trusted() -> None:
            trace.append({"trust": True})
            trust()

        listener.trust = trusted
        complete = listener.complete

        def completed() -> None:
            trace.append({"complete": True})
            complete()

        listener.complete = completed
        conversation.on_listened = lambda heard, actions: trace.append(trace_line(heard, actions))
    conversation.start()
    try:
        play_out(conversation, mic)
    finally:
        conversation.stop()
    return milestones(log.events)


def trace_line(heard, actions) -> dict:
    """A frame the Listener got (without its audio) and the actions it gave, as JSON."""
    return {
        "t": round(heard.end_s, 4),
        "p": round(heard.probability, 4),
        "rp": round(heard.raw_probability, 4),
        "busy": heard.speaker_busy,
        "replying": heard.replying,
        "held_pending": heard.held_pending,
        "echo_possible": heard.echo_possible,
        "echo_free": heard.echo_free,
        "idle": heard.recogniser_idle,
        "actions": [describe(a) for a in actions],
    }


def describe(action) -> str:
    """An action as text: its kind, and where on the input timeline it applies."""
    kind = type(action).__name__
    at = getattr(action, "at", None)
    if at is None:
        at = getattr(action, "end_s", None)
    flags = [f for f in ("held", "barge", "final") if getattr(action, f, False)]
    where = "" if at is None else f"@{at:.3f}"
    return kind + where + (f"[{','.join(flags)}]" if flags else "")


def main(argv: list[str]) -> int:
    import tempfile

    from vistavox.pipelines.voice_models import VoiceModels

    if argv[:1] not in (["record"], ["traces"]):
        print("usage: python -m tests.event_order record|traces [OUTDIR]")
        return 2
    if argv[0] == "traces":
        out = Path(argv[1]) if len(argv) > 1 else TRACES
        out.mkdir(parents=True, exist_ok=True)
        models = VoiceModels.load_defaults()
        with tempfile.TemporaryDirectory() as tmp:
            for name in SCENARIOS:
                trace: list = []
                run(models, name, Path(tmp), trace)
                lines = "".join(json.dumps(line) + "\n" for line in trace)
                (out / f"{name}.jsonl").write_text(lines)
                print(name, [a for line in trace for a in line.get("actions", [])])
        return 0
    out = Path(argv[1]) if len(argv) > 1 else GOLDEN
    out.mkdir(parents=True, exist_ok=True)
    models = VoiceModels.load_defaults()
    with tempfile.TemporaryDirectory() as tmp:
        for name in SCENARIOS:
            order = run(models, name, Path(tmp))
            (out / f"{name}.json").write_text(json.dumps(order, indent=1) + "\n")
            print(name, order)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
