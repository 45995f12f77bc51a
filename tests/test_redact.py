"""Pseudonyms: stable, relays kept, no private address left, version numbers untouched."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.redact import (
    RELAY_NETWORKS,
    Pseudonymizer,
    default_key,
    redact_object,
)

P = Pseudonymizer(b"test key")

private_v4 = st.one_of(
    st.integers(0x0A000000, 0x0AFFFFFF),  # 10/8
    st.integers(0xAC100000, 0xAC1FFFFF),  # 172.16/12
    st.integers(0xC0A80000, 0xC0A8FFFF),  # 192.168/16
    st.integers(0x64400000, 0x647FFFFF),  # 100.64/10 (CGNAT)
).map(lambda n: str(ipaddress.IPv4Address(n)))
private_v6 = st.integers(0, 2**120 - 1).map(
    lambda n: str(ipaddress.IPv6Address((0xFD << 120) | n)))  # fd00::/8 unique local
relay = st.sampled_from([n for nets in RELAY_NETWORKS.values() for n in nets]).flatmap(
    lambda cidr: st.integers(0, ipaddress.ip_network(cidr).num_addresses - 1).map(
        lambda i: str(ipaddress.ip_network(cidr)[i])))
versions = st.lists(st.integers(0, 999), min_size=2, max_size=3).map(
    lambda xs: ".".join(map(str, xs)))
filler = st.sampled_from([" ", " → ", ", ", "; via ", "\n", " (", ") ", " at ", "="])


@given(private_v4 | private_v6)
def test_same_address_same_pseudonym(addr: str) -> None:
    a = P.address(addr)
    assert a != addr and a == P.address(addr)
    assert a == Pseudonymizer(b"test key").address(addr)  # stable across instances
    assert a != Pseudonymizer(b"other key").address(addr)
    assert re.fullmatch(r"host6?-[0-9a-f]{8,}", a)
    assert ("6-" in a) == (":" in addr)


@given(relay)
def test_relay_addresses_stay(addr: str) -> None:
    assert P.address(addr) == addr
    assert P.text(f"relay {addr}:3478 said hi") == f"relay {addr}:3478 said hi"


@settings(max_examples=200)
@given(st.lists(st.tuples(private_v4 | private_v6, st.integers(1, 65535), filler | versions),
                min_size=1, max_size=6))
def test_no_private_address_survives_in_text_or_json(parts: list) -> None:
    text = "".join((f"[{a}]:{port}" if ":" in a else f"{a}:{port}") + f" {sep} "
                   for a, port, sep in parts)
    red = P.text(text)
    doc = json.loads(json.dumps(P.value({"summary": text, text: [text, {"k": (text,)}]})))
    for a, _, _ in parts:
        assert a not in red
        assert a not in json.dumps(doc)
        assert P.address(a) in red


@given(versions, st.floats(0, 1e4, allow_nan=False).map(lambda x: f"{x:.1f} s"))
def test_versions_and_times_untouched(version: str, secs: str) -> None:
    text = f"analyzer {version}, onset {secs} at 14:05:33.250, std::vector, aa:bb:cc:dd:ee:ff"
    assert P.text(text) == text


@pytest.mark.parametrize(("text", "expect"), [
    ("192.168.1.23:63730 → 157.240.195.62:3478", "{a}:63730 → 157.240.195.62:3478"),
    ("stream0_192.168.1.23_63730-x.csv", "stream0_{a}_63730-x.csv"),
    ("ends with 192.168.1.23.", "ends with {a}."),
    ("five parts 192.168.1.23.4 and 4.0.17", "five parts 192.168.1.23.4 and 4.0.17"),
    ("mapped ::ffff:192.168.1.23 is the same host", "mapped {a} is the same host"),
])
def test_text_cases(text: str, expect: str) -> None:
    assert P.text(text) == expect.format(a=P.address("192.168.1.23"))


def test_public_and_ipv6_forms() -> None:
    assert P.address("8.8.8.8").startswith("peer-")
    assert P.address("2001:4860::8888").startswith("peer6-")
    assert P.address("2001:0DB8:0:0::1") == P.address("2001:db8::1")
    assert P.text("[fe80::1%eth0]:5060") == f"[{P.address('fe80::1')}%eth0]:5060"
    for kept in ("0.0.0.0", "127.0.0.1", "::1", "224.0.0.251", "255.255.255.255"):
        assert P.address(kept) == kept
    assert P.address("not an address") == "not an address"


def test_keys() -> None:
    with pytest.raises(ValueError, match="key must not be empty"):
        Pseudonymizer(b"")
    with pytest.raises(ValueError, match="no content secret"):
        default_key(b"")
    assert default_key(b"a") == default_key(b"a") != default_key(b"b")


@dataclasses.dataclass(frozen=True)
class Inner:
    label: str
    values: np.ndarray
    names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Outer:
    title: str
    inner: Inner
    by_addr: dict[str, float]
    rows: list[Inner]
    count: int = 3
    derived: str = dataclasses.field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "derived", f"from {self.title}")


def test_redact_object_copies_strings_and_shares_arrays() -> None:
    arr = np.arange(5.0)
    arr.setflags(write=False)
    inner = Inner("10.0.0.7 → 91.108.56.1", arr, ("10.0.0.7",))
    o = Outer("call of 10.0.0.7", inner, {"10.0.0.7": 1.5}, [inner])
    r = redact_object(o, P)
    h = P.address("10.0.0.7")
    assert r is not o and o.title == "call of 10.0.0.7"  # the original is left alone
    assert r.title == f"call of {h}" and r.derived == f"from call of {h}"
    assert r.inner.label == f"{h} → 91.108.56.1" and r.inner.names == (h,)
    assert r.by_addr == {h: 1.5} and r.rows[0] is r.inner
    assert r.inner.values is arr and r.count == 3
    plain = Inner("no address", arr)
    assert redact_object(plain, P) is plain


def test_redact_object_string_arrays() -> None:
    a = np.array(["10.0.0.7", "x"], dtype=object)
    r = redact_object(a, P)
    assert list(r) == [P.address("10.0.0.7"), "x"] and a[0] == "10.0.0.7"
