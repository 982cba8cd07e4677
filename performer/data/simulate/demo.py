"""Simulated demo cohort: reference, phased genotypes and expression with known truth.

This module writes a small, fully synthetic personal-genome expression cohort in
the same file formats the rest of :mod:`performer` reads for real data (a FASTA
reference, a phased VCF, a GTEx/FastQTL-style expression BED).  Because the
causal variants are planted, the cohort has a known ground truth and can be used
to check that fine-tuning recovers a real cis-eQTL signal.  Generation is
deterministic from a single integer seed and takes a few seconds.

**The gene names are simulated stand-ins.**  ``DEMO_GENES`` borrows the symbols
of genes discussed in the Performer paper (BTNL3, ZFP57, PPIF, ERAP2, ...) only
so that the demo reads naturally.  Their sequence, position, genotypes and
expression have *no relation whatsoever* to the real genes; nothing learned on
this cohort says anything about human biology.

Model
-----
Reference
    One contig, ``chr1``, of length ``n_genes * 100_000 + 20_000`` bp with
    i.i.d. random bases (41% GC), where ``n_genes`` counts the indel gene
    (below): its 100 kb are appended from the indel gene's own stream, so the
    first ``len(genes) * 100_000 + 20_000`` bases are those of the SNV-only
    cohort.  Gene ``k`` owns the locus
    ``[k * 100_000 + 10_000, k * 100_000 + 10_000 + locus_bp)`` (0-based,
    half-open) and its TSS is the locus midpoint,
    ``tss = locus_start + locus_bp // 2`` (0-based).

Genotypes
    Each locus is simulated independently with the coalescent with
    recombination in msprime (Baumdicker et al. 2022, *Genetics* 220:iyab229;
    Kelleher et al. 2016, *PLoS Comput Biol* 12:e1004842):
    ``n_people`` diploid individuals, recombination rate 1e-8 per bp per
    generation, and a single population whose size grew exponentially from
    10,000 to 50,000 over the last 200 generations.  Mutations are added at
    1.29e-8 per bp per generation on a discrete genome under a two-state
    (binary) mutation model; sites hit by more than one mutation are dropped,
    so every remaining site is a biallelic SNV.  The
    ancestral allele is the reference base and the derived allele is a
    uniformly chosen different base.  Haplotypes ``2i`` and ``2i + 1`` belong
    to person ``i`` and are written as phased genotypes.

Short indels
    Every locus also gets ``max(3, round(0.01 * n_snvs))`` short indels (about
    1% as many as SNVs): with probability 1/2 a deletion of ``L`` bases (REF =
    anchor base + the ``L`` reference bases after it, ALT = the anchor) or else
    an insertion of ``L`` random bases after the anchor, ``L`` uniform in
    [1, 20].  An indel is redrawn until no other record (SNV or indel) lies
    within its REF span +-1 bp and until it is left-normalised: the last
    deleted or inserted base differs from the anchor, so it cannot shift left
    and ``bcftools norm -f reference.fa`` leaves the VCF unchanged.  Each is
    biallelic with REF from the reference; its haplotypes are i.i.d.
    Bernoulli(``f``), ``f ~ Uniform(0.01, 0.5)`` (redrawn until polymorphic),
    so background indels are in linkage equilibrium with the SNVs and have no
    effect on expression.  They come from their own random streams, so the SNV
    records are those of the SNV-only cohort (``indels=False``, ``demo-v1``).

Expression
    Each gene gets a target cis-heritability ``h2`` in [0, 0.6]: the first gene
    (BTNL3 in ``DEMO_GENES``) gets exactly 0.6, two other genes get 0, and the
    rest are an evenly spaced grid strictly inside (0, 0.6) assigned in
    shuffled order.  A gene with ``h2 > 0`` has 1-3 causal SNVs with cohort minor-allele
    frequency >= 0.05.  The first causal SNV lies within +/-1,500 bp of the
    TSS; further ones anywhere within +/-20,000 bp.  The first gene has exactly
    one causal SNV, in the core promoter (within +/-200 bp of the TSS) and with
    MAF >= 0.25, so that even the tiny CPU model learns it within minutes.
    (If a simulated locus has no qualifying SNV the locus is re-simulated with
    the next derived seed.)

    The indel gene, ``DEMO_INDEL_GENE`` (``INDEL1``), follows the ``genes``
    loci (locus index ``len(genes)``, the next ``ENSGSIM`` ID) with its own
    msprime locus and h2 = 0.6 from exactly one causal variant: an indel of
    5-20 bp (deletion or insertion, drawn as above) anchored within +/-200 bp of
    the TSS, with i.i.d. Bernoulli haplotypes redrawn until its cohort ALT
    frequency is in [0.3, 0.5] and its r^2 (ALT dosages across people) with
    every SNV of its locus is below 0.2, so no SNV tags it (the locus is
    re-simulated if 2,000 draws fail).  Its strand, expression, and
    ``genes.tsv`` / ``heritability.tsv`` / ``truth.tsv`` rows follow the other
    genes' code; its ``truth.tsv`` row has the indel's full REF and ALT and
    ``pos`` = its anchor base.  The first gene and the indel gene are thus the
    two genes with h2 = 0.6.

    With ALT-allele dosages ``X`` (people x causal SNVs, values 0/1/2) and
    betas ``b ~ N(0, 1)``, the genetic value ``g = X @ b`` is centred and
    scaled to variance ``h2``; noise ``e ~ N(0, 1 - h2)`` is added, and the
    result ``g + e`` is rank-based inverse-normal transformed per gene with the
    Blom offset, ``Phi^-1((r - 3/8) / (n + 1/4))``.

    ``truth.tsv`` reports betas **after** standardisation: the effect of one
    additional ALT allele on ``g + e`` before the inverse-normal transform,
    i.e. in units of the (pre-transform) expression standard deviation.

Randomness
    Every random stream comes from :class:`numpy.random.SeedSequence` with
    ``entropy=seed`` and a fixed ``spawn_key`` naming its purpose (and the gene
    index for per-gene streams), so outputs are byte-identical for a given seed
    and one gene's locus does not depend on how many genes are simulated
    (apart from re-simulation attempts, which depend on the gene's ``h2``).
    The background indels of locus ``k`` use stream ``(7, k)`` and everything
    of the indel gene (its reference bases, locus, SNV ALT bases, strand,
    causal indel, phenotype and indels) streams ``(8, ...)``; the streams of
    the ``genes`` loci are untouched, so their records and rows are
    byte-identical with and without indels.

Files written (see :func:`simulate_cohort`)
    ``reference.fa`` (+ ``.fai``), ``genotypes.vcf.gz`` (+ ``.tbi``; SNVs and
    indels, all biallelic, phased, left-normalised), ``expression.bed.gz``
    (+ ``.tbi``), ``genes.tsv``, ``heritability.tsv``, ``truth.tsv`` (causal
    SNVs and the indel gene's causal indel, same columns) and ``README.md``.
    ``simulate_cohort(..., indels=False)`` writes the SNV-only ``demo-v1``
    cohort.


The per-locus model (SNVs, causal SNVs, indels) is in :mod:`.demo_loci`; the population and the
expression model shared with the other cohorts in :mod:`.genetics`; the file writers in
:mod:`.files`.  This module assembles the cohort (:func:`simulate_cohort`) and keeps the cached
copy that the demo runs use (:func:`ensure_demo_cohort`).
"""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import msprime
import numpy as np

