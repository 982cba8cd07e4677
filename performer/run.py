"""Training and evaluation runs from a composed Hydra config: the wiring behind ``train.py``.

A run directory holds ``config.yaml`` (resolved), ``splits/`` (the people used), ``metrics.csv`` (per
epoch and gene: tune PCC, R^2, MSE, loss, and the epoch's train loss), ``predictions_tune.csv`` and
``predictions_test.csv`` (per person, from the best checkpoint), ``metrics_tune.csv`` and
``metrics_test.csv`` (per gene), ``checkpoints/best.ckpt`` (+ ``last.ckpt``) and ``summary.json``,
whose presence marks the run as finished.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import lightning as L
import pandas as pd
import torch
from hydra.utils import to_absolute_path
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, WandbLogger
from omegaconf import DictConfig, OmegaConf, open_dict

from performer.data.datamodule import PerformerDataModule
from performer.metrics import mean_over_genes
from performer.model.module import PerformerModule

log = logging.getLogger(__name__)

SUMMARY_FILE = "summary.json"


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


def gene_set_name(gene: str | None, genes) -> str:
    """Short name of a gene set for run directories: the gene, the gene file's stem, or a count."""
    if gene:
        return str(gene)
    if genes is None:
        return "all_genes"
    if isinstance(genes, str):
        return Path(genes).stem
    genes = list(genes)
    return genes[0] if len(genes) == 1 else f"{genes[0]}+{len(genes) - 1}"


OmegaConf.register_new_resolver("gene_set", gene_set_name, replace=True)


def build_datamodule(cfg: DictConfig) -> PerformerDataModule:
    """The DataModule of ``cfg.data`` (paths) and the run's batching, fold and window settings."""
    data = cfg.data
    root = data.root if data.root is None else to_absolute_path(str(data.root))
    return PerformerDataModule(
        vcf=data.vcf,
        fasta=data.fasta,
        expression=data.expression,
        root=root,
        gene_table=data.gene_table,
        id_map=data.id_map,
        simulate=data.simulate,
        genes=gene_list(cfg.gene, cfg.genes),
        eval_genes=gene_list(None, cfg.eval_genes),
        train_fraction=cfg.train_fraction,
        window_bp=cfg.model.window_bp,
        batch_size=cfg.batch_size,
        accumulate=cfg.accumulate,
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
    )


def build_module(cfg: DictConfig) -> PerformerModule:
    """The LightningModule of ``cfg.model``; loads local pretrained trunk weights if configured."""
    module = PerformerModule(
        trunk=OmegaConf.to_container(cfg.model.trunk, resolve=True),
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        alpha=cfg.alpha,
    )
    if cfg.model.pretrained and cfg.fit and not cfg.ckpt_path:
        module.load_pretrained_trunk(to_absolute_path(cfg.model.pretrained))
    return module


def build_logger(cfg: DictConfig, run_dir: Path):
    """W&B (offline unless an API key or WANDB_MODE says otherwise), CSV, or no logger."""
    kind = cfg.logger.name
    if kind == "none":
        return False
    if kind == "csv":
        return CSVLogger(save_dir=str(run_dir), name="csv_logs")
    if kind == "wandb":
        offline = cfg.logger.offline
        if offline is None:
            offline = "WANDB_API_KEY" not in os.environ and os.environ.get("WANDB_MODE") != "online"
        return WandbLogger(
            project=cfg.logger.project,
            entity=cfg.logger.entity,
            name=f"{cfg.experiment_name}/{gene_set_name(cfg.gene, cfg.genes)}/fold{cfg.fold}",
            group=f"{cfg.experiment_name}/{gene_set_name(cfg.gene, cfg.genes)}",
            tags=[cfg.experiment_name, cfg.data.name, f"fold{cfg.fold}"],
            save_dir=str(run_dir),
            offline=offline,
            config=OmegaConf.to_container(cfg, resolve=True),
        )
    raise ValueError(f"logger.name={kind!r}: choose wandb, csv or none")


def trainer_precision(precision: str) -> str:
    """``auto`` -> ``bf16-mixed`` on a CUDA GPU that supports bf16, else ``32-true``."""
    if precision != "auto":
        return precision
    return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"


