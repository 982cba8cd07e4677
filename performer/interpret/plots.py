"""Variant-interpretation figures (paper Fig. 2a / 4a track views, Fig. 2c, HSV distances, truth checks).

Inputs are the tidy tables the interpretation pipeline writes (``performer.tasks.interpret``):

- ``ism.csv``: one row per (run, gene, SNV): ``model, experiment, run_dir, fold, gene_id, gene, chrom,
  pos`` (0-based), ``ref, alt, snv_id, maf, distance_to_tss`` (bp, ``pos - tss``), ``ism`` (float),
  ``en_coef`` (elastic-net coefficient of the SNV in the same gene and fold; NaN when no elastic net was
  fitted), ``is_hsv`` (bool, high-scoring variant), ``hsv_rank`` (NaN if not an HSV), ``is_driver`` (bool),
  ``is_causal`` (bool, NaN when the truth is unknown), ``true_beta`` (NaN or 0 unless causal).
- ``truth_checks.csv``: one row per (run, gene) with a known truth: ``experiment, fold, gene_id, gene, h2,
  n_snvs, n_causal, ism_auroc, ism_aupr, en_auroc, en_aupr, sign_agreement``.

Flag columns (``is_hsv``, ``is_driver``, ``is_causal``) are read as bools whether they hold bools, 0/1 or
the strings ``"True"`` / ``"False"`` (as a CSV round trip can leave them; :func:`performer.interpret.tables.flags`,
also importable from here); missing values count as False for ``is_hsv`` / ``is_driver`` and as unknown for
``is_causal``. Optional columns (``en_coef``, the flags) may be absent; a figure that needs one is then skipped.

Run sets: if the table holds several (``model``, ``experiment``, ``train_fraction``) combinations (e.g. a
single-gene and a multi-gene Performer run, or downsampled runs), each figure uses one of them: the one
with the most genes (ties: ``train_fraction`` 1.0 first, then by name), and the choice is logged; filter
the table first to choose another. A track view uses the best-ranked run set that has its gene.

Every ``plot_*`` function writes one PNG and returns its ``Path``, or returns ``None`` and logs (``logging``
warning) why when the table lacks what the figure needs; none raises on an empty subset. Figures are made
and saved with ``performer.plotting`` (as the evaluation figures): on the Agg canvas, never pyplot. The
``*_points`` functions return the plotted values, for tests and for users' own plots.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from performer.interpret.tables import flags
from performer.plotting import diagonal, file_safe, missing_columns, new_figure, save_figure

log = logging.getLogger(__name__)

#: Columns every figure of the ISM table needs.
ISM_PLOT_COLUMNS = ["gene_id", "gene", "fold", "distance_to_tss", "ism"]
#: Columns the truth-recovery figure needs.
TRUTH_PLOT_COLUMNS = ["gene_id", "ism_auroc", "en_auroc"]
#: Number of genes drawn as track views by default (those with the most HSVs).
N_TRACK_GENES = 6

FIGURE_FILES = {
    "hsv_distance": "hsv_distance.png",
    "ism_vs_elastic_net": "ism_vs_elastic_net.png",
    "truth_recovery": "truth_recovery.png",
}


# ----------------------------------------------------------------------------------------------------------
# Table helpers
# ----------------------------------------------------------------------------------------------------------


def _flag(table: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` of ``table`` as bool ``(n,)``, missing values and a missing column as False."""
    return flags(table[column] if column in table.columns else None, len(table)) == 1.0


