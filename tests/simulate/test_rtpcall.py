"""Simulated calls: determinism, framings, and ground truth consistent with the packets."""

from __future__ import annotations

import itertools
import json
import struct

import numpy as np
import pytest
from scapy.all import IP, UDP, rdpcap

from analyzer.errors import UsageError
from analyzer.simulate import (
    AddedJitter,
    Bernoulli,
    BlockedSetup,
    CallSpec,
    CodecChange,
    Cutoff,
    Dtx,
    GilbertElliott,
    HandoverGap,
    PacketKind,
    PeriodicDrop,
    Shaper,
    TokenBucketPolicer,
    simulate_call,
    write_call,
)
from analyzer.simulate.spec import CALLEE_TO_CALLER, CALLER_TO_CALLEE

PAYLOAD_AT = 42  # Ethernet + IPv4 + UDP


def _payloads(sim, direction=None, kind=PacketKind.MEDIA):
    rows = np.flatnonzero(sim.kind == kind)
    if direction is not None:
        rows = rows[sim.direction[rows] == direction]
    return [sim.frames[i][PAYLOAD_AT:] for i in rows]


def _rtp(payload: bytes) -> tuple[int, int, int, int]:
    first, second, seq, ts = struct.unpack_from("!BBHI", payload)
    return first, second, seq, ts


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    spec = CallSpec(duration_s=5, framing="whatsapp")
    imp = {"both": [Bernoulli(0.1)], CALLER_TO_CALLEE: [AddedJitter(5.0)]}
    paths = []
    for name, seed in (("a", 4), ("b", 4), ("c", 5)):
        write_call(tmp_path / f"{name}.pcap", simulate_call(spec, imp, seed))
        paths.append(tmp_path / f"{name}.pcap")
    data = [p.read_bytes() for p in paths]
    truths = [p.with_name(p.name + ".truth.json").read_bytes() for p in paths]
    assert data[0] == data[1] and truths[0] == truths[1]
    assert data[0] != data[2]


def test_capture_matches_truth_and_scapy(tmp_path):
    spec = CallSpec(duration_s=4, framing="rtp", jitter_std_ms=1.0)
    sim = simulate_call(spec, [Bernoulli(0.1)], seed=1)
    pcap, truth_path = write_call(tmp_path / "call.pcap", sim)
    truth = json.loads(truth_path.read_text())
    packets = rdpcap(str(pcap))
    assert len(packets) == len(sim)
    times = [round(p.time * 1e6) for p in packets]
    assert times == sorted(times)
    fwd = truth["directions"][CALLER_TO_CALLEE]
    caller_ip, caller_port = fwd["src"].split(":")
    seen = [(int(struct.unpack_from("!H", bytes(p[UDP].payload), 2)[0]),
             round(float(p.time) - truth["time_origin_epoch_s"], 6))
            for p in packets if p[IP].src == caller_ip and p[UDP].sport == int(caller_port)]
    cols = fwd["packets"]
    expected = [(s, round(a, 6)) for s, a, d in zip(cols["seq"], cols["arrival_s"],
                                                     cols["delivered"], strict=True) if d]
    assert sorted(seen, key=lambda x: x[1]) == sorted(expected, key=lambda x: x[1])
    assert fwd["lost_packets"] == cols["delivered"].count(False)
    assert fwd["lost_packets"] == sum(fwd["loss_run_lengths"])


def test_bernoulli_loss_rate_over_a_long_call():
    sim = simulate_call(CallSpec(duration_s=600, jitter_std_ms=0.5), [Bernoulli(0.05)], seed=2)
    for d in sim.truth.directions.values():
        assert d.sent_packets == 30000
        assert abs(d.loss_fraction - 0.05) < 0.006
        assert d.onset_s == 0.0 and d.labels == ("bernoulli",)


def test_gilbert_elliott_is_bursty():
    ge = GilbertElliott(p_gb=0.02, p_bg=0.25)
    sim = simulate_call(CallSpec(duration_s=600), [ge], seed=3)
    d = sim.truth.directions[CALLER_TO_CALLEE]
    assert abs(d.loss_fraction - 0.02 / 0.27) < 0.02
    assert np.mean(d.loss_run_lengths) > 2.5