class EpochMetricsWriter(Callback):
    """Appends each epoch's per-gene tune metrics and the epoch's mean train loss to ``metrics.csv``."""

    def __init__(self, path: Path):
        self.path = path

    def on_train_epoch_end(self, trainer: L.Trainer, module: PerformerModule) -> None:
        metrics = module.gene_metrics.get("fit")
        if not trainer.is_global_zero or metrics is None:
            return
        train_loss = trainer.callback_metrics.get("train/loss_epoch")
        table = name_genes(metrics, trainer.datamodule)
        table.insert(0, "epoch", trainer.current_epoch)
        table.insert(1, "split", "tune")
        table["train_loss"] = float(train_loss) if train_loss is not None else float("nan")
        table.to_csv(self.path, mode="a", header=not self.path.exists(), index=False)


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
    """Lightning Trainer: hardware from ``cfg.trainer``, schedule and selection from the run config."""
    callbacks = [
        ModelCheckpoint(
            dirpath=run_dir / "checkpoints",
            filename="best",
            monitor=cfg.selection.monitor,
            mode=cfg.selection.mode,
            save_top_k=1,
            save_last=True,
        ),
        EarlyStopping(monitor=cfg.selection.monitor, mode=cfg.selection.mode, patience=cfg.selection.patience),
        EpochMetricsWriter(run_dir / "metrics.csv"),
    ]
    hardware = OmegaConf.to_container(cfg.trainer, resolve=True)
    hardware["precision"] = trainer_precision(hardware["precision"])
    return L.Trainer(
        **hardware,
        max_epochs=cfg.max_epochs,
        accumulate_grad_batches=cfg.accumulate,
        gradient_clip_val=cfg.gradient_clip_val,
        use_distributed_sampler=False,
        num_sanity_val_steps=0,
        log_every_n_steps=cfg.log_every_n_steps,
        logger=logger,
        callbacks=callbacks,
        default_root_dir=str(run_dir),
    )


def finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a finished run (its ``summary.json``)."""
    return (run_dir / SUMMARY_FILE).exists()


def train(cfg: DictConfig, run_dir: str | Path) -> dict:
    """Fit on train people, select the best epoch on tune people, evaluate it on test people.

    With ``cfg.fit=false``, evaluates ``cfg.ckpt_path`` on the tune and test people instead.
    A finished run directory is left alone unless ``cfg.overwrite`` is true.

    Returns:
        The run summary (also written to ``summary.json``): per split, mean PCC / R^2 over genes.

    Raises:
        ValueError: ``fit=false`` without ``ckpt_path``.
    """
    run_dir = Path(run_dir)
    if finished(run_dir) and not cfg.overwrite and cfg.fit:
        summary = json.loads((run_dir / SUMMARY_FILE).read_text())
        log.warning("run %s is already finished; pass overwrite=true to train it again", run_dir)
        return summary
    if not cfg.fit and not cfg.ckpt_path:
        raise ValueError("fit=false evaluates a checkpoint: give ckpt_path=/path/to/best.ckpt")
    L.seed_everything(cfg.seed, workers=True)
    datamodule = build_datamodule(cfg)
    module = build_module(cfg)
    trainer = build_trainer(cfg, run_dir, build_logger(cfg, run_dir))
    if trainer.is_global_zero:
        run_dir.mkdir(parents=True, exist_ok=True)
        with open_dict(cfg):  # record where the cohort really is (the demo's cache, a relative root)
            cfg.data.root = str(datamodule.root) if datamodule.root else None
        (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        if cfg.fit and (run_dir / "metrics.csv").exists() and not cfg.ckpt_path:
            (run_dir / "metrics.csv").unlink()  # a fresh fit (overwrite=true) restarts the epoch log

    if cfg.fit:
        trainer.fit(module, datamodule=datamodule, ckpt_path=to_absolute_path(cfg.ckpt_path) if cfg.ckpt_path else None)
        ckpt = trainer.checkpoint_callback.best_model_path or None
    else:
        ckpt = to_absolute_path(cfg.ckpt_path)
    best_epoch = torch.load(ckpt, map_location="cpu", weights_only=False)["epoch"] if ckpt else None

    summary = {"run_dir": str(run_dir), "checkpoint": ckpt, "best_epoch": best_epoch}
    for split, call in (("tune", trainer.validate), ("test", trainer.test)):
        call(module, datamodule=datamodule, ckpt_path=ckpt, verbose=False)
        stage = "validate" if split == "tune" else "test"
        metrics = module.gene_metrics[stage]
        summary[split] = mean_over_genes(metrics)
        if trainer.is_global_zero:
            predictions = name_genes(module.predictions[stage], datamodule)
            predictions.insert(2, "split", split)
            predictions.insert(3, "fold", cfg.fold)
            predictions.to_csv(run_dir / f"predictions_{split}.csv", index=False)
            name_genes(metrics, datamodule).to_csv(run_dir / f"metrics_{split}.csv", index=False)
    if trainer.is_global_zero:
        datamodule.split.save(run_dir / "splits")
        (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
        print(summary_line(cfg, summary, datamodule.gene_names))
    return summary


def summary_line(cfg: DictConfig, summary: dict, gene_names: list[str]) -> str:
    """One line: the gene set, the best epoch, tune and test PCC / R^2 (means over genes)."""
    genes = gene_names[0] if len(gene_names) == 1 else f"{len(gene_names)} genes (means)"
    tune, test = summary["tune"], summary["test"]
    return (
        f"{genes} fold {cfg.fold}: best epoch {summary['best_epoch']} | tune PCC {tune['mean_pcc']:.3f} "
        f"R^2 {tune['mean_r2']:.3f} | test PCC {test['mean_pcc']:.3f} R^2 {test['mean_r2']:.3f} | {summary['run_dir']}"
    )
