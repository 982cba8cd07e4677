"""Functional analyses of the variants a model selects (Drusinsky et al., Fig. 3-4 and Supp. Fig. S4).

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
(the optional keys when present); per-model summaries group by (``model``, ``experiment``,
``train_fraction``).

Analyses, each a tidy table (figures in :mod:`performer.interpret.functional_plots`):

1. :func:`annotation_enrichment` -- HSVs in labelled regions (e.g. ChromHMM states) vs. a uniform
   expectation over the window (Methods "Enrichment of HSVs", Fig. 3a).
2. :func:`fine_mapped_auroc` -- per gene, auROC of ``|weight|`` for fine-mapped eQTLs (Fig. 3c).
3. :func:`variant_set_summary`, :func:`ld_summary` -- MAF, distance to the TSS and mean pairwise LD r^2
   of HSVs, drivers and non-zero elastic-net SNVs (Fig. 3d, 4e, Supp. Fig. S4).
4. :func:`motifbreakr_bed` -- the HSVs as a BED that motifbreakR's ``snps.from.file`` reads (Fig. 3b;
   the motif scan itself runs in R).

Coordinates are 0-based half-open in the code; 1-based positions (fine-mapping tables, QTLtools
output, the motifbreakR ``name`` and BED ``end``) are converted at the reader or writer. Contig names may
differ by a ``chr`` prefix between inputs (``performer.data.reference.resolve_contig``).
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from performer.data.reference import BASES, resolve_contig
from performer.interpret.ism import high_scoring_variants

log = logging.getLogger(__name__)

MODELS = ("performer", "enformer", "elastic_net")
WEIGHT_COLUMNS = ("model", "gene_id", "chrom", "pos", "ref", "alt", "weight", "hsv")
RUN_KEYS = ("model", "experiment", "train_fraction")
GENE_KEYS = RUN_KEYS + ("fold", "gene_id")
BED_COLUMNS = ["chrom", "start", "end", "label"]
FINE_MAPPED_COLUMNS = ["gene_id", "chrom", "pos", "ref", "alt", "label"]


# ----------------------------------------------------------------------------------------------- inputs


def _as_bool(values: pd.Series, name: str) -> np.ndarray:
    """Bools from bools, 0/1 or ``"True"``/``"False"`` strings (a CSV round trip); missing = False."""
    if values.dtype == bool:
        return values.to_numpy()
    text = values.astype(str).str.strip().str.lower()
    truthy, falsy = {"true", "1", "1.0"}, {"false", "0", "0.0", "nan", "none", "", "<na>"}
    bad = sorted(set(text) - truthy - falsy)
    if bad:
        raise ValueError(f"column {name!r} must hold booleans (True/False or 1/0); found {bad[:5]}")
    return text.isin(truthy).to_numpy()


def _keys(table: pd.DataFrame, keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if k in table.columns]


def check_weight_table(weights: pd.DataFrame) -> pd.DataFrame:
    """Validate a weight table (module docstring) and return a copy with normalized dtypes.

    ``pos`` becomes int64, ``weight`` float64, ``hsv``/``driver`` bool, ``ref``/``alt`` upper case,
    ``chrom`` and ``gene_id`` str.

    Raises:
        KeyError: a required column is missing (the message lists them).
        ValueError: a negative or non-integer ``pos``, a flag column that is not boolean, or the same
            variant (``pos``, ``ref``, ``alt``) twice in one gene-fold.
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
    out["hsv"] = _as_bool(out["hsv"], "hsv")
    if "driver" in out.columns:
        out["driver"] = _as_bool(out["driver"], "driver")
    for column in ("chrom", "gene_id", "model"):
        out[column] = out[column].astype(str)
    for column in ("ref", "alt"):
        out[column] = out[column].astype(str).str.upper()
    duplicated = out.duplicated(_keys(out, GENE_KEYS) + ["pos", "ref", "alt"])
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
        hsv=_as_bool(ism["is_hsv"], "is_hsv"),
        driver=_as_bool(ism["is_driver"], "is_driver") if "is_driver" in ism else False,
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


def _open_text(path: Path):
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gzipped else open(path)


