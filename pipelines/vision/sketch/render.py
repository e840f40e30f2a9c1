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
  out.height = document.documentElement.scrollHeight;
  const frame = document.querySelector('[data-sketch-frame]');
  if (frame) {
    const r = frame.getBoundingClientRect();
    out.frame = [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY];
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


TALLEST = 8000  # a whole-page screenshot stops here


def page_height(page: str, width: int) -> int:
    """How tall the page is (CSS pixels) in a window ``width`` wide."""
    return int(_measured(page, width, 900)["height"])


def render_png(
    page: str, png: Path, size: tuple[int, int] = (1280, 900), whole: bool = False
) -> Path:
    """Screenshot the HTML text ``page`` at ``size`` (width, height) into ``png``; with
    ``whole``, the window is made as tall as the page (at least ``size``'s height)."""
    png = Path(png).resolve()
    if whole:
        size = (size[0], max(size[1], min(TALLEST, page_height(page, size[0]))))
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
    return measure_page(page, width, height)[0]


def measure_page(
    page: str, width: int = 1200, height: int = 900
) -> tuple[dict[int, tuple], tuple | None]:
    """Where the browser puts each element (index → box, page pixels at ``width``) and the
    box of the whole drawing (the layout's root), when the page marks it."""
    data = _measured(page, width, height)
    frame = data.pop("frame", None)
    data.pop("height")
    return {int(k): tuple(v) for k, v in data.items()}, tuple(frame) if frame else None


def _measured(page: str, width: int, height: int) -> dict:
    """What the measuring script reports: element boxes, "frame" and the page "height"."""
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
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def rendered_dom(page: str, width: int = 1200) -> str:
    """The page's DOM once Chromium has loaded it."""
    with tempfile.TemporaryDirectory(prefix="vistavox-page-") as folder:
        source = Path(folder) / "page.html"
        source.write_text(page, encoding="utf-8")
        done = _chromium([f"--window-size={width},900", "--dump-dom", source.as_uri()])
    if done.returncode != 0 or "<body" not in done.stdout:
        raise RenderError(f"Chromium could not load the page: {done.stderr.strip()[-300:]}")
    return done.stdout
