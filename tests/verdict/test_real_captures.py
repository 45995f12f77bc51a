"""Verdicts on real captures: the public third-party captures and the real-kernel lab."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from analyzer.verdict import analyze_path, render_text
from tests.support.paths import REPO, public, public_captures

LAB = REPO / "captures" / "lab"


def _analyze(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze_path(path)


@pytest.mark.public
def test_no_public_capture_is_flagged_with_high_confidence() -> None:
    """None of the public captures is a recording of deliberate degradation: whatever a
    real network did to them may be reported, but never with high confidence - except
    loss the sequence numbers prove (TShark counts the same loss) in the X-Lite call."""
    caps = public_captures()
    if not caps:
        pytest.skip("public captures not available")
    proven_loss = {"Asterisk_ZFONE_XLITE.pcap"}
    for path in caps:
        a = _analyze(path)
        json.dumps(a.to_dict(), allow_nan=False)
        assert a.verdict != "blocked", path
        for f in a.findings:
            if f.confidence == "high":
                assert path.name in proven_loss and f.pattern in (
                    "loss", "metallic_risk"), (path, f.summary)


@pytest.mark.public
def test_wifi_to_3g_handover_is_not_throttling() -> None:
    a = _analyze(public("srtp_decoder/wifi-tcp_to_3g.pcap"))
    # 9 pauses in both directions: the call was damaged, by a network handover
    assert a.verdict == "degraded" and not a.findings
    assert a.interference == "none_seen"
    assert any("handover" in r for r in a.interference_reasons)
    kinds = {c.kind for call in a.calls for c in call.confounders}
    assert kinds & {"handover", "outage"}


@pytest.mark.public
def test_rejected_whatsapp_call_is_not_degraded_media() -> None:
    a = _analyze(public("whatsapp-analyzer/whatsAppCallRejected.pcapng"))
    assert a.verdict not in ("degraded", "blocked")
    assert not a.findings


@pytest.mark.public
def test_ice_candidate_that_fails_is_not_a_blocked_call() -> None:
    a = _analyze(public("ndpi/stun_signal.pcapng"))
    assert a.verdict != "blocked" and a.blocked is not None and not a.blocked.detected


EXPECTED_LAB = {
    "clean": ("clean", set()),
    "clean60": ("clean", set()),
    "sdp": ("clean", set()),
    "loss5": ("degraded", {"loss"}),
    "cutoff": ("degraded", {"cutoff"}),
    "periodic": ("degraded", {"periodic_drop"}),
    "ratecap": ("degraded", {"rate_cap"}),
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED_LAB))
def test_lab_capture_verdicts(scenario: str) -> None:
    path = LAB / f"{scenario}-receiver.pcap"
    if not path.exists():
        pytest.skip(f"{path} missing")
    truth = json.loads((LAB / f"{scenario}.truth.json").read_text())
    a = _analyze(path)
    verdict, patterns = EXPECTED_LAB[scenario]
    assert a.verdict == verdict
    impaired = next(s for s in truth["streams"] if s["impaired"]) if patterns else None
    for f in a.findings:  # only the impaired A -> B direction has findings
        assert impaired is not None and (f.src, f.sport) == (impaired["src"],
                                                             impaired["sport"])
    assert patterns <= {f.pattern for f in a.findings}
    if scenario == "ratecap":
        f = next(f for f in a.findings if f.pattern == "rate_cap")
        # tbf counts Ethernet bytes (48 kbit/s); we report the IP layer: 48 x 160/174
        assert f.estimate.rate_bps == pytest.approx(48000 * 160 / 174, rel=0.15)
        assert f.estimate.mode == "shaping"
    if scenario == "periodic":
        f = next(f for f in a.findings if f.pattern == "periodic_drop")
        assert f.estimate.period_s == pytest.approx(4.0, rel=0.1)
    if scenario == "cutoff":
        f = next(f for f in a.findings if f.pattern == "cutoff")
        t = impaired["cutoff"]["t_last_received"]
        assert f.estimate.at_s == pytest.approx(t, abs=0.5)


@pytest.mark.public
def test_short_whatsapp_calls_with_scattered_late_frames_are_clean() -> None:
    """Two WhatsApp calls (9 s and 7 s, no packet lost) whose simulated jitter buffer drops
    a few single late frames (3 % concealed, no audible patch): clean, with a note."""
    a = _analyze(public("ndpi/whatsapp_login_call.pcap"))
    assert [c.verdict for c in a.calls] == ["clean", "clean"], render_text(a)
    assert a.interference == "none_seen"
    notes = [n for c in a.calls for st in c.streams for n in st.notes]
    assert any("single late frames" in n for n in notes), notes


@pytest.mark.public
def test_whatsapp_call_with_160_ms_packets_is_judged_and_clean() -> None:
    """A WhatsApp call at its lowest rate: 62 and 60 RTP packets of 160 ms (8 frames of
    20 ms) over 9.6 s, nothing lost. Its sequence numbers make 32 packets enough for
    5 s: clean, not "too short" or "not speech-like"."""
    a = _analyze(public("ndpi/wa_voice.pcap"))
    assert a.verdict == "clean", render_text(a)
    assert a.interference == "none_seen"
    rtp = [st for c in a.calls for st in c.streams if st.kind == "rtp"]
    assert len(rtp) == 2 and all(st.analysed for st in rtp)
