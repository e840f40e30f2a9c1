"""Sketch → page, end to end on the sample photos: valid HTML whose rendered page has the
controls the sketch shows; and the pure layout/HTML parts."""

from __future__ import annotations

import html.parser
import shutil
import subprocess
import sys

import pytest

from vistavox.pipelines.vision.sketch.detect import Element
from vistavox.pipelines.vision.sketch.html_page import page_html


class Controls(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def _parse(page: str) -> Controls:
    parser = Controls()
    parser.feed(page)
    parser.close()
    return parser


def test_layout_becomes_labelled_accessible_controls():
    elements = [
        Element("Heading", (20, 10, 400, 60), "SIGN UP"),
        Element("Label", (20, 100, 150, 130), "Email"),
        Element("TextBox", (180, 95, 600, 135)),
        Element("CheckBox", (20, 160, 200, 190), "Send me news", parts=[(20, 160, 45, 185)]),
        Element("ComboBox", (180, 210, 600, 250)),
        Element("Button", (450, 300, 600, 340), "CREATE"),
        Element("Image", (620, 10, 900, 200)),
    ]
    parsed = _parse(page_html(elements, 1000))
    tags = parsed.tags
    inputs = [a for t, a in tags if t == "input" and a.get("type") == "text"]
    labels = [a for t, a in tags if t == "label"]
    assert ("h1", {}) in tags and "SIGN UP" in parsed.text
    assert inputs and any(label.get("for") == inputs[0]["id"] for label in labels)
    assert any(t == "select" and a.get("aria-label") for t, a in tags)
    assert any(t == "button" for t, _ in tags) and "CREATE" in parsed.text
    assert any(a.get("role") == "img" and a.get("aria-label") for _, a in tags)
    assert any(a.get("type") == "checkbox" for t, a in tags if t == "input")
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in tags)


def test_sample_sketches_become_pages_with_their_controls(eval_dir, tmp_path):
    from vistavox.pipelines.vision.sketch.pipeline import sketch_to_html

    samples = sorted((eval_dir / "sketches" / "samples").glob("*.jpg"))
    assert len(samples) >= 4
    pages = {photo.name: sketch_to_html(photo) for photo in samples}
    for name, result in pages.items():
        parsed = _parse(result.html)
        assert parsed.tags[0][0] == "html", name
        controls = [t for t, _ in parsed.tags if t in ("input", "button", "select", "h1", "p",
                                                       "label", "a") or t == "div"]  # fmt: skip
        assert len(controls) >= 5, name
    # The payment form: text fields, and the BACK / NEXT buttons with their words.
    payment = _parse(pages["sample1.jpg"].html)
    assert sum(1 for t, a in payment.tags if t == "input" and a.get("type") == "text") >= 3
    button_text = " ".join(payment.text).upper()
    assert "BACK" in button_text and "NEXT" in button_text
    assert sum(1 for t, _ in payment.tags if t == "button") >= 2
    # The product catalogue has image placeholders or buttons for each product.
    catalogue = _parse(pages["sample2.jpg"].html)
    assert sum(1 for t, _ in catalogue.tags if t == "button") >= 1


def test_sketch_command_renders_a_preview(eval_dir, tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (packaging/setup.sh installs it)")
    photo = eval_dir / "sketches" / "samples" / "sample1.jpg"
    done = subprocess.run(
        [sys.executable, "-m", "vistavox.pipelines.cli", "sketch", str(photo),
         "-o", str(tmp_path / "page.html"), "--png", str(tmp_path / "page.png"),
         "--boxes", str(tmp_path / "boxes.json")],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    from PIL import Image

    from vistavox.pipelines.vision.render import rendered_dom

    shot = Image.open(tmp_path / "page.png").convert("L")
    assert shot.getextrema()[0] < 100, "the rendered page is blank"
    dom = rendered_dom(tmp_path / "page.html")
    assert "<button" in dom and "NEXT" in dom.upper()
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    bad = subprocess.run(
        [sys.executable, "-m", "vistavox.pipelines.cli", "sketch", str(tmp_path / "broken.jpg"),
         "-o", str(tmp_path / "x.html")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and "broken.jpg" in bad.stderr
