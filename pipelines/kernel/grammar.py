"""JSON Schema (the subset tool schemas use) → llama.cpp GBNF grammar, for tool calls that
small local models cannot get wrong: every output parses, every string stays on one line and
within its length, and only declared tools and arguments can appear.

llama-cpp-python ships a converter, but its strings admit raw newlines and unbounded length
(a 135M model ran out of tokens inside a string); this one does not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..tools.registry import validate

_BASE = r"""
ws ::= " "?
char ::= [^"\\\x00-\x1f\x7f] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
integer ::= "-"? ( "0" | [1-9] [0-9]{0,15} )
number ::= integer ( "." [0-9]{1,12} )? ( [eE] [-+]? [0-9]{1,3} )?
boolean ::= "true" | "false"
null ::= "null"
"""


class _Builder:
    def __init__(self, max_string_chars: int):
        self.max_string_chars = max_string_chars
        self.rules: dict[str, str] = {}
        self._n = 0

    def rule(self, body: str, hint: str = "r") -> str:
        for name, existing in self.rules.items():
            if existing == body:
                return name
        self._n += 1
        name = f"{hint}{self._n}"
        self.rules[name] = body
        return name

    def string(self, max_len: int | None) -> str:
        n = min(max_len if max_len is not None else self.max_string_chars, self.max_string_chars)
        return self.rule(f'"\\"" char{{0,{n}}} "\\""', "str")

    def value(self, schema: dict[str, Any]) -> str:
        if "const" in schema:
            return self.rule(_literal(schema["const"]), "const")
        if "enum" in schema:
            return self.rule(" | ".join(_literal(v) for v in schema["enum"]), "enum")
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self.rule(" | ".join(self.value(s) for s in schema[key]), "any")
        kind = schema.get("type", "string")
        if isinstance(kind, list):
            return self.rule(" | ".join(self.value({**schema, "type": k}) for k in kind), "any")
        if kind == "string":
            return self.string(schema.get("maxLength"))
        if kind in ("integer", "number", "boolean", "null"):
            return kind
        if kind == "array":
            return self.array(schema)
        if kind == "object":
            return self.object(schema)
        raise ValueError(f"unsupported schema type {kind!r}")

    def array(self, schema: dict[str, Any]) -> str:
        item = self.value(schema.get("items", {"type": "string"}))
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", 16))
        if high == 0:
            return self.rule('"[" ws "]"', "arr")
        more = f'( "," ws {item} ){{{max(0, low - 1)},{high - 1}}}'
        body = f'"[" ws {item} {more} ws "]"'
        if low == 0:
            body = f'"[" ws ( {item} {more} )? ws "]"'
        return self.rule(body, "arr")

    def object(self, schema: dict[str, Any]) -> str:
        props = list(schema.get("properties", {}).items())
        required = set(schema.get("required", []))
        memo: dict[tuple[int, bool], str] = {}

        def rest(i: int, comma: bool) -> str:
            if i == len(props):
                return '""'
            if (i, comma) in memo:
                return memo[(i, comma)]
            key, sub = props[i]
            pair = ('"," ws ' if comma else "") + f'{_literal(key)} ws ":" ws ' + self.value(sub)
            if key in required:
                body = f"{pair} {rest(i + 1, True)}"
            else:
                body = f"( {pair} {rest(i + 1, True)} ) | {rest(i + 1, comma)}"
            memo[(i, comma)] = self.rule(body, "obj")
            return memo[(i, comma)]

        return self.rule(f'"{{" ws {rest(0, False)} ws "}}"', "obj")


def _literal(value: Any) -> str:
    """A GBNF literal matching the JSON text of ``value``."""
    return json.dumps(json.dumps(value))


def schema_to_gbnf(schema: dict[str, Any], *, max_string_chars: int = 512) -> str:
    """A complete GBNF grammar whose root accepts JSON values matching ``schema``."""
    builder = _Builder(max_string_chars)
    root = builder.value(schema)
    lines = [f"root ::= {root}"] + [f"{n} ::= {b}" for n, b in builder.rules.items()]
    return "\n".join(lines) + _BASE


def tool_call_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """The schema of one agent step: a call of one of ``tools``, or the final answer."""
    steps: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"tool": {"const": t["name"]}, "arguments": t["parameters"]},
            "required": ["tool", "arguments"],
        }
        for t in tools
    ]
    steps.append(
        {
            "type": "object",
            "properties": {"answer": {"type": "string", "maxLength": 600}},
            "required": ["answer"],
        }
    )
    return {"anyOf": steps}


def tool_call_grammar(tools: list[dict[str, Any]]) -> str:
    return schema_to_gbnf(tool_call_schema(tools), max_string_chars=600)


def call_only_grammar(tools: list[dict[str, Any]]) -> str:
    """A call of one of ``tools`` and not an answer (the user asked for the tool)."""
    return schema_to_gbnf({"anyOf": tool_call_schema(tools)["anyOf"][:-1]}, max_string_chars=600)


class ToolStepError(ValueError):
    """A step the model wrote is not a valid call; the message tells it what to fix."""


@dataclass(frozen=True)
class ToolStep:
    tool: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    answer: str | None = None


def parse_tool_step(text: str, tools: list[dict[str, Any]]) -> ToolStep:
    """Parse and validate one step; ToolStepError explains what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolStepError(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ToolStepError("the step must be a JSON object")
    if "answer" in data:
        if set(data) != {"answer"} or not isinstance(data["answer"], str):
            raise ToolStepError('an answer is {"answer": "<text>"} and nothing else')
        return ToolStep(None, {}, data["answer"])
    name = data.get("tool")
    by_name = {t["name"]: t for t in tools}
    if name not in by_name:
        raise ToolStepError(f"unknown tool {name!r} (tools: {', '.join(by_name)})")
    if set(data) != {"tool", "arguments"}:
        raise ToolStepError('a call is {"tool": "<name>", "arguments": {...}} and nothing else')
    problem = validate(data["arguments"], by_name[name]["parameters"])
    if problem:
        raise ToolStepError(problem)
    return ToolStep(name, data["arguments"], None)


# --- a model's own tool-call format ------------------------------------------------------
# Models trained on tool use (Qwen2.5, Qwen3, Hermes) call a tool by writing
# <tool_call>{"name": ..., "arguments": {...}}</tool_call> and answer in plain text; their
# chat template lists the tools in the system turn. Constrained the same way, their calls
# cannot name an unknown tool or break the arguments, and their answers stream as they come.
NATIVE_OPEN = "<tool_call>\n"
NATIVE_CLOSE = "\n</tool_call>"


def native_call_grammar(tools: list[dict[str, Any]]) -> str:
    """GBNF: a plain-text answer (not starting with "<" or "{"), or one tool call in the
    Hermes format, tagged or bare, whose JSON names a declared tool with valid arguments."""
    builder = _Builder(600)
    call = builder.value(
        {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {"name": {"const": t["name"]}, "arguments": t["parameters"]},
                    "required": ["name", "arguments"],
                }
                for t in tools
            ]
        }
    )
    # Small models often leave out the tags and write the bare JSON: that is a call, too.
    lines = [
        f"root ::= {_literal_text(NATIVE_OPEN)} {call} {_literal_text(NATIVE_CLOSE)} "
        f"| {call} | text",
        _NATIVE_TEXT,
    ] + [f"{n} ::= {b}" for n, b in builder.rules.items()]
    return "\n".join(lines) + _BASE


