"""The client address behind a request: X-Forwarded-For is believed only from a trusted proxy and
read from the right, so a client cannot choose the address its limits are counted under."""

from __future__ import annotations

import pytest

from handoff.client_address import TrustedProxies, parse_address
from handoff.settings import HandoffSettings


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a proxy: its header is the client's own words
    ("10.0.0.2", None, "10.0.0.2"),  # a trusted proxy that forwarded nobody
    ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
    ("10.0.0.2", "1.1.1.1, 198.51.100.1", "198.51.100.1"),  # what the client wrote itself is skipped
    ("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # past every trusted proxy
    ("10.0.0.2", "10.0.0.8, 10.0.0.9", "10.0.0.8"),  # only proxies: the farthest one
    ("10.0.0.2", "1.1.1.1, not-an-address", "10.0.0.2"),  # a hop that is no address: the proxy's
    ("10.0.0.2", "198.51.100.1:4711", "198.51.100.1"),
    ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
    ("::ffff:10.0.0.2", "198.51.100.1", "198.51.100.1"),  # an IPv4 proxy on a dual-stack socket
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
])
def test_forwarded_for_is_read_from_the_right_past_trusted_proxies(peer: str, forwarded: str | None,
                                                                   expected: str) -> None:
    proxies = TrustedProxies(["10.0.0.0/24", "127.0.0.1"])
    assert proxies.client_address(peer, forwarded) == expected


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert TrustedProxies([]).client_address("127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_addresses_are_read_as_proxies_write_them() -> None:
    assert [str(parse_address(text)) for text in ("1.2.3.4", " 1.2.3.4:80 ", "[::1]:80", "::1")] == [
        "1.2.3.4", "1.2.3.4", "::1", "::1"]
    assert parse_address("unknown") is None and parse_address("") is None


def test_a_trusted_proxy_must_be_an_address_or_a_network() -> None:
    assert HandoffSettings(trusted_proxies=[" 10.0.0.0/8", "::1"]).trusted_proxies == ["10.0.0.0/8", "::1"]
    with pytest.raises(ValueError, match="not an address or CIDR network"):
        HandoffSettings(trusted_proxies=["proxy.example"])