def _float(table: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` as float64 ``(n,)``; NaN when the column is absent."""
    if column not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)


def _run_set_ids(table: pd.DataFrame) -> tuple[np.ndarray, list[int], dict[int, str]]:
    """Group id per row (int ``(n,)``, positional) of the (``model``, ``experiment``, ``train_fraction``) run
    sets present, the ids ranked best first (most genes; ties: train fraction 1.0 first, then by name), and
    a label per id."""
    keys = [c for c in ("model", "experiment", "train_fraction") if c in table.columns]
    if not keys or table.empty:
        return np.zeros(len(table), dtype=np.int64), [0], {0: "all rows"}
    ids = table.groupby(keys, dropna=False, sort=True).ngroup().to_numpy()
    genes = table["gene_id"].to_numpy() if "gene_id" in table.columns else np.zeros(len(table))
    n_genes = pd.Series(genes).groupby(ids).nunique()
    _, first = np.unique(ids, return_index=True)
    labels, full_fraction = {}, {}
    for i, row in zip(ids[first], first):
        values = table.iloc[row]
        labels[int(i)] = ", ".join(f"{k}={values[k]}" for k in keys)
        fraction = pd.to_numeric(pd.Series([values.get("train_fraction", np.nan)]), errors="coerce").iloc[0]
        full_fraction[int(i)] = bool(np.isnan(fraction) or np.isclose(fraction, 1.0))
    order = sorted(labels, key=lambda i: (-n_genes[i], not full_fraction[i], labels[i]))
    return ids, order, labels


def one_run_set(table: pd.DataFrame, what: str = "table") -> pd.DataFrame:
    """Rows of one (``model``, ``experiment``, ``train_fraction``) run set: the one with the most genes (ties:
    ``train_fraction`` 1.0 first, then by name); the choice is logged when there were several."""
    ids, order, labels = _run_set_ids(table)
    if len(order) > 1:
        log.warning(
            "%s holds %d run sets %s; using %r (most genes). Filter the table to choose another.",
            what,
            len(order),
            [labels[i] for i in order],
            labels[order[0]],
        )
    return table[ids == order[0]]


def _gene_mask(table: pd.DataFrame, gene: str) -> np.ndarray:
    """Rows whose ``gene`` name or ``gene_id`` equals ``gene`` (as strings)."""
    mask = table["gene"].astype(str) == str(gene)
    if "gene_id" in table.columns:
        mask |= table["gene_id"].astype(str) == str(gene)
    return mask.to_numpy()


def _gene_label(rows: pd.DataFrame) -> str:
    name, gene_id = rows["gene"].iloc[0], rows["gene_id"].iloc[0]
    if pd.isna(name) or str(name) == str(gene_id):
        return str(gene_id)
    return f"{name} ({gene_id})"


# ----------------------------------------------------------------------------------------------------------
# Fig. 2a / 4a: track view of one gene
# ----------------------------------------------------------------------------------------------------------


def track_points(ism: pd.DataFrame, gene: str, fold: int | None = None) -> pd.DataFrame:
    """Rows drawn in the track view of one gene (matched on ``gene`` or ``gene_id``) and fold.

    The fold is ``fold`` when given, else the lowest fold the gene has; rows come from one run set (the
    best-ranked one that has the gene, see the module docstring) and one ``run_dir`` (the first by name,
    logged, if several remain). Rows with a NaN ``ism`` or ``distance_to_tss`` are dropped (logged).

    Returns:
        Sorted by ``distance_to_tss``: ``gene_id, gene, fold, distance_to_tss`` (bp, int64), ``ism``,
        ``en_coef`` (NaN when absent), bool ``is_hsv``, ``is_driver``, float ``is_causal`` (1.0, 0.0 or NaN
        when unknown). Empty (same columns) when the gene or fold is absent or the table lacks
        ``ISM_PLOT_COLUMNS``.
    """
    columns = ["gene_id", "gene", "fold", "distance_to_tss", "ism", "en_coef", "is_hsv", "is_driver", "is_causal"]
    empty = pd.DataFrame(columns=columns)
    if missing_columns(ism, ISM_PLOT_COLUMNS, "ISM table"):
        return empty
    gene_rows = _gene_mask(ism, gene)
    if not gene_rows.any():
        return empty
    ids, order, labels = _run_set_ids(ism)
    present = [i for i in order if (gene_rows & (ids == i)).any()]
    if len(present) > 1:
        log.warning("gene %s is in %d run sets; using %r", gene, len(present), labels[present[0]])
    rows = ism[gene_rows & (ids == present[0])]
    folds = sorted(pd.unique(rows["fold"]))
    chosen = folds[0] if fold is None else fold
    rows = rows[rows["fold"] == chosen]
    if rows.empty:
        return empty
    if "run_dir" in rows.columns and rows["run_dir"].nunique() > 1:
        run_dirs = sorted(rows["run_dir"].astype(str).unique())
        log.warning("gene %s fold %s has %d runs; using %s", gene, chosen, len(run_dirs), run_dirs[0])
        rows = rows[rows["run_dir"].astype(str) == run_dirs[0]]
    out = pd.DataFrame(
        {
            "gene_id": rows["gene_id"].to_numpy(),
            "gene": rows["gene"].to_numpy(),
            "fold": rows["fold"].to_numpy(),
            "distance_to_tss": _float(rows, "distance_to_tss"),
            "ism": _float(rows, "ism"),
            "en_coef": _float(rows, "en_coef"),
            "is_hsv": _flag(rows, "is_hsv"),
            "is_driver": _flag(rows, "is_driver"),
            "is_causal": flags(rows["is_causal"] if "is_causal" in rows.columns else None, len(rows)),
        }
    )
    finite = np.isfinite(out["ism"]) & np.isfinite(out["distance_to_tss"])
    if (~finite).any():
        log.warning("track %s fold %s: %d SNVs with NaN ISM or distance left out", gene, chosen, int((~finite).sum()))
    out = out[finite].astype({"distance_to_tss": np.int64})
    return out.sort_values("distance_to_tss", kind="stable").reset_index(drop=True)[columns]


def _stems(ax, x: np.ndarray, y: np.ndarray, label: str, color: str = "0.45") -> None:
    ax.vlines(x, 0.0, y, color=color, linewidth=0.7, alpha=0.7, zorder=1)
    ax.scatter(x, y, s=9, color=color, edgecolor="none", zorder=2, label=label)


def _marks(ax, rows: pd.DataFrame, value: str) -> None:
    """HSV and driver markers, causal-SNV lines and the TSS line on one track panel."""
    y = rows[value].to_numpy(float)
    hsv = rows["is_hsv"].to_numpy(bool) & np.isfinite(y)
    driver = rows["is_driver"].to_numpy(bool) & np.isfinite(y)
    x = rows["distance_to_tss"].to_numpy(float)
    if hsv.any():
        ax.scatter(x[hsv], y[hsv], s=55, facecolors="none", edgecolors="tab:red", linewidths=1.3, zorder=3, label="HSV")
    if driver.any():
        ax.scatter(x[driver], y[driver], s=90, marker="*", color="tab:blue", zorder=4, label="driver")
    causal = rows["is_causal"].to_numpy(float) == 1.0
    for i, position in enumerate(x[causal]):
        label = "causal SNV (truth)" if i == 0 else None
        ax.axvline(position, color="tab:green", linestyle="--", linewidth=0.9, zorder=0, label=label)
    ax.axvline(0.0, color="black", linestyle=":", linewidth=1.2, zorder=0, label="TSS")
    ax.axhline(0.0, color="0.75", linewidth=0.6, zorder=0)


def plot_track(ism: pd.DataFrame, gene: str, path: str | Path, fold: int | None = None) -> Path | None:
    """Paper Fig. 2a / 4a: ISM (top) and elastic-net coefficient (bottom) of every SNV of one gene against
    its distance to the TSS (bp, ``pos - tss``), for one fold.

    Columns used: ``gene_id, gene, fold, distance_to_tss, ism``, and when present ``model, experiment,
    train_fraction, run_dir, en_coef, is_hsv, is_driver, is_causal`` (``track_points``). The fold is
    ``fold``, else the lowest fold of the gene. SNVs are stems; HSVs are red rings, drivers blue stars,
    planted causal SNVs (when the truth is known) green dashed vertical lines, the TSS a dotted line at 0.
    The bottom panel says "no elastic net" when every coefficient is NaN.

    Returns:
        The PNG path, or None (logged) when the gene or fold is absent or has no SNV with a finite ISM.
    """
    reason = missing_columns(ism, ISM_PLOT_COLUMNS, "ISM table")
    if reason is None and not _gene_mask(ism, gene).any():
        names = sorted(set(ism["gene"].dropna().astype(str)) | set(ism["gene_id"].dropna().astype(str)))
        close = difflib.get_close_matches(str(gene), names, n=3)
        reason = f"gene {gene!r} is not in the ISM table" + (f" (close matches: {close})" if close else "")
    rows = track_points(ism, gene, fold) if reason is None else None
    if reason is None and rows.empty:
        folds = sorted(pd.unique(ism.loc[_gene_mask(ism, gene), "fold"]))
        reason = f"gene {gene!r} has no SNV with a finite ISM in fold {fold if fold is not None else folds[0]}"
        if fold is not None and fold not in folds:
            reason = f"gene {gene!r} has no rows in fold {fold} (folds present: {folds})"
    if reason:
        log.warning("Skipping track view: %s", reason)
        return None
    chosen = rows["fold"].iloc[0]
    x = rows["distance_to_tss"].to_numpy(float)
    fig = new_figure(11, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True)
    _stems(top, x, rows["ism"].to_numpy(float), "SNV")
    _marks(top, rows, "ism")
    top.set_ylabel("ISM (alt \u2212 ref prediction)")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")

    en = rows["en_coef"].to_numpy(float)
    has_en = np.isfinite(en)
    if has_en.any():
        _stems(bottom, x[has_en], en[has_en], "SNV", color="tab:orange")
        _marks(bottom, rows, "en_coef")
        n_nonzero = int((en[has_en] != 0).sum())
        bottom.set_title(f"elastic net: {n_nonzero} non-zero coefficients", fontsize="small", loc="left")
    else:
        bottom.axvline(0.0, color="black", linestyle=":", linewidth=1.2)
        bottom.text(0.5, 0.5, "no elastic net fitted", transform=bottom.transAxes, ha="center", va="center")
        bottom.set_yticks([])
    bottom.set_ylabel("elastic-net coefficient")
    bottom.set_xlabel("distance to TSS (bp, SNV position \u2212 TSS)")
    n_hsv, n_driver = int(rows["is_hsv"].sum()), int(rows["is_driver"].sum())
    n_causal = int((rows["is_causal"] == 1.0).sum())
    truth = f", {n_causal} causal" if np.isfinite(rows["is_causal"].to_numpy(float)).any() else ""
    fig.suptitle(f"{_gene_label(rows)}, fold {chosen}: {len(rows)} SNVs, {n_hsv} HSVs, {n_driver} drivers{truth}")
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# HSV distance to the TSS
# ----------------------------------------------------------------------------------------------------------


def hsv_distance_points(ism: pd.DataFrame) -> pd.DataFrame:
    """Values of the HSV-distance figure: every scored SNV (finite ISM and distance) of one run set, all
    genes and folds, with its absolute distance to the TSS.

    Returns:
        ``gene_id, fold, distance_to_tss, abs_distance`` (bp, float64), bool ``is_hsv``; empty (same columns)
        when the table lacks ``ISM_PLOT_COLUMNS``.
    """
    columns = ["gene_id", "fold", "distance_to_tss", "abs_distance", "is_hsv"]
    if missing_columns(ism, ISM_PLOT_COLUMNS, "ISM table"):
        return pd.DataFrame(columns=columns)
    rows = one_run_set(ism, "ISM table")
    distance = _float(rows, "distance_to_tss")
    finite = np.isfinite(distance) & np.isfinite(_float(rows, "ism"))
    out = pd.DataFrame(
        {
            "gene_id": rows["gene_id"].to_numpy(),
            "fold": rows["fold"].to_numpy(),
            "distance_to_tss": distance,
            "abs_distance": np.abs(distance),
            "is_hsv": _flag(rows, "is_hsv"),
        }
    )
    return out[finite].reset_index(drop=True)[columns]


def plot_hsv_distance(ism: pd.DataFrame, path: str | Path) -> Path | None:
    """Distribution of |distance to TSS| of HSVs against all scored SNVs, over all genes and folds.

    Columns used: ``gene_id, fold, distance_to_tss, ism, is_hsv`` (``hsv_distance_points``). Histograms on
    log-spaced bins of |distance| in bp (a distance of 0 is drawn in the first bin, at 1 bp); each is
    normalised to fractions of its own SNVs. The title gives the median |distance| of HSVs and of all SNVs.

    Returns:
        The PNG path, or None (logged) when no SNV is scored or none is an HSV.
    """
    reason = missing_columns(ism, [*ISM_PLOT_COLUMNS, "is_hsv"], "ISM table")
    points = hsv_distance_points(ism) if reason is None else None
    if reason is None and points.empty:
        reason = "no SNV with a finite ISM and distance to TSS"
    elif reason is None and not points["is_hsv"].any():
        reason = "no HSV in the ISM table (no elastic net sets k, or k = 0)"
    if reason:
        log.warning("Skipping HSV distance figure: %s", reason)
        return None
    distance = np.maximum(points["abs_distance"].to_numpy(float), 1.0)
    hsv = points["is_hsv"].to_numpy(bool)
    bins = np.geomspace(1.0, max(2.0, distance.max() * 1.05), 31)
    fig = new_figure(7, 4.6)
    ax = fig.subplots()
    for values, label, color, kind in (
        (distance, f"all scored SNVs (n={len(distance)})", "0.6", "stepfilled"),
        (distance[hsv], f"HSVs (n={int(hsv.sum())})", "tab:red", "step"),
    ):
        ax.hist(
            values,
            bins=bins,
            weights=np.full(len(values), 1.0 / len(values)),
            histtype=kind,
            color=color,
            linewidth=1.6,
            alpha=0.8 if kind == "stepfilled" else 1.0,
            label=label,
        )
    median_hsv = float(np.median(points.loc[hsv, "abs_distance"]))
    median_all = float(np.median(points["abs_distance"]))
    ax.axvline(max(median_hsv, 1.0), color="tab:red", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("|distance to TSS| (bp, log scale)")
    ax.set_ylabel("fraction of SNVs")
    ax.legend(frameon=False, fontsize="small")
    n_genes = points["gene_id"].nunique()
    ax.set_title(
        f"HSV distance to TSS ({n_genes} genes, all folds)\n"
        f"median |distance|: HSVs {median_hsv:,.0f} bp, all SNVs {median_all:,.0f} bp"
    )
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Fig. 2c: ISM vs elastic-net coefficient
# ----------------------------------------------------------------------------------------------------------


def sign_agreement_points(ism: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Values of Fig. 2c: SNVs (of one run set, all genes and folds) with a finite ISM and a finite,
    non-zero elastic-net coefficient, and the sign agreement between the two.

    Sign agreement = fraction of those SNVs with ``sign(ism) == sign(en_coef)`` (an ISM of exactly 0 agrees
    with neither sign), as in Drusinsky et al. Fig. 2c.

    Returns:
        (points, agreement): points has ``gene_id, gene, fold, distance_to_tss, ism, en_coef`` and bool
        ``is_hsv``, ``agree``; agreement is NaN when there is no point (no elastic net, or all zero).
    """
    columns = ["gene_id", "gene", "fold", "distance_to_tss", "ism", "en_coef", "is_hsv", "agree"]
    if missing_columns(ism, [*ISM_PLOT_COLUMNS, "en_coef"], "ISM table"):
        return pd.DataFrame(columns=columns), float("nan")
    rows = one_run_set(ism, "ISM table")
    score, coef = _float(rows, "ism"), _float(rows, "en_coef")
    keep = np.isfinite(score) & np.isfinite(coef) & (coef != 0)
    points = pd.DataFrame(
        {
            "gene_id": rows["gene_id"].to_numpy(),
            "gene": rows["gene"].to_numpy(),
            "fold": rows["fold"].to_numpy(),
            "distance_to_tss": _float(rows, "distance_to_tss"),
            "ism": score,
            "en_coef": coef,
            "is_hsv": _flag(rows, "is_hsv"),
            "agree": np.sign(score) == np.sign(coef),
        }
    )[keep].reset_index(drop=True)
    agreement = float(points["agree"].mean()) if len(points) else float("nan")
    return points[columns], agreement


def plot_ism_vs_elastic_net(ism: pd.DataFrame, path: str | Path) -> Path | None:
    """Paper Fig. 2c: ISM (y) against elastic-net coefficient (x) of SNVs with a non-zero coefficient, all
    genes and folds of one run set, with quadrant lines at 0; HSVs drawn in red.

    Columns used: ``gene_id, gene, fold, distance_to_tss, ism, en_coef`` (and ``is_hsv``). The title gives
    the sign agreement (``sign_agreement_points``) and the number of SNVs.

    Returns:
        The PNG path, or None (logged) when no SNV has a finite non-zero elastic-net coefficient.
    """
    reason = missing_columns(ism, [*ISM_PLOT_COLUMNS, "en_coef"], "ISM table")
    if reason is None:
        points, agreement = sign_agreement_points(ism)
        if points.empty:
            reason = "no SNV with a finite ISM and a non-zero elastic-net coefficient (no elastic net fitted?)"
    if reason:
        log.warning("Skipping Fig. 2c (ISM vs elastic net): %s", reason)
        return None
    fig = new_figure(6.4, 5.4)
    ax = fig.subplots()
    hsv = points["is_hsv"].to_numpy(bool)
    ax.scatter(
        points.loc[~hsv, "en_coef"],
        points.loc[~hsv, "ism"],
        s=14,
        alpha=0.7,
        color="0.4",
        edgecolor="none",
        label="SNV",
    )
    if hsv.any():
        ax.scatter(
            points.loc[hsv, "en_coef"],
            points.loc[hsv, "ism"],
            s=18,
            alpha=0.85,
            color="tab:red",
            edgecolor="none",
            label="HSV",
        )
    ax.axhline(0.0, color="0.4", linewidth=0.8, zorder=0)
    ax.axvline(0.0, color="0.4", linewidth=0.8, zorder=0)
    ax.set_xlabel("elastic-net coefficient")
    ax.set_ylabel("ISM (alt \u2212 ref prediction)")
    ax.legend(frameon=False, fontsize="small")
    n_agree = int(points["agree"].sum())
    ax.set_title(
        f"ISM vs elastic net ({points['gene_id'].nunique()} genes, all folds)\n"
        f"sign agreement {agreement:.1%} ({n_agree}/{len(points)} SNVs with non-zero coefficient)",
        fontsize="medium",
    )
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# Truth checks: recovery of planted causal SNVs
# ----------------------------------------------------------------------------------------------------------


def truth_recovery_points(truth_checks: pd.DataFrame) -> pd.DataFrame:
    """Values of the truth-recovery figure: per gene (one run set), the means over folds of ``ism_auroc``,
    ``en_auroc``, ``sign_agreement`` and ``h2`` (NaN folds ignored), and the number of folds.

    Returns:
        ``gene_id, gene, h2, ism_auroc, en_auroc, sign_agreement, n_folds`` sorted by ``gene_id``; empty (same
        columns) when the table is None, empty or lacks ``TRUTH_PLOT_COLUMNS``.
    """
    columns = ["gene_id", "gene", "h2", "ism_auroc", "en_auroc", "sign_agreement", "n_folds"]
    if missing_columns(truth_checks, TRUTH_PLOT_COLUMNS, "truth-check table") or truth_checks.empty:
        return pd.DataFrame(columns=columns)
    rows = one_run_set(truth_checks, "truth-check table")
    values = pd.DataFrame(
        {
            "gene_id": rows["gene_id"].to_numpy(),
            "gene": rows["gene"].to_numpy() if "gene" in rows.columns else rows["gene_id"].to_numpy(),
            **{c: _float(rows, c) for c in ("h2", "ism_auroc", "en_auroc", "sign_agreement")},
            "fold": rows["fold"].to_numpy() if "fold" in rows.columns else np.zeros(len(rows)),
        }
    )
    means = values.groupby("gene_id", sort=True).agg(
        gene=("gene", "first"),
        h2=("h2", "mean"),
        ism_auroc=("ism_auroc", "mean"),
        en_auroc=("en_auroc", "mean"),
        sign_agreement=("sign_agreement", "mean"),
        n_folds=("fold", "nunique"),
    )
    return means.reset_index()[columns]


def _mean_text(values: np.ndarray) -> str:
    values = values[np.isfinite(values)]
    return f"{values.mean():.3f}" if values.size else "n/a"


def plot_truth_recovery(truth_checks: pd.DataFrame, path: str | Path) -> Path | None:
    """Per gene, auROC of |ISM| (y) against auROC of |elastic-net coefficient| (x) for recovering the planted
    causal SNVs of a simulated cohort, with y = x and chance (0.5) lines; points coloured by ``h2``.

    Columns used: ``gene_id, ism_auroc, en_auroc`` and when present ``gene, fold, h2, sign_agreement``, plus
    the run-set columns. A gene's value is the mean over its folds (``truth_recovery_points``). The title
    gives the mean over genes of each auROC and of the ISM sign agreement with the true effects.

    Returns:
        The PNG path, or None (logged) when no gene has both auROCs.
    """
    reason = missing_columns(truth_checks, TRUTH_PLOT_COLUMNS, "truth-check table")
    points = truth_recovery_points(truth_checks) if reason is None else None
    if reason is None:
        both = np.isfinite(points["ism_auroc"].to_numpy(float)) & np.isfinite(points["en_auroc"].to_numpy(float))
        if not both.any():
            reason = f"no gene of {len(points)} in the truth-check table has both an ISM and an elastic-net auROC"
    if reason:
        log.warning("Skipping truth-recovery figure: %s", reason)
        return None
    if (~both).any():
        log.warning("truth recovery: %d genes without both auROCs left out", int((~both).sum()))
    points = points[both]
    x, y = points["en_auroc"].to_numpy(float), points["ism_auroc"].to_numpy(float)
    h2 = points["h2"].to_numpy(float)
    fig = new_figure(6.0, 5.2)
    ax = fig.subplots()
    if np.isfinite(h2).any():
        dots = ax.scatter(x, y, c=h2, cmap="viridis", s=26, alpha=0.85, edgecolor="none", plotnonfinite=True)
        fig.colorbar(dots, ax=ax, label="simulated cis-heritability $h^2$")
    else:
        ax.scatter(x, y, s=26, alpha=0.85, color="tab:blue", edgecolor="none")
    diagonal(ax, np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    ax.axhline(0.5, color="0.7", linestyle=":", linewidth=0.8, zorder=0)
    ax.axvline(0.5, color="0.7", linestyle=":", linewidth=0.8, zorder=0)
    ax.set_xlabel("auROC of |elastic-net coefficient|")
    ax.set_ylabel("auROC of |ISM|")
    ax.set_title(
        f"Recovery of causal SNVs, {len(points)} genes (mean over folds)\n"
        f"mean auROC: ISM {_mean_text(y)}, elastic net {_mean_text(x)}; "
        f"ISM sign agreement {_mean_text(points['sign_agreement'].to_numpy(float))}",
        fontsize="medium",
    )
    return save_figure(fig, path)


# ----------------------------------------------------------------------------------------------------------
# All figures
# ----------------------------------------------------------------------------------------------------------


def top_hsv_genes(ism: pd.DataFrame, n: int = N_TRACK_GENES) -> list[str]:
    """Up to ``n`` genes (``gene`` names, else ``gene_id``) with the most HSVs over all folds of one run
    set, most first (ties by name); all genes when there are fewer than ``n``. Empty when the table lacks
    ``ISM_PLOT_COLUMNS``."""
    if missing_columns(ism, ISM_PLOT_COLUMNS, "ISM table") or ism.empty:
        return []
    rows = one_run_set(ism, "ISM table")
    names = rows["gene"].where(rows["gene"].notna(), rows["gene_id"]).astype(str)
    counts = pd.Series(_flag(rows, "is_hsv").astype(int), index=rows.index).groupby(names.to_numpy()).sum()
    ranked = sorted(counts.index, key=lambda g: (-counts[g], g))
    return [str(g) for g in ranked[:n]]


def write_interpretation_figures(
    ism: pd.DataFrame,
    truth_checks: pd.DataFrame | None,
    out_dir: str | Path,
    genes: Sequence[str] | None = None,
) -> list[Path]:
    """Write every interpretation figure the tables support into ``out_dir`` and return the paths written.

    Files: ``track_<gene>.png`` for each of ``genes`` (names or IDs; default ``top_hsv_genes``: up to 6 genes
    with the most HSVs, lowest fold of each), ``hsv_distance.png``, ``ism_vs_elastic_net.png`` (Fig. 2c) and,
    when ``truth_checks`` has rows, ``truth_recovery.png``. A figure the tables cannot support is skipped
    with a logged reason.
    """
    out_dir = Path(out_dir)
    if genes is None:
        genes = top_hsv_genes(ism)
    written = [plot_track(ism, gene, out_dir / f"track_{file_safe(str(gene))}.png") for gene in genes]
    written.append(plot_hsv_distance(ism, out_dir / FIGURE_FILES["hsv_distance"]))
    written.append(plot_ism_vs_elastic_net(ism, out_dir / FIGURE_FILES["ism_vs_elastic_net"]))
    if truth_checks is not None and len(truth_checks):
        written.append(plot_truth_recovery(truth_checks, out_dir / FIGURE_FILES["truth_recovery"]))
    else:
        log.info("No truth checks (no simulated truth): truth-recovery figure not drawn")
    return [p for p in written if p is not None]
