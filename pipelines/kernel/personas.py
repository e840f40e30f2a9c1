"""Personas ("apps" of the LLM OS): named custom instructions with a voice, tools and a
temperature. A few ship in resources/personas; users add or override them as TOML files in
their config folder."""

from __future__ import annotations

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
    except (OSError, tomllib.TOMLDecodeError, ValidationError, TypeError) as exc:
        reason = str(exc).splitlines()[0]
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
    tools = ", ".join(f'"{t}"' for t in persona.tools)
    prompt = persona.system_prompt.replace('"""', '\\"\\"\\"')
    text = (
        f'name = "{persona.name}"\ntitle = "{persona.title}"\nvoice = "{persona.voice}"\n'
        f"temperature = {persona.temperature}\ntools = [{tools}]\n"
        f'system_prompt = """\n{prompt}\n"""\n'
    )
    path = folder / f"{persona.name}.toml"
    write_atomic(path, text.encode("utf-8"))
    return path
