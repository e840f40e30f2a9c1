"""Kind of image (sketch, screenshot, document, photo) and the answer given without a vision
model: on the real sketch photos and screenshots in ../shared/eval, and on pages and photos
made here. OCR runs once per image (module cache)."""

from __future__ import annotations

import io
import json
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from vistavox.pipelines.vision.describe import (
    SUGGESTED_VISION_MODEL,
    ImageDescription,
    describe_image,
    key_text,
)
from vistavox.pipelines.vision.ingest import load_image
from vistavox.pipelines.vision.kind import ImageKind, classify
from vistavox.pipelines.vision.ocr import TextBox, recognise

PROSE = (
    "the quarterly report shows that revenue grew in every region while costs stayed flat "
    "and the board agreed to invest in new tools for the support team next year"
)
WORDS = PROSE.split()


@dataclass(frozen=True)
class Seen:
    image: Image.Image
    boxes: list[TextBox]
    description: ImageDescription


@pytest.fixture(scope="module")
def seen():
    """path or bytes → what the pipeline made of it, computed once per image."""
    cache: dict[object, Seen] = {}

    def look(source: Path | bytes) -> Seen:
        key = source if isinstance(source, Path) else hash(source)
        if key not in cache:
            image = load_image(source).image
            boxes = recognise(image)  # describe_image below reuses this (OCR's own cache)
            cache[key] = Seen(image, boxes, describe_image(source))
        return cache[key]

    return look


def _sketch_photos(eval_dir: Path) -> list[Path]:
    """The 4 sample photos and every third annotated one (sorted: the same 15 each run; all
    43 take a minute of OCR)."""
    samples = sorted((eval_dir / "sketches" / "samples").glob("*.jpg"))
    annotated = sorted((eval_dir / "sketches" / "annotated").glob("*.jpg"))[::3]
    assert len(samples) == 4 and len(annotated) >= 15
    return samples + annotated


def _wrong(paths: list[Path], kind: ImageKind, seen) -> list[str]:
    return [
        f"{p.name}: {seen(p).description.kind}" for p in paths if seen(p).description.kind != kind
    ]


def test_photos_of_hand_drawn_sketches_are_sketches(eval_dir, seen):
    photos = _sketch_photos(eval_dir)
    wrong = _wrong(photos, ImageKind.SKETCH, seen)
    assert not wrong, f"{len(wrong)}/{len(photos)} sketches taken for something else: {wrong}"


def test_screenshots_are_screenshots(eval_dir, seen):
    shots = sorted((eval_dir / "screenshots").glob("*.png"))
    assert len(shots) == 3
    assert not _wrong(shots, ImageKind.SCREENSHOT, seen)


