"""The weight table: the variants each model selects, the input of every functional analysis.

One code path serves every model through a *weight table*: one row per (model, gene, SNV) with

========================  =====================================================================
``model``                 ``performer``, ``enformer`` or ``elastic_net`` (any string is accepted)
``gene_id``               the gene whose window holds the SNV
``chrom``, ``pos``        contig and 0-based position (int, bp)
``ref``, ``alt``          alleles (letters)
``weight``                float: ISM for the deep models, the elastic-net coefficient for ``elastic_net``
``hsv``                   bool: a high-scoring variant (top k by ``|ISM|``); for ``elastic_net`` a non-zero
                          coefficient (the paper sets k to their number, so both sets have the same size)
optional                  ``driver`` (bool), ``maf`` (float), ``distance_to_tss`` (int, bp), ``fold``,
                          ``experiment``, ``train_fraction``, ``gene``, ``snv_id``
========================  =====================================================================

:func:`weight_table` builds it from the interpretation pipeline's ``ism.csv`` (and ``ism_enformer.csv``).
A *gene-fold* is one (``model``, ``experiment``, ``train_fraction``, ``fold``, ``gene_id``) combination
(the optional keys when present; :data:`GENE_KEYS`); per-model summaries group by (``model``,
``experiment``, ``train_fraction``) (:data:`RUN_KEYS`, :func:`summarize`). :func:`variant_sets` gives the
rows by variant set (HSVs, drivers, all SNVs), as the analyses and figures compare them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from performer.interpret.ism import high_scoring_variants
from performer.interpret.tables import flags

MODELS = ("performer", "enformer", "elastic_net")
"""The models of the paper, in the order figures draw them."""
WEIGHT_COLUMNS = ("model", "gene_id", "chrom", "pos", "ref", "alt", "weight", "hsv")
"""Columns every weight table has."""
RUN_KEYS = ("model", "experiment", "train_fraction")
"""Columns (those present) that name a run set."""
GENE_KEYS = RUN_KEYS + ("fold", "gene_id")
"""Columns (those present) that name a gene-fold."""


def _as_bool(values: pd.Series) -> np.ndarray:
    """A flag column as bool ``(n,)`` (:func:`~performer.interpret.tables.flags`); missing = False."""
    return flags(values) == 1.0


def present_keys(table: pd.DataFrame, keys: tuple[str, ...]) -> list[str]:
    """The columns of ``keys`` that ``table`` has, in the order of ``keys``."""
    return [k for k in keys if k in table.columns]


def check_weight_table(weights: pd.DataFrame) -> pd.DataFrame:
    """Validate a weight table (module docstring) and return a copy with normalized dtypes.

    ``pos`` becomes int64, ``weight`` float64, ``hsv``/``driver`` bool, ``ref``/``alt`` upper case,
    ``chrom`` and ``gene_id`` str.

    Raises:
        KeyError: a required column is missing (the message lists them).
        ValueError: a negative or non-integer ``pos``, a flag value that is neither true nor false
            (:func:`~performer.interpret.tables.flags`), or the same variant (``pos``, ``ref``, ``alt``)
            twice in one gene-fold.
    """
    missing = [c for c in WEIGHT_COLUMNS if c not in weights.columns]
    if missing:
        raise KeyError(
            f"weight table lacks columns {missing}; it needs {list(WEIGHT_COLUMNS)} "
            "(build it from ism.csv with performer.interpret.functional.weight_table)"
        )
    out = weights.copy()
    pos = pd.to_numeric(out["pos"], errors="coerce")
    if pos.isna().any() or (pos < 0).any() or (pos != np.floor(pos)).any():
        row = int(np.flatnonzero(pos.isna() | (pos < 0) | (pos != np.floor(pos)))[0])
        raise ValueError(f"weight table row {row}: pos {weights['pos'].iloc[row]!r} is not a 0-based position")
    out["pos"] = pos.astype(np.int64)
    out["weight"] = pd.to_numeric(out["weight"], errors="raise").astype(np.float64)
    out["hsv"] = _as_bool(out["hsv"])
    if "driver" in out.columns:
        out["driver"] = _as_bool(out["driver"])
    for column in ("chrom", "gene_id", "model"):
        out[column] = out[column].astype(str)
    for column in ("ref", "alt"):
        out[column] = out[column].astype(str).str.upper()
    duplicated = out.duplicated(present_keys(out, GENE_KEYS) + ["pos", "ref", "alt"])
    if duplicated.any():
        row = out[duplicated].iloc[0]
        raise ValueError(
            f"weight table lists SNV {row['chrom']}:{row['pos']} {row['ref']}>{row['alt']} twice for gene "
            f"{row['gene_id']} (model {row['model']}); keep one row per gene-fold and SNV"
        )
    return out


def weight_table(ism: pd.DataFrame, enformer_ism: pd.DataFrame | None = None, k: int | None = None) -> pd.DataFrame:
    """The weight table of Performer, the elastic net and (optionally) Enformer from the ISM tables.

    From ``ism`` (the pipeline's ``ism.csv``: ``ism``, ``en_coef``, ``is_hsv``, ``is_driver`` per SNV):

    * ``performer`` rows: ``weight = ism``, ``hsv = is_hsv``, ``driver = is_driver``;
    * ``elastic_net`` rows, same SNVs: ``weight = en_coef`` (NaN, i.e. no coefficient, read as 0),
      ``hsv = en_coef != 0``, ``driver = False`` (drivers are selected for Performer only).

    From ``enformer_ism`` (``ism_enformer.csv``): ``enformer`` rows, ``weight = ism``, ``hsv`` = the top k
    by ``|ism|`` (:func:`~performer.interpret.ism.high_scoring_variants`) with k the number of Performer
    HSVs of the same gene and fold (the elastic net's non-zero count, as in the paper) unless ``k`` is
    given; ``driver = False``.

    Every other column (``fold``, ``experiment``, ``gene``, ``snv_id``, ``maf``, ``distance_to_tss``, ...)
    is kept.

    Returns:
        The weight table (see the module docstring), checked by :func:`check_weight_table`.

    Raises:
        KeyError: ``ism`` lacks ``ism``, ``is_hsv`` or ``en_coef``, or ``enformer_ism`` lacks ``ism``.
    """
    needed = [c for c in ("gene_id", "ism", "is_hsv", "en_coef") if c not in ism.columns]
    if needed:
        raise KeyError(f"ism table lacks columns {needed} (expected the pipeline's ism.csv)")
    base = ism.drop(columns=[c for c in ("is_hsv", "is_driver", "hsv_rank", "is_causal", "true_beta") if c in ism])
    performer = base.assign(
        model="performer",
        weight=ism["ism"].astype(np.float64),
        hsv=_as_bool(ism["is_hsv"]),
        driver=_as_bool(ism["is_driver"]) if "is_driver" in ism else False,
    )
    coef = pd.to_numeric(ism["en_coef"], errors="raise").fillna(0.0).astype(np.float64)
    elastic = base.assign(model="elastic_net", weight=coef, hsv=(coef != 0).to_numpy(), driver=False)
    tables = [performer, elastic]
    if enformer_ism is not None:
        if "ism" not in enformer_ism.columns:
            raise KeyError("enformer_ism lacks column 'ism' (expected the pipeline's ism_enformer.csv)")
        group = [c for c in ("experiment", "train_fraction", "fold", "gene_id") if c in enformer_ism.columns]
        group = [c for c in group if c in performer.columns]
        counts = {}
        if k is None:
            for key, n in performer.groupby(group)["hsv"].sum().items():
                counts[key if isinstance(key, tuple) else (key,)] = int(n)
        parts = []
        for key, rows in enformer_ism.groupby(group, sort=False):
            n = int(k) if k is not None else counts.get(key if isinstance(key, tuple) else (key,), 0)
            top = high_scoring_variants(rows, n).set_index(["pos", "ref", "alt"]).index
            flagged = rows.set_index(["pos", "ref", "alt"]).index.isin(top)
            parts.append(rows.assign(weight=rows["ism"].astype(np.float64), hsv=flagged, driver=False))
        enformer = pd.concat(parts, ignore_index=True) if parts else enformer_ism.iloc[:0]
        tables.append(enformer.assign(model="enformer"))
    return check_weight_table(pd.concat(tables, ignore_index=True))


def summarize(table: pd.DataFrame, value: str, by: list[str] | None = None) -> pd.DataFrame:
    """Per run set (``model``, ``experiment``, ``train_fraction``; plus ``by``): ``n`` (finite values of
    ``value``), ``n_missing`` (NaN, e.g. dropped genes), ``mean``, ``median`` of ``value``."""
    keys = present_keys(table, RUN_KEYS) + list(by or [])
    out = table.groupby(keys, sort=False)[value].agg(
        n="count", n_missing=lambda v: int(v.isna().sum()), mean="mean", median="median"
    )
    return out.reset_index()


def variant_sets(weights: pd.DataFrame) -> pd.DataFrame:
    """The weight table's rows in long form by variant set: ``set`` = ``hsv`` (HSVs; non-zero
    coefficients for the elastic net), ``driver`` (where ``driver`` is True) and ``all`` (every SNV of
    the gene-fold, the background). A row appears once per set it belongs to."""
    weights = check_weight_table(weights)
    parts = [weights.assign(set="all"), weights[weights["hsv"]].assign(set="hsv")]
    if "driver" in weights.columns:
        parts.append(weights[weights["driver"]].assign(set="driver"))
    return pd.concat(parts, ignore_index=True)
