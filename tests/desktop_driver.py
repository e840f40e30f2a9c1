"""Runs the real desktop app and lets a test act on it like a user: commands arrive as JSON
lines on stdin (click, type, drop, screenshot, quit), and the assistant's events leave as
JSON lines on stdout. Start with: python -m tests.desktop_driver [--db PATH]."""

from __future__ import annotations

import dataclasses
import faulthandler
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, QPoint, QPointF, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtTest import QTest

_print_lock = threading.Lock()
_events = sys.stdout  # the event stream; see _own_stdout


def _own_stdout() -> None:
    """Keep the standard output for the event stream alone: what native libraries print
    there (llama.cpp's timings as its warm-up ends) goes to the standard error instead.
    Mixed into the stream, such text cut a reply line in two, and the test lost it."""
    global _events
    sys.stdout.flush()
    _events = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)


def emit(kind: str, **fields) -> None:
    with _print_lock:
        _events.write(json.dumps({"kind": kind, **fields}, default=str) + "\n")
        _events.flush()


class StallMonitor(QObject):
    """Measures how long the GUI thread goes without running its event loop: a 5 ms timer
    that arrives late by X ms means the thread was blocked for about X ms. Each slow block
    is split by where the time went (the kernel's per-thread schedstat): the GUI thread's
    own work, waiting for a CPU (the machine is busy), or asleep (the GIL, a lock, I/O).

    With VISTAVOX_STALL_STACKS set to a file, every thread's stack is written there when
    the GUI thread is blocked longer than SLOW_MS, while it still is (``StackWatch``): what
    the other threads were doing."""

    PERIOD_MS = 5
    SLOW_MS = 50  # blocks longer than this are kept (a user sees a frame freeze)
    KEEP = 1000  # ... up to this many since the last reset

    def __init__(self):
        super().__init__()
        self.longest = 0.0
        self.slow: list[float] = []  # ms, in order
        self.causes: list[dict[str, float]] = []  # for each slow block: ms worked, queued
        self.last = time.monotonic()
        self.last_sched = _schedstat()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.tick)
        self.timer.start(self.PERIOD_MS)
        stacks = os.environ.get("VISTAVOX_STALL_STACKS")
        if stacks:
            StackWatch(lambda: self.last, Path(stacks), self.SLOW_MS / 1000).start()

    @Slot()
    def tick(self) -> None:
        now, sched = time.monotonic(), _schedstat()
        late = now - self.last - self.PERIOD_MS / 1000
        self.longest = max(self.longest, late)
        slowest = EventTimes.take()
        if late * 1000 > self.SLOW_MS and len(self.slow) < self.KEEP:
            self.slow.append(round(late * 1000, 1))
            worked, queued = (
                round((b - a) / 1e6, 1) for a, b in zip(self.last_sched, sched, strict=True)
            )
            cause: dict[str, float | str] = {"worked_ms": worked, "queued_ms": queued}
            if slowest is not None:
                cause["event"], cause["event_ms"] = slowest[1], round(slowest[0], 1)
            self.causes.append(cause)
        self.last, self.last_sched = now, sched

    def reset(self) -> None:
        self.longest = 0.0
        self.slow, self.causes = [], []
        self.last, self.last_sched = time.monotonic(), _schedstat()


class StackWatch(threading.Thread):
    """Writes every thread's stack to ``path`` once the GUI thread's last tick is
    ``slow_s`` old, while it is blocked, with how long it had been when the stacks were
    taken. It reads them holding the GIL (``sys._current_frames``), so a block inside a
    native call that keeps the GIL shows what ran after it. faulthandler's watchdog, used
    before, reads them without the GIL and crashed the app in a soak hour (a segfault
    while it read the GUI thread's frames as they changed)."""

    POLL_S = 0.02

    def __init__(self, last_tick, path: Path, slow_s: float):
        super().__init__(name="stall-stacks", daemon=True)
        self.last_tick, self.path, self.slow_s = last_tick, path, slow_s

    def run(self) -> None:
        written_for = None
        with self.path.open("a", buffering=1) as out:
            while True:
                time.sleep(self.POLL_S)
                last = self.last_tick()
                late = time.monotonic() - last
                if late < self.slow_s or last == written_for:
                    continue
                written_for = last
                names = {t.ident: t.name for t in threading.enumerate()}
                out.write(f"Stalled {1000 * late:.0f} ms\n")
                for ident, frame in sys._current_frames().items():
                    if ident == self.ident:
                        continue
                    gui = " (GUI)" if ident == threading.main_thread().ident else ""
                    out.write(f"Thread {names.get(ident, ident)}{gui}:\n")
                    out.write("".join(traceback.format_stack(frame)) + "\n")


