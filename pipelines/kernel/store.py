"""Persistence for the LLM kernel: conversations, messages, images, summaries and memories.

Everything lives in one SQLite file (WAL mode). Each write is its own transaction, committed
before the call returns, so a crash or a kill loses at most the message that was in flight.
The schema is versioned with ``PRAGMA user_version`` and upgraded by :data:`MIGRATIONS`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import platformdirs

from vistavox.pipelines.errors import VistavoxError
from vistavox.pipelines.files import set_aside

ENV_VAR = "VISTAVOX_DB"


def default_db_path() -> Path:
    """Where the database lives: ``$VISTAVOX_DB`` if set, else the user's data folder."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("vistavox")) / "vistavox.db"


_SQLITE_HEADER = b"SQLite format 3\x00"


def _not_sqlite(path: Path) -> bool:
    """Does ``path`` hold something other than an SQLite database (an empty or absent file is
    a new one)?"""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return False
    except OSError:
        return False  # (SQLite says why it cannot be read)
    return bool(head) and head != _SQLITE_HEADER


class StoreError(VistavoxError):
    """The database cannot be used (damaged, too new, unwritable, disk full); says what to do.
    ``damaged``: the file is not a readable Vistavox database (rather than one this version
    cannot use, or a place it cannot write)."""

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ConversationRecord:
    """One conversation. ``deleted`` is the time it was moved to the trash, else None."""

    id: int
    title: str
    persona: str
    created: float
    updated: float
    deleted: float | None = None


@dataclass(frozen=True)
class Message:
    """One message of a conversation; ``meta`` is free-form JSON-compatible data."""

    id: int
    conversation_id: int
    role: str
    content: str
    created: float
    interrupted: bool
    untrusted: bool
    image_hashes: tuple[str, ...]
    tokens: int | None
    meta: dict = field(hash=False)


@dataclass(frozen=True)
class Summary:
    """A summary of a conversation's messages up to and including ``upto_message_id``."""

    id: int
    conversation_id: int
    upto_message_id: int
    content: str
    created: float


@dataclass(frozen=True)
class TimerRecord:
    """A timer; ``ends_at`` is wall-clock time (``time.time()``), so it means the same after
    a restart. ``state``: "pending", "finished" or "cancelled"."""

    id: int
    seconds: int
    label: str
    created: float
    ends_at: float
    state: str = "pending"


@dataclass(frozen=True)
class Memory:
    """A fact the assistant keeps across conversations."""

    id: int
    content: str
    created: float
    source_conversation_id: int | None


# --------------------------------------------------------------------------- schema


def fts5_available() -> bool:
    """Whether this SQLite library has the FTS5 full-text search module."""
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


def _run(db: sqlite3.Connection, statements: Iterable[str]) -> None:
    # Not executescript(): it would commit the migration's transaction half-way.
    for statement in statements:
        db.execute(statement)


