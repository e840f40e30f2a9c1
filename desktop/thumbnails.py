"""Small copies of images for the conversation view and the attachment chips, made on a
worker thread: decoding a 12-megapixel photo takes 100 ms or more, too long for the GUI
thread. Pillow releases the GIL while it decodes, scales and encodes."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps
from PySide6.QtCore import QObject, QUrl, Signal

from vistavox.pipelines.errors import VistavoxError
from vistavox.pipelines.files import write_atomic
from vistavox.pipelines.scheduling import SOON, lower_this_thread

MAX_SIZE = (512, 192)


def make_thumbnail(source: Path, folder: Path, size: tuple[int, int] = MAX_SIZE) -> Path:
    """Write a PNG no larger than ``size`` (upright, per the photo's EXIF) into ``folder``;
    returns its path. Raises OSError for a file that is not an image."""
    stat = source.stat()
    key = hashlib.sha1(f"{source.resolve()}|{stat.st_mtime_ns}|{size}".encode()).hexdigest()
    target = folder / f"thumb-{key[:20]}.png"
    if target.exists():
        return target
    with Image.open(source) as image:
        image.draft("RGB", (size[0] * 2, size[1] * 2))  # JPEG: decode at a fraction of the size
        image = ImageOps.exif_transpose(image)
        image.thumbnail(size)
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        partial = target.with_suffix(".part.png")
        image.save(partial, "PNG")
    partial.replace(target)
    return target


class Thumbnailer(QObject):
    """``request(path)`` returns at once; ``ready(source, url)`` follows in the receiver's
    thread (``url`` is the original's URL when the file could not be read as an image)."""

    ready = Signal(str, str)

    def __init__(self, folder: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.folder = folder
        self._running: set[str] = set()  # one worker per image, however many ask for it
        self._lock = threading.Lock()

    def request(self, source: Path, fetch: Callable[[], bytes | None] | None = None) -> None:
        """Make a thumbnail of ``source``; ``fetch``: where its bytes come from when the file
        is not there yet (a saved conversation's image, read from the database on the worker
        too)."""
        with self._lock:
            if str(source) in self._running:
                return
            self._running.add(str(source))
        threading.Thread(target=self._make, args=(Path(source), fetch), daemon=True).start()

    def _make(self, source: Path, fetch: Callable[[], bytes | None] | None) -> None:
        lower_this_thread(SOON)  # (the window comes first, as for ImageWriter)
        try:
            if fetch is not None and not source.exists():
                data = fetch()
                if not data:
                    raise OSError(f"no image stored for {source.name}")
                write_atomic(source, data)
            url = QUrl.fromLocalFile(str(make_thumbnail(source, self.folder))).toString()
        # (VistavoxError: the database could not be read, or the copy not written)
        except (OSError, ValueError, Image.DecompressionBombError, VistavoxError):
            url = QUrl.fromLocalFile(str(source)).toString()
        with self._lock:
            self._running.discard(str(source))
        with contextlib.suppress(RuntimeError):  # the receiver was deleted meanwhile
            self.ready.emit(str(source), url)
