"""Checks of variant scores against a simulated truth (the demo cohort's ``truth.tsv``).

Recovery of causal SNVs is scored on ``|score|`` with ``sklearn.metrics.roc_auc_score`` (AUROC) and
``average_precision_score`` (AUPR); the direction of effects by the fraction of causal SNVs whose
score has the sign of their true effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def recovery_metrics(scores: np.ndarray, is_causal: np.ndarray) -> dict[str, float]:
    """How well ``|scores|`` ranks causal SNVs above the others.

    Args:
        scores: float ``(S,)`` (ISM, gradient x input, elastic-net coefficients, ...); the absolute
            value is ranked.
        is_causal: bool ``(S,)``, True for the planted causal SNVs.

    Returns:
        ``{"auroc", "aupr", "n_causal", "n"}``; ``auroc`` and ``aupr`` are NaN when only one class
        is present (no SNV, no causal SNV or only causal SNVs).

    Raises:
        ValueError: different lengths, or non-finite scores.
    """
    scores = np.abs(np.asarray(scores, dtype=np.float64).reshape(-1))
    is_causal = np.asarray(is_causal, dtype=bool).reshape(-1)
    if len(scores) != len(is_causal):
        raise ValueError(f"scores ({len(scores)}) and is_causal ({len(is_causal)}) differ in length")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    n_causal = int(is_causal.sum())
    out = {"auroc": np.nan, "aupr": np.nan, "n_causal": n_causal, "n": len(scores)}
    if 0 < n_causal < len(scores):
        out["auroc"] = float(roc_auc_score(is_causal, scores))
        out["aupr"] = float(average_precision_score(is_causal, scores))
    return out


def sign_agreement(ism: np.ndarray, true_beta: np.ndarray) -> float:
    """Fraction of causal SNVs (``true_beta != 0``) with ``sign(ism) == sign(true_beta)``.

    An ISM of exactly 0 agrees with no sign. NaN when there is no causal SNV.

    Args:
        ism: float ``(S,)``; true_beta: float ``(S,)``, 0 for non-causal SNVs.

    Raises:
        ValueError: different lengths.
    """
    ism = np.asarray(ism, dtype=np.float64).reshape(-1)
    beta = np.asarray(true_beta, dtype=np.float64).reshape(-1)
    if len(ism) != len(beta):
        raise ValueError(f"ism ({len(ism)}) and true_beta ({len(beta)}) differ in length")
    causal = beta != 0
    if not causal.any():
        return float("nan")
    return float(np.mean(np.sign(ism[causal]) == np.sign(beta[causal])))


def label_truth(table: pd.DataFrame, truth: pd.DataFrame, gene_id: str | None = None) -> pd.DataFrame:
    """Add ``is_causal`` and ``true_beta`` to a variant table from a truth table.

    SNVs are matched on (contig, 0-based ``pos``, ``alt``), with ``chr22`` == ``22``.

    Args:
        table: variant rows with ``chrom``, ``pos``, ``alt`` (as from ``ism_scores``).
        truth: causal SNVs with ``chrom``, ``pos`` (0-based), ``alt``, ``beta`` (and ``gene_id``),
            e.g. ``pd.read_csv("truth.tsv", sep="\\t")`` of a simulated cohort.
        gene_id: keep only truth rows of this gene (needs a ``gene_id`` column).

    Returns:
        A copy of ``table`` with bool ``is_causal`` and float64 ``true_beta`` (0 where not causal).

    Raises:
        KeyError: a required column is missing.
    """
    for name, frame, needed in (("table", table, ("chrom", "pos", "alt")), ("truth", truth, ("chrom", "pos", "alt"))):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise KeyError(f"{name} lacks columns {missing}")
    if "beta" not in truth.columns:
        raise KeyError("truth lacks column 'beta'")
    if gene_id is not None:
        if "gene_id" not in truth.columns:
            raise KeyError("truth lacks column 'gene_id', needed to select gene_id")
        truth = truth[truth["gene_id"] == gene_id]

    def key(chrom: object, pos: object, alt: object) -> tuple[str, int, str]:
        name = str(chrom)
        return (name[3:] if name.lower().startswith("chr") else name, int(pos), str(alt).upper())

    betas = {key(c, p, a): float(b) for c, p, a, b in zip(truth["chrom"], truth["pos"], truth["alt"], truth["beta"])}
    out = table.copy()
    keys = [key(c, p, a) for c, p, a in zip(out["chrom"], out["pos"], out["alt"])]
    out["is_causal"] = np.array([k in betas for k in keys], dtype=bool)
    out["true_beta"] = np.array([betas.get(k, 0.0) for k in keys], dtype=np.float64)
    return out
