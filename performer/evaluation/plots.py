"""Figures that compare models on the tidy evaluation tables (paper Fig. 1a-c, Fig. 5c, learning curves, and the
cross-cohort evaluation's HOP vs cross-cohort R^2, Fig. 1d).

Inputs are the two tables the evaluation writes (docs/architecture.md, "metrics"):

- ``evaluation.csv``: one row per (model, experiment, gene, fold, split, gene set, train fraction) with
  ``model`` ("performer" | "elastic_net" | "enformer"), ``experiment``, ``gene_id``, ``gene``, ``fold``,
  ``split`` ("test" | "tune"), ``gene_set`` ("HOP": a training gene, held-out people; "HOGP": held-out
  gene and people), ``train_fraction`` (1.0 unless downsampled), ``n_train``, ``n_people``, ``pcc``,
  ``r2``, ``h2`` (simulated cis-heritability or NaN), ``mean_pcc_folds``, ``mean_r2_folds``.
- ``predictions.csv``: ``model, experiment, gene_id, gene, fold, split, gene_set, train_fraction, person,
  y, pred``.

Averaging: a gene's value in a figure is the mean of its per-fold ``pcc`` / ``r2`` over the folds
present (NaN folds ignored), computed here from the per-fold rows rather than read from
``mean_*_folds``; curves then average those gene values over genes. Genes whose value is NaN in every
fold are left out and counted in the log.

Every ``plot_*`` function writes one PNG (``performer.plotting.save_figure``, 150 dpi) and returns the
``Path``, or returns ``None`` and logs (``logging`` warning) why when the table lacks the rows or columns
the figure needs; none raises on an empty subset. Figures are built with ``performer.plotting.new_figure``
on the Agg canvas, so they never touch pyplot's global state or the notebook's backend and need no closing.
The ``*_points`` functions return the plotted values as DataFrames, for tests and for users' own plots.

If one model has rows from several experiments in the subset a figure uses (e.g. a single-gene and a
multi-gene Performer run), the experiment with the most genes is used (ties: first by name) and the
choice is logged; filter ``table`` first to choose another.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from performer.evaluation.tables import CROSS_COHORT
from performer.metrics import gene_metrics
from performer.plotting import (
    METRIC_LABELS,
    REFERENCE_LINE,
    diagonal,
    file_safe,
    missing_columns,
    model_label,
    new_figure,
    save_figure,
)

log = logging.getLogger(__name__)

#: Default heritability bins of Fig. 1c: [0, 0.1), [0.1, 0.3), [0.3, 0.6] (the last bin is closed).
H2_BINS = (0.0, 0.1, 0.3, 0.6)
#: Bins of elastic-net R^2 used as a heritability proxy when ``h2`` is unknown: < 0, [0, 0.1), [0.1, 0.3), >= 0.3.
ELASTIC_NET_R2_BINS = (-np.inf, 0.0, 0.1, 0.3, np.inf)

TABLE_COLUMNS = ["model", "gene_id", "gene", "fold", "split", "gene_set", "train_fraction", "pcc", "r2"]
PREDICTION_COLUMNS = ["model", "gene_id", "gene", "fold", "split", "gene_set", "train_fraction", "y", "pred"]

FIGURE_FILES = {
    "performer_vs_elastic_net": "performer_vs_elastic_net.png",
    "r2_difference_by_h2": "r2_difference_by_h2.png",
    "hogp_vs_hop": "hogp_vs_hop.png",
    "learning_curve": "learning_curve.png",
}
CROSS_COHORT_FIGURE = "cross_cohort_vs_hop.png"
"""The figure of the cross-cohort evaluation (:func:`plot_cross_cohort`), beside those of :data:`FIGURE_FILES`."""


# ----------------------------------------------------------------------------------------------------------
# Selection and fold means
# ----------------------------------------------------------------------------------------------------------


def _select(
    table: pd.DataFrame, model: str, split: str, gene_set: str, train_fraction: float | None = 1.0
) -> pd.DataFrame:
    """Rows of one model, split and gene set (and train fraction, unless None), from one experiment.

    When several experiments remain, keeps the one with the most distinct genes (ties: first by name) and
    logs the choice.
    """
    rows = table[(table["model"] == model) & (table["split"] == split) & (table["gene_set"] == gene_set)]
    if train_fraction is not None:
        rows = rows[np.isclose(rows["train_fraction"].astype(float), train_fraction)]
    if "experiment" in rows.columns and rows["experiment"].nunique(dropna=False) > 1:
        n_genes = rows.groupby("experiment", dropna=False)["gene_id"].nunique()
        order = sorted(n_genes.index, key=lambda e: (-n_genes[e], str(e)))
        log.warning(
            "%s %s %s rows come from %d experiments %s; using %r (most genes). Filter the table to choose another.",
            model,
            split,
            gene_set,
            len(order),
            [str(e) for e in order],
            order[0],
        )
        rows = rows[rows["experiment"].isna() if pd.isna(order[0]) else rows["experiment"] == order[0]]
    return rows


def fold_means(
    table: pd.DataFrame, model: str, split: str = "test", gene_set: str = "HOP", train_fraction: float | None = 1.0
) -> pd.DataFrame:
    """Per-gene mean over folds of ``pcc`` and ``r2`` for one model, split and gene set.

    Args:
        table: the evaluation table (columns ``TABLE_COLUMNS``; ``h2``, ``n_train`` and ``experiment`` used
            when present).
        model, split, gene_set: row filters. ``train_fraction``: keep rows with this fraction (float
            compare with ``np.isclose``); None keeps all fractions (then rows of every fraction are pooled).

    Returns:
        One row per gene, sorted by ``gene_id``: ``gene_id, gene, pcc, r2, n_folds`` (folds present), plus
        ``h2`` (mean of the gene's non-NaN ``h2``, NaN if unknown) and ``n_train`` (mean) when those
        columns exist. Empty (same columns) when no row matches.
    """
    rows = _select(table, model, split, gene_set, train_fraction)
    extra = [c for c in ("h2", "n_train") if c in rows.columns]
    columns = ["gene_id", "gene", "pcc", "r2", "n_folds", *extra]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    aggregations = {
        "gene": ("gene", "first"),
        "pcc": ("pcc", "mean"),
        "r2": ("r2", "mean"),
        "n_folds": ("fold", "nunique"),
        **{c: (c, "mean") for c in extra},
    }
    means = rows.groupby("gene_id", sort=True).agg(**aggregations).reset_index()
    return means[columns]


def _paired(left: pd.DataFrame, right: pd.DataFrame, names: tuple[str, str], metrics: Sequence[str]) -> pd.DataFrame:
    """Inner join of two fold-mean tables on ``gene_id``, metric columns renamed ``<name>_<metric>``."""
    a = left[["gene_id", "gene", *metrics]].rename(columns={m: f"{names[0]}_{m}" for m in metrics})
    b = right[["gene_id", *metrics]].rename(columns={m: f"{names[1]}_{m}" for m in metrics})
    return a.merge(b, on="gene_id", how="inner").sort_values("gene_id").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------------
# Fig. 1b: Performer vs elastic net per gene
# ----------------------------------------------------------------------------------------------------------


def performer_vs_elastic_net_points(table: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Values plotted in Fig. 1b: per gene, Performer and elastic-net fold-mean PCC and R^2.

    Uses HOP rows with ``train_fraction`` 1.0 of ``split``; each value is the mean of the gene's per-fold
    ``pcc`` / ``r2`` (``fold_means``). Only genes that both models have are kept.

    Returns:
        ``gene_id, gene, performer_pcc, performer_r2, elastic_net_pcc, elastic_net_r2``, sorted by
        ``gene_id``; empty when either model has no rows or the table lacks ``TABLE_COLUMNS``.
    """
    columns = ["gene_id", "gene", "performer_pcc", "performer_r2", "elastic_net_pcc", "elastic_net_r2"]
    if missing_columns(table, TABLE_COLUMNS, "table"):
        return pd.DataFrame(columns=columns)
    performer = fold_means(table, "performer", split, "HOP")
    elastic_net = fold_means(table, "elastic_net", split, "HOP")
    return _paired(performer, elastic_net, ("performer", "elastic_net"), ("pcc", "r2"))[columns]


def plot_performer_vs_elastic_net(table: pd.DataFrame, path: str | Path, split: str = "test") -> Path | None:
    """Paper Fig. 1b: per gene, Performer (y) vs elastic-net (x) PCC (left) and R^2 (right), with y = x.

    Columns used: ``model, gene_id, gene, fold, split, gene_set, train_fraction, pcc, r2``. Each point is
    a gene (HOP rows, ``train_fraction`` 1.0, ``split``); its coordinates are the means over folds of the
    gene's per-fold metric (``performer_vs_elastic_net_points``). The title gives the number of genes and,
    per panel, the fraction of genes strictly above the diagonal (Performer better).

    Returns:
        The PNG path, or None (logged) when the table has no gene with both models.
    """
    reason = missing_columns(table, TABLE_COLUMNS, "table")
    points = performer_vs_elastic_net_points(table, split) if reason is None else None
    if reason is None and points.empty:
        reason = f"no gene has both performer and elastic_net HOP rows (split={split!r}, train_fraction=1.0)"
    if reason:
        log.warning("Skipping Fig. 1b (performer vs elastic net): %s", reason)
        return None
    fig = new_figure(10, 5.8)
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("pcc", "r2")):
        x = points[f"elastic_net_{metric}"].to_numpy(float)
        y = points[f"performer_{metric}"].to_numpy(float)
        finite = np.isfinite(x) & np.isfinite(y)
        if (~finite).any():
            log.warning("Fig. 1b %s: %d genes with a NaN fold mean left out", metric, int((~finite).sum()))
        x, y = x[finite], y[finite]
        above = int((y > x).sum())
        ax.scatter(x, y, s=18, alpha=0.75, color="tab:blue", edgecolor="none")
        diagonal(ax, x, y)
        ax.set_xlabel(f"{model_label('elastic_net')} {METRIC_LABELS[metric]}")
        ax.set_ylabel(f"{model_label('performer')} {METRIC_LABELS[metric]}")
        share = f"{above / len(x):.0%}" if len(x) else "n/a"
        ax.set_title(f"{METRIC_LABELS[metric]}: {above}/{len(x)} genes above y = x ({share})", fontsize="medium")
    fig.suptitle(f"Performer vs elastic net, {split} people of {len(points)} genes (HOP, mean over folds)")
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Fig. 1c: R^2 difference by heritability
# ----------------------------------------------------------------------------------------------------------


