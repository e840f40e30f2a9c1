"""Sums said in words or typed in symbols, read into a small expression tree with the usual
precedence ("2 plus 3 times 4" is 14), evaluated exactly by the project's calculator, and
said back in words for the reply.

Grammar (recursive descent over tokens; a calculation must read its whole span)::

    calculation := expr | aggregate | verb | purchase
    aggregate   := ["the"] ("sum"|"total"|"average"|"mean"|"product") "of" list
                 | ["the"] "difference between" expr "and" expr
                 | ["the"] "quotient of" expr ("and"|"by") expr
    verb        := ("add"|"sum"|"multiply"|"average") list ["together"]
                 | "add" expr "to" expr | "multiply" expr ("by"|"with") expr
                 | "divide" expr ("by"|"into") expr | ("subtract"|"take") expr ["away"] "from" expr
    purchase    := number thing{1,3} ("at"|"for") atom ("each"|"apiece"|"per" thing)
    list        := unary (("," | "and") unary)+
    expr        := term (("plus"|"+"|"minus"|"-") term)*
    term        := unary (("times"|"x"|"*"|"multiplied by"|"divided by"|"/"|"over") unary)*
    unary       := ("minus"|"negative"|"-") unary | ["the"] "square root of" unary | power
    power       := postfix [("to the power of"|"^"|"**"|"raised to"|"to the Nth [power]") unary]
    postfix     := atom ("squared"|"cubed")*
    atom        := number | "$" number | number "dollars" | "pi" | "(" expr ")"
                 | number ("percent"|"%") ("of"|"off") unary | fraction "of" unary
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

from ..tools.calculator import CalculatorError, evaluate
from .numbers import MAX_TOKENS, format_number, is_number_word, ordinal, parse_number

_CURRENCY_SIGNS = {"$": "dollars", "€": "euros"}
_CURRENCY_WORDS = {"dollars": "dollars", "dollar": "dollars", "bucks": "dollars",
                   "euros": "euros", "euro": "euros"}  # fmt: skip
# "pounds" is left out on purpose: it is a weight far more often than money.
_T = TypeVar("_T")


# --- the expression tree ---------------------------------------------------------------
@dataclass(frozen=True)
class Num:
    value: Fraction
    currency: str = ""


@dataclass(frozen=True)
class Pi:
    pass


@dataclass(frozen=True)
class Bin:
    op: str  # + - * / **
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Root:
    degree: int  # 2 or 3
    operand: Node


@dataclass(frozen=True)
class Percent:
    percent: Fraction
    of: Node
    off: bool = False  # "15% off $35" is what is left to pay


@dataclass(frozen=True)
class Aggregate:
    kind: str  # sum, average, product, difference
    items: tuple[Node, ...]


Node = Num | Pi | Bin | Neg | Root | Percent | Aggregate


def is_operation(node: Node) -> bool:
    """A calculation rather than a bare number ("what is 42" is not a sum)."""
    return not isinstance(node, Num | Pi) and not (
        isinstance(node, Neg) and isinstance(node.operand, Num)
    )


# --- parsing ---------------------------------------------------------------------------
_ADD = {("plus",): "+", ("+",): "+", ("minus",): "-", ("-",): "-"}
_MUL = {
    ("times",): "*", ("x",): "*", ("*",): "*", ("×",): "*", ("multiplied", "by"): "*",
    ("divided", "by"): "/", ("/",): "/", ("÷",): "/", ("over",): "/",
}  # fmt: skip
_ROOTS = {("square", "root", "of"): 2, ("square", "root"): 2, ("sqrt",): 2, ("root", "of"): 2,
          ("cube", "root", "of"): 3, ("cubic", "root", "of"): 3}  # fmt: skip


# Words and signs a calculation can begin with (besides numbers): a quick "no" for spans
# that start elsewhere.
_FIRST = frozenset(
    ("(", "-", "+", "$", "€", "the", "minus", "negative", "square", "sqrt", "cube", "cubic",
     "root", "pi", "sum", "total", "average", "mean", "product", "difference", "quotient",
     "add", "multiply", "divide", "subtract", "take", "deduct")
)  # fmt: skip


def can_start(token: str) -> bool:
    """Could a calculation begin with this token?"""
    return token in _FIRST or is_number_word(token)


class _Fail(Exception):
    pass


class _Reader:
    """A cursor over the tokens of one expression."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = tuple(tokens)
        self.at = 0

    def take(self, words: tuple[str, ...]) -> bool:
        if self.tokens[self.at : self.at + len(words)] == words:
            self.at += len(words)
            return True
        return False

    def take_any(self, table: dict[tuple[str, ...], _T]) -> _T | None:
        for words, value in table.items():
            if self.take(words):
                return value
        return None

    def number(self) -> Fraction:
        """The longest number starting here."""
        top = self.at
        while top < len(self.tokens) and top - self.at < MAX_TOKENS:
            if not is_number_word(self.tokens[top]):
                break
            top += 1
        for end in range(top, self.at, -1):
            value = parse_number(self.tokens[self.at : end])
            if value is not None:
                self.at = end
                return value
        raise _Fail

    def done(self) -> bool:
        return self.at == len(self.tokens)


