"""Timers as a real feature: set, listed and cancelled by voice or typing, kept in the
database so pending ones survive a restart, and fired by one thread that tells whoever
listens (the window shows it, the voice says it).

Times are wall-clock (``time.time()``): a timer set before the app closed still ends at the
moment the user expects; one that ended while the app was closed fires late, at start-up,
marked as such.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..kernel.store import Store, TimerRecord

_log = logging.getLogger(__name__)
LATE_S = 5.0  # a timer found this long past its end fired while nobody was watching
MAX_SECONDS = 7 * 24 * 3600  # longer than a week is a reminder, not a timer


class TimerError(ValueError):
    """A timer that cannot be set (no duration, or too long)."""


@dataclass(frozen=True)
class Fired:
    """A timer that ended: ``late_s`` is how long after its end it was noticed (the app was
    closed, or the machine asleep)."""

    timer: TimerRecord
    late_s: float


def describe_duration(seconds: int) -> str:
    """Spoken form of a duration: "1 hour and 30 minutes", "90 seconds", "2 minutes"."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours == 0 and minutes == 0 or (hours == 0 and minutes < 2 and secs):
        return _unit(int(seconds), "second")
    parts = [_unit(hours, "hour")] if hours else []
    if minutes:
        parts.append(_unit(minutes, "minute"))
    if secs:
        parts.append(_unit(secs, "second"))
    return " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"


def _unit(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def timer_name(timer: TimerRecord) -> str:
    """How a timer is called aloud: "the pasta timer", "the 5 minute timer"."""
    if timer.label:
        return f"the {timer.label} timer"
    hours, rest = divmod(timer.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if not hours and not secs and minutes:
        return f"the {minutes} minute timer"
    if not minutes and not secs and hours:
        return f"the {hours} hour timer"
    return f"the {describe_duration(timer.seconds)} timer"


def remaining_s(timer: TimerRecord, now: float | None = None) -> float:
    """Seconds left (0 once it has ended)."""
    return max(0.0, timer.ends_at - (time.time() if now is None else now))


class TimerBook:
    """The pending timers and the thread that fires them; ``on_fire`` runs on that thread."""

    def __init__(
        self,
        store: Store,
        on_fire: Callable[[Fired], None] | None = None,
        on_change: Callable[[list[TimerRecord]], None] | None = None,
    ):
        """``on_change`` hears the pending timers after each change (set, cancelled,
        fired)."""
        self.store = store
        self.on_fire = on_fire
        self.on_change = on_change
        self._wake = threading.Condition()
        self._running = False
        self._thread: threading.Thread | None = None

    # --- what the intents call -------------------------------------------------------
    def set(self, seconds: int, label: str = "") -> TimerRecord:
        """Start a timer of ``seconds``; TimerError for a zero, negative or huge one."""
        if seconds <= 0:
            raise TimerError("a timer needs a duration")
        if seconds > MAX_SECONDS:
            raise TimerError("timers run for a week at most")
        timer = self.store.add_timer(int(seconds), label.strip())
        self._changed()
        return timer

    def pending(self) -> list[TimerRecord]:
        """Pending timers, the soonest first."""
        return self.store.pending_timers()

    def cancel(self, timers: list[TimerRecord]) -> list[TimerRecord]:
        """Cancel these timers; returns those that were still pending."""
        cancelled = [t for t in timers if self.store.end_timer(t.id, "cancelled")]
        self._changed()
        return cancelled

    # --- firing ------------------------------------------------------------------------
    def start(self) -> None:
        """Fire timers as they end, from now on (those that ended while the app was closed
        fire at once)."""
        with self._wake:
            if self._running:
                return
            self._running = True
        self._thread = threading.Thread(target=self._run, name="vistavox-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._running = False
            self._wake.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def _changed(self) -> None:
        with self._wake:
            self._wake.notify_all()
        if self.on_change is not None:
            try:
                self.on_change(self.store.pending_timers())
            except Exception:  # noqa: BLE001 - a broken view never stops the timers
                _log.exception("reporting the timers failed")

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._running:
                    return
                try:
                    pending = self.store.pending_timers()
                except Exception:  # noqa: BLE001 - a closed or damaged store: try again later
                    _log.exception("could not read the timers")
                    pending = []
                now = time.time()
                due = [t for t in pending if t.ends_at <= now]
                if not due:
                    # Wall-clock waits in short steps: a changed clock or a suspended
                    # machine is noticed within a second.
                    wait = min([t.ends_at - now for t in pending] + [1.0])
                    self._wake.wait(timeout=max(0.01, wait))
                    continue
            for timer in due:
                self._fire(timer, now)

    def _fire(self, timer: TimerRecord, now: float) -> None:
        try:
            if not self.store.end_timer(timer.id, "finished"):
                return  # cancelled meanwhile
        except Exception:  # noqa: BLE001
            _log.exception("could not mark timer %s finished", timer.id)
            return
        self._changed()
        if self.on_fire is None:
            return
        try:
            self.on_fire(Fired(timer, max(0.0, now - timer.ends_at)))
        except Exception:  # noqa: BLE001 - one listener's failure never stops the timers
            _log.exception("announcing timer %s failed", timer.id)


def clock_text(wall_time: float) -> str:
    """A wall-clock time as said aloud: "9:04 PM"."""
    return datetime.fromtimestamp(wall_time).strftime("%I:%M %p").lstrip("0")


def announcement(fired: Fired) -> str:
    """What the assistant says when a timer ends (when it ended, for one that ended while
    the app was closed)."""
    name = timer_name(fired.timer)
    if fired.late_s > LATE_S:
        return f"{name[0].upper()}{name[1:]} ended at {clock_text(fired.timer.ends_at)}."
    return f"{name[0].upper()}{name[1:]} is done."
