"""Pages the user names in a message ("summarise https://…", or aloud: "read me the article
at example dot com slash news") are read before the model answers, like attached documents:
through the ``web_fetch`` tool (so the site permission, the address policy and the audit log
apply), into untrusted-data blocks. A search the user asks for ("search the web for …") is
made the same way, through ``web_search``. Only the user's own words name pages and
searches; an address inside a document or page is never fetched from here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..web.address import site_of
from ..web.search import NOT_SET_UP, search_request_in, sources_in
from ..web.tool import MAX_PAGES_PER_TURN, addresses_in
from .untrusted import wrap_untrusted

WEB_TOOLS = ("web_fetch", "web_search")


@dataclass
class NamedPages:
    blocks: list[str] = field(default_factory=list)  # the articles, as data blocks
    problems: list[str] = field(default_factory=list)  # why a page could not be read
    sources: list[str] = field(default_factory=list)  # "Title (address)" for each page read
    results: list = field(default_factory=list)  # the tool results, for the reply's record

    def cite(self, answer: str, results: Iterable = ()) -> str:
        """The answer with the pages it was made from (and the results of the searches
        among ``results``, the tool calls the model made), and the ones that could not be
        read."""
        sources = list(self.sources)
        for result in results:
            if result.tool == "web_search" and result.ok:
                sources += [s for s in sources_in(result.content) if s not in sources]
        notes = [f"Source: {source}" for source in sources] + self.problems
        return "\n\n".join([answer.rstrip(), *notes]) if notes else answer

    @property
    def only_problems(self) -> bool:
        return bool(self.problems) and not self.blocks


def read_named_pages(
    tools, text: str, key: str, *, spoken: bool = False, may: Iterable[str] = WEB_TOOLS
) -> NamedPages:
    """Read the pages named in ``text`` (the user's own words; ``spoken``: a transcript, in
    which addresses said aloud count) and make the search it asks for, with ``tools``' web
    tools among those the persona ``may`` use."""
    pages = NamedPages()
    may = set(may)
    if tools is None:
        return pages
    if "web_fetch" in may and tools.get("web_fetch") is not None:
        for url in addresses_in(text, spoken=spoken)[:MAX_PAGES_PER_TURN]:
            result = tools.call("web_fetch", {"url": url}, untrusted_turn=False)
            pages.results.append(result)
            if result.ok:
                pages.blocks.append(wrap_untrusted(result.content, f"web page {url}", key))
                pages.sources.append(_source(result.content, url))
            else:
                pages.problems.append(_not_read(tools, result, url))
    query = search_request_in(text)
    if query is not None and "web_search" in may and tools.get("web_search") is not None:
        result = tools.call("web_search", {"query": query}, untrusted_turn=False)
        pages.results.append(result)
        if result.ok:
            pages.blocks.append(wrap_untrusted(result.content, f"web search {query}", key))
            pages.sources += [s for s in sources_in(result.content) if s not in pages.sources]
        elif result.decision == "denied":
            pages.problems.append(
                _allow_in_settings("search the web", "the search service's site")
                if _no_one_to_ask(tools, result)
                else "I did not search the web: searching was not allowed."
            )
        else:
            reason = _reason(result.content)
            pages.problems.append(
                reason if reason == NOT_SET_UP else f"I could not search the web: {reason}"
            )
    return pages


def _not_read(tools, result, url: str) -> str:
    if result.decision == "denied":
        site = site_of(url)
        if _no_one_to_ask(tools, result):
            return _allow_in_settings(f"read the page from {site}", site)
        return f"I did not read {url}: reading it was not allowed."
    return f"I could not read {url}: {_reason(result.content).removeprefix(url + ': ')}"


def _no_one_to_ask(tools, result) -> bool:
    """Refused for want of a "yes" where no one can be asked (a spoken turn: its registry
    has no confirm), not because the user said no or denies the tool."""
    return getattr(tools, "confirm", None) is None and "confirmation" in result.content


def _allow_in_settings(what: str, site: str) -> str:
    """A refusal for a site not allowed yet where no one could be asked (short: it is said
    aloud), with how to allow it."""
    return (
        f"I did not {what}: it is not among the sites you allowed, and I cannot ask you now. "
        f"Allow {site} in Settings, under Web sites allowed, then ask again."
    )


def _reason(content: str) -> str:
    return content.split(": ", 1)[-1] if ": " in content else content


def _source(content: str, url: str) -> str:
    title = next((line[7:] for line in content.splitlines() if line.startswith("Title: ")), "")
    return f"{title} ({url})" if title else url
