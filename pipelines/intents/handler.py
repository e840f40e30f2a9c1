"""The intent layer as the kernel's first direct handler: a recognised everyday request is
answered exactly and at once; timers act on the timer book when the turn is kept."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..kernel.direct import DirectReply
from ..kernel.store import TimerRecord
from . import Intent, answer, recognise
from .timers import MAX_SECONDS, TimerBook, describe_duration, remaining_s, timer_name


def local_now() -> datetime:
    """The current time in the machine's time zone (what "what time is it" means)."""
    return datetime.now().astimezone()


@dataclass(frozen=True)
class IntentAnswer:
    """Which intent answered a turn, how it read the request, and how long that took."""

    intent: str
    reading: str
    reply: str
    seconds: float


class IntentHandler:
    """Recognises a turn's text and answers it, or returns None for the model to answer.

    ``on_answer`` hears each answer that was kept (a spoken turn drafted at a pause may be
    dropped when the user goes on talking); the desktop shows it in the Tools tab."""

    def __init__(
        self,
        timers: TimerBook | None,
        *,
        clock: Callable[[], datetime] = local_now,
        on_answer: Callable[[IntentAnswer], None] | None = None,
    ):
        self.timers = timers
        self.clock = clock
        self.on_answer = on_answer

    def handle(self, text: str) -> DirectReply | None:
        started = time.perf_counter()
        intent = recognise(text)
        if intent is None:
            return None
        if intent.name.startswith("timer_"):
            reply, act = self._timer(intent)
        else:
            reply, act = answer(intent, self.clock()), None
        seconds = time.perf_counter() - started
        record = IntentAnswer(intent.name, intent.reading, reply, seconds)

        def commit() -> None:
            if act is not None:
                act()
            if self.on_answer is not None:
                self.on_answer(record)

        return DirectReply(reply, commit)

    # --- timers ----------------------------------------------------------------------------
    def _timer(self, intent: Intent) -> tuple[str, Callable[[], object] | None]:
        book = self.timers
        if book is None:
            return "Timers are not available here.", None
        slots = intent.slots
        if intent.name == "timer_set":
            seconds, label = int(slots["seconds"]), str(slots.get("label") or "")
            if seconds <= 0:
                return "How long should the timer run?", None
            if seconds > MAX_SECONDS:  # checked before the reply promises anything
                return "Timers run for a week at most.", None
            named = f"{label} timer" if label else "timer"
            return (
                f"OK, {named} for {describe_duration(seconds)}, starting now.",
                lambda: book.set(seconds, label),
            )
        pending = book.pending()
        if intent.name == "timer_list":
            return _listing(_matching(pending, slots) or pending), None
        if intent.name == "timer_cancel":
            return self._cancel(book, pending, slots)
        raise ValueError(f"unknown timer intent {intent.name!r}")

    def _cancel(self, book: TimerBook, pending: list[TimerRecord], slots):
        if not pending:
            return "There are no timers to cancel.", None
        chosen = pending if slots.get("all") else _matching(pending, slots)
        if not chosen and not (slots.get("label") or slots.get("seconds")) and len(pending) == 1:
            chosen = pending
        if not chosen:
            if slots.get("label") or slots.get("seconds"):
                return f"I couldn't find that timer. {_listing(pending)}", None
            names = _join([timer_name(t) for t in pending])
            return f"You have {len(pending)} timers: {names}. Which one should I cancel?", None
        if len(chosen) == 1:
            reply = f"OK, I cancelled {timer_name(chosen[0])}."
        else:
            reply = f"OK, I cancelled {len(chosen)} timers."
        return reply, lambda: book.cancel(chosen)


def _matching(pending: list[TimerRecord], slots) -> list[TimerRecord]:
    label = str(slots.get("label") or "").strip().lower()
    seconds = slots.get("seconds")
    if label:
        return [t for t in pending if t.label.lower() == label]
    if seconds:
        return [t for t in pending if t.seconds == int(seconds)]
    return []


def _listing(timers: list[TimerRecord]) -> str:
    if not timers:
        return "You have no timers running."
    now = time.time()
    parts = [f"{timer_name(t)}, {_left(remaining_s(t, now))} left" for t in timers]
    if len(parts) == 1:
        return f"You have one timer: {parts[0]}."
    return f"You have {len(parts)} timers: {_join(parts, '; ')}."


def _left(seconds: float) -> str:
    whole = int(round(seconds))
    if whole >= 120:
        whole = int(round(seconds / 60.0)) * 60  # "about 4 minutes" is what people want
        return f"about {describe_duration(whole)}"
    return describe_duration(max(1, whole))


def _join(items: list[str], separator: str = ", ") -> str:
    if len(items) < 2:
        return "".join(items)
    return separator.join(items[:-1]) + " and " + items[-1]


def add_everyday_intents(
    kernel,
    *,
    timers: TimerBook | None = None,
    on_answer: Callable[[IntentAnswer], None] | None = None,
) -> IntentHandler:
    """Put the everyday intents in front of ``kernel``'s model (after the direct handlers
    it already has). Timers go to ``timers``, or to a book over the kernel's own store:
    kept there for the app, which fires them (a one-shot command cannot)."""
    handler = IntentHandler(timers or TimerBook(kernel.store), on_answer=on_answer)
    kernel.direct_handlers.append(handler.handle)
    return handler
