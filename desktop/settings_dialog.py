"""Settings: audio devices (with test buttons), models, persona and custom instructions,
hands-free sensitivity, theme. Saved in the user's config folder."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
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


def _model_combo(
    parent: QWidget, kind: ModelKind, current: str, empty: str, *, with_default: bool = False
) -> QComboBox:
    combo = QComboBox(parent)
    combo.addItem(empty, "")
    for spec in MANIFEST:
        if spec.kind == kind and (with_default or not spec.default):
            combo.addItem(spec.title, spec.name)
    index = combo.findData(current)
    combo.setCurrentIndex(max(0, index))
    return combo


def _automatic_llm() -> str:
    """The automatic choice, naming the model it picks on this machine now."""
    from vistavox.models.resolve import ModelError, resolve_language_model

    try:
        return f"Automatic: the best installed (now {resolve_language_model().spec.title})"
    except ModelError:
        return "Automatic: the best installed"


class SettingsDialog(QDialog):
    # Device tests run on a worker thread (recording takes 1.5 s): results come back here.
    input_tested = Signal(str)
    output_tested = Signal(str)

    def __init__(self, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Vistavox settings")
        self.setMinimumWidth(560)
        self.settings = settings
        self.devices = devices = DeviceSettings.load()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.input_tested.connect(self._input_tested)
        self.output_tested.connect(self._output_tested)

        self.input = _device_combo(self, True, devices.input)
        self.input.setAccessibleName("Microphone")
        self.test_input = QPushButton("Test", self)
        self.test_input.setToolTip("Record 1.5 s and show the level")
        self.test_input.setAccessibleName("Test the microphone")
        self.test_input.clicked.connect(self._test_input)
        self.input_result = QLabel("", self)
        self.input_result.setAccessibleName("Microphone test result")
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.test_input)
        form.addRow("Microphone:", row)
        form.addRow("", self.input_result)

        self.output = _device_combo(self, False, devices.output)
        self.output.setAccessibleName("Speaker")
        self.test_output = QPushButton("Test", self)
        self.test_output.setToolTip("Play a short chime")
        self.test_output.setAccessibleName("Test the speaker")
        self.test_output.clicked.connect(self._test_output)
        self.output_result = QLabel("", self)
        self.output_result.setAccessibleName("Speaker test result")
        row = QHBoxLayout()
        row.addWidget(self.output, 1)
        row.addWidget(self.test_output)
        form.addRow("Speaker:", row)
        form.addRow("", self.output_result)

        self.stt = _model_combo(
            self, ModelKind.STT, settings.stt_model, "Whisper tiny.en (built in)"
        )
        self.llm = _model_combo(
            self, ModelKind.LLM, settings.llm_model, _automatic_llm(), with_default=True
        )
        self.vision = _model_combo(
            self, ModelKind.VISION, settings.vision_model, "None (read images with OCR)"
        )
        self.tts = _model_combo(
            self, ModelKind.TTS, settings.tts_model, "Piper voice en_US joe (built in)"
        )
        self.tts.setAccessibleName("Voice")
        self.stt.setAccessibleName("Speech recognition model")
        self.llm.setAccessibleName("Language model")
        self.vision.setAccessibleName("Vision model")
        form.addRow("&Speech recognition:", self.stt)
        form.addRow("&Language model:", self.llm)
        form.addRow("&Vision model:", self.vision)
        form.addRow("V&oice:", self.tts)
        self.rate = QSlider(Qt.Orientation.Horizontal, self)
        self.rate.setRange(60, 160)  # per cent of the voice's own pace
        self.rate.setValue(round(settings.speech_rate * 100))
        self.rate.setAccessibleName("Speaking rate")
        self.rate_label = QLabel(self)
        self.rate.valueChanged.connect(self._show_rate)
        self._show_rate(self.rate.value())
        pace = QHBoxLayout()
        pace.addWidget(self.rate, 1)
        pace.addWidget(self.rate_label)
        rate_title = QLabel("Speaking &rate:", self)
        rate_title.setBuddy(self.rate)  # Alt+R moves to the slider
        form.addRow(rate_title, pace)
        self.refine = QComboBox(self)
        for value, label in (
            ("auto", "With a bigger or vision model"),
            ("on", "Always"),
            ("off", "Never"),
        ):
            self.refine.addItem(label, value)
        self.refine.setCurrentIndex(max(0, self.refine.findData(settings.refine_sketch_pages)))
        self.refine.setAccessibleName("Proof-read sketch pages with the language model")
        self.refine.setToolTip(
            "After a sketch becomes a page, the language model puts right words the "
            "handwriting reader misread and picks the title and accent colour. The layout "
            "never changes; say “undo that” to go back. The built-in model is too small to "
            "do this well."
        )
        form.addRow("Proof-read sketch &pages:", self.refine)
        hint = QLabel(
            "Models that are not installed yet: <code>vistavox models download NAME</code>", self
        )
        hint.setWordWrap(True)
        form.addRow("", hint)

        self.persona = QComboBox(self)
        for persona in list_personas().values():
            self.persona.addItem(persona.title, persona.name)
        self.persona.setCurrentIndex(max(0, self.persona.findData(settings.persona)))
        self.persona.setAccessibleName("Persona")
        form.addRow("P&ersona:", self.persona)
        self.instructions = QPlainTextEdit(settings.custom_instructions, self)
        self.instructions.setPlaceholderText("Custom instructions, e.g. “Call me Sam.”")
        self.instructions.setFixedHeight(70)
        self.instructions.setAccessibleName("Custom instructions")
        self.instructions.setTabChangesFocus(True)
        form.addRow("Custom &instructions:", self.instructions)

        self.sensitivity = QSlider(Qt.Orientation.Horizontal, self)
        self.sensitivity.setRange(0, 100)
        self.sensitivity.setValue(int(settings.sensitivity * 100))
        self.sensitivity.setAccessibleName("Hands-free sensitivity")
        self.sensitivity.setToolTip("Left: only clear speech starts a turn. Right: hears whispers.")
        scale = QHBoxLayout()
        scale.addWidget(QLabel("Clear speech only", self))
        scale.addWidget(self.sensitivity, 1)
        scale.addWidget(QLabel("Whispers", self))
        form.addRow("Hands-free sensitivity:", scale)
        self.echo = QCheckBox("Echo cancellation (turn off with headphones)", self)
        self.echo.setChecked(settings.echo_cancellation)
        form.addRow("", self.echo)
        self.theme = QComboBox(self)
        for value, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.theme.setAccessibleName("Theme")
        form.addRow("&Theme:", self.theme)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _show_rate(self, value: int) -> None:
        self.rate_label.setText(f"{value} %")

    # --- device tests (off the GUI thread) ------------------------------------------------
    def _in_background(self, work: Callable[[], str], report: Signal) -> None:
        def run() -> None:
            try:
                result = work()
            except Exception as exc:  # noqa: BLE001 - shown under the button
                result = f"Failed: {exc}"
            with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile
                report.emit(result)

        threading.Thread(target=run, name="vistavox-device-test", daemon=True).start()

    def _test_input(self) -> None:
        from vistavox.pipelines.audio.device_test import measure_input

        device = self.input.currentText()

        def measure() -> str:
            level = measure_input(device)
            verdict = "good" if level > -40 else "very quiet: check the microphone"
            return f"Loudest moment: {level:.0f} dBFS ({verdict})"

        self.test_input.setEnabled(False)
        self.input_result.setText("Recording for 1.5 s: say something…")
        self._in_background(measure, self.input_tested)

    @Slot(str)
    def _input_tested(self, result: str) -> None:
        self.input_result.setText(result)
        self.test_input.setEnabled(True)

    def _test_output(self) -> None:
        from vistavox.pipelines.audio.device_test import play_chime

        device = self.output.currentText()

        def play() -> str:
            play_chime(device)
            return "Played a chime: did you hear it?"

        self.test_output.setEnabled(False)
        self.output_result.setText("Playing…")
        self._in_background(play, self.output_tested)

    @Slot(str)
    def _output_tested(self, result: str) -> None:
        self.output_result.setText(result)
        self.test_output.setEnabled(True)

    def apply(self) -> set[str]:
        """Save the choices (settings file and the shared audio-device file); returns the
        names of what changed."""
        s = self.settings
        before = s.model_dump()
        s.stt_model = self.stt.currentData()
        s.llm_model = self.llm.currentData()
        s.vision_model = self.vision.currentData()
        s.tts_model = self.tts.currentData()
        s.speech_rate = self.rate.value() / 100
        s.persona = self.persona.currentData()
        s.custom_instructions = self.instructions.toPlainText().strip()
        s.sensitivity = self.sensitivity.value() / 100
        s.echo_cancellation = self.echo.isChecked()
        s.theme = self.theme.currentData()
        s.refine_sketch_pages = self.refine.currentData()
        s.save()
        devices = DeviceSettings(input=self.input.currentText(), output=self.output.currentText())
        devices.save()
        changed = {key for key, value in s.model_dump().items() if before.get(key) != value}
        changed |= {
            key
            for key in ("input", "output")
            if getattr(devices, key) != getattr(self.devices, key)
        }
        return changed
