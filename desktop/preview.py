"""The HTML preview panel: the page made from a sketch, live-updating; save, open in the
browser, copy the HTML. Uses QtWebEngine when installed, else a plain text browser."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal, Slot
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

# Creating the web view starts Chromium (about a second on the GUI thread) and its first
# load starts a renderer: both are done this long after start-up with the empty-state page,
# so neither delays the window's first appearance nor the first real page.
WARM_UP_AFTER_MS = 1500

EMPTY_TEXT = (
    "No page yet. Attach a photo of a hand-drawn wireframe (drop it on the window, paste it, "
    "or use Attach…) and press “Sketch → page”. Then ask for changes in words: “make the "
    "button blue”, “add a footer saying …”."
)


def _empty_page(dark: bool) -> str:
    background, text = ("#1d1e21", "#b8bac0") if dark else ("#fafafa", "#5a5c63")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        f"body{{background:{background};color:{text};font:15px/1.5 sans-serif;margin:0;"
        "display:flex;align-items:center;justify-content:center;height:100vh}"
        "p{max-width:28em;padding:2em;text-align:center}</style></head>"
        f"<body><p>{EMPTY_TEXT}</p></body></html>"
    )


class PreviewPanel(QWidget):
    loaded = Signal(bool)  # a page (not the empty-state placeholder) finished loading
    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.path: Path | None = None
        self.dark = False
        self.note = QLabel("No page yet", self)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Page status")
        self._closed = False
        if QWebEngineView is not None:
            # Until the web view exists, the empty-state text stands in its place.
            self.view = None
            self.stand_in = QLabel(EMPTY_TEXT, self)
            self.stand_in.setWordWrap(True)
            self.stand_in.setMargin(24)
            QTimer.singleShot(WARM_UP_AFTER_MS, self._show_empty)
        else:
            self.view = self.stand_in = QTextBrowser(self)
            self.view.setPlainText(EMPTY_TEXT)
            self.view.setAccessibleName("Page preview")
        self.save_button = QPushButton("Save as…", self)
        self.open_button = QPushButton("Open in browser", self)
        self.copy_button = QPushButton("Copy HTML", self)
        self.save_button.setToolTip("Save the page as an HTML file")
        self.open_button.setToolTip("Open the page in your web browser")
        self.copy_button.setToolTip("Copy the page's HTML to the clipboard")
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
        layout.addWidget(self.stand_in, 1)
        layout.addLayout(buttons)

    def _web_view(self):
        """The web view, made on first need (see WARM_UP_AFTER_MS)."""
        if self.view is None and not self._closed:
            view = QWebEngineView(self)
            view.setAccessibleName("Page preview")
            view.loadFinished.connect(self._load_finished)
            self.layout().replaceWidget(self.stand_in, view)
            self.stand_in.hide()
            self.stand_in.deleteLater()
            self.view = view
        return self.view

    def _show_empty(self) -> None:
        # A file like the pages to come (not setHtml's data: URL): Chromium then keeps the
        # same renderer process for them instead of starting another one.
        if self.path is None and QWebEngineView is not None and self._web_view() is not None:
            empty = Path(tempfile.gettempdir()) / f"vistavox-empty-{int(self.dark)}.html"
            try:
                empty.write_text(_empty_page(self.dark), encoding="utf-8")
            except OSError:
                self.view.setHtml(_empty_page(self.dark))
                return
            self.view.load(QUrl.fromLocalFile(str(empty)))

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        self._show_empty()

    @Slot(bool)
    def _load_finished(self, ok: bool) -> None:
        if self.path is not None:
            self.loaded.emit(ok)
            if not ok:
                self.problem.emit(f"The preview could not show {self.path.name}")

    def show_page(self, path: Path, note: str = "") -> None:
        """Show (or reload) the page at ``path``."""
        self.path = Path(path)
        self.note.setText(f"{self.path.name} — {note}" if note else self.path.name)
        url = QUrl.fromLocalFile(str(self.path))
        if QWebEngineView is not None:
            if self._web_view() is not None:
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
            self, "Save page", str(Path.home() / self.path.name), "HTML (*.html *.htm)"
        )
        if name:
            self.save_to(Path(name))

    def save_to(self, target: Path) -> bool:
        """Copy the page to ``target``; a failure is reported, not raised."""
        if self.path is None:
            return False
        if not target.suffix:
            target = target.with_suffix(".html")
        try:
            shutil.copyfile(self.path, target)
        except OSError as exc:
            self.problem.emit(f"The page could not be saved to {target}: {exc.strerror or exc}")
            return False
        self.note.setText(f"Saved as {target}")
        return True

    def open_in_browser(self) -> None:
        if self.path is not None and not QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(self.path))
        ):
            self.problem.emit(
                f"No web browser could be opened; the page is at {self.path} (use Save as…)"
            )

    def copy_html(self) -> None:
        try:
            text = self.html()
        except OSError as exc:
            self.problem.emit(f"The page could not be read: {exc}")
            return
        QGuiApplication.clipboard().setText(text)
        self.note.setText(f"Copied the HTML of {self.path.name} ({len(text):,} characters)")

    def close_view(self) -> None:
        """Web views must be deleted before the application exits (or it crashes)."""
        self._closed = True
        if QWebEngineView is not None and self.view is not None:
            import shiboken6

            view, self.view = self.view, None
            view.setParent(None)
            view.close()
            shiboken6.delete(view.page())
            shiboken6.delete(view)
