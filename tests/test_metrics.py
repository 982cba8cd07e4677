"""Tests for performer.metrics against scipy.stats.pearsonr and sklearn.metrics.r2_score per gene."""

from __future__ import annotations

import json

import lightning as L
import numpy as np
import pandas as pd
import pytest
from conftest import tiny_datamodule
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

from performer.metrics import METRIC_COLUMNS, gene_metrics, mean_over_genes, per_gene_metrics
from performer.model.module import PerformerModule


def tidy_table(seed: int = 0) -> pd.DataFrame:
    """3 genes with different sizes, signal and scale, rows shuffled so genes are interleaved."""
    rng = np.random.default_rng(seed)
    rows = []
    for gene, n, signal, scale in [("ENSG1", 40, 0.9, 1.0), ("ENSG2", 25, 0.2, 5.0), ("ENSG3", 60, -0.5, 0.1)]:
        y = rng.normal(size=n) * scale + 3
        pred = signal * (y - 3) + rng.normal(size=n) * scale * 0.7 + 2.5
        rows.append(pd.DataFrame({"gene_id": gene, "person": [f"p{i}" for i in range(n)], "y": y, "pred": pred}))
    table = pd.concat(rows, ignore_index=True)
    return table.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_gene_metrics_match_scipy_and_sklearn():
    rng = np.random.default_rng(1)
    for n in (2, 3, 10, 200):
        y = rng.normal(size=n)
        pred = 0.5 * y + rng.normal(size=n)
        m = gene_metrics(y, pred)
        assert m["n_people"] == n
        assert m["pcc"] == pytest.approx(pearsonr(pred, y).statistic, rel=1e-12, abs=1e-12)
        assert m["r2"] == pytest.approx(r2_score(y, pred), rel=1e-12, abs=1e-12)
        assert m["mse"] == pytest.approx(np.mean((pred - y) ** 2), rel=1e-12)


