"""The output guard: what the model writes is checked before the user sees or hears it.

Small models copy what is in front of them: the system prompt, the tool protocol's JSON, the
keyed delimiters of data blocks, "The user asks…" from an example, or an earlier answer to a
different question. They also claim actions nobody took ("The timer is set"). A reply is cut
where such text begins; the kernel asks again or says it has no good answer.

``ReplyGuard`` is pure: it sees the reply grow piece by piece and says how much of it is safe
to show; replaying a recorded reply gives the same verdict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import regex

# Text of the prompt's own making, never of an answer's.
_LEAK = re.compile(
    r"""
    <<<|<\|[a-z0-9_]+\|>|</?tool_call>                          # delimiters, special tokens
    | \b(?:END\s)?DATA\s+key\b | \bkey=[0-9a-f]{6,}             # data blocks and their keys
    | \{\s*"(?:tool|answer)"\s*:                                  # the tool protocol's JSON
    | \bthe\s+user\s+(?:asks|asked|says|said|wants|wrote|is\s+asking)\b
    | \bTool\s+result\b | \bSecurity\s+rules\b | \bReply\s+with\s+exactly\b
    | \[(?:insert|enter|add|your|current|today'?s?)\b[^\]\n]{0,40}\]   # a template's blank
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Claims of actions that only a tool or an intent may make true. The model never sets
# timers (the intent layer does), and says "saved"/"noted" only after the tool that does it.
_CLAIMS = {
    "timer": re.compile(
        r"\b(?:timer|alarm|countdown)\b[^.!?]{0,40}\b(?:is|has\s+been|was)?\s*(?:set|started|"
        r"running)\b|\b(?:I(?:'ve|\s+have|\s+will|'ll)?\s+)(?:set|started)\s+(?:a|an|the|your)"
        r"\s+[^.!?]{0,20}\b(?:timer|alarm|countdown)\b",
        re.IGNORECASE,
    ),
    "promise": re.compile(  # to act later: nothing here acts later but a timer
        r"\bI(?:'ll|\s+will)\s+(?:let\s+you\s+know|remind\s+you|notify\s+you|alert\s+you|"
        r"tell\s+you\s+when|wake\s+you)\b|\btimer\s+will\s+(?:go\s+off|ring|beep|sound)\b",
        re.IGNORECASE,
    ),
    "reminder": re.compile(
        r"\b(?:I(?:'ve|\s+have|'ll|\s+will)?\s+)?(?:set|created|scheduled|added)\s+(?:a|the|"
        r"your)\s+reminder\b|\breminder\s+(?:is|has\s+been)\s+(?:set|created|scheduled)\b",
        re.IGNORECASE,
    ),
    "remember": re.compile(
        r"\bI(?:'ve|\s+have)\s+(?:noted|remembered|saved|stored)\b|\b(?:noted|saved)\s+"
        r"(?:that|it)\b|\bI(?:'ll|\s+will)\s+remember\b",
        re.IGNORECASE,
    ),
    "file": re.compile(
        r"\bI(?:'ve|\s+have)\s+(?:saved|written|created)\s+(?:the|a|your)\s+(?:file|page|"
        r"document)\b|\b(?:file|page|document)\s+(?:is|has\s+been)\s+(?:saved|written|created)\b",
        re.IGNORECASE,
    ),
}
# Which tool makes a kind of claim true (no tool makes a timer or reminder claim true).
_CLAIM_TOOLS = {"remember": {"remember"}, "file": {"write_page", "run_python", "plot"}}

PROMPT_RUN_WORDS = 8  # this many words in a row from the prompt are a quotation of it
REPEAT_RUN_WORDS = 10  # likewise for an earlier answer
_WORD = re.compile(r"[a-z0-9']+")
# The same markers, to tell whether the end of a reply may still grow into one (regex's
# partial matching): that part is held back until the next words tell, whatever its spacing
# or case (``{\n  "tool"``, ``the  user``, ``[insert your``); everything before it is shown at
# once, so the first words are not delayed by the guard.
_LEAK_PARTIAL = regex.compile(_LEAK.pattern, regex.IGNORECASE | regex.VERBOSE)
_LOOK_BACK = 80  # longer than any marker's start (a template blank is at most 48)


@dataclass(frozen=True)
class Verdict:
    """How much of the reply is safe (``safe`` characters), and why the rest is not."""

    safe: int
    reason: str = ""  # "" when nothing was cut


def _words(text: str) -> list[tuple[str, int]]:
    """Lower-case words with where each starts in ``text``."""
    return [(m.group(), m.start()) for m in _WORD.finditer(text.lower())]


def _runs(texts: Iterable[str], n: int) -> set[tuple[str, ...]]:
    runs: set[tuple[str, ...]] = set()
    for text in texts:
        words = [w for w, _ in _words(text)]
        runs.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return runs


# A sentence: words up to its end mark. Tried only where a sentence can begin (after an end
# mark or a line break): tried at every character, a long reply without one took time
# quadratic in its length (100 000 characters: 90 s).
_SENTENCE = re.compile(r"(?<![^.!?\n])[^.!?\n]+[.!?]+(?=\s|$)")


def _sentences(text: str) -> list[tuple[int, str]]:
    """The finished sentences of ``text``: where each starts, and its words joined."""
    found = []
    for match in _SENTENCE.finditer(text):
        words = " ".join(w for w, _ in _words(match.group()))
        if words:
            found.append((match.start() + len(match.group()) - len(match.group().lstrip()), words))
    return found


def _unfinished_sentence_start(text: str) -> int:
    """Where the sentence that ``text`` ends in, still unfinished, begins (``len(text)``
    when it ends with a finished one)."""
    finished = [m.end() for m in _SENTENCE.finditer(text)]
    end = finished[-1] if finished else 0
    return end + len(text[end:]) - len(text[end:].lstrip())


def _sentence_start(text: str, position: int) -> int:
    """Where the sentence holding ``position`` begins."""
    cut = max(text.rfind(mark, 0, position) for mark in (". ", "! ", "? ", "\n"))
    return 0 if cut < 0 else cut + 1


class ReplyGuard:
    """Judges one reply against the prompt it was written from.

    ``prompt``: the pinned text the model saw (system message, tool protocol); ``earlier``:
    earlier answers in the conversation, to different questions; ``tools_run``: the names of
    the tools that ran this turn, asked as the reply grows (they make some claims true)."""

    def __init__(
        self,
        prompt: Sequence[str] = (),
        earlier: Sequence[str] = (),
        tools_run: Callable[[], Iterable[str]] = tuple,
        question: str = "",
    ):
        self._prompt_runs = _runs(prompt, PROMPT_RUN_WORDS)
        self._earlier_runs = _runs(earlier, REPEAT_RUN_WORDS)
        self._earlier = {" ".join(w for w, _ in _words(e)) for e in earlier if len(e.split()) >= 3}
        self._earlier_sentences = {
            key for e in earlier for _, key in _sentences(e) if key.count(" ") >= 2
        }
        # Every opening of those sentences, word by word: a sentence that begins like one
        # is held back until it says something else.
        self._earlier_openings: dict[tuple[str, ...], set[str]] = {}
        for key in self._earlier_sentences:
            said = key.split()
            for n, word in enumerate(said):
                self._earlier_openings.setdefault(tuple(said[:n]), set()).add(word)
        self.tools_run = tools_run
        self._question = [w for w, _ in _words(question)]
        self._asks_numbers = any(c.isdigit() for c in question)

    def judge(self, text: str, *, final: bool = False) -> Verdict:
        """The verdict on ``text`` (the reply so far; ``final`` when it is complete)."""
        cuts: list[tuple[int, str]] = []
        leak = _LEAK.search(text)
        if leak:  # the sentence it is in goes with it: its start alone says nothing
            cuts.append((_sentence_start(text, leak.start()), "prompt text"))
        ran = set(self.tools_run())
        for kind, pattern in _CLAIMS.items():
            if ran & _CLAIM_TOOLS.get(kind, set()):
                continue
            claim = pattern.search(text)
            if claim:
                cuts.append((_sentence_start(text, claim.start()), f"unbacked {kind} claim"))
        words = _words(text)
        for runs, n, reason in (
            (self._prompt_runs, PROMPT_RUN_WORDS, "quotes the prompt"),
            (self._earlier_runs, REPEAT_RUN_WORDS, "repeats an earlier answer"),
        ):
            for i in range(len(words) - n + 1):
                if tuple(w for w, _ in words[i : i + n]) in runs:
                    cuts.append((_sentence_start(text, words[i][1]), reason))
                    break
        looped = _second_time(words, REPEAT_RUN_WORDS)
        if looped is None:
            looped = loop_start(text)
        if looped is not None:
            # A small model caught in a loop writes the same words again and again: the
            # first time stands.
            cuts.append((looped, "repeats itself"))
        if final and " ".join(w for w, _ in words) in self._earlier:
            cuts.append((0, "repeats an earlier answer"))
        for i, (start, key) in enumerate(_sentences(text)):
            if key in self._earlier_sentences:
                # A reply that opens with an earlier answer's sentence answers that
                # question, not this one: none of it is kept.
                cuts.append((0 if i == 0 else start, "repeats an earlier answer"))
                break
        if final and words and self._echoes([w for w, _ in words]):
            cuts.append((0, "echoes the question"))
        if (
            final
            and self._question
            and not self._asks_numbers
            and not re.search("[a-z]", text, re.I)
        ):
            # A bare number for a question without numbers ("72" for a fun fact about
            # octopuses, after the model multiplied 8 by 9) answers nothing that was asked.
            cuts.append((0, "a number for a question in words"))
        if cuts:
            position, reason = min(cuts)
            return Verdict(position, reason)
        if final:
            return Verdict(len(text))
        return Verdict(min(_undecided_from(text), self._may_be_cut_from(text, words)))

    def _may_be_cut_from(self, text: str, words: list[tuple[str, int]]) -> int:
        """Where the part of an unfinished reply that its end may still cut begins: all of
        it while it says nothing but the question's words, and the unfinished sentence
        while it opens like an earlier answer's sentence (else ``len(text)``). Shown, that
        part could not be taken back: a spoken reply said the question back, then the
        answer asked again after it."""
        said = [w for w, _ in words]
        if said and self._may_echo(said):
            return 0
        start = _unfinished_sentence_start(text)
        opening = [w for w, at in words if at >= start]
        if opening and self._may_open_earlier(opening):
            return start
        return len(text)

    def _may_echo(self, said: list[str]) -> bool:
        """``said`` (its last word perhaps unfinished) may still end as an echo."""
        return _said_back(said, self._question, last_unfinished=True)

    def _may_open_earlier(self, opening: list[str]) -> bool:
        """``opening`` (its last word perhaps unfinished) may still become an earlier
        answer's sentence."""
        following = self._earlier_openings.get(tuple(opening[:-1]), ())
        return any(word.startswith(opening[-1]) for word in following)

    def _echoes(self, words: list[str]) -> bool:
        """The reply says back the question's words in its order, perhaps leaving some
        out, and nothing of its own ("thanks a million." to "thanks a million")."""
        return _said_back(words, self._question, last_unfinished=False)


def _said_back(said: list[str], question: list[str], *, last_unfinished: bool) -> bool:
    """``said`` is ``question``'s words in order, some perhaps left out (``last_unfinished``:
    its last word may be the start of one)."""
    if not said or not question:
        return False
    asked = iter(question)
    for i, word in enumerate(said):
        partial = last_unfinished and i == len(said) - 1
        if not any(w.startswith(word) if partial else w == word for w in asked):
            return False
    return True


def _second_time(words: list[tuple[str, int]], n: int) -> int | None:
    """Where a run of ``n`` words that the text already had begins again (None: none)."""
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        run = tuple(w for w, _ in words[i : i + n])
        first = seen.setdefault(run, i)
        if first + n <= i:  # a run overlapping its first time is a long word chain, not a loop
            return words[i][1]
    return None


_LOOP_UNIT_CHARS = 40  # the longest unit a character loop is looked for in
_LOOP_MIN_CHARS = 24  # a loop is at least this long, and its unit said this many times:
_LOOP_MIN_REPEATS = 8
# Units made only of these are rules, padding and data (a Markdown table's "---", a line of
# "=", a long number's zeros, a list of zeros in code), not a model stuck in a loop.
_NOT_A_LOOP = set("0123456789-=_*#~.,;:+|/\\()[]{}<>'\" \t\n")


def loop_start(text: str) -> int | None:
    """Where the end of ``text`` became a short unit written again and again ("🌟 🌟 🌟 …",
    "!?!?!?…"), or None. Loops of words are found by their runs of words; this finds those
    of emoji, symbols and word fragments, which a degenerate model can write until the
    length limit, and which have no words to repeat."""
    tail = text[-_LOOP_UNIT_CHARS * _LOOP_MIN_CHARS :]
    for size in range(1, _LOOP_UNIT_CHARS + 1):
        repeats = max(_LOOP_MIN_REPEATS, -(-_LOOP_MIN_CHARS // size))
        span = size * repeats
        if span > len(tail):
            break
        unit = tail[-size:]
        if set(unit) <= _NOT_A_LOOP or tail[-span:] != unit * repeats:
            continue
        start = len(text) - span
        while start >= size and text[start - size : start] == unit:
            start -= size
        return start
    return None


def _undecided_from(text: str) -> int:
    """Where the part of ``text`` that may still become a marker begins: the start of a
    marker that the next characters may complete (else nothing is held back)."""
    for start in range(max(0, len(text) - _LOOK_BACK), len(text)):
        match = _LEAK_PARTIAL.match(text, start, partial=True)
        if match is not None and match.partial:
            return start
    return len(text)


def clean(text: str) -> str:
    """A cut reply, tidied: no dangling separator or unfinished quote at the end."""
    text = text.rstrip()
    text = re.sub(r'[\s,;:(\-–—"“]+$', "", text)
    return text.strip()


def usable(text: str) -> bool:
    """Whether what is left of a reply says something (two words or more)."""
    return len(_WORD.findall(text.lower())) >= 2
