"""Evaluation under DDP with fewer batches than ranks: padded batches, every person counted once.

The multi-process tests run ``train.py`` with 4 CPU ranks (gloo) on gene sets smaller than the world
size, so some ranks only get padding batches, and compare the gathered tune/test predictions with a
one-process evaluation of the same checkpoint. (Training itself differs between 1 and 4 processes:
each optimiser step averages 4 ranks' blocks; so the comparison is on the checkpoint the DDP run chose.)
"""

import json

import lightning as L
import numpy as np
import pandas as pd
import pytest
from conftest import TINY_MODEL, run_train, tiny_datamodule
from torch.utils.data import DataLoader

from performer.data.dataset import collate_batch
from performer.data.sampler import EvalBatchSampler
from performer.model.module import PerformerModule

TINY_TRUNK = dict(dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, init="kaiming")
TINY_TRUNK.update(dropout_rate=0.0, attn_dropout=0.0, pos_dropout=0.0)

FOUR_RANKS = ["trainer=ddp", "trainer.devices=4", "trainer.accelerator=cpu"]
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # thread counts change float rounding; keep both runs alike


def test_padding_items_are_dropped_before_metrics(tiny_cohort, tmp_path):
    """All 4 ranks' batches, padding included, through one real Trainer give the unpadded predictions."""
    datamodule = tiny_datamodule(tiny_cohort, genes=["BTNL3"])
    datamodule.prepare_data()
    datamodule.setup()
    dataset = datamodule.datasets["tune"]
    L.seed_everything(0)
    module = PerformerModule(trunk=TINY_TRUNK)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)

    def predictions(batches: list[list[int]]) -> pd.DataFrame:
        trainer.validate(module, dataloaders=DataLoader(dataset, batch_sampler=batches, collate_fn=collate_batch))
        return module.predictions["validate"]

    # 6 tune people in batches of 4: 2 real batches, 2 padding batches over 4 ranks
    every_rank = [b for rank in range(4) for b in EvalBatchSampler(dataset.groups(), 4, num_replicas=4, rank=rank)]
    assert sum(i < 0 for b in every_rank for i in b) == 2
    padded = predictions(every_rank)
    plain_batches = list(EvalBatchSampler(dataset.groups(), 4))
    plain = predictions(plain_batches)
    assert len(padded) == len(datamodule.split.tune) == 6
    assert sorted(datamodule.people[p] for p in padded["person"]) == sorted(datamodule.split.tune)
    pd.testing.assert_frame_equal(padded, plain)
    # padding alone adds nobody
    assert len(predictions([[~i for i in b] for b in plain_batches])) == 0


def compare_with_one_process(ddp_run, one_run):
    """The DDP run's tune/test predictions, per-gene metrics and summary equal the one-process run's."""
    for split in ("tune", "test"):
        ddp = pd.read_csv(ddp_run / f"predictions_{split}.csv", dtype={"person": str})
        one = pd.read_csv(one_run / f"predictions_{split}.csv", dtype={"person": str})
        assert not ddp.duplicated(["gene", "person"]).any()
        pd.testing.assert_frame_equal(ddp.drop(columns="pred"), one.drop(columns="pred"))
        np.testing.assert_allclose(ddp["pred"], one["pred"], rtol=0, atol=1e-5)
        ddp_metrics = pd.read_csv(ddp_run / f"metrics_{split}.csv")
        one_metrics = pd.read_csv(one_run / f"metrics_{split}.csv")
        pd.testing.assert_frame_equal(ddp_metrics[["gene", "n_people"]], one_metrics[["gene", "n_people"]])
        np.testing.assert_allclose(ddp_metrics[["pcc", "r2"]], one_metrics[["pcc", "r2"]], rtol=1e-5, atol=1e-6)
    summaries = [json.loads((run / "summary.json").read_text()) for run in (ddp_run, one_run)]
    for split in ("tune", "test"):
        for key in ("mean_pcc", "mean_r2"):
            assert summaries[0][split][key] == pytest.approx(summaries[1][split][key], rel=1e-5, abs=1e-6)
        assert summaries[0][split]["n_genes"] == summaries[1][split]["n_genes"]


@pytest.mark.slow
def test_one_gene_on_four_ranks_matches_one_process(tiny_cohort, tmp_path):
    """1 gene, 6 tune and 6 test people in batches of 4: ranks 2 and 3 get only padding."""
    common = [f"data.root={tiny_cohort}", *TINY_MODEL, "gene=BTNL3", "logger=none"]
    common += ["batch_size=4", "trainer.accumulate_grad_batches=1", "eval_batch_size=4"]
    run_train(tmp_path / "ddp", *common, "trainer.max_epochs=2", *FOUR_RANKS, env=ONE_THREAD)
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["best_epoch"] in (0, 1)
    splits = {s: (tmp_path / "ddp" / "splits" / f"{s}.txt").read_text().split() for s in ("tune", "test")}
    for split in ("tune", "test"):  # everyone gathered once from the 4 ranks
        predictions = pd.read_csv(tmp_path / "ddp" / f"predictions_{split}.csv", dtype={"person": str})
        assert sorted(predictions["person"]) == sorted(splits[split]) and len(splits[split]) == 6
    ckpt = summary["checkpoint"]
    run_train(tmp_path / "one", *common, "fit=false", f"ckpt_path={ckpt}", "trainer=cpu", env=ONE_THREAD)
    compare_with_one_process(tmp_path / "ddp", tmp_path / "one")


@pytest.mark.slow
def test_fewer_genes_than_ranks_matches_one_process(tiny_cohort, tmp_path):
    """2 training genes and 1 held-out gene, one tune batch each, on 4 ranks: rank 3 gets only padding."""
    common = [f"data.root={tiny_cohort}", *TINY_MODEL, "experiment=multi_gene", "genes=[BTNL3,ZFP57]"]
    common += [
        "eval_genes=[PPIF]",
        "logger=none",
        "batch_size=8",
        "trainer.accumulate_grad_batches=1",
        "eval_batch_size=8",
    ]
    run_train(tmp_path / "ddp", *common, "trainer.max_epochs=1", *FOUR_RANKS, env=ONE_THREAD)
    metrics = pd.read_csv(tmp_path / "ddp" / "metrics_tune.csv")
    assert dict(zip(metrics["gene"], metrics["gene_set"])) == {"BTNL3": "HOP", "ZFP57": "HOP", "PPIF": "HOGP"}
    assert (metrics["n_people"] == 6).all()
    ckpt = json.loads((tmp_path / "ddp" / "summary.json").read_text())["checkpoint"]
    run_train(tmp_path / "one", *common, "fit=false", f"ckpt_path={ckpt}", "trainer=cpu", env=ONE_THREAD)
    compare_with_one_process(tmp_path / "ddp", tmp_path / "one")
