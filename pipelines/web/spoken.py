"""Web addresses said aloud, as the speech recogniser writes them: "example dot com slash
news", "example.com slash news", "BBC dot co dot UK", "w w w dot example dot org", "HTTPS
colon slash slash example dot org", "127.0.0.1 colon 8080 slash news".

Conservative on purpose: a sentence with the word "dot" in it ("connect the dots", "a dot
on the map", "the dot com bubble") must not become a page to fetch. A name counts only when
it ends in a known public suffix (the Public Suffix List snapshot inside ``tldextract``,
never fetched) and none of its words is an everyday little word; a suffix that is also an
English word or a file extension ("in", "it", "me", "md", "py", "news"…) counts only with
something only an address has: a scheme, "www", a port or a path. A bare number address
needs one of those too ("version 1.2.3.4" is not a site). And a bare name ("amazon dot
com") counts only in a request about a page ("read…", "what does … say", "the article
at…"): "I bought it on amazon dot com" asks for nothing to be read."""

from __future__ import annotations

import ipaddress
import re
from functools import cache

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOT = r"(?:\.|\s+dot\s+)"  # a written dot has no spaces: "it. Com" ends a sentence
_SLASH = r"(?:\s*/\s*|\s+slash\s+)"
_COLON = r"(?:\s*:\s*|\s+colon\s+)"
_SEGMENT = rf"[a-z0-9_~%-]+(?:{_DOT}[a-z0-9_~%-]+)*"
_SPOKEN = re.compile(
    rf"""(?<![\w./:@-])
    (?:(?P<scheme>https?){_COLON}(?:/|slash\s+)\s*(?:/|slash)\s*)?
    (?:(?P<www>w\s?w\s?w){_DOT})?
    (?P<host>{_LABEL}(?:{_DOT}{_LABEL})+)
    (?:{_COLON}(?P<port>\d{{1,5}})\b)?
    (?P<path>(?:{_SLASH}{_SEGMENT})+)?
    """,
    re.IGNORECASE | re.VERBOSE,
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Suffixes taken without any other sign of an address: the common generic ones and country
# codes that are not English words ("at", "be", "in", "is", "it", "me", "to", "us"…) or file
# extensions ("md", "pl", "py", "rs", "sh"…).
_PLAIN_SUFFIXES = _word_set(
    "com org net edu gov mil int info biz io dev ai eu uk au ca nz ie de fr es nl ch se dk "
    "fi cz pt gr ro hu jp cn kr tw hk sg ru ua br ar mx cl za ke ng tr il"
)
# Little words that no site is named after but that stand before "dot" in ordinary speech.
_LITTLE_WORDS = _word_set(
    "a an the this that these those one each every any some no my your his her its our "
    "their red blue green black white big small little tiny polka final last next first "
    "and or but of to in on at by for from with as is was are be it"
)
# A request about a page, for a name said without scheme, www, port or path.
_ABOUT_A_PAGE = re.compile(
    r"\b(?:read|open|summari[sz]e|say|says|said|saying|according|visit|check|look|go|"
    r"article|page|site|website|story|news|headlines?|post)\b",
    re.IGNORECASE,
)


@cache
def _suffixes():
    """The suffix list, loaded at the first name to check (1.3 s to import and 0.6 s to
    load measured on a busy machine: not in every spoken turn)."""
    import tldextract

    # No list URLs and no cache folder: the snapshot in the wheel, offline, nothing written.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def spoken_addresses(text: str) -> list[str]:
    """The web addresses said in ``text`` (a transcript), written out, in order."""
    found: list[str] = []
    about_a_page = bool(_ABOUT_A_PAGE.search(text))
    for match in _SPOKEN.finditer(text):
        address = _written(match, about_a_page)
        if address is not None and address not in found:
            found.append(address)
    return found


def _written(match: re.Match[str], about_a_page: bool) -> str | None:
    """The address a match stands for, or None when it is not one."""
    host = _joined(match.group("host"), ".")
    port, path = match.group("port"), _path(match.group("path"))
    scheme = (match.group("scheme") or "").lower()
    marked = bool(scheme or match.group("www") or port or path)
    if _is_ip(host):
        if not marked:
            return None
        # A device on the network speaks plain HTTP (no certificate for a bare address).
        scheme = scheme or "http"
    elif not _is_site(host, marked) or not (marked or about_a_page):
        return None
    if match.group("www"):
        host = "www." + host
    return f"{scheme or 'https'}://{host}{':' + port if port else ''}{path}"


def _joined(spoken: str, sep: str) -> str:
    """``spoken`` with its spoken or written separators as ``sep``, in lower case."""
    words = re.split(r"\s*(?:\.|/)\s*|\s+(?:dot|slash)\s+", spoken.strip(), flags=re.IGNORECASE)
    return sep.join(w for w in words if w).lower()


def _path(spoken: str | None) -> str:
    if not spoken:
        return ""
    # (With a space in front: the first separator splits like the others.)
    segments = re.split(r"\s*/\s*|\s+slash\s+", " " + spoken, flags=re.IGNORECASE)
    return "/" + "/".join(_joined(s, ".") for s in segments if s.strip())


def _is_ip(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _is_site(host: str, marked: bool) -> bool:
    """A name that ends in a known public suffix and is made of no little words."""
    parts = _suffixes()(host)
    if not parts.suffix or not parts.domain:
        return False
    names = [*parts.subdomain.split("."), parts.domain] if parts.subdomain else [parts.domain]
    if any(name in _LITTLE_WORDS or name.isdigit() for name in names):
        return False
    return marked or parts.suffix.rsplit(".", 1)[-1] in _PLAIN_SUFFIXES
