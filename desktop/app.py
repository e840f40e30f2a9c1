"""Start the desktop app: `vistavox-desktop` or `vistavox desktop`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _prepare_environment() -> None:
    # QtWebEngine's Chromium refuses to run its sandbox as root (containers, CI).
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


def _tray(app, window):
    from PySide6.QtWidgets import QMenu, QSystemTrayIcon

    from .voice_controls import icon

    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(icon("vistavox"), app)
    tray.setToolTip("Vistavox")
    menu = QMenu()
    menu.addAction("Show Vistavox", window.bring_to_front)
    menu.addAction("Hands-free listening", window.voice.mic_button.toggle)
    menu.addAction("Stop", window.stop)
    menu.addSeparator()
    menu.addAction("Quit", window.close)
    tray.setContextMenu(menu)
    tray.activated.connect(window.tray_activated)
    tray.show()
    tray.menu = menu  # keep it alive
    return tray


def build(argv: Sequence[str] | None = None, *, db: Path | None = None):
    """The application, its window and the assistant (loading in the background)."""
    _prepare_environment()
    from PySide6.QtWidgets import QApplication

    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.events import EventBus

    from .errors import ErrorReporter
    from .graphics import choose_quick_backend
    from .main_window import MainWindow
    from .theme import apply_theme
    from .voice_controls import icon

    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Vistavox")
    app.setOrganizationName("Vistavox")
    app.setStyle("Fusion")
    app.setWindowIcon(icon("vistavox"))
    choose_quick_backend()  # before the preview's web view exists
    settings = AppSettings.load()
    apply_theme(app, settings.theme)
    bus = EventBus()
    assistant = Assistant(bus, settings, db_path=db)
    window = MainWindow(assistant, bus)
    window.tray = _tray(app, window)
    window.errors = ErrorReporter.install(window)
    return app, window, assistant


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `vistavox-desktop`."""
    parser = argparse.ArgumentParser(prog="vistavox-desktop", description=__doc__)
    parser.add_argument("--db", type=Path, help="conversation database (default: user data)")
    args, qt_args = parser.parse_known_args(argv)
    app, window, assistant = build([sys.argv[0], *qt_args], db=args.db)
    window.show()
    assistant.load_in_background()
    code = app.exec()
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
