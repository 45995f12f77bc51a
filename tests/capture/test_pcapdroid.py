"""PCAPdroid captures: the per-packet trailer and the pcapng UID comments name each flow's app,
and the IP packets read exactly as without them."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pytest

from analyzer.capture.pcapdroid import KNOWN_PACKAGES, app_for
from analyzer.capture.reader import read_packets
from analyzer.errors import CaptureWarning
from analyzer.streams.capture import Capture, read_capture
from tests.support import pcapdroid as P

LAB = Path(__file__).resolve().parents[2] / "captures" / "lab"
RECEIVERS = sorted(LAB.glob("*-receiver.pcap"))
STATS = ("packets", "lost", "duplicates", "reordered")


def streams(cap: Capture) -> dict[tuple, dict]:
    out = {}
    for s in cap.media_streams:
        d = s.stats.to_dict()
        out[(s.src, s.sport, s.dst, s.dport, s.ssrc)] = d
    return out


def assert_same_streams(plain: Capture, other: Capture) -> None:
    a, b = streams(plain), streams(other)
    assert a.keys() == b.keys()
    for k in a:
        assert {s: a[k][s] for s in STATS} == {s: b[k][s] for s in STATS}, k
        for s in ("max_jitter_ms", "mean_jitter_ms", "max_delta_ms", "mean_delta_ms"):
            assert b[k][s] == pytest.approx(a[k][s], abs=1e-6), (k, s)


def read_quiet(path: Path) -> Capture:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureWarning)
        return read_capture(path)


def assert_attributed(cap: Capture, *, package: str | None) -> None:
    for call in cap.calls:
        assert call.app == "telegram"
    udp = [s for s in cap.streams if s.is_media or s.call is not None or s.kind == "stun"]
    assert udp
    for s in udp:
        assert s.extra["app_uid"] == P.TELEGRAM[0]
        assert s.extra["app_label"] == "Telegram"
        assert s.extra["app_package"] == package
        assert s.app == "telegram"
        assert s.to_dict()["app_uid"] == P.TELEGRAM[0]


@pytest.mark.parametrize("plain", RECEIVERS, ids=lambda p: p.stem)
def test_trailer_capture_reads_like_the_plain_one(plain: Path, tmp_path: Path) -> None:
    dst = tmp_path / "phone.pcap"
    P.trailer_pcap(plain, dst)
    ref, cap = read_quiet(plain), read_capture(dst)
    assert_same_streams(ref, cap)
    assert_attributed(cap, package=None)
    assert not cap.warnings or all("PCAPdroid" not in w for w in cap.warnings)


@pytest.mark.parametrize("plain", RECEIVERS, ids=lambda p: p.stem)
def test_pcapng_uid_comments_name_the_app(plain: Path, tmp_path: Path) -> None:
    dst = tmp_path / "phone.pcapng"
    P.pcapng(plain, dst, direction=plain.stem < "d")  # both EPB option layouts
    ref, cap = read_quiet(plain), read_capture(dst)
    assert_same_streams(ref, cap)
    assert_attributed(cap, package="org.telegram.messenger")


def test_damaged_crc_and_missing_trailers_are_counted_per_packet(tmp_path: Path) -> None:
    plain = LAB / "loss5-receiver.pcap"
    dst = tmp_path / "damaged.pcap"
    n = P.trailer_pcap(plain, dst, bad_crc=lambda i: i % 50 == 3,
                       no_trailer=lambda i: i % 70 == 5)
    with pytest.warns(CaptureWarning) as got:
        table = read_packets(dst)
    msgs = [str(w.message) for w in got]
    bad = len([i for i in range(n) if i % 50 == 3 and i % 70 != 5])
    bare = len([i for i in range(n) if i % 70 == 5])
    assert table.flows.apps is not None
    assert table.flows.apps.bad_crc == bad and table.flows.apps.no_trailer == bare
    assert any(f"{bad} PCAPdroid trailers with a wrong CRC-32" in m for m in msgs)
    assert any(f"{bare} packets without a PCAPdroid trailer" in m for m in msgs)
    assert table.flows.apps.packets_tagged == n - bad - bare
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaptureWarning)
        cap = read_capture(dst)
    assert_same_streams(read_quiet(plain), cap)
    assert_attributed(cap, package=None)
    assert sum("PCAPdroid" in w for w in cap.warnings) == 2


def test_unknown_app_and_unattributed_flows(tmp_path: Path) -> None:
    """An app the analysis does not know keeps its UID and label, with app None."""
    dst = tmp_path / "other.pcap"
    P.trailer_pcap(LAB / "clean-receiver.pcap", dst,
                   app_of=lambda ip: (10500, "Some Game", "com.example.game"))
    cap = read_capture(dst)
    for s in cap.media_streams:
        assert s.extra["app_uid"] == 10500 and s.extra["app_label"] == "Some Game"
        assert s.app is None
    assert all(c.app is None for c in cap.calls)


def test_a_plain_ethernet_capture_has_no_attribution() -> None:
    table = read_packets(LAB / "clean-receiver.pcap")
    assert table.flows.apps is None


def test_the_trailer_name_field_is_nul_terminated(tmp_path: Path) -> None:
    """A 20-byte name field holds at most 19 characters and its NUL."""
    dst = tmp_path / "long.pcap"
    P.trailer_pcap(LAB / "clean-receiver.pcap", dst,
                   app_of=lambda ip: (10001, "WhatsApp Business Extra", "com.whatsapp.w4b"))
    data = dst.read_bytes()
    rec_len = struct.unpack_from("<I", data, 24 + 8)[0]
    assert data[24 + 16 + rec_len - 32: 24 + 16 + rec_len - 28] == b"\x01\x07\x20\x21"
    table = read_packets(io.BytesIO(data))
    assert table.flows.apps is not None
    assert {fa.label for fa in table.flows.apps.flows.values()} == {"WhatsApp Business E"}


@pytest.mark.parametrize(("package", "label", "app"), [
    ("org.telegram.messenger", None, "telegram"), ("com.whatsapp", None, "whatsapp"),
    ("org.thoughtcrime.securesms", None, "signal"), ("com.discord", None, "discord"),
    ("com.microsoft.teams", None, "teams"), ("com.skype.raider", None, "skype"),
    ("com.facebook.orca", None, "messenger"), ("us.zoom.videomeetings", None, "zoom"),
    ("com.viber.voip", None, "viber"), (None, "Telegram", "telegram"),
    (None, "WhatsApp", "whatsapp"), ("com.example", "Chrome", None), (None, None, None),
])
def test_app_names(package: str | None, label: str | None, app: str | None) -> None:
    assert app_for(package, label) == app
    assert set(KNOWN_PACKAGES.values()) >= {"telegram", "whatsapp", "signal", "zoom"}
