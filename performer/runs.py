"""The run directory: every file name of a run, and writing, reading and finding runs.

A training run (``python train.py ...``) writes one directory, ``outputs/<experiment>/<gene set>/fold<k>/``
by default (:func:`gene_set_name` names the middle part):

| file | what |
| --- | --- |
| ``config.yaml`` | the resolved config |
| ``splits/train.txt``, ``tune.txt``, ``test.txt`` | the people used, one ID per line |
| ``metrics.csv`` | one row per validated epoch and gene: tune PCC, R^2, MSE, loss, the epoch's mean train loss |
| ``predictions_tune.csv``, ``predictions_test.csv`` | per person, from the best checkpoint |
| ``metrics_tune.csv``, ``metrics_test.csv`` | per gene, from the best checkpoint |
| ``checkpoints/best.ckpt`` | the best epoch's weights and hyperparameters (no optimiser state) |
| ``checkpoints/last.ckpt`` | the full resume state, while a run is unfinished or with ``keep_resume_state=true`` |
| ``summary.json`` | mean tune/test PCC and R^2; written last and atomically: its presence marks a finished run |
| ``ism.csv`` | written later by the interpretation (``python evaluate.py task=ism``): ISM of the run's genes |
| ``.lock`` | held by the process that writes the run (an OS file lock, released when it ends): one writer at a time |

This module names those files (:class:`RunFiles`), reads and writes them, finds finished runs
(:func:`find_runs`) and reads a run's config into its genes, its settings with their defaults
(:class:`RunSettings`) and its DataModule (:func:`build_datamodule`; :func:`cohort_files` for any cohort). The
training wiring (``performer.run``), the evaluation and the interpretation all go through it; it holds no
training logic.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf

from performer.data.datamodule import PerformerDataModule
from performer.data.splits import PeopleSplit

log = logging.getLogger(__name__)

CONFIG_FILE = "config.yaml"
SUMMARY_FILE = "summary.json"
EPOCH_METRICS_FILE = "metrics.csv"
SPLITS_DIR = "splits"
CHECKPOINTS_DIR = "checkpoints"
BEST_CHECKPOINT = "best.ckpt"
LAST_CHECKPOINT = "last.ckpt"
ISM_FILE = "ism.csv"
LOCK_FILE = ".lock"
SPLITS = ("tune", "test")
"""The splits a finished run has predictions and per-gene metrics of."""


class RunFiles:
    """The layout of a run directory: every file a run holds is named here and nowhere else.

    Args:
        root: the run directory.
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config = self.root / CONFIG_FILE
        self.summary = self.root / SUMMARY_FILE
        self.epoch_metrics = self.root / EPOCH_METRICS_FILE
        self.splits = self.root / SPLITS_DIR
        self.checkpoints = self.root / CHECKPOINTS_DIR
        self.best = self.checkpoints / BEST_CHECKPOINT
        self.last = self.checkpoints / LAST_CHECKPOINT
        self.ism = self.root / ISM_FILE
        self.lock = self.root / LOCK_FILE

    def predictions(self, split: str) -> Path:
        """Per-person predictions of the best checkpoint on ``split`` (``tune`` or ``test``)."""
        return self.root / f"predictions_{split}.csv"

    def gene_metrics(self, split: str) -> Path:
        """Per-gene metrics of the best checkpoint on ``split`` (``tune`` or ``test``)."""
        return self.root / f"metrics_{split}.csv"

    def results(self) -> list[Path]:
        """The files of a finished run's final evaluation, ``summary.json`` first (the 'finished' marker)."""
        return [self.summary, *(f(s) for f in (self.predictions, self.gene_metrics) for s in SPLITS)]


def gene_set_name(gene: str | None, genes) -> str:
    """Short name of a gene set for run directories: the gene, the gene file's stem, or a count.

    ``conf/train.yaml`` uses it (resolver ``gene_set``) in ``outputs/<experiment>/<gene set>/fold<k>``.
    """
    if gene:
        return str(gene)
    if genes is None:
        return "all_genes"
    if isinstance(genes, str):
        return Path(genes).stem
    genes = list(genes)
    return genes[0] if len(genes) == 1 else f"{genes[0]}+{len(genes) - 1}"


# ----------------------------------------------------------------------------------------------------------
# A run's config: its genes and its data
# ----------------------------------------------------------------------------------------------------------


