"""Tests for performer.data.simulate (the demo and scale cohort simulators)."""

from __future__ import annotations

import gzip
import hashlib
import os
import pathlib

import numpy as np
import pandas as pd
import pytest
from cyvcf2 import VCF
from pyfaidx import Fasta
from scipy import stats

from performer.data.simulate import (
    COHORT_FILES,
    DEMO_GENES,
    DEMO_INDEL_GENE,
    demo,
    demo_cache_dir,
    ensure_demo_cohort,
    main,
    simulate_cohort,
    simulate_same_loci,
    simulate_scale_cohort,
)

SMALL = dict(seed=0, n_people=60, genes=DEMO_GENES[:4], locus_bp=65_536)
SMALL_GENES = (*SMALL["genes"], DEMO_INDEL_GENE)  # the indel gene follows the given genes


def _decompressed(path: pathlib.Path) -> bytes:
    with gzip.open(path, "rb") as handle:
        return handle.read()


def _read_expression(cohort: pathlib.Path) -> pd.DataFrame:
    return pd.read_csv(cohort / "expression.bed.gz", sep="\t", compression="gzip")


def _is_snv(record: dict) -> bool:
    return len(record["ref"]) == 1 and len(record["alt"][0]) == 1


def _read_vcf(cohort: pathlib.Path) -> list[dict]:
    """All VCF records as dicts; ``hap`` is (2 * n_people,) int8 of ALT calls."""
    records = []
    vcf = VCF(str(cohort / "genotypes.vcf.gz"))
    for v in vcf:
        gt = np.array(v.genotypes)  # (n_people, 3): allele, allele, phased
        records.append(
            dict(
                chrom=v.CHROM,
                pos=v.POS,
                id=v.ID,
                ref=v.REF,
                alt=list(v.ALT),
                filter=v.FILTER,
                af=v.INFO.get("AF"),
                phased=gt[:, 2].astype(bool),
                hap=gt[:, :2].reshape(-1).astype(np.int8),
            )
        )
    vcf.close()
    return records


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory) -> pathlib.Path:
    return simulate_cohort(tmp_path_factory.mktemp("small"), **SMALL)


@pytest.fixture(scope="module")
def small_vcf(small_cohort) -> list[dict]:
    return _read_vcf(small_cohort)


@pytest.fixture(scope="module")
def full_btnl3_cohort(tmp_path_factory) -> pathlib.Path:
    """Full-size cohort (300 people) restricted to the learnable gene."""
    return simulate_cohort(tmp_path_factory.mktemp("btnl3"), seed=0, n_people=300, genes=DEMO_GENES[:1])


def test_demo_genes():
    assert DEMO_GENES[0] == "BTNL3"
    assert {"ZFP57", "PPIF", "ERAP2", "CHURC1", "PEX6", "NUDT2", "GSTM3"} <= set(DEMO_GENES)
    assert len(set(DEMO_GENES)) == len(DEMO_GENES) >= 15
    assert "simulated stand-ins" in demo.__doc__.lower()


def test_all_files_written(small_cohort):
    for name in COHORT_FILES:
        assert (small_cohort / name).is_file(), name
    assert "simulated" in (small_cohort / "README.md").read_text().lower()


def test_deterministic_for_seed(small_cohort, small_vcf, tmp_path):
    again = simulate_cohort(tmp_path / "again", **SMALL)
    for name in ("expression.bed.gz", "genotypes.vcf.gz"):
        assert _decompressed(again / name) == _decompressed(small_cohort / name), name
    for name in ("reference.fa", "genes.tsv", "truth.tsv", "heritability.tsv"):
        assert (again / name).read_bytes() == (small_cohort / name).read_bytes(), name

    other = simulate_cohort(tmp_path / "other", **{**SMALL, "seed": 1})
    other_vcf = _read_vcf(other)
    assert [r["pos"] for r in other_vcf] != [r["pos"] for r in small_vcf]
    assert not np.allclose(
        _read_expression(other).iloc[:, 4:].to_numpy(),
        _read_expression(small_cohort).iloc[:, 4:].to_numpy(),
    )
    assert (other / "reference.fa").read_bytes() != (small_cohort / "reference.fa").read_bytes()


def test_reference_layout(small_cohort):
    n_genes = len(SMALL_GENES)
    fasta = Fasta(str(small_cohort / "reference.fa"), as_raw=True)
    assert list(fasta.keys()) == ["chr1"]
    seq = fasta["chr1"][:]
    assert len(seq) == n_genes * 100_000 + 20_000
    assert set(seq) == set("ACGT")
    gc = (seq.count("G") + seq.count("C")) / len(seq)
    assert 0.38 < gc < 0.44
    lines = (small_cohort / "reference.fa").read_text().splitlines()
    assert lines[0] == ">chr1"
    assert all(len(line) == 60 for line in lines[1:-1])
    assert 0 < len(lines[-1]) <= 60


def test_vcf_header_and_samples(small_cohort):
    vcf = VCF(str(small_cohort / "genotypes.vcf.gz"))
    assert vcf.samples == [f"SIM{i:04d}" for i in range(1, SMALL["n_people"] + 1)]
    header = vcf.raw_header
    assert header.startswith("##fileformat=VCFv4.2\n")
    assert f"##contig=<ID=chr1,length={len(SMALL_GENES) * 100_000 + 20_000}>" in header
    assert "##FORMAT=<ID=GT," in header
    assert "##INFO=<ID=AF," in header
    vcf.close()
    assert (small_cohort / "genotypes.vcf.gz.tbi").is_file()


def test_vcf_records_are_sorted_phased_biallelic(small_vcf):
    n_hap = 2 * SMALL["n_people"]
    snvs = [r for r in small_vcf if _is_snv(r)]
    assert len(snvs) > 100 * len(SMALL_GENES)
    assert 0 < len(small_vcf) - len(snvs) < 0.05 * len(snvs)  # a few indels among the SNVs
    positions = [r["pos"] for r in small_vcf]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    for r in small_vcf:
        assert r["chrom"] == "chr1"
        assert r["id"] == f"sim_chr1_{r['pos']}"
        assert r["filter"] is None  # cyvcf2 reports PASS as None
        assert len(r["alt"]) == 1 and set(r["ref"] + r["alt"][0]) <= set("ACGT") and r["alt"][0] != r["ref"]
        if _is_snv(r):
            assert r["ref"] in "ACGT" and r["alt"][0] in "ACGT"
        assert r["phased"].all()
        assert set(np.unique(r["hap"])) <= {0, 1}
        alt_count = int(r["hap"].sum())
        assert 0 < alt_count < n_hap
        assert r["af"] == pytest.approx(alt_count / n_hap, rel=1e-5)


