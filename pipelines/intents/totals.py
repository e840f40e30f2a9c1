"""Totals stated in a reply, checked against the numbers they were taken from: a table or a
list of labelled numbers ("China 1,439,323,776 India 1,380,004,385 …", "Coffee: 3.50") in a
document, a page or the text read from an image. A small model adds many numbers badly, and
it repeats a total the data merely states ("the sum of all populations is 100"); the total a
person is told must be the one the numbers make."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from .numbers import SCALES, digits, format_number

MIN_ROWS = 3  # two labelled numbers are a sentence more often than a list
_MAX_LABEL_WORDS = 4  # more words before a number is prose, not a row's label
_SUBSETS_UP_TO = 12  # rows whose every subset's sum is tried (4,096 sums)
_RUNS_UP_TO = 200  # rows whose runs of neighbours are tried (20,100 sums)
# A row that states the total is not one of the numbers added ("Total 9.75").
_TOTAL_LABELS = frozenset(("total", "subtotal", "sum", "balance", "due", "overall", "altogether"))

_TAG = re.compile(r"<[^<>]{0,200}>")
_OCR_POSITION = re.compile(r"^\[[a-z -]{1,20}\] ", re.MULTILINE)
_TOKEN = re.compile(
    r"(?P<number>[$€£]?-?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|[$€£]?-?\d+(?:\.\d+)?%?)"
    r"|(?P<word>[^\W\d_][\w'&]*)"
    r"|(?P<mark>\S)"
)
# Words a row's label does not hold: a number after them is prose ("… is 100").
_PROSE = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be been by for from had has have in is it its of on or so than "
        "that the their then there these this those to was we were which will with would",
    )
)
_SEPARATORS = frozenset(":,;|=-–—()/*•·&+")

_NUMBER = r"-?[$€£]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SCALE = r"(?:\s+(?P<scale>thousand|million|billion|trillion))?"
_HEDGE = r"(?P<hedge>about|approximately|roughly|around|nearly|almost)?"
# "the sum … is 100", "the total comes to 12.50"; then "a total of 300", "… add up to 9".
_CLAIM = re.compile(
    r"\b(?:sum|total|combined|altogether|add(?:s|ed)? up)\b"
    r"(?:[^.!?\n]|\.(?=\d)){0,400}?"
    r"(?:\bis\b|\bare\b|\bequals?\b|\bcomes? to\b|\badd(?:s|ed)? up to\b|=|:)"
    rf"\s*{_HEDGE}\s*(?P<result>{_NUMBER}){_SCALE}(?![\d.,]*\d)",
    re.IGNORECASE,
)
_A_TOTAL_OF = re.compile(
    r"\b(?:a (?:total|sum) of|add(?:s|ed)? up to|totals|totall?ing|summing to)"
    rf"\s*{_HEDGE}\s*(?P<result>{_NUMBER}){_SCALE}(?![\d.,]*\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NumberList:
    """Labelled numbers that follow one another: a table's column or a list."""

    labels: tuple[str, ...]
    values: tuple[Fraction, ...]

    @cached_property
    def total(self) -> Fraction:
        return sum(self.values, Fraction(0))

    def agrees(self, stated: Fraction, within: Fraction) -> bool:
        """``stated`` (rounded to ``within``) is a sum of some of the numbers: the total,
        one row, some rows."""
        sums = self._part_sums
        at = bisect_left(sums, stated - within)
        return at < len(sums) and sums[at] <= stated + within

    @cached_property
    def _part_sums(self) -> list[Fraction]:
        """Every subset's sum; with more rows, each row, the total and (up to a few hundred
        rows) the sums of runs of neighbours ("the first five")."""
        values = self.values
        if len(values) <= _SUBSETS_UP_TO:
            sums = {Fraction(0)}
            for value in values:
                sums |= {s + value for s in sums}
            return sorted(sums)
        runs = {*values, self.total}
        for i in range(len(values) if len(values) <= _RUNS_UP_TO else 0):
            running = values[i]
            for value in values[i + 1 :]:
                running += value
                runs.add(running)
        return sorted(runs)


