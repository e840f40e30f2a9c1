"""LocalAgreement for streaming speech recognition: commit the words two consecutive
decodes of the growing audio agree on, so partial transcripts stop flickering."""

from __future__ import annotations

import re


def _key(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


class LocalAgreement:
    """Feed successive hypotheses of the same utterance; read back the stable prefix."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._committed: list[str] = []
        self._previous: list[str] = []

    @property
    def stable(self) -> str:
        return " ".join(self._committed)

    def update(self, hypothesis: str) -> tuple[str, str]:
        """Add a new full hypothesis; returns (stable text, tentative rest)."""
        words = hypothesis.split()
        n = len(self._committed)
        # The committed words are kept even if this hypothesis words them differently.
        agreed = n
        while (
            agreed < len(words)
            and agreed < len(self._previous)
            and _key(words[agreed]) == _key(self._previous[agreed])
        ):
            agreed += 1
        if agreed > n and all(
            _key(a) == _key(b) for a, b in zip(self._committed, words[:n], strict=False)
        ):
            self._committed = words[:agreed]
        self._previous = words
        return self.stable, " ".join(words[len(self._committed) :])