def test_variants_lie_in_loci(small_vcf):
    locus_bp = SMALL["locus_bp"]
    for r in small_vcf:
        offset = (r["pos"] - 1 - 10_000) % 100_000
        assert offset < locus_bp


def test_vcf_ref_matches_fasta(small_cohort, small_vcf):
    fasta = Fasta(str(small_cohort / "reference.fa"), as_raw=True)
    seq = fasta["chr1"][:]
    for r in small_vcf:
        assert seq[r["pos"] - 1 : r["pos"] - 1 + len(r["ref"])] == r["ref"], r["pos"]


def test_genes_and_expression_bed_agree(small_cohort):
    genes = pd.read_csv(small_cohort / "genes.tsv", sep="\t")
    assert list(genes.columns) == ["gene_id", "gene_name", "chrom", "tss", "strand"]
    assert list(genes.gene_name) == list(SMALL_GENES)
    assert list(genes.gene_id) == [f"ENSGSIM{k:05d}.1" for k in range(1, len(genes) + 1)]
    assert set(genes.strand) <= {"+", "-"}
    expected_tss = [k * 100_000 + 10_000 + SMALL["locus_bp"] // 2 for k in range(len(genes))]
    assert list(genes.tss) == expected_tss

    with gzip.open(small_cohort / "expression.bed.gz", "rt") as handle:
        header = handle.readline().rstrip("\n").split("\t")
    assert header[:4] == ["#chr", "start", "end", "gene_id"]
    assert header[4:] == [f"SIM{i:04d}" for i in range(1, SMALL["n_people"] + 1)]

    bed = _read_expression(small_cohort)
    assert list(bed["start"]) == sorted(bed["start"])
    assert (bed["#chr"] == "chr1").all()
    merged = genes.merge(bed, on="gene_id")
    assert len(merged) == len(genes)
    assert (merged["end"] - 1 == merged["tss"]).all()
    assert (merged["start"] == merged["tss"]).all()


def test_expression_is_inverse_normal(small_cohort):
    bed = _read_expression(small_cohort)
    values = bed.iloc[:, 4:].to_numpy(dtype=float)
    n = values.shape[1]
    blom = stats.norm.ppf((np.arange(1, n + 1) - 0.375) / (n + 0.25))
    for row in values:
        assert len(np.unique(row)) == n  # no ties
        assert abs(row.mean()) < 1e-5
        assert row.std() == pytest.approx(blom.std(), rel=1e-4)
        assert 0.95 < row.std() < 1.0
        np.testing.assert_allclose(np.sort(row), blom, rtol=1e-5, atol=1e-6)


def test_heritability_table(small_cohort):
    her = pd.read_csv(small_cohort / "heritability.tsv", sep="\t")
    assert list(her.columns) == ["gene_id", "gene_name", "h2", "n_causal"]
    assert list(her.gene_name) == list(SMALL_GENES)
    assert her.h2.iloc[0] == 0.6
    assert (her.h2.iloc[1:-1] < 0.6).all() and (her.h2 >= 0).all()
    assert (her.h2 == 0).sum() == 2
    assert (her.n_causal[her.h2 == 0] == 0).all()
    assert her.n_causal[her.h2 > 0].between(1, 3).all()
    assert her.n_causal.iloc[0] == 1
    assert (her.gene_name.iloc[-1], her.h2.iloc[-1], her.n_causal.iloc[-1]) == (DEMO_INDEL_GENE, 0.6, 1)


def test_default_heritabilities_spread():
    h2 = demo._heritabilities(len(DEMO_GENES), seed=0)
    assert h2[0] == 0.6 and (h2[1:] < 0.6).all()
    assert (h2 == 0).sum() >= 2
    assert len(np.unique(h2)) == len(DEMO_GENES) - 1


def test_truth_matches_vcf_and_model(small_cohort, small_vcf):
    truth = pd.read_csv(small_cohort / "truth.tsv", sep="\t")
    assert list(truth.columns) == [
        "gene_id", "gene_name", "chrom", "pos", "vcf_pos", "ref", "alt",
        "beta", "af", "distance_to_tss", "h2",
    ]  # fmt: skip
    genes = pd.read_csv(small_cohort / "genes.tsv", sep="\t").set_index("gene_id")
    her = pd.read_csv(small_cohort / "heritability.tsv", sep="\t").set_index("gene_id")
    by_pos = {r["pos"]: r for r in small_vcf}

    assert set(truth.gene_id) == set(her.index[her.h2 > 0])
    for gene_id, rows in truth.groupby("gene_id", sort=False):
        assert len(rows) == her.loc[gene_id, "n_causal"]
        # First causal SNV is TSS-proximal.
        assert abs(rows.distance_to_tss.iloc[0]) <= 1_500
        assert (rows.distance_to_tss.abs() <= 20_000).all()
        assert rows.pos.is_unique

    for row in truth.itertuples():
        assert row.vcf_pos == row.pos + 1
        assert row.chrom == "chr1"
        assert row.distance_to_tss == row.pos - genes.loc[row.gene_id, "tss"]
        assert row.h2 == her.loc[row.gene_id, "h2"]
        assert row.beta != 0
        record = by_pos[row.vcf_pos]
        assert (record["ref"], record["alt"][0]) == (row.ref, row.alt)
        assert row.af == pytest.approx(record["af"], rel=1e-5)
        assert min(row.af, 1 - row.af) >= 0.05

    btnl3 = truth[truth.gene_name == "BTNL3"]
    assert len(btnl3) == 1
    assert abs(btnl3.distance_to_tss.iloc[0]) <= 200
    assert min(btnl3.af.iloc[0], 1 - btnl3.af.iloc[0]) >= 0.25
    assert all(len(r) == len(a) == 1 for r, a in zip(truth.ref[truth.gene_name != DEMO_INDEL_GENE], truth.alt))

    indel = truth[truth.gene_name == DEMO_INDEL_GENE]
    assert len(indel) == 1
    row = indel.iloc[0]
    assert abs(row.distance_to_tss) <= 200 and 0.3 <= row.af <= 0.5 and row.h2 == 0.6
    assert 5 <= abs(len(row.ref) - len(row.alt)) <= 20 and row.ref[0] == row.alt[0]


def _causal_dosage(cohort: pathlib.Path, truth_row) -> np.ndarray:
    record = next(r for r in _read_vcf(cohort) if r["pos"] == truth_row.vcf_pos)
    return record["hap"][0::2] + record["hap"][1::2]


def test_btnl3_causal_dosage_predicts_expression(full_btnl3_cohort):
    truth = pd.read_csv(full_btnl3_cohort / "truth.tsv", sep="\t")
    row = next(truth.itertuples())
    dosage = _causal_dosage(full_btnl3_cohort, row)
    assert dosage.shape == (300,)
    expression = _read_expression(full_btnl3_cohort).iloc[0, 4:].to_numpy(dtype=float)
    r = np.corrcoef(dosage, expression)[0, 1]
    assert r**2 > 0.3
    assert np.sign(r) == np.sign(row.beta)


def test_btnl3_signal_in_small_cohort(small_cohort):
    truth = pd.read_csv(small_cohort / "truth.tsv", sep="\t")
    row = next(truth[truth.gene_name == "BTNL3"].itertuples())
    dosage = _causal_dosage(small_cohort, row)
    expression = _read_expression(small_cohort).iloc[0, 4:].to_numpy(dtype=float)
    r = np.corrcoef(dosage, expression)[0, 1]
    # h2 = 0.6 from a single SNV; with 60 people r^2 well above chance (~0.02).
    assert r**2 > 0.2


def test_btnl3_locus_independent_of_gene_count(full_btnl3_cohort, tmp_path):
    """A gene's locus depends on (seed, gene index), not on how many genes follow."""
    two = simulate_cohort(tmp_path / "two", seed=0, n_people=300, genes=DEMO_GENES[:2])
    one_vcf, two_vcf = _read_vcf(full_btnl3_cohort), _read_vcf(two)
    first = [(r["pos"], r["ref"], r["alt"]) for r in one_vcf if r["pos"] < 100_000]
    both = [(r["pos"], r["ref"], r["alt"]) for r in two_vcf if r["pos"] < 100_000]
    assert first == both
    assert (full_btnl3_cohort / "truth.tsv").read_text().splitlines()[:2] == (
        two / "truth.tsv"
    ).read_text().splitlines()[:2]
    # The indel gene (the locus after the genes) has its own msprime seeds: the same SNV positions and
    # haplotypes, 100 kb further on (its reference bases, hence its indels, depend on where it lies).
    indel_one = [(r["pos"] + 100_000, r["hap"].tobytes()) for r in one_vcf if r["pos"] > 100_000 and _is_snv(r)]
    indel_two = [(r["pos"], r["hap"].tobytes()) for r in two_vcf if r["pos"] > 200_000 and _is_snv(r)]
    assert len(indel_one) > 100 and indel_one == indel_two


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(seed=-1),
        dict(n_people=5),
        dict(genes=()),
        dict(genes=("A", "A")),
        dict(locus_bp=5_000),
        dict(locus_bp=150_000),
        dict(genes=("BTNL3", DEMO_INDEL_GENE)),
    ],
)
def test_invalid_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        simulate_cohort(tmp_path, **kwargs)


