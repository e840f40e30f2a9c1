"""One model, one user at a time, and someone waiting goes first.

The model answers the user (foreground) and also writes summaries and warms its cache for
the next turn (background). A background job holding the model while a spoken turn waits
would add its whole length to the reply's delay; so it takes the model only when no one is
waiting, and stops at its next token when someone starts to wait (``Preempted``): what it
was doing is left for later, never stored half done.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class Preempted(Exception):  # noqa: N818 - an outcome, not a fault
    """Background work gave way to a request someone is waiting for."""


class ModelGate:
    """Foreground requests in turn, background work only when none is waiting."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._busy = False
        self._waiting = 0  # foreground requests waiting or running
        self._closed = False
        self._in_background = False

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        """Hold the model for a request someone waits for."""
        with self._changed:
            self._waiting += 1
            try:
                while self._busy:
                    self._changed.wait()
            except BaseException:
                self._waiting -= 1
                self._changed.notify_all()
                raise
            self._busy = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = False
                self._waiting -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def background(self) -> Iterator[None]:
        """Hold the model for work nobody waits for, once no request is waiting; check
        ``wanted`` between steps and stop (raise ``Preempted``) when it is true."""
        with self._changed:
            while (self._busy or self._waiting) and not self._closed:
                self._changed.wait()
            if self._closed:
                raise Preempted("the app is ending")
            self._busy = self._in_background = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = self._in_background = False
                self._changed.notify_all()

    def wanted(self) -> bool:
        """Whether a foreground request is waiting for the model (or the app is ending)."""
        return self._waiting > 0 or self._closed

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop background work and wait (up to ``timeout_s``) until it has: the app is
        ending, and native code still running on a thread as Python shuts down crashes."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            self._changed.wait_for(lambda: not self._in_background, timeout_s)
