"""Sweeps, HOP/HOGP evaluation, baselines in the table and learning curves, through the entry points."""

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, TINY_MODEL, run_evaluate, run_sweep, run_train
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

from performer.baselines import elastic_net_baseline, load_reference_enformer
from performer.data.expression import strip_version
from performer.data.splits import MissingPeopleError, PeopleSplit, make_split
from performer.evaluation.finished_run import annotate, prediction_precision, run_datamodule
from performer.evaluation.tables import summary_table
from performer.model import build_trunk
from performer.runs import Run, build_datamodule
from performer.tasks.evaluate import evaluate
from performer.tasks.interpret import _coefficients, enformer_ism

FAST = [*TINY_MODEL, "batch_size=8", "eval_batch_size=16", "trainer.max_epochs=1", "logger=none"]


@pytest.fixture(scope="module")
def sweep(tiny_cohort, tmp_path_factory):
    """A Hydra multirun: 2 genes x 2 folds of single-gene models."""
    return run_sweep(
        tmp_path_factory.mktemp("sweep"), "gene=BTNL3,ZFP57", "fold=0,1", f"data.root={tiny_cohort}", *FAST
    )


@pytest.mark.slow  # the sweep fixture trains 4 runs
def test_sweep_writes_the_predictable_tree(sweep):
    for gene in ("BTNL3", "ZFP57"):
        for fold in (0, 1):
            assert (sweep / gene / f"fold{fold}" / "summary.json").exists()


@pytest.mark.slow  # the sweep fixture trains 4 runs
def test_evaluation_table_matches_scipy_and_sklearn(sweep):
    run_evaluate(f"runs={sweep}", "baseline=elastic_net")
    table = pd.read_csv(sweep / "evaluation" / "evaluation.csv")
    predictions = pd.read_csv(sweep / "evaluation" / "predictions.csv")
    assert set(table["model"]) == {"performer", "elastic_net"}
    performer = table[table["model"] == "performer"]
    assert len(performer) == 4 and set(performer["gene_set"]) == {"HOP"} and set(performer["split"]) == {"test"}
    for row in table[table["split"] == "test"].itertuples():
        people = predictions[
            (predictions["model"] == row.model)
            & (predictions["gene"] == row.gene)
            & (predictions["fold"] == row.fold)
            & (predictions["split"] == "test")
        ]
        assert len(people) == row.n_people == 6
        assert row.r2 == pytest.approx(r2_score(people["y"], people["pred"]))
        if people["pred"].std() > 0:
            assert row.pcc == pytest.approx(pearsonr(people["pred"], people["y"]).statistic)
    folds = performer.groupby("gene")["r2"].mean()
    np.testing.assert_allclose(
        performer.set_index("gene").loc[folds.index, "mean_r2_folds"].groupby(level=0).first(), folds
    )
    assert table["h2"].notna().all()  # the simulated cohort knows its heritability
    assert (table["pcc_undefined"] == table["pcc"].isna()).all()  # genes left out of PCC means are flagged
    coefficients = pd.read_csv(sweep / "evaluation" / "elastic_net_coefficients.csv")
    assert set(coefficients["fold"]) == {0, 1}
    for name in ("performer_vs_elastic_net.png", "r2_difference_by_h2.png"):
        assert (sweep / "evaluation" / name).stat().st_size > 0


@pytest.mark.slow  # the sweep fixture trains 4 runs
def test_finished_runs_in_a_sweep_are_skipped(sweep, tiny_cohort):
    before = (sweep / "BTNL3" / "fold0" / "checkpoints" / "best.ckpt").stat().st_mtime_ns
    run_train(sweep / "BTNL3" / "fold0", "gene=BTNL3", "fold=0", f"data.root={tiny_cohort}", *FAST)
    assert (sweep / "BTNL3" / "fold0" / "checkpoints" / "best.ckpt").stat().st_mtime_ns == before


