"""The voice strip: state, live input level, the big microphone toggle (hands-free), the
push-to-talk button, and stop."""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtCore import QEvent, QSize, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from vistavox.pipelines.events import EngineState

STATE_TEXT = {
    EngineState.IDLE: "Ready",
    EngineState.LISTENING: "Listening",
    EngineState.HEARING: "Hearing you…",
    EngineState.THINKING: "Thinking…",
    EngineState.SPEAKING: "Speaking",
    EngineState.INTERRUPTED: "Interrupted",
    EngineState.STOPPED: "Microphone off",
}
STATE_COLOUR = {
    EngineState.LISTENING: "#2e7d32",
    EngineState.HEARING: "#1565c0",
    EngineState.THINKING: "#8e24aa",
    EngineState.SPEAKING: "#ef6c00",
    EngineState.INTERRUPTED: "#c62828",
}


def icon(name: str) -> QIcon:
    """A bundled SVG icon (sharp at any DPI)."""
    return QIcon(str(files("vistavox.resources").joinpath("icons", f"{name}.svg")))


class VoiceControls(QWidget):
    hands_free_toggled = Signal(bool)
    talk = Signal(bool)  # push-to-talk pressed / released
    stop = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state_label = QLabel("Loading…", self)
        self.state_label.setAccessibleName("Assistant state")
        self.state_label.setMinimumWidth(110)
        self.wake_phrase = ""  # hands-free waits for this word ("": none)
        self._state = EngineState.IDLE
        self._shown = 0  # texts shown so far (a timer's text goes only if none came since)
        self.level = QProgressBar(self)
        self.level.setRange(0, 60)
        self.level.setTextVisible(False)
        self.level.setFixedWidth(140)
        self.level.setAccessibleName("Microphone level")
        self.level.setToolTip("Live microphone level")
        self.mic_button = QPushButton(icon("microphone"), " Hands-free", self)
        self.mic_button.setCheckable(True)
        self.mic_button.setIconSize(QSize(24, 24))
        self.mic_button.setMinimumHeight(44)
        self.mic_button.setToolTip("Listen hands-free: just talk (Ctrl+M)")
        self.mic_button.setAccessibleName("Hands-free listening")
        self.mic_button.setStyleSheet(
            "QPushButton { background:#3b6fd8; color:white; border-radius:8px; padding:6px 14px; }"
            "QPushButton:checked { background:#2e7d32; }"
            "QPushButton:disabled { background:#9aa5b8; }"
        )
        self.mic_button.toggled.connect(self.hands_free_toggled)
        self.talk_button = QPushButton("Hold to talk", self)
        self.talk_button.setMinimumHeight(44)
        self.talk_button.setToolTip("Push-to-talk: hold this button or F8 while you speak")
        self.talk_button.setAccessibleName("Push to talk")
        self.talk_button.pressed.connect(lambda: self.talk.emit(True))
        self.talk_button.released.connect(lambda: self.talk.emit(False))
        self.stop_button = QPushButton(icon("stop"), " Stop", self)
        self.stop_button.setMinimumHeight(44)
        self.stop_button.setToolTip("Stop speaking and thinking (Esc)")
        self.stop_button.setAccessibleName("Stop speaking and thinking")
        self.stop_button.setStyleSheet(
            "QPushButton { background:#c62828; color:white; border-radius:8px; padding:6px 14px; }"
            "QPushButton:disabled { background:#b8a0a0; }"
        )
        self.stop_button.clicked.connect(self.stop)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state_label)
        layout.addWidget(self.level)
        layout.addStretch(1)
        layout.addWidget(self.mic_button)
        layout.addWidget(self.talk_button)
        layout.addWidget(self.stop_button)
        self.set_enabled(False)

    def set_enabled(self, ready: bool) -> None:
        for button in (self.mic_button, self.talk_button, self.stop_button):
            button.setEnabled(ready)

    def changeEvent(self, event) -> None:  # noqa: N802
        # A styled label keeps the text colour of the palette it was polished with: polish
        # it again when the theme changes.
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            style = self.state_label.styleSheet()
            self.state_label.setStyleSheet("")
            self.state_label.setStyleSheet(style)
        super().changeEvent(event)

    def set_wake_word(self, phrase: str) -> None:
        """Listening (hands-free) waits for ``phrase`` before a turn ("": no word)."""
        self.wake_phrase = phrase
        self.mic_button.setToolTip(
            f"Listen hands-free: say “{phrase}”, then your question (Ctrl+M)"
            if phrase
            else "Listen hands-free: just talk (Ctrl+M)"
        )

    def show_awake(self, window_s: float) -> None:
        """The wake word was heard: words in the next ``window_s`` are a turn."""
        self._show("Listening…", STATE_COLOUR[EngineState.HEARING])
        shown = self._shown
        QTimer.singleShot(int(window_s * 1000), lambda: self._asleep_again(shown))

    def _asleep_again(self, shown: int) -> None:
        if shown == self._shown and self._state is EngineState.LISTENING:  # nothing since
            self.show_state(EngineState.LISTENING)

    def show_state(self, state: EngineState) -> None:
        self._state = state
        text = STATE_TEXT.get(state, str(state))
        if state is EngineState.LISTENING and self.wake_phrase:
            text = f"Say “{self.wake_phrase}”…"
        elif state is EngineState.STOPPED:
            self.wake_phrase = ""
        self._show(text, STATE_COLOUR.get(state))

    def _show(self, text: str, colour: str | None) -> None:
        self._shown += 1
        self.state_label.setText(text)
        self.state_label.setAccessibleName(f"Assistant state: {text}")
        # (no colour: the palette's text colour, light or dark)
        colour_rule = f"color: {colour}; " if colour else ""
        self.state_label.setStyleSheet(f"QLabel {{ {colour_rule}font-weight: bold; }}")

    def show_level(self, rms_db: float) -> None:
        self.level.setValue(int(max(0.0, min(60.0, rms_db + 60.0))))
