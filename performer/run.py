"""Training and evaluation runs from a composed Hydra config: the wiring behind ``train.py``.

A run writes one run directory; its layout and the reading and writing of its files live in
:mod:`performer.runs` (``config.yaml``, ``splits/``, ``metrics.csv``, predictions and per-gene metrics of the
tune and test people, ``checkpoints/best.ckpt`` and ``last.ckpt``, and ``summary.json``, written last, whose
presence marks the run as finished).

Lightning's own settings (epochs, accumulation, clipping, precision, devices, validation interval...)
come from ``cfg.trainer`` and go to ``L.Trainer(**cfg.trainer)`` unchanged, except ``precision: auto``
(see :func:`trainer_precision`).
"""

from __future__ import annotations

import logging
import netrc
import os
import random
import signal
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import lightning as L
import numpy as np
import pandas as pd
import torch
from filelock import FileLock, Timeout
from hydra.types import RunMode
from hydra.utils import to_absolute_path
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, WandbLogger
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf, open_dict

from performer.data.datamodule import PerformerDataModule
from performer.metrics import mean_over_genes
from performer.model.module import PerformerModule
from performer.model.trunk import compile_trunk
from performer.runs import (
    LATER_SETTINGS,
    RunFiles,
    build_datamodule,
    finished,
    gene_set_name,
    read_config,
    read_summary,
    write_config,
    write_gene_metrics,
    write_predictions,
    write_split,
    write_summary,
)

log = logging.getLogger(__name__)

LEGACY_KEYS = {
    "max_epochs": "trainer.max_epochs",
    "accumulate": "trainer.accumulate_grad_batches",
    "gradient_clip_val": "trainer.gradient_clip_val",
    "log_every_n_steps": "trainer.log_every_n_steps",
    "check_val_every_n_epoch": "trainer.check_val_every_n_epoch",
}
"""Top-level keys of older configs and the ``trainer`` keys that replaced them."""

CODE_OWNED_TRAINER_ARGS = ("logger", "callbacks", "default_root_dir", "use_distributed_sampler", "enable_checkpointing")
"""``L.Trainer`` arguments that :func:`build_trainer` sets itself; ``cfg.trainer`` may not set them."""


def gpus_per_node(devices) -> int:
    """``trainer.devices`` as the GPUs (and DDP tasks) per node of a SLURM DDP job (``hydra/launcher=slurm_ddp``).

    Raises:
        ValueError: ``devices`` is not a positive number (e.g. ``auto``).
    """
    if isinstance(devices, bool) or not str(devices).isdigit() or int(devices) < 1:
        raise ValueError(
            f"hydra/launcher=slurm_ddp starts one task per GPU and needs trainer.devices=<GPUs per node> as a number, "
            f"not {devices!r}: e.g. trainer.devices=8"
        )
    return int(devices)


OmegaConf.register_new_resolver("gene_set", gene_set_name, replace=True)
OmegaConf.register_new_resolver("gpus_per_node", gpus_per_node, replace=True)


def silence_known_warnings() -> None:
    """Hide warnings that every run would print and that need no action (the one place that filters any).

    * torch >= 2.10 deprecates ``LeafSpec``, which Lightning's own pytree helper still instantiates at each
      step: nothing a Lightning user can change.
    """
    warnings.filterwarnings(
        "ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning
    )


def check_config(cfg: DictConfig) -> None:
    """Reject settings that moved into the ``trainer`` group or that the code sets itself.

    Raises:
        ValueError: a top-level ``max_epochs``, ``accumulate``, ... (now ``trainer.max_epochs``, ...), or a
            ``trainer`` key among :data:`CODE_OWNED_TRAINER_ARGS`.
    """
    moved = [f"{key} -> {new}" for key, new in LEGACY_KEYS.items() if key in cfg]
    if moved:
        raise ValueError(
            f"Lightning's settings live in the trainer group now: rename {', '.join(moved)} "
            "(e.g. trainer.max_epochs=5 on the command line, or 'trainer: {max_epochs: 5}' in an experiment config)"
        )
    owned = [key for key in CODE_OWNED_TRAINER_ARGS if key in cfg.trainer]
    if owned:
        raise ValueError(f"trainer.{owned[0]} is set by performer.run.build_trainer; remove it from the config")


