"""``web_search``: a search through the service the user chose (a SearXNG instance and its
JSON API), off until one is set (Settings → Web search, or ``VISTAVOX_SEARCH_URL``).

The search service is a site like any other: the same address policy and fetch limits, and
the first search through it only after the user allows it. The results are data for the
model (titles, addresses, snippets written by strangers), never instructions, and the
answer ends with the addresses it was made from."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from ..tools.registry import SideEffect, Tool
from .address import Allowance, WebError, site_of
from .fetch import SiteAnswered, fetch_page
from .sites import SitePermissions

SEARCH_ENV = "VISTAVOX_SEARCH_URL"
MAX_RESULTS = 5
MAX_SNIPPET_CHARS = 400
# SearXNG answers JSON; an address that is not a SearXNG instance answers a page, which is
# read too, to be told apart in so many words.
_ANSWERS = ("application/json", "text/html", "text/plain")
NOT_SET_UP = (
    "Web search is not set up: Vistavox searches only through a search service you choose. "
    "Put the address of a SearXNG instance (with its JSON format on) in Settings, under Web "
    f"search, or set {SEARCH_ENV}=https://your-searxng.example, then ask again."
)
_ASKS = re.compile(
    r"""^\W*(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:please\s+)?
    (?:(?:do\s+a\s+)?web\s+search\s+(?:for\s+)?(?P<a>.+)
      |(?:search|look)\s+(?:on\s+)?(?:the\s+)?(?:web|internet|net|online)\s+(?:for|up)\s+(?P<b>.+)
      |(?:search\s+(?:for\s+)?|look\s+up\s+|google\s+|find\s+)(?P<c>.+?)
        \s+(?:on\s+the\s+(?:web|internet|net)|online)
      |google\s+(?P<d>.+))$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


def search_base(configured: str = "") -> str:
    """The search service's address: ``VISTAVOX_SEARCH_URL``, else the one in Settings
    (``configured``); "" when there is none."""
    return (os.environ.get(SEARCH_ENV) or configured).strip()


def search_request_in(text: str) -> str | None:
    """What the user asks to search the web for ("search the web for X", "look X up
    online", "google X"), or None when their words ask for no search."""
    found = _ASKS.match(text.strip().rstrip(".?!"))
    if found is None:
        return None
    query = next(q for q in found.groups() if q is not None)
    return query.strip().rstrip(".?!").strip(" \"'") or None


def search_web(
    base: str, query: str, allowance: Allowance, *, max_results: int = MAX_RESULTS
) -> list[SearchResult]:
    """The first results SearXNG at ``base`` gives for ``query``; a WebError saying plainly
    what is wrong otherwise (offline, refused, not SearXNG's JSON)."""
    host = site_of(base) or base
    address = f"{base.rstrip('/')}/search?{urlencode({'q': query, 'format': 'json'})}"
    try:
        answer = fetch_page(address, allowance, kinds=_ANSWERS)
    except SiteAnswered as exc:
        if exc.status == 403:  # SearXNG's answer when its JSON format is off
            raise WebError(
                f"the search service at {host} refused to answer in JSON: turn its JSON "
                "format on (search: formats: [html, json] in its settings.yml)"
            ) from exc
        raise
    try:
        data = json.loads(answer.text)
    except ValueError:
        data = None
    items = data.get("results") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise WebError(
            f"the search service at {host} did not answer as SearXNG does (JSON with "
            f"results; it sent {answer.content_type}): check its address in Settings, under "
            "Web search"
        )
    results = []
    for item in items:
        result = _result(item)
        if result is not None and all(r.url != result.url for r in results):
            results.append(result)
        if len(results) == max_results:
            break
    return results


def _result(item: object) -> SearchResult | None:
    if not isinstance(item, dict):
        return None
    url, title, snippet = (item.get(key) for key in ("url", "title", "content"))
    if not isinstance(url, str) or urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    title = " ".join(title.split()) if isinstance(title, str) else ""
    snippet = " ".join(snippet.split()) if isinstance(snippet, str) else ""
    return SearchResult(title[:200] or url, url, snippet[:MAX_SNIPPET_CHARS])


def results_as_data(query: str, results: list[SearchResult]) -> str:
    """The results as the model reads them (inside an untrusted-data block), numbered."""
    if not results:
        return f"Web search for: {query}\nNo results."
    lines = [f"Web search for: {query}"]
    for n, result in enumerate(results, 1):
        lines += ["", f"[{n}] {result.title}", f"URL: {result.url}"]
        if result.snippet:
            lines.append(result.snippet)
    return "\n".join(lines)


def sources_in(content: str) -> list[str]:
    """ "Title (address)" for each result in a ``results_as_data`` text."""
    found = re.findall(r"^\[\d+\] (.*)\nURL: (\S+)$", content, re.MULTILINE)
    return [f"{title} ({url})" if title != url else url for title, url in found]


def web_search_tool(
    base_url: Callable[[], str],
    sites: SitePermissions | None = None,
    allowed_hosts: Callable[[], Iterable[str]] = tuple,
) -> Tool:
    """Search the web through the service at ``base_url()`` (offered only while there is
    one); the first search through it only once the user says yes (remembered in
    ``sites``, like a page's site)."""
    sites = sites or SitePermissions()

    def run(query: str) -> str:
        base = base_url()
        if not base:
            raise WebError(NOT_SET_UP)
        if not query.strip():
            raise WebError("there is nothing to search for")
        allowance = Allowance.from_environment(allowed_hosts())
        return results_as_data(query, search_web(base, query, allowance))

    def asks_first(arguments: dict) -> str | None:
        site = site_of(base_url())
        if site and not sites.allows(site):
            return (
                f"search the web through {site} (the first search there; your answer is remembered)"
            )
        return None

    def after_yes(arguments: dict) -> None:
        site = site_of(base_url())
        if site:
            sites.allow(site)

    return Tool(
        name="web_search",
        description="Search the web for a query and return the first results (title, URL, "
        "snippet).",
        parameters={
            "type": "object",
            "properties": {"query": {"type": "string", "maxLength": 300}},
            "required": ["query"],
        },
        side_effect=SideEffect.OUTSIDE,
        run=run,
        timeout_s=30.0,
        available=lambda: bool(base_url()),
        asks_first=asks_first,
        after_yes=after_yes,
    )