class EventTimes:
    """With VISTAVOX_STALL_EVENTS set, the application times every event the GUI thread
    dispatches (``QApplication.notify``, outermost only): a slow block is then named by
    its slowest event, e.g. "Paint → QWidget qt_scrollarea_viewport" or "Timer → QTimer",
    which a stack taken after the block cannot show. Off by default: a Python call per
    event is itself work on the GUI thread."""

    slowest: list = [0.0, ""]  # ms and name of the slowest event since the last take()

    @classmethod
    def take(cls) -> tuple[float, str] | None:
        if not cls.slowest[1]:
            return None
        ms, name = cls.slowest
        cls.slowest = [0.0, ""]
        return ms, name

    @classmethod
    def install(cls) -> None:
        """Make the app's QApplication one that times its events (before it is built)."""
        import PySide6.QtWidgets as widgets

        base, gui = widgets.QApplication, threading.main_thread().ident
        nested = [False]

        class TimedApplication(base):
            def notify(self, receiver, event) -> bool:  # noqa: N802 - Qt's name
                if nested[0] or threading.get_ident() != gui:
                    return super().notify(receiver, event)
                nested[0] = True
                kind = event.type()  # (read now: the event may be gone after dispatch)
                start = time.perf_counter()
                try:
                    return super().notify(receiver, event)
                finally:
                    nested[0] = False
                    ms = (time.perf_counter() - start) * 1000
                    if ms > cls.slowest[0]:
                        try:
                            who = f"{type(receiver).__name__} {receiver.objectName()}"
                        except RuntimeError:  # (the receiver was deleted by the event)
                            who = "(deleted)"
                        cls.slowest = [ms, f"{getattr(kind, 'name', kind)} → {who.strip()}"]

        widgets.QApplication = TimedApplication


