"""`vistavox converse` and `vistavox devices`: the conversation loop, headless."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import VistavoxError
from ..events import (
    EngineError,
    Event,
    FinalTranscript,
    Interrupted,
    LevelMeter,
    ListeningStarted,
    PartialTranscript,
    ReplyFinished,
    ReplyToken,
    SpeechStarted,
    WakeWordHeard,
)


class ConsoleView:
    """Shows the conversation in a terminal, as the events arrive."""

    def __init__(self, stream=sys.stdout) -> None:
        self.out = stream
        self._replying: int | None = None

    def __call__(self, event: Event) -> None:
        w = self.out.write
        if isinstance(event, ListeningStarted):
            w(
                f"Listening ({event.mode}) on '{event.input_device}', speaking on "
                f"'{event.output_device}'. Press Ctrl-C to stop.\n"
            )
            if event.wake_word:
                w(f"Say '{event.wake_word}' to start.\n")
        elif isinstance(event, WakeWordHeard):
            w(f"[{event.phrase}: listening]\n")
        elif isinstance(event, SpeechStarted) and event.barge_in:
            w("\n[you interrupted]\n")
        elif isinstance(event, FinalTranscript):
            w(f"You: {event.text}\nVistavox: ")
            self._replying = event.turn_id
        elif isinstance(event, ReplyToken) and event.turn_id == self._replying:
            w(event.text)
        elif isinstance(event, ReplyFinished) and event.turn_id == self._replying:
            w("\n" if not event.interrupted else "")
            self._replying = None
        elif isinstance(event, Interrupted):
            w(f'\n(heard: "{event.heard}")\n')
        elif isinstance(event, EngineError):
            w(f"\n[problem] {event.message}\n")
        self.out.flush()


class JsonEventWriter:
    """Writes every event (except level meters) as one JSON line."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("w", encoding="utf-8")
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, LevelMeter | PartialTranscript):
            return
        record = {"type": type(event).__name__, **asdict(event)}
        with self._lock:
            self._fh.write(json.dumps(record, default=str) + "\n")
            self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def _voice_kernel(models, args: argparse.Namespace, announce):
    """The kernel for a spoken conversation on the user's conversation database, with the
    chosen persona (default: short spoken answers), and the timer book whose timers are
    said aloud through ``announce`` when they end (to start and stop)."""
    from ..conversation import voice_kernel
    from ..intents.timers import TimerBook, announcement
    from ..kernel.personas import load_persona
    from ..kernel.store import Store, default_db_path

    store = Store(args.db or default_db_path())
    timers = TimerBook(store, on_fire=lambda fired: announce(announcement(fired)))
    from ..tools.defaults import web_registry

    persona = load_persona(args.persona) if args.persona else None
    reader = web_registry(persona.name if persona else "voice")  # pages named aloud
    return voice_kernel(models.llm, store, persona, timers=timers, page_reader=reader), timers


