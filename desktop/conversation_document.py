"""The conversation view's document, kept in step with the messages without laying the
whole conversation out again for each streamed token.

Setting a QTextBrowser's HTML re-parses and re-lays out every message, which costs time in
proportion to the conversation's length, on the GUI thread, several times a second while a
reply streams. Here each message is one HTML fragment; an update replaces the document from
the first fragment that changed (almost always the last message) and leaves the rest as it
is.
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
        if style != self._style:
            self._document.setDefaultStyleSheet(style)
            self._style = style
            first = 0  # (the style applies as fragments are inserted: all again)
        else:
            first = _first_difference(self._fragments, fragments)
            if first == len(fragments) == len(self._fragments):
                return
        cursor = QTextCursor(self._document)
        cursor.beginEditBlock()
        if first == 0:
            self._document.clear()
            cursor = QTextCursor(self._document)
        elif first < len(self._starts):
            cursor.setPosition(self._starts[first])
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        else:
            cursor.movePosition(QTextCursor.MoveOperation.End)
        starts = self._starts[:first]
        for fragment in fragments[first:]:
            starts.append(cursor.position())
            cursor.insertHtml(fragment)
        cursor.endEditBlock()
        self._fragments, self._starts = list(fragments), starts


def _first_difference(old: Sequence[str], new: Sequence[str]) -> int:
    for index, (before, after) in enumerate(zip(old, new, strict=False)):
        if before != after:
            return index
    return min(len(old), len(new))