def test_cutoff_time_matches_delivered_packets():
    sim = simulate_call(CallSpec(duration_s=30), {CALLER_TO_CALLEE: [Cutoff(after_s=12.0)]},
                        seed=4)
    fwd = sim.truth.directions[CALLER_TO_CALLEE]
    rev = sim.truth.directions[CALLEE_TO_CALLER]
    p = fwd.packets
    assert fwd.cutoff_s == 12.0
    assert np.nanmax(p.arrival_s) < 12.0
    assert not p.delivered[p.send_s > 12.0].any()
    assert fwd.cutoff_missing_packets == int((~p.delivered).sum()) > 0
    assert rev.lost_packets == 0 and rev.cutoff_s is None
    assert np.nanmax(rev.packets.arrival_s) > 30


def test_cutoff_after_bytes_and_packets():
    for cut, check in ((Cutoff(after_packets=100), lambda d: d.delivered_packets == 100),
                       (Cutoff(after_bytes=16000), lambda d: (d.packets.size_bytes[
                           d.packets.delivered] + 28).sum() <= 16000)):
        sim = simulate_call(CallSpec(duration_s=10), {CALLER_TO_CALLEE: [cut]}, seed=5)
        d = sim.truth.directions[CALLER_TO_CALLEE]
        assert check(d)
        first_lost_send = float(d.packets.send_s[~d.packets.delivered].min())
        assert d.cutoff_s == pytest.approx(first_lost_send + 0.04, abs=0.01)


def test_policer_caps_delivered_rate_without_delay():
    rate = 24000.0
    sim = simulate_call(CallSpec(duration_s=60, framing="whatsapp"),
                        [TokenBucketPolicer(rate, 2000, start_s=10.0)], seed=6)
    d = sim.truth.directions[CALLER_TO_CALLEE]
    p = d.packets
    late = p.delivered & (p.arrival_s >= 20.0) & (p.arrival_s < 60.0)
    delivered_bps = (p.size_bytes[late] + 28).sum() * 8 / 40.0
    assert delivered_bps == pytest.approx(rate, rel=0.05)
    assert d.cap_rate_bps == rate and d.onset_s == 10.0
    assert d.added_delay_max_s == 0.0
    assert not (~p.delivered & (p.send_s < 9.9)).any()


def test_shaper_delays_then_drops():
    sim = simulate_call(CallSpec(duration_s=40), [Shaper(30000.0, 5000, start_s=10.0)], seed=7)
    d = sim.truth.directions[CALLEE_TO_CALLER]
    assert d.added_delay_max_s == pytest.approx(5000 * 8 / 30000.0, rel=0.1)
    assert d.lost_packets > 0 and d.reordered_packets == 0
    first_loss = d.first_loss_s
    assert first_loss is not None and first_loss > 11.0


def test_added_jitter_reorders():
    sim = simulate_call(CallSpec(duration_s=20), [AddedJitter(30.0)], seed=8)
    d = sim.truth.directions[CALLER_TO_CALLEE]
    assert d.lost_packets == 0 and d.reordered_packets > 50
    fifo = simulate_call(CallSpec(duration_s=20), [AddedJitter(30.0, reorder=False)], seed=8)
    assert fifo.truth.directions[CALLER_TO_CALLEE].reordered_packets == 0


def test_periodic_drop_windows_recur():
    drop = PeriodicDrop(period_s=2.0, drop_s=0.3, phase_s=0.5, start_s=5.0)
    sim = simulate_call(CallSpec(duration_s=30), [drop], seed=9)
    d = sim.truth.directions[CALLER_TO_CALLEE]
    assert d.period_s == 2.0 and d.drop_s == 0.3
    starts = [w[0] for w in d.drop_windows_s]
    assert np.allclose(np.diff(starts), 2.0) and starts[0] == pytest.approx(5.5)
    lost_at = d.packets.send_s[~d.packets.delivered] + 0.04  # about when they reached the drop
    phase = np.mod(lost_at - 5.5, 2.0)
    assert ((phase < 0.3 + 0.01) | (phase > 2.0 - 0.01)).all()
    assert len(d.loss_run_lengths) == pytest.approx(len(d.drop_windows_s), abs=1)
    assert min(d.loss_run_lengths[1:-1]) >= 14