def cmd_converse(args: argparse.Namespace) -> int:
    from ..audio.devices import DeviceSettings
    from ..audio.files import write_wav
    from ..audio.microphone import FileMicrophone, Microphone
    from ..audio.speaker import RecordingSpeaker, Speaker
    from ..conversation import Conversation, EngineSettings
    from ..events import EventBus
    from ..files import check_writable
    from ..voice_models import VoiceModels

    file_mode = args.input_file is not None
    if args.output_file:
        check_writable(args.output_file)
    remembered = DeviceSettings.load()
    input_device = args.input_device or remembered.input
    output_device = args.output_device or remembered.output
    if args.remember and not file_mode:
        saved = DeviceSettings(input=input_device, output=output_device).save()
        print(f"Remembered these devices in {saved}", file=sys.stderr)

    wake_word = None
    if args.wake_word and args.wake_word.lower() != "off":
        from ..speech.wakeword import WakeWordDetector

        wake_word = WakeWordDetector(args.wake_word, args.wake_sensitivity)
    models = VoiceModels.load_defaults()
    if file_mode:
        mic = FileMicrophone(args.input_file, tail_s=args.tail)
        speaker = RecordingSpeaker(source_rate=models.tts.sample_rate)
    else:
        mic = Microphone(input_device)
        speaker = Speaker(output_device, source_rate=models.tts.sample_rate)
    settings = EngineSettings(
        hands_free=not args.push_to_talk,
        echo_cancellation=not args.no_echo_cancel,
        wake_word=wake_word,
    )
    bus = EventBus()
    bus.subscribe(ConsoleView())
    writer = JsonEventWriter(args.events) if args.events else None
    if writer:
        bus.subscribe(writer)
    kernel = timers = conversation = None
    if not args.no_save:
        kernel, timers = _voice_kernel(models, args, lambda text: conversation.announce(text))
        if (
            args.conversation is not None
            and kernel.store.get_conversation(args.conversation) is None
        ):
            raise VistavoxError(f"there is no conversation {args.conversation}")
    conversation = Conversation(
        models,
        mic,
        speaker,
        settings=settings,
        bus=bus,
        kernel=kernel,
        conversation_id=args.conversation,
    )

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    conversation.start()
    if timers is not None:
        timers.start()
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else None
    try:
        while not stop.is_set():
            if deadline and time.monotonic() > deadline:
                break
            if file_mode and mic.finished.is_set() and conversation.is_idle():
                break
            if not file_mode and args.push_to_talk:
                print("Push-to-talk needs the desktop app; use hands-free here.", file=sys.stderr)
                break
            stop.wait(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        if timers is not None:
            timers.stop()
        conversation.stop()
        if writer:
            writer.close()
    if kernel is not None and conversation.conversation_id is not None:
        print(
            f"[conversation {conversation.conversation_id} saved in {kernel.store.path}]",
            file=sys.stderr,
        )
    if file_mode and args.output_file:
        write_wav(args.output_file, speaker.audio(), speaker.rate)
        print(f"Assistant audio: {args.output_file}", file=sys.stderr)
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from ..audio.devices import DeviceSettings, list_devices

    remembered = DeviceSettings.load()
    print(f"remembered: input '{remembered.input}', output '{remembered.output}'")
    for d in list_devices():
        io = f"{d.max_inputs} in, {d.max_outputs} out"
        print(f"{d.index:3}  {d.name:40} {d.host_api:10} {io:16} {d.default_rate:.0f} Hz")
    print(
        "Choose with --input-device/--output-device: an index, part of a name, 'default', "
        "or pulse:NAME for a PulseAudio/PipeWire source or sink."
    )
    return 0


def add_commands(sub) -> None:
    converse = sub.add_parser(
        "converse",
        help="talk with the assistant hands-free through audio devices (or WAV files)",
        description="A spoken conversation: listens, answers out loud, can be interrupted.",
    )
    converse.add_argument("--input-device", help="microphone (see `vistavox devices`)")
    converse.add_argument("--output-device", help="speaker (see `vistavox devices`)")
    converse.add_argument("--remember", action="store_true", help="save the devices as default")
    converse.add_argument("--push-to-talk", action="store_true", help=argparse.SUPPRESS)
    converse.add_argument(
        "--no-echo-cancel", action="store_true", help="turn echo cancellation off (with headphones)"
    )
    converse.add_argument(
        "--input-file",
        type=Path,
        help="play this recording of the user's turns into the loop instead "
        "of a microphone (runs in real time)",
    )
    converse.add_argument(
        "--output-file",
        type=Path,
        help="with --input-file: write the assistant's speech here, on the input's timeline",
    )
    converse.add_argument(
        "--tail",
        type=float,
        default=4.0,
        help="seconds of silence after the input file (default 4)",
    )
    converse.add_argument(
        "--wake-word",
        metavar="NAME",
        help="take a turn only after this word: okay_nabu, hey_jarvis, hey_mycroft, alexa or "
        "one trained with `vistavox wakeword train` (after a reply, a follow-up needs none; "
        "default: off)",
    )
    converse.add_argument(
        "--wake-sensitivity",
        type=float,
        default=0.5,
        metavar="S",
        help="0-1: higher wakes more easily, and more often by mistake (default 0.5, the "
        "measured cut-off)",
    )
    converse.add_argument("--events", type=Path, help="write every event as JSON lines here")
    converse.add_argument("--persona", help="persona name (default: short spoken answers)")
    converse.add_argument("--conversation", type=int, help="continue this saved conversation")
    converse.add_argument("--db", type=Path, help="conversation database (default: user data dir)")
    converse.add_argument(
        "--no-save", action="store_true", help="do not keep this conversation after it ends"
    )
    converse.add_argument("--max-seconds", type=float, help="stop after this long")
    converse.set_defaults(run=cmd_converse)

    devices = sub.add_parser("devices", help="list audio devices and the remembered choice")
    devices.set_defaults(run=cmd_devices)
