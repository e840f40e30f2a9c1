"""The conversation database (``Store``, SQLite) as it may be found on disk: truncated,
pages overwritten with garbage, bytes flipped, a stale write-ahead log of garbage beside
it, the schema version of an older or newer Vistavox (or a negative one). Opening and
using it must work or raise a StoreError that says what to do; a database refused at open
is left byte for byte as it was (never lost, never "repaired" into an empty one). And any
text a user types is stored and read back exactly."""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import Blob, check_clear, counted, fuzz
from vistavox.pipelines.kernel.store import SCHEMA_VERSION, Store, StoreError

PAGE = 4096


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> bytes:
    """A database with conversations, messages, an image, a summary, a memory and timers,
    checkpointed into one file."""
    path = tmp_path_factory.mktemp("db") / "vistavox.db"
    with Store(path) as store:
        for c in range(6):
            conversation = store.new_conversation(f"Conversation {c}")
            for m in range(25):
                store.add_message(conversation.id, "user", f"question {c}.{m} about tomatoes " * 8)
                store.add_message(conversation.id, "assistant", f"answer {c}.{m} " * 20,
                                  meta={"intent": "none", "n": m})  # fmt: skip
            store.add_summary(conversation.id, 3, "a summary")
        store.put_image(b"\x89PNG fake" * 500, "image/png", 10, 10)
        store.remember("the user likes tomatoes", 1)
        store.add_timer(60, "pasta")
        store.delete_conversation(2)
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    return Blob(path.read_bytes())


def _with_version(data: bytes, version: int) -> bytes:
    return data[:60] + struct.pack(">i", version) + data[64:]


@st.composite
def damaged_db(draw, good: bytes) -> tuple[Blob, Blob | None]:
    """The database's bytes after some damage, and a write-ahead log to put beside it."""
    data = bytearray(good)
    pages = len(data) // PAGE
    how = draw(st.sampled_from(["truncate", "page", "flip", "version", "header", "append"]))
    if how == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif how == "page":
        page = draw(st.integers(0, pages - 1))
        junk = draw(st.binary(min_size=PAGE, max_size=PAGE))
        data[page * PAGE : (page + 1) * PAGE] = junk
    elif how == "flip":
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif how == "version":
        version = draw(st.sampled_from([0, 1, 2, SCHEMA_VERSION + 1, 2**31 - 1, -1, -(2**31)]))
        data = bytearray(_with_version(bytes(data), version))
    elif how == "header":
        at = draw(st.integers(0, 99))
        data[at] = draw(st.integers(0, 255))
    else:
        data += draw(st.binary(min_size=1, max_size=3 * PAGE))
    wal = draw(st.one_of(st.none(), st.binary(min_size=1, max_size=2 * PAGE)))
    return Blob(data), (None if wal is None else Blob(wal))


def _use(store: Store) -> None:
    """Everything the app does with a store, each call answered or a StoreError."""
    calls = [
        lambda: store.list_conversations(),
        lambda: store.list_conversations("tomatoes"),
        lambda: store.list_conversations(include_deleted=True),
        lambda: store.memories(),
        lambda: store.search_memories("tomatoes"),
        lambda: store.pending_timers(),
        lambda: store.get_image("0" * 64),
        lambda: store.version,
    ]
    for call in calls:
        try:
            call()
        except StoreError as error:
            check_clear(error)
    try:
        conversations = store.list_conversations(include_deleted=True)
    except StoreError:
        conversations = []
    for conversation in conversations[:3]:
        for call in (
            lambda c=conversation: store.messages(c.id),
            lambda c=conversation: store.latest_summary(c.id),
            lambda c=conversation: store.add_message(c.id, "user", "still here?"),
        ):
            try:
                call()
            except StoreError as error:
                check_clear(error)
    try:
        store.new_conversation("new")
    except StoreError as error:
        check_clear(error)


def _open_and_use(path: Path, damaged: bytes) -> None:
    try:
        store = Store(path)
    except StoreError as error:
        check_clear(error)
        assert path.read_bytes() == damaged, "a refused database was changed"
        return
    with store:
        _use(store)


@fuzz(60)
@given(st.data())
@counted
def test_a_damaged_database_works_or_is_refused_and_kept(tmp_path, good_db, data):
    damaged, wal = data.draw(damaged_db(good_db))
    path = tmp_path / "vistavox.db"
    for stale in tmp_path.glob("vistavox.db*"):
        stale.unlink()
    path.write_bytes(damaged)
    if wal is not None:
        Path(f"{path}-wal").write_bytes(wal)
    _open_and_use(path, damaged)


def _damage(good: bytes, needle: bytes, offset: int) -> bytes:
    data = bytearray(good)
    data[good.index(needle) + offset] = 0x80  # not UTF-8
    return bytes(data)


@pytest.mark.parametrize(
    "damage",
    [
        # sqlite3.OperationalError "duplicate column name: deleted" escaped from the
        # migration (and the file was switched to WAL before it failed)
        lambda good: _with_version(good, 1),
        lambda good: _with_version(good, -1),  # ran MIGRATIONS[-1]
        # "Could not decode to UTF-8 column 'role'": one bad byte hid every conversation
        lambda good: _damage(good, b"assistant", 0),
        # UnicodeDecodeError: SQLite's message quoted a damaged table name
        lambda good: _damage(good, b"tablemessagesmessages", 5),
        # a message's meta data damaged: json.loads failed on reading the conversation
        lambda good: _damage(good, b'{"intent"', 0),
    ],
    ids=[
        "older-version-on-newer-tables",
        "negative-version",
        "bad-byte-in-text",
        "bad-byte-in-schema",
        "bad-meta",
    ],  # fmt: skip
)
def test_damage_found_by_fuzzing_is_handled(tmp_path, good_db, damage):
    path = tmp_path / "vistavox.db"
    damaged = damage(good_db)
    path.write_bytes(damaged)
    _open_and_use(path, damaged)


@fuzz(40)
@given(st.text(max_size=2000), st.text(max_size=100), st.text(max_size=60))
@example("\0 NUL, \u202e right-to-left, e\u0301 combining, 🎉", '"unbalanced AND (', "")
@counted
def test_any_typed_text_is_stored_and_found_exactly(tmp_path, content, search, title):
    path = tmp_path / "texts.db"
    for stale in tmp_path.glob("texts.db*"):
        stale.unlink()
    with Store(path) as store:
        conversation = store.new_conversation(title)
        message = store.add_message(conversation.id, "user", content)
        assert store.messages(conversation.id)[-1].content == content
        assert store.get_message(message.id).content == content
        assert store.get_conversation(conversation.id).title == title
        store.list_conversations(search)  # any search text: results, never an error
    with Store(path) as store:  # and after a restart
        assert store.messages(conversation.id)[-1].content == content


def test_the_copy_of_a_refused_database_is_unchanged(tmp_path, good_db):
    """A newer file is refused before anything is written: no -wal, no -shm, no migration."""
    path = tmp_path / "vistavox.db"
    path.write_bytes(_with_version(good_db, SCHEMA_VERSION + 1))
    backup = tmp_path / "backup.db"
    shutil.copyfile(path, backup)
    with pytest.raises(StoreError, match="newer Vistavox"):
        Store(path)
    assert path.read_bytes() == backup.read_bytes()
