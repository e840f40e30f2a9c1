"""Sums stated in a model's reply, checked: "1243 times 45 is 55065" is computed again with
the intents' arithmetic and the wrong result replaced by the exact one. A small model's
arithmetic is a guess; a number the user is told must be computed."""

from __future__ import annotations

import re

from . import arithmetic
from .numbers import format_number
from .text import tokenize

# "<words> is|equals|= <number>": the claim, with its result as written.
_CLAIM = re.compile(
    r"(?P<left>[^.!?:;\n]{1,80}?)\s*(?:\bis\b|\bequals\b|=|\bmakes\b|\bgives\b|\bcomes to\b)"
    r"\s*(?:about\s+|approximately\s+|roughly\s+)?"
    r"(?P<result>-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?![\d.,]*\d)"
)
_TOLERANCE = 0.005  # "about 7.14" for 7.142857 is right


def correct_sums(text: str) -> str:
    """``text`` with each stated sum whose result is wrong given the exact result."""
    out, last = [], 0
    for claim in _CLAIM.finditer(text):
        exact = _value(claim.group("left"))
        if exact is None:
            continue
        written = float(claim.group("result").replace(",", ""))
        if abs(written - exact) <= _TOLERANCE * max(1.0, abs(exact)):
            continue
        start, end = claim.span("result")
        out += [text[last:start], format_number(exact)[0]]
        last = end
    return "".join(out + [text[last:]])


def _value(left: str) -> float | None:
    """The value of the longest tail of ``left`` that is a whole calculation, if any."""
    tokens = tokenize(left)
    for start in range(len(tokens)):
        tail = tokens[start:]
        if not tail or not arithmetic.can_start(tail[0]):
            continue
        node = arithmetic.parse_calculation(tail)
        if node is None or not arithmetic.is_operation(node):
            continue
        try:
            value = arithmetic.value_of(node)
        except arithmetic.DivisionByZero:
            return None
        return None if value is None else float(value)
    return None
