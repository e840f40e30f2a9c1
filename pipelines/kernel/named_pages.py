"""Pages the user names in a message ("summarise https://…") are read before the model
answers, like attached documents: through the ``web_fetch`` tool (so the site permission,
the address policy and the audit log apply), into untrusted-data blocks. Only the user's
own words name pages; an address inside a document or page is never fetched from here."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..web.tool import MAX_PAGES_PER_TURN, addresses_in
from .untrusted import wrap_untrusted


@dataclass
class NamedPages:
    blocks: list[str] = field(default_factory=list)  # the articles, as data blocks
    problems: list[str] = field(default_factory=list)  # why a page could not be read
    sources: list[str] = field(default_factory=list)  # "Title (address)" for each page read
    results: list = field(default_factory=list)  # the tool results, for the reply's record

    def cite(self, answer: str) -> str:
        """The answer with the pages it was made from, and the ones that could not be read."""
        notes = [f"Source: {source}" for source in self.sources] + self.problems
        return "\n\n".join([answer.rstrip(), *notes]) if notes else answer

    @property
    def only_problems(self) -> bool:
        return bool(self.problems) and not self.blocks


def read_named_pages(tools, text: str, key: str) -> NamedPages:
    """Read the pages named in ``text`` (the user's own words) with ``tools``' web_fetch."""
    pages = NamedPages()
    if tools is None or tools.get("web_fetch") is None:
        return pages
    for url in addresses_in(text)[:MAX_PAGES_PER_TURN]:
        result = tools.call("web_fetch", {"url": url}, untrusted_turn=False)
        pages.results.append(result)
        if result.ok:
            pages.blocks.append(wrap_untrusted(result.content, f"web page {url}", key))
            pages.sources.append(_source(result.content, url))
        elif result.decision == "denied":
            pages.problems.append(f"I did not read {url}: reading it was not allowed.")
        else:
            reason = result.content.split(": ", 1)[-1] if ": " in result.content else result.content
            pages.problems.append(f"I could not read {url}: {reason.removeprefix(url + ': ')}")
    return pages


def _source(content: str, url: str) -> str:
    title = next((line[7:] for line in content.splitlines() if line.startswith("Title: ")), "")
    return f"{title} ({url})" if title else url
