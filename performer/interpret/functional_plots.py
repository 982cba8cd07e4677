"""Figures of the functional analyses (Drusinsky et al., Fig. 3a, 3c, 3d, 4e; Supp. Fig. S4).

Each ``plot_*`` function takes a table of the functional analyses (:mod:`performer.interpret.functional`), writes
one PNG (made and saved with :mod:`performer.plotting`: on the Agg canvas, never pyplot) and returns its path, or
returns None and logs why when the table has nothing to plot. Models are drawn in the order of
:data:`performer.interpret.variant_weights.MODELS` (then any others); several experiments or folds are pooled
per model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from performer.interpret.variant_weights import MODELS, variant_sets
from performer.plotting import REFERENCE_LINE, new_figure, save_figure

log = logging.getLogger(__name__)


def _models(table: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(table["model"]))
    return [m for m in MODELS if m in present] + [m for m in present if m not in MODELS]


def plot_enrichment(enrichment: pd.DataFrame, path: str | Path) -> Path | None:
    """Fig. 3a: ln(observed / expected) HSVs per label (bars), one colour per model; undefined values
    (observed or expected 0) are left blank. Input: :func:`~performer.interpret.functional.annotation_enrichment`
    without ``by_gene`` (rows of one model and label are summed first)."""
    table = enrichment.groupby(["model", "label"], sort=False)[["observed", "expected"]].sum().reset_index()
    if table.empty:
        log.warning("no enrichment rows: %s not written", path)
        return None
    labels = list(dict.fromkeys(table["label"]))
    models = _models(table)
    fig = new_figure(max(4.0, 0.6 * len(labels) * len(models) + 1.5), 3.5)
    ax = fig.add_subplot()
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        rows = table[table["model"] == model].set_index("label").reindex(labels)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.log(rows["observed"].to_numpy(float) / rows["expected"].to_numpy(float))
        value[~np.isfinite(value)] = np.nan
        ax.bar(np.arange(len(labels)) + (i - (len(models) - 1) / 2) * width, value, width, label=model)
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.set_xticks(np.arange(len(labels)), labels, rotation=45, ha="right")
    ax.set_ylabel("ln(observed / expected HSVs)")
    ax.legend(frameon=False, fontsize="small")
    return save_figure(fig, path)


def _boxes(
    value: str, groups: list[tuple[str, pd.Series]], ylabel: str, path, chance: float | None = None
) -> Path | None:
    data = [g.dropna().to_numpy(float) for _, g in groups]
    keep = [(name, d) for (name, _), d in zip(groups, data) if len(d)]
    if not keep:
        log.warning("no finite %s values: %s not written", value, path)
        return None
    fig = new_figure(max(3.5, 0.9 * len(keep) + 1.5), 3.5)
    ax = fig.add_subplot()
    ax.boxplot([d for _, d in keep], showfliers=False)
    rng = np.random.default_rng(0)
    for i, (_, d) in enumerate(keep, start=1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(d)), d, s=8, alpha=0.5, color="C0")
    ax.set_xticks(np.arange(1, len(keep) + 1), [f"{name}\n(n={len(d)})" for name, d in keep], fontsize="small")
    if chance is not None:
        ax.axhline(chance, **REFERENCE_LINE)
    ax.set_ylabel(ylabel)
    return save_figure(fig, path)


def plot_fine_mapped_auroc(auroc: pd.DataFrame, path: str | Path) -> Path | None:
    """Fig. 3c: per-gene auROC of |weight| for fine-mapped eQTLs, one box per model (dropped genes,
    ``status != "ok"``, are not drawn; ``n`` counts the genes scored); dashed line at 0.5 (chance)."""
    scored = auroc[auroc["status"] == "ok"]
    groups = [(m, scored.loc[scored["model"] == m, "auroc"]) for m in _models(auroc)]
    return _boxes("auroc", groups, "auROC", path, chance=0.5)


def plot_maf(weights: pd.DataFrame, path: str | Path) -> Path | None:
    """Fig. 3d / S4: MAF of the SNVs of each model and set (``hsv``, ``driver``; ``all`` = background)."""
    if "maf" not in weights.columns:
        log.warning("weight table has no maf column: %s not written", path)
        return None
    long = variant_sets(weights)
    groups = [
        (f"{m}\n{s}", long.loc[(long["model"] == m) & (long["set"] == s), "maf"])
        for m in _models(long)
        for s in ("all", "hsv", "driver")
    ]
    return _boxes("maf", groups, "minor allele frequency", path)


def plot_distance_to_tss(weights: pd.DataFrame, path: str | Path, bins: int = 40) -> Path | None:
    """Supp. Fig. S4: histogram of the HSVs' distance to the TSS (bp), one step line per model."""
    if "distance_to_tss" not in weights.columns:
        log.warning("weight table has no distance_to_tss column: %s not written", path)
        return None
    long = variant_sets(weights)
    hsv = long[long["set"] == "hsv"]
    if hsv.empty:
        log.warning("no HSVs: %s not written", path)
        return None
    edges = np.histogram_bin_edges(hsv["distance_to_tss"].to_numpy(float), bins=bins)
    fig = new_figure(5.0, 3.5)
    ax = fig.add_subplot()
    for model in _models(hsv):
        d = hsv.loc[hsv["model"] == model, "distance_to_tss"].to_numpy(float)
        ax.hist(d, bins=edges, histtype="step", linewidth=1.5, label=f"{model} (n={len(d)})")
    ax.axvline(0, color="0.3", linewidth=0.8, linestyle="--")
    ax.set_xlabel("distance to TSS (bp)")
    ax.set_ylabel("HSVs")
    ax.legend(frameon=False, fontsize="small")
    return save_figure(fig, path)


def plot_ld(ld: pd.DataFrame, path: str | Path) -> Path | None:
    """Fig. 4e: per-gene mean pairwise LD r^2 of Performer's drivers vs the elastic net's non-zero SNVs
    (and every other model/set of :func:`~performer.interpret.functional.ld_summary`)."""
    groups = [
        (f"{m}\n{s}", ld.loc[(ld["model"] == m) & (ld["set"] == s), "mean_r2"])
        for m in _models(ld)
        for s in ("driver", "hsv", "all")
    ]
    return _boxes("mean_r2", groups, "mean pairwise LD r$^2$", path)


def write_functional_figures(
    out_dir: str | Path,
    enrichment: pd.DataFrame | None = None,
    auroc: pd.DataFrame | None = None,
    weights: pd.DataFrame | None = None,
    ld: pd.DataFrame | None = None,
) -> list[Path]:
    """Write every figure whose table is given into ``out_dir``; return the paths written.

    Files: ``annotation_enrichment.png``, ``fine_mapped_auroc.png``, ``maf.png``, ``distance_to_tss.png``,
    ``ld.png``.
    """
    out_dir = Path(out_dir)
    jobs = []
    if enrichment is not None:
        jobs.append((plot_enrichment, enrichment, "annotation_enrichment.png"))
    if auroc is not None:
        jobs.append((plot_fine_mapped_auroc, auroc, "fine_mapped_auroc.png"))
    if weights is not None:
        jobs += [(plot_maf, weights, "maf.png"), (plot_distance_to_tss, weights, "distance_to_tss.png")]
    if ld is not None:
        jobs.append((plot_ld, ld, "ld.png"))
    paths = [job(table, out_dir / name) for job, table, name in jobs]
    return [p for p in paths if p is not None]
