"""Tests for performer.data.variants and performer.data.personal on a hand-written VCF.

Coordinates: VCF ``POS`` is 1-based, everything in the code is 0-based half-open, so the SNV at
``POS 1`` has ``pos 0`` and lies in the window ``[0, 1)``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pysam
import pytest

from performer.data.personal import PersonalSequences
from performer.data.reference import ReferenceGenome, one_hot_encode
from performer.data.variants import VariantReader

# 40 bp contig: 0-based position p holds "ACGT"[p % 4].
SEQ = "ACGT" * 10
SAMPLES = ["s1", "s2", "s3"]

# (POS, ID, REF, ALT, FILTER, genotypes of s1, s2, s3)
RECORDS = [
    (1, "rs1", "A", "G", "PASS", "0|1", "1|1", "0|0"),  # first base of the contig
    (4, ".", "T", "C", "PASS", "1|1", "0/1", "0|0"),
    (6, ".", "C", "CA", "PASS", "0|1", "0|1", "0|1"),  # indel (insertion)
    (8, ".", "TA", "GG", "PASS", "0|1", "0|1", "0|1"),  # MNP
    (10, ".", "C", "A,G", "PASS", "1|2", "0|1", "0|2"),  # multi-allelic
    (12, ".", "T", "<DEL>", "PASS", "0|1", "0|1", "0|1"),  # symbolic
    (14, "rs14", "C", "T", "LowQual", "0|1", "1|1", "0|0"),  # non-PASS SNV
    (16, ".", "T", "A", ".", "./.", "0|.", "1|1"),  # missing calls; FILTER "." counts as PASS
    (20, ".", "T", "G", "PASS", "0|0", "1|0", "0/1"),
    (25, ".", "A", ".", "PASS", "0|0", "0|0", "0|0"),  # monomorphic
    (27, ".", "GTAC", "G", "PASS", "0|1", "0|1", "0|1"),  # deletion over 0-based 26..29
    (30, ".", "C", "N", "PASS", "0|1", "0|1", "0|1"),  # non-ACGT ALT
    (40, ".", "T", "A", "PASS", "1|0", "0|0", "1|1"),  # last base of the contig
]

# The biallelic PASS SNVs above: 0-based positions, REF/ALT codes, ALT dosages (s1, s2, s3).
SNV_POS = [0, 3, 15, 19, 39]
SNV_REF = [0, 3, 3, 3, 3]
SNV_ALT = [2, 1, 0, 2, 0]
SNV_DOSAGE = np.array(
    [
        [1, 2, 0, 0, 1],  # s1
        [2, 1, 0, 1, 0],  # s2
        [0, 0, 2, 1, 2],  # s3
    ],
    dtype=np.int8,
)
ALL_SKIPPED = Counter(indel=2, mnp=1, multiallelic=1, symbolic=1, filtered=1, monomorphic=1, non_acgt=1)

A, C, G, T = [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]


def write_fasta(path: Path, contig: str = "22", seq: str = SEQ) -> Path:
    path.write_text(f">{contig}\n{seq[:25]}\n{seq[25:]}\n")
    return path


def write_vcf(path: Path, records=RECORDS, contig: str = "22", samples=SAMPLES, index: bool = True) -> Path:
    """Write a VCF, bgzip it and (by default) tabix-index it; returns the ``.vcf.gz`` path."""
    header = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID={contig},length={len(SEQ)}>",
        '##FILTER=<ID=LowQual,Description="low quality">',
        '##ALT=<ID=DEL,Description="deletion">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]
    lines = [
        "\t".join([contig, str(pos), vid, ref, alt, ".", filt, ".", "GT", *gts])
        for pos, vid, ref, alt, filt, *gts in records
    ]
    path.write_text("\n".join(header + lines) + "\n")
    if index:
        return Path(pysam.tabix_index(str(path), preset="vcf", force=True))
    gz = Path(f"{path}.gz")
    pysam.tabix_compress(str(path), str(gz), force=True)
    return gz


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write_fasta(tmp_path / "ref.fa"), write_vcf(tmp_path / "calls.vcf")


@pytest.fixture()
def seqs(files) -> PersonalSequences:
    return PersonalSequences(*files)


def reference_one_hot(start: int, end: int) -> np.ndarray:
    """float32 one-hot of SEQ over [start, end), N (zeros) off the contig."""
    padded = "N" * max(-start, 0) + SEQ[max(start, 0) : end] + "N" * max(end - len(SEQ), 0)
    return one_hot_encode(padded).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# VariantReader


def test_fetch_keeps_biallelic_pass_snvs_and_counts_skips(files):
    fasta, vcf = files
    snvs = VariantReader(vcf, reference=ReferenceGenome(fasta)).fetch("22", 0, 40)
    assert snvs.chrom == "22"
    np.testing.assert_array_equal(snvs.pos, SNV_POS)
    assert snvs.pos.dtype == np.int64
    np.testing.assert_array_equal(snvs.ref, SNV_REF)
    np.testing.assert_array_equal(snvs.alt, SNV_ALT)
    assert snvs.dosage.dtype == np.int8
    np.testing.assert_array_equal(snvs.dosage, SNV_DOSAGE)
    assert snvs.samples == SAMPLES
    assert snvs.ids == ["rs1", "22:4:T:C", "22:16:T:A", "22:20:T:G", "22:40:T:A"]
    assert snvs.skipped == ALL_SKIPPED
    assert snvs.missing_calls == 2  # s1 ./. and s2 0|. at POS 16
    np.testing.assert_array_equal(snvs.allele_frequency(), [0.5, 0.5, 2 / 6, 2 / 6, 0.5])


def test_fetch_pass_only_false_keeps_non_pass_snv(files):
    _, vcf = files
    snvs = VariantReader(vcf, pass_only=False).fetch("22", 0, 40)
    np.testing.assert_array_equal(snvs.pos, [0, 3, 13, 15, 19, 39])
    np.testing.assert_array_equal(snvs.dosage[:, 2], [1, 2, 0])
    assert snvs.ids[2] == "rs14"
    assert snvs.skipped == ALL_SKIPPED - Counter(filtered=1)


def test_fetch_sample_order_respected(files):
    _, vcf = files
    snvs = VariantReader(vcf).fetch("22", 0, 40, samples=["s3", "s1"])
    assert snvs.samples == ["s3", "s1"]
    np.testing.assert_array_equal(snvs.dosage, SNV_DOSAGE[[2, 0]])


def test_fetch_unknown_sample_keyerror(files):
    _, vcf = files
    with pytest.raises(KeyError, match="s9"):
        VariantReader(vcf).fetch("22", 0, 40, samples=["s1", "s9"])


def test_fetch_region_is_zero_based_half_open(files):
    _, vcf = files
    reader = VariantReader(vcf)
    # [3, 19): the SNV at 0-based 3 (POS 4) is the first base, 19 (POS 20) is just outside.
    np.testing.assert_array_equal(reader.fetch("22", 3, 19).pos, [3, 15])
    # [4, 20): 3 is just outside, 19 is the last base.
    np.testing.assert_array_equal(reader.fetch("22", 4, 20).pos, [15, 19])
    np.testing.assert_array_equal(reader.fetch("22", 0, 1).pos, [0])
    assert len(reader.fetch("22", 1, 3)) == 0
    np.testing.assert_array_equal(reader.fetch("22", 39, 40).pos, [39])


def test_fetch_skips_records_starting_before_region(files):
    _, vcf = files
    # The deletion at POS 27 (0-based 26, REF spans 26..29) overlaps [27, 35) but starts outside it:
    # neither kept nor counted; only the non-ACGT record at 0-based 29 is counted.
    snvs = VariantReader(vcf).fetch("22", 27, 35)
    assert len(snvs) == 0
    assert snvs.dosage.shape == (3, 0)
    assert snvs.skipped == Counter(non_acgt=1)


def test_fetch_contig_alias_and_absent_contig(files):
    _, vcf = files
    reader = VariantReader(vcf)
    np.testing.assert_array_equal(reader.fetch("chr22", 0, 40).dosage, SNV_DOSAGE)
    empty = reader.fetch("7", 0, 40)
    assert len(empty) == 0 and empty.dosage.shape == (3, 0)


def test_missing_calls_error_policy(files):
    _, vcf = files
    reader = VariantReader(vcf, missing="error")
    assert len(reader.fetch("22", 0, 15)) == 2  # no missing call before POS 16
    with pytest.raises(ValueError, match=r"22:16") as info:
        reader.fetch("22", 0, 40)
    assert "missing=ref" in str(info.value)
    with pytest.raises(ValueError, match="missing="):
        VariantReader(vcf, missing="drop")


def test_ref_mismatch_raises_naming_position_and_fix(tmp_path: Path):
    fasta = write_fasta(tmp_path / "ref.fa")
    records = [
        (1, ".", "A", "G", "PASS", "0|1", "0|0", "0|0"),
        (3, ".", "A", "T", "PASS", "0|1", "1|1", "0|0"),  # FASTA has G at POS 3
        (8, ".", "T", "C", "PASS", "1|1", "0|0", "0|1"),
    ]
    vcf = write_vcf(tmp_path / "bad.vcf", records)
    with pytest.raises(ValueError) as info:
        VariantReader(vcf, reference=ReferenceGenome(fasta)).fetch("22", 0, 40)
    message = str(info.value)
    assert "22:3 VCF REF A FASTA G" in message
    assert str(vcf) in message and str(fasta) in message
    assert "genome build" in message and "strict=false" in message
    with pytest.raises(ValueError, match="22:3"):
        PersonalSequences(fasta, vcf).one_hot("22", 0, 40)

    snvs = VariantReader(vcf, reference=ReferenceGenome(fasta), strict=False).fetch("22", 0, 40)
    np.testing.assert_array_equal(snvs.pos, [0, 7])
    np.testing.assert_array_equal(snvs.dosage, [[1, 2], [0, 0], [0, 1]])
    assert snvs.ids == ["22:1:A:G", "22:8:T:C"]
    assert snvs.skipped == Counter(ref_mismatch=1)

    x = PersonalSequences(fasta, vcf, strict=False).one_hot("22", 0, 10, ["s2"])
    # s2 is hom-REF at both kept SNVs, and the skipped mismatching SNV (s2 hom-ALT) leaves no trace.
    np.testing.assert_array_equal(x, reference_one_hot(0, 10)[None])


def test_unindexed_vcf_mentions_tabix(tmp_path: Path):
    vcf = write_vcf(tmp_path / "plain.vcf", index=False)
    assert vcf.exists()
    with pytest.raises(FileNotFoundError, match="tabix"):
        VariantReader(vcf)
    with pytest.raises(FileNotFoundError, match="tabix"):
        PersonalSequences(write_fasta(tmp_path / "ref.fa"), vcf)


def test_missing_vcf_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="absent.vcf.gz"):
        VariantReader(tmp_path / "absent.vcf.gz")


# ---------------------------------------------------------------------------------------------
# PersonalSequences / PersonalWindow


def test_personal_one_hot_exact(seqs: PersonalSequences):
    x = seqs.one_hot("22", 0, 40)
    assert x.shape == (3, 40, 4) and x.dtype == np.float32

    ref = reference_one_hot(0, 40)
    expected = np.broadcast_to(ref, (3, 40, 4)).copy()
    # POS 1 A>G: s1 het, s2 hom-ALT, s3 hom-REF
    expected[0, 0] = [0.5, 0, 0.5, 0]
    expected[1, 0] = [0, 0, 1, 0]
    expected[2, 0] = A
    # POS 4 T>C: s1 hom-ALT, s2 het (unphased), s3 hom-REF
    expected[0, 3] = [0, 1, 0, 0]
    expected[1, 3] = [0, 0.5, 0, 0.5]
    expected[2, 3] = T
    # POS 16 T>A: s1 ./. and s2 0|. count as REF, s3 hom-ALT
    expected[0, 15] = T
    expected[1, 15] = T
    expected[2, 15] = [1, 0, 0, 0]
    # POS 20 T>G: s1 hom-REF, s2 het 1|0, s3 het 0/1
    expected[1, 19] = [0, 0, 0.5, 0.5]
    expected[2, 19] = [0, 0, 0.5, 0.5]
    # POS 40 T>A: s1 het, s2 hom-REF, s3 hom-ALT
    expected[0, 39] = [0.5, 0, 0, 0.5]
    expected[2, 39] = [1, 0, 0, 0]
    np.testing.assert_array_equal(x, expected)

    # Everything except the five SNV rows is the reference one-hot, for every person.
    other = np.setdiff1d(np.arange(40), SNV_POS)
    np.testing.assert_array_equal(x[:, other], np.broadcast_to(ref[other], (3, len(other), 4)))
    # Each row still sums to 1 (no N in SEQ): dosage averaging moves mass, never adds it.
    np.testing.assert_array_equal(x.sum(axis=-1), np.ones((3, 40), np.float32))


def test_personal_one_hot_sample_order(seqs: PersonalSequences):
    full = seqs.one_hot("22", 0, 40)
    np.testing.assert_array_equal(seqs.one_hot("22", 0, 40, ["s3", "s1"]), full[[2, 0]])
    np.testing.assert_array_equal(seqs.one_hot("22", 0, 40, ["s2"]), full[[1]])


def test_personal_window_rows_match_one_hot(seqs: PersonalSequences):
    window = seqs.window("22", 0, 40, SAMPLES)
    assert window.codes.dtype == np.uint8 and window.codes.shape == (40,)
    np.testing.assert_array_equal(window.offsets, SNV_POS)
    full = seqs.one_hot("22", 0, 40)
    np.testing.assert_array_equal(window.one_hot(), full)
    np.testing.assert_array_equal(window.one_hot(np.array([2, 0, 2])), full[[2, 0, 2]])


def test_personal_window_straddling_contig_start(seqs: PersonalSequences):
    x = seqs.one_hot("22", -5, 10, ["s1", "s2"])
    assert x.shape == (2, 15, 4)
    expected = np.zeros((2, 15, 4), np.float32)
    expected[:, 5:] = reference_one_hot(0, 10)
    expected[0, 5] = [0.5, 0, 0.5, 0]  # POS 1, offset 5 = 0 - (-5)
    expected[1, 5] = [0, 0, 1, 0]
    expected[0, 8] = [0, 1, 0, 0]  # POS 4
    expected[1, 8] = [0, 0.5, 0, 0.5]
    np.testing.assert_array_equal(x, expected)
    window = seqs.window("22", -5, 10, ["s1", "s2"])
    np.testing.assert_array_equal(window.offsets, [5, 8])


def test_personal_window_straddling_contig_end(seqs: PersonalSequences):
    x = seqs.one_hot("22", 36, 44, ["s3"])
    expected = np.zeros((1, 8, 4), np.float32)
    expected[0, :4] = reference_one_hot(36, 40)
    expected[0, 3] = [1, 0, 0, 0]  # POS 40 hom-ALT T>A
    np.testing.assert_array_equal(x, expected)


def test_personal_window_edges_half_open(seqs: PersonalSequences):
    # [3, 19): first base is the SNV at 3 (POS 4); the SNV at 19 (POS 20) is just outside.
    x = seqs.one_hot("22", 3, 19, ["s2"])
    expected = reference_one_hot(3, 19)[None].copy()
    expected[0, 0] = [0, 0.5, 0, 0.5]
    np.testing.assert_array_equal(x, expected)
    # [4, 20): the SNV at 3 is just outside, the one at 19 is the last base.
    x = seqs.one_hot("22", 4, 20, ["s2"])
    expected = reference_one_hot(4, 20)[None].copy()
    expected[0, 15] = [0, 0, 0.5, 0.5]
    np.testing.assert_array_equal(x, expected)
    # Windows that just miss the SNV on either side are the reference.
    np.testing.assert_array_equal(seqs.one_hot("22", 20, 39, ["s2"])[0], reference_one_hot(20, 39))
    np.testing.assert_array_equal(seqs.one_hot("22", 1, 3, ["s1"])[0], reference_one_hot(1, 3))


def test_personal_contig_aliases(tmp_path: Path):
    # FASTA spells the contig chr22, the VCF spells it 22; both spellings query the same sequence.
    fasta = write_fasta(tmp_path / "chr.fa", contig="chr22")
    vcf = write_vcf(tmp_path / "calls.vcf", contig="22")
    seqs = PersonalSequences(fasta, vcf)
    a = seqs.one_hot("22", 0, 40)
    b = seqs.one_hot("chr22", 0, 40)
    np.testing.assert_array_equal(a, b)
    assert seqs.window("22", 0, 40).chrom == "chr22"
    assert a[0, 0].tolist() == [0.5, 0, 0.5, 0]


def test_split_multiallelic_records_accumulate(tmp_path: Path):
    # `bcftools norm -m-` turns C>A,G with genotype 1|2 into C>A 1|0 and C>G 0|1 at one position.
    fasta = write_fasta(tmp_path / "ref.fa")
    records = [
        (10, ".", "C", "A", "PASS", "1|0", "1|1", "0|0"),
        (10, ".", "C", "G", "PASS", "0|1", "0|0", "0|0"),
    ]
    x = PersonalSequences(fasta, write_vcf(tmp_path / "split.vcf", records)).one_hot("22", 8, 11)
    expected = np.broadcast_to(reference_one_hot(8, 11), (3, 3, 4)).copy()
    expected[0, 1] = [0.5, 0, 0.5, 0]
    expected[1, 1] = [1, 0, 0, 0]
    np.testing.assert_array_equal(x, expected)
