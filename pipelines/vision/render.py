"""HTML → PNG with headless Chromium (Debian's `chromium` package), for previews,
comparisons and tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import VistavoxError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class RenderError(VistavoxError):
    """The page could not be rendered (no browser, or it failed)."""


def find_browser() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RenderError("no Chromium found to render pages (install it: sudo apt install chromium)")


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="vistavox-chromium-")
    command = [
        find_browser(),
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        *args,
    ]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"Chromium took longer than {timeout:.0f} s") from exc
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def render_html(page: Path, png: Path, size: tuple[int, int] = (1280, 900)) -> Path:
    """Screenshot ``page`` (an HTML file) at ``size`` into ``png``."""
    page, png = Path(page).resolve(), Path(png).resolve()
    done = _run([f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", page.as_uri()], 60)
    if not png.exists():
        raise RenderError(f"Chromium could not render {page.name}: {done.stderr[-300:]}")
    return png


def rendered_dom(page: Path) -> str:
    """The page's DOM after the browser has loaded it (what a user's browser would show)."""
    done = _run(["--dump-dom", Path(page).resolve().as_uri()], 60)
    if done.returncode != 0 or not done.stdout.strip():
        raise RenderError(f"Chromium could not load {Path(page).name}: {done.stderr[-300:]}")
    return done.stdout
