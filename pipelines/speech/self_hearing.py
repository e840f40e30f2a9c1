"""Did the assistant just hear itself? A check on words, for when the acoustic echo checks
are fooled (an echo path that changed or got slower than they cover): speech heard while
the assistant talks through speakers is its own voice when the recogniser's words are,
run by run, words it had just said. Pure functions."""

from __future__ import annotations

import re
from difflib import SequenceMatcher, get_close_matches

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_TAIL = 4  # the last words of an utterance, where the user comes in after the echo
_SPELLING = 0.7  # letter-by-letter likeness of a misheard echo to what was said
_SPELLING_TWO_WORDS = 0.8
_SPELLING_LOOSE = 0.8  # the same, ignoring where the recogniser put word boundaries
_SPELLING_PREFIX = 0.8  # a start of two words or more this like the reply is its echo
_LONG_SHARE = 0.4  # of eight words or more
# A heard word of five letters or more this like a word of the reply is that word misheard
# ("teaming" for "teeming"), in transcripts of three words or more.
_MISHEARD = 0.8
_MISHEARD_LETTERS = 5


def words(text: str) -> list[str]:
    """Lower-case words without punctuation ("It's 8." → ["it's", "8"])."""
    return _WORD.findall(text.lower().replace("’", "'"))


def sounds_like_echo(heard: str, spoken: str, *, min_share: float = 0.6) -> bool:
    """Is ``heard`` (a transcript) the assistant's own recent words ``spoken`` coming back?

    Echo when at least ``min_share`` of the heard words match ``spoken`` in order, in runs
    of two or more words (single common words scattered through the reply do not count),
    or when the heard words sound like a stretch of the reply letter by letter (the
    recogniser mishears echo: "the option is a bass" for "the ocean is a vast", "it's
    orbing" for "in absorbing"). Words
    of the user's own at the end (they talked after the echo) make it the user. A
    transcript with no words at all is noise, and counts as echo: it is no request.
    """
    heard_words = words(heard)
    if not heard_words:
        return True
    spoken_words = words(spoken)
    if not spoken_words:
        return False
    heard_words = _as_spoken(heard_words, spoken_words)
    tail = heard_words[-_TAIL:]
    if len(heard_words) >= 2 * _TAIL:
        if not _is_echo(tail, spoken_words, min_share, 0.6):
            return False
        # A long stretch of the reply, misheard here and there, still shares much more of
        # its word runs with the reply than anything the user would say.
        min_share = min(min_share, _LONG_SHARE)
    return _is_echo(heard_words, spoken_words, min_share, _SPELLING)


def is_misheard_reply_word(heard: str, spoken: str) -> bool:
    """Whether ``heard`` is one long word that sounds like a word of ``spoken`` (the last
    word of the assistant's echo, left when the words before it were taken for echo)."""
    heard_words = words(heard)
    if len(heard_words) != 1 or len(heard_words[0]) < _MISHEARD_LETTERS:
        return False  # "stop" must stay the user's
    candidates = {w for w in words(spoken) if len(w) >= _MISHEARD_LETTERS}
    return bool(get_close_matches(heard_words[0], candidates, n=1, cutoff=_MISHEARD))


def _as_spoken(heard_words: list[str], spoken_words: list[str]) -> list[str]:
    """``heard_words`` with long words the recogniser misspelt replaced by the reply's word
    they sound like (so that runs of the reply's words are found through them)."""
    if len(heard_words) < 3:
        return heard_words  # too short: "stop" must not become the reply's "top"
    vocabulary = set(spoken_words)
    candidates = [w for w in vocabulary if len(w) >= _MISHEARD_LETTERS]
    return [
        w
        if w in vocabulary or len(w) < _MISHEARD_LETTERS
        else (get_close_matches(w, candidates, n=1, cutoff=_MISHEARD) or [w])[0]
        for w in heard_words
    ]


def _is_echo(
    heard_words: list[str], spoken_words: list[str], min_share: float, spelling: float
) -> bool:
    blocks = SequenceMatcher(None, heard_words, spoken_words, autojunk=False)
    shortest_run = 1 if len(heard_words) <= 2 else 2
    matched = sum(b.size for b in blocks.get_matching_blocks() if b.size >= shortest_run)
    if matched / len(heard_words) >= min_share:
        return True
    if len(heard_words) < 2:
        return False  # one word is too short to judge by spelling ("stop" is not "top")
    if len(heard_words) == 2:
        spelling = max(spelling, _SPELLING_TWO_WORDS)
    return (
        _likeness(heard_words, spoken_words) >= spelling
        or _likeness(heard_words, spoken_words, loose=True) >= _SPELLING_LOOSE
    )


def _likeness(heard_words: list[str], spoken_words: list[str], *, loose: bool = False) -> float:
    """How much ``heard_words`` sound like the best-matching stretch of the same number of
    ``spoken_words``, letter by letter (0..1). ``loose`` compares the letters alone,
    against stretches a word shorter or longer too: the recogniser splits and joins
    misheard echo ("it's orbing" for "in absorbing"), but more stretches match by chance."""
    n = len(heard_words)
    sep = "" if loose else " "
    heard = sep.join(heard_words)
    if loose:
        heard = heard.replace("'", "")
    likeness = SequenceMatcher(None, heard, "", autojunk=False)
    best = 0.0
    for size in {max(1, n - 1), n, n + 1} if loose else {n}:
        for i in range(max(1, len(spoken_words) - size + 1)):
            stretch = sep.join(spoken_words[i : i + size])
            likeness.set_seq2(stretch.replace("'", "") if loose else stretch)
            if likeness.real_quick_ratio() > best and likeness.quick_ratio() > best:
                best = max(best, likeness.ratio())  # (quick bounds skip most windows)
    return best


def without_echo(heard: str, spoken: str, *, last: str | None = None) -> str:
    """``heard`` without the assistant's own words at its start (its voice, heard just
    before the user cut in): whole sentences that sound like its echo, then a run of two or
    more of its words, or two or more words that sound like ``last`` (what it was saying
    as the user cut in; by default the last sentence of ``spoken``) letter by letter. At
    least one word is kept."""
    sentences = re.findall(r"[^.!?]+[.!?]*\s*", heard)
    while len(sentences) > 1 and sounds_like_echo(sentences[0], spoken):
        sentences.pop(0)
    heard = "".join(sentences).strip()
    spans = list(_WORD.finditer(heard.lower().replace("’", "'")))
    heard_words = [m.group(0) for m in spans]
    spoken_words = words(spoken)
    if last is None:
        last = (re.findall(r"[^.!?]+[.!?]*", spoken) or [""])[-1]
    last_words = words(last)
    joined = f" {' '.join(spoken_words)} "
    for k in range(len(heard_words) - 1, 1, -1):  # keep at least one word
        start = heard_words[:k]
        if (
            f" {' '.join(start)} " in joined
            # misheard ("dragon name's a" for "dragon named Eira")
            or _likeness(start, last_words) >= _SPELLING_PREFIX
            or _likeness(start, last_words, loose=True) >= _SPELLING_PREFIX
        ):
            rest = heard[spans[k - 1].end() :].lstrip(" ,.;:!?-—")
            return rest[:1].upper() + rest[1:]
    return heard