def _migration_1(db: sqlite3.Connection) -> None:
    """Base tables, and full-text search of message content when FTS5 is available."""
    _run(
        db,
        [
            """CREATE TABLE conversations (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                title TEXT NOT NULL,
                persona TEXT NOT NULL,
                created REAL NOT NULL,
                updated REAL NOT NULL)""",
            """CREATE TABLE messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                conversation_id INTEGER NOT NULL
                    REFERENCES conversations(id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                content TEXT NOT NULL,
                created REAL NOT NULL,
                interrupted INTEGER NOT NULL DEFAULT 0,
                untrusted INTEGER NOT NULL DEFAULT 0,
                tokens INTEGER,
                meta TEXT NOT NULL DEFAULT '{}')""",
            """CREATE TABLE images (
                hash TEXT PRIMARY KEY,
                mime TEXT NOT NULL,
                width INT NOT NULL,
                height INT NOT NULL,
                data BLOB NOT NULL,
                created REAL NOT NULL)""",
            """CREATE TABLE message_images (
                message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                hash TEXT NOT NULL REFERENCES images(hash),
                PRIMARY KEY (message_id, position))""",
            """CREATE TABLE summaries (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                conversation_id INTEGER NOT NULL
                    REFERENCES conversations(id) ON DELETE CASCADE,
                upto_message_id INTEGER NOT NULL,
                content TEXT NOT NULL,
                created REAL NOT NULL)""",
            """CREATE TABLE memories (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                content TEXT NOT NULL,
                created REAL NOT NULL,
                source_conversation_id INTEGER
                    REFERENCES conversations(id) ON DELETE SET NULL)""",
        ],
    )
    if not fts5_available():
        return  # Searches fall back to LIKE.
    _run(
        db,
        [
            """CREATE VIRTUAL TABLE messages_fts USING fts5(
                content, content='messages', content_rowid='id',
                tokenize='unicode61 remove_diacritics 2')""",
            """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
                INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
            END""",
            """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, content)
                    VALUES ('delete', old.id, old.content);
            END""",
            """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, content)
                    VALUES ('delete', old.id, old.content);
                INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
            END""",
        ],
    )


def _migration_2(db: sqlite3.Connection) -> None:
    """Undoable delete of conversations, and indexes for the common lookups."""
    _run(
        db,
        [
            "ALTER TABLE conversations ADD COLUMN deleted REAL",
            "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
            "CREATE INDEX conversations_by_updated ON conversations(updated)",
            "CREATE INDEX message_images_by_hash ON message_images(hash)",
            "CREATE INDEX summaries_by_conversation ON summaries(conversation_id, upto_message_id)",
        ],
    )


def _migration_3(db: sqlite3.Connection) -> None:
    """Timers: kept in the database so that pending ones survive a restart of the app."""
    _run(
        db,
        [
            """CREATE TABLE timers (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                seconds INTEGER NOT NULL,
                label TEXT NOT NULL DEFAULT '',
                created REAL NOT NULL,
                ends_at REAL NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending')""",
            "CREATE INDEX timers_by_state ON timers(state, ends_at)",
        ],
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migration_1, _migration_2, _migration_3]
"""Schema upgrades; applying ``MIGRATIONS[n - 1]`` takes the database to version ``n``."""

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite3.Connection) -> int:
    """The database's schema version (``PRAGMA user_version``)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, upto: int | None = None) -> int:
    """Apply the missing migrations up to version ``upto`` (default: latest); return the version.

    ``db`` must be in autocommit mode (``isolation_level=None``). Each migration runs in its own
    ``BEGIN IMMEDIATE`` transaction together with its version bump, so a crash leaves the
    database at the previous version, never half-upgraded.
    """
    target = SCHEMA_VERSION if upto is None else upto
    if not 0 <= target <= SCHEMA_VERSION:
        raise ValueError(f"no schema version {target} (known: 0..{SCHEMA_VERSION})")
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(db)  # Re-read under the write lock: another process may
            if version >= target:  # have migrated meanwhile.
                db.execute("COMMIT")
                return version
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                with suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise


# --------------------------------------------------------------------------- store

_CONVERSATION_COLUMNS = "id, title, persona, created, updated, deleted"
_MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, created, interrupted, untrusted, tokens, meta"
)
_STOPWORD_TEXT = (
    "a an and are as at be but by do does for from has have how i in is it its me my of on or our "
    "so that the their them they this to was we were what when where which who why will with you "
    "your"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _conversation(row: Sequence[Any]) -> ConversationRecord:
    return ConversationRecord(*row)


def _message(row: Sequence[Any], hashes: tuple[str, ...]) -> Message:
    id_, conversation_id, role, content, created, interrupted, untrusted, tokens, meta = row
    return Message(
        id=id_,
        conversation_id=conversation_id,
        role=role,
        content=content,
        created=created,
        interrupted=bool(interrupted),
        untrusted=bool(untrusted),
        image_hashes=hashes,
        tokens=tokens,
        meta=_meta(meta),
    )


def _meta(text: str) -> dict:
    """A message's meta data; {} when it was damaged on disk (it is only extra detail)."""
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _words(text: str) -> set[str]:
    """Lower-case content words with a light plural strip, for memory matching."""
    words = set()
    for word in re.findall(r"\w+", text.lower()):
        if len(word) < 2 or word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


