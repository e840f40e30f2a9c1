"""Documents for file search (``read_passages``, ``DocumentIndex``) and for attachments
(``read_attachment``): text in UTF-8, UTF-16, Windows-1252 and lines of both mixed, with
control, right-to-left and combining characters and single lines of a megabyte; binary files
and zip bombs under a text extension; PDFs written by fpdf2, then truncated, bit-flipped,
encrypted (with and without a password), decompression bombs and pages of millions of
operators. Each gives passages (no word lost, none longer than MAX_PASSAGE_CHARS) or a
DocumentError / AttachmentError that says why."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from fpdf import FPDF
from hypothesis import assume, example, given
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from tests.fuzz import PROFILE, Blob, check_clear, counted, expect_clear, fuzz
from vistavox.pipelines.kernel.kernel import MAX_FILE_CHARS, AttachmentError, read_attachment
from vistavox.pipelines.tools.documents import (
    HTML_SUFFIXES,
    MAX_PASSAGE_CHARS,
    TEXT_SUFFIXES,
    DocumentError,
    read_passages,
)

# Text as people (and programs) write it: letters of several scripts, right-to-left and
# combining marks, controls, odd spaces and line separators, Markdown headings.
CHARACTERS = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list("abc XYZ éüß אבג مرحبا 日本 \u200f\u202e\u0301\u0338\u3000\u2028\t\r\n#")),
)
TEXTS = st.one_of(
    st.text(CHARACTERS, max_size=400),
    st.lists(st.text(CHARACTERS, max_size=60), max_size=30).map("\n".join),
    st.builds(
        lambda word, n: (word + " ") * n, st.text(min_size=1, max_size=12), st.integers(0, 20_000)
    ),
    st.builds(lambda n: "x" * n, st.integers(0, 300_000)),  # one huge line, no spaces
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "mixed"]


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "mixed":  # every other line in Windows-1252
        lines = text.splitlines(keepends=True)
        return b"".join(
            line.encode("cp1252" if i % 2 else "utf-8", errors="replace")
            for i, line in enumerate(lines)
        )
    return text.encode(encoding, errors="replace" if encoding == "cp1252" else "surrogatepass")


def _words(text: str) -> set[str]:
    return set(text.split())


def _latin1_word(word: str) -> bool:
    """Letters and digits whose Windows-1252 bytes can never pass for UTF-8."""
    return all(c.isascii() or "\u00c0" <= c <= "\u00ff" for c in word)


def _kept_words(text: str, encoding: str) -> set[str]:
    """The words a reader must find: all of them, except in mixed files the words of the
    Windows-1252 lines that could read as UTF-8 ("Ã©" is "é")."""
    if encoding == "mixed":
        lines = text.splitlines(keepends=True)
        words = set()
        for i, line in enumerate(lines):
            words |= {w for w in line.split() if not i % 2 or _latin1_word(w)}
    else:
        words = _words(text)
    return {w for w in words if len(w) < MAX_PASSAGE_CHARS // 2}


def _check_passages(passages) -> None:
    for passage in passages:
        assert passage.text.strip(), "an empty passage"
        assert len(passage.text) <= MAX_PASSAGE_CHARS, len(passage.text)
        assert isinstance(passage.place, str) and passage.place


@fuzz(60)
@given(TEXTS, st.sampled_from(ENCODINGS), st.sampled_from(sorted(TEXT_SUFFIXES | HTML_SUFFIXES)))
@example("x" * 300_000, "utf-8", ".txt")  # one line of 300k characters
@example("# " + "long heading " * 300, "utf-8", ".md")
@example("naïve café\nnaïve café", "mixed", ".txt")
@counted
def test_text_files_become_passages_without_losing_words(tmp_path, text, encoding, suffix):
    data = _encode(text, encoding)
    path = tmp_path / f"notes{suffix}"
    path.write_bytes(data)
    assume("\0" not in text)  # a NUL is binary data (its own test)
    passages = read_passages(path)  # text in these encodings is always read
    _check_passages(passages)
    if suffix in HTML_SUFFIXES or encoding == "cp1252":
        return  # markup is not text; Windows-1252 has no letters for most scripts
    found = set().union(*(_words(p.text) for p in passages)) if passages else set()
    expected = {w.lstrip("#") for w in _kept_words(text, encoding)}
    lost = {w for w in expected if w and w not in found}
    assert not lost, f"words lost: {sorted(lost)[:5]}"
    attached = read_attachment(path)
    assert len(attached) <= MAX_FILE_CHARS


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.txt", b"\0" * 20_000_000)
    return out.getvalue()


PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@fuzz(40)
@given(
    st.one_of(
        st.binary(min_size=1, max_size=4096),
        st.builds(lambda b: PNG_HEADER + b, st.binary(max_size=512)),
        st.just(_zip_bomb()),
        st.builds(lambda t: t.encode("utf-16-le"), st.text(min_size=1, max_size=200)),
    ).map(Blob),
    st.sampled_from([".txt", ".md", ".csv", ".json", ".py", ".html", ".log", ".xml", ".yaml"]),
)
@counted
def test_binary_files_with_a_text_extension_are_refused_or_read(tmp_path, data, suffix):
    path = tmp_path / f"not really{suffix}"
    path.write_bytes(data)
    passages = expect_clear(lambda: read_passages(path), DocumentError)
    if b"\0" in data[:8192]:
        assert passages is None, "binary data indexed as text"
    else:
        _check_passages(passages or [])
    text = expect_clear(lambda: read_attachment(path), AttachmentError)
    assert text is None or len(text) <= MAX_FILE_CHARS


def test_a_huge_text_file_is_refused_for_search_and_cut_for_attachments(tmp_path):
    """60 MB of text: over the index's limit; an attachment reads only what it keeps (it
    used to read the whole file first, however big)."""
    path = tmp_path / "huge.log"
    line = b"2026-01-01 12:00:00 INFO something happened here\n"
    path.write_bytes(line * (60_000_000 // len(line)))
    with pytest.raises(DocumentError, match="too large"):
        read_passages(path)
    assert len(read_attachment(path)) == MAX_FILE_CHARS


# --- PDFs ---------------------------------------------------------------------------------
def _pdf(text: str, pages: int = 1) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for _ in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def _with_content(content: bytes) -> bytes:
    """A one-page PDF whose page draws ``content`` (compressed, with the page's font)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf("x"))))
    stream = StreamObject()
    stream.set_data(zlib.compress(content, 9))
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypted(data: bytes, password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


LATIN_WORDS = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyzÀÉÎõü0123456789", min_size=1, max_size=12), max_size=60
).map(" ".join)


@fuzz(25)
@given(
    LATIN_WORDS,
    st.sampled_from(["plain", "truncate", "flip", "no-eof", "locked", "open-aes", "open-rc4"]),
    st.data(),
)
@counted
def test_pdfs_are_read_or_refused_clearly(tmp_path, text, damage, data):
    original = _pdf(text)
    if damage == "truncate":
        pdf = original[: data.draw(st.integers(0, len(original) - 1))]
    elif damage == "flip":
        buffer = bytearray(original)
        for _ in range(data.draw(st.integers(1, 16))):
            buffer[data.draw(st.integers(0, len(buffer) - 1))] = data.draw(st.integers(0, 255))
        pdf = bytes(buffer)
    elif damage == "no-eof":
        pdf = original.replace(b"%%EOF", b"").replace(b"startxref", b"")
    elif damage == "locked":
        pdf = _encrypted(original, "secret", data.draw(st.sampled_from(["RC4-128", "AES-256"])))
    elif damage.startswith("open"):  # encrypted, but opens without a password
        pdf = _encrypted(original, "", "AES-256" if damage == "open-aes" else "RC4-128")
    else:
        pdf = original
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    passages = expect_clear(lambda: read_passages(path), DocumentError)
    if damage == "locked":
        assert passages is None
        with pytest.raises(DocumentError, match="password"):
            read_passages(path)
        return
    if passages is None:
        assert damage in ("truncate", "flip", "no-eof"), "an intact PDF was refused"
        return
    _check_passages(passages)
    if damage in ("plain", "open-aes", "open-rc4"):
        found = set().union(*(p.text.split() for p in passages)) if passages else set()
        assert set(text.split()) <= found
    expect_clear(lambda: read_attachment(path), AttachmentError)


@pytest.mark.parametrize(
    "name, content",
    [
        ("a decompression bomb (100 MB of spaces)", b" " * 100_000_000),
        pytest.param(
            "400k text operators",
            b"BT /F1 12 Tf 72 712 Td (hello world) Tj ET\n" * 400_000,
            marks=pytest.mark.skipif(PROFILE != "bench", reason="8 s of parsing: benchmark only"),
        ),
        ("one line of 2 MB", b"BT /F1 12 Tf 72 712 Td (" + b"x" * 2_000_000 + b") Tj ET\n"),
    ],
)
def test_pdf_bombs_are_refused_or_cut_into_passages(tmp_path, name, content):
    """Found by fuzzing: pypdf's LimitReachedError (a bomb) and DependencyError (an AES
    PDF without the ``cryptography`` package) went through as crashes; a PDF page of one
    2 MB line became one 2 MB passage."""
    path = tmp_path / "bomb.pdf"
    path.write_bytes(_with_content(content))
    try:
        _check_passages(read_passages(path))
    except DocumentError as error:
        assert "too large" in check_clear(error)


def test_an_aes_encrypted_pdf_that_opens_without_a_password_is_read(tmp_path):
    """Most protected PDFs only restrict printing or copying (AES, empty user password):
    they are read like any other."""
    path = tmp_path / "restricted.pdf"
    path.write_bytes(_encrypted(_pdf("quarterly revenue grew"), "", "AES-256"))
    assert "revenue" in read_passages(path)[0].text


# --- the index, end to end ----------------------------------------------------------------
@fuzz(3)
@given(  # (huge texts are read_passages' cases above; embedding them is only slow)
    st.text(CHARACTERS, min_size=1, max_size=3000).filter(lambda t: t.strip() and "\0" not in t),
    st.text(max_size=200),
)
@example("Setup\n\nRun the installer.", 'NEAR("a" "b") OR * ^ - "')
@counted
def test_indexed_text_can_be_searched_with_any_query(tmp_path, text, query):
    from vistavox.pipelines.tools.documents import DocumentIndex

    path = tmp_path / "notes.md"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    index = DocumentIndex(tmp_path / "index.db")
    try:
        added = expect_clear(lambda: index.add(path), DocumentError)
        hits = index.search(query)
        assert len(hits) <= 4 and (added or not hits)
        for hit in hits:
            assert len(hit.text) <= MAX_PASSAGE_CHARS
    finally:
        index.close()
