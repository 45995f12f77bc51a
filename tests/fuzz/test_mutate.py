"""The mutator: deterministic inputs, faithful record parsing, bounded gzip bombs."""

from __future__ import annotations

import io
import random
import zlib

import pytest

from tests.fuzz.harness import run_pipeline
from tests.fuzz.mutate import (
    MUTATIONS,
    Context,
    Seed,
    mutant,
    parse_layout,
    pcap_to_pcapng,
    zero_bomb,
)
from tests.fuzz.seeds import cut, project_seeds, simulated


@pytest.fixture(scope="module")
def seeds() -> list[Seed]:
    return project_seeds()


def test_input_i_of_seed_s_is_always_the_same_bytes(seeds: list[Seed]) -> None:
    first = [mutant(seeds, 7, i).data for i in range(50)]
    again = [mutant(seeds, 7, i).data for i in range(50)]
    other = [mutant(seeds, 8, i).data for i in range(50)]
    assert first == again
    assert first != other


def test_layout_round_trips_pcap_and_pcapng(seeds: list[Seed]) -> None:
    for s in seeds:
        lay = parse_layout(s.data)
        assert lay is not None, s.label
        assert lay.to_bytes() == s.data
        assert not lay.tail


def test_pcapng_conversion_keeps_every_packet() -> None:
    import analyzer

    pcap = simulated("clean")
    for ns in (False, True):
        a = analyzer.read_capture(io.BytesIO(pcap), name="a.pcap")
        b = analyzer.read_capture(io.BytesIO(pcap_to_pcapng(pcap, nanosecond=ns)),
                                  name="b.pcapng")
        assert (b.fmt, b.packets, b.duration_s) == ("pcapng", a.packets, a.duration_s)


def test_timestamp_edits_move_one_record(seeds: list[Seed]) -> None:
    data = cut(seeds[0].data, 20)
    lay = parse_layout(data)
    before = [lay.get_ts(i) for i in range(20)]
    out = MUTATIONS["ts_back45"][0](data, random.Random(1), Context(seeds))
    after = [parse_layout(out).get_ts(i) for i in range(20)]
    moved = [i for i in range(20) if before[i] != after[i]]
    assert len(moved) == 1
    assert before[moved[0]] - after[moved[0]] == 45 * 86_400 * lay.units_per_s


def test_every_mutation_returns_bytes_or_declines(seeds: list[Seed]) -> None:
    rng = random.Random(3)
    ctx = Context(seeds)
    for name, (fn, _) in MUTATIONS.items():
        for s in seeds[:4]:
            out = fn(s.data, rng, ctx)
            assert out is None or isinstance(out, bytes), name


def test_zero_bomb_is_small_compressed_and_large_inside() -> None:
    bomb = zero_bomb(b"\xd4\xc3\xb2\xa1" + bytes(20), 16)
    assert len(bomb) < 50_000
    assert len(zlib.decompress(bomb, 16 + zlib.MAX_WBITS)) == 24 + (16 << 20)


def test_pipeline_outcomes_in_process(seeds: list[Seed]) -> None:
    assert run_pipeline(seeds[0].data).cls == "ok"
    bad = run_pipeline(b"not a capture at all")
    assert (bad.cls, bad.error) == ("rejected", "NotACapture")
