"""The context window as RAM: what goes into the prompt, counted exactly, never overflowing.

Regions, in order: the pinned system message (persona, safety rules, recalled memories), a
rolling summary of turns paged out of the window, recent turns verbatim (as many as fit,
newest first), the current message, and room reserved for the reply. ``plan_context`` is a
pure function of its inputs; the memory map it returns is what the desktop displays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .untrusted import DATA_RULES

TokenCounter = Callable[[str], int]
MESSAGE_OVERHEAD = 8  # chat-template tokens around each message (ChatML uses 5)
_TRUNCATED = "\n[… {n} characters left out to fit the context window …]\n"


@dataclass(frozen=True)
class TurnMessage:
    """A stored message offered to the planner."""

    id: int
    role: str
    content: str
    interrupted: bool = False


@dataclass(frozen=True)
class Region:
    """One region of the memory map."""

    name: str
    tokens: int
    items: int = 1
    detail: str = ""


@dataclass
class ContextPlan:
    """The messages to send and a map of where the tokens went."""

    messages: list[dict[str, str]]
    regions: list[Region]
    context_tokens: int
    paged_out: list[TurnMessage] = field(default_factory=list)

    @property
    def used_tokens(self) -> int:
        return sum(r.tokens for r in self.regions if r.name not in ("reply reserve", "free"))

    def with_pinned(self, added: Sequence[Region], reply_reserve: int) -> ContextPlan:
        """The same plan with regions that the chat template or the projector add (tool
        definitions, images) shown after the system message, the reply reserve as given
        and the free room recomputed."""
        kept = [r for r in self.regions if r.name not in ("reply reserve", "free")]
        shown = kept[:1] + [r for r in added if r.tokens] + kept[1:]
        used = sum(r.tokens for r in shown)
        tail = [
            Region("reply reserve", reply_reserve),
            Region("free", max(0, self.context_tokens - reply_reserve - used)),
        ]
        return ContextPlan(self.messages, shown + tail, self.context_tokens, self.paged_out)

    def memory_map(self) -> str:
        """A text rendering of the regions, for `vistavox ask --show-context` and the UI."""
        lines = [f"context window: {self.context_tokens} tokens"]
        for r in self.regions:
            share = 100 * r.tokens / self.context_tokens
            extra = f" ({r.detail})" if r.detail else ""
            lines.append(f"  {r.name:18} {r.tokens:6} tokens {share:5.1f}%  x{r.items}{extra}")
        return "\n".join(lines)


def system_message(
    persona_prompt: str, memories: Sequence[str] = (), *, data_rules: bool = True
) -> str:
    """The pinned system message: persona, the data rules (where data blocks may come), and
    recalled memories."""
    parts = [persona_prompt.strip()] + ([DATA_RULES] if data_rules else [])
    if memories:
        facts = "\n".join(f"- {m}" for m in memories)
        parts.append(f"Things the user asked you to remember:\n{facts}")
    return "\n\n".join(parts)


def _fit_text(text: str, budget: int, count: TokenCounter) -> str:
    """Cut the middle out of ``text`` until it takes at most ``budget`` tokens."""
    if count(text) <= budget:
        return text
    lo, hi = 0, len(text)
    best = ""
    while lo <= hi:  # binary search on how many characters to keep
        keep = (lo + hi) // 2
        head, tail = text[: keep // 2], text[len(text) - keep // 2 :] if keep // 2 else ""
        candidate = head + _TRUNCATED.format(n=len(text) - len(head) - len(tail)) + tail
        if count(candidate) <= budget:
            best, lo = candidate, keep + 1
        else:
            hi = keep - 1
    return best


def plan_context(
    *,
    count: TokenCounter,
    context_tokens: int,
    reply_reserve: int,
    system: str,
    history: Sequence[TurnMessage],
    current: str,
    summary: str | None = None,
    recalled: Sequence[str] = (),
    summary_share: float = 0.25,
    page_share: float = 0.5,
) -> ContextPlan:
    """Choose what fits: pinned system message, summary, recent turns, recalled memories and
    the current message.

    ``history`` holds the turns not yet folded into ``summary`` (which is pinned whenever it
    is given). When they no longer all fit, the oldest are paged out in blocks of about
    ``page_share`` of the room (see ``_first_kept``): the prompt's prefix then stays the same
    for the next several turns, so the model's cached state for it is reused instead of
    recomputed every turn. Recalled memories sit just before the current message, for the
    same reason: they change with every question.
    """

    def cost(text: str) -> int:
        return count(text) + MESSAGE_OVERHEAD

    # A reply cut off before a word of it was heard said nothing: it is left out (as "—"
    # alone the small model copied it, and every later reply was silent), and the user's
    # words before and after it are one message.
    history = [m for m in history if m.role != "assistant" or m.content.strip()]
    available = context_tokens - reply_reserve
    system_cost = cost(system)
    if system_cost > available // 2:
        # Long custom instructions (the settings allow 4,000 characters) must not stop every
        # turn, nor the models' warm-up (the app never became ready): cut like a long message.
        system = _fit_text(system, available // 2 - MESSAGE_OVERHEAD, count)
        system_cost = cost(system)
    room = available - system_cost

    # The current message always goes in; oversized content is cut in the middle.
    current_fitted = _fit_text(
        current, max(16, room // 2 if history else room) - MESSAGE_OVERHEAD, count
    )
    current_cost = cost(current_fitted)
    room -= current_cost

    recalled_text = None
    recalled_cost = 0
    if recalled:
        facts = "\n".join(f"- {m}" for m in recalled)
        recalled_text = _fit_text(
            f"Things the user asked you to remember:\n{facts}",
            max(16, room // 4) - MESSAGE_OVERHEAD,
            count,
        )
        recalled_cost = cost(recalled_text)
        room -= recalled_cost

    summary_text = None
    summary_cost = 0
    if summary:
        summary_text = "Summary of the earlier conversation: " + summary.strip()
        summary_text = _fit_text(summary_text, int(room * summary_share) - MESSAGE_OVERHEAD, count)
        summary_cost = cost(summary_text)
        room -= summary_cost

    costs = [cost(_render(m)) for m in history]
    # Blocks sized from the room before this turn's own message, so their size does not
    # change from turn to turn either.
    first = _first_kept(costs, room, max(1, int((available - system_cost) * page_share)))
    recent = list(history[first:])
    recent_cost = sum(costs[first:])
    # Start the verbatim part with a user message, so the chat alternates properly.
    while recent and recent[0].role != "user":
        recent_cost -= cost(_render(recent[0]))
        recent.pop(0)
    paged_out = list(history[: len(history) - len(recent)])

    messages = [{"role": "system", "content": system}]
    if summary_text:
        messages[0] = {"role": "system", "content": system + "\n\n" + summary_text}
    messages += [{"role": m.role, "content": _render(m)} for m in recent]
    if recalled_text:
        current_fitted = recalled_text + "\n\n" + current_fitted
    messages.append({"role": "user", "content": current_fitted})
    messages = _join_unanswered(messages)

    used = system_cost + summary_cost + recent_cost + recalled_cost + current_cost
    regions = [
        Region("system + persona", system_cost),
        Region(
            "summary",
            summary_cost,
            1 if summary_text else 0,
            f"{len(paged_out)} messages paged out",
        ),
        Region("recent turns", recent_cost, len(recent)),
        Region("recalled memories", recalled_cost, len(recalled)),
        Region(
            "current message",
            current_cost,
            detail="cut to fit" if not current_fitted.endswith(current) else "",
        ),
        Region("reply reserve", reply_reserve),
        Region("free", max(0, context_tokens - reply_reserve - used)),
    ]
    return ContextPlan(messages, regions, context_tokens, paged_out)


def _first_kept(costs: Sequence[int], room: int, block: int) -> int:
    """Where the verbatim turns start: 0 while all fit in ``room``, else the first block
    boundary after which the rest fits. Boundaries are where the running cost from the
    oldest turn passes each multiple of ``block``, so they do not move as turns are added:
    the start stays put until the rest outgrows the room again, whether or not a summary
    has folded the paged-out turns in yet (a start that moved with every turn made the
    model read the whole history again on every turn)."""
    if sum(costs) <= room:
        return 0
    running, mark, rest = 0, block, sum(costs)
    for index, c in enumerate(costs):
        running += c
        rest -= c
        if running >= mark:
            mark = (running // block + 1) * block
            if rest <= room:
                return index + 1
    # One message larger than the room: the newest that fit in a block.
    kept, limit = 0, min(block, room)
    for index in range(len(costs) - 1, -1, -1):
        if kept + costs[index] > limit:
            return index + 1
        kept += costs[index]
    return 0


def _join_unanswered(messages: list[dict]) -> list[dict]:
    """User messages with no reply between them become one, so the roles alternate (some
    chat templates refuse a conversation that does not)."""
    joined: list[dict] = []
    for message in messages:
        if (
            joined
            and message["role"] == "user"
            and joined[-1]["role"] == "user"
            and message["content"].strip()
        ):
            previous = joined[-1]["content"].rstrip()
            joined[-1] = {"role": "user", "content": previous + "\n\n" + message["content"]}
        else:
            joined.append(message)
    return joined


def _render(message: TurnMessage) -> str:
    """A reply the user cut off ends in a dash, as speech that broke off does: a bracketed
    note there is text small models copy into their next replies."""
    if not message.interrupted:
        return message.content
    return message.content.rstrip() + " —"  # (replies with no words are left out)
