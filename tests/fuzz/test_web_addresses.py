"""Web addresses from the user's words and the model's calls (``addresses_in``,
``check_url``, ``site_of``, ``Allowance.parse``): any string gives addresses, a URL Vistavox
may fetch or a WebError that says why, never another exception, and never an address on this
machine or its network unless allowed. Hosts are IP literals, ``localhost`` or names under
``.invalid`` (RFC 2606), so no case depends on the network."""

from __future__ import annotations

import ipaddress

from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import counted, expect_clear, fuzz
from vistavox.pipelines.web.address import Allowance, WebError, check_url, site_of
from vistavox.pipelines.web.tool import addresses_in

HOSTS = st.one_of(
    st.ip_addresses().map(lambda a: f"[{a}]" if a.version == 6 else str(a)),
    st.sampled_from(
        ["localhost", "LOCALHOST.", "example.invalid", "xn--nxasmq6b.invalid", "ex ample.invalid",
         "[::1", "::1]", "[fe80::1%eth0]", "127.1", "0x7f.1", "2130706433", "0177.0.0.1",
         "[::ffff:127.0.0.1]", "1.2.3.4.5", "a" * 300 + ".invalid", "-.invalid",
         "\u202e.invalid", "\x00.invalid", "", "@", "user:pw@example.invalid"]
    ),
)  # fmt: skip
SCHEMES = st.sampled_from(["http", "https", "HTTP", "ftp", "file", "javascript", "data", "", "h"])
PORTS = st.one_of(st.none(), st.integers(-5, 70000).map(str), st.sampled_from(["", "x", "80a"]))
PATHS = st.text(max_size=30)


@st.composite
def urls(draw) -> str:
    scheme, host, port, path = draw(SCHEMES), draw(HOSTS), draw(PORTS), draw(PATHS)
    return f"{scheme}://{host}{'' if port is None else ':' + port}/{path}"


TEXTS = st.one_of(
    urls(),
    st.text(max_size=200),
    st.builds(lambda a, b, c: f"{a} {b} {c}", st.text(max_size=20), urls(), st.text(max_size=20)),
    st.builds(lambda n: "a-" * n, st.integers(0, 50_000)),
)


@fuzz(400)
@given(TEXTS, st.lists(st.text(max_size=30), max_size=4))
@example("http://[::1", [])  # urlsplit: ValueError "Invalid IPv6 URL"
@example("http://example.invalid:99999/", [])  # .port: ValueError "out of range"
@example("http://\x00.invalid/", [])
@example("http://127.0.0.1/", ["127.0.0.0/8"])
@example("https://[fe80::1%eth0]/", [])
@example("a-" * 50_000, [])
@counted
def test_any_address_is_a_url_or_a_clear_web_error(text, allowed):
    allowance = Allowance.parse(allowed)  # the user's list in Settings: any text
    for candidate in [text, *addresses_in(text)]:
        url = expect_clear(lambda c=candidate: check_url(c, allowance), WebError)
        assert isinstance(site_of(candidate), str)
        if url is None:
            continue
        assert url.lower().startswith(("http://", "https://"))
        host = site_of(url)
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            continue  # a name: resolved and checked inside check_url
        if address.is_loopback or address.is_private or address.is_link_local:
            assert allowance.allows(host, address), f"{url} reaches this machine's network"
