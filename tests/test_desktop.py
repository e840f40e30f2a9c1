"""The desktop window's widgets with pytest-qt (offscreen): drops, typed turns with the real
models, events from worker threads, tool approvals, conversations, settings, first run."""

from __future__ import annotations

import gc
import json
import os
import threading
import weakref
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

pytest.importorskip("pytestqt", reason="pytest-qt is not installed (pip install -e .[test])")

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Config and data folders of a fresh user, for the whole module."""
    root = tmp_path_factory.mktemp("user")
    old = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    os.environ["XDG_CONFIG_HOME"] = str(root / "config")
    os.environ["XDG_DATA_HOME"] = str(root / "data")
    yield root
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def loaded(home):
    """One real Assistant with the embedded models, loaded once for the module."""
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.events import EventBus

    bus = EventBus()
    assistant = Assistant(bus, AppSettings(), db_path=home / "conversations.db")
    assistant.load()
    yield assistant, bus
    assistant.shutdown()


@pytest.fixture
def window(qtbot, loaded):
    from vistavox.desktop.main_window import MainWindow
    from vistavox.pipelines.events import ModelsReady

    assistant, bus = loaded
    win = MainWindow(assistant, bus, owns_assistant=False)
    qtbot.addWidget(win)
    win.show()
    win.on_event(ModelsReady(summary="test"))
    assistant.new_conversation()
    yield win
    win.bridge.close()
    win.preview.close_view()


def _drop(window, paths: list[Path]) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(100, 100),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)


def test_dropped_images_and_documents_attach_and_other_files_are_refused(window, tmp_path):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), "blue").save(photo)
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nThe meeting is on Tuesday.")
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ\x00\x00")
    _drop(window, [photo, notes, program])
    assert window.composer.images == [photo]
    assert window.composer.documents == [notes]
    assert window.composer.sketch_button.isEnabled()
    refused = [e for e in window.entries if e.role == "notice"]
    assert refused and "tool.exe" in refused[-1].text and "cannot be used" in refused[-1].text


def test_a_typed_question_streams_a_reply_and_is_saved(window, qtbot):
    from vistavox.pipelines.events import ReplyFinished

    finished = []
    window.bridge.event.connect(
        lambda e: finished.append(e) if isinstance(e, ReplyFinished) else None
    )
    qtbot.keyClicks(window.composer.edit, "What is the capital of France?")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    qtbot.wait(2 * 60 + 50)  # let the throttled render run
    assert window.composer.edit.toPlainText() == ""
    user, reply = [e for e in window.entries if e.role in ("user", "assistant")][-2:]
    assert user.text == "What is the capital of France?"
    assert reply.text.strip() and not reply.streaming
    assert reply.text.strip()[:20] in window.chat.toPlainText()
    # Stored, listed in the sidebar, and the memory map shows the context.
    assistant = window.assistant
    stored = assistant.store.messages(assistant.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert window.sidebar.current_id() == assistant.conversation_id
    assert "context window" in window.memory.toPlainText()


def _typed(window, qtbot, text: str):
    from vistavox.pipelines.events import ReplyFinished

    finished = []
    window.bridge.event.connect(
        lambda e: finished.append(e) if isinstance(e, ReplyFinished) else None
    )
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    return finished[0]


def test_a_sum_is_answered_exactly_and_the_tools_tab_says_which_intent(window, qtbot):
    reply = _typed(window, qtbot, "What is 543 times 344?")
    assert reply.text == "543 times 344 is 186,792."
    calls = [window.tools.calls.item(i).text() for i in range(window.tools.calls.count())]
    assert any(c.startswith("intent calculate") and "543 * 344" in c for c in calls), calls


def test_a_timer_set_in_words_counts_down_in_the_window_and_can_be_cancelled(window, qtbot):
    reply = _typed(window, qtbot, "set a pasta timer for 12 minutes")
    assert "pasta" in reply.text
    panel = window.timers
    qtbot.waitUntil(lambda: panel.list.count() == 1, timeout=10_000)
    assert panel.list.item(0).text().startswith("pasta — 1")  # 12:00 or 11:59 left
    assert "Timers (1)" in [window.tabs.tabText(i) for i in range(window.tabs.count())]
    panel.list.setCurrentRow(0)
    qtbot.mouseClick(panel.cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.list.count() == 0, timeout=10_000)
    assert window.assistant.timers.pending() == []


def test_a_timer_that_ends_is_shown_in_the_conversation(window, qtbot):
    from vistavox.pipelines.events import TimerFinished

    fired = []
    window.bridge.event.connect(lambda e: fired.append(e) if isinstance(e, TimerFinished) else None)
    _typed(window, qtbot, "set a timer for 1 second")
    qtbot.waitUntil(lambda: bool(fired), timeout=30_000)
    qtbot.wait(2 * 60 + 50)  # let the throttled render run
    assert "timer is done" in fired[0].text
    assert any("timer is done" in e.text for e in window.entries if e.role == "notice")


def test_events_from_worker_threads_update_the_view(window, qtbot):
    from vistavox.pipelines.events import ReplyFinished, ReplyToken, UserTurn

    bus = window.assistant.bus

    def work():
        bus.publish(UserTurn(turn_id=7_000_001, text="hello from a thread"))
        for word in ["Streaming ", "from ", "a ", "worker."]:
            bus.publish(ReplyToken(turn_id=7_000_001, text=word))
        bus.publish(
            ReplyFinished(turn_id=7_000_001, text="Streaming from a worker.", interrupted=False)
        )

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "Streaming from a worker." in window.chat.toPlainText(), timeout=30_000)
    # (By the turn: an earlier test's timer may still post its notice after it.)
    assert window.by_turn[7_000_001].text == "Streaming from a worker."


def test_a_tool_that_asks_first_waits_for_the_users_click(window, qtbot):
    answers: list[bool] = []
    worker = _asking(window, _python_tool(), answers)
    qtbot.waitUntil(lambda: window.tools.prompts.count() > 0, timeout=30_000)
    prompt = window.tools.prompts.itemAt(0).widget()
    assert "python" in prompt.findChild(type(window.first_run)).text()
    qtbot.mouseClick(prompt.deny, Qt.MouseButton.LeftButton)
    worker.join(5)
    assert answers == [False]


def _python_tool():
    from vistavox.pipelines.tools.registry import SideEffect, Tool

    return Tool(
        "python",
        "Run code.",
        {"type": "object", "properties": {"code": {"type": "string"}}},
        SideEffect.EXECUTES_CODE,
        lambda code: "done",
    )


def _asking(window, tool, answers: list) -> threading.Thread:
    worker = threading.Thread(
        target=lambda: answers.append(window.assistant._ask_user(tool, {"code": "1+1"}))
    )
    worker.start()
    return worker


def test_a_question_nobody_answered_leaves_no_dead_prompt_and_alt_a_answers_the_next(
    window, qtbot, monkeypatch
):
    """In the soak a prompt that timed out stayed in the Tools panel: its Allow did nothing,
    and with a second prompt there Alt+A only moved the focus (Qt's answer to two buttons
    with the same mnemonic), so that one timed out too."""
    from PySide6.QtGui import QKeySequence
    from PySide6.QtTest import QTest

    import vistavox.pipelines.assistant as assistant_module

    tool, answers = _python_tool(), []
    monkeypatch.setattr(assistant_module, "CONFIRM_TIMEOUT_S", 0.5)
    _asking(window, tool, answers).join(10)
    assert answers == [False]
    qtbot.waitUntil(
        lambda: any("python did not run" in e.text for e in window.entries if e.role == "notice"),
        timeout=5_000,
    )
    assert window.tools.prompts.count() == 0

    monkeypatch.setattr(assistant_module, "CONFIRM_TIMEOUT_S", 60.0)
    worker = _asking(window, tool, answers)
    qtbot.waitUntil(lambda: window.tools.prompts.count() == 1, timeout=5_000)
    window.activateWindow()
    assert QTest.qWaitForWindowActive(window, 5_000)
    QTest.keySequence(window, QKeySequence("Alt+A"))
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=10_000)  # (the answer is queued)
    worker.join(5)
    assert answers == [False, True]
    qtbot.waitUntil(lambda: window.tools.prompts.count() == 0, timeout=5_000)


def test_stop_refuses_a_tool_that_waits_for_an_answer_and_its_prompt_goes(window, qtbot):
    answers: list[bool] = []
    worker = _asking(window, _python_tool(), answers)
    qtbot.waitUntil(lambda: window.tools.prompts.count() == 1, timeout=5_000)
    window.stop()
    worker.join(10)
    assert answers == [False]  # at once, not after the five minutes
    qtbot.waitUntil(lambda: window.tools.prompts.count() == 0, timeout=5_000)


def test_conversations_can_be_reopened_renamed_and_deleted_with_undo(window, qtbot):
    assistant = window.assistant
    store = assistant.store
    conversation = store.new_conversation("Trip to Lisbon", "assistant")
    store.add_message(conversation.id, "user", "Plan a day in Lisbon.")
    store.add_message(conversation.id, "assistant", "Start at the Alfama district.")
    window.sidebar.refresh()
    window.sidebar.select(conversation.id)
    window.open_conversation(conversation.id)
    assert assistant.conversation_id == conversation.id
    assert "Alfama" in window.chat.toPlainText()
    # What the model will see next is worked out off the window's thread, then shown.
    qtbot.waitUntil(lambda: "context window" in window.memory.toPlainText(), timeout=30_000)

    window.sidebar.search.setText("Lisbon")
    assert window.sidebar.list.count() >= 1
    window.sidebar.select(conversation.id)
    window.sidebar.delete_current()
    assert all(c.id != conversation.id for c in store.list_conversations())
    assert window.undo_button.isVisible()
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    assert any(c.id == conversation.id for c in store.list_conversations())
    window.sidebar.search.clear()


def test_a_long_conversation_opens_at_its_newest_messages_and_earlier_ones_follow(window, qtbot):
    from PySide6.QtCore import QPoint

    store = window.assistant.store
    conversation = store.new_conversation("A long talk", "assistant")
    for i in range(80):
        store.add_message(conversation.id, "user", f"Question number {i}?")
        store.add_message(conversation.id, "assistant", f"Answer number {i}.")
    window.open_conversation(conversation.id)
    view, bar = window.chat, window.chat.verticalScrollBar()
    text = view.toPlainText()
    assert "Answer number 79." in text and "Question number 64?" not in text
    assert "Show earlier messages (130 more)" in text
    assert bar.value() == bar.maximum()  # it opens at its end

    def top_line() -> str:
        return view.cursorForPosition(QPoint(20, 20)).block().text()

    bar.setValue(bar.maximum() // 2)
    before = top_line()
    view.anchorClicked.emit(QUrl("vistavox:earlier"))  # the link above the first message
    assert "Question number 50?" in view.toPlainText()
    assert top_line() == before  # what the user was reading stays where it was
    while view.hidden_count:  # scrolling to the top brings the page before
        hidden = view.hidden_count
        bar.setValue(bar.minimum())
        qtbot.waitUntil(lambda hidden=hidden: view.hidden_count < hidden, timeout=5_000)
    text = view.toPlainText()
    assert "earlier messages" not in text
    order = [text.index(f"Question number {i}?") for i in range(80)]
    assert order == sorted(order)


def test_a_reopened_conversation_shows_its_images_as_thumbnails(window, qtbot, tmp_path):
    """A saved screenshot is shown small, as it was when sent, not decoded full size by the
    view (which stalled the window on opening a conversation with screenshots)."""
    import io

    from PIL import Image

    store = window.assistant.store
    buffer = io.BytesIO()
    Image.new("RGB", (1920, 1080), "teal").save(buffer, "PNG")
    digest = store.put_image(buffer.getvalue(), "image/png", 1920, 1080)
    conversation = store.new_conversation("A screenshot", "assistant")
    store.add_message(conversation.id, "user", "What is on my screen?", image_hashes=[digest])
    store.add_message(conversation.id, "assistant", "A teal screen.")
    window.open_conversation(conversation.id)
    asked = next(e for e in window.entries if e.text == "What is on my screen?")
    qtbot.waitUntil(lambda: bool(asked.images), timeout=10_000)
    with Image.open(QUrl(asked.images[0]).toLocalFile()) as thumb:
        assert thumb.size[0] <= 512 and thumb.size[1] <= 192
        assert thumb.getpixel((0, 0))[:3] == (0, 128, 128)  # the stored picture's, teal
    qtbot.waitUntil(lambda: "<img" in window.chat.toHtml(), timeout=5_000)
    assert "A teal screen." in window.chat.toPlainText()


def test_links_in_a_reply_open_only_when_they_are_web_or_mail_links(window, qtbot):
    shown = window.chat.toPlainText()
    window.chat.anchorClicked.emit(QUrl("file:///etc/passwd"))
    assert "Not opened" in window.statusBar().currentMessage()
    assert window.chat.toPlainText() == shown  # the view did not go to the file


def test_settings_are_saved_in_the_config_folder(qtbot, home):
    from vistavox.desktop.settings_dialog import SettingsDialog
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.audio.devices import DeviceSettings

    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.instructions.setPlainText("Call me Sam.")
    dialog.sensitivity.setValue(80)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.input.setCurrentText("pulse:vmic")
    dialog.rate.setValue(125)
    assert dialog.rate_label.text() == "125 %"
    assert dialog.tts.currentData() == ""  # the embedded voice
    assert dialog.refine.currentData() == "auto"
    assert not AppSettings().refines_sketch_pages  # auto: not with the built-in model
    assert AppSettings(llm_model="qwen2.5-1.5b-instruct").refines_sketch_pages
    dialog.refine.setCurrentIndex(dialog.refine.findData("on"))
    changed = dialog.apply()
    assert "speech_rate" in changed
    saved = json.loads(AppSettings.path().read_text())
    assert saved["speech_rate"] == 1.25 and saved["tts_model"] == ""
    assert saved["custom_instructions"] == "Call me Sam."
    assert saved["sensitivity"] == 0.8 and saved["theme"] == "dark"
    assert saved["refine_sketch_pages"] == "on" and AppSettings.load().refines_sketch_pages
    assert AppSettings.load().start_threshold() < AppSettings().start_threshold()
    assert DeviceSettings.load().input == "pulse:vmic"


def test_web_sites_allowed_can_be_seen_and_forgotten_in_settings(qtbot, home):
    from vistavox.desktop.settings_dialog import SettingsDialog
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.web.sites import SitePermissions

    SitePermissions().allow("en.wikipedia.org")
    SitePermissions().allow("www.bbc.co.uk")
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    shown = [dialog.sites.item(row).text() for row in range(dialog.sites.count())]
    assert shown == ["en.wikipedia.org", "www.bbc.co.uk"]
    dialog.sites.setCurrentRow(1)
    qtbot.mouseClick(dialog.forget_site, Qt.MouseButton.LeftButton)
    dialog.web_allow.setText("192.168.1.20,  nas.local ,")
    assert "web_allow" in dialog.apply()
    assert SitePermissions().allowed() == ["en.wikipedia.org"]
    assert AppSettings.load().web_allow == ["192.168.1.20", "nas.local"]


def test_new_custom_instructions_apply_without_a_restart(loaded):
    assistant, _ = loaded
    documents = assistant.kernel.tools.documents
    before = assistant.settings.custom_instructions
    assistant.settings.custom_instructions = "Always call the user Captain Sam."
    try:
        assistant.apply_persona()
        for kernel in (assistant.kernel, assistant.voice_kernel):
            assert "Captain Sam" in kernel._system()
        assert assistant.kernel.tools.documents is documents  # added documents stay
        assert "calculator" in {spec["name"] for spec in assistant.kernel.tools.specs()}
    finally:
        assistant.settings.custom_instructions = before
        assistant.apply_persona()
    assert "Captain Sam" not in assistant.kernel._system()


def _switched(window, qtbot, changed: set[str]):
    """Switch the window's models and wait for the outcome event."""
    from vistavox.pipelines.events import EngineError, ModelsReady

    outcome = []
    window.bridge.event.connect(
        lambda e: outcome.append(e) if isinstance(e, ModelsReady | EngineError) else None
    )
    window.switch_models(changed)
    qtbot.waitUntil(lambda: bool(outcome), timeout=180_000)
    return outcome[0]


