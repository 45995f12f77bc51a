"""What a simulated call looks like on a clean network: :class:`CallSpec`.

Times are seconds since the call's time origin (t = 0, when setup starts); the capture's
absolute time is ``start_epoch_s + t``. Endpoint A is the caller (the device whose traffic
is captured); endpoint B is the callee for plain RTP or the relay / reflector for messenger
framings. Both media directions run between the same two addresses: on one port pair
(symmetric RTP, the default), or - ``asymmetric_ports`` - each side sending from a port other
than the one it receives on (A:40006 -> B:5004 and B:40004 -> A:5006), as many SIP phones
and GStreamer pipelines do.

Framings: ``"rtp"`` (plain RTP, no signalling), ``"rtp_sdp"`` (RTP set up by a SIP
INVITE / 200 OK / ACK whose SDP ``m=`` ports are where each side receives), ``"whatsapp"``
(RTP with a one-byte header extension to a relay on UDP 3478, STUN keep-alives),
``"telegram"`` (16-byte peer tag + encrypted media to a reflector) and ``"opaque"``: the
``"rtp"`` call with every datagram replaced by a 4-byte per-flow tag and random bytes of
the same length (as captures/lab/opaque.py makes of a real capture): sizes and timing
stay, no RTP header, STUN or SIP is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analyzer.errors import UsageError

Framing = Literal["rtp", "rtp_sdp", "whatsapp", "telegram", "opaque"]
FRAMINGS: tuple[str, ...] = ("rtp", "rtp_sdp", "whatsapp", "telegram", "opaque")
#: Framings whose media run between two endpoints' own ports (not to a relay's service
#: port), so each side may send from a port other than the one it receives on.
ASYMMETRIC_FRAMINGS: tuple[str, ...] = ("rtp", "rtp_sdp", "opaque")
#: Bytes of the per-flow tag that starts every datagram of the ``"opaque"`` framing.
OPAQUE_TAG_LEN = 4
Vantage = Literal["receiver", "caller"]

CALLER_TO_CALLEE = "caller_to_callee"
CALLEE_TO_CALLER = "callee_to_caller"
BOTH = "both"
DIRECTIONS: tuple[str, str] = (CALLER_TO_CALLEE, CALLEE_TO_CALLER)

OPUS_PAYLOAD_TYPE = 111
WHATSAPP_PAYLOAD_TYPE = 120
#: Opus-like codec bytes per 20 ms frame (inclusive range); scaled for other frame lengths.
BYTES_PER_20MS_FRAME = (60, 120)

_DEFAULT_REMOTE_IP = {
    "rtp": "198.51.100.20",
    "rtp_sdp": "198.51.100.20",
    "whatsapp": "157.240.195.62",
    "telegram": "91.108.56.130",
    "opaque": "198.51.100.20",
}


@dataclass(frozen=True)
class CallSpec:
    """A two-way voice call: codec timing, framing, addresses and the clean network path.

    ``payload_bytes`` is the inclusive range of codec bytes per frame (uniform); ``None``
    means 60-120 B per 20 ms, scaled to ``frame_interval_ms``. ``payload_type`` ``None``
    means 111 (Opus, dynamic), or 120 for ``"whatsapp"``. ``initial_seq`` forces the first
    RTP sequence number of both directions (e.g. 65530 to test wrap-around); ``None`` draws
    them at random. ``one_way_delay_ms`` is the fixed base delay; ``jitter_std_ms`` the
    standard deviation of the per-packet transit variation (transit never goes negative).
    ``vantage="receiver"`` captures every packet where it arrives (after the impairments);
    ``"caller"`` captures on the caller's device: its own packets at send time, before any
    loss. Arrival times are rounded down to ``timestamp_resolution_ns``.
    ``asymmetric_ports`` (framings ``rtp``, ``rtp_sdp``, ``opaque``): each side sends from
    a port of its own, not the one it receives on (``caller_port`` / ``callee_port`` stay
    the receive ports, which the SDP names); the send ports are drawn.
    """

    duration_s: float = 60.0
    frame_interval_ms: int = 20
    payload_bytes: tuple[int, int] | None = None
    payload_type: int | None = None
    clock_rate_hz: int = 48000
    framing: Framing = "rtp"
    media_start_s: float = 0.5
    one_way_delay_ms: float = 40.0
    jitter_std_ms: float = 2.0
    initial_seq: int | None = None
    keepalive_interval_s: float = 10.0
    caller_ip: str = "192.168.1.23"
    callee_ip: str | None = None
    caller_port: int | None = None
    callee_port: int | None = None
    vantage: Vantage = "receiver"
    start_epoch_s: int = 1755072000
    timestamp_resolution_ns: int = 1000
    asymmetric_ports: bool = False

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> UsageError:
            return UsageError(f"CallSpec.{name}: {why} (got {getattr(self, name)!r})")

        if not self.duration_s > 0:
            raise bad("duration_s", "must be positive")
        if self.frame_interval_ms not in (10, 20, 40, 60, 80, 100, 120):
            raise bad("frame_interval_ms", "must be one of 10, 20, 40, 60, 80, 100, 120")
        if self.payload_bytes is not None and not (
            len(self.payload_bytes) == 2 and 1 <= self.payload_bytes[0] <= self.payload_bytes[1]
            <= 1400
        ):
            raise bad("payload_bytes", "must be a range (low, high) with 1 <= low <= high <= 1400")
        if self.payload_type is not None and not 0 <= self.payload_type <= 127:
            raise bad("payload_type", "must lie in [0, 127]")
        if self.clock_rate_hz <= 0 or (self.clock_rate_hz * self.frame_interval_ms) % 1000:
            raise bad("clock_rate_hz", "must give a whole number of ticks per frame")
        if self.framing not in FRAMINGS:
            raise bad("framing", f"must be one of {', '.join(FRAMINGS)}")
        if self.media_start_s < 0.2:
            raise bad("media_start_s", "must be at least 0.2 s (setup goes first)")
        if self.one_way_delay_ms < 0 or self.jitter_std_ms < 0:
            raise bad("one_way_delay_ms", "delay and jitter must be non-negative")
        if self.initial_seq is not None and not 0 <= self.initial_seq <= 0xFFFF:
            raise bad("initial_seq", "must lie in [0, 65535]")
        if self.keepalive_interval_s <= 0:
            raise bad("keepalive_interval_s", "must be positive")
        for name in ("caller_port", "callee_port"):
            port = getattr(self, name)
            if port is not None and not 1 <= port <= 0xFFFF:
                raise bad(name, "must lie in [1, 65535]")
        if self.vantage not in ("receiver", "caller"):
            raise bad("vantage", "must be 'receiver' or 'caller'")
        if self.timestamp_resolution_ns not in (1, 10, 100, 1000):
            raise bad("timestamp_resolution_ns", "must be 1, 10, 100 or 1000")
        if self.asymmetric_ports and self.framing not in ASYMMETRIC_FRAMINGS:
            raise bad("asymmetric_ports", "a relay answers on the port it is sent to: only "
                      f"for framings {', '.join(ASYMMETRIC_FRAMINGS)} (framing "
                      f"{self.framing!r})")

    @property
    def effective_payload_type(self) -> int:
        if self.payload_type is not None:
            return self.payload_type
        return WHATSAPP_PAYLOAD_TYPE if self.framing == "whatsapp" else OPUS_PAYLOAD_TYPE

    @property
    def remote_ip(self) -> str:
        return self.callee_ip or _DEFAULT_REMOTE_IP[self.framing]

    @property
    def rtp_visible(self) -> bool:
        """Whether the media can be parsed as RTP (not ``"telegram"`` nor ``"opaque"``)."""
        return self.framing not in ("telegram", "opaque")

    def frame_bytes(self, frame_interval_ms: int) -> tuple[int, int]:
        """Range of codec bytes per frame at a given frame length."""
        if self.payload_bytes is not None and frame_interval_ms == self.frame_interval_ms:
            return self.payload_bytes
        base = self.payload_bytes or BYTES_PER_20MS_FRAME
        ref_ms = self.frame_interval_ms if self.payload_bytes else 20
        scale = frame_interval_ms / ref_ms
        return max(1, round(base[0] * scale)), max(1, round(base[1] * scale))