@pytest.mark.slow  # the sweep fixture trains 4 runs
def test_unfinished_runs_are_named_in_the_log_and_the_evaluation(sweep, tmp_path, caplog):
    """A killed run beside a finished one: named in a WARNING and in skipped_runs.csv, not evaluated."""
    root = tmp_path / "runs"
    shutil.copytree(sweep / "BTNL3" / "fold0", root / "done")  # with Hydra's .hydra/config.yaml: not a run
    shutil.copytree(sweep / "BTNL3" / "fold0", root / "killed")
    (root / "killed" / "summary.json").unlink()
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="evaluate", overrides=[f"runs={root}", "figures=false"])
    with caplog.at_level(logging.WARNING):
        table = evaluate(cfg, root / "evaluation")
    assert f"skipping unfinished run {root / 'killed'}: no summary.json" in caplog.text
    skipped = pd.read_csv(root / "evaluation" / "skipped_runs.csv")
    assert skipped[["run_dir", "status"]].values.tolist() == [[str(root / "killed"), "unfinished"]]
    assert set(table["run_dir"]) == {str(root / "done")}
    predictions = pd.read_csv(root / "evaluation" / "predictions.csv")
    assert set(predictions["run_dir"]) == {str(root / "done")}


@pytest.mark.slow  # trains a run and evaluates it with the elastic net: ~22 s on 2 CPU cores
def test_multi_gene_model_on_held_out_genes(tiny_cohort, tmp_path):
    """The run's own held-out gene (trained with eval_genes=[PPIF]) is evaluated without being named again."""
    run_train(
        tmp_path / "runs" / "multi",
        "experiment=multi_gene",
        "genes=[BTNL3,ZFP57]",
        "eval_genes=[PPIF]",
        f"data.root={tiny_cohort}",
        *FAST,
    )
    run_evaluate(f"runs={tmp_path / 'runs'}", "baseline=elastic_net", "figures=false")
    table = pd.read_csv(tmp_path / "runs" / "evaluation" / "evaluation.csv")
    performer = table[table["model"] == "performer"]
    assert dict(zip(performer["gene"], performer["gene_set"])) == {"BTNL3": "HOP", "ZFP57": "HOP", "PPIF": "HOGP"}
    # the same numbers as the run's own metrics_test.csv, HOGP row included
    own = pd.read_csv(tmp_path / "runs" / "multi" / "metrics_test.csv")
    both = performer.merge(own, on=["gene_id", "gene", "gene_set"], suffixes=("", "_run"))
    assert sorted(both["gene"]) == ["BTNL3", "PPIF", "ZFP57"]
    np.testing.assert_array_equal(both["n_people"], both["n_people_run"])
    np.testing.assert_allclose(both["pcc"], both["pcc_run"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(both["r2"], both["r2_run"], rtol=1e-4, atol=1e-6)
    # the elastic net is fitted on each gene's own train people, PPIF included: all HOP
    elastic_net = table[table["model"] == "elastic_net"]
    assert set(elastic_net["gene"]) == {"BTNL3", "ZFP57", "PPIF"} and set(elastic_net["gene_set"]) == {"HOP"}
    assert set(table["window_bp"]) == {2048}
    predictions = pd.read_csv(tmp_path / "runs" / "evaluation" / "predictions.csv", dtype={"person": str})
    predictions = predictions[predictions["model"] == "performer"]
    test_people = (tmp_path / "runs" / "multi" / "splits" / "test.txt").read_text().split()
    for gene in ("BTNL3", "PPIF"):  # held-out genes are scored on the same held-out people
        assert sorted(predictions.loc[predictions["gene"] == gene, "person"]) == sorted(test_people)


@pytest.mark.slow  # trains 2 runs: ~40 s on 2 CPU cores
def test_downsampled_train_people_are_nested(tiny_cohort, tmp_path):
    run_sweep(
        tmp_path, "experiment=downsample", "gene=BTNL3", "train_fraction=0.5,1.0", f"data.root={tiny_cohort}", *FAST
    )
    people = {
        f: (tmp_path / "BTNL3" / "fold0" / f"train{f}" / "splits" / "train.txt").read_text().split()
        for f in ("0.5", "1.0")
    }
    assert len(people["0.5"]) == 24 and len(people["1.0"]) == 48
    assert set(people["0.5"]) < set(people["1.0"])
    for split in ("tune", "test"):  # untouched by downsampling
        a, b = [
            (tmp_path / "BTNL3" / "fold0" / f"train{f}" / "splits" / f"{split}.txt").read_text() for f in ("0.5", "1.0")
        ]
        assert a == b
    run_evaluate(f"runs={tmp_path}", "figures=false")
    table = pd.read_csv(tmp_path / "evaluation" / "evaluation.csv")
    assert sorted(table["train_fraction"]) == [0.5, 1.0] and sorted(table["n_train"]) == [24, 48]


def saved_run(path, tiny_cohort, split: PeopleSplit | None, *overrides: str) -> Run:
    """A run folder as train.py leaves it, minus the checkpoint: the resolved config and ``splits/``."""
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"data.root={tiny_cohort}", *TINY_MODEL, *overrides])
    cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    if split is not None:
        split.save(path / "splits")
    return Run(path, cfg, path / "checkpoints" / "best.ckpt")


