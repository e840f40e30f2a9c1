"""Typed events the conversation engine publishes, and the bus that carries them.

Subscribers are called on the publishing thread; the desktop connects them to Qt signals,
which deliver them queued on the GUI thread. Keep subscribers quick.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar


class EngineState(StrEnum):
    """What the assistant is doing, as shown to the user."""

    IDLE = "idle"
    LISTENING = "listening"
    HEARING = "hearing you"
    THINKING = "thinking"
    SPEAKING = "speaking"
    INTERRUPTED = "interrupted"
    STOPPED = "stopped"


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all engine events; ``at`` is time.monotonic() when it happened."""

    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, kw_only=True)
class StateChanged(Event):
    state: EngineState


@dataclass(frozen=True, kw_only=True)
class ListeningStarted(Event):
    mode: str  # "hands-free" or "push-to-talk"
    input_device: str
    output_device: str
    wake_word: str = ""  # the phrase a hands-free turn starts with ("": none needed)


@dataclass(frozen=True, kw_only=True)
class WakeWordHeard(Event):
    """The wake word was heard: the user's next words are a turn. ``audio_at`` is when, on
    the input timeline (s)."""

    phrase: str  # e.g. "Okay Nabu"
    audio_at: float
    window_s: float = 8.0  # how long speech is taken after it (unless a turn goes on)


@dataclass(frozen=True, kw_only=True)
class LevelMeter(Event):
    """Input level of the last block (after echo cancellation), in dBFS."""

    rms_db: float
    peak_db: float


@dataclass(frozen=True, kw_only=True)
class SpeechStarted(Event):
    """The user started speaking; ``audio_at`` is the onset on the input timeline (s)."""

    audio_at: float
    barge_in: bool = False


@dataclass(frozen=True, kw_only=True)
class SpeechEnded(Event):
    """The endpoint: the user stopped speaking. ``audio_at`` is the true end on the input
    timeline (s), before the hangover that confirmed it."""

    audio_at: float
    duration_s: float


@dataclass(frozen=True, kw_only=True)
class PartialTranscript(Event):
    """Transcript of the speech so far: ``stable`` will not change, ``tentative`` may."""

    stable: str
    tentative: str


@dataclass(frozen=True, kw_only=True)
class FinalTranscript(Event):
    turn_id: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ReplyToken(Event):
    turn_id: int
    text: str


@dataclass(frozen=True, kw_only=True)
class PhraseSpoken(Event):
    """A phrase started playing on the output device."""

    turn_id: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ReplyFinished(Event):
    turn_id: int
    text: str
    interrupted: bool


@dataclass(frozen=True, kw_only=True)
class Interrupted(Event):
    """The user spoke over the reply; only ``heard`` reached them."""

    turn_id: int
    heard: str
    reason: str = "user"  # "user" (Stop), "barge-in", "device" or "shutdown"


@dataclass(frozen=True, kw_only=True)
class EngineError(Event):
    """Something went wrong; ``recoverable`` errors are retried automatically."""

    code: str  # e.g. "input-device-lost", "output-device-lost", "stt-failed"
    message: str
    recoverable: bool = True


@dataclass(frozen=True, kw_only=True)
class DeviceRecovered(Event):
    kind: str  # "input" or "output"
    device: str


@dataclass(frozen=True, kw_only=True)
class ModelsLoading(Event):
    """Progress of loading the models (off the GUI thread)."""

    stage: str
    fraction: float  # 0..1 of the whole load


@dataclass(frozen=True, kw_only=True)
class ModelsReady(Event):
    """Every model is loaded; the assistant can listen and answer."""

    summary: str


@dataclass(frozen=True, kw_only=True)
class UserTurn(Event):
    """A typed (or dropped) question entered the conversation."""

    turn_id: int
    text: str
    images: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ToolCalled(Event):
    """A tool call went through the executor (with its decision)."""

    tool: str
    arguments: str  # JSON
    decision: str
    summary: str
    seconds: float


@dataclass(frozen=True, kw_only=True)
class ConfirmationRequested(Event):
    """A tool asks the user before it runs; answer with ``Assistant.confirm``."""

    request_id: int
    tool: str
    arguments: str  # JSON
    reason: str


@dataclass(frozen=True, kw_only=True)
class ConfirmationClosed(Event):
    """A tool's question is no longer waiting: answered, refused because the turn was
    stopped, or refused after nobody answered (``timed_out``). Its prompt goes."""

    request_id: int
    tool: str
    allowed: bool
    timed_out: bool = False
    waited_s: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ContextUpdated(Event):
    """What is in the context window now (the kernel's memory map)."""

    conversation_id: int | None
    memory_map: str


@dataclass(frozen=True, kw_only=True)
class ConversationOpened(Event):
    """The current conversation changed (new, or one picked from the saved ones)."""

    conversation_id: int | None


@dataclass(frozen=True, kw_only=True)
class PageUpdated(Event):
    """An HTML page in the workspace was written (e.g. from a sketch); preview it."""

    path: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class IntentAnswered(Event):
    """A request answered exactly by a local intent (a sum, a conversion, the time, a
    timer…), without the language model; ``reading`` is how it was understood."""

    intent: str
    reading: str
    reply: str
    seconds: float


@dataclass(frozen=True)
class TimerInfo:
    """A pending timer as the window shows it; ``ends_at`` is wall-clock (time.time())."""

    timer_id: int
    label: str
    seconds: int
    ends_at: float


@dataclass(frozen=True, kw_only=True)
class TimersChanged(Event):
    """The pending timers now, the soonest first."""

    timers: tuple[TimerInfo, ...]


@dataclass(frozen=True, kw_only=True)
class TimerFinished(Event):
    """A timer ended; ``text`` is what the assistant says about it."""

    timer_id: int
    label: str
    seconds: int
    text: str


Subscriber = Callable[[Event], None]
E = TypeVar("E", bound=Event)


class EventBus:
    """Publish events to every subscriber; a failing subscriber never breaks the engine."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # noqa: BLE001 - a broken view must not stop the engine
                import logging

                logging.getLogger(__name__).exception("event subscriber failed")


class EventLog:
    """Collects events (for tests, benchmarks and the headless runner) and waits for them."""

    def __init__(self, bus: EventBus | None = None) -> None:
        self.events: list[Event] = []
        self._cond = threading.Condition()
        if bus is not None:
            bus.subscribe(self)

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of_type(self, kind: type[E]) -> list[E]:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind: type[E], count: int = 1, timeout: float = 30.0) -> list[E] | None:
        """Wait until ``count`` events of ``kind`` arrived; None on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.events if isinstance(e, kind)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