def build_module(cfg: DictConfig) -> PerformerModule:
    """The LightningModule of ``cfg.model``; loads pretrained trunk weights (a local directory or a hub ID) if set."""
    module = PerformerModule(
        trunk=OmegaConf.to_container(cfg.model.trunk, resolve=True),
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        alpha=cfg.alpha,
        head=OmegaConf.to_container(cfg.model.head, resolve=True) if cfg.model.get("head") else None,
    )
    if cfg.model.pretrained and cfg.fit and not cfg.ckpt_path:
        local = to_absolute_path(str(cfg.model.pretrained))  # else a hub ID (owner/name), resolved by the trunk
        module.load_pretrained_trunk(local if Path(local).exists() else str(cfg.model.pretrained))
    backend = compile_backend(cfg.model.get("compile", False))  # older run configs lack the key
    if backend:
        compile_trunk(module.model.trunk, backend=backend)
        log.info("trunk compiled with torch.compile (backend %s); the first steps of each mode compile", backend)
    return module


def compile_backend(setting) -> str | None:
    """``model.compile`` as a ``torch.compile`` backend: false/null -> None, true -> ``inductor``, else the name.

    Raises:
        ValueError: a setting that is neither a boolean nor a backend name.
    """
    if setting is None or setting is False:
        return None
    if setting is True:
        return "inductor"
    if isinstance(setting, str) and setting:
        if setting.lower() in ("false", "none", "off"):
            return None
        if setting.lower() in ("true", "on"):
            return "inductor"
        return setting
    raise ValueError(f"model.compile={setting!r}: choose false, true (inductor) or a torch.compile backend name")


WANDB_HOST = "https://api.wandb.ai"


def wandb_credentials() -> str | None:
    """Where W&B credentials are, without contacting the server: ``WANDB_API_KEY``, an identity token
    file, or a netrc entry for the W&B host (``WANDB_BASE_URL``, default ``api.wandb.ai``) as
    ``wandb login`` writes it; None when there are none.

    Uses wandb's own netrc reader (``$NETRC``, else ``~/.netrc``) when the installed wandb has one,
    else Python's ``netrc`` module on ``~/.netrc``. A malformed entry counts as none (with a warning).
    """
    for variable in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE"):
        if os.environ.get(variable):
            return variable
    host = os.environ.get("WANDB_BASE_URL") or WANDB_HOST
    try:
        from wandb.sdk.lib.wbauth import read_netrc_auth
    except ImportError:  # wandb releases without wbauth: read the file ourselves
        path = Path(os.environ.get("NETRC") or "~/.netrc").expanduser()
        try:
            entry = netrc.netrc(str(path)).authenticators(urlsplit(host).netloc)
        except (FileNotFoundError, netrc.NetrcParseError, OSError):
            return None
        return str(path) if entry and entry[2] else None
    try:
        key = read_netrc_auth(host=host)
    except Exception as error:  # wandb.errors.AuthenticationError: a key in the wrong format
        log.warning("ignoring W&B credentials in netrc: %s", error)
        return None
    return "netrc (~/.netrc or $NETRC; written by `wandb login`)" if key else None


def wandb_mode(offline: bool | None = None) -> tuple[str, str]:
    """The W&B mode of a run and why: ``(mode, reason)``, ``mode`` one of online, offline, disabled.

    ``logger.offline`` (``offline``) decides when set; else ``WANDB_MODE``; else online when
    :func:`wandb_credentials` finds credentials, offline otherwise.
    """
    if offline is not None:
        return ("offline" if offline else "online"), f"logger.offline={str(bool(offline)).lower()}"
    env = os.environ.get("WANDB_MODE")
    if env:
        return {"dryrun": "offline", "run": "online"}.get(env, env), f"WANDB_MODE={env}"
    source = wandb_credentials()
    if source:
        return "online", f"credentials from {source}"
    return "offline", "no W&B credentials: run `wandb login` (or set WANDB_API_KEY) to log online"


