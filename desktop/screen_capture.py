"""Screenshots that never freeze the window: the window hides (if the user wants it out of
the picture), the screen gets a moment to repaint on a timer rather than a sleep, and the
pixels are grabbed on a worker thread; then the window comes back. Saving the picture is
the receiver's business (``ImageWriter``), and only for what it keeps."""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from vistavox.pipelines.scheduling import SOON, lower_this_thread
from vistavox.pipelines.vision.screenshot import ScreenshotError, capture_screen

# Time for the compositor to take the hidden window off the screen before the grab.
SETTLE_MS = 250

Region = tuple[int, int, int, int]  # x, y, width, height in screen pixels


def screen_region(widget: QWidget) -> Region | None:
    """The screen ``widget`` is on, in device pixels, or None when it is the only one."""
    screen = widget.screen()
    if screen is None or len(screen.virtualSiblings()) < 2:
        return None
    g, ratio = screen.geometry(), screen.devicePixelRatio()
    return (round(g.x() * ratio), round(g.y() * ratio), round(g.width() * ratio),
            round(g.height() * ratio))  # fmt: skip


class ScreenCapture(QObject):
    """``take()`` returns at once; ``captured(image)`` (a PIL image) or ``failed(message)``
    follows in the GUI thread, after the window is back."""

    captured = Signal(object)
    failed = Signal(str)
    _grabbed = Signal(object, str)  # worker → GUI thread: image, error

    def __init__(self, window: QWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.busy = False
        self._hid = False
        self._grabbed.connect(self._finish)

    def take(self, *, hide_window: bool = True, region: Region | None = None) -> bool:
        """Start a capture of all screens (or ``region``); False if one is under way."""
        if self.busy:
            return False
        self.busy = True
        self._hid = hide_window and self.window.isVisible()
        if self._hid:
            self.window.hide()
        QTimer.singleShot(SETTLE_MS if self._hid else 0, lambda: self._start(region))
        return True

    def _start(self, region: Region | None) -> None:
        threading.Thread(
            target=self._grab, args=(region,), name="vistavox-screenshot", daemon=True
        ).start()

    def _grab(self, region: Region | None) -> None:
        lower_this_thread(SOON)  # (the window comes first, as for ImageWriter)
        image, error = None, ""
        try:
            image = capture_screen(region=region, settle_s=0)
        except ScreenshotError as exc:
            error = f"The screenshot failed: {exc}"
        except Exception as exc:  # noqa: BLE001 - a capture must never leave the window hidden
            error = f"The screenshot failed unexpectedly: {exc}"
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._grabbed.emit(image, error)

    @Slot(object, str)
    def _finish(self, image, error: str) -> None:
        if self._hid:
            self.window.show()
            self.window.raise_()
            self.window.activateWindow()
        self.busy = False
        if error:
            self.failed.emit(error)
        else:
            self.captured.emit(image)