def cohort_people(run: Run) -> list[str]:
    datamodule = build_datamodule(run.cfg)
    datamodule.setup()
    return datamodule.people


def test_evaluation_uses_the_people_the_run_saved(tiny_cohort, tmp_path, monkeypatch):
    """Not a split made again from the config: a run's own people, its downsampled train set kept as is."""
    monkeypatch.setenv("PERFORMER_CACHE", str(tmp_path / "cache"))
    run = saved_run(
        tmp_path / "run", tiny_cohort, None, "gene=BTNL3", "train_fraction=0.5", "eval_genes=[PPIF]", "batch_size=8"
    )
    fold2 = make_split(cohort_people(run), fold=2, seed=7)  # not the split of the config (fold 0, split_seed 0)
    saved = PeopleSplit(train=fold2.train[:20], tune=fold2.tune, test=fold2.test)
    saved.save(run.path / "splits")
    datamodule = run_datamodule(run, eval_genes=["ZFP57"])
    assert datamodule.split == saved  # 20 train people, not halved again by train_fraction=0.5
    assert datamodule.gene_names == ["BTNL3", "PPIF", "ZFP57"]  # the run's held-out gene, then the one added
    table = annotate(pd.DataFrame({"gene_id": datamodule.gene_ids}), "performer", run, datamodule)
    assert table["gene_set"].tolist() == ["HOP", "HOGP", "HOGP"]
    assert run_datamodule(run).gene_names == ["BTNL3", "PPIF"]  # without eval_genes: the run's own genes
    for split in ("tune", "test"):
        dataset = datamodule.datasets[split]
        for gene, name in enumerate(datamodule.gene_names):
            scored = sorted(datamodule.people[i] for i in dataset.person[dataset.gene == gene])
            assert scored == sorted(saved[split]), (split, name)


def test_evaluation_fails_when_the_cohort_lost_people_of_the_run(tiny_cohort, tmp_path, monkeypatch):
    monkeypatch.setenv("PERFORMER_CACHE", str(tmp_path / "cache"))
    run = saved_run(tmp_path / "unsaved", tiny_cohort, None, "gene=BTNL3")
    with pytest.raises(FileNotFoundError, match="has no saved people split"):
        run_datamodule(run)
    people = cohort_people(run)
    split = make_split(people, fold=0)
    split = PeopleSplit(train=split.train, tune=[*split.tune, "ghost1"], test=["ghost2", *split.test, "ghost3"])
    run = saved_run(tmp_path / "old", tiny_cohort, split, "gene=BTNL3")
    with pytest.raises(MissingPeopleError) as error:
        run_datamodule(run)
    message = str(error.value)
    assert f"run {run.path}" in message and str(run.path / "splits") in message
    assert (
        "3 people of the split are not in the cohort (1 of 7 tune, 2 of 8 test; e.g. ghost1, ghost2, ghost3)" in message
    )
    assert error.value.missing == {"train": [], "tune": ["ghost1"], "test": ["ghost2", "ghost3"]}


def fold_run(path, tiny_cohort, fold: int, *overrides: str) -> Run:
    """A saved run of BTNL3 on ``fold`` with its split saved, as train.py leaves it (no checkpoint)."""
    run = saved_run(path, tiny_cohort, None, "gene=BTNL3", f"fold={fold}", *overrides)
    make_split(cohort_people(run), fold=fold).save(run.path / "splits")
    return run


def evaluate_cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(config_name="evaluate", overrides=["runs=unused", *overrides])


