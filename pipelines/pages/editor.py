"""The page the user is looking at, and its edits: a turn that asks for a change in plain
words is answered here, without the language model (predictable, instant, works with the
smallest model); the file is rewritten atomically and older versions stay for undo."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import VistavoxError
from ..files import write_atomic
from ..kernel.direct import DirectReply
from .edit import PageEditError, apply_edit
from .requests import Edit, parse_edit

_log = logging.getLogger(__name__)
HISTORY = 50  # versions kept for undo


VOCABULARY = (
    "Editing the web page: add a footer, a header, a heading, a button, a link, an image or "
    "a paragraph; make the title bigger, smaller, bold or blue; dark mode; light mode; undo."
)


class PageEditor:
    """Edits the current page; ``on_change(path, note)`` runs after each saved change."""

    def __init__(self, on_change: Callable[[Path, str], None] | None = None):
        self.page: Path | None = None
        self.on_change = on_change
        self._history: dict[Path, list[str]] = {}
        self._lock = threading.Lock()

    def open(self, page: Path) -> None:
        """Make ``page`` the one edits apply to."""
        self.page = Path(page)

    def vocabulary(self) -> str | None:
        """While a page is open, the words of page edits, to help the recogniser hear them."""
        if self.page is None:
            return None
        return VOCABULARY

    def handle(self, request: str) -> DirectReply | None:
        """A reply for ``request`` if it is an edit of the current page, else None."""
        page = self.page
        if page is None:
            return None
        edit = parse_edit(request)
        if edit is None:
            return None
        try:
            self._edited(page, edit)  # check now that it can be done
        except (PageEditError, OSError) as exc:
            return DirectReply(f"{str(exc).rstrip('.')}, so I left the page as it was.")
        text = f"Done: {edit.describe()}."
        return DirectReply(text, lambda: self._commit(page, edit))

    def _edited(self, page: Path, edit: Edit) -> str:
        if edit.action == "undo":
            if not self._history.get(page):
                raise PageEditError("there is no earlier version of the page to go back to")
            return self._history[page][-1]
        try:
            current = _read(page)
        except FileNotFoundError as exc:
            raise PageEditError(f"the page {page.name} is gone") from exc
        except UnicodeDecodeError as exc:
            raise PageEditError(f"the page {page.name} is not a text file I can edit") from exc
        return apply_edit(current, edit)

    def _commit(self, page: Path, edit: Edit) -> None:
        with self._lock:
            try:
                new = self._edited(page, edit)
                old = _read(page)
            except (VistavoxError, OSError, UnicodeDecodeError) as exc:
                _log.warning("page edit not made: %s", exc)
                return
            if edit.action == "undo":
                self._history[page].pop()
            else:
                self._remember(page, old)
            write_atomic(page, new.encode("utf-8"))
        if self.on_change is not None:
            self.on_change(page, edit.describe())

    def _remember(self, page: Path, old: str) -> None:
        """Keep ``old`` as the version "undo" goes back to (the last HISTORY are kept)."""
        history = self._history.setdefault(page, [])
        history.append(old)
        del history[:-HISTORY]

    def revise(self, page: Path, new: str, note: str, *, expected: str) -> bool:
        """Replace ``page`` with ``new`` as one undoable change, but only while it still
        reads ``expected`` (a change made meanwhile, by the user or an edit, wins).
        Returns whether the page was replaced."""
        with self._lock:
            try:
                old = _read(page)
            except (OSError, UnicodeDecodeError) as exc:
                _log.warning("page not revised: %s", exc)
                return False
            if old != expected:
                return False
            self._remember(page, old)
            write_atomic(page, new.encode("utf-8"))
        if self.on_change is not None:
            self.on_change(page, note)
        return True


def _read(page: Path) -> str:
    """The page's text exactly as saved (its line endings kept, so undo is exact)."""
    return page.read_bytes().decode("utf-8")
