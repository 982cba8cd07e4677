"""The window cache under faults: replaced input files, damaged entries, a full disk, a killed builder."""

import errno
import gzip
import logging
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pysam
import pytest

import performer.data.cache as cache_module
from performer.data.cache import CacheError, WindowCache
from performer.data.haplotypes import HaplotypeSequences
from performer.data.personal import PersonalSequences
from performer.data.variants import VariantReader

OPTIONS = dict(strict=True, pass_only=True, missing="ref")
LAYOUTS = {False: "dosage.npy", True: "haplotypes.npy"}  # haplotypes -> the entry's big memory-mapped array


@pytest.fixture
def cohort(tiny_cohort, tmp_path) -> Path:
    """A private copy of the tiny cohort's FASTA and VCF (tests here replace and damage files)."""
    folder = tmp_path / "cohort"
    folder.mkdir()
    for name in ("reference.fa", "reference.fa.fai", "genotypes.vcf.gz", "genotypes.vcf.gz.tbi"):
        shutil.copy(tiny_cohort / name, folder / name)
    return folder


def open_cache(cohort: Path, folder: Path, haplotypes: bool = False) -> WindowCache:
    samples = VariantReader(cohort / "genotypes.vcf.gz").samples
    options = {"pass_only": True} if haplotypes else OPTIONS
    return WindowCache(
        folder, cohort / "reference.fa", cohort / "genotypes.vcf.gz", samples, options, haplotypes=haplotypes
    )


def gene_regions(cohort: Path) -> list[tuple[str, int, int]]:
    return [("chr1", tss - 2048, tss + 2048) for tss in (42768, 142768, 242768)]  # the tiny cohort's 3 TSSs


def alt_calls(window) -> int:
    """ALT alleles carried in a window (dosage sum, or haplotype ALT count)."""
    alleles = window.records.alleles if hasattr(window, "records") else window.snvs.dosage
    return int(np.asarray(alleles).sum())


def fresh_window(cache: WindowCache, region):
    """``region`` read straight from the cache's VCF and FASTA (no cache)."""
    if cache.haplotypes:
        reader = HaplotypeSequences(cache.fasta, cache.vcf, **cache.options, unphased="first")
    else:
        reader = PersonalSequences(cache.fasta, cache.vcf, **cache.options)
    return reader.window(*region, cache.samples)


def assert_same_window(cached, fresh) -> None:
    np.testing.assert_array_equal(cached.codes, fresh.codes)
    if hasattr(fresh, "records"):
        np.testing.assert_array_equal(cached.records.alleles, fresh.records.alleles)
        np.testing.assert_array_equal(cached.records.pos, fresh.records.pos)
        np.testing.assert_array_equal(cached.sequences(None), fresh.sequences(None))
        assert list(cached.records.ids) == list(fresh.records.ids)
    else:
        np.testing.assert_array_equal(cached.snvs.dosage, fresh.snvs.dosage)
        np.testing.assert_array_equal(cached.snvs.pos, fresh.snvs.pos)
        assert list(cached.snvs.ids) == list(fresh.snvs.ids)


def zero_genotypes(vcf: Path) -> None:
    """Rewrite the bgzipped ``vcf`` with every call ``0|0`` and index it again, as a user replacing it would."""
    with gzip.open(vcf, "rt") as f:
        lines = f.read().splitlines()
    rows = []
    for line in lines:
        fields = line.split("\t")
        rows.append(line if line.startswith("#") else "\t".join(fields[:9] + [re.sub("1", "0", g) for g in fields[9:]]))
    plain = vcf.with_suffix("")  # genotypes.vcf
    plain.write_text("\n".join(rows) + "\n")
    pysam.tabix_index(str(plain), preset="vcf", force=True)  # writes genotypes.vcf.gz and its .tbi


# --- 1. Input files replaced in the same process -----------------------------------------------------------


