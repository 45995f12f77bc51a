"""A simulated measurement campaign: many calls over ISPs, apps and days, one ISP capping
one app from a given day, written as ``ROOT/{isp}/{app}/{date}/call-NN.pcap`` (read it back
with ``analyzer batch ROOT --meta-from-path '{isp}/{app}/{date}/*.pcap'``).

Every call is a :func:`~analyzer.simulate.scenarios.simulate_to_file` scenario: ``clean``,
or ``bernoulli`` random loss on a share of calls everywhere (the ordinary background), or
``policer`` at ``rate_bps`` from ``onset_s`` into the call on the throttled ISP and app
from ``throttle_from_day`` on. Payload sizes vary from call to call, so the bytes before a
time-triggered onset vary while its time does not. The ground truth is returned.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.simulate.scenarios import simulate_to_file

FIRST_DAY = dt.date(2025, 8, 11)  # a Monday: the first days share one ISO week


@dataclass(frozen=True)
class Campaign:
    """Where the calls are and what was done to them."""

    root: str
    isps: tuple[str, ...]
    apps: tuple[str, ...]
    days: tuple[str, ...]
    calls_per_day: int
    throttled: tuple[str, str] | None  # (isp, app)
    throttle_from_day: str | None
    rate_bps: float
    onset_s: float
    paths: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "paths"}


def make_campaign(root: str | os.PathLike[str], *, isps: Sequence[str] = ("isp-a", "isp-b",
                  "isp-c"), apps: Sequence[str] = ("whatsapp", "telegram"), days: int = 10,
                  calls_per_day: int = 20, throttled: tuple[str, str] | None = ("isp-b",
                  "whatsapp"), throttle_from_day: int = 4, rate_bps: float = 24000.0,
                  duration_s: float = 30.0, onset_s: float | None = None,
                  background_loss_share: float = 0.1, seed: int = 1) -> Campaign:
    """Write the campaign's captures under ``root`` (day numbers count from 1)."""
    rng = np.random.default_rng(seed)
    onset = duration_s / 3 if onset_s is None else onset_s
    dates = [FIRST_DAY + dt.timedelta(days=d) for d in range(days)]
    paths = []
    for isp in isps:
        for app in apps:
            for d, date in enumerate(dates, start=1):
                folder = Path(root) / isp / app / date.isoformat()
                for i in range(calls_per_day):
                    path = folder / f"call-{i:02d}.pcap"
                    size = int(rng.integers(50, 150))
                    params: dict[str, Any] = {
                        "duration_s": duration_s, "framing": app,
                        "payload_bytes": (size, size + 20),
                        "start_epoch_s": int(dt.datetime(date.year, date.month, date.day, 8,
                                                         tzinfo=dt.UTC).timestamp()) + 600 * i}
                    if throttled == (isp, app) and d >= throttle_from_day:
                        kind = "policer"
                        params.update(rate_bps=rate_bps, onset_s=onset)
                    elif rng.random() < background_loss_share:
                        kind = "bernoulli"
                        params.update(p=float(rng.uniform(0.01, 0.04)), onset_s=0.0)
                    else:
                        kind = "clean"
                    folder.mkdir(parents=True, exist_ok=True)
                    simulate_to_file(str(path), kind=kind, seed=int(rng.integers(1 << 31)),
                                     include_packets=False, **params)
                    paths.append(str(path))
    return Campaign(str(root), tuple(isps), tuple(apps), tuple(d.isoformat() for d in dates),
                    calls_per_day, throttled,
                    dates[throttle_from_day - 1].isoformat()
                    if throttled and throttle_from_day <= len(dates) else None,
                    rate_bps, onset, tuple(paths))