def test_kind_survives_jpeg_and_downscaling(eval_dir, seen):
    """The statistics are about how the picture was made, not how the file was saved: a
    screenshot shared as a JPEG is still a screenshot, a sketch photo saved small as a PNG
    still a sketch."""
    for path in sorted((eval_dir / "screenshots").glob("*.png")):
        buf = io.BytesIO()
        seen(path).image.save(buf, "JPEG", quality=75)
        assert classify(Image.open(buf).convert("RGB"), seen(path).boxes) == "screenshot"
    for path in sorted((eval_dir / "sketches" / "samples").glob("*.jpg")):
        image, boxes = seen(path).image, seen(path).boxes
        half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
        small = [TextBox(b.text, tuple(v // 2 for v in b.box), b.score) for b in boxes]
        assert classify(half, small) == "sketch", path.name


def _page(width: int = 1240, height: int = 1754, seed: int = 0) -> Image.Image:
    """A printed page: a title and many lines of body text, black on white."""
    rng = random.Random(seed)
    serif = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")

    def font(size: int):
        if serif.exists():
            return ImageFont.truetype(str(serif), size)
        return ImageFont.load_default(size=size)

    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    draw.text((120, 120), "Annual Report 2024", font=font(44), fill="black")
    body, y = font(26), 220
    while y < height - 160:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(9, 12)))
        draw.text((120, y), line.capitalize(), font=body, fill=(20, 20, 20))
        y += 44 + (30 if rng.random() < 0.12 else 0)
    return page


def _bytes(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_a_page_of_printed_text_is_a_document(seen):
    described = seen(_bytes(_page())).description
    assert described.kind == "document"
    assert described.key_text[0] == "Annual Report 2024"
    assert described.summary().startswith(
        "This looks like a document page. It begins: “Annual Report 2024”, then “"
    )


def test_a_photographed_page_is_a_document(seen):
    """The page as a phone camera sees it: at an angle on a dark desk, lit unevenly,
    slightly blurred, noisy, saved as JPEG."""
    import cv2

    rng = np.random.default_rng(1)
    page = np.asarray(_page(seed=5)).astype(np.float32)
    h, w = page.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    placed = np.float32([[0.1 * w, 0.05 * h], [0.93 * w, 0.07 * h], [0.96 * w, 0.95 * h],
                         [0.04 * w, 0.93 * h]])  # fmt: skip
    warp = cv2.getPerspectiveTransform(corners, placed)
    photo = cv2.warpPerspective(page, warp, (w, h), borderValue=(90, 80, 70))
    light = 0.75 + 0.2 * np.linspace(0, 1, w)[None, :, None]
    photo = cv2.GaussianBlur(photo * light * [1.0, 0.97, 0.9], (0, 0), 1.0)
    photo = np.clip(photo + rng.normal(0, 4, photo.shape), 0, 255).astype(np.uint8)
    described = seen(_bytes(Image.fromarray(photo), "JPEG", quality=80)).description
    assert described.kind == "document"


def test_a_web_article_rendered_by_chromium_is_a_document(seen, tmp_path):
    from vistavox.pipelines.vision.render import RenderError, render_html

    rng = random.Random(2)
    paragraphs = "".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(70)).capitalize()}.</p>" for _ in range(6)
    )
    page = tmp_path / "article.html"
    page.write_text(
        "<html><body style='font-family:serif;font-size:18px;max-width:46em;margin:3em auto'>"
        f"<h1>On Rivers</h1>{paragraphs}</body></html>"
    )
    try:
        png = render_html(page, tmp_path / "article.png", (1000, 1300))
    except RenderError as exc:
        pytest.skip(str(exc))
    assert seen(png).description.kind == "document"


