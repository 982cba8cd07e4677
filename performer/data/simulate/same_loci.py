"""Second cohort of the loci of a demo cohort: new people from the same population.

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
"""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
import time
from typing import NamedTuple

import numpy as np

from performer.data.simulate.files import (
    CHROM,
    COHORT_FILES,
    GENE_COLUMNS,
    HERITABILITY_COLUMNS,
    TRUTH_COLUMNS,
    read_cohort_vcf,
    read_tsv_rows,
    write_expression_bed,
    write_tsv,
    write_vcf,
)
from performer.data.simulate.genetics import (
    RECOMBINATION_RATE,
    alt_dosages,
    inverse_normal_transform,
    random_stream,
)

logger = logging.getLogger(__name__)

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


class _SourceTables(NamedTuple):
    """The source cohort's gene, heritability and truth tables, with their variants' VCF records."""

    genes: list[dict[str, str]]  # genes.tsv rows; row k is locus k
    heritability: dict[str, float]  # gene_id -> h2
    truth: list[dict[str, str]]  # truth.tsv rows
    record_index: dict[tuple[int, str, str], int]  # (0-based POS, REF, ALT) -> VCF record
    causal: dict[str, list[tuple[int, float]]]  # gene_id -> (VCF record, beta) of its causal variants


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
    """The seed on the ``- seed: N`` line of a demo cohort's README.md; ValueError if there is none."""
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
    _check_directories(source_dir, out_dir)
    source_seed = _source_seed(source_dir / "README.md")
    seed = source_seed + SAME_LOCI_SEED_OFFSET if seed is None else int(seed)
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")

    contig_length, source_samples, positions, refs, alts, source_haps = read_cohort_vcf(source_dir / "genotypes.vcf.gz")
    n_source = len(source_samples)
    n_people = n_source if n_people is None else int(n_people)
    sample_names = _sample_names(source_dir, source_samples, n_people)
    tables = _read_source_tables(source_dir, positions, refs, alts)

    out_dir.mkdir(parents=True, exist_ok=True)
    logger.info(
        "Second cohort of the loci of %s: seed=%d, %d people (source: seed %d, %d people) -> %s",
        source_dir, seed, n_people, source_seed, n_source, out_dir,
    )  # fmt: skip
    haplotypes = _copy_people(seed, tables.genes, positions, source_haps, n_people)
    shutil.copyfile(source_dir / "reference.fa", out_dir / "reference.fa")
    shutil.copyfile(source_dir / "reference.fa.fai", out_dir / "reference.fa.fai")
    write_vcf(out_dir / "genotypes.vcf.gz", contig_length, sample_names, positions, refs, alts, haplotypes)
    write_expression_bed(
        out_dir / "expression.bed.gz",
        sample_names,
        [row["gene_id"] for row in tables.genes],
        [row["chrom"] for row in tables.genes],
        [int(row["tss"]) for row in tables.genes],
        _expression(seed, tables, haplotypes, n_people),
    )
    shutil.copyfile(source_dir / "genes.tsv", out_dir / "genes.tsv")
    shutil.copyfile(source_dir / "heritability.tsv", out_dir / "heritability.tsv")
    alt_freq = haplotypes.mean(axis=1)
    truth = tables.truth
    for row in truth:
        row["af"] = f"{alt_freq[tables.record_index[(int(row['pos']), row['ref'], row['alt'])]]:.6g}"
    write_tsv(out_dir / "truth.tsv", TRUTH_COLUMNS, [[row[c] for c in TRUTH_COLUMNS] for row in truth])
    (out_dir / "README.md").write_text(
        _same_loci_readme_text(source_dir, source_seed, n_source, seed, n_people, len(tables.genes), len(positions))
    )
    logger.info("Wrote the second cohort to %s in %.1f s", out_dir, time.perf_counter() - started)
    return out_dir


def _check_directories(source_dir: pathlib.Path, out_dir: pathlib.Path) -> None:
    """Raise ValueError unless ``source_dir`` holds every file of a cohort and ``out_dir`` is another folder."""
    if not source_dir.is_dir():
        raise ValueError(f"{source_dir} is not a directory holding a demo cohort")
    missing = [name for name in COHORT_FILES if not (source_dir / name).is_file()]
    if missing:
        raise ValueError(f"{source_dir} is not a complete demo cohort: missing {', '.join(missing)}")
    if out_dir.exists() and out_dir.resolve() == source_dir.resolve():
        raise ValueError("out_dir must differ from source_dir")


def _sample_names(source_dir: pathlib.Path, source_samples: list[str], n_people: int) -> list[str]:
    """``OTH0001``, ``OTH0002``, ... (zero-padded to at least 4 digits) for ``n_people`` new people.

    Raises:
        ValueError: if ``n_people < 10`` or the source already has such a name.
    """
    if n_people < 10:
        raise ValueError(f"n_people must be at least 10, got {n_people}")
    width = max(4, len(str(n_people)))
    sample_names = [f"{SAME_LOCI_SAMPLE_PREFIX}{i + 1:0{width}d}" for i in range(n_people)]
    if set(sample_names) & set(source_samples):
        raise ValueError(f"{source_dir} already has samples named {SAME_LOCI_SAMPLE_PREFIX}...; use another source")
    return sample_names


