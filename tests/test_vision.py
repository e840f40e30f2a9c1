"""Vision: image ingest with clear errors for bad files, OCR on real screenshots and on text
we draw, layout text, screenshots of a real (virtual) screen, and `vistavox ocr`."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from PIL import Image, ImageDraw

from vistavox.pipelines.vision.ingest import ImageError, load_image


def _png(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _noise_jpeg() -> bytes:
    import numpy as np

    pixels = np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    return _png(Image.fromarray(pixels), "JPEG")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF"])
def test_each_format_loads_as_rgb(fmt):
    data = _png(Image.new("RGB", (32, 20), (10, 120, 200)), fmt)
    loaded = load_image(data)
    assert loaded.image.mode == "RGB" and loaded.size == (32, 20)
    assert len(loaded.sha256) == 64


def test_exif_rotation_alpha_and_huge_images():
    exif = Image.Exif()
    exif[0x0112] = 6
    assert load_image(_png(Image.new("RGB", (30, 60)), "JPEG", exif=exif)).size == (60, 30)
    clear = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    assert load_image(_png(clear)).image.getpixel((5, 5)) == (255, 255, 255)
    big = load_image(_png(Image.new("RGB", (6000, 1000), "white")))
    assert max(big.size) == 4096


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_text("hello, I am text"), "not an image"),
        (lambda p: p.write_bytes(_noise_jpeg()[:3000]), "damaged"),
        (lambda p: p.write_bytes(_png(Image.new("1", (8000, 8000)))), "too large"),
        (lambda p: None, "no such file"),
    ],
)  # fmt: skip
def test_bad_files_get_a_clear_error(tmp_path, make, message):
    path = tmp_path / "picture.png"
    make(path)
    with pytest.raises(ImageError, match=message) as caught:
        load_image(path)
    assert "picture.png" in str(caught.value)


def test_ocr_reads_text_we_draw_with_its_place():
    from vistavox.pipelines.vision.layout_text import render_layout
    from vistavox.pipelines.vision.ocr import recognise

    image = Image.new("RGB", (900, 400), "white")
    draw = ImageDraw.Draw(image)
    draw.text((30, 20), "Quarterly report", fill="black", font_size=40)
    draw.text((600, 330), "Total: 4,812.50 EUR", fill="black", font_size=28)
    boxes = recognise(image)
    assert [b.text for b in boxes] == ["Quarterly report", "Total: 4,812.50 EUR"]
    assert boxes[1].box[0] > 550 and boxes[1].box[1] > 300
    text = render_layout(boxes, image.size)
    assert text.splitlines() == [
        "[top-left] Quarterly report",
        "[bottom-right] Total: 4,812.50 EUR",
    ]


def _key_fragments(entry: str) -> list[str]:
    """The words of a ground-truth line that OCR must find ('tabs: File Home' → words)."""
    value = entry.split(":", 1)[1] if entry.split(":", 1)[0] in ("tabs", "nav", "font", "styles",
        "status", "taskbar", "search", "placeholder") else entry  # fmt: skip
    return [w for w in value.replace(",", " ").split() if len(w) >= 4 and w.isalpha()]


def test_ocr_finds_the_key_text_of_real_screenshots(eval_dir):
    from vistavox.pipelines.vision.describe import describe_image

    truth = json.loads((eval_dir / "screenshots" / "ground_truth.json").read_text())
    found, total = 0, 0
    for item in truth:
        text = describe_image(eval_dir / "screenshots" / item["file"]).text_layout.lower()
        for entry in item["key_text"]:
            for word in _key_fragments(entry):
                total += 1
                found += word.lower() in text
    assert total > 50
    assert found / total >= 0.85, f"only {found}/{total} key words read"


def test_screenshot_of_a_virtual_screen(tmp_path):
    import os
    import shutil

    from vistavox.pipelines.vision.screenshot import ScreenshotError, capture_screen

    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    xvfb = subprocess.Popen(
        ["Xvfb", ":91", "-screen", "0", "800x600x24", "-nolisten", "tcp", "-noreset"]
    )
    old = os.environ.get("DISPLAY")
    try:
        import time

        time.sleep(1.0)
        os.environ["DISPLAY"] = ":91"
        calls = []
        shot = capture_screen(before_capture=lambda: calls.append("hidden"))
        assert shot.size == (800, 600) and calls == ["hidden"]
        region = capture_screen(region=(10, 20, 100, 50))
        assert region.size == (100, 50)
        os.environ.pop("DISPLAY")
        with pytest.raises(ScreenshotError, match="no screen"):
            capture_screen()
    finally:
        if old is not None:
            os.environ["DISPLAY"] = old
        xvfb.terminate()
        xvfb.wait(5)


def test_ocr_command_prints_json_and_fails_clearly(tmp_path):
    image = Image.new("RGB", (500, 120), "white")
    ImageDraw.Draw(image).text((20, 30), "Hello Vistavox", fill="black", font_size=40)
    image.save(tmp_path / "hello.png")
    vistavox = [sys.executable, "-m", "vistavox.pipelines.commands"]
    done = subprocess.run([*vistavox, "ocr", str(tmp_path / "hello.png")], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json.loads(done.stdout)["lines"]
    assert " ".join(line["text"] for line in lines) == "Hello Vistavox"
    assert all(len(line["box"]) == 4 for line in lines)
    (tmp_path / "bad.png").write_text("no")
    bad = subprocess.run([*vistavox, "ocr", str(tmp_path / "bad.png")], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "not an image" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
