"""Expression matrices and gene tables.

Expression BED layouts (tab-separated, optionally gzipped, one row per gene, one column per person):

* GTEx / FastQTL: ``#chr start end gene_id`` then people.
* QTLtools BED6: ``#chr start end gene_id length strand`` then people (the 5th column may also be
  named ``gid`` or ``info``; the 6th must be ``strand``).

In both, ``end`` is the 1-based TSS, so the 0-based TSS is ``end - 1``.

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


@dataclass
class ExpressionMatrix:
    """Expression of genes (rows) across people (columns).

    Attributes:
        genes: DataFrame indexed by the file's gene ID with columns ``chrom``, ``tss`` (int64,
            0-based) and ``strand`` (``+``/``-``, or ``.`` when the layout has none).
        values: float64 DataFrame, genes x people, same index as ``genes``; NaN where missing.
        path: the file read.
    """

    genes: pd.DataFrame
    values: pd.DataFrame
    path: Path

    @property
    def people(self) -> list[str]:
        return list(self.values.columns)


def read_expression_bed(path: str | Path) -> ExpressionMatrix:
    """Read a GTEx/FastQTL or QTLtools BED6 expression matrix (layout detected from the header).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a header with fewer than 4 columns, duplicate gene IDs or people, or a
            non-numeric value (the message names the file and the column).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"expression file not found: {path}")
    table = pd.read_csv(path, sep="\t", dtype={0: str})
    header = [c.lower().lstrip("#") for c in table.columns]
    if len(header) < 5 or header[:3] != ["chr", "start", "end"]:
        raise ValueError(
            f"{path}: expected a BED header '#chr start end gene_id <people...>' "
            f"(GTEx/FastQTL) or '#chr start end gene_id length strand <people...>' (QTLtools), "
            f"got {list(table.columns[:6])}"
        )
    n_meta = 6 if len(header) > 6 and header[5] == "strand" else 4
    meta = table.iloc[:, :n_meta]
    gene_ids = meta.iloc[:, 3].astype(str)
    if gene_ids.duplicated().any():
        raise ValueError(f"{path}: duplicate gene IDs, e.g. {gene_ids[gene_ids.duplicated()].iloc[0]}")
    genes = pd.DataFrame(
        {
            "chrom": meta.iloc[:, 0].astype(str).to_numpy(),
            "tss": meta.iloc[:, 2].astype(np.int64).to_numpy() - 1,
            "strand": meta.iloc[:, 5].astype(str).to_numpy() if n_meta == 6 else ".",
        },
        index=pd.Index(gene_ids.to_numpy(), name="gene_id"),
    )
    values = table.iloc[:, n_meta:]
    values.index = genes.index
    values.columns = values.columns.astype(str)
    if values.columns.duplicated().any():
        raise ValueError(f"{path}: duplicate people columns, e.g. {values.columns[values.columns.duplicated()][0]}")
    for column in values.columns:
        if not pd.api.types.is_numeric_dtype(values[column]):
            raise ValueError(f"{path}: column {column!r} holds non-numeric expression values")
    log.info("read %d genes x %d people from %s", len(genes), values.shape[1], path)
    return ExpressionMatrix(genes=genes, values=values.astype(np.float64), path=path)


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