def _bin_labels(edges: Sequence[float]) -> list[str]:
    """Labels of half-open bins [a, b), the last closed [a, b]; infinite edges written as < b / >= a."""
    labels = []
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(edges) - 2
        if np.isinf(a):
            labels.append(f"< {b:g}")
        elif np.isinf(b):
            labels.append(f"\u2265 {a:g}")
        else:
            labels.append(f"[{a:g}, {b:g}{']' if last else ')'}")
    return labels


def _assign_bins(values: pd.Series, edges: Sequence[float]) -> pd.Series:
    """Bin index per value: [e_i, e_{i+1}) with the last bin closed; -1 outside the edges or NaN."""
    edges = np.asarray(edges, float)
    v = values.to_numpy(float)
    index = np.searchsorted(edges, v, side="right") - 1
    index[v == edges[-1]] = len(edges) - 2  # the last bin is closed
    index[np.isnan(v) | (v < edges[0]) | (v > edges[-1])] = -1
    return pd.Series(index, index=values.index)


def r2_difference_points(
    table: pd.DataFrame,
    split: str = "test",
    h2_bins: Sequence[float] = H2_BINS,
    elastic_net_r2_bins: Sequence[float] = ELASTIC_NET_R2_BINS,
) -> pd.DataFrame:
    """Values plotted in Fig. 1c: per gene, Performer R^2 minus elastic-net R^2 and its heritability bin.

    R^2 values are fold means on HOP rows with ``train_fraction`` 1.0 (``performer_vs_elastic_net_points``).
    Genes are binned by ``h2`` (the gene's mean non-NaN ``h2`` over the Performer rows, else the elastic-net
    rows) with ``h2_bins`` when any gene has a known ``h2``; genes without one are then left out (logged).
    When ``h2`` is unknown for every gene, genes are binned by elastic-net R^2 with ``elastic_net_r2_bins``.
    Bins are [a, b), the last one closed.

    Returns:
        ``gene_id, gene, performer_r2, elastic_net_r2, delta_r2, h2, bin_by`` ("h2" | "elastic_net_r2"),
        ``bin_value``, ``bin`` (ordered categorical of bin labels); genes outside every bin are dropped.
    """
    columns = ["gene_id", "gene", "performer_r2", "elastic_net_r2", "delta_r2", "h2", "bin_by", "bin_value", "bin"]
    points = performer_vs_elastic_net_points(table, split)
    if points.empty:
        return pd.DataFrame(columns=columns)
    points = points[["gene_id", "gene", "performer_r2", "elastic_net_r2"]].copy()
    points["delta_r2"] = points["performer_r2"] - points["elastic_net_r2"]
    points["h2"] = np.nan
    if "h2" in table.columns:
        performer_h2 = fold_means(table, "performer", split, "HOP").set_index("gene_id")["h2"]
        elastic_net_h2 = fold_means(table, "elastic_net", split, "HOP").set_index("gene_id")["h2"]
        h2 = performer_h2.combine_first(elastic_net_h2)
        points["h2"] = points["gene_id"].map(h2).astype(float)
    if points["h2"].notna().any():
        points["bin_by"], edges = "h2", h2_bins
        n_unknown = int(points["h2"].isna().sum())
        if n_unknown:
            log.warning("Fig. 1c: %d genes without a known h2 left out", n_unknown)
        points["bin_value"] = points["h2"]
    else:
        points["bin_by"], edges = "elastic_net_r2", elastic_net_r2_bins
        points["bin_value"] = points["elastic_net_r2"]
    index = _assign_bins(points["bin_value"], edges)
    n_outside = int(((index < 0) & points["bin_value"].notna()).sum())
    if n_outside:
        log.warning("Fig. 1c: %d genes outside the bins %s left out", n_outside, list(edges))
    labels = _bin_labels(edges)
    points = points[(index >= 0).to_numpy() & points["delta_r2"].notna().to_numpy()].copy()
    points["bin"] = pd.Categorical.from_codes(index[points.index].to_numpy(), categories=labels, ordered=True)
    return points[columns].reset_index(drop=True)


