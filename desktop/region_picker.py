"""Drag a rectangle over a frozen screenshot to capture just that region (Esc cancels)."""

from __future__ import annotations

from PIL.ImageQt import ImageQt
from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget


class RegionPicker(QWidget):
    """A full-screen overlay showing the screenshot; the dragged region is emitted as a
    PIL image cropped from the original pixels."""

    picked = Signal(object)

    def __init__(self, screenshot, parent: QWidget | None = None):
        super().__init__(None)
        self._screen = parent.screen() if parent is not None else None
        self.screenshot = screenshot
        self.pixmap = QPixmap.fromImage(ImageQt(screenshot))
        self.origin: QPoint | None = None
        self.current: QPoint | None = None
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAccessibleName("Drag to choose a region of the screen; Escape cancels")

    def start(self) -> None:
        """Cover every screen (the screenshot shows them all), even without a window
        manager to honour a full-screen request."""
        screen = self._screen or self.screen()
        self.setGeometry(screen.virtualGeometry())
        if len(screen.virtualSiblings()) > 1:
            self.show()
        else:
            self.showFullScreen()
        self.raise_()
        self.activateWindow()

    def selection(self) -> QRect:
        if self.origin is None or self.current is None:
            return QRect()
        # From the pixel pressed up to (not including) the pixel released: a 400 px drag
        # gives 400 px, not QRect(point, point)'s inclusive 401.
        a, b = self.origin, self.current
        return QRect(min(a.x(), b.x()), min(a.y(), b.y()), abs(a.x() - b.x()),
                     abs(a.y() - b.y()))  # fmt: skip

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawPixmap(self.rect(), self.pixmap)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 90))
        box = self.selection()
        if not box.isNull():
            source = self._to_image(box)
            painter.drawPixmap(box, self.pixmap, source)
            painter.setPen(QPen(QColor("#3b6fd8"), 2))
            painter.drawRect(box)

    def _to_image(self, box: QRect) -> QRect:
        sx = self.pixmap.width() / max(1, self.width())
        sy = self.pixmap.height() / max(1, self.height())
        return QRect(int(box.x() * sx), int(box.y() * sy), int(box.width() * sx),
                     int(box.height() * sy))  # fmt: skip

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.origin = self.current = event.position().toPoint()
        self.update()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        self.current = event.position().toPoint()
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self.current = event.position().toPoint()
        box = self._to_image(self.selection())
        self.close()
        if box.width() > 4 and box.height() > 4:
            self.picked.emit(
                self.screenshot.crop(
                    (box.x(), box.y(), box.x() + box.width(), box.y() + box.height())
                )  # fmt: skip
            )

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.close()
