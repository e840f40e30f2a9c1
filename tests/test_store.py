"""The kernel's SQLite store, on real database files: round trips, crash safety under a real
``kill -9``, migrations, damaged and too-new files, concurrent writers and a really full disk."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vistavox.pipelines.kernel import store as store_module
from vistavox.pipelines.kernel.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    ConversationRecord,
    Store,
    StoreError,
    default_db_path,
    migrate,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "vistavox.db"


@pytest.fixture
def store(db_path: Path):
    with Store(db_path) as opened:
        yield opened


def integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def make_v1_database(path: Path) -> None:
    """A database as the first release left it: schema version 1 with some data in it."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        assert migrate(db, upto=1) == 1
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(
            "INSERT INTO conversations (id, title, persona, created, updated) "
            "VALUES (1, 'Old trip', 'assistant', 100.0, 200.0)"
        )
        db.execute(
            "INSERT INTO images (hash, mime, width, height, data, created) "
            "VALUES ('h1', 'image/png', 2, 3, x'0102', 150.0)"
        )
        for id_, role, content in [
            (1, "user", "Which train goes to Lisbon?"),
            (2, "assistant", "The night train leaves at nine."),
        ]:
            db.execute(
                "INSERT INTO messages (id, conversation_id, role, content, created) "
                "VALUES (?, 1, ?, ?, 150.0)",
                (id_, role, content),
            )
        db.execute("INSERT INTO message_images (message_id, position, hash) VALUES (1, 0, 'h1')")
        db.execute(
            "INSERT INTO summaries (conversation_id, upto_message_id, content, created) "
            "VALUES (1, 2, 'Asked about trains.', 210.0)"
        )
        db.execute(
            "INSERT INTO memories (content, created, source_conversation_id) "
            "VALUES ('Likes trains', 220.0, 1)"
        )
    finally:
        db.close()


# --------------------------------------------------------------------------- round trips


def test_default_path_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VISTAVOX_DB", str(tmp_path / "elsewhere.db"))
    assert default_db_path() == tmp_path / "elsewhere.db"
    monkeypatch.delenv("VISTAVOX_DB")
    assert default_db_path().name == "vistavox.db"
    assert "vistavox" in str(default_db_path().parent).lower()


def test_new_database_is_wal_and_latest_version(store: Store, db_path: Path) -> None:
    assert db_path.is_file()
    assert store.version == SCHEMA_VERSION == len(MIGRATIONS)
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
    reopened = Store.open(db_path)  # Opening again is harmless.
    assert reopened.version == SCHEMA_VERSION
    reopened.close()


def test_conversations_and_messages_round_trip(store: Store, db_path: Path) -> None:
    first = store.new_conversation()
    assert (first.title, first.persona, first.deleted) == ("New conversation", "assistant", None)
    second = store.new_conversation("Cooking", persona="chef")
    png = store.put_image(b"\x89PNG fake", "image/png", 640, 480)
    user = store.add_message(
        first.id,
        "user",
        "What is in this picture?",
        image_hashes=[png],
        tokens=7,
        meta={"source": "camera", "nested": [1, 2]},
    )
    reply = store.add_message(
        first.id, "assistant", "A cat on a sofa.", interrupted=True, untrusted=True
    )
    store.add_message(second.id, "user", "How long do eggs boil?")

    got = store.messages(first.id)
    assert got == [user, reply]
    assert got[0].image_hashes == (png,)
    assert got[0].meta == {"source": "camera", "nested": [1, 2]}
    assert got[0].tokens == 7
    assert (got[1].interrupted, got[1].untrusted, got[1].tokens, got[1].meta) == (
        True,
        True,
        None,
        {},
    )
    assert store.messages(first.id, after_id=user.id) == [reply]
    assert store.get_message(reply.id) == reply

    edited = store.update_message(reply.id, "A cat asleep on a red sofa.", interrupted=False)
    assert (edited.content, edited.interrupted) == ("A cat asleep on a red sofa.", False)
    assert store.update_message(reply.id, "A cat.").interrupted is False  # None keeps the flag

    # Most recently updated first: the edit bumped the first conversation.
    assert [c.id for c in store.list_conversations()] == [first.id, second.id]
    store.add_message(second.id, "assistant", "Nine minutes.")
    assert [c.id for c in store.list_conversations()] == [second.id, first.id]

    store.rename_conversation(first.id, "Cat photo")
    assert store.get_conversation(first.id).title == "Cat photo"
    assert store.get_conversation(12345) is None

    with pytest.raises(KeyError):
        store.add_message(9999, "user", "nowhere")
    with pytest.raises(KeyError):
        store.add_message(first.id, "user", "x", image_hashes=["0" * 64])
    with pytest.raises(KeyError):
        store.rename_conversation(9999, "x")
    with pytest.raises(KeyError):
        store.update_message(9999, "x")

    store.close()
    with Store(db_path) as again:  # Everything is on disk.
        assert again.messages(first.id)[0] == user
        assert again.get_conversation(first.id).title == "Cat photo"
        assert again.get_image(png) == b"\x89PNG fake"
    with pytest.raises(RuntimeError):
        store.messages(first.id)