def test_r2_is_not_symmetric_and_uses_targets_as_truth():
    """R^2 = 1 - SS_res / SS_tot(y): swapping y and pred changes it; a wrong argument order would be caught."""
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    pred = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    m = gene_metrics(y, pred)
    assert m["r2"] == pytest.approx(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
    assert m["r2"] == pytest.approx(0.25)
    assert m["pcc"] == pytest.approx(1.0)
    # worse than the mean: negative R^2
    assert gene_metrics(y, -y)["r2"] < 0
    assert gene_metrics(y, -y)["pcc"] == pytest.approx(-1.0)


@pytest.mark.parametrize("by", ["gene_id", ["gene_id"]])
def test_per_gene_metrics_match_independent_computation(by):
    table = tidy_table()
    got = per_gene_metrics(table, by=by)
    assert list(got.columns) == ["gene_id", *METRIC_COLUMNS]
    assert len(got) == 3
    assert set(got["gene_id"]) == {"ENSG1", "ENSG2", "ENSG3"}
    for _, row in got.iterrows():
        sub = table[table["gene_id"] == row["gene_id"]]
        assert row["n_people"] == len(sub)
        assert row["pcc"] == pytest.approx(pearsonr(sub["pred"], sub["y"]).statistic, rel=1e-12)
        assert row["r2"] == pytest.approx(r2_score(sub["y"], sub["pred"]), rel=1e-12)
        assert row["mse"] == pytest.approx(np.mean((sub["pred"] - sub["y"]) ** 2), rel=1e-12)
    # pooled metrics over all genes would differ: make sure the grouping matters
    assert not np.isclose(got["pcc"].mean(), pearsonr(table["pred"], table["y"]).statistic)


def test_per_gene_metrics_several_keys():
    table = tidy_table()
    table["fold"] = np.arange(len(table)) % 2
    got = per_gene_metrics(table, by=["fold", "gene_id"])
    assert list(got.columns) == ["fold", "gene_id", *METRIC_COLUMNS]
    assert len(got) == 6
    for _, row in got.iterrows():
        sub = table[(table["gene_id"] == row["gene_id"]) & (table["fold"] == row["fold"])]
        assert row["n_people"] == len(sub)
        assert row["pcc"] == pytest.approx(pearsonr(sub["pred"], sub["y"]).statistic, rel=1e-12)
        assert row["r2"] == pytest.approx(r2_score(sub["y"], sub["pred"]), rel=1e-12)


def test_constant_predictions_give_nan_pcc():
    y = np.array([1.0, 2.0, 3.0, 5.0])
    m = gene_metrics(y, np.full(4, 2.0))
    assert np.isnan(m["pcc"])
    assert m["r2"] == pytest.approx(r2_score(y, np.full(4, 2.0)))
    assert np.isnan(gene_metrics(np.full(4, 1.0), y)["pcc"])  # constant targets
    one = gene_metrics(np.array([1.0]), np.array([2.0]))
    assert one["n_people"] == 1 and np.isnan(one["pcc"]) and np.isnan(one["r2"])
    assert one["mse"] == pytest.approx(1.0)


def test_per_gene_metrics_nan_for_constant_gene_and_mean_ignores_it():
    table = tidy_table()
    table.loc[table["gene_id"] == "ENSG2", "pred"] = 0.7
    got = per_gene_metrics(table)
    assert np.isnan(got.set_index("gene_id").at["ENSG2", "pcc"])
    finite = got[got["gene_id"] != "ENSG2"]
    summary = mean_over_genes(got)
    assert summary["n_genes"] == 2
    assert summary["mean_pcc"] == pytest.approx(finite["pcc"].mean())
    assert summary["mean_r2"] == pytest.approx(got["r2"].mean())  # R^2 still defined for ENSG2
    # the gene left out of the PCC mean is named, not silently dropped
    assert summary["n_pcc_undefined"] == 1 and summary["pcc_undefined"] == ["ENSG2"]
    assert got.set_index("gene_id")["pcc_undefined"].to_dict() == {"ENSG1": False, "ENSG2": True, "ENSG3": False}


def test_mean_over_genes():
    metrics = pd.DataFrame(
        {"gene_id": ["a", "b", "c", "d"], "pcc": [0.5, np.nan, 0.1, -0.3], "r2": [0.2, np.nan, np.nan, -0.1]}
    )
    out = mean_over_genes(metrics)
    assert out["mean_pcc"] == pytest.approx(0.1)
    assert out["mean_r2"] == pytest.approx(0.05)
    assert out["n_genes"] == 3
    assert out["n_pcc_undefined"] == 1 and out["pcc_undefined"] == ["b"]
    assert all(np.isfinite(out[k]) for k in ("mean_pcc", "mean_r2", "n_genes"))
    empty = mean_over_genes(pd.DataFrame({"pcc": [np.nan, np.nan], "r2": [np.nan, np.nan]}))
    assert np.isnan(empty["mean_pcc"]) and np.isnan(empty["mean_r2"]) and empty["n_genes"] == 0
    assert empty["n_pcc_undefined"] == 2 and empty["pcc_undefined"] == [0, 1]  # no gene column: the row index
    none = mean_over_genes(pd.DataFrame({"gene": [], "pcc": [], "r2": []}))
    assert (
        np.isnan(none["mean_pcc"]) and none["n_genes"] == none["n_pcc_undefined"] == 0 and none["pcc_undefined"] == []
    )


def test_mean_over_genes_names_undefined_genes_by_the_gene_column():
    """Labels come from ``gene`` (symbols or the module's int indices), else ``gene_id``, else ``label=``."""
    pcc = [0.3, np.nan, np.nan, 0.1]
    table = pd.DataFrame({"gene_id": ["E1", "E2", "E3", "E4"], "gene": [7, 2, 9, 4], "pcc": pcc, "r2": 0.0})
    out = mean_over_genes(table)
    assert out["pcc_undefined"] == [2, 9] and all(type(g) is int for g in out["pcc_undefined"])
    assert json.loads(json.dumps(out))["pcc_undefined"] == [2, 9]  # plain Python values, for summary.json
    assert mean_over_genes(table.drop(columns="gene"))["pcc_undefined"] == ["E2", "E3"]
    assert mean_over_genes(table, label="gene_id")["pcc_undefined"] == ["E2", "E3"]
    assert out["n_pcc_undefined"] == 2 and out["n_genes"] == 2 and out["mean_pcc"] == pytest.approx(0.2)
    # the keys other code reads are unchanged
    assert list(out) == ["mean_pcc", "mean_r2", "n_genes", "n_pcc_undefined", "pcc_undefined"]


# ------------------------------------------------------------ selection in a real Trainer

TINY_TRUNK = dict(dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, init="kaiming")
TINY_TRUNK.update(dropout_rate=0.0, attn_dropout=0.0, pos_dropout=0.0)


class KeepEpochTables(Callback):
    """Copies the module's per-gene tune table and the logged means at the end of every training epoch."""

    def __init__(self):
        self.tables, self.logged = [], []

    def on_train_epoch_end(self, trainer, module):
        self.tables.append(module.gene_metrics["fit"].copy())
        self.logged.append({k: float(v) for k, v in trainer.callback_metrics.items() if "/mean_" in k})


@pytest.mark.slow
def test_selection_uses_training_genes_only(tiny_cohort, tmp_path):
    """``val/mean_r2`` (early stopping, best checkpoint) averages the training genes; held-out genes are apart."""
    datamodule = tiny_datamodule(
        tiny_cohort,
        genes=["BTNL3", "ZFP57"],
        eval_genes=["BTNL3", "ZFP57", "PPIF"],  # PPIF: a held-out gene (HOGP)
        batch_size=8,
        accumulate=1,
        eval_batch_size=4,
    )
    L.seed_everything(0)
    module = PerformerModule(trunk=TINY_TRUNK, lr=5e-4)
    tables = KeepEpochTables()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "checkpoints", monitor="val/mean_r2", mode="max", save_top_k=1)
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=3,
        log_every_n_steps=5,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,
        logger=CSVLogger(tmp_path, name="logs"),
        callbacks=[checkpoint, tables],
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, datamodule=datamodule)

    expected_hop = []
    for table, logged in zip(tables.tables, tables.logged, strict=True):
        names = [datamodule.gene_names[g] for g in table["gene"]]
        assert dict(zip(names, table["gene_set"])) == {"BTNL3": "HOP", "ZFP57": "HOP", "PPIF": "HOGP"}
        hop, hogp = table[table["gene_set"] == "HOP"], table[table["gene_set"] == "HOGP"]
        assert logged["val/mean_r2"] == pytest.approx(hop["r2"].mean(), rel=1e-6)
        assert logged["val/mean_pcc"] == pytest.approx(hop["pcc"].mean(), rel=1e-6)
        assert logged["val_hogp/mean_r2"] == pytest.approx(hogp["r2"].mean(), rel=1e-6)
        assert logged["val_hogp/mean_pcc"] == pytest.approx(hogp["pcc"].mean(), rel=1e-6)
        assert logged["val/mean_r2"] != pytest.approx(table["r2"].mean(), rel=1e-6)  # PPIF is left out
        expected_hop.append(hop["r2"].mean())
    assert len(expected_hop) == 3
    # the best checkpoint is the best epoch by the training genes' mean tune R^2
    assert float(checkpoint.best_model_score) == pytest.approx(max(expected_hop), rel=1e-6)

    # the last epoch's per-gene table agrees with scipy / sklearn on the module's gathered predictions
    predictions = module.predictions["fit"]
    assert len(predictions) == 3 * len(datamodule.split.tune)
    for row in tables.tables[-1].itertuples():
        people = predictions[predictions["gene"] == row.gene]
        assert row.r2 == pytest.approx(r2_score(people["y"], people["pred"]), rel=1e-9)
        assert row.pcc == pytest.approx(pearsonr(people["pred"], people["y"]).statistic, rel=1e-9)

    # per-gene logs are split the same way; the train loss is logged every log_every_n_steps steps, not in
    # the progress bar (which would pull it to the host every micro-batch)
    logs = pd.read_csv(tmp_path / "logs" / "version_0" / "metrics.csv")
    assert {"val/r2/BTNL3", "val/r2/ZFP57", "val_hogp/r2/PPIF"} <= set(logs.columns)
    assert "val/r2/PPIF" not in logs.columns
    steps_per_epoch = 2 * (len(datamodule.split.train) // 8)
    assert logs["train/loss_step"].notna().sum() == 3 * steps_per_epoch // 5
    assert logs["train/loss_epoch"].notna().sum() == 3
    assert not any(k.startswith("train/") for k in trainer.progress_bar_metrics)
