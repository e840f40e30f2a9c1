"""Which addresses may be fetched: http(s) only, and never the machine itself or the local
network (server-side request forgery) unless the user allowed that host."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import VistavoxError

ALLOW_ENV = "VISTAVOX_WEB_ALLOW"  # comma-separated hosts, addresses or networks
_SCHEMES = ("http", "https")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebError(VistavoxError):
    """A page cannot be read; the message says why, for the user."""


class WebRefused(WebError):
    """The address is not one Vistavox fetches (scheme, private network, size...)."""


class WebOffline(WebError):
    """The site cannot be reached: no network, or no such name."""


@dataclass(frozen=True)
class Allowance:
    """Hosts, addresses and networks the user allowed although they are private."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowance:
        hosts, networks = set(), []
        for entry in entries:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    @classmethod
    def from_environment(cls, extra: Iterable[str] = ()) -> Allowance:
        """The user's list (``extra``, from Settings) and ``VISTAVOX_WEB_ALLOW``."""
        return cls.parse([*extra, *os.environ.get(ALLOW_ENV, "").split(",")])

    def allows(self, host: str, address: IpAddress) -> bool:
        return host in self.hosts or any(address in net for net in self.networks)


def site_of(url: str) -> str:
    """The site a URL belongs to, as the user sees it in permissions: its host name ("" for
    none, or for an address that cannot be read, such as ``http://[::1``)."""
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def _shown(url: str) -> str:
    """``url`` as an error message quotes it: at most 100 characters."""
    return url if len(url) <= 100 else url[:99] + "…"


def _private(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def check_url(url: str, allowance: Allowance) -> str:
    """``url`` normalised if Vistavox may fetch it; otherwise WebRefused or WebOffline
    with a message for the user. The host is resolved here: a name that points into the
    local network is refused like the address itself."""
    shown = _shown(url)
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError as exc:  # "http://[::1", "http://host:x/", a port over 65535
        raise WebRefused(f"{shown}: not a web address that can be read ({exc})") from exc
    if parts.scheme.lower() not in _SCHEMES:
        scheme = _shown(parts.scheme) or "an address without http://"
        raise WebRefused(f"{shown}: only http:// and https:// pages are read, not {scheme}")
    if not host:
        raise WebRefused(f"{shown}: there is no site name in this address")
    if parts.username or parts.password:
        raise WebRefused(f"{shown}: addresses with a user name or password are not read")
    for address in resolve(host, port or (443 if parts.scheme.lower() == "https" else 80)):
        check_address(host, address, allowance)
    return parts.geturl()


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` stands for."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebOffline(
            f"cannot find {_shown(host)}: this computer seems to be offline, or the name does "
            "not exist"
        ) from exc
    except ValueError as exc:  # a NUL in the name
        raise WebRefused(f"{_shown(host)!r} is not a site name") from exc
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]


def check_address(host: str, address: IpAddress, allowance: Allowance) -> None:
    """Refuse a private, loopback or link-local ``address`` the user did not allow."""
    if _private(address) and not allowance.allows(host, address):
        raise WebRefused(
            f"{host} is on this computer or its local network ({address}); Vistavox does "
            f"not read such addresses unless you allow them (Settings, or {ALLOW_ENV})"
        )
