"""The sites the user allowed Vistavox to read, remembered in the user's config folder
(the first page from a site is read only after the user says yes)."""

from __future__ import annotations

import json
from pathlib import Path

from ..files import read_json, set_aside, write_atomic
from ..tools.permissions import permissions_path


def sites_path() -> Path:
    """Beside the tool permissions, in the same config folder."""
    return permissions_path().with_name("web-sites.json")


class SitePermissions:
    """Allowed sites by host name; a damaged file counts as none allowed."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or sites_path()

    def allowed(self) -> list[str]:
        """The sites allowed; none from a damaged file, which is kept aside
        (``web-sites.json.damaged``) so that the next save does not overwrite it."""
        try:
            data = read_json(self.path)
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            if self.path.is_file():
                set_aside(self.path, exc)
            return []
        sites = data.get("allowed") if isinstance(data, dict) else None
        if not isinstance(sites, list):  # (a string would allow each of its letters)
            set_aside(self.path, "no list of allowed sites in it")
            return []
        return sorted({s for s in sites if isinstance(s, str) and s})

    def allows(self, site: str) -> bool:
        return site in self.allowed()

    def allow(self, site: str) -> None:
        self._save(sorted({*self.allowed(), site}))

    def forget(self, site: str) -> None:
        self._save([s for s in self.allowed() if s != site])

    def _save(self, sites: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps({"allowed": sites}, indent=2).encode("utf-8"))