class Store:
    """The kernel's SQLite database; one instance is shared by the engine's threads.

    Opened with ``journal_mode=WAL`` and ``synchronous=NORMAL``: in WAL mode a commit is in the
    log (in the OS's cache) when the call returns, so a crash or ``kill -9`` of this process
    loses nothing committed; only a power cut can lose the last few commits, and never corrupts
    the file. ``foreign_keys`` is on. Every call holds an internal lock; every write is one
    transaction committed before returning. Errors a user can act on raise :class:`StoreError`.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._fts = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"Cannot create the folder {self.path.parent} for the Vistavox database "
                f"({error.strerror or error}). Choose another place with {ENV_VAR}."
            ) from error
        if self.path.is_dir():
            raise StoreError(
                f"{self.path} is a folder, not a Vistavox database. "
                f"Point {ENV_VAR} at a file instead."
            )
        if _not_sqlite(self.path):  # (refused before SQLite, which would drop its -wal file)
            raise self._damaged()
        try:
            db = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            self._raise_translated(error, "open")
        # Text damaged on disk reads with replacement characters: one bad byte must not hide
        # a whole conversation (sqlite3 would raise "Could not decode to UTF-8").
        db.text_factory = _text
        try:
            self._check(db)
            db.execute("PRAGMA foreign_keys=ON")
            self._migrate(db)  # before WAL: a refused file is left exactly as it was
            db.execute("PRAGMA journal_mode=WAL").fetchone()
            db.execute("PRAGMA synchronous=NORMAL")
            self._fts = self._has_table(db, "messages_fts")
            if self._fts and not fts5_available():
                raise StoreError(
                    f"{self.path} uses full-text search, which this SQLite library lacks "
                    "(no FTS5). Install a Python whose sqlite3 includes FTS5."
                )
        except sqlite3.Error as error:
            db.close()
            self._raise_translated(error, "open")
        except BaseException:
            db.close()
            raise
        self._db = db

    @classmethod
    def open(cls, path: Path | str | None = None) -> Store:
        """Open (or create) the database at ``path``, default :func:`default_db_path`."""
        return cls(default_db_path() if path is None else path)

    def _check(self, db: sqlite3.Connection) -> None:
        """Refuse, before writing anything, a file that is not ours or is from a newer version."""
        try:
            objects = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            version = schema_version(db)
        except sqlite3.OperationalError as error:
            self._raise_translated(error, "open")
        # "file is not a database", "malformed"; UnicodeDecodeError: SQLite's message quotes
        # a damaged schema's bytes, which the sqlite3 module cannot decode
        except (sqlite3.DatabaseError, UnicodeDecodeError) as error:
            raise self._damaged() from error
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was created by a newer Vistavox (database version {version}; this "
                f"version knows up to {SCHEMA_VERSION}). It was left untouched; update Vistavox "
                "to use it, or move it aside to start fresh."
            )
        if version < 0 or (version == 0 and objects):
            raise self._damaged()

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring the schema up to date; a file whose tables do not match its version (an
        older version number on newer tables: "duplicate column") is refused as damaged,
        its migration rolled back."""
        try:
            migrate(db)
        except sqlite3.OperationalError as error:
            if self._translate(error, "open") is not None:
                raise
            raise self._damaged() from error

    def _damaged(self) -> StoreError:
        return StoreError(
            f"{self.path} is not a Vistavox database or is damaged; it was left untouched; "
            "move it aside to start fresh.",
            damaged=True,
        )

    @classmethod
    def open_or_set_aside(cls, path: Path | str | None = None) -> tuple[Store, Path | None]:
        """Open the database as :meth:`open` does; one that is damaged is moved aside
        (``NAME.damaged``, with its write-ahead log) and a new one started, so the app can
        still start. Returns the store and where the damaged file went (None if it was not
        damaged). Other errors (a newer version's file, a busy or unwritable one) raise."""
        path = Path(default_db_path() if path is None else path).expanduser()
        try:
            return cls(path), None
        except StoreError as error:
            if not error.damaged:
                raise
            kept = set_aside(path, error)
            if kept is None:
                raise
        for log in ("-wal", "-shm"):  # (a new file must not pick up the old one's log)
            old_log = path.with_name(path.name + log)
            if old_log.exists():
                old_log.replace(kept.with_name(kept.name + log))
        return cls(path), kept

    def _raise_translated(self, error: sqlite3.Error, action: str) -> NoReturn:
        """Raise the :class:`StoreError` for ``error``, or ``error`` itself if not the user's."""
        translated = self._translate(error, action)
        if translated is None:
            raise error
        raise translated from error

    def _translate(self, error: sqlite3.Error, action: str) -> StoreError | None:
        """A :class:`StoreError` for errors the user can act on, else None (a bug: re-raise)."""
        text = str(error).lower()
        code = getattr(error, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL or "disk is full" in text:
            return StoreError(
                f"Could not {action or 'write'} {self.path}: the disk is full. Free some space "
                "and try again; everything saved before is intact."
            )
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or any(
            phrase in text for phrase in ("malformed", "not a database")
        ):
            return self._damaged()
        if "locked" in text or "busy" in text:
            return StoreError(
                f"{self.path} is busy: another program (or another Vistavox) is using it. "
                "Close it and try again."
            )
        if any(
            phrase in text
            for phrase in ("readonly", "read-only", "unable to open", "i/o error", "permission")
        ):
            return StoreError(
                f"Cannot {action or 'write'} {self.path} ({error}). Check that you may write to "
                f"it and its folder, or choose another file with {ENV_VAR}."
            )
        return None

    @staticmethod
    def _has_table(db: sqlite3.Connection, name: str) -> bool:
        row = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        return row is not None

    # ----------------------------------------------------------------- plumbing

    @contextmanager
    def _transaction(self, action: str, write: bool) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run one transaction (IMMEDIATE for writes) committed at the end."""
        with self._lock:
            db = self._db
            if db is None:
                raise RuntimeError(f"the store {self.path} is closed")
            try:
                db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        with suppress(sqlite3.Error):  # keep the original error
                            db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                if isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError):
                    raise
                self._raise_translated(error, action)
            except UnicodeDecodeError as error:  # an error message quoting damaged bytes
                raise self._damaged() from error

    def _write(self, action: str) -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction(action, write=True)

    def _read(self, action: str = "read") -> AbstractContextManager[sqlite3.Connection]:
        return self._transaction(action, write=False)

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> int:
        """The schema version of the open database."""
        with self._read() as db:
            return schema_version(db)

    @property
    def full_text_search(self) -> bool:
        """Whether message search uses FTS5 (else a slower LIKE scan)."""
        return self._fts

    # ----------------------------------------------------------------- conversations

    @staticmethod
    def _require_conversation(db: sqlite3.Connection, conversation_id: int) -> None:
        row = db.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,))
        if row.fetchone() is None:
            raise KeyError(f"no conversation {conversation_id}")

    def new_conversation(
        self, title: str = "New conversation", persona: str = "assistant"
    ) -> ConversationRecord:
        """Create and return an empty conversation."""
        now = time.time()
        with self._write("save a new conversation in") as db:
            cursor = db.execute(
                "INSERT INTO conversations (title, persona, created, updated) VALUES (?, ?, ?, ?)",
                (title, persona, now, now),
            )
            return ConversationRecord(cursor.lastrowid, title, persona, now, now)

    def get_conversation(self, conversation_id: int) -> ConversationRecord | None:
        """The conversation with this id (even if deleted), or None."""
        with self._read() as db:
            row = db.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
        return None if row is None else _conversation(row)

    def list_conversations(
        self, search: str | None = None, include_deleted: bool = False
    ) -> list[ConversationRecord]:
        """Conversations, most recently updated first.

        ``search`` matches a substring of the title, or words (or word beginnings) of the
        messages; without FTS5, a substring of the messages.
        """
        where = ["(? OR deleted IS NULL)"]
        params: list[Any] = [include_deleted]
        search = (search or "").strip()
        if search:
            like = _like_pattern(search)
            words = re.findall(r"\w+", search)
            if self._fts and words:
                in_messages = (
                    "id IN (SELECT m.conversation_id FROM messages_fts f "
                    "JOIN messages m ON m.id = f.rowid WHERE messages_fts MATCH ?)"
                )
                match: str = " ".join(f'"{word}"*' for word in words)
            else:
                in_messages = (
                    "EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = conversations.id "
                    "AND m.content LIKE ? ESCAPE '\\')"
                )
                match = like
            where.append(f"(title LIKE ? ESCAPE '\\' OR {in_messages})")
            params += [like, match]
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE {' AND '.join(where)} "
                "ORDER BY updated DESC, id DESC",
                params,
            ).fetchall()
        return [_conversation(row) for row in rows]

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        """Change a conversation's title (KeyError if there is no such conversation)."""
        with self._write("rename the conversation in") as db:
            self._require_conversation(db, conversation_id)
            db.execute(
                "UPDATE conversations SET title = ?, updated = ? WHERE id = ?",
                (title, time.time(), conversation_id),
            )

    def delete_conversation(self, conversation_id: int) -> None:
        """Move a conversation to the trash; :meth:`undelete_conversation` brings it back."""
        with self._write("delete the conversation in") as db:
            self._require_conversation(db, conversation_id)
            db.execute(
                "UPDATE conversations SET deleted = ? WHERE id = ? AND deleted IS NULL",
                (time.time(), conversation_id),
            )

    def undelete_conversation(self, conversation_id: int) -> None:
        """Take a conversation out of the trash."""
        with self._write("restore the conversation in") as db:
            self._require_conversation(db, conversation_id)
            db.execute("UPDATE conversations SET deleted = NULL WHERE id = ?", (conversation_id,))

    def purge_deleted(self, older_than_s: float) -> int:
        """Erase conversations in the trash for at least ``older_than_s`` seconds; return count.

        Their messages, summaries and no longer used images go too; memories stay, unlinked.
        """
        cutoff = time.time() - older_than_s
        with self._write("purge deleted conversations from") as db:
            doomed = "SELECT id FROM conversations WHERE deleted IS NOT NULL AND deleted <= ?"
            hashes = [
                row[0]
                for row in db.execute(
                    "SELECT DISTINCT mi.hash FROM message_images mi "
                    "JOIN messages m ON m.id = mi.message_id "
                    f"WHERE m.conversation_id IN ({doomed})",
                    (cutoff,),
                )
            ]
            count = db.execute(f"DELETE FROM conversations WHERE id IN ({doomed})", (cutoff,))
            for image_hash in hashes:
                db.execute(
                    "DELETE FROM images WHERE hash = ? "
                    "AND NOT EXISTS (SELECT 1 FROM message_images WHERE hash = ?)",
                    (image_hash, image_hash),
                )
            return count.rowcount

    # ----------------------------------------------------------------- messages

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        interrupted: bool = False,
        untrusted: bool = False,
        image_hashes: Sequence[str] = (),
        tokens: int | None = None,
        meta: dict | None = None,
    ) -> Message:
        """Append a message (committed on return) and bump the conversation's ``updated``.

        ``image_hashes`` must name images already stored with :meth:`put_image`.
        """
        hashes = tuple(image_hashes)
        meta = dict(meta or {})
        meta_json = json.dumps(meta, ensure_ascii=False)
        now = time.time()
        with self._write("save the message to") as db:
            self._require_conversation(db, conversation_id)
            for image_hash in set(hashes):
                if db.execute("SELECT 1 FROM images WHERE hash = ?", (image_hash,)).fetchone():
                    continue
                raise KeyError(f"no image {image_hash}; store it with put_image first")
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, content, created, interrupted, "
                "untrusted, tokens, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, now, interrupted, untrusted, tokens, meta_json),
            )
            message_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO message_images (message_id, position, hash) VALUES (?, ?, ?)",
                [(message_id, position, h) for position, h in enumerate(hashes)],
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        assert message_id is not None
        return Message(
            id=message_id,
            conversation_id=conversation_id,
            role=role,
            content=content,
            created=now,
            interrupted=interrupted,
            untrusted=untrusted,
            image_hashes=hashes,
            tokens=tokens,
            meta=meta,
        )

    def messages(self, conversation_id: int, after_id: int = 0) -> list[Message]:
        """The conversation's messages with id > ``after_id``, oldest first."""
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages "
                "WHERE conversation_id = ? AND id > ? ORDER BY id",
                (conversation_id, after_id),
            ).fetchall()
            images: dict[int, list[str]] = {}
            for message_id, image_hash in db.execute(
                "SELECT mi.message_id, mi.hash FROM message_images mi "
                "JOIN messages m ON m.id = mi.message_id "
                "WHERE m.conversation_id = ? AND m.id > ? ORDER BY mi.message_id, mi.position",
                (conversation_id, after_id),
            ):
                images.setdefault(message_id, []).append(image_hash)
        return [_message(row, tuple(images.get(row[0], ()))) for row in rows]

    def get_message(self, message_id: int) -> Message | None:
        """One message by id, or None."""
        with self._read() as db:
            return self._load_message(db, message_id)

    @staticmethod
    def _load_message(db: sqlite3.Connection, message_id: int) -> Message | None:
        row = db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            return None
        hashes = db.execute(
            "SELECT hash FROM message_images WHERE message_id = ? ORDER BY position",
            (message_id,),
        )
        return _message(row, tuple(h for (h,) in hashes))

    def update_message(
        self, message_id: int, content: str, interrupted: bool | None = None
    ) -> Message:
        """Replace a message's content (and its interrupted flag if given); return it."""
        with self._write("save the message to") as db:
            row = db.execute(
                "SELECT conversation_id FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                raise KeyError(f"no message {message_id}")
            db.execute(
                "UPDATE messages SET content = ?, interrupted = coalesce(?, interrupted) "
                "WHERE id = ?",
                (content, interrupted, message_id),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), row[0]))
            message = self._load_message(db, message_id)
        assert message is not None
        return message

    # ----------------------------------------------------------------- images

    def put_image(self, data: bytes, mime: str, width: int, height: int) -> str:
        """Store an image once per content; return its SHA-256 (hex)."""
        image_hash = hashlib.sha256(data).hexdigest()
        with self._write("save the image to") as db:
            db.execute(
                "INSERT OR IGNORE INTO images (hash, mime, width, height, data, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (image_hash, mime, width, height, sqlite3.Binary(data), time.time()),
            )
        return image_hash

    def get_image(self, image_hash: str) -> bytes | None:
        """The image's bytes, or None if unknown."""
        with self._read() as db:
            row = db.execute("SELECT data FROM images WHERE hash = ?", (image_hash,)).fetchone()
        return None if row is None else bytes(row[0])

    # ----------------------------------------------------------------- summaries

    def add_summary(self, conversation_id: int, upto_message_id: int, content: str) -> Summary:
        """Record a summary of the conversation up to ``upto_message_id``."""
        now = time.time()
        with self._write("save the summary to") as db:
            self._require_conversation(db, conversation_id)
            cursor = db.execute(
                "INSERT INTO summaries (conversation_id, upto_message_id, content, created) "
                "VALUES (?, ?, ?, ?)",
                (conversation_id, upto_message_id, content, now),
            )
        assert cursor.lastrowid is not None
        return Summary(cursor.lastrowid, conversation_id, upto_message_id, content, now)

    def latest_summary(self, conversation_id: int) -> Summary | None:
        """The summary reaching furthest into the conversation (newest on ties), or None."""
        with self._read() as db:
            row = db.execute(
                "SELECT id, conversation_id, upto_message_id, content, created FROM summaries "
                "WHERE conversation_id = ? ORDER BY upto_message_id DESC, id DESC LIMIT 1",
                (conversation_id,),
            ).fetchone()
        return None if row is None else Summary(*row)

    # ----------------------------------------------------------------- memories

    def remember(self, content: str, source_conversation_id: int | None = None) -> Memory:
        """Keep a memory; ``source_conversation_id`` is where it was learnt, if anywhere."""
        now = time.time()
        with self._write("save the memory to") as db:
            if source_conversation_id is not None:
                self._require_conversation(db, source_conversation_id)
            cursor = db.execute(
                "INSERT INTO memories (content, created, source_conversation_id) VALUES (?, ?, ?)",
                (content, now, source_conversation_id),
            )
        assert cursor.lastrowid is not None
        return Memory(cursor.lastrowid, content, now, source_conversation_id)

    def forget(self, memory_id: int) -> bool:
        """Erase a memory; False if there was none with this id."""
        with self._write("erase the memory from") as db:
            return db.execute("DELETE FROM memories WHERE id = ?", (memory_id,)).rowcount > 0

    def memories(self) -> list[Memory]:
        """All memories, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, content, created, source_conversation_id FROM memories ORDER BY id"
            ).fetchall()
        return [Memory(*row) for row in rows]

    def search_memories(self, query: str, limit: int = 5) -> list[Memory]:
        """Up to ``limit`` memories sharing the most content words with ``query``, newest first
        among equals; memories sharing none are left out."""
        wanted = _words(query)
        if not wanted or limit <= 0:
            return []
        scored = [(len(wanted & _words(m.content)), m) for m in self.memories()]
        scored = [(score, m) for score, m in scored if score]
        scored.sort(key=lambda item: (item[0], item[1].id), reverse=True)
        return [m for _, m in scored[:limit]]

    # ----------------------------------------------------------------- timers

    def add_timer(self, seconds: int, label: str = "", *, now: float | None = None) -> TimerRecord:
        """Keep a pending timer of ``seconds`` from ``now`` (default: the current time)."""
        created = time.time() if now is None else now
        ends_at = created + seconds
        with self._write("save the timer to") as db:
            cursor = db.execute(
                "INSERT INTO timers (seconds, label, created, ends_at) VALUES (?, ?, ?, ?)",
                (int(seconds), label, created, ends_at),
            )
        assert cursor.lastrowid is not None
        return TimerRecord(cursor.lastrowid, int(seconds), label, created, ends_at)

    def pending_timers(self) -> list[TimerRecord]:
        """Timers not yet finished or cancelled, the soonest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, seconds, label, created, ends_at, state FROM timers "
                "WHERE state = 'pending' ORDER BY ends_at, id"
            ).fetchall()
        return [TimerRecord(*row) for row in rows]

    def end_timer(self, timer_id: int, state: str) -> bool:
        """Mark a pending timer "finished" or "cancelled"; False if it was not pending (so
        two callers cannot both end it)."""
        if state not in ("finished", "cancelled"):
            raise ValueError(f"a timer ends finished or cancelled, not {state!r}")
        with self._write("update the timer in") as db:
            changed = db.execute(
                "UPDATE timers SET state = ? WHERE id = ? AND state = 'pending'",
                (state, timer_id),
            ).rowcount
        return changed > 0
