"""Sketch → web page. The pure parts (geometry, layout tree, label pairing, HTML, text
clean-up, the portable forest, ink mask, rules) on made-up input; then the whole pipeline on
the four sample sketch photos: valid HTML whose page (as Chromium builds it) has the controls
and words the sketch shows; the `vistavox sketch` command with its preview and errors."""

from __future__ import annotations

import difflib
import html.parser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from vistavox.pipelines.vision.layout_text import line_rows
from vistavox.pipelines.vision.sketch.elements import Element
from vistavox.pipelines.vision.sketch.geometry import iou, union
from vistavox.pipelines.vision.sketch.html_page import page_html
from vistavox.pipelines.vision.sketch.layout import build_tree, label_pairs
from vistavox.pipelines.vision.sketch.text import assign_text, clean

VOID = {"meta", "input", "img", "br", "hr", "link", "source", "area", "col", "wbr"}


class Page(html.parser.HTMLParser):
    """Tags with attributes, visible text, and a check that every tag is closed in order."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.words: list[str] = []
        self.open: list[str] = []
        self._open_ids: list[int] = []
        self.errors: list[str] = []
        self._text_of: dict[int, list[str]] = {}
        self._skip = 0
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "script", "title"):
            self._skip += 1
        if tag not in VOID:
            self.open.append(tag)
            self._open_ids.append(len(self.tags) - 1)
            self._text_of[len(self.tags) - 1] = []

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title"):
            self._skip -= 1
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()
            self._open_ids.pop()

    def handle_data(self, data):
        if self._skip or not data.strip():
            return
        self.words.extend(data.split())
        for index in self._open_ids:
            self._text_of[index].append(data.strip())

    def text_of(self, tag: str) -> list[str]:
        return [
            " ".join(self._text_of.get(i, [])) for i, (t, _) in enumerate(self.tags) if t == tag
        ]

    def all(self, tag: str, **attrs) -> list[dict]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def similar(expected: str, words: list[str], least: float = 0.7) -> bool:
    """``expected`` (case-insensitive, loosely: handwriting OCR) appears among ``words``."""
    want = re.sub(r"[^a-z0-9$. ]", "", expected.lower()).split()
    have = [re.sub(r"[^a-z0-9$.]", "", w.lower()) for w in words]
    target = " ".join(want)
    for n in {len(want) - 1, len(want), len(want) + 1} - {0}:
        for i in range(max(1, len(have) - n + 1)):
            window = " ".join(have[i : i + n])
            if difflib.SequenceMatcher(None, target, window).ratio() >= least:
                return True
    return False


def form() -> list[Element]:
    """A two-column sign-up form, as the detector would report it (photo pixels)."""
    return [
        Element("Heading", (40, 20, 500, 90), "Create account"),
        Element("Label", (40, 130, 200, 170), "First name"),
        Element("Label", (620, 130, 800, 170), "Last name"),
        Element("TextBox", (40, 180, 560, 230)),
        Element("TextBox", (620, 180, 1140, 230)),
        Element("Label", (40, 270, 160, 310), "Country"),
        Element("ComboBox", (180, 265, 560, 315), "Choose"),
        Element("CheckBox", (40, 350, 400, 390), "I agree", parts=[(40, 352, 75, 388)]),
        Element("RadioButton", (40, 400, 300, 440), "Card", parts=[(40, 402, 75, 438)]),
        Element("RadioButton", (40, 450, 300, 490), "Cash", parts=[(40, 452, 75, 488)]),
        Element("Image", (620, 270, 1140, 490)),
        Element("Label", (700, 500, 1000, 540), "Our shop"),
        Element("Link", (40, 520, 300, 560), "Terms"),
        Element("Paragraph", (40, 580, 1140, 700)),
        Element("Button", (40, 740, 400, 800), "BACK"),
        Element("Button", (700, 740, 1140, 800), "SIGN UP"),
    ]


# --- pure parts -----------------------------------------------------------------------------


def test_boxes_overlap_measures():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert union((0, 5, 10, 10), (5, 0, 15, 8)) == (0, 0, 15, 10)


def test_layout_tree_finds_rows_and_columns():
    elements = form()
    tree = build_tree(elements)
    assert tree.kind == "column"
    assert sorted(tree.leaves()) == list(range(len(elements)))
    # The first and last names sit side by side: a row whose two halves are stacks.
    rows = [c for c in tree.children if c.kind == "row"]
    names = next(r for r in rows if 1 in r.leaves())
    halves = [set(child.leaves()) for child in names.children]
    assert {1, 3} in halves and {2, 4} in halves
    # The two buttons share the last row, BACK first.
    last = tree.children[-1]
    assert last.kind == "row" and last.leaves() == [14, 15]
    json.dumps(tree.to_json())  # serialisable for --boxes


def test_a_label_written_above_a_long_field_stays_above_it():
    # A short label over a much wider box: trimmed hard enough, their horizontal extents
    # part, but the empty band between them makes them a stack, as drawn.
    elements = [
        Element("Label", (46, 210, 480, 289), "Cardholder Name"),
        Element("TextBox", (47, 315, 1083, 424)),
        Element("Label", (58, 470, 370, 549), "Card Number"),
        Element("TextBox", (59, 550, 733, 661)),
    ]
    tree = build_tree(elements)
    assert tree.kind == "column" and [c.kind for c in tree.children] == ["leaf"] * 4
    assert tree.leaves() == [0, 1, 2, 3]


def test_a_label_over_two_fields_leaves_them_side_by_side():
    # "Expiry Date" over a text box and a dropdown drawn touching it, "Cvv" over its box
    # (payment sample): the label names the text box, but the two fields stay one row.
    elements = [
        Element("Label", (66, 694, 421, 799), "Expiry Date"),
        Element("Label", (529, 688, 660, 766), "Cvv"),
        Element("TextBox", (73, 810, 309, 924)),
        Element("ComboBox", (265, 804, 510, 914)),
        Element("TextBox", (538, 795, 712, 900)),
    ]
    tree = build_tree(elements)
    rows = []
    stack = [tree]
    while stack:
        node = stack.pop()
        rows += [node.leaves()] if node.kind == "row" else []
        stack += node.children
    assert [2, 3] in rows  # text box then dropdown, left to right
    assert label_pairs(elements)[2] == 0 and label_pairs(elements)[4] == 1


def test_tangled_boxes_are_read_line_by_line():
    # Boxes overlapping both ways cannot be cut: they are read as lines, left to right.
    boxes = [(300, 0, 500, 60), (0, 10, 320, 70), (100, 50, 400, 120), (0, 100, 150, 160)]
    assert line_rows(boxes) == [[1, 0], [2], [3]]


def test_labels_name_the_field_beside_or_below_them():
    elements = form()
    pairs = label_pairs(elements)
    assert pairs[3] == 1 and pairs[4] == 2  # labels above their text boxes
    assert pairs[6] == 5  # label left of its dropdown
    assert 11 not in pairs.values()  # "Our shop" names no field


def test_page_is_valid_accessible_and_responsive():
    elements = form()
    markup = page_html(elements, build_tree(elements))
    page = Page(markup)
    assert not page.errors and not page.open, page.errors
    assert page.tags[0][0] == "html" and page.all("html")[0]["lang"] == "en"
    assert page.all("meta", name="viewport")
    assert "@media (max-width: 640px)" in markup  # rows stack on narrow screens
    assert page.text_of("h1") == ["Create account"]
    assert page.text_of("title") == [] or "Create account" in markup.split("</title>")[0]
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids)), "ids must be unique"
    # Every form control has an accessible name: a <label for> or aria-label.
    label_for = {a["for"] for a in page.all("label") if "for" in a}
    for tag in ("input", "select", "textarea"):
        for attrs in page.all(tag):
            assert attrs["id"] in label_for or attrs.get("aria-label"), attrs
    texts = page.all("input", type="text")
    assert len(texts) == 2 and all(t["id"] in label_for for t in texts)
    assert len(page.all("select")) == 1 and page.all("select")[0]["id"] in label_for
    assert len(page.all("input", type="checkbox")) == 1
    radios = page.all("input", type="radio")
    assert len(radios) == 2 and radios[0]["name"] == radios[1]["name"]
    assert page.text_of("button") == ["BACK", "SIGN UP"]
    assert all(b.get("type") == "button" for b in page.all("button"))
    images = page.all("img")
    assert len(images) == 1 and images[0]["alt"] == "Image: Our shop"
    assert page.text_of("a") == ["Terms"] and page.text_of("p")
    marked = sorted(int(a["data-sketch"]) for _, a in page.tags if "data-sketch" in a)
    assert marked == list(range(len(elements)))


def test_page_escapes_what_ocr_read():
    elements = [Element("Button", (0, 0, 100, 40), '<script>alert("x")</script>')]
    markup = page_html(elements, build_tree(elements))
    assert "<script>alert" not in markup and "&lt;script&gt;" in markup
    assert "No elements" in page_html([], build_tree([]))


class Line:
    def __init__(self, box, text, score=0.9):
        self.box, self.text, self.score = box, text, score


def test_words_are_read_into_their_elements():
    elements = [
        Element("Label", (0, 0, 200, 40)),
        Element("CheckBox", (0, 60, 300, 100), parts=[(0, 62, 36, 98)]),
        Element("Button", (400, 0, 600, 60)),
        Element("Paragraph", (0, 120, 600, 200)),
    ]
    lines = [
        Line((5, 5, 190, 35), "Your name"),
        Line((2, 62, 290, 98), "□ Remember me"),
        Line((380, 10, 900, 50), "NEXT and more words", 0.9),  # spans beyond the button
    ]
    asked = []

    def read(box):
        asked.append(box)
        return ("NEXT", 0.95)

    assign_text(elements, lines, read)
    assert elements[0].text == "Your name"
    assert elements[1].text == "Remember me"
    assert elements[2].text == "NEXT" and asked == [(400, 0, 600, 60)]
    assert elements[3].text == ""  # paragraphs are placeholders, not read
    assert clean("0 Paypal", "RadioButton") == "Paypal"
    assert clean("United States V", "ComboBox") == "United States"
    assert clean("口", "TextBox") == ""  # a drawn box read as a character is no placeholder
    assert clean("三", "Label") == ""  # three scribbled lines read as a character
    assert clean("東京", "Label") == "東京" and clean("A", "Label") == "A"


def test_handwriting_misread_by_one_letter_is_put_right():
    from vistavox.pipelines.vision.sketch.spelling import correct_text

    assert correct_text("Contirmation") == "Confirmation"
    assert correct_text("PRODNCT ONE") == "PRODUCT ONE"  # the writer's capitals kept
    assert correct_text("Gxpress delivory") == "Express delivery"
    # Left as written: real words, short words, names, numbers, anything two letters off.
    for text in ("Cardholder Name", "Cvv", "Edt", "Paypal", "$10.00", "USER1", "Zyxwvut"):
        assert correct_text(text) == text


def test_portable_forest_predicts_like_scikit_learn(tmp_path):
    ensemble = pytest.importorskip("sklearn.ensemble")
    from vistavox.pipelines.vision.sketch.forest import Forest

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    y = np.where(x[:, 0] + x[:, 1] > 0.5, "a", np.where(x[:, 2] > 0, "b", "c"))
    model = ensemble.RandomForestClassifier(n_estimators=15, random_state=0).fit(x, y)
    forest = Forest.from_sklearn(model)
    forest.save(tmp_path / "forest.npz")
    with np.load(tmp_path / "forest.npz", allow_pickle=False) as data:
        loaded = Forest.from_arrays(data)
    probe = rng.normal(size=(200, 6)).astype(np.float32)
    expected = model.predict_proba(probe)
    assert loaded.classes == tuple(model.classes_)
    np.testing.assert_allclose(loaded.predict_proba(probe), expected, atol=2e-3)

    shifts = np.stack([x[:, 0] * 2, np.abs(x[:, 1]), x[:, 2] - x[:, 3], -x[:, 4]], axis=1)
    regressor = ensemble.RandomForestRegressor(n_estimators=15, random_state=0).fit(x, shifts)
    arrays = Forest.from_sklearn(regressor).arrays("box_")
    boxes = Forest.from_arrays(arrays, "box_")
    assert boxes.classes == ()
    np.testing.assert_allclose(boxes.predict(probe), regressor.predict(probe), atol=1e-4)


def drawn_sketch() -> np.ndarray:
    """A synthetic photo: uneven lighting, a text box, an image placeholder, a button."""
    h, w = 700, 1000
    light = np.linspace(150, 235, w)[None, :] * np.linspace(0.85, 1.0, h)[:, None]
    page = np.dstack([light] * 3).astype(np.uint8)
    ink = (60, 60, 120)
    cv2.putText(page, "Name", (60, 120), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.6, ink, 3)
    cv2.rectangle(page, (260, 80), (800, 140), ink, 3)  # text box
    cv2.rectangle(page, (60, 220), (420, 520), ink, 3)  # image placeholder…
    cv2.line(page, (60, 220), (420, 520), ink, 3)  # …with its X
    cv2.line(page, (420, 220), (60, 520), ink, 3)
    cv2.rectangle(page, (560, 400), (900, 500), ink, 3)  # button…
    cv2.putText(page, "SEND", (640, 470), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.6, ink, 3)
    return page


def test_ink_mask_flattens_lighting():
    from vistavox.pipelines.vision.sketch.normalise import ink_mask, working_image

    work, factor = working_image(drawn_sketch())
    assert max(work.shape[:2]) == 1200 and factor == pytest.approx(1.2)
    mask = ink_mask(work)
    assert mask[:40, :].mean() < 1 and mask[-60:, :].mean() < 1  # paper stays clean
    assert mask[96:100, 400:900].mean() > 100  # the text box's top edge is ink


def test_rules_find_drawn_controls():
    from vistavox.pipelines.vision.sketch.normalise import ink_mask, working_image
    from vistavox.pipelines.vision.sketch.primitives import components, find_primitives
    from vistavox.pipelines.vision.sketch.rules import detect_by_rules

    work, factor = working_image(drawn_sketch())
    mask = ink_mask(work)
    comps = components(mask)
    found = detect_by_rules(mask, find_primitives(mask, comps), comps).elements
    expect = {
        "TextBox": (260, 80, 800, 140),
        "Image": (60, 220, 420, 520),
        "Button": (560, 400, 900, 500),
    }
    for tag, box in expect.items():
        work_box = tuple(v * factor for v in box)
        assert any(e.tag == tag and iou(e.box, work_box) > 0.8 for e in found), (tag, found)


def test_saved_model_detects_the_same_and_older_files_still_load(tmp_path):
    from vistavox.pipelines.vision.sketch.detector import SketchModel, detect

    model = SketchModel.load()
    assert model.box_forest is not None  # element boxes are fitted per candidate
    model.save(tmp_path / "model.npz")
    again = SketchModel.load(tmp_path / "model.npz")
    photo = drawn_sketch()
    first = [(e.tag, e.box) for e in detect(photo, model=model)]
    assert first and first == [(e.tag, e.box) for e in detect(photo, model=again)]
    # A model saved before the box regressor existed falls back to per-tag box margins.
    model.box_forest = None
    model.save(tmp_path / "old.npz")
    old = SketchModel.load(tmp_path / "old.npz")
    assert old.box_forest is None
    # Same elements, boxes within a few pixels of the regressed ones.
    older = detect(photo, model=old)
    assert sorted(e.tag for e in older) == sorted(tag for tag, _ in first)
    assert all(max(iou(e.box, box) for _, box in first) > 0.85 for e in older)


def test_missing_model_is_a_clear_error(tmp_path):
    from vistavox.pipelines.errors import VistavoxError
    from vistavox.pipelines.vision.sketch.detector import SketchModel

    with pytest.raises(VistavoxError, match="sketch detector"):
        SketchModel.load(tmp_path / "nothing.npz")


# --- the whole pipeline on the sample photos ------------------------------------------------

WANTS = {
    "text field": ("input", "textarea"),
    "text box": ("input", "textarea"),
    "dropdown": ("select",),
    "image placeholder": ("img",),
    "text lines": ("p",),
    "horizontal lines": ("p",),
}


@pytest.fixture(scope="module")
def samples(eval_dir):
    folder = eval_dir / "sketches" / "samples"
    listing = json.loads((eval_dir / "sketches" / "descriptions.json").read_text())
    described = {
        Path(d["file"]).name: d for d in listing if (folder / Path(d["file"]).name).is_file()
    }
    if len(described) < 4:
        pytest.skip(f"the sample sketches are not all in {folder}")
    from vistavox.pipelines.vision.sketch.pipeline import sketch_to_html

    return {name: (d, sketch_to_html(folder / name)) for name, d in sorted(described.items())}


def test_sample_sketches_become_pages_with_their_controls(samples):
    for name, (described, result) in samples.items():
        page = Page(result.html)
        assert not page.errors and not page.open, (name, page.errors)
        lines = " ".join(described["elements"]).lower()
        for phrase, tags in WANTS.items():
            if phrase in lines:
                assert any(page.all(t) for t in tags), f"{name}: no {tags} for a {phrase}"
        buttons = re.findall(r"button '([^']+)'", " ".join(described["elements"]))
        for words in buttons:
            assert similar(words, " ".join(page.text_of("button")).split()), (name, words)
        quoted = re.findall(r"'([^']+)'", " ".join(described["elements"]))
        quoted = [q for q in quoted if not re.search(r"\$|\d$", q)]  # prices, numbered names
        seen = [q for q in quoted if similar(q, page.words)]
        assert len(seen) >= 0.6 * len(quoted), (name, sorted(set(quoted) - set(seen)))
        assert similar(described["title"], page.words), (name, described["title"])
        assert len(result.elements) >= 5 and result.layout.kind == "column"


def test_payment_form_has_its_fields_and_buttons(samples):
    _, result = samples["sample1.jpg"]
    page = Page(result.html)
    assert len(page.all("input", type="text")) >= 3
    assert page.all("select")
    words = " ".join(page.text_of("button")).upper()
    assert "BACK" in words and "NEXT" in words
    label_for = {a["for"] for a in page.all("label") if "for" in a}
    named = [a for a in page.all("input", type="text") if a["id"] in label_for]
    assert len(named) >= 2, "text fields should be named by the labels written beside them"


def test_rendered_page_shows_the_controls(samples, tmp_path):
    from vistavox.pipelines.vision.render import RenderError
    from vistavox.pipelines.vision.sketch.render import measure_boxes, render_png, rendered_dom

    if shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (packaging/setup.sh installs it)")
    _, result = samples["sample4.jpg"]
    dom = Page(rendered_dom(result.html))
    assert len(dom.all("input", type="text")) >= 3 and dom.all("select")
    assert similar("NEXT STEP", " ".join(dom.text_of("button")).split())
    boxes = measure_boxes(result.html, width=1200)
    assert set(boxes) == set(range(len(result.elements)))
    assert all(b[2] > b[0] and b[3] > b[1] for b in boxes.values())
    # BACK is left of NEXT STEP on the page, as in the sketch.
    back = next(i for i, e in enumerate(result.elements) if "BACK" in e.text.upper())
    nxt = next(i for i, e in enumerate(result.elements) if "NEXT" in e.text.upper())
    assert boxes[back][2] <= boxes[nxt][0]
    # Narrow screens stack the two columns.
    narrow = measure_boxes(result.html, width=400)
    assert narrow[back][3] <= narrow[nxt][1]
    png = render_png(result.html, tmp_path / "page.png", (1200, 800))
    from PIL import Image

    shot = np.asarray(Image.open(png).convert("L"))
    assert shot.min() < 100 and (shot < 200).mean() > 0.01, "the rendered page is blank"
    assert issubclass(RenderError, Exception)


def test_rendered_pages_put_elements_where_the_sketch_has_them(samples):
    """The page spreads out as the drawing does: with the page's extent laid over the
    sketch's, each element's centre falls inside the box found for it in the sketch."""
    from vistavox.pipelines.vision.sketch.render import measure_page
    from vistavox.pipelines.vision.sketch.scoring import centre_inside, to_sketch_frame

    if shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (packaging/setup.sh installs it)")
    inside = total = 0
    for _, result in samples.values():
        boxes, frame = measure_page(result.html, width=1200)
        placed = to_sketch_frame(boxes, result.elements, frame)
        inside += centre_inside(placed, [e.box for e in result.elements])
        total += len(result.elements)
    assert inside >= 0.85 * total, f"{inside} of {total} elements are where the sketch has them"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vistavox.pipelines.commands", "sketch", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_sketch_command_writes_page_preview_and_boxes(eval_dir, tmp_path):
    photo = eval_dir / "sketches" / "samples" / "sample1.jpg"
    if not photo.is_file():
        pytest.skip(f"{photo} not found")
    args = [str(photo), "-o", str(tmp_path / "page.html"), "--boxes", str(tmp_path / "b.json")]
    if shutil.which("chromium"):
        args += ["--png", str(tmp_path / "page.png")]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "TextBox" in done.stderr
    page = Page((tmp_path / "page.html").read_text())
    assert page.all("button") and not page.errors
    boxes = json.loads((tmp_path / "b.json").read_text())
    assert boxes["size"] == [1200, 900] or len(boxes["size"]) == 2
    assert boxes["elements"] and boxes["layout"]["kind"] == "column"
    if shutil.which("chromium"):
        from PIL import Image

        width, height = Image.open(tmp_path / "page.png").size
        assert width == 1280 and height >= 900  # the whole page, however long


def test_sketch_command_errors_are_clear(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    done = run_cli(str(tmp_path / "broken.jpg"), "-o", str(tmp_path / "x.html"))
    assert done.returncode == 1 and "broken.jpg" in done.stderr and "Traceback" not in done.stderr
    done = run_cli(str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "x.html"))
    assert done.returncode == 1 and "no such file" in done.stderr
    done = run_cli(str(tmp_path / "broken.jpg"), "-o", str(tmp_path / "no" / "x.html"))
    assert done.returncode == 1 and "does not exist" in done.stderr
    assert not (tmp_path / "x.html").exists()


def _paper_on_table():
    """A white sheet (600 × 800) with a drawn box, photographed at an angle on a table."""
    from tests.sketch_photos import on_table

    sheet = np.full((800, 600, 3), 245, np.uint8)
    cv2.rectangle(sheet, (100, 300), (500, 380), (30, 30, 30), 4)
    photo, warp = on_table(sheet, 35.0)
    flat = np.float32([[0, 0], [599, 0], [599, 799], [0, 799]]).reshape(-1, 1, 2)
    return photo, cv2.perspectiveTransform(flat, warp).reshape(-1, 2)


def test_sheet_photographed_at_an_angle_is_straightened():
    from vistavox.pipelines.vision.sketch.normalise import box_to_photo, find_page, rectify

    photo, corners = _paper_on_table()
    found = find_page(photo)
    assert found is not None, "the sheet was not found"
    assert np.abs(found - corners).max() < 15, found
    straight, back = rectify(photo)
    # The drawn box is a level rectangle again, in the sheet's proportions.
    ink = (cv2.cvtColor(straight, cv2.COLOR_RGB2GRAY) < 100).astype(np.uint8)
    ys, xs = np.nonzero(ink)
    height, width = straight.shape[:2]
    assert abs(width / height - 600 / 800) < 0.05
    box = (xs.min() / width, ys.min() / height, xs.max() / width, ys.max() / height)
    assert np.allclose(box, (100 / 600, 300 / 800, 500 / 600, 380 / 800), atol=0.02), box
    # Boxes found on the straight sheet map back onto the photo.
    mapped = box_to_photo((0, 0, width - 1, height - 1), back)
    assert np.allclose(mapped, (corners[:, 0].min(), corners[:, 1].min(),
                                corners[:, 0].max(), corners[:, 1].max()), atol=15)  # fmt: skip


def test_scans_and_full_frame_photos_are_left_as_they_are():
    from vistavox.pipelines.vision.sketch.normalise import rectify

    scan = np.full((800, 600, 3), 245, np.uint8)
    cv2.rectangle(scan, (100, 300), (500, 380), (30, 30, 30), 4)
    same, back = rectify(scan)
    assert back is None and same is scan
