"""App identification from evidence (relays, ports, names, STUN, the phone's word), one
app per call; the public captures' labels against PROVENANCE.md."""

from __future__ import annotations

import struct
import warnings

import pytest

from analyzer import read_capture
from analyzer.streams.apps import (
    AppEvidence,
    Clue,
    StreamFacts,
    clues,
    decide,
    parse_dns_answers,
)
from tests.support.paths import PUBLIC, public

#: capture -> its calls' app (PROVENANCE.md); every call of the file must carry it.
PUBLIC_APPS = {
    "ndpi/discord.pcap": "discord",
    "ndpi/stun_signal.pcapng": "signal",
    "ndpi/skype-conference-call.pcap": "skype",
    "ndpi/teams.pcap": "teams",
    "ndpi/wa_video.pcap": "whatsapp",
    "ndpi/wa_voice.pcap": "whatsapp",
    "ndpi/stun_wa_call.pcapng": "whatsapp",
    "ndpi/whatsapp_login_call.pcap": "whatsapp",
    "ndpi/telegram.pcap": "telegram",
    "ndpi/viber.pcap": "viber",
    "ndpi/zoom2.pcap": "zoom",
    "whatsapp-analyzer/whatsappCall.pcapng": "whatsapp",
    "srtp_decoder/webrtc_opus_p2p.pcap": "webrtc",
    "sipnab/sip-rtp-g711.pcap": "sip",
    "sipp/g711a.pcap": "rtp",
}


@pytest.mark.public
@pytest.mark.skipif(not PUBLIC.is_dir(), reason="../shared/captures-public absent")
@pytest.mark.parametrize("rel", sorted(PUBLIC_APPS))
def test_public_call_apps(rel: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = read_capture(public(rel))
    assert cap.calls
    want = PUBLIC_APPS[rel]
    assert {c.app for c in cap.calls} == {want}
    for c in cap.calls:  # one app per call: every stream says the same
        assert {cap.streams[i].app for i in c.streams} == {want}


def _dns_response(name: str, addr: str) -> bytes:
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    head = struct.pack("!HHHHHH", 7, 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(map(int, addr.split(".")))
    return head + qname + struct.pack("!HH", 1, 1) + answer


def test_dns_answer_names_the_relay() -> None:
    msg = _dns_response("turn3.voip.signal.org", "198.51.100.7")
    assert parse_dns_answers(msg) == [("turn3.voip.signal.org", "198.51.100.7")]
    ev = AppEvidence()
    ev.add_hint("192.0.2.53", 53, "192.0.2.1", 40000, msg)
    facts = StreamFacts("192.0.2.1", 40001, "198.51.100.7", 3478, flow=0, kind="opaque")
    assert decide(clues(facts, ev))[0] == "signal"


def test_the_phone_outweighs_the_network() -> None:
    ev = AppEvidence()
    ev.add_flow_app(3, label="Telegram", package="org.telegram.messenger")
    facts = StreamFacts("10.0.0.2", 40000, "157.240.1.1", 3478, flow=3, kind="rtp",
                        payload_types=(120,))
    app, why = decide(clues(facts, ev))
    assert app == "telegram" and "phone" in why[0]


def test_unsure_is_none() -> None:
    assert decide([Clue("whatsapp", 1.0, "rtp", "payload type 120")])[0] is None
    assert decide([Clue("teams", 3.0, "net", "x"), Clue("skype", 2.5, "stun", "y")])[0] is None
