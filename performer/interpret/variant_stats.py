"""MAF, distance to the TSS and LD of the variants each model selects (Drusinsky et al., Fig. 3d, 4e, Supp. Fig. S4).

Per variant set of a weight table (:func:`~performer.interpret.variant_weights.variant_sets`: HSVs, drivers,
all SNVs): :func:`variant_set_summary` summarizes MAF and distance to the TSS; :func:`ld_summary` gives each
gene-fold's mean pairwise LD r^2 (:func:`mean_pairwise_ld`) from the cohort's dosages.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from performer.data.reference import BASES
from performer.interpret.variant_weights import GENE_KEYS, RUN_KEYS, present_keys, variant_sets

log = logging.getLogger(__name__)


def variant_set_summary(weights: pd.DataFrame) -> pd.DataFrame:
    """MAF and distance to the TSS of HSVs, drivers and all SNVs per model (Fig. 3d, 4e, Supp. Fig. S4).

    Returns:
        Per run set and ``set`` (see :func:`~performer.interpret.variant_weights.variant_sets`; sets with no
        variant are absent): ``n_variants``, ``n_genes`` (gene-folds with at least one), ``maf_mean``, ``maf_median``
        (when ``maf`` is given), ``abs_distance_mean``, ``abs_distance_median`` (``|distance_to_tss|``,
        bp, when given).
    """
    long = variant_sets(weights)
    keys = present_keys(long, RUN_KEYS) + ["set"]
    gene_keys = [k for k in present_keys(long, GENE_KEYS) if k not in keys]
    long["_gene"] = long[gene_keys].astype(str).agg("|".join, axis=1)
    aggs = {"n_variants": ("pos", "size"), "n_genes": ("_gene", "nunique")}
    if "maf" in long.columns:
        aggs.update(maf_mean=("maf", "mean"), maf_median=("maf", "median"))
    if "distance_to_tss" in long.columns:
        long["_abs_distance"] = long["distance_to_tss"].abs().astype(np.float64)
        aggs.update(abs_distance_mean=("_abs_distance", "mean"), abs_distance_median=("_abs_distance", "median"))
    return long.groupby(keys, sort=False).agg(**aggs).reset_index()


def mean_pairwise_ld(dosage: np.ndarray) -> dict[str, float]:
    """Mean LD r^2 over all pairs of SNV columns of a dosage matrix.

    ``r^2_ij`` is the squared Pearson correlation of ALT dosage columns i and j across people (the
    genotype r^2, which needs no phase). Pairs with a constant column (r undefined) are left out and
    counted.

    Args:
        dosage: ``(n_people, S)`` ALT dosages 0/1/2 (int8 or float).

    Returns:
        ``{"mean_r2", "n_pairs", "n_undefined"}``: ``mean_r2`` over the ``n_pairs`` defined pairs
        ``i < j`` (NaN when none), ``n_undefined`` pairs with a constant column.

    Raises:
        ValueError: ``dosage`` is not 2-D or holds non-finite values.
    """
    x = np.asarray(dosage, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"dosage must be (n_people, n_snvs); got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("dosage must be finite")
    s = x.shape[1]
    total = s * (s - 1) // 2
    centred = x - x.mean(axis=0)
    norm = np.sqrt((centred**2).sum(axis=0))
    ok = norm > 0
    k = int(ok.sum())
    if k < 2:
        return {"mean_r2": float("nan"), "n_pairs": 0, "n_undefined": total}
    z = centred[:, ok] / norm[ok]
    r = z.T @ z
    upper = np.triu_indices(k, 1)
    r2 = np.clip(r[upper], -1.0, 1.0) ** 2
    return {"mean_r2": float(r2.mean()), "n_pairs": len(r2), "n_undefined": total - len(r2)}


def _snv_columns(entry) -> tuple[np.ndarray, list[str] | None, np.ndarray]:
    """(pos, alt letters or None, dosage) from an ``SNVs``-like object or a ``(pos, dosage)`` tuple."""
    if isinstance(entry, tuple):
        pos, dosage = entry
        alt = None
    else:
        pos, dosage = entry.pos, entry.dosage
        alt = [BASES[int(a)] if not isinstance(a, str) else a.upper() for a in entry.alt]
    return np.asarray(pos, dtype=np.int64), alt, np.asarray(dosage)


def ld_summary(weights: pd.DataFrame, dosages: Mapping[str, object]) -> pd.DataFrame:
    """Mean pairwise LD r^2 among each gene-fold's HSVs, drivers and all SNVs (Fig. 4e, Supp. Fig. S4).

    The paper's comparison is drivers (``model == "performer"``, ``set == "driver"``) against the
    elastic net's non-zero SNVs (``model == "elastic_net"``, ``set == "hsv"``); r^2 as in
    :func:`mean_pairwise_ld`. Combine gene-folds with :func:`~performer.interpret.variant_weights.summarize`
    (``value="mean_r2"``, ``by=["set"]``).

    Args:
        weights: weight table (:mod:`performer.interpret.variant_weights`).
        dosages: gene ID -> the cohort's dosages of that gene's window: an
            :class:`~performer.data.variants.SNVs` (``pos`` 0-based, ``alt`` codes, ``dosage``
            int8 ``(n_people, S)``), matched on (``pos``, ``alt``); or a tuple ``(pos, dosage)``, matched
            on ``pos``. Choose the people (e.g. all of the cohort, or a fold's training people).

    Returns:
        One row per gene-fold and ``set`` (:func:`~performer.interpret.variant_weights.variant_sets`): keys,
        ``set``, ``n_variants``, ``n_pairs`` (defined pairs), ``n_undefined`` (pairs with a constant column),
        ``mean_r2`` (NaN with fewer than two variants: counted in the log).

    Raises:
        KeyError: a gene without dosages, or a selected SNV not among its gene's dosage columns.
        ValueError: ``(pos, dosage)`` input with two SNVs at one position (give an ``SNVs``).
    """
    long = variant_sets(weights)
    gene_keys = present_keys(long, GENE_KEYS)
    rows, cache = [], {}
    for key, group in long.groupby(gene_keys + ["set"], sort=False):
        ident = dict(zip(gene_keys + ["set"], key))
        gene_id = ident["gene_id"]
        if gene_id not in dosages:
            raise KeyError(f"no dosages for gene {gene_id}; pass its window's SNVs in dosages")
        if gene_id not in cache:
            pos, alt, dosage = _snv_columns(dosages[gene_id])
            if alt is None and len(set(pos.tolist())) < len(pos):
                raise ValueError(f"gene {gene_id}: two SNVs share a position; pass an SNVs object to match on alleles")
            index = {(p, a): i for i, (p, a) in enumerate(zip(pos.tolist(), alt or [None] * len(pos)))}
            cache[gene_id] = (index, alt is not None, dosage)
        index, use_alt, dosage = cache[gene_id]
        wanted = [(p, a if use_alt else None) for p, a in zip(group["pos"].tolist(), group["alt"])]
        absent = [w for w in wanted if w not in index]
        if absent:
            raise KeyError(f"gene {gene_id}: SNVs {absent[:3]} (0-based pos, alt) are not among its dosage columns")
        result = mean_pairwise_ld(dosage[:, [index[w] for w in wanted]])
        rows.append({**ident, "n_variants": len(wanted), **result})
    table = pd.DataFrame(rows)
    few = int((table["n_variants"] < 2).sum()) if len(table) else 0
    if few:
        log.info("LD: %d gene-fold sets with fewer than two variants have no mean r^2", few)
    return table
