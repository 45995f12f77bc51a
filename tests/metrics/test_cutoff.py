"""Cut-off: a stream that stops while the call goes on (and what is not one)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from analyzer.metrics.cutoff import Evidence, assess_cutoff
from analyzer.metrics.quality import stream_quality
from analyzer.streams.model import Stream
from tests.metrics.synth import DST, SRC, opaque_stream, voice, voice_stream


def _pair(a_s: float, b_s: float, **kw: Any) -> tuple[Stream, Stream]:
    """Direction A (index 0) lasting ``a_s`` seconds and B (index 1, the reverse) ``b_s``."""
    a = voice_stream(voice(a_s, **kw), index=0, reverse=1)
    b = voice_stream(voice(b_s, seq0=7000, ts0=90), index=1, reverse=0, src=DST, sport=6004,
                     dst=SRC, dport=5004)
    return a, b


def test_cutoff_while_the_other_direction_continues() -> None:
    a, b = _pair(10.0, 20.0)
    q = stream_quality(a, call_streams=[a, b])
    c = q.cutoff
    assert c is not None
    # A's last packet: sent 10.98 s, arrived 11.01 s; B's last: 20.98 + 0.03 = 21.01 s
    assert c.at_s == pytest.approx(11.01)
    assert c.continued_until_s == pytest.approx(21.01)
    assert c.missing_packets == 500  # (21.01 - 11.01) / 0.020
    assert c.basis == "reverse_media"
    assert "stream #1" in c.evidence
    d = q.to_dict()
    assert d["cutoff"]["at_s"] == pytest.approx(11.01) and d["cutoff"]["missing_packets"] == 500
    # the other direction was not cut off
    assert stream_quality(b, call_streams=[a, b]).cutoff is None


def test_hang_up_is_not_a_cutoff() -> None:
    a, b = _pair(10.0, 10.6)  # the other side stops 0.6 s later: a hang-up
    q = stream_quality(a, call_streams=[b])
    assert q.cutoff is None and q.cutoff_assessment.reason.startswith("call ended")
    a, b = _pair(10.0, 20.0)
    q = stream_quality(a, call_streams=[b], bye_s=11.2)  # BYE right after A stops
    assert q.cutoff is None and q.cutoff_assessment.reason.startswith("hang-up")


def test_signalling_only_evidence() -> None:
    a, b = _pair(10.0, 10.0)
    q = stream_quality(a, call_streams=[b], bye_s=30.0)
    assert q.cutoff is not None and q.cutoff.basis == "signalling"
    assert q.cutoff.missing_packets == round((30.0 - 11.01) / 0.02)
    assert "other direction stopped at the same time" in q.cutoff.evidence


def test_other_flow_and_given_evidence() -> None:
    a, _ = _pair(10.0, 10.0)
    rtcp = opaque_stream(np.arange(1.0, 25.0, 5.0), kind="rtcp", index=5, src=SRC,
                         sport=5005, dst=DST, dport=6005)
    q = stream_quality(a, call_streams=[rtcp])
    assert q.cutoff is not None and q.cutoff.basis == "other_flow"
    assert q.cutoff.continued_until_s == pytest.approx(21.0)
    q = stream_quality(a, call_continued_until_s=15.01)
    assert q.cutoff is not None and q.cutoff.missing_packets == 200


def test_media_that_moved_is_not_a_cutoff() -> None:
    a, b = _pair(10.0, 20.0)
    # the same direction carries on from another flow (relay to peer-to-peer switch)
    p2p = voice_stream(voice(10.0, start_s=11.0, seq0=3000), index=2, src=SRC, sport=5004,
                       dst="203.0.113.9", dport=40000)
    q = stream_quality(a, call_streams=[b, p2p])
    assert q.cutoff is None and "continued on stream #2" in q.cutoff_assessment.reason
    # a two-packet burst in the same direction is no successor
    probe = voice_stream(voice(0.04, start_s=12.0, seq0=5000), index=3, src=SRC, sport=5004,
                         dst="203.0.113.9", dport=40000)
    assert stream_quality(a, call_streams=[b, probe]).cutoff is not None
    # ... unless it is the same sender with the same SSRC, re-targeted (a re-INVITE to a
    # new address just before the hang-up): the network cutting a flow cannot do that
    moved = replace(voice_stream(voice(0.04, start_s=15.0, seq0=5000), index=3, src=SRC,
                                 sport=5004, dst="203.0.113.9", dport=40000), ssrc=a.ssrc)
    q = stream_quality(a, call_streams=[b, moved])
    assert q.cutoff is None and "continued on stream #3 after a" in q.cutoff_assessment.reason


def test_handover_gap_in_both_directions_is_not_a_cutoff() -> None:
    # both directions pause 1 s at 5 s (arrival gap), then resume to the end
    extra = np.where(np.arange(500) >= 200, 1.0, 0.0)
    a = voice_stream(voice(10.0, delay_s=extra), index=0, reverse=1)
    b = voice_stream(voice(10.0, seq0=7000, delay_s=extra), index=1, reverse=0, src=DST,
                     sport=6004, dst=SRC, dport=5004)
    q = stream_quality(a, call_streams=[b])
    assert q.cutoff is None
    assert q.gaps.count == 1 and q.gaps.max_s == pytest.approx(1.02)
    assert q.gaps.shared is not None and q.gaps.shared.tolist() == [True]
    assert q.to_dict()["gaps"]["shared_with_reverse"] == 1
    assert q.loss is not None and q.loss.lost == 0


def test_assess_cutoff_rules() -> None:
    ev = [Evidence(30.0, "reverse_media", "reverse until 30 s")]
    assert assess_cutoff(10.0, 0.02, ev).cutoff is not None
    assert assess_cutoff(10.0, 0.02, ev, packets=5).cutoff is None  # too short to judge
    assert assess_cutoff(10.0, None, ev).cutoff is None
    # tolerance: the larger of 2 frames and 1.5 s
    assert assess_cutoff(10.0, 0.02, [Evidence(11.4, "reverse_media", "")]).cutoff is None
    assert assess_cutoff(10.0, 1.0, [Evidence(11.9, "reverse_media", "")]).cutoff is None
    c = assess_cutoff(10.0, 0.06, ev, ended_in_silence=True).cutoff
    assert c is not None and c.missing_packets == round(20.0 / 0.06)
    assert "comfort noise" in c.evidence
