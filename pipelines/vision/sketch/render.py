"""The generated page in a real browser (headless Chromium, Debian's `chromium`): a PNG
screenshot, and where each element ended up (getBoundingClientRect of every
[data-sketch] element, read back from the DOM dump)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..render import RenderError, find_browser

_MEASURE = """
<script>
addEventListener('load', () => {
  const out = {};
  for (const el of document.querySelectorAll('[data-sketch]')) {
    const r = el.getBoundingClientRect();
    out[el.dataset.sketch] = [r.left + scrollX, r.top + scrollY, r.right + scrollX,
                              r.bottom + scrollY];
  }
  const pre = document.createElement('pre');
  pre.id = 'sketch-boxes';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="vistavox-chromium-")
    command = [
        find_browser(), "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        "--mute-audio", f"--user-data-dir={profile}",
        *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        *args,
    ]  # fmt: skip
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"Chromium took longer than {timeout:.0f} s") from exc
    except OSError as exc:
        raise RenderError(f"Chromium could not start: {exc}") from exc
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def render_png(page: str, png: Path, size: tuple[int, int] = (1280, 900)) -> Path:
    """Screenshot the HTML text ``page`` at ``size`` (width, height) into ``png``."""
    png = Path(png).resolve()
    with tempfile.TemporaryDirectory(prefix="vistavox-page-") as folder:
        source = Path(folder) / "page.html"
        source.write_text(page, encoding="utf-8")
        png.unlink(missing_ok=True)
        done = _chromium(
            [f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", source.as_uri()]
        )
    if not png.is_file() or png.stat().st_size == 0:
        raise RenderError(f"Chromium could not render the page: {done.stderr.strip()[-300:]}")
    return png


def measure_boxes(page: str, width: int = 1200, height: int = 900) -> dict[int, tuple]:
    """Where the browser puts each element (page pixels at ``width``): index → box."""
    marked = page.replace("</body>", _MEASURE + "</body>", 1)
    with tempfile.TemporaryDirectory(prefix="vistavox-page-") as folder:
        source = Path(folder) / "page.html"
        source.write_text(marked, encoding="utf-8")
        done = _chromium(
            [f"--window-size={width},{height}", "--virtual-time-budget=2000", "--dump-dom",
             source.as_uri()]
        )  # fmt: skip
    found = re.search(r'<pre id="sketch-boxes">(.*?)</pre>', done.stdout, re.S)
    if not found:
        raise RenderError(f"Chromium did not report element boxes: {done.stderr.strip()[-300:]}")
    data = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    return {int(k): tuple(v) for k, v in data.items()}


def rendered_dom(page: str, width: int = 1200) -> str:
    """The page's DOM once Chromium has loaded it."""
    with tempfile.TemporaryDirectory(prefix="vistavox-page-") as folder:
        source = Path(folder) / "page.html"
        source.write_text(page, encoding="utf-8")
        done = _chromium([f"--window-size={width},900", "--dump-dom", source.as_uri()])
    if done.returncode != 0 or "<body" not in done.stdout:
        raise RenderError(f"Chromium could not load the page: {done.stderr.strip()[-300:]}")
    return done.stdout