def test_a_newly_chosen_language_model_answers_the_next_question_without_a_restart(
    window, qtbot, monkeypatch
):
    from tests.conftest import USER_MODELS_DIR
    from vistavox.models.resolve import ModelError, resolve
    from vistavox.pipelines.events import ModelsReady

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(USER_MODELS_DIR))  # where setup put it
    other = "qwen2.5-coder-0.5b-instruct"
    try:
        resolve(other)
    except ModelError:
        pytest.skip(f"{other} is not installed (packaging/setup.sh test installs it)")
    assistant = window.assistant
    before = assistant.settings.llm_model
    assistant.settings.llm_model = other
    replaced = weakref.ref(assistant.models.llm)
    try:
        outcome = _switched(window, qtbot, {"llm_model"})
        assert isinstance(outcome, ModelsReady) and "Qwen2.5-Coder 0.5B" in outcome.summary
        # The model replaced is freed (the loaded app's objects are kept out of the
        # collector's passes, but not what a switch lets go of).
        gc.collect()
        assert replaced() is None
        assert gc.get_freeze_count() > 0  # (what lives for the app's run stays out)
        qtbot.waitUntil(lambda: window.voice.mic_button.isEnabled(), timeout=10_000)
        assert assistant.kernel.llm.model_info.spec.name == other
        assert assistant.voice_kernel.llm is assistant.kernel.llm
        reply = _typed(window, qtbot, "Name one primary colour.")
        assert reply.text.strip()
        assert assistant.models.llm is assistant.kernel.llm
    finally:
        assistant.settings.llm_model = before
        _switched(window, qtbot, {"llm_model"})