def build_logger(cfg: DictConfig, run_dir: Path):
    """W&B (mode from :func:`wandb_mode`, named in one INFO line), CSV, or no logger."""
    kind = cfg.logger.name
    if kind == "none":
        return False
    if kind == "csv":
        return CSVLogger(save_dir=str(run_dir), name="csv_logs")
    if kind == "wandb":
        mode, reason = wandb_mode(cfg.logger.offline)
        where = f" (files under {run_dir / 'wandb'})" if mode == "offline" else ""
        log.info("W&B logging %s: %s%s", mode, reason, where)
        logger = WandbLogger(
            project=cfg.logger.project,
            entity=cfg.logger.entity,
            name=f"{cfg.experiment_name}/{gene_set_name(cfg.gene, cfg.genes)}/fold{cfg.fold}",
            group=f"{cfg.experiment_name}/{gene_set_name(cfg.gene, cfg.genes)}",
            tags=[cfg.experiment_name, cfg.data.name, f"fold{cfg.fold}"],
            save_dir=str(run_dir),
            offline=mode == "offline",
            config=OmegaConf.to_container(cfg, resolve=True),
        )
        # Lightning passes anonymous=None to wandb.init, which wandb >= 0.22 answers with "The anonymous
        # setting has no effect" on every run; leaving the argument out is the same call without the warning.
        getattr(logger, "_wandb_init", {}).pop("anonymous", None)
        return logger
    raise ValueError(f"logger.name={kind!r}: choose wandb, csv or none")


def trainer_precision(precision: str) -> str:
    """``auto`` -> ``bf16-mixed`` on a CUDA GPU that supports bf16, else ``32-true``."""
    if precision != "auto":
        return precision
    return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"


class EpochMetricsWriter(Callback):
    """Appends each validated epoch's per-gene tune metrics and that epoch's mean train loss to ``metrics.csv``.

    Only epochs that ran validation get rows (``trainer.check_val_every_n_epoch``), under their own
    epoch number. The rows are written at the end of the training epoch, when Lightning has the epoch's
    mean train loss and just before the resume checkpoint of that epoch is saved. A resumed run first
    drops rows from epochs that its checkpoint did not reach (written before a kill), then appends.
    """

    def __init__(self, path: Path):
        self.path = path
        self._validated_epoch: int | None = None

    def on_train_start(self, trainer: L.Trainer, module: PerformerModule) -> None:
        if trainer.is_global_zero and self.path.exists():
            table = pd.read_csv(self.path)
            kept = table[table["epoch"] < trainer.current_epoch]
            if len(kept) < len(table):
                dropped = len(table) - len(kept)
                log.info("%s: dropping %d rows of epochs past the resumed checkpoint", self.path, dropped)
                kept.to_csv(self.path, index=False)

    def on_validation_end(self, trainer: L.Trainer, module: PerformerModule) -> None:
        if trainer.state.fn == "fit" and not trainer.sanity_checking:
            self._validated_epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer: L.Trainer, module: PerformerModule) -> None:
        metrics = module.gene_metrics.get("fit")
        if not trainer.is_global_zero or metrics is None or self._validated_epoch != trainer.current_epoch:
            return
        train_loss = trainer.callback_metrics.get("train/loss_epoch")
        table = name_genes(metrics, trainer.datamodule)
        table.insert(0, "epoch", trainer.current_epoch)
        table.insert(1, "split", "tune")
        table["train_loss"] = float(train_loss) if train_loss is not None else float("nan")
        table.to_csv(self.path, mode="a", header=not self.path.exists(), index=False)