@pytest.mark.parametrize("haplotypes", [False, True], ids=["snvs", "haplotypes"])
def test_a_vcf_replaced_in_the_same_process_is_read_anew(cohort, tmp_path, haplotypes):
    region = gene_regions(cohort)[0]
    before = open_cache(cohort, tmp_path / "cache", haplotypes)
    before.build([region])
    assert alt_calls(before.load(region)) > 0
    zero_genotypes(cohort / "genotypes.vcf.gz")
    after = open_cache(cohort, tmp_path / "cache", haplotypes)
    assert after.path != before.path
    assert after.build([region]) == 1
    assert alt_calls(after.load(region)) == 0  # the new file's genotypes, not the old reader's
    meta = (after.entry(region) / "meta.json").read_text()
    assert str(after.inputs["vcf"]["mtime_ns"]) in meta  # the entry names the file it was built from


def test_a_vcf_replaced_under_an_open_cache_is_an_error(cohort, tmp_path):
    cache = open_cache(cohort, tmp_path / "cache")
    first, second = gene_regions(cohort)[:2]
    cache.build([first])
    zero_genotypes(cohort / "genotypes.vcf.gz")
    with pytest.raises(CacheError, match=rf"{re.escape(str(cohort / 'genotypes.vcf.gz'))} changed .*open it again"):
        cache.build([second])
    assert not cache.entry(second).exists()


def test_an_entry_built_from_another_vcf_is_rebuilt(cohort, tmp_path, caplog):
    region = gene_regions(cohort)[0]
    old = open_cache(cohort, tmp_path / "cache")
    old.build([region])
    zero_genotypes(cohort / "genotypes.vcf.gz")
    new = open_cache(cohort, tmp_path / "cache")
    shutil.copytree(old.entry(region), new.entry(region))  # an entry of the old file under the new key
    with caplog.at_level(logging.WARNING, logger="performer.data.cache"):
        window = new.load(region)
    assert alt_calls(window) == 0
    assert new.rebuilt == 1
    assert any(str(new.entry(region)) in r.getMessage() and "built from" in r.getMessage() for r in caplog.records)


# --- 2. Damaged entries ------------------------------------------------------------------------------------


def truncate(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize("haplotypes", [False, True], ids=["snvs", "haplotypes"])
@pytest.mark.parametrize("verified_before", [False, True], ids=["first-map", "mapped-before"])
def test_a_truncated_file_is_rebuilt(cohort, tmp_path, caplog, haplotypes, verified_before):
    cache = open_cache(cohort, tmp_path / "cache", haplotypes)
    region = gene_regions(cohort)[0]
    cache.build([region])
    if verified_before:
        cache.load(region)  # this process has checked the entry's checksums: the sizes are checked on every load
    truncate(cache.entry(region) / LAYOUTS[haplotypes])
    with caplog.at_level(logging.WARNING, logger="performer.data.cache"):
        window = cache.load(region)
    assert_same_window(window, fresh_window(cache, region))
    assert cache.rebuilt == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(cache.entry(region)) in warnings[0] and LAYOUTS[haplotypes] in warnings[0]
    assert [p.name for p in cache.path.iterdir() if p.name.startswith(".")] == []  # the damaged copy is gone


@pytest.mark.parametrize("haplotypes", [False, True], ids=["snvs", "haplotypes"])
def test_a_file_overwritten_with_other_values_is_found_by_its_checksum(cohort, tmp_path, caplog, haplotypes):
    cache = open_cache(cohort, tmp_path / "cache", haplotypes)
    region = gene_regions(cohort)[0]
    cache.build([region])
    path = cache.entry(region) / LAYOUTS[haplotypes]
    values = np.load(path)
    size = path.stat().st_size
    np.save(path, ~values if haplotypes else (values + 1) % 3)  # same shape and dtype: a valid .npy, same size
    assert path.stat().st_size == size
    with caplog.at_level(logging.WARNING, logger="performer.data.cache"):
        window = cache.load(region)
    assert_same_window(window, fresh_window(cache, region))
    assert cache.rebuilt == 1
    assert any("checksum" in r.getMessage() and str(cache.entry(region)) in r.getMessage() for r in caplog.records)


def test_a_damaged_meta_json_is_rebuilt(cohort, tmp_path):
    cache = open_cache(cohort, tmp_path / "cache")
    region = gene_regions(cohort)[0]
    cache.build([region])
    truncate(cache.entry(region) / "meta.json")
    assert_same_window(cache.load(region), fresh_window(cache, region))
    assert cache.rebuilt == 1


def test_a_damaged_entry_that_cannot_be_moved_is_an_error_naming_it(cohort, tmp_path, monkeypatch):
    cache = open_cache(cohort, tmp_path / "cache")
    region = gene_regions(cohort)[0]
    cache.build([region])
    truncate(cache.entry(region) / "dosage.npy")

    def read_only(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(src))

    monkeypatch.setattr(cache_module.os, "rename", read_only)  # a shared cache folder this user cannot write
    with pytest.raises(CacheError, match=rf"{re.escape(str(cache.entry(region)))} is damaged .*dosage.npy.*delete it"):
        cache.load(region)


# --- 3. A full disk ----------------------------------------------------------------------------------------


def leftovers(cache: WindowCache) -> list[str]:
    """Entry folders and temporary folders in the cohort folder."""
    return sorted(p.name for p in cache.path.iterdir() if p.is_dir())


def test_too_little_free_space_is_an_error_before_writing(cohort, tmp_path, monkeypatch):
    cache = open_cache(cohort, tmp_path / "cache")
    monkeypatch.setattr(cache_module.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 1000))
    with pytest.raises(OSError, match=r"no space left in .*needs about [\d,]+ bytes") as error:
        cache.build(gene_regions(cohort))
    assert error.value.errno == errno.ENOSPC
    assert str(cache.path) in str(error.value) and "1,000 bytes" in str(error.value)  # the folder and what is free
    assert leftovers(cache) == []


