"""Editing a page in plain words: requests parsed into edits (and questions left alone), the
edits made to real generated pages, undo, the kernel answering edit turns without the model
(typed at once, spoken only when the turn is kept), and the edited page as Chromium shows it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup

from vistavox.pipelines.pages.edit import PageEditError, apply_edit, readable_on
from vistavox.pipelines.pages.editor import PageEditor
from vistavox.pipelines.pages.requests import Target, parse_edit

PAGE = """<!DOCTYPE html><html lang="en"><head><title>Sign up</title><style></style></head>
<body><main><h1 id="heading-1" data-sketch="0">Sign up</h1>
<form action="#"><div class="row"><div class="cell"><label class="label" for="textbox-2">Name
</label></div><div class="cell"><input type="text" id="textbox-2" name="textbox-2"></div></div>
<div class="cell"><span class="choice"><input type="checkbox" id="checkbox-3" name="c">
<label for="checkbox-3">Newsletter</label></span></div>
<div class="cell"><img class="placeholder" src="data:," alt="Image: logo"></div>
<div class="cell"><img class="placeholder" src="data:," alt="Image: photo"></div>
<div class="cell"><button type="button" id="button-4" data-sketch="4">Submit</button></div>
<div class="cell"><button type="button" id="button-5">Cancel</button></div></form>
<a href="#">Terms</a></main></body></html>"""


def soup(markup: str) -> BeautifulSoup:
    return BeautifulSoup(markup, "html.parser")


def style_of(tag) -> dict[str, str]:
    return dict(
        (k.strip(), v.strip()) for k, v in (p.split(":", 1) for p in tag["style"].split(";"))
    )


@pytest.mark.parametrize(
    ("request_text", "action", "kind", "detail"),
    [
        ("Make the button blue.", "style", "button", {"background-color": "blue"}),
        ("make the buttons dark green", "style", "button", {"background-color": "darkgreen"}),
        ("Please make the heading red and bigger", "style", "heading", {"color": "red"}),
        ("turn the links orange", "style", "link", {"color": "orange"}),
        ("Make the page background light grey", "style", "page",
         {"background-color": "lightgrey"}),
        ("Could you center the title", None, None, None),
        ("make the title centered", "style", "title", {"text-align": "center"}),
        ("Make the second button red", "style", "button", {"background-color": "red"}),
        ("make the submit button green", "style", "button", {"background-color": "green"}),
        ("Change the heading to Welcome back", "text", "heading", "Welcome back"),
        ("Rename the button to Send now.", "text", "button", "Send now"),
        ("the cancel button should say Go back", "text", "button", "Go back"),
        ("Remove the second image", "remove", "image", None),
        ("delete the check box", "remove", "check box", None),
        ("Add a footer saying © 2026 Acme Ltd.", "add", "footer", "© 2026 Acme Ltd"),
        ("add a button called Help", "add", "button", "Help"),
        # The first words lost to the assistant still talking: still a request.
        ("Footer saying thank you.", "add", "footer", "thank you"),
        ("undo that", "undo", None, None),
        ("Switch to dark mode", "theme", None, "dark"),
    ],
)  # fmt: skip
def test_requests_become_edits(request_text, action, kind, detail):
    edit = parse_edit(request_text)
    if action is None:
        assert edit is None or edit.action == "style"
        return
    assert edit is not None, request_text
    assert edit.action == action
    if kind is not None:
        assert edit.target.kind == kind
    if isinstance(detail, dict):
        assert detail.items() <= edit.style.items()
    elif detail is not None:
        assert edit.text == detail


@pytest.mark.parametrize(
    "question",
    [
        "What colour is the button?",
        "Tell me a story about a red dragon",
        "make me a sandwich",
        "make the button sparkle with joy",  # words we cannot turn into CSS: the model's job
        "How do I add a footer to my website?",
        "remove",
        "the footer",
        "a button with rounded corners",
    ],
)
def test_questions_and_vague_wishes_are_left_to_the_model(question):
    assert parse_edit(question) is None


def test_ordinals_and_words_pick_the_element():
    page = soup(PAGE)
    from vistavox.pipelines.pages.edit import find

    assert [b.get_text() for b in find(page, Target("button", nth=2))] == ["Cancel"]
    assert [b.get_text() for b in find(page, Target("button", nth=-1))] == ["Cancel"]
    assert [b.get_text() for b in find(page, Target("button", words="submit"))] == ["Submit"]
    assert [i["id"] for i in find(page, Target("text box", words="name"))] == ["textbox-2"]
    assert find(page, Target("button", nth=5)) == []


def test_button_colour_keeps_its_words_readable():
    edited = soup(apply_edit(PAGE, parse_edit("make the button yellow")))
    for button in edited.find_all("button"):
        assert style_of(button)["background-color"] == "yellow"
        assert style_of(button)["color"] == "#000000"  # dark words on a light button
    navy = soup(apply_edit(PAGE, parse_edit("make the submit button navy")))
    submit, cancel = navy.find_all("button")
    assert style_of(submit) == {"background-color": "navy", "color": "#ffffff"}
    assert not cancel.get("style")
    assert readable_on("white") == "#000000" and readable_on("#000") == "#ffffff"


def test_words_removals_and_additions_change_the_page():
    renamed = soup(apply_edit(PAGE, parse_edit("change the heading to Join us")))
    assert renamed.h1.get_text() == "Join us" and renamed.title.get_text() == "Join us"
    relabelled = soup(apply_edit(PAGE, parse_edit("the check box should say Send me news")))
    assert relabelled.find("label", attrs={"for": "checkbox-3"}).get_text() == "Send me news"

    removed = soup(apply_edit(PAGE, parse_edit("remove the name field")))
    assert removed.find(id="textbox-2") is None
    assert removed.find("label", attrs={"for": "textbox-2"}) is None  # its label went too
    assert [i["alt"] for i in removed.find_all("img")] == ["Image: logo", "Image: photo"]

    footer = soup(apply_edit(PAGE, parse_edit("add a footer saying Made by Ada")))
    assert footer.find("footer").get_text() == "Made by Ada"
    assert footer.find("footer").parent.name == "body"
    added = soup(apply_edit(PAGE, parse_edit("add a button called Help")))
    assert [b.get_text() for b in added.find_all("button")] == ["Submit", "Cancel", "Help"]
    assert added.find("button", string="Help").find_parent("form") is not None


def test_missing_elements_are_a_clear_error():
    with pytest.raises(PageEditError, match="could not find the dropdown"):
        apply_edit(PAGE, parse_edit("make the dropdown blue"))


def test_editor_saves_each_change_and_undoes_it(tmp_path):
    page = tmp_path / "signup.html"
    page.write_text(PAGE, encoding="utf-8")
    changes = []
    editor = PageEditor(on_change=lambda path, note: changes.append((path, note)))
    assert editor.handle("make the button blue") is None  # no page open yet
    editor.open(page)
    assert editor.handle("What is on this page?") is None

    reply = editor.handle("Make the submit button blue")
    assert reply.text == "Done: the 'submit' button is now blue."
    assert "blue" not in page.read_text()  # nothing changes before the turn is kept
    reply.commit()
    assert style_of(soup(page.read_text()).find("button"))["background-color"] == "blue"
    editor.handle("add a footer saying Thanks").commit()
    assert soup(page.read_text()).footer.get_text() == "Thanks"
    assert [note for _, note in changes] == [
        "the 'submit' button is now blue",
        "added a footer saying “Thanks”",
    ]

    editor.handle("undo that").commit()
    assert soup(page.read_text()).footer is None
    editor.handle("undo").commit()
    assert page.read_text() == PAGE
    refusal = editor.handle("undo")
    assert "no earlier version" in refusal.text
    refusal.commit()
    assert page.read_text() == PAGE
    missing = editor.handle("remove the dropdown")
    assert "could not find the dropdown" in missing.text and page.read_text() == PAGE
    assert not list(tmp_path.glob("*.tmp"))  # written atomically


@pytest.fixture(scope="module")
def kernel(llm, tmp_path_factory):
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.kernel.store import Store

    store = Store.open(tmp_path_factory.mktemp("db") / "pages.db")
    kernel = Kernel(llm, store, load_persona("assistant"))
    yield kernel
    store.close()


def test_kernel_answers_edit_turns_itself_and_stores_them(kernel, tmp_path):
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    editor = PageEditor()
    editor.open(page)
    kernel.direct_handlers[:] = [editor.handle]
    try:
        streamed: list[str] = []
        reply = kernel.ask("Make the heading green", on_token=streamed.append)
        assert reply.text == "Done: the heading is now green." == "".join(streamed)
        assert style_of(soup(page.read_text()).h1)["color"] == "green"
        stored = [(m.role, m.content) for m in kernel.store.messages(reply.conversation_id)]
        assert stored == [("user", "Make the heading green"), ("assistant", reply.text)]

        # A question still goes to the real model.
        answer = kernel.ask("Say hello.", conversation_id=reply.conversation_id)
        assert answer.text and not answer.text.startswith("Done:")

        # Spoken: drafted at a pause, abandoned (the user went on talking), then kept.
        conversation = reply.conversation_id
        kernel.draft_answer(conversation, "Make the button")  # not an edit: the model
        draft = kernel.draft_answer(conversation, "Add a footer saying Bye")
        assert draft.text.startswith("Done:") and soup(page.read_text()).footer is None
        kernel.draft_answer(conversation, "Add a footer saying Goodbye").commit(conversation)
        assert soup(page.read_text()).footer.get_text() == "Goodbye"
        assert len(soup(page.read_text()).find_all("footer")) == 1
    finally:
        kernel.direct_handlers.clear()


@pytest.fixture(scope="module")
def sample_page(eval_dir, tmp_path_factory) -> Path:
    from vistavox.pipelines.vision.sketch.pipeline import sketch_to_html

    photo = eval_dir / "sketches" / "samples" / "sample1.jpg"
    if not photo.is_file():
        pytest.skip(f"{photo} is missing")
    page = tmp_path_factory.mktemp("page") / "sample1.html"
    page.write_text(sketch_to_html(photo).html, encoding="utf-8")
    return page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium to render pages")
def test_edited_sketch_page_looks_edited_in_a_browser(sample_page, artifacts_dir):
    from PIL import Image

    from vistavox.pipelines.vision.sketch.render import render_png

    editor = PageEditor()
    editor.open(sample_page)
    if soup(sample_page.read_text()).find("button") is None:
        editor.handle("add a button called Send").commit()
    editor.handle("make the button red").commit()
    editor.handle("add a footer saying Built from a sketch").commit()
    markup = sample_page.read_text()
    # Mark the first button so its place on screen can be read back.
    marked = markup.replace("<button", '<button data-sketch="9999"', 1)
    from vistavox.pipelines.vision.sketch.render import measure_boxes

    box = measure_boxes(marked, 1200, 900)[9999]
    png = render_png(markup, artifacts_dir / "edited_sketch_page.png", (1200, 2400))
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    x0, y0, x1, y1 = (int(v) for v in box)
    inside = pixels[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3].reshape(-1, 3)
    red = (inside[:, 0] > 200) & (inside[:, 1] < 60) & (inside[:, 2] < 60)
    assert red.mean() > 0.5, f"the button is not red on screen: {inside.mean(0)}"
    from vistavox.pipelines.vision.sketch.render import rendered_dom

    assert "Built from a sketch" in rendered_dom(markup)


def test_a_page_the_model_writes_opens_for_edits_whatever_its_name(tmp_path):
    """write_page through the tool registry (audited, its summary cut at 200 characters):
    the written page opens in the preview and plain-word edits then apply to it."""
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.events import EventBus, EventLog, PageUpdated
    from vistavox.pipelines.tools.registry import ToolRegistry
    from vistavox.pipelines.tools.workspace import write_page_tool

    workspace = tmp_path / "a user's documents folder with a long name" / "Vistavox workspace"
    registry = ToolRegistry(confirm=lambda tool, arguments: True)
    registry.add(write_page_tool(workspace))
    name = "the sign-up page for the community garden, with the opening hours"
    html = "<html><body><h1>Join the garden</h1><button>Sign up</button></body></html>"
    result = registry.call("write_page", {"name": name, "html": html}, untrusted_turn=False)
    assert result.ok and len(result.content) > 200  # longer than the audit keeps
    bus = EventBus()
    log = EventLog(bus)
    assistant = Assistant(bus, AppSettings(), workspace=workspace)
    assistant._follow_page(registry.audit[-1])
    shown = log.of_type(PageUpdated)
    assert shown and Path(shown[0].path).read_text() == html
    reply = assistant.pages.handle("Make the button green.")
    assert reply is not None and reply.text.startswith("Done")
    reply.commit()
    assert "green" in Path(shown[0].path).read_text()