def plot_r2_difference_by_heritability(
    table: pd.DataFrame,
    path: str | Path,
    split: str = "test",
    h2_bins: Sequence[float] = H2_BINS,
    elastic_net_r2_bins: Sequence[float] = ELASTIC_NET_R2_BINS,
) -> Path | None:
    """Paper Fig. 1c: per gene, Performer R^2 minus elastic-net R^2, as box + strip plots by heritability bin.

    Columns used: those of ``plot_performer_vs_elastic_net`` plus ``h2``. Values are fold means on HOP rows
    with ``train_fraction`` 1.0 (``r2_difference_points``); bins are of simulated ``h2`` when known, else of
    elastic-net R^2 (a proxy for cis-heritability, stated on the x label). Tick labels give the number of
    genes per bin; a horizontal line marks 0 (no difference).

    Returns:
        The PNG path, or None (logged) when no gene has both models (or none falls in a bin).
    """
    reason = missing_columns(table, TABLE_COLUMNS, "table")
    points = r2_difference_points(table, split, h2_bins, elastic_net_r2_bins) if reason is None else None
    if reason is None and points.empty:
        reason = f"no binned gene has both performer and elastic_net HOP rows (split={split!r})"
    if reason:
        log.warning("Skipping Fig. 1c (R^2 difference by heritability): %s", reason)
        return None
    labels = list(points["bin"].cat.categories)
    groups = [points.loc[points["bin"] == label, "delta_r2"].to_numpy(float) for label in labels]
    positions = np.arange(1, len(labels) + 1)
    fig = new_figure(max(5.0, 1.3 * len(labels) + 2), 4.8)
    ax = fig.subplots()
    filled = [i for i, g in enumerate(groups) if len(g)]
    ax.boxplot(
        [groups[i] for i in filled],
        positions=positions[filled],
        widths=0.5,
        showfliers=False,
        medianprops={"color": "black"},
        boxprops={"color": "0.3"},
    )
    rng = np.random.default_rng(0)
    for i in filled:
        jitter = rng.uniform(-0.12, 0.12, size=len(groups[i]))
        ax.scatter(positions[i] + jitter, groups[i], s=14, alpha=0.7, color="tab:blue", edgecolor="none", zorder=3)
    ax.axhline(0.0, **REFERENCE_LINE, zorder=0)
    ax.set_xticks(positions, [f"{label}\nn={len(g)}" for label, g in zip(labels, groups)])
    ax.set_xlim(0.4, len(labels) + 0.6)
    if points["bin_by"].iloc[0] == "h2":
        ax.set_xlabel("simulated cis-heritability $h^2$")
    else:
        ax.set_xlabel("elastic-net $R^2$ (proxy for heritability; $h^2$ unknown)")
    ax.set_ylabel(f"{model_label('performer')} $R^2$ \u2212 {model_label('elastic_net')} $R^2$")
    ax.set_title(f"$R^2$ difference per gene\n{split} people of {len(points)} genes (HOP, mean over folds)")
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Fig. 1a: observed vs predicted expression of one gene
# ----------------------------------------------------------------------------------------------------------


