"""One rule for "a local address": the side of a call that is the user's device or home
network. Caller orientation, baseline matching and the report all use :func:`is_local`.

Local: RFC 1918 private IPv4, carrier-grade NAT (RFC 6598, 100.64.0.0/10: a phone on a
mobile network sees its own address there), link-local, loopback, IPv6 unique-local
(fc00::/7) and link-local. Everything else - including the messengers' relays - is remote.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

CGNAT = ipaddress.ip_network("100.64.0.0/10")


@lru_cache(maxsize=4096)
def is_local(addr: str) -> bool | None:
    """Whether ``addr`` is local (see the module docstring); ``None`` for a string that is
    not an IP address."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return True
    return bool(ip.is_private or ip.is_link_local or ip.is_loopback)


def orientation(src: str, dst: str) -> str:
    """``"up"`` (local -> remote: sent by the user's device), ``"down"``, or ``"?"``."""
    a, b = is_local(src), is_local(dst)
    if a and b is False:
        return "up"
    if b and a is False:
        return "down"
    return "?"
