"""Types of the compiled record walk (``_walk.c``)."""

from typing import Any

def pcap_offsets(data: bytes, big: bool, out: Any, /) -> tuple[int, int]: ...
def pcapng_packets(data: bytes, pos: int, big: bool, max_block: int, out_offs: Any,
                   out_types: Any, /) -> tuple[int, int]: ...
