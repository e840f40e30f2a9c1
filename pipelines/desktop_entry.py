"""The launcher entry: `vistavox desktop-entry install` puts Vistavox into this user's
application menu (a freedesktop .desktop file whose Exec is this installation's
`vistavox-desktop`, the icon in the hicolor sizes, the AppStream metainfo), all under
$XDG_DATA_HOME (default ~/.local/share); `vistavox desktop-entry uninstall` removes exactly
those files again. The command itself is vistavox.pipelines.commands.desktop_entry.

The files themselves are packaging/freedesktop/ in the source tree, installed as the package
data of ``vistavox.resources.freedesktop``; the scalable icon is the app's own
resources/icons/vistavox.svg.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from .errors import VistavoxError
from .files import write_atomic

APP_ID = "io.github.vistavox.Vistavox"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
DATA_PACKAGE = "vistavox.resources.freedesktop"
DESKTOP_SCRIPT = "vistavox-desktop"
DESKTOP_MODULE = "vistavox.desktop.app"  # `python -m` where the script cannot be found

# Characters that make an Exec argument need quoting (Desktop Entry Specification, "The
# Exec key"), and those escaped with a backslash inside the quotes.
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = set('"`$\\')


@dataclass(frozen=True)
class EntryFile:
    """One file the entry consists of: where it goes (under the data folder) and its bytes."""

    relative: Path
    data: bytes


def data_home() -> Path:
    """$XDG_DATA_HOME, or ~/.local/share where it is unset, empty or relative (the XDG Base
    Directory Specification says relative paths are to be ignored)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "share"


def desktop_command() -> list[str]:
    """How the launcher starts this installation's desktop app: the absolute path of its
    `vistavox-desktop` script (from the installed distribution's file list, else beside
    the running interpreter), or this interpreter with ``-m vistavox.desktop.app``."""
    candidates = []
    for dist in metadata.distributions(name="vistavox"):
        for entry in dist.files or ():
            if entry.name == DESKTOP_SCRIPT:
                candidates.append(Path(os.path.normpath(entry.locate())))
    candidates.append(Path(sys.executable).parent / DESKTOP_SCRIPT)
    for path in candidates:
        if path.is_absolute() and path.is_file() and os.access(path, os.X_OK):
            return [str(path)]
    return [os.path.abspath(sys.executable), "-m", DESKTOP_MODULE]


def _escape_string(value: str) -> str:
    """A value of type string in a desktop entry: backslash, newline, tab and carriage
    return written as escape sequences."""
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    )


def exec_value(argv: list[str]) -> str:
    """``argv`` as the value of an Exec key: arguments with reserved characters quoted,
    percent signs doubled (they would be field codes), then escaped as a string."""
    quoted = []
    for arg in argv:
        arg = arg.replace("%", "%%")
        if arg and not (_RESERVED & set(arg)):
            quoted.append(arg)
            continue
        inner = "".join("\\" + c if c in _ESCAPED_IN_QUOTES else c for c in arg)
        quoted.append(f'"{inner}"')
    return _escape_string(" ".join(quoted))


def _packaged() -> Traversable:
    try:
        return files(DATA_PACKAGE)
    except ModuleNotFoundError as exc:
        raise VistavoxError(
            f"the launcher files ({DATA_PACKAGE}) are not installed: reinstall Vistavox "
            "(bash packaging/setup.sh setup)"
        ) from exc


def entry_files(command: list[str] | None = None) -> list[EntryFile]:
    """Every file the entry consists of, the .desktop file's Exec and TryExec pointing at
    ``command`` (default: this installation's desktop app)."""
    command = command or desktop_command()
    data = _packaged()
    desktop = data.joinpath(f"{APP_ID}.desktop").read_text(encoding="utf-8")
    lines = []
    for line in desktop.splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + exec_value(command)
        elif line.startswith("TryExec="):
            line = "TryExec=" + _escape_string(command[0])
        lines.append(line)
    out = [
        EntryFile(Path("applications", f"{APP_ID}.desktop"), ("\n".join(lines) + "\n").encode()),
        EntryFile(
            Path("metainfo", f"{APP_ID}.metainfo.xml"),
            data.joinpath(f"{APP_ID}.metainfo.xml").read_bytes(),
        ),
        EntryFile(
            Path("icons", "hicolor", "scalable", "apps", f"{APP_ID}.svg"),
            files("vistavox.resources").joinpath("icons", "vistavox.svg").read_bytes(),
        ),
    ]
    for size in ICON_SIZES:
        folder = f"{size}x{size}"
        png = data.joinpath("icons", "hicolor", folder, "apps", f"{APP_ID}.png").read_bytes()
        out.append(EntryFile(Path("icons", "hicolor", folder, "apps", f"{APP_ID}.png"), png))
    return out


def entry_paths(home: Path | None = None) -> list[Path]:
    """Where the entry's files go: what `install` writes and `uninstall` removes."""
    home = home or data_home()
    paths = [
        home / "applications" / f"{APP_ID}.desktop",
        home / "metainfo" / f"{APP_ID}.metainfo.xml",
        home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
    ]
    paths += [
        home / "icons" / "hicolor" / f"{s}x{s}" / "apps" / f"{APP_ID}.png" for s in ICON_SIZES
    ]
    return paths


def refresh_caches(home: Path) -> list[str]:
    """Bring the desktop's caches up to date where they exist (update-desktop-database,
    gtk-update-icon-cache, when installed); the tools that ran. No cache is created: the
    entry declares no MIME types, and the icon theme is read without a cache, so a cache
    made here would be a file that uninstalling could not tell from one the user had."""
    ran = []
    jobs = [
        ("update-desktop-database", home / "applications", "mimeinfo.cache", ["-q"]),
        ("gtk-update-icon-cache", home / "icons" / "hicolor", "icon-theme.cache", ["-q", "-f"]),
    ]
    for tool, folder, cache, options in jobs:
        program = shutil.which(tool)
        if program is None or not (folder / cache).is_file():
            continue
        if tool == "gtk-update-icon-cache" and not (folder / "index.theme").is_file():
            options = [*options, "-t"]  # the user's hicolor folder has no theme index
        try:
            subprocess.run(
                [program, *options, str(folder)], capture_output=True, timeout=120, check=True
            )
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"vistavox: warning: {tool} failed: {exc}", file=sys.stderr)
            continue
        ran.append(tool)
    return ran


def install(home: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the entry's files under ``home`` (default $XDG_DATA_HOME); the paths written."""
    home = home or data_home()
    written = []
    for item in entry_files(command):
        target = home / item.relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VistavoxError(f"{target.parent}: cannot create the folder ({exc})") from exc
        write_atomic(target, item.data)
        written.append(target)
    refresh_caches(home)
    return written


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove the entry's files from ``home``, and the icon theme's size folders that only
    they were in (the standard folders stay); the files removed."""
    home = home or data_home()
    keep = {home, home / "applications", home / "metainfo", home / "icons"}
    keep.add(home / "icons" / "hicolor")
    removed = []
    for path in entry_paths(home):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise VistavoxError(f"{path}: cannot remove ({exc})") from exc
        removed.append(path)
        folder = path.parent
        while folder not in keep and folder.is_relative_to(home):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break
            folder = folder.parent
    refresh_caches(home)
    return removed
