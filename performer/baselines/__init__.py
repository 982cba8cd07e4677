"""Evaluation baselines: the per-gene elastic net on SNV dosages and the pretrained Enformer's CAGE track."""

from performer.baselines.elastic_net import ElasticNetResult, elastic_net_baseline, fit_gene, rows_by_gene
from performer.baselines.enformer import (
    TISSUE_TRACKS,
    ReferenceResult,
    centre_bins,
    enformer_baseline,
    enformer_track_prediction,
    load_reference_enformer,
    track_for,
)

__all__ = [
    "TISSUE_TRACKS",
    "ElasticNetResult",
    "ReferenceResult",
    "centre_bins",
    "elastic_net_baseline",
    "enformer_baseline",
    "enformer_track_prediction",
    "fit_gene",
    "load_reference_enformer",
    "rows_by_gene",
    "track_for",
]