def test_images_are_deduplicated_by_content_hash(store: Store, db_path: Path) -> None:
    data = bytes(range(256)) * 10
    first = store.put_image(data, "image/jpeg", 10, 20)
    second = store.put_image(data, "image/jpeg", 10, 20)
    other = store.put_image(data + b"!", "image/jpeg", 10, 20)
    assert first == second != other
    assert len(first) == 64 and int(first, 16) >= 0
    assert store.get_image(first) == data
    assert store.get_image("f" * 64) is None
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("SELECT count(*) FROM images").fetchone()[0] == 2
    finally:
        db.close()


def test_search_matches_titles_and_message_text(store: Store) -> None:
    assert store.full_text_search  # This Python's SQLite has FTS5.
    trip = store.new_conversation("Holiday plans")
    store.add_message(trip.id, "user", "Book a hotel near the café in Lisbon")
    soup = store.new_conversation("Dinner")
    store.add_message(soup.id, "assistant", "Tomato soup needs 20% more salt_and pepper")
    assert [c.id for c in store.list_conversations("holiday")] == [trip.id]
    assert [c.id for c in store.list_conversations("lisbon")] == [trip.id]
    assert [c.id for c in store.list_conversations("LISB")] == [trip.id]  # word beginnings
    assert [c.id for c in store.list_conversations("cafe")] == [trip.id]  # diacritics folded
    assert [c.id for c in store.list_conversations("tomato soup")] == [soup.id]
    assert store.list_conversations("tomato lisbon") == []  # all words must match
    assert store.list_conversations("submarine") == []
    assert store.list_conversations('"') == []  # FTS syntax cannot leak in
    assert store.list_conversations("20%") == [store.get_conversation(soup.id)]
    assert len(store.list_conversations("   ")) == 2
    # Editing a message updates the index.
    (message,) = store.messages(trip.id)
    store.update_message(message.id, "Book a flat in Porto")
    assert store.list_conversations("lisbon") == []
    assert [c.id for c in store.list_conversations("porto")] == [trip.id]


