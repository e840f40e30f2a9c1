"""A microphone or speaker row: the device to use, a Test button and what the test found.
Used by Settings and by the welcome; the test runs off the GUI thread (recording takes
1.5 s) and its result comes back through a signal."""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from vistavox.pipelines.audio.devices import list_devices


def device_combo(parent: QWidget, inputs: bool, current: str) -> QComboBox:
    combo = QComboBox(parent)
    combo.setEditable(True)  # pulse:NAME and other specs can be typed
    combo.addItem("default")
    try:
        for device in list_devices():
            if (device.max_inputs if inputs else device.max_outputs) > 0:
                combo.addItem(device.name)
    except Exception:  # noqa: BLE001 - no audio system: the default entry remains
        pass
    combo.setCurrentText(current)
    return combo


class DeviceCheck(QWidget):
    """``inputs``: a microphone row (records and shows the level), else a speaker row
    (plays a chime)."""

    tested = Signal(str)

    def __init__(self, inputs: bool, current: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.inputs = inputs
        what = "microphone" if inputs else "speaker"
        self.combo = device_combo(self, inputs, current)
        self.combo.setAccessibleName("Microphone" if inputs else "Speaker")
        self.button = QPushButton("Test", self)
        self.button.setToolTip("Record 1.5 s and show the level" if inputs else "Play a chime")
        self.button.setAccessibleName(f"Test the {what}")
        self.button.clicked.connect(self.test)
        self.result = QLabel("", self)
        self.result.setAccessibleName(f"{what.capitalize()} test result")
        self.tested.connect(self._tested)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.result)

    def device(self) -> str:
        return self.combo.currentText()

    def test(self) -> None:
        device = self.device()
        if self.inputs:
            self.result.setText("Recording for 1.5 s: say something…")
            work = lambda: _measure(device)  # noqa: E731
        else:
            self.result.setText("Playing…")
            work = lambda: _chime(device)  # noqa: E731
        self.button.setEnabled(False)

        def run() -> None:
            try:
                result = work()
            except Exception as exc:  # noqa: BLE001 - shown under the button
                result = f"Failed: {exc}"
            with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
                self.tested.emit(result)

        threading.Thread(target=run, name="vistavox-device-test", daemon=True).start()

    @Slot(str)
    def _tested(self, result: str) -> None:
        self.result.setText(result)
        self.button.setEnabled(True)


def _measure(device: str) -> str:
    from vistavox.pipelines.audio.device_test import measure_input

    level = measure_input(device)
    verdict = "good" if level > -40 else "very quiet: check the microphone"
    return f"Loudest moment: {level:.0f} dBFS ({verdict})"


def _chime(device: str) -> str:
    from vistavox.pipelines.audio.device_test import play_chime

    play_chime(device)
    return "Played a chime: did you hear it?"
