"""Recognising a request: the slot types, the templates compiled once, and what each
intent's slots become. The first template (in the order of templates.INTENTS) that reads
the whole request and whose slots make sense wins; otherwise None, and the language model
answers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from . import arithmetic, units
from .clock import TIME_WORDS, WEEKDAYS, Weekday, parse_day, parse_duration
from .grammar import Grammar, SlotType, Template
from .intent import Intent
from .numbers import NUMBER_WORDS, format_number
from .spelling import parse_word
from .templates import INTENTS, RULES
from .text import tokenize

MAX_TOKENS = 40  # longer than any everyday request; spares the matcher a long paragraph

# Words that are the sentence around a timer's name, never the name itself.
_FRAME_WORDS = {
    "timer", "timers", "countdown", "count", "down", "for", "to", "in", "on", "of", "at",
    "the", "my", "this", "that", "all", "every", "set", "start", "alarm", "reminder", "and",
    "or", "it", "me", "go", "off", "new", "another", "with", "called", "named", "one",
    "each", "is", "be", "up",
}  # fmt: skip
_NOT_A_LABEL = NUMBER_WORDS | TIME_WORDS | _FRAME_WORDS


def _label(tokens: Sequence[str]) -> str | None:
    """A timer's name: "pasta", "boiled egg" (one to three plain words)."""
    if all(t.replace("-", "").isalpha() and t not in _NOT_A_LABEL for t in tokens):
        return " ".join(tokens)
    return None


def _task(tokens: Sequence[str]) -> str | None:
    """What a reminder is for: "check the oven" (plain words)."""
    return " ".join(tokens) if all(t.isalpha() for t in tokens) else None


def _calculation(tokens: Sequence[str]) -> arithmetic.Node | None:
    node = arithmetic.parse_calculation(tokens)
    return node if node is not None and arithmetic.is_operation(node) else None


_TYPES = {
    "expression": SlotType(_calculation, MAX_TOKENS, starts=arithmetic.can_start),
    "quantity": SlotType(units.parse_quantity, max_tokens=14),
    "unit": SlotType(units.parse_unit, max_tokens=4),
    "duration": SlotType(parse_duration, max_tokens=14),
    "days": SlotType(parse_day, max_tokens=5),
    "word": SlotType(parse_word, max_tokens=1),
    "label": SlotType(_label, max_tokens=3),
    "task": SlotType(_task, max_tokens=8),
}


# --- what the slots become ---------------------------------------------------------------
def _calculate(slots: dict[str, object]) -> Intent | None:
    node = slots["expression"]
    assert isinstance(node, arithmetic.Node)
    money = arithmetic.currency(node)
    if money is None:
        return None  # dollars plus euros
    reading = arithmetic.to_expression(node)
    base = {"expression": reading, "said": arithmetic.to_words(node), "currency": money}
    try:
        value = arithmetic.value_of(node)
    except arithmetic.DivisionByZero:
        return Intent("calculate", {**base, "value": None, "error": "division by zero"}, reading)
    if value is None or isinstance(value, float) and not math.isfinite(value):
        return None
    return Intent("calculate", {**base, "value": value}, reading)


def _convert(slots: dict[str, object]) -> Intent | None:
    if "quantity" in slots:
        amount, source = slots["quantity"]  # type: ignore[misc]
        factor = False
    else:
        amount, source, factor = Fraction(1), slots["from"], True
    target = slots["to"]
    assert isinstance(source, units.Unit) and isinstance(target, units.Unit)
    try:
        value = float(amount)
    except OverflowError:  # a number of 300 digits is not an everyday measure
        return None
    done = units.convert(value, source, target)
    if done is None:
        return None  # different kinds of measure ("kilograms in a meter")
    result, source, target = done
    reading = f"{format_number(amount)[0]} {units.symbol(source)} -> {units.symbol(target)}"
    slots = {"value": value, "from": source.name, "to": target.name, "result": result}
    return Intent("convert", {**slots, "factor": factor}, reading)


def _date(slots: dict[str, object]) -> Intent:
    day = slots.get("days", 0)
    if isinstance(day, Weekday):
        slots = {"weekday": day.index, "which": day.which}
        return Intent("date", slots, f"{day.which} {WEEKDAYS[day.index]}")
    days = int(day)  # type: ignore[call-overload]
    return Intent("date", {"offset_days": days}, f"today {days:+d} days" if days else "today")


def _timer_set(slots: dict[str, object]) -> Intent:
    seconds = int(slots["duration"])  # type: ignore[call-overload]
    label = str(slots.get("label") or slots.get("task") or "")
    return Intent("timer_set", {"seconds": seconds, "label": label}, _timer_reading(slots))


def _timer_cancel(slots: dict[str, object], *, every: bool = False) -> Intent:
    seconds = slots.get("duration")
    label = str(slots.get("label") or "")
    found = {"label": label, "all": every, "seconds": seconds}
    return Intent("timer_cancel", found, "all timers" if every else _timer_reading(slots))


def _timer_reading(slots: dict[str, object]) -> str:
    parts = [f"{slots['duration']} s"] if "duration" in slots else []
    label = slots.get("label") or slots.get("task")
    return " ".join([*parts, f"'{label}'"] if label else parts) or "timer"


def _plain(name: str) -> Callable[[dict[str, object]], Intent]:
    return lambda slots: Intent(name, {}, name)


_BUILD: dict[str, Callable[[dict[str, object]], Intent | None]] = {
    "time": _plain("time"),
    "date": _date,
    "spell": lambda slots: Intent("spell", {"word": slots["word"]}, str(slots["word"])),
    "identity": _plain("identity"),
    "capabilities": _plain("capabilities"),
    "greeting": _plain("greeting"),
    "thanks": _plain("thanks"),
    "goodbye": _plain("goodbye"),
    "timer_list": lambda slots: Intent(
        "timer_list", {"label": str(slots.get("label") or "")}, _timer_reading(slots)
    ),
    "timer_cancel_all": lambda slots: _timer_cancel(slots, every=True),
    "timer_cancel": _timer_cancel,
    "timer_set": _timer_set,
    "convert": _convert,
    "convert_factor": _convert,
    "calculate": _calculate,
}


def _compile() -> tuple[Grammar, list[tuple[str, Template]]]:
    grammar = Grammar(RULES, _TYPES, tokenize)
    compiled = []
    for name, templates in INTENTS.items():
        assert name in _BUILD, name
        for template in templates:
            # Every request may open with "hey" or "ok, please" and end with "please".
            compiled.append((name, grammar.compile(f"[<lead>] [<lead>] ({template}) [<tail>]")))
    return grammar, compiled


_GRAMMAR, _TEMPLATES = _compile()


def recognise(text: str) -> Intent | None:
    """The intent of an everyday request, read whole; None hands it to the model."""
    if len(text) > 20 * MAX_TOKENS:  # a pasted paragraph, not an everyday request
        return None
    tokens = tokenize(text)
    if not tokens or len(tokens) > MAX_TOKENS:
        return None
    for name, slots in _GRAMMAR.matches(_TEMPLATES, tokens):
        intent = _BUILD[name](slots)
        if intent is not None:
            return intent
    return None
