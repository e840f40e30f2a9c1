"""Scoring for the `everyday` benchmark (../shared/eval/everyday), as its MANIFEST states it.

Pure code, standard library only: ``score(expected, reply, answered_at=..., timers_set=...,
request=...)`` checks one reply against one row's ``expected`` object. The rules follow the
MANIFEST; where it leaves a choice open, the choice made is written down here, and it never
makes a check more lenient than the MANIFEST reads:

- ``number``: every number in the reply counts (``numbers_in``); a match is "integers exactly"
  for ``exact`` rows, else ``|found - value| <= rel_tol * |value|`` or ``<= abs_tol`` (either;
  a missing tolerance is 0, and the relative one is taken of the expected value). Clock times
  ("3:45") and full numeric dates ("12/6/2026", "2026-12-06") are not numbers. A "simple
  fraction" is a proper one, alone or after a whole number ("1/2", "1 2/3", "½", "two thirds",
  "a quarter", "two and a half"); "300/42" or "12/6" are two numbers, not a quotient, so a reply
  cannot pass by restating the question. "minus" is a sign only where no number comes just
  before it ("1100 minus 2347" is 1100 and 2347; "it's minus 1247" is -1247); a hyphen is a
  sign only when not attached to a letter, digit or dot before it ("C-U-R", "5-3"). Scale words
  after digits multiply ("1.8 thousand", "5 million"). "half" alone ("half a cup") is not a
  number. The strict side score: the last number in the reply matches.
- ``contains_current_time``: a stated minute within 2 minutes of ``answered_at``'s minute (the
  clock minute, seconds dropped, across midnight); 12-hour times without am/pm or "in the
  morning/afternoon/evening" match either half of the day; with them, only their half.
- ``contains_current_date``: day and month must be the date of ``answered_at`` plus
  ``offset_days``; a four-digit year (1900-2199) written right after the date, or the year of a
  numeric date, must match. A weekday is not checked (the MANIFEST asks for the date), and a
  spoken year ("twenty twenty-six") is not read as a year. Day-first forms take digits or
  ordinals ("5 June", "the fifth of June"); month-first also take cardinals ("June five").
  Two-part numeric dates need a slash ("12/6", either order); a dotted one needs its year.
- ``spelling``: the letters in order with at least one space, hyphen (or dash), dot or comma
  between each two, no letter touching either end; or the plain word. Strict: spelled out.
- ``sensible_reply``: see ``_sensible``. Prompt leaks are reported by ``prompt_leaks``, apart.
- ``timer``: ``timers_set`` (seconds of the timers really set in the app) holds exactly
  ``seconds``; the reply text is not read at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction


@dataclass(frozen=True)
class Check:
    """One scored reply."""

    passed: bool
    detail: str
    strict: bool | None  # the MANIFEST's stricter side score where it names one, else None


def score(
    expected: dict,
    reply: str,
    *,
    answered_at: datetime,
    timers_set: Sequence[int] = (),
    request: str = "",
) -> Check:
    """Score ``reply`` against a task row's ``expected`` object (see the module docstring)."""
    kind = expected.get("kind")
    reply = reply or ""
    if kind == "number":
        return _number(expected, reply)
    if kind == "contains_current_time":
        return _time(reply, answered_at)
    if kind == "contains_current_date":
        target = answered_at.date() + timedelta(days=int(expected.get("offset_days", 0)))
        return _date(reply, target)
    if kind == "spelling":
        return _spelling(expected, reply)
    if kind == "sensible_reply":
        return _sensible(expected, reply, request)
    if kind == "timer":
        return _timer(expected, timers_set)
    raise ValueError(f"unknown check kind: {kind!r}")


# --------------------------------------------------------------------------- numbers

