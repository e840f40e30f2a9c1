"""Everyday units as people name them ("kilos", "km/h", "degrees farenheit", "half a cup"),
and conversions between them with pint.

The vocabulary is ours, not pint's parser: pint reads "in" as inches and "a" as a year,
which would turn "how many pounds are in 10 kilos" into nonsense. Kitchen measures are US
(pint's own: a cup is 16 tablespoons, a tablespoon 3 teaspoons).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from .numbers import parse_number
from .text import tokenize


@dataclass(frozen=True)
class Unit:
    name: str  # pint's name
    singular: str
    plural: str

    def said(self, value: float) -> str:
        return self.singular if value == 1 else self.plural


# pint name, singular, plural, other spellings and abbreviations (| separated).
_TABLE = [
    ("millimeter", "millimeter", "millimeters", "mm|millimetre|millimetres"),
    ("centimeter", "centimeter", "centimeters", "cm|cms|centimetre|centimetres"),
    ("meter", "meter", "meters", "m|metre|metres"),
    ("kilometer", "kilometer", "kilometers", "km|kms|kilometre|kilometres|klick|klicks"),
    ("inch", "inch", "inches", ""),  # not "in": "how many inches are in 3 feet"
    ("foot", "foot", "feet", "ft|feets"),
    ("yard", "yard", "yards", "yd|yds"),
    ("mile", "mile", "miles", "mi"),
    ("milligram", "milligram", "milligrams", "mg|milligramme|milligrammes"),
    ("gram", "gram", "grams", "g|gm|gms|gramme|grammes"),
    ("kilogram", "kilogram", "kilograms", "kg|kgs|kilo|kilos|kilogramme|kilogrammes"),
    ("metric_ton", "metric ton", "metric tons", "tonne|tonnes"),
    ("ton", "ton", "tons", "short ton|short tons"),
    ("ounce", "ounce", "ounces", "oz"),
    ("pound", "pound", "pounds", "lb|lbs"),
    ("stone", "stone", "stone", "stones"),
    ("milliliter", "milliliter", "milliliters", "ml|mls|millilitre|millilitres"),
    ("liter", "liter", "liters", "l|litre|litres"),
    ("teaspoon", "teaspoon", "teaspoons", "tsp|tsps|teaspoonful|teaspoonfuls"),
    ("tablespoon", "tablespoon", "tablespoons", "tbsp|tbsps|tbs|tablespoonful|tablespoonfuls"),
    ("cup", "cup", "cups", ""),
    ("fluid_ounce", "fluid ounce", "fluid ounces", "fl oz|floz"),
    ("pint", "pint", "pints", "pt"),
    ("quart", "quart", "quarts", "qt"),
    ("gallon", "gallon", "gallons", "gal"),
    ("degree_Celsius", "degree Celsius", "degrees Celsius", "celsius|centigrade"),
    ("degree_Fahrenheit", "degree Fahrenheit", "degrees Fahrenheit", "fahrenheit"),
    ("kelvin", "kelvin", "kelvin", "kelvins"),
    ("kilometer/hour", "kilometer per hour", "kilometers per hour",
     "km/h|kph|kmh|kmph|km per hour|kilometres per hour|kilometer an hour|kilometers an hour"),
    ("mile/hour", "mile per hour", "miles per hour", "mph|mile an hour|miles an hour"),
    ("meter/second", "meter per second", "meters per second", "m/s|metres per second"),
    ("knot", "knot", "knots", ""),
    ("meter**2", "square meter", "square meters", "square metre|square metres|sq m|m2"),
    ("foot**2", "square foot", "square feet", "sq ft|sqft"),
    ("kilometer**2", "square kilometer", "square kilometers",
     "square kilometre|square kilometres|sq km|km2"),
    ("mile**2", "square mile", "square miles", "sq mi"),
    ("acre", "acre", "acres", ""),
    ("hectare", "hectare", "hectares", "ha"),
    ("second", "second", "seconds", "sec|secs|s"),
    ("minute", "minute", "minutes", "min|mins"),
    ("hour", "hour", "hours", "hr|hrs|h"),
    ("day", "day", "days", ""),
    ("week", "week", "weeks", ""),
    ("year", "year", "years", "yr|yrs"),
]  # fmt: skip
_TEMPERATURES = {"degree_Celsius": "c", "degree_Fahrenheit": "f", "kelvin": "k"}


def _vocabulary() -> dict[tuple[str, ...], Unit]:
    words: dict[tuple[str, ...], Unit] = {}
    for name, singular, plural, others in _TABLE:
        unit = Unit(name, singular, plural)
        for spelling in [singular, plural, *filter(None, others.split("|"))]:
            words[tuple(tokenize(spelling))] = unit
    return words


_WORDS = _vocabulary()
_BY_NAME = {unit.name: unit for unit in _WORDS.values()}
# Misspelled temperature scales are common ("celsisus", "farenheit"); other units have
# near neighbours (teaspoons and tablespoons), so only these are matched loosely.
_LOOSE = {"celsius": "degree_Celsius", "centigrade": "degree_Celsius",
          "fahrenheit": "degree_Fahrenheit", "kelvin": "kelvin"}  # fmt: skip


def unit_named(name: str) -> Unit:
    return _BY_NAME[name]


def parse_unit(tokens: Sequence[str]) -> Unit | None:
    """A unit spanning exactly these tokens: "kilos", "km / h", "degrees celsisus"."""
    key = tuple(tokens)
    if key[:1] in (("degrees",), ("degree",)):
        rest = key[1:]
        unit = _WORDS.get(rest) or (_loose(rest[0]) if len(rest) == 1 else None)
        if unit is None and len(rest) == 1:
            unit = next((_BY_NAME[n] for n, a in _TEMPERATURES.items() if a == rest[0]), None)
        return unit if unit is not None and unit.name in _TEMPERATURES else None
    unit = _WORDS.get(key)
    if unit is None and len(key) == 1:
        unit = _loose(key[0])
    return unit


def _loose(word: str) -> Unit | None:
    if len(word) < 5:
        return None
    close = difflib.get_close_matches(word, _LOOSE, n=1, cutoff=0.8)
    return _BY_NAME[_LOOSE[close[0]]] if close else None


def _amount(tokens: Sequence[str]) -> Fraction | None:
    """How much of a unit: "10", "a", "half a", "half of a", "three quarters of a", "1/2",
    "minus 40"."""
    words = list(tokens)
    if words[:1] in (["minus"], ["negative"], ["-"]):
        rest = _amount(words[1:])
        return None if rest is None else -rest
    if words in (["a"], ["an"], ["one"]):
        return Fraction(1)
    if len(words) == 3 and words[1] == "/" and words[0].isdigit() and words[2].isdigit():
        return Fraction(int(words[0]), int(words[2])) if int(words[2]) else None
    if words[-1:] in (["a"], ["an"]):  # "half a cup", "half of a cup"
        words = words[:-2] if words[-2:-1] == ["of"] else words[:-1]
        value = parse_number(words)
        return value if value is not None and value < 1 else None
    return parse_number(words)


def parse_quantity(tokens: Sequence[str]) -> tuple[Fraction, Unit] | None:
    """An amount and a unit: "10 kilos", "a hundred kilometers", "half of a cup",
    "32 degrees fahrenheit", "a cup and a half"."""
    words = tuple(tokens)
    if words[-3:] == ("and", "a", "half"):  # "a cup and a half"
        whole = parse_quantity(words[:-3])
        return None if whole is None or whole[0] != 1 else (whole[0] + Fraction(1, 2), whole[1])
    for split in range(len(words) - 1, 0, -1):
        unit = parse_unit(words[split:])
        if unit is None:
            continue
        amount = _amount(words[:split])
        if amount is not None:
            return amount, unit
    return None


@cache
def _registry():
    import pint  # 0.4 s to load its definitions: only when a conversion is asked for

    return pint.UnitRegistry()


def convert(value: float, source: Unit, target: Unit) -> tuple[float, Unit, Unit] | None:
    """``value`` in ``source`` expressed in ``target`` (with the units used: ounces between
    volumes are fluid ounces), or None when they measure different things."""
    import pint

    if source.name == target.name:
        return None
    registry = _registry()
    for a, b in _readings(source, target):
        try:
            result = float(registry.Quantity(value, a.name).to(b.name).magnitude)
        except pint.DimensionalityError:
            continue
        if is_offset(a) or is_offset(b):
            result = round(result, 9)  # 32 F is 0 C, not 5.7e-14 C
        return result, a, b
    return None


def _readings(source: Unit, target: Unit) -> list[tuple[Unit, Unit]]:
    """The units as said, then with "ounces" read as fluid ounces ("how many ounces in a
    cup")."""
    fluid = _BY_NAME["fluid_ounce"]
    readings = [(source, target)]
    if source.name == "ounce":
        readings.append((fluid, target))
    if target.name == "ounce":
        readings.append((source, fluid))
    return readings


def is_offset(unit: Unit) -> bool:
    """Celsius and Fahrenheit do not start at zero: a factor is not enough."""
    return unit.name in ("degree_Celsius", "degree_Fahrenheit")


# Where pint's short form would puzzle a reader ("cp", "a" for a year).
_SYMBOLS = {"cup": "cup", "fluid_ounce": "fl oz", "mile/hour": "mph", "day": "day", "year": "yr"}


def symbol(unit: Unit) -> str:
    """Short form for the reading shown in the Tools tab ("kg", "°F")."""
    return _SYMBOLS.get(unit.name) or f"{_registry().Unit(unit.name):~P}"
