"""A user's variants (``task=score_variants variants=my.vcf.gz``): their alleles, checked against the reference,
and the reference window with each one applied alone.

Reading a VCF of any provenance (sites-only, unindexed, multi-allelic) into biallelic alleles with their kind
(SNV, indel, MNP), and building each allele's sequence by the rules the personal sequences follow
(:class:`~performer.data.haplotypes.HaplotypeWindow`: bcftools consensus's, the TSS kept at ``L // 2``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cyvcf2
import numpy as np
import pandas as pd

from performer.data.haplotypes import HaplotypeWindow, Records, variant_kind
from performer.data.reference import ReferenceGenome, encode_bases

log = logging.getLogger(__name__)


@dataclass
class UserVariants:
    """Biallelic alleles of a user VCF (multi-allelic records split), REF checked against the FASTA.

    Attributes:
        table: one row per allele: ``chrom`` (the FASTA's spelling), ``pos`` (0-based start of REF), ``vcf_pos``
            (1-based), ``ref``, ``alt`` (uppercase letters), ``variant_id`` (VCF ID, else ``chrom:POS:REF:ALT``),
            ``kind`` (``SNV``, ``indel``, ``MNP``).
        skipped: alleles skipped, by reason (``symbolic``, ``star``, ``no_alt``, ``not_acgt``, ``contig_not_in_fasta``,
            ``ref_mismatch``).
        n_records: records read.
    """

    table: pd.DataFrame
    skipped: dict
    n_records: int


def read_user_variants(path: str | Path, fasta: ReferenceGenome, strict_ref: bool = True) -> UserVariants:
    """Read every record of a VCF/BCF with cyvcf2 (sites-only is fine; no index needed).

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``strict_ref`` and a REF that differs from the FASTA (the message names the file, the record
            and the fixes); no usable allele at all.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"variants={path}: no such file")
    rows, skipped, n_records = [], {}, 0

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    contigs: dict[str, str | None] = {}
    for record in cyvcf2.VCF(str(path), lazy=True):
        n_records += 1
        chrom = record.CHROM
        if chrom not in contigs:
            try:
                contigs[chrom] = fasta.contig(chrom)
            except KeyError:
                contigs[chrom] = None
        ref = record.REF.upper()
        for alt in record.ALT or []:
            alt = alt.upper()
            if alt.startswith("<") or "[" in alt or "]" in alt:
                skip("symbolic")
            elif alt == "*":
                skip("star")
            elif alt in ("", "."):
                skip("no_alt")
            elif set(ref + alt) - set("ACGTN"):
                skip("not_acgt")
            elif contigs[chrom] is None:
                skip("contig_not_in_fasta")
            else:
                pos = record.POS - 1
                reference = fasta.fetch(chrom, pos, pos + len(ref))
                if reference != ref:
                    if strict_ref:
                        raise ValueError(
                            f"{path}: record {chrom}:{record.POS} REF {ref} differs from the FASTA {fasta.path} "
                            f"({reference}): the VCF is on another assembly or not normalised; fix it "
                            "(`bcftools norm -c ws -f ref.fa`) or set strict_ref=false to skip and count such records"
                        )
                    skip("ref_mismatch")
                    continue
                vid = record.ID or f"{chrom}:{record.POS}:{ref}:{alt}"
                rows.append((contigs[chrom], pos, record.POS, ref, alt, vid, variant_kind(len(ref), len(alt))))
        if not record.ALT:
            skip("no_alt")
    table = pd.DataFrame(rows, columns=["chrom", "pos", "vcf_pos", "ref", "alt", "variant_id", "kind"])
    if skipped:
        log.warning("%s: %d records; alleles skipped: %s", path, n_records, skipped)
    if table.empty:
        raise ValueError(f"{path}: no usable variant ({n_records} records; skipped: {skipped or 'none'})")
    return UserVariants(table, skipped, n_records)


def variant_sequences(
    window_codes: np.ndarray, chrom: str, start: int, end: int, fasta: ReferenceGenome, variants: pd.DataFrame
) -> np.ndarray:
    """uint8 ``(n, L)``: the reference window with each variant applied alone, TSS kept at ``L // 2``
    (:meth:`~performer.data.haplotypes.HaplotypeWindow.reference_with`, bcftools consensus's rules)."""
    margin = int(max(variants["ref"].str.len().max(), variants["alt"].str.len().max())) + 1
    ref_start = start - margin
    ref_codes = fasta.codes(chrom, ref_start, end + margin)
    codes = [encode_bases(s) for s in variants["ref"]]
    alts = [encode_bases(s) for s in variants["alt"]]
    n = len(variants)
    records = Records(
        chrom=chrom,
        pos=variants["pos"].to_numpy(np.int64),
        ref=codes,
        alt=alts,
        ids=list(variants["variant_id"]),
        alleles=np.zeros((0, 2, n), dtype=bool),
        samples=[],
        anchored=np.array([len(r) != len(a) and r[0] == a[0] for r, a in zip(codes, alts)], dtype=bool),
        unphased_people=np.zeros(0, dtype=bool),
    )
    window = HaplotypeWindow(chrom, start, end, ref_start, ref_codes, records)
    assert np.array_equal(window.codes, window_codes)
    return window.reference_with(np.eye(n, dtype=bool))
