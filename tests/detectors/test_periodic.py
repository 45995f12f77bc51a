"""The periodic-drop detector's spectrum (its detection is tested on simulated calls in
test_detectors_synthetic.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analyzer.detectors import periodic
from analyzer.detectors.periodic import padded_power


@pytest.mark.parametrize(("nb", "oversample", "keep_share"), [
    (1000, 8, 0.4), (1024, 8, 1.0), (180_001, 8, 0.4), (37, 2, 1.0), (1, 8, 1.0)])
def test_padded_power_equals_the_padded_rfft(nb: int, oversample: int, keep_share: float,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(periodic, "POLYPHASE_MIN_POINTS", 1)  # the sets, at every size
    rng = np.random.default_rng(nb)
    series = np.bincount(rng.integers(0, nb, 3 * nb // 10 + 1), minlength=nb).astype(float)
    n_fft = 1 << math.ceil(math.log2(nb * oversample))
    keep = max(1, int(keep_share * (n_fft // 2 + 1)))
    want = np.abs(np.fft.rfft(series, n_fft)[:keep]) ** 2
    got = padded_power(series, n_fft, keep)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * want.max())