def read_annotation_bed(path: str | Path) -> pd.DataFrame:
    """Labelled regions from a BED file (plain or gzip): ``chrom, start, end, label`` (+ any columns).

    The fourth column is the label (e.g. the ChromHMM state ``1_TssA``); further columns are ignored.
    ``track``, ``browser`` and ``#`` lines are skipped. BED is 0-based half-open, as in the code.

    Returns:
        ``chrom`` (str), ``start``/``end`` (int64, bp), ``label`` (str), sorted by contig and start.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a row with fewer than 4 columns, a non-integer or negative ``start``, ``end <=
            start``, or an empty label; the message names the file and the 1-based line number.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"annotation BED not found: {path}")
    rows = []
    with _open_text(path) as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            fields = line.rstrip("\n\r").split("\t")
            where = f"{path}, line {line_no}"
            if len(fields) < 4:
                raise ValueError(
                    f"{where}: {len(fields)} tab-separated columns; an annotation BED needs chrom, start, end, label"
                )
            try:
                start, end = int(fields[1]), int(fields[2])
            except ValueError:
                raise ValueError(f"{where}: start/end {fields[1]!r}, {fields[2]!r} are not integers") from None
            if start < 0 or end <= start:
                raise ValueError(f"{where}: need 0 <= start < end (0-based half-open BED); got {start}, {end}")
            label = fields[3].strip()
            if not label:
                raise ValueError(f"{where}: empty label (column 4)")
            rows.append((fields[0], start, end, label))
    table = pd.DataFrame(rows, columns=BED_COLUMNS)
    table["start"] = table["start"].astype(np.int64)
    table["end"] = table["end"].astype(np.int64)
    log.info("%s: %d regions, %d labels", path, len(table), table["label"].nunique())
    return table.sort_values(["chrom", "start", "end"], kind="stable").reset_index(drop=True)


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
    with _open_text(path) as handle:
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


def _windows(windows: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """One window per gene, or per (model, gene) when ``windows`` has a ``model`` column; checked.

    Returns the windows indexed by (``model``, ``gene_id``) (``model`` = ``"*"`` when not given).
    """
    missing = [c for c in ("gene_id", "chrom", "start", "end") if c not in windows.columns]
    if missing:
        raise KeyError(f"windows lack columns {missing}; need gene_id, chrom, start, end (0-based half-open)")
    table = windows.assign(model=windows["model"] if "model" in windows.columns else "*")
    table = table[["model", "gene_id", "chrom", "start", "end"]].drop_duplicates()
    table = table.astype({"model": str, "gene_id": str, "chrom": str, "start": np.int64, "end": np.int64})
    repeated = table[table.duplicated(["model", "gene_id"])]
    if len(repeated):
        raise ValueError(
            f"windows give gene {repeated['gene_id'].iloc[0]} two different windows; give one per gene "
            "(or per model and gene, with a model column)"
        )
    if (table["end"] <= table["start"]).any():
        raise ValueError(
            f"windows with end <= start: {table[table['end'] <= table['start']].head(3).to_dict('records')}"
        )
    table = table.set_index(["model", "gene_id"])
    per_model = "model" in windows.columns
    wanted = weights[["model", "gene_id"]].drop_duplicates()
    keys = list(zip(wanted["model"] if per_model else ["*"] * len(wanted), wanted["gene_id"]))
    absent = [k for k in keys if k not in table.index]
    if absent:
        raise KeyError(f"{len(absent)} genes of the weight table have no window, e.g. {absent[:5]} (model, gene_id)")
    return table


def _merge(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of half-open intervals, sorted and disjoint."""
    order = np.argsort(starts, kind="stable")
    merged_s, merged_e = [], []
    for s, e in zip(starts[order], ends[order]):
        if merged_e and s <= merged_e[-1]:
            merged_e[-1] = max(merged_e[-1], e)
        else:
            merged_s.append(s)
            merged_e.append(e)
    return np.array(merged_s, dtype=np.int64), np.array(merged_e, dtype=np.int64)


def _overlap_bp(starts: np.ndarray, ends: np.ndarray, lo: int, hi: int) -> int:
    return int(np.clip(np.minimum(ends, hi) - np.maximum(starts, lo), 0, None).sum())


def _inside(starts: np.ndarray, ends: np.ndarray, pos: np.ndarray) -> np.ndarray:
    i = np.searchsorted(starts, pos, side="right") - 1
    return (i >= 0) & (pos < ends[np.clip(i, 0, None)]) if len(starts) else np.zeros(len(pos), bool)


