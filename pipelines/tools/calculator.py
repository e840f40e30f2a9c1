"""Exact arithmetic without eval: + - * / // % ** and parentheses, on integers, decimals and
fractions, with a few functions. Results are exact where the inputs are."""

from __future__ import annotations

import ast
import math
from decimal import Decimal
from fractions import Fraction

_FUNCTIONS = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "min": min,
    "max": max,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_MAX_POWER = 10_000


class CalculatorError(ValueError):
    pass


def _eval(node: ast.AST) -> Fraction | float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return Fraction(Decimal(str(node.value)))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        value = _eval(node.operand)
        return value if isinstance(node.op, ast.UAdd) else -value
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left), _eval(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div | ast.FloorDiv | ast.Mod) and b == 0:
            raise CalculatorError("division by zero")
        if isinstance(op, ast.Div):
            return a / b
        if isinstance(op, ast.FloorDiv):
            return Fraction(math.floor(a / b))
        if isinstance(op, ast.Mod):
            return a % b
        if isinstance(op, ast.Pow):
            if abs(b) > _MAX_POWER:
                raise CalculatorError("exponent too large")
            if isinstance(b, Fraction) and b.denominator == 1:
                return a ** int(b)
            return float(a) ** float(b)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        args = [_eval(a) for a in node.args]
        result = _FUNCTIONS[node.func.id](
            *[float(a) if node.func.id == "sqrt" else a for a in args]
        )
        return Fraction(result) if isinstance(result, int) else result
    raise CalculatorError(f"not allowed in a calculation: {ast.unparse(node)}")


def evaluate(expression: str) -> Fraction | float:
    """Evaluate an arithmetic expression: a Fraction where exact, else a float."""
    text = expression.replace("^", "**").replace("×", "*").replace("÷", "/").replace(",", "")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise CalculatorError(f"not a valid expression: {expression!r}") from exc
    return _eval(tree)


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression exactly; returns the result as text."""
    value = evaluate(expression)
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        decimal = Decimal(value.numerator) / Decimal(value.denominator)
        return f"{decimal.normalize():f}" if len(str(decimal)) < 30 else f"{float(value):.12g}"
    return f"{value:.12g}"
