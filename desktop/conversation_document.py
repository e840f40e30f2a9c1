"""The conversation view's document, kept in step with the messages without laying the
whole conversation out again for each streamed token.

Setting a QTextBrowser's HTML re-parses and re-lays out every message, which costs time in
proportion to the conversation's length, on the GUI thread, several times a second while a
reply streams. Here each message is one HTML fragment; an update replaces only the run of
fragments that changed (almost always the last message while a reply streams, or a page of
earlier messages put in front when the user scrolls back) and leaves the rest as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QTextCursor, QTextDocument


class ConversationDocument:
    """Shows a list of HTML fragments (one per message) in ``document``."""

    def __init__(self, document: QTextDocument) -> None:
        self._document = document
        # A read-only view: an undo history would only hold every streamed version.
        document.setUndoRedoEnabled(False)
        self._fragments: list[str] = []
        self._starts: list[int] = []  # where each fragment begins in the document
        self._style: str | None = None

    def show(self, fragments: Sequence[str], style: str) -> None:
        """Make the document show ``fragments`` styled by ``style`` (CSS)."""
        old, new = self._fragments, list(fragments)
        if style != self._style:
            self._document.setDefaultStyleSheet(style)
            self._style = style
            same_start = same_end = 0  # (the style applies as fragments are inserted: all again)
        else:
            same_start = _common_start(old, new)
            if same_start == len(old) == len(new):
                return
            same_end = _common_start(old[same_start:][::-1], new[same_start:][::-1])
        cursor = QTextCursor(self._document)
        cursor.beginEditBlock()
        if same_start == same_end == 0:
            self._document.clear()
            cursor = QTextCursor(self._document)
            end = 0
        else:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            end = self._starts[len(old) - same_end] if same_end else cursor.position()
            begin = self._starts[same_start] if same_start < len(old) else end
            cursor.setPosition(begin)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        starts = self._starts[:same_start]
        for fragment in new[same_start : len(new) - same_end]:
            starts.append(cursor.position())
            cursor.insertHtml(fragment)
        # The unchanged messages after the change moved by what was inserted and removed.
        moved = cursor.position() - end
        starts += [start + moved for start in self._starts[len(old) - same_end :]]
        cursor.endEditBlock()
        self._fragments, self._starts = new, starts


def _common_start(old: Sequence[str], new: Sequence[str]) -> int:
    for index, (before, after) in enumerate(zip(old, new, strict=False)):
        if before != after:
            return index
    return min(len(old), len(new))
