"""One locus of the demo cohort: its SNVs, causal SNVs and short indels.

- SNVs: msprime ancestry of the shared population (:mod:`.genetics`) with a two-state mutation
  model at ``MUTATION_RATE``; sites hit more than once are dropped, so every site is a biallelic
  SNV (:func:`simulate_locus_haplotypes`).
- Causal SNVs of a heritable gene (:func:`first_causal_candidates`, :func:`choose_causal_sites`):
  the first within ``PROXIMAL_WINDOW_BP`` of the TSS (the learnable gene's within
  ``LEARNABLE_WINDOW_BP``, MAF >= ``LEARNABLE_MIN_MAF``), 0-2 more within ``DISTAL_WINDOW_BP``.
- Short indels: background indels in linkage equilibrium with the SNVs
  (:func:`background_indels`) and the indel gene's causal core-promoter indel that no SNV tags
  (:func:`indel_gene_causal`), both left-normalised with no other record within their REF span
  +-1 bp.

The functions take their random stream or msprime key from the caller; :mod:`.demo` names the
streams.
"""

from __future__ import annotations

import msprime
import numpy as np

from performer.data.simulate.genetics import (
    BASES,
    alt_dosages,
    minor_allele_frequency,
    msprime_seeds,
    simulate_ancestry,
)

MUTATION_RATE = 1.29e-8  # per bp per generation

MIN_CAUSAL_MAF = 0.05
PROXIMAL_WINDOW_BP = 1_500  # first causal SNV: |pos - tss| <= this
DISTAL_WINDOW_BP = 20_000  # further causal SNVs: |pos - tss| <= this
MAX_EXTRA_CAUSAL = 2  # so 1-3 causal SNVs per heritable gene
LEARNABLE_WINDOW_BP = 200  # first gene: |pos - tss| <= this (core promoter)
LEARNABLE_MIN_MAF = 0.25

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


def simulate_locus_haplotypes(
    n_people: int, locus_bp: int, seed: int, key: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one locus and return its biallelic SNVs (msprime seeds from stream ``key`` of ``seed``).

    Returns:
        positions: int64 array, shape (n_sites,), 0-based positions within the
            locus, strictly increasing.
        haplotypes: int8 array, shape (n_sites, 2 * n_people), 1 where the
            haplotype carries the derived (ALT) allele.  Columns 2i and 2i + 1
            are person i.  Monomorphic sites are excluded.
    """
    ancestry_seed, mutation_seed = msprime_seeds(seed, *key)
    ts = simulate_ancestry(n_people, locus_bp, ancestry_seed)
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


def first_causal_candidates(
    positions: np.ndarray, alt_freq: np.ndarray, tss_in_locus: int, learnable: bool
) -> np.ndarray:
    """Indices (int64) of SNVs eligible as a gene's first (TSS-proximal) causal SNV.

    Args:
        positions: int64 (n_sites,), 0-based within the locus.
        alt_freq: float64 (n_sites,), ALT frequencies in the cohort.
        tss_in_locus: the TSS, 0-based within the locus.
        learnable: the learnable gene's stricter window and MAF.
    """
    window, min_maf = (LEARNABLE_WINDOW_BP, LEARNABLE_MIN_MAF) if learnable else (PROXIMAL_WINDOW_BP, MIN_CAUSAL_MAF)
    ok = (np.abs(positions - tss_in_locus) <= window) & (minor_allele_frequency(alt_freq) >= min_maf)
    return np.flatnonzero(ok)


def choose_causal_sites(
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
            minor_allele_frequency(alt_freq) >= MIN_CAUSAL_MAF
        )
        eligible[causal[0]] = False
        candidates = np.flatnonzero(eligible)
        n_extra = min(n_extra, len(candidates))
        causal.extend(int(i) for i in rng.choice(candidates, size=n_extra, replace=False))
    return np.asarray(causal, dtype=np.int64)


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


def background_indels(
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

    Raises:
        RuntimeError: if the locus has no room left for an indel.
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


def _max_r2(snv_haplotypes: np.ndarray, haplotype: np.ndarray) -> float:
    """Largest squared Pearson correlation of ALT dosages across people between one variant and any SNV.

    SNVs whose dosage does not vary count as r^2 = 0.
    """
    if len(snv_haplotypes) == 0:
        return 0.0
    snvs = alt_dosages(snv_haplotypes)
    snvs -= snvs.mean(axis=1, keepdims=True)
    x = alt_dosages(haplotype)
    x -= x.mean()
    norms = np.sqrt((snvs**2).sum(axis=1) * (x**2).sum())
    r = np.divide(snvs @ x, norms, out=np.zeros(len(snvs)), where=norms > 0)
    return float((r**2).max())


def indel_gene_causal(
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

    Args:
        rng: the causal indel's random stream.
        snv_positions: int64 (n_snvs,), 0-based within the locus.
        snv_haplotypes: int8 (n_snvs, 2 * n_people), 1 = ALT.
        locus_codes: int array (locus_bp,), reference base codes of the locus.
        tss_in_locus: the TSS, 0-based within the locus.

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
