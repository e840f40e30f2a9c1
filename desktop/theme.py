"""Light, dark, or whatever the system uses. Qt's colour-scheme hint changes nothing where
the platform theme has no dark palette (a plain X session, most window managers), so the
palette is set here; "system" follows the system's scheme as it changes."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_platform_palette: QPalette | None = None
_follower: ThemeFollower | None = None


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (contrast ≥ 4.5:1 for text)."""
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colours = {
        role.Window: "#26272b",
        role.WindowText: "#e8e8ea",
        role.Base: "#1d1e21",
        role.AlternateBase: "#2c2d31",
        role.ToolTipBase: "#33353a",
        role.ToolTipText: "#e8e8ea",
        role.PlaceholderText: "#9a9ca3",
        role.Text: "#e8e8ea",
        role.Button: "#33353a",
        role.ButtonText: "#e8e8ea",
        role.BrightText: "#ff6b6b",
        role.Light: "#45474d",
        role.Midlight: "#3a3c41",
        role.Mid: "#2a2b2f",
        role.Dark: "#151618",
        role.Shadow: "#000000",
        role.Highlight: "#3b6fd8",
        role.HighlightedText: "#ffffff",
        role.Link: "#8ab4ff",
        role.LinkVisited: "#c58af9",
    }
    for r, colour in colours.items():
        p.setColor(r, QColor(colour))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#7c7e85"))
    return p


def wants_dark(theme: str) -> bool:
    if theme == "system":
        return QApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    return theme == "dark"


def apply_theme(app: QApplication, theme: str) -> None:
    """Set the palette for ``theme`` ("system", "light" or "dark"); with "system", keep
    following the system's changes."""
    global _platform_palette, _follower
    if _platform_palette is None:
        _platform_palette = QPalette(app.palette())
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):  # Qt 6.8+: native dialogs and web pages follow it
        hints.setColorScheme(
            {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(
                theme, Qt.ColorScheme.Unknown
            )
        )
    if wants_dark(theme):
        app.setPalette(dark_palette())
    elif _platform_palette.color(QPalette.ColorRole.Window).lightness() >= 128:
        app.setPalette(_platform_palette)
    else:  # the system's palette is dark, and light was asked for
        app.setPalette(app.style().standardPalette())
    if _follower is None:
        _follower = ThemeFollower(app)
    _follower.theme = theme


class ThemeFollower(QObject):
    """Re-applies the "system" theme when the system switches between light and dark."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.theme = "system"
        app.styleHints().colorSchemeChanged.connect(self.changed)

    @Slot()
    def changed(self, *_: object) -> None:
        if self.theme == "system":
            app = QApplication.instance()
            app.setPalette(dark_palette() if wants_dark("system") else _platform_palette)