def observed_vs_predicted_points(
    predictions: pd.DataFrame, gene: str, model: str = "performer", split: str = "test", gene_set: str = "HOP"
) -> pd.DataFrame:
    """Prediction rows of Fig. 1a: one gene (matched on ``gene`` or ``gene_id``), model, split and gene set,
    ``train_fraction`` 1.0, all folds, one experiment (see the module docstring); rows with NaN ``y`` or
    ``pred`` dropped (logged). Empty when nothing matches or ``predictions`` lacks ``PREDICTION_COLUMNS``.
    """
    if missing_columns(predictions, PREDICTION_COLUMNS, "predictions"):
        return predictions.iloc[0:0]
    rows = predictions[
        (predictions["gene"].astype(str) == str(gene)) | (predictions["gene_id"].astype(str) == str(gene))
    ]
    rows = _select(rows, model, split, gene_set)
    finite = rows["y"].notna() & rows["pred"].notna()
    if (~finite).any():
        log.warning("Fig. 1a %s: %d prediction rows with NaN y or pred left out", gene, int((~finite).sum()))
    return rows[finite].reset_index(drop=True)


def pooled_metrics(rows: pd.DataFrame) -> dict[str, float]:
    """PCC and R^2 of ``pred`` against ``y`` over all rows pooled (all folds together), and ``n`` rows.

    The metrics are ``performer.metrics.gene_metrics`` (``scipy.stats.pearsonr``, ``sklearn.metrics.r2_score``):
    PCC is NaN when ``y`` or ``pred`` is constant, and both are NaN with fewer than 2 rows.
    """
    metrics = gene_metrics(rows["y"].to_numpy(float), rows["pred"].to_numpy(float))
    return {"pcc": metrics["pcc"], "r2": metrics["r2"], "n": metrics["n_people"]}