def test_hsv_count_comes_from_the_elastic_net_of_the_same_window(tiny_cohort, tmp_path):
    run = fold_run(tmp_path / "run", tiny_cohort, 0)
    datamodule = run_datamodule(run)
    fit = elastic_net_baseline(datamodule, seed=0).coefficients
    assert (fit["coef"] != 0).any()
    same = annotate(fit, "elastic_net", run, datamodule)
    other_window = same.assign(window_bp=12_288, coef=0.0)  # another window's fit, first in the table
    other_fold = same.assign(fold=1, coef=0.0)
    saved = pd.concat([other_window, other_fold, same], ignore_index=True)
    got = _coefficients(run, datamodule, saved, seed=0)
    np.testing.assert_array_equal(got["coef"], fit["coef"])
    assert set(got["window_bp"]) == {2048} and set(got["fold"]) == {0}
    # a table from an older evaluation (no window_bp) or without this window: fitted again, same result
    for stale in (saved.drop(columns="window_bp"), saved[saved["window_bp"] != 2048]):
        np.testing.assert_array_equal(_coefficients(run, datamodule, stale, seed=0)["coef"], fit["coef"])


def test_elastic_net_rows_of_held_out_genes_are_hop(tiny_cohort, tmp_path):
    run = fold_run(tmp_path / "run", tiny_cohort, 0)
    datamodule = run_datamodule(run, eval_genes=["PPIF"])
    table = pd.DataFrame({"gene_id": datamodule.gene_ids})
    assert annotate(table, "performer", run, datamodule)["gene_set"].tolist() == ["HOP", "HOGP"]
    assert annotate(table, "enformer", run, datamodule)["gene_set"].tolist() == ["HOP", "HOGP"]
    assert annotate(table, "elastic_net", run, datamodule)["gene_set"].tolist() == ["HOP", "HOP"]


def test_pretrained_enformer_ism_is_computed_once_per_window(tiny_cohort, tmp_path):
    """Folds and train fractions share a gene window's pretrained-Enformer ISM: computed once, reused."""
    torch.manual_seed(0)
    build_trunk(dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, keep_heads=True).save_pretrained(
        tmp_path / "enformer", safe_serialization=False
    )
    enformer = load_reference_enformer(tmp_path / "enformer")
    cfg = evaluate_cfg(f"model.pretrained={tmp_path / 'enformer'}", "track=4950", "enformer_window_bp=1024")
    runs = [
        fold_run(tmp_path / "fold0", tiny_cohort, 0),
        fold_run(tmp_path / "fold1", tiny_cohort, 1),
        fold_run(tmp_path / "fold1_half", tiny_cohort, 1, "train_fraction=0.5"),
    ]
    cache: dict = {}
    tables = [enformer_ism(run, cfg, enformer, cache)[0] for run in runs]
    assert len(cache) == 1  # one gene, one window: one ISM
    assert [sorted(set(t["fold"])) for t in tables] == [[0], [1], [1]]
    assert set(tables[2]["train_fraction"]) == {0.5}
    for table in tables[1:]:
        np.testing.assert_array_equal(table["ism"], tables[0]["ism"])
    assert len(tables[0]) > 0 and tables[0]["ism"].abs().max() > 0
    fresh = enformer_ism(runs[1], cfg, enformer)[0]  # computed again without the cache: the same numbers
    np.testing.assert_array_equal(fresh["ism"], tables[0]["ism"])


def test_prediction_precision_follows_the_run_where_safe(tiny_cohort, tmp_path):
    def run_with(setting: str) -> Run:
        return saved_run(tmp_path / setting, tiny_cohort, None, "gene=BTNL3", f"trainer.precision={setting}")

    assert prediction_precision(run_with("bf16-mixed")) == "bf16"  # as the run trained and was selected
    assert prediction_precision(run_with("32-true")) == "fp32"
    assert prediction_precision(run_with("16-mixed")) == "fp32"  # fp16 is not offered: fp32
    expected = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    assert prediction_precision(run_with("auto")) == expected
    assert prediction_precision(run_with("32-true"), "bf16-mixed") == "bf16"  # an explicit setting wins
    with pytest.raises(ValueError, match="choose auto, fp32"):
        prediction_precision(run_with("32-true"), "fp16")