def annotation_enrichment(
    weights: pd.DataFrame, windows: pd.DataFrame, regions: pd.DataFrame, by_gene: bool = False
) -> pd.DataFrame:
    """Enrichment of HSVs in labelled regions (Drusinsky et al., Methods "Enrichment of HSVs", Fig. 3a).

    For each gene-fold g (``n_g`` HSVs, window ``W_g`` of ``|W_g|`` bp) and label l (its regions merged,
    so overlapping regions count once): ``observed_gl`` = HSVs inside a region of l, ``expected_gl =
    n_g * |W_g & l| / |W_g|`` (HSVs spread uniformly over the window's bp; regions partly inside a
    window count only their bp inside it; so do bp of ``N`` padding: pass clipped windows to leave them
    out). Per model and label, observed and expected are summed over
    gene-folds; ``enrichment = observed / expected`` and ``log_enrichment = ln(enrichment)`` (natural
    log). ``log_enrichment`` is NaN when ``observed == 0`` (log 0) or ``expected == 0`` (label absent
    from every window); such rows are counted in the log.

    Args:
        weights: weight table (module docstring); ``hsv`` marks the variants tested.
        windows: ``gene_id, chrom, start, end`` (0-based half-open, bp), one window per gene, e.g. the
            pipeline's windows (``PersonalWindow.chrom/start/end``); with a ``model`` column, one per
            model and gene (Enformer's ISM may use a wider window than Performer's).
        regions: ``chrom, start, end, label`` (:func:`read_annotation_bed`). Contigs are matched with
            ``resolve_contig`` (``chr22`` == ``22``); windows on a contig absent from ``regions`` overlap
            no label (counted, logged).
        by_gene: also return the per-gene-fold rows (else one row per model and label).

    Returns:
        Per (``model``, ``experiment``, ``train_fraction`` when present, ``label``): ``n_genes``
        (gene-folds), ``n_hsv``, ``observed`` (int64), ``expected`` (float64), ``label_fraction``
        (bp of the label over bp of the windows, gene-folds pooled), ``enrichment``, ``log_enrichment``.
        With ``by_gene`` the same per gene-fold (plus ``fold``, ``gene_id``; ``label_fraction`` of its window).

    Raises:
        KeyError: missing columns, or a gene without a window.
        ValueError: an HSV outside its gene's window; no window contig in ``regions``.
    """
    weights = check_weight_table(weights)
    for column in BED_COLUMNS:
        if column not in regions.columns:
            raise KeyError(f"regions lack column {column!r}; read the BED with read_annotation_bed")
    win = _windows(windows, weights)
    per_model = "model" in windows.columns
    labels = sorted(regions["label"].astype(str).unique())
    region_contigs = list(dict.fromkeys(regions["chrom"].astype(str)))
    merged: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for (chrom, label), rows in regions.groupby(["chrom", "label"], sort=False):
        merged[(str(chrom), str(label))] = _merge(rows["start"].to_numpy(np.int64), rows["end"].to_numpy(np.int64))

    contig_of: dict[str, str | None] = {}
    for chrom in win["chrom"].unique():
        try:
            contig_of[chrom] = resolve_contig(chrom, region_contigs, source="the annotation BED")
        except KeyError:
            contig_of[chrom] = None
    if not any(v is not None for v in contig_of.values()):
        raise ValueError(
            f"no window contig ({sorted(contig_of)[:5]}) is in the annotation BED (contigs {region_contigs[:5]}); "
            "check the genome build and contig names"
        )
    unmatched = win[win["chrom"].map(contig_of).isna()]
    if len(unmatched):
        log.warning(
            "%d gene windows lie on contigs absent from the annotation BED: no label overlaps them", len(unmatched)
        )

    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    rows = []
    gene_keys = _keys(weights, GENE_KEYS)
    for key, group in weights.groupby(gene_keys, sort=False):
        ident = dict(zip(gene_keys, key if isinstance(key, tuple) else (key,)))
        chrom, lo, hi = win.loc[(ident["model"] if per_model else "*", ident["gene_id"]), ["chrom", "start", "end"]]
        hsv_pos = group.loc[group["hsv"], "pos"].to_numpy(np.int64)
        outside = (hsv_pos < lo) | (hsv_pos >= hi)
        if outside.any():
            raise ValueError(
                f"HSV at 0-based {chrom}:{hsv_pos[outside][0]} of gene {ident['gene_id']} ({ident['model']}) lies "
                f"outside its window {chrom}:{lo}-{hi}; give the windows the weight table was made with"
            )
        contig = contig_of[chrom]
        for label in labels:
            starts, ends = merged.get((contig, label), empty) if contig is not None else empty
            bp = _overlap_bp(starts, ends, lo, hi)
            rows.append(
                {
                    **ident,
                    "label": label,
                    "n_hsv": len(hsv_pos),
                    "observed": int(_inside(starts, ends, hsv_pos).sum()),
                    "expected": len(hsv_pos) * bp / (hi - lo),
                    "label_bp": bp,
                    "window_bp": int(hi - lo),
                }
            )
    per_gene = pd.DataFrame(rows)
    if by_gene:
        table = per_gene.assign(n_genes=1)
    else:
        run_keys = _keys(weights, RUN_KEYS)
        table = (
            per_gene.groupby(run_keys + ["label"], sort=False)
            .agg(
                n_genes=("gene_id", "size"),
                n_hsv=("n_hsv", "sum"),
                observed=("observed", "sum"),
                expected=("expected", "sum"),
                label_bp=("label_bp", "sum"),
                window_bp=("window_bp", "sum"),
            )
            .reset_index()
        )
    table["observed"] = table["observed"].astype(np.int64)
    table["label_fraction"] = table["label_bp"] / table["window_bp"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = table["observed"] / table["expected"]
    defined = (table["observed"] > 0) & (table["expected"] > 0)
    table["enrichment"] = np.where(table["expected"] > 0, ratio, np.nan)
    table["log_enrichment"] = np.where(defined, np.log(ratio.where(defined, 1.0)), np.nan)
    undefined = int((~defined).sum())
    if undefined:
        log.info(
            "annotation enrichment: %d of %d rows have no log enrichment (observed or expected 0)",
            undefined,
            len(table),
        )
    return table.drop(columns=["label_bp", "window_bp"])


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
        weights: weight table (module docstring); every SNV of a gene-fold is scored.
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
    positive = fine_mapped[fine_mapped["label"].astype(bool)]
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
    listed = gene.value_counts() if by_gene else None

    rows = []
    gene_keys = _keys(weights, GENE_KEYS)
    for key, group in weights.groupby(gene_keys, sort=False):
        ident = dict(zip(gene_keys, key if isinstance(key, tuple) else (key,)))
        score = group["weight"].to_numpy(np.float64)
        if not np.isfinite(score).all():
            raise ValueError(f"non-finite weights for gene {ident['gene_id']} ({ident['model']}); fill or drop them")
        g = _stable_id(ident["gene_id"]) if by_gene else ""
        label = np.array(
            [
                (g, c, p) in by_position or (g, c, p, r, a) in by_allele
                for c, p, r, a in zip(group["chrom"], group["pos"], group["ref"], group["alt"])
            ],
            dtype=bool,
        )
        n_pos = int(label.sum())
        status = "no_positive" if n_pos == 0 else "no_negative" if n_pos == len(label) else "ok"
        row = {**ident, "n_snvs": len(label), "n_positive": n_pos}
        if by_gene:
            row["n_listed"] = int(listed.get(g, 0))
        row["auroc"] = float(roc_auc_score(label, np.abs(score))) if status == "ok" else np.nan
        row["status"] = status
        rows.append(row)
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


def summarize(table: pd.DataFrame, value: str, by: list[str] | None = None) -> pd.DataFrame:
    """Per run set (``model``, ``experiment``, ``train_fraction``; plus ``by``): ``n`` (finite values of
    ``value``), ``n_missing`` (NaN, e.g. dropped genes), ``mean``, ``median`` of ``value``."""
    keys = _keys(table, RUN_KEYS) + list(by or [])
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


def variant_set_summary(weights: pd.DataFrame) -> pd.DataFrame:
    """MAF and distance to the TSS of HSVs, drivers and all SNVs per model (Fig. 3d, 4e, Supp. Fig. S4).

    Returns:
        Per run set and ``set`` (see :func:`variant_sets`; sets with no variant are absent):
        ``n_variants``, ``n_genes`` (gene-folds with at least one), ``maf_mean``, ``maf_median``
        (when ``maf`` is given), ``abs_distance_mean``, ``abs_distance_median`` (``|distance_to_tss|``,
        bp, when given).
    """
    long = variant_sets(weights)
    keys = _keys(long, RUN_KEYS) + ["set"]
    gene_keys = [k for k in _keys(long, GENE_KEYS) if k not in keys]
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
    :func:`mean_pairwise_ld`. Combine gene-folds with :func:`summarize` (``value="mean_r2"``, ``by=["set"]``).

    Args:
        weights: weight table (module docstring).
        dosages: gene ID -> the cohort's dosages of that gene's window: an
            :class:`~performer.data.variants.SNVs` (``pos`` 0-based, ``alt`` codes, ``dosage``
            int8 ``(n_people, S)``), matched on (``pos``, ``alt``); or a tuple ``(pos, dosage)``, matched
            on ``pos``. Choose the people (e.g. all of the cohort, or a fold's training people).

    Returns:
        One row per gene-fold and ``set`` (:func:`variant_sets`): keys, ``set``, ``n_variants``,
        ``n_pairs`` (defined pairs), ``n_undefined`` (pairs with a constant column), ``mean_r2``
        (NaN with fewer than two variants: counted in the log).

    Raises:
        KeyError: a gene without dosages, or a selected SNV not among its gene's dosage columns.
        ValueError: ``(pos, dosage)`` input with two SNVs at one position (give an ``SNVs``).
    """
    long = variant_sets(weights)
    gene_keys = _keys(long, GENE_KEYS)
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
    (:func:`performer.interpret.functional_plots.write_functional_figures`) when ``figures``.

    Returns:
        The tables by file stem.
    """
    from performer.interpret.functional_plots import write_functional_figures

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
