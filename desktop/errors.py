"""Errors shown in the window, never only on a terminal nobody reads: an exception that
escapes a slot (Qt would print it and carry on) or a worker thread becomes a note in the
conversation and the status bar. The traceback still goes to the log."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from types import TracebackType

from PySide6.QtCore import QObject, Signal

_log = logging.getLogger("vistavox.desktop")


class ErrorReporter(QObject):
    """Routes uncaught exceptions (from any thread) to ``window.notice`` in the GUI thread."""

    reported = Signal(str)

    @classmethod
    def install(cls, window) -> ErrorReporter:
        reporter = cls(window)
        reporter.reported.connect(window.notice)  # a bound slot: queued from other threads
        previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

        def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None):
            if issubclass(kind, KeyboardInterrupt):
                previous_hook(kind, error, tb)
                return
            _log.error("unexpected error", exc_info=(kind, error, tb))
            reporter.report(error)

        def thread_hook(args: threading.ExceptHookArgs) -> None:
            if args.exc_type is SystemExit:
                return
            _log.error(
                "unexpected error in %s",
                args.thread.name if args.thread else "a thread",
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            )
            if args.exc_value is not None:
                reporter.report(args.exc_value)

        sys.excepthook = hook
        threading.excepthook = thread_hook
        reporter.restore = lambda: _restore(previous_hook, previous_thread_hook)
        return reporter

    def report(self, error: BaseException) -> None:
        with contextlib.suppress(RuntimeError):  # the window is already gone
            self.reported.emit(f"Something went wrong: {type(error).__name__}: {error}")


def _restore(hook, thread_hook) -> None:
    sys.excepthook, threading.excepthook = hook, thread_hook