@pytest.mark.parametrize(
    "failure",
    [OSError(errno.ENOSPC, "No space left on device"), OSError("49152 requested and 36736 written")],
    ids=["ENOSPC", "numpy-short-write"],
)
def test_a_disk_that_fills_while_writing_is_an_error_naming_the_folder(cohort, tmp_path, monkeypatch, failure):
    cache = open_cache(cohort, tmp_path / "cache")
    first, second, third = gene_regions(cohort)
    save, calls = np.save, []

    def fill_up(path, array, *args, **kwargs):
        calls.append(path)
        if len(calls) > 3:  # the first entry's three arrays fit
            raise failure
        return save(path, array, *args, **kwargs)

    monkeypatch.setattr(cache_module.np, "save", fill_up)
    with pytest.raises(OSError, match=r"no space left in .*needs about [\d,]+ bytes") as error:
        cache.build([first, second, third])
    monkeypatch.undo()
    assert error.value.errno == errno.ENOSPC and str(cache.path) in str(error.value)
    assert leftovers(cache) == [cache.entry(first).name]  # the whole first entry, nothing of the second
    assert_same_window(cache.load(first), fresh_window(cache, first))


# --- 4. A killed builder -----------------------------------------------------------------------------------

BUILDER = r"""
import sys
from pathlib import Path
from performer.data.cache import WindowCache
from performer.data.variants import VariantReader
cohort, folder = Path(sys.argv[1]), Path(sys.argv[2])
samples = VariantReader(cohort / "genotypes.vcf.gz").samples
cache = WindowCache(folder, cohort / "reference.fa", cohort / "genotypes.vcf.gz", samples, {})
cache.build([("chr1", start, start + 60_000) for start in range(0, 260_000, 50)], workers=2)  # minutes of work
"""


def test_reader_processes_end_with_their_killed_parent(cohort, tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", BUILDER, str(cohort), str(tmp_path / "cache")])
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 15
        while len(children) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.05)
            children = psutil.Process(parent.pid).children(recursive=True)
        assert parent.poll() is None and len(children) >= 2, "the builder did not start its 2 reader processes"
        parent.send_signal(signal.SIGKILL)
        assert parent.wait(5) == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while [c for c in children if _alive(c)] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [c.pid for c in children if _alive(c)] == []
    finally:
        if parent.poll() is None:
            parent.kill()
        for child in children:
            if _alive(child):
                child.kill()


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
