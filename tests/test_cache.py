"""The window cache: exact round trips, keys that follow the inputs, concurrent and parallel builders."""

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_datamodule

from performer.data.cache import WindowCache, _write_entry
from performer.data.datamodule import PerformerDataModule
from performer.data.dataset import log_windows, tss_window
from performer.data.expression import read_gene_table
from performer.data.personal import PersonalSequences
from performer.data.variants import VariantReader

OPTIONS = dict(strict=True, pass_only=True, missing="ref")


def regions(cohort: Path, window_bp: int = 4096) -> list[tuple[str, int, int]]:
    genes = read_gene_table(cohort / "genes.tsv")
    return [(chrom, *tss_window(int(tss), window_bp)) for chrom, tss in zip(genes["chrom"], genes["tss"])]


def make_cache(cohort: Path, folder: Path, samples=None) -> WindowCache:
    samples = samples or VariantReader(cohort / "genotypes.vcf.gz").samples
    return WindowCache(folder, cohort / "reference.fa", cohort / "genotypes.vcf.gz", samples, OPTIONS)


def test_cached_windows_equal_fresh_reads(tiny_cohort, tmp_path):
    samples = VariantReader(tiny_cohort / "genotypes.vcf.gz").samples[::-1][:40]  # a subset, in another order
    cache = make_cache(tiny_cohort, tmp_path, samples)
    assert cache.build(regions(tiny_cohort)) == 3
    assert cache.build(regions(tiny_cohort)) == 0  # built once
    fresh = PersonalSequences(tiny_cohort / "reference.fa", tiny_cohort / "genotypes.vcf.gz")
    for region in regions(tiny_cohort):
        cached, read = cache.load(region), fresh.window(*region, samples)
        assert len(read.snvs) > 0
        assert isinstance(cached.snvs.dosage, np.memmap) and isinstance(cached.codes, np.memmap)
        assert not cached.snvs.dosage.flags.writeable
        np.testing.assert_array_equal(cached.codes, read.codes)
        np.testing.assert_array_equal(cached.snvs.pos, read.snvs.pos)
        np.testing.assert_array_equal(cached.snvs.dosage, read.snvs.dosage)
        assert list(cached.snvs.ids) == list(read.snvs.ids)
        assert (cached.chrom, cached.start, cached.end) == (read.chrom, read.start, read.end)
        np.testing.assert_array_equal(cached.one_hot([3, 0, 7]), read.one_hot([3, 0, 7]))


