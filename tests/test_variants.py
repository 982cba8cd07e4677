"""Tests for performer.data.variants and performer.data.personal on a hand-written VCF.

Coordinates: VCF ``POS`` is 1-based, everything in the code is 0-based half-open, so the SNV at
``POS 1`` has ``pos 0`` and lies in the window ``[0, 1)``.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pysam
import pysam.bcftools
import pytest

from performer.data.personal import PersonalSequences
from performer.data.reference import ReferenceGenome, one_hot_encode
from performer.data.variants import VariantReader, VCFError, header_sample_names

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


GT_HEADER = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">'


def write_vcf(
    path: Path,
    records=RECORDS,
    contig: str = "22",
    samples=SAMPLES,
    index: bool = True,
    extra_contigs: tuple[str, ...] = (),
    format_lines: tuple[str, ...] = (GT_HEADER,),
    format_key: str = "GT",
    length: int = len(SEQ),
) -> Path:
    """Write a VCF, bgzip it and (by default) tabix-index it; returns the ``.vcf.gz`` path.

    ``extra_contigs`` are declared in the header without records; ``format_lines`` and ``format_key``
    replace the GT FORMAT declaration and the FORMAT column of every record.
    """
    header = [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c},length={length}>" for c in (contig, *extra_contigs)),
        '##FILTER=<ID=LowQual,Description="low quality">',
        '##ALT=<ID=DEL,Description="deletion">',
        *format_lines,
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]
    lines = [
        "\t".join([contig, str(pos), vid, ref, alt, ".", filt, ".", format_key, *gts])
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
    # Empty regions and windows wholly before the contig start.
    for start, end in [(5, 5), (-10, -4), (-10, 0)]:
        snvs = reader.fetch("22", start, end)
        assert len(snvs) == 0 and snvs.dosage.shape == (3, 0) and snvs.skipped == Counter()
    np.testing.assert_array_equal(reader.fetch("22", -10, 1).pos, [0])


def test_fetch_skips_records_starting_before_region(files):
    _, vcf = files
    # The deletion at POS 27 (0-based 26, REF spans 26..29) overlaps [27, 35) but starts outside it:
    # neither kept nor counted; only the non-ACGT record at 0-based 29 is counted.
    snvs = VariantReader(vcf).fetch("22", 27, 35)
    assert len(snvs) == 0
    assert snvs.dosage.shape == (3, 0)
    assert snvs.skipped == Counter(non_acgt=1)


def test_fetch_contig_alias(files):
    _, vcf = files
    reader = VariantReader(vcf)
    np.testing.assert_array_equal(reader.fetch("chr22", 0, 40).dosage, SNV_DOSAGE)
    # A region of a contig with records but none in the region is empty, not an error.
    empty = VariantReader(vcf).fetch("22", 40, 100)
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


# ---------------------------------------------------------------------------------------------
# Haploid calls

# chrX-like contig "X" (same 40 bp sequence). m1, m2 are males (haploid calls), f1 a female.
HAPLOID_SAMPLES = ["m1", "f1", "m2"]
HAPLOID_RECORDS = [
    (2, ".", "C", "T", "PASS", "1", "0|1", "0"),  # mixed ploidy: haploid ALT, diploid het, haploid REF
    (3, ".", "G", "A", "PASS", "0", "1", "1"),  # all haploid: the last call is ALT
    (5, ".", "A", "C", "PASS", ".", "1/1", "1"),  # haploid missing, diploid hom-ALT, haploid ALT
    (8, ".", "T", "G", "PASS", "1", "./.", "0"),  # haploid ALT, diploid missing
]
HAPLOID_DOSAGE = np.array(
    [
        [2, 0, 0, 2],  # m1
        [1, 2, 2, 0],  # f1
        [0, 2, 2, 0],  # m2
    ],
    dtype=np.int8,
)


def test_haploid_calls_are_dosage_two_and_counted(tmp_path: Path):
    fasta = write_fasta(tmp_path / "ref.fa", contig="X")
    vcf = write_vcf(tmp_path / "x.vcf", HAPLOID_RECORDS, contig="X", samples=HAPLOID_SAMPLES)
    reader = VariantReader(vcf, reference=ReferenceGenome(fasta))
    for _ in range(5):  # the same answer every time (the old reader read an undefined column)
        snvs = reader.fetch("X", 0, 40)
        np.testing.assert_array_equal(snvs.pos, [1, 2, 4, 7])
        np.testing.assert_array_equal(snvs.dosage, HAPLOID_DOSAGE)
        assert snvs.haploid_calls == 9  # m1 and m2 at 4 records, f1 at the all-haploid one
        assert snvs.missing_calls == 2  # m1 "." at POS 5, f1 "./." at POS 8
    # Any subset and order: the haploid ALT of m2 (last column of the all-haploid record) stays 2.
    np.testing.assert_array_equal(reader.fetch("X", 0, 40, ["m2"]).dosage, HAPLOID_DOSAGE[[2]])
    np.testing.assert_array_equal(reader.fetch("X", 0, 40, ["m2", "m1"]).dosage, HAPLOID_DOSAGE[[2, 0]])
    assert reader.fetch("X", 0, 40, ["f1"]).haploid_calls == 1  # only requested rows count

    # Personal one-hot: a haploid ALT is the person's only base (ALT channel 1.0).
    x = PersonalSequences(fasta, vcf).one_hot("X", 0, 8)
    assert x[0, 1].tolist() == T  # m1 haploid ALT C>T
    assert x[1, 1].tolist() == [0, 0.5, 0, 0.5]  # f1 het
    assert x[2, 1].tolist() == C  # m2 haploid REF
    assert x[2, 2].tolist() == A  # m2 haploid ALT G>A, last sample of an all-haploid record
    assert x[0, 4].tolist() == A  # m1 haploid missing counts as REF
    assert x[0, 7].tolist() == G  # m1 haploid ALT T>G


def test_haploid_decoding_identical_in_fresh_processes(tmp_path: Path):
    vcf = write_vcf(tmp_path / "x.vcf", HAPLOID_RECORDS, contig="X", samples=HAPLOID_SAMPLES)
    code = (
        "import sys; from performer.data.variants import VariantReader; "
        "s = VariantReader(sys.argv[1]).fetch('X', 0, 40); print(s.dosage.tolist(), s.haploid_calls)"
    )
    outputs = [
        subprocess.run([sys.executable, "-c", code, str(vcf)], capture_output=True, text=True, check=True).stdout
        for _ in range(5)
    ]
    assert outputs == [f"{HAPLOID_DOSAGE.tolist()} 9\n"] * 5


def test_polyploid_call_and_out_of_range_allele_raise(tmp_path: Path):
    vcf = write_vcf(tmp_path / "tri.vcf", [(2, ".", "C", "T", "PASS", "0/1", "0/1/1", "0|0")])
    with pytest.raises(VCFError, match=r"sample s2 has a call with 3 alleles at 22:2 \(C>T\)"):
        VariantReader(vcf).fetch("22", 0, 40)
    vcf = write_vcf(tmp_path / "idx.vcf", [(2, ".", "C", "T", "PASS", "0/1", "0|0", "0|2")])
    with pytest.raises(VCFError, match=r"sample s3 has allele index 2 at 22:2 \(C>T\)"):
        VariantReader(vcf).fetch("22", 0, 40)


# ---------------------------------------------------------------------------------------------
# Contigs without records


def test_absent_contig_raises_naming_contig_file_and_contigs(tmp_path: Path):
    vcf = write_vcf(tmp_path / "chr22.vcf", extra_contigs=("X",))
    reader = VariantReader(vcf)
    with pytest.raises(VCFError) as info:
        reader.fetch("7", 0, 40)
    message = str(info.value)
    assert "contig '7' is not in VCF" in message and str(vcf) in message
    assert "contigs with records: 22)" in message
    assert "per-chromosome" in message and "bcftools annotate --rename-chrs" in message
    # Declared in the header (as in per-chromosome 1000 Genomes files) but without records.
    with pytest.raises(VCFError, match="contig 'chrX' is declared in the header of VCF .* but has no records"):
        reader.fetch("chrX", 0, 40)
    assert len(reader.fetch("22", 0, 40)) == 5  # the reader still works


# ---------------------------------------------------------------------------------------------
# Truncated, corrupt and misformatted files


def bgzf_blocks(path: Path) -> list[tuple[int, int]]:
    """(offset, size) of each BGZF block of a file, from the BSIZE field of the block headers."""
    data, blocks, offset = path.read_bytes(), [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset + 16 : offset + 18], "little") + 1
        blocks.append((offset, size))
        offset += size
    return blocks


def big_records(n: int = 6000) -> list[tuple]:
    """n SNVs at POS 1, 11, 21, ... with deterministic genotypes, spread over several BGZF blocks."""
    rng = np.random.default_rng(0)
    gts = ["0|0", "0|1", "1|0", "1|1"]
    return [(1 + 10 * i, f"rs{i}", "A", "G", "PASS", *rng.choice(gts, 3)) for i in range(n)]


def test_truncated_vcf_and_bcf_raise_at_open(tmp_path: Path):
    vcf = write_vcf(tmp_path / "big.vcf", big_records(), length=100_000)
    assert len(VariantReader(vcf).fetch("22", 0, 100_000)) == 6000
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(vcf.read_bytes()[: vcf.stat().st_size // 2])
    shutil.copy(f"{vcf}.tbi", f"{cut}.tbi")  # the index still points past the end
    with pytest.raises(VCFError, match=r"cut.vcf.gz is truncated: it lacks the BGZF end-of-file marker") as info:
        VariantReader(cut)
    assert "Download or write it again" in str(info.value) and "rebuild its index" in str(info.value)

    bcf = tmp_path / "big.bcf"
    pysam.bcftools.view("-Ob", "-o", str(bcf), str(vcf), catch_stdout=False)
    pysam.bcftools.index(str(bcf))
    assert len(VariantReader(bcf).fetch("22", 0, 100_000)) == 6000
    cut_bcf = tmp_path / "cut.bcf"
    cut_bcf.write_bytes(bcf.read_bytes()[:-100])
    shutil.copy(f"{bcf}.csi", f"{cut_bcf}.csi")
    with pytest.raises(VCFError, match=r"cut.bcf is truncated"):
        VariantReader(cut_bcf)


def test_corrupt_block_raises_during_fetch(tmp_path: Path, capfd):
    vcf = write_vcf(tmp_path / "big.vcf", big_records(), length=100_000)
    blocks = bgzf_blocks(vcf)
    assert len(blocks) >= 5  # header/data blocks and the empty EOF block
    data = bytearray(vcf.read_bytes())
    offset, size = blocks[2]
    for k in range(offset + 30, offset + size - 20):  # scramble the deflate data, keep the header
        data[k] ^= 0x5A
    bad = tmp_path / "bad.vcf.gz"
    bad.write_bytes(bytes(data))
    shutil.copy(f"{vcf}.tbi", f"{bad}.tbi")
    reader = VariantReader(bad)  # the end-of-file marker is intact
    assert len(reader.fetch("22", 0, 1000)) == 100  # the first block is readable
    with pytest.raises(VCFError) as info:
        reader.fetch("22", 0, 100_000)
    message = str(info.value)
    assert f"htslib could not read VCF {bad} in 22:1-100000" in message
    assert "[E::" in message and "corrupt" in message and "Download it again" in message
    assert "[E::" in capfd.readouterr().err  # htslib's own messages are passed on to stderr


def test_plain_gzip_and_uncompressed_vcf_messages(tmp_path: Path):
    plain = write_vcf(tmp_path / "calls.vcf", index=False)
    text = gzip.decompress(plain.read_bytes())
    gz = tmp_path / "gzip.vcf.gz"
    gz.write_bytes(gzip.compress(text))
    with pytest.raises(VCFError, match=r"gzip.vcf.gz is compressed with gzip, not bgzip.*bgzip.*tabix -p vcf"):
        VariantReader(gz)
    raw = tmp_path / "raw.vcf"
    raw.write_bytes(text)
    with pytest.raises(FileNotFoundError, match=r"compress it with `bgzip .*raw.vcf`, then run `tabix -p vcf"):
        VariantReader(raw)


def test_vcf_without_gt_field_or_samples(tmp_path: Path):
    dp = ('##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',)
    records = [(1, ".", "A", "G", "PASS", "3", "4", "5")]
    vcf = write_vcf(tmp_path / "dp.vcf", records, format_lines=dp, format_key="DP")
    with pytest.raises(VCFError, match=r"dp.vcf.gz has no GT FORMAT field in its header"):
        VariantReader(vcf)

    # GT declared, but a record carries only DP.
    vcf = write_vcf(tmp_path / "mixed.vcf", records, format_lines=(GT_HEADER, *dp), format_key="DP")
    with pytest.raises(VCFError, match=r"record 22:1 \(A>G\) of VCF .*mixed.vcf.gz has no GT"):
        VariantReader(vcf).fetch("22", 0, 40)

    sites = tmp_path / "sites.vcf"
    sites.write_text("##fileformat=VCFv4.2\n##contig=<ID=22>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    sites = Path(pysam.tabix_index(str(sites), preset="vcf"))
    with pytest.raises(VCFError, match=r"sites.vcf.gz has no sample columns"):
        VariantReader(sites)


def test_duplicate_sample_names_named(tmp_path: Path):
    vcf = write_vcf(tmp_path / "dup.vcf", RECORDS[:2], samples=["s1", "s2", "s1"])
    assert header_sample_names(vcf) == ["s1", "s2", "s1"]
    with pytest.raises(VCFError, match=r"dup.vcf.gz lists sample name\(s\) \['s1'\] more than once") as info:
        VariantReader(vcf)
    assert "bcftools reheader" in str(info.value)


def test_header_sample_names_of_bcf(files, tmp_path: Path):
    _, vcf = files
    bcf = tmp_path / "calls.bcf"
    pysam.bcftools.view("-Ob", "-o", str(bcf), str(vcf), catch_stdout=False)
    assert header_sample_names(bcf) == SAMPLES
    assert header_sample_names(vcf) == SAMPLES


# ---------------------------------------------------------------------------------------------
# Records sharing a position


def test_duplicate_snv_raises_naming_record(tmp_path: Path):
    records = [
        (10, "rsA", "C", "A", "PASS", "0|1", "0|0", "0|0"),
        (10, "rsB", "C", "A", "PASS", "0|1", "0|0", "0|0"),
    ]
    vcf = write_vcf(tmp_path / "dup.vcf", records)
    with pytest.raises(VCFError) as info:
        VariantReader(vcf).fetch("22", 0, 40)
    message = str(info.value)
    assert f"SNV C>A is listed 2 times at 22:10 of VCF {vcf} (records rsA, rsB)" in message
    assert "bcftools norm -d exact" in message
    # A duplicate that is filtered out (not PASS) leaves one SNV: no error under pass_only.
    records[1] = (10, "rsB", "C", "A", "LowQual", "0|1", "0|0", "0|0")
    vcf = write_vcf(tmp_path / "dup_filtered.vcf", records)
    snvs = VariantReader(vcf).fetch("22", 0, 40)
    assert snvs.ids == ["rsA"] and snvs.skipped == Counter(filtered=1)
    with pytest.raises(VCFError, match="listed 2 times"):
        VariantReader(vcf, pass_only=False).fetch("22", 0, 40)


def test_split_site_dosage_over_two_raises_naming_person(tmp_path: Path):
    records = [
        (10, ".", "C", "A", "PASS", "0|0", "1|1", "0|0"),
        (10, ".", "C", "G", "PASS", "0|1", "0|1", "0|0"),  # s2 would carry three ALT copies
    ]
    vcf = write_vcf(tmp_path / "split.vcf", records)
    with pytest.raises(VCFError, match=r"sample s2 carries 3 ALT copies at 22:10 .*C>A, C>G with dosages \[2, 1\]"):
        VariantReader(vcf).fetch("22", 0, 40)
    # A male's haploid ALT at both records: 2 + 2 copies of his single X.
    records = [
        (10, ".", "C", "A", "PASS", "1", "0|1", "0"),
        (10, ".", "C", "G", "PASS", "1", "1|0", "0"),
    ]
    vcf = write_vcf(tmp_path / "split_x.vcf", records, contig="X", samples=HAPLOID_SAMPLES)
    with pytest.raises(VCFError, match=r"sample m1 carries 4 ALT copies at X:10"):
        VariantReader(vcf).fetch("X", 0, 40)


def test_different_ref_at_one_position_raises(tmp_path: Path):
    records = [
        (10, ".", "C", "A", "PASS", "0|1", "0|0", "0|0"),
        (10, ".", "G", "T", "PASS", "0|0", "0|1", "0|0"),
    ]
    vcf = write_vcf(tmp_path / "two_refs.vcf", records)
    with pytest.raises(VCFError, match=r"different REF alleles \(C>A, G>T\) at 22:10"):
        VariantReader(vcf).fetch("22", 0, 40)
    # Against the FASTA (C at POS 10) with strict=False, the G>T record is a skipped REF mismatch.
    fasta = write_fasta(tmp_path / "ref.fa")
    snvs = VariantReader(vcf, reference=ReferenceGenome(fasta), strict=False).fetch("22", 0, 40)
    np.testing.assert_array_equal(snvs.dosage, [[1], [0], [0]])
    assert snvs.skipped == Counter(ref_mismatch=1)


def test_personal_one_hot_stays_in_unit_interval(tmp_path: Path):
    # Legal split multi-allelic sites, haploid and diploid, with every person at the 2-copy limit.
    records = [
        (2, ".", "C", "A", "PASS", "1", "1|0", "0"),
        (2, ".", "C", "G", "PASS", "0", "0|1", "1"),
        (2, ".", "C", "T", "PASS", "0", "0|0", "0"),
        (7, ".", "G", "A", "PASS", "0", "1/1", "."),
        (7, ".", "G", "T", "PASS", "0", "0/0", "0"),
    ]
    fasta = write_fasta(tmp_path / "ref.fa", contig="X")
    vcf = write_vcf(tmp_path / "split.vcf", records, contig="X", samples=HAPLOID_SAMPLES)
    x = PersonalSequences(fasta, vcf).one_hot("X", 0, 10)
    assert x.min() >= 0 and x.max() <= 1
    np.testing.assert_array_equal(x.sum(axis=-1), np.ones((3, 10), np.float32))
    assert x[:, 1].tolist() == [A, [0.5, 0, 0.5, 0], G]
    assert x[:, 6].tolist() == [G, A, G]


# ---------------------------------------------------------------------------------------------
# Sample subsets


def random_records(rng: np.random.Generator, n: int, n_samples: int) -> list[tuple]:
    """Biallelic SNVs with random diploid, haploid and missing calls (REF matches SEQ)."""
    calls = ["0|0", "0|1", "1|0", "1|1", "0/1", "./.", "0|.", "0", "1", "."]
    records = []
    for pos in sorted(rng.choice(np.arange(1, 41), size=n, replace=False)):
        ref = SEQ[pos - 1]
        alt = "ACGT"[("ACGT".index(ref) + 1) % 4]
        records.append((int(pos), ".", ref, alt, "PASS", *rng.choice(calls, n_samples)))
    return records


@pytest.mark.parametrize("fmt", ["vcf", "bcf"])
def test_subset_reader_matches_all_sample_reader(tmp_path: Path, fmt: str):
    rng = np.random.default_rng(7)
    names = [f"p{i}" for i in range(12)]
    vcf = write_vcf(tmp_path / "many.vcf", random_records(rng, 30, len(names)), samples=names)
    if fmt == "bcf":
        bcf = tmp_path / "many.bcf"
        pysam.bcftools.view("-Ob", "-o", str(bcf), str(vcf), catch_stdout=False)
        pysam.bcftools.index(str(bcf))
        vcf = bcf
    subset = [names[i] for i in rng.permutation(len(names))[:7]]  # shuffled, not in VCF order
    full = VariantReader(vcf).fetch("22", 0, 40, subset)
    reader = VariantReader(vcf, samples=subset)
    assert reader.samples == subset and reader.vcf_samples == names
    part = reader.fetch("22", 0, 40, subset)
    assert part.samples == subset
    np.testing.assert_array_equal(part.pos, full.pos)
    np.testing.assert_array_equal(part.dosage, full.dosage)
    assert (part.missing_calls, part.haploid_calls) == (full.missing_calls, full.haploid_calls)
    assert full.haploid_calls > 0 and full.missing_calls > 0
    # Default rows follow the constructor's order; any order of a sub-subset works.
    np.testing.assert_array_equal(reader.fetch("22", 0, 40).dosage, full.dosage)
    np.testing.assert_array_equal(reader.fetch("22", 0, 40, subset[::-2]).dosage, full.dosage[::-2])


def test_subset_reader_sample_errors(files):
    _, vcf = files
    reader = VariantReader(vcf, samples=["s3", "s1", "s3"])  # repeats are read once
    assert reader.samples == ["s3", "s1"]
    with pytest.raises(KeyError, match=r"\['s2'\] are in the VCF but not among the samples this reader"):
        reader.fetch("22", 0, 40, ["s1", "s2"])
    with pytest.raises(KeyError, match="s9"):
        VariantReader(vcf, samples=["s1", "s9"])
    with pytest.raises(ValueError, match=r"samples=\[\]"):
        VariantReader(vcf, samples=[])
