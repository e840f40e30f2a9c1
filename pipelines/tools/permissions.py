"""Allow / ask / deny per tool, remembered per persona in the user's config folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from ..files import write_atomic
from .registry import Permission


def permissions_path() -> Path:
    base = os.environ.get("VISTAVOX_CONFIG_DIR") or platformdirs.user_config_dir("vistavox")
    return Path(base) / "tool-permissions.json"


def _read() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(permissions_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def load_permissions(persona: str) -> dict[str, Permission]:
    """The user's choices for ``persona`` (unknown values are ignored)."""
    chosen = _read().get(persona, {})
    out = {}
    for tool, value in chosen.items():
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
