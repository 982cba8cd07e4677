"""Pretrained-Enformer baseline: a person's expression read from the original human CAGE head.

No fine-tuning: each person's dosage-averaged personal sequence (the same input the fine-tuned model
reads) goes through a pretrained Enformer with its original human output head (5,313 tracks, softplus),
and the prediction is the sum of the 3 centre bins ``n_bins // 2 - 1 .. n_bins // 2 + 1`` (191-193 of
384 at 49,152 bp) of one CAGE track chosen by tissue (docs/architecture.md, "baselines"; Drusinsky et al.,
Methods): :data:`TISSUE_TRACKS`. The tracks and their bins are read through the trunk interface
(:meth:`~performer.model.trunk.Trunk.pretrained_tracks`, :meth:`~performer.model.trunk.Trunk.pretrained_bins`,
by :func:`performer.predict.readout`); only loading and the tissue tracks are Enformer's own.

The prediction is in the track's own units (predicted CAGE signal), not in the units of the expression
file: PCC is the meaningful metric; R^2 is reported for completeness and is usually far below 0.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from performer.metrics import per_gene_metrics
from performer.model.enformer import N_CENTRE_BINS, EnformerTrunk, centre_bins, load_pretrained
from performer.model.trunk import Trunk
from performer.predict import predict_sequences, predict_split

log = logging.getLogger(__name__)

__all__ = [
    "N_CENTRE_BINS",
    "TISSUE_TRACKS",
    "ReferenceResult",
    "centre_bins",
    "enformer_baseline",
    "enformer_track_prediction",
    "load_reference_enformer",
    "track_for",
]

TISSUE_TRACKS: dict[str, int] = {"blood": 4950, "brain": 4980}
"""Human CAGE track of each tissue (0-based index into the 5,313 human tracks): 4950 = "CAGE:blood,
adult, pool1", 4980 = "CAGE:brain, adult" (the paper's choices)."""


def track_for(tissue: str | None = None, track: int | None = None) -> int:
    """The human CAGE track to read: ``track`` if given, else the tissue's entry of :data:`TISSUE_TRACKS`.

    Args:
        tissue: tissue name, case-insensitive (``blood``, ``brain``).
        track: explicit 0-based track index; overrides ``tissue``.

    Raises:
        ValueError: neither given, a negative ``track``, or an unknown tissue without ``track`` (the
            message lists the known tissues).
    """
    if track is not None:
        track = int(track)
        if track < 0:
            raise ValueError(f"track must be a 0-based track index >= 0, got {track}")
        return track
    if tissue is None:
        raise ValueError(f"give a tissue ({', '.join(TISSUE_TRACKS)}) or an explicit track index")
    key = tissue.strip().lower()
    if key not in TISSUE_TRACKS:
        known = ", ".join(f"{t} -> {i}" for t, i in TISSUE_TRACKS.items())
        raise ValueError(
            f"unknown tissue {tissue!r}: known tissues are {known}; pass track=<index> for any other CAGE track"
        )
    return TISSUE_TRACKS[key]


def load_reference_enformer(path: str | Path) -> EnformerTrunk:
    """The pretrained Enformer with its original output heads, from a local ``save_pretrained`` directory.

    ``performer.model.enformer.load_pretrained(path, keep_heads=True)`` plus a check that the human head is there.

    Raises:
        FileNotFoundError: no such directory (see :func:`~performer.model.enformer.load_pretrained`).
        ValueError: the saved model has no human output head.
    """
    enformer = load_pretrained(path, keep_heads=True)
    enformer.n_pretrained_tracks()
    return enformer


def enformer_track_prediction(
    enformer: Trunk,
    x: np.ndarray | torch.Tensor,
    track: int,
    batch_size: int = 8,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Sum of the 3 centre bins of one human-head track, in fp32: :func:`performer.predict.predict_sequences`.

    Args:
        enformer: Enformer with its original output heads (``keep_heads=True``), or any trunk with
            pretrained tracks; run in eval mode (its mode is restored afterwards) and moved to ``device``.
        x: float ``(B, L, 4)`` one-hot (``A,C,G,T``), ``L`` a multiple of 128 bp with ``L / 128 >= 3``.
        track: 0-based human track index (see :func:`track_for`).
        batch_size: sequences per forward pass.
        device: default :func:`performer.predict.choose_device`.

    Returns:
        float64 numpy ``(B,)``: ``enformer(x, head="human")[:, c - 1 : c + 2, track].sum(1)`` with
        ``c = n_bins // 2`` (a trunk's ``pretrained_tracks(x)[:, pretrained_bins(L), track].sum(1)``).

    Raises:
        ValueError: no human head, ``track`` out of range, or ``x`` not ``(B, L, 4)``.
    """
    return predict_sequences(enformer, x, track=track, batch_size=batch_size, precision="fp32", device=device)


@dataclass
class ReferenceResult:
    """Output of :func:`enformer_baseline`.

    Attributes:
        predictions: one row per (gene, person): ``gene_id, gene, split, person`` (person ID), ``y``,
            ``pred`` (float64, in the CAGE track's units).
        metrics: one row per gene and split: ``gene_id, gene, split, n_people, pcc, r2, mse`` (from
            :func:`performer.metrics.per_gene_metrics`).
        track: the human track that was read.
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    track: int


def enformer_baseline(
    enformer: Trunk,
    dm,
    track: int,
    split: str | Sequence[str] = "test",
    batch_size: int = 8,
    device: str | torch.device | None = None,
) -> ReferenceResult:
    """Predict every person of one or more splits of ``dm`` with a pretrained Enformer's CAGE track.

    Args:
        enformer: pretrained Enformer with its output heads (:func:`load_reference_enformer`).
        dm: a set-up :class:`~performer.data.datamodule.PerformerDataModule`; read: ``gene_ids``,
            ``gene_names``, ``people``, ``datasets``. Its ``window_bp`` is the input length (49,152 bp
            for the paper's numbers).
        track: 0-based human track (:func:`track_for`, e.g. ``track_for("blood")`` = 4950).
        split: ``"tune"``, ``"test"`` (or ``"train"``), or a list of them.
        batch_size: sequences per forward pass.
        device: default :func:`performer.predict.choose_device`; the model is moved there.

    Always fp32 (:func:`performer.predict.predict_split`): people of a gene differ by a few SNVs, so
    their predictions differ by far less than bf16's 8 significant bits resolve at CAGE-signal levels.

    Returns:
        :class:`ReferenceResult`.

    Raises:
        ValueError: as :func:`enformer_track_prediction`; KeyError: an unknown split.
    """
    splits = [split] if isinstance(split, str) else list(split)
    tables = []
    for name in splits:
        table = predict_split(enformer, dm, name, track=track, batch_size=batch_size, precision="fp32", device=device)
        tables.append(table)
        log.info("Enformer baseline, track %d: predicted %d %s people x genes", track, len(table), name)
    columns = ["gene_id", "gene", "split", "person", "y", "pred"]
    predictions = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
    predictions = predictions.astype({"y": np.float64, "pred": np.float64})
    metrics = per_gene_metrics(predictions, by=["gene_id", "gene", "split"])
    return ReferenceResult(predictions=predictions, metrics=metrics, track=track)
