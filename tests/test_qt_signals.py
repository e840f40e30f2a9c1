"""Regression: PySide6 6.12.0 on Python 3.11 aborts after a few hundred Signal.emit() calls
('Fatal Python error: bool_dealloc'). The desktop app relies on worker threads emitting
events to the GUI thread, so 100k emits from a plain thread must all arrive."""

from __future__ import annotations

import subprocess
import sys
import textwrap

EMITS = 100_000

SCRIPT = textwrap.dedent(
    f"""
    import sys, threading
    from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, Slot

    class Emitter(QObject):
        event = Signal(int, bool)

    class Receiver(QObject):
        def __init__(self):
            super().__init__()
            self.count = 0
            self.flags = 0

        @Slot(int, bool)
        def on_event(self, value, flag):
            self.count += 1
            self.flags += flag
            if self.count == {EMITS}:
                QCoreApplication.quit()

    app = QCoreApplication(sys.argv)
    emitter, receiver = Emitter(), Receiver()
    emitter.event.connect(receiver.on_event)   # queued: emitted from another thread

    def work():
        for i in range({EMITS}):
            emitter.event.emit(i, True)

    worker = threading.Thread(target=work)
    QTimer.singleShot(0, worker.start)
    app.exec()
    worker.join()
    print(receiver.count, receiver.flags)
    """
)


def test_hundred_thousand_cross_thread_emits_arrive():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=600,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(EMITS), str(EMITS)]


def test_known_crashing_combination_is_not_installed():
    import PySide6

    assert not (sys.version_info[:2] == (3, 11) and PySide6.__version__ == "6.12.0")
