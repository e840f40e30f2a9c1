"""SIGTERM (a logout, ``kill``), SIGINT (Ctrl+C in the terminal) and SIGHUP (the terminal
closed) end the app the way Quit does: the window closes (the assistant shuts down, the
window's state is saved) and the event loop ends with exit code 0.

Python runs signal handlers only between its own bytecodes, and the GUI thread sits in
Qt's event loop: the signal is written to a socket (``signal.set_wakeup_fd``) that a
QSocketNotifier watches, which wakes the loop and runs the handler. The handler only
schedules the close, so it never cuts into another slot half way. A second signal while
closing ends the process at once (its children end with it: vistavox.pipelines.lifeline).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

_log = logging.getLogger("vistavox.desktop")

QUIT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class QuitOnSignals(QObject):
    """Calls ``close`` (then quits the event loop) on the first of ``QUIT_SIGNALS``."""

    def __init__(self, app, close: Callable[[], object]):
        super().__init__(app)
        self._app, self._close = app, close
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        for number in QUIT_SIGNALS:
            signal.signal(number, self._received)

    def _drain(self) -> None:
        # Running this Python slot is what lets the interpreter call the handler.
        with contextlib.suppress(OSError):
            self._reader.recv(4096)

    def _received(self, number: int, _frame) -> None:
        for other in QUIT_SIGNALS:  # a second signal ends the process at once
            signal.signal(other, signal.SIG_DFL)
        # Out of the handler (it may have cut into any code of this thread): no logging
        # and no closing in here.
        QTimer.singleShot(0, lambda: self._quit(signal.Signals(number).name))

    def _quit(self, name: str) -> None:
        _log.info("%s received: closing", name)
        try:
            self._close()
        finally:
            self._app.quit()  # also ends a dialog's event loop, if one is open