from performer.data.cache import cache_root
from performer.data.simulate.demo_loci import (
    INDEL_GENE_AF_RANGE,
    INDEL_GENE_H2,
    INDEL_GENE_MAX_R2,
    INDEL_GENE_MIN_BP,
    INDEL_MIN_AF,
    LEARNABLE_WINDOW_BP,
    MAX_DEMO_INDEL_BP,
    MIN_CAUSAL_MAF,
    MIN_INDELS_PER_LOCUS,
    MUTATION_RATE,
    background_indels,
    choose_causal_sites,
    first_causal_candidates,
    indel_gene_causal,
    simulate_locus_haplotypes,
)
from performer.data.simulate.files import (
    CHROM,
    COHORT_FILES,
    GENE_COLUMNS,
    HERITABILITY_COLUMNS,
    TRUTH_COLUMNS,
    write_expression_bed,
    write_fasta,
    write_tsv,
    write_vcf,
)
from performer.data.simulate.genetics import (
    ANCESTRAL_SIZE,
    ASCII_BASES,
    BASE_PROBS,
    BASES,
    GROWTH_GENERATIONS,
    PRESENT_SIZE,
    RECOMBINATION_RATE,
    genetic_values,
    inverse_normal_transform,
    random_stream,
)

logger = logging.getLogger(__name__)

#: Gene symbols used for the demo loci.  SIMULATED STAND-INS: the names are
#: borrowed from genes discussed in the Performer paper, but the simulated
#: sequence, variants and expression have no relation to the real genes.
#: The first entry (BTNL3) is the demo's strongly heritable, learnable gene.
DEMO_GENES: tuple[str, ...] = (
    "BTNL3",
    "ZFP57",
    "PPIF",
    "ERAP2",
    "CHURC1",
    "PEX6",
    "NUDT2",
    "GSTM3",
    "ERAP1",
    "HLA-DQA1",
    "RPS26",
    "THEM4",
    "POLR2J2",
    "GSTM1",
    "C4A",
    "ZNF37A",
    "CRYZ",
    "FAM118A",
    "PTER",
    "XRRA1",
)

#: Symbol of the demo's extra gene, laid out after the ``genes`` loci, whose single causal
#: variant is a 5-20 bp indel in its core promoter that no SNV of its locus tags (r^2 < 0.2).
#: Also a simulated stand-in.
DEMO_INDEL_GENE = "INDEL1"

