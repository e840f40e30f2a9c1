"""Which stored conversation is open: one owner for typed and spoken turns alike."""

from __future__ import annotations

import threading
from collections.abc import Callable


class OpenConversation:
    """The id of the open conversation (None: none yet; the first kept turn starts one)."""

    def __init__(self, conversation_id: int | None = None) -> None:
        self._id = conversation_id
        self._lock = threading.Lock()

    @property
    def id(self) -> int | None:
        return self._id

    def open(self, conversation_id: int | None) -> None:
        with self._lock:
            self._id = conversation_id

    def ensure(self, start: Callable[[], int]) -> int:
        """The open conversation's id, after ``start()``-ing one if none is open."""
        with self._lock:
            if self._id is None:
                self._id = start()
            return self._id
