"""Real-data checks on the Geuvadis chr22 slice (set PERFORMER_GEUVADIS to its folder to run).

The personal encoding must equal, exactly, the mean of the one-hot encodings of the two haplotype
consensus sequences that ``bcftools consensus -H 1`` / ``-H 2`` build from an SNV-only, biallelic VCF
(docs/architecture.md, "personal encoding" and "Known traps"). bcftools and samtools are taken from PATH
when installed, otherwise from the copies bundled with pysam (the same C code, run in-process).

Coordinates: 0-based half-open in the code; the ``22:a-b`` region strings are 1-based inclusive.
"""

from __future__ import annotations

import gzip
import importlib
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pysam
import pytest

from performer.data.personal import PersonalSequences
from performer.data.reference import one_hot_encode

pytestmark = pytest.mark.skipif(
    not os.environ.get("PERFORMER_GEUVADIS"),
    reason="set PERFORMER_GEUVADIS to the geuvadis_chr22 data folder to run the real-data tests",
)

WINDOW_BP = 49_152
# Stable Ensembl IDs of two genes whose TSS-centred window lies wholly inside the real sequence
# (the data README lists them by name; GENCODE v19 gives the IDs).
GENE_IDS = {"DGCR8": "ENSG00000128191", "ZNF74": "ENSG00000185252"}
REAL_START = 20_000_000  # 0-based: positions before 20,000,001 (1-based) are N padding
# Three European and three Yoruba people; each window below holds het SNVs in several of them.
SAMPLES = ["HG00096", "HG00097", "HG00099", "NA19098", "NA19099", "NA19102"]


def _run(tool: str, *args: str) -> str:
    """Run ``tool`` (``bcftools`` / ``samtools``) with ``args``; returns its stdout."""
    if shutil.which(tool):
        return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout
    command = getattr(importlib.import_module(f"pysam.{tool}"), args[0])
    if "-o" in args:  # pysam's stdout capture would swallow the output file
        command(*args[1:], catch_stdout=False)
        return ""
    return command(*args[1:])


def _have_tools() -> bool:
    if shutil.which("bcftools") and shutil.which("samtools"):
        return True
    try:
        bundled = importlib.import_module("pysam.bcftools"), importlib.import_module("pysam.samtools")
    except ImportError:
        return False
    return hasattr(bundled[0], "consensus") and hasattr(bundled[1], "faidx")


@pytest.fixture(scope="module")
def data() -> Path:
    path = Path(os.environ["PERFORMER_GEUVADIS"])
    if not (path / "genotypes.vcf.gz").exists():
        pytest.fail(f"PERFORMER_GEUVADIS={path} holds no genotypes.vcf.gz")
    return path


@pytest.fixture(scope="module")
def seqs(data: Path) -> PersonalSequences:
    return PersonalSequences(data / "reference.fa", data / "genotypes.vcf.gz")


@pytest.fixture(scope="module")
def tss(data: Path) -> dict[str, int]:
    """0-based TSS of the genes in GENE_IDS, from the expression BED's ``end`` column (1-based TSS)."""
    wanted = {v: k for k, v in GENE_IDS.items()}
    found = {}
    with gzip.open(data / "expression.bed.gz", "rt") as handle:
        for line in handle:
            chrom, _, end, target = line.split("\t", 4)[:4]
            stable = target.split(".")[0]
            if stable in wanted:
                found[wanted[stable]] = int(end) - 1
    assert set(found) == set(GENE_IDS)
    return found


def _consensus_mean_one_hot(data: Path, tmp: Path, sample: str, start: int, end: int) -> np.ndarray:
    """Mean one-hot (float32 ``(end - start, 4)``) of ``bcftools consensus -H 1`` and ``-H 2``."""
    region = f"22:{start + 1}-{end}"
    sub = tmp / f"{sample}_{start}.vcf.gz"
    _run(
        "bcftools",
        "view",
        "-v",
        "snps",
        "-m2",
        "-M2",
        "-s",
        sample,
        "-r",
        region,
        "-Oz",
        "-o",
        str(sub),
        str(data / "genotypes.vcf.gz"),
    )
    pysam.tabix_index(str(sub), preset="vcf", force=True)
    region_fa = tmp / f"region_{start}.fa"
    _run("samtools", "faidx", str(data / "reference.fa"), region, "-o", str(region_fa))
    haplotypes = []
    for hap in ("1", "2"):
        fasta = _run("bcftools", "consensus", "-H", hap, "-f", str(region_fa), str(sub))
        lines = fasta.strip().splitlines()
        assert lines[0] == f">{region}"
        seq = "".join(lines[1:])
        assert len(seq) == end - start
        haplotypes.append(one_hot_encode(seq).astype(np.float32))
    return (haplotypes[0] + haplotypes[1]) / 2


