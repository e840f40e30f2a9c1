"""Settings: audio devices (with test buttons), models, persona and custom instructions,
hands-free sensitivity, theme. Saved in the user's config folder."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QWidget,
)

from vistavox.models.manifest import MANIFEST, ModelKind
from vistavox.pipelines.app_settings import AppSettings
from vistavox.pipelines.audio.devices import DeviceSettings, list_devices
from vistavox.pipelines.kernel.personas import list_personas


def _device_combo(parent: QWidget, inputs: bool, current: str) -> QComboBox:
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


def _model_combo(parent: QWidget, kind: ModelKind, current: str, empty: str) -> QComboBox:
    combo = QComboBox(parent)
    combo.addItem(empty, "")
    for spec in MANIFEST:
        if spec.kind == kind and not spec.default:
            combo.addItem(spec.title, spec.name)
    index = combo.findData(current)
    combo.setCurrentIndex(max(0, index))
    return combo


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Vistavox settings")
        self.settings = settings
        devices = DeviceSettings.load()
        form = QFormLayout(self)

        self.input = _device_combo(self, True, devices.input)
        self.input.setAccessibleName("Microphone")
        self.test_input = QPushButton("Test", self)
        self.test_input.setToolTip("Record 1.5 s and show the level")
        self.test_input.clicked.connect(self._test_input)
        self.input_result = QLabel("", self)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.test_input)
        row.addWidget(self.input_result)
        form.addRow("Microphone:", row)

        self.output = _device_combo(self, False, devices.output)
        self.output.setAccessibleName("Speaker")
        self.test_output = QPushButton("Test", self)
        self.test_output.setToolTip("Play a short chime")
        self.test_output.clicked.connect(self._test_output)
        row = QHBoxLayout()
        row.addWidget(self.output, 1)
        row.addWidget(self.test_output)
        form.addRow("Speaker:", row)

        self.stt = _model_combo(
            self, ModelKind.STT, settings.stt_model, "Whisper tiny.en (built in)"
        )
        self.llm = _model_combo(self, ModelKind.LLM, settings.llm_model, "SmolLM2-135M (built in)")
        self.vision = _model_combo(
            self, ModelKind.VISION, settings.vision_model, "None (read images with OCR)"
        )
        form.addRow("Speech recognition:", self.stt)
        form.addRow("Language model:", self.llm)
        form.addRow("Vision model:", self.vision)
        form.addRow(
            "",
            QLabel("Models that are not installed yet: <code>vistavox models download NAME</code>"),
        )

        self.persona = QComboBox(self)
        for persona in list_personas().values():
            self.persona.addItem(persona.title, persona.name)
        self.persona.setCurrentIndex(max(0, self.persona.findData(settings.persona)))
        form.addRow("Persona:", self.persona)
        self.instructions = QPlainTextEdit(settings.custom_instructions, self)
        self.instructions.setPlaceholderText("Custom instructions, e.g. “Call me Sam.”")
        self.instructions.setFixedHeight(70)
        self.instructions.setAccessibleName("Custom instructions")
        form.addRow("Custom instructions:", self.instructions)

        self.sensitivity = QSlider(Qt.Orientation.Horizontal, self)
        self.sensitivity.setRange(0, 100)
        self.sensitivity.setValue(int(settings.sensitivity * 100))
        self.sensitivity.setAccessibleName("Hands-free sensitivity")
        form.addRow("Hands-free sensitivity:", self.sensitivity)
        self.echo = QCheckBox("Echo cancellation (turn off with headphones)", self)
        self.echo.setChecked(settings.echo_cancellation)
        form.addRow("", self.echo)
        self.theme = QComboBox(self)
        for value, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        form.addRow("Theme:", self.theme)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _test_input(self) -> None:
        from vistavox.pipelines.audio.device_test import measure_input

        self.input_result.setText("Recording…")
        self.repaint()
        try:
            level = measure_input(self.input.currentText())
        except Exception as exc:  # noqa: BLE001 - shown next to the button
            self.input_result.setText(f"Failed: {exc}")
            return
        verdict = "good" if level > -40 else "very quiet: check the microphone"
        self.input_result.setText(f"{level:.0f} dBFS ({verdict})")

    def _test_output(self) -> None:
        from vistavox.pipelines.audio.device_test import play_chime

        try:
            play_chime(self.output.currentText())
        except Exception as exc:  # noqa: BLE001
            self.input_result.setText(f"Speaker failed: {exc}")

    def apply(self) -> None:
        """Save the choices (settings file and the shared audio-device file)."""
        s = self.settings
        s.stt_model = self.stt.currentData()
        s.llm_model = self.llm.currentData()
        s.vision_model = self.vision.currentData()
        s.persona = self.persona.currentData()
        s.custom_instructions = self.instructions.toPlainText().strip()
        s.sensitivity = self.sensitivity.value() / 100
        s.echo_cancellation = self.echo.isChecked()
        s.theme = self.theme.currentData()
        s.save()
        DeviceSettings(input=self.input.currentText(), output=self.output.currentText()).save()
