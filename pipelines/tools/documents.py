"""The user's documents as the assistant's disk: files dropped in (text, Markdown, HTML,
PDF) are split into passages, embedded, and kept in SQLite; searches combine meaning
(embeddings, cosine) with words (FTS5 BM25) and every hit says where it came from."""

from __future__ import annotations

import codecs
import hashlib
import html.parser
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from ..errors import VistavoxError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".csv", ".log", ".json", ".py"}
HTML_SUFFIXES = {".html", ".htm"}
MAX_FILE_BYTES = 50_000_000
CHUNK_WORDS = 110
# A passage is at most this long (and CHUNK_WORDS words): a paragraph without line breaks (a
# minified file, a PDF page as one line) is split between words, so no hit floods the context.
MAX_PASSAGE_CHARS = 2000
_WORD_RUN = re.compile(r"\S+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


class DocumentError(VistavoxError):
    """A file cannot be added to the search index."""


@dataclass(frozen=True)
class Passage:
    text: str
    place: str  # "page 3", "lines 10–24 (Setup)"


@dataclass(frozen=True)
class Hit:
    file: str
    place: str
    text: str
    score: float

    def cite(self) -> str:
        return f"{self.file}, {self.place}"


def default_index_path() -> Path:
    return Path(platformdirs.user_data_dir("vistavox")) / "documents.db"


# --- reading files ------------------------------------------------------------------------
class _HtmlText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "section"):
            self.lines.append("")

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data) -> None:
        if not self._skip and data.strip():
            self.lines.append(data.strip())


