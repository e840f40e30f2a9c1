"""Where the window was, and how big: kept in the user's config folder (platformdirs) next
to the settings, and brought back on the next start; a first start fits the screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

from vistavox.pipelines.app_settings import config_dir

DEFAULT_SIZE = (1280, 800)


def _store() -> QSettings:
    path: Path = config_dir() / "window.ini"
    return QSettings(str(path), QSettings.Format.IniFormat)


def restore_window(window: QMainWindow, splitter: QSplitter) -> None:
    """The saved size and position (Qt moves a window that would be off every screen back
    onto one), or a size that fits the screen, centred."""
    store = _store()
    geometry = store.value("window/geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        screen = window.screen().availableGeometry()
        width = min(DEFAULT_SIZE[0], int(screen.width() * 0.92))
        height = min(DEFAULT_SIZE[1], int(screen.height() * 0.92))
        window.resize(width, height)
        window.move(
            screen.x() + (screen.width() - width) // 2,
            screen.y() + (screen.height() - height) // 2,
        )
    state = store.value("window/splitter")
    if state is not None:
        splitter.restoreState(state)


def save_window(window: QMainWindow, splitter: QSplitter) -> None:
    config_dir().mkdir(parents=True, exist_ok=True)
    store = _store()
    store.setValue("window/geometry", window.saveGeometry())
    store.setValue("window/splitter", splitter.saveState())
    store.sync()
