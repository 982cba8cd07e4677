"""Per-gene accuracy across people: Pearson r (PCC) and R^2, and their means over genes.

PCC is ``scipy.stats.pearsonr`` and R^2 is ``sklearn.metrics.r2_score`` (coefficient of
determination, which is negative when predictions are worse than the mean), both computed across the
people of one gene (ARCHITECTURE.md, "metrics"). A gene whose predictions or targets are constant,
or which has fewer than 2 people, gets NaN PCC; means over genes ignore NaN and say how many genes
they used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

METRIC_COLUMNS = ["n_people", "pcc", "r2", "mse"]


def gene_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """PCC, R^2 and MSE of one gene's predictions across people.

    Args:
        y, pred: float arrays of shape ``(n_people,)``.
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
    }


def per_gene_metrics(predictions: pd.DataFrame, by: str | list[str] = "gene_id") -> pd.DataFrame:
    """Metrics of each gene from a tidy prediction table.

    Args:
        predictions: one row per (gene, person) with columns ``y`` and ``pred`` and the ``by`` column(s).
        by: grouping column(s).

    Returns:
        One row per group: the ``by`` columns, then ``n_people, pcc, r2, mse``.
    """
    rows = [
        {
            **dict(zip([by] if isinstance(by, str) else by, key if isinstance(key, tuple) else (key,))),
            **gene_metrics(group["y"].to_numpy(), group["pred"].to_numpy()),
        }
        for key, group in predictions.groupby(by, sort=False)
    ]
    return pd.DataFrame(rows)


def mean_over_genes(metrics: pd.DataFrame) -> dict[str, float]:
    """Mean PCC and R^2 over genes (NaN ignored) and the number of genes with a finite PCC."""
    return {
        "mean_pcc": float(np.nanmean(metrics["pcc"])) if metrics["pcc"].notna().any() else np.nan,
        "mean_r2": float(np.nanmean(metrics["r2"])) if metrics["r2"].notna().any() else np.nan,
        "n_genes": int(metrics["pcc"].notna().sum()),
    }
