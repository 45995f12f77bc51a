"""Baselines: what a stream is compared with (another capture, the other direction, the
part before an onset, a saved or the embedded profile of clean calls)."""

from analyzer.baseline.choose import choose_reference, match_stream
from analyzer.baseline.profile import PROFILE_SCHEMA, Profile, build_profile, default_profile

__all__ = ["PROFILE_SCHEMA", "Profile", "build_profile", "choose_reference",
           "default_profile", "match_stream"]
