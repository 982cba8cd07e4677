"""The GTEx-sized scale cohort for speed and memory benchmarks.

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
"""

from __future__ import annotations

import logging
import os
import pathlib
import time
from dataclasses import dataclass, field

import msprime
import numpy as np
import pysam
import pysam.bcftools
from pysam.libcbgzf import BGZFile

from performer.data.simulate.files import (
    CHROM,
    GENE_COLUMNS,
    HERITABILITY_COLUMNS,
    TRUTH_COLUMNS,
    write_expression_bed,
    write_fasta,
    write_tsv,
)
from performer.data.simulate.genetics import (
    ANCESTRAL_SIZE,
    ASCII_BASES,
    BASE_PROBS,
    GROWTH_GENERATIONS,
    PRESENT_SIZE,
    RECOMBINATION_RATE,
    genetic_values,
    inverse_normal_transform,
    minor_allele_frequency,
    msprime_seeds,
    random_stream,
    simulate_ancestry,
)

logger = logging.getLogger(__name__)

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


@dataclass
class _ScaleCohort:
    """A scale cohort's settings, layout and people, fixed before its genes are simulated."""

    seed: int
    n_people: int
    window_bp: int
    mutation_rate: float
    indel_fraction: float
    missing_rate: float
    h2_range: tuple[float, float]
    n_x: int  # genes on chrX, the last ones
    gene_ids: list[str]
    gene_names: list[str]
    gene_chroms: list[str]
    locus_starts: list[int]  # 0-based contig positions
    tss: list[int]  # 0-based contig positions
    strands: np.ndarray  # str (n_genes,), "+" or "-"
    contig_length: dict[str, int]  # in file order: chr1, then chrX if it has genes
    sample_names: list[str]
    male: np.ndarray  # bool (n_people,)
    reference: dict[str, np.ndarray]  # uint8 ASCII per contig; each site's ancestral base is written in per gene
    layouts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # _genotype_layout per contig
    called: dict[str, np.ndarray]  # bool (2 * n_people,) per contig: the haplotypes written there


@dataclass
class _ScaleTables:
    """What the genes of a scale cohort add to its tables and README, gathered gene by gene."""

    expression: np.ndarray  # float64 (n_genes, n_people)
    n_snv_records: np.ndarray  # int64 (n_genes,)
    heritability_rows: list[list[object]] = field(default_factory=list)
    truth_rows: list[list[object]] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict(records=0, indels=0, multiallelic_sites=0, missing_calls=0)
    )


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
    ancestry_seed, mutation_seed = msprime_seeds(seed, _STREAM_SCALE, _SCALE_LOCUS, gene_index)
    ts = simulate_ancestry(n_people, locus_bp, ancestry_seed)
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
    _check_scale_arguments(
        n_people, n_genes, window_bp, seed, genotype_format, x_fraction, indel_fraction, missing_rate, h2_range,
        mutation_rate,
    )  # fmt: skip
    started = time.perf_counter()
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cohort = _plan_scale_cohort(
        n_people, n_genes, window_bp, seed, x_fraction, indel_fraction, missing_rate, h2_range, mutation_rate
    )
    logger.info(
        "Simulating scale cohort: seed=%d, %d people, %d genes (%d on chrX), %d bp windows -> %s",
        seed, n_people, n_genes, cohort.n_x, window_bp, out_dir,
    )  # fmt: skip
    vcf_path = out_dir / ("genotypes.vcf.gz" if genotype_format == "vcf" else ".genotypes.tmp.vcf.gz")
    tables = _write_scale_genotypes(vcf_path, cohort, started)
    genotype_files = _index_genotypes(out_dir, vcf_path, genotype_format)
    _write_scale_tables(out_dir, cohort, tables)
    low, high = h2_range
    settings = dict(
        seed=seed,
        people=f"{n_people} (SIM0001..SIM{n_people:04d}; {int(cohort.male.sum())} male)",
        genes=f"{n_genes} ({n_genes - cohort.n_x} on {CHROM}, {cohort.n_x} on {X_CHROM})",
        window_bp=window_bp,
        mutation_rate=mutation_rate,
        indel_fraction=indel_fraction,
        missing_rate=missing_rate,
        h2_range=f"{low}-{high}",
        genotypes=", ".join(genotype_files),
    )
    summary = dict(
        **{k.replace("_", " "): v for k, v in tables.counts.items()},
        **{"mean SNV records per window": f"{tables.n_snv_records.mean():.1f}"},
        **{"causal SNVs": len(tables.truth_rows)},
    )
    (out_dir / "README.md").write_text(_scale_readme_text(settings, summary))
    logger.info("Scale cohort written to %s in %.0f s: %s", out_dir, time.perf_counter() - started, summary)
    return out_dir


