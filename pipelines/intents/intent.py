"""What a recognised request is: its intent, its parsed slots, and how it was read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Intent:
    name: str  # time, date, calculate, convert, spell, identity, capabilities, timer_*
    slots: Mapping[str, object]  # parsed values
    reading: str = ""  # how it was read, e.g. "543 * 344", "10 kg -> lb" (the Tools tab)
