"""Personas ("apps" of the LLM OS): named custom instructions with a voice, tools and a
temperature. A few ship in resources/personas; users add or override them as TOML files in
their config folder."""

from __future__ import annotations

import json
import tomllib
from importlib.resources import files
from pathlib import Path

import platformdirs
from pydantic import BaseModel, Field, ValidationError

from ..errors import VistavoxError


class PersonaError(VistavoxError):
    """A persona is missing or its file is malformed."""


class Persona(BaseModel, frozen=True):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    system_prompt: str
    voice: str = "piper-en-us-joe-medium"
    tools: tuple[str, ...] = ()
    temperature: float = Field(default=0.3, ge=0.0, le=2.0)


def user_personas_dir() -> Path:
    return Path(platformdirs.user_config_dir("vistavox")) / "personas"


def _shipped_dir() -> Path:
    return Path(str(files("vistavox.resources").joinpath("personas")))


def _load(path: Path) -> Persona:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        data["system_prompt"] = str(data.get("system_prompt", "")).strip()
        return Persona(**data)
    # (ValueError: not UTF-8, not TOML, not a persona; RecursionError: nested thousands deep)
    except (OSError, ValueError, ValidationError, TypeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        reason = (reason.splitlines() or [type(exc).__name__])[0]
        raise PersonaError(f"persona file {path} cannot be used: {reason}") from exc


def list_personas() -> dict[str, Persona]:
    """All personas by name; the user's files override shipped ones of the same name.
    A broken user file is skipped (``load_persona`` reports it)."""
    found: dict[str, Persona] = {}
    for folder in (_shipped_dir(), user_personas_dir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                persona = _load(path)
            except PersonaError:
                continue
            found[persona.name] = persona
    return found


def load_persona(name: str) -> Persona:
    """The persona called ``name``; PersonaError says which exist."""
    user_file = user_personas_dir() / f"{name}.toml"
    if user_file.is_file():
        return _load(user_file)
    personas = list_personas()
    if name not in personas:
        raise PersonaError(f"no persona '{name}' (available: {', '.join(sorted(personas))})")
    return personas[name]


def save_persona(persona: Persona) -> Path:
    """Write a persona to the user's config folder (atomically)."""
    from ..files import write_atomic

    folder = user_personas_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tools = ", ".join(_toml_string(tool) for tool in persona.tools)
    text = (
        f"name = {_toml_string(persona.name)}\ntitle = {_toml_string(persona.title)}\n"
        f"voice = {_toml_string(persona.voice)}\ntemperature = {persona.temperature}\n"
        f"tools = [{tools}]\nsystem_prompt = {_toml_text(persona.system_prompt)}\n"
    )
    path = folder / f"{persona.name}.toml"
    write_atomic(path, text.encode("utf-8"))
    return path


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string: JSON's escapes are TOML's, and DEL, which JSON leaves
    as it is, must be escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_text(text: str) -> str:
    """Several lines as they were typed (a multi-line literal string) when TOML can hold them
    so, else a basic string with escapes (quotes and backslashes stay as they are)."""
    plain = all(c in "\n\t" or (c >= " " and c != "\x7f") for c in text)
    if plain and "'''" not in text:
        return f"'''\n{text}\n'''"
    return _toml_string(text)