def number_lists(text: str) -> list[NumberList]:
    """The runs of at least ``MIN_ROWS`` labelled numbers in ``text`` (tags and OCR position
    marks are read through)."""
    text = _OCR_POSITION.sub("", _TAG.sub(" ", text))
    found: list[NumberList] = []
    labels: list[str] = []
    values: list[Fraction] = []
    label: list[str] = []
    after_number = False  # the last token but separators was a row's number

    def close_run(keep: bool = True) -> None:
        if keep and len(values) >= MIN_ROWS:
            found.append(NumberList(tuple(labels), tuple(values)))
        labels.clear()
        values.clear()

    for token in _TOKEN.finditer(text):
        word, number, mark = token.group("word"), token.group("number"), token.group("mark")
        if word is not None:
            after_number = False
            if word.lower() in _PROSE or len(label) == _MAX_LABEL_WORDS:
                close_run()
                label = [] if word.lower() in _PROSE else label[1:] + [word]
            else:
                label.append(word)
        elif number is not None:
            value = None if number.endswith("%") else _amount(number)
            if value is not None and not label and after_number:
                close_run(keep=False)  # two numbers to a row: which column is meant is unknown
            elif value is None or not label or label[-1].lower() in _TOTAL_LABELS:
                close_run()  # a percentage, a number alone, or the row stating the total
            else:
                labels.append(" ".join(label))
                values.append(value)
            after_number = bool(label) and value is not None
            label = []
        elif mark not in _SEPARATORS:
            close_run()  # the end of a sentence
            label, after_number = [], False
    close_run()
    return found


def correct_totals(reply: str, data: str) -> str:
    """``reply`` with each stated total that no sum of the data's labelled numbers makes
    replaced by the total they make; left alone when the data holds no list, or several."""
    claims = sorted(
        [*_CLAIM.finditer(reply), *_A_TOTAL_OF.finditer(reply)], key=lambda m: m.start()
    )
    if not claims:
        return reply  # (most replies: the data, perhaps a long document, is not read)
    lists = number_lists(data)
    if len(lists) != 1:
        return reply
    numbers = lists[0]
    out, last = [], 0
    for claim in claims:
        start = claim.start("result")
        if start < last:
            continue
        stated = _stated(claim.group("result"), claim.group("scale"), claim.group("hedge"))
        if stated is None or numbers.agrees(*stated):
            continue
        end = claim.end("scale") if claim.group("scale") else claim.end("result")
        out += [reply[last:start], format_number(numbers.total)[0]]
        last = end
    return "".join(out + [reply[last:]])


def _stated(written: str, scale: str | None, hedge: str | None) -> tuple[Fraction, Fraction] | None:
    """The number a reply states, and how far off it may be as written: half its last
    digit ("4.23 billion": 5 million; "about 2,800": 50; "3.50": 0.005); a whole number
    said plainly ("100") is exact."""
    value = _amount(written)
    if value is None:
        return None
    plain = written.replace(",", "").lstrip("-$€£")
    if "." in plain:
        unit = Fraction(1, 10 ** len(plain.split(".")[1]))
    else:
        if not (hedge or scale):
            unit = Fraction(0)  # a whole number, not said to be rounded, is meant exactly
        else:
            unit = Fraction(10 ** (len(plain) - len(plain.rstrip("0")))) if value else Fraction(1)
    factor = SCALES[scale.lower()] if scale else 1
    return value * factor, unit * factor / 2


def _amount(written: str) -> Fraction | None:
    """ "1,439,323,776", "$3.50", "-$4", "$-4" exactly (None for anything else)."""
    value = digits(written.lstrip("-$€£"))
    if value is None:
        return None
    return -value if "-" in written[:2] else value
