"""How the model's output reaches the user: through the guard, piece by piece, and out of a
JSON step's answer string as it is written."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable

from .guard import ReplyGuard, Verdict, clean

_ANSWER_OPEN = re.compile(r'\s*\{\s?"answer"\s?:\s?"')
_ESCAPES = {"n": "\n", "t": "\t", "r": "", "b": "", "f": "", "/": "/", "\\": "\\", '"': '"'}


class StopSignal:
    """Set when the user cancels or when the guard has cut the reply: what generation
    checks (``is_set``), so a cut stops the model at the next token."""

    def __init__(self, user: threading.Event | None):
        self.user = user
        self.cut = threading.Event()

    def is_set(self) -> bool:
        return self.cut.is_set() or (self.user is not None and self.user.is_set())

    @property
    def by_user(self) -> bool:
        return self.user is not None and self.user.is_set()


class GuardedOutput:
    """Text shown (``on_token``) only once the guard has passed it; generation stops at a
    cut. ``finish`` gives the reply as it may be kept."""

    def __init__(
        self,
        guard: ReplyGuard,
        on_token: Callable[[str], None] | None,
        stop: StopSignal,
    ):
        self.guard = guard
        self.on_token = on_token
        self.stop = stop
        self.text = ""
        self.shown = 0
        self.verdict: Verdict | None = None

    def feed(self, piece: str) -> None:
        if self.verdict is not None and self.verdict.reason:
            return  # already cut
        self.text += piece
        verdict = self.guard.judge(self.text)
        if verdict.reason:
            self.verdict = verdict
            self.stop.cut.set()
        self._show(min(verdict.safe, len(self.text)))

    def finish(self) -> tuple[str, str]:
        """The reply to keep and why it was cut ("" if it was not)."""
        if self.verdict is None or not self.verdict.reason:
            self.verdict = self.guard.judge(self.text, final=True)
        kept = self.text[: self.verdict.safe]
        if not self.verdict.reason:
            self._show(len(kept))
        return clean(kept) if self.verdict.reason else kept.strip(), self.verdict.reason

    def _show(self, upto: int) -> None:
        if upto > self.shown and self.on_token is not None:
            piece = self.text[self.shown : upto]
            if self.shown == 0:
                piece = piece.lstrip()
            if piece:
                self.on_token(piece)
        self.shown = max(self.shown, upto)


class JsonAnswerStream:
    """Passes on the text of a JSON step's answer (``{"answer": "…"}``) as the model writes
    it, decoded; a tool call passes nothing. Holds back an escape sequence until complete."""

    def __init__(self, emit: Callable[[str], None]):
        self.emit = emit
        self.raw = ""
        self._at: int | None = None  # where the undecoded part of the answer string starts
        self.closed = False

    @property
    def answering(self) -> bool:
        """The step is an answer whose text has begun (and may still be unfinished)."""
        return self._at is not None

    def feed(self, piece: str) -> None:
        self.raw += piece
        if self.closed:
            return
        if self._at is None:
            opened = _ANSWER_OPEN.match(self.raw)
            if opened is None:
                return
            self._at = opened.end()
        decoded, self._at, self.closed = _decode(self.raw, self._at)
        if decoded:
            self.emit(decoded)


def _decode(raw: str, at: int) -> tuple[str, int, bool]:
    """Decode the JSON string body from ``at``: (text, where decoding stopped, closed)."""
    out: list[str] = []
    i = at
    while i < len(raw):
        char = raw[i]
        if char == '"':
            return "".join(out), i + 1, True
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= len(raw):
            break
        escape = raw[i + 1]
        if escape == "u":
            if i + 6 > len(raw):
                break
            with contextlib.suppress(ValueError):  # half a surrogate pair: left out
                out.append(json.loads(f'"{raw[i : i + 6]}"'))
            i += 6
            continue
        out.append(_ESCAPES.get(escape, escape))
        i += 2
    return "".join(out), i, False
