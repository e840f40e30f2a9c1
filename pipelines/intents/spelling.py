"""The word someone wants spelled, and the spelling said letter by letter."""

from __future__ import annotations

from collections.abc import Sequence

# Words that stand for something said before ("how do you spell it") or make "spell" part
# of another request ("spell check"), not a word to spell.
_NOT_A_WORD = frozenset(
    ("it", "that", "this", "them", "those", "these", "something", "anything", "word", "check")
)


def parse_word(tokens: Sequence[str]) -> str | None:
    """One word of letters (hyphens allowed: "mother-in-law")."""
    if len(tokens) != 1:
        return None
    word = tokens[0]
    if word in _NOT_A_WORD or not word.replace("-", "").isalpha() or len(word) < 2:
        return None
    return word


def spelled(word: str) -> str:
    """The word letter by letter, as capitals between commas, which a speech synthesizer
    reads one letter at a time: "Necessary is spelled N, E, C, E, S, S, A, R, Y."."""
    letters = ", ".join("hyphen" if c == "-" else c.upper() for c in word)
    return f"{word[0].upper()}{word[1:]} is spelled {letters}."
