"""The saved conversations: search, new, rename, delete (with undo)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class ConversationSidebar(QWidget):
    opened = Signal(int)
    new_requested = Signal()
    deleted = Signal(int, str)  # id, title (for the undo message)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = None
        self.new_button = QPushButton("New conversation", self)
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search conversations… (Ctrl+F)")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Saved conversations")
        # Long titles end in "…" (their full text is the tooltip), no sideways scrolling.
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAccessibleDescription("Enter opens, F2 renames, Delete deletes (with undo)")
        self.list.itemActivated.connect(self._open)
        self.list.itemClicked.connect(self._open)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def set_store(self, store) -> None:
        self.store = store
        self.refresh()

    def refresh(self, *_: object) -> None:
        if self.store is None:
            return
        current = self.current_id()
        self.list.clear()
        query = self.search.text().strip()
        for conversation in self.store.list_conversations(query or None):
            item = QListWidgetItem(conversation.title or "Untitled")
            item.setData(Qt.ItemDataRole.UserRole, conversation.id)
            item.setToolTip(conversation.title)
            self.list.addItem(item)
            if conversation.id == current:
                self.list.setCurrentItem(item)

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def select(self, conversation_id: int | None) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == conversation_id:
                self.list.setCurrentItem(item)
                return
        self.list.clearSelection()
        self.list.setCurrentItem(None)

    def _open(self, item: QListWidgetItem) -> None:
        self.opened.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _menu(self, position) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename(item))
        menu.addAction("Delete", lambda: self.delete(item))
        menu.exec(self.list.mapToGlobal(position))

    def rename_current(self) -> None:
        if self.list.currentItem() is not None:
            self.rename(self.list.currentItem())

    def delete_current(self) -> None:
        if self.list.currentItem() is not None:
            self.delete(self.list.currentItem())

    def rename(self, item: QListWidgetItem) -> None:
        title, ok = QInputDialog.getText(self, "Rename conversation", "Title:", text=item.text())
        if ok and title.strip():
            self.store.rename_conversation(int(item.data(Qt.ItemDataRole.UserRole)), title.strip())
            self.refresh()

    def delete(self, item: QListWidgetItem) -> None:
        conversation_id = int(item.data(Qt.ItemDataRole.UserRole))
        title = item.text()
        self.store.delete_conversation(conversation_id)
        self.refresh()  # (this deletes the list's items, ``item`` included)
        self.deleted.emit(conversation_id, title)

    def undelete(self, conversation_id: int) -> None:
        self.store.undelete_conversation(conversation_id)
        self.refresh()
