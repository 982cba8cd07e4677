"""Tests for performer.data.reference: one-hot encoding, N padding, contig aliases."""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path

import numpy as np
import pysam
import pytest

from performer.data.reference import (
    BGZF_EOF,
    N_CODE,
    ReferenceGenome,
    codes_to_one_hot,
    compression,
    contig_aliases,
    encode_bases,
    has_bgzf_eof,
    one_hot_encode,
    resolve_contig,
)

A, C, G, T, Z = [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]


def _write_fasta(path: Path, contigs: dict[str, str], width: int = 7) -> Path:
    """Write a multi-line FASTA (line width ``width`` so pyfaidx has to join lines)."""
    with open(path, "w") as handle:
        for name, seq in contigs.items():
            handle.write(f">{name}\n")
            for i in range(0, len(seq), width):
                handle.write(seq[i : i + width] + "\n")
    return path


# A 20 bp contig with a soft-masked stretch and an N; 0-based index -> base:
# 0 A, 1 C, 2 G, 3 T, 4 a, 5 c, 6 g, 7 t, 8 N, 9 A, 10 C, 11 G, 12 T, 13 T, 14 G, 15 C, 16 A, 17 R, 18 C, 19 G
SEQ = "ACGTacgtNACGTTGCARCG"


@pytest.fixture()
def fasta(tmp_path: Path) -> Path:
    return _write_fasta(tmp_path / "ref.fa", {"chr22": SEQ, "chrX": "GGGG"})


def test_one_hot_exact_channels_n_iupac_lowercase():
    x = one_hot_encode("ACGTNacgtRYKM")
    expected = np.array([A, C, G, T, Z, A, C, G, T, Z, Z, Z, Z], dtype=np.uint8)
    assert x.dtype == np.uint8
    assert x.shape == (13, 4)
    np.testing.assert_array_equal(x, expected)


