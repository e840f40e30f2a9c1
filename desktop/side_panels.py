"""The right-hand panels: tool calls with approve/deny prompts, and the context window's
memory map."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
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
        # The focus stays where the user is: a prompt that took it would let the Enter of a
        # message being typed allow a risky call. Alt+A / Alt+D answer it from the keyboard.
        self.prompts.addWidget(prompt)
        return prompt

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


class MemoryPanel(QPlainTextEdit):
    """The kernel's memory map: what is in the context window."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setAccessibleName("Context window memory map")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("What the model sees appears here after the first turn.")