def _paragraph_passages(lines: list[str]) -> list[Passage]:
    """Group lines into paragraphs, paragraphs into passages of about CHUNK_WORDS words
    (overlapping by one paragraph, never across a heading), each with its line range and
    section heading."""
    paragraphs: list[tuple[int, int, str, str, bool]] = []  # first, last, text, section, head?
    heading, buffer, first = "", [], 0

    def close(last: int) -> None:
        text = " ".join(buffer)
        paragraphs.extend((first, last, piece, heading, False) for piece in _pieces(text))
        buffer.clear()

    for number, line in enumerate(lines + [""], start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            if buffer:
                close(number - 1)
            title = stripped.lstrip("#").strip()
            heading = title[:80]  # as the passages' place says it
            paragraphs.extend((number, number, piece, heading, True) for piece in _pieces(title))
            continue
        if stripped:
            if not buffer:
                first = number
            buffer.append(stripped)
        elif buffer:
            close(number - 1)
    passages, start = [], 0
    while start < len(paragraphs):
        end, words, chars = start, 0, 0
        while end < len(paragraphs):
            size, length = len(paragraphs[end][2].split()), len(paragraphs[end][2]) + 1
            too_big = words + size > CHUNK_WORDS or chars + length > MAX_PASSAGE_CHARS + 1
            if end > start and (too_big or paragraphs[end][4]):
                break
            words += size
            chars += length
            end += 1
        group = paragraphs[start:end]
        where = f"lines {group[0][0]}–{group[-1][1]}"
        if group[0][3]:
            where += f" ({group[0][3]})"
        passages.append(Passage("\n".join(p[2] for p in group), where))
        next_is_section = end < len(paragraphs) and paragraphs[end][4]
        start = end if end - start == 1 or end >= len(paragraphs) or next_is_section else end - 1
    return passages


def _pieces(text: str) -> list[str]:
    """``text`` (one paragraph) in pieces of at most CHUNK_WORDS words and MAX_PASSAGE_CHARS
    characters, cut between words (a word longer than a passage is cut where it must be), so
    a paragraph without line breaks still makes passages the embedding model reads whole."""
    pieces: list[str] = []
    start = end = count = 0  # the piece so far: text[start:end], count words
    for word in _WORD_RUN.finditer(text):
        if count and (count == CHUNK_WORDS or word.end() - start > MAX_PASSAGE_CHARS):
            pieces.append(text[start:end])
            count = 0
        if not count:
            start = word.start()
        while word.end() - start > MAX_PASSAGE_CHARS:  # one word longer than a passage
            pieces.append(text[start : start + MAX_PASSAGE_CHARS])
            start += MAX_PASSAGE_CHARS
        count, end = count + 1, word.end()
    if count:
        pieces.append(text[start:end])
    return pieces


def read_text(path: Path, limit: int | None = None) -> str:
    """The text of a file (its first ``limit`` bytes when given): UTF-8, or UTF-16 with a
    byte-order mark; bytes that are not UTF-8 are read as Windows-1252 (so mixed encodings
    keep their letters). DocumentError for a file that cannot be read or holds binary data."""
    try:
        with path.open("rb") as handle:
            data = handle.read(-1 if limit is None else limit)
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    whole = limit is None or len(data) < limit
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return codecs.getincrementaldecoder("utf-16")("replace").decode(data, final=whole)
    data = data.removeprefix(codecs.BOM_UTF8)
    if b"\0" in data[:8192]:
        raise DocumentError(f"{path.name}: not a text file (it holds binary data)")
    # (not final: a character cut by the read limit is left out, not garbled)
    return codecs.getincrementaldecoder("utf-8")(_LEGACY).decode(data, final=whole)


def _as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8, read as Windows-1252 (a file edited in both)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


_LEGACY = "vistavox-cp1252"
codecs.register_error(_LEGACY, _as_cp1252)


def read_passages(path: Path) -> list[Passage]:
    """The passages of a document, each with where it is in the file."""
    if not path.is_file():
        raise DocumentError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DocumentError(f"{path.name}: too large to index (over 50 MB)")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_passages(path)
    if suffix not in HTML_SUFFIXES | TEXT_SUFFIXES:
        raise DocumentError(
            f"{path.name}: {suffix or 'these'} files cannot be searched (text, Markdown, HTML, PDF)"
        )
    raw = read_text(path)
    if suffix in HTML_SUFFIXES:
        parser = _HtmlText()
        parser.feed(raw)
        return _paragraph_passages(parser.lines)
    return _paragraph_passages(raw.splitlines())


def _pdf_passages(path: Path) -> list[Passage]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except FileNotDecryptedError as exc:
        raise DocumentError(
            f"{path.name}: the PDF is protected by a password; save a copy without one"
        ) from exc
    except LimitReachedError as exc:  # a decompression bomb, or pages of millions of operators
        raise DocumentError(f"{path.name}: the PDF is too large to read ({exc})") from exc
    except (PyPdfError, DependencyError, OSError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{path.name}: not a PDF that can be read ({exc})") from exc
    passages = []
    for number, text in enumerate(pages, start=1):
        for passage in _paragraph_passages(text.splitlines()):
            passages.append(Passage(passage.text, f"page {number}"))
    return passages


# --- the index ------------------------------------------------------------------------------
class DocumentIndex:
    """Passages and their embeddings in SQLite (WAL), searched by meaning and by words."""

    def __init__(self, path: Path | None = None, encoder=None):
        self.path = Path(path) if path else default_index_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._encoder = encoder
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS documents(
                id INTEGER PRIMARY KEY, path TEXT NOT NULL, name TEXT NOT NULL,
                sha256 TEXT NOT NULL UNIQUE, added REAL DEFAULT (unixepoch()));
            CREATE TABLE IF NOT EXISTS passages(
                id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL
                    REFERENCES documents(id) ON DELETE CASCADE,
                place TEXT NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL);
            CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
                text, content='passages', content_rowid='id');
            """
        )
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def encoder(self):
        if self._encoder is None:
            from .embedding import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    def add(self, path: Path) -> int:
        """Index a file (again only if its content changed); returns its passage count."""
        path = Path(path)
        passages = read_passages(path)
        if not passages:
            raise DocumentError(f"{path.name}: no text found in it")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        vectors = self.encoder.encode([p.text for p in passages]).astype(np.float32)
        with self._lock:
            db = self._db
            if db.execute("SELECT 1 FROM documents WHERE sha256 = ?", (digest,)).fetchone():
                return len(passages)
            db.execute("BEGIN")
            try:
                cur = db.execute(
                    "INSERT INTO documents(path, name, sha256) VALUES (?, ?, ?)",
                    (str(path.resolve()), path.name, digest),
                )
                document_id = cur.lastrowid
                for passage, vector in zip(passages, vectors, strict=True):
                    row = db.execute(
                        "INSERT INTO passages(document_id, place, text, vector) "
                        "VALUES (?, ?, ?, ?)",
                        (document_id, passage.place, passage.text, vector.tobytes()),
                    ).lastrowid
                    db.execute(
                        "INSERT INTO passages_fts(rowid, text) VALUES (?, ?)",
                        (row, passage.text),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._matrix = None
        return len(passages)

    def documents(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM documents ORDER BY id")]

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self._matrix is None:
            rows = self._db.execute("SELECT id, vector FROM passages ORDER BY id").fetchall()
            ids = np.array([r[0] for r in rows], np.int64)
            matrix = (
                np.stack([np.frombuffer(r[1], np.float32) for r in rows])
                if rows
                else np.zeros((0, 384), np.float32)
            )
            self._matrix = (ids, matrix)
        return self._matrix

    def search(self, query: str, limit: int = 4) -> list[Hit]:
        """The passages that best answer ``query`` (meaning and words, fused by rank)."""
        with self._lock:
            ids, matrix = self._vectors()
            if ids.size == 0:
                return []
            similarity = matrix @ self.encoder.encode([query])[0]
            terms = [w for w in re.findall(r"\w+", query.lower()) if w not in _STOPWORDS]
            words = " OR ".join(f'"{w}"' for w in terms[:20])
            by_words = (
                [
                    r[0]
                    for r in self._db.execute(
                        "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? "
                        "ORDER BY bm25(passages_fts) LIMIT 20",
                        (words,),
                    )
                ]
                if words
                else []
            )
            # Meaning decides; shared words add a small bonus (exact names, numbers).
            fused = {int(i): float(s) for i, s in zip(ids, similarity, strict=True)}
            for rank, passage_id in enumerate(by_words):
                fused[passage_id] = fused.get(passage_id, 0.0) + 0.1 / (1 + rank)
            best = sorted(fused, key=fused.get, reverse=True)[:limit]
            hits = []
            for passage_id in best:
                name, place, text = self._db.execute(
                    "SELECT d.name, p.place, p.text FROM passages p "
                    "JOIN documents d ON d.id = p.document_id WHERE p.id = ?",
                    (passage_id,),
                ).fetchone()
                hits.append(Hit(name, place, text, round(fused[passage_id], 5)))
            return hits

    def close(self) -> None:
        with self._lock:
            self._db.close()
