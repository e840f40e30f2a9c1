"""Plain words → page edits. A small, predictable grammar for the edits people ask for
while looking at a page ("make the submit button blue", "change the heading to Welcome",
"add a footer saying © 2026 Acme", "remove the second image", "undo that"); anything it
does not recognise is left to the language model. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import webcolors

# What people call each kind of element → CSS selector in the generated pages.
KINDS: dict[str, str] = {
    "button": "button, input[type=submit], input[type=button]",
    "heading": "h1, h2, h3",
    "title": "h1",
    "subtitle": "h2",
    "label": "label, .label",
    "link": "a",
    "text box": "input[type=text], input:not([type]), textarea",
    "dropdown": "select",
    "image": "img",
    "paragraph": "p",
    "check box": "input[type=checkbox]",
    "radio button": "input[type=radio]",
    "footer": "footer",
    "form": "form",
    "page": "body",
}
_SYNONYMS: dict[str, str] = {
    "buttons": "button", "headings": "heading", "header": "heading", "headers": "heading",
    "headline": "heading", "titles": "title", "page title": "title", "main heading": "title",
    "sub heading": "subtitle", "subheading": "subtitle", "labels": "label", "links": "link",
    "hyperlink": "link", "text boxes": "text box", "textbox": "text box",
    "textboxes": "text box", "text field": "text box", "text fields": "text box",
    "field": "text box", "fields": "text box", "input": "text box", "inputs": "text box",
    "input box": "text box", "input field": "text box", "text area": "text box",
    "drop down": "dropdown", "drop-down": "dropdown", "dropdowns": "dropdown",
    "select": "dropdown", "combo box": "dropdown", "combobox": "dropdown", "menu": "dropdown",
    "images": "image", "picture": "image", "pictures": "image", "photo": "image",
    "photos": "image", "placeholder": "image", "paragraphs": "paragraph", "text": "paragraph",
    "checkbox": "check box", "checkboxes": "check box", "check boxes": "check box",
    "radio": "radio button", "radio buttons": "radio button", "radios": "radio button",
    "option": "radio button", "footers": "footer", "background": "page", "website": "page",
    "site": "page", "whole page": "page",
}  # fmt: skip
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "last": -1, "top": 1, "bottom": -1,
}  # fmt: skip
_SIZES = {"bigger": 1.25, "larger": 1.25, "huge": 1.6, "big": 1.25, "large": 1.25,
          "smaller": 0.8, "small": 0.8, "tiny": 0.65}  # fmt: skip
_ALIGN = {"center": "center", "centre": "center", "centered": "center", "centred": "center",
          "left": "left", "right": "right"}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """Which elements an edit is about: a kind, optionally the n-th one (1-based, -1 last)
    or the ones whose words contain ``words``."""

    kind: str
    nth: int | None = None
    words: str = ""

    def describe(self) -> str:
        which = {1: "first ", 2: "second ", 3: "third ", -1: "last "}.get(self.nth or 0, "")
        if self.nth and not which:
            which = f"{self.nth}th "
        named = f"'{self.words}' " if self.words else ""
        return f"the {which}{named}{self.kind}"


@dataclass(frozen=True)
class Edit:
    """One change: ``action`` is style, text, remove, add, theme or undo."""

    action: str
    target: Target | None = None
    style: dict[str, str] = field(default_factory=dict)
    text: str = ""
    scale: float = 1.0  # style: multiply the font size

    def describe(self) -> str:
        what = self.target.describe() if self.target else "the page"
        if self.action == "undo":
            return "I undid the last change"
        if self.action == "remove":
            return f"removed {what}"
        if self.action == "text":
            return f"{what} now says “{self.text}”"
        if self.action == "add":
            said = f" saying “{self.text}”" if self.text else ""
            return f"added a {self.target.kind if self.target else 'section'}{said}"
        if self.action == "theme":
            return f"switched to a {self.text} theme"
        parts = []
        for prop, value in self.style.items():
            if prop == "background-color":
                parts.append(value if self.target and self.target.kind in _FILLED else
                             f"on a {value} background")  # fmt: skip
            elif prop == "color":
                parts.append(value if not (self.target and self.target.kind in _FILLED) else
                             f"in {value} text")  # fmt: skip
            elif prop == "border-color":
                parts.append(f"outlined in {value}")
            elif prop == "text-align":
                parts.append("centred" if value == "center" else f"aligned {value}")
            elif prop == "font-weight":
                parts.append("bold")
            elif prop == "border-radius":
                parts.append("rounded")
        if self.scale != 1.0:
            parts.append("bigger" if self.scale > 1 else "smaller")
        return f"{what} is now " + " and ".join(parts)


_FILLED = ("button", "page", "footer")  # coloured by their background
_VERB = r"(?:please\s+)?(?:can you\s+|could you\s+)?"
_KIND_WORDS = sorted(set(KINDS) | set(_SYNONYMS), key=len, reverse=True)
_KIND_RE = "|".join(re.escape(k) for k in _KIND_WORDS)
_TARGET_RE = re.compile(
    rf"(?:the\s+|all\s+(?:the\s+)?|every\s+|each\s+|my\s+|this\s+|that\s+)?"
    rf"(?:(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|top|bottom)\s+)?"
    rf"(?:(?P<words>[\w'’-]+(?:\s+[\w'’-]+){{0,2}}?)\s+)??"
    rf"(?P<kind>{_KIND_RE})\b"
)


def _clean(text: str) -> str:
    text = text.strip().lower().replace("’", "'")
    text = re.sub(r"[.!?]+$", "", text)
    text = re.sub(r"[,;:]", " ", text)  # speech recognisers put commas anywhere
    return re.sub(r"\s+", " ", text).strip()


def parse_colour(words: str) -> str | None:
    """A CSS colour from spoken words ('dark blue', 'light grey', '#0af'), or None."""
    words = words.strip().lower()
    if re.fullmatch(r"#[0-9a-f]{3}(?:[0-9a-f]{3})?", words):
        return words
    name = re.sub(r"[\s-]+", "", words)
    try:
        webcolors.name_to_hex(name)
    except ValueError:
        return None
    return name


def _target(phrase: str) -> Target | None:
    """The elements a phrase names ('the second button', 'the submit button', 'links')."""
    phrase = phrase.strip()
    m = _TARGET_RE.fullmatch(phrase)
    if m is None:
        return None
    kind = _SYNONYMS.get(m["kind"], m["kind"])
    nth = _ORDINALS.get(m["ord"] or "")
    words = (m["words"] or "").strip()
    if words in ("the", "all", "all the", "every", "each", "my"):
        words = ""
    return Target(kind, nth, words)


def _style_from(words: str, target: Target) -> Edit | None:
    """'blue', 'bold and red', 'bigger', 'centered', 'a blue background', 'white text'."""
    style: dict[str, str] = {}
    scale = 1.0
    for part in re.split(r"\s*(?:,|\band\b|\bwith\b)\s*", words):
        part = re.sub(r"^(?:a|an|the|more|much|bit|a bit|slightly)\s+", "", part.strip())
        part = re.sub(r"\s+(?:colou?r(?:ed)?|one)$", "", part)
        if not part:
            continue
        if part in _SIZES:
            scale *= _SIZES[part]
            continue
        if part in _ALIGN or part.startswith("align"):
            style["text-align"] = _ALIGN.get(part.split()[-1], "center")
            continue
        if part in ("bold", "bolder", "thick"):
            style["font-weight"] = "700"
            continue
        if part in ("rounded", "round"):
            style["border-radius"] = "999px"
            continue
        m = re.fullmatch(r"(.+?)\s+(background|text|font|border)", part)
        if m and (colour := parse_colour(m[1])):
            prop = {"background": "background-color", "text": "color", "font": "color",
                    "border": "border-color"}[m[2]]  # fmt: skip
            style[prop] = colour
            continue
        if colour := parse_colour(part):
            # Buttons and the page are coloured by their background; words by their ink.
            prop = "background-color" if target.kind in _FILLED else "color"
            style[prop] = colour
            continue
        return None  # a word we do not understand: better the model than a wrong edit
    if not style and scale == 1.0:
        return None
    return Edit("style", target, style, scale=scale)


def parse_edit(request: str) -> Edit | None:
    """The edit ``request`` asks for, or None when it is not a page edit we understand."""
    text = _clean(request)
    text = re.sub(rf"^{_VERB}", "", text)
    if re.fullmatch(r"undo(?: that| it| the last (?:change|edit))?|go back|revert(?: that)?",
                    text):  # fmt: skip
        return Edit("undo")
    if m := re.fullmatch(r"(?:use |switch to |make it |go )?(dark|light) (?:mode|theme)", text):
        return Edit("theme", text=m[1])
    # "make the button blue", "turn the links red", "colour the heading green"
    m = re.fullmatch(r"(?:make|turn|set|change|colou?r|paint)\s+(.+?)\s+(?:to\s+|into\s+)?(.+)",
                     text)  # fmt: skip
    if m and not re.search(r"\b(?:say|read|to say)\b", m[2]):
        for cut in _split_points(m[1] + " " + m[2]):
            target = _target(cut[0])
            if target is not None:
                edit = _style_from(re.sub(r"^(?:to|into)\s+", "", cut[1]), target)
                if edit is not None:
                    return edit
    # "the button should be blue"
    m = re.fullmatch(r"(.+?)\s+(?:should be|must be|is|needs to be)\s+(.+)", text)
    if m and (target := _target(m[1])) and (edit := _style_from(m[2], target)):
        return edit
    # "change the heading to Welcome", "rename the button to Send", "the button should say X"
    for pattern in (
        r"(?:change|rename|set|retitle)\s+(?:the text of\s+)?(.+?)\s+(?:text\s+)?to\s+"
        r"(?:say\s+)?(.+)",
        r"(?:make|have|let)\s+(.+?)\s+(?:say|read)\s+(.+)",
        r"(.+?)\s+(?:should|must|could)\s+(?:say|read)\s+(.+)",
        r"call\s+(.+?)\s+(.+)",
    ):
        m = re.fullmatch(pattern, text)
        if m and (target := _target(m[1])):
            words = _original_words(request, m[2])
            if words:
                return Edit("text", target, text=words)
    # "remove the image", "delete the second text box", "hide the links"
    m = re.fullmatch(r"(?:remove|delete|hide|drop|get rid of|take out)\s+(.+)", text)
    if m and (target := _target(m[1])) and target.kind != "page":
        return Edit("remove", target)
    # "add a footer saying …", "add a button called Send", "add a heading Contact"
    # The verb may be lost when the user starts talking as the assistant does: "footer
    # saying thanks" still asks for one (only with the words, so "the footer" alone does
    # not add anything).
    m = re.fullmatch(
        r"(?P<verb>(?:add|insert|put|append)\s+)?(?:a|an|another|one more|some)?\s*"
        r"(?P<kind>[\w -]+?)"
        r"(?:\s+(?:at the (?:bottom|end|top)|to the page|below|underneath))?"
        r"(?:\s+(?P<how>saying|that says|which says|with the text|with text|called|named|"
        r"labelled|labeled|reading|with)\s+(?P<words>.+))?",
        text,
    )
    if m and (m["verb"] or m["how"] in ("saying", "that says", "which says", "reading")):
        kind = _SYNONYMS.get(m["kind"].strip(), m["kind"].strip())
        if kind in ("footer", "button", "heading", "paragraph", "link", "text box", "image",
                    "label", "subtitle"):  # fmt: skip
            words = _original_words(request, m["words"]) if m["words"] else ""
            return Edit("add", Target(kind), text=words)
    return None


def _split_points(text: str):
    """Every way to split ``text`` into (target phrase, the rest), shortest target first."""
    words = text.split()
    for n in range(1, len(words)):
        yield " ".join(words[:n]), " ".join(words[n:])


def _original_words(request: str, lowered: str) -> str:
    """``lowered`` as the user wrote it (case and punctuation kept), without quotes or a
    final full stop."""
    tokens = lowered.split()
    pattern = r"[\s,;:]*".join(re.escape(t) for t in tokens)
    found = re.search(pattern, request.replace("’", "'"), re.IGNORECASE) if tokens else None
    words = found.group(0) if found else lowered
    words = words.strip().strip("\"'“”‘’").strip()
    return re.sub(r"[.!?]+$", "", words).strip().strip("\"'“”‘’")
