"""The data settings ``indels`` and ``encoding`` through the DataModule: batches, phase rules, errors."""

from __future__ import annotations

import gzip
import logging
import os
import shutil

import numpy as np
import pandas as pd
import pysam
import pytest
from conftest import TINY_MODEL, run_train, tiny_datamodule

from performer.data.haplotypes import HaplotypeSequences, mean_one_hot
from performer.data.variants import VCFError


def _batch(dm, split: str = "train", n: int = 12) -> tuple[dict, np.ndarray]:
    """A batch of the indel gene (the cohort's last gene; its 2,048 bp window holds the causal deletion)."""
    dataset = dm.datasets[split]
    items = dataset.groups()[-1][:n]
    return dataset.__getitems__(items), items


@pytest.mark.parametrize("encoding, key", [("dosage", "codes"), ("haplotypes", "haplotypes")])
def test_batches_carry_the_sequences_of_each_person(indel_cohort, tmp_path, encoding, key):
    dm = tiny_datamodule(indel_cohort, cache_dir=tmp_path, indels=True, encoding=encoding)
    dm.prepare_data()
    dm.setup()
    batch, items = _batch(dm)
    assert set(batch) == {key, "y", "gene", "person", "keep"}
    codes = batch[key].numpy()
    assert codes.dtype == np.uint8 and codes.shape == (len(items), 2, 2048)
    fresh = HaplotypeSequences(indel_cohort / "reference.fa", indel_cohort / "genotypes.vcf.gz", unphased="first")
    chrom, start, end = dm.regions[-1]
    samples = [dm.cohort.vcf_sample[dm.people[p]] for p in batch["person"].tolist()]
    window = fresh.window(chrom, start, end, samples)
    np.testing.assert_array_equal(codes, window.sequences(None, encoding))
    # the causal deletion is in the window and changes the carriers' sequences
    deletion = [len(r) - len(a) for r, a in zip(window.records.ref, window.records.alt)]
    assert max(deletion) >= 5
    carriers = window.records.alleles[:, :, int(np.argmax(deletion))]
    assert carriers.any() and (codes[carriers] != window.codes).any(axis=-1).all()
    assert (codes[:, :, 1024] == window.codes[1024]).all()  # the TSS base stays at L // 2


def test_phased_snv_haplotypes_average_to_the_snv_dosage_encoding(indel_cohort, tmp_path):
    """``encoding=haplotypes`` without indels: each person's two SNV haplotypes; their mean is today's ``x``."""
    snv = tiny_datamodule(indel_cohort, cache_dir=tmp_path)
    haplotypes = tiny_datamodule(indel_cohort, cache_dir=tmp_path, encoding="haplotypes")
    for dm in (snv, haplotypes):
        dm.prepare_data()
        dm.setup()
    x, _ = _batch(snv)
    codes, _ = _batch(haplotypes)
    np.testing.assert_array_equal(mean_one_hot(codes["haplotypes"].numpy()), x["x"].numpy())
    assert all(len(w.records) == len(w.snv_only().records) for w in haplotypes.windows)


def _unphased_copy(cohort, out):
    """The cohort with its VCF's GTs written unphased (``0/1``), other files linked."""
    out.mkdir()
    for name in ("reference.fa", "reference.fa.fai", "expression.bed.gz", "genes.tsv"):
        (out / name).symlink_to(cohort / name)
    with gzip.open(cohort / "genotypes.vcf.gz", "rt") as source, open(out / "genotypes.vcf", "w") as target:
        for line in source:
            target.write(line if line.startswith("#") else line.replace("|", "/"))
    pysam.tabix_index(str(out / "genotypes.vcf"), preset="vcf", force=True)
    return out


