"""From files to tensors: reference, variants, personal sequences, cohort, splits, sampler, DataModule."""

from performer.data.personal import PersonalSequences, PersonalWindow
from performer.data.reference import ReferenceGenome
from performer.data.variants import SNVs, VariantReader

__all__ = ["PersonalSequences", "PersonalWindow", "ReferenceGenome", "SNVs", "VariantReader"]
