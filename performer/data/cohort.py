"""A cohort: the people with both genotypes and expression, and the genes they can be trained on.

People are named by their expression-matrix column; an optional ID map links them to VCF sample
names when the two differ (ROSMAP, for example). Without a map, or for a person the map does not
list, an expression ID equal to a VCF sample name is that sample. Each VCF sample is the genome of
at most one person: two expression IDs reaching one sample (through the map or by name) are an
error, since the same genome could otherwise land in both the train and the test set.

Genes are keyed by the expression file's gene ID and resolve by symbol or Ensembl ID, with or
without version, through an optional gene table (GTF/TSV) whose ID versions may differ from the
expression file's. Lookups are dictionaries built once, so resolving every gene of a large matrix
is cheap.
"""

from __future__ import annotations

import difflib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from performer.data.expression import ExpressionMatrix, strip_version

log = logging.getLogger(__name__)


def _many_to_one(id_map: Mapping[str, str]) -> dict[str, list[str]]:
    """VCF sample -> the expression IDs mapped to it, for samples reached from more than one ID."""
    sources: dict[str, list[str]] = defaultdict(list)
    for expression_id, vcf_id in id_map.items():
        sources[vcf_id].append(expression_id)
    return {vcf_id: ids for vcf_id, ids in sources.items() if len(ids) > 1}


def _describe(shared: dict[str, list[str]], limit: int = 3) -> str:
    """``VCF sample 'N1' <- expression IDs ['S1', 'S2']; ...`` for the first ``limit`` samples."""
    parts = [f"VCF sample {vcf_id!r} <- expression IDs {ids}" for vcf_id, ids in list(shared.items())[:limit]]
    more = f" (and {len(shared) - limit} more samples)" if len(shared) > limit else ""
    return "; ".join(parts) + more