def test_a_model_that_cannot_load_leaves_the_one_in_use(window, qtbot, tmp_path):
    from vistavox.pipelines.events import EngineError

    assistant = window.assistant
    in_use = assistant.kernel.llm
    before = assistant.settings.llm_model
    assistant.settings.llm_model = "no-such-model"
    try:
        outcome = _switched(window, qtbot, {"llm_model"})
    finally:
        assistant.settings.llm_model = before
    assert isinstance(outcome, EngineError) and "no-such-model" in outcome.message
    qtbot.waitUntil(lambda: "were not switched" in window.statusBar().currentMessage())
    assert assistant.kernel.llm is in_use and window.voice.mic_button.isEnabled()
    assert _typed(window, qtbot, "What is 12 plus 30?").text == "12 plus 30 is 42."


def test_a_damaged_settings_file_falls_back_to_defaults(home):
    from vistavox.pipelines.app_settings import AppSettings

    AppSettings.path().parent.mkdir(parents=True, exist_ok=True)
    AppSettings.path().write_text("{ not json")
    assert AppSettings.load() == AppSettings()
    assert AppSettings.path().with_suffix(".json.damaged").exists()


def test_missing_models_show_the_first_run_page(qtbot, home, tmp_path):
    from vistavox.desktop.main_window import MainWindow
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.events import EventBus

    bus = EventBus()
    # A model the user picked but never downloaded.
    settings = AppSettings(llm_model="qwen2.5-1.5b-instruct")
    assistant = Assistant(bus, settings, db_path=tmp_path / "c.db")
    win = MainWindow(assistant, bus)
    qtbot.addWidget(win)
    win.show()
    assistant.load_in_background().join(120)
    qtbot.waitUntil(lambda: win.centre_stack.currentWidget() is win.first_run, timeout=10_000)
    text = win.first_run.text()
    assert "needs its models" in text and "vistavox models" in text
    assert not win.voice.mic_button.isEnabled()
    win.bridge.close()
    win.preview.close_view()