# --- Layout and model constants -------------------------------------------
LOCUS_SPACING_BP = 100_000  # distance between consecutive locus starts
LOCUS_OFFSET_BP = 10_000  # start of locus 0 on the contig
CONTIG_PADDING_BP = 20_000  # extra contig length beyond the last slot
MAX_H2 = 0.6
N_ZERO_H2_GENES = 2
MAX_LOCUS_ATTEMPTS = 100

CACHE_VERSION = "demo-v2"

# spawn_key tags naming each random stream (see module docstring).
_STREAM_REFERENCE = 1
_STREAM_HERITABILITY = 2
_STREAM_STRAND = 3
_STREAM_LOCUS = 4
_STREAM_ALT_BASES = 5
_STREAM_PHENOTYPE = 6
_STREAM_INDELS = 7  # (_STREAM_INDELS, k): background indels of locus k of ``genes``
_STREAM_INDEL_GENE = 8  # (_STREAM_INDEL_GENE, tag, ...): everything of the indel gene
_INDEL_GENE_REFERENCE = 1  # reference bases of the extra 100 kb
_INDEL_GENE_LOCUS = 2  # msprime seeds, (.., attempt)
_INDEL_GENE_ALT_BASES = 3
_INDEL_GENE_STRAND = 4
_INDEL_GENE_CAUSAL = 5  # the causal indel, (.., attempt)
_INDEL_GENE_PHENOTYPE = 6
_INDEL_GENE_INDELS = 7  # its background indels


@dataclass
class _Records:
    """VCF records: int64 0-based contig positions (n,), REFs and ALTs (n,), int8 haplotypes (n, 2 * n_people)."""

    positions: np.ndarray
    refs: np.ndarray
    alts: np.ndarray
    haplotypes: np.ndarray

    def concat(self, other: _Records) -> _Records:
        """These records followed by ``other``'s."""
        return _Records(
            np.concatenate([self.positions, other.positions]),
            np.concatenate([self.refs, other.refs]),
            np.concatenate([self.alts, other.alts]),
            np.vstack([self.haplotypes, other.haplotypes]),
        )


@dataclass
class _DemoCohort:
    """A demo cohort while its loci are simulated: its settings and reference, and the rows gathered so far."""

    seed: int
    n_people: int
    locus_bp: int
    indels: bool
    base_codes: np.ndarray  # int64 (contig length,), reference base codes 0-3 = ACGT
    # One entry per gene (``genes`` in order, then the indel gene).
    gene_names: list[str] = field(default_factory=list)
    gene_ids: list[str] = field(default_factory=list)
    tss: list[int] = field(default_factory=list)  # 0-based contig positions
    strands: list[str] = field(default_factory=list)
    expression: list[np.ndarray] = field(default_factory=list)  # float64 (n_people,) each
    heritability_rows: list[list[object]] = field(default_factory=list)
    truth_rows: list[dict[str, object]] = field(default_factory=list)  # ref/alt/vcf_pos filled in when written
    # Indel records (contig positions, 0-based), merged with the SNVs when written.
    indel_positions: list[int] = field(default_factory=list)
    indel_refs: list[str] = field(default_factory=list)
    indel_alts: list[str] = field(default_factory=list)
    indel_haplotypes: list[np.ndarray] = field(default_factory=list)  # int8 (2 * n_people,) each

    def add_gene(
        self,
        name: str,
        tss: int,
        strand: str,
        h2: float,
        expression: np.ndarray,
        causal: Sequence[tuple[int, float, float]],
    ) -> None:
        """Add the next gene (ID ``ENSGSIM<number>.1``) and its causal variants' (pos, beta, ALT frequency)."""
        gene_id = f"ENSGSIM{len(self.gene_ids) + 1:05d}.1"
        self.gene_names.append(name)
        self.gene_ids.append(gene_id)
        self.tss.append(tss)
        self.strands.append(strand)
        self.expression.append(expression)
        self.heritability_rows.append([gene_id, name, f"{h2:.6g}", len(causal)])
        for pos, beta, alt_freq in causal:
            self.truth_rows.append(
                {
                    "gene_id": gene_id,
                    "gene_name": name,
                    "chrom": CHROM,
                    "pos": pos,
                    "beta": f"{beta:.6g}",
                    "af": f"{alt_freq:.6g}",
                    "distance_to_tss": pos - tss,
                    "h2": f"{h2:.6g}",
                }
            )

    def add_indels(
        self, start: int, positions: Sequence[int], refs: Sequence[str], alts: Sequence[str], haplotypes
    ) -> None:
        """Add indels of the locus at ``start``; ``positions`` are 0-based within the locus."""
        self.indel_positions.extend(start + p for p in positions)
        self.indel_refs.extend(refs)
        self.indel_alts.extend(alts)
        self.indel_haplotypes.extend(haplotypes)


