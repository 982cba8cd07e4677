"""Enrichment of high-scoring variants in labelled regions (Drusinsky et al., Methods "Enrichment of HSVs", Fig. 3a).

:func:`read_annotation_bed` reads the regions (e.g. ChromHMM states); :func:`annotation_enrichment` compares the
HSVs of each gene-fold of a weight table (:mod:`performer.interpret.variant_weights`) inside each label with a
uniform expectation over the gene's window. Coordinates are 0-based half-open; contig names may differ by a
``chr`` prefix between the windows and the BED (``performer.data.reference.resolve_contig``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from performer.data.reference import resolve_contig
from performer.interpret.tables import open_text
from performer.interpret.variant_weights import GENE_KEYS, RUN_KEYS, check_weight_table, present_keys

log = logging.getLogger(__name__)

BED_COLUMNS = ["chrom", "start", "end", "label"]
"""Columns of :func:`read_annotation_bed`."""

Intervals = tuple[np.ndarray, np.ndarray]
"""Sorted, disjoint half-open intervals: int64 ``starts`` and ``ends`` (bp)."""


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
    with open_text(path) as handle:
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
        weights: weight table (:mod:`performer.interpret.variant_weights`); ``hsv`` marks the variants tested.
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
    per_gene = _gene_fold_counts(weights, win, "model" in windows.columns, regions)
    if by_gene:
        table = per_gene.assign(n_genes=1)
    else:
        table = _pool_gene_folds(per_gene, present_keys(weights, RUN_KEYS))
    return _with_enrichment(table)


def _merged_regions(regions: pd.DataFrame) -> dict[tuple[str, str], Intervals]:
    """Each (contig, label)'s regions merged into disjoint intervals, so overlapping regions count once."""
    merged: dict[tuple[str, str], Intervals] = {}
    for (chrom, label), rows in regions.groupby(["chrom", "label"], sort=False):
        merged[(str(chrom), str(label))] = _merge(rows["start"].to_numpy(np.int64), rows["end"].to_numpy(np.int64))
    return merged


def _window_contigs(win: pd.DataFrame, region_contigs: list[str]) -> dict[str, str | None]:
    """Each window contig's spelling in the annotation BED, None where the BED lacks it (logged).

    Raises:
        ValueError: no window contig is in the BED.
    """
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
    return contig_of


def _gene_fold_counts(weights: pd.DataFrame, win: pd.DataFrame, per_model: bool, regions: pd.DataFrame) -> pd.DataFrame:
    """One row per gene-fold and label: its keys, ``label``, ``n_hsv``, ``observed``, ``expected``,
    ``label_bp`` (bp of the label inside the window) and ``window_bp``.

    Raises:
        ValueError: an HSV outside its gene's window; no window contig in ``regions``.
    """
    labels = sorted(regions["label"].astype(str).unique())
    merged = _merged_regions(regions)
    contig_of = _window_contigs(win, list(dict.fromkeys(regions["chrom"].astype(str))))
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    rows = []
    gene_keys = present_keys(weights, GENE_KEYS)
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
    return pd.DataFrame(rows)


def _pool_gene_folds(per_gene: pd.DataFrame, run_keys: list[str]) -> pd.DataFrame:
    """The gene-fold rows of :func:`_gene_fold_counts` summed per run set and label (``n_genes`` counts them)."""
    return (
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


def _with_enrichment(table: pd.DataFrame) -> pd.DataFrame:
    """``label_fraction``, ``enrichment`` and ``log_enrichment`` added (undefined rows counted in the log);
    ``label_bp`` and ``window_bp`` dropped."""
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
