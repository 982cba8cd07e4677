"""Every config group combination that should work composes, passes the run's checks and builds its DataModule
and LightningModule without fitting, so a config that no longer matches the code fails here, not on a cluster."""

from __future__ import annotations

import importlib.util
import itertools
import os

import pytest
from conftest import ROOT
from hydra import compose, initialize_config_dir

from performer.run import build_module, check_config
from performer.runs import build_datamodule

DATA = sorted(p.stem for p in (ROOT / "conf" / "data").glob("*.yaml"))
MODELS = sorted(p.stem for p in (ROOT / "conf" / "model").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml"))
FLASH_ATTN = importlib.util.find_spec("flash_attn")
ROOTS = {"gtex_whole_blood": "/data/gtex", "rosmap_dlpfc": "/data/rosmap"}
"""Cohorts the user brings: their root is required (``???``); any folder composes."""


@pytest.fixture(scope="module", autouse=True)
def hydra_conf():
    """One Hydra initialisation for the module (composing is then cheap)."""
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        yield


def compose_train(*overrides: str):
    return compose(config_name="train", overrides=list(overrides))


def combination(data: str, model: str, experiment: str):
    overrides = [f"data={data}", f"model={model}", f"experiment={experiment}", "gene=BTNL3"]
    if data in ROOTS:
        overrides.append(f"data.root={ROOTS[data]}")
    return compose_train(*overrides)


def test_the_groups_are_all_found():
    assert {"demo", "geuvadis_chr22", "gtex_whole_blood", "rosmap_dlpfc"} <= set(DATA)
    assert {"enformer", "enformer_tiny", "borzoi", "borzoi_tiny", "flashzoi"} <= set(MODELS)
    assert {"single_gene", "multi_gene", "downsample", "paper_single_gene", "paper_multi_gene"} <= set(EXPERIMENTS)


@pytest.mark.parametrize(("data", "model", "experiment"), list(itertools.product(DATA, MODELS, EXPERIMENTS)))
def test_every_combination_composes_and_builds_its_datamodule(data, model, experiment):
    cfg = combination(data, model, experiment)
    check_config(cfg)
    assert cfg.experiment_name == experiment
    assert cfg.model.name == model  # a model on the command line wins over an experiment's own choice
    dm = build_datamodule(cfg)
    assert dm.window_bp == cfg.model.window_bp and dm.batch_size == cfg.batch_size
    assert dm.accumulate == cfg.trainer.accumulate_grad_batches
    assert dm.paths["vcf"].name == cfg.data.vcf


def model_param(model: str):
    """The official sizes (Enformer 251 M, Borzoi 171 M parameters) take ~10 s each: slow; Flashzoi needs flash_attn
    (a CUDA machine; tests/test_borzoi.py checks its error without it)."""
    if model == "flashzoi":
        return pytest.param(
            model, marks=[pytest.mark.slow, pytest.mark.skipif(FLASH_ATTN is None, reason="no flash_attn")]
        )
    return pytest.param(model, marks=pytest.mark.slow) if model in ("enformer", "borzoi") else model


@pytest.mark.parametrize("model", [model_param(m) for m in MODELS])
def test_every_model_builds_its_module(model):
    cfg = compose_train(f"model={model}")
    module = build_module(cfg)
    assert module.hparams.lr == cfg.lr
    assert module.hparams.trunk["dim"] == cfg.model.trunk.dim


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_sets_up_on_the_demo(experiment, tiny_cohort):
    """The demo (a tiny cohort of it) through each experiment's batching, without fitting."""
    cfg = compose_train(
        f"experiment={experiment}", "model=enformer_tiny", "gene=BTNL3", f"data.root={tiny_cohort}", "batch_size=8"
    )
    dm = build_datamodule(cfg)
    dm.prepare_data()
    dm.setup()
    assert dm.gene_names == ["BTNL3"] and len(dm.datasets["test"]) == len(dm.split.test)


@pytest.mark.skipif(not os.environ.get("PERFORMER_GEUVADIS"), reason="set PERFORMER_GEUVADIS to the Geuvadis folder")
def test_the_real_cohort_config_finds_its_files():
    cfg = compose_train("data=geuvadis_chr22")
    dm = build_datamodule(cfg)
    for name in ("vcf", "fasta", "expression", "gene_table"):
        assert dm.paths[name].is_file(), name


@pytest.mark.parametrize("head", ["centre_bin", "centre_mean", "attention_pool"])
def test_every_head_builds_from_the_model_config(head):
    module = build_module(compose_train("model=enformer_tiny", f"model.head.name={head}", "model.head.bins=4"))
    assert module.model.head == head and module.hparams.head == {"name": head, "bins": 4}