def _heritabilities(n_genes: int, seed: int) -> np.ndarray:
    """Target cis-heritability per gene, float64 array of shape (n_genes,).

    Gene 0 gets MAX_H2; of the others, up to N_ZERO_H2_GENES get 0 and the
    rest an evenly spaced grid strictly inside (0, MAX_H2), in a seeded random
    order, so gene 0 is the unique most heritable of these genes.
    """
    h2 = np.zeros(n_genes)
    if n_genes == 0:
        return h2
    h2[0] = MAX_H2
    n_rest = n_genes - 1
    n_zero = min(N_ZERO_H2_GENES, n_rest)
    n_grid = n_rest - n_zero
    grid = MAX_H2 * np.arange(1, n_grid + 1) / (n_grid + 1)
    rest = np.concatenate([np.zeros(n_zero), np.round(grid, 4)])
    h2[1:] = random_stream(seed, _STREAM_HERITABILITY).permutation(rest)
    return h2


def _readme_text(
    seed: int, n_people: int, genes: Sequence[str], locus_bp: int, n_snvs: int, n_indels: int | None = None
) -> str:
    """The cohort's README.md; ``n_indels`` None for an SNV-only cohort (``indels=False``)."""
    gene_list = ", ".join(genes)
    variants = f"- biallelic SNVs written: {n_snvs}\n"
    indel_text = ""
    if n_indels is not None:
        gene_list += f", and the indel gene {DEMO_INDEL_GENE}"
        variants += (
            f"- short indels written: {n_indels} (1-{MAX_DEMO_INDEL_BP} bp deletions and insertions,\n"
            f"  at least {MIN_INDELS_PER_LOCUS} per locus; left-normalised, biallelic, phased, REF from\n"
            f"  reference.fa; no other record within an indel's REF span +-1 bp; background indels\n"
            f"  have random haplotypes, ALT frequency {INDEL_MIN_AF}-0.5, and no effect on expression)\n"
        )
        indel_text = f"""
The last gene, {DEMO_INDEL_GENE}, has h2 = {INDEL_GENE_H2} from exactly one causal variant: an
indel of {INDEL_GENE_MIN_BP}-{MAX_DEMO_INDEL_BP} bp within {LEARNABLE_WINDOW_BP} bp of its TSS, with ALT frequency
{INDEL_GENE_AF_RANGE[0]}-{INDEL_GENE_AF_RANGE[1]} and r^2 < {INDEL_GENE_MAX_R2} with every SNV of its locus, so no SNV
tags it. Its truth.tsv row gives the indel's full REF and ALT alleles.
"""
    return f"""# Simulated Performer demo cohort

THIS IS SIMULATED DATA. The gene names are stand-ins borrowed from the Performer
paper; sequence, variants and expression have no relation to the real genes.

Generated by `performer.data.simulate` (msprime {msprime.__version__}).

- seed: {seed}
- people: {n_people} (samples SIM0001..SIM{n_people:04d}, phased diploid)
- genes: {len(genes) + (n_indels is not None)} ({gene_list})
- locus length: {locus_bp} bp per gene, TSS at the locus midpoint
- contig: {CHROM}, one locus every {LOCUS_SPACING_BP} bp starting at {LOCUS_OFFSET_BP}
{variants}- demography: one population, {ANCESTRAL_SIZE} -> {PRESENT_SIZE} over the last
  {GROWTH_GENERATIONS} generations (exponential growth)
- recombination rate: {RECOMBINATION_RATE} per bp per generation
- mutation rate: {MUTATION_RATE} per bp per generation
- cis-heritability: 0 to {MAX_H2} per gene (see heritability.tsv), 1-3 causal
  SNVs with MAF >= {MIN_CAUSAL_MAF} (see truth.tsv; beta is per ALT allele on the
  standardised pre-transform scale)
- expression: rank-based inverse-normal transformed per gene (Blom offset)
{indel_text}
Coordinates: genes.tsv and truth.tsv `pos`/`tss` are 0-based; VCF POS and
truth.tsv `vcf_pos` are 1-based (an indel's position is its anchor base, the
first base of REF and ALT); expression.bed.gz `end` is the 1-based TSS.
"""


