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

Second cohort (same loci, new people)
-------------------------------------
:func:`simulate_same_loci` (CLI ``--same-loci-as SOURCE``) writes a second, independent
cohort of the loci of a demo cohort ``SOURCE``: new people from the same population, so that
a model trained on ``SOURCE`` can be evaluated on them (cross-cohort evaluation, expression
imputation, variant scoring).  ``reference.fa`` (+ ``.fai``), ``genes.tsv`` and
``heritability.tsv`` are copies of the source's; ``truth.tsv`` has the source's rows (same
causal variants, betas and h2) with ``af`` recomputed in the new people; ``genotypes.vcf.gz``
has the source's records (same POS, ID, REF, ALT, order; SNVs and indels) with the new
people's phased genotypes, named ``OTH0001``, ``OTH0002``, ...

Genotypes
    Li & Stephens (2003, *Genetics* 165:2213-2233) haplotype copying without miscopying, per
    locus (each record belongs to the gene with the nearest TSS): each new haplotype starts on
    a uniformly drawn haplotype of the source's ``2 * n`` phased haplotypes and, between
    consecutive records ``d`` bp apart, switches with probability ``1 - exp(-r T d)`` to a
    uniformly drawn source haplotype (possibly the same), ``r`` = 1e-8 per bp per generation
    (``RECOMBINATION_RATE``) and ``T`` = 1,000 generations (``COPY_GENERATIONS``), i.e. 1e-5
    per bp, ~0.66 switches per 65,536 bp locus.  A new haplotype thus carries only source
    alleles, allele frequencies are preserved in expectation and LD within ~10 kb nearly
    unchanged.  A new person whose ALT dosages at a locus equal those of a source person is
    redrawn (both haplotypes), so no new person copies a source person at any locus.  A site
    may be monomorphic in the new people (INFO ``AF=0`` or ``1``); it is still written.
Expression
    Per gene ``g = X @ beta`` with the new people's ALT dosages ``X`` of the gene's causal
    variants and the source's standardised betas from ``truth.tsv`` (per ALT allele, on the
    source's pre-transform scale, where ``Var(g) = h2`` in the source people), centred, plus
    noise ``e ~ N(0, 1 - h2)`` with the gene's ``h2`` from ``heritability.tsv``: the same
    generative model as the source's, so ``g`` explains about ``h2`` of the variance (exactly
    ``Var(g) / (Var(g) + 1 - h2)`` in expectation; ``Var(g)`` varies with the new people's
    allele frequencies).  Then the same inverse-normal transform; ``expression.bed.gz`` has the
    source's layout.
Seeds
    The default seed is the source's (from its README.md) + 1000 (``SAME_LOCI_SEED_OFFSET``);
    the default ``n_people`` is the source's.  Streams ``(9, 1, k)`` (copying, locus ``k``)
    and ``(9, 2, k)`` (noise, gene ``k``) are not used by :func:`simulate_cohort`, so the
    output is a deterministic function of (the source's files, seed, n_people).

Scale mode (GTEx-sized benchmarks)
----------------------------------
:func:`simulate_scale_cohort` writes a larger, messier cohort in the same formats
(defaults: 840 people, 2,000 genes, 49,152 bp per gene) for speed and memory
benchmarks; it has its own random streams and leaves the demo cohort unchanged.

Layout
    Genes ``0 .. n - n_x - 1`` lie on ``chr1`` and the last ``n_x`` (5% by
    default) on ``chrX``.  On each contig gene ``j`` owns
    ``[10_000 + j * (window_bp + 4_096), ... + window_bp)`` with its TSS at the
    locus midpoint, so TSS-centred windows of ``window_bp`` never overlap:
    consecutive windows are separated by a 4,096 bp variant-free gap.
Genotypes
    Per locus, the demo's msprime ancestry (same demography and recombination
    rate) with Jukes-Cantor mutations (``msprime.JC69``) at 3.0e-8 per bp per
    generation, a rate tuned (with the population sizes unchanged) to give
    about 12 polymorphic sites per kb, i.e. ~600 SNV records per 49,152 bp
    window, in 1,680 haplotypes.  The reference base at each site is the
    simulated ancestral allele.  Recurrent mutations are kept: a site with two
    or more ALT alleles is written as split biallelic records at the same POS
    (as ``bcftools norm -m-`` does), each haplotype carrying at most one of
    them.  1% of the biallelic sites whose next 6 bases hold no site become an
    indel with the same haplotypes (1-6 bp deletion or insertion; REF taken
    from the reference; left-aligned, as ``bcftools norm`` leaves them).  Half
    of the people are male (``samples.tsv``); on ``chrX`` a male's GT is
    haploid (his first haplotype), a female's diploid.
    0.1% of person-site calls are written missing (``./.``, ``.`` if haploid),
    shared by the split records of a site.  All GTs are phased.
Expression
    Per gene ``h2 ~ Uniform(0, 0.5)``, 1-3 causal biallelic SNVs with MAF >=
    0.01 anywhere in the window, and the demo's genetic value, noise and
    inverse-normal transform, computed from the true (pre-missingness) dosages.
    ``truth.tsv`` and ``heritability.tsv`` have the demo's columns.

Command line::

    python -m performer.data.simulate OUT_DIR [--seed N] [--n-people N] [--force]
    python -m performer.data.simulate OUT_DIR --same-loci-as SOURCE_DIR [--seed N]
        [--n-people N] [--force]      (seed default: SOURCE's + 1000; n-people: SOURCE's)
    python -m performer.data.simulate OUT_DIR --scale [--n-people 840] [--n-genes 2000]
        [--window-bp 49152] [--genotype-format vcf|bcf] [--x-fraction 0.05]
        [--indel-fraction 0.01] [--missing-rate 0.001] [--h2-range 0 0.5]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
import pathlib
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence

import msprime
import numpy as np
import pysam
import pysam.bcftools
from pysam.libcbgzf import BGZFile
from scipy import stats

from performer.data.cache import cache_root

logger = logging.getLogger(__name__)

__all__ = [
    "DEMO_GENES",
    "DEMO_INDEL_GENE",
    "simulate_cohort",
    "simulate_scale_cohort",
    "simulate_same_loci",
    "demo_cache_dir",
    "ensure_demo_cohort",
    "main",
    "inverse_normal_transform",
]

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
CHROM = "chr1"
LOCUS_SPACING_BP = 100_000  # distance between consecutive locus starts
LOCUS_OFFSET_BP = 10_000  # start of locus 0 on the contig
CONTIG_PADDING_BP = 20_000  # extra contig length beyond the last slot
FASTA_LINE_WIDTH = 60
BASES = np.array(list("ACGT"))
ASCII_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
BASE_PROBS = (0.295, 0.205, 0.205, 0.295)  # 41% GC

RECOMBINATION_RATE = 1e-8  # per bp per generation
MUTATION_RATE = 1.29e-8  # per bp per generation
PRESENT_SIZE = 50_000
ANCESTRAL_SIZE = 10_000
GROWTH_GENERATIONS = 200

MAX_H2 = 0.6
N_ZERO_H2_GENES = 2
MIN_CAUSAL_MAF = 0.05
PROXIMAL_WINDOW_BP = 1_500  # first causal SNV: |pos - tss| <= this
DISTAL_WINDOW_BP = 20_000  # further causal SNVs: |pos - tss| <= this
MAX_EXTRA_CAUSAL = 2  # so 1-3 causal SNVs per heritable gene
LEARNABLE_WINDOW_BP = 200  # first gene: |pos - tss| <= this (core promoter)
LEARNABLE_MIN_MAF = 0.25
MAX_LOCUS_ATTEMPTS = 100

# Short indels among the SNVs (every locus) and the indel gene.
INDEL_FRACTION = 0.01  # background indels per locus: max(MIN_INDELS_PER_LOCUS, round(INDEL_FRACTION * n_snvs))
MIN_INDELS_PER_LOCUS = 3
MAX_DEMO_INDEL_BP = 20  # bases deleted or inserted: uniform in [1, MAX_DEMO_INDEL_BP]
INDEL_MIN_AF = 0.01  # background indel ALT frequency ~ Uniform(INDEL_MIN_AF, 0.5)
INDEL_GENE_H2 = 0.6
INDEL_GENE_MIN_BP = 5  # causal indel: 5-20 bp, anchor within LEARNABLE_WINDOW_BP of the TSS
INDEL_GENE_AF_RANGE = (0.3, 0.5)  # causal indel ALT frequency (realised in the cohort)
INDEL_GENE_MAX_R2 = 0.2  # causal indel's r^2 with every SNV of its locus is below this
MAX_INDEL_DRAWS = 2_000  # draws of the causal indel's haplotypes per simulated locus

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

TRUTH_COLUMNS: tuple[str, ...] = (
    "gene_id",
    "gene_name",
    "chrom",
    "pos",
    "vcf_pos",
    "ref",
    "alt",
    "beta",
    "af",
    "distance_to_tss",
    "h2",
)

#: Files that make an output directory a complete cohort.
COHORT_FILES: tuple[str, ...] = (
    "reference.fa",
    "reference.fa.fai",
    "genotypes.vcf.gz",
    "genotypes.vcf.gz.tbi",
    "expression.bed.gz",
    "genes.tsv",
    "heritability.tsv",
    "truth.tsv",
    "README.md",
)


