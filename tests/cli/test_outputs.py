"""Outputs never harm inputs: each refusal is exit 2, one line on stderr, nothing on stdout,
and the input's bytes unchanged."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.cli import main
from analyzer.cli.outputs import InputFile, OutputPath, check_outputs
from analyzer.cli.status import ExitStatus
from analyzer.errors import UsageError

CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def run(*argv: str | Path) -> tuple[ExitStatus, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def call(tmp_path: Path) -> Path:
    dest = tmp_path / "call.pcap"
    shutil.copyfile(CAPTURES / "example-call.pcap", dest)
    return dest


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    dest = tmp_path / "base.pcap"
    shutil.copyfile(CAPTURES / "example-baseline.pcap", dest)
    return dest


@pytest.fixture
def unchanged(call: Path, baseline: Path) -> Iterator[None]:
    """Both inputs byte-identical after the test (their SHA-256 before and after)."""
    before = (sha(call), sha(baseline))
    yield
    assert (sha(call), sha(baseline)) == before


def refused(*argv: str | Path, names: tuple[str | Path, ...] = ()) -> str:
    status, out, err = run(*argv)
    assert status == ExitStatus.USAGE
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("analyzer: error: ")
    for n in names:
        assert str(n) in err
    return err


@pytest.mark.usefixtures("unchanged")
def test_report_over_capture(call: Path) -> None:
    err = refused("analyze", call, "--report", call, names=(call,))
    assert "would overwrite the capture" in err


@pytest.mark.usefixtures("unchanged")
def test_report_over_baseline(call: Path, baseline: Path) -> None:
    err = refused("analyze", call, "--baseline", baseline, "--report", baseline,
                  names=(baseline,))
    assert "--baseline capture" in err


@pytest.mark.usefixtures("unchanged")
def test_report_over_profile(call: Path, tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text("{}")
    refused("analyze", call, "--profile", profile, "--report", profile, names=(profile,))
    assert profile.read_text() == "{}"


@pytest.mark.usefixtures("unchanged")
def test_png_dir_that_is_an_existing_file(call: Path, tmp_path: Path) -> None:
    f = tmp_path / "figs"
    f.write_text("x")
    err = refused("analyze", call, "--png", f, names=(f,))
    assert "is an existing file; a directory is expected" in err


@pytest.mark.usefixtures("unchanged")
def test_png_dir_holding_the_capture_under_a_png_name(tmp_path: Path, call: Path) -> None:
    disguised = tmp_path / "summary.png"
    shutil.copyfile(call, disguised)
    before = sha(disguised)
    refused("analyze", disguised, "--png", tmp_path, names=(disguised, "as summary.png"))
    assert sha(disguised) == before


@pytest.mark.usefixtures("unchanged")
def test_report_that_is_an_existing_dir(call: Path, tmp_path: Path) -> None:
    d = tmp_path / "out"
    d.mkdir()
    err = refused("analyze", call, "--report", d, names=(d,))
    assert "is an existing directory; a file path is expected" in err
    assert list(d.iterdir()) == []


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("command", ["flows", "stats"])
def test_csv_dir_that_is_an_existing_file(command: str, call: Path, tmp_path: Path) -> None:
    f = tmp_path / "series"
    f.write_text("x")
    refused(command, call, "--csv", f, names=(f,))
    assert f.read_text() == "x"


@pytest.mark.usefixtures("unchanged")
def test_csv_dir_over_the_capture(call: Path) -> None:
    refused("flows", call, "--csv", call, names=(call,))


@pytest.mark.usefixtures("unchanged")
def test_hard_link_to_capture(call: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere" / "report.pdf"
    link.parent.mkdir()
    os.link(call, link)
    refused("analyze", call, "--report", link, names=(link, call))


@pytest.mark.usefixtures("unchanged")
def test_symlink_to_capture(call: Path, tmp_path: Path) -> None:
    link = tmp_path / "report.pdf"
    link.symlink_to(call)
    refused("analyze", call, "--report", link, names=(link, call))
    assert link.is_symlink()


@pytest.mark.usefixtures("unchanged")
def test_relative_output_absolute_input(call: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(call.parent)
    refused("analyze", call, "--report", f"./{call.name}", names=(call,))


@pytest.mark.usefixtures("unchanged")
def test_baseline_build_over_one_of_its_captures(call: Path, baseline: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(call.parent)
    refused("baseline", "build", call.name, baseline.name, "-o", f"../{call.parent.name}/"
            f"{baseline.name}", names=(baseline.name,))


def test_simulate_over_a_directory(tmp_path: Path) -> None:
    d = tmp_path / "sim.pcap"
    d.mkdir()
    refused("simulate", "policer", d, names=(d,))


def test_simulate_truth_over_a_directory(tmp_path: Path) -> None:
    (tmp_path / "sim.pcap.truth.json").mkdir()
    refused("simulate", "policer", tmp_path / "sim.pcap", names=("OUT.truth.json",))
    assert not (tmp_path / "sim.pcap").exists()


@pytest.mark.usefixtures("unchanged")
def test_parent_that_is_a_file(call: Path) -> None:
    refused("analyze", call, "--report", call / "r.pdf", names=(call,))


def test_missing_parent_folders_are_created(call: Path, tmp_path: Path) -> None:
    csv_dir = tmp_path / "a" / "b" / "series"
    status, _, err = run("flows", call, "--csv", csv_dir)
    assert status == ExitStatus.OK
    assert len(list(csv_dir.glob("stream*.csv"))) == 2 and "wrote" in err
    pcap = tmp_path / "c" / "d" / "sim.pcap"
    status, _, _ = run("simulate", "policer", pcap, "-p", "duration_s=3", "-p", "onset_s=1")
    assert status == ExitStatus.OK
    assert pcap.stat().st_size > 0 and Path(f"{pcap}.truth.json").stat().st_size > 0


def test_check_outputs_is_quiet_for_separate_paths(call: Path, tmp_path: Path) -> None:
    check_outputs([InputFile("capture", str(call))],
                  [OutputPath("--report", str(tmp_path / "r.pdf")),
                   OutputPath("--png", str(tmp_path), directory=True, pattern="*.png")])


def test_check_outputs_refuses_two_outputs_on_one_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--report and --png both name"):
        check_outputs([], [OutputPath("--report", str(tmp_path / "x")),
                           OutputPath("--png", str(tmp_path / "." / "x"), directory=True)])


def test_check_outputs_quotes_a_path_with_a_newline(tmp_path: Path) -> None:
    weird = tmp_path / "a\nb"
    weird.write_text("x")
    with pytest.raises(UsageError) as info:
        check_outputs([InputFile("capture", str(weird))], [OutputPath("-o", str(weird))])
    assert "\n" not in str(info.value)