def parse_calculation(tokens: Sequence[str]) -> Node | None:
    """The calculation that spans exactly these tokens, or None: an expression, or a
    phrase around one ("divide 100 by 12", "the average of 54, 23 and 43",
    "6 shirts at $499 each")."""
    for form in _FORMS:
        reader = _Reader(tokens)
        try:
            node = form(reader)
        except _Fail:
            continue
        if reader.done():
            return node
    return None


def _expect(r: _Reader, *choices: tuple[str, ...]) -> None:
    if not any(r.take(words) for words in choices):
        raise _Fail


def _list(r: _Reader) -> tuple[Node, ...]:
    """Two or more numbers: "3, 7, 9, and 24", "eleven and ten"."""
    items = [_unary(r)]
    while r.take((",",)) | r.take(("and",)):
        items.append(_unary(r))
    if len(items) < 2:
        raise _Fail
    return tuple(items)


_AGGREGATES = {("sum", "of"): "sum", ("total", "of"): "sum", ("average", "of"): "average",
               ("mean", "of"): "average", ("product", "of"): "product"}  # fmt: skip


def _aggregate(r: _Reader) -> Node:
    """A named result: "the sum of 3, 7 and 9", "the difference between 10 and 3"."""
    r.take(("the",))
    if (kind := r.take_any(_AGGREGATES)) is not None:
        return Aggregate(kind, _list(r))
    if r.take(("difference", "between")) or r.take(("difference", "of")):
        a = _expr(r)
        _expect(r, ("and",))
        return Aggregate("difference", (a, _expr(r)))
    _expect(r, ("quotient", "of"))
    a = _expr(r)
    _expect(r, ("and",), ("by",), ("over",))
    return Bin("/", a, _expr(r))


def _add_up(r: _Reader) -> Node:
    """A verb on a list: "add 5 and 89", "multiply 7 and 42", "average 3 and 4"."""
    verbs = {("add", "up"): "sum", ("add",): "sum", ("sum", "up"): "sum", ("sum",): "sum",
             ("total",): "sum", ("multiply",): "product", ("average",): "average"}  # fmt: skip
    kind = r.take_any(verbs)
    if kind is None:
        raise _Fail
    items = _list(r)
    r.take(("together",)) or r.take(("up",))
    return Aggregate(kind, items)


def _verb(r: _Reader) -> Node:
    """A verb on two operands: "add 45 to 87 plus 54", "divide 100 by 12", "subtract 5
    from 12", "multiply 7 by 6"."""
    if r.take(("add",)):
        a = _expr(r)
        _expect(r, ("to",))
        return Bin("+", a, _expr(r))
    if r.take(("multiply",)):
        a = _expr(r)
        if r.done() and isinstance(a, Bin) and a.op == "*":
            return a  # "multiply 5 times 10"
        _expect(r, ("by",), ("with",))
        return Bin("*", a, _expr(r))
    if r.take(("divide",)):
        a = _expr(r)
        if r.take(("into",)):  # "divide 3 into 12" is 12 / 3
            return Bin("/", _expr(r), a)
        _expect(r, ("by",))
        return Bin("/", a, _expr(r))
    _expect(r, ("subtract",), ("take", "away"), ("take",), ("deduct",))
    a = _expr(r)
    r.take(("away",))  # "take 7 away from 20"
    _expect(r, ("from",))
    return Bin("-", _expr(r), a)


def _purchase(r: _Reader) -> Node:
    """A count of things at a price apiece: "6 shirts at $499 each"."""
    count = Num(r.number())
    things = 0
    while not r.done() and r.tokens[r.at].isalpha() and r.tokens[r.at] not in ("at", "for"):
        r.at, things = r.at + 1, things + 1
    if not 1 <= things <= 3:
        raise _Fail
    _expect(r, ("at",), ("for",), ("costing",))
    r.take(("a", "price", "of"))
    price = _atom(r)
    if not (r.take(("each",)) or r.take(("apiece",)) or r.take(("a", "piece"))):
        _expect(r, ("per",), ("a",))  # "$3 per shirt", "$3 a bag"
        if r.done() or not r.tokens[r.at].isalpha():
            raise _Fail
        r.at += 1
    return Bin("*", count, price)


