"""Simulated cohorts with known truth: reference, phased genotypes and expression.

The simulators write fully synthetic personal-genome expression cohorts in the file formats the
rest of :mod:`performer` reads for real data (a FASTA reference, a phased VCF, a GTEx/FastQTL-style
expression BED, gene tables), with planted causal variants, so fine-tuning can be checked against
a known ground truth.  Each is a deterministic function of an integer seed.

**The gene names are simulated stand-ins.**  ``DEMO_GENES`` borrows the symbols of genes
discussed in the Performer paper (BTNL3, ZFP57, PPIF, ERAP2, ...) only so that the demo reads
naturally; their sequence, position, genotypes and expression have *no relation whatsoever* to
the real genes.

Modules, each with its model in its docstring:

- :mod:`.demo`: the demo cohort (:func:`simulate_cohort`; 300 people, 20 genes and the indel
  gene ``INDEL1``, SNVs and short indels) and its cached copy (:func:`ensure_demo_cohort`,
  :func:`demo_cache_dir`); :mod:`.demo_loci`: one demo locus (msprime SNVs, causal SNVs, indels).
- :mod:`.same_loci`: a second cohort of new people at a demo cohort's loci
  (:func:`simulate_same_loci`), for cross-cohort evaluation, imputation and variant scoring.
- :mod:`.scale`: the GTEx-sized benchmark cohort (:func:`simulate_scale_cohort`).
- :mod:`.genetics`: what they share: seeded random streams, the msprime population, the
  expression model (:func:`inverse_normal_transform`).
- :mod:`.files`: the cohort files' writers and readers; :mod:`.cli`: the command line
  (:func:`main`, ``python -m performer.data.simulate``).
"""

from performer.data.simulate.cli import main
from performer.data.simulate.demo import (
    DEMO_GENES,
    DEMO_INDEL_GENE,
    demo_cache_dir,
    ensure_demo_cohort,
    simulate_cohort,
)
from performer.data.simulate.files import COHORT_FILES
from performer.data.simulate.genetics import inverse_normal_transform
from performer.data.simulate.same_loci import simulate_same_loci
from performer.data.simulate.scale import simulate_scale_cohort

__all__ = [
    "COHORT_FILES",
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
