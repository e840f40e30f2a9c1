"""Images as they are dropped, pasted, attached or screenshotted: every format and pixel mode
Pillow writes (1-bit, palette, alpha, 16- and 32-bit, float, CMYK, YCbCr, LAB), EXIF
rotations, animations, 1×1 images and 20000×10 strips, then truncated, bit-flipped, emptied or
given a header claiming billions of pixels. The ingest (``load_image``), what the kernel
sends a vision model (``prepare_image``), the kind of picture (``classify``), the window's
thumbnails (``make_thumbnail``), OCR (``describe_image``) and the sketch reader
(``sketch_to_html``, also on sheets photographed dark and tilted) must each give a correct
result or their documented error."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageOps

from tests.fuzz import Blob, check_clear, counted, expect_clear, fuzz
from vistavox.pipelines.kernel.vision import prepare_image
from vistavox.pipelines.vision.ingest import MAX_PIXELS, MAX_SIDE, ImageError, load_image
from vistavox.pipelines.vision.kind import ImageKind, classify

# Pixel modes each format's writer takes (others raise on save).
MODES = {
    "PNG": ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"],
    "JPEG": ["1", "L", "RGB", "CMYK", "YCbCr"],
    "WEBP": ["L", "LA", "P", "RGB", "RGBA", "I;16", "F", "CMYK"],
    "BMP": ["1", "L", "P", "RGB", "RGBA"],
    "GIF": ["1", "L", "P", "RGB", "RGBA", "F"],
    "TIFF": ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "I;16", "I", "F", "CMYK", "YCbCr", "LAB"],
}
ANIMATED = {"PNG", "GIF", "WEBP", "TIFF"}
SIZES = st.one_of(
    st.tuples(st.integers(1, 48), st.integers(1, 48)),
    st.sampled_from([(1, 1), (20000, 10), (10, 20000), (4097, 3), (1, 5000), (640, 1)]),
)


def _pixels(mode: str, size: tuple[int, int], seed: int, pattern: str) -> Image.Image:
    """An image of ``mode``: noise (raw random bytes, so NaN floats too), flat or stripes."""
    length = len(Image.new(mode, size).tobytes())
    rng = np.random.default_rng(seed)
    if pattern == "noise":
        raw = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    elif pattern == "flat":
        raw = bytes([seed % 256]) * length
    else:
        raw = (bytes(range(0, 256, 7)) * (length // 37 + 1))[:length]
    image = Image.frombytes(mode, size, raw)
    if mode == "P":
        image.putpalette(rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
    return image


@st.composite
def image_files(draw) -> tuple[bytes, dict]:
    """A file Pillow wrote, and what went into it."""
    fmt = draw(st.sampled_from(sorted(MODES)))
    mode = draw(st.sampled_from(MODES[fmt]))
    size = draw(SIZES)
    seed = draw(st.integers(0, 2**16))
    pattern = draw(st.sampled_from(["noise", "flat", "stripes"]))
    frames = draw(st.integers(1, 3)) if fmt in ANIMATED else 1
    orientation = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
    image = _pixels(mode, size, seed, pattern)
    options: dict = {}
    if orientation and fmt == "TIFF":
        options["tiffinfo"] = {274: orientation}
    elif orientation and fmt in ("PNG", "JPEG", "WEBP"):
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    if mode in ("P", "L") and fmt in ("PNG", "GIF") and draw(st.booleans()):
        options["transparency"] = seed % 2
    if frames > 1:
        options.update(
            save_all=True,
            append_images=[_pixels(mode, size, seed + i, pattern) for i in range(1, frames)],
        )
    out = io.BytesIO()
    try:
        image.save(out, fmt, **options)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError):
        assume(False)  # a combination Pillow does not write
    meta = {"format": fmt, "mode": mode, "size": size, "frames": frames}
    return Blob(out.getvalue()), meta


@st.composite
def damaged(draw) -> tuple[bytes, bool]:
    """A file from ``files``, and whether it was damaged (truncated, bytes flipped, emptied,
    garbage before it or instead of it)."""
    data, _ = draw(image_files())
    how = draw(st.sampled_from(["none", "truncate", "flip", "prefix", "zero", "garbage"]))
    if how == "none":
        return data, False
    if how == "truncate":
        return Blob(data[: draw(st.integers(0, max(0, len(data) - 1)))]), True
    if how == "flip":
        buffer = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(buffer) - 1))
            buffer[at] = draw(st.integers(0, 255))
        return Blob(buffer), True
    if how == "prefix":
        return Blob(draw(st.binary(min_size=1, max_size=64)) + data), True
    if how == "zero":
        return Blob(b""), True
    return Blob(draw(st.binary(max_size=2048))), True


def _check_ingested(result, data: bytes) -> None:
    image = result.image
    assert image.mode == "RGB"
    assert min(image.size) >= 1 and max(image.size) <= MAX_SIDE
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    width, height = result.original_size
    assert width * height <= MAX_PIXELS


@fuzz(60)
@given(image_files())
@counted
def test_a_written_image_is_read_upright_in_rgb(case) -> None:
    data, meta = case
    result = load_image(data)  # a file Pillow wrote is always read
    _check_ingested(result, data)
    with Image.open(io.BytesIO(data)) as original:
        orientation = original.getexif().get(0x0112)
    width, height = meta["size"]  # as written (Pillow's TIFF reader reports it turned)
    expected = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    if max(expected) <= MAX_SIDE:
        assert result.size == expected, (meta, orientation)
    else:  # scaled down to MAX_SIDE, keeping the upright aspect
        assert (result.size[0] >= result.size[1]) == (expected[0] >= expected[1])
    assert classify(result.image, []) in set(ImageKind)
    side = 336
    png = prepare_image(data, side)
    with Image.open(io.BytesIO(png)) as sent:
        assert sent.format == "PNG" and sent.size == (side, side)


@fuzz(150)
@given(damaged())
@example((b"", True))
@example((b"\x89PNG\r\n\x1a\n", True))
@example((b"GIF89a", True))
@example((b"II*\x00", True))
@counted
def test_a_damaged_image_is_refused_clearly(case) -> None:
    data, _ = case
    result = expect_clear(lambda: load_image(data), ImageError)
    if result is not None:
        _check_ingested(result, data)
        assert classify(result.image, []) in set(ImageKind)


def _png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims ``width``×``height`` (a decompression bomb's header,
    with a valid checksum, so only the size gives it away)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def _gif_claiming(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("P", (1, 1)).save(out, "GIF")
    data = bytearray(out.getvalue())
    data[6:10] = struct.pack("<HH", width, height)  # the logical screen
    return bytes(data)


@fuzz(40)
@given(
    st.sampled_from([_png_claiming, _gif_claiming]),
    st.integers(1, 2**31 - 1),
    st.integers(1, 2**31 - 1),
)
@example(_png_claiming, 100_000, 100_000)
@example(_png_claiming, 2**31 - 1, 2**31 - 1)
@example(_gif_claiming, 65535, 65535)
@example(_png_claiming, 6000, 6000)
@counted
def test_a_header_claiming_huge_dimensions_is_refused(build, width, height) -> None:
    if build is _gif_claiming:
        width, height = min(width, 65535), min(height, 65535)
    data = build(width, height)
    if width * height > MAX_PIXELS:  # a bomb is refused by its header, before decoding
        with pytest.raises(ImageError, match="too large") as caught:
            load_image(data)
        check_clear(caught.value)
        return
    # A 1×1 body under a bigger header is truncated (Pillow fills a missing last row or two)
    result = expect_clear(lambda: load_image(data), ImageError)
    assert result is None or result.original_size == (width, height)


def test_a_real_decompression_bomb_under_the_limit_is_scaled_down() -> None:
    """6000×6000 of one colour: 100 kB as PNG, 108 MB decoded; under the pixel limit, so it
    is read, and scaled to the longest side allowed."""
    out = io.BytesIO()
    Image.new("L", (6000, 6000), 255).save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 200_000
    result = load_image(out.getvalue())
    assert result.size == (MAX_SIDE, MAX_SIDE) and result.original_size == (6000, 6000)


@fuzz(40)
@given(damaged(), st.sampled_from([".png", ".jpg", ".gif", ".txt", ""]))
@counted
def test_a_thumbnail_is_made_or_the_original_is_shown(tmp_path, case, suffix) -> None:
    """The window's thumbnail worker: a small PNG, or one of the errors it catches (then
    the chip shows the file itself)."""
    from desktop.thumbnails import MAX_SIZE, make_thumbnail

    data, _ = case
    source = tmp_path / f"dropped-{hashlib.sha1(data).hexdigest()[:12]}{suffix}"
    source.write_bytes(data)
    try:
        thumbnail = make_thumbnail(source, tmp_path)
    except (OSError, ValueError, Image.DecompressionBombError):
        return
    with Image.open(thumbnail) as made:
        assert made.format == "PNG"
        assert made.width <= MAX_SIZE[0] and made.height <= MAX_SIZE[1]


# --- OCR and sketches: seconds per case, so fewer cases -------------------------------------
@fuzz(4)
@given(image_files())
@counted
def test_ocr_describes_any_readable_image(case) -> None:
    from vistavox.pipelines.vision.describe import describe_image

    data, _ = case
    described = describe_image(data)
    assert described.kind in set(ImageKind)
    assert described.summary() and described.as_text()


def _sheet(seed: int) -> Image.Image:
    """A hand-drawn-looking wireframe: boxes, a few words and lines on white paper."""
    rng = np.random.default_rng(seed)
    sheet = Image.new("RGB", (480, 640), (245, 244, 238))
    draw = ImageDraw.Draw(sheet)
    for _ in range(int(rng.integers(0, 6))):
        x0, y0 = int(rng.integers(10, 380)), int(rng.integers(10, 560))
        x1, y1 = x0 + int(rng.integers(20, 100)), y0 + int(rng.integers(15, 70))
        draw.rectangle((x0, y0, x1, y1), outline=(30, 30, 40), width=3)
        if rng.random() < 0.6:
            draw.text((x0 + 6, y0 + 4), str(rng.choice(["Login", "Name", "OK", "Menu"])),
                      fill=(20, 20, 30), font_size=18)  # fmt: skip
    return sheet


@fuzz(3)
@given(
    st.integers(0, 2**16),
    st.floats(0.0, 45.0),
    st.floats(0.15, 1.0),
    st.sampled_from(["PNG", "JPEG"]),
)
@example(0, 0.0, 1.0, "PNG")
@counted
def test_a_sketch_photographed_dark_or_tilted_becomes_a_page(seed, tilt, light, fmt) -> None:
    from tests.sketch_photos import on_table
    from vistavox.pipelines.vision.sketch.pipeline import sketch_to_html

    sheet = np.asarray(_sheet(seed))
    photo = on_table(sheet, tilt_deg=tilt)[0] if tilt else sheet
    dark = Image.fromarray((photo * light).astype(np.uint8))
    out = io.BytesIO()
    dark.save(out, fmt)
    result = sketch_to_html(out.getvalue())
    assert "<html" in result.html.lower()
    width, height = dark.size
    for element in result.elements:
        x0, y0, x1, y1 = element.box
        assert -1 <= x0 <= x1 <= width + 1 and -1 <= y0 <= y1 <= height + 1


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (30, 30), (20000, 10), (10, 20000), (4096, 3)])
def test_blank_images_and_strips_are_read_without_error(size) -> None:
    """Found by the fuzzers: a blank sheet (no candidate elements) broke the sketch reader's
    feature matrix, and OCR failed on strips longer than 125:1 (RapidOCR scaled their short
    side to 0 pixels)."""
    from vistavox.pipelines.vision.describe import describe_image
    from vistavox.pipelines.vision.sketch.pipeline import sketch_to_html

    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG")
    assert sketch_to_html(out.getvalue()).elements == []
    assert describe_image(out.getvalue()).key_text == ()


def test_exif_rotation_is_applied() -> None:
    """A portrait photo stored landscape with orientation 6 comes out portrait."""
    image = Image.new("RGB", (40, 20), "red")
    ImageDraw.Draw(image).rectangle((0, 0, 9, 19), fill="blue")  # blue on the left
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    result = load_image(out.getvalue())
    assert result.size == (20, 40)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue())))
    assert result.image.getpixel((10, 5)) == upright.convert("RGB").getpixel((10, 5))
