"""The exact local intent layer: everyday requests (sums, unit conversions, the time and
date, spelling, timers, who the assistant is) recognised by sentence templates and answered
exactly, before any language model sees them. A request not read whole returns None and
goes to the model.

    intent = recognise("what is 543 times 344")   # Intent("calculate", {...}, "543 * 344")
    answer(intent, now)                            # "543 times 344 is 186,792."
"""

from __future__ import annotations

from .intent import Intent
from .recognise import recognise
from .replies import answer

__all__ = ["Intent", "answer", "recognise"]