def _windows(tss: dict[str, int]) -> dict[str, int]:
    """Window starts (0-based): two TSS-centred gene windows and one over the N padding."""
    starts = {gene: t - WINDOW_BP // 2 for gene, t in tss.items()}
    starts["N-padding"] = REAL_START - 20_000  # 20,000 bp of N, then 29,152 bp of real sequence
    return starts


def test_one_hot_equals_mean_of_bcftools_consensus_haplotypes(data, seqs, tss, tmp_path):
    if not _have_tools():
        pytest.skip("neither bcftools/samtools on PATH nor pysam's bundled copies are available")
    starts = _windows(tss)
    assert all(REAL_START <= starts[g] and starts[g] + WINDOW_BP <= 21_000_000 for g in GENE_IDS)
    for name, start in starts.items():
        end = start + WINDOW_BP
        window = seqs.window("22", start, end, SAMPLES)
        x = window.one_hot()
        assert x.shape == (len(SAMPLES), WINDOW_BP, 4) and x.dtype == np.float32
        het = (window.snvs.dosage == 1).sum(axis=1)
        # Not vacuous: the window holds het SNVs in at least two of the people, and hom-ALT ones.
        assert (het > 0).sum() >= 2, (name, het)
        assert (window.snvs.dosage == 2).any(), name
        for i, sample in enumerate(SAMPLES):
            expected = _consensus_mean_one_hot(data, tmp_path, sample, start, end)
            np.testing.assert_array_equal(x[i], expected, err_msg=f"{name} window, {sample}")
            # The cold path (one call per person) gives the same array.
            np.testing.assert_array_equal(seqs.one_hot("22", start, end, [sample])[0], expected)
        if name == "N-padding":
            assert x[:, : REAL_START - start].sum() == 0  # the padding is all-zero rows
            assert (window.snvs.pos >= REAL_START).all()
        # Exactly 0.5 on two channels wherever a person is het.
        rows, cols = np.nonzero(window.snvs.dosage == 1)
        at = x[rows, window.offsets[cols]]
        assert ((at == 0.5).sum(axis=1) == 2).all()


def test_skip_counts_over_the_whole_slice(data, seqs):
    snvs = seqs.variants.fetch("22", 20_000_000, 21_000_000, SAMPLES[:2])
    assert len(snvs) == 345  # biallelic SNVs, as the data README says
    assert snvs.skipped == Counter(indel=17)
    assert snvs.missing_calls == 0
    assert snvs.dosage.shape == (2, 345)
    # The same SNVs an independent reader (pysam) finds.
    with pysam.VariantFile(str(data / "genotypes.vcf.gz")) as vcf:
        expected = [
            r.pos - 1
            for r in vcf.fetch("22", 20_000_000, 21_000_000)
            if len(r.alts) == 1 and len(r.ref) == 1 and len(r.alts[0]) == 1
        ]
    np.testing.assert_array_equal(snvs.pos, expected)


def test_chr22_alias_gives_same_sequences(seqs, tss):
    start = tss["ZNF74"] - WINDOW_BP // 2
    a = seqs.one_hot("22", start, start + WINDOW_BP, SAMPLES[:3])
    b = seqs.one_hot("chr22", start, start + WINDOW_BP, SAMPLES[:3])
    np.testing.assert_array_equal(a, b)
    assert seqs.window("chr22", start, start + WINDOW_BP, SAMPLES[:1]).chrom == "22"
    assert len(seqs.variants.fetch("chr22", start, start + WINDOW_BP)) == 26