def test_search_falls_back_to_like_without_fts5(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(store_module, "fts5_available", lambda: False)
    with Store(tmp_path / "plain.db") as plain:
        assert not plain.full_text_search
        trip = plain.new_conversation("Holiday plans")
        plain.add_message(trip.id, "user", "Book a hotel in Lisbon, 100% sure")
        plain.new_conversation("Dinner")
        assert [c.id for c in plain.list_conversations("lisbon")] == [trip.id]
        assert [c.id for c in plain.list_conversations("isbo")] == [trip.id]
        assert [c.id for c in plain.list_conversations("100%")] == [trip.id]
        assert plain.list_conversations("50%") == []
        assert [c.id for c in plain.list_conversations("HOLIDAY")] == [trip.id]


def test_soft_delete_undo_and_purge(store: Store, db_path: Path) -> None:
    keep = store.new_conversation("Keep")
    drop = store.new_conversation("Drop")
    shared = store.put_image(b"shared", "image/png", 1, 1)
    only_drop = store.put_image(b"only in drop", "image/png", 1, 1)
    store.add_message(keep.id, "user", "hello", image_hashes=[shared])
    store.add_message(drop.id, "user", "secret words", image_hashes=[shared, only_drop])
    store.add_summary(drop.id, 1, "summary")
    memory = store.remember("Prefers tea", source_conversation_id=drop.id)

    store.delete_conversation(drop.id)
    assert [c.id for c in store.list_conversations()] == [keep.id]
    assert store.list_conversations("secret") == []
    trashed = store.get_conversation(drop.id)
    assert trashed.deleted is not None
    assert {c.id for c in store.list_conversations(include_deleted=True)} == {keep.id, drop.id}
    assert store.messages(drop.id)  # still there, undoable

    store.undelete_conversation(drop.id)
    assert store.get_conversation(drop.id).deleted is None
    assert [c.id for c in store.list_conversations("secret")] == [drop.id]

    store.delete_conversation(drop.id)
    assert store.purge_deleted(older_than_s=3600) == 0  # too recent
    assert store.purge_deleted(older_than_s=0) == 1
    assert store.get_conversation(drop.id) is None
    assert store.messages(drop.id) == []
    assert store.latest_summary(drop.id) is None
    assert store.get_image(only_drop) is None  # no longer used
    assert store.get_image(shared) == b"shared"  # still used by "keep"
    assert store.memories() == [store_module.Memory(memory.id, "Prefers tea", memory.created, None)]
    assert store.messages(keep.id)[0].image_hashes == (shared,)
    store.close()
    assert integrity(db_path) == "ok"
    db = sqlite3.connect(db_path)
    try:
        db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
    finally:
        db.close()


def test_summaries_and_memories(store: Store) -> None:
    chat = store.new_conversation()
    assert store.latest_summary(chat.id) is None
    store.add_summary(chat.id, 10, "first ten")
    latest = store.add_summary(chat.id, 25, "up to 25")
    store.add_summary(chat.id, 5, "an old, shorter one")
    assert store.latest_summary(chat.id) == latest

    tea = store.remember("The user prefers green tea in the morning", chat.id)
    dog = store.remember("The user's dog is called Biscuit")
    city = store.remember("The user lives in Porto and likes trains")
    assert store.memories() == [tea, dog, city]
    assert store.search_memories("what tea do I drink?") == [tea]
    assert store.search_memories("trains to Porto") == [city]
    assert store.search_memories("the user", limit=5) == [city, dog, tea]  # "the" ignored
    assert store.search_memories("dogs") == [dog]
    assert store.search_memories("the of and") == []
    assert store.search_memories("submarine") == []
    assert len(store.search_memories("user", limit=2)) == 2
    assert store.forget(dog.id) is True
    assert store.forget(dog.id) is False
    assert store.memories() == [tea, city]
    with pytest.raises(KeyError):
        store.remember("x", source_conversation_id=4242)


# --------------------------------------------------------------------------- crash safety

CHILD = """
import sys
from vistavox.pipelines.kernel.store import Store

store = Store(sys.argv[1])
chat = store.new_conversation(sys.argv[2])
print("conversation", chat.id, flush=True)
i = 0
while True:
    hashes = []
    if i % 5 == 0:
        hashes.append(store.put_image(f"{sys.argv[2]}-{i}".encode() * 50, "image/png", 8, 8))
    message = store.add_message(chat.id, "user", f"{sys.argv[2]} message {i} " + "x" * (i % 300),
                                image_hashes=hashes)
    print(message.id, i, flush=True)
    i += 1
"""


def run_and_kill(db_path: Path, tag: str, kill_after: int) -> tuple[int, dict[int, int]]:
    """Run a writer process, SIGKILL it once it reported ``kill_after`` committed messages;
    return its conversation id and {message id: index} of every message it reported."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    try:
        lines: list[str] = []
        while len(lines) < kill_after + 1:  # +1: the "conversation" line
            line = child.stdout.readline()
            if not line:
                pytest.fail(f"writer exited early: {child.stderr.read()}")
            lines.append(line)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL
        lines += child.stdout.read().splitlines(keepends=True)
    finally:
        watchdog.cancel()
        child.stdout.close()
        child.stderr.close()
    complete = [line.split() for line in lines if line.endswith("\n")]
    assert complete[0][0] == "conversation"
    return int(complete[0][1]), {int(id_): int(i) for id_, i in complete[1:]}


def test_kill_9_loses_at_most_the_message_in_flight(db_path: Path) -> None:
    Store(db_path).close()
    for round_, kill_after in enumerate([50, 73, 121]):
        tag = f"round{round_}"
        conversation_id, reported = run_and_kill(db_path, tag, kill_after)
        assert len(reported) >= kill_after
        with Store(db_path) as reopened:
            stored = reopened.messages(conversation_id)
            by_id = {m.id: m for m in stored}
            for message_id, i in reported.items():
                assert message_id in by_id, f"committed message {message_id} was lost"
                assert by_id[message_id].content == f"{tag} message {i} " + "x" * (i % 300)
                if i % 5 == 0:
                    (image_hash,) = by_id[message_id].image_hashes
                    assert reopened.get_image(image_hash) == f"{tag}-{i}".encode() * 50
            # At most one more message (committed, killed before it was reported), the last one.
            extra = sorted(set(by_id) - set(reported))
            assert len(extra) <= 1
            assert all(e > max(reported) for e in extra)
            assert [m.id for m in stored] == sorted(by_id)
        assert integrity(db_path) == "ok"


# --------------------------------------------------------------------------- versions, damage


def test_v1_database_is_migrated_keeping_its_data(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    make_v1_database(db_path)
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 1
    raw.close()

    with Store(db_path) as migrated:
        assert migrated.version == SCHEMA_VERSION == 3
        assert migrated.get_conversation(1) == ConversationRecord(
            1, "Old trip", "assistant", 100.0, 200.0, None
        )
        messages = migrated.messages(1)
        assert [(m.id, m.role, m.content) for m in messages] == [
            (1, "user", "Which train goes to Lisbon?"),
            (2, "assistant", "The night train leaves at nine."),
        ]
        assert messages[0].image_hashes == ("h1",)
        assert migrated.get_image("h1") == b"\x01\x02"
        assert migrated.latest_summary(1).content == "Asked about trains."
        assert [m.content for m in migrated.memories()] == ["Likes trains"]
        assert [c.id for c in migrated.list_conversations("lisbon")] == [1]
        # The version 2 features work on the old data.
        migrated.delete_conversation(1)
        assert migrated.list_conversations() == []
        migrated.undelete_conversation(1)
        new = migrated.add_message(1, "user", "And back?")
        assert new.id == 3
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        indexes = {row[0] for row in rows}
        assert "messages_by_conversation" in indexes
    finally:
        db.close()
    assert integrity(db_path) == "ok"


def test_refuses_a_database_from_a_newer_version(db_path: Path) -> None:
    with Store(db_path) as current:
        current.add_message(current.new_conversation().id, "user", "hi")
    db = sqlite3.connect(db_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="created by a newer Vistavox") as caught:
        Store(db_path)
    assert str(db_path) in str(caught.value)
    assert db_path.read_bytes() == before


def test_corrupt_file_is_refused_and_left_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    junk = random.Random(1).randbytes(64 * 1024)
    db_path.write_bytes(junk)
    log = db_path.with_name(db_path.name + "-wal")
    log.write_bytes(b"its write-ahead log")  # (SQLite itself deleted it when it was let open)
    with pytest.raises(StoreError) as caught:
        Store.open(db_path)
    message = str(caught.value)
    assert str(db_path) in message
    assert "is not a Vistavox database or is damaged" in message
    assert "left untouched" in message and "move it aside" in message
    assert db_path.read_bytes() == junk and log.read_bytes() == b"its write-ahead log"
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name, log.name]


def test_the_app_keeps_a_damaged_file_aside_and_starts_a_new_one(db_path: Path) -> None:
    """What the app does with a damaged file (the command line refuses it, as above): kept
    byte for byte with its write-ahead log, never over an earlier damaged copy; a newer
    version's file is still refused, untouched."""
    db_path.parent.mkdir(parents=True)
    earlier = db_path.with_name(db_path.name + ".damaged")
    earlier.write_bytes(b"an earlier damaged copy")
    junk = random.Random(2).randbytes(32 * 1024)
    db_path.write_bytes(junk)
    log = db_path.with_name(db_path.name + "-wal")
    log.write_bytes(b"old log")
    store, kept = Store.open_or_set_aside(db_path)
    with store:
        assert kept is not None and kept.read_bytes() == junk and kept != earlier
        assert earlier.read_bytes() == b"an earlier damaged copy"
        assert kept.with_name(kept.name + "-wal").read_bytes() == b"old log"
        conversation = store.new_conversation("fresh", "assistant")
        store.add_message(conversation.id, "user", "hello")
    with Store(db_path) as again:
        assert [c.title for c in again.list_conversations()] == ["fresh"]
    # A file from a newer version is not damaged: refused, not moved.
    newer = db_path.with_name("newer.db")
    with sqlite3.connect(newer) as made:
        made.execute(f"PRAGMA user_version={store_module.SCHEMA_VERSION + 1}")
    before = newer.read_bytes()
    with pytest.raises(StoreError, match="newer Vistavox"):
        Store.open_or_set_aside(newer)
    assert newer.read_bytes() == before


def test_someone_elses_sqlite_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE bookmarks (url TEXT)")
    db.commit()
    db.close()
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="not a Vistavox database"):
        Store(db_path)
    assert db_path.read_bytes() == before


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StoreError, match="Cannot create the folder"):
        Store(blocker / "vistavox.db")
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


