"""Which tools a turn is offered: only those the request could need.

A small model offered a tool tends to use it: it "remembered" that Leonardo painted the Mona
Lisa (writing to the user's memory unasked), and for "give me a tip for sleeping better"
it computed a tip with the calculator and answered with the number. Each built-in tool says
here what a request that needs it looks like; a turn whose request does not look like that
is not offered the tool. Tools not listed (a plugin's, a benchmark's) are always offered.

``question`` is the user's own words; ``message`` is everything the turn brought (with the
text of attached files), so numbers in a document count for the calculator, but a document
that says "remember this" does not make the memory tools appear.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_NUMBER_WORDS = (
    r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|thousand|million|billion|half|quarter|third|dozen|percent"
)
_DIGITS = re.compile(r"\d")
_NUMBER_NAMES = re.compile(rf"\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
# A number in words is a quantity to compute with only beside words of arithmetic: "three
# tips for sleeping" is not a sum (the calculator was called for it), "twelve times seven" is.
_ARITHMETIC = re.compile(
    r"\b(?:plus|minus|times|multipl\w*|divid\w*|over|percent|sum|total|average|add|subtract|"
    r"square\w*|cube\w*|root|power|how many|how much|cost\w*|price|each|split|share|left|"
    r"altogether|in all|more than|less than|difference|convert)\b",
    re.IGNORECASE,
)
# "Use python to …", "with the calculator": the user chose the tool, and only it is offered
# (Qwen 0.5B asked to use python called the calculator, copying the prompt's example).
_NAMED_TOOL = re.compile(
    r"\b(?:use|using|with|in|run|via)\s+(?:the\s+|a\s+)?(?P<tool>python|calculator)\b",
    re.IGNORECASE,
)


def _has_numbers(message: str) -> bool:
    """Digits, or numbers in words beside words of arithmetic."""
    return bool(
        _DIGITS.search(message) or (_NUMBER_NAMES.search(message) and _ARITHMETIC.search(message))
    )


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


_REMEMBER = _words(
    r"remember|memori[sz]e|note (?:that|this|down)|make a note|keep in mind|don'?t forget|"
    r"do not forget|save (?:that|this)|my \w+(?: \w+)? (?:is|are)|call me"
)
_FORGET = _words(r"forget|delete (?:that|what)|remove (?:that|what)|stop remembering")
_CODE = _words(
    r"code|python|program|script|function|compute|calculate|simulat\w*|csv|json|data|"
    r"table|sort|random|regex|convert|average|mean|median|sum|total|list"
)
_PLOT = _words(r"plot|chart|graph|draw|diagram|histogram|visuali[sz]e|curve")
_PAGE = _words(r"page|html|website|web ?site|site|form|layout|landing|mock-?up|wireframe")
_SCREEN = _words(r"screen|screenshot|window|desktop|display")
_CLOCK = _words(
    r"time|date|day|today|tomorrow|yesterday|week|weekend|month|year|clock|hour|minute|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|christmas|birthday"
)
# A site named without its address ("what does bbc.co.uk say…"); pages named with one are
# read before the model answers (kernel/named_pages.py), so the model needs no tool for them.
_SITE = re.compile(
    r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|co|uk|de|fr|info|dev|app)\b",
    re.IGNORECASE,
)
# A search the model may make when the user asks for one or for what is new (a search the
# user asks for in so many words is made before the model answers: kernel/named_pages.py).
_SEARCH = _words(
    r"search|look (?:it |that )?up|google|latest|news|current|currently|recent|online|web|internet"
)

WANTED: dict[str, Callable[[str, str], bool]] = {
    "web_fetch": lambda question, message: bool(_SITE.search(question)) and "://" not in question,
    "web_search": lambda question, message: bool(_SEARCH.search(question)),
    "calculator": lambda question, message: _has_numbers(message),
    "python": lambda question, message: bool(_CODE.search(question)) or _has_numbers(message),
    "plot": lambda question, message: bool(_PLOT.search(question)),
    "write_page": lambda question, message: bool(_PAGE.search(question)),
    "screenshot": lambda question, message: bool(_SCREEN.search(question)),
    "datetime": lambda question, message: bool(_CLOCK.search(question)),
    "remember": lambda question, message: bool(_REMEMBER.search(question)),
    "forget": lambda question, message: bool(_FORGET.search(question)),
}


def wanted(name: str, question: str, message: str) -> bool:
    """Whether a request (``question``, in a turn that brought ``message``) may need tool
    ``name``."""
    test = WANTED.get(name)
    return test is None or test(question, message)


def named_tool(question: str) -> str | None:
    """The tool the user's words ask for ("use python to…", "with the calculator")."""
    named = _NAMED_TOOL.search(question)
    return named.group("tool").lower() if named else None


def offered(specs: Sequence[dict], question: str, message: str) -> list[dict]:
    """The tool specs worth offering for this request, in their order; only the one the
    user named when they named one of them."""
    named = named_tool(question)
    if named and any(spec["name"] == named for spec in specs):
        return [spec for spec in specs if spec["name"] == named]
    return [spec for spec in specs if wanted(spec["name"], question, message)]
