"""Pipeline events into the GUI thread: a bus subscriber that re-emits each event as a Qt
signal. Connected to bound slots of GUI-thread objects, the signal is delivered queued."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from vistavox.pipelines.events import Event, EventBus


class EventBridge(QObject):
    """Subscribe to ``bus``; every event arrives as ``event`` in the receiver's thread."""

    event = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None):
        super().__init__(parent)
        self._unsubscribe = bus.subscribe(self._forward)

    def _forward(self, event: Event) -> None:
        self.event.emit(event)

    def close(self) -> None:
        self._unsubscribe()
