"""Words read from handwriting, put right where OCR got one letter wrong: "Contirmation",
"PRODNCT", "Gxpress" become "Confirmation", "PRODUCT", "Express". Cautious by design, since
a page that renames the user's own words is worse than a typo: only alphabetic words of
five letters or more that are not English words themselves, and only when the dictionary's
best guess has the same length and differs in exactly one letter. The writer's capitals
are kept."""

from __future__ import annotations

import re
from functools import lru_cache

MIN_LETTERS = 5
_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=1)
def _checker():
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


def _same_case(guess: str, word: str) -> str:
    if word.isupper():
        return guess.upper()
    if word[:1].isupper() and word[1:].islower():
        return guess.capitalize()
    if word.islower():
        return guess
    return "".join(g.upper() if w.isupper() else g for g, w in zip(guess, word, strict=True))


def is_english_word(word: str) -> bool:
    """Whether ``word`` (any capitals) is a common English word."""
    return word.isalpha() and word.lower() in _checker()


def correct_word(word: str) -> str:
    """``word`` put right if it is one misread letter away from a common English word."""
    if len(word) < MIN_LETTERS or not word.isalpha() or not word.isascii():
        return word
    checker = _checker()
    lower = word.lower()
    if lower in checker:
        return word
    guess = checker.correction(lower)
    if not guess or len(guess) != len(lower):
        return word
    if sum(a != b for a, b in zip(guess, lower, strict=True)) != 1:
        return word
    return _same_case(guess, word)


def correct_text(text: str) -> str:
    """Every word of ``text`` put right (see ``correct_word``); the rest left as written."""
    return _WORD.sub(lambda m: correct_word(m.group(0)), text)
