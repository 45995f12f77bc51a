"""Calls assembled as real calls are built, on the real-kernel lab captures: successive
SIP calls on the same ports, asymmetric ports, a path switch (captures/lab/README.md)."""

from __future__ import annotations

import sys
import warnings
from functools import cache
from pathlib import Path

import pytest

from analyzer import read_capture
from analyzer.streams.model import SWITCH_IP_VERSION

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"


@cache
def _variant_dir() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="lab-variants-"))


def _path(scenario: str, variant: str, side: str = "receiver") -> Path:
    if variant == "plain":
        return LAB / f"{scenario}-{side}.pcap"
    sys.path.insert(0, str(LAB))
    import opaque  # captures/lab/opaque.py

    out = _variant_dir()
    p = out / f"{scenario}-{variant}-{side}.pcap"
    if not p.exists():
        opaque.make(scenario, variant, LAB, out)
    return p


@cache
def _read(scenario: str, variant: str, side: str = "receiver"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_capture(_path(scenario, variant, side))


@pytest.mark.parametrize("variant", ["plain", "nosip"])
def test_back_to_back_calls_are_two_calls(variant: str) -> None:
    cap = _read("b2b", variant)
    assert len(cap.calls) == 2
    for call in cap.calls:
        ssrcs = {cap.streams[i].ssrc for i in call.streams}
        assert len(ssrcs) == 2  # one per direction, the call's own
        assert not call.path_switches
    if variant == "plain":
        assert all(len(c.sip_call_ids) == 1 for c in cap.calls)
        assert cap.calls[0].sip_call_ids != cap.calls[1].sip_call_ids


@pytest.mark.parametrize("variant", ["plain", "nosip", "opaque"])
@pytest.mark.parametrize("scenario,side", [("asym", "receiver"), ("cutboth", "receiver"),
                                           ("cutboth", "sender")])
def test_asymmetric_ports_pair_both_directions(scenario: str, side: str, variant: str) -> None:
    cap = _read(scenario, variant, side)
    assert len(cap.calls) == 1
    media = [s for s in cap.streams if s.is_media]
    assert len(media) == 2
    a, b = media
    assert (a.sport, b.sport) != (b.dport, a.dport)  # no shared 5-tuple
    assert a.reverse == b.index and b.reverse == a.index


@pytest.mark.parametrize("variant", ["plain", "opaque"])
def test_path_switch_is_one_call_with_the_switch_recorded(variant: str) -> None:
    cap = _read("pathswitch", variant)
    assert len(cap.calls) == 1
    sw = cap.calls[0].path_switches
    assert len(sw) == 2  # one per direction
    for p in sw:
        assert p.kind == SWITCH_IP_VERSION
        assert p.matched_by == ("ssrc" if variant == "plain" else "cadence")
        assert 1.5 <= p.gap_s <= 2.5
        old, new = cap.streams[p.from_stream], cap.streams[p.to_stream]
        assert ":" in old.src and ":" not in new.src
        assert (old.sport, old.dport) == (new.sport, new.dport)
    # the two directions are paired on each path
    for s in cap.streams:
        if s.is_media:
            assert s.reverse is not None
            assert cap.streams[s.reverse].src == s.dst