def test_summary_table_counts_undefined_pcc():
    table = pd.DataFrame(
        {
            "model": "performer",
            "split": "test",
            "gene_set": ["HOP", "HOP", "HOP", "HOGP"],
            "train_fraction": 1.0,
            "pcc": [0.5, np.nan, 0.1, np.nan],
            "r2": [0.2, -0.1, 0.0, -0.3],
        }
    )
    summary = summary_table(table)
    assert summary.loc[("performer", "test", "HOP", 1.0), ("pcc", "mean")] == pytest.approx(0.3)
    assert summary.loc[("performer", "test", "HOP", 1.0), ("pcc", "count")] == 2
    assert summary[("pcc", "n_undefined")].to_dict() == {
        ("performer", "test", "HOGP", 1.0): 1,
        ("performer", "test", "HOP", 1.0): 1,
    }


def test_slurm_launcher_composes():
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            config_name="train",
            overrides=["hydra/launcher=slurm", "experiment=paper_single_gene"],
            return_hydra_config=True,
        )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.gpus_per_node == 1 and launcher.tasks_per_node == 1


@pytest.mark.slow  # the sweep fixture trains 4 runs
def test_interpretation_of_a_sweep(sweep):
    run_evaluate("task=ism", f"runs={sweep}", "k=3")
    out = sweep / "evaluation" / "interpretation"
    ism = pd.read_csv(out / "ism.csv")
    assert set(ism["gene"]) == {"BTNL3", "ZFP57"} and set(ism["fold"]) == {0, 1}
    per_run = pd.read_csv(sweep / "BTNL3" / "fold0" / "ism.csv")
    assert len(per_run) == len(ism[(ism["gene"] == "BTNL3") & (ism["fold"] == 0)])
    assert (ism.groupby(["gene", "fold"])["is_hsv"].sum() == 3).all()  # k=3 HSVs per gene and fold
    for _, gene in ism.groupby(["gene", "fold"]):  # the HSVs are the top 3 by |ISM|
        others = gene.loc[~gene["is_hsv"], "ism"].abs()
        assert len(others) == 0 or gene.loc[gene["is_hsv"], "ism"].abs().min() >= others.max()
    assert len(ism) > 2 * 2 * 3  # some gene has SNVs beyond its HSVs, so the check above bites
    assert ism["maf"].between(0, 0.5).all() and ism["en_coef"].notna().all()
    drivers = pd.read_csv(out / "drivers.csv")
    assert len(drivers) == 4 and (drivers["n_people"] == 6).all()
    attribution = np.load(next((out / "attribution").glob("*BTNL3.npz")))
    assert attribution["reference"].shape == (2048, 4)
    assert abs(attribution["standardized_reference"].mean()) < 1e-6
    assert (out / "hsv_distance.png").exists()
    truth = pd.read_csv(out / "truth_checks.csv")
    assert set(truth["gene"]) == {"BTNL3"}  # the only gene with h2 above the threshold
    assert truth["ism_auroc"].between(0, 1).all()
    # the general fine-mapped path, fed the simulated causal SNVs, gives the same auROC of |ISM|
    general = pd.read_csv(out / "functional" / "fine_mapped_auroc.csv")
    general = general[(general["model"] == "performer") & (general["status"] == "ok")]
    merged = general.merge(truth, on=["gene_id", "fold"])
    assert len(merged) == len(truth) == 2
    np.testing.assert_allclose(merged["auroc"], merged["ism_auroc"])
    assert set(pd.read_csv(out / "functional" / "variant_sets.csv")["model"]) == {"performer", "elastic_net"}