def test_demo_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PERFORMER_CACHE", str(tmp_path / "pc"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert demo_cache_dir() == tmp_path / "pc" / "demo-v2-seed0"
    monkeypatch.delenv("PERFORMER_CACHE")
    assert demo_cache_dir() == tmp_path / "xdg" / "performer" / "demo-v2-seed0"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert demo_cache_dir() == tmp_path / "home" / ".cache" / "performer" / "demo-v2-seed0"
    assert not (tmp_path / "home").exists()


def test_ensure_demo_cohort_creates_once_then_reuses(monkeypatch, tmp_path):
    monkeypatch.setenv("PERFORMER_CACHE", str(tmp_path))
    path = ensure_demo_cohort()
    assert path == tmp_path / "demo-v2-seed0"
    for name in COHORT_FILES:
        assert (path / name).is_file(), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-v2-seed0"]  # temp dir gone
    n_samples = len(VCF(str(path / "genotypes.vcf.gz")).samples)
    assert n_samples == 300
    mtimes = {name: os.stat(path / name).st_mtime_ns for name in COHORT_FILES}

    def must_not_simulate(*args, **kwargs):
        raise AssertionError("cached cohort should have been reused")

    monkeypatch.setattr(demo, "simulate_cohort", must_not_simulate)
    assert ensure_demo_cohort() == path
    assert {name: os.stat(path / name).st_mtime_ns for name in COHORT_FILES} == mtimes


def _fake_simulate(out_dir, seed=0, **kwargs):
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in COHORT_FILES:
        (out_dir / name).write_text("ours")
    return out_dir


def test_ensure_demo_cohort_into_empty_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(demo, "simulate_cohort", _fake_simulate)
    target = tmp_path / "cohort"
    target.mkdir()
    assert ensure_demo_cohort(target) == target
    assert (target / "README.md").read_text() == "ours"
    assert [p.name for p in tmp_path.iterdir()] == ["cohort"]


def test_ensure_demo_cohort_loses_race(monkeypatch, tmp_path):
    target = tmp_path / "cohort"

    def racing_simulate(out_dir, seed=0, **kwargs):
        # Another process finishes first while we are still simulating.
        target.mkdir()
        for name in COHORT_FILES:
            (target / name).write_text("theirs")
        return _fake_simulate(out_dir, seed)

    monkeypatch.setattr(demo, "simulate_cohort", racing_simulate)
    assert ensure_demo_cohort(target) == target
    assert (target / "README.md").read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["cohort"]  # our temp dir deleted


def test_ensure_demo_cohort_refuses_incomplete_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(demo, "simulate_cohort", _fake_simulate)
    target = tmp_path / "cohort"
    target.mkdir()
    (target / "stray.txt").write_text("x")
    with pytest.raises(FileExistsError):
        ensure_demo_cohort(target)
    assert [p.name for p in tmp_path.iterdir()] == ["cohort"]
    assert [p.name for p in target.iterdir()] == ["stray.txt"]


def test_cli_refuses_non_empty_dir(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    with pytest.raises(SystemExit) as excinfo:
        main([str(out), "--n-people", "20"])
    assert excinfo.value.code == 2
    assert "--force" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_cli_writes_and_force_overwrites(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(out), "--n-people", "20", "--seed", "3"]) == 0
    assert str(out) in capsys.readouterr().out
    assert "seed: 3" in (out / "README.md").read_text()
    assert len(VCF(str(out / "genotypes.vcf.gz")).samples) == 20
    assert main([str(out), "--n-people", "20", "--seed", "4", "--force"]) == 0
    assert "seed: 4" in (out / "README.md").read_text()


