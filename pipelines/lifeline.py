"""Child processes end with the app that started them, however it ends: quit, a signal,
the X session going away, a crash or ``kill -9`` (when nothing in the app can clean up).

Three guards, one for each way a child is started:

- ``kill_on_parent_exit()``: a ``preexec_fn`` for ``subprocess``. The kernel sends the
  child SIGKILL when its parent ends (Linux ``PR_SET_PDEATHSIG``). The kernel counts the
  *thread* that started the child as its parent, so this is only for a child that the
  starting thread waits for (``subprocess.run``, ``Popen`` then ``wait``).
- ``die_with_parent(pid)``: the same death signal, armed by a Python child as its first
  step. Its parent then needs no ``preexec_fn``, which makes ``subprocess`` fork the whole
  app while holding the interpreter lock (every other thread, the GUI's included, waits);
  without one it uses vfork and lets the other threads run.
- ``exit_when_parent_exits(pid)``: called inside a child (a ``multiprocessing`` pool's
  initializer, say): a daemon thread ends the child as soon as the process ``pid`` has
  ended. For children started from a thread that may end before them: a
  ``ProcessPoolExecutor`` starts its workers from whichever thread calls ``submit``.

Both check, once armed, that the parent has not already gone meanwhile.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["die_with_parent", "exit_when_parent_exits", "kill_on_parent_exit"]

_PR_SET_PDEATHSIG = 1
_POLL_S = 0.5  # how often the parent is looked for where pidfds are missing
ORPHAN_EXIT_CODE = 70  # what an orphaned child exits with (nobody is left to read it)


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent: a forked child should not load libraries."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def kill_on_parent_exit(
    prepare: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """A ``preexec_fn`` that runs ``prepare`` (limits, namespaces) and then has the kernel
    kill the child when the thread starting it ends. Armed after ``prepare``: a change of
    credentials (a new user namespace) clears it. Elsewhere than Linux it only runs
    ``prepare``."""
    parent = os.getpid()
    prctl = _prctl()

    def preexec() -> None:
        if prepare is not None:
            prepare()
        _arm(prctl, parent)

    return preexec


def die_with_parent(parent_pid: int) -> None:
    """In a child whose starting thread waits for it: have the kernel kill this process
    when that thread ends; exit at once if ``parent_pid`` has already gone. Call it after
    any change of credentials (a new user namespace clears the signal)."""
    _arm(_prctl(), parent_pid)


def _arm(prctl: Callable[..., int] | None, parent_pid: int) -> None:
    if prctl is None:
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0)
    if os.getppid() != parent_pid:  # the parent ended before the guard was armed
        os._exit(ORPHAN_EXIT_CODE)


def exit_when_parent_exits(parent_pid: int) -> None:
    """In a child: end this process (``os._exit``, without cleanup: the app that wanted
    its work is gone) as soon as the process ``parent_pid`` has ended."""
    if os.getppid() != parent_pid:  # already orphaned
        os._exit(ORPHAN_EXIT_CODE)
    threading.Thread(
        target=_exit_after, args=(parent_pid,), name="vistavox-lifeline", daemon=True
    ).start()


def _exit_after(parent_pid: int) -> None:
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):  # Linux 5.3 and later
        pidfd = os.pidfd_open(parent_pid)
    # Opened after a check: if the parent ended and its number was reused meanwhile, this
    # process has another parent now, and the loop below ends it at once.
    if pidfd is not None and os.getppid() == parent_pid:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.poll()  # readable once the parent has ended
    else:
        while os.getppid() == parent_pid:
            time.sleep(_POLL_S)
    os._exit(ORPHAN_EXIT_CODE)
