"""The user's documents as the assistant's disk: files dropped in (text, Markdown, HTML,
PDF) are split into passages, embedded, and kept in SQLite; searches combine meaning
(embeddings, cosine) with words (FTS5 BM25) and every hit says where it came from."""

from __future__ import annotations

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
    for number, line in enumerate(lines + [""], start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            if buffer:
                paragraphs.append((first, number - 1, " ".join(buffer), heading, False))
                buffer = []
            heading = stripped.lstrip("#").strip()
            paragraphs.append((number, number, heading, heading, True))
            continue
        if stripped:
            if not buffer:
                first = number
            buffer.append(stripped)
        elif buffer:
            paragraphs.append((first, number - 1, " ".join(buffer), heading, False))
            buffer = []
    passages, start = [], 0
    while start < len(paragraphs):
        end, words = start, 0
        while end < len(paragraphs):
            size = len(paragraphs[end][2].split())
            if words and (words + size > CHUNK_WORDS or paragraphs[end][4]):
                break
            words += size
            end += 1
        group = paragraphs[start:end]
        where = f"lines {group[0][0]}–{group[-1][1]}"
        if group[0][3]:
            where += f" ({group[0][3]})"
        passages.append(Passage("\n".join(p[2] for p in group), where))
        next_is_section = end < len(paragraphs) and paragraphs[end][4]
        start = end if end - start == 1 or end >= len(paragraphs) or next_is_section else end - 1
    return passages


def read_passages(path: Path) -> list[Passage]:
    """The passages of a document, each with where it is in the file."""
    if not path.is_file():
        raise DocumentError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DocumentError(f"{path.name}: too large to index (over 50 MB)")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_passages(path)
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot be read ({exc.strerror})") from exc
    if suffix in HTML_SUFFIXES:
        parser = _HtmlText()
        parser.feed(raw)
        return _paragraph_passages(parser.lines)
    if suffix in TEXT_SUFFIXES:
        return _paragraph_passages(raw.splitlines())
    raise DocumentError(
        f"{path.name}: {suffix or 'these'} files cannot be searched (text, Markdown, HTML, PDF)"
    )


def _pdf_passages(path: Path) -> list[Passage]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as exc:
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
