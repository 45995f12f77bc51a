"""The app of each stream and call where the capture itself says (PCAPdroid attribution),
applied after the evidence-based guess of :mod:`analyzer.streams.apps`, which it overrides.

What the wire shows (payload types, relay networks) only suggests an app; a phone capture
made with PCAPdroid records the sending app of every packet. Where it does, that decides:
each stream of a flow PCAPdroid attributed carries ``app_uid``, ``app_label`` and
``app_package`` (in its ``extra``, hence in the JSON), and ``app`` is the known app it names
(``telegram``, ``whatsapp``, …) or ``None`` for any other app. A call takes the app its
attributed streams name (the most packets win).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from analyzer.capture.pcapdroid import AppTable, FlowApp
from analyzer.streams.model import Call, Stream

#: ``Stream.extra["app_source"]`` when the app comes from the capture's own attribution.
SOURCE_PCAPDROID = "pcapdroid"


def apply_app_table(streams: tuple[Stream, ...], calls: tuple[Call, ...],
                    apps: AppTable | None) -> tuple[tuple[Stream, ...], tuple[Call, ...]]:
    """Streams and calls with the app PCAPdroid recorded for their flows."""
    if apps is None or not apps.flows:
        return streams, calls
    out = list(streams)
    tagged: dict[int, FlowApp] = {}
    for i, s in enumerate(streams):
        fa = apps.flows.get(s.flow)
        if fa is None:
            continue
        tagged[i] = fa
        extra = {**s.extra, **fa.to_dict(), "app_source": SOURCE_PCAPDROID}
        out[i] = replace(s, app=fa.app, extra=extra)
    new_calls = []
    for c in calls:
        votes: Counter[str | None] = Counter()
        for i in c.streams:
            if i in tagged and tagged[i].uid >= 0:
                votes[tagged[i].app] += len(out[i].series)
        if not votes:
            new_calls.append(c)
            continue
        app = votes.most_common(1)[0][0]
        new_calls.append(replace(c, app=app))
        for i in c.streams:
            if i not in tagged:  # an unattributed leg of an attributed call
                out[i] = replace(out[i], app=app)
    return tuple(out), tuple(new_calls)
