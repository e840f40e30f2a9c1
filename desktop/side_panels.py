"""The right-hand panels: tool calls (and the intents that answered without the model) with
approve/deny prompts, the running timers, and the context window's memory map."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vistavox.pipelines.events import (
    ConfirmationRequested,
    IntentAnswered,
    TimerInfo,
    ToolCalled,
)


class ApprovalPrompt(QFrame):
    """Allow / Deny for one tool call that asks first."""

    answered = Signal(int, bool)

    def __init__(self, request: ConfirmationRequested, parent: QWidget | None = None):
        super().__init__(parent)
        self.request_id = request.request_id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("ApprovalPrompt { border: 2px solid #ef6c00; border-radius: 6px; }")
        arguments = request.arguments
        if len(arguments) > 600:
            arguments = arguments[:600] + "…"
        # Arguments come from the model (and so maybe from a document): shown as text.
        text = QLabel(
            f"<b>{html.escape(request.tool)}</b> wants to run with:"
            f"<pre style='white-space:pre-wrap'>{html.escape(arguments)}</pre>"
            f"{html.escape(request.reason)}",
            self,
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName(f"{request.tool} asks to run: allow or deny")
        self.allow = QPushButton("&Allow", self)
        self.deny = QPushButton("&Deny", self)
        self.allow.setAccessibleName(f"Allow {request.tool}")
        self.deny.setAccessibleName(f"Deny {request.tool}")
        self.allow.clicked.connect(lambda: self._answer(True))
        self.deny.clicked.connect(lambda: self._answer(False))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.deny)
        buttons.addWidget(self.allow)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)

    def _answer(self, allowed: bool) -> None:
        self.hide()  # (ConfirmationClosed removes it)
        self.answered.emit(self.request_id, allowed)


class ToolsPanel(QWidget):
    """Tool calls as they happen, and the prompts waiting for the user."""

    answered = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.prompts = QVBoxLayout()
        self.calls = QListWidget(self)
        self.calls.setAccessibleName("Tool calls")
        layout = QVBoxLayout(self)
        layout.addLayout(self.prompts)
        layout.addWidget(QLabel("Tool calls in this session:", self))
        layout.addWidget(self.calls)

    def ask(self, request: ConfirmationRequested) -> ApprovalPrompt:
        prompt = ApprovalPrompt(request, self)
        prompt.answered.connect(self.answered)
        # The focus stays where the user is: a prompt that took it would let the Enter of a
        # message being typed allow a risky call. Alt+A / Alt+D answer it from the keyboard.
        self.prompts.addWidget(prompt)
        return prompt

    def withdraw(self, request_id: int) -> None:
        """Remove the prompt for ``request_id`` (answered, refused or expired), if shown."""
        for index in range(self.prompts.count()):
            prompt = self.prompts.itemAt(index).widget()
            if isinstance(prompt, ApprovalPrompt) and prompt.request_id == request_id:
                self.prompts.removeWidget(prompt)
                prompt.hide()  # (at once: its Allow must not share Alt+A with a new one)
                prompt.deleteLater()
                return

    def focus_first(self) -> None:
        """Keyboard focus on the oldest waiting prompt (its Deny), else on the call list."""
        for index in range(self.prompts.count()):
            prompt = self.prompts.itemAt(index).widget()
            if isinstance(prompt, ApprovalPrompt) and prompt.isVisible():
                prompt.deny.setFocus()
                return
        self.calls.setFocus()

    def add_call(self, call: ToolCalled) -> None:
        self.calls.addItem(
            f"{call.tool} {call.arguments} → {call.decision} ({call.seconds:.2f} s): {call.summary}"
        )
        self.calls.scrollToBottom()

    def add_intent(self, answer: IntentAnswered) -> None:
        """A request answered exactly without the model: which intent, how it was read."""
        reading = f" [{answer.reading}]" if answer.reading else ""
        self.calls.addItem(
            f"intent {answer.intent}{reading} → {answer.reply} ({answer.seconds * 1000:.1f} ms)"
        )
        self.calls.scrollToBottom()


class TimersPanel(QWidget):
    """The running timers with the time left, counting down; one can be cancelled."""

    cancel_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.timers: tuple[TimerInfo, ...] = ()
        self.list = QListWidget(self)
        self.list.setAccessibleName("Running timers")
        self.cancel = QPushButton("&Cancel timer", self)
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel_selected)
        self.list.currentRowChanged.connect(lambda row: self.cancel.setEnabled(row >= 0))
        self.empty = QLabel("No timers. Say or type “set a 10 minute timer”.", self)
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        layout.addLayout(buttons)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._refresh)

    def show_timers(self, timers: tuple[TimerInfo, ...]) -> None:
        self.timers = timers
        self._refresh()
        if timers:
            self._tick.start()
        else:
            self._tick.stop()

    def _refresh(self) -> None:
        row = self.list.currentRow()
        self.list.clear()
        now = time.time()
        for timer in self.timers:
            name = timer.label or _duration(timer.seconds)
            item = QListWidgetItem(f"{name} — {_clock(timer.ends_at - now)} left")
            item.setData(Qt.ItemDataRole.UserRole, timer.timer_id)
            self.list.addItem(item)
        if 0 <= row < self.list.count():
            self.list.setCurrentRow(row)
        self.empty.setVisible(not self.timers)
        self.cancel.setEnabled(self.list.currentRow() >= 0)

    def _cancel_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.cancel_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))


def _clock(seconds: float) -> str:
    """A countdown as shown: 1:02:03, 4:05, 0:09."""
    whole = max(0, int(seconds + 0.999))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    if secs:
        return f"{_clock(seconds)} timer"
    return f"{minutes} minute timer" if minutes < 60 else f"{_clock(seconds)} timer"


class MemoryPanel(QPlainTextEdit):
    """The kernel's memory map: what is in the context window."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAccessibleName("Context window memory map")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("What the model sees appears here after the first turn.")