def _md5(path: pathlib.Path) -> str:
    data = _decompressed(path) if path.name.endswith(".gz") else path.read_bytes()
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def demo_cohort(tmp_path_factory) -> pathlib.Path:
    """The default demo cohort (demo-v2: SNVs, short indels and the indel gene)."""
    return simulate_cohort(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_vcf(demo_cohort) -> list[dict]:
    return _read_vcf(demo_cohort)


@pytest.fixture(scope="module")
def snv_only_cohort(tmp_path_factory) -> pathlib.Path:
    """The default demo cohort without indels: the SNV-only demo-v1 cohort."""
    return simulate_cohort(tmp_path_factory.mktemp("snv_only"), indels=False)


def test_default_demo_cohort_is_byte_identical(demo_cohort):
    """The default demo cohort is pinned: demo training results and many tests depend on it."""
    expected = {
        "genotypes.vcf.gz": "05c10cc79e49a0eec64b6a599cbae214",
        "expression.bed.gz": "56fa5ed85d0b81b41ed9b9ac76999428",
        "reference.fa": "49febf88b9b579f37276256f41557573",
        "genes.tsv": "e4039f000469ce2e899c935c39733855",
        "truth.tsv": "cf9706e66306110706f158ea7192efde",
        "heritability.tsv": "61ab166080dd34e1c2b073fea358a83b",
    }
    for name, digest in expected.items():
        assert _md5(demo_cohort / name) == digest, name


def test_snv_only_cohort_is_demo_v1(snv_only_cohort):
    """``indels=False`` writes exactly the SNV-only demo-v1 cohort (its MD5s as pinned before indels)."""
    expected = {
        "genotypes.vcf.gz": "0b0e8c54482a54f456224bb1a2843f91",
        "expression.bed.gz": "e0557310499ee496a07ae4c813451744",
        "reference.fa": "a97bf8e718583d04c5ef2a9c986455ce",
        "genes.tsv": "4b03731ae7bf3083fcef2d4f7e8f7b85",
        "truth.tsv": "953beb0e4ad9c944f3617ce451cc8e28",
        "heritability.tsv": "8847345b522c034b33c28089bd01fd73",
    }
    for name, digest in expected.items():
        assert _md5(snv_only_cohort / name) == digest, name


def _body(path: pathlib.Path) -> list[str]:
    """Lines of a (bgzipped) text file without its ``#`` header lines."""
    text = _decompressed(path).decode() if path.name.endswith(".gz") else path.read_text()
    return [line for line in text.splitlines() if not line.startswith("#")]


def test_demo_genes_unchanged_by_indels(demo_cohort, snv_only_cohort):
    """Every DEMO_GENES record and row is byte-identical to the SNV-only (demo-v1) cohort's."""
    lines = _body(demo_cohort / "genotypes.vcf.gz")
    old_lines = _body(snv_only_cohort / "genotypes.vcf.gz")
    indel_locus_start = len(DEMO_GENES) * 100_000 + 10_000
    demo_snvs = [
        line for line in lines
        if int(line.split("\t")[1]) <= indel_locus_start and len(line.split("\t")[3]) == len(line.split("\t")[4]) == 1
    ]  # fmt: skip
    assert demo_snvs == old_lines  # POS, ID, REF, ALT, AF and every GT
    for name in ("expression.bed.gz", "genes.tsv", "heritability.tsv", "truth.tsv"):
        new, old = _body(demo_cohort / name), _body(snv_only_cohort / name)
        assert new[: len(old)] == old, name
        assert len(new) == len(old) + 1 and new[-1].split("\t")[1 if name != "expression.bed.gz" else 3] in (
            DEMO_INDEL_GENE,
            f"ENSGSIM{len(DEMO_GENES) + 1:05d}.1",
        ), name
    new_fasta = Fasta(str(demo_cohort / "reference.fa"), as_raw=True)["chr1"][:]
    old_fasta = Fasta(str(snv_only_cohort / "reference.fa"), as_raw=True)["chr1"][:]
    assert len(new_fasta) == len(old_fasta) + 100_000 and new_fasta.startswith(old_fasta)


def test_demo_indels(demo_cohort, demo_vcf):
    """Short indels in every locus: 1-20 bp, anchored, REF from the FASTA, isolated from other records."""
    seq = Fasta(str(demo_cohort / "reference.fa"), as_raw=True)["chr1"][:]
    genes = pd.read_csv(demo_cohort / "genes.tsv", sep="\t")
    assert list(genes.gene_name) == [*DEMO_GENES, DEMO_INDEL_GENE]
    indels = [r for r in demo_vcf if not _is_snv(r)]
    n_snvs = len(demo_vcf) - len(indels)
    assert 0.005 * n_snvs <= len(indels) <= 0.02 * n_snvs
    kinds = {"deletion": 0, "insertion": 0}
    for r in indels:
        ref, alt = r["ref"], r["alt"][0]
        assert min(len(ref), len(alt)) == 1 and ref[0] == alt[0] and 1 <= abs(len(ref) - len(alt)) <= 20
        kinds["deletion" if len(ref) > 1 else "insertion"] += 1
        assert seq[r["pos"] - 1 : r["pos"] - 1 + len(ref)] == ref
        assert ref[-1] != alt[-1]  # left-aligned
        assert r["phased"].all() and 0 < r["hap"].sum() < len(r["hap"])
    assert min(kinds.values()) >= 10
    assert len({abs(len(r["ref"]) - len(r["alt"][0])) for r in indels}) >= 10  # lengths spread over 1-20
    # At least 3 per locus, and no other record within an indel's REF span +-1 bp.
    per_locus = np.bincount([(r["pos"] - 1 - 10_000) // 100_000 for r in indels], minlength=len(genes))
    assert len(per_locus) == len(genes) and per_locus.min() >= 3
    spans = [(r["pos"], r["pos"] + len(r["ref"]) - 1, not _is_snv(r)) for r in demo_vcf]  # 1-based, inclusive
    for (_start, end, indel), (next_start, _, next_indel) in zip(spans, spans[1:]):
        assert next_start > end + (1 if indel or next_indel else 0)


def test_demo_vcf_is_normalised(demo_cohort, tmp_path):
    """``bcftools norm -f reference.fa --check-ref e`` changes no record."""
    import pysam.bcftools

    normed = tmp_path / "normed.vcf"
    pysam.bcftools.norm(
        "-f", str(demo_cohort / "reference.fa"), "--check-ref", "e", "-Ov", "-o", str(normed),
        str(demo_cohort / "genotypes.vcf.gz"), catch_stdout=False,
    )  # fmt: skip
    records = _body(demo_cohort / "genotypes.vcf.gz")
    assert sum(len(line.split("\t", 5)[3]) != len(line.split("\t", 5)[4]) for line in records) > 20
    assert _body(normed) == records


def test_indel_gene(demo_cohort, demo_vcf):
    """The indel gene's causal indel: in its core promoter, untagged by SNVs, and driving expression."""
    genes = pd.read_csv(demo_cohort / "genes.tsv", sep="\t").set_index("gene_name")
    gene = genes.loc[DEMO_INDEL_GENE]
    assert gene.gene_id == f"ENSGSIM{len(DEMO_GENES) + 1:05d}.1"
    assert gene.tss == len(DEMO_GENES) * 100_000 + 10_000 + 65_536 // 2
    assert gene.strand in "+-"
    her = pd.read_csv(demo_cohort / "heritability.tsv", sep="\t").set_index("gene_name")
    assert (her.loc[DEMO_INDEL_GENE, "h2"], her.loc[DEMO_INDEL_GENE, "n_causal"]) == (0.6, 1)
    truth = pd.read_csv(demo_cohort / "truth.tsv", sep="\t")
    rows = truth[truth.gene_name == DEMO_INDEL_GENE]
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row.gene_id == gene.gene_id and row.chrom == "chr1" and row.vcf_pos == row.pos + 1

    record = next(r for r in demo_vcf if r["pos"] == row.vcf_pos)
    assert (record["ref"], record["alt"][0]) == (row.ref, row.alt)
    assert 5 <= abs(len(row.ref) - len(row.alt)) <= 20
    assert row.distance_to_tss == row.pos - gene.tss and abs(row.distance_to_tss) <= 200
    af = record["hap"].mean()
    assert 0.3 <= af <= 0.5 and row.af == pytest.approx(af, rel=1e-5) and record["af"] == pytest.approx(af, rel=1e-5)

    dosage = (record["hap"][0::2] + record["hap"][1::2]).astype(float)
    locus = (gene.tss - 65_536 // 2, gene.tss + 65_536 // 2)
    snvs = [r for r in demo_vcf if _is_snv(r) and locus[0] < r["pos"] <= locus[1]]
    assert len(snvs) > 100
    r2 = [np.corrcoef(dosage, r["hap"][0::2] + r["hap"][1::2])[0, 1] ** 2 for r in snvs]
    assert max(r2) < 0.2

    bed = _read_expression(demo_cohort).set_index("gene_id")
    expression = bed.loc[gene.gene_id].iloc[3:].to_numpy(dtype=float)
    pcc = np.corrcoef(dosage, expression)[0, 1]
    assert abs(pcc) > 0.5 and np.sign(pcc) == np.sign(row.beta)
    # The best SNV explains far less than the indel does.
    snv_pcc = [abs(np.corrcoef(r["hap"][0::2] + r["hap"][1::2], expression)[0, 1]) for r in snvs]
    assert max(snv_pcc) < abs(pcc) - 0.2


def test_demo_haplotypes_build(demo_cohort):
    """Every person's haplotypes around every TSS build from the demo VCF (REF, biallelic, left-aligned)."""
    from performer.data.haplotypes import HaplotypeSequences

    genes = pd.read_csv(demo_cohort / "genes.tsv", sep="\t")
    sequences = HaplotypeSequences(demo_cohort / "reference.fa", demo_cohort / "genotypes.vcf.gz")
    truth = pd.read_csv(demo_cohort / "truth.tsv", sep="\t").set_index("gene_name")
    causal = truth.loc[DEMO_INDEL_GENE]
    for gene in genes.itertuples():
        codes = sequences.haplotype_codes("chr1", int(gene.tss), 2048)
        assert codes.shape == (300, 2, 2048)
        if gene.gene_name == DEMO_INDEL_GENE:
            # Haplotypes that carry the causal indel differ from those that do not.
            record = next(iter(VCF(str(demo_cohort / "genotypes.vcf.gz"))(f"chr1:{causal.vcf_pos}-{causal.vcf_pos}")))
            carries = np.array(record.genotypes)[:, :2].astype(bool)
            reference = codes[~carries]
            assert (reference == reference[0]).all(axis=1).mean() > 0.5  # many REF haplotypes equal
            assert not (codes[carries] == reference[0]).all(axis=1).any()


# --- Scale cohort ------------------------------------------------------------

# Tiny scale cohort; a high mutation rate and missing rate so that multi-allelic sites,
# indels and missing calls all occur several times.
SCALE = dict(
    n_people=30, n_genes=6, window_bp=20_000, seed=0, mutation_rate=1e-7, indel_fraction=0.02, missing_rate=0.01
)


@pytest.fixture(scope="module")
def scale_cohort(tmp_path_factory) -> pathlib.Path:
    return simulate_scale_cohort(tmp_path_factory.mktemp("scale"), **SCALE)


@pytest.fixture(scope="module")
def scale_records(scale_cohort) -> list[dict]:
    """All records; ``gt`` is cyvcf2's ``genotypes`` (per person: alleles..., phased)."""
    vcf = VCF(str(scale_cohort / "genotypes.vcf.gz"))
    records = [
        dict(chrom=v.CHROM, pos=v.POS, ref=v.REF, alt=list(v.ALT), af=v.INFO.get("AF"), gt=v.genotypes) for v in vcf
    ]
    vcf.close()
    return records


@pytest.fixture(scope="module")
def scale_sexes(scale_cohort) -> pd.Series:
    return pd.read_csv(scale_cohort / "samples.tsv", sep="\t", index_col="sample_id")["sex"]


def _alt_dosage(gt: list) -> np.ndarray:
    """(n_people,) ALT allele count of one biallelic record; missing calls count 0."""
    return np.array([sum(a == 1 for a in person[:-1]) for person in gt])


def test_scale_files_readable(scale_cohort, scale_records, scale_sexes):
    for name in ("reference.fa", "reference.fa.fai", "genotypes.vcf.gz", "genotypes.vcf.gz.tbi",
                 "expression.bed.gz", "expression.bed.gz.tbi", "genes.tsv", "samples.tsv",
                 "heritability.tsv", "truth.tsv", "README.md"):  # fmt: skip
        assert (scale_cohort / name).is_file(), name
    fasta = Fasta(str(scale_cohort / "reference.fa"), as_raw=True)
    assert list(fasta.keys()) == ["chr1", "chrX"]
    vcf = VCF(str(scale_cohort / "genotypes.vcf.gz"))
    assert vcf.samples == [f"SIM{i:04d}" for i in range(1, SCALE["n_people"] + 1)]
    assert vcf.seqnames == ["chr1", "chrX"]
    assert len(list(vcf("chrX:1-1000000"))) > 0  # the index works
    vcf.close()
    assert list(scale_sexes.index) == vcf.samples
    assert (scale_sexes == "male").sum() == SCALE["n_people"] // 2
    assert {r["chrom"] for r in scale_records} == {"chr1", "chrX"}
    keys = [(r["chrom"] == "chrX", r["pos"]) for r in scale_records]
    assert keys == sorted(keys)
    assert "simulated" in (scale_cohort / "README.md").read_text().lower()


def test_scale_ref_matches_fasta_including_indels(scale_cohort, scale_records):
    fasta = Fasta(str(scale_cohort / "reference.fa"), as_raw=True)
    seqs = {name: fasta[name][:] for name in fasta.keys()}
    n_indels = 0
    for r in scale_records:
        ref, (alt,) = r["ref"], r["alt"]
        assert seqs[r["chrom"]][r["pos"] - 1 : r["pos"] - 1 + len(ref)] == ref, (r["chrom"], r["pos"])
        assert set(ref + alt) <= set("ACGT") and ref != alt
        if len(ref) != len(alt):
            n_indels += 1
            assert min(len(ref), len(alt)) == 1 and ref[0] == alt[0]  # VCF-style anchored indel
            assert ref[-1] != alt[-1], (r["chrom"], r["pos"])  # left-aligned: bcftools norm leaves it alone
    assert n_indels >= 3
    snv_windows = [r for r in scale_records if len(r["ref"]) == len(r["alt"][0]) == 1]
    assert len(snv_windows) > 0.9 * len(scale_records)


def _allele_matrix(gt: list) -> np.ndarray:
    """(n_people, 2) int alleles of a record from cyvcf2 ``genotypes``; -2 pads a haploid call."""
    return np.array([person[:-1] + [-2] * (3 - len(person)) for person in gt])


def test_scale_split_multiallelic_records_are_consistent(scale_records, scale_sexes):
    male = (scale_sexes == "male").to_numpy()
    by_site: dict[tuple[str, int], list[dict]] = {}
    for r in scale_records:
        by_site.setdefault((r["chrom"], r["pos"]), []).append(r)
    split = [records for records in by_site.values() if len(records) > 1]
    assert len(split) >= 2
    for records in split:
        assert len({r["alt"][0] for r in records}) == len(records)  # different ALTs
        assert len({r["ref"] for r in records}) == 1
        carries = sum((_allele_matrix(r["gt"]) == 1).astype(int) for r in records)  # (n_people, 2)
        assert carries.max() <= 1  # each haplotype carries at most one of the ALTs
        ploidy = np.where(male, 1, 2) if records[0]["chrom"] == "chrX" else 2
        assert (carries.sum(axis=1) <= ploidy).all()  # total ALT dosage per person


def test_scale_missing_calls_at_requested_rate(scale_records):
    n_calls = n_missing = 0
    by_site: dict[tuple[str, int], list[np.ndarray]] = {}
    for r in scale_records:
        missing = np.array([person[0] == -1 for person in r["gt"]])
        by_site.setdefault((r["chrom"], r["pos"]), []).append(missing)
        n_calls += len(missing)
        n_missing += int(missing.sum())
        if missing.any():
            person = r["gt"][int(np.flatnonzero(missing)[0])]
            assert all(a == -1 for a in person[:-1])  # the whole call is missing
        af = _alt_dosage(r["gt"]).sum() / sum(len(p) - 1 for p, m in zip(r["gt"], missing) if not m)
        assert r["af"] == pytest.approx(af, rel=1e-4)
    rate = n_missing / n_calls
    assert 0.5 * SCALE["missing_rate"] < rate < 1.5 * SCALE["missing_rate"]
    for masks in by_site.values():  # split records of a site share their missing calls
        assert all((m == masks[0]).all() for m in masks)


def test_scale_chrx_males_haploid_females_diploid(scale_records, scale_sexes):
    male = (scale_sexes == "male").to_numpy()
    n_x = 0
    for r in scale_records:
        n_alleles = np.array([len(person) - 1 for person in r["gt"]])
        phased = np.array([person[-1] for person in r["gt"]], dtype=bool)
        if r["chrom"] == "chrX":
            n_x += 1
            assert (n_alleles[male] == 1).all() and (n_alleles[~male] == 2).all()
            assert phased[~male].all()
        else:
            assert (n_alleles == 2).all() and phased.all()
    assert n_x > 10


def test_scale_expression_and_genes(scale_cohort, scale_records):
    genes = pd.read_csv(scale_cohort / "genes.tsv", sep="\t")
    assert list(genes.columns) == ["gene_id", "gene_name", "chrom", "tss", "strand"]
    assert len(genes) == SCALE["n_genes"] and genes.gene_id.is_unique
    assert list(genes.chrom) == ["chr1"] * 5 + ["chrX"]
    with gzip.open(scale_cohort / "expression.bed.gz", "rt") as handle:
        header = handle.readline().rstrip("\n").split("\t")
    assert header == ["#chr", "start", "end", "gene_id"] + [f"SIM{i:04d}" for i in range(1, SCALE["n_people"] + 1)]
    bed = _read_expression(scale_cohort)
    assert (bed["end"] - bed["start"] == 1).all()
    merged = genes.merge(bed, on="gene_id")
    assert len(merged) == len(genes)
    assert (merged["end"] - 1 == merged["tss"]).all() and (merged["#chr"] == merged["chrom"]).all()
    n = SCALE["n_people"]
    blom = stats.norm.ppf((np.arange(1, n + 1) - 0.375) / (n + 0.25))
    for row in bed.iloc[:, 4:].to_numpy(dtype=float):
        np.testing.assert_allclose(np.sort(row), blom, rtol=1e-5, atol=1e-6)
    # Windows of window_bp around the TSSs hold the variants and do not overlap.
    half = SCALE["window_bp"] // 2
    for chrom, rows in genes.groupby("chrom"):
        tss = np.sort(rows.tss.to_numpy())
        assert (np.diff(tss) >= SCALE["window_bp"]).all()
        for r in (r for r in scale_records if r["chrom"] == chrom):
            assert np.min(np.abs(r["pos"] - 1 - tss)) <= half


def test_scale_truth_matches_vcf(scale_cohort, scale_records):
    truth = pd.read_csv(scale_cohort / "truth.tsv", sep="\t")
    her = pd.read_csv(scale_cohort / "heritability.tsv", sep="\t").set_index("gene_id")
    assert her.h2.between(0, 0.5).all()
    assert set(truth.gene_id) == set(her.index[her.n_causal > 0])
    by_key = {(r["chrom"], r["pos"], r["alt"][0]): r for r in scale_records}
    for row in truth.itertuples():
        record = by_key[(row.chrom, row.vcf_pos, row.alt)]
        assert record["ref"] == row.ref and len(row.ref) == len(row.alt) == 1
        assert row.vcf_pos == row.pos + 1


def test_scale_deterministic_for_seed(scale_cohort, tmp_path):
    again = simulate_scale_cohort(tmp_path / "again", **SCALE)
    names = sorted(p.name for p in scale_cohort.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (again / name).read_bytes() == (scale_cohort / name).read_bytes(), name
    other = simulate_scale_cohort(tmp_path / "other", **{**SCALE, "seed": 1})
    assert _decompressed(other / "genotypes.vcf.gz") != _decompressed(scale_cohort / "genotypes.vcf.gz")


def test_scale_bcf_matches_vcf(scale_cohort, tmp_path):
    out = simulate_scale_cohort(tmp_path / "bcf", **{**SCALE, "n_genes": 2, "x_fraction": 0.5}, genotype_format="bcf")
    assert (out / "genotypes.bcf").is_file() and (out / "genotypes.bcf.csi").is_file()
    assert not any(p.name.endswith(".vcf.gz") for p in out.iterdir())
    vcf_out = simulate_scale_cohort(tmp_path / "vcf", **{**SCALE, "n_genes": 2, "x_fraction": 0.5})

    def records(path):
        return [(v.CHROM, v.POS, v.REF, v.ALT, v.genotypes) for v in VCF(str(path))]

    from_bcf = records(out / "genotypes.bcf")
    assert {r[0] for r in from_bcf} == {"chr1", "chrX"}
    assert from_bcf == records(vcf_out / "genotypes.vcf.gz")
    assert len(list(VCF(str(out / "genotypes.bcf"))("chrX:1-100000"))) > 0


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(seed=-1),
        dict(n_people=5),
        dict(n_genes=0),
        dict(window_bp=500),
        dict(genotype_format="plink"),
        dict(x_fraction=1.0),
        dict(missing_rate=0.9),
        dict(h2_range=(0.5, 0.1)),
    ],
)
def test_scale_invalid_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        simulate_scale_cohort(tmp_path, **{**dict(n_people=10, n_genes=1, window_bp=2_000), **kwargs})


def test_cli_scale(tmp_path, capsys):
    out = tmp_path / "scale"
    argv = [str(out), "--scale", "--n-people", "12", "--n-genes", "3", "--window-bp", "5000"]
    argv += ["--genotype-format", "bcf"]
    assert main(argv) == 0
    assert "scale" in capsys.readouterr().out
    assert len(VCF(str(out / "genotypes.bcf")).samples) == 12
    assert len(pd.read_csv(out / "genes.tsv", sep="\t")) == 3
    with pytest.raises(SystemExit) as excinfo:
        main([str(tmp_path / "demo"), "--n-genes", "3"])
    assert excinfo.value.code == 2
    assert "--scale" in capsys.readouterr().err


# --- Second cohort of the same loci (simulate_same_loci, --same-loci-as) ----------------------
SAME_LOCI_SOURCE = dict(seed=1, n_people=60, genes=DEMO_GENES[:3])


@pytest.fixture(scope="module")
def same_loci_sources(tmp_path_factory) -> dict[str, pathlib.Path]:
    """The small test cohorts of conftest.py: SNV-only and with indels (and the indel gene)."""
    root = tmp_path_factory.mktemp("same_loci_sources")
    return {
        "snv": simulate_cohort(root / "snv", **SAME_LOCI_SOURCE, indels=False),
        "indel": simulate_cohort(root / "indel", **SAME_LOCI_SOURCE),
    }


@pytest.fixture(scope="module")
def same_loci_cohorts(same_loci_sources, tmp_path_factory) -> dict[str, pathlib.Path]:
    root = tmp_path_factory.mktemp("same_loci")
    return {name: simulate_same_loci(source, root / name) for name, source in same_loci_sources.items()}


def _loci(cohort: pathlib.Path, records: list[dict]) -> np.ndarray:
    """Index (genes.tsv row) of the gene with the nearest TSS, per record."""
    tss = pd.read_csv(cohort / "genes.tsv", sep="\t")["tss"].to_numpy()
    pos0 = np.array([r["pos"] - 1 for r in records])
    return np.abs(pos0[:, None] - tss[None, :]).argmin(axis=1)


def _dosages(records: list[dict]) -> np.ndarray:
    """ALT dosages (n_records, n_people)."""
    haps = np.stack([r["hap"] for r in records])
    return haps[:, 0::2] + haps[:, 1::2]


@pytest.mark.parametrize("kind", ["snv", "indel"])
def test_same_loci_sites_people_and_tables(kind, same_loci_sources, same_loci_cohorts):
    source, second = same_loci_sources[kind], same_loci_cohorts[kind]
    assert all((second / name).is_file() for name in COHORT_FILES)
    for name in ("reference.fa", "reference.fa.fai", "genes.tsv", "heritability.tsv"):
        assert (second / name).read_bytes() == (source / name).read_bytes(), name
    source_vcf, second_vcf = _read_vcf(source), _read_vcf(second)
    site = lambda r: (r["chrom"], r["pos"], r["id"], r["ref"], tuple(r["alt"]))  # noqa: E731
    assert [site(r) for r in second_vcf] == [site(r) for r in source_vcf]
    assert any(not _is_snv(r) for r in second_vcf) == (kind == "indel")
    assert all(r["phased"].all() and len(r["alt"]) == 1 for r in second_vcf)
    for r in second_vcf:
        assert r["af"] == pytest.approx(r["hap"].mean(), abs=1e-5)
    source_samples = VCF(str(source / "genotypes.vcf.gz")).samples
    samples = VCF(str(second / "genotypes.vcf.gz")).samples
    assert samples == [f"OTH{i:04d}" for i in range(1, 61)]
    assert not set(samples) & set(source_samples)

    # No new person has a source person's genotypes at any locus.
    loci, source_dosage, dosage = _loci(source, source_vcf), _dosages(source_vcf), _dosages(second_vcf)
    for k in np.unique(loci):
        rows = loci == k
        source_people = {tuple(person) for person in source_dosage[rows].T}
        assert not any(tuple(person) in source_people for person in dosage[rows].T), k

    # Same population: allele frequencies close, genotypes not copied wholesale.
    source_af, af = source_dosage.mean(axis=1) / 2, dosage.mean(axis=1) / 2
    common = (source_af > 0.05) & (source_af < 0.95)
    assert common.sum() > 100
    assert np.abs(af - source_af)[common].mean() < 0.05
    assert np.quantile(np.abs(af - source_af)[common], 0.9) < 0.1
    assert np.corrcoef(af, source_af)[0, 1] > 0.95

    # Expression layout and truth: the source's rows, af recomputed in the new people.
    source_bed, bed = _read_expression(source), _read_expression(second)
    assert list(bed.columns[:4]) == list(source_bed.columns[:4])
    assert list(bed.columns[4:]) == samples
    pd.testing.assert_frame_equal(bed.iloc[:, :4], source_bed.iloc[:, :4])
    values = bed.iloc[:, 4:].to_numpy(dtype=float)
    expected = stats.norm.ppf((np.arange(1, 61) - 0.375) / 60.25)
    np.testing.assert_allclose(np.sort(values, axis=1), np.tile(expected, (len(bed), 1)), atol=1e-5)
    source_truth, truth = (pd.read_csv(c / "truth.tsv", sep="\t") for c in (source, second))
    pd.testing.assert_frame_equal(truth.drop(columns="af"), source_truth.drop(columns="af"))
    by_pos = {r["pos"]: r for r in second_vcf}
    for row in truth.itertuples():
        assert row.af == pytest.approx(by_pos[row.vcf_pos]["hap"].mean(), abs=1e-5)
    readme = (second / "README.md").read_text()
    assert str(source) in readme and "seed: 1001" in readme and "Li & Stephens" in readme


@pytest.mark.parametrize("kind", ["snv", "indel"])
def test_same_loci_expression_follows_truth(kind, same_loci_cohorts):
    second = same_loci_cohorts[kind]
    truth = pd.read_csv(second / "truth.tsv", sep="\t")
    bed = _read_expression(second).set_index("gene_id")
    by_pos = {r["pos"]: r for r in _read_vcf(second)}
    for gene_id, rows in truth.groupby("gene_id", sort=False):
        dosage = np.stack([by_pos[p]["hap"][0::2] + by_pos[p]["hap"][1::2] for p in rows.vcf_pos], axis=1)
        expression = bed.loc[gene_id].iloc[3:].to_numpy(dtype=float)
        r = np.corrcoef(dosage @ rows.beta.to_numpy(), expression)[0, 1]
        if rows.h2.iloc[0] == 0.6:  # BTNL3 and INDEL1: one causal variant, h2 = 0.6
            assert len(rows) == 1
            assert np.sign(np.corrcoef(dosage[:, 0], expression)[0, 1]) == np.sign(rows.beta.iloc[0])
            assert r**2 > 0.2
        else:
            assert r > 0
    indel_rows = truth[truth.gene_name == DEMO_INDEL_GENE]
    assert len(indel_rows) == (kind == "indel")
    if kind == "indel":  # INDEL1's causal variant is an indel
        assert len(indel_rows.ref.iloc[0]) != len(indel_rows.alt.iloc[0])


def test_same_loci_deterministic_and_seeded(same_loci_sources, same_loci_cohorts, tmp_path):
    source, first = same_loci_sources["indel"], same_loci_cohorts["indel"]
    again = simulate_same_loci(source, tmp_path / "again", seed=1001)
    for name in ("genotypes.vcf.gz", "expression.bed.gz", "truth.tsv", "README.md"):
        assert _decompressed_or_bytes(again / name) == _decompressed_or_bytes(first / name), name
    other = simulate_same_loci(source, tmp_path / "other", seed=7, n_people=25)
    assert len(VCF(str(other / "genotypes.vcf.gz")).samples) == 25
    assert _dosages(_read_vcf(other)).shape[1] == 25
    assert "seed: 7" in (other / "README.md").read_text()
    # The source's own seed still gives new people (the copying streams are not the source's).
    same_seed = simulate_same_loci(source, tmp_path / "same_seed", seed=1)
    assert not np.array_equal(_dosages(_read_vcf(same_seed)), _dosages(_read_vcf(source)))


def _decompressed_or_bytes(path: pathlib.Path) -> bytes:
    return _decompressed(path) if path.name.endswith(".gz") else path.read_bytes()


def test_same_loci_of_demo_cohort(demo_cohort, demo_vcf, tmp_path):
    second = simulate_same_loci(demo_cohort, tmp_path / "second", n_people=120)
    records = _read_vcf(second)
    assert [(r["pos"], r["ref"], r["alt"]) for r in records] == [(r["pos"], r["ref"], r["alt"]) for r in demo_vcf]
    genes = pd.read_csv(second / "genes.tsv", sep="\t")
    assert len(genes) == 21 and genes.gene_name.iloc[-1] == DEMO_INDEL_GENE
    source_af, af = _dosages(demo_vcf).mean(axis=1) / 2, _dosages(records).mean(axis=1) / 2
    common = (source_af > 0.05) & (source_af < 0.95)
    assert np.abs(af - source_af)[common].max() < 0.15
    assert np.abs(af - source_af)[common].mean() < 0.04
    assert "seed: 1000" in (second / "README.md").read_text()
    truth = pd.read_csv(second / "truth.tsv", sep="\t")
    row = next(truth.itertuples())  # BTNL3
    by_pos = {r["pos"]: r for r in records}
    dosage = by_pos[row.vcf_pos]["hap"][0::2] + by_pos[row.vcf_pos]["hap"][1::2]
    expression = _read_expression(second).iloc[0, 4:].to_numpy(dtype=float)
    r = np.corrcoef(dosage, expression)[0, 1]
    assert r**2 > 0.3 and np.sign(r) == np.sign(row.beta)


def test_same_loci_rejects_bad_source(same_loci_sources, tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        simulate_same_loci(tmp_path / "missing", tmp_path / "out")
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("genes.tsv", "README.md"):
        (partial / name).write_bytes((same_loci_sources["snv"] / name).read_bytes())
    with pytest.raises(ValueError, match="not a complete demo cohort.*genotypes.vcf.gz"):
        simulate_same_loci(partial, tmp_path / "out")
    with pytest.raises(ValueError, match="out_dir"):
        simulate_same_loci(same_loci_sources["snv"], same_loci_sources["snv"])
    with pytest.raises(ValueError, match="n_people"):
        simulate_same_loci(same_loci_sources["snv"], tmp_path / "out", n_people=5)


def test_cli_same_loci(same_loci_sources, same_loci_cohorts, tmp_path, capsys):
    source = same_loci_sources["snv"]
    out = tmp_path / "second"
    assert main([str(out), "--same-loci-as", str(source)]) == 0
    assert "second cohort" in capsys.readouterr().out
    assert _decompressed(out / "genotypes.vcf.gz") == _decompressed(same_loci_cohorts["snv"] / "genotypes.vcf.gz")
    assert main([str(out), "--same-loci-as", str(source), "--seed", "9", "--n-people", "30", "--force"]) == 0
    assert len(VCF(str(out / "genotypes.vcf.gz")).samples) == 30
    assert "seed: 9" in (out / "README.md").read_text()
    for argv in (
        [str(tmp_path / "bad"), "--same-loci-as", str(tmp_path / "nowhere")],
        [str(tmp_path / "scale"), "--same-loci-as", str(source), "--scale"],
    ):
        with pytest.raises(SystemExit) as excinfo:
            main(argv)
        assert excinfo.value.code == 2
    assert "--same-loci-as" in capsys.readouterr().err