def _started_on(qtbot, db: Path):
    """A window and its own assistant, loading on the database ``db``."""
    from vistavox.desktop.main_window import MainWindow
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.events import EventBus

    bus = EventBus()
    assistant = Assistant(bus, AppSettings(), db_path=db)
    win = MainWindow(assistant, bus)
    qtbot.addWidget(win)
    win.show()
    assistant.load_in_background().join(300)
    return win, assistant


def test_a_damaged_conversation_database_is_kept_aside_and_the_app_starts(qtbot, home, tmp_path):
    """A damaged database does not stop the app (it used to say "Vistavox needs its models"):
    it is kept byte for byte beside a new one, and the window says where."""
    import random

    db = tmp_path / "conversations.db"
    junk = random.Random(7).randbytes(64 * 1024)
    db.write_bytes(junk)
    win, assistant = _started_on(qtbot, db)
    try:
        qtbot.waitUntil(win.voice.mic_button.isEnabled, timeout=30_000)
        kept = tmp_path / "conversations.db.damaged"
        assert kept.read_bytes() == junk
        notices = [e.text for e in win.entries if e.role == "notice"]
        assert any(str(kept) in text and "nothing was deleted" in text for text in notices)
        reply = _typed(win, qtbot, "What is 12 plus 30?")
        assert reply.text == "12 plus 30 is 42."
        assert assistant.store.list_conversations()  # the new database keeps the turn
    finally:
        win.bridge.close()
        win.preview.close_view()
        assistant.shutdown()


