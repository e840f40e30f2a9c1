"""Durations ("an hour and a half", "4 minute"), days relative to today ("in two weeks",
"the day after tomorrow"), and the time and date said in English.

Names of days and months are spelled here, not taken from the locale: the replies are
English whatever the machine's language (Qt sets the C library's locale from the
environment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from .numbers import parse_number

_SECONDS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600,
}  # fmt: skip
_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
TIME_WORDS = frozenset(_SECONDS) | frozenset(_DAYS)


def _how_many(words: Sequence[str]) -> Fraction | None:
    """The count before a unit of time: "4", "an", "half an", "a quarter of an",
    "a couple of", "two and a half"."""
    words = list(words)
    if words in (["a"], ["an"], ["one"]):
        return Fraction(1)
    if words in (["a", "couple", "of"], ["a", "couple"], ["couple", "of"]):
        return Fraction(2)
    if words[-1:] in (["a"], ["an"]):  # "half an hour", "a quarter of an hour"
        words = words[:-2] if words[-2:-1] == ["of"] else words[:-1]
        value = parse_number(words)
        return value if value is not None and value < 1 else None
    return parse_number(words)


def parse_duration(tokens: Sequence[str]) -> int | None:
    """Whole seconds in "1 hour and 30 minutes", "ninety minutes", "an hour and a half",
    "4 minute" (as in "a 4 minute timer"); None unless every word is part of it."""
    parts: list[tuple[Fraction, int]] = []
    amount: list[str] = []
    for token in tokens:
        if token in _SECONDS:
            if parts and amount[:1] in (["and"], [","]):
                amount = amount[1:]  # "1 hour and 30 minutes"
            count = _how_many(amount) if amount else None
            if count is None or count <= 0 or (parts and parts[-1][1] <= _SECONDS[token]):
                return None  # no count, or "5 minutes 1 hour"
            parts.append((count, _SECONDS[token]))
            amount = []
        else:
            amount.append(token)
    if not parts:
        return None
    if amount:  # "an hour and a half", "a minute and a quarter"
        extra = parse_number(amount[1:]) if amount[0] == "and" else None
        if extra is None or not 0 < extra < 1:
            return None
        count, unit = parts[-1]
        parts[-1] = (count + extra, unit)
    seconds = sum(count * unit for count, unit in parts)
    return round(seconds) if seconds >= 1 else None


def parse_day_offset(tokens: Sequence[str]) -> int | None:
    """Days from today: "today" 0, "tomorrow" 1, "yesterday" -1, "in 3 days" 3,
    "two weeks from now" 14, "3 days ago" -3, "the day after tomorrow" 2."""
    words = tuple(tokens)
    named = {
        ("today",): 0, ("tomorrow",): 1, ("yesterday",): -1,
        ("todays",): 0, ("tomorrows",): 1, ("yesterdays",): -1,  # "what's tomorrow's date"
        ("the", "day", "after", "tomorrow"): 2, ("day", "after", "tomorrow"): 2,
        ("the", "day", "before", "yesterday"): -2, ("day", "before", "yesterday"): -2,
    }  # fmt: skip
    if words in named:
        return named[words]
    sign = 1
    if words[:1] == ("in",):
        words = words[1:]
    elif words[-2:] in (("from", "now"), ("from", "today")):
        words = words[:-2]
    elif words[-1:] in (("ago",), ("back",)):
        words, sign = words[:-1], -1
    else:
        return None
    if len(words) < 2 or words[-1] not in _DAYS:
        return None
    count = _how_many(words[:-1])
    if count is None or count.denominator != 1:
        return None
    return sign * int(count) * _DAYS[words[-1]]


@dataclass(frozen=True)
class Weekday:
    """A day named by its weekday: "Friday", "this Friday", "next Friday", "last Friday".
    Which date it is depends on today: ``offset_from``."""

    index: int  # Monday 0 … Sunday 6
    which: str  # "this" (the coming one, today if it is that day), "next", "last"

    def offset_from(self, today: date) -> int:
        ahead = (self.index - today.weekday()) % 7
        if self.which == "last":
            return -((today.weekday() - self.index) % 7 or 7)
        if self.which == "next":
            return ahead or 7  # "next Friday" on a Friday is a week away
        return ahead


_WEEKDAY_NAMES = {name.lower(): i for i, name in enumerate(WEEKDAYS)}
_WHICH = {
    (): "this",
    ("this",): "this",
    ("this", "coming"): "this",
    ("coming",): "this",
    ("the", "coming"): "this",
    ("next",): "next",
    ("last",): "last",
    ("this", "past"): "last",
    ("past",): "last",
}  # fmt: skip ("on Friday" is said by the templates that mean a date: "what's on Friday" is
# a question about plans, not the calendar)


def parse_day(tokens: Sequence[str]) -> int | Weekday | None:
    """A day: days from today (``parse_day_offset``) or a weekday ("next Friday")."""
    offset = parse_day_offset(tokens)
    if offset is not None:
        return offset
    words = tuple(tokens)
    if not words or words[-1] not in _WEEKDAY_NAMES:
        return None
    which = _WHICH.get(words[:-1])
    return Weekday(_WEEKDAY_NAMES[words[-1]], which) if which else None


def say_time(moment: datetime) -> str:
    """The time on a 12-hour clock, as people say it: "9:04 PM"."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def say_date(day: date) -> str:
    """The date in full: "Saturday, December 5, 2026"."""
    return f"{WEEKDAYS[day.weekday()]}, {MONTHS[day.month - 1]} {day.day}, {day.year}"
