"""Personal sequences: the dosage-averaged one-hot encoding of each person's genome in a window.

At a biallelic SNV where a person carries ``d`` ALT alleles (``d`` in {0, 1, 2}) the REF channel is
``1 - d/2`` and the ALT channel ``d/2``; every other position is the reference one-hot
(Drusinsky et al., Methods; docs/architecture.md). This equals the mean of the
one-hot encodings of the person's two haplotypes (``bcftools consensus -H 1`` and ``-H 2``) for
phased genotypes, and the mean of the paper's two consensus sequences (hom-ALT only, het + hom-ALT)
for unphased ones.

A window is stored as reference base codes (uint8, ``L`` bytes) plus the SNVs' offsets, alleles and
an int8 dosage matrix; float one-hot tensors are built only for the rows a batch asks for. Nothing
per person is ever written to disk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from performer.data.reference import ReferenceGenome, codes_to_one_hot
from performer.data.variants import SNVs, VariantReader

log = logging.getLogger(__name__)


@dataclass
class PersonalWindow:
    """One genomic window for a set of people: reference codes plus SNV dosage deltas.

    Attributes:
        chrom: contig as spelled in the reference FASTA.
        start, end: 0-based half-open window, in bp (may extend past the contig: ``N`` padding).
        codes: uint8 ``(L,)``, reference base codes 0-3 (``A,C,G,T``), 4 for ``N``.
        snvs: the window's biallelic SNVs; ``snvs.dosage`` rows are the window's people.
    """

    chrom: str
    start: int
    end: int
    codes: np.ndarray
    snvs: SNVs

    @property
    def offsets(self) -> np.ndarray:
        """int64 ``(n_snvs,)``: SNV positions relative to the window start."""
        return self.snvs.pos - self.start

    def one_hot(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Dosage-averaged one-hot of the selected people.

        Args:
            rows: indices into ``snvs.dosage`` rows (default: all people).

        Returns:
            float32 ``(len(rows), L, 4)``, channels ``A,C,G,T``.
        """
        dosage = self.snvs.dosage if rows is None else self.snvs.dosage[rows]
        out = np.empty((dosage.shape[0], len(self.codes), 4), dtype=np.float32)
        out[:] = codes_to_one_hot(self.codes)
        if len(self.snvs):
            half = dosage.astype(np.float32) * 0.5
            people = np.arange(dosage.shape[0])[:, None]
            # np.add.at accumulates where two records share a position (split multi-allelics).
            np.add.at(out, (people, self.offsets[None, :], self.snvs.ref[None, :]), -half)
            np.add.at(out, (people, self.offsets[None, :], self.snvs.alt[None, :]), half)
        return out


class PersonalSequences:
    """Personal one-hot sequences built on the fly from a reference FASTA and a VCF.

    Args:
        fasta_path: reference FASTA (indexed by pyfaidx if needed).
        vcf_path: bgzipped, indexed VCF (or BCF) with the people's genotypes.
        strict, pass_only, missing: passed to :class:`~performer.data.variants.VariantReader`.
        samples: decode only these VCF samples (faster on large VCFs); default every sample.

    Example:
        >>> seqs = PersonalSequences("reference.fa", "genotypes.vcf.gz")
        >>> x = seqs.one_hot("22", 20_100_000, 20_149_152, ["HG00096", "HG00097"])
        >>> x.shape, x.dtype
        ((2, 49152, 4), dtype('float32'))
    """

    def __init__(
        self,
        fasta_path: str | Path,
        vcf_path: str | Path,
        strict: bool = True,
        pass_only: bool = True,
        missing: str = "ref",
        samples: list[str] | None = None,
    ):
        self.reference = ReferenceGenome(fasta_path)
        self.variants = VariantReader(
            vcf_path, reference=self.reference, strict=strict, pass_only=pass_only, missing=missing, samples=samples
        )

    @property
    def samples(self) -> list[str]:
        """Sample names this reader decodes (``samples`` as given, else the VCF's in file order)."""
        return self.variants.samples

    def window(self, chrom: str, start: int, end: int, samples: list[str] | None = None) -> PersonalWindow:
        """Reference codes and SNV dosages of ``[start, end)`` (0-based half-open) for ``samples``.

        Raises:
            KeyError: unknown contig in the FASTA, or a sample absent from the VCF.
            ValueError: REF mismatch with the FASTA under ``strict=True``.
        """
        codes = self.reference.codes(chrom, start, end)
        snvs = self.variants.fetch(chrom, start, end, samples)
        return PersonalWindow(self.reference.contig(chrom), start, end, codes, snvs)

    def one_hot(self, chrom: str, start: int, end: int, samples: list[str] | None = None) -> np.ndarray:
        """Dosage-averaged one-hot sequences: float32 ``(len(samples), end - start, 4)``.

        Coordinates are 0-based half-open; channels ``A,C,G,T``; ``N`` and positions off the
        contig are all-zero rows. Raises as :meth:`window`.
        """
        return self.window(chrom, start, end, samples).one_hot()
