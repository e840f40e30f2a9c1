"""``web_fetch``: the kernel's web device as a tool (the same path for the model, the
command line and the pages a user names in a message), and finding those pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..tools.registry import SideEffect, Tool
from .address import Allowance, site_of
from .article import extract_article
from .fetch import fetch_page
from .sites import SitePermissions

# An address written out by the user: scheme://… or www.…, up to a space or closing mark.
# (Schemes other than http(s) are taken too, to be refused in so many words: a file:// or
# ftp:// address the model was left to answer about got "Sure, I'll read it".)
# (A scheme is at most 32 characters: unbounded, "a-a-a-…" was scanned from every letter, and
# 40 000 such characters took 5 s.)
_ADDRESS = re.compile(r"\b(?:[a-z][a-z0-9+.-]{0,31}://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
MAX_PAGES_PER_TURN = 3


def addresses_in(text: str, *, spoken: bool = False) -> list[str]:
    """The web addresses in ``text`` (the user's own words), in order, without repeats;
    ``spoken``: ``text`` is a transcript, and addresses said aloud count too ("example dot
    com slash news", see spoken.py)."""
    found: list[str] = []
    for match in _ADDRESS.finditer(text):
        address = match.group(0).rstrip(_TRAILING)
        if address.lower().startswith("www."):
            address = "https://" + address
        if address not in found:
            found.append(address)
    if spoken:
        from .spoken import spoken_addresses

        rest = _ADDRESS.sub(" ", text)  # what is written out is taken as written, above
        found += [a for a in spoken_addresses(rest) if a not in found]
    return found


def web_fetch_tool(
    sites: SitePermissions | None = None, allowed_hosts: Callable[[], Iterable[str]] = tuple
) -> Tool:
    """Read one web page the user named or approved: its article, as text for the model.
    The first page from each site is read only once the user says yes (remembered in
    ``sites``); ``allowed_hosts`` gives the private hosts the user allowed (Settings)."""
    sites = sites or SitePermissions()

    def run(url: str) -> str:
        page = fetch_page(url, Allowance.from_environment(allowed_hosts()))
        return f"Address: {page.final_url}\n" + extract_article(page.text, page.final_url).as_data()

    def asks_first(arguments: dict) -> str | None:
        site = site_of(str(arguments.get("url", "")))
        if site and not sites.allows(site):
            return f"read a page from {site} (the first from this site; your answer is remembered)"
        return None

    def after_yes(arguments: dict) -> None:
        site = site_of(str(arguments.get("url", "")))
        if site:
            sites.allow(site)

    return Tool(
        name="web_fetch",
        description="Read the web page at a URL the user gave and return its article text.",
        parameters={
            "type": "object",
            "properties": {"url": {"type": "string", "maxLength": 2000}},
            "required": ["url"],
        },
        side_effect=SideEffect.OUTSIDE,
        run=run,
        timeout_s=30.0,
        asks_first=asks_first,
        after_yes=after_yes,
    )
