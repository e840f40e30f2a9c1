"""Image ingest: any common format in, an upright RGB image out, or a clear error.

PNG, JPEG, WebP, BMP, GIF (first frame) and TIFF; EXIF orientation applied; transparency
flattened on white; very large images downscaled; decompression bombs refused before they
are decoded. The content hash (SHA-256 of the file's bytes) identifies the image everywhere
(database, caches).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from ..errors import VistavoxError

MAX_PIXELS = 40_000_000  # more is a decompression bomb, not a photo
MAX_SIDE = 4096  # larger images are scaled down to this longest side
FORMATS = {"PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF", "MPO"}


class ImageError(VistavoxError):
    """An image cannot be used (missing, empty, not an image, truncated, too large)."""


@dataclass(frozen=True)
class IngestedImage:
    image: Image.Image  # RGB, upright
    sha256: str
    format: str
    original_size: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def _read(source: Path | bytes) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, "the image"
    path = Path(source)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if not path.is_file():
        raise ImageError(f"{path}: not a file")
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror})") from exc


def load_image(source: Path | bytes, *, max_side: int = MAX_SIDE) -> IngestedImage:
    """Decode ``source`` (a path or the file's bytes) into an upright RGB image."""
    data, name = _read(source)
    if not data:
        raise ImageError(f"{name}: the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or "?"
            width, height = probe.size
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: the image is too large to open safely") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: not an image that can be read") from exc
    if kind not in FORMATS:
        raise ImageError(
            f"{name}: {kind} images are not supported (PNG, JPEG, WebP, BMP, GIF, TIFF)"
        )
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: the image is too large ({width}×{height} pixels)")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.seek(0)  # first frame of animations
            im.load()
            upright = ImageOps.exif_transpose(im)
            if upright.mode in ("RGBA", "LA", "P", "PA"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            rgb = upright.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{name}: the image is damaged or truncated ({exc})") from exc
    if max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return IngestedImage(rgb, hashlib.sha256(data).hexdigest(), kind, (width, height))


def upscale_for_ocr(image: Image.Image, min_side: int = 640) -> tuple[Image.Image, float]:
    """Small images read better bigger: returns the image scaled so its shorter side is at
    least ``min_side`` (at most 4×), and the factor used."""
    short = min(image.size)
    if short >= min_side:
        return image, 1.0
    factor = min(4.0, min_side / max(1, short))
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.BICUBIC), factor
