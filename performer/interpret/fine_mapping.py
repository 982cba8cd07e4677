"""Fine-mapped eQTLs: reading them and scoring variant weights against them (Drusinsky et al., Fig. 3c).

:func:`read_fine_mapped` reads a table of fine-mapped variants (PIPs or 0/1 labels), :func:`read_qtltools_lead_eqtls`
QTLtools ``cis --permute`` lead variants; :func:`fine_mapped_auroc` scores, per gene-fold of a weight table
(:mod:`performer.interpret.variant_weights`), how well ``|weight|`` ranks the fine-mapped variants. Positions are
0-based in the code; the 1-based positions of the input tables are converted by the readers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from performer.data.reference import resolve_contig
from performer.interpret.tables import open_text
from performer.interpret.variant_weights import GENE_KEYS, check_weight_table, present_keys

log = logging.getLogger(__name__)

FINE_MAPPED_COLUMNS = ["gene_id", "chrom", "pos", "ref", "alt", "label"]
"""Columns of :func:`read_fine_mapped` (plus ``pip`` when given)."""


def _stable_id(gene_id: object) -> str:
    """Ensembl IDs without their version (``ENSG00000128191.7`` -> ``ENSG00000128191``); others as given."""
    text = str(gene_id)
    return text.split(".")[0] if text.upper().startswith("ENS") else text


def read_fine_mapped(
    table: pd.DataFrame | str | Path, pip_threshold: float = 0.5, source: str | None = None
) -> pd.DataFrame:
    """Fine-mapped variants: ``chrom``, 1-based ``pos``, optional ``ref``/``alt``/``gene_id``, and ``pip`` or ``label``.

    A path is read as a TSV (``.csv``: comma-separated; gzip allowed); ``source`` names a DataFrame in
    errors. ``label`` (0/1) is used as given;
    without it ``label = pip >= pip_threshold``. Rows without alleles match an SNV on position alone.

    Returns:
        ``gene_id`` (str, or None when the input has no gene column: labels then apply to every gene),
        ``chrom`` (str), ``pos`` (int64, **0-based**: the input's 1-based position minus 1), ``ref``,
        ``alt`` (upper-case letters or None), ``label`` (bool), and ``pip`` when given.

    Raises:
        KeyError: no ``chrom``/``pos`` column, or neither ``pip`` nor ``label``.
        ValueError: both ``pip`` and ``label``; a position that is not an integer >= 1; a label not in
            {0, 1}; a PIP outside [0, 1]. The message names the source and the row (0-based data row).
    """
    source = source or ("fine-mapped table" if isinstance(table, pd.DataFrame) else str(table))
    if not isinstance(table, pd.DataFrame):
        path = Path(table)
        if not path.exists():
            raise FileNotFoundError(f"fine-mapped table not found: {path}")
        table = pd.read_csv(path, sep="," if ".csv" in path.suffixes else "\t", dtype={"chrom": str})
    missing = [c for c in ("chrom", "pos") if c not in table.columns]
    if missing:
        raise KeyError(f"{source}: lacks columns {missing}; needs chrom, pos (1-based) and pip or label")
    if ("pip" in table.columns) == ("label" in table.columns):
        raise (ValueError if "pip" in table.columns else KeyError)(
            f"{source}: give exactly one of the columns 'pip' (with pip_threshold) or 'label' (0/1)"
        )

    def bad_row(mask: np.ndarray, what: str) -> None:
        if mask.any():
            row = int(np.flatnonzero(mask)[0])
            raise ValueError(f"{source}, row {row}: {what} ({int(mask.sum())} rows); fix or drop them")

    pos = pd.to_numeric(table["pos"], errors="coerce").to_numpy(np.float64)
    bad_row(~np.isfinite(pos) | (pos < 1) | (pos != np.floor(pos)), "pos is not a 1-based position (integer >= 1)")
    out = pd.DataFrame(
        {
            "gene_id": [None if pd.isna(g) else str(g) for g in table["gene_id"]] if "gene_id" in table else None,
            "chrom": table["chrom"].astype(str).to_numpy(),
            "pos": pos.astype(np.int64) - 1,
        }
    )
    for allele in ("ref", "alt"):
        values = table[allele] if allele in table.columns else pd.Series([None] * len(table))
        out[allele] = [None if pd.isna(v) or str(v) in ("", ".") else str(v).upper() for v in values]
    if "label" in table.columns:
        label = pd.to_numeric(table["label"], errors="coerce").to_numpy(np.float64)
        bad_row(~np.isin(label, [0.0, 1.0]), "label is not 0 or 1")
        out["label"] = label == 1.0
    else:
        pip = pd.to_numeric(table["pip"], errors="coerce").to_numpy(np.float64)
        bad_row(~np.isfinite(pip) | (pip < 0) | (pip > 1), "pip is not a probability in [0, 1]")
        out["pip"] = pip
        out["label"] = pip >= float(pip_threshold)
    log.info("%s: %d variants, %d positive", source, len(out), int(out["label"].sum()))
    return out[FINE_MAPPED_COLUMNS + (["pip"] if "pip" in out else [])]


def read_qtltools_lead_eqtls(path: str | Path, p_threshold: float = 0.05) -> pd.DataFrame:
    """A fine-mapped table from QTLtools ``cis --permute`` output: each gene's lead variant.

    Row -> ``gene_id = phe_id``, ``chrom = var_chr``, ``pos = var_from`` (1-based in QTLtools, converted
    to 0-based here), no alleles (match on position), ``label = adj_beta_pval < p_threshold``. QTLtools
    before v1.2 writes 19 columns without ``r_squared``; a header of 20 names over 19-field rows (as
    a header taken from a later version gives) is read without ``r_squared`` and logged, so that
    ``adj_beta_pval`` is the last field rather than a column of NaN.

    Returns:
        The output of :func:`read_fine_mapped` (0-based ``pos``).

    Raises:
        FileNotFoundError: no such file.
        ValueError: rows whose field count matches neither the header nor the header less
            ``r_squared``; missing columns ``phe_id``, ``var_chr``, ``var_from``, ``adj_beta_pval``;
            an ``adj_beta_pval`` outside [0, 1].
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"QTLtools table not found: {path}")
    with open_text(path) as handle:
        lines = [line.rstrip("\n\r").split() for line in handle if line.strip()]
    header, rows = lines[0], lines[1:]
    counts = {len(r) for r in rows}
    if counts == {len(header) - 1} and "r_squared" in header:
        log.warning(
            "%s: %d header names over %d-field rows; read without 'r_squared'", path, len(header), len(header) - 1
        )
        header = [h for h in header if h != "r_squared"]
    bad = [i for i, r in enumerate(rows, start=2) if len(r) != len(header)]
    if bad:
        raise ValueError(
            f"{path}, line {bad[0]}: {len(rows[bad[0] - 2])} fields under a {len(header)}-name header "
            f"({len(bad)} such lines); expected QTLtools cis --permute output with its header line"
        )
    table = pd.DataFrame(rows, columns=header)
    missing = [c for c in ("phe_id", "var_chr", "var_from", "adj_beta_pval") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: lacks columns {missing}; expected QTLtools cis --permute output")
    p = pd.to_numeric(table["adj_beta_pval"], errors="coerce").to_numpy(np.float64)
    if (~np.isfinite(p) | (p < 0) | (p > 1)).any():
        row = int(np.flatnonzero(~np.isfinite(p) | (p < 0) | (p > 1))[0])
        raise ValueError(f"{path}, line {row + 2}: adj_beta_pval {table['adj_beta_pval'].iloc[row]!r} is not a p-value")
    fine = pd.DataFrame(
        {"gene_id": table["phe_id"], "chrom": table["var_chr"], "pos": table["var_from"], "label": (p < p_threshold)}
    )
    return read_fine_mapped(fine.astype({"label": int}), source=str(path))


def fine_mapped_auroc(weights: pd.DataFrame, fine_mapped: pd.DataFrame) -> pd.DataFrame:
    """Per gene-fold, auROC of ``|weight|`` for fine-mapped eQTLs (Drusinsky et al., Fig. 3c).

    An SNV of the weight table is positive when a row of ``fine_mapped`` with ``label`` True has its
    contig (``resolve_contig``: ``chr22`` == ``22``), 0-based position and, when that row gives alleles,
    its ``ref`` and ``alt`` (exact, not swapped), and, when ``fine_mapped`` has ``gene_id``, its gene
    (Ensembl versions ignored). All other SNVs of the gene are negatives. ``auroc`` is
    ``sklearn.metrics.roc_auc_score(label, |weight|)``. As in the paper, gene-folds without a positive
    or without a negative get no auROC: they are kept with ``status`` ``no_positive`` /
    ``no_negative`` (``auroc`` NaN) and counted in the log.

    Args:
        weights: weight table (:mod:`performer.interpret.variant_weights`); every SNV of a gene-fold is scored.
        fine_mapped: the output of :func:`read_fine_mapped` / :func:`read_qtltools_lead_eqtls`.

    Returns:
        One row per gene-fold: its keys (``model``, ..., ``gene_id``), ``n_snvs``, ``n_positive``
        (positives among its SNVs), ``n_listed`` (positive fine-mapped rows of the gene, found or not;
        only with a ``gene_id`` column), ``auroc`` (float64), ``status`` (``ok``, ``no_positive``,
        ``no_negative``).

    Raises:
        KeyError: missing columns.
        ValueError: a NaN or infinite weight (the message names model and gene).
    """
    weights = check_weight_table(weights)
    missing = [c for c in FINE_MAPPED_COLUMNS if c not in fine_mapped.columns]
    if missing:
        raise KeyError(f"fine_mapped lacks columns {missing}; read it with read_fine_mapped")
    by_gene = bool(fine_mapped["gene_id"].notna().any())
    if by_gene and fine_mapped["gene_id"].isna().any():
        row = int(np.flatnonzero(fine_mapped["gene_id"].isna().to_numpy())[0])
        raise ValueError(f"fine_mapped row {row} has no gene_id while others have one; give all or none")
    positives = _positives(fine_mapped[fine_mapped["label"].astype(bool)], weights, by_gene)
    rows = []
    gene_keys = present_keys(weights, GENE_KEYS)
    for key, group in weights.groupby(gene_keys, sort=False):
        ident = dict(zip(gene_keys, key if isinstance(key, tuple) else (key,)))
        rows.append(_gene_fold_auroc(ident, group, positives))
    table = pd.DataFrame(rows)
    for (model,), part in table.groupby(["model"]):
        counts = part["status"].value_counts()
        log.info(
            "fine-mapped auROC, %s: %d gene-folds scored, %d dropped without a positive, %d without a negative",
            model,
            counts.get("ok", 0),
            counts.get("no_positive", 0),
            counts.get("no_negative", 0),
        )
    return table


@dataclass
class _Positives:
    """The positive fine-mapped variants as look-up sets (:func:`_positives`).

    Keys are (gene, contig, pos) for rows without alleles (``by_position``) and (gene, contig, pos, ref, alt)
    for rows with both (``by_allele``); gene is the stable Ensembl ID when ``by_gene``, else ``""``.
    ``listed``: positive rows per gene (only ``by_gene``).
    """

    by_gene: bool
    by_position: set[tuple]
    by_allele: set[tuple]
    listed: pd.Series | None


def _positives(positive: pd.DataFrame, weights: pd.DataFrame, by_gene: bool) -> _Positives:
    """The positive rows of a fine-mapped table, contigs spelled as in the weight table; rows on contigs
    absent from it are dropped (logged)."""
    contigs = list(dict.fromkeys(weights["chrom"]))
    spelled = {}
    for chrom in positive["chrom"].astype(str).unique():
        try:
            spelled[chrom] = resolve_contig(chrom, contigs, source="the weight table")
        except KeyError:
            spelled[chrom] = None
    off = positive["chrom"].astype(str).map(spelled).isna()
    if off.any():
        log.info("fine-mapped positives on contigs absent from the weight table: %d skipped", int(off.sum()))
    positive = positive[~off]
    gene = positive["gene_id"].map(_stable_id) if by_gene else pd.Series("", index=positive.index)
    chrom = positive["chrom"].astype(str).map(spelled)
    has_alleles = positive["ref"].notna() & positive["alt"].notna()
    by_position = set(zip(gene[~has_alleles], chrom[~has_alleles], positive["pos"][~has_alleles]))
    by_allele = set(
        zip(
            gene[has_alleles],
            chrom[has_alleles],
            positive["pos"][has_alleles],
            positive["ref"][has_alleles],
            positive["alt"][has_alleles],
        )
    )
    return _Positives(by_gene, by_position, by_allele, gene.value_counts() if by_gene else None)


def _gene_fold_auroc(ident: dict, group: pd.DataFrame, positives: _Positives) -> dict:
    """The row of :func:`fine_mapped_auroc` for one gene-fold (``ident``: its keys; ``group``: its SNVs).

    Raises:
        ValueError: a NaN or infinite weight.
    """
    score = group["weight"].to_numpy(np.float64)
    if not np.isfinite(score).all():
        raise ValueError(f"non-finite weights for gene {ident['gene_id']} ({ident['model']}); fill or drop them")
    g = _stable_id(ident["gene_id"]) if positives.by_gene else ""
    label = np.array(
        [
            (g, c, p) in positives.by_position or (g, c, p, r, a) in positives.by_allele
            for c, p, r, a in zip(group["chrom"], group["pos"], group["ref"], group["alt"])
        ],
        dtype=bool,
    )
    n_pos = int(label.sum())
    status = "no_positive" if n_pos == 0 else "no_negative" if n_pos == len(label) else "ok"
    row = {**ident, "n_snvs": len(label), "n_positive": n_pos}
    if positives.by_gene:
        row["n_listed"] = int(positives.listed.get(g, 0))
    row["auroc"] = float(roc_auc_score(label, np.abs(score))) if status == "ok" else np.nan
    row["status"] = status
    return row
