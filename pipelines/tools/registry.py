"""Tools: what each declares, how calls are validated, permitted, run and audited."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

_audit = logging.getLogger("vistavox.tools.audit")


class SideEffect(StrEnum):
    """How far a tool reaches; the policy asks the user before the risky ones."""

    READ_ONLY = "read-only"
    WRITES_WORKSPACE = "writes-workspace"
    EXECUTES_CODE = "executes-code"
    OUTSIDE = "touches-outside"


class Permission(StrEnum):
    ALLOW = "allow"
    ASK = "ask"
    DENY = "deny"


@dataclass(frozen=True)
class Tool:
    """A tool the model can call."""

    name: str
    description: str  # written for the model
    parameters: dict[str, Any]  # JSON schema of the arguments (an object)
    side_effect: SideEffect
    run: Callable[..., Any]
    timeout_s: float = 10.0
    # Whether the tool has anything to work on now (None: always). One that has not is not
    # offered: a file search with no files made the model search instead of answering.
    available: Callable[[], bool] | None = None
    # Why this call needs the user's say-so although the tool's permission allows it (the
    # first page from a web site), or None; ``after_yes`` remembers a "yes".
    asks_first: Callable[[dict[str, Any]], str | None] | None = None
    after_yes: Callable[[dict[str, Any]], None] | None = None

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass(frozen=True)
class ToolResult:
    """What a call produced, as the model will see it."""

    tool: str
    ok: bool
    content: str
    decision: str  # "allowed", "confirmed", "denied", "invalid", "failed"
    seconds: float = 0.0


@dataclass
class AuditEntry:
    tool: str
    arguments: dict[str, Any]
    decision: str
    summary: str
    seconds: float
    untrusted_turn: bool
    at: float = field(default_factory=time.time)


Confirm = Callable[[Tool, dict[str, Any]], bool]


class ToolRegistry:
    """Holds tools; validates, permits, runs and audits each call."""

    def __init__(
        self,
        tools: list[Tool] | None = None,
        *,
        permissions: dict[str, Permission] | None = None,
        confirm: Confirm | None = None,
    ):
        self._tools: dict[str, Tool] = {t.name: t for t in tools or []}
        self.permissions = dict(permissions or {})
        self.confirm = confirm  # asks the user; None means "no one to ask" → refuse
        self.audit: list[AuditEntry] = []
        self.audit_file: Path | None = None  # where entries are also appended (JSON lines)

    def add(self, tool: Tool) -> None:
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def specs(
        self, names: list[str] | tuple[str, ...] | None = None, *, every: bool = False
    ) -> list[dict[str, Any]]:
        """The tools to offer (``every``: also those with nothing to work on now)."""
        chosen = [t for t in self._tools.values() if names is None or t.name in names]
        return [t.spec() for t in chosen if every or t.available is None or t.available()]

    def needs_confirmation(
        self, tool: Tool, untrusted_turn: bool, arguments: dict[str, Any] | None = None
    ) -> bool:
        """Whether a call must be confirmed by the user before it runs."""
        permission = self.permissions.get(tool.name)
        if permission is Permission.ASK:
            return True
        if tool.asks_first is not None and tool.asks_first(arguments or {}):
            return True
        risky = tool.side_effect in (SideEffect.EXECUTES_CODE, SideEffect.OUTSIDE)
        # Content that did not come from the user is in play: nothing that executes code
        # or reaches outside runs without the user's say-so, whatever the permission.
        return untrusted_turn and risky

    def call(self, name: str, arguments: dict[str, Any], *, untrusted_turn: bool) -> ToolResult:
        """Run one call through validation, permission, execution and the audit log."""
        started = time.monotonic()
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self._tools))
            return self._done(
                name,
                arguments,
                False,
                f"unknown tool '{name}' (tools: {known})",
                "invalid",
                started,
                untrusted_turn,
            )
        problem = validate(arguments, tool.parameters)
        if problem:
            return self._done(name, arguments, False, problem, "invalid", started, untrusted_turn)
        if self.permissions.get(name) is Permission.DENY:
            return self._done(
                name,
                arguments,
                False,
                f"the user does not allow '{name}'",
                "denied",
                started,
                untrusted_turn,
            )
        decision = "allowed"
        if self.needs_confirmation(tool, untrusted_turn, arguments):
            if self.confirm is None or not self.confirm(tool, arguments):
                return self._done(
                    name,
                    arguments,
                    False,
                    f"'{name}' needs the user's confirmation, which was not given",
                    "denied",
                    started,
                    untrusted_turn,
                )
            decision = "confirmed"
            if tool.after_yes is not None:
                tool.after_yes(arguments)
        try:
            output = tool.run(**arguments)
        except Exception as exc:  # noqa: BLE001 - the model gets the error and can correct
            return self._done(
                name,
                arguments,
                False,
                f"{type(exc).__name__}: {exc}",
                "failed",
                started,
                untrusted_turn,
            )
        content = output if isinstance(output, str) else json.dumps(output, default=str)
        return self._done(name, arguments, True, content, decision, started, untrusted_turn)

    def _done(self, name, arguments, ok, content, decision, started, untrusted) -> ToolResult:
        seconds = time.monotonic() - started
        summary = content if len(content) <= 200 else content[:197] + "..."
        entry = AuditEntry(name, arguments, decision, summary, seconds, untrusted)
        self.audit.append(entry)
        if self.audit_file is not None:
            try:
                self.audit_file.parent.mkdir(parents=True, exist_ok=True)
                with self.audit_file.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(asdict(entry), default=str) + "\n")
            except OSError as exc:
                _audit.warning("audit log %s cannot be written: %s", self.audit_file, exc)
        _audit.info(
            "%s %s → %s (%.3f s): %s",
            name,
            json.dumps(arguments, default=str),
            decision,
            seconds,
            summary,
        )
        return ToolResult(name, ok, content, decision, seconds)


def validate(value: Any, schema: dict[str, Any], path: str = "arguments") -> str | None:
    """Check ``value`` against the JSON-schema subset tools use; a message for the model, or
    None when it fits."""
    if "enum" in schema and value not in schema["enum"]:
        return f"{path} must be one of {schema['enum']}"
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "null": lambda v: v is None,
    }
    if kind in checks and not checks[kind](value):
        return f"{path} must be a {kind}"
    if kind == "object":
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                return f"{path} is missing '{key}'"
        for key, item in value.items():
            if key not in props:
                return f"{path} has an unknown field '{key}' (fields: {', '.join(props)})"
            problem = validate(item, props[key], f"{path}.{key}")
            if problem:
                return problem
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            problem = validate(item, schema["items"], f"{path}[{i}]")
            if problem:
                return problem
    if kind == "string" and "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"{path} is longer than {schema['maxLength']} characters"
    return None