def read_id_map(path: str | Path) -> dict[str, str]:
    """Read a TSV with columns ``expression_id`` and ``vcf_id``: expression ID -> VCF sample.

    IDs are read as text, exactly as written (``NA``, ``001`` stay as they are).

    Raises:
        FileNotFoundError: no such file.
        ValueError: a missing column, an empty cell, an expression ID listed twice, or a VCF sample
            listed for several expression IDs (the message names the file, the sample and the IDs).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ID map not found: {path}")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if not {"expression_id", "vcf_id"} <= set(table.columns):
        raise ValueError(f"{path}: an ID map needs the columns 'expression_id' and 'vcf_id'")
    for column in ["expression_id", "vcf_id"]:
        empty = (table[column].str.strip() == "").to_numpy()
        if empty.any():
            raise ValueError(f"{path}: column {column!r} is empty on line {int(np.argmax(empty)) + 2}")
    repeated = table["expression_id"][table["expression_id"].duplicated()]
    if len(repeated):
        raise ValueError(f"{path}: expression_id {repeated.iloc[0]!r} is listed twice")
    id_map = dict(zip(table["expression_id"], table["vcf_id"]))
    shared = _many_to_one(id_map)
    if shared:
        raise ValueError(
            f"ID map {path}: {_describe(shared)}; one genome would count as several people and could land in "
            "both the train and the test set; map each VCF sample from one expression ID (drop the replicates)"
        )
    return id_map


class Cohort:
    """People with genotypes and expression, and the gene table of the expression matrix.

    Args:
        expression: the expression matrix (genes x people).
        vcf_samples: sample names of the VCF (each once).
        gene_table: optional table with ``gene_id gene_name chrom tss strand`` (GTF or TSV), used
            for gene names and strands; TSSs come from the expression file, which defines the
            modelled feature. Joined on the unversioned gene ID.
        id_map: optional expression ID -> VCF sample name mapping; people it does not list are
            matched by name.

    Attributes:
        people: expression IDs of the people in both files, in expression-column order.
        vcf_sample: expression ID -> VCF sample name, for :attr:`people` (one person per sample).
        genes: DataFrame indexed by expression gene ID: ``gene_name chrom tss strand``.

    Raises:
        ValueError: a VCF sample named twice in ``vcf_samples``; two expression IDs reaching one VCF
            sample (the message names the sample and the IDs); no person in both files (the message
            shows example IDs of each).
    """

    def __init__(
        self,
        expression: ExpressionMatrix,
        vcf_samples: Iterable[str],
        gene_table: pd.DataFrame | None = None,
        id_map: Mapping[str, str] | None = None,
    ):
        self.expression = expression
        vcf_samples = list(vcf_samples)
        samples = pd.Index(vcf_samples)
        if samples.has_duplicates:
            repeated = list(dict.fromkeys(samples[samples.duplicated()]))
            raise ValueError(f"the VCF names the samples {repeated[:5]} more than once; each sample must appear once")
        id_map = dict(id_map or {})
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
        shared = _many_to_one(self.vcf_sample)
        if shared:
            raise ValueError(
                f"people of {expression.path} share a genome: {_describe(shared)} (through the ID map, or an "
                "expression ID that is itself the sample's name); they could land in both the train and the "
                "test set; keep one expression column per VCF sample, or fix the ID map"
            )
        n_expr_only = len(expression.people) - len(self.people)
        log.info(
            "cohort: %d people with genotypes and expression (%d expression-only, %d VCF-only people left out)",
            len(self.people),
            n_expr_only,
            len(in_vcf) - len(self.people),
        )
        genes = expression.genes.copy()
        genes["gene_name"] = genes.index
        if gene_table is not None:
            by_stem = gene_table.drop_duplicates("gene_id").assign(stem=gene_table["gene_id"].map(strip_version))
            by_stem = by_stem.drop_duplicates("stem").set_index("stem")
            stems = genes.index.map(strip_version)
            named = stems.isin(by_stem.index)
            names = by_stem.loc[stems[named], "gene_name"].to_numpy(dtype=object)
            has_name = pd.notna(names) & (names != "")
            genes.loc[genes.index[named][has_name], "gene_name"] = names[has_name]
            unknown_strand = named & (genes["strand"] == ".")
            genes.loc[unknown_strand, "strand"] = by_stem.loc[stems[unknown_strand], "strand"].to_numpy()
            log.info("gene table: names for %d of %d expression genes", int(has_name.sum()), len(genes))
        self.genes = genes[["gene_name", "chrom", "tss", "strand"]]
        self._build_lookups()

    def _build_lookups(self) -> None:
        """Dictionaries behind :meth:`resolve`: unversioned ID, symbol and uppercase symbol -> gene IDs."""
        self._ids = set(self.genes.index)
        self._by_stem: dict[str, list[str]] = defaultdict(list)
        self._by_name: dict[str, list[str]] = defaultdict(list)
        self._by_upper: dict[str, list[str]] = defaultdict(list)
        for gene_id, name in zip(self.genes.index, self.genes["gene_name"]):
            self._by_stem[strip_version(gene_id)].append(gene_id)
            self._by_name[name].append(gene_id)
            self._by_upper[name.upper()].append(gene_id)

    def resolve(self, query: str) -> str:
        """Expression gene ID of ``query``: a symbol, or an Ensembl ID with or without version.

        Tried in order: the gene ID as in the expression file; the unversioned ID; the symbol; the
        symbol in any case. The first step with a hit decides.

        Raises:
            KeyError: unknown gene (the message lists close matches), or a query naming several
                genes (the message lists their IDs).
        """
        if query in self._ids:
            return query
        hits = (
            self._by_stem.get(strip_version(query))
            or self._by_name.get(query)
            or self._by_upper.get(query.upper())
            or []
        )
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise KeyError(f"gene {query!r} names several genes in {self.expression.path}: {hits}; use an ID")
        vocabulary = list(self._by_name) + list(self._by_stem)
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
        # the gene's row first, then the people: `.loc[gene_id, people]` would copy the people's columns
        # of every gene (25 ms per call at 2,000 genes x 840 people)
        values = self.expression.values.loc[gene_id].loc[people]
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