def simulate_cohort(
    out_dir: str | os.PathLike,
    seed: int = 0,
    n_people: int = 300,
    genes: Sequence[str] = DEMO_GENES,
    locus_bp: int = 65_536,
    indels: bool = True,
) -> pathlib.Path:
    """Simulate a demo cohort and write it to ``out_dir``.

    With ``indels`` (the default, cohort ``demo-v2``) every locus also holds short indels and
    one more gene, :data:`DEMO_INDEL_GENE`, follows the ``genes`` loci; its single causal
    variant is a core-promoter indel untagged by any SNV (see the module docstring).  The
    records and rows of ``genes`` are the same with or without ``indels``: indels only add
    VCF records, one locus (100 kb more contig) and one row to each table.

    Args:
        out_dir: output directory; created if missing.  Existing files with
            the same names are overwritten.
        seed: non-negative integer; all output is a deterministic function of
            (seed, n_people, genes, locus_bp, indels).
        n_people: number of diploid individuals, named ``SIM0001``,
            ``SIM0002``, ... (zero-padded to at least 4 digits).
        genes: gene symbols, one locus each, laid out in this order along
            ``chr1``.  The first gene is the strongly heritable "learnable" one
            (h2 = 0.6, one causal SNV with MAF >= 0.25 within 200 bp of the TSS).
        locus_bp: length of each simulated locus in bp; gene ``k`` occupies
            ``[k * 100_000 + 10_000, k * 100_000 + 10_000 + locus_bp)``
            (0-based, half-open) and its TSS is ``locus_start + locus_bp // 2``.
        indels: add the short indels and the indel gene (``DEMO_INDEL_GENE``, gene
            index ``len(genes)``, ID ``ENSGSIM<len(genes) + 1>.1``).  False writes the
            SNV-only cohort of ``demo-v1``.

    Files written into ``out_dir`` (``n = len(genes) + 1`` genes with ``indels``, else
    ``len(genes)``):
        ``reference.fa`` / ``.fai``: one contig ``chr1`` of
        ``n * 100_000 + 20_000`` bp, uppercase ACGT, 60 bases a line.
        ``genotypes.vcf.gz`` / ``.tbi``: VCFv4.2, phased biallelic records sorted
        by POS (1-based), ID ``sim_chr1_<POS>``, INFO ``AF``: SNVs and, with
        ``indels``, left-normalised indels of 1-20 bp (anchored: REF and ALT share
        their first base), each with no other record within its REF span +-1 bp;
        the file is unchanged by ``bcftools norm -f reference.fa``.
        ``expression.bed.gz`` / ``.tbi``: ``#chr start end gene_id SIM0001 ...``,
        one row per gene, ``start`` = 0-based TSS, ``end`` = start + 1, gene IDs
        ``ENSGSIM00001.1``, ...; inverse-normal transformed values.
        ``genes.tsv``: ``gene_id gene_name chrom tss strand`` (tss 0-based).
        ``heritability.tsv``: ``gene_id gene_name h2 n_causal``.
        ``truth.tsv``: ``gene_id gene_name chrom pos vcf_pos ref alt beta af
        distance_to_tss h2``, one row per causal variant (SNVs, and the indel
        gene's indel with its full REF and ALT strings); ``pos`` 0-based (an
        indel's anchor base), ``vcf_pos`` 1-based, ``beta`` per ALT allele on
        the standardised pre-transform scale, ``af`` the ALT frequency,
        ``distance_to_tss`` = ``pos - tss`` in bp.
        ``README.md``: description of the data and parameters.

    Returns:
        ``out_dir`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: if ``seed < 0``, ``n_people < 10``, ``genes`` is empty or
            has duplicates (or holds ``DEMO_INDEL_GENE`` with ``indels``), or
            ``locus_bp`` is outside [10_000, 100_000].
        RuntimeError: if a heritable gene's locus has no SNV eligible as its
            first causal variant after ``MAX_LOCUS_ATTEMPTS`` re-simulations, or
            (with ``indels``) no indel gene locus allows an untagged causal indel
            in as many (possible only in very small cohorts).
    """
    genes = tuple(genes)
    _check_cohort_arguments(seed, n_people, genes, locus_bp, indels)
    started = time.perf_counter()
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    logger.info(
        "Simulating demo cohort: seed=%d, %d people, %d genes%s, %d bp loci -> %s",
        seed,
        n_people,
        len(genes),
        f" + {DEMO_INDEL_GENE} and short indels" if indels else "",
        locus_bp,
        out_dir,
    )
    # Everything of ``genes`` is computed exactly as in the SNV-only demo-v1 cohort; the indels
    # and the indel gene only add records, rows and 100 kb of contig from their own streams.
    base_codes = _reference_codes(seed, len(genes), indels)
    write_fasta(out_dir / "reference.fa", {CHROM: ASCII_BASES[base_codes]})
    cohort = _DemoCohort(seed, n_people, locus_bp, indels, base_codes)
    snvs = _simulate_genes(cohort, genes)
    if indels:
        snvs = snvs.concat(_simulate_indel_gene(cohort))
    records = _merge_indels(snvs, cohort) if indels else snvs
    _write_cohort_files(out_dir, cohort, records)
    n_snvs, n_indels = len(snvs.positions), len(cohort.indel_positions)
    (out_dir / "README.md").write_text(
        _readme_text(seed, n_people, genes, locus_bp, n_snvs, n_indels if indels else None)
    )
    logger.info(
        "Wrote %d SNVs, %d indels, %d genes, %d causal variants to %s in %.1f s",
        n_snvs,
        n_indels,
        len(cohort.gene_names),
        len(cohort.truth_rows),
        out_dir,
        time.perf_counter() - started,
    )
    return out_dir


