"""Start the desktop app: `vistavox-desktop` or `vistavox desktop`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from vistavox.pipelines.desktop_entry import APP_ID
from vistavox.pipelines.version import app_version

_log = logging.getLogger(__name__)


def _prepare_environment() -> None:
    # QtWebEngine's Chromium refuses to run its sandbox as root (containers, CI).
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


def _configure_logging() -> None:
    """Warnings on the standard error, each with its time (to line it up with what the user
    saw); VISTAVOX_LOG_LEVEL=INFO (or DEBUG) shows more of Vistavox's own."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    level = os.environ.get("VISTAVOX_LOG_LEVEL", "WARNING").upper()
    logging.getLogger("vistavox").setLevel(getattr(logging, level, logging.WARNING))


def application(argv: Sequence[str] | None = None):
    """The QApplication (made once), named for the desktop: the launcher entry's app id is
    its desktop file name (the Wayland app id) and the instance part of its X11 window class
    (what the entry's StartupWMClass matches)."""
    _prepare_environment()
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    from vistavox.pipelines.allocator import return_freed_memory_promptly
    from vistavox.pipelines.interpreter import hand_over_promptly

    from .voice_controls import icon

    app = QApplication.instance()
    if app is None:
        return_freed_memory_promptly()  # (before the threads and buffers that need it)
        hand_over_promptly()  # the GUI thread gets the interpreter lock back within 1 ms
        # What QtWebEngine (the preview) needs before the application exists; importing it
        # first would do the same, but a second start that only hands over to the running
        # app should not load it.
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        args = list(argv or sys.argv[:1])
        if "-name" not in args:
            args[1:1] = ["-name", APP_ID]  # X11 (xcb) only; other platforms ignore it
        app = QApplication(args)
    app.setApplicationName("Vistavox")
    app.setOrganizationName("Vistavox")
    app.setApplicationVersion(app_version())
    app.setDesktopFileName(APP_ID)
    app.setStyle("Fusion")
    app.setWindowIcon(icon("vistavox"))
    return app


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
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.events import EventBus

    from .errors import ErrorReporter
    from .graphics import choose_quick_backend
    from .main_window import MainWindow
    from .quit_signals import QuitOnSignals
    from .theme import apply_theme

    app = application(argv)
    choose_quick_backend()  # before the preview's web view exists
    settings = AppSettings.load()
    apply_theme(app, settings.theme)
    bus = EventBus()
    assistant = Assistant(bus, settings, db_path=db)
    window = MainWindow(assistant, bus)
    window.tray = _tray(app, window)
    window.errors = ErrorReporter.install(window)
    window.quit_signals = QuitOnSignals(app, window.close)  # SIGTERM, SIGINT, SIGHUP: Quit
    return app, window, assistant


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `vistavox-desktop`."""
    parser = argparse.ArgumentParser(prog="vistavox-desktop", description=__doc__)
    parser.add_argument("--db", type=Path, help="conversation database (default: user data)")
    parser.add_argument("--version", action="version", version=f"vistavox {app_version()}")
    args, qt_args = parser.parse_known_args(argv)
    _configure_logging()
    application([sys.argv[0], *qt_args])
    from .single_instance import SingleInstance

    instance = SingleInstance()
    if not instance.claim():
        return _hand_over(instance)
    app, window, assistant = build([sys.argv[0], *qt_args], db=args.db)
    instance.activated.connect(lambda message: _bring_forward(window, message))
    window.show()
    if not assistant.settings.welcomed:
        window.welcome()
    assistant.load_in_background()
    try:
        code = app.exec()
    finally:
        instance.release()
    return int(code)


def _hand_over(instance) -> int:
    """A second start: the running app brings its window forward, and this one ends."""
    if instance.activate_running():
        print(
            "vistavox-desktop: Vistavox is already running: brought its window forward",
            file=sys.stderr,
        )
        return 0
    pid = instance.holder_pid()
    holder = f"Vistavox (process {pid})" if pid else "Vistavox"
    print(
        f"vistavox-desktop: error: another {holder} holds {instance.lock_path} but does not "
        "answer; close it, or delete that file if no Vistavox is running",
        file=sys.stderr,
    )
    return 1


def _bring_forward(window, message: dict) -> None:
    token = message.get("activation_token")
    if isinstance(token, str) and token:
        os.environ["XDG_ACTIVATION_TOKEN"] = token  # Qt's Wayland activation reads it
    window.bring_to_front()
    _log.info("another start asked for the window: brought it forward")


if __name__ == "__main__":
    sys.exit(main())
