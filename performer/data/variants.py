"""Biallelic SNVs and their ALT dosages from an indexed VCF/BCF, read with cyvcf2.

Coordinates: VCF ``POS`` is 1-based; everything returned here is 0-based (``pos = POS - 1``) and
regions are 0-based half-open ``[start, end)``.

Only biallelic SNVs are kept (ARCHITECTURE.md, "variants"). Every other record in a queried region
is skipped and counted by reason in :attr:`SNVs.skipped`:

===============  ==============================================================================
``indel``        REF and ALT of different lengths
``mnp``          multi-nucleotide substitution (REF and ALT of equal length > 1)
``multiallelic`` more than one ALT allele (split them with ``bcftools norm -m-`` to keep them)
``symbolic``     symbolic or breakend ALT (``<DEL>``, ``N[chr1:1[``, ``*``)
``monomorphic``  no ALT allele (``.``)
``non_acgt``     REF or ALT is not one of A, C, G, T
``filtered``     FILTER is not PASS/``.`` (only when ``pass_only=True``)
``ref_mismatch`` REF differs from the FASTA (only when ``strict=False``; otherwise an error)
===============  ==============================================================================
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cyvcf2
import numpy as np

from performer.data.reference import ReferenceGenome, encode_bases, resolve_contig

log = logging.getLogger(__name__)

MISSING_POLICIES = ("ref", "error")


@dataclass
class SNVs:
    """Biallelic SNVs of one region and the ALT dosage of each requested person.

    Attributes:
        chrom: contig as spelled in the VCF.
        pos: int64 ``(n_snvs,)``, 0-based positions, sorted as in the VCF.
        ref: uint8 ``(n_snvs,)``, REF base codes 0-3 (``A,C,G,T``).
        alt: uint8 ``(n_snvs,)``, ALT base codes 0-3.
        ids: VCF ``ID`` of each SNV (``chrom:POS:REF:ALT`` where the ID is ``.``).
        dosage: int8 ``(n_people, n_snvs)``, number of ALT alleles 0/1/2 in each person.
        samples: VCF sample names, one per dosage row.
        skipped: records skipped in the region, counted by reason (see the module docstring).
        missing_calls: genotype calls with a missing allele, counted as REF (``missing="ref"``).
    """

    chrom: str
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    ids: list[str]
    dosage: np.ndarray
    samples: list[str]
    skipped: Counter = field(default_factory=Counter)
    missing_calls: int = 0

    def __len__(self) -> int:
        return len(self.pos)

    def subset(self, keep: np.ndarray) -> SNVs:
        """The SNVs at indices ``keep`` (int array), with the same people, skip and missing counts."""
        return SNVs(
            chrom=self.chrom,
            pos=self.pos[keep],
            ref=self.ref[keep],
            alt=self.alt[keep],
            ids=[self.ids[i] for i in keep],
            dosage=self.dosage[:, keep],
            samples=self.samples,
            skipped=self.skipped,
            missing_calls=self.missing_calls,
        )

    def allele_frequency(self) -> np.ndarray:
        """ALT allele frequency in the dosage rows: float64 ``(n_snvs,)``."""
        return self.dosage.mean(axis=0, dtype=np.float64) / 2.0


def _skip_reason(record: cyvcf2.Variant, pass_only: bool) -> str | None:
    alts = record.ALT
    if not alts:
        return "monomorphic"
    if len(alts) > 1:
        return "multiallelic"
    ref, alt = record.REF, alts[0]
    if alt.startswith("<") or "[" in alt or "]" in alt or alt == "*":
        return "symbolic"
    if len(ref) != len(alt):
        return "indel"
    if len(ref) > 1:
        return "mnp"
    if ref.upper() not in "ACGT" or alt.upper() not in "ACGT":
        return "non_acgt"
    if pass_only and record.FILTER not in (None, "PASS", "."):
        return "filtered"
    return None


class VariantReader:
    """Region reads of biallelic SNVs and dosages from a bgzipped, indexed VCF or a BCF.

    Args:
        path: ``.vcf.gz`` with a ``.tbi``/``.csi`` index, or ``.bcf`` with a ``.csi`` index.
        reference: if given, every SNV's REF is checked against it.
        strict: REF mismatches raise (True) or are skipped and counted (False).
        pass_only: skip records whose FILTER is not PASS or ``.``.
        missing: ``"ref"`` counts a missing allele (``./.``, ``0|.``) as REF and counts it in
            :attr:`SNVs.missing_calls`; ``"error"`` raises on the first one.

    Raises:
        FileNotFoundError: the VCF or its index is missing (the message gives the ``tabix`` or
            ``bcftools index`` command that makes one).
        ValueError: ``missing`` is not one of ``"ref"``, ``"error"``.
    """

    def __init__(
        self,
        path: str | Path,
        reference: ReferenceGenome | None = None,
        strict: bool = True,
        pass_only: bool = True,
        missing: str = "ref",
    ):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"VCF not found: {self.path}")
        if not any(Path(f"{self.path}{ext}").exists() for ext in (".tbi", ".csi")):
            raise FileNotFoundError(
                f"VCF {self.path} has no index (.tbi or .csi) beside it; region reads need one: "
                f"run `tabix -p vcf {self.path}` (bgzipped VCF) or `bcftools index {self.path}`"
            )
        if missing not in MISSING_POLICIES:
            raise ValueError(f"missing={missing!r}: choose one of {MISSING_POLICIES}")
        self.reference = reference
        self.strict = strict
        self.pass_only = pass_only
        self.missing = missing
        self._vcf = cyvcf2.VCF(str(self.path), lazy=True)
        self.samples: list[str] = list(self._vcf.samples)
        self._sample_index = {s: i for i, s in enumerate(self.samples)}
        self.contigs: list[str] = list(self._vcf.seqnames)

    def sample_indices(self, samples: list[str] | None) -> np.ndarray:
        """Column indices (int64) of ``samples`` in the VCF; all samples when None.

        Raises:
            KeyError: a sample is not in the VCF (the message lists a few).
        """
        if samples is None:
            return np.arange(len(self.samples))
        absent = [s for s in samples if s not in self._sample_index]
        if absent:
            raise KeyError(f"{len(absent)} requested samples are not in VCF {self.path}, e.g. {absent[:5]}")
        return np.array([self._sample_index[s] for s in samples], dtype=np.int64)

    def fetch(self, chrom: str, start: int, end: int, samples: list[str] | None = None) -> SNVs:
        """Biallelic SNVs with 0-based position in ``[start, end)`` and their dosages.

        Args:
            chrom: contig name, any alias (``22`` or ``chr22``).
            start, end: 0-based half-open region, in bp.
            samples: VCF sample names for the dosage rows (default: all, in VCF order).

        Returns:
            :class:`SNVs` with ``dosage`` of shape ``(len(samples), n_snvs)``.

        Raises:
            ValueError: REF differs from the reference FASTA and ``strict=True`` (the message
                lists the first mismatching positions), or a missing call with ``missing="error"``.
        """
        columns = self.sample_indices(samples)
        sample_names = [self.samples[i] for i in columns]
        try:
            contig = resolve_contig(chrom, self.contigs, source=f"VCF {self.path}")
        except KeyError:
            log.debug("contig %s absent from %s: no SNVs in %s:%d-%d", chrom, self.path, chrom, start, end)
            return _empty(chrom, sample_names)

        skipped: Counter = Counter()
        pos, ref, alt, ids, rows = [], [], [], [], []
        missing_calls = 0
        for record in self._vcf(f"{contig}:{max(start, 0) + 1}-{end}"):
            p = record.POS - 1
            if not start <= p < end:  # records overlapping the region but starting outside it
                continue
            reason = _skip_reason(record, self.pass_only)
            if reason is not None:
                skipped[reason] += 1
                continue
            alleles = record.genotype.array()[columns, :2]
            is_missing = alleles == -1
            if is_missing.any():
                if self.missing == "error":
                    raise ValueError(
                        f"missing genotype call in {self.path} at {contig}:{record.POS}; "
                        "pass missing=ref to count missing alleles as REF"
                    )
                missing_calls += int(is_missing.any(axis=1).sum())
            pos.append(p)
            ref.append(record.REF.upper())
            alt.append(record.ALT[0].upper())
            ids.append(record.ID or f"{contig}:{record.POS}:{record.REF}:{record.ALT[0]}")
            rows.append((alleles == 1).sum(axis=1, dtype=np.int8))

        snvs = SNVs(
            chrom=contig,
            pos=np.array(pos, dtype=np.int64),
            ref=encode_bases("".join(ref)),
            alt=encode_bases("".join(alt)),
            ids=ids,
            dosage=np.stack(rows, axis=1) if rows else np.zeros((len(columns), 0), np.int8),
            samples=sample_names,
            skipped=skipped,
            missing_calls=missing_calls,
        )
        if self.reference is not None and len(snvs):
            snvs = self._check_ref(snvs, start, end)
        return snvs

    def _check_ref(self, snvs: SNVs, start: int, end: int) -> SNVs:
        fasta = self.reference.codes(snvs.chrom, start, end)[snvs.pos - start]
        bad = np.flatnonzero(fasta != snvs.ref)
        if len(bad) == 0:
            return snvs
        if self.strict:
            shown = ", ".join(
                f"{snvs.chrom}:{snvs.pos[i] + 1} VCF REF {'ACGTN'[snvs.ref[i]]} FASTA {'ACGTN'[fasta[i]]}"
                for i in bad[:5]
            )
            raise ValueError(
                f"REF alleles of {len(bad)} SNVs in {self.path} differ from reference FASTA "
                f"{self.reference.path} ({shown}{', ...' if len(bad) > 5 else ''}). Check that both "
                "use the same genome build, or set strict=false to skip mismatching SNVs"
            )
        snvs.skipped["ref_mismatch"] += len(bad)
        return snvs.subset(np.setdiff1d(np.arange(len(snvs)), bad))


def _empty(chrom: str, samples: list[str]) -> SNVs:
    return SNVs(
        chrom=chrom,
        pos=np.zeros(0, np.int64),
        ref=np.zeros(0, np.uint8),
        alt=np.zeros(0, np.uint8),
        ids=[],
        dosage=np.zeros((len(samples), 0), np.int8),
        samples=samples,
    )
