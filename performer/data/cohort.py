"""A cohort: the people with both genotypes and expression, and the genes they can be trained on.

People are named by their expression-matrix column; an optional ID map links them to VCF sample
names when the two differ (ROSMAP, for example). Genes are keyed by the expression file's gene ID and
resolve by symbol or Ensembl ID, with or without version, through an optional gene table (GTF/TSV)
whose ID versions may differ from the expression file's.
"""

from __future__ import annotations

import difflib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from performer.data.expression import ExpressionMatrix, strip_version

log = logging.getLogger(__name__)


def read_id_map(path: str | Path) -> dict[str, str]:
    """Read a TSV with columns ``expression_id`` and ``vcf_id``: expression ID -> VCF sample.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a missing column or an expression ID listed twice.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ID map not found: {path}")
    table = pd.read_csv(path, sep="\t", dtype=str)
    if not {"expression_id", "vcf_id"} <= set(table.columns):
        raise ValueError(f"{path}: an ID map needs the columns 'expression_id' and 'vcf_id'")
    repeated = table["expression_id"][table["expression_id"].duplicated()]
    if len(repeated):
        raise ValueError(f"{path}: expression_id {repeated.iloc[0]!r} is listed twice")
    return dict(zip(table["expression_id"], table["vcf_id"]))


class Cohort:
    """People with genotypes and expression, and the gene table of the expression matrix.

    Args:
        expression: the expression matrix (genes x people).
        vcf_samples: sample names of the VCF.
        gene_table: optional table with ``gene_id gene_name chrom tss strand`` (GTF or TSV), used
            for gene names and strands; TSSs come from the expression file, which defines the
            modelled feature. Joined on the unversioned gene ID.
        id_map: optional expression ID -> VCF sample name mapping.

    Attributes:
        people: expression IDs of the people in both files, in expression-column order.
        vcf_sample: expression ID -> VCF sample name, for :attr:`people`.
        genes: DataFrame indexed by expression gene ID: ``gene_name chrom tss strand``.

    Raises:
        ValueError: no person is in both files (the message shows example IDs of each).
    """

    def __init__(
        self,
        expression: ExpressionMatrix,
        vcf_samples: list[str],
        gene_table: pd.DataFrame | None = None,
        id_map: dict[str, str] | None = None,
    ):
        self.expression = expression
        id_map = id_map or {}
        in_vcf = set(vcf_samples)
        self.people = [p for p in expression.people if id_map.get(p, p) in in_vcf]
        if not self.people:
            raise ValueError(
                f"no person is in both the expression file {expression.path} "
                f"(e.g. {expression.people[:3]}) and the VCF (e.g. {vcf_samples[:3]}); "
                "if the two use different IDs, give an ID map (data.id_map=) with columns "
                "expression_id and vcf_id"
            )
        self.vcf_sample = {p: id_map.get(p, p) for p in self.people}
        n_expr_only = len(expression.people) - len(self.people)
        log.info(
            "cohort: %d people with genotypes and expression (%d expression-only, %d VCF-only people left out)",
            len(self.people),
            n_expr_only,
            len(in_vcf) - len(set(self.vcf_sample.values())),
        )
        genes = expression.genes.copy()
        genes["gene_name"] = genes.index
        if gene_table is not None:
            by_stem = gene_table.drop_duplicates("gene_id").assign(stem=gene_table["gene_id"].map(strip_version))
            by_stem = by_stem.drop_duplicates("stem").set_index("stem")
            stems = genes.index.map(strip_version)
            named = stems.isin(by_stem.index)
            genes.loc[named, "gene_name"] = by_stem.loc[stems[named], "gene_name"].to_numpy()
            unknown_strand = named & (genes["strand"] == ".")
            genes.loc[unknown_strand, "strand"] = by_stem.loc[stems[unknown_strand], "strand"].to_numpy()
            log.info("gene table: names for %d of %d expression genes", int(named.sum()), len(genes))
        self.genes = genes[["gene_name", "chrom", "tss", "strand"]]

    def resolve(self, query: str) -> str:
        """Expression gene ID of ``query``: a symbol, or an Ensembl ID with or without version.

        Raises:
            KeyError: unknown gene (the message lists close matches), or a symbol naming several
                genes (the message lists their IDs).
        """
        if query in self.genes.index:
            return query
        stems = self.genes.index.map(strip_version)
        hits = list(self.genes.index[stems == strip_version(query)])
        if not hits:
            hits = list(self.genes.index[self.genes["gene_name"] == query])
        if not hits:
            hits = list(self.genes.index[self.genes["gene_name"].str.upper() == query.upper()])
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise KeyError(f"gene {query!r} names several genes in {self.expression.path}: {hits}; use an ID")
        vocabulary = list(self.genes["gene_name"]) + list(stems)
        close = difflib.get_close_matches(query, vocabulary, n=5, cutoff=0.6)
        raise KeyError(
            f"gene {query!r} is not in {self.expression.path}" + (f"; close matches: {close}" if close else "")
        )

    def targets(self, gene_id: str, people: list[str] | None = None) -> pd.Series:
        """Expression of ``gene_id`` across ``people`` (default: all cohort people), NaN dropped.

        Returns a float64 Series indexed by person. People with NaN are left out and counted in the
        log.
        """
        people = self.people if people is None else people
        values = self.expression.values.loc[gene_id, people]
        missing = int(values.isna().sum())
        if missing:
            log.warning("gene %s: %d people with NaN expression left out", gene_id, missing)
        return values.dropna()

    def gene_name(self, gene_id: str) -> str:
        """Symbol of ``gene_id`` (the ID itself where the gene table has none)."""
        return str(self.genes.at[gene_id, "gene_name"])

    def all_gene_names(self) -> np.ndarray:
        """Symbols of all expression genes (the ID where no symbol is known), in file order."""
        return self.genes["gene_name"].to_numpy()