def test_blocked_telegram_call_has_only_unanswered_hellos(tmp_path):
    sim = simulate_call(CallSpec(duration_s=5, framing="telegram"),
                        [BlockedSetup(icmp_unreachable=True)], seed=10)
    assert set(sim.kind.tolist()) == {PacketKind.REFLECTOR_HELLO, PacketKind.ICMP_UNREACHABLE}
    hellos = _payloads(sim, 0, PacketKind.REFLECTOR_HELLO)
    assert len(hellos) == 11 and all(len(h) == 40 for h in hellos)
    assert all(h[16:32] == b"\xff" * 12 + b"\xfe" + b"\xff" * 3 for h in hellos)
    assert len({h[:16] for h in hellos}) == 1
    assert sim.truth.blocked and not sim.truth.benign_only
    sent = sim.ts_ns[sim.kind == PacketKind.REFLECTOR_HELLO]
    assert np.allclose(np.diff(sent), 0.5e9, atol=10e6)
    assert (sim.sport[sim.kind == PacketKind.REFLECTOR_HELLO] != 599).all()
    assert (sim.dport[sim.kind == PacketKind.REFLECTOR_HELLO] == 599).all()


def test_blocked_whatsapp_sends_stun_requests_only():
    sim = simulate_call(CallSpec(duration_s=3, framing="whatsapp"), [BlockedSetup()], seed=11)
    assert set(sim.kind.tolist()) == {PacketKind.STUN_REQUEST}
    assert (sim.direction == 0).all()
    for payload in _payloads(sim, kind=PacketKind.STUN_REQUEST):
        assert struct.unpack_from("!HHI", payload) == (1, len(payload) - 20, 0x2112A442)


def test_whatsapp_framing():
    sim = simulate_call(CallSpec(duration_s=3, framing="whatsapp"), None, seed=12)
    media = _payloads(sim)
    assert all(m[0] == 0x90 and m[1] & 0x7F == 120 and m[12:14] == b"\xbe\xde" for m in media)
    assert (sim.dport[(sim.direction == 0)] == 3478).all()
    responses = _payloads(sim, 1, PacketKind.STUN_RESPONSE)
    assert len(responses) == 3 and all(r[:2] == b"\x01\x01" for r in responses)


def test_telegram_framing_is_not_rtp():
    sim = simulate_call(CallSpec(duration_s=3, framing="telegram"), None, seed=13)
    media = _payloads(sim)
    assert len({m[:16] for m in media}) == 1
    assert sim.truth.directions[CALLER_TO_CALLEE].ssrc is None
    assert not sim.truth.directions[CALLER_TO_CALLEE].rtp_visible


def test_rtp_sdp_maps_payload_type_to_clock():
    sim = simulate_call(CallSpec(duration_s=2, framing="rtp_sdp"), None, seed=14)
    sip = _payloads(sim, kind=PacketKind.SIP)
    assert sip[0].startswith(b"INVITE ") and b"a=rtpmap:111 opus/48000/2" in sip[0]
    assert sip[1].startswith(b"SIP/2.0 200 OK") and b"m=audio " in sip[1]
    assert sim.ts_ns[sim.kind == PacketKind.SIP].max() < sim.ts_ns[sim.kind == 0].min()


def test_sequence_wrap_and_rtp_fields():
    sim = simulate_call(CallSpec(duration_s=3, initial_seq=65530), None, seed=15)
    for direction in (0, 1):
        rtp = [_rtp(m) for m in _payloads(sim, direction)]
        seqs = [r[2] for r in rtp]
        assert seqs[:7] == [65530, 65531, 65532, 65533, 65534, 65535, 0]
        assert all(r[0] == 0x80 for r in rtp) and rtp[0][1] == 0x80 | 111
        assert all((b[3] - a[3]) % 2**32 == 960 for a, b in itertools.pairwise(rtp))


def test_dtx_keeps_sequence_and_jumps_timestamp():
    sim = simulate_call(CallSpec(duration_s=10), {CALLER_TO_CALLEE: [Dtx(((3.0, 5.0),))]},
                        seed=16)
    stream = [_rtp(sim.frames[i][PAYLOAD_AT:]) for i in np.flatnonzero(
        (sim.direction == 0) & np.isin(sim.kind, [0, 1]))]
    seqs = np.array([s[2] for s in stream])
    assert (np.diff(seqs) % 65536 == 1).all()
    steps = np.diff(np.array([s[3] for s in stream], dtype=np.int64)) % 2**32
    assert steps.max() > 960 * 15
    truth = sim.truth.directions[CALLER_TO_CALLEE]
    assert truth.lost_packets == 0 and truth.labels == ("dtx",) and sim.truth.benign_only
    cn = truth.packets.kind == PacketKind.COMFORT_NOISE
    assert cn.sum() == 5 and (truth.packets.size_bytes[cn] == 22).all()