@pytest.mark.slow  # the sweep fixture trains 4 runs
def test_pretrained_enformer_ism(sweep, tmp_path):
    torch.manual_seed(0)
    build_trunk(dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, keep_heads=True).save_pretrained(
        tmp_path / "enformer", safe_serialization=False
    )
    run_evaluate(
        "task=ism",
        f"runs={sweep}",
        "baseline=enformer",
        "track=4950",
        f"model.pretrained={tmp_path / 'enformer'}",
        "enformer_window_bp=2048",
        "figures=false",
    )
    reference = pd.read_csv(sweep / "evaluation" / "interpretation" / "ism_enformer.csv")
    ours = pd.read_csv(sweep / "evaluation" / "interpretation" / "ism.csv")
    assert set(reference["model"]) == {"enformer"}
    functional = pd.read_csv(sweep / "evaluation" / "interpretation" / "functional" / "variant_sets.csv")
    assert set(functional["model"]) == {"performer", "elastic_net", "enformer"}
    drivers = pd.read_csv(sweep / "evaluation" / "interpretation" / "drivers_enformer.csv")
    assert set(drivers["model"]) == {"enformer"} and len(drivers) == len(reference.groupby(["gene", "fold"]))
    flagged = reference.groupby(["gene", "fold"])["is_driver"].sum().rename("flagged").reset_index()
    counted = drivers.merge(flagged, on=["gene", "fold"])
    assert len(counted) == len(drivers) and (counted["flagged"] == counted["n_drivers"]).all()
    assert len(reference) == len(ours)  # the same observed SNVs of the same genes and folds
    by_fold = reference.set_index(["gene", "pos", "alt", "fold"])["ism"].unstack("fold")
    np.testing.assert_array_equal(by_fold[0], by_fold[1])  # one ISM per gene window, whatever the fold
    assert reference["ism"].abs().sum() > 0
    # without k=, a gene's HSV count is its number of non-zero elastic-net coefficients in that fold
    coefficients = pd.read_csv(sweep / "evaluation" / "elastic_net_coefficients.csv")
    nonzero = coefficients[coefficients["coef"] != 0].groupby(["gene", "fold"]).size()
    hsvs = ours.groupby(["gene", "fold"])["is_hsv"].sum()
    pd.testing.assert_series_equal(hsvs.loc[nonzero.index], nonzero, check_names=False, check_dtype=False)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("PERFORMER_GEUVADIS"), reason="set PERFORMER_GEUVADIS to the Geuvadis folder")
def test_real_cohort_evaluation_and_ism(tmp_path):
    runs = tmp_path / "runs"
    run_train(runs / "ZNF74", "data=geuvadis_chr22", "gene=ZNF74", *FAST, "model.window_bp=12288")
    run_evaluate(f"runs={runs}", "baseline=elastic_net")
    table = pd.read_csv(runs / "evaluation" / "evaluation.csv")
    test = table[table["split"] == "test"]
    assert set(test["model"]) == {"performer", "elastic_net"} and (test["n_people"] == 35).all()
    assert test["h2"].isna().all()  # real data: no simulated heritability
    run_evaluate("task=ism", f"runs={runs}")
    ism = pd.read_csv(runs / "evaluation" / "interpretation" / "ism.csv")
    assert len(ism) > 0 and set(ism["gene"]) == {"ZNF74"}
    assert ism["distance_to_tss"].abs().max() <= 6144  # inside the 12,288 bp window
    assert not (runs / "evaluation" / "interpretation" / "truth_checks.csv").exists()

    # the functional analyses on real inputs: a small annotation BED and the folder's lead eQTLs
    tss = int((ism["pos"] - ism["distance_to_tss"]).iloc[0])
    bed = tmp_path / "states.bed"
    bed.write_text(f"22\t{tss - 1000}\t{tss + 1000}\tpromoter\n22\t{tss + 1000}\t{tss + 6000}\tflank\n")
    eqtls = Path(os.environ["PERFORMER_GEUVADIS"]) / "lead_eqtls_qtltools.tsv.gz"
    run_evaluate(
        "task=ism", f"runs={runs}", f"annotation_bed={bed}", f"fine_mapped={eqtls}", "fine_mapped_format=qtltools"
    )
    functional = runs / "evaluation" / "interpretation" / "functional"
    enrichment = pd.read_csv(functional / "annotation_enrichment.csv")
    assert set(enrichment["label"]) == {"promoter", "flank"}
    assert set(enrichment["model"]) == {"performer", "elastic_net"}
    auroc = pd.read_csv(functional / "fine_mapped_auroc.csv")
    assert set(auroc["gene_id"].map(strip_version)) == {strip_version(ism["gene_id"].iloc[0])}
    assert (functional / "variant_sets.csv").exists() and (functional / "ld.csv").exists()
