"""Expression matrices and gene tables.

Expression BED layouts (tab-separated, optionally gzipped, one row per gene, one column per person):

* GTEx / FastQTL: ``#chr start end gene_id`` then people.
* QTLtools BED6: ``#chr start end gene_id length strand`` then people (the 5th column may also be
  named ``gid`` or ``info``; the 6th must be ``strand``, one of ``+``, ``-`` or ``.``).

``start``/``end`` are BED coordinates (0-based, half-open). The TSS (0-based) of a row is:

* a one-base row (``end - start == 1``, the usual eQTL layout where ``end`` is the 1-based TSS):
  ``end - 1``, on any strand;
* a row spanning a whole gene (``end - start > 1``), QTLtools layout only: ``start`` on ``+`` and
  ``end - 1`` on ``-``; such rows are counted and logged (one INFO line). In the GTEx/FastQTL
  layout, or with strand ``.``, the strand and so the TSS of such a row are unknown: an error.

A row with ``end <= start`` is an error. Every person appears once in the header: a repeated
column name is an error (it is read as written, not renamed). Missing expression values are
written ``NA`` (or ``NaN``/``nan``) and read as NaN; an empty cell or a row with fewer fields than
the header is an error, as is an infinite value.

Gene tables: a GENCODE/Ensembl GTF (``gene`` records; TSS = ``start`` on ``+``, ``end`` on ``-``,
converted to 0-based) or a TSV with columns ``gene_id gene_name chrom tss strand`` (0-based TSS).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

GENE_COLUMNS = ["gene_id", "gene_name", "chrom", "tss", "strand"]


def strip_version(gene_id: str) -> str:
    """``ENSG00000100075.9`` -> ``ENSG00000100075``; IDs without a version are returned as is."""
    return re.sub(r"\.\d+$", "", gene_id)


#: Spellings of a missing expression value (read as NaN). An empty cell is not one of them.
NA_VALUES = ["NA", "NaN", "nan", "NAN", "N/A", "n/a", "#N/A", "NULL", "null", "None", "<NA>", "-nan", "-NaN"]


@dataclass
class ExpressionMatrix:
    """Expression of genes (rows) across people (columns).

    Attributes:
        genes: DataFrame indexed by the file's gene ID with columns ``chrom`` (str), ``tss`` (int64,
            0-based, see the module docstring for the rule) and ``strand`` (``+``/``-``, or ``.``
            when the layout has none).
        values: float64 DataFrame, genes x people, same index as ``genes``; NaN where missing.
        path: the file read.
    """

    genes: pd.DataFrame
    values: pd.DataFrame
    path: Path

    @property
    def people(self) -> list[str]:
        """Person IDs (the expression columns), in file order."""
        return list(self.values.columns)


def _examples(genes: pd.Series, lines: np.ndarray, mask: np.ndarray, limit: int = 3) -> str:
    """``'G1' (line 2), 'G7' (line 8)``: the first ``limit`` rows flagged by ``mask``, for error messages."""
    rows = np.flatnonzero(mask)[:limit]
    return ", ".join(f"{genes.iloc[r]!r} (line {lines[r]})" for r in rows)


def _read_header(path: Path) -> list[str]:
    """The header fields exactly as written (pandas would rename a repeated name ``X`` to ``X.1``)."""
    try:
        first = pd.read_csv(path, sep="\t", header=None, nrows=1, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the expression file is empty") from None
    return first.iloc[0].tolist()


def read_expression_bed(path: str | Path) -> ExpressionMatrix:
    """Read a GTEx/FastQTL or QTLtools BED6 expression matrix (layout detected from the header).

    The TSS of each gene follows the rule of the module docstring.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the message names the file and the column, line or gene, for: an empty file or one
            without gene rows; a header that is not a BED header or has no people; a person (or any
            column) named twice in the header; rows with another number of fields than the header, or
            an empty cell; duplicate gene IDs; a non-integer ``start``/``end``, or ``end <= start``; a
            strand other than ``+``, ``-``, ``.``; a whole-gene row (``end - start > 1``) without a
            ``+``/``-`` strand; a non-numeric or infinite expression value.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"expression file not found: {path}")
    header = _read_header(path)
    n_meta = _meta_columns(path, header)
    table = _read_rows(path, header, n_meta)
    lines = np.arange(len(table)) + 2  # 1-based line numbers in the file (the header is line 1)
    meta = table.iloc[:, :n_meta]
    gene_ids = _gene_ids(path, meta, lines)
    tss, strand = _tss(path, meta, gene_ids, lines)
    matrix = _expression_values(path, table.iloc[:, n_meta:], gene_ids, lines)
    genes = pd.DataFrame(
        {"chrom": meta.iloc[:, 0].to_numpy(dtype=str), "tss": tss.astype(np.int64), "strand": strand},
        index=pd.Index(gene_ids.to_numpy(dtype=str), name="gene_id"),
    )
    values = pd.DataFrame(matrix, index=genes.index, columns=pd.Index(header[n_meta:]))
    log.info("read %d genes x %d people from %s", len(genes), values.shape[1], path)
    return ExpressionMatrix(genes=genes, values=values, path=path)


