"""Run folders the evaluation must not lose silently: unfinished runs are named, counted and written down."""

import logging

import pandas as pd
import pytest
from omegaconf import OmegaConf

from performer import runs
from performer.data.splits import PeopleSplit
from performer.evaluation.tables import write_skipped_runs


def finished_run(run_dir) -> None:
    """A finished run folder written through ``performer.runs``: config, split, best checkpoint, summary."""
    files = runs.RunFiles(run_dir)
    runs.write_config(run_dir, OmegaConf.create({"experiment_name": "single_gene", "gene": "BTNL3", "fold": 0}))
    runs.write_split(run_dir, PeopleSplit(train=["p1", "p2"], tune=["p3"], test=["p4"]))
    files.checkpoints.mkdir()
    files.best.write_bytes(b"weights")
    runs.write_summary(run_dir, {"run_dir": str(run_dir), "checkpoint": str(files.best)})


def test_unfinished_runs_are_named_counted_and_written(tmp_path, caplog):
    finished_run(tmp_path / "BTNL3" / "fold0")
    for name in ("fold1", "fold2"):  # killed runs: fold1 with its resume state, fold2 before its first epoch
        finished_run(tmp_path / "BTNL3" / name)
        runs.RunFiles(tmp_path / "BTNL3" / name).summary.unlink()
    runs.RunFiles(tmp_path / "BTNL3" / "fold1").last.write_bytes(b"resume")
    # not runs: Hydra's record of a job and a logger's files inside a run folder
    (tmp_path / "BTNL3" / "fold1" / ".hydra").mkdir()
    (tmp_path / "BTNL3" / "fold1" / ".hydra" / "config.yaml").write_text("a: 1\n")
    (tmp_path / "BTNL3" / "fold0" / "wandb" / "run-1" / "files").mkdir(parents=True)
    (tmp_path / "BTNL3" / "fold0" / "wandb" / "run-1" / "files" / "config.yaml").write_text("a: 1\n")

    with caplog.at_level(logging.WARNING, logger="performer.runs"):
        found = runs.find_runs(tmp_path)
    assert [run.path for run in found] == [tmp_path / "BTNL3" / "fold0"]
    killed = [tmp_path / "BTNL3" / "fold1", tmp_path / "BTNL3" / "fold2"]
    for path in killed:
        assert f"skipping unfinished run {path}: no summary.json" in caplog.text
    assert f"ckpt_path={killed[0] / 'checkpoints' / 'last.ckpt'}" in caplog.text  # the fix: resume it
    assert "skipped 2 run folders {'unfinished': 2}" in caplog.text

    finished, skipped = runs.scan_runs(tmp_path)
    assert [r.path for r in finished] == [found[0].path]
    assert [(r.path, r.status) for r in skipped] == [(path, "unfinished") for path in killed]
    write_skipped_runs(skipped, tmp_path / "skipped_runs.csv")
    table = pd.read_csv(tmp_path / "skipped_runs.csv")
    assert table["run_dir"].tolist() == [str(p) for p in killed] and set(table["status"]) == {"unfinished"}
    write_skipped_runs([], tmp_path / "none.csv")  # none: a header only, never a stale list
    assert pd.read_csv(tmp_path / "none.csv").columns.tolist() == ["run_dir", "status", "reason"]

    # a folder of unfinished runs only is an error that names them
    with pytest.raises(FileNotFoundError, match="no finished run") as error:
        runs.find_runs(tmp_path / "BTNL3" / "fold1")
    assert str(killed[0]) in str(error.value) and "unfinished" in str(error.value)
    runs.RunFiles(tmp_path / "BTNL3" / "fold0").summary.unlink()
    with pytest.raises(FileNotFoundError, match="it holds 3 run folders that are not finished runs") as error:
        runs.find_runs(tmp_path)
    assert all(str(path) in str(error.value) for path in [tmp_path / "BTNL3" / "fold0", *killed])
