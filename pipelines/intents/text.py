"""Utterance text to the tokens the templates match: lower-case words, numbers as written,
arithmetic symbols, and commas (kept for lists; the matcher skips them elsewhere)."""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""
      \d+(?:st|nd|rd|th)\b                 # ordinals: "10th"
    | \d+:\d+ | \d+(?:[-/.]\d+){2,}        # 7:30, 12/25/2026, 1-800-555-0199, 3.12.1:
                                         # one token that no template reads, never a sum
    | \d{1,3}(?:,\d{3})+(?:\.\d+)? | \d*\.\d+ | \d+   # 54,788  10.5  .5  42
    | [a-z]+(?:['-][a-z]+)*                # words, "what's", "twenty-five", "spell-check"
    | \*\* | [-+*/×÷^()%$£€,=]             # symbols that mean something in a sum
    | [^\s\w?!.;:"']                       # any other symbol: kept, so nothing reads it
    """,
    re.VERBOSE,
)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "−": "-", "–": "-", "—": " "})
# Hesitations carry nothing; speech-to-text writes them out.
_HESITATIONS = frozenset({"um", "umm", "uh", "uhh", "erm", "er", "hmm", "uhm"})


def tokenize(text: str) -> tuple[str, ...]:
    """Tokens of an utterance; sentence punctuation and quotes are dropped."""
    text = text.lower().translate(_QUOTES).replace("°", " degrees ")
    text = re.sub(r"(?<=\d)-(?=[a-z])", " ", text)  # "4-minute" is "4 minute"
    tokens = (t.replace("'", "") for t in _TOKEN.findall(text))  # "what's" -> "whats"
    return tuple(t for t in tokens if t not in _HESITATIONS)
