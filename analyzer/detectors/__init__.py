"""Detectors: statistics that tell a degraded stream from a clean one.

One contract (:mod:`~analyzer.detectors.registry`): a detector is a frozen dataclass of
keyword-only settings with one method, ``detect(features, context) -> Detection``
(ruptures style: settings in the constructor, data in the call), registered by name.

``registry``      the :class:`Detector` protocol, ``DETECTORS``, ``build``, ``build_all``
``context``       what the engine tells a detector: baseline, onset, resampling seed
``base``          the settings mixin: ``asdict`` settings and the thresholds reported
``features``      what the detectors read: per-slot loss, per-packet timing, windowed series
``slots``         sequence numbers inferred from arrival times (media without RTP)
``reference``     what a stream is compared with (built by :mod:`analyzer.baseline`)
``stats``         the statistics (Wehe KS + area, Mann-Whitney + Hodges-Lehmann, scans...)
``shift``         distribution shift of a windowed metric (Wehe's band, rank test): a
                  function of two samples, not a registered detector
``loss``          loss above the baseline           ``burst``     runs longer than Bernoulli
``periodic``      drops recurring with a period     ``ratecap``   a flattened rate, policing
``onset``         when it started                                 or shaping
``jitter``        delay variation beyond baseline   ``metallic``  concealment after the buffer
``cutoff``        one direction stopped             ``blocked``   setup never answered
``confounders``   handover, outage, DTX, codec change, renegotiation: not throttling
``callfeatures``  the features of a call's streams with its confounders left out
"""

from analyzer.detectors.blocked import BlockedSetupDetector
from analyzer.detectors.burst import BurstLossDetector
from analyzer.detectors.confounders import Confounder, ConfounderFinder
from analyzer.detectors.context import DetectionContext
from analyzer.detectors.cutoff import CutoffDetector
from analyzer.detectors.features import StreamFeatures, features_from_arrays, stream_features
from analyzer.detectors.jitter import JitterDetector
from analyzer.detectors.loss import LossDetector
from analyzer.detectors.metallic import MetallicRiskDetector
from analyzer.detectors.onset import OnsetDetector
from analyzer.detectors.periodic import PeriodicDropDetector
from analyzer.detectors.ratecap import RateCapDetector
from analyzer.detectors.reference import Reference
from analyzer.detectors.registry import DETECTORS, Detector, build, build_all
from analyzer.detectors.result import Detection
from analyzer.detectors.shift import distribution_shift

__all__ = ["DETECTORS", "BlockedSetupDetector", "BurstLossDetector", "Confounder",
           "ConfounderFinder", "CutoffDetector", "Detection", "DetectionContext", "Detector",
           "JitterDetector", "LossDetector", "MetallicRiskDetector", "OnsetDetector",
           "PeriodicDropDetector", "RateCapDetector", "Reference", "StreamFeatures", "build",
           "build_all", "distribution_shift", "features_from_arrays", "stream_features"]