def _rng(seed: int, *key: int) -> np.random.Generator:
    """Return the numpy Generator for stream ``key`` of ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def _msprime_seeds(seed: int, *key: int) -> tuple[int, int]:
    """Return two seeds in [1, 2**31 - 1] (ancestry, mutations) for msprime."""
    state = np.random.SeedSequence(entropy=seed, spawn_key=key).generate_state(2)
    return tuple(int(s) % (2**31 - 2) + 1 for s in state)


def _demography() -> msprime.Demography:
    """One population growing exponentially from ANCESTRAL_SIZE to PRESENT_SIZE.

    msprime time runs backwards, so a positive ``growth_rate`` means the
    population shrinks going into the past, reaching ``ANCESTRAL_SIZE`` at
    ``GROWTH_GENERATIONS`` generations ago, where it becomes constant.
    """
    growth_rate = np.log(PRESENT_SIZE / ANCESTRAL_SIZE) / GROWTH_GENERATIONS
    demography = msprime.Demography()
    demography.add_population(name="pop0", initial_size=PRESENT_SIZE, growth_rate=growth_rate)
    demography.add_population_parameters_change(
        time=GROWTH_GENERATIONS, initial_size=ANCESTRAL_SIZE, growth_rate=0, population="pop0"
    )
    return demography


def _ancestry(n_people: int, locus_bp: int, seed: int):
    """Coalescent with recombination for ``n_people`` diploid people over ``locus_bp`` (msprime tree sequence)."""
    return msprime.sim_ancestry(
        samples=n_people,
        ploidy=2,
        sequence_length=locus_bp,
        recombination_rate=RECOMBINATION_RATE,
        demography=_demography(),
        random_seed=seed,
    )


def _simulate_locus_haplotypes(
    n_people: int, locus_bp: int, seed: int, gene_index: int, attempt: int, stream: int = _STREAM_LOCUS
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one locus and return its biallelic SNVs (msprime seeds from ``(stream, gene_index, attempt)``).

    Returns:
        positions: int64 array, shape (n_sites,), 0-based positions within the
            locus, strictly increasing.
        haplotypes: int8 array, shape (n_sites, 2 * n_people), 1 where the
            haplotype carries the derived (ALT) allele.  Columns 2i and 2i + 1
            are person i.  Monomorphic sites are excluded.
    """
    ancestry_seed, mutation_seed = _msprime_seeds(seed, stream, gene_index, attempt)
    ts = _ancestry(n_people, locus_bp, ancestry_seed)
    ts = msprime.sim_mutations(
        ts,
        rate=MUTATION_RATE,
        model=msprime.BinaryMutationModel(),
        discrete_genome=True,
        random_seed=mutation_seed,
    )
    n_haplotypes = 2 * n_people
    positions: list[int] = []
    rows: list[np.ndarray] = []
    for variant in ts.variants():
        site = variant.site
        # Finite sites: keep only sites hit by exactly one mutation, so the
        # derived state is "1" and the site is a clean biallelic SNV.
        if len(site.mutations) != 1:
            continue
        derived = (variant.genotypes == 1).astype(np.int8)
        alt_count = int(derived.sum())
        if alt_count == 0 or alt_count == n_haplotypes:
            continue
        positions.append(int(site.position))
        rows.append(derived)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, n_haplotypes), dtype=np.int8)
    return np.asarray(positions, dtype=np.int64), np.vstack(rows)


def _minor_allele_frequency(alt_freq: np.ndarray) -> np.ndarray:
    return np.minimum(alt_freq, 1.0 - alt_freq)


def _first_causal_candidates(
    positions: np.ndarray, alt_freq: np.ndarray, tss_in_locus: int, learnable: bool
) -> np.ndarray:
    """Indices of SNVs eligible as a gene's first (TSS-proximal) causal SNV."""
    window, min_maf = (LEARNABLE_WINDOW_BP, LEARNABLE_MIN_MAF) if learnable else (PROXIMAL_WINDOW_BP, MIN_CAUSAL_MAF)
    ok = (np.abs(positions - tss_in_locus) <= window) & (_minor_allele_frequency(alt_freq) >= min_maf)
    return np.flatnonzero(ok)


def _choose_causal_sites(
    rng: np.random.Generator,
    positions: np.ndarray,
    alt_freq: np.ndarray,
    tss_in_locus: int,
    first_candidates: np.ndarray,
    learnable: bool,
) -> np.ndarray:
    """Pick a heritable gene's causal SNVs; returns int64 site indices.

    The first is drawn from ``first_candidates`` (TSS-proximal); unless the
    gene is the learnable one, 0-2 more are drawn from SNVs with MAF >=
    MIN_CAUSAL_MAF within DISTAL_WINDOW_BP of the TSS (fewer if too few exist).
    """
    causal = [int(rng.choice(first_candidates))]
    if not learnable:
        n_extra = int(rng.integers(0, MAX_EXTRA_CAUSAL + 1))
        eligible = (np.abs(positions - tss_in_locus) <= DISTAL_WINDOW_BP) & (
            _minor_allele_frequency(alt_freq) >= MIN_CAUSAL_MAF
        )
        eligible[causal[0]] = False
        candidates = np.flatnonzero(eligible)
        n_extra = min(n_extra, len(candidates))
        causal.extend(int(i) for i in rng.choice(candidates, size=n_extra, replace=False))
    return np.asarray(causal, dtype=np.int64)