def gene_list(gene: str | None, genes) -> list[str] | None:
    """Genes of a run: ``gene`` (one symbol or ID), else ``genes`` (a list, or a file with one per line).

    Returns None (every gene of the expression file) when neither is given.

    Raises:
        FileNotFoundError: ``genes`` is a string that is not an existing file.
    """
    if gene:
        return [str(gene)]
    if genes is None:
        return None
    if isinstance(genes, str):
        path = Path(to_absolute_path(genes))
        if not path.is_file():
            raise FileNotFoundError(f"genes={genes!r}: expected a list or a file with one gene per line")
        return [line.split()[0] for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [str(g) for g in genes]


def accumulation(cfg: DictConfig) -> int:
    """Micro-batches per optimiser step: ``cfg.trainer.accumulate_grad_batches`` (Lightning's default 1).

    The same number drives Lightning's gradient accumulation and the same-gene sampler, which must
    agree. Run configs written before the setting moved into ``trainer`` hold it as ``accumulate``.
    """
    value = OmegaConf.select(cfg, "trainer.accumulate_grad_batches", default=None)
    if value is None:
        value = cfg.get("accumulate", 1)
    return int(value)


LATER_SETTINGS = {
    "data.cache_dir": None,
    "data.read_workers": None,
    "data.indels": False,
    "data.encoding": "dosage",
    "data.unphased": "error",
    "model.compile": False,
    "model.trunk.name": "enformer",
    "model.trunk.checkpoint_conv": False,
    "model.head.name": "centre_bin",
    "model.head.bins": 1,
}
"""Settings added after the first runs were trained (dotted keys), with what a run config without them means."""


def data_setting(data: DictConfig, name: str):
    """``data.<name>``; for a setting of :data:`LATER_SETTINGS` that an older config lacks, its default."""
    return data.get(name, LATER_SETTINGS[f"data.{name}"])


def cohort_files(data: DictConfig) -> dict:
    """Where a cohort's files are: the ``PerformerDataModule`` arguments ``vcf, fasta, expression, root, gene_table,
    id_map, simulate`` of a data config (``conf/data``).

    ``root`` is made absolute (Hydra's original working folder); ``expression``, ``gene_table`` and ``id_map`` may
    be null. The one reading of these settings, for a run's own cohort (:func:`build_datamodule`) and for a cohort
    runs are applied to (``performer.evaluation.target_cohort``).
    """
    root = data.get("root")
    return dict(
        vcf=data.vcf,
        fasta=data.fasta,
        expression=data.get("expression"),
        root=None if root is None else to_absolute_path(str(root)),
        gene_table=data.get("gene_table"),
        id_map=data.get("id_map"),
        simulate=bool(data.get("simulate", False)),
    )


def build_datamodule(cfg: DictConfig) -> PerformerDataModule:
    """The DataModule of ``cfg.data`` (:func:`cohort_files` and the VCF reader options) and the run's batching, fold
    and window settings."""
    data = cfg.data
    cache_dir = data_setting(data, "cache_dir")
    return PerformerDataModule(
        **cohort_files(data),
        genes=gene_list(cfg.gene, cfg.genes),
        eval_genes=gene_list(None, cfg.eval_genes),
        train_fraction=cfg.train_fraction,
        window_bp=cfg.model.window_bp,
        batch_size=cfg.batch_size,
        accumulate=accumulation(cfg),
        eval_batch_size=cfg.eval_batch_size,
        fold=cfg.fold,
        n_folds=cfg.n_folds,
        split_seed=cfg.split_seed,
        splits_dir=to_absolute_path(cfg.splits_dir) if cfg.splits_dir else None,
        seed=cfg.seed,
        num_workers=cfg.num_workers,
        strict=data.strict,
        pass_only=data.pass_only,
        missing=data.missing,
        cache_dir=to_absolute_path(cache_dir) if cache_dir else None,
        read_workers=data_setting(data, "read_workers"),
        indels=data_setting(data, "indels"),
        encoding=data_setting(data, "encoding"),
        unphased=data_setting(data, "unphased"),
    )


@dataclass(frozen=True)
class RunSettings:
    """The settings of a run's config that evaluation, imputation, scoring and interpretation read, with the
    defaults an older run config means by their absence (``train_fraction`` 1.0, :data:`LATER_SETTINGS`).

    Attributes:
        fold: the run's fold of the people.
        train_fraction: the fraction of the fold's train people it trained on (learning curves).
        window_bp: its input window (bp).
        indels: ``data.indels``: its inputs held indels.
        encoding: ``data.encoding``: ``dosage`` or ``haplotypes``.
        cohort: ``data.name`` of its own cohort, ``""`` without one.
        trainer_precision: ``trainer.precision`` as written (``auto`` without one; Lightning's spellings).
    """

    fold: int
    train_fraction: float
    window_bp: int
    indels: bool
    encoding: str
    cohort: str
    trainer_precision: str | int

    @property
    def input_encoding(self) -> str:
        """``encoding`` and, with indels, ``+indels`` (e.g. ``dosage+indels``): the inputs the model was trained on."""
        return f"{self.encoding}{'+indels' if self.indels else ''}"


def run_settings(cfg: DictConfig) -> RunSettings:
    """The :class:`RunSettings` of a run's resolved config."""
    data = cfg.data
    return RunSettings(
        fold=int(cfg.fold),
        train_fraction=float(cfg.get("train_fraction", 1.0)),
        window_bp=int(cfg.model.window_bp),
        indels=bool(data_setting(data, "indels")),
        encoding=str(data_setting(data, "encoding")),
        cohort=str(data.get("name") or ""),
        trainer_precision=cfg.get("trainer", {}).get("precision", "auto"),
    )


# ----------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------


def write_config(run_dir: str | Path, cfg: DictConfig) -> Path:
    """Write the resolved ``cfg`` to ``config.yaml``; returns its path."""
    path = RunFiles(run_dir).config
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(OmegaConf.to_yaml(cfg, resolve=True))
    return path


def write_split(run_dir: str | Path, split: PeopleSplit) -> Path:
    """Write the people of a run to ``splits/`` (``train.txt``, ``tune.txt``, ``test.txt``); returns the folder."""
    return split.save(RunFiles(run_dir).splits)


def write_predictions(run_dir: str | Path, split: str, table: pd.DataFrame) -> Path:
    """Write the best checkpoint's per-person predictions on ``split`` (one row per gene and person)."""
    path = RunFiles(run_dir).predictions(split)
    table.to_csv(path, index=False)
    return path


def write_gene_metrics(run_dir: str | Path, split: str, table: pd.DataFrame) -> Path:
    """Write the best checkpoint's per-gene metrics on ``split`` (one row per gene)."""
    path = RunFiles(run_dir).gene_metrics(split)
    table.to_csv(path, index=False)
    return path


def write_summary(run_dir: str | Path, summary: dict) -> Path:
    """Write ``summary.json`` atomically (a complete file or none): it marks the run as finished.

    The JSON goes to ``summary.json.tmp`` first and is renamed into place (``os.replace``), so a crash
    never leaves a partial summary that would pass for a finished run. NumPy scalars and arrays are
    written as plain JSON values.

    Raises:
        TypeError: a value that JSON cannot hold (nothing is written then).
    """
    path = RunFiles(run_dir).summary
    text = json.dumps(summary, indent=2, default=_json_value) + "\n"
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _json_value(value):
    """NumPy scalars and arrays as plain JSON values."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# ----------------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------------


def finished(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds a finished run (its ``summary.json``)."""
    return RunFiles(run_dir).summary.exists()


def read_summary(run_dir: str | Path) -> dict:
    """The run's ``summary.json``: ``run_dir``, ``checkpoint``, ``best_epoch``, and per split (``tune``,
    ``test``, and ``tune_hogp`` / ``test_hogp`` with held-out genes) the means of ``performer.metrics.mean_over_genes``.

    Raises:
        FileNotFoundError: the run is not finished (no ``summary.json``).
    """
    return json.loads(RunFiles(run_dir).summary.read_text())


def read_config(run_dir: str | Path) -> DictConfig:
    """The run's resolved config (``config.yaml``).

    Raises:
        FileNotFoundError: no ``config.yaml``.
    """
    return OmegaConf.load(RunFiles(run_dir).config)


def read_split(run_dir: str | Path) -> PeopleSplit:
    """The people the run used (``splits/``).

    Raises:
        FileNotFoundError: the run has no saved split (the message names the run).
    """
    try:
        return PeopleSplit.load(RunFiles(run_dir).splits)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"run {run_dir} has no saved people split: {error}") from error