def _photo(width: int = 1600, height: int = 1200, seed: int = 0) -> Image.Image:
    """A stand-in for a camera photo: smooth colourful shading, round objects, sensor noise,
    lens blur, JPEG; no text."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    a, b, c = rng.uniform(1, 4, (3, 3))
    pixels = np.stack(
        [0.5 + 0.25 * np.sin(6 * a[k] * x + k) + 0.25 * np.cos(5 * b[k] * y + 3 * c[k] * x)
         for k in range(3)], axis=-1)  # fmt: skip
    for _ in range(12):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 0.75), rng.uniform(0.03, 0.15)
        inside = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        pixels[inside] = 0.4 * pixels[inside] + 0.6 * rng.uniform(0, 1, 3)
    pixels = np.clip(pixels * 255 + rng.normal(0, 6, pixels.shape), 0, 255).astype(np.uint8)
    import cv2

    return Image.fromarray(cv2.GaussianBlur(pixels, (0, 0), 1.2))


def test_a_photo_without_text_is_a_photo_and_the_answer_says_what_is_missing(seen):
    from vistavox.models.manifest import VISION_MODELS

    described = seen(_bytes(_photo(), "JPEG", quality=88)).description
    assert described.kind == "photo" and described.key_text == ()
    summary = described.summary()
    assert summary.startswith("This looks like a photo. It has no readable text")
    assert "without a vision model" in summary
    assert f"vistavox models download {SUGGESTED_VISION_MODEL}" in summary
    assert SUGGESTED_VISION_MODEL in {spec.name for spec in VISION_MODELS}


def _label_words(eval_dir: Path, name: str) -> set[str]:
    """Words of the labels a person reads on a sample sketch (descriptions.json)."""
    entries = json.loads((eval_dir / "sketches" / "descriptions.json").read_text())
    entry = next(e for e in entries if e["file"].endswith("/" + name))
    labels = re.findall(r"'([^']+)'", " ".join(entry["elements"])) + [entry["title"]]
    return {w.casefold() for label in labels for w in re.findall(r"[A-Za-z]{3,}", label)}


@pytest.mark.parametrize("name", ["sample1.jpg", "sample2.jpg"])
def test_sketch_summary_says_sketch_and_quotes_its_words(eval_dir, seen, name):
    summary = seen(eval_dir / "sketches" / "samples" / name).description.summary()
    assert summary.startswith("This looks like a hand-drawn sketch")
    said = set(re.findall(r"[a-z]{3,}", summary.casefold()))
    found = _label_words(eval_dir, name) & said
    assert len(found) >= 2, summary
    assert "“" in summary and "”" in summary and " and “" in summary


def test_screenshot_summary_says_screenshot_and_quotes_key_text(eval_dir, seen):
    path = eval_dir / "screenshots" / "omniparser_word.png"
    described = seen(path).description
    summary = described.summary()
    assert summary.startswith("This looks like a screenshot of an app or web page.")
    truth = next(
        item
        for item in json.loads((eval_dir / "screenshots" / "ground_truth.json").read_text())
        if item["file"] == path.name
    )
    # "tabs: File Home …" → "File", "Home", …; plain entries ("Document 10.docx") whole.
    phrases = set()
    for entry in truth["key_text"]:
        label, _, value = entry.partition(": ")
        if value and label.isalpha() and label.islower():
            phrases.update(p.strip() for p in value.replace(",", " ").split())
        else:
            phrases.add(entry)
    quoted = re.findall(r"“([^”]+)”", summary)
    assert any(p in q for q in quoted for p in phrases if len(p) >= 4), summary
    assert "Document 10.docx" in summary
    assert described.as_text().startswith(
        "Kind of image (estimated): screenshot of an app or web page.\nImage omniparser_word"
    )


def _box(text: str, x: int, y: int, score: float = 0.99, h: int = 20) -> TextBox:
    return TextBox(text, (x, y, x + 12 * len(text), y + h), score)


def test_key_text_is_confident_whole_deduplicated_and_in_reading_order():
    boxes = [
        _box("Pay now", 40, 300),
        _box("Payment", 40, 10, h=40),
        _box("×", 900, 15),  # an icon read as a character
        _box("12", 700, 100),  # a fragment
        _box("Crad number", 40, 100),  # a misread: kept as read
        _box("Expiry date", 40, 200),
        _box("qzx lorem", 600, 200, score=0.6),  # unsure
        _box("PAYMENT", 40, 400),  # said before
    ]
    assert key_text(boxes) == ("Payment", "Crad number", "Expiry date", "Pay now")
    many = [_box(f"Item number {k}", 40, 40 * k) for k in range(20)]
    assert key_text(many) == tuple(f"Item number {k}" for k in range(8))


def _described(kind: ImageKind, key: tuple[str, ...]) -> ImageDescription:
    return ImageDescription("x.png", (800, 600), "0" * 64, "(layout)", len(key), kind, key)


def test_summary_wording():
    sketch = _described(ImageKind.SKETCH, ("Payment", "Card number", "Expiry date", "Pay now"))
    assert sketch.summary() == (
        "This looks like a hand-drawn sketch or wireframe on paper. Its words include "
        "“Payment”, “Card number”, “Expiry date” and “Pay now”."
    )
    shot = _described(ImageKind.SCREENSHOT, ("Document 10.docx", "AutoSave On", "Home"))
    assert shot.summary() == (
        "This looks like a screenshot of an app or web page. Its text includes "
        "“Document 10.docx”, “AutoSave On” and “Home”."
    )
    # Little text: say what cannot be seen without a vision model, and how to get one.
    little = _described(ImageKind.SCREENSHOT, ("OK",)).summary()
    assert "“OK”. Without a vision model I can't see its pictures, colours or shapes." in little
    assert "Settings → Vision model" in little
    photo = _described(ImageKind.PHOTO, ("STOP", "Main Street", "Open 24 hours")).summary()
    assert photo.startswith("This looks like a photo. Text in it includes “STOP”, ")
    assert "Without a vision model" in photo
    empty = _described(ImageKind.SKETCH, ()).summary()
    assert empty.startswith("This looks like a hand-drawn sketch or wireframe on paper. It has no")
    assert (
        _described(ImageKind.DOCUMENT, ("Title", "First line"))
        .as_text()
        .startswith("Kind of image (estimated): document page.\n")
    )


def test_classifying_is_fast():
    """Under 100 ms for a 2000-pixel image on a 2-core CPU (measured 30-60 ms); the bound
    here is loose so a busy test machine does not fail it."""
    image = _photo(2000, 1500, seed=3)
    boxes = [_box(f"label {k}", 100, 60 * k + 20) for k in range(20)]
    classify(image, boxes)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        classify(image, boxes)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.25, times