def test_key_follows_files_people_and_options(tiny_cohort, tmp_path):
    base = make_cache(tiny_cohort, tmp_path)
    samples = base.samples
    assert make_cache(tiny_cohort, tmp_path).path == base.path
    assert make_cache(tiny_cohort, tmp_path, samples[1:]).path != base.path
    assert make_cache(tiny_cohort, tmp_path, samples[::-1]).path != base.path
    other = WindowCache(
        tmp_path, tiny_cohort / "reference.fa", tiny_cohort / "genotypes.vcf.gz", samples, {**OPTIONS, "strict": False}
    )
    assert other.path != base.path
    vcf = tiny_cohort / "genotypes.vcf.gz"
    stat = vcf.stat()
    try:
        os.utime(vcf, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a replaced VCF: new mtime
        assert make_cache(tiny_cohort, tmp_path).path != base.path
    finally:
        os.utime(vcf, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_parallel_build_equals_serial_build(tiny_cohort, tmp_path):
    many = [
        (chrom, start + shift, end + shift) for chrom, start, end in regions(tiny_cohort) for shift in range(0, 400, 25)
    ]
    serial, parallel = make_cache(tiny_cohort, tmp_path / "a"), make_cache(tiny_cohort, tmp_path / "b")
    assert serial.build(many, workers=1) == parallel.build(many, workers=2) == len(many)
    for region in many:
        np.testing.assert_array_equal(serial.load(region).snvs.dosage, parallel.load(region).snvs.dosage)
        np.testing.assert_array_equal(serial.load(region).codes, parallel.load(region).codes)


def test_a_second_builder_of_the_same_entry_keeps_the_first(tiny_cohort, tmp_path):
    cache = make_cache(tiny_cohort, tmp_path)
    region = regions(tiny_cohort)[0]
    cache.build([region])
    before = (cache.entry(region) / "dosage.npy").stat().st_mtime_ns
    # a second builder loses the race: no error, the first entry stays, no temporaries
    _write_entry(cache.path, region, *cache._read(region))
    assert (cache.entry(region) / "dosage.npy").stat().st_mtime_ns == before
    assert [p.name for p in cache.path.iterdir() if p.name.startswith(".")] == []


def test_loading_an_unbuilt_window_is_an_error(tiny_cohort, tmp_path):
    with pytest.raises(FileNotFoundError, match="not in the cache"):
        make_cache(tiny_cohort, tmp_path).load(regions(tiny_cohort)[0])


def datamodule(cohort: Path, cache_dir: Path, **kwargs) -> PerformerDataModule:
    return tiny_datamodule(cohort, batch_size=4, accumulate=1, cache_dir=str(cache_dir), **kwargs)


def test_datamodule_reads_the_vcf_once_per_cohort(tiny_cohort, tmp_path):
    first = datamodule(tiny_cohort, tmp_path, genes=["BTNL3"])
    first.prepare_data()
    first.setup()
    entries = sorted(p.name for p in first._cache.path.iterdir() if p.is_dir())
    assert len(entries) == 1
    # another fold and a multi-gene run of the same cohort share the entry and only add the missing ones
    second = datamodule(tiny_cohort, tmp_path, fold=1)
    second.prepare_data()
    assert second._cache.path == first._cache.path
    assert second._cache.build(second.regions) == 0
    second.setup()
    g = second.gene_ids.index(first.gene_ids[0])
    np.testing.assert_array_equal(second.windows[g].snvs.dosage, first.windows[0].snvs.dosage)


def test_tune_and_test_sets_hold_training_and_held_out_genes(tiny_cohort, tmp_path):
    dm = datamodule(tiny_cohort, tmp_path, genes=["BTNL3"], eval_genes=["ZFP57"])
    dm.prepare_data()
    dm.setup()
    assert dm.gene_names == ["BTNL3", "ZFP57"]
    assert set(dm.datasets["train"].gene.tolist()) == {0}
    assert set(dm.datasets["tune"].gene.tolist()) == set(dm.datasets["test"].gene.tolist()) == {0, 1}


def test_a_window_without_snvs_is_named_in_a_warning(tiny_cohort, tmp_path, caplog):
    cache = make_cache(tiny_cohort, tmp_path)
    chrom, start, end = regions(tiny_cohort)[0]
    empty = (chrom, start, start + 1)  # one base: no SNV there in this cohort
    cache.build([empty, regions(tiny_cohort)[1]])
    windows = [cache.load(empty), cache.load(regions(tiny_cohort)[1])]
    assert len(windows[0].snvs) == 0
    with caplog.at_level(logging.INFO, logger="performer.data.dataset"):
        log_windows(windows, ["GENE_A", "GENE_B"])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "GENE_A" in warnings[0] and "GENE_B" not in warnings[0]


def test_overlapping_windows_count_each_record_once(tmp_path, caplog):
    from performer.data.simulate import simulate_scale_cohort

    cohort = simulate_scale_cohort(
        tmp_path / "scale",
        n_people=30,
        n_genes=2,
        window_bp=20_000,
        x_fraction=0.5,
        indel_fraction=0.2,
        missing_rate=0.02,
        mutation_rate=1.5e-7,
    )
    genes = read_gene_table(cohort / "genes.tsv")
    chrom, tss = genes.iloc[-1]["chrom"], int(genes.iloc[-1]["tss"])  # the chrX gene: haploid calls too
    union = (chrom, tss - 8_000, tss + 8_000)
    halves = [(chrom, tss - 8_000, tss + 4_000), (chrom, tss - 4_000, tss + 8_000)]  # overlap 8 kb
    cache = make_cache(cohort, tmp_path / "cache")
    cache.build([union, *halves])
    whole = cache.load(union).snvs
    assert whole.missing_calls > 0 and whole.haploid_calls > 0 and whole.skipped["indel"] > 0
    with caplog.at_level(logging.INFO, logger="performer.data.dataset"):
        log_windows([cache.load(r) for r in halves], ["A", "B"])
    message = caplog.records[-1].getMessage()
    assert f"{len(whole)} distinct SNVs kept" in message
    assert f"'indel': {whole.skipped['indel']}" in message
    assert f"missing calls counted as REF: {whole.missing_calls};" in message
    assert f"haploid calls (ALT = dosage 2): {whole.haploid_calls};" in message


def test_a_splits_dir_with_people_outside_the_cohort_is_an_error(tiny_cohort, tmp_path):
    from performer.data.splits import MissingPeopleError, PeopleSplit

    splits = tmp_path / "splits"
    PeopleSplit(["P_unknown", "p1"], ["p2"], ["p3"]).save(splits)
    dm = datamodule(tiny_cohort, tmp_path, genes=["BTNL3"], splits_dir=str(splits))
    with pytest.raises(MissingPeopleError, match=f"splits_dir={splits}.*P_unknown"):
        dm.setup()