def _meta_columns(path: Path, header: list[str]) -> int:
    """The number of BED columns before the people: 4 (GTEx/FastQTL) or 6 (QTLtools BED6).

    Raises:
        ValueError: not a BED header, no people columns, or a column named twice.
    """
    names = [c.lower().lstrip("#") for c in header]
    if len(names) < 5 or names[:3] != ["chr", "start", "end"]:
        raise ValueError(
            f"{path}: expected a BED header '#chr start end gene_id <people...>' "
            f"(GTEx/FastQTL) or '#chr start end gene_id length strand <people...>' (QTLtools), "
            f"got {header[:6]}"
        )
    n_meta = 6 if len(names) >= 6 and names[5] == "strand" else 4
    if len(header) == n_meta:
        raise ValueError(f"{path}: the header has no people columns after {header}")
    columns = pd.Index(header)
    repeated = list(dict.fromkeys(columns[columns.duplicated()]))
    if repeated:
        raise ValueError(
            f"{path}: the header names {repeated} more than once; each person must have one column "
            "(remove or rename the repeated columns)"
        )
    return n_meta


def _read_rows(path: Path, header: list[str], n_meta: int) -> pd.DataFrame:
    """The rows under the header, columns named as in it: BED columns as str, people as float (NaN for NA).

    Raises:
        ValueError: no gene rows, or rows with another number of fields than the header.
    """
    people_na = {i: NA_VALUES for i in range(n_meta, len(header))}
    try:
        table = pd.read_csv(
            path,
            sep="\t",
            header=None,
            skiprows=1,
            dtype={i: str for i in range(n_meta)},
            keep_default_na=False,
            na_values=people_na,
        )
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the expression file has a header but no gene rows") from None
    except pd.errors.ParserError as error:
        raise ValueError(f"{path}: rows with another number of fields than the header: {error}") from None
    if table.shape[1] != len(header):
        raise ValueError(
            f"{path}: line 2 has {table.shape[1]} fields but the header has {len(header)}; "
            "every row needs one field per header column"
        )
    table.columns = header
    return table


def _gene_ids(path: Path, meta: pd.DataFrame, lines: np.ndarray) -> pd.Series:
    """The gene ID column (the 4th), after checking that no BED cell is empty and no gene ID repeats.

    Raises:
        ValueError: an empty cell in a BED column, or duplicate gene IDs.
    """
    for name in meta.columns:
        empty = (meta[name] == "").to_numpy()
        if empty.any():
            raise ValueError(f"{path}: column {name!r} is empty on line {lines[np.argmax(empty)]}")
    gene_ids = meta.iloc[:, 3]
    dup = gene_ids.duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(f"{path}: duplicate gene IDs: {_examples(gene_ids, lines, dup, limit=6)}")
    return gene_ids