def test_a_database_from_a_newer_version_is_left_untouched_and_explained(qtbot, home, tmp_path):
    import sqlite3

    db = tmp_path / "conversations.db"
    with sqlite3.connect(db) as made:
        made.execute("PRAGMA user_version=999")
        made.execute("CREATE TABLE conversations (id INTEGER PRIMARY KEY)")
    before = db.read_bytes()
    win, assistant = _started_on(qtbot, db)
    try:
        qtbot.waitUntil(lambda: win.centre_stack.currentWidget() is win.first_run, timeout=10_000)
        text = win.first_run.text()
        assert "cannot open its conversations" in text and "newer Vistavox" in text
        assert "needs its models" not in text
        assert db.read_bytes() == before and not win.voice.mic_button.isEnabled()
    finally:
        win.bridge.close()
        win.preview.close_view()


# --- keyboard, theme, settings, preview, errors, window memory -----------------------------


def test_tab_moves_on_from_the_message_box_instead_of_typing_a_tab(window, qtbot):
    window.activateWindow()
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, "hello")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Tab)
    assert window.composer.edit.toPlainText() == "hello"
    assert window.focusWidget() is window.composer.attach_button
    window.composer.edit.clear()


def test_delete_in_the_message_box_edits_text_and_in_the_list_deletes_with_undo(window, qtbot):
    store = window.assistant.store
    conversation = store.new_conversation("Groceries", "assistant")
    store.add_message(conversation.id, "user", "Milk and eggs.")
    window.sidebar.refresh()
    window.sidebar.select(conversation.id)
    window.activateWindow()
    qtbot.waitActive(window)

    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, "abc")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Home)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Delete)
    assert window.composer.edit.toPlainText() == "bc"
    assert any(c.id == conversation.id for c in store.list_conversations())
    window.composer.edit.clear()

    window.sidebar.list.setFocus()
    window.sidebar.select(conversation.id)
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Delete)
    assert all(c.id != conversation.id for c in store.list_conversations())
    assert window.undo_button.isVisible()
    qtbot.mouseClick(window.undo_button, Qt.MouseButton.LeftButton)
    assert any(c.id == conversation.id for c in store.list_conversations())


