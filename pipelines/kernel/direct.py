"""Answers made without the language model (page edits, everyday intents): the kernel asks
its direct handlers first, and the model answers only when none of them takes the turn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _nothing() -> None:
    return None


@dataclass
class DirectReply:
    """An answer made without the model; ``commit`` makes it true (called once the turn is
    really the user's: at once for typed turns, when a spoken turn is kept)."""

    text: str
    commit: Callable[[], None] = _nothing


DirectHandler = Callable[[str], "DirectReply | None"]
