"""Encrypted messenger calls with no SDP (dynamic payload types): the call streams are
found, labelled with kind and app, and get a real (non-zero) jitter from the inferred clock,
where TShark prints 0. TShark's heuristic junk (1-packet "streams" in Telegram, imo and LINE
traffic) is not called RTP.
"""

from __future__ import annotations

import warnings

import pytest

from analyzer import read_capture
from tests.support.paths import PUBLIC, public
from tests.support.tshark_ref import load_reference

pytestmark = pytest.mark.skipif(not PUBLIC.is_dir(), reason="../shared/captures-public absent")

#: capture -> (app, minimum packets of its largest audio stream)
CALLS = {
    "ndpi/wa_voice.pcap": ("whatsapp", 50),
    "ndpi/whatsapp_login_call.pcap": ("whatsapp", 200),
    "ndpi/stun_wa_call.pcapng": ("whatsapp", 150),
    "ndpi/wa_video.pcap": ("whatsapp", 60),
    "whatsapp-analyzer/whatsappCall.pcapng": ("whatsapp", 8),
    "whatsapp-analyzer/whatsAppCallAnsered.pcapng": ("whatsapp", 8),
    "ndpi/stun_signal.pcapng": ("signal", 5),
    "srtp_decoder/webrtc_opus_p2p.pcap": ("webrtc", 450),
    "srtp_decoder/WebRTC_OPUS_Turn_SDES_Call_1.pcap": ("webrtc", 450),
    "srtp_decoder/udp_call_02_03_client.pcap": ("webrtc", 1500),
    "srtp_decoder/tcp_call_02_03_client.pcap": ("webrtc", 1900),
    "ndpi/stun_dtls_rtp.pcapng": ("webrtc", 10),
    "ndpi/stun_google_meet.pcapng": ("webrtc", 25),
}
AUDIO_CLOCKS = (8000, 16000, 24000, 48000)


def _read(rel: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_capture(public(rel))


@pytest.mark.parametrize("rel", sorted(CALLS))
def test_call_streams_found_labelled_with_jitter(rel: str) -> None:
    app, min_packets = CALLS[rel]
    cap = _read(rel)
    audio = [s for s in cap.streams if s.kind == "rtp" and s.clock_rate_hz in AUDIO_CLOCKS]
    assert audio, "no audio RTP stream found"
    main = max(audio, key=lambda s: s.stats.packets)
    assert main.stats.packets >= min_packets
    assert main.app == app
    assert main.clock_source == "inferred"  # no SDP: tshark would print jitter 0
    assert main.stats.mean_jitter_ms is not None and main.stats.mean_jitter_ms > 0
    assert main.stats.max_jitter_ms > 0
    assert main.call is not None and any(c.index == main.call for c in cap.calls)


@pytest.mark.parametrize("rel", ["ndpi/telegram.pcap", "ndpi/telegram_videocall.pcapng",
                                 "ndpi/imo.pcap"])
def test_heuristic_junk_is_not_rtp(rel: str) -> None:
    junk = [r for r in load_reference(public(rel + ".tshark-rtp.txt"))["heuristic"]
            if r.packets < 5]
    assert junk, "the reference lists heuristic streams"
    ours = {(s.src, s.sport, s.dst, s.dport, s.ssrc) for s in _read(rel).streams
            if s.kind == "rtp"}
    assert not [r.key for r in junk if r.key in ours]


def test_telegram_call_is_found_as_telegram_media() -> None:
    cap = _read("ndpi/telegram.pcap")
    tele = [s for s in cap.streams if s.kind == "telegram"]
    assert tele and all(s.app == "telegram" for s in tele)
    assert max(s.stats.packets for s in tele) >= 50