def plot_observed_vs_predicted(
    predictions: pd.DataFrame, gene: str, path: str | Path, model: str = "performer", split: str = "test"
) -> Path | None:
    """Paper Fig. 1a: observed (x) vs predicted (y) expression of one gene's held-out people, all folds.

    Columns used: ``model, gene_id, gene, fold, split, gene_set, train_fraction, y, pred`` (HOP rows,
    ``train_fraction`` 1.0). Points are coloured by fold; each person appears once per fold they were in
    ``split``. The title gives PCC (``scipy.stats.pearsonr``) and R^2 (``sklearn.metrics.r2_score``) of the
    pooled points of all folds (not a mean over folds), and the dashed line is y = x.

    Returns:
        The PNG path, or None (logged) when the gene has fewer than 2 matching rows.
    """
    reason = missing_columns(predictions, PREDICTION_COLUMNS, "predictions")
    rows = observed_vs_predicted_points(predictions, gene, model, split) if reason is None else None
    if reason is None and len(rows) < 2:
        reason = f"{len(rows)} {model} {split} HOP prediction rows for gene {gene!r} (need 2)"
    if reason:
        log.warning("Skipping Fig. 1a (observed vs predicted): %s", reason)
        return None
    y = rows["y"].to_numpy(float)
    pred = rows["pred"].to_numpy(float)
    pooled = pooled_metrics(rows)
    pcc, r2 = pooled["pcc"], pooled["r2"]
    fig = new_figure(5.4, 5.2)
    ax = fig.subplots()
    for fold, group in rows.groupby("fold", sort=True):
        ax.scatter(group["y"], group["pred"], s=14, alpha=0.75, edgecolor="none", label=f"fold {fold}")
    diagonal(ax, y, pred)
    ax.legend(frameon=False, fontsize="small")
    ax.set_xlabel("observed expression")
    ax.set_ylabel(f"{model_label(model)} predicted expression")
    name = rows["gene"].iloc[0]
    ax.set_title(f"{name}: {split} people (n={len(rows)}), PCC = {pcc:.3f}, $R^2$ = {r2:.3f}")
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Fig. 5c: held-out genes vs training genes
# ----------------------------------------------------------------------------------------------------------