_UNIT_TEXT = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_TENS_TEXT = "twenty thirty forty fifty sixty seventy eighty ninety"
_ORDINAL_TEXT = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
)
_UNITS = {w: i for i, w in enumerate(_UNIT_TEXT.split())}
_TENS = {w: 10 * i for i, w in enumerate(_TENS_TEXT.split(), 2)}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_DIGIT_WORDS = {**{w: _UNITS[w] for w in list(_UNITS)[:10]}, "oh": 0}
_FRACTION_WORDS = {"half": 2, "third": 3, "quarter": 4, "fourth": 4, "fifth": 5, "sixth": 6}
_FRACTION_WORDS |= {"seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_PLURAL_FRACTIONS = {("halves" if w == "half" else w + "s"): d for w, d in _FRACTION_WORDS.items()}
_ORDINAL_UNITS = frozenset(_ORDINAL_TEXT.split()[:9])
_NUMBER_WORDS = {*_UNITS, *_TENS, *_SCALES, "hundred"}
_UNICODE_FRACTIONS = {
    "½": Fraction(1, 2),
    "⅓": Fraction(1, 3),
    "⅔": Fraction(2, 3),
    "¼": Fraction(1, 4),
    "¾": Fraction(3, 4),
    "⅕": Fraction(1, 5),
    "⅖": Fraction(2, 5),
    "⅗": Fraction(3, 5),
    "⅘": Fraction(4, 5),
    "⅙": Fraction(1, 6),
    "⅚": Fraction(5, 6),
    "⅛": Fraction(1, 8),
    "⅜": Fraction(3, 8),
    "⅝": Fraction(5, 8),
    "⅞": Fraction(7, 8),
}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_UF = "[" + "".join(_UNICODE_FRACTIONS) + "]"
_SUP = "[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+"
_SIGNED = r"[-+\u2212]?\d+"

_TOKEN = re.compile(
    rf"""
    (?P<clock>(?<![\d:.])\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?![\d:]))
  | (?P<numdate>(?<![\d./-])\d{{1,4}}(?P<ds>[/-])\d{{1,2}}(?P=ds)\d{{1,4}}(?![\d/-]))
  | (?P<num>
        (?P<sign>(?<![\w.])[-+\u2212])?
        (?P<mant>\d{{1,3}}(?:,\d{{3}})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
        (?:
            (?P<exp>[eE]{_SIGNED})
          | \s*(?:[x×*·]|times)\s*10\s*(?:\^|\*\*)\s*(?P<p10>{_SIGNED})
          | \s*(?:[x×*·]|times)\s*10(?P<p10s>{_SUP})
          | \s*(?:\^|\*\*)\s*(?P<pow>{_SIGNED})
          | (?P<pows>{_SUP})
          | \s+(?P<mnum>\d+)/(?P<mden>\d+)(?![\d/])
          | /(?P<den>\d+)(?![\d/])
          | \s*(?P<muf>{_UF})
        )?
    )
  | (?P<uf>{_UF})
  | (?P<hyphen>(?<=[^\W\d_])-(?=[^\W\d_]))
  | (?P<word>[^\W\d_]+(?:['’][^\W\d_]+)?)
  | (?P<other>[^\s\w]|_)
    """,
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "word", "punct" or "skip" (a clock time or numeric date)
    text: str  # lower-case for words
    value: Fraction | None = None


def _signed(text: str) -> int:
    return int(text.replace("\u2212", "-"))


def _power(base: Fraction, exponent: int) -> Fraction | None:
    """base ** exponent, or None when it would not fit a float (or divides by zero)."""
    if base == 0:
        return None if exponent < 0 else Fraction(0 if exponent else 1)
    if abs(exponent) > 1000 or abs(exponent * math.log10(abs(base))) > 300:
        return None
    return base**exponent


def _num_tokens(m: re.Match[str]) -> list[_Tok]:
    """The number token(s) of one `num` match (parts that do not make one value split up)."""
    mant_text = m["mant"].replace(",", "")
    mant = Fraction(mant_text)
    sign = -1 if m["sign"] and m["sign"] in "-\u2212" else 1
    text = m.group(0)

    def one(value: Fraction | None) -> list[_Tok] | None:
        return None if value is None else [_Tok("num", text, sign * value)]

    if m["exp"]:
        exponent = m["exp"][1:]  # "1e-06"
    elif m["p10"] or m["p10s"]:
        exponent = m["p10"] or m["p10s"].translate(_SUPERSCRIPTS)  # "5 x 10^7", "10⁶"
    else:
        exponent = None
    if exponent is not None:
        power = _power(Fraction(10), _signed(exponent))
        out = one(None if power is None else mant * power)
    elif m["pow"] or m["pows"]:
        exponent_text = m["pow"] or m["pows"].translate(_SUPERSCRIPTS)
        out = one(_power(mant, _signed(exponent_text)))
    elif m["mnum"]:
        num, den = int(m["mnum"]), int(m["mden"])
        proper = mant.denominator == 1 and 0 < num < den
        out = one(mant + Fraction(num, den)) if proper else None
        if out is None:
            return [
                _Tok("num", m["mant"], sign * mant),
                _Tok("num", m["mnum"], Fraction(num)),
                _Tok("num", m["mden"], Fraction(den)),
            ]
    elif m["den"]:
        den = int(m["den"])
        proper = mant.denominator == 1 and 0 < mant < den
        out = one(mant / den) if proper else None
        if out is None:
            return [_Tok("num", m["mant"], sign * mant), _Tok("num", m["den"], Fraction(den))]
    elif m["muf"]:
        out = one(mant + _UNICODE_FRACTIONS[m["muf"]]) if mant.denominator == 1 else None
    else:
        out = one(mant)
    if out is None:  # an exponent too large, or "1.5½": keep the plain number
        return [_Tok("num", m["mant"], sign * mant)]
    return out


def _tokens(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        if m["clock"] or m["numdate"]:
            tokens.append(_Tok("skip", m.group(0)))
        elif m["num"]:
            tokens.extend(_num_tokens(m))
        elif m["uf"]:
            tokens.append(_Tok("num", m["uf"], _UNICODE_FRACTIONS[m["uf"]]))
        elif m["word"]:
            tokens.append(_Tok("word", m["word"].lower().replace("’", "'")))
        elif m["other"]:
            tokens.append(_Tok("punct", m["other"]))
        # a hyphen between letters ("twenty-nine", "C-U-R") joins words: no token
    return tokens


class _Parser:
    """Numbers in a token list: digits, and English number words up to trillions."""

    def __init__(self, tokens: list[_Tok]) -> None:
        self.toks = tokens

    def word(self, i: int) -> str | None:
        tok = self.toks[i] if 0 <= i < len(self.toks) else None
        return tok.text if tok is not None and tok.kind == "word" else None

    def small(self, i: int) -> tuple[int, int] | None:
        """0-99: "seven", "fifteen", "forty", "forty two"."""
        w = self.word(i)
        if w in _TENS:
            unit = self.word(i + 1)
            if unit in _ORDINAL_UNITS:
                return None  # "twenty-fifth" is an ordinal (a date), not a number
            if unit in _UNITS and 0 < _UNITS[unit] < 10:
                return _TENS[w] + _UNITS[unit], i + 2
            return _TENS[w], i + 1
        if w in _UNITS:
            return _UNITS[w], i + 1
        return None

    def group(self, i: int) -> tuple[int, int] | None:
        """Below a thousand, or "twelve hundred (and) thirty"-style up to 9999."""
        if self.word(i) == "a" and self.word(i + 1) == "hundred":
            value, i = 1, i + 1
        else:
            got = self.small(i)
            if got is None:
                return None
            value, i = got
        if self.word(i) == "hundred" and 0 < value < 100:
            value, i = value * 100, i + 1
            j = i + 1 if self.word(i) == "and" else i
            rest = self.small(j)
            if rest is not None and rest[0] > 0:
                value, i = value + rest[0], rest[1]
        return value, i

    def integer(self, i: int) -> tuple[int, int, bool] | None:
        """An integer in words; the flag says whether a scale word (thousand...) was used."""
        if self.word(i) == "a" and self.word(i + 1) in _SCALES:
            got: tuple[int, int] | None = (1, i + 1)
        else:
            got = self.group(i)
        if got is None:
            return None
        value, i = got
        total, last_scale = 0, None
        while (w := self.word(i)) in _SCALES and value > 0:
            scale = _SCALES[w]
            if last_scale is not None and scale >= last_scale:
                break
            total, last_scale, i = total + value * scale, scale, i + 1
            value = 0
            j = i
            if j < len(self.toks) and self.toks[j].text == ",":
                j += 1  # "one thousand, two hundred"
            if self.word(j) == "and":
                j += 1
            nxt = self.group(j)
            if nxt is None:
                break
            value, i = nxt
        return total + value, i, last_scale is not None

    def fraction_after(self, i: int) -> tuple[Fraction, int] | None:
        """A proper word fraction at i: "a half", "one third", "three quarters"."""
        w = self.word(i)
        count = 1 if w == "a" else None
        j = i + 1
        if count is None:
            got = self.small(i)
            if got is None:
                return None
            count, j = got
        den_word = self.word(j)
        if count == 1 and den_word in _FRACTION_WORDS:
            return Fraction(1, _FRACTION_WORDS[den_word]), j + 1
        if count >= 2 and den_word in _PLURAL_FRACTIONS and count < _PLURAL_FRACTIONS[den_word]:
            return Fraction(count, _PLURAL_FRACTIONS[den_word]), j + 1
        return None

    def magnitude(self, i: int) -> tuple[Fraction, int] | None:
        """An unsigned number starting at token i, and the index after it."""
        tok = self.toks[i]
        scaled = False
        if tok.kind == "num":
            assert tok.value is not None
            value, i = tok.value, i + 1
            # "1.8 thousand", "12 hundred", "5 million"
            while (w := self.word(i)) in _SCALES or w == "hundred":
                value, i, scaled = value * _SCALES.get(w, 100), i + 1, True
        else:
            fraction = self.fraction_after(i)
            if fraction is not None:
                return fraction
            whole = self.integer(i)
            if whole is not None:
                value, i, scaled = Fraction(whole[0]), whole[1], whole[2]
            elif self.word(i) == "point":
                value = Fraction(0)  # "point five"
            else:
                return None
            # "seven point one four", "one point eight million"
            if self.word(i) == "point" and self.word(i + 1) in _DIGIT_WORDS:
                digits, i = "", i + 1
                while (w := self.word(i)) in _DIGIT_WORDS:
                    digits, i = digits + str(_DIGIT_WORDS[w]), i + 1
                value += Fraction(int(digits), 10 ** len(digits))
                if not scaled and (w := self.word(i)) in _SCALES:
                    value, i, scaled = value * _SCALES[w], i + 1, True
            elif whole is None:
                return None
        # "two and a half", "3 and three quarters"
        if not scaled and value.denominator == 1 and self.word(i) == "and":
            extra = self.fraction_after(i + 1)
            if extra is not None:
                value, i = value + extra[0], extra[1]
        return value, i

    def numbers(self) -> list[Fraction]:
        out: list[Fraction] = []
        i = 0
        while i < len(self.toks):
            sign, start = 1, i
            w = self.word(i)
            before = self.toks[i - 1] if i > 0 else None
            after_number = before is not None and (
                before.kind == "num" or before.text in _NUMBER_WORDS
            )
            if w == "negative" or (w == "minus" and not after_number):
                sign, start = -1, i + 1
            got = self.magnitude(start) if start < len(self.toks) else None
            if got is None:
                i += 1
                continue
            out.append(sign * got[0])
            i = got[1]
        return out


def numbers_in(text: str) -> list[float]:
    """Every number in ``text`` the MANIFEST's `number` check reads, in order of appearance."""
    return [float(v) for v in _Parser(_tokens(text)).numbers()]


def _fmt(x: float) -> str:
    return f"{x:.7g}"


def _number(expected: dict, reply: str) -> Check:
    values = [float(v) for v in expected["values"]]
    exact = bool(expected.get("exact"))
    rel_tol = float(expected.get("rel_tol") or 0.0)
    abs_tol = float(expected.get("abs_tol") or 0.0)

    def matches(x: float, v: float) -> bool:
        if exact:
            return x == v
        return abs(x - v) <= rel_tol * abs(v) or abs(x - v) <= abs_tol

    found = numbers_in(reply)
    want = " or ".join(_fmt(v) for v in values)
    if not found:
        return Check(False, f"no number in the reply (want {want})", False)
    strict = any(matches(found[-1], v) for v in values)
    for x in found:
        for v in values:
            if matches(x, v):
                return Check(True, f"found {_fmt(x)} {'=' if exact else '~'} {_fmt(v)}", strict)
    shown = ", ".join(_fmt(x) for x in found[:8]) + (" ..." if len(found) > 8 else "")
    how = "exactly" if exact else f"within rel {rel_tol:g} / abs {abs_tol:g}"
    return Check(False, f"no number matches {want} {how} (found {shown})", False)


# --------------------------------------------------------------------------- times


def _normalise(text: str) -> str:
    """Lower case, straight apostrophes, hyphens between letters as spaces."""
    text = text.lower().replace("’", "'")
    return re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", text)


_HOUR_WORDS = {w: _UNITS[w] for w in list(_UNITS)[1:13]}
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_HOUR_W = "|".join(sorted(_HOUR_WORDS, key=len, reverse=True))
# minutes after a spoken hour: "oh four", "fifteen", "forty five" (not a bare "five")
_MIN_W = (
    rf"(?:twenty|thirty|forty|fifty)(?:\s+(?:{_ONES}))?"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    rf"|(?:oh|o|zero)\s+(?:{_ONES})"
)
# minutes before "past"/"to": one to twenty-nine
_MIN_REL = (
    rf"twenty(?:\s+(?:{_ONES}))?|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    rf"|seventeen|eighteen|nineteen|{_ONES}"
)
_AP = r"(?:\s*(?P<ap>[ap])\.?\s?m\b)"
_QUAL = r"(?:\s+in\s+the\s+(?P<qual>morning|afternoon|evening))?"
_TIME_PATTERNS = [
    re.compile(rf"(?<![\d:.])(?P<h>\d{{1,2}}):(?P<m>[0-5]\d)(?::[0-5]\d)?(?![\d:]){_AP}?{_QUAL}"),
    re.compile(rf"(?<![\d:.])(?P<h>\d{{1,2}})\.(?P<m>[0-5]\d){_AP}{_QUAL}"),
    re.compile(rf"(?<![\d:.,])(?P<h>\d{{1,2}}){_AP}{_QUAL}"),
    re.compile(rf"(?<![\d:.])\b(?P<h>\d{{1,2}}|{_HOUR_W})\s+o'?\s?clock\b{_AP}?{_QUAL}"),
    re.compile(rf"\b(?P<h>{_HOUR_W})\s+(?P<mw>{_MIN_W})\b{_AP}?{_QUAL}"),
    re.compile(rf"\b(?P<h>{_HOUR_W}){_AP}{_QUAL}"),
    re.compile(
        rf"\b(?:(?:a\s+)?(?P<quarter>quarter)|(?P<half>half)|(?P<rel>{_MIN_REL}|\d{{1,2}})"
        rf"(?:\s+minutes?)?)\s+(?P<dir>past|after|to|till|til|until|before|of)\s+"
        rf"(?P<h>\d{{1,2}}|{_HOUR_W}|noon|midday|midnight)\b{_AP}?{_QUAL}"
    ),
    re.compile(r"\b(?P<h>noon|midday|midnight)\b"),
]


def _word_minutes(text: str) -> int:
    words = text.split()
    if words[0] in ("oh", "o", "zero"):
        return _UNITS[words[1]]
    return sum(_TENS.get(w, _UNITS.get(w, 0)) for w in words)


def _clock_minutes(m: re.Match[str]) -> list[int]:
    """Minutes after midnight this match can mean (both halves when it does not say)."""
    groups = m.groupdict()
    h_text = groups["h"]
    half = groups.get("ap")
    if groups.get("qual"):
        half = "a" if groups["qual"] == "morning" else "p"
    if h_text in ("noon", "midday"):
        hours = [12]
    elif h_text == "midnight":
        hours = [0]
    else:
        h = int(h_text) if h_text.isdigit() else _HOUR_WORDS[h_text]
        if h > 23:
            return []
        if h == 0 or h > 12:
            hours = [h]  # 24-hour clock: am/pm adds nothing
        elif half:
            hours = [h % 12 + (12 if half == "p" else 0)]
        else:
            hours = [h % 12, h % 12 + 12]
    if groups.get("m"):
        minute = int(groups["m"])
    elif groups.get("mw"):
        minute = _word_minutes(groups["mw"])
    elif groups.get("quarter") or groups.get("half") or groups.get("rel"):
        if groups["dir"] == "of" and not groups.get("quarter"):
            return []  # "quarter of four" is 3:45, but "two of three" is no time
        if groups.get("quarter"):
            offset = 15
        elif groups.get("half"):
            if groups["dir"] not in ("past", "after"):
                return []  # "half to four" is not English time telling
            offset = 30
        else:
            rel = groups["rel"]
            offset = int(rel) if rel.isdigit() else _word_minutes(rel)
            if not 0 < offset < 60:
                return []
        minute = offset if groups["dir"] in ("past", "after") else -offset
    else:
        minute = 0
    if minute > 59:
        return []
    return [(h * 60 + minute) % 1440 for h in hours]


def _time(reply: str, answered_at: datetime) -> Check:
    now = answered_at.hour * 60 + answered_at.minute
    text = _normalise(reply)
    seen: list[str] = []
    for pattern in _TIME_PATTERNS:
        for m in pattern.finditer(text):
            for minutes in _clock_minutes(m):
                gap = abs(minutes - now)
                if min(gap, 1440 - gap) <= 2:
                    return Check(True, f"found {m.group(0).strip()!r} ~ {answered_at:%H:%M}", None)
            seen.append(m.group(0).strip())
    found = f" (found {', '.join(repr(s) for s in seen[:5])})" if seen else ""
    return Check(False, f"no clock time within 2 min of {answered_at:%H:%M}{found}", None)


# --------------------------------------------------------------------------- dates

_MONTH_TEXT = (
    "january february march april may june july august september october november december"
)
_MONTHS = {name: i for i, name in enumerate(_MONTH_TEXT.split(), 1)}
_MONTHS |= {name[:3]: i for name, i in _MONTHS.items()} | {"sept": 9}
_ORDINALS = _ORDINAL_TEXT.split()
_ORDINAL_DAYS = {w: i for i, w in enumerate(_ORDINALS, 1)}
_ORDINAL_DAYS |= {f"twenty {w}": 20 + i for i, w in enumerate(_ORDINALS[:9], 1)}
_ORDINAL_DAYS |= {"thirtieth": 30, "thirty first": 31}
_CARDINAL_DAYS = {w: n for w, n in _UNITS.items() if n > 0}
_CARDINAL_DAYS |= {"twenty": 20, "thirty": 30, "thirty one": 31}
_CARDINAL_DAYS |= {f"twenty {w}": 20 + n for w, n in _UNITS.items() if 0 < n < 10}


def _alternatives(words: Sequence[str]) -> str:
    return "|".join(
        re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)
    )


_MONTH_RE = rf"(?P<month>{_alternatives(list(_MONTHS))})\b\.?"
_DIGIT_DAY = r"(?P<dd>\d{1,2})(?:st|nd|rd|th)?(?!\d)\b"
_ORD_DAY = rf"(?P<dw>{_alternatives(list(_ORDINAL_DAYS))})\b"
_ANY_DAY = rf"(?P<dw>{_alternatives([*_ORDINAL_DAYS, *_CARDINAL_DAYS])})\b"
_YEAR = r"(?:\s*,?\s*(?:of\s+)?(?P<year>(?:19|20|21)\d\d)(?!\d))?"
_DATE_PATTERNS = [
    re.compile(rf"\b{_MONTH_RE}\s+(?:the\s+)?(?:{_DIGIT_DAY}|{_ANY_DAY}){_YEAR}"),
    re.compile(
        rf"(?<![\d.,])\b(?:the\s+)?(?:{_DIGIT_DAY}|{_ORD_DAY})(?:\s+of)?\s+{_MONTH_RE}{_YEAR}"
    ),
    re.compile(
        r"(?<![\d./-])(?P<iy>\d{4})(?P<s>[-/.])(?P<im>\d{1,2})(?P=s)(?P<id>\d{1,2})(?![\d/-]|\.\d)"
    ),
    re.compile(
        r"(?<![\d./-])(?P<a>\d{1,2})(?:(?P<s>[/.-])(?P<b>\d{1,2})(?P=s)(?P<ny>\d{4}|\d{2})"
        r"|/(?P<b2>\d{1,2}))(?![\d/-]|\.\d)"
    ),
]


def _candidates(m: re.Match[str]) -> list[tuple[int | None, int, int]]:
    """(year or None, month, day) readings of one date match."""
    g = m.groupdict()
    if g.get("month"):
        month = _MONTHS[g["month"]]
        dw = g.get("dw")
        day = int(g["dd"]) if g.get("dd") else _ORDINAL_DAYS.get(dw) or _CARDINAL_DAYS[dw]
        return [(int(g["year"]) if g.get("year") else None, month, day)]
    if g.get("iy"):
        return [(int(g["iy"]), int(g["im"]), int(g["id"]))]
    a, b = int(g["a"]), int(g["b"] or g["b2"])
    year = None
    if g.get("ny"):
        year = int(g["ny"]) + (2000 if len(g["ny"]) == 2 else 0)
    return [(year, a, b), (year, b, a)]  # m/d or d/m


def _date(reply: str, target: date) -> Check:
    text = " ".join(re.sub(r"\s+", " ", _normalise(reply)).split())
    seen: list[str] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            for year, month, day in _candidates(m):
                if (month, day) == (target.month, target.day) and year in (None, target.year):
                    return Check(True, f"found {m.group(0).strip()!r} = {target}", None)
            seen.append(m.group(0).strip())
    found = f" (found {', '.join(repr(s) for s in seen[:5])})" if seen else ""
    return Check(False, f"no date {target}{found}", None)


# --------------------------------------------------------------------------- spelling

_LETTER_SEPARATORS = r"[\s.,\-‐‑–—]+"


def _spelled_out(letters: list[str], reply: str) -> bool:
    """The letters in order, separated, and not continued by one more spelled letter on
    either side ("N E C E S S A R Y S" spells another word; "It's a N E C ..." has the
    article "a", and "... R-Y. I hope" the pronoun "I", which are words, not letters)."""
    gap = f"({_LETTER_SEPARATORS})"
    pattern = re.compile(
        r"(?<![^\W\d_])" + gap.join(re.escape(letter) for letter in letters) + r"(?![^\W\d_])",
        re.IGNORECASE,
    )
    for m in pattern.finditer(reply):
        first_gap, last_gap = re.escape(m.group(1)), re.escape(m.group(len(letters) - 1))
        after = re.match(rf"{last_gap}[^\W\d_](?![^\W\d_])(?!\s+[^\W\d_]{{2}})", reply[m.end() :])
        before = re.search(rf"(?<![^\W\d_])(?<![^\W\d_]\s)[^\W\d_]{first_gap}$", reply[: m.start()])
        if not after and not before:
            return True
    return False


def _spelling(expected: dict, reply: str) -> Check:
    word = str(expected["word"])
    letters = str(expected.get("letters") or " ".join(word)).split()
    if len(letters) > 1 and _spelled_out(letters, reply):
        return Check(True, "spelled out letter by letter", True)
    plain = re.compile(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", re.IGNORECASE)
    if plain.search(reply):
        return Check(True, f"plain word {word!r}, not spelled out", False)
    return Check(False, f"neither the letters nor the word {word!r}", False)


# --------------------------------------------------------------------------- sensible replies

# Very common English words (function words and everyday conversational ones): an English
# reply of a few words nearly always has some.
_COMMON_TEXT = (
    "a about after all also am an and any are as at be because been but by can could did do "
    "does for from good had has have he hello her here hey hi him his how i if in is it its "
    "just know let like me more my no not now of off ok okay on one only or our out please "
    "she so some sure than thank thanks that the their them then there these they this those "
    "to too up us very was we well were what when where which who why will with would yes "
    "you your welcome glad happy help "
    "i'm i'll i've i'd you're you'll you've it's that's there's here's let's don't can't "
    "won't isn't aren't"
)
COMMON_WORDS = frozenset(_COMMON_TEXT.split())

# Special tokens, stack traces and error messages: output of a broken pipeline, not a reply.
_GARBAGE = re.compile(
    r"<\|[^|<>\s]{1,40}\|>|</?s>|\[/?INST\]|<unk>|<pad>|</?tool_call>|\ufffd"
    r"|\bTraceback\b|\bFile \"[^\"]*\", line \d+"
    r"|\b\w*(?:Error|Exception):|\berror:",
)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _sensible(expected: dict, reply: str, request: str) -> Check:
    """Non-empty English of min..max words (whitespace-separated pieces with a letter or
    digit); with a common English word (two once the reply has more than three words, and a
    tenth of the words from ten on); not an echo (three quarters or more of the reply's words
    are words of the request, unless ``echo_ok``); no token over half of four or more words,
    nor a token or phrase of up to six words said four times in a row ("I am I am I am I am":
    the same degenerate output as one repeated token); no special tokens, tracebacks or error
    messages."""
    min_words = int(expected.get("min_words", 1))
    max_words = int(expected.get("max_words", 80))
    count = sum(1 for piece in reply.split() if re.search(r"[^\W_]", piece))
    if count == 0:
        return Check(False, "no words", None)
    if not min_words <= count <= max_words:
        return Check(False, f"{count} words, not {min_words}-{max_words}", None)
    garbage = _GARBAGE.search(reply)
    if garbage:
        return Check(False, f"garbage {garbage.group(0)!r}", None)
    words = _words(reply)
    top, top_count = Counter(words).most_common(1)[0]
    if len(words) >= 4 and top_count * 2 > len(words):
        return Check(False, f"dominated by {top!r} ({top_count} of {len(words)} words)", None)
    loop = re.search(r"(?:^| )((?:\S+ ){1,6}?)\1{3,}", " ".join(words) + " ")
    if loop:
        return Check(False, f"repeats {loop.group(1).strip()!r} in a loop", None)
    common = [w for w in words if w in COMMON_WORDS or w.split("'")[0] in COMMON_WORDS]
    needed = max(1 if len(words) <= 3 else 2, math.ceil(len(words) / 10) if len(words) >= 10 else 0)
    if len(common) < needed:
        return Check(
            False, f"not English enough ({len(common)} common words of {len(words)})", None
        )
    asked = set(_words(request))
    if asked and not expected.get("echo_ok"):
        echoed = sum(1 for w in words if w in asked)
        if echoed * 4 >= len(words) * 3:
            return Check(False, f"echoes the request ({echoed} of {len(words)} words)", None)
    return Check(True, f"{count} words", None)


# --------------------------------------------------------------------------- timers


def _timer(expected: dict, timers_set: Sequence[int]) -> Check:
    seconds = int(expected["seconds"])
    if any(s == seconds for s in timers_set):
        return Check(True, f"a {seconds} s timer was set", None)
    shown = ", ".join(str(s) for s in timers_set) or "none"
    return Check(False, f"no {seconds} s timer set (timers set: {shown})", None)


# --------------------------------------------------------------------------- prompt leaks

# Text of the assistant's prompts, data blocks and chat templates; an independent list (not
# the product's own guard). Case-sensitive where the phrase is also ordinary English.
_LEAK_PATTERNS = [
    re.compile(r"\bthe user (?:asks|asked|is asking)\b", re.IGNORECASE),
    re.compile(r"(?:^|(?<=[.!?;:\"'\n]))\s*You answer\b", re.MULTILINE),
    re.compile(r"\byou reply\s*\{", re.IGNORECASE),
    re.compile(r"<{2,}\s*(?:END\s+)?DATA\b", re.IGNORECASE),
    re.compile(r"\bEND DATA\b"),
    re.compile(r"\bDATA key="),
    re.compile(r"\bkey\s*=\s*[0-9a-f]{8,}\b", re.IGNORECASE),
    re.compile(r"\bsource=\"", re.IGNORECASE),
    re.compile(r"\bSecurity rules\b"),
    re.compile(r"\{\s*[\"']tool[\"']\s*:"),
    re.compile(r"\{\s*[\"']answer[\"']\s*:"),
    re.compile(r"[\"']arguments[\"']\s*:"),
    re.compile(r"(?<![Ff]or )\bExample:"),
    re.compile(r"\btool results?\b", re.IGNORECASE),
    re.compile(r"\breply with exactly one JSON object\b", re.IGNORECASE),
    re.compile(r"\buse the calculator for every calculation\b", re.IGNORECASE),
    re.compile(r"\bthe result comes back\b", re.IGNORECASE),
    re.compile(r"\bon the user's computer\b", re.IGNORECASE),
    re.compile(r"\byou are vistavox\b", re.IGNORECASE),
    re.compile(r"\bsystem prompt\b", re.IGNORECASE),
    re.compile(r"<\|[a-z_]{2,30}\|>", re.IGNORECASE),
    re.compile(r"</?tool_call>", re.IGNORECASE),
]


def prompt_leaks(reply: str) -> list[str]:
    """Prompt text found in ``reply``, in order of appearance (empty when clean); overlapping
    matches are reported as one piece ("<<<END DATA key=e802ad7b351b")."""
    text = re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", reply).replace("’", "'")
    spans: list[tuple[int, int]] = []
    for pattern in _LEAK_PATTERNS:
        for m in pattern.finditer(text):
            start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            if m.end() > start:
                spans.append((start, m.end()))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [text[s:e] for s, e in merged]
