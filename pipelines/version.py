"""The version Vistavox reports (`vistavox --version`, the desktop app's About box)."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "vistavox"


def app_version() -> str:
    """The installed distribution's version; from a source tree that was never installed,
    the version in its pyproject.toml; "unknown" where neither can be read."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
    if project.get("name") != DISTRIBUTION:
        return "unknown"
    return str(project.get("version", "unknown"))
