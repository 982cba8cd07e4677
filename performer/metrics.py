"""Per-gene accuracy across people: Pearson r (PCC) and R^2, and their means over genes.

PCC is ``scipy.stats.pearsonr`` and R^2 is ``sklearn.metrics.r2_score`` (coefficient of
determination, which is negative when predictions are worse than the mean), both computed across the
people of one gene. A gene whose predictions or targets are constant, or which has fewer than 2
people, gets NaN PCC and ``pcc_undefined=True``; means over genes ignore NaN, and say how many genes
they used and which genes had an undefined PCC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

METRIC_COLUMNS = ["n_people", "pcc", "r2", "mse", "pcc_undefined"]


def gene_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """PCC, R^2 and MSE of one gene's predictions across people.

    Args:
        y, pred: float arrays of shape ``(n_people,)``.

    Returns:
        ``n_people`` (int), ``pcc`` (``pearsonr(pred, y)``; NaN when ``y`` or ``pred`` is constant or
        ``n_people < 2``), ``r2`` (``r2_score(y, pred)``; NaN when ``n_people < 2``), ``mse`` (NaN when
        empty) and ``pcc_undefined`` (bool: ``pcc`` is NaN).
    """
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    n = len(y)
    constant = n < 2 or np.ptp(y) == 0 or np.ptp(pred) == 0
    return {
        "n_people": n,
        "pcc": np.nan if constant else float(pearsonr(pred, y).statistic),
        "r2": float(r2_score(y, pred)) if n >= 2 else np.nan,
        "mse": float(np.mean((pred - y) ** 2)) if n else np.nan,
        "pcc_undefined": bool(constant),
    }


def per_gene_metrics(predictions: pd.DataFrame, by: str | list[str] = "gene_id") -> pd.DataFrame:
    """Metrics of each gene from a tidy prediction table.

    Args:
        predictions: one row per (gene, person) with columns ``y`` and ``pred`` and the ``by`` column(s).
        by: grouping column(s).

    Returns:
        One row per group, in order of first appearance: the ``by`` columns, then ``n_people, pcc, r2,
        mse, pcc_undefined`` (see :func:`gene_metrics`).
    """
    keys = [by] if isinstance(by, str) else list(by)
    rows = [
        {
            **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
            **gene_metrics(group["y"].to_numpy(), group["pred"].to_numpy()),
        }
        for key, group in predictions.groupby(by, sort=False)
    ]
    return pd.DataFrame(rows, columns=[*keys, *METRIC_COLUMNS])


def mean_over_genes(metrics: pd.DataFrame, label: str | None = None) -> dict:
    """Mean PCC and R^2 over genes (NaN ignored), and which genes have an undefined PCC.

    Args:
        metrics: one row per gene with columns ``pcc`` and ``r2`` (from :func:`per_gene_metrics`).
        label: column naming the genes in ``pcc_undefined``; default ``gene`` if present, else
            ``gene_id``, else the row index.

    Returns:
        ``mean_pcc`` and ``mean_r2`` (float, NaN when no gene has a finite value), ``n_genes`` (genes
        with a finite PCC, those averaged in ``mean_pcc``), ``n_pcc_undefined`` (genes with NaN PCC,
        left out of ``mean_pcc``) and ``pcc_undefined`` (their labels, a list of Python str / int).
    """
    if label is None:
        label = next((c for c in ("gene", "gene_id") if c in metrics), None)
    names = metrics[label] if label is not None else metrics.index.to_series()
    undefined = metrics["pcc"].isna().to_numpy()
    return {
        "mean_pcc": float(np.nanmean(metrics["pcc"])) if (~undefined).any() else np.nan,
        "mean_r2": float(np.nanmean(metrics["r2"])) if metrics["r2"].notna().any() else np.nan,
        "n_genes": int((~undefined).sum()),
        "n_pcc_undefined": int(undefined.sum()),
        "pcc_undefined": names[undefined].tolist(),
    }