def test_encode_bases_codes_and_every_other_symbol_is_n():
    np.testing.assert_array_equal(encode_bases("ACGTNacgtn"), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    others = "".join(chr(c) for c in range(32, 127) if chr(c) not in "ACGTacgt")
    codes = encode_bases(others)
    assert codes.shape == (len(others),)
    assert (codes == N_CODE).all()
    assert codes_to_one_hot(codes).sum() == 0


def test_codes_to_one_hot_batched_shape():
    codes = np.array([[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]], dtype=np.uint8)
    x = codes_to_one_hot(codes)
    assert x.shape == (2, 5, 4)
    np.testing.assert_array_equal(x[0], [A, C, G, T, Z])
    np.testing.assert_array_equal(x[1], [Z, T, G, C, A])


def test_fetch_and_one_hot_inside_contig(fasta: Path):
    ref = ReferenceGenome(fasta)
    assert ref.contigs == ["chr22", "chrX"]
    assert ref.contig_length("chr22") == 20
    assert ref.fetch("chr22", 0, 20) == SEQ.upper()
    assert ref.fetch("chr22", 3, 9) == "TACGTN"
    np.testing.assert_array_equal(ref.codes("chr22", 3, 9), [3, 0, 1, 2, 3, 4])
    x = ref.one_hot("chr22", 3, 9)
    assert x.dtype == np.uint8
    np.testing.assert_array_equal(x, [T, A, C, G, T, Z])
    np.testing.assert_array_equal(ref.one_hot("chr22", 16, 20), [A, Z, C, G])  # R -> zeros
    assert ref.fetch("chr22", 5, 5) == ""
    assert ref.one_hot("chr22", 5, 5).shape == (0, 4)


def test_n_padding_past_contig_start(fasta: Path):
    ref = ReferenceGenome(fasta)
    assert ref.fetch("chr22", -3, 4) == "NNNACGT"
    x = ref.one_hot("chr22", -3, 4)
    assert x.shape == (7, 4)
    np.testing.assert_array_equal(x[:3], np.zeros((3, 4)))
    np.testing.assert_array_equal(x[3:], [A, C, G, T])


def test_n_padding_past_contig_end(fasta: Path):
    ref = ReferenceGenome(fasta)
    assert ref.fetch("chr22", 17, 24) == "RCGNNNN"
    x = ref.one_hot("chr22", 16, 25)
    assert x.shape == (9, 4)
    np.testing.assert_array_equal(x[:4], [A, Z, C, G])
    np.testing.assert_array_equal(x[4:], np.zeros((5, 4)))


def test_n_padding_past_both_ends_keeps_length_and_centre(fasta: Path):
    ref = ReferenceGenome(fasta)
    x = ref.one_hot("chr22", -5, 26)
    assert x.shape == (31, 4)
    np.testing.assert_array_equal(x[:5], np.zeros((5, 4)))
    np.testing.assert_array_equal(x[5:25], one_hot_encode(SEQ))
    np.testing.assert_array_equal(x[25:], np.zeros((6, 4)))
    assert ref.fetch("chr22", -5, 26) == "N" * 5 + SEQ.upper() + "N" * 6


def test_window_wholly_off_the_contig_is_all_n(fasta: Path):
    ref = ReferenceGenome(fasta)
    assert ref.fetch("chr22", -10, -4) == "N" * 6
    assert ref.fetch("chr22", 25, 30) == "N" * 5
    assert ref.one_hot("chr22", 30, 35).sum() == 0


def test_fetch_rejects_end_before_start(fasta: Path):
    with pytest.raises(ValueError, match="before its start"):
        ReferenceGenome(fasta).fetch("chr22", 5, 4)


def test_contig_alias_chr_fasta_queried_bare(fasta: Path):
    ref = ReferenceGenome(fasta)
    assert ref.contig("22") == "chr22"
    assert ref.fetch("22", 0, 8) == ref.fetch("chr22", 0, 8) == "ACGTACGT"
    np.testing.assert_array_equal(ref.one_hot("22", -2, 22), ref.one_hot("chr22", -2, 22))
    assert ref.contig_length("X") == 4


def test_contig_alias_bare_fasta_queried_chr(tmp_path: Path):
    ref = ReferenceGenome(_write_fasta(tmp_path / "bare.fa", {"22": SEQ, "MT": "ACGT"}))
    assert ref.contig("chr22") == "22"
    assert ref.fetch("chr22", 2, 6) == "GTAC"
    np.testing.assert_array_equal(ref.one_hot("chr22", 0, 20), ref.one_hot("22", 0, 20))
    assert ref.contig("chrM") == "MT"
    assert ref.fetch("chrM", 0, 4) == "ACGT"


def test_unknown_contig_keyerror_names_file(fasta: Path):
    ref = ReferenceGenome(fasta)
    with pytest.raises(KeyError) as info:
        ref.fetch("7", 0, 10)
    message = str(info.value)
    assert str(fasta) in message
    assert "'7'" in message
    assert "chr22" in message  # lists contigs it does have


def test_missing_fasta_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nope.fa"):
        ReferenceGenome(tmp_path / "nope.fa")


def test_contig_aliases_and_resolve():
    assert contig_aliases("22") == ["22", "chr22"]
    assert contig_aliases("chr22") == ["chr22", "22"]
    assert set(contig_aliases("MT")) >= {"MT", "chrM"}
    assert resolve_contig("chr1", ["1", "2"]) == "1"
    assert resolve_contig("1", ["chr1", "1"]) == "1"  # exact spelling first
    with pytest.raises(KeyError, match="my.vcf"):
        resolve_contig("3", ["1", "2"], source="my.vcf")


# ---------------------------------------------------------------------------------------------
# Compressed FASTA files


def _bgzip(path: Path, out: Path) -> Path:
    pysam.tabix_compress(str(path), str(out), force=True)
    return out


def test_compression_and_bgzf_eof(fasta: Path, tmp_path: Path):
    assert compression(fasta) == "none"
    gz = tmp_path / "ref.fa.gz"
    gz.write_bytes(gzip.compress(fasta.read_bytes()))
    assert compression(gz) == "gzip"
    bgz = _bgzip(fasta, tmp_path / "ref.fa.bgz")
    assert compression(bgz) == "bgzf"
    assert bgz.read_bytes().endswith(BGZF_EOF) and len(BGZF_EOF) == 28
    assert has_bgzf_eof(bgz) and not has_bgzf_eof(gz) and not has_bgzf_eof(fasta)
    cut = tmp_path / "cut.fa.bgz"
    cut.write_bytes(bgz.read_bytes()[:-28])
    assert compression(cut) == "bgzf" and not has_bgzf_eof(cut)
    empty = tmp_path / "empty.fa"
    empty.write_bytes(b"")
    assert compression(empty) == "none" and not has_bgzf_eof(empty)


def test_plain_gzip_fasta_says_bgzip(fasta: Path, tmp_path: Path):
    gz = tmp_path / "ref.fa.gz"
    gz.write_bytes(gzip.compress(fasta.read_bytes()))
    with pytest.raises(ValueError) as info:
        ReferenceGenome(gz)
    message = str(info.value)
    assert f"reference FASTA {gz} is compressed with gzip, not bgzip" in message
    assert f"gunzip -c {gz} > {tmp_path / 'ref.fa'}" in message and f"| bgzip > {tmp_path / 'ref.fa'}.bgz" in message
    # gzip data under a plain name: detected by content, and the suggested output does not overwrite it.
    hidden = tmp_path / "hidden.fa"
    hidden.write_bytes(gz.read_bytes())
    with pytest.raises(ValueError, match=re.escape(f"gunzip -c {hidden} > {hidden}.plain.fa")):
        ReferenceGenome(hidden)


def test_truncated_or_misnamed_bgzipped_fasta(fasta: Path, tmp_path: Path):
    bgz = _bgzip(fasta, tmp_path / "ref.fa.gz")
    cut = tmp_path / "cut.fa.gz"
    cut.write_bytes(bgz.read_bytes()[:-28])
    with pytest.raises(ValueError, match=r"cut.fa.gz is truncated: it lacks the BGZF end-of-file marker"):
        ReferenceGenome(cut)
    misnamed = tmp_path / "bgzipped.fa"
    misnamed.write_bytes(bgz.read_bytes())
    with pytest.raises(ValueError, match=r"bgzipped.fa is bgzip-compressed but its name does not end in .gz"):
        ReferenceGenome(misnamed)


def test_bgzipped_fasta_reads_or_names_biopython(fasta: Path, tmp_path: Path):
    bgz = _bgzip(fasta, tmp_path / "ref.fa.gz")
    if importlib.util.find_spec("Bio") is None:
        with pytest.raises(ImportError, match=r"BioPython.*pip install biopython.*bgzip -d"):
            ReferenceGenome(bgz)
    else:
        ref = ReferenceGenome(bgz)
        assert ref.fetch("chr22", -2, 22) == "NN" + SEQ.upper() + "NN"