def _expr(r: _Reader) -> Node:
    node = _term(r)
    while (op := r.take_any(_ADD)) is not None:
        node = Bin(op, node, _term(r))
    return node


def _term(r: _Reader) -> Node:
    node = _unary(r)
    while (op := r.take_any(_MUL)) is not None:
        node = Bin(op, node, _unary(r))
    return node


def _unary(r: _Reader) -> Node:
    if r.take(("minus",)) or r.take(("negative",)) or r.take(("-",)):
        return Neg(_unary(r))
    start = r.at
    r.take(("the",))
    degree = r.take_any(_ROOTS)
    if degree is not None:
        return Root(degree, _unary(r))
    r.at = start
    return _power(r)


def _power(r: _Reader) -> Node:
    base = _postfix(r)
    if r.take(("to", "the")) or r.take(("raised", "to", "the")):
        if r.take(("power", "of")) or r.take(("power",)):
            return Bin("**", base, _unary(r))
        nth = ordinal(r.tokens[r.at]) if not r.done() else None  # "to the 3rd power"
        if nth is None:
            raise _Fail
        r.at += 1
        r.take(("power",))
        return Bin("**", base, Num(Fraction(nth)))
    if r.take(("raised", "to")) or r.take(("^",)) or r.take(("**",)):
        return Bin("**", base, _unary(r))
    return base


def _postfix(r: _Reader) -> Node:
    node = _atom(r)
    while True:
        if r.take(("squared",)):
            node = Bin("**", node, Num(Fraction(2)))
        elif r.take(("cubed",)):
            node = Bin("**", node, Num(Fraction(3)))
        else:
            return node


def _atom(r: _Reader) -> Node:
    if r.take(("(",)):
        node = _expr(r)
        if not r.take((")",)):
            raise _Fail
        return node
    if r.take(("pi",)):
        return Pi()
    currency = ""
    if r.at < len(r.tokens) and r.tokens[r.at] in _CURRENCY_SIGNS:
        currency = _CURRENCY_SIGNS[r.tokens[r.at]]
        r.at += 1
    value = r.number()
    if not currency and r.at < len(r.tokens) and r.tokens[r.at] in _CURRENCY_WORDS:
        currency = _CURRENCY_WORDS[r.tokens[r.at]]
        r.at += 1
    if not currency and (r.take(("percent",)) or r.take(("per", "cent")) or r.take(("%",))):
        if r.take(("of",)):
            return Percent(value, _unary(r))
        if r.take(("off",)):
            return Percent(value, _unary(r), off=True)
        raise _Fail  # "100 plus 15%" means different things to different people
    if not currency and 0 < value < 1 and r.take(("of",)):  # "half of 68", "a third of 90"
        return Bin("*", Num(value), _unary(r))
    return Num(value, currency)


_FORMS = (_expr, _aggregate, _add_up, _verb, _purchase)


# --- the calculator's text and the spoken words ------------------------------------------
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}


def _decimal(value: Fraction) -> str:
    """Exact text for the calculator: a terminating decimal, else a bracketed fraction."""
    if value.denominator == 1:
        return str(value.numerator)
    fraction = f"({value.numerator} / {value.denominator})"
    try:
        text = f"{float(value)!r}"
    except OverflowError:  # beyond a float: 400 digits over 100 ("999…9%")
        return fraction
    return text if Fraction(text) == value and "e" not in text else fraction


def to_expression(node: Node) -> str:
    """The calculator's input ("543 * 344", "sqrt(453)"); also the reading shown."""
    return _expression(node)[0]