_NATIVE_TEXT = "text ::= [^<{\\x00 \\t\\n] [^\\x00]*"  # not a call's start


def native_answer_grammar() -> str:
    """GBNF: a plain-text answer only (the last step, when no more calls may be made)."""
    return "root ::= text\n" + _NATIVE_TEXT


def _literal_text(text: str) -> str:
    """A GBNF literal matching ``text`` exactly."""
    return json.dumps(text)


def parse_native_step(text: str, tools: list[dict[str, Any]]) -> ToolStep:
    """A step in the Hermes format: a tool call (validated) or, for anything else, the
    answer. ToolStepError explains a broken call."""
    stripped = text.strip()
    if not stripped.startswith(("<", "{")):
        return ToolStep(None, {}, stripped)
    body = stripped.removeprefix(NATIVE_OPEN.strip()).removesuffix(NATIVE_CLOSE.strip())
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ToolStepError(f"the tool call is not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or set(data) != {"name", "arguments"}:
        raise ToolStepError('a call is {"name": "<tool>", "arguments": {...}} and nothing else')
    by_name = {t["name"]: t for t in tools}
    if data["name"] not in by_name:
        raise ToolStepError(f"unknown tool {data['name']!r} (tools: {', '.join(by_name)})")
    problem = validate(data["arguments"], by_name[data["name"]]["parameters"])
    if problem:
        raise ToolStepError(problem)
    return ToolStep(data["name"], data["arguments"], None)


def native_tool_definitions(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``tools`` as the OpenAI-style definitions chat templates render."""
    return [
        {
            "type": "function",
            "function": {
                "name": t["name"],
                "description": t["description"],
                "parameters": t["parameters"],
            },
        }
        for t in tools
    ]


# --- answers that must quote a tool's number ------------------------------------------------
# A small model handed "84" by the calculator still wrote "12 times 7 is 86" now and then.
# After a tool returned a number, the answer step may only write that number (in one of its
# usual forms) and the numbers of the question: digits are otherwise not allowed.
def number_forms(value: float) -> list[str]:
    """How a result may be written: exact, rounded to 2-4 decimals, with thousands commas."""
    forms: set[str] = set()
    if float(value).is_integer() and abs(value) < 1e15:
        whole = int(value)
        forms.update({str(abs(whole)), f"{abs(whole):,}"})
    else:
        forms.add(f"{abs(value):.12g}")
        for places in range(2, 5):
            rounded = f"{abs(value):,.{places}f}".rstrip("0").rstrip(".")
            forms.update({rounded, rounded.replace(",", "")})
    return sorted(forms, key=len, reverse=True)


def _quoting(value: float, known: list[str], no_digit: str) -> list[str]:
    """Rules for text (``body``) that quotes ``value`` and holds no other digits than those
    of ``known`` numbers; ``no_digit`` is the rule for one other character."""
    forms = number_forms(value)
    others = [n.lstrip("-") for n in known if n.lstrip("-") not in forms]
    rules = [
        "body ::= seg* res ( nd seg* )?",
        f"seg ::= {'nd | kn nd' if others else 'nd'}",
        "res ::= " + " | ".join(_literal_text(f) for f in forms),
        f"nd ::= {no_digit}",
    ]
    if others:
        rules.append("kn ::= " + " | ".join(_literal_text(n) for n in others))
    return rules


def number_answer_grammar(tools: list[dict[str, Any]], value: float, known: list[str]) -> str:
    """GBNF for the JSON step after a tool returned ``value``: another call, or an answer
    that quotes ``value`` and has no other digits than those of ``known`` numbers."""
    calls = tool_call_schema(tools)["anyOf"][:-1]
    builder = _Builder(600)
    call = builder.value({"anyOf": calls}) if calls else None
    lines = [
        "root ::= " + (f"{call} | answer" if call else "answer"),
        'answer ::= "{" ws "\\"answer\\"" ws ":" ws "\\"" body "\\"" ws "}"',
        *_quoting(value, known, r'[^"\\0-9\x00-\x1f\x7f] | "\\" ["\\/bfnrt]'),
    ]
    lines += [f"{n} ::= {b}" for n, b in builder.rules.items()]
    return "\n".join(lines) + _BASE


def number_text_grammar(value: float, known: list[str]) -> str:
    """GBNF for a plain-text answer that quotes ``value`` (and no other number but the
    ``known`` ones)."""
    return "\n".join(["root ::= body", *_quoting(value, known, r"[^0-9\x00]")]) + "\n"
