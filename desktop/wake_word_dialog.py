"""Training a wake word of the user's own: the phrase, a progress bar while it is trained
on a worker thread (speech/wakeword_training.py), then its measured figures and "Use this
word" (which saves it)."""

from __future__ import annotations

import contextlib
import threading

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vistavox.pipelines.speech.wakeword_training import (
    STANDARD,
    TrainingCancelled,
    TrainingSize,
    describe,
    train_wake_word,
)


class WakeWordDialog(QDialog):
    """Type a phrase, train it, see how well it did, use it. ``chosen`` is the saved
    word's name once the user chose to use it."""

    progressed = Signal(float, str)  # from the training thread
    trained = Signal(object)  # TrainedWord, or the error's text, from the training thread

    def __init__(self, parent: QWidget | None = None, size: TrainingSize = STANDARD) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train your own wake word")
        self.chosen: str | None = None
        self.word = None
        self._size = size
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Type a phrase of up to four words, three syllables or more. It is learnt "
                "from synthetic voices on this computer in a few minutes.",
                self,
                wordWrap=True,
            )
        )
        row = QHBoxLayout()
        self.phrase = QLineEdit("Hey Vistavox", self)
        self.phrase.setAccessibleName("Wake word phrase")
        self.phrase.setMaxLength(40)
        row.addWidget(self.phrase, 1)
        self.train_button = QPushButton("&Train", self)
        self.train_button.clicked.connect(self.train)
        row.addWidget(self.train_button)
        layout.addLayout(row)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 100)
        self.bar.setVisible(False)
        layout.addWidget(self.bar)
        self.status = QLabel("", self, wordWrap=True)
        self.status.setAccessibleName("Training status")
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(self)
        self.use_button = buttons.addButton(
            "&Use this word", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._use)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.progressed.connect(self._progressed)
        self.trained.connect(self._finished)

    @property
    def training(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def train(self) -> None:
        """Start training the phrase typed (off the GUI thread)."""
        if self.training:
            return
        phrase = self.phrase.text()
        self.word = None
        self.use_button.setEnabled(False)
        self.train_button.setEnabled(False)
        self.phrase.setEnabled(False)
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.status.setText("Starting…")
        self._cancel = threading.Event()
        cancel = self._cancel

        def run() -> None:
            try:
                result: object = train_wake_word(
                    phrase,
                    size=self._size,
                    progress=lambda f, what: self._emit(self.progressed, f, what),
                    cancelled=cancel.is_set,
                )
            except TrainingCancelled:
                result = "Training was cancelled."
            except Exception as exc:  # noqa: BLE001 - shown in the dialog
                result = f"This phrase cannot be trained: {exc}"
            self._emit(self.trained, result)

        self._thread = threading.Thread(target=run, name="vistavox-wake-word-training", daemon=True)
        self._thread.start()

    @staticmethod
    def _emit(signal, *args) -> None:
        with contextlib.suppress(RuntimeError):  # the dialog was closed meanwhile
            signal.emit(*args)

    @Slot(float, str)
    def _progressed(self, fraction: float, what: str) -> None:
        self.bar.setValue(int(fraction * 100))
        self.status.setText(what[:1].upper() + what[1:] + "…")

    @Slot(object)
    def _finished(self, result: object) -> None:
        self.bar.setVisible(False)
        self.train_button.setEnabled(True)
        self.phrase.setEnabled(True)
        if isinstance(result, str):
            self.status.setText(result)
            return
        self.word = result
        self.status.setText(describe(result))
        self.use_button.setEnabled(True)

    def _use(self) -> None:
        if self.word is None:
            return
        try:
            self.word.save()
        except Exception as exc:  # noqa: BLE001 - shown in the dialog
            self.status.setText(f"The wake word could not be saved: {exc}")
            return
        self.chosen = self.word.name
        self.accept()

    def reject(self) -> None:
        """Cancel: stops training (nothing is saved) and closes."""
        self._cancel.set()
        super().reject()

    def done(self, result: int) -> None:
        self._cancel.set()  # closed any way while training: stop it
        super().done(result)