def _expression(node: Node) -> tuple[str, int]:
    """Text and binding strength (higher binds tighter)."""
    match node:
        case Num(value=value):
            return _decimal(value), (5 if value >= 0 else 3)
        case Pi():
            return "pi", 5
        case Neg(operand=operand):
            text, strength = _expression(operand)
            return f"-{text if strength >= 3 else f'({text})'}", 3
        case Root(degree=2, operand=operand):
            return f"sqrt({to_expression(operand)})", 5
        case Root(operand=operand):
            return f"({to_expression(operand)}) ** (1 / 3)", 4
        case Percent(percent=percent, of=of, off=False):
            return f"{_decimal(percent / 100)} * {_wrap(of, 2)}", 2
        case Percent(percent=percent, of=of, off=True):
            return f"{_wrap(of, 2)} * (1 - {_decimal(percent / 100)})", 2
        case Aggregate(kind="difference", items=(a, b)):
            return f"abs({to_expression(a)} - {_wrap(b, 2)})", 5
        case Aggregate(kind=kind, items=items):
            op = " * " if kind == "product" else " + "
            text = op.join(_wrap(item, 2 if kind == "product" else 1) for item in items)
            if kind == "average":
                return f"({text}) / {len(items)}", 2
            return text, _PRECEDENCE[op.strip()]
        case Bin(op=op, left=left, right=right):
            strength = _PRECEDENCE[op]
            if op == "**":  # right-associative, and -2 ** 2 is -(2 ** 2)
                return f"{_wrap(left, 5)} ** {_wrap(right, 3)}", strength
            right_text = _wrap(right, strength + (op in "-/"))
            return f"{_wrap(left, strength)} {op} {right_text}", strength
    raise TypeError(node)


def _wrap(node: Node, needed: int) -> str:
    text, strength = _expression(node)
    return text if strength >= needed else f"({text})"


def currency(node: Node) -> str | None:
    """The currency of the result ("" for none), or None when currencies are mixed."""
    found: set[str] = set()

    def walk(n: Node) -> None:
        match n:
            case Num(currency=c) if c:
                found.add(c)
            case Bin(left=a, right=b):
                walk(a)
                walk(b)
            case Neg(operand=a) | Root(operand=a) | Percent(of=a):
                walk(a)
            case Aggregate(items=items):
                for item in items:
                    walk(item)

    walk(node)
    return None if len(found) > 1 else next(iter(found), "")


_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by", "**": "to the power of"}


def to_words(node: Node) -> str | None:
    """The sum said aloud ("543 times 344"), or None where words would be ambiguous
    without brackets ("(2 + 3) * 4")."""
    try:
        return _words(node)
    except _Fail:
        return None


def _words(node: Node, needed: int = 0) -> str:
    match node:
        case Num(value=value, currency=money):
            text, rounded = format_number(value)
            if rounded and 1 < value.denominator <= 12:
                text = f"{value.numerator}/{value.denominator}"  # "2/3", not "0.6667"
            return f"{text} {money[:-1] if value == 1 else money}".strip()
        case Pi():
            return "pi"
        case Neg(operand=Num() as operand):
            return f"-{_words(operand)}"
        case Neg(operand=operand):
            return f"minus {_words(operand, 3)}"
        case Root(degree=degree, operand=operand):
            name = "square" if degree == 2 else "cube"
            return f"the {name} root of {_words(operand, 5)}"
        case Percent(percent=percent, of=of, off=off):
            return f"{format_number(percent)[0]} percent {'off' if off else 'of'} {_words(of, 5)}"
        case Aggregate(kind=kind, items=items):
            said = [_words(item, 5) for item in items]
            joined = f"{', '.join(said[:-1])} and {said[-1]}"
            return f"the {kind} {'between' if kind == 'difference' else 'of'} {joined}"
        case Bin(op="**", left=left, right=Num(value=power)) if power in (2, 3):
            return f"{_words(left, 5)} {'squared' if power == 2 else 'cubed'}"
        case Bin(op=op, left=left, right=right):
            strength = _PRECEDENCE[op]
            if strength < needed:
                raise _Fail  # would need brackets
            # Said aloud, "2 to the power of 3 squared" reads as (2 ** 3) ** 2.
            left_needed = strength + (op == "**")
            right_needed = strength + (op in "-/**")
            return f"{_words(left, left_needed)} {_WORDS[op]} {_words(right, right_needed)}"
    raise TypeError(node)


# --- evaluating --------------------------------------------------------------------------
class DivisionByZero(ValueError):
    pass


def value_of(node: Node) -> Fraction | float | None:
    """The exact value (a float once a root or pi is involved); None when it has no real
    value or is too large; DivisionByZero for a division by zero."""
    try:
        value = evaluate(to_expression(node))
    except CalculatorError as exc:
        if "division by zero" in str(exc):
            raise DivisionByZero(str(exc)) from exc
        return None
    except ZeroDivisionError as exc:  # 0 to a negative power
        raise DivisionByZero(str(exc)) from exc
    except (ValueError, OverflowError, TypeError):  # sqrt(-1), 2.5 ** 10000
        return None
    if isinstance(value, complex):  # the cube root of a negative number, as a float power
        return None
    return value
