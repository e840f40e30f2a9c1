"""Where the user types, and what they attach: text box, attachment chips, buttons.

Images and documents arrive by drag-and-drop (on the whole window), paste, the attach
button or a screenshot; files that cannot be used are refused with a clear message."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QIcon, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .image_writer import ImageWriter
from .thumbnails import Thumbnailer

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
DOCUMENT_SUFFIXES = {
    ".txt", ".md", ".markdown", ".pdf", ".html", ".htm", ".csv", ".json", ".py", ".rst",
}  # fmt: skip


def classify(path: Path) -> str | None:
    """'image', 'document', or None for a file the assistant cannot use."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in DOCUMENT_SUFFIXES:
        return "document"
    return None


class MessageEdit(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line; pasted images become attachments."""

    submitted = Signal()
    image_pasted = Signal(QImage)
    files_pasted = Signal(list)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source) -> bool:  # noqa: N802
        return source.hasImage() or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source) -> None:  # noqa: N802
        if source.hasImage():
            image = QImage(source.imageData())
            if not image.isNull():
                self.image_pasted.emit(image)
                return
        if source.hasUrls():
            self.files_pasted.emit([Path(u.toLocalFile()) for u in source.urls()])
            return
        super().insertFromMimeData(source)


class Composer(QWidget):
    """Text box, attachments and the send / attach / screenshot / sketch buttons."""

    send = Signal(str, list, list)  # text, images, documents
    screenshot_requested = Signal()
    sketch_requested = Signal(Path)
    image_attached = Signal()
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.images: list[Path] = []
        self.documents: list[Path] = []
        self.edit = MessageEdit(self)
        self.edit.setPlaceholderText(
            "Ask something, or drop an image or document here… (Enter sends, Shift+Enter: new line)"
        )
        self.edit.setAccessibleName("Message")
        self.edit.setAccessibleDescription(
            "Enter sends, Shift+Enter starts a new line, Tab moves to the buttons"
        )
        self.edit.setTabChangesFocus(True)  # Tab leaves the box: the keyboard is not trapped
        self.edit.setFixedHeight(72)
        self.thumbnails = Thumbnailer(Path(tempfile.mkdtemp(prefix="vistavox-chips-")), self)
        self.thumbnails.ready.connect(self._chip_thumbnail)
        self._chips: dict[str, QToolButton] = {}
        self.writer = ImageWriter(self)
        self.writer.saved.connect(self._attach_saved_image)
        self.writer.failed.connect(self.problem)
        self.edit.submitted.connect(self._submit)
        self.edit.image_pasted.connect(self.add_image)
        self.edit.files_pasted.connect(self.add_paths)
        self.chips = QHBoxLayout()
        self.chips.addStretch(1)
        self.attach_button = QToolButton(self)
        self.attach_button.setText("Attach…")
        self.attach_button.setToolTip("Attach images or documents (Ctrl+O)")
        self.attach_button.clicked.connect(self.choose_files)
        self.screenshot_button = QToolButton(self)
        self.screenshot_button.setText("Screenshot")
        self.screenshot_button.setToolTip("Capture the screen or a region (Ctrl+Shift+S)")
        self.screenshot_button.clicked.connect(self.screenshot_requested)
        self.sketch_button = QToolButton(self)
        self.sketch_button.setText("Sketch → page")
        self.sketch_button.setToolTip(
            "Make a web page from the attached photo of a hand-drawn wireframe"
        )
        self.sketch_button.setEnabled(False)
        self.sketch_button.clicked.connect(self._sketch)
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(True)
        self.send_button.setToolTip("Send the message (Enter)")
        self.send_button.clicked.connect(self._submit)
        buttons = QHBoxLayout()
        for b in (self.attach_button, self.screenshot_button, self.sketch_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.chips)
        layout.addWidget(self.edit)
        layout.addLayout(buttons)

    # --- attachments ------------------------------------------------------------------------
    def add_paths(self, paths: list[Path]) -> None:
        """Attach what can be used; say clearly what cannot."""
        for path in paths:
            kind = classify(path) if path.is_file() else None
            if not path.is_file():
                self.problem.emit(f"{path.name}: not a file that can be attached")
            elif kind is None:
                self.problem.emit(
                    f"{path.name}: {path.suffix or 'this kind of'} files cannot be used "
                    "(images: PNG, JPEG, WebP, BMP, GIF, TIFF; documents: text, Markdown, PDF, "
                    "HTML)"
                )
            elif kind == "image":
                self._attach(path, self.images)
            else:
                self._attach(path, self.documents)

    def add_image(self, image: QImage) -> None:
        """A pasted image: saved to a temporary PNG (off the GUI thread), then attached."""
        self.writer.write(image, "pasted.png")

    def paste(self) -> None:
        """Paste from the clipboard into the message box: an image or copied files become
        attachments, text is inserted."""
        self.edit.setFocus()
        self.edit.paste()

    def add_pil_image(self, image, name: str) -> None:
        """A screenshot (a PIL image): saved to a temporary PNG (off the GUI thread), then
        attached."""
        self.writer.write(image, name)

    @Slot(str)
    def _attach_saved_image(self, path: str) -> None:
        """Attach an image file that the app itself wrote (a screenshot, a paste)."""
        self._attach(Path(path), self.images)

    def _attach(self, path: Path, into: list[Path]) -> None:
        if path in into:
            return
        into.append(path)
        chip = QToolButton(self)
        image = into is self.images
        chip.setText(f"{'' if image else '📄 '}{path.name} ✕")
        chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        chip.setIconSize(QSize(40, 28))
        chip.setToolTip(f"{path}\nClick to remove")
        chip.setAccessibleName(f"Attachment {path.name}, click to remove")
        chip.clicked.connect(lambda: self._detach(path, into, chip))
        self.chips.insertWidget(self.chips.count() - 1, chip)
        self.sketch_button.setEnabled(bool(self.images))
        if image:
            self._chips[str(path)] = chip
            self.thumbnails.request(path)
            self.image_attached.emit()

    @Slot(str, str)
    def _chip_thumbnail(self, source: str, url: str) -> None:
        chip = self._chips.get(source)
        if chip is not None:
            chip.setIcon(QIcon(QUrl(url).toLocalFile()))

    def _detach(self, path: Path, into: list[Path], chip: QToolButton) -> None:
        if path in into:
            into.remove(path)
        self._chips.pop(str(path), None)
        chip.deleteLater()
        self.sketch_button.setEnabled(bool(self.images))

    def clear_attachments(self) -> None:
        self.images, self.documents = [], []
        self._chips.clear()
        while self.chips.count() > 1:
            item = self.chips.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.sketch_button.setEnabled(False)

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self,
            "Attach images or documents",
            str(Path.home()),
            "Images and documents (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff "
            "*.txt *.md *.pdf *.html *.htm *.csv *.json *.py);;All files (*)",
        )
        self.add_paths([Path(n) for n in names])

    # --- sending ------------------------------------------------------------------------------
    def _submit(self) -> None:
        text = self.edit.toPlainText().strip()
        if not text and not self.images and not self.documents:
            return
        if not text:
            text = "What is in this?" if self.images else "Summarise this document."
        self.send.emit(text, list(self.images), list(self.documents))
        self.edit.clear()
        self.clear_attachments()

    def _sketch(self) -> None:
        if self.images:
            self.sketch_requested.emit(self.images[-1])
            self.clear_attachments()
