"""Reusing the model's cache when turns are paged out of the middle of the prompt.

When the oldest turns leave the window, the new prompt is the old one with a span taken out
after the pinned start. llama.cpp can drop that span from its cache and move what follows
up (rotating the cached keys to their new positions), so the turn reads only its own new
tokens instead of the whole conversation again. The turns kept were read while the
paged-out ones were still there, and their cache keeps a trace of them: the approximation
llama.cpp's own context shift makes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_REUSED = 64  # fewer tokens than this are read again: not worth the cache surgery


@dataclass(frozen=True)
class CacheShift:
    """Drop ``removed`` tokens at ``start`` from the cache; the ``kept`` tokens after them
    are then the new prompt's from ``start`` on."""

    start: int
    removed: int
    kept: int


def plan_cache_shift(
    cached: Sequence[int], wanted: Sequence[int], *, min_reused: int = MIN_REUSED
) -> CacheShift | None:
    """How to make a cache holding ``cached`` start as ``wanted`` does with the least
    reading: the span after their common start whose removal lines up the most of what
    follows. None when that is under ``min_reused`` tokens (plain prefix reuse then)."""
    old = np.asarray(cached, dtype=np.int64)
    new = np.asarray(wanted, dtype=np.int64)
    start = _common_start(old, new)
    if start >= len(new) or start >= len(old) - 1:
        return None
    best: CacheShift | None = None
    # Every later place in the cache where the new prompt's next token sits is a candidate.
    for removed in np.flatnonzero(old[start + 1 :] == new[start]) + 1:
        kept = _common_start(old[start + removed :], new[start:])
        if best is None or kept > best.kept:
            best = CacheShift(start, int(removed), kept)
    if best is None or best.kept < min_reused:
        return None
    return best


def _common_start(a: np.ndarray, b: np.ndarray) -> int:
    n = min(len(a), len(b))
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if len(differ) else n
