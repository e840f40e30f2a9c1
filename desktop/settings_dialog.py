"""Settings: audio devices (with test buttons), models, persona and custom instructions,
hands-free sensitivity, the wake word, the web sites pages may be read from, theme. Saved
in the user's config folder."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QWidget,
)

from vistavox.models.manifest import MANIFEST, ModelKind
from vistavox.pipelines.app_settings import AppSettings
from vistavox.pipelines.audio.devices import DeviceSettings
from vistavox.pipelines.kernel.personas import list_personas
from vistavox.pipelines.speech.trained_wakeword import trained_phrases
from vistavox.pipelines.speech.wakeword import BUILT_IN
from vistavox.pipelines.web.address import site_of
from vistavox.pipelines.web.sites import SitePermissions

from .device_check import DeviceCheck


def _model_combo(
    parent: QWidget, kind: ModelKind, current: str, empty: str, *, with_default: bool = False
) -> QComboBox:
    from vistavox.models.resolve import ModelError, resolve

    combo = QComboBox(parent)
    combo.addItem(empty, "")
    for spec in MANIFEST:
        if spec.kind == kind and (with_default or not spec.default):
            try:
                resolve(spec)  # presence and sizes: quick
                installed = True
            except ModelError:
                installed = False
            combo.addItem(spec.title if installed else f"{spec.title} (not installed)", spec.name)
            if not installed and spec.name != current:
                # Chosen from the Models page once downloaded, not here.
                combo.model().item(combo.count() - 1).setEnabled(False)
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
    def __init__(
        self,
        settings: AppSettings,
        parent: QWidget | None = None,
        *,
        open_models: Callable[[], None] | None = None,
    ):
        """``open_models``: opens the Models page (download, delete, choose)."""
        super().__init__(parent)
        self.setWindowTitle("Vistavox settings")
        self.setMinimumWidth(560)
        self.settings = settings
        self.devices = devices = DeviceSettings.load()
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.microphone = DeviceCheck(True, devices.input, self)
        self.input, self.test_input = self.microphone.combo, self.microphone.button
        self.input_result = self.microphone.result
        form.addRow("Microphone:", self.microphone)
        self.speaker = DeviceCheck(False, devices.output, self)
        self.output, self.test_output = self.speaker.combo, self.speaker.button
        self.output_result = self.speaker.result
        form.addRow("Speaker:", self.speaker)

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
        self.manage_models = QPushButton("&Download and manage models…", self)
        self.manage_models.setToolTip(
            "Every model with its size, licence and memory; download, delete and choose"
        )
        self.manage_models.setEnabled(open_models is not None)
        if open_models is not None:
            self.manage_models.clicked.connect(open_models)
        form.addRow("", self.manage_models)

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
        self.wake_word = QComboBox(self)
        self.wake_word.addItem("Off: every sentence is a turn", "")
        for name in ("alexa", "okay_nabu", "hey_jarvis", "hey_mycroft"):
            self.wake_word.addItem(f"“{BUILT_IN[name].phrase}”", name)
        for name, phrase in trained_phrases().items():
            self.wake_word.addItem(f"“{phrase}” (trained)", name)
        self.wake_word.setCurrentIndex(max(0, self.wake_word.findData(settings.wake_word)))
        self.wake_word.setAccessibleName("Wake word")
        self.wake_word.setToolTip(
            "Hands-free, a turn starts only after this word; after a reply, a follow-up "
            "needs none. Push-to-talk never needs it."
        )
        self.train_wake_word = QPushButton("Train your own wake word…", self)
        self.train_wake_word.clicked.connect(self._train_wake_word)
        wake_row = QHBoxLayout()
        wake_row.addWidget(self.wake_word, 1)
        wake_row.addWidget(self.train_wake_word)
        form.addRow("&Wake word:", wake_row)
        self.wake_sensitivity = QSlider(Qt.Orientation.Horizontal, self)
        self.wake_sensitivity.setRange(0, 100)
        self.wake_sensitivity.setValue(int(settings.wake_sensitivity * 100))
        self.wake_sensitivity.setAccessibleName("Wake word sensitivity")
        self.wake_sensitivity.setToolTip(
            "Left: wakes only on a clear word, and seldom by mistake. Right: wakes more "
            "easily, and more often by mistake. The middle is the measured default."
        )
        self.wake_word.currentIndexChanged.connect(
            lambda: self.wake_sensitivity.setEnabled(bool(self.wake_word.currentData()))
        )
        self.wake_sensitivity.setEnabled(bool(settings.wake_word))
        wake_scale = QHBoxLayout()
        wake_scale.addWidget(QLabel("Fewer mistakes", self))
        wake_scale.addWidget(self.wake_sensitivity, 1)
        wake_scale.addWidget(QLabel("Wakes easily", self))
        form.addRow("Wake word sensitivity:", wake_scale)
        self.echo = QCheckBox("Echo cancellation (turn off with headphones)", self)
        self.echo.setChecked(settings.echo_cancellation)
        form.addRow("", self.echo)
        self._add_web_rows(form, settings)
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

    def _add_web_rows(self, form: QFormLayout, settings: AppSettings) -> None:
        """The sites pages may be read from (each allowed the first time the assistant read
        one), and the local-network addresses allowed although private."""
        self.web_sites = SitePermissions()
        self.sites = QListWidget(self)
        self.sites.addItems(self.web_sites.allowed())
        self.sites.setAccessibleName("Web sites pages may be read from")
        self.sites.setMaximumHeight(90)
        self.forget_site = QPushButton("&Forget site", self)
        self.forget_site.setToolTip(
            "The next page from this site is read only after you allow it again"
        )
        self.forget_site.clicked.connect(lambda: self.sites.takeItem(self.sites.currentRow()))
        column = QHBoxLayout()
        column.addWidget(self.sites, 1)
        column.addWidget(self.forget_site, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow("Web sites allowed:", column)
        # A spoken turn cannot stop to ask: its sites are allowed here beforehand.
        self.new_site = QLineEdit(self)
        self.new_site.setPlaceholderText("a site to allow (e.g. bbc.co.uk)")
        self.new_site.setAccessibleName("Web site to allow")
        self.allow_site = QPushButton("&Allow site", self)
        self.allow_site.clicked.connect(self._allow_site)
        self.new_site.returnPressed.connect(self._allow_site)
        adding = QHBoxLayout()
        adding.addWidget(self.new_site, 1)
        adding.addWidget(self.allow_site)
        form.addRow("", adding)
        self.search_url = QLineEdit(settings.search_url, self)
        self.search_url.setPlaceholderText("none: no web search (e.g. https://searx.example.org)")
        self.search_url.setToolTip(
            "The address of a SearXNG instance (with its JSON format on) that web searches go "
            "through; VISTAVOX_SEARCH_URL overrides it"
        )
        self.search_url.setAccessibleName("Web search service address")
        form.addRow("Web &search:", self.search_url)
        self.web_allow = QLineEdit(", ".join(settings.web_allow), self)
        self.web_allow.setPlaceholderText("none (e.g. 192.168.1.20, nas.local)")
        self.web_allow.setToolTip(
            "Pages on this computer or your local network are never read, except from these "
            "hosts, addresses or networks"
        )
        self.web_allow.setAccessibleName("Local network addresses pages may be read from")
        form.addRow("Local addresses allowed:", self.web_allow)

    def _allow_site(self) -> None:
        """Add the site typed (a host name, or an address to take it from) to the list."""
        typed = self.new_site.text().strip()
        site = site_of(typed if "://" in typed else f"https://{typed}") if typed else ""
        listed = {self.sites.item(row).text() for row in range(self.sites.count())}
        if site and site not in listed:
            self.sites.addItem(site)
        self.new_site.clear()

    def _train_wake_word(self) -> None:
        """The training dialog; the word it trained, if used, is added and chosen."""
        from .wake_word_dialog import WakeWordDialog

        dialog = WakeWordDialog(self)
        if dialog.exec() and dialog.chosen and dialog.word is not None:
            if self.wake_word.findData(dialog.chosen) < 0:
                self.wake_word.addItem(f"“{dialog.word.phrase}” (trained)", dialog.chosen)
            self.wake_word.setCurrentIndex(self.wake_word.findData(dialog.chosen))

    def _show_rate(self, value: int) -> None:
        self.rate_label.setText(f"{value} %")

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
        s.wake_word = self.wake_word.currentData()
        s.wake_sensitivity = self.wake_sensitivity.value() / 100
        s.theme = self.theme.currentData()
        s.refine_sketch_pages = self.refine.currentData()
        s.web_allow = [part.strip() for part in self.web_allow.text().split(",") if part.strip()]
        s.search_url = self.search_url.text().strip()
        s.save()
        kept = {self.sites.item(row).text() for row in range(self.sites.count())}
        allowed = self.web_sites.allowed()
        for site in allowed:
            if site not in kept:
                self.web_sites.forget(site)
        for site in sorted(kept - set(allowed)):
            self.web_sites.allow(site)
        devices = DeviceSettings(input=self.input.currentText(), output=self.output.currentText())
        devices.save()
        changed = {key for key, value in s.model_dump().items() if before.get(key) != value}
        changed |= {
            key
            for key in ("input", "output")
            if getattr(devices, key) != getattr(self.devices, key)
        }
        return changed
