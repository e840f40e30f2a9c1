"""How Qt Quick (which draws the web preview) renders. Without a GPU, OpenGL falls back to
Mesa's software rasteriser (llvmpipe), and Qt Quick then rasterises every frame of the
preview with it on the GUI thread: blocks of 50–100 ms each time a page loads (measured on
two cores). Qt Quick's own software renderer draws the same frames in a few ms. A machine
with a GPU keeps OpenGL."""

from __future__ import annotations

import glob
import logging
import os
import sys

from PySide6.QtQuick import QQuickWindow, QSGRendererInterface

_log = logging.getLogger(__name__)


def has_gpu() -> bool:
    """Whether OpenGL here is likely hardware: on Linux, a DRI render node exists and
    software rendering is not forced. (Asking OpenGL itself costs 0.7 s at start-up.)"""
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE", "0") not in ("", "0"):
        return False
    return bool(glob.glob("/dev/dri/renderD*"))


def choose_quick_backend() -> str:
    """Qt Quick's software renderer where there is no GPU. Call after the QApplication
    exists and before the first web view; QT_QUICK_BACKEND set by the user wins. Returns
    the choice ("software" or "default")."""
    if os.environ.get("QT_QUICK_BACKEND"):
        return os.environ["QT_QUICK_BACKEND"]
    if has_gpu():
        return "default"
    QQuickWindow.setGraphicsApi(QSGRendererInterface.GraphicsApi.Software)
    _log.info("no GPU: the preview is drawn by Qt Quick's software renderer")
    return "software"