def read_predictions(run_dir: str | Path, split: str) -> pd.DataFrame:
    """The best checkpoint's per-person predictions on ``split``; person IDs read as strings."""
    return pd.read_csv(RunFiles(run_dir).predictions(split), dtype={"person": str})


def read_gene_metrics(run_dir: str | Path, split: str) -> pd.DataFrame:
    """The best checkpoint's per-gene metrics on ``split``."""
    return pd.read_csv(RunFiles(run_dir).gene_metrics(split))


@dataclass
class Run:
    """A finished training run: its directory, resolved config and best checkpoint."""

    path: Path
    cfg: DictConfig
    checkpoint: Path

    @property
    def experiment(self) -> str:
        return str(self.cfg.experiment_name)

    @property
    def files(self) -> RunFiles:
        return RunFiles(self.path)

    @property
    def settings(self) -> RunSettings:
        """Its settings with their defaults (:func:`run_settings`)."""
        return run_settings(self.cfg)


def load_run(run_dir: str | Path) -> Run:
    """The finished run in ``run_dir``.

    The checkpoint is the one ``summary.json`` names; when that path is gone but the run's own
    ``checkpoints/best.ckpt`` exists (the run directory was moved), that one.

    Raises:
        FileNotFoundError: the run is not finished, or has no ``config.yaml``, or its summary names no checkpoint.
    """
    files = RunFiles(run_dir)
    if not finished(files.root):
        raise FileNotFoundError(f"{files.root} holds no finished run (no {SUMMARY_FILE})")
    checkpoint = read_summary(files.root).get("checkpoint")
    if not checkpoint:
        raise FileNotFoundError(f"{files.summary} names no best checkpoint")
    checkpoint = Path(checkpoint)
    if not checkpoint.exists() and files.best.exists():
        checkpoint = files.best
    return Run(files.root, read_config(files.root), checkpoint)


