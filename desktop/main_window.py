"""The main window: saved conversations on the left, the conversation in the middle (with
the composer and the voice strip), preview / tools / memory on the right.

It only shows things and forwards the user's actions: the work is done by
``vistavox.pipelines.assistant.Assistant``, whose events arrive through an EventBridge.
"""

from __future__ import annotations

import tempfile
import threading
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vistavox.pipelines.assistant import Assistant
from vistavox.pipelines.events import (
    ConfirmationClosed,
    ConfirmationRequested,
    ContextUpdated,
    ConversationOpened,
    EngineError,
    EngineState,
    EventBus,
    FinalTranscript,
    IntentAnswered,
    LevelMeter,
    ListeningStarted,
    ModelsLoading,
    ModelsReady,
    PageUpdated,
    PhraseSpoken,
    ReplyFinished,
    ReplyToken,
    StateChanged,
    TimerFinished,
    TimersChanged,
    ToolCalled,
    UserTurn,
    WakeWordHeard,
)
from vistavox.pipelines.intents.timers import describe_duration

from .bridge import EventBridge
from .composer import Composer
from .conversation_view import ConversationView
from .preview import PreviewPanel
from .rendering import ChatEntry, warm_up_rendering
from .screen_capture import ScreenCapture, screen_region
from .side_panels import MemoryPanel, TimersPanel, ToolsPanel
from .sidebar import ConversationSidebar
from .voice_controls import VoiceControls, icon
from .window_state import restore_window, save_window

RENDER_EVERY_MS = 60
UNDO_FOR_MS = 10_000
WARM_UP_AFTER_MS = 800
PUSH_TO_TALK_KEY = Qt.Key.Key_F8


