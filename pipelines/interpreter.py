"""Keeping any one thread from holding the interpreter lock for long, process-wide.

Threads that wait on the world (the window's event loop, the listening loop) give up the
lock at every native call and must get it back to run each Python step: a slot, a timer, a
frame of audio. Two things keep them waiting:

- the switch interval: Python hands the lock over only after it, 5 ms by default, so while
  a worker runs Python each such step may wait that long, and a burst of them adds up;
- the garbage collector's full passes, which hold the lock while they visit every object
  the process has: with the models and the window loaded, a pass during a first turn's
  intents or an import froze the window (the README's *Soak* notes have the figures).
  Objects alive once everything has loaded
  live as long as the app, so they are taken out of those passes (``gc.freeze``); what is
  made later is still collected as before.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.001


def hand_over_promptly() -> None:
    """Shorten the switch interval (never lengthen one set shorter elsewhere)."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))


def settle_what_is_loaded(*, replaced: bool = False) -> None:
    """Take every object alive now out of the collector's passes: call once what lives
    for the app's whole run (models, modules, the window) has loaded. ``replaced``: some
    of what was settled before has been let go (models switched), so it is put back in the
    collector's reach and collected first (a model held in a reference cycle would
    otherwise never be freed)."""
    if replaced:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