def test_codec_change_halves_the_packet_rate():
    sim = simulate_call(CallSpec(duration_s=20), [CodecChange(10.0, 60)], seed=17)
    send = sim.truth.directions[CALLER_TO_CALLEE].packets.send_s
    assert np.allclose(np.diff(send[send < 9.9]), 0.02)
    assert np.allclose(np.diff(send[send > 10.1]), 0.06)


def test_handover_gap_hits_both_directions_and_moves_the_port():
    sim = simulate_call(CallSpec(duration_s=20), [HandoverGap(10.0, 1.0, new_source_port=True)],
                        seed=18)
    for d in sim.truth.directions.values():
        assert d.max_loss_run in (49, 50, 51) and len(d.loss_run_lengths) == 1
    new_port = sim.truth.caller_port_after_handover
    old_port = int(sim.truth.caller.split(":")[1])
    fwd_ports = sim.sport[sim.direction == 0]
    assert set(fwd_ports.tolist()) == {old_port, new_port}
    assert set(sim.dport[sim.direction == 1].tolist()) == {old_port, new_port}


def test_caller_vantage_captures_every_outgoing_packet():
    sim = simulate_call(CallSpec(duration_s=5, vantage="caller"), [Bernoulli(0.3)], seed=19)
    fwd = sim.truth.directions[CALLER_TO_CALLEE]
    assert int((sim.direction == 0).sum()) == fwd.sent_packets
    rev = sim.truth.directions[CALLEE_TO_CALLER]
    assert int((sim.direction == 1).sum()) == rev.delivered_packets


def test_truth_is_json_and_validates_arguments():
    sim = simulate_call(CallSpec(duration_s=2), [Bernoulli(0.5)], seed=20)
    text = json.dumps(sim.truth.to_dict())
    assert '"schema": "analyzer.simulate.truth/1"' in text
    with pytest.raises(UsageError, match="p"):
        Bernoulli(1.5)
    with pytest.raises(UsageError, match="direction"):
        simulate_call(CallSpec(duration_s=2), {"up": [Bernoulli(0.1)]})
    with pytest.raises(UsageError, match="frame_interval_ms"):
        CallSpec(frame_interval_ms=30)


def _read(tmp_path, sim):
    from analyzer import read_capture

    path = tmp_path / "call.pcap"
    write_call(path, sim, include_packets=False)
    return read_capture(path)


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_opaque_framing_is_a_tag_and_noise_of_the_rtp_sizes(seed):
    spec = CallSpec(duration_s=4)
    rtp = simulate_call(spec, None, seed)
    opaque = simulate_call(CallSpec(duration_s=4, framing="opaque"), None, seed)
    # the same packets, times, ports and sizes as the RTP call it replaces...
    assert np.array_equal(opaque.ts_ns, rtp.ts_ns)
    assert np.array_equal(opaque.frames.lengths, rtp.frames.lengths)
    assert np.array_equal(opaque.sport, rtp.sport) and np.array_equal(opaque.dport, rtp.dport)
    assert not np.isin(opaque.kind, [PacketKind.SIP, PacketKind.STUN_REQUEST]).any()
    for direction in (0, 1):
        media = _payloads(opaque, direction)
        # ... each datagram a constant per-flow tag, then bytes with no structure
        assert len({m[:4] for m in media}) == 1
        # no RTP header: the would-be sequence number never advances, the would-be
        # timestamp and SSRC are noise
        fields = [_rtp(m) for m in media]
        assert len({f[2] for f in fields}) == 1
        assert len({f[3] for f in fields}) > len(fields) // 2
        assert len({m[8:12] for m in media}) > len(media) // 2
    assert _payloads(opaque, 0)[0][:4] != _payloads(opaque, 1)[0][:4]
    truth = opaque.truth.directions[CALLER_TO_CALLEE]
    assert not truth.rtp_visible and truth.ssrc is None


