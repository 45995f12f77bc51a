"""Cut-off: a stream that stops for good while the call goes on.

TShark reports 0 lost for such a stream (its loss is the sequence span of what arrived;
../shared/DOMAIN.md §2). Here the packets that should have followed are counted:
``missing_packets = (continued_until - at) / frame_interval``, ``at`` being the stream's
last arrival and ``continued_until`` the latest evidence that the call was still up: the
other direction's media, another flow of the call (RTCP, STUN consent, relay traffic), a
SIP BYE sent later.

Not a cut-off:

* a hang-up: the evidence ends within ``tolerance`` of the stream (the other direction
  stops too, or a BYE follows at once). The tolerance is the larger of two frame intervals
  and ``HANGUP_TOLERANCE_S`` (1.5 s): at a real hang-up the far side keeps sending for a
  round trip or a few hundred ms (0.7-0.9 s in the public WebRTC captures);
* media that moved: another media stream in the same direction carries on (relay to
  peer-to-peer switch, ICE restart);
* a gap that resumes (a handover): the stream does not stop, see
  :mod:`analyzer.metrics.gaps`;
* a stream too short to judge (``MIN_PACKETS``): probes, FEC or retransmission bursts.

``basis`` says how strong the verdict is: ``reverse_media`` (the other direction kept
sending: a one-way cut) is the strongest; with ``other_flow`` or ``signalling`` only, both
directions may have stopped together, which the evidence text then says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HANGUP_TOLERANCE_S = 1.5
HANGUP_FRAMES = 2.0
MIN_PACKETS = 20

#: Kinds of evidence, strongest first.
BASIS_ORDER = ("reverse_media", "other_flow", "signalling", "given")


@dataclass(frozen=True)
class Evidence:
    """Something showing the call was up at ``time_s``."""

    time_s: float
    basis: str  # one of BASIS_ORDER
    description: str


@dataclass(frozen=True)
class Cutoff:
    """The stream stopped at ``at_s`` while the call went on until ``continued_until_s``."""

    at_s: float
    continued_until_s: float
    missing_packets: int
    frame_interval_s: float
    basis: str  # the strongest kind of evidence (BASIS_ORDER)
    evidence: str

    @property
    def duration_s(self) -> float:
        return self.continued_until_s - self.at_s

    def to_dict(self) -> dict[str, Any]:
        return {"at_s": self.at_s, "continued_until_s": self.continued_until_s,
                "duration_s": self.duration_s, "missing_packets": self.missing_packets,
                "frame_interval_ms": self.frame_interval_s * 1000.0, "basis": self.basis,
                "evidence": self.evidence}


@dataclass(frozen=True)
class CutoffAssessment:
    """The verdict, and why (also when there is no cut-off)."""

    cutoff: Cutoff | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"cutoff": None if self.cutoff is None else self.cutoff.to_dict(),
                "reason": self.reason}


def assess_cutoff(last_arrival_s: float, frame_interval_s: float | None,
                  evidence: Sequence[Evidence] = (), *, bye_s: float | None = None,
                  packets: int | None = None, successor: str | None = None,
                  ended_in_silence: bool = False,
                  tolerance_s: float = HANGUP_TOLERANCE_S,
                  hangup_frames: float = HANGUP_FRAMES,
                  min_packets: int = MIN_PACKETS) -> CutoffAssessment:
    """Decide whether a stream whose last packet arrived at ``last_arrival_s`` was cut off.

    ``successor`` names a stream that carried on in the same direction (then no cut-off);
    ``ended_in_silence`` (the last packets were comfort noise) is noted in the evidence.
    """
    at = float(last_arrival_s)
    if packets is not None and packets < min_packets:
        return CutoffAssessment(None, f"too short to judge ({packets} < {min_packets} packets)")
    if frame_interval_s is None or not frame_interval_s > 0:
        return CutoffAssessment(None, "frame interval unknown")
    f = float(frame_interval_s)
    tol = max(hangup_frames * f, tolerance_s)
    if bye_s is not None and at - tol <= bye_s <= at + tol:
        return CutoffAssessment(None, f"hang-up: SIP BYE at {bye_s:.3f} s, within {tol:.2f} s "
                                      f"of the last packet at {at:.3f} s")
    later = [e for e in evidence if e.time_s > at + tol]
    if bye_s is not None and bye_s > at + tol:
        later.append(Evidence(bye_s, "signalling", f"SIP BYE at {bye_s:.3f} s"))
    if not later:
        return CutoffAssessment(None, f"call ended with the stream: no evidence of the call "
                                      f"more than {tol:.2f} s after {at:.3f} s")
    if successor is not None:
        return CutoffAssessment(None, f"media in this direction continued on {successor}")
    until = max(e.time_s for e in later)
    basis = min((e.basis for e in later),
                key=lambda b: BASIS_ORDER.index(b) if b in BASIS_ORDER else len(BASIS_ORDER))
    text = "; ".join(e.description for e in sorted(later, key=lambda e: -e.time_s))
    stopped_too = [e for e in evidence if e.basis == "reverse_media" and e.time_s <= at + tol]
    if basis != "reverse_media" and stopped_too:
        text += ("; the other direction stopped at the same time (both directions cut, a "
                 "switch to other media such as T.38, or a silent hang-up)")
    if ended_in_silence:
        text += ("; the stream's last packets were comfort noise: the sender may have gone "
                 "silent (DTX) rather than been cut")
    missing = round((until - at) / f)
    return CutoffAssessment(Cutoff(at_s=at, continued_until_s=until, missing_packets=missing,
                                   frame_interval_s=f, basis=basis, evidence=text),
                            f"stopped {until - at:.3f} s before the call ended")
