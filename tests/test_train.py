"""The main job end to end through Hydra: `python train.py ...` on a tiny simulated cohort."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, TINY_MODEL, run_train
from hydra import compose, initialize_config_dir
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

from performer.model import build_trunk

FAST = [*TINY_MODEL, "batch_size=8", "eval_batch_size=4", "max_epochs=2"]


@pytest.fixture(scope="module")
def single_gene_run(tiny_cohort, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "btnl3"
    result = run_train(run_dir, "gene=BTNL3", f"data.root={tiny_cohort}", *FAST)
    return run_dir, result


def test_single_gene_run_writes_every_output(single_gene_run):
    run_dir, result = single_gene_run
    for name in [
        "config.yaml",
        "metrics.csv",
        "predictions_tune.csv",
        "predictions_test.csv",
        "metrics_tune.csv",
        "metrics_test.csv",
        "summary.json",
        "checkpoints/best.ckpt",
    ]:
        assert (run_dir / name).exists(), name
    assert "BTNL3 fold 0: best epoch" in result.stdout  # the closing summary line
    assert list((run_dir / "wandb").glob("offline-run-*")), "W&B logs offline without an API key"

    splits = {s: (run_dir / "splits" / f"{s}.txt").read_text().split() for s in ("train", "tune", "test")}
    assert [len(splits[s]) for s in ("train", "tune", "test")] == [48, 6, 6]

    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert list(metrics["epoch"]) == [0, 1]
    assert set(metrics["gene"]) == {"BTNL3"} and (metrics["n_people"] == 6).all()
    assert {"pcc", "r2", "loss", "train_loss"} <= set(metrics.columns)

    for split in ("tune", "test"):
        predictions = pd.read_csv(run_dir / f"predictions_{split}.csv", dtype={"person": str})
        assert sorted(predictions["person"]) == sorted(splits[split])
        per_gene = pd.read_csv(run_dir / f"metrics_{split}.csv")
        assert per_gene["pcc"].iloc[0] == pytest.approx(pearsonr(predictions["pred"], predictions["y"]).statistic)
        assert per_gene["r2"].iloc[0] == pytest.approx(r2_score(predictions["y"], predictions["pred"]))

    summary = json.loads((run_dir / "summary.json").read_text())
    best = pd.read_csv(run_dir / "metrics_tune.csv")
    assert summary["tune"]["mean_pcc"] == pytest.approx(best["pcc"].mean())
    assert summary["tune"]["mean_r2"] == pytest.approx(metrics["r2"].max())  # best epoch by tune R^2

    checkpoint = torch.load(run_dir / "checkpoints" / "best.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["hyper_parameters"]["trunk"]["dim"] == 24
    assert (run_dir / "checkpoints" / "best.ckpt").stat().st_size < 5_000_000  # weights, no data


def test_finished_run_is_not_retrained(single_gene_run, tiny_cohort):
    run_dir, _ = single_gene_run
    before = (run_dir / "checkpoints" / "best.ckpt").stat().st_mtime_ns
    result = run_train(run_dir, "gene=BTNL3", f"data.root={tiny_cohort}", *FAST, "logger=none")
    assert "already finished" in result.stdout + result.stderr
    assert (run_dir / "checkpoints" / "best.ckpt").stat().st_mtime_ns == before


def test_evaluating_the_best_checkpoint_reproduces_its_metrics(single_gene_run, tiny_cohort, tmp_path):
    run_dir, _ = single_gene_run
    run_train(
        tmp_path / "eval",
        "gene=BTNL3",
        f"data.root={tiny_cohort}",
        *FAST,
        "logger=none",
        "fit=false",
        f"ckpt_path={run_dir / 'checkpoints' / 'best.ckpt'}",
    )
    for split in ("tune", "test"):
        expected = pd.read_csv(run_dir / f"metrics_{split}.csv")
        got = pd.read_csv(tmp_path / "eval" / f"metrics_{split}.csv")
        np.testing.assert_allclose(got[["pcc", "r2"]], expected[["pcc", "r2"]], rtol=1e-5)


def test_multi_gene_ddp_matches_one_process(tiny_cohort, tmp_path):
    common = [f"data.root={tiny_cohort}", *FAST, "logger=csv", "experiment=multi_gene", "max_epochs=1"]
    run_train(tmp_path / "ddp", *common, "trainer=ddp", "trainer.devices=2", "trainer.accelerator=cpu")
    ckpt = tmp_path / "ddp" / "checkpoints" / "best.ckpt"
    trained = pd.read_csv(tmp_path / "ddp" / "predictions_tune.csv", dtype={"person": str})
    assert set(trained["gene"]) == {"BTNL3", "ZFP57", "PPIF"}
    assert not trained.duplicated(["gene", "person"]).any()
    assert len(trained) == 3 * 6  # every tune person of every gene, gathered from both ranks

    # One intra-op thread in both runs, so that the two differ only in how people are spread over
    # processes: thread counts change float rounding, which PCC amplifies after one epoch of training.
    evaluate = [*common, "fit=false", f"ckpt_path={ckpt}"]
    run_train(tmp_path / "one", *evaluate, "trainer=cpu", env={"OMP_NUM_THREADS": "1"})
    run_train(
        tmp_path / "two",
        *evaluate,
        "trainer=ddp",
        "trainer.devices=2",
        "trainer.accelerator=cpu",
        env={"OMP_NUM_THREADS": "1"},
    )
    people = (
        pd.read_csv(tmp_path / "one" / "predictions_tune.csv"),
        pd.read_csv(tmp_path / "two" / "predictions_tune.csv"),
    )
    pd.testing.assert_frame_equal(people[0], people[1])
    one = pd.read_csv(tmp_path / "one" / "metrics_tune.csv")
    two = pd.read_csv(tmp_path / "two" / "metrics_tune.csv")
    assert list(one["gene"]) == list(two["gene"])
    np.testing.assert_allclose(two[["n_people", "pcc", "r2"]], one[["n_people", "pcc", "r2"]], rtol=1e-5)


def test_paper_recipe_composes():
    overrides = [
        "experiment=paper_single_gene",
        "data=gtex_whole_blood",
        "data.root=/data/gtex",
        "model.pretrained=/weights/enformer",
        "gene=BTNL3",
    ]
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    assert (cfg.model.trunk.dim, cfg.model.trunk.depth, cfg.model.trunk.heads) == (1536, 11, 8)
    assert cfg.model.window_bp == 49_152 and cfg.lr == 5e-6
    assert (cfg.batch_size, cfg.accumulate, cfg.gradient_clip_val) == (32, 4, 0.05)
    assert cfg.trainer.precision == "bf16-mixed"
    assert (cfg.selection.monitor, cfg.selection.patience) == ("val/mean_r2", 20)


def test_paper_recipe_runs_with_tiny_local_pretrained_weights(tiny_cohort, tmp_path):
    torch.manual_seed(0)
    trunk = dict(dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4)
    build_trunk(**trunk).save_pretrained(tmp_path / "enformer", safe_serialization=False)
    recipe = [
        "experiment=paper_single_gene",
        "gene=BTNL3",
        f"data.root={tiny_cohort}",
        "trainer=cpu",
        "logger=none",
        *TINY_MODEL,
        "batch_size=4",
        "accumulate=2",
        "max_epochs=1",
        "num_workers=0",
    ]
    run_train(tmp_path / "paper", *recipe, f"model.pretrained={tmp_path / 'enformer'}")
    assert (tmp_path / "paper" / "summary.json").exists()

    missing = run_train(tmp_path / "missing", *recipe, f"model.pretrained={tmp_path / 'absent'}", check=False)
    assert missing.returncode != 0
    assert "no pretrained Enformer at" in missing.stderr


@pytest.mark.skipif(
    not os.environ.get("PERFORMER_GEUVADIS"), reason="set PERFORMER_GEUVADIS to the Geuvadis chr22 folder"
)
def test_real_cohort_end_to_end(tmp_path):
    result = run_train(
        tmp_path / "geuvadis",
        "data=geuvadis_chr22",
        "gene=ZNF74",
        "logger=none",
        *TINY_MODEL,
        "batch_size=32",
        "eval_batch_size=64",
        "max_epochs=1",
    )
    log = result.stdout + result.stderr
    assert "cohort: 344 people" in log
    assert "skipped records" in log
    predictions = pd.read_csv(tmp_path / "geuvadis" / "predictions_test.csv")
    assert set(predictions["gene"]) == {"ZNF74"} and len(predictions) > 30


def test_resume_from_last_checkpoint(tiny_cohort, tmp_path):
    common = ["gene=BTNL3", f"data.root={tiny_cohort}", *FAST, "logger=none"]
    run_train(tmp_path / "run", *common, "max_epochs=1")
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    run_train(tmp_path / "run", *common, "max_epochs=2", "overwrite=true", f"ckpt_path={last}")
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert list(metrics["epoch"]) == [0, 1]  # epoch 0 from the first run, epoch 1 resumed
