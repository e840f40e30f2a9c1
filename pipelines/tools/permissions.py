"""Allow / ask / deny per tool, remembered per persona in the user's config folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from ..files import read_json, set_aside, write_atomic
from .registry import Permission


def permissions_path() -> Path:
    base = os.environ.get("VISTAVOX_CONFIG_DIR") or platformdirs.user_config_dir("vistavox")
    return Path(base) / "tool-permissions.json"


def _read() -> dict[str, dict]:
    """The saved choices by persona; none from a damaged file, which is kept aside
    (``tool-permissions.json.damaged``) so that the next save does not overwrite it."""
    path = permissions_path()
    try:
        data = read_json(path)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        if path.is_file():
            set_aside(path, exc)
        return {}
    if not isinstance(data, dict):
        set_aside(path, "not a JSON object")
        return {}
    return {persona: chosen for persona, chosen in data.items() if isinstance(chosen, dict)}


def load_permissions(persona: str) -> dict[str, Permission]:
    """The user's choices for ``persona`` (unknown values are ignored)."""
    out = {}
    for tool, value in _read().get(persona, {}).items():
        try:
            out[tool] = Permission(value)
        except ValueError:
            continue
    return out


def save_permission(persona: str, tool: str, permission: Permission) -> Path:
    """Remember ``permission`` for ``tool`` under ``persona``."""
    data = _read()
    data.setdefault(persona, {})[tool] = permission.value
    path = permissions_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=2).encode("utf-8"))
    return path
