"""The evaluation's tables: writing them, per-gene metrics and fold means, the printed summary, skipped runs.

One home for how the tasks of ``evaluate.py`` write a table (:func:`write_table`: CSV, and Parquet when pyarrow
is installed) and for the arithmetic on the tidy evaluation table (``evaluation.csv``, see
:mod:`performer.tasks.evaluate`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from performer.metrics import per_gene_metrics

if TYPE_CHECKING:  # the figures import this module: no DataModule import for a type
    from performer.runs import SkippedRun

log = logging.getLogger(__name__)

KEYS = ["model", "experiment", "gene_id", "split", "gene_set", "train_fraction"]
"""The rows of one gene and model over folds: :func:`add_fold_means` averages over them."""
CROSS_COHORT = "cross-cohort"
"""The ``gene_set`` of cross-cohort rows (the new people of another cohort; their ``split`` is ``all``)."""
SKIPPED_RUNS_FILE = "skipped_runs.csv"
"""The run folders under ``runs=`` that are not evaluated (:func:`write_skipped_runs`)."""


def write_table(table: pd.DataFrame, path: Path, index: bool = False, parquet: str = "beside") -> Path:
    """Write ``table`` as a CSV and, when pyarrow is installed, as Parquet.

    Args:
        path: the CSV file (``.csv``, or ``.csv.gz`` written gzip-compressed); the Parquet file is its name
            without ``.csv[.gz]`` plus ``.parquet`` (``evaluation.csv`` -> ``evaluation.parquet``).
        index: write the index (a matrix's row names).
        parquet: ``beside``: the CSV always, and the Parquet beside it when pyarrow is installed (logged when
            not); ``instead`` (tables too large to write twice: imputation): the Parquet alone when pyarrow is
            importable, else the CSV.

    Returns:
        The CSV, or with ``instead`` the one file written.

    Raises:
        ValueError: ``parquet`` is not ``beside`` or ``instead``.
    """
    path = Path(path)
    twin = path.with_name(path.name.removesuffix(".gz").removesuffix(".csv") + ".parquet")
    if parquet == "instead":
        try:
            import pyarrow  # noqa: F401

            table.to_parquet(twin, index=index)
            return twin
        except ImportError:
            table.to_csv(path, index=index)
            return path
    if parquet != "beside":
        raise ValueError(f"parquet={parquet!r}: choose beside or instead")
    table.to_csv(path, index=index)
    try:
        table.to_parquet(twin, index=index)
    except ImportError:
        log.info("pyarrow is not installed: wrote %s only (pip install -e '.[parquet]' for Parquet)", path)
    return path


def metrics_from_predictions(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per gene and split: ``n_people, pcc, r2, mse`` (scipy / sklearn, see ``performer.metrics``)."""
    return per_gene_metrics(predictions, by=["gene_id", "gene", "split"])


def add_fold_means(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``mean_pcc_folds`` and ``mean_r2_folds``: per-gene means over folds (NaN ignored)."""
    means = table.groupby(KEYS, dropna=False)[["pcc", "r2"]].transform("mean")
    return table.assign(mean_pcc_folds=means["pcc"], mean_r2_folds=means["r2"])


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Mean PCC and R^2 over genes and folds per model, split, gene set and train fraction.

    Columns: ``(pcc, mean)``, ``(pcc, count)`` (rows with a finite PCC), ``(r2, mean)``, ``(r2, count)``
    and ``(pcc, n_undefined)``: rows whose PCC is undefined (NaN), left out of the PCC mean.
    """
    keys = ["model", "split", "gene_set", "train_fraction"]
    summary = table.groupby(keys)[["pcc", "r2"]].agg(["mean", "count"]).round(3)
    summary[("pcc", "n_undefined")] = table["pcc"].isna().groupby([table[k] for k in keys]).sum()
    return summary


def write_skipped_runs(skipped: list[SkippedRun], path: Path) -> None:
    """Write the run folders not evaluated (``run_dir, status, reason``), a header only when there is none."""
    table = pd.DataFrame([(str(r.path), r.status, r.reason) for r in skipped], columns=["run_dir", "status", "reason"])
    table.to_csv(path, index=False)
