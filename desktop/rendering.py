"""Conversation messages as HTML for the conversation view: Markdown with highlighted code,
images as thumbnails, the spoken part of a reply marked. Pure functions (no widgets)."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from xml.etree import ElementTree as etree

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pygments.formatters import HtmlFormatter


class _NoRemoteContent(Treeprocessor):
    """Images and links in a reply become text that shows their address: a reply's
    Markdown image loads its URL the moment it is shown, which is how a web page or
    document with planted instructions would send private data out, and a link could lead
    anywhere. The user sees where each would go and can copy it."""

    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    alt = child.get("alt") or "image"
                    parent[index] = _plain(
                        f"[image not shown: {alt} ({child.get('src', '')})]", child.tail
                    )
                elif child.tag == "a":
                    label = "".join(child.itertext())
                    href = child.get("href", "")
                    text = label if not href or href == label else f"{label} ({href})"
                    parent[index] = _plain(text, child.tail)


def _plain(text: str, tail: str | None) -> etree.Element:
    span = etree.Element("span")
    span.text, span.tail = text, tail
    return span


class _SafeReplies(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's name
        md.treeprocessors.register(_NoRemoteContent(md), "no_remote_content", 0)


_MARKDOWN_EXTENSIONS = [
    "fenced_code",
    "codehilite",
    "tables",
    "sane_lists",
    "nl2br",
    _SafeReplies(),
]
_MARKDOWN_CONFIG = {"codehilite": {"guess_lang": False, "noclasses": True}}


@dataclass
class ChatEntry:
    """One message as shown: who, what (Markdown), images, notes, speech progress."""

    role: str  # "user", "assistant", "tool", "notice"
    text: str = ""
    images: list[str] = field(default_factory=list)  # file URLs of thumbnails
    files: list[str] = field(default_factory=list)
    spoken_chars: int = 0  # how much of an assistant reply has been spoken aloud
    interrupted: bool = False
    streaming: bool = False


_converters = threading.local()


def _converter() -> markdown.Markdown:
    """This thread's converter: building one (its extensions and patterns) costs more than
    converting a short reply, and a converter is not to be shared between threads."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = markdown.Markdown(
            extensions=_MARKDOWN_EXTENSIONS, extension_configs=_MARKDOWN_CONFIG
        )
    return converter


@lru_cache(maxsize=1024)
def markdown_to_html(text: str) -> str:
    """Markdown (with fenced code) → HTML; raw HTML in the text is shown, not run. Cached:
    the view re-renders often while a reply streams, and old messages do not change."""
    return _converter().reset().convert(html.escape(text, quote=False))


def entry_html(entry: ChatEntry, dark: bool) -> str:
    """One message bubble."""
    colours = {
        "user": ("#2d4a7a", "#dce8ff") if dark else ("#dce8ff", "#2d4a7a"),
        "assistant": ("#2c2c30", "#e8e8ea") if dark else ("#f1f1f3", "#2c2c30"),
        "tool": ("#2f3a2f", "#d9ecd9") if dark else ("#eaf5ea", "#2f3a2f"),
        "notice": ("#4a3a22", "#ffe9c4") if dark else ("#fff3dc", "#4a3a22"),
    }
    background, _ = colours.get(entry.role, colours["assistant"])
    who = {"user": "You", "assistant": "Vistavox", "tool": "Tool", "notice": "Note"}[entry.role]
    if entry.role == "assistant" and entry.spoken_chars:
        spoken = min(entry.spoken_chars, len(entry.text))
        body = (
            f'<span style="background-color:{"#3d5c3d" if dark else "#d6f0d0"}">'
            f"{html.escape(entry.text[:spoken])}</span>{html.escape(entry.text[spoken:])}"
        )
        body = f"<p>{body}</p>"
    else:
        body = markdown_to_html(entry.text) if entry.text else ""
    if entry.streaming:
        body += "<p>▍</p>"
    if entry.interrupted:
        body += "<p><i>(interrupted)</i></p>"
    pictures = "".join(
        f'<img src="{html.escape(url)}" height="96" style="margin:4px">' for url in entry.images
    )
    if pictures:  # a row of their own under the text, not beside its last line
        pictures = f"<p>{pictures}</p>"
    attached = "".join(f"<p>📄 {html.escape(name)}</p>" for name in entry.files)
    return (
        f'<table width="100%" cellpadding="8" style="margin-bottom:6px">'
        f'<tr><td style="background-color:{background}; border-radius:8px">'
        f"<b>{who}</b>{body}{pictures}{attached}</td></tr></table>"
    )


EARLIER_LINK = "vistavox:earlier"


def earlier_html(count: int) -> str:
    """The line above the first message shown, when earlier ones are not laid out."""
    return (
        f'<p align="center"><a href="{EARLIER_LINK}">Show earlier messages</a> ({count} more)</p>'
    )


@lru_cache(maxsize=2)
def _code_css(dark: bool) -> str:
    return HtmlFormatter(style="monokai" if dark else "default").get_style_defs(".codehilite")


def conversation_style(dark: bool) -> str:
    """The conversation's style sheet (text colour, code), for the messages' fragments."""
    text = "#e8e8ea" if dark else "#202024"
    return (
        f"body, table, td, p, li {{ color: {text}; }} {_code_css(dark)} "
        "pre { padding: 6px; } code { font-family: monospace; }"
    )


_WARM_LANGUAGES = ("python", "bash", "json", "html", "javascript", "css", "sql", "text")


def warm_up_rendering() -> None:
    """Markdown and Pygments load their extensions and styles on first use (tens of ms):
    called on a worker thread at start-up, not on the GUI thread during the first reply."""
    markdown_to_html("warm `up`\n```\nx = 1\n```\n| a |\n|---|\n| 1 |")
    # Each language's highlighter compiles its rules on first use: Python's took ~100 ms
    # of the GUI thread under load, the first time a reply had a Python block.
    for language in _WARM_LANGUAGES:
        markdown_to_html(f"```{language}\nx = 1\n```")
    for dark in (False, True):
        _code_css(dark)