def _read_source_tables(
    source_dir: pathlib.Path, positions: np.ndarray, refs: np.ndarray, alts: np.ndarray
) -> _SourceTables:
    """Read the source's genes, heritability and truth tables and find the truth variants among its VCF records.

    Raises:
        ValueError: if the tables do not describe the same ``chr1`` genes, or a truth.tsv variant is not a record.
    """
    genes = read_tsv_rows(source_dir / "genes.tsv", GENE_COLUMNS)
    heritability = {
        row["gene_id"]: float(row["h2"]) for row in read_tsv_rows(source_dir / "heritability.tsv", HERITABILITY_COLUMNS)
    }
    truth = read_tsv_rows(source_dir / "truth.tsv", TRUTH_COLUMNS)
    if not genes or any(row["chrom"] != CHROM for row in genes) or set(heritability) != {g["gene_id"] for g in genes}:
        raise ValueError(f"{source_dir}: genes.tsv and heritability.tsv do not describe the same {CHROM} genes")
    record_index = {(int(p), str(r), str(a)): i for i, (p, r, a) in enumerate(zip(positions, refs, alts))}
    causal: dict[str, list[tuple[int, float]]] = {row["gene_id"]: [] for row in genes}
    for row in truth:
        key = (int(row["pos"]), row["ref"], row["alt"])
        if key not in record_index or row["gene_id"] not in causal:
            raise ValueError(f"{source_dir}: truth.tsv variant {row['pos']} {row['ref']}>{row['alt']} not in the VCF")
        causal[row["gene_id"]].append((record_index[key], float(row["beta"])))
    return _SourceTables(genes, heritability, truth, record_index, causal)


def _copy_people(
    seed: int, genes: list[dict[str, str]], positions: np.ndarray, source_haps: np.ndarray, n_people: int
) -> np.ndarray:
    """The new people's haplotypes, copied locus by locus from the source's.

    Every record belongs to the locus of the gene with the nearest TSS (``genes`` order = locus index
    ``k``); locus ``k`` is copied with stream ``(_STREAM_SAME_LOCI, _SAME_LOCI_COPY, k)``.

    Args:
        positions: int64 (n_records,), 0-based, sorted.
        source_haps: int8 (n_records, 2 * n_source), 1 = ALT.

    Returns:
        int8 (n_records, 2 * n_people).
    """
    tss = np.array([int(row["tss"]) for row in genes], dtype=np.int64)
    order = np.argsort(tss, kind="stable")
    midpoints = (tss[order][:-1] + tss[order][1:]) / 2
    locus_of_record = order[np.searchsorted(midpoints, positions, side="right")]
    haplotypes = np.zeros((len(positions), 2 * n_people), dtype=np.int8)
    n_redrawn = 0
    for k in range(len(genes)):
        rows = np.flatnonzero(locus_of_record == k)
        if len(rows) == 0:
            continue
        rng = random_stream(seed, _STREAM_SAME_LOCI, _SAME_LOCI_COPY, k)
        locus_haps, redrawn = _copy_locus(rng, positions[rows], source_haps[rows], n_people, genes[k]["gene_name"])
        haplotypes[rows] = locus_haps
        n_redrawn += redrawn
    logger.info("Copied %d records for %d people (%d people redrawn)", len(positions), n_people, n_redrawn)
    return haplotypes


def _copy_locus(
    rng: np.random.Generator, positions: np.ndarray, source_haps: np.ndarray, n_people: int, gene_name: str
) -> tuple[np.ndarray, int]:
    """``n_people`` new people's haplotypes at one locus, none with a source person's genotypes.

    Args:
        positions: int64 (n_sites,), the locus's records, sorted.
        source_haps: int8 (n_sites, 2 * n_source), 1 = ALT.

    Returns:
        int8 haplotypes (n_sites, 2 * n_people) and the number of people redrawn.

    Raises:
        RuntimeError: if a person still copies a source person after ``MAX_PERSON_REDRAWS`` redraws.
    """
    switch_per_bp = RECOMBINATION_RATE * COPY_GENERATIONS
    locus_haps = _copy_haplotypes(rng, positions, source_haps, 2 * n_people, switch_per_bp)
    source_genotypes = {person.tobytes() for person in alt_dosages(source_haps).T}
    n_redrawn = 0
    for i in range(n_people):
        for _ in range(MAX_PERSON_REDRAWS):
            if alt_dosages(locus_haps[:, 2 * i : 2 * i + 2])[:, 0].tobytes() not in source_genotypes:
                break
            n_redrawn += 1
            locus_haps[:, 2 * i : 2 * i + 2] = _copy_haplotypes(rng, positions, source_haps, 2, switch_per_bp)
        else:
            raise RuntimeError(
                f"locus of {gene_name}: person {i + 1} copies a source person's genotypes "
                f"after {MAX_PERSON_REDRAWS} redraws"
            )
    return locus_haps, n_redrawn


def _expression(seed: int, tables: _SourceTables, haplotypes: np.ndarray, n_people: int) -> np.ndarray:
    """The source's betas on the new dosages plus N(0, 1 - h2) noise, then INT; float64 (n_genes, n_people)."""
    expression = np.zeros((len(tables.genes), n_people))
    for k, gene in enumerate(tables.genes):
        h2 = tables.heritability[gene["gene_id"]]
        causal = tables.causal[gene["gene_id"]]
        sites = [i for i, _ in causal]
        beta = np.array([b for _, b in causal], dtype=np.float64)
        genetic = alt_dosages(haplotypes[sites]).T @ beta if sites else np.zeros(n_people)
        noise = random_stream(seed, _STREAM_SAME_LOCI, _SAME_LOCI_PHENOTYPE, k).normal(
            scale=np.sqrt(max(1.0 - h2, 0.0)), size=n_people
        )
        expression[k] = inverse_normal_transform(genetic - genetic.mean() + noise)
    return expression


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