def _tss(path: Path, meta: pd.DataFrame, gene_ids: pd.Series, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 0-based TSS (int64) and strand (str: ``+``, ``-`` or ``.``) of every row, by the module docstring's rule.

    Raises:
        ValueError: a non-integer coordinate, ``end <= start``, an unknown strand, or a whole-gene row
            without a ``+``/``-`` strand.
    """
    start, end = (_coordinate(path, meta, name, gene_ids, lines) for name in meta.columns[1:3])
    span = end - start
    backwards = span <= 0
    if backwards.any():
        raise ValueError(
            f"{path}: {int(backwards.sum())} rows with end <= start, e.g. {_examples(gene_ids, lines, backwards)}; "
            "a BED row needs start < end (0-based, half-open; a one-base TSS row has end = start + 1)"
        )
    n_meta = meta.shape[1]
    strand = meta.iloc[:, 5].to_numpy(dtype=str) if n_meta == 6 else np.full(len(meta), ".")
    odd = ~np.isin(strand, ["+", "-", "."])
    if odd.any():
        raise ValueError(
            f"{path}: strand {str(strand[np.argmax(odd)])!r} on {_examples(gene_ids, lines, odd)}; "
            "the strand column holds '+', '-' or '.'"
        )
    whole = span != 1
    unknown = whole & (strand == ".")
    if unknown.any():
        where = "the GTEx/FastQTL layout has no strand column" if n_meta == 4 else "their strand is '.'"
        raise ValueError(
            f"{path}: {int(unknown.sum())} rows span more than one base (end - start > 1), e.g. "
            f"{_examples(gene_ids, lines, unknown)}, and {where}, so their TSS is unknown; give one-base "
            "TSS rows (end = the 1-based TSS, start = end - 1), or the QTLtools layout with a '+'/'-' strand column"
        )
    if whole.any():
        log.info(
            "%s: %d genes span more than one base; TSS taken as start on '+' and end - 1 on '-'", path, int(whole.sum())
        )
    return np.where(whole & (strand == "+"), start, end - 1), strand


def _coordinate(path: Path, meta: pd.DataFrame, name: str, gene_ids: pd.Series, lines: np.ndarray) -> np.ndarray:
    """BED column ``name`` (``start`` or ``end``) as int64.

    Raises:
        ValueError: a value that is not an integer.
    """
    number = pd.to_numeric(meta[name], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(number) | (number != np.round(number))
    if bad.any():
        row = np.argmax(bad)
        raise ValueError(
            f"{path}: column {name!r} holds {meta[name].iloc[row]!r} on line {lines[row]} "
            f"(gene {gene_ids.iloc[row]!r}); BED coordinates are integers"
        )
    return number.astype(np.int64)


def _expression_values(path: Path, values: pd.DataFrame, gene_ids: pd.Series, lines: np.ndarray) -> np.ndarray:
    """The people columns as float64 ``(genes, people)``, NaN where missing.

    Raises:
        ValueError: an empty cell, a non-numeric or an infinite value (the message names column, line and gene).
    """
    for column in values.columns:
        if not pd.api.types.is_numeric_dtype(values[column]):
            bad = pd.to_numeric(values[column], errors="coerce").isna() & values[column].notna()
            row = int(np.argmax(bad.to_numpy()))
            text = values[column].iloc[row]
            what = "is empty (an empty cell or a short row; write NA for a missing value)"
            if text != "":
                what = f"holds the non-numeric value {text!r}"
            raise ValueError(f"{path}: column {column!r} {what} on line {lines[row]} (gene {gene_ids.iloc[row]!r})")
    matrix = values.to_numpy(dtype=np.float64)
    infinite = np.isinf(matrix)
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        raise ValueError(
            f"{path}: column {values.columns[col]!r} holds an infinite value on line {lines[row]} "
            f"(gene {gene_ids.iloc[row]!r})"
        )
    return matrix


def read_gene_table(path: str | Path) -> pd.DataFrame:
    """Gene table with columns ``gene_id gene_name chrom tss strand`` (TSS 0-based, int64).

    Reads ``gene`` records of a GTF (``.gtf`` or ``.gtf.gz``) or a TSV with those columns.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a TSV lacking a required column, or a GTF with no ``gene`` records.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"gene table not found: {path}")
    if path.name.endswith((".gtf", ".gtf.gz")):
        return _read_gtf_genes(path)
    table = pd.read_csv(path, sep="\t", dtype={"gene_id": str, "gene_name": str, "chrom": str})
    absent = [c for c in GENE_COLUMNS if c not in table.columns]
    if absent:
        raise ValueError(f"{path}: gene table lacks columns {absent}; expected {GENE_COLUMNS}")
    table = table[GENE_COLUMNS].copy()
    table["tss"] = table["tss"].astype(np.int64)
    return table


def _read_gtf_genes(path: Path) -> pd.DataFrame:
    gtf = pd.read_csv(
        path,
        sep="\t",
        comment="#",
        header=None,
        usecols=[0, 2, 3, 4, 6, 8],
        names=["chrom", "feature", "start", "end", "strand", "attributes"],
        dtype={"chrom": str},
    )
    gtf = gtf[gtf["feature"] == "gene"]
    if gtf.empty:
        raise ValueError(f"{path}: GTF has no 'gene' records")
    gene_id = gtf["attributes"].str.extract(r'gene_id "([^"]+)"', expand=False)
    gene_name = gtf["attributes"].str.extract(r'gene_name "([^"]+)"', expand=False)
    tss_1based = np.where(gtf["strand"] == "-", gtf["end"], gtf["start"])
    return pd.DataFrame(
        {
            "gene_id": gene_id.to_numpy(),
            "gene_name": gene_name.fillna(gene_id).to_numpy(),
            "chrom": gtf["chrom"].to_numpy(),
            "tss": tss_1based.astype(np.int64) - 1,
            "strand": gtf["strand"].to_numpy(),
        }
    ).reset_index(drop=True)