# --------------------------------------------------------------------------- concurrency


def test_concurrent_writers_all_land_in_order(store: Store) -> None:
    chat = store.new_conversation()
    errors: list[BaseException] = []
    done = threading.Event()

    def write(thread: int) -> None:
        try:
            for i in range(200):
                store.add_message(chat.id, "user", f"t{thread}-{i}", meta={"t": thread, "i": i})
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def read() -> None:
        while not done.is_set():
            try:
                store.list_conversations("t1")
                store.messages(chat.id)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
                return
            time.sleep(0.005)

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    done.set()
    reader.join()
    assert errors == []

    messages = store.messages(chat.id)
    assert len(messages) == 800
    assert len({m.id for m in messages}) == 800
    for thread in range(4):
        mine = [m.meta["i"] for m in messages if m.meta["t"] == thread]
        assert mine == list(range(200))
        assert [m.content for m in messages if m.meta["t"] == thread] == [
            f"t{thread}-{i}" for i in range(200)
        ]


# --------------------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 1 MiB tmpfs (needs root and permission to mount), unmounted afterwards."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("simulating a full disk needs root to mount a small tmpfs")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill(folder: Path) -> Path:
    """Fill the file system holding ``folder`` with a filler file; return the filler."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass  # ENOSPC: full
    finally:
        os.close(fd)
    return filler


def test_full_disk_raises_store_error_and_keeps_earlier_messages(small_disk: Path) -> None:
    path = small_disk / "vistavox.db"
    store = Store(path)
    chat = store.new_conversation("Before the disk filled")
    saved = [store.add_message(chat.id, "user", f"message {i}").id for i in range(20)]
    filler = fill(small_disk)
    try:
        with pytest.raises(StoreError) as caught:
            for i in range(1000):  # the log may still have a few free pages
                saved.append(store.add_message(chat.id, "user", f"late {i} " + "y" * 4000).id)
        message = str(caught.value)
        assert "disk is full" in message and str(path) in message
        assert [m.id for m in store.messages(chat.id)] == saved  # same connection still reads
        store.close()

        with Store(path) as reopened:  # still full: reopening and reading work
            assert [m.id for m in reopened.messages(chat.id)] == saved
            assert reopened.messages(chat.id)[0].content == "message 0"
        assert integrity(path) == "ok"
    finally:
        store.close()
        filler.unlink()

    with Store(path) as freed:  # space is back: writing works again
        freed.add_message(chat.id, "user", "after freeing space")
        assert len(freed.messages(chat.id)) == len(saved) + 1
    assert integrity(path) == "ok"


def test_read_only_file_system_is_a_clear_error(small_disk: Path) -> None:
    path = small_disk / "vistavox.db"
    with Store(path) as store:
        store.add_message(store.new_conversation().id, "user", "kept")
    before = path.read_bytes()
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    if subprocess.run(remount, capture_output=True).returncode != 0:
        pytest.skip("cannot remount the small tmpfs read-only")
    with pytest.raises(StoreError, match="Check that you may write") as caught:
        Store(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before
