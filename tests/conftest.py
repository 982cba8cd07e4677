"""Shared fixtures: a tiny simulated cohort and the overrides that make train.py fast on a CPU."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from performer.data.datamodule import PerformerDataModule
from performer.data.simulate import DEMO_GENES, simulate_cohort

ROOT = Path(__file__).resolve().parents[1]

TINY_MODEL = [
    "model.window_bp=2048",
    "model.trunk.dim=24",
    "model.trunk.depth=1",
    "model.trunk.heads=2",
    "model.trunk.attn_dim_key=8",
    "model.trunk.dim_divisible_by=4",
]


@pytest.fixture(scope="session", autouse=True)
def performer_cache(tmp_path_factory) -> Path:
    """The demo cohort and the window cache of this test session, apart from the user's own cache folder."""
    folder = tmp_path_factory.mktemp("performer_cache")
    os.environ["PERFORMER_CACHE"] = str(folder)
    return folder


def tiny_datamodule(cohort: Path, **kwargs) -> PerformerDataModule:
    """A DataModule over a simulated cohort's files with 2,048 bp windows (override any argument)."""
    files = dict(vcf="genotypes.vcf.gz", fasta="reference.fa", expression="expression.bed.gz", gene_table="genes.tsv")
    return PerformerDataModule(**{**files, "root": str(cohort), "window_bp": 2048, **kwargs})


@pytest.fixture(scope="session")
def tiny_cohort(tmp_path_factory) -> Path:
    """60 simulated people, 3 genes (BTNL3 first), SNVs only."""
    return simulate_cohort(tmp_path_factory.mktemp("cohort"), seed=1, n_people=60, genes=DEMO_GENES[:3], indels=False)


@pytest.fixture(scope="session")
def indel_cohort(tmp_path_factory) -> Path:
    """60 simulated people, SNVs and short indels, 2 genes: BTNL3 and the demo's indel gene (its causal variant
    an indel no SNV tags)."""
    return simulate_cohort(tmp_path_factory.mktemp("indel_cohort"), seed=1, n_people=60, genes=DEMO_GENES[:1])


def run_train(
    run_dir: Path, *overrides: str, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run ``python train.py`` as a user would, with the run directory, overrides and extra environment given."""
    env = {**os.environ, "WANDB_SILENT": "true", "PYTHONUNBUFFERED": "1", **(env or {})}
    command = [sys.executable, str(ROOT / "train.py"), f"hydra.run.dir={run_dir}", *overrides]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(
            f"train.py failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        )
    return result


def run_sweep(sweep_dir: Path, *overrides: str) -> Path:
    """Run a Hydra multirun of ``python train.py -m`` into ``sweep_dir``; returns ``sweep_dir``.

    Runs go to ``<gene set>/fold<k>`` unless the overrides set ``hydra.sweep.subdir`` or an experiment (which
    may set its own): the default subdir would add the tests' tiny-model overrides to every folder name.
    """
    if not any(o.startswith(("hydra.sweep.subdir=", "experiment=")) for o in overrides):
        overrides = ("hydra.sweep.subdir='${gene_set:${gene},${genes}}/fold${fold}'", *overrides)
    command = [sys.executable, str(ROOT / "train.py"), "-m", f"hydra.sweep.dir={sweep_dir}", *overrides]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-5000:]
    return sweep_dir


def run_evaluate(*overrides: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python evaluate.py`` with the overrides given; a failure is an assertion error unless ``check=False``."""
    command = [sys.executable, str(ROOT / "evaluate.py"), *overrides]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result
