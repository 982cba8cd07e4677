"""The main job end to end through Hydra: `python train.py ...` on a tiny simulated cohort."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import ROOT, TINY_MODEL, run_train
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

from performer.model import build_trunk
from performer.run import (
    acquire_run_lock,
    build_trainer,
    check_config,
    config_differences,
    summary_line,
    train,
    wandb_mode,
)
from performer.runs import RunFiles, build_datamodule, find_runs, read_split

FAST = [*TINY_MODEL, "batch_size=8", "eval_batch_size=4", "trainer.max_epochs=2"]


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
    assert "W&B logging offline" in result.stdout + result.stderr  # the mode is named in the log
    warnings = [line for line in result.stderr.splitlines() if "Warning" in line or "deprecated" in line]
    assert not [w for w in warnings if "LeafSpec" in w or "eval mode" in w or "logging interval" in w], warnings

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
    assert "optimizer_states" not in checkpoint  # the best model is weights only
    assert checkpoint["epoch"] == summary["best_epoch"]
    assert (run_dir / "checkpoints" / "best.ckpt").stat().st_size < 5_000_000  # weights, no data
    assert not (run_dir / "checkpoints" / "last.ckpt").exists()  # resume state dropped after a finished run

    (run,) = find_runs(run_dir.parent)  # what evaluation reads: the run, its config, best checkpoint and people
    assert run.path == run_dir and run.cfg.gene == "BTNL3" and run.checkpoint == run_dir / "checkpoints" / "best.ckpt"
    assert read_split(run_dir).test == splits["test"]


def test_finished_run_is_not_retrained(single_gene_run, tiny_cohort):
    run_dir, _ = single_gene_run
    before = (run_dir / "checkpoints" / "best.ckpt").stat().st_mtime_ns
    result = run_train(run_dir, "gene=BTNL3", f"data.root={tiny_cohort}", *FAST, "logger=none")
    assert "already finished" in result.stdout + result.stderr
    assert "BTNL3 fold 0: best epoch" in result.stdout  # the reused run's summary line
    assert (run_dir / "checkpoints" / "best.ckpt").stat().st_mtime_ns == before


def test_finished_run_of_another_config_is_refused(single_gene_run, tiny_cohort):
    run_dir, _ = single_gene_run
    before = (run_dir / "summary.json").read_text()
    cfg = compose_train("gene=BTNL3", f"data.root={tiny_cohort}", *FAST, "lr=0.05", "seed=3", "logger=none")
    with pytest.raises(FileExistsError, match="finished run of another config") as refused:
        train(cfg, run_dir)  # what train.py calls; the check comes before any training
    message = str(refused.value)
    assert "lr: " in message and "seed: 0 in the run, 3 now" in message
    assert "overwrite=true" in message and "hydra.run.dir" in message
    assert (run_dir / "summary.json").read_text() == before


def test_config_differences_ignore_only_result_neutral_keys():
    saved = compose_train("gene=BTNL3", "data.root=/cohort")
    same = compose_train("gene=BTNL3", "data.root=/cohort", "logger=none", "num_workers=4", "overwrite=true")
    assert config_differences(saved, same) == {}
    other = compose_train("gene=BTNL3", "data.root=/other", "model.window_bp=4096", "trainer.max_epochs=7")
    assert set(config_differences(saved, other)) == {"data.root", "model.window_bp", "trainer.max_epochs"}
    older = OmegaConf.create(OmegaConf.to_container(saved))  # a run saved before model.trunk.name existed
    del older.model.trunk["name"]
    assert config_differences(older, saved) == {}
    assert set(config_differences(older, compose_train("gene=BTNL3", "data.root=/cohort", "model.trunk.name=x")))


def test_default_sweep_folders_name_what_a_sweep_varies():
    def subdir(*overrides):
        cfg = compose_train(*overrides, hydra_config=True)
        HydraConfig.instance().set_config(cfg)
        return OmegaConf.to_container(cfg.hydra.sweep, resolve=True)["subdir"]

    common = ("gene=BTNL3", "fold=1", "data.root=/cohort", "logger=none")
    assert subdir(*common, "lr=1e-4").rstrip("/") == "BTNL3/fold1/lr=1e-4"
    assert subdir(*common, "lr=5e-5", "seed=2").rstrip("/") == "BTNL3/fold1/lr=5e-5,seed=2"
    assert subdir(*common).rstrip("/") == "BTNL3/fold1"  # the paper's gene x fold sweeps keep their layout


def test_a_second_writer_of_a_run_directory_is_refused(tiny_cohort, tmp_path):
    run_dir = tmp_path / "run"
    holder = acquire_run_lock(RunFiles(run_dir))  # another run's lock: an OS lock conflicts within a process too
    cfg = compose_train("gene=BTNL3", f"data.root={tiny_cohort}", *FAST, "logger=none")
    try:
        with pytest.raises(RuntimeError, match="in use by another run"):
            train(cfg, run_dir)
    finally:
        holder.release()
    assert not (run_dir / "config.yaml").exists() and not (run_dir / "metrics.csv").exists()


def test_a_run_lock_is_refused_while_held_and_free_after_its_holder_is_killed(tmp_path):
    files = RunFiles(tmp_path / "run")
    files.root.mkdir()
    script = "import sys, time, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(timeout=0); "
    script += "print('locked', flush=True); time.sleep(60)"
    with subprocess.Popen([sys.executable, "-c", script, str(files.lock)], stdout=subprocess.PIPE, text=True) as other:
        assert other.stdout.readline().strip() == "locked"
        with pytest.raises(RuntimeError, match=rf"{files.root} is in use by another run"):
            acquire_run_lock(files)
        other.kill()  # kill -9: no clean-up, the OS drops the lock
        other.wait()
    acquire_run_lock(files).release()


@pytest.mark.slow
def test_sigterm_exits_non_zero_without_a_summary(tiny_cohort, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, str(ROOT / "train.py"), f"hydra.run.dir={run_dir}", "gene=BTNL3"]
    command += [f"data.root={tiny_cohort}", *TINY_MODEL, "batch_size=8", "trainer.max_epochs=50", "logger=none"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as run:
        deadline = time.monotonic() + 300
        while not (run_dir / "checkpoints" / "last.ckpt").exists():  # training, past its first epoch
            assert run.poll() is None, run.stdout.read().decode()[-4000:]
            assert time.monotonic() < deadline, "no resume checkpoint after 300 s"
            time.sleep(0.1)
        run.send_signal(signal.SIGTERM)
        output = run.communicate(timeout=120)[0].decode()
    assert run.returncode == 128 + signal.SIGTERM, output[-4000:]
    assert "stopped by SIGTERM" in output and "ckpt_path=" in output
    assert not (run_dir / "summary.json").exists()


@pytest.mark.slow
def test_a_gene_too_small_to_train_on_is_reported_as_held_out(tiny_cohort, tmp_path):
    from test_sampler import cohort_with_few_train_people_for

    from performer.data.simulate import DEMO_GENES

    # BTNL3 keeps 7 train people, fewer than one block (batch_size 8 x accumulation 1)
    cohort = cohort_with_few_train_people_for(tiny_cohort, tmp_path / "cohort", "BTNL3", n_train=7)
    run_dir = tmp_path / "run"
    genes = f"genes=[BTNL3,{DEMO_GENES[1]}]"
    result = run_train(run_dir, genes, f"data.root={cohort}", *FAST, "trainer.max_epochs=1", "logger=none")
    log = result.stdout + result.stderr
    assert "BTNL3 (" in log and "held-out genes (HOGP)" in log
    for split in ("tune", "test"):
        metrics = pd.read_csv(run_dir / f"metrics_{split}.csv").set_index("gene")
        assert metrics.loc["BTNL3", "gene_set"] == "HOGP" and metrics.loc[DEMO_GENES[1], "gene_set"] == "HOP"
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary[split]["mean_r2"] == pytest.approx(metrics.loc[DEMO_GENES[1], "r2"])  # selection: HOP only
        assert summary[f"{split}_hogp"]["mean_r2"] == pytest.approx(metrics.loc["BTNL3", "r2"])
    assert set(pd.read_csv(run_dir / "metrics.csv")["gene"]) >= {DEMO_GENES[1]}


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


@pytest.mark.slow
def test_multi_gene_ddp_matches_one_process(tiny_cohort, tmp_path):
    common = [f"data.root={tiny_cohort}", *FAST, "logger=csv", "experiment=multi_gene", "trainer.max_epochs=1"]
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


def compose_train(*overrides: str, hydra_config: bool = False):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides), return_hydra_config=hydra_config)


def test_paper_recipe_composes():
    cfg = compose_train(
        "experiment=paper_single_gene",
        "data=gtex_whole_blood",
        "data.root=/data/gtex",
        "model.pretrained=/weights/enformer",
        "gene=BTNL3",
    )
    assert (cfg.model.trunk.dim, cfg.model.trunk.depth, cfg.model.trunk.heads) == (1536, 11, 8)
    assert cfg.model.window_bp == 49_152 and cfg.lr == 5e-6
    assert (cfg.batch_size, cfg.trainer.accumulate_grad_batches, cfg.trainer.gradient_clip_val) == (32, 4, 0.05)
    assert (cfg.trainer.max_epochs, cfg.trainer.check_val_every_n_epoch) == (150, 1)
    assert cfg.trainer.precision == "bf16-mixed"
    assert (cfg.selection.monitor, cfg.selection.patience) == ("val/mean_r2", 20)


def test_paper_multi_gene_recipe_composes():
    cfg = compose_train("experiment=paper_multi_gene", "hydra/launcher=slurm_ddp", hydra_config=True)
    assert (cfg.model.trunk.dim, cfg.model.window_bp, cfg.lr) == (1536, 49_152, 5e-6)
    assert (cfg.batch_size, cfg.trainer.accumulate_grad_batches) == (16, 8)
    assert (cfg.trainer.strategy, cfg.trainer.devices, cfg.trainer.precision) == ("ddp", 8, "bf16-mixed")
    assert (cfg.trainer.max_epochs, cfg.trainer.check_val_every_n_epoch) == (150, 2)
    assert (cfg.selection.monitor, cfg.selection.mode, cfg.selection.patience) == ("val/mean_pcc", "max", 10)
    # one SLURM task per GPU, as many as the trainer's devices
    launcher = cfg.hydra.launcher
    assert (launcher.nodes, launcher.tasks_per_node, launcher.gpus_per_node) == (1, 8, 8)


def test_trainer_group_goes_to_lightning(tiny_cohort, tmp_path):
    cfg = compose_train(
        "gene=BTNL3",
        f"data.root={tiny_cohort}",
        "trainer=cpu",
        "trainer.max_epochs=5",
        "trainer.accumulate_grad_batches=3",
        "trainer.gradient_clip_val=0.1",
        "trainer.check_val_every_n_epoch=2",
        "trainer.log_every_n_steps=7",
        "+trainer.limit_train_batches=4",
    )
    trainer = build_trainer(cfg, tmp_path, logger=False)
    assert (trainer.max_epochs, trainer.accumulate_grad_batches, trainer.gradient_clip_val) == (5, 3, 0.1)
    assert (trainer.check_val_every_n_epoch, trainer.log_every_n_steps, trainer.limit_train_batches) == (2, 7, 4)
    assert build_datamodule(cfg).accumulate == 3  # the sampler's blocks follow Lightning's accumulation

    with pytest.raises(ValueError, match="trainer.max_epochs"):
        check_config(compose_train("+max_epochs=3"))  # the old top-level name is not silently ignored
    with pytest.raises(ValueError, match="trainer.callbacks"):
        check_config(compose_train("+trainer.callbacks=[]"))


def test_summary_line_names_genes_with_undefined_pcc():
    cfg = compose_train("gene=BTNL3")
    means = {"mean_pcc": 0.5, "mean_r2": 0.2, "n_genes": 1}
    summary = {"run_dir": "out", "best_epoch": 3, "tune": dict(means), "test": dict(means)}
    assert "undefined" not in summary_line(cfg, summary, ["BTNL3", "ZFP57", "PPIF"])  # keys absent: older metrics
    summary["test"].update(n_pcc_undefined=2, pcc_undefined=["ZFP57", "PPIF"])
    summary["tune"].update(n_pcc_undefined=0, pcc_undefined=[])
    line = summary_line(cfg, summary, ["BTNL3", "ZFP57", "PPIF"])
    assert line.endswith("| test PCC undefined for 2 gene(s): ZFP57, PPIF")


def test_wandb_mode_follows_credentials(tmp_path, monkeypatch):
    for variable in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL", "NETRC"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert wandb_mode() == ("offline", wandb_mode()[1]) and "wandb login" in wandb_mode()[1]

    netrc = tmp_path / ".netrc"
    netrc.write_text(f"machine api.wandb.ai\n  login user\n  password {'a1' * 20}\n")  # as `wandb login` writes
    netrc.chmod(0o600)
    mode, reason = wandb_mode()
    assert mode == "online" and "netrc" in reason  # decided without starting a run or contacting the server

    monkeypatch.setenv("WANDB_MODE", "offline")  # the environment overrides the credentials
    assert wandb_mode()[0] == "offline"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert wandb_mode()[0] == "disabled"
    assert wandb_mode(offline=True)[0] == "offline"  # and logger.offline overrides both

    monkeypatch.delenv("WANDB_MODE")
    netrc.write_text("machine example.org\n  login user\n  password secret\n")  # credentials for another host
    assert wandb_mode()[0] == "offline"
    monkeypatch.setenv("WANDB_API_KEY", "b2" * 20)
    assert wandb_mode() == ("online", "credentials from WANDB_API_KEY")


def test_multirun_of_ddp_jobs_fails_before_training(tiny_cohort, tmp_path):
    sweep = tmp_path / "sweep"
    overrides = [f"hydra.sweep.dir={sweep}", "gene=BTNL3,ZFP57", f"data.root={tiny_cohort}", *FAST, "logger=none"]
    overrides += ["trainer=ddp", "trainer.devices=2", "trainer.accelerator=cpu"]
    command = [sys.executable, str(ROOT / "train.py"), "-m", *overrides]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "multirun (-m) of DDP jobs is not supported" in result.stderr
    assert "hydra/launcher=slurm_ddp" in result.stderr and "shell loop" in result.stderr
    # no job got to data, model or training (Hydra's own .hydra/config.yaml aside)
    assert not [p for p in sweep.rglob("config.yaml") if ".hydra" not in p.parts]
    assert not list(sweep.rglob("checkpoints")) and not list(sweep.rglob("metrics.csv"))


@pytest.mark.slow
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
        "trainer.accumulate_grad_batches=2",
        "trainer.max_epochs=1",
        "num_workers=0",
    ]
    run_train(tmp_path / "paper", *recipe, f"model.pretrained={tmp_path / 'enformer'}")
    assert (tmp_path / "paper" / "summary.json").exists()

    missing = run_train(tmp_path / "missing", *recipe, f"model.pretrained={tmp_path / 'absent'}", check=False)
    assert missing.returncode != 0
    assert "no pretrained Enformer at" in missing.stderr


@pytest.mark.slow
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
        "trainer.max_epochs=1",
    )
    log = result.stdout + result.stderr
    assert "cohort: 344 people" in log
    assert "distinct SNVs kept; distinct records skipped" in log
    predictions = pd.read_csv(tmp_path / "geuvadis" / "predictions_test.csv")
    assert set(predictions["gene"]) == {"ZNF74"} and len(predictions) > 30


EVERY_OTHER_EPOCH = [
    *TINY_MODEL,
    "gene=BTNL3",
    "batch_size=8",
    "eval_batch_size=4",
    "logger=csv",
    "trainer.max_epochs=4",
    "trainer.check_val_every_n_epoch=2",
    "model.trunk.dropout_rate=0.2",  # random draws every step: a resume must restore the generators too
]


@pytest.fixture(scope="module")
def every_other_epoch_run(tiny_cohort, tmp_path_factory):
    """An uninterrupted 4-epoch run that validates after epochs 1 and 3."""
    run_dir = tmp_path_factory.mktemp("runs") / "every_other_epoch"
    run_train(run_dir, *EVERY_OTHER_EPOCH, f"data.root={tiny_cohort}")
    return run_dir


def lightning_epoch_log(run_dir) -> pd.DataFrame:
    """Lightning's own per-epoch log (CSVLogger): one row per epoch with its logged epoch values."""
    (path,) = (run_dir / "csv_logs").rglob("metrics.csv")
    table = pd.read_csv(path)
    return table.groupby("epoch").max(numeric_only=True)


