"""Functional analyses of the variants a model selects (Drusinsky et al., Fig. 3-4 and Supp. Fig. S4).

Every analysis reads a *weight table* (one row per model, gene and SNV: its weight and whether it is a
high-scoring variant; :mod:`performer.interpret.variant_weights`, built from the pipeline's ``ism.csv`` by
:func:`weight_table`). :func:`functional_analyses`, this module's own code, runs those whose inputs are given
and writes their tables and figures; it sits above the modules of the analyses and of the figures:

- :mod:`~performer.interpret.variant_weights`: the weight table (:func:`weight_table`,
  :func:`check_weight_table`, :func:`variant_sets`) and per-run-set summaries (:func:`summarize`).
- :mod:`~performer.interpret.enrichment`: HSVs in labelled regions (e.g. ChromHMM states) vs. a uniform
  expectation over the window (Methods "Enrichment of HSVs", Fig. 3a): :func:`read_annotation_bed`,
  :func:`annotation_enrichment`.
- :mod:`~performer.interpret.fine_mapping`: per gene, auROC of ``|weight|`` for fine-mapped eQTLs (Fig. 3c):
  :func:`read_fine_mapped`, :func:`read_qtltools_lead_eqtls`, :func:`fine_mapped_auroc`.
- :mod:`~performer.interpret.variant_stats`: MAF, distance to the TSS and mean pairwise LD r^2 of HSVs,
  drivers and non-zero elastic-net SNVs (Fig. 3d, 4e, Supp. Fig. S4): :func:`variant_set_summary`,
  :func:`mean_pairwise_ld`, :func:`ld_summary`.
- :mod:`~performer.interpret.motifbreakr`: the HSVs as a BED that motifbreakR's ``snps.from.file`` reads
  (Fig. 3b; the motif scan itself runs in R): :func:`motifbreakr_bed`, :func:`write_motifbreakr_bed`.
- :mod:`~performer.interpret.functional_plots`: the figures (:func:`write_functional_figures`).

Those names are importable from here as well. Coordinates are 0-based half-open in the code; 1-based
positions (fine-mapping tables, QTLtools output, the motifbreakR ``name`` and BED ``end``) are converted at
the reader or writer. Contig names may differ by a ``chr`` prefix between inputs
(``performer.data.reference.resolve_contig``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from performer.interpret.enrichment import BED_COLUMNS, annotation_enrichment, read_annotation_bed
from performer.interpret.fine_mapping import (
    FINE_MAPPED_COLUMNS,
    fine_mapped_auroc,
    read_fine_mapped,
    read_qtltools_lead_eqtls,
)
from performer.interpret.functional_plots import write_functional_figures
from performer.interpret.motifbreakr import motifbreakr_bed, write_motifbreakr_bed
from performer.interpret.variant_stats import ld_summary, mean_pairwise_ld, variant_set_summary
from performer.interpret.variant_weights import (
    GENE_KEYS,
    MODELS,
    RUN_KEYS,
    WEIGHT_COLUMNS,
    check_weight_table,
    summarize,
    variant_sets,
    weight_table,
)

__all__ = [
    "BED_COLUMNS",
    "FINE_MAPPED_COLUMNS",
    "GENE_KEYS",
    "MODELS",
    "RUN_KEYS",
    "WEIGHT_COLUMNS",
    "annotation_enrichment",
    "check_weight_table",
    "fine_mapped_auroc",
    "functional_analyses",
    "ld_summary",
    "mean_pairwise_ld",
    "motifbreakr_bed",
    "read_annotation_bed",
    "read_fine_mapped",
    "read_qtltools_lead_eqtls",
    "summarize",
    "variant_set_summary",
    "variant_sets",
    "weight_table",
    "write_functional_figures",
    "write_motifbreakr_bed",
]


def functional_analyses(
    weights: pd.DataFrame,
    out_dir: str | Path,
    windows: pd.DataFrame | None = None,
    annotation_bed: str | Path | None = None,
    fine_mapped: pd.DataFrame | None = None,
    dosages: Mapping[str, object] | None = None,
    figures: bool = True,
) -> dict[str, pd.DataFrame]:
    """Run every analysis whose inputs are given and write its table (CSV) and figure (PNG) to ``out_dir``.

    Always: ``variant_sets.csv`` (:func:`variant_set_summary`) and ``motifbreakr_<model>.bed`` per model
    with HSVs (:func:`motifbreakr_bed`). With ``windows`` and ``annotation_bed``:
    ``annotation_enrichment.csv`` and ``annotation_enrichment_by_gene.csv``. With ``fine_mapped`` (from
    :func:`read_fine_mapped` / :func:`read_qtltools_lead_eqtls`): ``fine_mapped_auroc.csv`` and
    ``fine_mapped_auroc_summary.csv``. With ``dosages``: ``ld.csv`` and ``ld_summary.csv``. Figures
    (:func:`~performer.interpret.functional_plots.write_functional_figures`) when ``figures``.

    Returns:
        The tables by file stem.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = check_weight_table(weights)
    tables = {"variant_sets": variant_set_summary(weights)}
    for model in _models_with_hsvs(weights):
        write_motifbreakr_bed(motifbreakr_bed(weights, model=model), out_dir / f"motifbreakr_{model}.bed")
    if windows is not None and annotation_bed is not None:
        regions = read_annotation_bed(annotation_bed)
        tables["annotation_enrichment"] = annotation_enrichment(weights, windows, regions)
        tables["annotation_enrichment_by_gene"] = annotation_enrichment(weights, windows, regions, by_gene=True)
    if fine_mapped is not None:
        tables["fine_mapped_auroc"] = fine_mapped_auroc(weights, fine_mapped)
        tables["fine_mapped_auroc_summary"] = summarize(tables["fine_mapped_auroc"], "auroc")
    if dosages is not None:
        tables["ld"] = ld_summary(weights, dosages)
        tables["ld_summary"] = summarize(tables["ld"], "mean_r2", by=["set"])
    for name, table in tables.items():
        table.to_csv(out_dir / f"{name}.csv", index=False)
    if figures:
        write_functional_figures(
            out_dir,
            enrichment=tables.get("annotation_enrichment"),
            auroc=tables.get("fine_mapped_auroc"),
            weights=weights,
            ld=tables.get("ld"),
        )
    return tables


def _models_with_hsvs(weights: pd.DataFrame) -> list[str]:
    return sorted(weights.loc[weights["hsv"], "model"].unique())
