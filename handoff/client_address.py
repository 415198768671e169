"""Which address a customer's request comes from, for the limits counted per client address.

The address that connected is the client's, unless it is one of the configured trusted proxies
(`trusted_proxies`): then X-Forwarded-For says who the proxy served. Each proxy appends the address
it saw, so the header is read from the right: every trusted proxy is skipped, and the first address
that is not one is the client. Whatever lies further left was written by the client itself and is
never believed; with no trusted proxies configured the header is ignored altogether.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

Address = IPv4Address | IPv6Address


def parse_address(text: str) -> Address | None:
    """An address as proxies write it ("1.2.3.4", "1.2.3.4:5678", "[::1]:80", "::1"), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    """The reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = tuple(ip_network(entry, strict=False) for entry in entries)

    def trusts(self, address: Address) -> bool:
        mapped = getattr(address, "ipv4_mapped", None)  # an IPv4 peer seen on a dual-stack socket
        return any(address in network or (mapped is not None and mapped in network) for network in self.networks)

    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address for a request from `peer` carrying this X-Forwarded-For header."""
        nearest = parse_address(peer)
        if nearest is None or not self.networks or not self.trusts(nearest):
            return str(nearest or peer)
        for entry in reversed((forwarded_for or "").split(",")):
            hop = parse_address(entry)
            if hop is None:
                break  # a proxy wrote no address: keep the last one a trusted proxy stands for
            nearest = hop
            if not self.trusts(hop):
                break
        return str(nearest)
