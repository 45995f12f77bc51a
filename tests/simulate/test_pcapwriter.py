"""The pcap writer and frame builders, checked against scapy's parser."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.all import ICMP, IP, UDP, Ether, IPv6, raw, rdpcap
from scapy.layers.inet import UDPerror

from analyzer.protocol import LINKTYPE_RAW
from analyzer.simulate.packing import (
    exclusive_cumsum,
    fold_checksum,
    gather_segments,
    interleave,
    ones_complement_word_sums,
)
from analyzer.simulate.pcapwriter import (
    PackedFrames,
    PcapWriter,
    build_icmp_port_unreachable_frames,
    build_udp6_frames,
    build_udp_frames,
    ipv4_to_int,
    ipv6_to_bytes,
    write_pcap,
)

EPOCH_NS = 1_755_072_000 * 1_000_000_000


def _payloads(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 300, n)
    buf = rng.integers(0, 256, int(lengths.sum()) + 64, dtype=np.uint8)
    offsets = rng.integers(0, 64, n)  # overlapping, out of order
    return buf, offsets, lengths


def test_ipv4_udp_round_trip_with_scapy(tmp_path):
    buf, off, lengths = _payloads(7)
    dst = ipv4_to_int("198.51.100.7") + np.arange(7)
    frames = build_udp_frames(ipv4_to_int("192.168.1.23"), dst, 40000, np.arange(7) + 3478,
                              buf, off, lengths, udp_checksum=True)
    ts = EPOCH_NS + np.arange(7) * 1_234_567_000
    write_pcap(tmp_path / "a.pcap", ts, frames)
    packets = rdpcap(str(tmp_path / "a.pcap"))
    assert len(packets) == 7
    for i, p in enumerate(packets):
        assert p[IP].src == "192.168.1.23"
        assert p[IP].dst == f"198.51.100.{7 + i}"
        assert (p[UDP].sport, p[UDP].dport) == (40000, 3478 + i)
        assert bytes(p[UDP].payload) == buf[off[i]:off[i] + lengths[i]].tobytes()
        assert int(p.time * 1_000_000) == ts[i] // 1000
        ip_sum, udp_sum = p[IP].chksum, p[UDP].chksum
        del p[IP].chksum, p[UDP].chksum
        again = Ether(raw(p))
        assert (again[IP].chksum, again[UDP].chksum) == (ip_sum, udp_sum)


def test_udp_checksum_zero_by_default_and_header_checksum_valid():
    buf, off, lengths = _payloads(3, seed=1)
    frames = build_udp_frames(1, 2, 3, 4, buf, off, lengths)
    for raw_frame in frames.to_list():
        p = Ether(raw_frame)
        assert p[UDP].chksum == 0
        header_sum = p[IP].chksum
        del p[IP].chksum
        assert Ether(raw(p))[IP].chksum == header_sum


def test_ipv6_nanosecond_round_trip(tmp_path):
    buf, off, lengths = _payloads(5, seed=2)
    frames = build_udp6_frames(ipv6_to_bytes("2001:db8::1"), ipv6_to_bytes("2001:db8::2"),
                               5004, 5006, buf, off, lengths)
    ts = EPOCH_NS + np.arange(5) * 123_456_789 + 1
    write_pcap(tmp_path / "b.pcap", ts, frames, nanosecond=True)
    raw_file = (tmp_path / "b.pcap").read_bytes()
    assert struct.unpack("<I", raw_file[:4])[0] == 0xA1B23C4D
    for i, p in enumerate(rdpcap(str(tmp_path / "b.pcap"))):
        assert p[IPv6].src == "2001:db8::1"
        assert bytes(p[UDP].payload) == buf[off[i]:off[i] + lengths[i]].tobytes()
        ns = struct.unpack_from("<II", raw_file, 24 + sum(16 + len(f) for f in
                                                         frames.to_list()[:i]))
        assert ns[0] * 1_000_000_000 + ns[1] == ts[i]
        udp_sum = p[UDP].chksum
        del p[UDP].chksum
        assert Ether(raw(p))[UDP].chksum == udp_sum


def test_file_object_list_input_raw_link_and_snaplen():
    frames = [bytes(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / (b"x" * n))
              for n in (0, 10, 500)]
    out = io.BytesIO()
    write_pcap(out, np.array([0, 1000, 2000]), frames, linktype=LINKTYPE_RAW, snaplen=100)
    data = out.getvalue()
    assert struct.unpack_from("<IHHiIII", data, 0)[5:] == (100, LINKTYPE_RAW)
    records, pos = [], 24
    while pos < len(data):
        _, _, incl, orig = struct.unpack_from("<IIII", data, pos)
        records.append((incl, orig))
        pos += 16 + incl
    assert records == [(28, 28), (38, 38), (100, 528)]


def test_writer_appends_in_batches_and_validates():
    out = io.BytesIO()
    with PcapWriter(out) as w:
        w.write(np.array([1, 2]), [b"ab", b"c"])
        w.write(np.array([3]), PackedFrames.from_list([b"def"]))
        with pytest.raises(ValueError, match="ts_ns"):
            w.write(np.array([1.5]), [b"x"])
        with pytest.raises(ValueError, match="ts_ns"):
            w.write(np.array([-1]), [b"x"])
    assert w.packets_written == 3
    assert len(out.getvalue()) == 24 + 3 * 16 + 6


def test_icmp_port_unreachable_quotes_the_datagram():
    buf, off, lengths = _payloads(2, seed=3)
    udp = build_udp_frames(ipv4_to_int("10.0.0.1"), ipv4_to_int("91.108.56.130"), 40000, 599,
                           buf, off, lengths)
    icmp = build_icmp_port_unreachable_frames(ipv4_to_int("91.108.56.130"),
                                              ipv4_to_int("10.0.0.1"), udp.window(14, 28))
    for frame in icmp.to_list():
        p = Ether(frame)
        assert (p[ICMP].type, p[ICMP].code) == (3, 3)
        inner = p[ICMP].payload
        assert inner.dst == "91.108.56.130" and inner[UDPerror].dport == 599
        icmp_sum = p[ICMP].chksum
        del p[ICMP].chksum
        assert Ether(raw(p))[ICMP].chksum == icmp_sum


def test_packed_frames_take_and_concat():
    frames = PackedFrames.from_list([b"a", b"", b"bcd", b"ef"])
    assert frames.take(np.array([2, 0, 2, 1])).to_list() == [b"bcd", b"a", b"bcd", b""]
    both = PackedFrames.concat([frames, PackedFrames.from_list([b"g"])])
    assert both.to_list() == [b"a", b"", b"bcd", b"ef", b"g"]
    with pytest.raises(ValueError):
        PackedFrames(np.zeros(3, np.uint8), np.array([1, 1]))


segments = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 20)), max_size=30)


@settings(max_examples=60, deadline=None)
@given(segments)
def test_gather_segments_matches_slicing(segs):
    buf = np.arange(60, dtype=np.uint8)
    offsets = np.array([s[0] for s in segs], dtype=np.int64)
    lengths = np.array([s[1] for s in segs], dtype=np.int64)
    expected = b"".join(bytes(buf[o:o + n]) for o, n in segs)
    assert gather_segments(buf, offsets, lengths).tobytes() == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=9), max_size=20), st.integers(0, 4))
def test_interleave_and_checksums(bodies, k):
    n = len(bodies)
    prefix = (np.arange(n * k, dtype=np.int64) % 251).astype(np.uint8).reshape(n, k)
    lengths = np.array([len(b) for b in bodies], dtype=np.int64)
    body = np.frombuffer(b"".join(bodies), dtype=np.uint8)
    out = interleave(prefix, body, lengths)
    assert out.tobytes() == b"".join(prefix[i].tobytes() + bodies[i] for i in range(n))
    starts = exclusive_cumsum(lengths + k) + k
    sums = fold_checksum(ones_complement_word_sums(out, starts, lengths))
    for i, b in enumerate(bodies):
        padded = b + b"\x00" * (len(b) % 2)
        s = sum(struct.unpack(f"!{len(padded) // 2}H", padded))
        while s > 0xFFFF:
            s = (s & 0xFFFF) + (s >> 16)
        assert sums[i] == (~s & 0xFFFF)
