"""Fetch one page: bounded in time, size and redirects, every hop checked against the
address policy, only documents a reader can read."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from ..version import app_version
from .address import Allowance, WebError, WebOffline, WebRefused, check_address, check_url

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(20.0, connect=8.0)
_READABLE = ("text/html", "application/xhtml+xml", "text/plain")
_ACCEPT = "text/html,application/xhtml+xml,text/plain;q=0.9"
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.IGNORECASE)


class SiteAnswered(WebError):
    """The site answered with an HTTP error status (``status``)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FetchedPage:
    """What the site sent: the address asked for and the one that answered, the type and
    the document's text."""

    url: str
    final_url: str
    content_type: str
    text: str


def fetch_page(
    url: str,
    allowance: Allowance,
    *,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    timeout: httpx.Timeout = TIMEOUT,
    kinds: tuple[str, ...] = _READABLE,
) -> FetchedPage:
    """The page at ``url``, or a WebError saying plainly why not. ``kinds``: the content
    types taken (a search service's answer is ``application/json``)."""
    current = check_url(url, allowance)
    headers = {
        "User-Agent": f"Vistavox/{app_version()} (a desktop assistant reading a page for its user)",
        "Accept": _ACCEPT if kinds == _READABLE else ",".join(kinds),
    }
    # No proxies from the environment: a proxy would fetch private addresses for us.
    with httpx.Client(timeout=timeout, headers=headers, trust_env=False) as client:
        for _ in range(max_redirects + 1):
            try:
                with client.stream("GET", current) as response:
                    _check_peer(response, current, allowance)
                    if response.is_redirect:
                        target = response.headers.get("location", "")
                        current = check_url(urljoin(current, target), allowance)
                        continue
                    return _read(url, current, response, max_bytes, kinds)
            except httpx.TimeoutException as exc:
                raise WebOffline(f"{current}: the site did not answer in time") from exc
            except httpx.ConnectError as exc:
                raise WebOffline(
                    f"{current}: cannot connect ({_reason(exc)}); this computer may be "
                    "offline, or the site is down"
                ) from exc
            except httpx.HTTPError as exc:
                raise WebError(f"{current}: the site's answer was broken ({exc})") from exc
    raise WebRefused(f"{url}: more than {max_redirects} redirects")


def _check_peer(response: httpx.Response, url: str, allowance: Allowance) -> None:
    """The address actually connected to, checked again: a name can resolve to a public
    address when checked and to a private one when connected (DNS rebinding)."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer:
        host = httpx.URL(url).host
        check_address(host, ipaddress.ip_address(str(peer[0]).split("%")[0]), allowance)


def _read(
    asked: str, url: str, response: httpx.Response, max_bytes: int, kinds: tuple[str, ...]
) -> FetchedPage:
    if response.status_code >= 400:
        raise SiteAnswered(
            f"{url}: the site answered {response.status_code} {response.reason_phrase}",
            response.status_code,
        )
    kind = response.headers.get("content-type", "text/html").split(";")[0].strip().lower()
    if kind not in kinds:
        raise WebRefused(f"{url}: this is {kind or 'an unknown kind of file'}, not a web page")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise WebRefused(f"{url}: the page is {_size(int(declared))}, more than {_size(max_bytes)}")
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise WebRefused(f"{url}: the page is more than {_size(max_bytes)}")
    raw = bytes(body)
    if b"\x00" in raw[:4096]:
        raise WebRefused(f"{url}: the site sent binary data, not a web page")
    return FetchedPage(asked, url, kind, raw.decode(_charset(response, raw), errors="replace"))


def _charset(response: httpx.Response, raw: bytes) -> str:
    """The declared encoding (header, then the page's own meta tag), else UTF-8."""
    for name in (response.charset_encoding, _meta_charset(raw)):
        if name:
            try:
                "".encode(name)
                return name
            except LookupError:
                continue
    return "utf-8"


def _meta_charset(raw: bytes) -> str | None:
    found = _CHARSET.search(raw[:4096])
    return found.group(1).decode("ascii") if found else None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ")[-1][:120]