def _schedstat() -> tuple[int, int]:
    """This thread's time on a CPU and waiting for one, ns (Linux; zeros elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited, _ = f.read().split()
        return int(ran), int(waited)
    except (OSError, ValueError):
        return 0, 0


class Driver(QObject):
    command = Signal(dict)

    def __init__(self, app, window, assistant):
        super().__init__()
        self.app, self.window, self.assistant = app, window, assistant
        self.stalls = StallMonitor()
        self.command.connect(self.run)
        window.preview.loaded.connect(self.preview_loaded)
        assistant.bus.subscribe(self.forward)
        self._report_notices(window)

    @staticmethod
    def _report_notices(window) -> None:
        """Every note the window adds to the conversation (errors among them) also leaves as
        a "notice" line: the window's own calls go through its ``_add``."""
        add = window._add

        def add_and_report(entry):
            if entry.role == "notice":
                emit("notice", text=entry.text)
            return add(entry)

        window._add = add_and_report

    def forward(self, event) -> None:
        name = type(event).__name__
        if name in ("LevelMeter", "PartialTranscript"):
            return
        emit("event", type=name, **dataclasses.asdict(event))

    @Slot(bool)
    def preview_loaded(self, ok: bool) -> None:
        emit("preview_loaded", ok=ok)

    @Slot(dict)
    def run(self, command: dict) -> None:
        do = command["do"]
        w = self.window
        if do == "hands_free_on":
            QTest.mouseClick(w.voice.mic_button, Qt.MouseButton.LeftButton)
        elif do == "push_to_talk":  # F8 held down (True) or let go (False)
            from vistavox.desktop.main_window import PUSH_TO_TALK_KEY

            key = QTest.keyPress if command["down"] else QTest.keyRelease
            key(w, PUSH_TO_TALK_KEY)
        elif do == "type":
            w.composer.edit.setFocus()
            QTest.keyClicks(w.composer.edit, command["text"])
            QTest.keyClick(w.composer.edit, Qt.Key.Key_Return)
        elif do == "drop":
            data = QMimeData()
            data.setUrls([QUrl.fromLocalFile(command["path"])])
            event = QDropEvent(
                QPointF(200, 200),
                Qt.DropAction.CopyAction,
                data,
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
            )
            w.dropEvent(event)
        elif do == "click_sketch":
            QTest.mouseClick(w.composer.sketch_button, Qt.MouseButton.LeftButton)
        elif do == "screenshot":
            from PIL import ImageGrab

            image = ImageGrab.grab(xdisplay=os.environ["DISPLAY"])
            image.save(command["path"])
            w.grab().save(command["path"].replace(".png", "-window.png"))
        elif do == "keys":
            w.activateWindow()  # window shortcuts need the window active
            if not QTest.qWaitForWindowActive(w, 3000):
                emit("inactive")
            QTest.keySequence(w, QKeySequence(command["keys"]))
        elif do == "drag_region":  # on the region picker that a screenshot put up
            picker = w._picker
            x0, y0, x1, y1 = command["box"]
            QTest.mousePress(picker, Qt.MouseButton.LeftButton, pos=QPoint(x0, y0))
            QTest.mouseMove(picker, QPoint(x1, y1))
            QTest.mouseRelease(picker, Qt.MouseButton.LeftButton, pos=QPoint(x1, y1))
        elif do == "hide_for_screenshots":
            w._set_hide_for_screenshots(command["hide"])
        elif do == "attachments":
            emit(
                "attachments",
                images=[str(p) for p in w.composer.images],
                visible=w.isVisible(),
                picker=w._picker is not None and w._picker.isVisible(),
            )
            return
        elif do == "stall_reset":
            self.stalls.reset()
        elif do == "stall_report":
            emit(
                "stall",
                longest_ms=1000 * self.stalls.longest,
                slow_ms=self.stalls.slow,
                causes=self.stalls.causes,
            )
            return
        elif do == "collect_garbage":  # a full collection, then glibc's free memory returned
            import ctypes
            import gc

            found = gc.collect()
            trimmed = ctypes.CDLL("libc.so.6").malloc_trim(0)  # (1: some memory was returned)
            emit("collected", objects=found, trimmed=bool(trimmed))
            return
        elif do == "python_memory":  # with VISTAVOX_SOAK_TRACEMALLOC: growth since the first
            emit("python_memory", growth=_python_memory_growth())
            return
        elif do == "threads":  # Python's threads by name (what a leak would be made of)
            emit("threads", names=sorted(t.name for t in threading.enumerate()))
            return
        elif do == "chat_text":
            emit("chat_text", text=w.chat.toPlainText())
            return
        elif do == "sidebar":  # the conversations listed, as (id, title)
            rows = [w.sidebar.list.item(row) for row in range(w.sidebar.list.count())]
            emit("sidebar", items=[[i.data(Qt.ItemDataRole.UserRole), i.text()] for i in rows])
            return
        elif do == "open_conversation":  # a click on its row in the list
            w.sidebar.select(command["id"])
            item = w.sidebar.list.currentItem()
            if item is None:
                emit("no_such_conversation", id=command["id"])
                return
            w.sidebar.list.scrollToItem(item)
            place = w.sidebar.list.visualItemRect(item).center()
            QTest.mouseClick(w.sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=place)
        elif do == "delete_conversation":  # as the Delete key in the list does
            w.sidebar.select(command["id"])
            w.sidebar.delete_current()
        elif do == "undo_delete":
            QTest.mouseClick(w.undo_button, Qt.MouseButton.LeftButton)
        elif do == "save_settings":  # what the settings dialog's OK saves
            from vistavox.desktop.settings_dialog import SettingsDialog

            dialog = SettingsDialog(w.assistant.settings, w, open_models=w.open_models)
            dialog.instructions.setPlainText(command["instructions"])
            dialog.apply()
            dialog.deleteLater()
        elif do == "quit":
            w.close()
            self.app.quit()
        emit("ack", do=do)


_first_snapshot = None


def _python_memory_growth(top: int = 12) -> list[str]:
    """Where Python's own allocations grew since the first call (tracemalloc), by line."""
    import gc
    import tracemalloc

    global _first_snapshot
    if not tracemalloc.is_tracing():
        return ["tracemalloc is off (set VISTAVOX_SOAK_TRACEMALLOC=1)"]
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    if _first_snapshot is None:
        _first_snapshot = snapshot
        return []
    stats = snapshot.compare_to(_first_snapshot, "lineno")
    total = sum(stat.size_diff for stat in stats)
    return [f"total {total / 1e6:+.1f} MB"] + [str(stat) for stat in stats[:top]]


def main() -> int:
    _own_stdout()
    if os.environ.get("VISTAVOX_SOAK_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start(1)
    faulthandler.register(signal.SIGUSR1)  # kill -USR1 <pid>: every thread's stack
    if os.environ.get("VISTAVOX_STALL_EVENTS"):
        EventTimes.install()
    from vistavox.desktop.app import build

    db = Path(sys.argv[sys.argv.index("--db") + 1]) if "--db" in sys.argv else None
    app, window, assistant = build([sys.argv[0]], db=db)
    driver = Driver(app, window, assistant)
    window.show()
    assistant.load_in_background()

    def read_commands() -> None:
        for line in sys.stdin:
            if line.strip():
                driver.command.emit(json.loads(line))

    threading.Thread(target=read_commands, daemon=True).start()
    emit("started")
    QTimer.singleShot(0, lambda: emit("interactive"))
    code = app.exec()
    emit("exited", code=code)
    return code


if __name__ == "__main__":
    sys.exit(main())