def test_the_dark_theme_darkens_the_window_and_the_conversation(window, qtbot):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from vistavox.desktop.theme import apply_theme
    from vistavox.pipelines.events import UserTurn

    app = QApplication.instance()
    window.on_event(UserTurn(turn_id=7_100_001, text="Is it dark in here?"))
    try:
        apply_theme(app, "dark")
        qtbot.waitUntil(lambda: window._dark)
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
        window.render()
        assert "#2d4a7a" in window.chat.toHtml()  # the dark bubble of the user's message
        apply_theme(app, "light")
        qtbot.waitUntil(lambda: not window._dark)
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > 180
        window.render()
        assert "#dce8ff" in window.chat.toHtml()
    finally:
        apply_theme(app, "system")


def test_testing_the_microphone_leaves_the_settings_window_responsive(qtbot, home):
    from vistavox.desktop.settings_dialog import SettingsDialog
    from vistavox.pipelines.app_settings import AppSettings

    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.input.setCurrentText("pulse:no-such-microphone")
    qtbot.mouseClick(dialog.test_input, Qt.MouseButton.LeftButton)
    # The click returned while the recording runs on a worker thread: the dialog says so.
    assert dialog.input_result.text().startswith("Recording")
    assert not dialog.test_input.isEnabled()
    qtbot.waitUntil(lambda: dialog.test_input.isEnabled(), timeout=15_000)
    result = dialog.input_result.text()
    assert result.startswith("Failed") or "dBFS" in result, result


def test_a_tool_prompt_shows_its_arguments_as_text_and_leaves_the_focus_alone(window, qtbot):
    from vistavox.pipelines.events import ConfirmationRequested

    window.activateWindow()
    window.composer.edit.setFocus()
    request = ConfirmationRequested(
        request_id=99_001,
        tool="python",
        arguments='{"code": "print(\'<b>bold</b>\')"}',
        reason="'python' executes code; it runs only if you allow it",
    )
    window.on_event(request)
    prompt = window.tools.prompts.itemAt(window.tools.prompts.count() - 1).widget()
    label = prompt.findChild(type(window.first_run))
    assert "&lt;b&gt;bold&lt;/b&gt;" in label.text()
    # A message being typed is not sent into the prompt: Enter must not allow the call.
    assert window.focusWidget() is window.composer.edit
    answers = []
    prompt.answered.connect(lambda rid, ok: answers.append((rid, ok)))
    qtbot.mouseClick(prompt.deny, Qt.MouseButton.LeftButton)
    assert answers == [(99_001, False)]