def _check_cohort_arguments(seed: int, n_people: int, genes: tuple[str, ...], locus_bp: int, indels: bool) -> None:
    """Raise ValueError for the arguments :func:`simulate_cohort` refuses."""
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if n_people < 10:
        raise ValueError(f"n_people must be at least 10, got {n_people}")
    if not genes:
        raise ValueError("genes must not be empty")
    if len(set(genes)) != len(genes):
        raise ValueError(f"gene names must be unique, got {genes}")
    if indels and DEMO_INDEL_GENE in genes:
        raise ValueError(f"{DEMO_INDEL_GENE} is the indel gene's name; it cannot also be in genes")
    if not 10_000 <= locus_bp <= LOCUS_SPACING_BP:
        raise ValueError(f"locus_bp must be in [10000, {LOCUS_SPACING_BP}], got {locus_bp}")


def _reference_codes(seed: int, n_genes: int, indels: bool) -> np.ndarray:
    """Reference base codes (0-3 = ACGT) of ``chr1``: ``n_genes`` loci, with ``indels`` the indel gene's 100 kb more.

    Returns:
        int64 (n_genes * LOCUS_SPACING_BP + CONTIG_PADDING_BP (+ LOCUS_SPACING_BP with ``indels``),).
    """
    contig_length = n_genes * LOCUS_SPACING_BP + CONTIG_PADDING_BP
    base_codes = random_stream(seed, _STREAM_REFERENCE).choice(4, size=contig_length, p=BASE_PROBS)
    if indels:  # the indel gene's extra 100 kb, from its own stream
        extra = random_stream(seed, _STREAM_INDEL_GENE, _INDEL_GENE_REFERENCE).choice(
            4, size=LOCUS_SPACING_BP, p=BASE_PROBS
        )
        base_codes = np.concatenate([base_codes, extra])
    return base_codes


def _snv_records(base_codes: np.ndarray, positions: np.ndarray, haplotypes: np.ndarray, shifts: np.ndarray) -> _Records:
    """SNV records at 0-based contig ``positions``: REF from the reference, ALT = REF + ``shifts`` (1-3) mod 4."""
    refs = BASES[base_codes[positions]]
    alts = BASES[(base_codes[positions] + shifts) % 4]
    return _Records(positions, refs, alts, haplotypes)


def _simulate_genes(cohort: _DemoCohort, genes: tuple[str, ...]) -> _Records:
    """Simulate the loci of ``genes`` into ``cohort`` (rows, background indels); returns their SNV records."""
    h2 = _heritabilities(len(genes), cohort.seed)
    strands = random_stream(cohort.seed, _STREAM_STRAND).choice(np.array(["+", "-"]), size=len(genes))
    all_positions: list[np.ndarray] = []
    all_haplotypes: list[np.ndarray] = []
    for k, gene in enumerate(genes):
        positions, haplotypes = _simulate_gene(cohort, k, gene, h2[k], strands[k])
        all_positions.append(positions)
        all_haplotypes.append(haplotypes)
    positions = np.concatenate(all_positions)
    # ALT: a uniformly chosen base different from REF (shift by 1-3 mod 4).
    shifts = random_stream(cohort.seed, _STREAM_ALT_BASES).integers(1, 4, size=len(positions))
    return _snv_records(cohort.base_codes, positions, np.vstack(all_haplotypes), shifts)


def _simulate_gene(cohort: _DemoCohort, k: int, gene: str, h2: float, strand: str) -> tuple[np.ndarray, np.ndarray]:
    """Simulate gene ``k`` of ``genes``: its locus, background indels, causal SNVs and expression.

    Returns:
        The locus's SNVs: int64 0-based contig positions (n_snvs,), int8 haplotypes (n_snvs, 2 * n_people).
    """
    start = k * LOCUS_SPACING_BP + LOCUS_OFFSET_BP
    tss_in_locus = cohort.locus_bp // 2
    learnable = k == 0
    positions, haplotypes, alt_freq, first_candidates = _simulate_gene_locus(cohort, k, gene, h2, learnable)
    if cohort.indels:
        locus_codes = cohort.base_codes[start : start + cohort.locus_bp]
        indel_rng = random_stream(cohort.seed, _STREAM_INDELS, k)
        cohort.add_indels(start, *background_indels(indel_rng, positions, locus_codes, 2 * cohort.n_people))

    # Expression phenotype.
    rng = random_stream(cohort.seed, _STREAM_PHENOTYPE, k)
    if h2 > 0:
        causal = choose_causal_sites(rng, positions, alt_freq, tss_in_locus, first_candidates, learnable)
        genetic, beta = genetic_values(rng, haplotypes[causal], h2)
    else:
        causal = np.zeros(0, dtype=np.int64)
        genetic, beta = np.zeros(cohort.n_people), np.zeros(0)
    noise = rng.normal(scale=np.sqrt(1.0 - h2), size=cohort.n_people)
    truth = [(int(positions[site] + start), beta[j], alt_freq[site]) for j, site in enumerate(causal)]
    cohort.add_gene(gene, start + tss_in_locus, strand, h2, inverse_normal_transform(genetic + noise), truth)
    return positions + start, haplotypes


