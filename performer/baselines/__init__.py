"""Evaluation baselines: the per-gene elastic net on SNV dosages and the pretrained Enformer's CAGE track."""

from performer.baselines.elastic_net import ElasticNetResult, elastic_net_baseline, fit_gene, rows_by_gene
from performer.baselines.enformer import (
    TISSUE_TRACKS,
    ReferenceResult,
    enformer_baseline,
    enformer_track_prediction,
    select_track,
)

__all__ = [
    "TISSUE_TRACKS",
    "ElasticNetResult",
    "ReferenceResult",
    "elastic_net_baseline",
    "enformer_baseline",
    "enformer_track_prediction",
    "fit_gene",
    "rows_by_gene",
    "select_track",
]