def test_the_preview_saves_copies_and_reports_a_failed_save(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    page = tmp_path / "page.html"
    page.write_text("<!doctype html><h1>Hello</h1>", encoding="utf-8")
    window.preview.show_page(page, "test page")
    assert window.preview.save_button.isEnabled()
    saved = tmp_path / "copy"
    assert window.preview.save_to(saved)
    assert (tmp_path / "copy.html").read_text() == page.read_text()
    assert not window.preview.save_to(tmp_path / "no-such-folder" / "x.html")
    qtbot.waitUntil(lambda: any("could not be saved" in e.text for e in window.entries))
    window.preview.copy_html()
    assert QApplication.clipboard().text() == page.read_text()


def test_a_pasted_image_becomes_an_attachment_with_a_thumbnail(window, qtbot):
    from PySide6.QtGui import QColor, QImage
    from PySide6.QtWidgets import QApplication

    image = QImage(800, 600, QImage.Format.Format_RGB32)
    image.fill(QColor("orange"))
    QApplication.clipboard().setImage(image)
    window.composer.clear_attachments()
    window.composer.paste()
    qtbot.waitUntil(lambda: len(window.composer.images) == 1, timeout=10_000)  # saved off-thread
    chip = window.composer._chips[str(window.composer.images[0])]
    qtbot.waitUntil(lambda: not chip.icon().isNull(), timeout=10_000)
    window.composer.clear_attachments()


def test_a_failed_screenshot_is_reported_and_brings_the_window_back(window, qtbot, monkeypatch):
    from vistavox.desktop import screen_capture
    from vistavox.pipelines.vision.screenshot import ScreenshotError

    def no_screen(**_):
        raise ScreenshotError("there is no screen to capture (no DISPLAY)")

    monkeypatch.setattr(screen_capture, "capture_screen", no_screen)
    window.assistant.settings.hide_window_for_screenshots = True
    window.composer.clear_attachments()
    window.screenshot_full()
    qtbot.waitUntil(lambda: not window.capture.busy, timeout=10_000)
    assert window.isVisible(), "the window stayed hidden after a failed screenshot"
    assert any("no screen to capture" in e.text for e in window.entries if e.role == "notice")
    assert window.composer.images == []


def test_a_microphone_that_cannot_be_opened_is_reported_and_the_toggle_goes_back_off(
    window, qtbot, monkeypatch
):
    """The devices open on a worker thread (the click returns at once); a microphone that
    is not there ends with the hands-free toggle off and a message saying why."""
    from vistavox.pipelines.audio import devices

    monkeypatch.setattr(
        devices.DeviceSettings, "load", classmethod(lambda cls: cls(input="pulse:no-such-mic"))
    )
    qtbot.mouseClick(window.voice.mic_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.voice.mic_button.isChecked(), timeout=30_000)
    notices = [e.text for e in window.entries if e.role == "notice"]
    assert any("microphone could not be opened" in n for n in notices), notices
    assert not window.assistant.voice_active


def test_a_dragged_region_is_cut_from_the_frozen_screenshot(qtbot):
    from PIL import Image
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    from vistavox.desktop.region_picker import RegionPicker

    shot = Image.new("RGB", (800, 600), "white")
    shot.paste((200, 30, 30), (100, 120, 300, 220))  # a red card where the user drags
    picker = RegionPicker(shot)
    qtbot.addWidget(picker)
    picker.resize(800, 600)
    picker.show()
    picked = []
    picker.picked.connect(picked.append)
    QTest.mousePress(picker, Qt.MouseButton.LeftButton, pos=QPoint(100, 120))
    QTest.mouseRelease(picker, Qt.MouseButton.LeftButton, pos=QPoint(300, 220))
    assert len(picked) == 1 and picked[0].size == (200, 100)
    assert picked[0].getpixel((0, 0)) == (200, 30, 30) == picked[0].getpixel((199, 99))
    assert not picker.isVisible()


def test_a_sketch_becomes_a_page_in_the_preview_with_its_photo_in_the_conversation(window, qtbot):
    from tests.conftest import EVAL_DIR

    samples = sorted((EVAL_DIR / "sketches" / "samples").glob("*.jpg"))
    if not samples:
        pytest.skip("no sketch photos in the evaluation data")
    pages = []
    window.preview.loaded.connect(lambda ok: pages.append(ok))
    window.sketch(samples[0])
    asked = window.entries[-1]
    assert asked.role == "user" and "sketch" in asked.text
    qtbot.waitUntil(lambda: window.preview.path is not None, timeout=300_000)
    assert window.preview.path.suffix == ".html"
    assert "<" in window.preview.html()
    assert any("Page ready" in e.text for e in window.entries if e.role == "notice")
    # The photo's thumbnail was made off the GUI thread and is small.
    qtbot.waitUntil(lambda: bool(asked.images), timeout=10_000)
    from PIL import Image

    with Image.open(QUrl(asked.images[0]).toLocalFile()) as thumb:
        assert thumb.width <= 512 and thumb.height <= 192


def test_a_sketch_page_proof_read_by_the_model_keeps_its_structure_and_can_be_undone(
    window, qtbot, loaded, tool_llm
):
    """With proof-reading on, the page is shown at once, then the language model's
    revision (words, title, accent) replaces it as one undoable change. (Qwen2.5-Coder
    0.5B stands in for a bigger model: the built-in 135M one rarely proposes anything that
    passes the checks.)"""
    import dataclasses

    from tests.conftest import EVAL_DIR
    from tests.test_sketch_refine import structure
    from vistavox.pipelines.events import EngineError, EngineState, PageUpdated, StateChanged

    samples = sorted((EVAL_DIR / "sketches" / "samples").glob("*.jpg"))
    if not samples:
        pytest.skip("no sketch photos in the evaluation data")
    assistant, bus = loaded
    seen: list = []  # (event, the page as it was when the event came)

    def follow(event) -> None:
        if isinstance(event, PageUpdated):
            seen.append((event, Path(event.path).read_text(encoding="utf-8")))
        elif isinstance(event, (EngineError, StateChanged)):
            seen.append((event, None))

    unsubscribe = bus.subscribe(follow)
    assistant.settings.refine_sketch_pages = "on"
    models = assistant.models
    assistant.models = dataclasses.replace(models, llm=tool_llm)
    try:
        window.sketch(samples[-1])
        qtbot.waitUntil(
            lambda: (
                any(isinstance(e, PageUpdated) for e, _ in seen)
                and isinstance(seen[-1][0], StateChanged)
                and seen[-1][0].state != EngineState.THINKING
            ),
            timeout=300_000,
        )
    finally:
        assistant.models = models
        assistant.settings.refine_sketch_pages = "auto"
        unsubscribe()
    assert not [e for e, _ in seen if isinstance(e, EngineError)]
    pages = [(e, html) for e, html in seen if isinstance(e, PageUpdated)]
    first = pages[0][1]
    assert len(pages) == 2, [e.note for e, _ in pages]
    event, revised = pages[1]
    assert event.note.startswith("proof-read by the language model")
    assert structure(revised) == structure(first)
    reply = assistant.pages.handle("undo that")
    reply.commit()
    assert Path(event.path).read_text(encoding="utf-8") == first


def test_an_error_in_a_worker_thread_is_shown_in_the_window(window, qtbot):
    from vistavox.desktop.errors import ErrorReporter

    reporter = ErrorReporter.install(window)
    try:

        def fail() -> None:
            raise ValueError("the disk is full")

        worker = threading.Thread(target=fail)
        worker.start()
        worker.join()
        qtbot.waitUntil(
            lambda: any("the disk is full" in e.text for e in window.entries), timeout=30_000
        )
        shown = [e for e in window.entries if "the disk is full" in e.text]
        assert shown[0].role == "notice" and "ValueError" in shown[0].text
    finally:
        reporter.restore()


def test_the_window_comes_back_where_and_as_big_as_it_was(window, qtbot, home):
    from vistavox.desktop.main_window import MainWindow
    from vistavox.pipelines.app_settings import config_dir

    window.resize(700, 450)
    window.splitter.setSizes([150, 350, 200])
    window.close()
    assert "splitter" in (config_dir() / "window.ini").read_text()
    again = MainWindow(window.assistant, window.assistant.bus, owns_assistant=False)
    qtbot.addWidget(again)
    try:
        # (The offscreen screen is 800 px wide, about the layout's minimum width: Qt fits a
        # restored window onto the screen, so its width and place are not compared here.)
        assert again.height() == 450
    finally:
        again.bridge.close()
        again.preview.close_view()