def _simulate_gene_locus(
    cohort: _DemoCohort, k: int, gene: str, h2: float, learnable: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gene ``k``'s locus, re-simulated until a heritable gene has an SNV eligible as its first causal SNV.

    Returns:
        positions int64 (n_snvs,), 0-based within the locus; haplotypes int8 (n_snvs, 2 * n_people);
        ALT frequencies float64 (n_snvs,); indices of the first causal SNV's candidates.

    Raises:
        RuntimeError: if no eligible SNV turns up in ``MAX_LOCUS_ATTEMPTS`` loci.
    """
    tss_in_locus = cohort.locus_bp // 2
    for attempt in range(MAX_LOCUS_ATTEMPTS):
        key = (_STREAM_LOCUS, k, attempt)
        positions, haplotypes = simulate_locus_haplotypes(cohort.n_people, cohort.locus_bp, cohort.seed, key)
        alt_freq = haplotypes.mean(axis=1)
        first_candidates = first_causal_candidates(positions, alt_freq, tss_in_locus, learnable)
        if h2 == 0 or len(first_candidates) > 0:
            break
        logger.debug("gene %s attempt %d: no eligible TSS-proximal SNV, re-simulating", gene, attempt)
    else:
        raise RuntimeError(f"gene {gene}: no eligible causal SNV near the TSS after {MAX_LOCUS_ATTEMPTS} attempts")
    logger.info("locus %s: %d biallelic SNVs (attempt %d)", gene, len(positions), attempt + 1)
    return positions, haplotypes, alt_freq, first_candidates


def _simulate_indel_gene(cohort: _DemoCohort) -> _Records:
    """Simulate the indel gene after the ``genes`` loci: its locus, causal and background indels, expression.

    Everything comes from its own streams ``(_STREAM_INDEL_GENE, ...)``.

    Returns:
        The locus's SNV records.
    """
    seed, n_people = cohort.seed, cohort.n_people
    start = len(cohort.gene_names) * LOCUS_SPACING_BP + LOCUS_OFFSET_BP
    tss_in_locus = cohort.locus_bp // 2
    locus_codes = cohort.base_codes[start : start + cohort.locus_bp]
    positions, haplotypes, causal = _simulate_indel_gene_locus(cohort, start, locus_codes)
    causal_pos, causal_ref, causal_alt, causal_hap, taken = causal
    shifts = random_stream(seed, _STREAM_INDEL_GENE, _INDEL_GENE_ALT_BASES).integers(1, 4, size=len(positions))
    cohort.add_indels(start, [causal_pos], [causal_ref], [causal_alt], [causal_hap])
    indel_rng = random_stream(seed, _STREAM_INDEL_GENE, _INDEL_GENE_INDELS)
    cohort.add_indels(start, *background_indels(indel_rng, positions, locus_codes, 2 * n_people, taken))

    rng = random_stream(seed, _STREAM_INDEL_GENE, _INDEL_GENE_PHENOTYPE)
    genetic, beta = genetic_values(rng, causal_hap[None, :], INDEL_GENE_H2)
    noise = rng.normal(scale=np.sqrt(1.0 - INDEL_GENE_H2), size=n_people)
    strand = random_stream(seed, _STREAM_INDEL_GENE, _INDEL_GENE_STRAND).choice(np.array(["+", "-"]))
    truth = [(start + causal_pos, beta[0], causal_hap.mean())]
    cohort.add_gene(
        DEMO_INDEL_GENE, start + tss_in_locus, strand, INDEL_GENE_H2, inverse_normal_transform(genetic + noise), truth
    )
    return _snv_records(cohort.base_codes, positions + start, haplotypes, shifts)


def _simulate_indel_gene_locus(
    cohort: _DemoCohort, start: int, locus_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[int, str, str, np.ndarray, np.ndarray]]:
    """The indel gene's locus (at contig position ``start``), re-simulated until it allows a causal indel no SNV tags.

    Returns:
        positions int64 (n_snvs,), 0-based within the locus; haplotypes int8 (n_snvs, 2 * n_people);
        the causal indel as :func:`~performer.data.simulate.demo_loci.indel_gene_causal` returns it.

    Raises:
        RuntimeError: if no locus of ``MAX_LOCUS_ATTEMPTS`` allows one.
    """
    seed, n_people, locus_bp = cohort.seed, cohort.n_people, cohort.locus_bp
    for attempt in range(MAX_LOCUS_ATTEMPTS):
        key = (_STREAM_INDEL_GENE, _INDEL_GENE_LOCUS, attempt)
        positions, haplotypes = simulate_locus_haplotypes(n_people, locus_bp, seed, key)
        causal_rng = random_stream(seed, _STREAM_INDEL_GENE, _INDEL_GENE_CAUSAL, attempt)
        found = indel_gene_causal(causal_rng, positions, haplotypes, locus_codes, locus_bp // 2)
        if found is not None:
            break
        logger.debug("%s attempt %d: no untagged causal indel, re-simulating", DEMO_INDEL_GENE, attempt)
    else:
        raise RuntimeError(
            f"{DEMO_INDEL_GENE}: no causal indel with r^2 < {INDEL_GENE_MAX_R2} to every SNV after "
            f"{MAX_LOCUS_ATTEMPTS} loci of {n_people} people"
        )
    logger.info(
        "locus %s: %d biallelic SNVs (attempt %d), causal indel %s>%s at %d",
        DEMO_INDEL_GENE, len(positions), attempt + 1, found[1], found[2], start + found[0] + 1,
    )  # fmt: skip
    return positions, haplotypes, found


def _merge_indels(snvs: _Records, cohort: _DemoCohort) -> _Records:
    """The SNV records and the cohort's indels, sorted by POS (no two records share a POS)."""
    positions = np.concatenate([snvs.positions, np.asarray(cohort.indel_positions, dtype=np.int64)])
    haplotypes = np.vstack([snvs.haplotypes, np.asarray(cohort.indel_haplotypes, dtype=np.int8)])
    refs = np.concatenate([snvs.refs.astype(object), np.array(cohort.indel_refs, dtype=object)])
    alts = np.concatenate([snvs.alts.astype(object), np.array(cohort.indel_alts, dtype=object)])
    order = np.argsort(positions, kind="stable")
    return _Records(positions[order], refs[order], alts[order], haplotypes[order])


def _write_cohort_files(out_dir: pathlib.Path, cohort: _DemoCohort, records: _Records) -> None:
    """Write the VCF of ``records``, the expression BED and the gene, heritability and truth tables."""
    contig_length = len(cohort.base_codes)
    sample_names = [f"SIM{i + 1:04d}" for i in range(cohort.n_people)]
    write_vcf(
        out_dir / "genotypes.vcf.gz",
        contig_length,
        sample_names,
        records.positions,
        records.refs,
        records.alts,
        records.haplotypes,
    )
    site_index = {int(p): i for i, p in enumerate(records.positions)}
    for row in cohort.truth_rows:
        i = site_index[row["pos"]]
        row.update(vcf_pos=row["pos"] + 1, ref=records.refs[i], alt=records.alts[i])

    n_genes = len(cohort.gene_names)
    write_expression_bed(
        out_dir / "expression.bed.gz",
        sample_names,
        cohort.gene_ids,
        [CHROM] * n_genes,
        cohort.tss,
        np.vstack(cohort.expression),
    )
    write_tsv(
        out_dir / "genes.tsv",
        GENE_COLUMNS,
        [[cohort.gene_ids[k], cohort.gene_names[k], CHROM, cohort.tss[k], cohort.strands[k]] for k in range(n_genes)],
    )
    write_tsv(out_dir / "heritability.tsv", HERITABILITY_COLUMNS, cohort.heritability_rows)
    write_tsv(
        out_dir / "truth.tsv",
        TRUTH_COLUMNS,
        [[row[column] for column in TRUTH_COLUMNS] for row in cohort.truth_rows],
    )


def demo_cache_dir(seed: int = 0) -> pathlib.Path:
    """Default location of the cached demo cohort.

    ``$PERFORMER_CACHE`` if set, else ``$XDG_CACHE_HOME/performer``, else
    ``~/.cache/performer``; joined with ``demo-v2-seed{seed}`` (``CACHE_VERSION``).  Nothing is
    created.

    Returns:
        The directory path (may not exist).
    """
    return cache_root() / f"{CACHE_VERSION}-seed{seed}"


def _is_complete(path: pathlib.Path) -> bool:
    return all((path / name).is_file() for name in COHORT_FILES)


def ensure_demo_cohort(path: str | os.PathLike | None = None, seed: int = 0) -> pathlib.Path:
    """Return a directory holding the demo cohort, simulating it if needed.

    If ``path`` (default :func:`demo_cache_dir` for ``seed``) already holds
    all cohort files it is returned untouched.  Otherwise the default-size
    cohort is simulated into a temporary sibling directory which is then
    renamed onto ``path`` atomically, so concurrent callers never see a
    half-written cohort.  If another process completes first, its copy is
    kept and the temporary one deleted.

    Args:
        path: cohort directory, or None for the cache default.
        seed: simulation seed.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        FileExistsError: if ``path`` exists, is not empty, and is not a
            complete cohort (delete it and retry).
    """
    path = pathlib.Path(path) if path is not None else demo_cache_dir(seed)
    if _is_complete(path):
        logger.info("Using cached demo cohort at %s", path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        logger.info("Demo cohort not found at %s; simulating (seed=%d)", path, seed)
        simulate_cohort(tmp, seed=seed)
        try:
            # Replaces ``path`` only if it is missing or an empty directory.
            os.rename(tmp, path)
        except OSError:
            if not _is_complete(path):
                raise FileExistsError(f"{path} exists but is not a complete demo cohort; remove it and retry") from None
            logger.info("Another process created %s first; using its copy", path)
        else:
            logger.info("Created demo cohort at %s", path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return path