def hogp_vs_hop_points(table: pd.DataFrame, metric: str = "pcc", split: str = "test") -> pd.DataFrame:
    """Values plotted in Fig. 5c: per gene with both, Performer fold-mean ``metric`` on HOGP and on HOP rows.

    Returns:
        ``gene_id, gene, hogp_<metric>, hop_<metric>`` sorted by ``gene_id`` (``train_fraction`` 1.0);
        empty when either gene set has no Performer rows.
    """
    if metric not in METRIC_LABELS:
        raise ValueError(f"metric must be one of {list(METRIC_LABELS)}, got {metric!r}")
    columns = ["gene_id", "gene", f"hogp_{metric}", f"hop_{metric}"]
    if missing_columns(table, TABLE_COLUMNS, "table"):
        return pd.DataFrame(columns=columns)
    hogp = fold_means(table, "performer", split, "HOGP")
    hop = fold_means(table, "performer", split, "HOP")
    return _paired(hogp, hop, ("hogp", "hop"), (metric,))[columns]


def plot_hogp_vs_hop(table: pd.DataFrame, path: str | Path, metric: str = "pcc", split: str = "test") -> Path | None:
    """Paper Fig. 5c: per gene, Performer ``metric`` on held-out genes and people (HOGP, x) vs held-out
    people of training genes (HOP, y), for genes evaluated both ways, with y = x.

    Columns used: ``model, gene_id, gene, fold, split, gene_set, train_fraction`` and ``metric``
    ("pcc" | "r2"). Values are means over folds (``hogp_vs_hop_points``).

    Returns:
        The PNG path, or None (logged) when no gene has both HOGP and HOP Performer rows.

    Raises:
        ValueError: unknown ``metric``.
    """
    reason = missing_columns(table, TABLE_COLUMNS, "table")
    points = hogp_vs_hop_points(table, metric, split) if reason is None else None
    if reason is None and points.empty:
        reason = f"no gene has both HOGP and HOP performer rows (split={split!r}, train_fraction=1.0)"
    if reason:
        log.warning("Skipping Fig. 5c (HOGP vs HOP): %s", reason)
        return None
    x = points[f"hogp_{metric}"].to_numpy(float)
    y = points[f"hop_{metric}"].to_numpy(float)
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    fig = new_figure(5.4, 5.2)
    ax = fig.subplots()
    ax.scatter(x, y, s=18, alpha=0.75, color="tab:purple", edgecolor="none")
    diagonal(ax, x, y)
    label = METRIC_LABELS[metric]
    ax.set_xlabel(f"{model_label('performer')} {label}, HOGP (held-out genes and people)")
    ax.set_ylabel(f"{model_label('performer')} {label}, HOP (held-out people)")
    ax.set_title(
        f"{label}, {split} people of {len(x)} genes (mean over folds)\n{int((y > x).sum())}/{len(x)} above y = x"
    )
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Learning curves over train-set size
# ----------------------------------------------------------------------------------------------------------


