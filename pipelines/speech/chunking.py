"""Cutting a streamed reply into phrases to speak: a short first phrase, then sentences."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally followed by quotes/brackets) and then white space.
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*(?=\s)")
# A clause ends at , ; : or a dash, followed by white space.
_CLAUSE_END = re.compile(r"(?:[,;:]|\s[-–—])(?=\s)")
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "approx",
    "no",
    "fig",
    "mt",
    "inc",
    "ltd",
    "co",
}


def _is_abbreviation(text: str, dot: int) -> bool:
    """True if the '.' at ``dot`` ends an abbreviation or an initial rather than a sentence."""
    if text[dot] != ".":
        return False
    word = re.search(r"([A-Za-z.]+)$", text[:dot])
    if word is None:
        return False
    token = word.group(1).lower().rstrip(".")
    return token in _ABBREVIATIONS or len(token) == 1


class PhraseChunker:
    """Feed it text as it streams; it hands back phrases ready to speak.

    The first phrase may end at a clause boundary once it has ``first_min_words`` words,
    or at any word boundary once it has ``first_max_words``, so speech can start early;
    later phrases end at sentence boundaries (or at a clause boundary once they exceed
    ``max_words``, or at a word boundary once they reach ``hard_max_words``: the voice's
    memory grows to fit the longest phrase it ever said, and keeps it).
    """

    def __init__(
        self,
        first_min_words: int = 3,
        first_max_words: int = 7,
        max_words: int = 20,
        hard_max_words: int = 28,
    ):
        self.first_min_words = first_min_words
        self.first_max_words = first_max_words
        self.max_words = max_words
        self.hard_max_words = hard_max_words
        self._buffer = ""
        self._emitted = 0

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the phrases it completed."""
        self._buffer += text
        phrases: list[str] = []
        while (cut := self._find_cut()) is not None:
            phrase, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:]
            if phrase:
                phrases.append(phrase)
                self._emitted += 1
        return phrases

    def flush(self) -> list[str]:
        """The rest of the text, at the end of the reply."""
        rest, self._buffer = self._buffer.strip(), ""
        words = rest.split()
        phrases = [
            " ".join(words[i : i + self.hard_max_words])
            for i in range(0, len(words), self.hard_max_words)
        ]
        self._emitted += len(phrases)
        return phrases

    def reset(self) -> None:
        """Forget everything (after an interruption)."""
        self._buffer = ""
        self._emitted = 0

    def _find_cut(self) -> int | None:
        text = self._buffer
        for match in _SENTENCE_END.finditer(text):
            if not _is_abbreviation(text, match.start()):
                return match.end()
        words_needed = self.first_min_words if self._emitted == 0 else self.max_words
        for match in _CLAUSE_END.finditer(text):
            if len(text[: match.start()].split()) >= words_needed:
                return match.end()
        if self._emitted == 0 and self.first_max_words:
            # A long first clause: cut at a word boundary so the first sound comes early.
            words = list(re.finditer(r"\S+(?=\s)", text))
            if len(words) > self.first_max_words:
                return words[self.first_max_words - 1].end()
        words = list(re.finditer(r"\S+(?=\s)", text))
        if len(words) >= self.hard_max_words:
            return words[self.hard_max_words - 1].end()
        return None