def test_opaque_framing_parses_as_no_rtp(tmp_path):
    sim = simulate_call(CallSpec(duration_s=6, framing="opaque", asymmetric_ports=True),
                        None, seed=34)
    cap = _read(tmp_path, sim)
    media = [s for s in cap.streams if s.is_media]
    assert len(media) == 2 and {s.kind for s in media} == {"opaque"}
    assert all(s.ssrc is None for s in media)
    assert len(cap.calls) == 1


def test_opaque_blocked_setup_requests_are_opaque_too():
    sim = simulate_call(CallSpec(duration_s=3, framing="opaque"), [BlockedSetup(0.5, False)],
                        seed=35)
    requests = _payloads(sim, 0, PacketKind.STUN_REQUEST)
    assert len(requests) == 7 and len({r[:4] for r in requests}) == 1  # every 0.5 s, 3.5 s
    assert all(r[4:8] != struct.pack("!I", 0x2112A442) for r in requests)  # no STUN cookie


@pytest.mark.parametrize("framing", ["rtp", "rtp_sdp", "opaque"])
def test_asymmetric_ports_send_from_other_ports_than_they_receive_on(framing):
    sim = simulate_call(CallSpec(duration_s=3, framing=framing, asymmetric_ports=True),
                        None, seed=36)
    media = np.isin(sim.kind, [PacketKind.MEDIA, PacketKind.COMFORT_NOISE])
    fwd = set(zip(sim.sport[media & (sim.direction == 0)].tolist(),
                  sim.dport[media & (sim.direction == 0)].tolist(), strict=True))
    rev = set(zip(sim.sport[media & (sim.direction == 1)].tolist(),
                  sim.dport[media & (sim.direction == 1)].tolist(), strict=True))
    assert len(fwd) == 1 and len(rev) == 1
    (a_send, b_recv), = fwd
    (b_send, a_recv), = rev
    assert len({a_send, b_recv, b_send, a_recv}) == 4  # four ports, no shared 5-tuple
    caller, remote = sim.truth.caller, sim.truth.remote
    assert caller.endswith(f":{a_recv}") and remote.endswith(f":{b_recv}")
    assert sim.truth.directions[CALLER_TO_CALLEE].src.endswith(f":{a_send}")
    assert sim.truth.directions[CALLEE_TO_CALLER].src.endswith(f":{b_send}")
    if framing == "rtp_sdp":  # the SDP names where each side receives
        invite, ok = _payloads(sim, kind=PacketKind.SIP)[:2]
        assert f"m=audio {a_recv} ".encode() in invite
        assert f"m=audio {b_recv} ".encode() in ok
    # a symmetric call of the same seed keeps its ports and bytes
    sym = simulate_call(CallSpec(duration_s=3, framing=framing), None, seed=36)
    assert set(sym.sport[media & (sym.direction == 0)].tolist()) == {a_recv}


def test_asymmetric_ports_only_between_endpoints():
    with pytest.raises(UsageError, match="asymmetric_ports"):
        CallSpec(framing="whatsapp", asymmetric_ports=True)


def test_asymmetric_handover_moves_both_caller_ports():
    sim = simulate_call(CallSpec(duration_s=8, asymmetric_ports=True),
                        [HandoverGap(4.0, 1.0, new_source_port=True)], seed=37)
    media = sim.kind == PacketKind.MEDIA
    fwd_src = set(sim.sport[media & (sim.direction == 0)].tolist())
    rev_dst = set(sim.dport[media & (sim.direction == 1)].tolist())
    assert len(fwd_src) == 2 and len(rev_dst) == 2 and not fwd_src & rev_dst
    assert sim.truth.caller_port_after_handover in rev_dst


@pytest.mark.parametrize("framing", ["rtp", "rtp_sdp", "opaque"])
def test_analyzer_joins_the_two_directions_of_an_asymmetric_call(tmp_path, framing):
    sim = simulate_call(CallSpec(duration_s=10, framing=framing, asymmetric_ports=True),
                        None, seed=38)
    cap = _read(tmp_path, sim)
    media = [s for s in cap.streams if s.is_media]
    assert len(media) == 2
    a, b = media
    assert (a.sport, a.dport) != (b.dport, b.sport)
    assert a.reverse == b.index and b.reverse == a.index
    assert len(cap.calls) == 1 and set(cap.calls[0].streams) >= {a.index, b.index}
