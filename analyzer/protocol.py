"""Wire-format constants shared by the capture readers and the simulator's writers.

One name for each number, named after the field of the document that defines it: the pcap
and pcapng file formats, link types (tcpdump.org's LINKTYPE_ list), Ethernet and IP,
RTP/RTCP (RFC 3550/3551), STUN (RFC 5389), TURN ChannelData (RFC 5766), Telegram's
reflector and the usual service ports. Base layer: imports nothing from the package.
"""

from __future__ import annotations

NS_PER_S = 1_000_000_000

# -- pcap (pcap-savefile(5)) ------------------------------------------------------------------
PCAP_MAGIC_US = 0xA1B2C3D4  # microsecond timestamps
PCAP_MAGIC_NS = 0xA1B23C4D  # nanosecond timestamps
PCAP_VERSION_MAJOR = 2
PCAP_VERSION_MINOR = 4
PCAP_GLOBAL_HEADER_LEN = 24
PCAP_RECORD_HEADER_LEN = 16

# -- pcapng (draft-ietf-opsawg-pcapng) --------------------------------------------------------
PCAPNG_SHB = 0x0A0D0D0A  # section header block
PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D
PCAPNG_IDB = 0x00000001  # interface description block
PCAPNG_OPB = 0x00000002  # obsolete packet block
PCAPNG_SPB = 0x00000003  # simple packet block
PCAPNG_EPB = 0x00000006  # enhanced packet block

# -- link types (tcpdump.org/linktypes.html) --------------------------------------------------
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_OLD_12 = 12
LINKTYPE_RAW_OLD_14 = 14
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

# -- Ethernet, IP, UDP ------------------------------------------------------------------------
ETH_HEADER_LEN = 14
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = (0x8100, 0x88A8, 0x9100)  # 802.1Q, 802.1ad, old QinQ
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ICMPV6 = 58
IPV4_HEADER_LEN = 20  # without options
IPV6_HEADER_LEN = 40
UDP_HEADER_LEN = 8

# -- RTP and RTCP (RFC 3550, RFC 3551) --------------------------------------------------------
RTP_VERSION = 2
RTP_HEADER_LEN = 12  # RFC 3550 §5.1, before CSRCs and extension
RTCP_PT_MIN, RTCP_PT_MAX = 200, 204  # SR, RR, SDES, BYE, APP (RFC 3550 §6)
RTCP_FB_PT = (205, 206, 207)  # RTPFB, PSFB (RFC 4585), XR (RFC 3611)
RTP_PT_RESERVED_FOR_RTCP = (72, 73, 74, 75, 76)  # RFC 3551 §6 / RFC 5761 §4
#: RFC 3551 static payload types: encoding name and clock rate (Hz).
STATIC_PAYLOAD_TYPES: dict[int, tuple[str, int]] = {
    0: ("PCMU", 8000), 3: ("GSM", 8000), 4: ("G723", 8000), 5: ("DVI4", 8000),
    6: ("DVI4", 16000), 7: ("LPC", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000),
    10: ("L16", 44100), 11: ("L16", 44100), 12: ("QCELP", 8000), 13: ("CN", 8000),
    14: ("MPA", 90000), 15: ("G728", 8000), 16: ("DVI4", 11025), 17: ("DVI4", 22050),
    18: ("G729", 8000), 19: ("CN", 8000), 25: ("CelB", 90000), 26: ("JPEG", 90000),
    28: ("nv", 90000), 31: ("H261", 90000), 32: ("MPV", 90000), 33: ("MP2T", 90000),
    34: ("H263", 90000),
}
#: Comfort noise: 13 (RFC 3389), 19 the old CN.
CN_PAYLOAD_TYPES = (13, 19)

# -- STUN (RFC 5389) and TURN ChannelData (RFC 5766) ------------------------------------------
STUN_MAGIC_COOKIE = 0x2112A442  # RFC 5389 §6
STUN_HEADER_LEN = 20
CHANNELDATA_HEADER_LEN = 4  # RFC 5766 §11.4

# -- Telegram reflector (tgcalls) -------------------------------------------------------------
TELEGRAM_TAG_LEN = 16  # the peer tag that starts every datagram
#: Reflector hello after the peer tag: 12 x 0xFF, 0xFE, 3 x 0xFF, then a u64.
TELEGRAM_HELLO_MARK = bytes([0xFF] * 12 + [0xFE] + [0xFF] * 3)
TELEGRAM_HELLO_LEN = TELEGRAM_TAG_LEN + len(TELEGRAM_HELLO_MARK) + 8  # 40

# -- default service ports --------------------------------------------------------------------
SIP_PORT = 5060
STUN_PORT = 3478
TELEGRAM_REFLECTOR_PORT = 599