@pytest.mark.slow
def test_metrics_rows_belong_to_the_validated_epoch(every_other_epoch_run):
    run_dir = every_other_epoch_run
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert list(metrics["epoch"]) == [1, 3]  # rows only for epochs that validated, under their own number

    lightning = lightning_epoch_log(run_dir)
    np.testing.assert_allclose(metrics["r2"], lightning.loc[[1, 3], "val/mean_r2"], rtol=1e-6)
    np.testing.assert_allclose(metrics["train_loss"], lightning.loc[[1, 3], "train/loss_epoch"], rtol=1e-6)
    assert metrics["train_loss"].iloc[0] != metrics["train_loss"].iloc[1]

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["best_epoch"] == int(metrics.loc[metrics["r2"].idxmax(), "epoch"])


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_result(every_other_epoch_run, tiny_cohort, tmp_path):
    """Retrain a finished run with overwrite=true, kill it after epoch 2, resume from last.ckpt: the
    result equals the uninterrupted run's, and no output of the old run survives the kill."""
    reference = every_other_epoch_run
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)  # the old, finished run
    last = run_dir / "checkpoints" / "last.ckpt"
    assert not last.exists()

    command = [sys.executable, str(ROOT / "train.py"), f"hydra.run.dir={run_dir}", *EVERY_OTHER_EPOCH]
    command += [f"data.root={tiny_cohort}", "overwrite=true"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as run:
        deadline = time.monotonic() + 300
        while not (last.exists() and torch.load(last, map_location="cpu", weights_only=False)["epoch"] >= 2):
            assert run.poll() is None, f"the run ended before epoch 2:\n{run.stdout.read().decode()[-4000:]}"
            assert time.monotonic() < deadline, "no epoch-2 checkpoint after 300 s"
            time.sleep(0.1)
        run.kill()
        run.wait()
    assert torch.load(last, map_location="cpu", weights_only=False)["epoch"] == 2  # killed during epoch 3
    for name in ["summary.json", "predictions_tune.csv", "predictions_test.csv", "metrics_tune.csv"]:
        assert not (run_dir / name).exists(), f"{name} of the old run survived overwrite=true"
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert list(metrics["epoch"]) == [1]  # the new run's rows only
    # a row of epoch 3 written just before a kill, after the last checkpoint: the resumed run drops it
    pd.concat([metrics, metrics.assign(epoch=3)]).to_csv(run_dir / "metrics.csv", index=False)

    run_train(run_dir, *EVERY_OTHER_EPOCH, f"data.root={tiny_cohort}", f"ckpt_path={last}")
    resumed, uninterrupted = (json.loads((d / "summary.json").read_text()) for d in (run_dir, reference))
    for key in ("best_epoch", "tune", "test"):
        assert resumed[key] == uninterrupted[key], key  # exactly
    pd.testing.assert_frame_equal(pd.read_csv(run_dir / "metrics.csv"), pd.read_csv(reference / "metrics.csv"))
    pd.testing.assert_frame_equal(
        pd.read_csv(run_dir / "predictions_test.csv"), pd.read_csv(reference / "predictions_test.csv")
    )
    assert not last.exists()  # resume state dropped once the run finished


@pytest.mark.slow
def test_unfinished_run_is_not_silently_restarted(every_other_epoch_run, tiny_cohort, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(every_other_epoch_run, run_dir)
    (run_dir / "summary.json").unlink()  # an unfinished run with its resume state
    shutil.copy(run_dir / "checkpoints" / "best.ckpt", run_dir / "checkpoints" / "last.ckpt")
    result = run_train(run_dir, *EVERY_OTHER_EPOCH, f"data.root={tiny_cohort}", check=False)
    assert result.returncode != 0
    assert "ckpt_path=" in result.stderr and "overwrite=true" in result.stderr
    assert (run_dir / "checkpoints" / "last.ckpt").exists() and (run_dir / "metrics.csv").exists()
