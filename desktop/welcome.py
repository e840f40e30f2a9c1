"""The welcome on first start: check the microphone and speaker, choose how to talk, and
see which bigger models would make answers better. Every step can be skipped: the built-in
models work offline as they are. Help → Welcome shows it again."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from vistavox.models import manager
from vistavox.models.manifest import ModelKind
from vistavox.pipelines.app_settings import AppSettings
from vistavox.pipelines.audio.devices import DeviceSettings

from .device_check import DeviceCheck

# The model to suggest downloading for each kind: the best one measured (README,
# "How the default language model was chosen").
SUGGESTED = {ModelKind.LLM: "qwen2.5-coder-1.5b-instruct", ModelKind.STT: "whisper-base.en"}


def suggestions(settings: AppSettings) -> list[manager.ModelInfo]:
    """The suggested models that are not installed yet."""
    rows = {info.name: info for info in manager.catalogue(settings)}
    return [rows[name] for name in SUGGESTED.values() if name in rows and not rows[name].installed]


class Welcome(QDialog):
    """``open_models`` opens the Models page."""

    def __init__(
        self,
        settings: AppSettings,
        open_models: Callable[[], None],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Vistavox")
        self.setMinimumWidth(560)
        self.settings = settings
        self.devices = DeviceSettings.load()
        layout = QVBoxLayout(self)
        intro = QLabel(
            "<h2>Welcome to Vistavox</h2>"
            "<p>Talk to it, type to it, or show it a picture. Everything runs on this "
            "computer: nothing you say or show leaves it.</p>",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        sound = QGroupBox("1. Check your microphone and speaker", self)
        column = QVBoxLayout(sound)
        self.microphone = DeviceCheck(True, self.devices.input, sound)
        self.speaker = DeviceCheck(False, self.devices.output, sound)
        column.addWidget(QLabel("Microphone:", sound))
        column.addWidget(self.microphone)
        column.addWidget(QLabel("Speaker:", sound))
        column.addWidget(self.speaker)
        layout.addWidget(sound)

        talk = QGroupBox("2. How do you want to talk?", self)
        column = QVBoxLayout(talk)
        self.hands_free = QRadioButton(
            "&Hands-free: listen as soon as Vistavox is ready; just start talking", talk
        )
        self.push_to_talk = QRadioButton(
            "&Push-to-talk: listen only while I hold F8 or the “Hold to talk” button", talk
        )
        group = QButtonGroup(self)
        group.addButton(self.hands_free)
        group.addButton(self.push_to_talk)
        (self.hands_free if settings.listen_on_start else self.push_to_talk).setChecked(True)
        column.addWidget(self.hands_free)
        column.addWidget(self.push_to_talk)
        layout.addWidget(talk)

        models = QGroupBox("3. Better answers (optional)", self)
        column = QVBoxLayout(models)
        offered = suggestions(settings)
        if offered:
            listed = "".join(
                f"<li>{info.title}"
                + (f": {manager.human_size(info.size)}" if info.size else "")
                + "</li>"
                for info in offered
            )
            text = (
                "The built-in models work offline as they are. These bigger ones understand "
                f"and answer better, and can be downloaded now or later:<ul>{listed}</ul>"
            )
        else:
            text = "The recommended models are installed."
        self.models_text = QLabel(text, models)
        self.models_text.setWordWrap(True)
        column.addWidget(self.models_text)
        self.choose_models = QPushButton("Choose &models…", models)
        self.choose_models.clicked.connect(open_models)
        column.addWidget(self.choose_models)
        layout.addWidget(models)

        buttons = QDialogButtonBox(self)
        self.start = buttons.addButton("&Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.skip = buttons.addButton("S&kip", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def apply(self) -> set[str]:
        """Save what was chosen; the welcome is not shown again by itself. Returns the
        names of the settings that changed."""
        s = self.settings
        before = s.model_dump()
        s.listen_on_start = self.hands_free.isChecked()
        s.welcomed = True
        s.save()
        devices = DeviceSettings(input=self.microphone.device(), output=self.speaker.device())
        if devices != self.devices:
            devices.save()
        return {key for key, value in s.model_dump().items() if before.get(key) != value}

    def skipped(self) -> None:
        """Skipped: nothing changes, but it is not shown again by itself."""
        self.settings.welcomed = True
        self.settings.save()
