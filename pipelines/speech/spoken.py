"""Text as the voice should read it: what reads well on screen is not always what the
synthesizer says well (espeak reads "9:04" as "nine zero four")."""

from __future__ import annotations

import re

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty"]
_CLOCK = re.compile(r"(?<![\d:])\b([01]?\d|2[0-3]):([0-5]\d)\b(?!:\d)")
# A web address (a reply's "Source: Title (https://…)"): read as its site, not letter by
# letter through its path and query.
_ADDRESS = re.compile(
    r"\bhttps?://(?:www\.)?([^/\s()<>\"':]+)(?::\d+)?(?:[^\s()<>\"']*[^\s()<>\"'.,;:!?])?", re.I
)


def _minutes(minutes: int) -> str:
    if minutes < 10:
        return f"oh {_ONES[minutes]}"
    if minutes < 20:
        return _TEENS[minutes - 10]
    tens, ones = divmod(minutes, 10)
    return _TENS[tens - 2] + (f"-{_ONES[ones]}" if ones else "")


def _clock(match: re.Match[str]) -> str:
    hour, minutes = int(match.group(1)), int(match.group(2))
    return f"{hour} o'clock" if minutes == 0 else f"{hour} {_minutes(minutes)}"


def spoken(text: str) -> str:
    """``text`` with web addresses as their sites ("https://www.bbc.co.uk/news/a-1" →
    "bbc.co.uk") and clock times in words ("9:04 PM" → "9 oh four PM")."""
    return _CLOCK.sub(_clock, _ADDRESS.sub(lambda m: m.group(1).rstrip("."), text))