def test_unphased_genotypes_under_each_encoding(indel_cohort, tmp_path, caplog):
    cohort = _unphased_copy(indel_cohort, tmp_path / "unphased")
    with pytest.raises(VCFError, match="unphased heterozygous calls.*phase the VCF.*encoding=dosage.*unphased=first"):
        dm = tiny_datamodule(cohort, cache_dir=tmp_path / "c", encoding="haplotypes")
        dm.prepare_data()
        dm.setup()
    with caplog.at_level(logging.WARNING):
        first = tiny_datamodule(cohort, cache_dir=tmp_path / "c", encoding="haplotypes", unphased="first")
        first.prepare_data()
        first.setup()
    assert "read in GT order (unphased=first)" in caplog.text
    # the dosage encoding gives unphased people the paper's consensus pair
    dosage = tiny_datamodule(cohort, cache_dir=tmp_path / "c", indels=True)
    dosage.prepare_data()
    dosage.setup()
    batch, _ = _batch(dosage)
    window = dosage.windows[-1]
    rows = batch["person"].numpy()
    np.testing.assert_array_equal(batch["codes"].numpy(), window.sequences(rows, "consensus"))


@pytest.mark.parametrize("options", [dict(strict=False), dict(missing="error")])
def test_indels_need_strict_ref_checks_and_missing_as_ref(indel_cohort, options):
    with pytest.raises(ValueError, match="set strict=true and missing=ref"):
        tiny_datamodule(indel_cohort, indels=True, **options)


def test_unknown_encoding_is_an_error(indel_cohort):
    with pytest.raises(ValueError, match="encoding='haplotype'"):
        tiny_datamodule(indel_cohort, encoding="haplotype")


def test_a_vcf_that_needs_normalising_names_the_fix(indel_cohort, tmp_path):
    """A multi-allelic record in a window: the error names the record and ``bcftools norm -m-``."""
    out = tmp_path / "multi"
    out.mkdir()
    for name in ("reference.fa", "reference.fa.fai", "expression.bed.gz", "genes.tsv"):
        (out / name).symlink_to(indel_cohort / name)
    with gzip.open(indel_cohort / "genotypes.vcf.gz", "rt") as source, open(out / "genotypes.vcf", "w") as target:
        merged = False
        for line in source:
            fields = line.split("\t")
            if not merged and not line.startswith("#") and len(fields[3]) == 1 and len(fields[4]) == 1:
                other = next(b for b in "ACGT" if b not in (fields[3], fields[4]))
                fields[4] += "," + other
                line, merged = "\t".join(fields), True
            target.write(line)
    pysam.tabix_index(str(out / "genotypes.vcf"), preset="vcf", force=True)
    dm = tiny_datamodule(out, cache_dir=tmp_path / "c", indels=True, window_bp=200_000)
    with pytest.raises(VCFError, match="multi-allelic record.*bcftools norm -m- -f"):
        dm.prepare_data()
    shutil.rmtree(out)


FAST = [*TINY_MODEL, "batch_size=8", "eval_batch_size=8", "trainer.max_epochs=1", "logger=none"]


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["dosage", "haplotypes"])
def test_train_runs_end_to_end_with_indels(indel_cohort, tmp_path, encoding):
    result = run_train(
        tmp_path / "run",
        "gene=INDEL1",
        f"data.root={indel_cohort}",
        "data.indels=true",
        f"data.encoding={encoding}",
        *FAST,
    )
    assert "INDEL1 fold 0: best epoch 0" in result.stdout
    predictions = pd.read_csv(tmp_path / "run" / "predictions_test.csv")
    assert predictions["pred"].notna().all() and len(predictions) > 0


GEUVADIS = os.environ.get("PERFORMER_GEUVADIS")


@pytest.mark.slow
@pytest.mark.skipif(not GEUVADIS, reason="set PERFORMER_GEUVADIS to the geuvadis_chr22 folder")
@pytest.mark.parametrize("encoding", ["dosage", "haplotypes"])
def test_train_runs_on_geuvadis_with_indels(tmp_path, encoding):
    """The 1000 Genomes VCF is phased and its records in DGCR8's window are biallelic and normalised."""
    result = run_train(
        tmp_path / "run",
        "data=geuvadis_chr22",
        f"data.root={GEUVADIS}",
        "gene=DGCR8",
        "data.indels=true",
        f"data.encoding={encoding}",
        *FAST,
    )
    assert "DGCR8 fold 0" in result.stdout
