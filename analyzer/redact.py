"""Pseudonyms for the IP addresses of people, so results can be published.

:class:`Pseudonymizer` replaces each IPv4/IPv6 address by a stable pseudonym: a keyed
HMAC-SHA256 of the address, ``host-…`` for an address that is not globally routable
(private, CGNAT, link-local, unique-local) and ``peer-…`` for a public one; ``host6-`` and
``peer6-`` for IPv6. Addresses inside :data:`RELAY_NETWORKS` stay as they are: a
messenger's relays and media servers are the evidence (which service a call went through,
which server stopped answering), not anyone's identity. Unspecified, loopback, multicast
and broadcast addresses stay too; they identify no one.

The key decides the pseudonyms: the same key gives the same pseudonyms, so a report can
be regenerated identically. The default (:func:`default_key`) comes from the capture's
*content secret* (:attr:`analyzer.api.Capture.content_secret`), not from its published
SHA-256: anyone can hash every private IPv4 address (18 million) with a known key in
seconds, so a key derived from a printed digest would make the pseudonyms reversible.

:func:`redact_object` copies a frozen dataclass tree with every string passed through
:meth:`Pseudonymizer.text`; it exists so that a whole result (an ``Analysis``, a
``Capture``) can be redacted once, before any renderer sees it.

Limits: only text is rewritten (``bytes`` fields, e.g. raw packets, are left alone); a
four-part version number that is also a valid IPv4 address (``10.14.5.1``) is replaced;
two addresses whose 32-bit pseudonyms collide get a longer pseudonym for the later one.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import hashlib
import hmac
import ipaddress
import re
import types
from collections.abc import Iterable, Mapping
from typing import Any

#: Networks of messenger relays and media servers, by operator: their addresses are kept.
#: From the operators' published ranges (Telegram's cidr.txt; Meta's AS32934; Google's
#: AS15169 media edge); re-check them against the operators' lists when they change.
RELAY_NETWORKS: Mapping[str, tuple[str, ...]] = types.MappingProxyType({
    "telegram": ("91.108.0.0/16", "149.154.160.0/20", "91.105.192.0/23", "185.76.151.0/24",
                 "2001:67c:4e8::/48", "2001:b28:f23c::/46"),
    "meta": ("157.240.0.0/16", "31.13.24.0/21", "31.13.64.0/18", "179.60.192.0/22",
             "185.60.216.0/22", "66.220.144.0/20", "69.63.176.0/20", "69.171.224.0/19",
             "2a03:2880::/32"),  # WhatsApp, Messenger, Instagram
    "google": ("74.125.0.0/16", "142.250.0.0/15"),  # Meet, Duo, STUN
})

#: Domain-separation label of :func:`default_key`.
KEY_LABEL = b"analyzer.redact/1"
#: Hex digits of a pseudonym (32 bits: collisions are rare below tens of thousands).
PSEUDONYM_HEX = 8

_V4 = r"\d{1,3}(?:\.\d{1,3}){3}"
#: A dotted quad not inside a longer run of dotted numbers ("4.0.17.2.9").
_IPV4_RE = re.compile(rf"(?<![\d.]){_V4}(?!\.?\d)")
#: Hex groups with at least one colon, maybe ending in a dotted quad, not inside a word
#: ("std::vector") nor followed by more of an address.
_IPV6_RE = re.compile(rf"(?<![\w:.])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?:{_V4})?(?![\w:]|\.\d)")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def default_key(content_secret: bytes) -> bytes:
    """The key used when none is given: from the capture's content secret."""
    if not content_secret:
        raise ValueError("no content secret to derive a key from: pass a key")
    return hmac.new(KEY_LABEL, content_secret, hashlib.sha256).digest()


def _networks(keep: Mapping[str, Iterable[str]]) -> tuple[ipaddress.IPv4Network
                                                           | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n) for nets in keep.values() for n in nets)


