"""Blocked setup and confounders on synthetic inputs with a known answer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from analyzer.detectors.blocked import BlockedSetupDetector
from analyzer.detectors.confounders import ConfounderFinder
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.features import features_from_arrays


def fake_stream(index: int, src: str, sport: int, dst: str, dport: int, kind: str,
                times: np.ndarray, reverse: int | None = None, **extra: int):
    media = kind in ("rtp", "telegram", "opaque")
    return SimpleNamespace(index=index, src=src, sport=sport, dst=dst, dport=dport,
                           kind=kind, extra=extra, reverse=reverse, is_media=media,
                           series=SimpleNamespace(arrival_s=np.asarray(times)))


def blocked(streams: list, icmp: list | None = None):
    """The blocked-setup detector on these streams and ICMP errors (a capture's parts)."""
    traffic = SimpleNamespace(streams=streams, icmp=icmp or [])
    return BlockedSetupDetector().detect(traffic, DetectionContext())


def icmp(src: str, sport: int, dst: str, dport: int):
    import ipaddress
    def a16(x: str) -> bytes:
        return ipaddress.IPv6Address("::ffff:" + x).packed
    return SimpleNamespace(src=a16(src), sport=sport, dst=a16(dst), dport=dport)


def test_unanswered_hellos_on_a_schedule_are_blocked() -> None:
    t = np.arange(0, 20, 0.5)
    req = fake_stream(0, "192.168.1.5", 40000, "91.108.56.1", 599, "telegram", t,
                      telegram_hellos=t.size)
    d = blocked([req], [icmp("192.168.1.5", 40000, "91.108.56.1", 599)] * 40)
    assert d.detected and d.pvalue == 0.5 ** 40
    target = d.estimate.targets[0]
    assert target.interval_s == 0.5 and target.interval_cv < 0.01
    assert target.icmp_unreachable == 40


def test_answered_or_media_is_not_blocked() -> None:
    t = np.arange(0, 10, 0.5)
    req = fake_stream(0, "10.0.0.2", 5000, "1.2.3.4", 3478, "stun", t, stun_requests=20)
    ans = fake_stream(1, "1.2.3.4", 3478, "10.0.0.2", 5000, "stun", t[:3],
                      stun_responses=3)
    assert not blocked([req, ans]).detected
    # unanswered probes to one candidate while media flows on another path
    media = np.arange(0, 30, 0.02)
    a = fake_stream(2, "10.0.0.2", 6000, "5.6.7.8", 6000, "rtp", media, reverse=3)
    b = fake_stream(3, "5.6.7.8", 6000, "10.0.0.2", 6000, "rtp", media, reverse=2)
    d = blocked([req, a, b])
    assert not d.detected and d.estimate.media_established
    # too few requests is no schedule
    few = fake_stream(0, "10.0.0.2", 5000, "1.2.3.4", 3478, "stun", t[:2], stun_requests=2)
    assert not blocked([few]).detected


def two_way(gaps: list[tuple[float, float]], *, seed: int = 1):
    r = np.random.default_rng(seed)
    feats = []
    for k, (src, dst) in enumerate((("10.0.0.1", "10.0.0.2"), ("10.0.0.2", "10.0.0.1"))):
        t = 0.5 + np.arange(3000) * 0.02 + 0.03 + np.abs(r.normal(0, 0.002, 3000))
        keep = np.ones(t.size, dtype=bool)
        for a, b in gaps:
            keep &= ~((t >= a) & (t < b))
        n = int(keep.sum())
        feats.append(features_from_arrays(
            t[keep], np.full(n, 100), seq=np.arange(3000)[keep],
            rtp_ts=(np.arange(3000) * 960)[keep], clock_rate_hz=48000, stream=k, src=src,
            sport=5004 + 2 * k, dst=dst, dport=5006 - 2 * k))
    return feats


def test_one_gap_in_both_directions_is_a_handover() -> None:
    feats = two_way([(30.0, 31.0)])
    conf, masks = ConfounderFinder().find(feats)
    assert [c.kind for c in conf] == ["handover"]
    assert conf[0].start_s < 30.1 and conf[0].end_s > 30.9
    masked = feats[0].with_confounders(masks[0])
    assert not (masked.slot_lost & masked.slot_usable).any()
    assert masked.windows.confounded.sum() >= 1


def test_recurring_gaps_are_not_a_handover() -> None:
    feats = two_way([(t, t + 0.4) for t in np.arange(20.0, 60.0, 4.0)])
    conf, masks = ConfounderFinder().find(feats)
    assert not conf and not masks


def test_every_flow_silent_is_an_outage() -> None:
    feats = two_way([(30.0, 32.0)])
    other = SimpleNamespace(series=SimpleNamespace(
        arrival_s=np.concatenate([np.arange(0, 29.9, 1.0), np.arange(32.1, 60, 1.0)])))
    call = [SimpleNamespace(series=SimpleNamespace(arrival_s=np.sort(f.arrival_s)))
            for f in feats]
    conf, _ = ConfounderFinder().find(feats, [*call, other])
    assert [c.kind for c in conf] == ["outage"]


def test_renegotiation_next_to_a_reinvite() -> None:
    feats = two_way([])
    f = feats[0]
    keep = (f.arrival_s < 20) | (f.arrival_s > 26)
    g = features_from_arrays(f.arrival_s[keep], f.size_bytes[keep], seq=f.position[keep],
                             rtp_ts=(f.sender_s[keep] * 48000).astype(np.int64),
                             clock_rate_hz=48000, stream=0, src="10.0.0.1", sport=5004,
                             dst="10.0.0.2", dport=5006)
    conf, masks = ConfounderFinder().find([g], (), reinvites_s=[19.5])
    assert [c.kind for c in conf] == ["renegotiation"] and 0 in masks


def test_dtx_and_packet_time_change_are_reported() -> None:
    t = 0.5 + np.arange(1500) * 0.02
    t2 = t[-1] + 0.06 * np.arange(1, 500)
    f = features_from_arrays(np.concatenate([t, t2]),
                             np.concatenate([np.full(1500, 100), np.full(499, 280)]),
                             stream=0, src="a", dst="b")
    conf, _ = ConfounderFinder().find([f])
    assert [c.kind for c in conf] == ["codec_change"]
