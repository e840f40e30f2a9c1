"""Pasted and captured images saved as PNG on a worker thread: encoding a full-screen image
takes 100 ms or more, too long for the GUI thread."""

from __future__ import annotations

import contextlib
import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from vistavox.pipelines.scheduling import SOON, lower_this_thread


class ImageWriter(QObject):
    """``write(image, name)`` returns at once; ``saved(path)`` or ``failed(message)`` follows
    in the receiver's thread. ``image`` is a QImage or a PIL image."""

    saved = Signal(str)
    failed = Signal(str)

    def write(self, image, name: str) -> None:
        if isinstance(image, QImage):
            image = image.copy()  # the worker gets its own pixels
        target = Path(tempfile.mkdtemp(prefix="vistavox-image-")) / name
        threading.Thread(
            target=self._save, args=(image, target), name="vistavox-image-writer", daemon=True
        ).start()

    def _save(self, image, target: Path) -> None:
        # The window comes first: on two busy cores a full-screen PNG's encoding at the
        # GUI's priority made it wait for a CPU (GUI blocks of 50-60 ms in the soak).
        lower_this_thread(SOON)
        partial = target.with_suffix(".part.png")
        try:
            if isinstance(image, QImage):
                if not image.save(str(partial), "PNG"):
                    raise OSError(f"the image could not be written to {target.parent}")
            else:
                image.save(partial, format="PNG")
            partial.replace(target)
        except (OSError, ValueError) as exc:
            with contextlib.suppress(RuntimeError):
                self.failed.emit(f"the image could not be saved ({exc})")
            return
        with contextlib.suppress(RuntimeError):  # the receiver was deleted meanwhile
            self.saved.emit(str(target))
