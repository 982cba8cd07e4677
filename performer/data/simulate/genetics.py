"""The simulation model every simulated cohort shares.

- Seeded random streams: every random draw of a cohort comes from :func:`random_stream` (or
  :func:`msprime_seeds`) with ``entropy=seed`` and a ``spawn_key`` naming its purpose, so a
  cohort is a deterministic function of its seed and one stream never shifts another.  The first
  element of a key names its owner: 1-8 the demo cohort (:mod:`.demo`), 9 the second cohort of
  the same loci (:mod:`.same_loci`), 10 the scale cohort (:mod:`.scale`); a new stream takes a
  tag no module uses.
- The population: one population growing exponentially from ``ANCESTRAL_SIZE`` to
  ``PRESENT_SIZE`` over the last ``GROWTH_GENERATIONS`` generations, simulated with the
  coalescent with recombination in msprime (Baumdicker et al. 2022, *Genetics* 220:iyab229;
  Kelleher et al. 2016, *PLoS Comput Biol* 12:e1004842).  Each cohort adds its own mutations.
- The reference alphabet (i.i.d. bases, 41% GC).
- The expression model: a genetic value from causal ALT dosages scaled to variance ``h2``, plus
  noise, rank-based inverse-normal transformed per gene (:func:`inverse_normal_transform`).
"""

from __future__ import annotations

import msprime
import numpy as np
from scipy import stats

BASES = np.array(list("ACGT"))
ASCII_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
BASE_PROBS = (0.295, 0.205, 0.205, 0.295)  # 41% GC

RECOMBINATION_RATE = 1e-8  # per bp per generation
PRESENT_SIZE = 50_000
ANCESTRAL_SIZE = 10_000
GROWTH_GENERATIONS = 200


def random_stream(seed: int, *key: int) -> np.random.Generator:
    """Return the numpy Generator for stream ``key`` of ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def msprime_seeds(seed: int, *key: int) -> tuple[int, int]:
    """Return two seeds in [1, 2**31 - 1] (ancestry, mutations) for msprime."""
    state = np.random.SeedSequence(entropy=seed, spawn_key=key).generate_state(2)
    return tuple(int(s) % (2**31 - 2) + 1 for s in state)


def demography() -> msprime.Demography:
    """One population growing exponentially from ANCESTRAL_SIZE to PRESENT_SIZE.

    msprime time runs backwards, so a positive ``growth_rate`` means the
    population shrinks going into the past, reaching ``ANCESTRAL_SIZE`` at
    ``GROWTH_GENERATIONS`` generations ago, where it becomes constant.
    """
    growth_rate = np.log(PRESENT_SIZE / ANCESTRAL_SIZE) / GROWTH_GENERATIONS
    model = msprime.Demography()
    model.add_population(name="pop0", initial_size=PRESENT_SIZE, growth_rate=growth_rate)
    model.add_population_parameters_change(
        time=GROWTH_GENERATIONS, initial_size=ANCESTRAL_SIZE, growth_rate=0, population="pop0"
    )
    return model


def simulate_ancestry(n_people: int, locus_bp: int, seed: int):
    """Coalescent with recombination for ``n_people`` diploid people over ``locus_bp`` (msprime tree sequence)."""
    return msprime.sim_ancestry(
        samples=n_people,
        ploidy=2,
        sequence_length=locus_bp,
        recombination_rate=RECOMBINATION_RATE,
        demography=demography(),
        random_seed=seed,
    )


def minor_allele_frequency(alt_freq: np.ndarray) -> np.ndarray:
    """Minor-allele frequency, same shape as the ALT frequencies ``alt_freq``."""
    return np.minimum(alt_freq, 1.0 - alt_freq)


def alt_dosages(haplotypes: np.ndarray) -> np.ndarray:
    """ALT dosages (..., n_people) from haplotypes (..., 2 * n_people); columns 2i, 2i + 1 are person i."""
    return (haplotypes[..., 0::2] + haplotypes[..., 1::2]).astype(np.float64)


def genetic_values(rng: np.random.Generator, causal_haplotypes: np.ndarray, h2: float) -> tuple[np.ndarray, np.ndarray]:
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