class MainWindow(QMainWindow):
    def __init__(self, assistant: Assistant, bus: EventBus, *, owns_assistant: bool = True):
        super().__init__()
        self.assistant = assistant
        self.owns_assistant = owns_assistant  # shut it down when the window closes
        self.setWindowTitle("Vistavox")
        self.setWindowIcon(icon("vistavox"))
        self.setAcceptDrops(True)
        self.entries: list[ChatEntry] = []
        self.by_turn: dict[int, ChatEntry] = {}
        self._render_pending = False
        self._image_cache = Path(tempfile.mkdtemp(prefix="vistavox-images-"))
        self._dark = _is_dark()
        # Thumbnails are made on a worker thread; entries wait for theirs by source path.
        self._awaiting: dict[str, list[ChatEntry]] = {}

        # centre: conversation (or the first-run page), composer, voice strip
        self.chat = ConversationView(self)
        self.chat.link_refused.connect(lambda message: self.statusBar().showMessage(message, 8000))
        self.models_page = None  # the Models page, made when first opened
        self.welcome_dialog = None
        self.listened_on_start = False
        self.first_run = QLabel(self)
        self.first_run.setWordWrap(True)
        self.first_run.setTextFormat(Qt.TextFormat.RichText)
        self.first_run.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.first_run.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.centre_stack = QStackedWidget(self)
        self.centre_stack.addWidget(self.chat)
        self.centre_stack.addWidget(self.first_run)
        self.composer = Composer(self)
        self.thumbnails = self.composer.thumbnails  # one worker per image for chips and view
        self.voice = VoiceControls(self)
        centre = QWidget(self)
        column = QVBoxLayout(centre)
        column.addWidget(self.centre_stack, 1)
        column.addWidget(self.composer)
        column.addWidget(self.voice)

        self.sidebar = ConversationSidebar(self)
        self.preview = PreviewPanel(self)
        self.tools = ToolsPanel(self)
        self.memory = MemoryPanel(self)
        self.timers = TimersPanel(self)
        self.timers.cancel_requested.connect(self._cancel_timer)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.preview, "Preview")
        self.tabs.addTab(self.tools, "Tools")
        self.tabs.addTab(self.memory, "Memory")
        self.tabs.addTab(self.timers, "Timers")
        splitter = QSplitter(self)
        splitter.addWidget(self.sidebar)
        splitter.addWidget(centre)
        splitter.addWidget(self.tabs)
        splitter.setSizes([220, 620, 420])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.setCentralWidget(splitter)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(220)
        self.progress.setAccessibleName("Loading progress")
        self.statusBar().addPermanentWidget(self.progress)
        self.undo_button = QPushButton("Undo delete", self)
        self.undo_button.setAccessibleName("Undo the deletion of the conversation")
        self.undo_button.hide()
        self._undo_id: int | None = None  # the conversation the button would restore
        self.undo_button.clicked.connect(self._undo_last)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_FOR_MS)
        self._undo_timer.timeout.connect(self.undo_button.hide)
        self.statusBar().addPermanentWidget(self.undo_button)
        self.statusBar().showMessage("Loading the models…")

        self._connect(bus)
        self._actions()
        # Markdown and Pygments load their extensions on first use (tens of ms): do it on a
        # worker thread now, not on the GUI thread during the first reply.
        # (Started once the window is up: the thread holds the GIL for much of its work.)
        QTimer.singleShot(WARM_UP_AFTER_MS, self._warm_up)
        self._tab_order()
        restore_window(self, self.splitter)
        self.composer.edit.setFocus()

    # --- wiring -----------------------------------------------------------------------------
    def _connect(self, bus: EventBus) -> None:
        self.bridge = EventBridge(bus, self)
        self.bridge.event.connect(self.on_event)
        self.composer.send.connect(self.send)
        self.composer.problem.connect(self.notice)
        self.composer.screenshot_requested.connect(self.screenshot_menu)
        self.composer.sketch_requested.connect(self.sketch)
        self.composer.image_attached.connect(self._image_attached)
        self.voice.hands_free_toggled.connect(self.toggle_hands_free)
        self.voice.talk.connect(self.push_to_talk)
        self.voice.stop.connect(self.stop)
        self.sidebar.opened.connect(self.open_conversation)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.deleted.connect(self._offer_undo)
        self.tools.answered.connect(self.assistant.confirm)
        # (The status bar said to answer; once answered, it says what was chosen.)
        self.tools.answered.connect(
            lambda _request, allowed: self.statusBar().showMessage(
                "Allowed" if allowed else "Denied", 3000
            )
        )
        self.thumbnails.ready.connect(self._thumbnail_ready)
        self.preview.problem.connect(self.notice)
        self.capture = ScreenCapture(self, self)
        self._picking_region = False
        self._picker = None
        self.capture.captured.connect(self._screenshot_taken)
        self.capture.failed.connect(self.notice)

    def _warm_up(self) -> None:
        threading.Thread(target=warm_up_rendering, name="vistavox-warm-up", daemon=True).start()

    def _tab_order(self) -> None:
        """Tab goes around the window the way it is read: conversations, conversation,
        message box and its buttons, voice controls, then the side panels."""
        chain = [
            self.sidebar.new_button,
            self.sidebar.search,
            self.sidebar.list,
            self.chat,
            self.composer.edit,
            self.composer.attach_button,
            self.composer.screenshot_button,
            self.composer.sketch_button,
            self.composer.send_button,
            self.voice.mic_button,
            self.voice.talk_button,
            self.voice.stop_button,
            self.tabs,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _actions(self) -> None:
        # Window shortcuts, not application-wide ones: those would also fire in the region
        # picker (Esc there cancels the picking) and in dialogs.
        def add(text: str, keys, slot) -> QAction:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            self.addAction(action)
            return action

        def list_only(text: str, keys, slot) -> QAction:
            # Delete is also "delete a character" in the message box: only in the list.
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            self.sidebar.list.addAction(action)
            return action

        menu = self.menuBar().addMenu("&Conversation")
        menu.addAction(add("&New conversation", "Ctrl+N", self.new_conversation))
        menu.addAction(add("&Attach files…", "Ctrl+O", self.composer.choose_files))
        menu.addAction(add("Take a &screenshot", "Ctrl+Shift+S", self.screenshot_full))
        menu.addAction(add("Screenshot of a &region", "Ctrl+Shift+R", self.screenshot_region))
        menu.addAction(add("&Rename", "F2", self.sidebar.rename_current))
        menu.addAction(list_only("&Delete", "Delete", self.sidebar.delete_current))
        menu.addAction(add("&Find a conversation", "Ctrl+F", self.sidebar.focus_search))
        menu.addSeparator()
        menu.addAction(add("&Settings…", "Ctrl+,", self.open_settings))
        menu.addAction(add("&Models…", "Ctrl+Shift+M", self.open_models))
        menu.addAction(add("&Quit", "Ctrl+Q", self.close))
        voice = self.menuBar().addMenu("&Voice")
        voice.addAction(add("&Hands-free listening", "Ctrl+M", self.voice.mic_button.toggle))
        voice.addAction(add("&Stop", "Esc", self.stop))
        view = self.menuBar().addMenu("&View")
        view.addAction(add("Focus the &message box", "Ctrl+L", self.composer.edit.setFocus))
        view.addAction(add("&Paste an image or files", "Ctrl+Shift+V", self.composer.paste))
        view.addAction(add("Show the &preview", "Alt+1", lambda: self._show_tab(self.preview)))
        view.addAction(add("Show the &tools", "Alt+2", lambda: self._show_tab(self.tools)))
        view.addAction(add("Show the &memory", "Alt+3", lambda: self._show_tab(self.memory)))
        view.addAction(add("Show the t&imers", "Alt+4", lambda: self._show_tab(self.timers)))
        self.help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction("&About Vistavox", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.help_menu.addAction(add("&Welcome…", "", self.welcome))
        self.help_menu.addAction(self.about_action)

    def _show_tab(self, panel: QWidget) -> None:
        self.tabs.setCurrentWidget(panel)
        if panel is self.tools:
            self.tools.focus_first()
        elif panel is self.preview and self.preview.view is not None:
            self.preview.view.setFocus()
        else:
            panel.setFocus()

    # --- events from the assistant ------------------------------------------------------
    @Slot(object)
    def on_event(self, event) -> None:  # noqa: C901 - one dispatch table, kept flat
        if isinstance(event, LevelMeter):
            self.voice.show_level(event.rms_db)
        elif isinstance(event, StateChanged):
            self.voice.show_state(event.state)
        elif isinstance(event, ListeningStarted):
            self.voice.set_wake_word(event.wake_word)
        elif isinstance(event, WakeWordHeard):
            self.voice.show_awake(event.window_s)
        elif isinstance(event, ModelsLoading):
            self.progress.show()
            self.progress.setValue(int(event.fraction * 100))
            self.statusBar().showMessage(f"Loading {event.stage}…")
        elif isinstance(event, ModelsReady):
            self.progress.hide()
            self.statusBar().showMessage(f"Ready: {event.summary}", 8000)
            self.voice.set_enabled(True)
            self.voice.show_state(EngineState.IDLE)
            self.sidebar.set_store(self.assistant.store)
            if self.assistant.settings.listen_on_start and not self.listened_on_start:
                self.listened_on_start = True  # (not again after a switch of models)
                self.voice.mic_button.setChecked(True)  # hands-free, as chosen
        elif isinstance(event, EngineError):
            self.show_error(event)
        elif isinstance(event, UserTurn):
            files = [Path(p).name for p in event.files]
            entry = self._add(ChatEntry("user", event.text, files=files))
            self._with_thumbnails(entry, [Path(p) for p in event.images])
            self._reply_entry(event.turn_id)
        elif isinstance(event, FinalTranscript):
            self._add(ChatEntry("user", event.text))
        elif isinstance(event, ReplyToken):
            entry = self._reply_entry(event.turn_id)
            entry.text += event.text
            self.schedule_render()
        elif isinstance(event, PhraseSpoken):
            self._mark_spoken(event.turn_id, event.text)
        elif isinstance(event, ReplyFinished):
            self._finish(event)
        elif isinstance(event, ToolCalled):
            self.tools.add_call(event)
            self._add(ChatEntry("tool", f"`{event.tool}` → {event.decision}: {event.summary}"))
        elif isinstance(event, ConfirmationRequested):
            self.tools.ask(event)
            self.tabs.setCurrentWidget(self.tools)
            self.statusBar().showMessage(
                f"{event.tool} asks before it runs: Allow (Alt+A) or Deny (Alt+D) in Tools"
            )
            self.raise_()
            self.activateWindow()
        elif isinstance(event, ConfirmationClosed):
            self.tools.withdraw(event.request_id)
            if event.timed_out:
                waited = describe_duration(round(event.waited_s))
                self.notice(
                    f"{event.tool} did not run: its question waited {waited} without an answer."
                    " Ask again to run it."
                )
        elif isinstance(event, IntentAnswered):
            self.tools.add_intent(event)
        elif isinstance(event, TimersChanged):
            count = len(event.timers)
            self.timers.show_timers(event.timers)
            title = f"Timers ({count})" if count else "Timers"
            self.tabs.setTabText(self.tabs.indexOf(self.timers), title)
        elif isinstance(event, TimerFinished):
            self._add(ChatEntry("notice", f"⏰ {event.text}"))
            self.statusBar().showMessage(event.text, 15000)
            self.notify(event.text)
        elif isinstance(event, ContextUpdated):
            self.memory.setPlainText(event.memory_map)
        elif isinstance(event, ConversationOpened):
            self.sidebar.refresh()
            self.sidebar.select(event.conversation_id)
        elif isinstance(event, PageUpdated):
            page = Path(event.path)
            again = self.preview.path == page
            self.preview.show_page(page, event.note)
            self.statusBar().showMessage(f"Page ready: {page.name}", 8000)
            self.tabs.setCurrentWidget(self.preview)
            if again:
                self._add(ChatEntry("notice", f"Page updated: {event.note}"))
            else:
                self._add(
                    ChatEntry(
                        "notice",
                        f"Page ready: {page.name} ({event.note}). Ask for changes in words: "
                        "“make the button blue”, “add a footer saying …”, “undo”.",
                    )
                )

    def show_error(self, event: EngineError) -> None:
        if event.code == "voice-unavailable":
            self._voice_unavailable(event.message)
            return
        if event.code in ("models-missing", "models-failed"):
            self.progress.hide()
            heading = (
                "Vistavox needs its models"
                if event.code == "models-missing"
                else "Vistavox could not start its models"
            )
            self.first_run.setText(
                f"<h2>{heading}</h2>"
                f"<p>{_escape(event.message)}</p>"
                "<p>The default models come with the app's install. To repair it, run "
                "<code>bash packaging/setup.sh setup</code> in the Vistavox folder, or check "
                "which models are present with <code>vistavox models --verify</code>. Optional "
                "models are fetched with <code>vistavox models download NAME</code>.</p>"
            )
            self.centre_stack.setCurrentWidget(self.first_run)
            self.statusBar().showMessage("Models are missing: see the window for what to do")
            return
        if event.code == "database-unusable":
            self.progress.hide()
            self.first_run.setText(
                "<h2>Vistavox cannot open its conversations</h2>"
                f"<p>{_escape(event.message)}</p>"
                "<p>Nothing was changed. To use another file, start Vistavox with "
                "<code>VISTAVOX_DB=/path/to/file.db</code>.</p>"
            )
            self.centre_stack.setCurrentWidget(self.first_run)
            self.statusBar().showMessage("The conversations database cannot be opened")
            return
        if event.code == "model-switch":
            self.progress.hide()
            self.voice.set_enabled(True)
            message = f"The models were not switched: {event.message}. The ones in use stay."
            self._add(ChatEntry("notice", message))
            self.statusBar().showMessage(message, 10000)
            return
        self._add(ChatEntry("notice", event.message))
        self.statusBar().showMessage(event.message, 10000)

    @Slot(str)
    def notice(self, message: str) -> None:
        self._add(ChatEntry("notice", message))
        self.statusBar().showMessage(message, 8000)

    # --- the conversation view ------------------------------------------------------------
    def _add(self, entry: ChatEntry) -> ChatEntry:
        self.entries.append(entry)
        self.schedule_render()
        return entry

    def _reply_entry(self, turn_id: int) -> ChatEntry:
        entry = self.by_turn.get(turn_id)
        if entry is None:
            entry = self._add(ChatEntry("assistant", streaming=True))
            self.by_turn[turn_id] = entry
        return entry

    def _with_thumbnails(self, entry: ChatEntry, images: list[Path]) -> None:
        """Show small copies of ``images`` in ``entry`` once they are made (off the GUI
        thread: decoding a full-size photo here would stall the window)."""
        for path in images:
            self._awaiting.setdefault(str(path), []).append(entry)
            self.thumbnails.request(path)

    @Slot(str, str)
    def _thumbnail_ready(self, source: str, url: str) -> None:
        for entry in self._awaiting.pop(source, []):
            entry.images.append(url)
        self.schedule_render()

    def _scheme_changed(self) -> None:
        """The theme changed (the settings, or the system's own): redraw the conversation."""
        dark = _is_dark()
        if dark != self._dark:
            self._dark = dark
            self.preview.set_dark(dark)
            self.schedule_render()

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._scheme_changed()
        super().changeEvent(event)

    def _mark_spoken(self, turn_id: int, phrase: str) -> None:
        entry = self.by_turn.get(turn_id)
        if entry is None:
            return
        found = entry.text.find(phrase.strip(), max(0, entry.spoken_chars - 1))
        if found >= 0:
            entry.spoken_chars = found + len(phrase.strip())
            self.schedule_render()

    def _finish(self, event: ReplyFinished) -> None:
        entry = self._reply_entry(event.turn_id)
        entry.streaming = False
        entry.interrupted = event.interrupted
        if event.text and not event.interrupted:
            entry.text = event.text
        if not entry.text and not event.interrupted:
            entry.text = "(no answer)"
        entry.spoken_chars = 0
        self.schedule_render()

    def schedule_render(self) -> None:
        if not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(RENDER_EVERY_MS, self.render)

    def render(self, *, opened: bool = False) -> None:
        self._render_pending = False
        self.chat.show_entries(self.entries, self._dark, opened=opened)

    def load_history(self, conversation_id: int) -> None:
        """Show a saved conversation's messages."""
        self.entries, self.by_turn = [], {}
        store = self.assistant.store
        for message in store.messages(conversation_id):
            if message.role not in ("user", "assistant"):
                continue
            text = message.content.split("\n\n<<<DATA")[0] if message.untrusted else message.content
            entry = ChatEntry(message.role, text, interrupted=message.interrupted)
            self.entries.append(entry)
            for digest in message.image_hashes:
                # Read out of the database and shown as a thumbnail, both on a worker: a
                # full-size screenshot decoded by the view's layout stalls the window.
                path = self._image_cache / f"{digest}.png"
                self._awaiting.setdefault(str(path), []).append(entry)
                self.thumbnails.request(path, partial(store.get_image, digest))
        self.render(opened=True)

    # --- user actions -------------------------------------------------------------------------
    @Slot(str, list, list)
    def send(self, text: str, images: list, documents: list) -> None:
        if not self.assistant.ready:
            self.notice("The models are still loading; your message was kept in the box.")
            self.composer.edit.setPlainText(text)
            return
        self.centre_stack.setCurrentWidget(self.chat)
        self.assistant.ask(text, images=images, files=documents)

    def stop(self) -> None:
        self.assistant.interrupt()

    def notify(self, text: str) -> None:
        """A desktop notification (through the tray icon, where there is one)."""
        tray = getattr(self, "tray", None)
        if tray is not None:
            tray.showMessage("Vistavox", text, QSystemTrayIcon.MessageIcon.Information, 10000)

    def _cancel_timer(self, timer_id: int) -> None:
        try:
            self.assistant.cancel_timer(timer_id)
        except Exception as exc:  # noqa: BLE001 - shown, never lost
            self.statusBar().showMessage(f"Could not cancel the timer: {exc}", 8000)

    def bring_to_front(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    @Slot(QSystemTrayIcon.ActivationReason)
    def tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason != QSystemTrayIcon.ActivationReason.Context:
            self.bring_to_front()

    def toggle_hands_free(self, on: bool) -> None:
        """The devices open and close in the background; "voice-unavailable" says if not."""
        if on:
            self.statusBar().showMessage("Opening the microphone…", 3000)
            self.assistant.open_voice(hands_free=True)
        else:
            self.assistant.close_voice()
            self.voice.show_state(EngineState.IDLE)

    def _voice_unavailable(self, message: str) -> None:
        self.voice.mic_button.blockSignals(True)
        self.voice.mic_button.setChecked(False)
        self.voice.mic_button.blockSignals(False)
        self.voice.show_state(EngineState.IDLE)
        self.notice(f"The microphone could not be opened: {message}")

    def push_to_talk(self, pressed: bool) -> None:
        if not self.assistant.ready:
            if pressed:
                self.statusBar().showMessage("The models are still loading: not listening yet.")
            return
        if pressed and not self.assistant.voice_active:
            # (opened in the background; the press is applied once it is open)
            self.assistant.open_voice(hands_free=False, keep_open=True)
        self.assistant.push_to_talk(pressed)

    # F8 held down is push-to-talk wherever the focus is in the window (key events that a
    # widget does not use travel up to the window). No application-wide event filter: one
    # in Python crashes QtWebEngine.
    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == PUSH_TO_TALK_KEY:
            if not event.isAutoRepeat():
                self.push_to_talk(True)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == PUSH_TO_TALK_KEY:
            if not event.isAutoRepeat():
                self.push_to_talk(False)
            return
        super().keyReleaseEvent(event)

    def new_conversation(self) -> None:
        self.assistant.new_conversation()
        self.entries, self.by_turn = [], {}
        self.memory.clear()
        self.render()
        self.composer.edit.setFocus()

    def open_conversation(self, conversation_id: int) -> None:
        try:
            self.assistant.open_conversation(conversation_id)
        except Exception as exc:  # noqa: BLE001
            self.notice(str(exc))
            return
        self.centre_stack.setCurrentWidget(self.chat)
        self.load_history(conversation_id)

    def _offer_undo(self, conversation_id: int, title: str) -> None:
        if self.assistant.conversation_id == conversation_id:
            self.new_conversation()
        self.statusBar().showMessage(f"Deleted “{title}”", UNDO_FOR_MS)
        self._undo_id = conversation_id
        self.undo_button.show()
        self._undo_timer.start()  # a later delete restarts the time to undo it

    def _undo_last(self) -> None:
        if self._undo_id is not None:
            self._undo(self._undo_id)
            self._undo_id = None

    def _undo(self, conversation_id: int) -> None:
        self.sidebar.undelete(conversation_id)
        self.undo_button.hide()
        self.statusBar().showMessage("Restored", 4000)

    def _image_attached(self) -> None:
        # It may well be a sketch: have the sketch reader ready by the time it is asked for.
        if self.assistant.ready:
            self.assistant.prepare_sketches()

    def sketch(self, photo: Path) -> None:
        if not self.assistant.ready:
            self.notice("The models are still loading.")
            return
        entry = self._add(ChatEntry("user", "Make a web page from this sketch."))
        self._with_thumbnails(entry, [photo])
        self.statusBar().showMessage("Reading the sketch…")
        self.assistant.sketch_to_page(photo)

    # --- screenshots ------------------------------------------------------------------------
    def screenshot_menu(self) -> None:
        menu = QMenu(self)
        menu.addAction("Whole screen", self.screenshot_full)
        if screen_region(self) is not None:
            menu.addAction("This screen", self.screenshot_this_screen)
        menu.addAction("Drag a region…", self.screenshot_region)
        menu.addSeparator()
        hide = menu.addAction("Hide Vistavox while capturing")
        hide.setCheckable(True)
        hide.setChecked(self.assistant.settings.hide_window_for_screenshots)
        hide.toggled.connect(self._set_hide_for_screenshots)
        menu.exec(
            self.composer.screenshot_button.mapToGlobal(
                self.composer.screenshot_button.rect().bottomLeft()
            )
        )

    def _set_hide_for_screenshots(self, hide: bool) -> None:
        self.assistant.settings.hide_window_for_screenshots = hide
        try:
            self.assistant.settings.save()
        except OSError as exc:
            self.notice(f"The setting could not be saved: {exc}")

    def _take_screenshot(self, region_picking: bool, region=None) -> None:
        self._picking_region = region_picking
        hide = self.assistant.settings.hide_window_for_screenshots
        if self.capture.take(hide_window=hide, region=region):
            self.statusBar().showMessage("Taking a screenshot…")

    def screenshot_full(self) -> None:
        self._take_screenshot(False)

    def screenshot_this_screen(self) -> None:
        self._take_screenshot(False, screen_region(self))

    def screenshot_region(self) -> None:
        self._take_screenshot(True)

    @Slot(object)
    def _screenshot_taken(self, image) -> None:
        self.statusBar().clearMessage()
        if not self._picking_region:
            self.composer.add_pil_image(image, "screenshot.png")
            return
        from .region_picker import RegionPicker

        picker = RegionPicker(image, self)
        picker.picked.connect(self._region_picked)
        self._picker = picker  # kept alive while it is on screen
        picker.start()

    @Slot(object)
    def _region_picked(self, region) -> None:
        self.composer.add_pil_image(region, "region.png")

    # --- drag and drop ----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        data = event.mimeData()
        if data.hasUrls():
            self.composer.add_paths([Path(u.toLocalFile()) for u in data.urls()])
        elif data.hasImage():
            self.composer.add_image(data.imageData())
        event.acceptProposedAction()

    # --- settings and lifetime ------------------------------------------------------------
    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog
        from .theme import apply_theme

        dialog = SettingsDialog(self.assistant.settings, self, open_models=self.open_models)
        if dialog.exec():
            try:
                changed = dialog.apply()
            except OSError as exc:
                QMessageBox.warning(self, "Settings not saved", f"Could not save: {exc}")
                return
            apply_theme(QApplication.instance(), self.assistant.settings.theme)
            later = []
            if changed & {"input", "output", "sensitivity", "echo_cancellation", "wake_word",
                          "wake_sensitivity"}:  # fmt: skip
                later.append("devices, sensitivity, echo cancellation and the wake word apply "
                             "the next time listening starts")  # fmt: skip
            if changed & {"persona", "custom_instructions"}:
                if self.assistant.ready:
                    self.assistant.apply_persona()  # from the next turn on
                else:
                    later.append("persona and instructions apply once the models are loaded")
            if "speech_rate" in changed and self.assistant.ready:
                self.assistant.models.tts.set_rate(self.assistant.settings.speech_rate)
            models = changed & {"stt_model", "llm_model", "vision_model", "tts_model"}
            if models and self.assistant.ready:
                self.switch_models(models)
            elif models:
                later.append("models apply after Vistavox restarts")
            message = "Settings saved" + (": " + "; ".join(later) + "." if later else ".")
            self.statusBar().showMessage(message, 12000)
            if later:
                QMessageBox.information(self, "Settings saved", message)

    def welcome(self) -> None:
        """The welcome (first start, or Help → Welcome): devices, how to talk, models."""
        from .welcome import Welcome

        dialog = Welcome(self.assistant.settings, self.open_models, self)
        dialog.setModal(False)  # the window stays usable (it loads the models meanwhile)

        def finished(result: int) -> None:
            try:
                if result:
                    dialog.apply()
                    if self.assistant.settings.listen_on_start and self.assistant.ready:
                        self.voice.mic_button.setChecked(True)
                else:
                    dialog.skipped()
            except OSError as exc:
                QMessageBox.warning(self, "Settings not saved", f"Could not save: {exc}")

        dialog.finished.connect(finished)
        self.welcome_dialog = dialog
        dialog.show()

    def open_models(self) -> None:
        """The Models page (one for the window's life, so downloads keep reporting to it
        while it is closed)."""
        from .models_page import ModelsPage

        if self.models_page is None:
            self.models_page = ModelsPage(self.assistant.settings, self._chosen_models, self)
        else:
            self.models_page.refresh()
        self.models_page.show()
        self.models_page.raise_()
        self.models_page.activateWindow()

    def _chosen_models(self, changed: set[str]) -> None:
        if self.assistant.ready:
            self.switch_models(changed)
        else:
            self.statusBar().showMessage("The chosen model loads when Vistavox starts next.")

    def switch_models(self, changed: set[str]) -> None:
        """Load the models now chosen in the settings in place of the running ones (the
        window stays usable; the voice controls wait until the new models are in)."""
        self.voice.set_enabled(False)
        self.assistant.switch_models(changed)

    def show_about(self) -> None:
        """Help → About: the version, and what Vistavox runs on (not modal)."""
        if getattr(self, "about_box", None) is None:
            box = QMessageBox(self)
            box.setWindowTitle("About Vistavox")
            box.setTextFormat(Qt.TextFormat.RichText)
            box.setIconPixmap(icon("vistavox").pixmap(64, 64))
            box.setStandardButtons(QMessageBox.StandardButton.Close)
            self.about_box = box
        self.about_box.setText(about_html())
        self.about_box.open()

    def closeEvent(self, event) -> None:  # noqa: N802
        save_window(self, self.splitter)
        self.bridge.close()
        if self.owns_assistant:
            self.hide()  # gone at once, while shutting down waits for loading to finish
            self.assistant.shutdown()
        self.preview.close_view()
        super().closeEvent(event)


def about_html() -> str:
    """What the About box says."""
    import platform

    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from vistavox.pipelines.version import app_version

    return (
        f"<h3>Vistavox {app_version()}</h3>"
        "<p>A private, local desktop assistant that you talk to and show things to: speech "
        "recognition, the language model and the voice all run on this computer.</p>"
        f"<p>Python {platform.python_version()} · Qt {qVersion()} · PySide6 {pyside_version}</p>"
        "<p>Licence: GPL-3.0-or-later</p>"
    )


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _is_dark() -> bool:
    """Whether the window is drawn light-on-dark (the palette tells, whatever set it)."""
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
