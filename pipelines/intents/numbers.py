"""Numbers as people say and type them ("twelve hundred", "one and a half", "54,788",
"2 million", "three quarters"), read exactly into Fractions, and written back for speech."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction

_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
          "seventeen", "eighteen", "nineteen")  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SMALL = {w: i for i, w in enumerate(_UNITS)} | {w: 10 + i for i, w in enumerate(_TEENS)}
TENS = {w: 20 + 10 * i for i, w in enumerate(_TENS)}
SCALES = {"thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
# Denominators: "a half", "two thirds", "three quarters".
_PARTS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
    "fourth": 4, "fourths": 4, "fifth": 5, "fifths": 5, "eighth": 8, "eighths": 8,
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
}  # fmt: skip
NUMBER_WORDS = frozenset(
    [*SMALL, *TENS, *SCALES, *_PARTS, "hundred", "dozen", "point", "a", "an", "and", "one"]
)
MAX_TOKENS = 12


def is_number_word(token: str) -> bool:
    """Could be part of a number ("54,788", "twenty-five", "hundred", "and")."""
    if token[:1].isdigit() or token[:1] == ".":
        return True
    return all(part in NUMBER_WORDS for part in token.split("-"))


def _split(tokens: Sequence[str]) -> list[str]:
    """Hyphenated number words are separate words: "twenty-five" -> "twenty five"."""
    return [part for token in tokens for part in token.split("-")]


def digits(token: str) -> Fraction | None:
    """A number typed in digits ("54,788", "10.5", ".5"), exactly."""
    if not token or not (token[0].isdigit() or token[0] == "."):
        return None
    try:
        return Fraction(Decimal(token.replace(",", "")))
    except (InvalidOperation, ValueError):
        return None


def ordinal(token: str) -> int | None:
    """ "third" or "3rd" -> 3."""
    if token[:1].isdigit() and token[-2:] in ("st", "nd", "rd", "th"):
        return int(token[:-2]) if token[:-2].isdigit() else None
    return ORDINALS.get(token)


def _below_hundred(words: list[str]) -> int | None:
    """ "seven", "fifteen", "forty", "forty two"."""
    if len(words) == 1:
        return SMALL.get(words[0], TENS.get(words[0]))
    if len(words) == 2 and words[0] in TENS and 0 < SMALL.get(words[1], 0) < 10:
        return TENS[words[0]] + SMALL[words[1]]
    return None


def _below_thousand(words: list[str]) -> int | None:
    """ "three hundred and five", "a hundred", "twelve hundred" (up to 9999), "42"."""
    if "hundred" not in words:
        if len(words) == 1 and words[0].isdigit():
            return int(words[0])
        return _below_hundred(words)
    at = words.index("hundred")
    head, tail = words[:at], words[at + 1 :]
    if head in (["a"], ["one"]):
        count = 1
    elif len(head) == 1 and head[0].isdigit():
        count = int(head[0])
    else:
        count = _below_hundred(head) if head else None
    if not count:
        return None
    if tail[:1] == ["and"]:
        tail = tail[1:]
        if not tail:
            return None
    rest = _below_hundred(tail) if tail else 0
    return None if rest is None else count * 100 + rest


def _whole(words: list[str]) -> Fraction | None:
    """A whole number in words, digits, or both ("2 million", "1.5 thousand")."""
    if not words:
        return None
    if len(words) == 1 and (value := digits(words[0])) is not None:
        return value
    if words in (["a", "dozen"], ["one", "dozen"]):
        return Fraction(12)
    total, group, last_scale = Fraction(0), [], None
    for word in [*words, None]:
        if word is not None and word not in SCALES:
            group.append(word)
            continue
        if word is None and not group:
            break  # ended on a scale word
        scale = SCALES.get(word, 1) if word else 1
        if last_scale is not None and scale >= last_scale:
            return None  # "a thousand million" or "two thousand three thousand"
        if group[:1] == ["and"] and last_scale is not None:
            group = group[1:]  # "one thousand and five"
        if group in (["a"], ["one"]) and scale > 1:
            count = Fraction(1)
        elif len(group) == 1 and (count := digits(group[0])) is not None:
            if count.denominator != 1 and scale == 1:
                return None  # a decimal only before a scale word ("1.5 million")
        else:
            small = _below_thousand(group)
            if small is None:
                return None
            count = Fraction(small)
        total += count * scale
        group, last_scale = [], scale
    return total


def _part(words: list[str]) -> Fraction | None:
    """A fraction said in words: "half", "a half", "a third", "two thirds"."""
    if not words or words[-1] not in _PARTS:
        return None
    denominator = _PARTS[words[-1]]
    head = words[:-1]
    if not head:
        return Fraction(1, denominator) if words[-1] in ("half", "quarter") else None
    if head in (["a"], ["an"], ["one"]):
        return Fraction(1, denominator)
    count = _below_hundred(head)
    if count is None or count < 2 or not words[-1].endswith("s"):  # "two thirds"
        return None
    return Fraction(count, denominator)


def parse_number(tokens: Sequence[str]) -> Fraction | None:
    """The value of a number that spans exactly these tokens, or None.

    Covers digits, words, "one and a half", "two point five", "three quarters"; not a
    sign (the grammar reads "minus"), not "a"/"an" alone (that is a count of one only
    before a unit, which the unit grammar decides)."""
    if not tokens or len(tokens) > MAX_TOKENS or not all(map(is_number_word, tokens)):
        return None
    words = _split(tokens)
    if "point" in words:  # "two point seven five"
        at = words.index("point")
        whole = _whole(words[:at]) if at else Fraction(0)
        decimals = [SMALL.get(w) for w in words[at + 1 :]]
        if whole is None or not decimals or any(d is None or d > 9 for d in decimals):
            return None
        return whole + Fraction(int("".join(map(str, decimals))), 10 ** len(decimals))
    if (part := _part(words)) is not None:
        return part
    if "and" in words:  # "one and a half", "2 and three quarters"
        at = len(words) - 1 - words[::-1].index("and")
        whole, part = _whole(words[:at]), _part(words[at + 1 :])
        if whole is not None and part is not None and part < 1:
            return whole + part
    return _whole(words)


def format_number(value: Fraction | float | int, *, money: bool = False) -> tuple[str, bool]:
    """Written form for a reply, and whether it was rounded ("about").

    Integers are exact with thousands separators; others keep about four significant
    figures and at least two decimals; money keeps cents."""
    if isinstance(value, float):
        # Twelve significant figures drop float noise: 15.239999999999998 m is 15.24 m, and
        # sqrt(36) = 6.0 is exactly 6.
        exact = Fraction(f"{value:.12g}") if abs(value) < 1e15 else Fraction(value)
    else:
        exact = Fraction(value)
    if exact.denominator == 1:
        whole = exact.numerator
        if abs(whole) < 10**18:
            return f"{whole:,}", False
        return _scientific(Decimal(whole)), True
    if abs(exact) >= 10**15 or abs(exact) < Fraction(1, 10**6):
        # (float() of a fraction beyond a float's range fails: "999…9 / 7" with 400 digits)
        return _scientific(Decimal(exact.numerator) / Decimal(exact.denominator)), True
    number = float(value)
    if money:
        places = 2
    elif abs(number) >= 1:
        places = max(2, 4 - len(str(int(abs(number)))))
    else:
        places = 3 - int(f"{abs(number):e}".split("e")[1])  # four significant figures
    rounded = round(exact, places)
    text = f"{float(rounded):,.{places}f}"
    if not money:
        text = text.rstrip("0").rstrip(".")
    return text, rounded != exact


def _scientific(number: Decimal) -> str:
    """Scientific notation that a checker and a listener both read: "1.235 × 10^21"."""
    mantissa, exponent = f"{number:.3e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')} × 10^{int(exponent)}"
