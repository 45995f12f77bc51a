"""App labels of the public captures' calls against PROVENANCE.md, as a confusion table.

    python benchmarks/app_labels.py            # table + per-file lines
    python benchmarks/app_labels.py -q         # table only

Truth (``TRUTH``) is read off each file's description in
../shared/captures-public/PROVENANCE.md: the app of the call in it, the generic family
(``sip``, ``rtp``, ``webrtc``) for calls of apps outside the label set (KakaoTalk, Google
Meet, plain SIP phones), and ``None`` where the capture holds no call media of a labelled
app (imo, TeamSpeak, Webex, Snapchat, or signalling only). A file's predicted label is the
app of its largest call (most media packets); "(no call)" when no call was found. Files
whose truth is ``None`` count as right when they have no call or an unlabelled one.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PUBLIC = Path(os.environ.get("ANALYZER_PUBLIC_CAPTURES",
                             ROOT.parent / "shared" / "captures-public"))

import analyzer  # noqa: E402

#: file (relative to captures-public) -> the app its call is (PROVENANCE.md's description).
TRUTH: dict[str, str | None] = {
    "ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap": "sip",
    "ndpi/KakaoTalk_talk.pcap": "rtp",
    "ndpi/agora-sd-rtn.pcap": None,
    "ndpi/discord.pcap": "discord",
    "ndpi/google_meet.pcapng": None,
    "ndpi/iax.pcap": None,
    "ndpi/imo.pcap": None,
    "ndpi/line.pcap": "rtp",
    "ndpi/mumble.pcapng": None,
    "ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap": None,
    "ndpi/rtp.pcapng": "rtp",
    "ndpi/signal.pcap": None,
    "ndpi/sip.pcap": "sip",
    "ndpi/skype-conference-call.pcap": "skype",
    "ndpi/snapchat_call.pcapng": None,
    "ndpi/snapchat_call_v1.pcapng": None,
    "ndpi/stun.pcap": None,
    "ndpi/stun_dtls_rtp.pcapng": "webrtc",
    "ndpi/stun_google_meet.pcapng": "webrtc",
    "ndpi/stun_msteams_unidir.pcapng": "teams",
    "ndpi/stun_signal.pcapng": "signal",
    "ndpi/stun_wa_call.pcapng": "whatsapp",
    "ndpi/stun_zoom.pcapng": "zoom",
    "ndpi/teams.pcap": "teams",
    "ndpi/teamspeak3.pcap": None,
    "ndpi/telegram.pcap": "telegram",
    "ndpi/telegram_videocall.pcapng": "telegram",
    "ndpi/viber.pcap": "viber",
    "ndpi/wa_video.pcap": "whatsapp",
    "ndpi/wa_voice.pcap": "whatsapp",
    "ndpi/webex.pcap": None,
    "ndpi/whatsapp_login_call.pcap": "whatsapp",
    "ndpi/whatsapp_voice_and_message.pcap": "whatsapp",
    "ndpi/zoom.pcap": "zoom",
    "ndpi/zoom2.pcap": "zoom",
    "ndpi/zoom_p2p.pcapng": "zoom",
    "princeton-zoom/zoom_test.pcap": "zoom",
    "rtpdump/sample1_ipv4_amr-nb.pcap": "rtp",
    "rtpdump/sample2_vowifi_ipv4_esp_ipv4.pcap": "sip",
    "sipnab/Asterisk_ZFONE_XLITE.pcap": "sip",
    "sipnab/SIP_DTMF2.cap": "sip",
    "sipnab/b2bua-asterisk.pcapng": "sip",
    "sipnab/h263-over-rtp.pcap": "sip",
    "sipnab/invite-opus-bye.pcap": "sip",
    "sipnab/rtp-protocol.pcap": "sip",
    "sipnab/sip-rtp-g711.pcap": "sip",
    "sipnab/sip-rtp-g722.pcap": "sip",
    "sipnab/sip-rtp-g729a.pcap": "sip",
    "sipnab/sip-rtp-opus-hybrid.pcap": "sip",
    "sipnab/speech_8k_ulaw.pcap": "rtp",
    "sipp/dtmf_2833_1.pcap": "rtp",
    "sipp/g711a.pcap": "rtp",
    "srtp_decoder/WebRTC_OPUS_Turn_SDES_Call_1.pcap": "webrtc",
    "srtp_decoder/WebRTC_PCMA_Turn_SDES_Call_1.pcap": "webrtc",
    "srtp_decoder/WebRTC_PCMA_p2p_SDES_Call_1.pcap": "webrtc",
    "srtp_decoder/tcp_call_02_03_client.pcap": "webrtc",
    "srtp_decoder/udp_call_02_03_client.pcap": "webrtc",
    "srtp_decoder/webrtc_opus_p2p.pcap": "webrtc",
    "srtp_decoder/wifi-tcp_to_3g.pcap": "webrtc",
    "whatsapp-analyzer/whatsAppCallAnsered.pcapng": "whatsapp",
    "whatsapp-analyzer/whatsAppCallRejected.pcapng": "whatsapp",
    "whatsapp-analyzer/whatsappCall.pcapng": "whatsapp",
}
NO_CALL = "(no call)"


def predicted(rel: str) -> tuple[str, list[str]]:
    """The app of the file's largest call and the labels of all its calls."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cap = analyzer.read_capture(PUBLIC / rel)
    if not cap.calls:
        return NO_CALL, []
    size = {c.index: sum(cap.streams[i].stats.packets for i in c.streams) for c in cap.calls}
    main = max(cap.calls, key=lambda c: size[c.index])
    return str(main.app), [str(c.app) for c in cap.calls]


def correct(truth: str | None, got: str) -> bool:
    if truth is None:
        return got in (NO_CALL, "None", "rtp", "webrtc")
    return got == truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-q", "--quiet", action="store_true", help="only the table")
    args = ap.parse_args(argv)
    table: Counter[tuple[str, str]] = Counter()
    lines = []
    right = 0
    for rel, truth in TRUTH.items():
        got, all_calls = predicted(rel)
        ok = correct(truth, got)
        right += ok
        table[(str(truth), got)] += 1
        lines.append(f"{'ok ' if ok else 'BAD'} {rel:50s} truth={truth!s:9s} got={got:9s} "
                     f"calls={','.join(all_calls) or '-'}")
    rows = sorted({t for t, _ in table})
    cols = sorted({g for _, g in table})
    w = max(9, *(len(c) for c in cols))
    print("truth \\ got".ljust(12) + "".join(c.rjust(w + 1) for c in cols))
    for r in rows:
        print(r.ljust(12) + "".join((str(table[(r, c)]) if table[(r, c)] else ".").rjust(w + 1)
                                    for c in cols))
    print(f"\nfiles labelled right: {right}/{len(TRUTH)}")
    if not args.quiet:
        print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
