"""Jitter-buffer simulation: late discards, concealment runs, re-anchoring."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.metrics import jitterbuffer as jb
from analyzer.metrics.delay import sender_time_s
from analyzer.metrics.losspattern import loss_pattern
from tests.metrics.synth import Voice, voice


def _frames(v: Voice) -> jb.Frames:
    lp = loss_pattern(v.seq, v.arrival_s, frame_interval_s=0.02)
    return jb.prepare_frames(v.arrival_s, lp.position, sender_time_s(v.rtp_ts, 8000), 0.02,
                             loss=lp)


def _sim(v: Voice) -> dict[str, jb.JitterBufferResult]:
    return jb.simulate_all(_frames(v))


def test_no_jitter_concealment_equals_loss() -> None:
    drop = [1010, 1011, 1012, 1100]
    res = _sim(voice(10.0, drop=drop))
    for r in res.values():
        assert (r.late_discards, r.lost_frames, r.concealed_frames) == (0, 4, 4)
        assert r.concealment_run_histogram == (1, 0, 1, 0, 0, 0, 0, 0, 0, 0)
        assert r.max_concealment_run == 3
        assert r.concealed_fraction == pytest.approx(4 / 500)
        assert np.flatnonzero(r.missing).tolist() == [10, 11, 12, 100]


def test_delay_spike() -> None:
    # frames 200-202 are 100 ms late: beyond the 50 ms buffer, within the 200 ms one
    extra = np.zeros(500)
    extra[200:203] = 0.1
    res = _sim(voice(10.0, delay_s=extra))
    f50, f200, ad = res["fixed_50ms"], res["fixed_200ms"], res["adaptive_500ms"]
    assert (f50.late_discards, f50.concealed_frames, f50.resyncs) == (3, 3, 0)
    assert f50.concealment_run_histogram == (0, 0, 1, 0, 0, 0, 0, 0, 0, 0)
    assert np.flatnonzero(f50.missing).tolist() == [200, 201, 202]
    assert f200.late_discards == 0
    # the adaptive buffer drops the first late frame, then grows to take the others
    assert ad.late_discards == 1


def test_delay_step_reanchors_fixed_buffers() -> None:
    # from frame 250 on, every frame is 300 ms later (a route change)
    extra = np.where(np.arange(500) >= 250, 0.3, 0.0)
    res = _sim(voice(10.0, delay_s=extra))
    for name in ("fixed_50ms", "fixed_200ms"):
        r = res[name]
        # 10 late frames in a row re-anchor the buffer on the 10th: 9 discards, and
        # 300 ms = 15 frames of silence inserted
        assert (r.late_discards, r.resyncs, r.inserted_frames) == (9, 1, 15)
        assert r.concealed_fraction == pytest.approx((9 + 15) / (500 + 15))
        # anchor 300 ms higher for frames 259..499 (241 of 500)
        assert r.mean_delay_s == pytest.approx(r.nominal_delay_s + 0.3 * 241 / 500)
    assert res["adaptive_500ms"].late_discards == 1


def _reference_fixed(x: np.ndarray, depth: float, cfg: jb.BufferConfig, f: float
                     ) -> tuple[list[bool], int, int, float]:
    """The fixed buffer's rules, one frame at a time."""
    anchor = float(x[0])
    late, resyncs, inserted, anchor_sum = [], 0, 0, 0.0
    run_late = run_early = 0
    for xi in x.tolist():
        rel = xi - anchor
        is_late, is_early = rel > depth, rel < -depth
        run_late = run_late + 1 if is_late else 0
        run_early = run_early + 1 if is_early else 0
        if rel > depth + cfg.resync_threshold_s or cfg.max_late_run in (run_late, run_early):
            if rel > 0:
                inserted += round(rel / f)
            anchor = xi
            resyncs += 1
            run_late = run_early = 0
            late.append(False)
        else:
            late.append(is_late)
        anchor_sum += anchor
    return late, resyncs, inserted, anchor_sum / x.size


@pytest.mark.parametrize("block", [3, 7, 64, 4096])
@pytest.mark.parametrize("seed", range(6))
def test_fixed_buffer_matches_reference(monkeypatch: pytest.MonkeyPatch, block: int,
                                        seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    # jitter, occasional spikes, and a step or two: all three resync rules fire
    x = np.abs(rng.normal(0, 0.03, n)) + np.where(rng.random(n) < 0.03, 0.4, 0.0)
    x += np.where(np.arange(n) > rng.integers(50, 350), rng.choice([-0.5, 0.3, 1.5]), 0.0)
    monkeypatch.setattr(jb, "SCAN_BLOCK", block)
    for cfg in jb.DEFAULT_BUFFERS[:2]:
        got = jb._fixed_run(x, cfg.delay_s, cfg, 0.02)
        late, resyncs, inserted, mean_anchor = _reference_fixed(x, cfg.delay_s, cfg, 0.02)
        assert got.late.tolist() == late
        assert (got.resyncs, got.inserted_frames) == (resyncs, inserted)
        assert got.mean_anchor == pytest.approx(mean_anchor)


def test_adaptive_capped_at_500ms() -> None:
    # 1 s delivery bunches (like the wifi-tcp_to_3g capture): beyond any buffer
    t_send = 1.0 + np.arange(1000) * 0.02
    arrival = np.floor(t_send) + 0.999 + np.arange(1000) % 50 * 1e-4
    v = Voice(send_s=t_send, seq=np.arange(1000), rtp_ts=np.arange(1000) * 160,
              arrival_s=arrival, size_bytes=np.full(1000, 172), payload_type=np.zeros(1000),
              marker=np.zeros(1000, dtype=bool))
    res = _sim(v)
    for r in res.values():
        assert r.concealed_fraction > 0.3
    assert res["adaptive_500ms"].mean_delay_s <= 0.5 + 1e-9


def test_empty_frames() -> None:
    f = jb.prepare_frames(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0), 0.02)
    r = jb.simulate(f, jb.DEFAULT_BUFFERS[2])
    assert (r.expected_frames, r.concealed_frames) == (0, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["got", "lost", "late"]), min_size=2, max_size=300))
def test_concealment_run_paths_agree(fates: list[str]) -> None:
    """Loss runs merged with late frames (few events, plain Python) equal the runs of the
    complement of the played frames (numpy)."""
    fates = ["got", *fates, "got"]
    pos = np.arange(len(fates))
    lost = np.array([f == "lost" for f in fates])
    late_pos = pos[np.array([f == "late" for f in fates])]
    played = pos[np.array([f == "got" for f in fates])]
    ls, ll = jb.missing_runs(pos[~lost], len(fates))
    s1, l1 = jb._merge_runs(ls.tolist(), ll.tolist(), late_pos.tolist())
    s2, l2 = jb.missing_runs(played, len(fates))
    assert s1.tolist() == s2.tolist() and l1.tolist() == l2.tolist()
