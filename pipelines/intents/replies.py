"""Replies to recognised intents: short, spoken by the synthesizer and shown as text, with
the result last ("543 times 344 is 186,792.")."""

from __future__ import annotations

from datetime import datetime, timedelta

from .clock import MONTHS, WEEKDAYS, Weekday, say_date, say_time
from .intent import Intent
from .numbers import format_number
from .spelling import spelled
from .units import Unit, convert, is_offset, unit_named

IDENTITY = (
    "I'm Vistavox, a private assistant running on your own computer. "
    "My voice is synthesized by Piper, not a human's."
)
CAPABILITIES = (
    "I can do sums and unit conversions, tell you the time and date, set timers, spell "
    "words, answer questions about your files and images, and answer general questions."
)


def answer(intent: Intent, now: datetime) -> str:
    """The reply to ``intent``; ``now`` is the local time (timezone-aware) it answers at.
    Timer intents act on state, so the handler answers those: ValueError here."""
    slots = intent.slots
    match intent.name:
        case "time":
            return f"It's {say_time(now)}."
        case "date" if "weekday" in slots:
            return _weekday(now, Weekday(int(slots["weekday"]), str(slots["which"])))  # type: ignore[call-overload]
        case "date":
            return _date(now, int(slots["offset_days"]))  # type: ignore[call-overload]
        case "calculate":
            return _calculation(slots)
        case "convert":
            return _conversion(slots)
        case "spell":
            return spelled(str(slots["word"]))
        case "identity":
            return IDENTITY
        case "capabilities":
            return CAPABILITIES
        case "greeting":
            return f"{_greeting(now.hour)} How can I help?"
        case "thanks":
            return "You're welcome!"
        case "goodbye":
            return "Goodbye! Talk to you soon."
        case name if name.startswith("timer_"):
            raise ValueError(f"{name} acts on the timers: the intent handler answers it")
    raise ValueError(f"unknown intent {intent.name!r}")


def _greeting(hour: int) -> str:
    if 5 <= hour < 12:
        return "Good morning!"
    if 12 <= hour < 18:
        return "Good afternoon!"
    if 18 <= hour < 23:
        return "Good evening!"
    return "Hello!"


def _date(now: datetime, offset: int) -> str:
    try:
        day = say_date(now.date() + timedelta(days=offset))
    except (OverflowError, ValueError):  # beyond the year 9999 (or before the year 1)
        return "I can only work out dates between the years 1 and 9999."
    if offset == 0:
        return f"Today is {day}."
    if offset == 1:
        return f"Tomorrow is {day}."
    if offset == -1:
        return f"Yesterday was {day}."
    span = abs(offset)
    amount = f"{span // 7} weeks" if span % 7 == 0 else f"{span} days"
    if span == 7:
        amount = "a week"
    if offset > 0:
        return f"In {amount} it will be {day}."
    return f"{amount[0].upper()}{amount[1:]} ago it was {day}."  # "A week ago it was..."


def _weekday(now: datetime, day: Weekday) -> str:
    """ "Next Friday is December 11, 2026." (the weekday is said once)."""
    offset = day.offset_from(now.date())
    when = now.date() + timedelta(days=offset)
    name = WEEKDAYS[day.index]
    said = f"{MONTHS[when.month - 1]} {when.day}, {when.year}"
    if offset == 0:
        return f"Today is {name}, {said}."
    lead = {"next": f"Next {name}", "last": f"Last {name}"}.get(day.which, name)
    verb = "was" if offset < 0 else "is"
    return f"{lead} {verb} {said}."


def _calculation(slots) -> str:
    if slots.get("error") == "division by zero":
        return "I can't divide by zero, so that has no answer."
    money = str(slots.get("currency") or "")
    text, rounded = format_number(slots["value"], money=bool(money))
    if money:
        text += f" {money[:-1] if text == '1' else money}"
    result = f"about {text}" if rounded else text
    said = slots.get("said")
    if not said:  # words would need brackets: say only the result
        return f"That's {result}."
    return f"{said[0].upper()}{said[1:]} is {result}."


def _conversion(slots) -> str:
    source, target = unit_named(str(slots["from"])), unit_named(str(slots["to"]))
    value, result = float(slots["value"]), float(slots["result"])
    if slots.get("factor") and (is_offset(source) or is_offset(target)):
        return _formula(source, target, result)
    amount = format_number(value)[0]
    text, rounded = format_number(result)
    about = "about " if rounded else ""
    said = f"{amount} {source.said(value)} is {about}{text} {target.said(result)}."
    return said[0].upper() + said[1:]


def _formula(source: Unit, target: Unit, one: float) -> str:
    """Temperature scales need an offset as well as a factor: "To get degrees Fahrenheit,
    take degrees Celsius, multiply by 1.8, then add 32."."""
    converted = convert(0.0, source, target)
    assert converted is not None
    zero = converted[0]
    factor = one - zero
    times = "" if abs(factor - 1) < 1e-9 else f"multiply by {format_number(factor)[0]}"
    if abs(zero - round(zero, 2)) < 1e-9:  # a round offset (32, 273.15) comes last
        steps = [times, _shift(zero)]
    else:  # Fahrenheit to Celsius: take 32 away first
        steps = [_shift(zero / factor), times]
    return f"To get {target.plural}, take {source.plural}, {', then '.join(filter(None, steps))}."


def _shift(amount: float) -> str:
    if amount >= 0:
        return f"add {format_number(amount)[0]}"
    return f"subtract {format_number(-amount)[0]}"
