"""The page editor (``parse_edit``, ``PageEditor``) on any request and any page: requests
in the grammar's own words with arbitrary names, colours, sizes, markup and scripts in them,
very long messages, control, right-to-left and combining characters; pages as the sketch
reader writes them, damaged (not UTF-8, odd styles such as ``font-size: 1.2.3em``, gone).
Each request is left to the model (None) or answered; a kept edit leaves a page that still
parses, whose scripts and event handlers are exactly those it had (words are text, never
markup), and undo brings back the page as it was, byte for byte."""

from __future__ import annotations

from bs4 import BeautifulSoup
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import counted, fuzz
from vistavox.pipelines.pages.editor import PageEditor
from vistavox.pipelines.pages.requests import parse_edit

PAGE = """<!DOCTYPE html><html lang="en"><head><title>Sign up</title><style></style></head>
<body><main><h1 id="heading-1" style="{size}">Sign up</h1>
<form action="#"><div class="row"><div class="cell"><label class="label" for="textbox-2">Name
</label></div><div class="cell"><input type="text" id="textbox-2" name="textbox-2"></div></div>
<div class="cell"><span class="choice"><input type="checkbox" id="checkbox-3" name="c">
<label for="checkbox-3">Newsletter</label></span></div>
<div class="cell"><img class="placeholder" src="data:," alt="Image: logo"></div>
<div class="cell"><button type="button" id="button-4" style="{style}">Submit</button></div>
<div class="cell"><select id="s"><option>One</option></select></div></form>
<a href="#">Terms</a><p>{text}</p></main></body></html>"""

VERBS = st.sampled_from(
    ["make the {t} {c}", "change the {t} to {w}", "rename the {t} to {w}", "remove the {t}",
     "delete the second {t}", "add a {t} saying {w}", "add a {t} called {w}", "make the {t} "
     "bigger", "make the {t} smaller and {c}", "center the {t}", "switch to dark mode",
     "light mode", "undo that", "the {t} should say {w}", "make the {t} bold",
     "add a footer saying {w}", "make the page background {c}"]
)  # fmt: skip
TARGETS = st.sampled_from(
    ["button", "heading", "title", "image", "link", "text box", "check box", "label",
     "paragraph", "footer", "header", "dropdown", "page", "submit button", "first image",
     "third button", "twentieth link", "logo"]
)  # fmt: skip
COLOURS = st.sampled_from(
    ["blue", "dark green", "light grey", "#ff0000", "#f00", "rgb(1,2,3)", "transparent",
     "red; background-image: url(javascript:alert(1))", "notacolour", "red!important"]
)  # fmt: skip
WORDS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "</p><h1>x",
         "&lt;b&gt;", "Welcome", "\u202eevil\u202c", "e\u0301", "{{ x }}", "x" * 5000]
    ),
)  # fmt: skip


@st.composite
def edit_requests(draw) -> str:
    request = draw(VERBS)
    for slot, strategy in (("{t}", TARGETS), ("{c}", COLOURS), ("{w}", WORDS)):
        while slot in request:
            request = request.replace(slot, draw(strategy), 1)
    return request


REQUESTS = st.one_of(edit_requests(), st.text(max_size=300), st.just("undo that"))
STYLES = st.sampled_from(
    ["", "color: red", "font-size: 1.2.3em", "font-size: em", "font-size: 99999999999999em",
     "font-size:", ";;;", "color", "background-color: red; color: blue"]
)  # fmt: skip


def _scripts(markup: str) -> tuple[int, int]:
    soup = BeautifulSoup(markup, "html.parser")
    handlers = sum(
        1 for tag in soup.find_all(True) for a in tag.attrs if a.lower().startswith("on")
    )
    return len(soup.find_all("script")), handlers


@fuzz(200)
@given(st.lists(REQUESTS, min_size=1, max_size=4), STYLES, STYLES, st.text(max_size=60))
@example(["make the heading bigger"], "font-size: 1.2.3em", "", "")  # float("1.2.3")
@example(["change the heading to <script>alert(1)</script>"], "", "", "")
@example(["make the button " + "very " * 2000 + "blue"], "", "", "")
@example(["make the button blue", "undo that"], "", "", "\r")  # undo turned \r into \n
@counted
def test_any_request_on_the_page_is_answered_or_left_alone(tmp_path, requests, size, style, text):
    page = tmp_path / "page.html"
    original = PAGE.replace("{size}", size).replace("{style}", style).replace("{text}", text)
    page.write_text(original, encoding="utf-8")
    editor = PageEditor()
    editor.open(page)
    history = [page.read_bytes()]
    for request in requests:
        parse_edit(request)  # None or an edit, never an error
        reply = editor.handle(request)
        if reply is None:
            continue
        assert reply.text.strip()
        if reply.commit is None:
            continue
        before = page.read_bytes()
        reply.commit()
        after = page.read_bytes()
        if request.strip().lower().startswith("undo") and after != before:
            assert after == history[-2], "undo did not bring back the page as it was"
            history.pop()
        elif after != before:
            history.append(after)
        markup = after.decode("utf-8")
        assert "<html" in markup.lower()
        assert _scripts(markup) == _scripts(original), "words became markup"


@fuzz(60)
@given(
    st.binary(max_size=400),
    st.sampled_from(["make the button blue", "undo that", "change the heading to Hi", "dark mode"]),
)
@example(b"\xff\xfe<html></html>", "make the button blue")  # not UTF-8
@counted
def test_a_damaged_page_file_gives_a_reply_not_a_crash(tmp_path, content, request):
    page = tmp_path / "page.html"
    page.write_bytes(content)
    editor = PageEditor()
    editor.open(page)
    reply = editor.handle(request)
    if reply is not None:
        assert reply.text.strip()
        if reply.commit is not None:
            reply.commit()
    page.unlink()
    gone = editor.handle("make the button blue")  # the page was deleted meanwhile
    assert gone is None or gone.text.strip()
