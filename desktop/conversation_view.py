"""The conversation in the middle of the window: the newest messages are laid out at once,
earlier ones a page at a time when the user scrolls back or asks for them.

Opening a long conversation used to lay out every message on the GUI thread, a cost that
grew with the conversation; now it is one page whatever the length.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QTextBrowser, QWidget

from .conversation_document import ConversationDocument
from .rendering import EARLIER_LINK, ChatEntry, conversation_style, earlier_html, entry_html

PAGE = 30  # messages laid out when a conversation opens, and added per step back
_OPENED_SCHEMES = ("http", "https", "mailto")


class ConversationView(QTextBrowser):
    """Shows a list of messages, following the newest while the user is at the end."""

    link_refused = Signal(str)  # a link in a message that is not opened, and why

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversation")
        self.setOpenLinks(False)  # links are checked in _open_link, never followed in here
        self.anchorClicked.connect(self._open_link)
        self._document = ConversationDocument(self.document())
        self._entries: Sequence[ChatEntry] = []
        self._dark = False
        self._updating = False
        self._first_shown = 0  # index of the first message laid out (those before: hidden)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    def show_entries(
        self, entries: Sequence[ChatEntry], dark: bool, *, opened: bool = False
    ) -> None:
        """Show ``entries``; ``opened``: a conversation was just opened, so show its last
        page and its end."""
        bar = self.verticalScrollBar()
        at_end = opened or bar.value() >= bar.maximum() - 4
        if opened:
            self._first_shown = max(0, len(entries) - PAGE)
        self._first_shown = min(self._first_shown, len(entries))
        self._entries, self._dark = entries, dark
        self._lay_out()
        if at_end:
            bar.setValue(bar.maximum())

    @property
    def hidden_count(self) -> int:
        """How many earlier messages are not laid out."""
        return self._first_shown

    def show_earlier(self) -> None:
        """Lay out the page of messages before those shown, keeping in view what was."""
        if self._first_shown == 0:
            return
        bar = self.verticalScrollBar()
        from_end = bar.maximum() - bar.value()
        self._first_shown = max(0, self._first_shown - PAGE)
        self._lay_out()
        bar.setValue(bar.maximum() - from_end)

    def _lay_out(self) -> None:
        fragments = [entry_html(e, self._dark) for e in self._entries[self._first_shown :]]
        if self._first_shown:
            fragments.insert(0, earlier_html(self._first_shown))
        self._updating = True  # (the scroll bar moves while the document changes)
        try:
            self._document.show(fragments, conversation_style(self._dark))
        finally:
            self._updating = False

    @Slot(int)
    def _scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        if (
            not self._updating
            and self._first_shown
            and value == bar.minimum()
            and bar.maximum() > bar.minimum()
        ):
            QTimer.singleShot(0, self.show_earlier)  # (not inside the scroll bar's signal)

    @Slot(QUrl)
    def _open_link(self, url: QUrl) -> None:
        if url.toString() == EARLIER_LINK:
            self.show_earlier()
        elif url.scheme() in _OPENED_SCHEMES:
            QDesktopServices.openUrl(url)
        else:
            # Replies are written by a model that may have read untrusted text: a link to a
            # file or a program is shown, not opened.
            self.link_refused.emit(f"Not opened (only web and mail links are): {url.toString()}")
