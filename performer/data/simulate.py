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
    i.i.d. random bases (41% GC).  Gene ``k`` owns the locus
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

Files written (see :func:`simulate_cohort`)
    ``reference.fa`` (+ ``.fai``), ``genotypes.vcf.gz`` (+ ``.tbi``),
    ``expression.bed.gz`` (+ ``.tbi``), ``genes.tsv``, ``heritability.tsv``,
    ``truth.tsv`` and ``README.md``.

Command line::

    python -m performer.data.simulate OUT_DIR [--seed N] [--n-people N] [--force]
"""

from __future__ import annotations

import argparse
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
from scipy import stats

logger = logging.getLogger(__name__)

__all__ = [
    "DEMO_GENES",
    "simulate_cohort",
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

CACHE_VERSION = "demo-v1"

# spawn_key tags naming each random stream (see module docstring).
_STREAM_REFERENCE = 1
_STREAM_HERITABILITY = 2
_STREAM_STRAND = 3
_STREAM_LOCUS = 4
_STREAM_ALT_BASES = 5
_STREAM_PHENOTYPE = 6

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


def _simulate_locus_haplotypes(
    n_people: int, locus_bp: int, seed: int, gene_index: int, attempt: int
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one locus and return its biallelic SNVs.

    Returns:
        positions: int64 array, shape (n_sites,), 0-based positions within the
            locus, strictly increasing.
        haplotypes: int8 array, shape (n_sites, 2 * n_people), 1 where the
            haplotype carries the derived (ALT) allele.  Columns 2i and 2i + 1
            are person i.  Monomorphic sites are excluded.
    """
    ancestry_seed, mutation_seed = _msprime_seeds(seed, _STREAM_LOCUS, gene_index, attempt)
    ts = msprime.sim_ancestry(
        samples=n_people,
        ploidy=2,
        sequence_length=locus_bp,
        recombination_rate=RECOMBINATION_RATE,
        demography=_demography(),
        random_seed=ancestry_seed,
    )
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
    order, so gene 0 is the unique most heritable gene.
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


def _readme_text(seed: int, n_people: int, genes: Sequence[str], locus_bp: int, n_snvs: int) -> str:
    return f"""# Simulated Performer demo cohort

THIS IS SIMULATED DATA. The gene names are stand-ins borrowed from the Performer
paper; sequence, variants and expression have no relation to the real genes.

Generated by `performer.data.simulate` (msprime {msprime.__version__}).

- seed: {seed}
- people: {n_people} (samples SIM0001..SIM{n_people:04d}, phased diploid)
- genes: {len(genes)} ({", ".join(genes)})
- locus length: {locus_bp} bp per gene, TSS at the locus midpoint
- contig: {CHROM}, one locus every {LOCUS_SPACING_BP} bp starting at {LOCUS_OFFSET_BP}
- biallelic SNVs written: {n_snvs}
- demography: one population, {ANCESTRAL_SIZE} -> {PRESENT_SIZE} over the last
  {GROWTH_GENERATIONS} generations (exponential growth)
- recombination rate: {RECOMBINATION_RATE} per bp per generation
- mutation rate: {MUTATION_RATE} per bp per generation
- cis-heritability: 0 to {MAX_H2} per gene (see heritability.tsv), 1-3 causal
  SNVs with MAF >= {MIN_CAUSAL_MAF} (see truth.tsv; beta is per ALT allele on the
  standardised pre-transform scale)
- expression: rank-based inverse-normal transformed per gene (Blom offset)

Coordinates: genes.tsv and truth.tsv `pos`/`tss` are 0-based; VCF POS and
truth.tsv `vcf_pos` are 1-based; expression.bed.gz `end` is the 1-based TSS.
"""


