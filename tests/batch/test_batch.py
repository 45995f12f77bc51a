"""``analyzer batch``: one line per input, the verdicts of ``analyze``, resumable, the same
on a Dask cluster, and a simulated campaign recovered by the population statistics."""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import analyzer
from analyzer.batch import Task, run_batch, run_task
from analyzer.cli import main
from analyzer.population import summarize
from analyzer.simulate.campaign import make_campaign
from analyzer.simulate.scenarios import simulate_to_file

ROOT = Path(__file__).resolve().parents[2]
LAB = sorted(glob.glob(str(ROOT / "captures" / "lab" / "*-receiver.pcap")))
TIMING = ("analyse_s", "hash_s", "worker", "finished_utc", "worker_peak_rss_mib")


def _lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "captures.jsonl").read_text().splitlines()]


def _stable(lines: list[dict]) -> list[dict]:
    return [{k: v for k, v in x.items() if k not in TIMING} for x in lines]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    d = tmp_path_factory.mktemp("fleet")
    sim = []
    for kind, params in (("clean", {}), ("policer", {"rate_bps": 24000, "onset_s": 5}),
                         ("bernoulli", {"p": 0.05, "onset_s": 5})):
        p = str(d / f"sim-{kind}.pcap")
        simulate_to_file(p, kind=kind, seed=3, duration_s=15, include_packets=False,
                         framing="telegram", **params)
        os.unlink(p + ".truth.json")
        sim.append(p)
    trunc = d / "truncated.pcap"
    trunc.write_bytes(Path(LAB[0]).read_bytes()[:20000])
    text = d / "notes.txt"
    text.write_text("not a capture\n")
    return [*LAB, *sim, str(trunc), str(text)]