class Pseudonymizer:
    """Stable pseudonyms for addresses, in single values, free text and JSON-like data."""

    def __init__(self, key: bytes | str, *,
                 keep: Mapping[str, Iterable[str]] = RELAY_NETWORKS) -> None:
        self._key = key.encode() if isinstance(key, str) else bytes(key)
        if not self._key:
            raise ValueError("key must not be empty")
        self._keep = _networks(keep)
        self._memo: dict[Address, str] = {}
        self._taken: dict[str, Address] = {}

    def kept(self, addr: str) -> bool:
        """True when ``addr`` is left as it is (a relay, or identifying no one)."""
        ip = _parse(addr)
        return ip is None or self._kept(ip)

    def _kept(self, ip: Address) -> bool:
        if ip.is_unspecified or ip.is_loopback or ip.is_multicast or \
                ip == ipaddress.IPv4Address("255.255.255.255"):
            return True
        return any(ip.version == n.version and ip in n for n in self._keep)

    def address(self, addr: str) -> str:
        """The pseudonym of ``addr``, or ``addr`` itself if kept or not an address."""
        ip = _parse(addr)
        if ip is None or self._kept(ip):
            return addr
        name = self._memo.get(ip)
        if name is None:
            name = self._name(ip)
        return name

    def _name(self, ip: Address) -> str:
        mac = hmac.new(self._key, ip.packed, hashlib.sha256).hexdigest()
        prefix = ("host" if not ip.is_global else "peer") + ("6" if ip.version == 6 else "")
        n = PSEUDONYM_HEX
        name = f"{prefix}-{mac[:n]}"
        while self._taken.get(name, ip) != ip:  # a collision: lengthen the newcomer's
            n += 4
            name = f"{prefix}-{mac[:n]}"
        self._memo[ip] = name
        self._taken[name] = ip
        return name

    def text(self, s: str) -> str:
        """``s`` with every IPv6 and IPv4 address in it replaced (ports, brackets and the
        words around them kept); version numbers and times are not addresses."""
        s = _IPV6_RE.sub(lambda m: self.address(m.group(0)), s)
        return _IPV4_RE.sub(lambda m: self.address(m.group(0)), s)

    def value(self, obj: Any) -> Any:
        """A copy of JSON-like ``obj`` (dicts, lists, tuples, strings, numbers) with every
        string, dict keys included, passed through :meth:`text`."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, Mapping):
            return {self.value(k): self.value(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.value(v) for v in obj)
        return obj


def _parse(addr: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def redact_object(obj: Any, p: Pseudonymizer) -> Any:
    """A copy of ``obj`` with every string in it passed through ``p.text``.

    Walks dataclass instances (frozen or not, ``init=False`` fields included: each is
    copied with :func:`copy.copy` and its fields set with ``object.__setattr__``), tuples
    (named ones too), lists, sets, dicts and other mappings, and numpy arrays of strings.
    Numbers, ``bytes``, enums and numeric arrays are shared, not copied; a part with no
    string to change is returned as it is. Meant for a whole result before rendering,
    e.g. ``render(redact_object(analysis, p))``.
    """
    return _Walk(p).go(obj)


class _Walk:
    def __init__(self, p: Pseudonymizer) -> None:
        self.p = p
        self.memo: dict[int, Any] = {}

    def go(self, o: Any) -> Any:
        if isinstance(o, enum.Enum) or o is None or isinstance(o, bool | int | float | bytes):
            return o
        if isinstance(o, str):
            return self.p.text(o)
        key = id(o)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = o  # a cycle back to o sees o itself
        out = self._copy(o)
        self.memo[key] = out
        return out

    def _copy(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            new = None
            for f in dataclasses.fields(o):
                if not hasattr(o, f.name):
                    continue
                old = getattr(o, f.name)
                val = self.go(old)
                if val is not old:
                    if new is None:
                        new = copy.copy(o)
                    object.__setattr__(new, f.name, val)
            return o if new is None else new
        if isinstance(o, tuple | list | set | frozenset):
            items = [self.go(v) for v in o]
            if all(a is b for a, b in zip(items, o, strict=True)) and not isinstance(o, set):
                return o
            if isinstance(o, tuple) and hasattr(o, "_fields"):
                return type(o)(*items)
            return type(o)(items)
        if isinstance(o, Mapping):
            pairs = [(self.go(k), self.go(v)) for k, v in o.items()]
            if all(a is k and b is v for (a, b), (k, v) in zip(pairs, o.items(), strict=True)):
                return o
            if isinstance(o, types.MappingProxyType):
                return types.MappingProxyType(dict(pairs))
            return type(o)(pairs) if isinstance(o, dict) else dict(pairs)
        kind = getattr(getattr(o, "dtype", None), "kind", None)
        if kind in ("U", "O") and hasattr(o, "copy"):
            out = o.copy()
            flat = out.reshape(-1)
            for i, v in enumerate(flat):
                flat[i] = self.go(v)
            if not getattr(getattr(o, "flags", None), "writeable", True):
                out.setflags(write=False)
            return out
        return o