def _genetic_values(
    rng: np.random.Generator, causal_haplotypes: np.ndarray, h2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Genetic values with variance ``h2`` from causal haplotypes.

    Args:
        causal_haplotypes: int8 array (n_causal, 2 * n_people), 1 = ALT.
        h2: target variance of the genetic value, > 0.

    Returns:
        genetic: float64 (n_people,), centred, population variance ``h2``.
        beta: float64 (n_causal,), effect per ALT allele on that scale.
    """
    dosage = (causal_haplotypes[:, 0::2] + causal_haplotypes[:, 1::2]).T.astype(np.float64)
    raw_beta = rng.normal(size=dosage.shape[1])
    genetic = dosage @ raw_beta
    scale = np.sqrt(h2) / genetic.std()
    return (genetic - genetic.mean()) * scale, raw_beta * scale


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
    h2[1:] = _rng(seed, _STREAM_HERITABILITY).permutation(rest)
    return h2


def _place_indel(
    rng: np.random.Generator,
    locus_codes: np.ndarray,
    taken: np.ndarray,
    min_bp: int = 1,
    window: tuple[int, int] | None = None,
) -> tuple[int, str, str]:
    """Draw one left-normalised indel in a locus and mark its REF span in ``taken``.

    The length ``L`` is uniform in ``[min_bp, MAX_DEMO_INDEL_BP]``; with probability 1/2 a
    deletion (REF = the anchor base and the next ``L`` bases, ALT = the anchor) or else an
    insertion (REF = the anchor, ALT = the anchor and ``L`` random bases).  Draws are redrawn
    until the REF span grown by 1 bp on each side holds no other record (no ``taken`` base),
    and until ``bcftools norm`` would leave the indel alone: the last deleted or inserted
    base differs from the anchor, so the indel cannot be shifted left.

    Args:
        rng: the indel's random stream.
        locus_codes: int array (locus_bp,), reference base codes (0-3 = ACGT) of the locus.
        taken: bool array (locus_bp,), True on bases covered by a record; updated in place.
        min_bp: smallest ``L``.
        window: inclusive (low, high) range of the anchor position, or None for the whole locus.

    Returns:
        (anchor position, 0-based within the locus; REF; ALT).
    """
    locus_bp = len(taken)
    low, high = window if window is not None else (1, locus_bp - 1)
    for _ in range(MAX_INDEL_DRAWS * 100):
        length = int(rng.integers(min_bp, MAX_DEMO_INDEL_BP + 1))
        deletion = bool(rng.random() < 0.5)
        pos = int(rng.integers(low, high + 1))
        end = pos + length if deletion else pos  # last REF base
        if pos < 1 or end + 1 >= locus_bp or taken[pos - 1 : end + 2].any():
            continue
        if deletion:
            if locus_codes[end] == locus_codes[pos]:
                continue  # would shift left (REF and ALT end in the same base)
            ref, alt = "".join(BASES[locus_codes[pos : end + 1]]), str(BASES[locus_codes[pos]])
        else:
            inserted = rng.integers(0, 4, size=length)
            if inserted[-1] == locus_codes[pos]:
                continue
            ref = str(BASES[locus_codes[pos]])
            alt = ref + "".join(BASES[inserted])
        taken[pos : end + 1] = True
        return pos, ref, alt
    raise RuntimeError(f"no room for an indel in anchor range [{low}, {high}] of a {locus_bp} bp locus")


def _background_indels(
    rng: np.random.Generator,
    snv_positions: np.ndarray,
    locus_codes: np.ndarray,
    n_haplotypes: int,
    taken: np.ndarray | None = None,
) -> tuple[list[int], list[str], list[str], np.ndarray]:
    """The short indels of one locus, in linkage equilibrium with its SNVs.

    ``max(MIN_INDELS_PER_LOCUS, round(INDEL_FRACTION * n_snvs))`` indels placed by
    :func:`_place_indel`; each has ALT frequency ``f ~ Uniform(INDEL_MIN_AF, 0.5)`` and
    i.i.d. Bernoulli(``f``) haplotypes (redrawn until polymorphic).

    Args:
        rng: the locus's indel stream.
        snv_positions: int64 (n_snvs,), 0-based within the locus.
        locus_codes: int array (locus_bp,), reference base codes of the locus.
        n_haplotypes: ``2 * n_people``.
        taken: bool (locus_bp,) of bases already covered by other records besides the SNVs
            (updated in place), or None.

    Returns:
        positions (0-based within the locus, in drawing order), REFs, ALTs and int8
        haplotypes (n_indels, n_haplotypes), 1 = ALT.
    """
    if taken is None:
        taken = np.zeros(len(locus_codes), dtype=bool)
    taken[snv_positions] = True
    n_indels = max(MIN_INDELS_PER_LOCUS, int(round(INDEL_FRACTION * len(snv_positions))))
    positions, refs, alts = [], [], []
    haplotypes = np.zeros((n_indels, n_haplotypes), dtype=np.int8)
    for i in range(n_indels):
        pos, ref, alt = _place_indel(rng, locus_codes, taken)
        positions.append(pos)
        refs.append(ref)
        alts.append(alt)
        while True:
            hap = rng.random(n_haplotypes) < rng.uniform(INDEL_MIN_AF, 0.5)
            if 0 < hap.sum() < n_haplotypes:
                break
        haplotypes[i] = hap
    return positions, refs, alts, haplotypes


def _dosage(haplotypes: np.ndarray) -> np.ndarray:
    """ALT dosages (..., n_people) from haplotypes (..., 2 * n_people); columns 2i, 2i + 1 are person i."""
    return (haplotypes[..., 0::2] + haplotypes[..., 1::2]).astype(np.float64)


def _max_r2(snv_haplotypes: np.ndarray, haplotype: np.ndarray) -> float:
    """Largest squared Pearson correlation of ALT dosages across people between one variant and any SNV.

    SNVs whose dosage does not vary count as r^2 = 0.
    """
    if len(snv_haplotypes) == 0:
        return 0.0
    snvs = _dosage(snv_haplotypes)
    snvs -= snvs.mean(axis=1, keepdims=True)
    x = _dosage(haplotype)
    x -= x.mean()
    norms = np.sqrt((snvs**2).sum(axis=1) * (x**2).sum())
    r = np.divide(snvs @ x, norms, out=np.zeros(len(snvs)), where=norms > 0)
    return float((r**2).max())


def _indel_gene_causal(
    rng: np.random.Generator,
    snv_positions: np.ndarray,
    snv_haplotypes: np.ndarray,
    locus_codes: np.ndarray,
    tss_in_locus: int,
) -> tuple[int, str, str, np.ndarray, np.ndarray] | None:
    """The indel gene's causal indel, or None if no haplotypes pass in ``MAX_INDEL_DRAWS`` draws.

    A ``INDEL_GENE_MIN_BP``-``MAX_DEMO_INDEL_BP`` bp indel anchored within
    ``LEARNABLE_WINDOW_BP`` of the TSS (see :func:`_place_indel`), with i.i.d. Bernoulli(f)
    haplotypes, ``f ~ Uniform(*INDEL_GENE_AF_RANGE)``, redrawn until the cohort ALT frequency
    lies in ``INDEL_GENE_AF_RANGE`` and the r^2 with every SNV of the locus is below
    ``INDEL_GENE_MAX_R2``.

    Returns:
        (anchor position within the locus, REF, ALT, int8 haplotypes (2 * n_people,),
        bool ``taken`` mask of the locus with the SNVs and this indel's REF span).
    """
    taken = np.zeros(len(locus_codes), dtype=bool)
    taken[snv_positions] = True
    window = (tss_in_locus - LEARNABLE_WINDOW_BP, tss_in_locus + LEARNABLE_WINDOW_BP)
    pos, ref, alt = _place_indel(rng, locus_codes, taken, min_bp=INDEL_GENE_MIN_BP, window=window)
    low, high = INDEL_GENE_AF_RANGE
    for _ in range(MAX_INDEL_DRAWS):
        hap = (rng.random(snv_haplotypes.shape[1]) < rng.uniform(low, high)).astype(np.int8)
        if low <= hap.mean() <= high and _max_r2(snv_haplotypes, hap) < INDEL_GENE_MAX_R2:
            return pos, ref, alt, hap, taken
    return None


def inverse_normal_transform(values: np.ndarray) -> np.ndarray:
    """Rank-based inverse-normal transform with the Blom offset.

    Args:
        values: float array of shape (n,).

    Returns:
        float64 array of shape (n,): ``Phi^-1((rank - 3/8) / (n + 1/4))`` with
        average ranks for ties.
    """
    values = np.asarray(values, dtype=np.float64)
    ranks = stats.rankdata(values)
    return stats.norm.ppf((ranks - 0.375) / (len(values) + 0.25))


def _write_fasta(path: pathlib.Path, contigs: dict[str, np.ndarray]) -> None:
    """Write contigs to a FASTA, 60 bases a line, and index it (.fai).

    Args:
        path: output path, e.g. ``reference.fa``.
        contigs: contig name -> uint8 array of ASCII bases, in file order.
    """
    with open(path, "wb") as handle:
        for name, seq in contigs.items():
            handle.write(f">{name}\n".encode())
            n_full = len(seq) // FASTA_LINE_WIDTH * FASTA_LINE_WIDTH
            lines = seq[:n_full].reshape(-1, FASTA_LINE_WIDTH)
            newlines = np.full((len(lines), 1), ord("\n"), dtype=np.uint8)
            handle.write(np.hstack([lines, newlines]).tobytes())
            if n_full < len(seq):
                handle.write(seq[n_full:].tobytes() + b"\n")
    pysam.faidx(str(path))


def _write_vcf(
    path: pathlib.Path,
    contig_length: int,
    sample_names: Sequence[str],
    positions: np.ndarray,
    refs: np.ndarray,
    alts: np.ndarray,
    haplotypes: np.ndarray,
) -> None:
    """Write a bgzipped, tabix-indexed, phased VCF at ``path`` (must end .vcf.gz).

    ``positions`` are 0-based contig coordinates (sorted, unique); they are
    converted to 1-based VCF POS here.  ``haplotypes`` is (n_sites, 2 * n_people)
    with 1 = ALT.
    """
    text_path = path.with_suffix("")  # genotypes.vcf
    genotype_strings = np.array(["0|0", "0|1", "1|0", "1|1"])
    with open(text_path, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n")
        handle.write("##source=performer.data.simulate\n")
        handle.write("##reference=reference.fa\n")
        handle.write(f"##contig=<ID={CHROM},length={contig_length}>\n")
        handle.write('##INFO=<ID=AF,Number=A,Type=Float,Description="ALT allele frequency in the cohort">\n')
        handle.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">\n')
        handle.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(sample_names) + "\n")
        for i, pos0 in enumerate(positions):
            vcf_pos = int(pos0) + 1
            hap = haplotypes[i]
            codes = 2 * hap[0::2] + hap[1::2]
            alt_freq = hap.mean()
            fields = [
                CHROM,
                str(vcf_pos),
                f"sim_{CHROM}_{vcf_pos}",
                refs[i],
                alts[i],
                ".",
                "PASS",
                f"AF={alt_freq:.6g}",
                "GT",
            ]
            handle.write("\t".join(fields) + "\t" + "\t".join(genotype_strings[codes]) + "\n")
    pysam.tabix_index(str(text_path), preset="vcf", force=True)


def _write_tsv(path: pathlib.Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    with open(path, "w") as handle:
        handle.write("\t".join(header) + "\n")
        for row in rows:
            handle.write("\t".join(str(value) for value in row) + "\n")


def _write_expression_bed(
    path: pathlib.Path,
    sample_names: Sequence[str],
    gene_ids: Sequence[str],
    chroms: Sequence[str],
    tss: Sequence[int],
    expression: np.ndarray,
) -> None:
    """Write the FastQTL-style expression BED, bgzipped and tabix-indexed.

    ``path`` must end in .bed.gz.  ``expression`` is (n_genes, n_people);
    ``tss`` is 0-based, so the row spans [tss, tss + 1).  Rows are sorted by
    contig (in order of first appearance in ``chroms``), then TSS.
    """
    text_path = path.with_suffix("")  # expression.bed
    contig_rank = {chrom: rank for rank, chrom in enumerate(dict.fromkeys(chroms))}
    order = np.lexsort((np.asarray(tss), np.array([contig_rank[c] for c in chroms])))
    with open(text_path, "w") as handle:
        handle.write("#chr\tstart\tend\tgene_id\t" + "\t".join(sample_names) + "\n")
        for k in order:
            values = "\t".join(f"{v:.6g}" for v in expression[k])
            handle.write(f"{chroms[k]}\t{tss[k]}\t{tss[k] + 1}\t{gene_ids[k]}\t{values}\n")
    pysam.tabix_index(str(text_path), preset="bed", force=True)


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

    started = time.perf_counter()
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_genes = len(genes)
    n_people_haplotypes = 2 * n_people
    # Everything of ``genes`` is computed exactly as in the SNV-only demo-v1 cohort; the indels
    # and the indel gene only add records, rows and 100 kb of contig from their own streams.
    contig_length = n_genes * LOCUS_SPACING_BP + CONTIG_PADDING_BP
    sample_names = [f"SIM{i + 1:04d}" for i in range(n_people)]
    gene_ids = [f"ENSGSIM{k + 1:05d}.1" for k in range(n_genes)]
    locus_starts = [k * LOCUS_SPACING_BP + LOCUS_OFFSET_BP for k in range(n_genes)]
    tss = [start + locus_bp // 2 for start in locus_starts]
    logger.info(
        "Simulating demo cohort: seed=%d, %d people, %d genes%s, %d bp loci -> %s",
        seed,
        n_people,
        n_genes,
        f" + {DEMO_INDEL_GENE} and short indels" if indels else "",
        locus_bp,
        out_dir,
    )

    # Reference sequence.
    base_codes = _rng(seed, _STREAM_REFERENCE).choice(4, size=contig_length, p=BASE_PROBS)
    if indels:  # the indel gene's extra 100 kb, from its own stream
        extra = _rng(seed, _STREAM_INDEL_GENE, _INDEL_GENE_REFERENCE).choice(4, size=LOCUS_SPACING_BP, p=BASE_PROBS)
        base_codes = np.concatenate([base_codes, extra])
        contig_length += LOCUS_SPACING_BP
    _write_fasta(out_dir / "reference.fa", {CHROM: ASCII_BASES[base_codes]})

    h2 = _heritabilities(n_genes, seed)
    strands = _rng(seed, _STREAM_STRAND).choice(np.array(["+", "-"]), size=n_genes)

    all_positions: list[np.ndarray] = []
    all_haplotypes: list[np.ndarray] = []
    expression = np.zeros((n_genes, n_people))
    truth_rows: list[dict[str, object]] = []  # ref/alt/vcf_pos filled in below
    heritability_rows: list[list[object]] = []
    # Indel records (contig positions, 0-based), added after the SNVs' ALT bases are drawn.
    indel_positions: list[int] = []
    indel_refs: list[str] = []
    indel_alts: list[str] = []
    indel_haplotypes: list[np.ndarray] = []

    def add_indels(start: int, positions: Sequence[int], refs: Sequence[str], alts: Sequence[str], haps) -> None:
        indel_positions.extend(start + p for p in positions)
        indel_refs.extend(refs)
        indel_alts.extend(alts)
        indel_haplotypes.extend(haps)

    for k, gene in enumerate(genes):
        tss_in_locus = locus_bp // 2
        learnable = k == 0
        for attempt in range(MAX_LOCUS_ATTEMPTS):
            positions, haplotypes = _simulate_locus_haplotypes(n_people, locus_bp, seed, k, attempt)
            alt_freq = haplotypes.mean(axis=1)
            first_candidates = _first_causal_candidates(positions, alt_freq, tss_in_locus, learnable)
            if h2[k] == 0 or len(first_candidates) > 0:
                break
            logger.debug("gene %s attempt %d: no eligible TSS-proximal SNV, re-simulating", gene, attempt)
        else:
            raise RuntimeError(f"gene {gene}: no eligible causal SNV near the TSS after {MAX_LOCUS_ATTEMPTS} attempts")
        logger.info("locus %s: %d biallelic SNVs (attempt %d)", gene, len(positions), attempt + 1)
        all_positions.append(positions + locus_starts[k])
        all_haplotypes.append(haplotypes)
        if indels:
            locus_codes = base_codes[locus_starts[k] : locus_starts[k] + locus_bp]
            add_indels(
                locus_starts[k],
                *_background_indels(_rng(seed, _STREAM_INDELS, k), positions, locus_codes, n_people_haplotypes),
            )

        # Expression phenotype.
        rng = _rng(seed, _STREAM_PHENOTYPE, k)
        if h2[k] > 0:
            causal = _choose_causal_sites(rng, positions, alt_freq, tss_in_locus, first_candidates, learnable)
            genetic, beta = _genetic_values(rng, haplotypes[causal], h2[k])
        else:
            causal = np.zeros(0, dtype=np.int64)
            genetic, beta = np.zeros(n_people), np.zeros(0)
        noise = rng.normal(scale=np.sqrt(1.0 - h2[k]), size=n_people)
        expression[k] = inverse_normal_transform(genetic + noise)
        heritability_rows.append([gene_ids[k], gene, f"{h2[k]:.6g}", len(causal)])
        for j, site in enumerate(causal):
            truth_rows.append(
                {
                    "gene_id": gene_ids[k],
                    "gene_name": gene,
                    "chrom": CHROM,
                    "pos": int(positions[site] + locus_starts[k]),
                    "beta": f"{beta[j]:.6g}",
                    "af": f"{alt_freq[site]:.6g}",
                    "distance_to_tss": int(positions[site] - tss_in_locus),
                    "h2": f"{h2[k]:.6g}",
                }
            )

    positions = np.concatenate(all_positions)
    haplotypes = np.vstack(all_haplotypes)
    refs = BASES[base_codes[positions]]
    # ALT: a uniformly chosen base different from REF (shift by 1-3 mod 4).
    shifts = _rng(seed, _STREAM_ALT_BASES).integers(1, 4, size=len(positions))
    alts = BASES[(base_codes[positions] + shifts) % 4]
    n_snvs = len(positions)

    all_genes, all_ids, all_strands = list(genes), list(gene_ids), list(strands)
    if indels:
        # The indel gene: its own locus (msprime), SNV ALT bases, causal indel, phenotype and strand.
        k = n_genes
        start = k * LOCUS_SPACING_BP + LOCUS_OFFSET_BP
        tss_in_locus = locus_bp // 2
        locus_codes = base_codes[start : start + locus_bp]
        for attempt in range(MAX_LOCUS_ATTEMPTS):
            gene_positions, gene_haplotypes = _simulate_locus_haplotypes(
                n_people, locus_bp, seed, _INDEL_GENE_LOCUS, attempt, stream=_STREAM_INDEL_GENE
            )
            causal_rng = _rng(seed, _STREAM_INDEL_GENE, _INDEL_GENE_CAUSAL, attempt)
            found = _indel_gene_causal(causal_rng, gene_positions, gene_haplotypes, locus_codes, tss_in_locus)
            if found is not None:
                break
            logger.debug("%s attempt %d: no untagged causal indel, re-simulating", DEMO_INDEL_GENE, attempt)
        else:
            raise RuntimeError(
                f"{DEMO_INDEL_GENE}: no causal indel with r^2 < {INDEL_GENE_MAX_R2} to every SNV after "
                f"{MAX_LOCUS_ATTEMPTS} loci of {n_people} people"
            )
        causal_pos, causal_ref, causal_alt, causal_hap, taken = found
        logger.info(
            "locus %s: %d biallelic SNVs (attempt %d), causal indel %s>%s at %d",
            DEMO_INDEL_GENE, len(gene_positions), attempt + 1, causal_ref, causal_alt, start + causal_pos + 1,
        )  # fmt: skip
        gene_contig_positions = gene_positions + start
        gene_shifts = _rng(seed, _STREAM_INDEL_GENE, _INDEL_GENE_ALT_BASES).integers(1, 4, size=len(gene_positions))
        positions = np.concatenate([positions, gene_contig_positions])
        haplotypes = np.vstack([haplotypes, gene_haplotypes])
        refs = np.concatenate([refs, BASES[base_codes[gene_contig_positions]]])
        alts = np.concatenate([alts, BASES[(base_codes[gene_contig_positions] + gene_shifts) % 4]])
        n_snvs = len(positions)
        add_indels(start, [causal_pos], [causal_ref], [causal_alt], [causal_hap])
        add_indels(
            start,
            *_background_indels(
                _rng(seed, _STREAM_INDEL_GENE, _INDEL_GENE_INDELS), gene_positions, locus_codes,
                n_people_haplotypes, taken,
            ),
        )  # fmt: skip

        rng = _rng(seed, _STREAM_INDEL_GENE, _INDEL_GENE_PHENOTYPE)
        genetic, beta = _genetic_values(rng, causal_hap[None, :], INDEL_GENE_H2)
        noise = rng.normal(scale=np.sqrt(1.0 - INDEL_GENE_H2), size=n_people)
        expression = np.vstack([expression, inverse_normal_transform(genetic + noise)])
        all_genes.append(DEMO_INDEL_GENE)
        all_ids.append(f"ENSGSIM{k + 1:05d}.1")
        all_strands.append(_rng(seed, _STREAM_INDEL_GENE, _INDEL_GENE_STRAND).choice(np.array(["+", "-"])))
        tss.append(start + tss_in_locus)
        heritability_rows.append([all_ids[-1], DEMO_INDEL_GENE, f"{INDEL_GENE_H2:.6g}", 1])
        truth_rows.append(
            {
                "gene_id": all_ids[-1],
                "gene_name": DEMO_INDEL_GENE,
                "chrom": CHROM,
                "pos": start + causal_pos,
                "beta": f"{beta[0]:.6g}",
                "af": f"{causal_hap.mean():.6g}",
                "distance_to_tss": causal_pos - tss_in_locus,
                "h2": f"{INDEL_GENE_H2:.6g}",
            }
        )

        # Merge the indels into the records, sorted by POS (no two records share a POS).
        positions = np.concatenate([positions, np.asarray(indel_positions, dtype=np.int64)])
        haplotypes = np.vstack([haplotypes, np.asarray(indel_haplotypes, dtype=np.int8)])
        refs = np.concatenate([refs.astype(object), np.array(indel_refs, dtype=object)])
        alts = np.concatenate([alts.astype(object), np.array(indel_alts, dtype=object)])
        order = np.argsort(positions, kind="stable")
        positions, haplotypes, refs, alts = positions[order], haplotypes[order], refs[order], alts[order]
    _write_vcf(out_dir / "genotypes.vcf.gz", contig_length, sample_names, positions, refs, alts, haplotypes)

    site_index = {int(p): i for i, p in enumerate(positions)}
    for row in truth_rows:
        i = site_index[row["pos"]]
        row.update(vcf_pos=row["pos"] + 1, ref=refs[i], alt=alts[i])

    n_all = len(all_genes)
    _write_expression_bed(out_dir / "expression.bed.gz", sample_names, all_ids, [CHROM] * n_all, tss, expression)
    _write_tsv(
        out_dir / "genes.tsv",
        ["gene_id", "gene_name", "chrom", "tss", "strand"],
        [[all_ids[k], all_genes[k], CHROM, tss[k], all_strands[k]] for k in range(n_all)],
    )
    _write_tsv(out_dir / "heritability.tsv", ["gene_id", "gene_name", "h2", "n_causal"], heritability_rows)
    _write_tsv(
        out_dir / "truth.tsv",
        TRUTH_COLUMNS,
        [[row[column] for column in TRUTH_COLUMNS] for row in truth_rows],
    )
    (out_dir / "README.md").write_text(
        _readme_text(seed, n_people, genes, locus_bp, n_snvs, len(indel_positions) if indels else None)
    )
    logger.info(
        "Wrote %d SNVs, %d indels, %d genes, %d causal variants to %s in %.1f s",
        n_snvs,
        len(indel_positions),
        n_all,
        len(truth_rows),
        out_dir,
        time.perf_counter() - started,
    )
    return out_dir


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


# --- Second cohort of the same loci ----------------------------------------
#: Default seed of a second cohort: the source cohort's seed plus this.
SAME_LOCI_SEED_OFFSET = 1000
#: Li & Stephens copying: generations of recombination between the source haplotypes and the new
#: ones; a new haplotype switches template between two sites ``d`` bp apart with probability
#: ``1 - exp(-RECOMBINATION_RATE * COPY_GENERATIONS * d)`` (1e-5 per bp, ~0.66 per 65,536 bp locus).
COPY_GENERATIONS = 1_000
SAME_LOCI_SAMPLE_PREFIX = "OTH"
MAX_PERSON_REDRAWS = 1_000  # redraws of a new person whose genotypes equal a source person's at a locus
_STREAM_SAME_LOCI = 9  # (_STREAM_SAME_LOCI, tag, k): the second cohort's streams
_SAME_LOCI_COPY = 1  # haplotype copying of locus k (k = row of genes.tsv)
_SAME_LOCI_PHENOTYPE = 2  # expression noise of gene k
_GENE_COLUMNS = ("gene_id", "gene_name", "chrom", "tss", "strand")


def _read_tsv_rows(path: pathlib.Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a tab-separated table as dicts of the raw strings; checks the header."""
    lines = path.read_text().splitlines()
    if not lines or tuple(lines[0].split("\t")) != tuple(columns):
        raise ValueError(f"{path}: expected the columns {' '.join(columns)}")
    rows = [line.split("\t") for line in lines[1:] if line]
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"{path}: a row does not have {len(columns)} fields")
    return [dict(zip(columns, row)) for row in rows]


def _read_cohort_vcf(path: pathlib.Path) -> tuple[int, list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read a demo cohort's VCF (as :func:`_write_vcf` writes it).

    Returns:
        (contig length, sample names, 0-based positions (int64), REFs, ALTs (object arrays),
        haplotypes int8 (n_records, 2 * n_people), 1 = ALT).

    Raises:
        ValueError: unless every record is on ``chr1``, biallelic, sorted with unique positions,
            and every genotype is a phased diploid call of 0 and 1.
    """
    contig_length, samples = None, None
    positions, refs, alts, rows = [], [], [], []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("##"):
                if line.startswith(f"##contig=<ID={CHROM},length="):
                    contig_length = int(line.split("length=")[1].split(">")[0].split(",")[0])
                continue
            if line.startswith("#CHROM"):
                samples = line.rstrip("\n").split("\t")[9:]
                continue
            if samples is None:
                raise ValueError(f"{path}: no #CHROM header line")
            chrom, pos, _, ref, alt, _, _, _, fmt, gts = line.rstrip("\n").split("\t", 9)
            if chrom != CHROM or fmt != "GT" or "," in alt:
                raise ValueError(f"{path}: record {chrom}:{pos} is not a biallelic {CHROM} GT record")
            calls = np.frombuffer(gts.encode(), dtype=np.uint8)
            alleles = calls[0::2]
            if (
                len(calls) != 4 * len(samples) - 1
                or not np.all(calls[1::4] == ord("|"))
                or not np.all((alleles == ord("0")) | (alleles == ord("1")))
            ):
                raise ValueError(f"{path}: record {chrom}:{pos} has genotypes other than phased diploid 0/1 calls")
            positions.append(int(pos) - 1)
            refs.append(ref)
            alts.append(alt)
            rows.append((alleles - ord("0")).astype(np.int8))
    if contig_length is None or samples is None:
        raise ValueError(f"{path}: no ##contig line for {CHROM} or no #CHROM line")
    positions_ = np.asarray(positions, dtype=np.int64)
    if len(positions_) == 0 or np.any(np.diff(positions_) <= 0):
        raise ValueError(f"{path}: no records, or records not sorted by unique POS")
    haplotypes = np.vstack(rows)
    return contig_length, samples, positions_, np.array(refs, dtype=object), np.array(alts, dtype=object), haplotypes


def _copy_haplotypes(
    rng: np.random.Generator, positions: np.ndarray, source: np.ndarray, n_new: int, switch_per_bp: float
) -> np.ndarray:
    """Li & Stephens (2003) haplotype copying without miscopying: ``n_new`` mosaics of ``source``.

    Each new haplotype starts on a uniformly drawn source haplotype (template) and, between
    consecutive sites ``d`` bp apart, switches with probability ``1 - exp(-switch_per_bp * d)``
    to a template drawn uniformly from all source haplotypes; it carries its template's alleles.

    Args:
        positions: int64 (n_sites,), sorted.
        source: int8 (n_sites, n_source_haplotypes), 1 = ALT.

    Returns:
        int8 (n_sites, n_new).
    """
    n_sites, n_source = source.shape
    switch = np.ones((n_sites, n_new), dtype=bool)
    if n_sites > 1:
        p_switch = -np.expm1(-switch_per_bp * np.diff(positions).astype(np.float64))
        switch[1:] = rng.random((n_sites - 1, n_new)) < p_switch[:, None]
    draws = rng.integers(0, n_source, size=(n_sites, n_new))
    last_switch = np.maximum.accumulate(np.where(switch, np.arange(n_sites)[:, None], 0), axis=0)
    template = draws[last_switch, np.arange(n_new)[None, :]]
    return source[np.arange(n_sites)[:, None], template]


def _source_seed(readme: pathlib.Path) -> int:
    for line in readme.read_text().splitlines():
        if line.startswith("- seed: "):
            value = line[len("- seed: ") :].split()[0]
            if value.isdigit():
                return int(value)
    raise ValueError(f"{readme}: no '- seed: N' line; is this a demo cohort?")


def simulate_same_loci(
    source_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    seed: int | None = None,
    n_people: int | None = None,
) -> pathlib.Path:
    """Write a second, independent cohort of the loci of the demo cohort ``source_dir``.

    New people from the same population (see "Second cohort" in the module docstring): the
    same reference, genes, variant sites, causal variants, betas and h2 as ``source_dir``; new
    phased genotypes by Li & Stephens (2003) haplotype copying of the source's haplotypes, per
    locus, with template switches at ``RECOMBINATION_RATE * COPY_GENERATIONS`` = 1e-5 per bp;
    expression from the source's betas plus new noise.  A model trained on ``source_dir`` can
    be evaluated on ``out_dir``.

    Args:
        source_dir: a complete demo cohort written by :func:`simulate_cohort` (any seed,
            ``n_people``, ``genes``, ``locus_bp``, with or without indels), or by this function.
        out_dir: output directory; created if missing; files with the cohort's names are
            overwritten.  Must not be ``source_dir``.
        seed: non-negative integer; default the source's seed (README.md) + 1000
            (``SAME_LOCI_SEED_OFFSET``).  The second cohort's random streams
            (``spawn_key`` ``(9, ...)``) are not used by :func:`simulate_cohort`, so even the
            source's own seed gives new people.
        n_people: number of new people (>= 10), named ``OTH0001``, ``OTH0002``, ...
            (zero-padded to at least 4 digits); default the source's number of people.

    Output is a deterministic function of (the source's files, ``seed``, ``n_people``).

    Files written into ``out_dir``: ``reference.fa`` / ``.fai``, ``genes.tsv`` and
    ``heritability.tsv`` (copies of the source's); ``genotypes.vcf.gz`` / ``.tbi`` (the
    source's records, same POS/ID/REF/ALT in the same order, INFO ``AF`` and GTs of the new
    people; a site may be monomorphic in the new people); ``expression.bed.gz`` / ``.tbi``
    (same layout, the new people's columns); ``truth.tsv`` (the source's rows, ``af``
    recomputed in the new people) and ``README.md``.

    Returns:
        ``out_dir`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: if ``source_dir`` is not a complete demo cohort (a file of
            ``COHORT_FILES`` missing, a VCF that is not single-contig ``chr1`` phased diploid
            biallelic, a truth.tsv variant missing from the VCF, a gene without h2, ...), if
            ``out_dir`` is ``source_dir``, or if ``seed < 0`` or ``n_people < 10``.
        RuntimeError: if a new person still has a source person's genotypes at a locus after
            ``MAX_PERSON_REDRAWS`` redraws (only for degenerate loci with almost no variation).
    """
    started = time.perf_counter()
    source_dir, out_dir = pathlib.Path(source_dir), pathlib.Path(out_dir)
    if not source_dir.is_dir():
        raise ValueError(f"{source_dir} is not a directory holding a demo cohort")
    missing = [name for name in COHORT_FILES if not (source_dir / name).is_file()]
    if missing:
        raise ValueError(f"{source_dir} is not a complete demo cohort: missing {', '.join(missing)}")
    if out_dir.exists() and out_dir.resolve() == source_dir.resolve():
        raise ValueError("out_dir must differ from source_dir")
    source_seed = _source_seed(source_dir / "README.md")
    seed = source_seed + SAME_LOCI_SEED_OFFSET if seed is None else int(seed)
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")

    contig_length, source_samples, positions, refs, alts, source_haps = _read_cohort_vcf(
        source_dir / "genotypes.vcf.gz"
    )
    n_source = len(source_samples)
    n_people = n_source if n_people is None else int(n_people)
    if n_people < 10:
        raise ValueError(f"n_people must be at least 10, got {n_people}")
    width = max(4, len(str(n_people)))
    sample_names = [f"{SAME_LOCI_SAMPLE_PREFIX}{i + 1:0{width}d}" for i in range(n_people)]
    if set(sample_names) & set(source_samples):
        raise ValueError(f"{source_dir} already has samples named {SAME_LOCI_SAMPLE_PREFIX}...; use another source")

    genes = _read_tsv_rows(source_dir / "genes.tsv", _GENE_COLUMNS)
    heritability = {
        row["gene_id"]: float(row["h2"])
        for row in _read_tsv_rows(source_dir / "heritability.tsv", ["gene_id", "gene_name", "h2", "n_causal"])
    }
    truth = _read_tsv_rows(source_dir / "truth.tsv", TRUTH_COLUMNS)
    if not genes or any(row["chrom"] != CHROM for row in genes) or set(heritability) != {g["gene_id"] for g in genes}:
        raise ValueError(f"{source_dir}: genes.tsv and heritability.tsv do not describe the same {CHROM} genes")
    record_index = {(int(p), str(r), str(a)): i for i, (p, r, a) in enumerate(zip(positions, refs, alts))}
    causal: dict[str, list[tuple[int, float]]] = {row["gene_id"]: [] for row in genes}
    for row in truth:
        key = (int(row["pos"]), row["ref"], row["alt"])
        if key not in record_index or row["gene_id"] not in causal:
            raise ValueError(f"{source_dir}: truth.tsv variant {row['pos']} {row['ref']}>{row['alt']} not in the VCF")
        causal[row["gene_id"]].append((record_index[key], float(row["beta"])))

    out_dir.mkdir(parents=True, exist_ok=True)
    logger.info(
        "Second cohort of the loci of %s: seed=%d, %d people (source: seed %d, %d people) -> %s",
        source_dir, seed, n_people, source_seed, n_source, out_dir,
    )  # fmt: skip

    # Loci: every record belongs to the gene with the nearest TSS (genes.tsv order = locus index k).
    tss = np.array([int(row["tss"]) for row in genes], dtype=np.int64)
    order = np.argsort(tss, kind="stable")
    midpoints = (tss[order][:-1] + tss[order][1:]) / 2
    locus_of_record = order[np.searchsorted(midpoints, positions, side="right")]
    switch_per_bp = RECOMBINATION_RATE * COPY_GENERATIONS
    haplotypes = np.zeros((len(positions), 2 * n_people), dtype=np.int8)
    n_redrawn = 0
    for k in range(len(genes)):
        rows = np.flatnonzero(locus_of_record == k)
        if len(rows) == 0:
            continue
        rng = _rng(seed, _STREAM_SAME_LOCI, _SAME_LOCI_COPY, k)
        locus_haps = _copy_haplotypes(rng, positions[rows], source_haps[rows], 2 * n_people, switch_per_bp)
        source_genotypes = {person.tobytes() for person in _dosage(source_haps[rows]).T}
        for i in range(n_people):
            for _ in range(MAX_PERSON_REDRAWS):
                if _dosage(locus_haps[:, 2 * i : 2 * i + 2])[:, 0].tobytes() not in source_genotypes:
                    break
                n_redrawn += 1
                locus_haps[:, 2 * i : 2 * i + 2] = _copy_haplotypes(
                    rng, positions[rows], source_haps[rows], 2, switch_per_bp
                )
            else:
                raise RuntimeError(
                    f"locus of {genes[k]['gene_name']}: person {i + 1} copies a source person's genotypes "
                    f"after {MAX_PERSON_REDRAWS} redraws"
                )
        haplotypes[rows] = locus_haps
    logger.info("Copied %d records for %d people (%d people redrawn)", len(positions), n_people, n_redrawn)
    shutil.copyfile(source_dir / "reference.fa", out_dir / "reference.fa")
    shutil.copyfile(source_dir / "reference.fa.fai", out_dir / "reference.fa.fai")
    _write_vcf(out_dir / "genotypes.vcf.gz", contig_length, sample_names, positions, refs, alts, haplotypes)

    # Expression: the source's betas on the new dosages plus N(0, 1 - h2) noise, then INT.
    expression = np.zeros((len(genes), n_people))
    for k, gene in enumerate(genes):
        h2 = heritability[gene["gene_id"]]
        sites = [i for i, _ in causal[gene["gene_id"]]]
        beta = np.array([b for _, b in causal[gene["gene_id"]]], dtype=np.float64)
        genetic = _dosage(haplotypes[sites]).T @ beta if sites else np.zeros(n_people)
        noise = _rng(seed, _STREAM_SAME_LOCI, _SAME_LOCI_PHENOTYPE, k).normal(
            scale=np.sqrt(max(1.0 - h2, 0.0)), size=n_people
        )
        expression[k] = inverse_normal_transform(genetic - genetic.mean() + noise)
    _write_expression_bed(
        out_dir / "expression.bed.gz",
        sample_names,
        [row["gene_id"] for row in genes],
        [row["chrom"] for row in genes],
        tss.tolist(),
        expression,
    )
    shutil.copyfile(source_dir / "genes.tsv", out_dir / "genes.tsv")
    shutil.copyfile(source_dir / "heritability.tsv", out_dir / "heritability.tsv")
    alt_freq = haplotypes.mean(axis=1)
    for row in truth:
        row["af"] = f"{alt_freq[record_index[(int(row['pos']), row['ref'], row['alt'])]]:.6g}"
    _write_tsv(out_dir / "truth.tsv", TRUTH_COLUMNS, [[row[c] for c in TRUTH_COLUMNS] for row in truth])
    (out_dir / "README.md").write_text(
        _same_loci_readme_text(source_dir, source_seed, n_source, seed, n_people, len(genes), len(positions))
    )
    logger.info("Wrote the second cohort to %s in %.1f s", out_dir, time.perf_counter() - started)
    return out_dir


def _same_loci_readme_text(
    source_dir: pathlib.Path, source_seed: int, n_source: int, seed: int, n_people: int, n_genes: int, n_records: int
) -> str:
    width = max(4, len(str(n_people)))
    prefix = SAME_LOCI_SAMPLE_PREFIX
    return f"""# Simulated Performer demo cohort: second cohort of the same loci

THIS IS SIMULATED DATA. The gene names are stand-ins borrowed from the Performer
paper; sequence, variants and expression have no relation to the real genes.

A second, independent cohort of the loci of the demo cohort at

    {source_dir}

(source seed {source_seed}, {n_source} people): new people from the same
population, for evaluating models trained on the source cohort (cross-cohort
evaluation, expression imputation, variant scoring).

Generated by `performer.data.simulate` (`simulate_same_loci`, `--same-loci-as`).

- seed: {seed}
- people: {n_people} (samples {prefix}{1:0{width}d}..{prefix}{n_people:0{width}d}, phased diploid)
- genes: {n_genes}; reference.fa, genes.tsv and heritability.tsv are copies of the source's
- variant records: {n_records}, the source's sites (same POS, ID, REF, ALT and order);
  INFO AF is the ALT frequency in the new people (0 or 1 where a site is not polymorphic in them)
- genotypes: Li & Stephens (2003, Genetics 165:2213) haplotype copying, per locus (the records
  nearest to a gene's TSS), of the source's {2 * n_source} phased haplotypes, without miscopying:
  each new haplotype starts on a uniformly drawn source haplotype and, between sites d bp apart,
  switches to a uniformly drawn source haplotype with probability 1 - exp(-r T d),
  r = {RECOMBINATION_RATE} per bp per generation, T = {COPY_GENERATIONS} generations
  ({RECOMBINATION_RATE * COPY_GENERATIONS:g} per bp). A new person whose genotypes at a locus equal a
  source person's is redrawn, so no new person is a copy of a source person at any locus.
- expression: per gene g = X @ beta (X: the new people's ALT dosages of the gene's causal
  variants in truth.tsv, beta: the source's standardised betas), centred, plus noise
  e ~ N(0, 1 - h2) with the gene's h2 from heritability.tsv, so g explains about h2 of the
  variance; then rank-based inverse-normal transformed per gene (Blom offset)
- truth.tsv: the source's rows (same variants, betas, h2); af recomputed in the new people

Coordinates: genes.tsv and truth.tsv `pos`/`tss` are 0-based; VCF POS and
truth.tsv `vcf_pos` are 1-based (an indel's position is its anchor base, the
first base of REF and ALT); expression.bed.gz `end` is the 1-based TSS.
"""


# --- Scale (GTEx-sized) cohort ---------------------------------------------
X_CHROM = "chrX"
SCALE_MUTATION_RATE = 3.0e-8  # per bp per generation; ~12 SNVs/kb in 1,680 haplotypes
SCALE_OFFSET_BP = 10_000  # start of the first locus on each contig
SCALE_GAP_BP = 4_096  # variant-free sequence between consecutive loci
SCALE_MIN_CAUSAL_MAF = 0.01
SCALE_MAX_CAUSAL = 3
MAX_INDEL_BP = 6  # indel length (bases inserted or deleted) is uniform in [1, MAX_INDEL_BP]
REFERENCE_CHUNK_BP = 1 << 22
BGZF_WRITE_MODE = "wb6"  # bgzip's default compression level

# spawn_key tags of the scale cohort's streams: (_STREAM_SCALE, tag, ...).
_STREAM_SCALE = 10
_SCALE_REFERENCE = 1
_SCALE_SEXES = 2
_SCALE_STRAND = 3
_SCALE_LOCUS = 4
_SCALE_DECORATE = 5
_SCALE_PHENOTYPE = 6


def _random_reference(rng: np.random.Generator, length: int) -> np.ndarray:
    """I.i.d. bases with BASE_PROBS as uint8 ASCII, shape (length,); drawn in chunks to bound memory."""
    cdf = np.cumsum(BASE_PROBS)
    cdf[-1] = 1.0
    out = np.empty(length, dtype=np.uint8)
    for start in range(0, length, REFERENCE_CHUNK_BP):
        u = rng.random(min(REFERENCE_CHUNK_BP, length - start))
        out[start : start + len(u)] = ASCII_BASES[np.searchsorted(cdf, u, side="right")]
    return out


def _simulate_scale_locus(
    n_people: int, locus_bp: int, mutation_rate: float, seed: int, gene_index: int
) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray]:
    """Coalescent locus with Jukes-Cantor mutations (recurrent mutations kept).

    Returns:
        positions: int64 (n_sites,), 0-based within the locus, increasing.
        alleles: per site, the allele bases; ``alleles[i][0]`` is the ancestral base.
        genotypes: int8 (n_sites, 2 * n_people), index into ``alleles[i]`` per haplotype;
            columns 2i and 2i + 1 are person i.
    """
    ancestry_seed, mutation_seed = _msprime_seeds(seed, _STREAM_SCALE, _SCALE_LOCUS, gene_index)
    ts = _ancestry(n_people, locus_bp, ancestry_seed)
    ts = msprime.sim_mutations(
        ts, rate=mutation_rate, model=msprime.JC69(), discrete_genome=True, random_seed=mutation_seed
    )
    positions = ts.tables.sites.position.astype(np.int64)
    genotypes = np.empty((ts.num_sites, ts.num_samples), dtype=np.int8)
    alleles: list[tuple[str, ...]] = []
    for i, variant in enumerate(ts.variants()):
        genotypes[i] = variant.genotypes
        alleles.append(variant.alleles)
    return positions, alleles, genotypes


def _genotype_layout(ploidy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Byte layout of the sample columns of a VCF line, for vectorised formatting.

    Args:
        ploidy: int array (n_people,), 1 or 2 per person.

    Returns:
        template: uint8 (width,), the separators (``|``, tab, final newline) already in place.
        columns: int64 (n_alleles,), where each written allele goes in ``template``.
        haplotypes: int64 (n_alleles,), the haplotype (2i or 2i + 1) written there.
    """
    widths = 2 * ploidy  # "a|b\t" or "a\t"
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]])
    template = np.full(int(widths.sum()), ord("\t"), dtype=np.uint8)
    template[offsets[ploidy == 2] + 1] = ord("|")
    template[-1] = ord("\n")
    people = np.arange(len(ploidy))
    diploid = ploidy == 2
    columns = np.concatenate([offsets, offsets[diploid] + 2])
    haplotypes = np.concatenate([2 * people, 2 * people[diploid] + 1])
    order = np.argsort(columns)
    return template, columns[order], haplotypes[order]


def _scale_locus_records(
    rng: np.random.Generator,
    positions: np.ndarray,
    alleles: list[tuple[str, ...]],
    genotypes: np.ndarray,
    called: np.ndarray,
    reference: np.ndarray,
    locus_start: int,
    indel_fraction: float,
) -> dict[str, np.ndarray]:
    """Turn one simulated locus into split biallelic VCF records (sorted by POS, then ALT index).

    Writes each site's ancestral base into ``reference`` (uint8 ASCII, whole contig) in place.
    A site with k ALT alleles among the ``called`` haplotypes gives k records at the same POS;
    sites monomorphic among them are dropped.  A fraction ``indel_fraction`` of biallelic sites
    with no other site in the next ``MAX_INDEL_BP`` bases become an indel with the same
    haplotypes: a deletion (REF = the base and the next L bases) or an insertion (ALT = the REF
    base and L random bases), L uniform in [1, MAX_INDEL_BP], left-aligned: a deletion is shortened
    until its last deleted base differs from the anchor (none left: the site stays an SNV), an
    insertion's last base is changed to the next base code if it equals the anchor.

    Returns:
        dict with ``pos`` (int64, 0-based contig position), ``ref``/``alt`` (object arrays of
        str), ``site`` (int64 site index, shared by split records), ``hap`` (uint8
        (n_records, 2 * n_people), 1 = carries this ALT, including uncalled haplotypes as 0).
    """
    contig_pos = positions + locus_start
    ancestral = np.frombuffer("".join(a[0] for a in alleles).encode(), dtype=np.uint8)
    reference[contig_pos] = ancestral
    n_alleles = max((len(a) for a in alleles), default=1)
    present = np.stack([((genotypes == j) & called).any(axis=1) for j in range(n_alleles)], axis=1)
    polymorphic = present.sum(axis=1) >= 2
    site, allele = np.nonzero(present[:, 1:] & polymorphic[:, None])
    allele = allele + 1
    ref = np.array([alleles[i][0] for i in site], dtype=object)
    alt = np.array([alleles[i][j] for i, j in zip(site, allele)], dtype=object)
    hap = (genotypes[site] == allele[:, None]).astype(np.uint8)

    # Indels from biallelic sites with room after them.
    records_per_site = np.bincount(site, minlength=len(positions))
    next_site_gap = np.diff(positions, append=np.iinfo(np.int64).max // 2)
    eligible = (records_per_site[site] == 1) & (next_site_gap[site] > MAX_INDEL_BP)
    make_indel = eligible & (rng.random(len(site)) < indel_fraction)
    for r in np.flatnonzero(make_indel):
        pos = int(contig_pos[site[r]])
        length = int(rng.integers(1, MAX_INDEL_BP + 1))
        if rng.random() < 0.5:
            # left-aligned: the last deleted base differs from the anchor (else the deletion is shortened)
            while length > 0 and reference[pos + length] == reference[pos]:
                length -= 1
            if length == 0:
                continue  # the site stays an SNV
            ref[r] = reference[pos : pos + length + 1].tobytes().decode()
            alt[r] = ref[r][0]
        else:
            inserted = ASCII_BASES[rng.integers(0, 4, size=length)]
            if inserted[-1] == reference[pos]:  # left-aligned: the last inserted base differs from the anchor
                inserted[-1] = ASCII_BASES[(int(np.flatnonzero(ASCII_BASES == reference[pos])[0]) + 1) % 4]
            ref[r] = chr(reference[pos])
            alt[r] = ref[r] + inserted.tobytes().decode()
    return dict(pos=contig_pos[site], ref=ref, alt=alt, site=site, hap=hap)


def _vcf_lines(
    chrom: str,
    records: dict[str, np.ndarray],
    missing: np.ndarray,
    layout: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> bytes:
    """VCF text of ``records`` (see :func:`_scale_locus_records`) with missing calls.

    ``missing`` is bool (n_records, n_people); a missing call is written ``./.`` (diploid)
    or ``.`` (haploid).  INFO ``AF`` is the ALT frequency among the non-missing written alleles.
    """
    template, columns, haplotypes = layout
    person_of_allele = haplotypes // 2
    chars = records["hap"][:, haplotypes] + np.uint8(ord("0"))
    allele_missing = missing[:, person_of_allele]
    chars[allele_missing] = ord(".")
    n_called = (~allele_missing).sum(axis=1)
    alt_freq = (records["hap"][:, haplotypes] * ~allele_missing).sum(axis=1) / np.maximum(n_called, 1)
    rows = np.tile(template, (len(chars), 1))
    rows[:, columns] = chars
    lines = []
    for i in range(len(chars)):
        pos, ref, alt = int(records["pos"][i]) + 1, records["ref"][i], records["alt"][i]
        prefix = f"{chrom}\t{pos}\t{chrom}_{pos}_{ref}_{alt}\t{ref}\t{alt}\t.\tPASS\tAF={alt_freq[i]:.6g}\tGT\t"
        lines.append(prefix.encode() + rows[i].tobytes())
    return b"".join(lines)


def _scale_readme_text(settings: dict[str, object], stats_: dict[str, object]) -> str:
    settings_text = "\n".join(f"- {key}: {value}" for key, value in settings.items())
    stats_text = "\n".join(f"- {key}: {value}" for key, value in stats_.items())
    return f"""# Simulated Performer scale cohort (GTEx-sized benchmark)

THIS IS SIMULATED DATA for benchmarks: random reference sequence, coalescent
genotypes and planted cis effects; it says nothing about human biology.

Generated by `performer.data.simulate` in scale mode (msprime {msprime.__version__}).

## Settings
{settings_text}

## Model
- one locus of `window_bp` bp per gene, TSS at `locus_start + window_bp // 2`;
  loci are `window_bp + {SCALE_GAP_BP}` bp apart from {SCALE_OFFSET_BP} on, so
  TSS windows of `window_bp` do not overlap (a {SCALE_GAP_BP} bp variant-free gap)
- msprime coalescent with recombination {RECOMBINATION_RATE}/bp/generation,
  one population growing {ANCESTRAL_SIZE} -> {PRESENT_SIZE} over {GROWTH_GENERATIONS}
  generations, Jukes-Cantor mutations at the rate above on a discrete genome
- the reference base at each site is the ancestral allele; recurrent mutations
  give multi-allelic sites, written as split biallelic records at the same POS
- some biallelic sites are rewritten as indels with the same haplotypes
- chrX genes: males (samples.tsv) have haploid GT, females diploid
- missing calls (`./.` or `.`) at random, shared by the records of a site
- expression: h2 ~ Uniform(h2 range) per gene, 1-{SCALE_MAX_CAUSAL} causal biallelic
  SNVs with MAF >= {SCALE_MIN_CAUSAL_MAF}, betas N(0, 1) rescaled to variance h2 on
  the true (pre-missingness) dosages, Gaussian noise, rank inverse-normal transform

## Output
{stats_text}

Coordinates: genes.tsv and truth.tsv `pos`/`tss` are 0-based; VCF POS and
truth.tsv `vcf_pos` are 1-based; expression.bed.gz `end` is the 1-based TSS.
"""


def simulate_scale_cohort(
    out_dir: str | os.PathLike,
    n_people: int = 840,
    n_genes: int = 2000,
    window_bp: int = 49_152,
    seed: int = 0,
    genotype_format: str = "vcf",
    x_fraction: float = 0.05,
    indel_fraction: float = 0.01,
    missing_rate: float = 0.001,
    h2_range: tuple[float, float] = (0.0, 0.5),
    mutation_rate: float = SCALE_MUTATION_RATE,
) -> pathlib.Path:
    """Simulate a GTEx-sized benchmark cohort and write it to ``out_dir``.

    Layout: the first ``n_genes - n_x`` genes lie on ``chr1`` and the last ``n_x`` on ``chrX``
    (``n_x = round(x_fraction * n_genes)``, at least 1 when ``x_fraction > 0`` and
    ``n_genes >= 2``).  On each contig, gene ``j`` owns the locus
    ``[10_000 + j * (window_bp + 4_096), ... + window_bp)`` (0-based, half-open) and its TSS is
    ``locus_start + window_bp // 2``, so the ``window_bp`` windows around TSSs do not overlap.
    Each locus is simulated independently as in the demo (msprime, same demography and
    recombination rate) but with Jukes-Cantor mutations at ``mutation_rate``; the default
    3.0e-8 /bp/generation gives about 12 polymorphic sites per kb (~600 per 49,152 bp) in
    1,680 haplotypes.  See the module docstring for indels, multi-allelic sites, chrX and
    missing calls.  Expression per gene: ``h2 ~ Uniform(*h2_range)``, 1-3 causal biallelic SNVs
    (MAF >= 0.01) and the demo's genetic-value, noise and inverse-normal model.

    Args:
        out_dir: output directory, created if missing; files with the same names are overwritten.
        n_people: diploid people ``SIM0001``...; half of them (rounded down, a seeded choice)
            are male.
        n_genes: number of genes (``ENSGSIM00001.1``..., symbols ``SIMG00001``...).
        window_bp: locus length in bp (the benchmark's input window).
        seed: non-negative; all output is a deterministic function of all arguments.
        genotype_format: ``"vcf"`` (``genotypes.vcf.gz`` + ``.tbi``) or ``"bcf"``
            (``genotypes.bcf`` + ``.csi``).
        x_fraction: fraction of genes placed on ``chrX``.
        indel_fraction: fraction of eligible biallelic sites written as indels.
        missing_rate: probability that a person's call at a site is missing.
        h2_range: (low, high) of the uniform cis-heritability draw, 0 <= low <= high < 1.
        mutation_rate: per bp per generation.

    Files written into ``out_dir``: ``reference.fa`` / ``.fai`` (``chr1`` and, if it has
    genes, ``chrX``), the genotypes (VCFv4.2, phased GT, INFO ``AF``, ID
    ``<chrom>_<POS>_<REF>_<ALT>``), ``expression.bed.gz`` / ``.tbi`` (``#chr start end gene_id
    <people>``, ``end`` = 1-based TSS), ``genes.tsv`` (``gene_id gene_name chrom tss strand``,
    0-based TSS), ``samples.tsv`` (``sample_id sex``), ``heritability.tsv``, ``truth.tsv`` (the
    demo's columns) and ``README.md``.

    Returns:
        ``out_dir`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: on an out-of-range argument (``n_people < 10``, ``n_genes < 1``,
            ``window_bp`` outside [1_000, 1_000_000], negative seed, unknown format, fractions or
            rates outside [0, 0.5] (``x_fraction`` [0, 1)), bad ``h2_range``).
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    if n_people < 10:
        raise ValueError(f"n_people must be at least 10, got {n_people}")
    if n_genes < 1:
        raise ValueError(f"n_genes must be at least 1, got {n_genes}")
    if not 1_000 <= window_bp <= 1_000_000:
        raise ValueError(f"window_bp must be in [1000, 1000000], got {window_bp}")
    if genotype_format not in ("vcf", "bcf"):
        raise ValueError(f"genotype_format must be 'vcf' or 'bcf', got {genotype_format!r}")
    if not 0 <= x_fraction < 1:
        raise ValueError(f"x_fraction must be in [0, 1), got {x_fraction}")
    if not (0 <= indel_fraction <= 0.5 and 0 <= missing_rate <= 0.5):
        raise ValueError(f"indel_fraction and missing_rate must be in [0, 0.5], got {indel_fraction}, {missing_rate}")
    low, high = h2_range
    if not 0 <= low <= high < 1:
        raise ValueError(f"h2_range must satisfy 0 <= low <= high < 1, got {h2_range}")
    if mutation_rate <= 0:
        raise ValueError(f"mutation_rate must be positive, got {mutation_rate}")

    started = time.perf_counter()
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_x = min(max(round(x_fraction * n_genes), 1 if x_fraction > 0 else 0), n_genes - 1)
    gene_chroms = [CHROM] * (n_genes - n_x) + [X_CHROM] * n_x
    contigs = [CHROM] + ([X_CHROM] if n_x else [])
    spacing = window_bp + SCALE_GAP_BP
    slot = [k if k < n_genes - n_x else k - (n_genes - n_x) for k in range(n_genes)]
    locus_starts = [SCALE_OFFSET_BP + j * spacing for j in slot]
    tss = [start + window_bp // 2 for start in locus_starts]
    contig_length = {c: SCALE_OFFSET_BP + gene_chroms.count(c) * spacing + SCALE_OFFSET_BP for c in contigs}
    sample_names = [f"SIM{i + 1:04d}" for i in range(n_people)]
    gene_ids = [f"ENSGSIM{k + 1:05d}.1" for k in range(n_genes)]
    gene_names = [f"SIMG{k + 1:05d}" for k in range(n_genes)]
    male = np.zeros(n_people, dtype=bool)
    male[_rng(seed, _STREAM_SCALE, _SCALE_SEXES).permutation(n_people)[: n_people // 2]] = True
    strands = _rng(seed, _STREAM_SCALE, _SCALE_STRAND).choice(np.array(["+", "-"]), size=n_genes)
    reference = {
        c: _random_reference(_rng(seed, _STREAM_SCALE, _SCALE_REFERENCE, i), contig_length[c])
        for i, c in enumerate(contigs)
    }
    # Written alleles per contig: everyone diploid on chr1; males haploid (haplotype 2i) on chrX.
    ploidy = {CHROM: np.full(n_people, 2), X_CHROM: np.where(male, 1, 2)}
    layouts = {c: _genotype_layout(ploidy[c]) for c in contigs}
    called = {c: np.isin(np.arange(2 * n_people), layouts[c][2]) for c in contigs}  # written haplotypes
    logger.info(
        "Simulating scale cohort: seed=%d, %d people, %d genes (%d on chrX), %d bp windows -> %s",
        seed, n_people, n_genes, n_x, window_bp, out_dir,
    )  # fmt: skip

    vcf_name = "genotypes.vcf.gz" if genotype_format == "vcf" else ".genotypes.tmp.vcf.gz"
    vcf_path = out_dir / vcf_name
    expression = np.zeros((n_genes, n_people))
    h2 = np.zeros(n_genes)
    heritability_rows: list[list[object]] = []
    truth_rows: list[list[object]] = []
    n_snv_records = np.zeros(n_genes, dtype=np.int64)
    counts = dict(records=0, indels=0, multiallelic_sites=0, missing_calls=0)
    with BGZFile(str(vcf_path), BGZF_WRITE_MODE) as handle:
        header = ["##fileformat=VCFv4.2", "##source=performer.data.simulate (scale mode)", "##reference=reference.fa"]
        header += [f"##contig=<ID={c},length={contig_length[c]}>" for c in contigs]
        header += [
            '##INFO=<ID=AF,Number=A,Type=Float,Description="ALT allele frequency among non-missing calls">',
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">',
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(sample_names),
        ]
        handle.write(("\n".join(header) + "\n").encode())
        for k in range(n_genes):
            chrom = gene_chroms[k]
            positions, alleles, genotypes = _simulate_scale_locus(n_people, window_bp, mutation_rate, seed, k)
            rng = _rng(seed, _STREAM_SCALE, _SCALE_DECORATE, k)
            records = _scale_locus_records(
                rng, positions, alleles, genotypes, called[chrom], reference[chrom], locus_starts[k], indel_fraction
            )
            site_missing = rng.random((len(positions), n_people)) < missing_rate
            missing = site_missing[records["site"]]
            handle.write(_vcf_lines(chrom, records, missing, layouts[chrom]))

            is_snv = np.array([len(r) == 1 and len(a) == 1 for r, a in zip(records["ref"], records["alt"])], dtype=bool)
            per_site = np.bincount(records["site"], minlength=len(positions))[records["site"]]
            n_snv_records[k] = int(is_snv.sum())
            counts["records"] += len(is_snv)
            counts["indels"] += int((~is_snv).sum())
            counts["multiallelic_sites"] += int((np.bincount(records["site"]) > 1).sum())
            counts["missing_calls"] += int(site_missing[np.unique(records["site"])].sum())

            # Expression from the true (pre-missingness) genotypes of the written haplotypes.
            rng = _rng(seed, _STREAM_SCALE, _SCALE_PHENOTYPE, k)
            h2[k] = rng.uniform(low, high)
            true_hap = records["hap"] * called[chrom]
            alt_freq = true_hap.sum(axis=1) / called[chrom].sum()
            eligible = np.flatnonzero(
                is_snv & (per_site == 1) & (_minor_allele_frequency(alt_freq) >= SCALE_MIN_CAUSAL_MAF)
            )
            n_causal = min(int(rng.integers(1, SCALE_MAX_CAUSAL + 1)), len(eligible)) if h2[k] > 0 else 0
            if n_causal == 0:
                h2[k] = 0.0
            causal = np.sort(rng.choice(eligible, size=n_causal, replace=False)) if n_causal else eligible[:0]
            if n_causal:
                genetic, beta = _genetic_values(rng, true_hap[causal], h2[k])
            else:
                genetic, beta = np.zeros(n_people), np.zeros(0)
            noise = rng.normal(scale=np.sqrt(1.0 - h2[k]), size=n_people)
            expression[k] = inverse_normal_transform(genetic + noise)
            heritability_rows.append([gene_ids[k], gene_names[k], f"{h2[k]:.6g}", n_causal])
            for j, r in enumerate(causal):
                pos = int(records["pos"][r])
                truth_rows.append(
                    [gene_ids[k], gene_names[k], chrom, pos, pos + 1, records["ref"][r], records["alt"][r],
                     f"{beta[j]:.6g}", f"{alt_freq[r]:.6g}", pos - tss[k], f"{h2[k]:.6g}"]
                )  # fmt: skip
            if (k + 1) % 100 == 0 or k + 1 == n_genes:
                logger.info("%d/%d genes, %.0f s", k + 1, n_genes, time.perf_counter() - started)

    if genotype_format == "vcf":
        pysam.tabix_index(str(vcf_path), preset="vcf", force=True)
        genotype_files = ["genotypes.vcf.gz", "genotypes.vcf.gz.tbi"]
    else:
        bcf_path = out_dir / "genotypes.bcf"
        pysam.bcftools.view("--no-version", "-Ob", "-o", str(bcf_path), str(vcf_path), catch_stdout=False)
        pysam.bcftools.index("--force", str(bcf_path), catch_stdout=False)
        vcf_path.unlink()
        genotype_files = ["genotypes.bcf", "genotypes.bcf.csi"]

    _write_fasta(out_dir / "reference.fa", reference)
    _write_expression_bed(out_dir / "expression.bed.gz", sample_names, gene_ids, gene_chroms, tss, expression)
    _write_tsv(
        out_dir / "genes.tsv",
        ["gene_id", "gene_name", "chrom", "tss", "strand"],
        [[gene_ids[k], gene_names[k], gene_chroms[k], tss[k], strands[k]] for k in range(n_genes)],
    )
    _write_tsv(
        out_dir / "samples.tsv",
        ["sample_id", "sex"],
        [[name, "male" if m else "female"] for name, m in zip(sample_names, male)],
    )
    _write_tsv(out_dir / "heritability.tsv", ["gene_id", "gene_name", "h2", "n_causal"], heritability_rows)
    _write_tsv(out_dir / "truth.tsv", TRUTH_COLUMNS, truth_rows)
    settings = dict(
        seed=seed,
        people=f"{n_people} (SIM0001..SIM{n_people:04d}; {int(male.sum())} male)",
        genes=f"{n_genes} ({n_genes - n_x} on {CHROM}, {n_x} on {X_CHROM})",
        window_bp=window_bp,
        mutation_rate=mutation_rate,
        indel_fraction=indel_fraction,
        missing_rate=missing_rate,
        h2_range=f"{low}-{high}",
        genotypes=", ".join(genotype_files),
    )
    summary = dict(
        **{k.replace("_", " "): v for k, v in counts.items()},
        **{"mean SNV records per window": f"{n_snv_records.mean():.1f}"},
        **{"causal SNVs": len(truth_rows)},
    )
    (out_dir / "README.md").write_text(_scale_readme_text(settings, summary))
    logger.info("Scale cohort written to %s in %.0f s: %s", out_dir, time.perf_counter() - started, summary)
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m performer.data.simulate OUT_DIR``.

    Options: ``--seed N`` (default 0), ``--n-people N`` (default 300, or 840 with ``--scale``),
    ``--force`` to write into a non-empty ``OUT_DIR`` (existing files with the
    cohort's names are overwritten; other files are left alone).  ``--same-loci-as DIR``
    writes a second cohort of the loci of the demo cohort ``DIR`` with
    :func:`simulate_same_loci` (``--seed`` default: ``DIR``'s seed + 1000; ``--n-people``
    default: ``DIR``'s number of people).  ``--scale`` writes
    the GTEx-sized benchmark cohort of :func:`simulate_scale_cohort` instead of the
    demo; the options ``--n-genes``, ``--window-bp``, ``--genotype-format``,
    ``--x-fraction``, ``--indel-fraction``, ``--missing-rate`` and ``--h2-range``
    set its arguments and need ``--scale``.

    Returns:
        0 on success.  Exits with status 2 (argparse error) if ``OUT_DIR`` is
        non-empty and ``--force`` was not given, if a scale option is given
        without ``--scale``, if ``--same-loci-as`` is given with ``--scale`` or names a
        folder that is not a complete demo cohort, or if an argument is out of range.
    """
    parser = argparse.ArgumentParser(
        prog="python -m performer.data.simulate",
        description=(
            "Simulate the Performer demo cohort (synthetic genomes and expression), or with --scale a "
            "GTEx-sized benchmark cohort (840 people, 2,000 genes, ~600 SNVs per 49,152 bp window, "
            "indels, split multi-allelic sites, missing calls, haploid chrX in males), or with "
            "--same-loci-as DIR a second cohort of new people at the loci of the demo cohort DIR."
        ),
    )
    parser.add_argument("out_dir", type=pathlib.Path, metavar="OUT_DIR")
    parser.add_argument(
        "--seed", type=int, default=None, help="simulation seed (default 0; with --same-loci-as DIR: DIR's + 1000)"
    )
    parser.add_argument(
        "--n-people",
        type=int,
        default=None,
        help="number of individuals (default 300; 840 with --scale; DIR's with --same-loci-as DIR)",
    )
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUT_DIR")
    parser.add_argument(
        "--same-loci-as",
        type=pathlib.Path,
        metavar="DIR",
        help="write a second cohort of new people (new seed) at the loci of the demo cohort DIR: same "
        "reference, genes, variant sites, causal variants and betas; genotypes by Li & Stephens copying "
        "of DIR's phased haplotypes",
    )
    scale = parser.add_argument_group("scale cohort (with --scale)")
    scale.add_argument("--scale", action="store_true", help="write the GTEx-sized benchmark cohort")
    scale.add_argument("--n-genes", type=int, help="number of genes (default 2000)")
    scale.add_argument("--window-bp", type=int, help="simulated window per gene, TSS centred (default 49152)")
    scale.add_argument(
        "--genotype-format",
        choices=("vcf", "bcf"),
        help="genotypes.vcf.gz + .tbi (vcf, default) or genotypes.bcf + .csi (bcf)",
    )
    scale.add_argument("--x-fraction", type=float, help="fraction of genes on chrX (default 0.05)")
    scale.add_argument("--indel-fraction", type=float, help="fraction of biallelic sites made indels (default 0.01)")
    scale.add_argument("--missing-rate", type=float, help="fraction of calls written missing (default 0.001)")
    scale.add_argument("--h2-range", type=float, nargs=2, metavar=("LOW", "HIGH"), help="h2 range (default 0 0.5)")
    args = parser.parse_args(argv)

    scale_options = {
        "n_genes": args.n_genes,
        "window_bp": args.window_bp,
        "genotype_format": args.genotype_format,
        "x_fraction": args.x_fraction,
        "indel_fraction": args.indel_fraction,
        "missing_rate": args.missing_rate,
        "h2_range": tuple(args.h2_range) if args.h2_range else None,
    }
    scale_options = {key: value for key, value in scale_options.items() if value is not None}
    if scale_options and not args.scale:
        names = ", ".join("--" + key.replace("_", "-") for key in scale_options)
        parser.error(f"{names} need --scale")
    if args.scale and args.same_loci_as is not None:
        parser.error("--same-loci-as cannot be combined with --scale")
    out_dir: pathlib.Path = args.out_dir
    if out_dir.exists() and not out_dir.is_dir():
        parser.error(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not args.force:
        parser.error(f"{out_dir} is not empty; use --force to overwrite")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("msprime").setLevel(logging.WARNING)  # per-replicate chatter
    try:
        if args.same_loci_as is not None:
            simulate_same_loci(args.same_loci_as, out_dir, seed=args.seed, n_people=args.n_people)
        elif args.scale:
            n_people = 840 if args.n_people is None else args.n_people
            seed = 0 if args.seed is None else args.seed
            simulate_scale_cohort(out_dir, n_people=n_people, seed=seed, **scale_options)
        else:
            seed = 0 if args.seed is None else args.seed
            simulate_cohort(out_dir, seed=seed, n_people=300 if args.n_people is None else args.n_people)
    except ValueError as err:
        parser.error(str(err))
    if args.same_loci_as is not None:
        print(f"Wrote simulated second cohort of the loci of {args.same_loci_as} to {out_dir}")
    else:
        print(f"Wrote simulated {'scale' if args.scale else 'demo'} cohort to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
