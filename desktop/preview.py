"""The HTML preview panel: the page made from a sketch, live-updating; save, open in the
browser, copy the HTML. Uses QtWebEngine when installed, else a plain text browser."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

try:
    from PySide6.QtWebEngineWidgets import QWebEngineView
except ImportError:  # PySide6-WebEngine is not installed
    QWebEngineView = None


class PreviewPanel(QWidget):
    loaded = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.path: Path | None = None
        self.note = QLabel("No page yet: attach a photo of a sketch and press “Sketch → page”.")
        self.note.setWordWrap(True)
        if QWebEngineView is not None:
            self.view = QWebEngineView(self)
            self.view.loadFinished.connect(self.loaded)
        else:
            self.view = QTextBrowser(self)
        self.view.setAccessibleName("Page preview")
        self.save_button = QPushButton("Save as…", self)
        self.open_button = QPushButton("Open in browser", self)
        self.copy_button = QPushButton("Copy HTML", self)
        self.save_button.clicked.connect(self.save_as)
        self.open_button.clicked.connect(self.open_in_browser)
        self.copy_button.clicked.connect(self.copy_html)
        buttons = QHBoxLayout()
        for b in (self.save_button, self.open_button, self.copy_button):
            b.setEnabled(False)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def show_page(self, path: Path, note: str = "") -> None:
        """Show (or reload) the page at ``path``."""
        self.path = Path(path)
        self.note.setText(f"{self.path.name} — {note}" if note else self.path.name)
        url = QUrl.fromLocalFile(str(self.path))
        if QWebEngineView is not None:
            self.view.load(url)
        else:
            self.view.setSource(url)
            self.loaded.emit(True)
        for b in (self.save_button, self.open_button, self.copy_button):
            b.setEnabled(True)

    def html(self) -> str:
        return self.path.read_text(encoding="utf-8") if self.path else ""

    def save_as(self) -> None:
        if self.path is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Save page", str(Path.home() / self.path.name), "HTML (*.html)"
        )
        if name:
            shutil.copyfile(self.path, name)

    def open_in_browser(self) -> None:
        if self.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))

    def copy_html(self) -> None:
        QGuiApplication.clipboard().setText(self.html())

    def close_view(self) -> None:
        """Web views must be deleted before the application exits (or it crashes)."""
        if QWebEngineView is not None and self.view is not None:
            import shiboken6

            view, self.view = self.view, None
            view.setParent(None)
            view.close()
            shiboken6.delete(view.page())
            shiboken6.delete(view)
