"""The flow table: ids in order of first appearance, exact whatever the hashes do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analyzer.capture import reader, table
from analyzer.capture.reader import read_packets
from analyzer.simulate.pcapwriter import PcapWriter, build_udp_frames

#: The compiled loops (the conftest turns them off for half the runs of every test).
_WALK = reader._records._compiled


@pytest.fixture(scope="module")
def many_flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 UDP flows of 1-4 datagrams in interleaved order: 200 host pairs talking both
    ways (each direction a flow) and 200 one-way flows, over many read chunks."""
    rng = np.random.default_rng(7)
    a = 0x0A000000 + np.arange(400)
    b = 0xC6336400 + np.arange(400) % 250
    src = np.concatenate([a[:200], b[:200], a[200:]])
    dst = np.concatenate([b[:200], a[:200], b[200:]])
    sport = np.concatenate([1024 + np.arange(200), np.full(200, 3478), 1024 + np.arange(200)])
    dport = np.concatenate([np.full(200, 3478), 1024 + np.arange(200), np.full(200, 53)])
    per = rng.integers(1, 5, 600)
    flow = rng.permutation(np.repeat(np.arange(600), per))
    n = flow.size
    sizes = rng.integers(20, 200, n)
    off = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    buf = rng.integers(0, 256, int(sizes.sum()), dtype=np.uint8)
    path = tmp_path_factory.mktemp("flows") / "many.pcap"
    with PcapWriter(path) as w:
        w.write(1_755_072_000 * 10**9 + np.arange(n) * 10**6,
                build_udp_frames(src[flow], dst[flow], sport[flow], dport[flow], buf, off,
                                 sizes))
    return path


def _flows(path: Path) -> tuple[np.ndarray, ...]:
    t = read_packets(path, chunk_bytes=8192)  # many chunks: flows found again across them
    f = t.flows
    return (np.asarray(f.src), np.asarray(f.dst), f.sport, f.dport, f.proto, t.flow,
            f.reverse_index())


def test_ids_do_not_depend_on_the_hash(many_flows: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = many_flows
    want = _flows(path)
    assert len(want[2]) == 600 and (want[-1] >= 0).sum() == 400
    # another secret salt: the same table
    monkeypatch.setattr(table, "_SALT", np.uint64(0x0123456789ABCDEF))
    got = _flows(path)
    for a, b in zip(want, got, strict=True):
        assert np.array_equal(a, b)
    # every flow on one hash (what a crafted capture would aim for): still exact
    def same_hash(src, dst, sport, dport, proto):
        return np.zeros(np.asarray(sport).size, dtype=np.uint64)
    monkeypatch.setattr(reader, "flow_hash", same_hash)
    monkeypatch.setattr(table, "flow_hash", same_hash)
    got = _flows(path)
    for a, b in zip(want, got, strict=True):
        assert np.array_equal(a, b)


def test_reverse_index_pairs_exact_directions() -> None:
    keys = np.zeros((3, 37), dtype=np.uint8)
    keys[:, 15] = (1, 2, 1)  # src 0.0.0.1 / .2 / .1
    keys[:, 31] = (2, 1, 3)  # dst .2 / .1 / .3
    keys[:, 33] = (10, 20, 10)  # sport
    keys[:, 35] = (20, 10, 20)  # dport
    keys[:, 36] = 17
    ft = reader.flow_table(keys)
    assert ft.reverse_index().tolist() == [1, 0, -1]


def _random_batches(seed: int, n_flows: int, batches: int) -> list[tuple[np.ndarray, ...]]:
    """Batches of datagram keys over ``n_flows`` flows (IPv4 and IPv6, UDP and TCP, both
    directions of some), each flow seen in several batches."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 256, (n_flows, 16), dtype=np.uint8)
    dst = rng.integers(0, 256, (n_flows, 16), dtype=np.uint8)
    src[: n_flows // 2, :12] = dst[: n_flows // 2, :12] = \
        np.frombuffer(b"\x00" * 10 + b"\xff\xff", dtype=np.uint8)
    sport = rng.integers(0, 65536, n_flows).astype(np.int32)
    dport = rng.integers(0, 65536, n_flows).astype(np.int32)
    proto = rng.choice(np.array([17, 6], dtype=np.uint8), n_flows)
    back = rng.choice(n_flows, n_flows // 4, replace=False)  # their reverse directions too
    src, dst = np.concatenate([src, dst[back]]), np.concatenate([dst, src[back]])
    sport, dport = np.concatenate([sport, dport[back]]), np.concatenate([dport, sport[back]])
    proto = np.concatenate([proto, proto[back]])
    rows = rng.integers(0, src.shape[0], 6 * src.shape[0])
    return [(src[r], dst[r], sport[r], dport[r], proto[r])
            for r in np.array_split(rows, batches)]


@pytest.mark.skipif(not hasattr(_WALK, "flow_assign"), reason="compiled record walk not built")
@pytest.mark.parametrize("slots", [2, 4096])
def test_compiled_flow_map_equals_the_numpy_index(slots: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The same ids, keys and reverse directions as the numpy index, across batches, with
    the key rows and the slot table growing many times (from 2 slots: long probe chains
    of colliding slots, every one confirmed by its key)."""
    monkeypatch.setattr(reader._CompiledFlowMap, "INITIAL_SLOTS", slots)
    monkeypatch.setattr(reader._CompiledFlowMap, "INITIAL_KEYS", 1)
    fast = reader._CompiledFlowMap(_WALK)
    ref = reader._FlowIndex()
    for batch in _random_batches(3, 5000, 40):
        assert np.array_equal(fast.assign(*batch), ref.assign(*batch))
    assert fast.n == ref.n > 5000
    assert np.array_equal(fast.keys, ref.keys)
    got, want = fast.table(), ref.table()
    assert got.reverse is not None and want.reverse is None
    assert np.array_equal(got.reverse_index(), want.reverse_index())
    assert (got.reverse_index() >= 0).sum() > 2000  # ~2 x 1250 pairs, if all sampled


@pytest.mark.skipif(not hasattr(_WALK, "flow_assign"), reason="compiled record walk not built")
def test_compiled_flow_map_rejects_bad_tables() -> None:
    walk = _WALK
    keys = np.zeros((4, 37), dtype=np.uint8)
    one = np.zeros((1, 16), dtype=np.uint8)
    i4 = np.zeros(1, dtype=np.int32)
    with pytest.raises(ValueError, match="power of two"):
        walk.flow_assign(one, one, i4, i4, np.zeros(1, np.uint8), 0, keys, 0,
                         np.full(3, -1, np.int32), 0, np.empty(1, np.int32))
    with pytest.raises(ValueError, match="key count"):
        walk.flow_assign(one, one, i4, i4, np.zeros(1, np.uint8), 0, keys, 5,
                         np.full(4, -1, np.int32), 0, np.empty(1, np.int32))
    with pytest.raises(ValueError, match="too small"):
        walk.flow_rehash(keys, 4, np.full(4, -1, np.int32), 0)