def simulate_cohort(
    out_dir: str | os.PathLike,
    seed: int = 0,
    n_people: int = 300,
    genes: Sequence[str] = DEMO_GENES,
    locus_bp: int = 65_536,
) -> pathlib.Path:
    """Simulate a demo cohort and write it to ``out_dir``.

    Args:
        out_dir: output directory; created if missing.  Existing files with
            the same names are overwritten.
        seed: non-negative integer; all output is a deterministic function of
            (seed, n_people, genes, locus_bp).
        n_people: number of diploid individuals, named ``SIM0001``,
            ``SIM0002``, ... (zero-padded to at least 4 digits).
        genes: gene symbols, one locus each, laid out in this order along
            ``chr1``.  The first gene is the strongly heritable "learnable" one
            (h2 = 0.6, one causal SNV with MAF >= 0.25 within 200 bp of the TSS).
        locus_bp: length of each simulated locus in bp; gene ``k`` occupies
            ``[k * 100_000 + 10_000, k * 100_000 + 10_000 + locus_bp)``
            (0-based, half-open) and its TSS is ``locus_start + locus_bp // 2``.

    Files written into ``out_dir``:
        ``reference.fa`` / ``.fai``: one contig ``chr1`` of
        ``len(genes) * 100_000 + 20_000`` bp, uppercase ACGT, 60 bases a line.
        ``genotypes.vcf.gz`` / ``.tbi``: VCFv4.2, phased biallelic SNVs sorted
        by POS (1-based), ID ``sim_chr1_<POS>``, INFO ``AF``.
        ``expression.bed.gz`` / ``.tbi``: ``#chr start end gene_id SIM0001 ...``,
        one row per gene, ``start`` = 0-based TSS, ``end`` = start + 1, gene IDs
        ``ENSGSIM00001.1``, ...; inverse-normal transformed values.
        ``genes.tsv``: ``gene_id gene_name chrom tss strand`` (tss 0-based).
        ``heritability.tsv``: ``gene_id gene_name h2 n_causal``.
        ``truth.tsv``: ``gene_id gene_name chrom pos vcf_pos ref alt beta af
        distance_to_tss h2``, one row per causal SNV; ``pos`` 0-based,
        ``vcf_pos`` 1-based, ``beta`` per ALT allele on the standardised
        pre-transform scale, ``af`` the ALT frequency, ``distance_to_tss`` =
        ``pos - tss`` in bp.
        ``README.md``: description of the data and parameters.

    Returns:
        ``out_dir`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: if ``seed < 0``, ``n_people < 10``, ``genes`` is empty or
            has duplicates, or ``locus_bp`` is outside [10_000, 100_000].
        RuntimeError: if a heritable gene's locus has no SNV eligible as its
            first causal variant after ``MAX_LOCUS_ATTEMPTS`` re-simulations.
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
    if not 10_000 <= locus_bp <= LOCUS_SPACING_BP:
        raise ValueError(f"locus_bp must be in [10000, {LOCUS_SPACING_BP}], got {locus_bp}")

    started = time.perf_counter()
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_genes = len(genes)
    contig_length = n_genes * LOCUS_SPACING_BP + CONTIG_PADDING_BP
    sample_names = [f"SIM{i + 1:04d}" for i in range(n_people)]
    gene_ids = [f"ENSGSIM{k + 1:05d}.1" for k in range(n_genes)]
    locus_starts = [k * LOCUS_SPACING_BP + LOCUS_OFFSET_BP for k in range(n_genes)]
    tss = [start + locus_bp // 2 for start in locus_starts]
    logger.info(
        "Simulating demo cohort: seed=%d, %d people, %d genes, %d bp loci -> %s",
        seed,
        n_people,
        n_genes,
        locus_bp,
        out_dir,
    )

    # Reference sequence.
    base_codes = _rng(seed, _STREAM_REFERENCE).choice(4, size=contig_length, p=BASE_PROBS)
    _write_fasta(out_dir / "reference.fa", {CHROM: ASCII_BASES[base_codes]})

    h2 = _heritabilities(n_genes, seed)
    strands = _rng(seed, _STREAM_STRAND).choice(np.array(["+", "-"]), size=n_genes)

    all_positions: list[np.ndarray] = []
    all_haplotypes: list[np.ndarray] = []
    expression = np.zeros((n_genes, n_people))
    truth_rows: list[dict[str, object]] = []  # ref/alt/vcf_pos filled in below
    heritability_rows: list[list[object]] = []

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
    _write_vcf(out_dir / "genotypes.vcf.gz", contig_length, sample_names, positions, refs, alts, haplotypes)

    site_index = {int(p): i for i, p in enumerate(positions)}
    for row in truth_rows:
        i = site_index[row["pos"]]
        row.update(vcf_pos=row["pos"] + 1, ref=refs[i], alt=alts[i])

    _write_expression_bed(out_dir / "expression.bed.gz", sample_names, gene_ids, [CHROM] * n_genes, tss, expression)
    _write_tsv(
        out_dir / "genes.tsv",
        ["gene_id", "gene_name", "chrom", "tss", "strand"],
        [[gene_ids[k], genes[k], CHROM, tss[k], strands[k]] for k in range(n_genes)],
    )
    _write_tsv(out_dir / "heritability.tsv", ["gene_id", "gene_name", "h2", "n_causal"], heritability_rows)
    _write_tsv(
        out_dir / "truth.tsv",
        TRUTH_COLUMNS,
        [[row[column] for column in TRUTH_COLUMNS] for row in truth_rows],
    )
    (out_dir / "README.md").write_text(_readme_text(seed, n_people, genes, locus_bp, len(positions)))
    logger.info(
        "Wrote %d SNVs, %d genes, %d causal SNVs to %s in %.1f s",
        len(positions),
        n_genes,
        len(truth_rows),
        out_dir,
        time.perf_counter() - started,
    )
    return out_dir


def demo_cache_dir(seed: int = 0) -> pathlib.Path:
    """Default location of the cached demo cohort.

    ``$PERFORMER_CACHE`` if set, else ``$XDG_CACHE_HOME/performer``, else
    ``~/.cache/performer``; joined with ``demo-v1-seed{seed}``.  Nothing is
    created.

    Returns:
        The directory path (may not exist).
    """
    if os.environ.get("PERFORMER_CACHE"):
        root = pathlib.Path(os.environ["PERFORMER_CACHE"])
    elif os.environ.get("XDG_CACHE_HOME"):
        root = pathlib.Path(os.environ["XDG_CACHE_HOME"]) / "performer"
    else:
        root = pathlib.Path.home() / ".cache" / "performer"
    return root.expanduser() / f"{CACHE_VERSION}-seed{seed}"


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


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m performer.data.simulate OUT_DIR``.

    Options: ``--seed N`` (default 0), ``--n-people N`` (default 300),
    ``--force`` to write into a non-empty ``OUT_DIR`` (existing files with the
    cohort's names are overwritten; other files are left alone).

    Returns:
        0 on success.  Exits with status 2 (argparse error) if ``OUT_DIR`` is
        non-empty and ``--force`` was not given.
    """
    parser = argparse.ArgumentParser(
        prog="python -m performer.data.simulate",
        description="Simulate the Performer demo cohort (synthetic genomes and expression).",
    )
    parser.add_argument("out_dir", type=pathlib.Path, metavar="OUT_DIR")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")
    parser.add_argument("--n-people", type=int, default=300, help="number of individuals (default 300)")
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUT_DIR")
    args = parser.parse_args(argv)

    out_dir: pathlib.Path = args.out_dir
    if out_dir.exists() and not out_dir.is_dir():
        parser.error(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not args.force:
        parser.error(f"{out_dir} is not empty; use --force to overwrite")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("msprime").setLevel(logging.WARNING)  # per-replicate chatter
    try:
        simulate_cohort(out_dir, seed=args.seed, n_people=args.n_people)
    except ValueError as err:
        parser.error(str(err))
    print(f"Wrote simulated demo cohort to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
