"""Screenshots: the whole screen, one monitor, or a region (the desktop draws the region
picker; the pixels come from here). Uses mss (X11, Windows, macOS)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from PIL import Image

from ..errors import VistavoxError


class ScreenshotError(VistavoxError):
    """No screen to capture, or the capture failed."""


def capture_screen(
    *,
    monitor: int = 0,
    region: tuple[int, int, int, int] | None = None,
    before_capture: Callable[[], None] | None = None,
    settle_s: float = 0.25,
) -> Image.Image:
    """Capture ``monitor`` (0: all monitors together, 1…: one) or ``region`` (x, y, width,
    height in screen pixels) as an RGB image. ``before_capture`` runs first (e.g. to hide
    the assistant's window), then the screen gets ``settle_s`` to repaint."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise ScreenshotError("there is no screen to capture (no DISPLAY)")
    import mss

    if before_capture is not None:
        before_capture()
        time.sleep(settle_s)
    try:
        with mss.MSS() as grabber:
            if region is not None:
                x, y, width, height = region
                if width <= 0 or height <= 0:
                    raise ScreenshotError("the region to capture is empty")
                area = {"left": x, "top": y, "width": width, "height": height}
            else:
                if not 0 <= monitor < len(grabber.monitors):
                    raise ScreenshotError(
                        f"there is no monitor {monitor} (monitors: 1…{len(grabber.monitors) - 1})"
                    )
                area = grabber.monitors[monitor]
            shot = grabber.grab(area)
    except mss.exception.ScreenShotError as exc:
        raise ScreenshotError(f"the screen could not be captured ({exc})") from exc
    return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
