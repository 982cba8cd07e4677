"""The HSVs of a model as a BED that motifbreakR reads (Drusinsky et al., Fig. 3b; the motif scan itself runs in R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from performer.interpret.variant_weights import check_weight_table


def motifbreakr_bed(weights: pd.DataFrame, model: str = "performer", chr_prefix: bool = True) -> pd.DataFrame:
    """The HSVs of ``model`` as motifbreakR reads them (``snps.from.file(file, search.genome, format="bed")``).

    motifbreakR's BED: ``chrom``, ``start`` (0-based, = ``pos``), ``end`` (1-based position, =
    ``pos + 1``), ``name`` = ``chrom:end:REF:ALT`` (the **1-based** position, e.g. ``chr22:20100001:A:G``),
    ``score`` (0, unused), ``strand`` (``+``). The contig must be spelled as in the BSgenome searched
    (UCSC ``chr22``): ``chr_prefix`` adds ``chr`` where missing (``MT`` -> ``chrM``). Each SNV appears once
    even if it is an HSV of several genes or folds (first row kept); the extra columns ``genes`` (``;``-joined
    gene IDs) and ``max_abs_weight`` are for the user, not for motifbreakR: write the first six
    columns (:func:`write_motifbreakr_bed`).

    Returns:
        The table above, sorted by contig and position.

    Raises:
        ValueError: ``model`` has no rows in ``weights``.
    """
    weights = check_weight_table(weights)
    rows = weights[(weights["model"] == model)]
    if rows.empty:
        raise ValueError(
            f"no rows of model {model!r} in the weight table (models: {sorted(weights['model'].unique())})"
        )
    hsv = rows[rows["hsv"]].copy()

    def ucsc(name: str) -> str:
        if not chr_prefix or name.lower().startswith("chr"):
            return name
        return "chrM" if name.upper() in ("M", "MT") else "chr" + name

    hsv["chrom"] = hsv["chrom"].map(ucsc)
    hsv["abs_weight"] = hsv["weight"].abs()
    grouped = hsv.groupby(["chrom", "pos", "ref", "alt"], sort=True).agg(
        genes=("gene_id", lambda g: ";".join(dict.fromkeys(g))), max_abs_weight=("abs_weight", "max")
    )
    out = grouped.reset_index()
    out["start"] = out["pos"].astype(np.int64)
    out["end"] = out["start"] + 1
    out["name"] = [f"{c}:{e}:{r}:{a}" for c, e, r, a in zip(out["chrom"], out["end"], out["ref"], out["alt"])]
    out["score"] = 0
    out["strand"] = "+"
    return out[["chrom", "start", "end", "name", "score", "strand", "genes", "max_abs_weight"]]


def write_motifbreakr_bed(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the first six columns of :func:`motifbreakr_bed` as a headerless, tab-separated BED."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table[["chrom", "start", "end", "name", "score", "strand"]].to_csv(path, sep="\t", header=False, index=False)
    return path