@pytest.fixture(scope="module")
def local_run(fleet: list[str], tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("out") / "batch"
    res = run_batch(fleet, out, workers=2)
    return out, res


def test_one_line_per_input_and_the_verdicts_of_analyze(fleet, local_run) -> None:
    out, res = local_run
    lines = _lines(out)
    assert [x["capture"] for x in lines] == fleet
    assert res.total == res.analysed == len(fleet)
    by = {x["capture"]: x for x in lines}
    text = by[fleet[-1]]
    assert text["status"] == "error" and "NotACapture" in text["error"]
    assert "\n" not in text["error"]
    for path in fleet[:-1]:
        line = by[path]
        try:
            want = analyzer.analyze(path)
        except analyzer.CaptureError:
            assert line["status"] == "error"
            continue
        assert line["status"] == "ok", line
        assert line["verdict"] == want.verdict, path
        assert line["worker_peak_rss_mib"] > 10  # a Python process with numpy, at least
        assert line["sha256"] == want.source.sha256
        doc = json.loads((out / "analyses" / f"{line['id']}.json").read_text())
        assert doc["verdict"] == want.verdict and len(doc["calls"]) == len(want.calls)
    import pyarrow.parquet as pq
    calls = pq.read_table(out / "calls.parquet").to_pylist()
    findings = pq.read_table(out / "findings.parquet")
    # one row per call, and one for a blocked capture without calls (an attempt)
    assert len(calls) == sum(x["calls"] or (x["verdict"] == "blocked") for x in lines
                             if x["status"] == "ok")
    assert {"isp", "app", "date", "period", "verdict", "interference", "cap_rate_bps"} \
        <= set(calls[0])
    assert findings.num_rows > 0 and "rate_bps" in findings.column_names
    assert (out / "summary.pdf").read_bytes().startswith(b"%PDF")


def test_a_rerun_analyses_nothing_again(fleet, local_run) -> None:
    out, _ = local_run
    before = _stable(_lines(out))
    res = run_batch(fleet, out, workers=2, summary=False)
    assert res.analysed == 0 and res.skipped == len(fleet)
    assert _stable(_lines(out)) == before


def test_a_changed_capture_is_analysed_again_and_keeps_one_line(fleet, tmp_path) -> None:
    src = tmp_path / "c.pcap"
    simulate_to_file(str(src), kind="clean", seed=1, duration_s=10, include_packets=False)
    out = tmp_path / "out"
    run_batch([str(src)], out, workers=1, summary=False)
    simulate_to_file(str(src), kind="policer", seed=2, duration_s=15, rate_bps=20000,
                     onset_s=5, include_packets=False)
    res = run_batch([str(src)], out, workers=1, summary=False)
    lines = _lines(out)
    assert res.analysed == 1 and len(lines) == 1 and lines[0]["verdict"] == "degraded"


def _dies_on_text(task: Task):
    if task.capture.endswith(".txt"):
        os._exit(9)  # a worker killed under us (out-of-memory killer, a native crash)
    return run_task(task)


def test_a_worker_that_dies_costs_only_its_capture_an_error_line(fleet, tmp_path) -> None:
    inputs = [*fleet[-4:]]
    res = run_batch(inputs, tmp_path / "out", workers=2, fn=_dies_on_text, summary=False)
    lines = _lines(tmp_path / "out")
    assert [x["capture"] for x in lines] == inputs and res.analysed == len(inputs)
    dead = lines[-1]
    assert dead["status"] == "error" and "worker died" in dead["error"]
    assert all(x["status"] == "ok" for x in lines[:2])


def test_a_killed_batch_restarts_with_no_duplicate_or_partial_line(fleet, tmp_path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "analyzer", "batch", *fleet, "-o", str(out), "--workers",
           "1", "--no-summary"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    journal = out / "captures.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count("\n") >= 4:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = journal.read_text().count("\n")
    assert 4 <= done < len(fleet)
    with open(journal, "a") as fh:  # what a kill in the middle of a write leaves
        fh.write('{"capture": "' + fleet[done] + '", "stat')
    res = run_batch(fleet, out, workers=2, summary=False)
    lines = _lines(out)
    assert [x["capture"] for x in lines] == fleet
    assert res.skipped == done and res.analysed == len(fleet) - done
    assert not list(out.rglob("*.part"))


def test_the_same_outputs_on_a_dask_local_cluster(fleet, local_run, tmp_path) -> None:
    distributed = pytest.importorskip("distributed")
    out, _ = local_run
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        res = run_batch(fleet, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert res.analysed == len(fleet)
    assert _stable(_lines(tmp_path / "dask")) == _stable(_lines(out))
    import pyarrow.parquet as pq
    for name in ("calls.parquet", "findings.parquet"):
        assert pq.read_table(tmp_path / "dask" / name).equals(pq.read_table(out / name))
    for line in _lines(out):
        if line["status"] == "ok":
            assert (tmp_path / "dask" / "analyses" / f"{line['id']}.json").read_text() == \
                (out / "analyses" / f"{line['id']}.json").read_text()


def test_the_command_line(fleet, tmp_path, capsys) -> None:
    inputs = fleet[-5:-2]  # simulated: clean, policer, bernoulli
    assert main(["batch", *inputs, "-o", str(tmp_path / "o"), "--workers", "1",
                 "--no-summary"]) == 0
    assert main(["batch", *inputs, "-o", str(tmp_path / "o"), "--fail-on-detect",
                 "--no-summary"]) == 3
    here = tmp_path / "in"
    here.mkdir()
    shutil.copy(inputs[0], here / "x.pcap")
    assert main(["batch", str(here / "x.pcap"), "-o", str(here)]) == 2
    assert "would overwrite" in capsys.readouterr().err


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("campaign")
    c = make_campaign(root / "calls", days=6, calls_per_day=5, duration_s=15, seed=7)
    out = root / "out"
    code = main(["batch", str(root / "calls" / "**" / "*.pcap"), "-o", str(out),
                 "--meta-from-path", "{isp}/{app}/{date}/*.pcap", "--workers", "2"])
    assert code == 0
    return c, out


def test_a_small_campaign_is_recovered(campaign) -> None:
    c, out = campaign
    pop = summarize(out)
    assert [g.keys["isp"] + "/" + g.keys["app"] for g in pop.flagged] == ["isp-b/whatsapp"]
    g = pop.flagged[0]
    lo, hi = g.deliberate.interval
    assert lo < g.deliberate.share < hi and g.deliberate.share == pytest.approx(0.5, abs=0.1)
    assert g.cap_rate_bps == pytest.approx(c.rate_bps, rel=0.15)
    peak = g.rate_peaks[0]
    assert peak.interval[0] <= peak.rate_bps <= peak.interval[1]
    assert g.onset is not None and g.onset.day == c.throttle_from_day
    assert g.onset.interval[0] <= c.throttle_from_day <= g.onset.interval[1]
    assert g.trigger is not None and g.trigger.kind == "time"
    assert g.trigger.median_s == pytest.approx(c.onset_s, abs=1.0)
    doc = json.loads((out / "population.json").read_text())
    assert doc["flagged"] == [g.label]
    assert (out / "summary.pdf").stat().st_size > 10_000


def test_no_group_is_flagged_without_throttling(tmp_path) -> None:
    make_campaign(tmp_path / "calls", days=6, calls_per_day=3, duration_s=10, throttled=None,
                  background_loss_share=0.2, seed=8)
    res = run_batch([str(tmp_path / "calls" / "**" / "*.pcap")], tmp_path / "out",
                    meta_from_path="{isp}/{app}/{date}/*.pcap", workers=2, summary=False)
    assert res.population is not None and res.population.calls == 108
    assert not res.population.flagged


def test_limits_reach_every_worker(tmp_path) -> None:
    from analyzer.limits import Limits
    cap = str(Path(__file__).resolve().parents[2] / "captures" / "example-call.pcap")
    lim = Limits(max_detailed_streams=1, max_resamples=25)
    out = run_task(Task("x", cap, None, limits=lim))
    assert out.status == "ok", out.error
    assert out.analysis is not None and out.analysis["settings"]["limits"] == lim.to_dict()
    assert [w.split(" reached")[0] for w in out.analysis["warnings"]] == [
        "limit max_detailed_streams=1", "limit max_resamples=25"]
    assert run_task(Task("x", cap, None)).analysis["settings"]["limits"] == \
        Limits().to_dict()
    assert main(["batch", cap, "-o", str(tmp_path / "o"), "--workers", "1", "--no-summary",
                 "--limit", "max_detailed_streams=1"]) == 0
    doc = json.loads(next((tmp_path / "o" / "analyses").glob("*.json")).read_text())
    assert doc["settings"]["limits"]["max_detailed_streams"] == 1
    assert any(w.startswith("limit max_detailed_streams=1 reached") for w in doc["warnings"])
