"""Timers as a real feature: set, listed and cancelled in words, kept in the real SQLite file
across a restart, fired by their thread; a spoken draft that is abandoned sets nothing; the
app says aloud that a timer ended, through real (virtual) audio devices."""

from __future__ import annotations

import threading
import time

import pytest

from vistavox.pipelines.intents.handler import IntentHandler
from vistavox.pipelines.intents.timers import Fired, TimerBook, announcement, describe_duration
from vistavox.pipelines.kernel.store import Store


@pytest.fixture
def db(tmp_path):
    return tmp_path / "timers.db"


def _handler(book: TimerBook) -> IntentHandler:
    return IntentHandler(book)


def _say(handler: IntentHandler, text: str) -> str:
    reply = handler.handle(text)
    assert reply is not None, f"{text!r} was not taken as a timer request"
    reply.commit()
    return reply.text


def test_set_list_and_cancel_in_words(db):
    with Store(db) as store:
        book = TimerBook(store)
        handler = _handler(book)
        assert "10 minutes" in _say(handler, "set a timer for 10 minutes")
        assert "pasta" in _say(handler, "set a pasta timer for 12 minutes")
        assert sorted(t.seconds for t in book.pending()) == [600, 720]
        listing = _say(handler, "what timers do i have")
        assert "2 timers" in listing and "pasta" in listing
        assert "pasta" in _say(handler, "cancel the pasta timer")
        assert [t.seconds for t in book.pending()] == [600]
        assert "cancelled" in _say(handler, "cancel the timer")
        assert book.pending() == []
        assert "no timers" in _say(handler, "what timers do i have").lower()


def test_an_abandoned_draft_sets_no_timer(db):
    """A spoken turn drafted at the user's pause is dropped when they go on talking: the
    timer exists only once the turn is kept (the reply's commit)."""
    with Store(db) as store:
        book = TimerBook(store)
        reply = _handler(book).handle("set a 5 minute timer")
        assert reply is not None and "5 minute" in reply.text
        assert book.pending() == []
        reply.commit()
        assert [t.seconds for t in book.pending()] == [300]


def test_pending_timers_survive_a_restart_and_late_ones_fire_at_start(db):
    with Store(db) as store:
        book = TimerBook(store)
        _say(_handler(book), "set a timer for 1 hour")
        store.add_timer(60, "tea", now=time.time() - 600)  # ended while the app was closed
    fired: list[Fired] = []
    got = threading.Event()
    with Store(db) as store:  # the app starts again
        book = TimerBook(store, on_fire=lambda f: (fired.append(f), got.set()))
        assert sorted(t.seconds for t in book.pending()) == [60, 3600]
        book.start()
        try:
            assert got.wait(30), "the timer that ended while closed never fired"
        finally:
            book.stop()
        assert [f.timer.label for f in fired] == ["tea"]
        assert "tea timer ended at" in announcement(fired[0]).lower()
        assert [t.seconds for t in book.pending()] == [3600], "the hour timer still runs"


def test_a_timer_fires_once_and_is_then_gone(db):
    fired: list[Fired] = []
    done = threading.Event()
    changes: list[int] = []
    with Store(db) as store:
        book = TimerBook(
            store,
            on_fire=lambda f: (fired.append(f), done.set()),
            on_change=lambda pending: changes.append(len(pending)),
        )
        book.start()
        try:
            book.set(1, "eggs")
            assert done.wait(30), "the timer never fired"
        finally:
            book.stop()
        assert [f.timer.label for f in fired] == ["eggs"]
        assert announcement(fired[0]) == "The eggs timer is done."
        assert book.pending() == [] and changes[0] == 1 and changes[-1] == 0


def test_a_cancelled_timer_never_fires(db):
    fired: list[Fired] = []
    with Store(db) as store:
        book = TimerBook(store, on_fire=fired.append)
        timer = book.set(1)
        book.cancel([timer])
        book.start()
        time.sleep(1.5)  # past its end: it would have fired by now
        book.stop()
    assert fired == []


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(60, "1 minute"), (90, "90 seconds"), (300, "5 minutes"), (5400, "1 hour and 30 minutes"),
     (3661, "1 hour, 1 minute and 1 second"), (30, "30 seconds")],
)  # fmt: skip
def test_durations_read_well_aloud(seconds, said):
    assert describe_duration(seconds) == said


def test_impossible_timers_are_refused_in_words(db):
    with Store(db) as store:
        book = TimerBook(store)
        reply = _handler(book).handle("set a timer for 30 days")
        if reply is not None:  # taken as a timer: refused before anything is promised
            reply.commit()
            assert "week" in reply.text.lower()
        assert book.pending() == []


# --- the app, through real (virtual) audio devices --------------------------------------------


def _heard_words(rig, since: float, transcriber, until_s: float = 30.0) -> str:
    """What the virtual speaker said after ``since`` (monotonic), once it fell silent."""
    from tests.audio_rig import RATE

    deadline = time.monotonic() + until_s
    start = None
    while time.monotonic() < deadline:
        start = start or rig.recorder.first_sound_after(since)
        last = rig.recorder.last_sound_between(since, time.monotonic())
        if start is not None and last is not None and time.monotonic() - last > 1.5:
            break
        time.sleep(0.2)
    assert start is not None, "the speaker stayed silent"
    audio = rig.recorder.audio_between(start - 0.2, time.monotonic())
    assert rig.recorder.rate == RATE
    return transcriber.transcribe(audio).text if audio.size else ""


def test_a_timer_that_ends_is_said_aloud_on_the_speaker(rig, tmp_path, monkeypatch, transcriber):
    """Typed "set a timer for 2 seconds" in the app, no voice loop open: when it ends, a
    chime and the words come out of the chosen speaker."""
    from tests.audio_rig import SPEAKER
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.audio import devices
    from vistavox.pipelines.events import EventBus, EventLog, ReplyFinished, TimerFinished

    monkeypatch.setattr(
        devices.DeviceSettings, "load", classmethod(lambda cls: cls(output=SPEAKER))
    )
    bus = EventBus()
    log = EventLog(bus)
    assistant = Assistant(bus, AppSettings(), db_path=tmp_path / "c.db", workspace=tmp_path)
    assistant.load()
    try:
        assistant.ask("set a timer for 2 seconds")
        assert log.wait_for(ReplyFinished, timeout=60)
        asked_at = time.monotonic()
        fired = log.wait_for(TimerFinished, timeout=60)
        assert fired, "the timer never ended"
        heard = _heard_words(rig, asked_at, transcriber)
    finally:
        assistant.shutdown()
    assert "timer" in heard.lower() and "done" in heard.lower(), heard
