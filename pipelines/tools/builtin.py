"""The built-in tools that need nothing but the standard library and the kernel's store."""

from __future__ import annotations

from datetime import datetime

from .calculator import calculate
from .registry import SideEffect, Tool


def calculator_tool() -> Tool:
    return Tool(
        name="calculator",
        description="Exact arithmetic. Use it for every calculation instead of doing it in "
        "your head. Example expression: (16 - 3 - 4) * 2",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string", "maxLength": 200}},
            "required": ["expression"],
        },
        side_effect=SideEffect.READ_ONLY,
        run=lambda expression: calculate(expression),
    )


def datetime_tool() -> Tool:
    def now() -> str:
        return datetime.now().astimezone().strftime("%A %d %B %Y, %H:%M %Z")

    return Tool(
        name="datetime",
        description="The current local date and time.",
        parameters={"type": "object", "properties": {}},
        side_effect=SideEffect.READ_ONLY,
        run=now,
    )


def memory_tools(store) -> list[Tool]:
    """remember / forget, backed by the kernel's SQLite store."""

    def remember(fact: str) -> str:
        memory = store.remember(fact)
        return f"remembered (memory {memory.id})"

    def forget(fact: str) -> str:
        matches = store.search_memories(fact, limit=1)
        if not matches:
            return "nothing like that was remembered"
        store.forget(matches[0].id)
        return f"forgot: {matches[0].content}"

    return [
        Tool(
            "remember",
            "Remember a fact the user asked you to keep for later conversations.",
            {
                "type": "object",
                "properties": {"fact": {"type": "string", "maxLength": 300}},
                "required": ["fact"],
            },
            SideEffect.WRITES_WORKSPACE,
            remember,
        ),
        Tool(
            "forget",
            "Forget a remembered fact the user no longer wants kept.",
            {
                "type": "object",
                "properties": {"fact": {"type": "string", "maxLength": 300}},
                "required": ["fact"],
            },
            SideEffect.WRITES_WORKSPACE,
            forget,
        ),
    ]