def _check_scale_arguments(
    n_people: int,
    n_genes: int,
    window_bp: int,
    seed: int,
    genotype_format: str,
    x_fraction: float,
    indel_fraction: float,
    missing_rate: float,
    h2_range: tuple[float, float],
    mutation_rate: float,
) -> None:
    """Raise ValueError for the arguments :func:`simulate_scale_cohort` refuses."""
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


def _plan_scale_cohort(
    n_people: int,
    n_genes: int,
    window_bp: int,
    seed: int,
    x_fraction: float,
    indel_fraction: float,
    missing_rate: float,
    h2_range: tuple[float, float],
    mutation_rate: float,
) -> _ScaleCohort:
    """Lay out the genes on chr1 and chrX, draw the people's sexes, the strands and the random reference."""
    n_x = min(max(round(x_fraction * n_genes), 1 if x_fraction > 0 else 0), n_genes - 1)
    gene_chroms = [CHROM] * (n_genes - n_x) + [X_CHROM] * n_x
    contigs = [CHROM] + ([X_CHROM] if n_x else [])
    spacing = window_bp + SCALE_GAP_BP
    slot = [k if k < n_genes - n_x else k - (n_genes - n_x) for k in range(n_genes)]
    locus_starts = [SCALE_OFFSET_BP + j * spacing for j in slot]
    contig_length = {c: SCALE_OFFSET_BP + gene_chroms.count(c) * spacing + SCALE_OFFSET_BP for c in contigs}
    male = np.zeros(n_people, dtype=bool)
    male[random_stream(seed, _STREAM_SCALE, _SCALE_SEXES).permutation(n_people)[: n_people // 2]] = True
    strands = random_stream(seed, _STREAM_SCALE, _SCALE_STRAND).choice(np.array(["+", "-"]), size=n_genes)
    reference = {
        c: _random_reference(random_stream(seed, _STREAM_SCALE, _SCALE_REFERENCE, i), contig_length[c])
        for i, c in enumerate(contigs)
    }
    # Written alleles per contig: everyone diploid on chr1; males haploid (haplotype 2i) on chrX.
    ploidy = {CHROM: np.full(n_people, 2), X_CHROM: np.where(male, 1, 2)}
    layouts = {c: _genotype_layout(ploidy[c]) for c in contigs}
    called = {c: np.isin(np.arange(2 * n_people), layouts[c][2]) for c in contigs}  # written haplotypes
    return _ScaleCohort(
        seed=seed,
        n_people=n_people,
        window_bp=window_bp,
        mutation_rate=mutation_rate,
        indel_fraction=indel_fraction,
        missing_rate=missing_rate,
        h2_range=h2_range,
        n_x=n_x,
        gene_ids=[f"ENSGSIM{k + 1:05d}.1" for k in range(n_genes)],
        gene_names=[f"SIMG{k + 1:05d}" for k in range(n_genes)],
        gene_chroms=gene_chroms,
        locus_starts=locus_starts,
        tss=[start + window_bp // 2 for start in locus_starts],
        strands=strands,
        contig_length=contig_length,
        sample_names=[f"SIM{i + 1:04d}" for i in range(n_people)],
        male=male,
        reference=reference,
        layouts=layouts,
        called=called,
    )


def _scale_vcf_header(cohort: _ScaleCohort) -> bytes:
    """The VCF header lines, ``#CHROM`` line included."""
    header = ["##fileformat=VCFv4.2", "##source=performer.data.simulate (scale mode)", "##reference=reference.fa"]
    header += [f"##contig=<ID={c},length={length}>" for c, length in cohort.contig_length.items()]
    header += [
        '##INFO=<ID=AF,Number=A,Type=Float,Description="ALT allele frequency among non-missing calls">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(cohort.sample_names),
    ]
    return ("\n".join(header) + "\n").encode()


def _write_scale_genotypes(vcf_path: pathlib.Path, cohort: _ScaleCohort, started: float) -> _ScaleTables:
    """Simulate gene by gene, writing each locus's records to the bgzipped VCF and its rows to the tables."""
    n_genes = len(cohort.gene_ids)
    tables = _ScaleTables(np.zeros((n_genes, cohort.n_people)), np.zeros(n_genes, dtype=np.int64))
    with BGZFile(str(vcf_path), BGZF_WRITE_MODE) as handle:
        handle.write(_scale_vcf_header(cohort))
        for k in range(n_genes):
            records, biallelic_snv = _write_scale_locus(handle, cohort, k, tables)
            _scale_gene_expression(cohort, k, records, biallelic_snv, tables)
            if (k + 1) % 100 == 0 or k + 1 == n_genes:
                logger.info("%d/%d genes, %.0f s", k + 1, n_genes, time.perf_counter() - started)
    return tables


def _write_scale_locus(
    handle: BGZFile, cohort: _ScaleCohort, k: int, tables: _ScaleTables
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Simulate gene ``k``'s locus, write its records with missing calls and count them in ``tables``.

    Returns:
        The records (see :func:`_scale_locus_records`) and a bool (n_records,) marking the SNV records
        that are alone at their site (the causal candidates).
    """
    chrom = cohort.gene_chroms[k]
    positions, alleles, genotypes = _simulate_scale_locus(
        cohort.n_people, cohort.window_bp, cohort.mutation_rate, cohort.seed, k
    )
    rng = random_stream(cohort.seed, _STREAM_SCALE, _SCALE_DECORATE, k)
    records = _scale_locus_records(
        rng, positions, alleles, genotypes, cohort.called[chrom], cohort.reference[chrom], cohort.locus_starts[k],
        cohort.indel_fraction,
    )  # fmt: skip
    site_missing = rng.random((len(positions), cohort.n_people)) < cohort.missing_rate
    missing = site_missing[records["site"]]
    handle.write(_vcf_lines(chrom, records, missing, cohort.layouts[chrom]))

    is_snv = np.array([len(r) == 1 and len(a) == 1 for r, a in zip(records["ref"], records["alt"])], dtype=bool)
    per_site = np.bincount(records["site"], minlength=len(positions))[records["site"]]
    tables.n_snv_records[k] = int(is_snv.sum())
    tables.counts["records"] += len(is_snv)
    tables.counts["indels"] += int((~is_snv).sum())
    tables.counts["multiallelic_sites"] += int((np.bincount(records["site"]) > 1).sum())
    tables.counts["missing_calls"] += int(site_missing[np.unique(records["site"])].sum())
    return records, is_snv & (per_site == 1)


def _scale_gene_expression(
    cohort: _ScaleCohort, k: int, records: dict[str, np.ndarray], biallelic_snv: np.ndarray, tables: _ScaleTables
) -> None:
    """Gene ``k``'s h2, causal SNVs and expression from the true (pre-missingness) genotypes of the written haplotypes.

    ``biallelic_snv`` is bool (n_records,): the SNV records alone at their site, the causal candidates.
    """
    n_people, chrom = cohort.n_people, cohort.gene_chroms[k]
    rng = random_stream(cohort.seed, _STREAM_SCALE, _SCALE_PHENOTYPE, k)
    low, high = cohort.h2_range
    h2 = rng.uniform(low, high)
    true_hap = records["hap"] * cohort.called[chrom]
    alt_freq = true_hap.sum(axis=1) / cohort.called[chrom].sum()
    eligible = np.flatnonzero(biallelic_snv & (minor_allele_frequency(alt_freq) >= SCALE_MIN_CAUSAL_MAF))
    n_causal = min(int(rng.integers(1, SCALE_MAX_CAUSAL + 1)), len(eligible)) if h2 > 0 else 0
    if n_causal == 0:
        h2 = 0.0
    causal = np.sort(rng.choice(eligible, size=n_causal, replace=False)) if n_causal else eligible[:0]
    if n_causal:
        genetic, beta = genetic_values(rng, true_hap[causal], h2)
    else:
        genetic, beta = np.zeros(n_people), np.zeros(0)
    noise = rng.normal(scale=np.sqrt(1.0 - h2), size=n_people)
    tables.expression[k] = inverse_normal_transform(genetic + noise)
    gene_id, gene_name = cohort.gene_ids[k], cohort.gene_names[k]
    tables.heritability_rows.append([gene_id, gene_name, f"{h2:.6g}", n_causal])
    for j, r in enumerate(causal):
        pos = int(records["pos"][r])
        tables.truth_rows.append(
            [gene_id, gene_name, chrom, pos, pos + 1, records["ref"][r], records["alt"][r],
             f"{beta[j]:.6g}", f"{alt_freq[r]:.6g}", pos - cohort.tss[k], f"{h2:.6g}"]
        )  # fmt: skip


def _index_genotypes(out_dir: pathlib.Path, vcf_path: pathlib.Path, genotype_format: str) -> list[str]:
    """Index the written VCF, or convert it to an indexed BCF; returns the genotype files' names."""
    if genotype_format == "vcf":
        pysam.tabix_index(str(vcf_path), preset="vcf", force=True)
        return ["genotypes.vcf.gz", "genotypes.vcf.gz.tbi"]
    bcf_path = out_dir / "genotypes.bcf"
    pysam.bcftools.view("--no-version", "-Ob", "-o", str(bcf_path), str(vcf_path), catch_stdout=False)
    pysam.bcftools.index("--force", str(bcf_path), catch_stdout=False)
    vcf_path.unlink()
    return ["genotypes.bcf", "genotypes.bcf.csi"]


def _write_scale_tables(out_dir: pathlib.Path, cohort: _ScaleCohort, tables: _ScaleTables) -> None:
    """Write the reference (with the ancestral bases of every site), expression BED and the tables."""
    n_genes = len(cohort.gene_ids)
    write_fasta(out_dir / "reference.fa", cohort.reference)
    write_expression_bed(
        out_dir / "expression.bed.gz", cohort.sample_names, cohort.gene_ids, cohort.gene_chroms, cohort.tss,
        tables.expression,
    )  # fmt: skip
    write_tsv(
        out_dir / "genes.tsv",
        GENE_COLUMNS,
        [
            [cohort.gene_ids[k], cohort.gene_names[k], cohort.gene_chroms[k], cohort.tss[k], cohort.strands[k]]
            for k in range(n_genes)
        ],
    )
    write_tsv(
        out_dir / "samples.tsv",
        ["sample_id", "sex"],
        [[name, "male" if m else "female"] for name, m in zip(cohort.sample_names, cohort.male)],
    )
    write_tsv(out_dir / "heritability.tsv", HERITABILITY_COLUMNS, tables.heritability_rows)
    write_tsv(out_dir / "truth.tsv", TRUTH_COLUMNS, tables.truth_rows)
