"""The run-directory layout (performer.runs): a run written through it is found and read back; unfinished
runs are not runs; summary.json is written atomically."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from performer import runs
from performer.data.splits import PeopleSplit

SPLIT = PeopleSplit(train=["p1", "p2", "p3"], tune=["p4"], test=["p5", "007"])


def write_run(run_dir, fold: int = 0) -> dict:
    """A complete finished run in ``run_dir``, written through ``performer.runs`` only; returns its summary."""
    files = runs.RunFiles(run_dir)
    runs.write_config(run_dir, OmegaConf.create({"experiment_name": "single_gene", "gene": "BTNL3", "fold": fold}))
    runs.write_split(run_dir, SPLIT)
    for split in runs.SPLITS:
        people = SPLIT[split]
        predictions = pd.DataFrame({"gene_id": "ENSG1", "gene": "BTNL3", "person": people, "y": 1.0, "pred": 0.5})
        runs.write_predictions(run_dir, split, predictions)
        runs.write_gene_metrics(run_dir, split, pd.DataFrame({"gene_id": ["ENSG1"], "pcc": [0.5], "r2": [0.25]}))
    files.checkpoints.mkdir()
    files.best.write_bytes(b"weights")
    summary = {"run_dir": str(run_dir), "checkpoint": str(files.best), "best_epoch": np.int64(3)}
    summary["test"] = {"mean_pcc": np.float32(0.5), "pcc_undefined": np.array([], dtype=object)}
    runs.write_summary(run_dir, summary)
    return summary


def test_layout_names_every_file(tmp_path):
    files = runs.RunFiles(tmp_path)
    named = {
        files.config: "config.yaml",
        files.summary: "summary.json",
        files.epoch_metrics: "metrics.csv",
        files.splits: "splits",
        files.best: "checkpoints/best.ckpt",
        files.last: "checkpoints/last.ckpt",
        files.ism: "ism.csv",
        files.predictions("test"): "predictions_test.csv",
        files.gene_metrics("tune"): "metrics_tune.csv",
    }
    for path, name in named.items():
        assert path == tmp_path / name
    assert files.results()[0] == files.summary  # the finished marker is removed first
    results = {tmp_path / f"{kind}_{split}.csv" for kind in ("predictions", "metrics") for split in runs.SPLITS}
    assert set(files.results()[1:]) == results


def test_a_written_run_is_found_and_read_back(tmp_path):
    summary = write_run(tmp_path / "BTNL3" / "fold0")
    write_run(tmp_path / "BTNL3" / "fold1", fold=1)
    found = runs.find_runs(tmp_path)
    assert [run.path for run in found] == [tmp_path / "BTNL3" / "fold0", tmp_path / "BTNL3" / "fold1"]
    run = found[0]
    assert run.experiment == "single_gene" and run.cfg.gene == "BTNL3" and run.cfg.fold == 0
    assert run.checkpoint == run.files.best
    assert runs.finished(run.path)
    back = runs.read_summary(run.path)
    assert back == {**summary, "best_epoch": 3, "test": {"mean_pcc": 0.5, "pcc_undefined": []}}
    assert runs.read_split(run.path) == SPLIT
    predictions = runs.read_predictions(run.path, "test")
    assert list(predictions["person"]) == ["p5", "007"]  # IDs stay strings
    assert runs.read_gene_metrics(run.path, "tune")["r2"].tolist() == [0.25]


def test_an_unfinished_run_is_not_found(tmp_path, caplog):
    write_run(tmp_path / "done")
    write_run(tmp_path / "killed")
    runs.RunFiles(tmp_path / "killed").summary.unlink()
    assert not runs.finished(tmp_path / "killed")
    assert [run.path.name for run in runs.find_runs(tmp_path)] == ["done"]
    with pytest.raises(FileNotFoundError, match="no finished run"):
        runs.load_run(tmp_path / "killed")
    with pytest.raises(FileNotFoundError, match="no finished run"):
        runs.find_runs(tmp_path / "killed")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        runs.find_runs(tmp_path / "absent")
    runs.RunFiles(tmp_path / "done").config.unlink()  # a summary without a config is skipped, with a warning
    with caplog.at_level(logging.WARNING), pytest.raises(FileNotFoundError, match="no finished run"):
        runs.find_runs(tmp_path)
    assert "skipping" in caplog.text


def test_a_moved_run_uses_its_own_best_checkpoint(tmp_path):
    write_run(tmp_path / "before")
    os.rename(tmp_path / "before", tmp_path / "after")
    assert runs.load_run(tmp_path / "after").checkpoint == runs.RunFiles(tmp_path / "after").best


def test_summary_is_written_atomically(tmp_path, monkeypatch):
    files = runs.RunFiles(tmp_path)
    runs.write_summary(tmp_path, {"best_epoch": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary file left behind

    # a value JSON cannot hold: nothing is written and the old summary stays whole
    with pytest.raises(TypeError, match="not JSON serializable"):
        runs.write_summary(tmp_path, {"best_epoch": 2, "bad": object()})
    assert json.loads(files.summary.read_text()) == {"best_epoch": 1}

    # a crash before the rename: no partial summary.json marks an unfinished run as finished
    files.summary.unlink()

    def crash(source, target):
        raise OSError("killed")

    monkeypatch.setattr(runs.os, "replace", crash)
    with pytest.raises(OSError, match="killed"):
        runs.write_summary(tmp_path, {"best_epoch": 2})
    assert not runs.finished(tmp_path) and list(tmp_path.iterdir()) == []


def test_gene_set_names_the_run_directory(tmp_path):
    assert runs.gene_set_name("BTNL3", None) == "BTNL3"
    assert runs.gene_set_name(None, None) == "all_genes"
    assert runs.gene_set_name(None, str(tmp_path / "genes.txt")) == "genes"
    assert runs.gene_set_name(None, ["BTNL3", "ZFP57", "PPIF"]) == "BTNL3+2"
    assert runs.gene_set_name(None, ["PPIF"]) == "PPIF"


def test_gene_list_reads_a_gene_file(tmp_path):
    genes = tmp_path / "genes.txt"
    genes.write_text("# genes of a run\nBTNL3 chr5\n\nENSG00000204644\n")
    assert runs.gene_list(None, str(genes)) == ["BTNL3", "ENSG00000204644"]
    assert runs.gene_list("PPIF", str(genes)) == ["PPIF"]  # gene= wins
    assert runs.gene_list(None, None) is None  # every gene of the data
    with pytest.raises(FileNotFoundError, match="one gene per line"):
        runs.gene_list(None, str(tmp_path / "absent.txt"))
