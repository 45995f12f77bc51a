"""Seeded call simulator with ground truth, and a fast pcap writer.

Layout: ``spec`` (what a call looks like), ``sending`` (what each endpoint sends),
``impairments`` (what the network does), ``rtpcall`` (the simulation and its capture),
``truth`` (ground truth), ``scenarios`` (named presets), ``pcapwriter`` / ``packing`` /
``rtp`` / ``signalling`` (bytes on the wire).
"""

from analyzer.simulate.impairments import (
    AddedJitter,
    Bernoulli,
    BlockedSetup,
    CodecChange,
    Cutoff,
    Dtx,
    GilbertElliott,
    HandoverGap,
    Impairment,
    ImpairmentEffect,
    PathImpairment,
    PeriodicDrop,
    Shaper,
    TokenBucketPolicer,
)
from analyzer.simulate.pcapwriter import (
    PackedFrames,
    PcapWriter,
    build_icmp_port_unreachable_frames,
    build_udp6_frames,
    build_udp_frames,
    write_pcap,
)
from analyzer.simulate.rtpcall import SimulatedCall, simulate_call, write_call
from analyzer.simulate.scenarios import (
    SCENARIOS,
    build_scenario,
    list_scenarios,
    simulate_scenario,
    simulate_to_file,
)
from analyzer.simulate.spec import BOTH, CALLEE_TO_CALLER, CALLER_TO_CALLEE, CallSpec
from analyzer.simulate.truth import CallTruth, DirectionTruth, PacketKind, SentPackets

__all__ = [
    "BOTH",
    "CALLEE_TO_CALLER",
    "CALLER_TO_CALLEE",
    "SCENARIOS",
    "AddedJitter",
    "Bernoulli",
    "BlockedSetup",
    "CallSpec",
    "CallTruth",
    "CodecChange",
    "Cutoff",
    "DirectionTruth",
    "Dtx",
    "GilbertElliott",
    "HandoverGap",
    "Impairment",
    "ImpairmentEffect",
    "PackedFrames",
    "PacketKind",
    "PathImpairment",
    "PcapWriter",
    "PeriodicDrop",
    "SentPackets",
    "Shaper",
    "SimulatedCall",
    "TokenBucketPolicer",
    "build_icmp_port_unreachable_frames",
    "build_scenario",
    "build_udp6_frames",
    "build_udp_frames",
    "list_scenarios",
    "simulate_call",
    "simulate_scenario",
    "simulate_to_file",
    "write_call",
    "write_pcap",
]