@dataclass
class SkippedRun:
    """A run folder that :func:`find_runs` does not return, and why.

    Attributes:
        path: the run folder.
        status: ``unfinished`` (a ``config.yaml`` but no ``summary.json``: killed, failed or still training) or
            ``unreadable`` (a ``summary.json`` without its ``config.yaml`` or checkpoint).
        reason: one sentence naming what is missing and the fix.
    """

    path: Path
    status: str
    reason: str


def _run_folders(root: Path) -> list[Path]:
    """Folders under ``root`` (``root`` included) that hold a run: a ``summary.json`` or a ``config.yaml``.

    Hidden folders (Hydra's ``.hydra/config.yaml``) are not searched, and a folder without ``summary.json``
    inside another run folder is not a run (the W&B logger's ``wandb/.../files/config.yaml``).
    """
    found = set()
    for name in (SUMMARY_FILE, CONFIG_FILE):
        for path in root.rglob(name):
            if not any(part.startswith(".") for part in path.parent.relative_to(root).parts):
                found.add(path.parent)
    return sorted(
        folder for folder in found if finished(folder) or not any(parent in found for parent in folder.parents)
    )


def scan_runs(root: str | Path) -> tuple[list[Run], list[SkippedRun]]:
    """Every run folder under ``root``, sorted by path: the finished runs and the others (no logging).

    Raises:
        FileNotFoundError: ``root`` does not exist.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"runs={root}: no such folder")
    runs, skipped = [], []
    for folder in _run_folders(root):
        files = RunFiles(folder)
        if not finished(folder):
            resume = (
                f"its resume state {files.last} is there: resume it with its train.py command plus "
                f"ckpt_path={files.last}"
                if files.last.exists()
                else f"it has no resume state ({files.last}): train it again with its train.py command"
            )
            reason = f"no {SUMMARY_FILE} (killed, failed or still training); {resume}"
            skipped.append(SkippedRun(folder, "unfinished", reason))
            continue
        try:
            runs.append(load_run(folder))
        except FileNotFoundError as error:
            skipped.append(SkippedRun(folder, "unreadable", str(error)))
    return runs, skipped


def find_runs(root: str | Path) -> list[Run]:
    """Every finished run (a ``summary.json`` beside ``config.yaml``) under ``root``, sorted by path.

    The other run folders (:func:`scan_runs`: unfinished runs, a ``config.yaml`` without ``summary.json``;
    unreadable ones, a ``summary.json`` without its config or checkpoint) are not returned: each is named in
    a WARNING and their number logged; :func:`find_runs_and_skipped` also returns them.

    Raises:
        FileNotFoundError: ``root`` does not exist, or holds no finished run (the message names the
            unfinished and unreadable run folders it holds).
    """
    return find_runs_and_skipped(root)[0]


def find_runs_and_skipped(root: str | Path) -> tuple[list[Run], list[SkippedRun]]:
    """:func:`find_runs` and the run folders it skips (:func:`scan_runs`), from one scan of ``root``.

    Raises:
        FileNotFoundError: as :func:`find_runs`.
    """
    root = Path(root)
    runs, skipped = scan_runs(root)
    for run in skipped:
        log.warning("skipping %s run %s: %s", run.status, run.path, run.reason)
    if not runs:
        named = "; ".join(f"{run.path} ({run.status}: {run.reason})" for run in skipped[:10])
        others = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        held = f"; it holds {len(skipped)} run folders that are not finished runs: {named}{others}" if skipped else ""
        raise FileNotFoundError(f"no finished run (a folder with {SUMMARY_FILE}) under {root}{held}")
    if skipped:
        counts = pd.Series([run.status for run in skipped]).value_counts().to_dict()
        log.warning("found %d finished runs under %s; skipped %d run folders %s", len(runs), root, len(skipped), counts)
    else:
        log.info("found %d finished runs under %s", len(runs), root)
    return runs, skipped