def learning_curve_points(table: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Values plotted in the learning curve: per model (and experiment) and train fraction, the mean over
    genes of the fold-mean PCC and R^2, their SEM over genes, and the mean ``n_train``.

    Only HOP rows of ``split`` of (model, experiment) groups with at least 2 distinct ``train_fraction``
    values are used. A gene's value at one fraction is the mean over its folds; ``n_train`` is the mean over
    genes and folds; SEM = sample standard deviation over genes / sqrt(number of genes) (NaN for one gene).

    Returns:
        ``model, experiment, label, train_fraction, n_train, n_genes, pcc_mean, pcc_sem, r2_mean, r2_sem``
        sorted by model, experiment, train fraction; ``label`` is the model name, with the experiment added
        when one model has several such experiments. Empty when no group has several fractions.
    """
    columns = ["model", "experiment", "label", "train_fraction", "n_train", "n_genes"]
    columns += ["pcc_mean", "pcc_sem", "r2_mean", "r2_sem"]
    if missing_columns(table, [*TABLE_COLUMNS, "n_train"], "table"):
        return pd.DataFrame(columns=columns)
    rows = table[(table["split"] == split) & (table["gene_set"] == "HOP")].copy()
    if "experiment" not in rows.columns:
        rows["experiment"] = ""
    rows["experiment"] = rows["experiment"].fillna("").astype(str)
    rows["train_fraction"] = rows["train_fraction"].astype(float).round(6)
    n_fractions = rows.groupby(["model", "experiment"])["train_fraction"].transform("nunique")
    rows = rows[n_fractions >= 2]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    keys = ["model", "experiment", "train_fraction"]
    genes = rows.groupby([*keys, "gene_id"]).agg(pcc=("pcc", "mean"), r2=("r2", "mean"))
    curve = genes.groupby(keys).agg(
        n_genes=("pcc", "count"),
        pcc_mean=("pcc", "mean"),
        pcc_sem=("pcc", "sem"),
        r2_mean=("r2", "mean"),
        r2_sem=("r2", "sem"),
    )
    curve = curve.join(rows.groupby(keys)["n_train"].mean()).reset_index()
    n_experiments = curve.groupby("model")["experiment"].transform("nunique")
    curve["label"] = [
        model_label(m) + (f" ({e})" if n > 1 else "")
        for m, e, n in zip(curve["model"], curve["experiment"], n_experiments)
    ]
    return curve.sort_values(keys).reset_index(drop=True)[columns]


def plot_learning_curve(table: pd.DataFrame, path: str | Path, split: str = "test") -> Path | None:
    """Learning curves (the paper's train-set downsampling): PCC (left) and R^2 (right) against the number
    of train people, one line per model, error bars = SEM over genes.

    Columns used: ``model, experiment, gene_id, fold, split, gene_set, train_fraction, n_train, pcc, r2``
    (HOP rows of ``split``; only models/experiments with several ``train_fraction`` values). Each point is
    the mean over genes of the per-gene fold means at one train fraction, at x = mean ``n_train``
    (``learning_curve_points``).

    Returns:
        The PNG path, or None (logged) when no model has rows at several train fractions.
    """
    reason = missing_columns(table, [*TABLE_COLUMNS, "n_train"], "table")
    points = learning_curve_points(table, split) if reason is None else None
    if reason is None and points.empty:
        reason = f"no model has HOP {split} rows at 2 or more train_fraction values"
    if reason:
        log.warning("Skipping learning curve: %s", reason)
        return None
    fig = new_figure(10, 4.6)
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("pcc", "r2")):
        for label, group in points.groupby("label", sort=False):
            ax.errorbar(
                group["n_train"],
                group[f"{metric}_mean"],
                yerr=group[f"{metric}_sem"].fillna(0.0),
                marker="o",
                capsize=3,
                label=label,
            )
        ax.set_xlabel("train people ($n_{train}$)")
        ax.set_ylabel(f"mean {METRIC_LABELS[metric]} over genes (\u00b1 SEM)")
        ax.set_title(f"{METRIC_LABELS[metric]}, {split} people (HOP, mean over folds and genes)")
        ax.legend(frameon=False, fontsize="small")
    n_genes = int(points["n_genes"].max())
    fig.suptitle(f"Learning curve: accuracy vs train-set size (up to {n_genes} genes)")
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Cross-cohort evaluation
# ----------------------------------------------------------------------------------------------------------


def plot_cross_cohort(table: pd.DataFrame, path: str | Path) -> Path | None:
    """Per model: each gene's HOP test R^2 (mean over folds) against its cross-cohort R^2 (mean over folds).

    Columns used: ``model, gene, gene_set, split, r2`` (HOP rows of the test split; rows with ``gene_set`` =
    :data:`~performer.evaluation.tables.CROSS_COHORT`); written to :data:`CROSS_COHORT_FIGURE` by the evaluation.

    Returns:
        The path written, or None (logged) when the table holds no pair.
    """
    keys = ["model", "gene"]
    hop = table[(table["gene_set"] == "HOP") & (table["split"] == "test")].groupby(keys)["r2"].mean()
    cross = table[table["gene_set"] == CROSS_COHORT].groupby(keys)["r2"].mean()
    pairs = pd.concat([hop.rename("hop"), cross.rename("cross")], axis=1).dropna().reset_index()
    if pairs.empty:
        log.info("cross-cohort figure skipped: no gene with both HOP and cross-cohort rows")
        return None
    fig = new_figure(4.5, 4.5)
    fig.set_layout_engine("none")  # laid out once by tight_layout below, as this figure always was
    ax = fig.subplots()
    for model, group in pairs.groupby("model"):
        ax.scatter(group["hop"], group["cross"], label=model, s=18)
    low = float(min(pairs["hop"].min(), pairs["cross"].min(), 0))
    high = float(max(pairs["hop"].max(), pairs["cross"].max(), 0.1))
    ax.plot([low, high], [low, high], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("HOP test R$^2$ (own cohort)")
    ax.set_ylabel("cross-cohort R$^2$ (all people)")
    ax.legend(frameon=False)
    fig.tight_layout()
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# All figures
# ----------------------------------------------------------------------------------------------------------


def best_gene(table: pd.DataFrame, split: str = "test", candidates: Sequence[str] | None = None) -> str | None:
    """The Performer gene (``gene`` name) with the highest fold-mean PCC on HOP ``split`` rows at
    ``train_fraction`` 1.0, among ``candidates`` (gene names or IDs) when given; None when there is none."""
    if missing_columns(table, TABLE_COLUMNS, "table"):
        return None
    means = fold_means(table, "performer", split, "HOP").dropna(subset=["pcc"])
    if candidates is not None:
        wanted = {str(c) for c in candidates}
        means = means[means["gene"].astype(str).isin(wanted) | means["gene_id"].astype(str).isin(wanted)]
    if means.empty:
        return None
    return str(means.sort_values(["pcc", "gene_id"], ascending=[False, True]).iloc[0]["gene"])


def write_figures(
    table: pd.DataFrame, predictions: pd.DataFrame | None, out_dir: str | Path, gene: str | None = None
) -> list[Path]:
    """Write every figure the tables support into ``out_dir`` and return the paths written.

    Files: ``performer_vs_elastic_net.png`` (Fig. 1b), ``r2_difference_by_h2.png`` (Fig. 1c),
    ``observed_vs_predicted_<gene>.png`` (Fig. 1a; ``gene`` defaults to ``best_gene`` among the genes in
    ``predictions``), ``hogp_vs_hop.png`` (Fig. 5c, PCC) and ``learning_curve.png``. A figure the tables
    cannot support is skipped with a logged reason; all use the test split.
    """
    out_dir = Path(out_dir)
    written = [
        plot_performer_vs_elastic_net(table, out_dir / FIGURE_FILES["performer_vs_elastic_net"]),
        plot_r2_difference_by_heritability(table, out_dir / FIGURE_FILES["r2_difference_by_h2"]),
    ]
    if predictions is not None and not missing_columns(predictions, PREDICTION_COLUMNS, "predictions"):
        if gene is None:
            performer = predictions[(predictions["model"] == "performer") & (predictions["split"] == "test")]
            gene = best_gene(table, "test", candidates=performer["gene"].astype(str).unique())
        if gene is not None:
            path = out_dir / f"observed_vs_predicted_{file_safe(str(gene))}.png"
            written.append(plot_observed_vs_predicted(predictions, gene, path))
        else:
            log.warning("Skipping Fig. 1a (observed vs predicted): no Performer test gene in both tables")
    else:
        log.warning("Skipping Fig. 1a (observed vs predicted): no usable predictions table")
    written.append(plot_hogp_vs_hop(table, out_dir / FIGURE_FILES["hogp_vs_hop"]))
    written.append(plot_learning_curve(table, out_dir / FIGURE_FILES["learning_curve"]))
    return [p for p in written if p is not None]
