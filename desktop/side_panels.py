"""The right-hand panels: tool calls with approve/deny prompts, and the context window's
memory map."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vistavox.pipelines.events import ConfirmationRequested, ToolCalled


class ApprovalPrompt(QFrame):
    """Allow / Deny for one tool call that asks first."""

    answered = Signal(int, bool)

    def __init__(self, request: ConfirmationRequested, parent: QWidget | None = None):
        super().__init__(parent)
        self.request_id = request.request_id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("ApprovalPrompt { border: 2px solid #ef6c00; border-radius: 6px; }")
        text = QLabel(
            f"<b>{request.tool}</b> wants to run with {request.arguments}<br>{request.reason}",
            self,
        )
        text.setWordWrap(True)
        self.allow = QPushButton("Allow", self)
        self.deny = QPushButton("Deny", self)
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
        self.answered.emit(self.request_id, allowed)
        self.deleteLater()


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
        self.prompts.addWidget(prompt)
        prompt.allow.setFocus()
        return prompt

    def add_call(self, call: ToolCalled) -> None:
        self.calls.addItem(
            f"{call.tool} {call.arguments} → {call.decision} ({call.seconds:.2f} s): {call.summary}"
        )
        self.calls.scrollToBottom()


class MemoryPanel(QPlainTextEdit):
    """The kernel's memory map: what is in the context window."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAccessibleName("Context window memory map")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("What the model sees appears here after the first turn.")
