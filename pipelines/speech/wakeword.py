"""The seam for an optional wake word ("Hey Vistavox"): hands-free listening can require one
before a turn starts. No detector ships yet; any object with this shape can be plugged in."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class WakeWordDetector(Protocol):
    """Fed every 16 kHz frame the engine hears; True when the wake word was just spoken."""

    def __call__(self, frame: np.ndarray) -> bool: ...

    def reset(self) -> None: ...