class RandomState(Callback):
    """Saves the global random generators (Python, NumPy, torch CPU and this rank's CUDA device) in checkpoints
    and restores them on resume, so that dropout draws after a resume are those of an uninterrupted run.

    Lightning checkpoints do not hold them. Every rank seeds them identically, so rank 0's state is
    everyone's. (The same-gene sampler draws from ``(seed, epoch)`` and needs nothing.)
    """

    def state_dict(self) -> dict:
        # plain Python values and tensors only: Lightning loads checkpoints with torch.load(weights_only=True)
        kind, keys, position, has_gauss, gauss = np.random.get_state()
        state = {
            "python": random.getstate(),
            "numpy": [kind, keys.tolist(), int(position), int(has_gauss), float(gauss)],
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state()
        return state

    def load_state_dict(self, state: dict) -> None:
        random.setstate(state["python"])
        kind, keys, position, has_gauss, gauss = state["numpy"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), position, has_gauss, gauss))
        torch.set_rng_state(state["torch"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state(state["cuda"])


def name_genes(table: pd.DataFrame, datamodule: PerformerDataModule) -> pd.DataFrame:
    """Replace the ``gene`` index column with ``gene_id`` and ``gene`` (symbol) columns."""
    out = table.copy()
    index = out.pop("gene")
    out.insert(0, "gene_id", [datamodule.gene_ids[i] for i in index])
    out.insert(1, "gene", [datamodule.gene_names[i] for i in index])
    if "person" in out:
        out["person"] = [datamodule.people[i] for i in out["person"]]
    return out


def build_trainer(cfg: DictConfig, run_dir: Path, logger) -> L.Trainer:
    """Lightning Trainer: ``L.Trainer(**cfg.trainer)`` plus the run's checkpoints, early stopping and logs.

    Checkpoints: ``best.ckpt`` holds the best epoch's weights only (by ``cfg.selection``), rewritten on
    each improving epoch; ``last.ckpt`` holds the full resume state (weights, AdamW moments, loops,
    callbacks, random generators), rewritten every ``cfg.resume_every_n_epochs`` epochs.

    Raises:
        ValueError: see :func:`check_config`.
    """
    check_config(cfg)
    files = RunFiles(run_dir)
    best = ModelCheckpoint(
        dirpath=files.checkpoints,
        filename=files.best.stem,
        monitor=cfg.selection.monitor,
        mode=cfg.selection.mode,
        save_top_k=1,
        save_weights_only=True,
        enable_version_counter=False,
    )
    last = ModelCheckpoint(  # after `best`: saves best's updated state; trainer.checkpoint_callback is `best`
        dirpath=files.checkpoints,
        filename=files.last.stem,
        save_top_k=1,  # no monitor: the latest epoch
        every_n_epochs=cfg.resume_every_n_epochs,
        save_on_train_epoch_end=True,
        enable_version_counter=False,
    )
    callbacks = [
        EarlyStopping(monitor=cfg.selection.monitor, mode=cfg.selection.mode, patience=cfg.selection.patience),
        EpochMetricsWriter(files.epoch_metrics),
        RandomState(),
        best,
        last,
    ]
    settings = {"num_sanity_val_steps": 0, **OmegaConf.to_container(cfg.trainer, resolve=True)}
    settings["precision"] = trainer_precision(settings.get("precision", "auto"))
    return L.Trainer(
        **settings,
        use_distributed_sampler=False,  # the DataModule's samplers split genes and people over ranks
        logger=logger,
        callbacks=callbacks,
        default_root_dir=str(run_dir),
    )


def subprocess_ddp(trainer_cfg: DictConfig) -> bool:
    """Whether Lightning would start the extra DDP processes by re-running the command line (its
    subprocess launcher): strategy ``ddp*`` other than spawn/fork/notebook, or ``auto`` on several devices."""
    strategy = str(trainer_cfg.get("strategy", "auto"))
    devices = str(trainer_cfg.get("devices", "auto"))
    if strategy.startswith("ddp"):
        return not any(kind in strategy for kind in ("spawn", "fork", "notebook"))
    return strategy == "auto" and (devices not in ("1", "[0]") or int(trainer_cfg.get("num_nodes", 1)) > 1)


def check_launch(cfg: DictConfig, hydra_cfg) -> None:
    """Refuse a Hydra multirun of multi-process DDP jobs outside submitit, before any work.

    Lightning starts the other DDP ranks by re-running the command line; under ``-m`` every rank would
    re-run the whole sweep. Each sweep point must be its own job: the ``slurm_ddp`` launcher (one
    SLURM job per point, one task per GPU) or a shell loop of single runs. Under submitit, the job's
    tasks per node must equal ``trainer.devices``.

    Args:
        hydra_cfg: ``HydraConfig.get()`` of the job.

    Raises:
        RuntimeError: a multirun with DDP and another launcher, or a submitit task count that differs
            from ``trainer.devices`` / ``trainer.num_nodes``.
    """
    if hydra_cfg.mode != RunMode.MULTIRUN or not subprocess_ddp(cfg.trainer):
        return
    launcher = str(hydra_cfg.launcher.get("_target_", ""))
    if "submitit" not in launcher:
        raise RuntimeError(
            "a Hydra multirun (-m) of DDP jobs is not supported with the "
            f"{launcher.rsplit('.', 1)[-1] or 'current'} launcher: Lightning starts the other DDP ranks by "
            "re-running the command line, so every rank would re-run the whole sweep. Run one job per sweep "
            "point instead: on SLURM, python train.py -m hydra/launcher=slurm_ddp trainer=ddp "
            "trainer.devices=<GPUs> ... (one job per point, one task per GPU); elsewhere, a shell loop of "
            "single runs, e.g. for g in BTNL3 ZFP57; do python train.py trainer=ddp gene=$g; done"
        )
    tasks, nodes = hydra_cfg.launcher.get("tasks_per_node"), hydra_cfg.launcher.get("nodes")
    if str(tasks) != str(cfg.trainer.get("devices")) or str(nodes) != str(cfg.trainer.get("num_nodes", 1)):
        raise RuntimeError(
            f"DDP under submitit needs one SLURM task per device: hydra.launcher.tasks_per_node={tasks} and "
            f"nodes={nodes}, but trainer.devices={cfg.trainer.get('devices')} and "
            f"trainer.num_nodes={cfg.trainer.get('num_nodes', 1)}; use hydra/launcher=slurm_ddp, which matches them"
        )


def prepare_run_dir(cfg: DictConfig, files: RunFiles) -> None:
    """Clear what a (re)started fit would otherwise leave stale; refuse to silently drop resume state.

    A fresh fit (no ``ckpt_path``) removes the old run's results (``summary.json`` first), epoch log
    and checkpoints. A resumed fit removes the results and keeps the epoch log (rows past the resumed
    epoch are dropped when training starts) and the checkpoints. Either way a crash before the new
    run ends leaves no ``summary.json`` behind.

    Raises:
        FileExistsError: a fresh fit without ``overwrite=true`` in a directory with an unfinished run's
            resume state (``checkpoints/last.ckpt``).
    """
    resuming = bool(cfg.ckpt_path) and Path(to_absolute_path(cfg.ckpt_path)).parent.resolve() == (
        files.checkpoints.resolve()
    )
    if not cfg.ckpt_path and files.last.exists() and not cfg.overwrite:
        raise FileExistsError(
            f"{files.root} holds an unfinished run that can be resumed: add ckpt_path={files.last} to resume "
            "it, or overwrite=true to start again (deleting it)"
        )
    stale = files.results()
    if not resuming:
        stale += [files.epoch_metrics, files.best, files.last]
    removed = [path.name for path in stale if path.exists()]
    for path in stale:
        path.unlink(missing_ok=True)
    if removed:
        log.info("%s: removed %s of the previous run", files.root, ", ".join(removed))


RESULT_NEUTRAL_KEYS = (
    "overwrite",
    "ckpt_path",
    "keep_resume_state",
    "resume_every_n_epochs",
    "num_workers",
    "eval_batch_size",
    "logger",
    "data.read_workers",
    "data.cache_dir",
    "trainer.enable_progress_bar",
    "trainer.enable_model_summary",
    "trainer.log_every_n_steps",
)
"""Config keys (and groups, by prefix) that never change a run's result: a finished run whose saved config
differs from the requested one only in these is reused. Every other key counts (the data, the genes, the
people split, the model, lr, the schedule, the seeds, the precision and the devices)."""


def _flatten(value, prefix: str = "") -> dict:
    """A resolved config as ``{dotted key: value}`` (lists kept whole)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


def config_differences(saved: DictConfig, requested: DictConfig) -> dict[str, tuple]:
    """Keys whose values differ between a finished run's saved config and a requested one, outside
    :data:`RESULT_NEUTRAL_KEYS`: ``{key: (saved value, requested value)}`` (``<absent>`` for a missing key)."""
    old = {**LATER_SETTINGS, **_flatten(OmegaConf.to_container(saved, resolve=True))}  # keys older runs lack
    new = _flatten(OmegaConf.to_container(requested, resolve=True))

    def neutral(key: str) -> bool:
        return any(key == k or key.startswith(f"{k}.") for k in RESULT_NEUTRAL_KEYS)

    absent = "<absent>"
    return {
        key: (old.get(key, absent), new.get(key, absent))
        for key in sorted(old.keys() | new.keys())
        if not neutral(key) and old.get(key, absent) != new.get(key, absent)
    }


def check_finished_run_matches(run_dir: Path, cfg: DictConfig) -> None:
    """Refuse to return a finished run's result for a config that would give another result.

    Raises:
        FileExistsError: the saved ``config.yaml`` differs from ``cfg`` in a key outside
            :data:`RESULT_NEUTRAL_KEYS`; the message names the keys, both values and the fixes.
    """
    differences = config_differences(read_config(run_dir), cfg)
    if not differences:
        return
    shown = "; ".join(f"{key}: {old!r} in the run, {new!r} now" for key, (old, new) in list(differences.items())[:10])
    more = f" (and {len(differences) - 10} more)" if len(differences) > 10 else ""
    raise FileExistsError(
        f"{run_dir} holds a finished run of another config: {shown}{more}. Its result would not be the one "
        "asked for. Add overwrite=true to train this config there (deleting the old run), or give it its own "
        "directory: hydra.run.dir=<another folder> (a multirun's default sweep.subdir already includes the "
        "overridden keys)"
    )


def acquire_run_lock(files: RunFiles) -> FileLock:
    """Hold the run directory's lock (``.lock``) so that no second run writes into it at the same time.

    The lock is an OS file lock (``filelock``): released when the process ends, so a crashed run
    leaves no stale lock behind.

    Raises:
        RuntimeError: another process holds the lock; the message names the directory and the fixes.
    """
    files.root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(files.lock)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RuntimeError(
            f"{files.root} is in use by another run (it holds {files.lock}); two runs writing one directory would "
            "mix their metrics, checkpoints and configs. Wait for it to end, or give this run its own "
            "hydra.run.dir"
        ) from None
    return lock


def train(cfg: DictConfig, run_dir: str | Path) -> dict:
    """Fit on train people, select the best epoch on tune people, evaluate it on test people.

    With ``cfg.fit=false``, evaluates ``cfg.ckpt_path`` on the tune and test people instead.
    A finished run directory is returned as it is (with its summary line) when its saved config agrees
    with ``cfg`` on every key that changes the result (:func:`check_finished_run_matches`); with
    ``cfg.overwrite`` it is trained again. After a successful fit the resume state
    (``checkpoints/last.ckpt``) is deleted unless ``cfg.keep_resume_state``. The process that writes the
    run directory (global rank 0) holds its lock (:func:`acquire_run_lock`) throughout.

    Returns:
        The run summary (also written to ``summary.json``): per split, mean PCC / R^2 over genes.

    Raises:
        ValueError: ``fit=false`` without ``ckpt_path``; settings outside the ``trainer`` group (see
            :func:`check_config`).
        FileExistsError: see :func:`prepare_run_dir` and :func:`check_finished_run_matches`.
        RuntimeError: another process is writing the run directory.
        SystemExit: status 143 (128 + SIGTERM) when a SIGTERM stopped the run before it finished.
    """
    silence_known_warnings()
    files = RunFiles(run_dir)
    if not cfg.fit and not cfg.ckpt_path:
        raise ValueError("fit=false evaluates a checkpoint: give ckpt_path=/path/to/best.ckpt")
    check_config(cfg)
    datamodule = build_datamodule(cfg)
    with open_dict(cfg):  # record where the cohort really is (the demo's cache, a relative root)
        cfg.data.root = str(datamodule.root) if datamodule.root else None
    lock = acquire_run_lock(files) if rank_zero_only.rank == 0 else None  # DDP ranks > 0 start inside fit
    try:
        if cfg.fit and finished(files.root) and not cfg.overwrite:
            check_finished_run_matches(files.root, cfg)
            summary = read_summary(files.root)
            log.warning(
                "run %s is already finished with this config; pass overwrite=true to train it again", files.root
            )
            print(summary_line(cfg, summary, datamodule.requested_genes))
            return summary
        return _fit_and_test(cfg, files, datamodule)
    except SIGTERMException:
        log.error(
            "run %s was stopped by SIGTERM before it finished (no %s written); resume it with ckpt_path=%s",
            files.root,
            files.summary.name,
            files.last,
        )
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        if lock is not None:
            lock.release()


def _fit_and_test(cfg: DictConfig, files: RunFiles, datamodule: PerformerDataModule) -> dict:
    """The body of :func:`train` once the run directory is this process's: fit, then tune and test."""
    run_dir = files.root
    L.seed_everything(cfg.seed, workers=True)
    module = build_module(cfg)
    trainer = build_trainer(cfg, run_dir, build_logger(cfg, run_dir))
    if trainer.is_global_zero:  # before fit: the other DDP ranks do not exist yet
        run_dir.mkdir(parents=True, exist_ok=True)
        if cfg.fit:
            prepare_run_dir(cfg, files)
        write_config(run_dir, cfg)

    if cfg.fit:
        trainer.fit(module, datamodule=datamodule, ckpt_path=to_absolute_path(cfg.ckpt_path) if cfg.ckpt_path else None)
        ckpt = trainer.checkpoint_callback.best_model_path or None  # the first ModelCheckpoint: `best`
    else:
        ckpt = to_absolute_path(cfg.ckpt_path)
    best_epoch = torch.load(ckpt, map_location="cpu", mmap=True, weights_only=False)["epoch"] if ckpt else None

    summary = {"run_dir": str(run_dir), "checkpoint": ckpt, "best_epoch": best_epoch}
    for split, call in (("tune", trainer.validate), ("test", trainer.test)):
        call(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False)
        stage = "validate" if split == "tune" else "test"
        metrics = name_genes(module.gene_metrics[stage], datamodule)
        held_out = metrics["gene_set"] == "HOGP"
        summary[split] = mean_over_genes(metrics[~held_out])  # training genes (HOP): what the run is selected on
        if held_out.any():
            summary[f"{split}_hogp"] = mean_over_genes(metrics[held_out])
        if trainer.is_global_zero:
            predictions = name_genes(module.predictions[stage], datamodule)
            predictions.insert(2, "split", split)
            predictions.insert(3, "fold", cfg.fold)
            write_predictions(run_dir, split, predictions)
            write_gene_metrics(run_dir, split, metrics)
    if trainer.is_global_zero:
        write_split(run_dir, datamodule.split)
        if cfg.fit and not cfg.keep_resume_state and files.last.exists():
            files.last.unlink()  # resume state is for unfinished runs; the best weights stay
        write_summary(run_dir, summary)
        print(summary_line(cfg, summary, datamodule.gene_names))
    return summary


def summary_line(cfg: DictConfig, summary: dict, gene_names: list[str]) -> str:
    """One line: the gene set, the best epoch, tune and test PCC / R^2 (means over genes), and the genes
    whose PCC is undefined (constant predictions or targets), when there are any."""
    tune, test = summary["tune"], summary["test"]
    n_genes = tune.get("n_genes", 0) + tune.get("n_pcc_undefined", 0)
    genes = gene_names[0] if len(gene_names) == 1 else f"{n_genes} training genes (means)"
    line = (
        f"{genes} fold {cfg.fold}: best epoch {summary['best_epoch']} | tune PCC {tune['mean_pcc']:.3f} "
        f"R^2 {tune['mean_r2']:.3f} | test PCC {test['mean_pcc']:.3f} R^2 {test['mean_r2']:.3f} | {summary['run_dir']}"
    )
    if "test_hogp" in summary:
        hogp = summary["test_hogp"]
        line += f" | held-out genes (HOGP) test PCC {hogp['mean_pcc']:.3f} R^2 {hogp['mean_r2']:.3f}"
    for split, means in (("tune", tune), ("test", test)):
        n_undefined = int(means.get("n_pcc_undefined") or 0)
        if n_undefined:
            labels = [str(g) for g in means.get("pcc_undefined") or []]
            shown = ", ".join(labels[:5]) + (", ..." if len(labels) > 5 else "")
            line += f" | {split} PCC undefined for {n_undefined} gene(s)" + (f": {shown}" if shown else "")
    return line
