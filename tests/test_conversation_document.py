"""The conversation view updates only the messages that changed, and shows exactly what
laying the whole conversation out again would (pytest-qt, offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

pytest.importorskip("pytestqt")

from vistavox.desktop.conversation_document import ConversationDocument  # noqa: E402
from vistavox.desktop.rendering import ChatEntry, conversation_style, entry_html  # noqa: E402


def _conversation(n: int) -> list[ChatEntry]:
    entries = []
    for i in range(n):
        entries.append(ChatEntry("user", f"What is {i} times 7?"))
        entries.append(
            ChatEntry("assistant", f"{i} times 7 is {i * 7}.\n\n```python\nprint({i} * 7)\n```")
        )
    return entries


def _whole(entries: list[ChatEntry], dark: bool = False) -> str:
    from PySide6.QtWidgets import QTextBrowser

    view = QTextBrowser()
    view.setHtml(
        f"<html><head><style>{conversation_style(dark)}</style></head><body>"
        + "".join(entry_html(e, dark) for e in entries)
        + "</body></html>"
    )
    return view.toPlainText()


@pytest.fixture
def shown(qtbot):
    from PySide6.QtWidgets import QTextBrowser

    view = QTextBrowser()
    qtbot.addWidget(view)
    document = ConversationDocument(view.document())

    def show(entries: list[ChatEntry], dark: bool = False) -> str:
        document.show([entry_html(e, dark) for e in entries], conversation_style(dark))
        return view.toPlainText()

    return show


def test_a_streamed_reply_reads_as_the_whole_conversation_laid_out_again(shown):
    entries = _conversation(6)
    shown(entries)
    reply = ChatEntry("assistant", streaming=True)
    entries.append(ChatEntry("user", "And why?"))
    entries.append(reply)
    for word in ["Because", "seven", "sixes", "are", "forty", "two", "."]:
        reply.text += word + " "
        text = shown(entries)
    reply.streaming = False
    assert shown(entries) == _whole(entries)
    assert text.count("Because") == 1 and "forty two" in text


def test_an_earlier_message_that_changes_is_redrawn_with_those_after_it(shown):
    entries = _conversation(4)
    shown(entries)
    entries[1].interrupted = True
    entries[3].text = "Changed."
    assert shown(entries) == _whole(entries)
    assert "(interrupted)" in shown(entries)


def test_fewer_messages_and_another_theme_are_shown_as_they_are(shown):
    entries = _conversation(5)
    shown(entries)
    assert shown(entries[:2]) == _whole(entries[:2])
    assert shown(entries[:2], dark=True) == _whole(entries[:2], dark=True)
    assert shown([]) == ""


def test_earlier_messages_put_in_front_read_as_the_whole_conversation(shown):
    entries = _conversation(10)
    header = ChatEntry("notice", "Show 14 earlier messages")
    shown([header, *entries[14:]])
    header.text = "Show 4 earlier messages"
    assert shown([header, *entries[4:]]) == _whole([header, *entries[4:]])
    assert shown(entries) == _whole(entries)
    entries.append(ChatEntry("assistant", "And one more.", streaming=True))
    assert shown(entries) == _whole(entries)


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["append", "stream", "front", "drop-front", "change", "remove"]),
        st.integers(0, 1000),
    ),
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=_EDITS)
def test_any_run_of_edits_reads_as_the_whole_conversation_laid_out_again(shown, edits):
    """Whatever changes between two updates (messages added, put in front, changed or
    taken away anywhere), the view reads as the conversation laid out afresh."""
    pool = _conversation(20)
    entries = pool[30:34]
    shown(entries)
    for kind, at in edits:
        if kind == "append":
            entries.append(ChatEntry("user", f"Question {at}?"))
        elif kind == "stream" and entries:
            entries[-1].text += f" more {at}"
        elif kind == "front":
            entries[:0] = pool[at % 10 : at % 10 + at % 4 + 1]
        elif kind == "drop-front":
            del entries[: at % 3 + 1]
        elif kind == "change" and entries:
            entries[at % len(entries)] = ChatEntry("assistant", f"Changed {at}.")
        elif kind == "remove" and entries:
            del entries[at % len(entries)]
        assert shown(entries) == _whole(entries)
