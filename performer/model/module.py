"""PerformerModule: the LightningModule that fine-tunes a trunk (Enformer by default) with a scalar head."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
import torch.distributed as dist

from performer.metrics import mean_over_genes, per_gene_metrics
from performer.model.head import PerformerModel
from performer.model.inputs import batch_inputs, person_predictions
from performer.model.loss import performer_loss
from performer.model.trunk import build_trunk

log = logging.getLogger(__name__)

MAX_GENES_LOGGED = 64
"""Per-gene tune metrics are sent to the logger only for gene sets up to this size."""


class PerformerModule(L.LightningModule):
    """Fine-tunes :class:`~performer.model.head.PerformerModel` on same-gene batches.

    Args:
        trunk: keyword arguments of :func:`~performer.model.trunk.build_trunk` (the model config's ``trunk``
            group): ``name`` picks the trunk (default ``enformer``, as in checkpoints saved before the key
            existed), the others are its architecture.
        lr: AdamW learning rate (paper: 5e-6 for pretrained weights).
        weight_decay: AdamW weight decay.
        alpha: MSE weight of :func:`~performer.model.loss.performer_loss`.
        head: keyword arguments of the read-out (the model config's ``head`` group: ``name`` one of
            :data:`~performer.model.head.HEADS`, ``bins``); None (checkpoints saved before the key existed) is
            the paper's ``centre_bin``.

    Batches are dicts from ``GenePeopleDataset``: the inputs (``x`` ``(B, L, 4)``, or ``codes`` or
    ``haplotypes`` ``(B, 2, L)``: :mod:`performer.model.inputs`), ``y`` ``(B,)``, ``gene`` and
    ``person`` ``(B,)``, and optionally ``keep`` ``(B,)`` bool: evaluation items with ``keep=False`` are
    padding copies (which give every DDP rank the same number of batches) and are dropped on each rank
    before gathering. Tune and test predictions of all ranks are gathered at the end of each
    evaluation epoch into :attr:`predictions` (a DataFrame ``gene, person, y, pred`` keyed by stage:
    ``fit``, ``validate`` or ``test``) and :attr:`gene_metrics` (one row per gene: ``gene, n_people, pcc,
    r2, mse, pcc_undefined, loss, gene_set``, where ``gene_set`` is ``HOP`` for a training gene and
    ``HOGP`` for a held-out gene).

    Logged at the end of each evaluation epoch (``prefix`` ``val`` or ``test``): ``{prefix}/mean_r2`` and
    ``{prefix}/mean_pcc``, means over the TRAINING genes only (checkpoint selection and early stopping
    must not see held-out genes), and ``{prefix}_hogp/mean_r2``, ``{prefix}_hogp/mean_pcc`` over the
    held-out genes when there are any. Training genes are the gene indices below
    ``len(trainer.datamodule.train_gene_ids)`` (the datamodule lists them first); without such a
    datamodule every gene counts as a training gene.
    """

    def __init__(
        self, trunk: dict, lr: float = 5e-6, weight_decay: float = 0.0, alpha: float = 0.5, head: dict | None = None
    ):
        super().__init__()
        self.save_hyperparameters()
        head = dict(head or {})
        self.model = PerformerModel(build_trunk(**trunk), head=head.pop("name", "centre_bin"), **head)
        self.predictions: dict[str, pd.DataFrame] = {}
        self.gene_metrics: dict[str, pd.DataFrame] = {}
        self._outputs: list[tuple[np.ndarray, ...]] = []

    def load_pretrained_trunk(self, path: str | Path) -> None:
        """Copy the weights of a local pretrained model into the trunk
        (:meth:`~performer.model.trunk.Trunk.load_pretrained_`; Enformer: a ``save_pretrained`` directory).

        Raises:
            FileNotFoundError: no such directory (see :func:`~performer.model.enformer.load_pretrained`).
            RuntimeError: the saved architecture differs from ``trunk`` (mismatched tensor shapes).
        """
        self.model.trunk.load_pretrained_(path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, 4)`` one-hot -> ``(B,)`` prediction at the TSS bins (Enformer: the centre bin)."""
        return self.model(x)

    def predict_batch(self, batch: dict) -> torch.Tensor:
        """float32 ``(B,)``: one prediction per person of a batch (:func:`~performer.model.inputs.batch_inputs`;
        the mean over a person's two haplotypes in the haplotype encoding)."""
        x, passes = batch_inputs(batch)
        return person_predictions(self(x).float(), passes)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        pred = self.predict_batch(batch)
        loss = performer_loss(pred, batch["y"], self.hparams.alpha)
        # No host sync per micro-batch. Lightning keeps logged tensors on the device: an on_step value
        # is turned into a Python float only when it is sent to the loggers, every log_every_n_steps
        # optimiser steps (LoggerConnector.update_train_step_metrics), and the on_epoch mean is
        # accumulated on the device and read at the end of the epoch. prog_bar=True would instead
        # convert the value with .item() after every micro-batch (_ResultCollection.metrics), a
        # GPU -> host sync that stalls the pipeline, so the loss is not shown in the progress bar.
        self.log("train/loss", loss, on_step=True, on_epoch=True, batch_size=len(pred))
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)

    # evaluation: collect per-person predictions, gather them from every rank, score per gene

    def _collect(self, batch: dict) -> None:
        pred = self.predict_batch(batch)
        columns = [t.detach().cpu().numpy() for t in (batch["gene"], batch["person"], batch["y"], pred)]
        if "keep" in batch:  # drop the padding copies of this rank's batches before gathering
            keep = batch["keep"].cpu().numpy()
            columns = [c[keep] for c in columns]
        self._outputs.append(tuple(columns))

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._collect(batch)

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self._collect(batch)

    def on_validation_epoch_start(self) -> None:
        self._outputs = []

    on_test_epoch_start = on_validation_epoch_start

    def on_validation_epoch_end(self) -> None:
        self._finish_evaluation("val")

    def on_test_epoch_end(self) -> None:
        self._finish_evaluation("test")

    def _n_train_genes(self) -> int | None:
        """Number of training genes (gene indices below it are trained on), or None if unknown."""
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        train_gene_ids = getattr(datamodule, "train_gene_ids", None)
        return None if train_gene_ids is None else len(train_gene_ids)

    def _finish_evaluation(self, prefix: str) -> None:
        outputs = self._outputs
        self._outputs = []
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered: list = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, outputs)
            outputs = [part for rank_outputs in gathered for part in rank_outputs]
        if not outputs:
            return
        columns = [np.concatenate(c) for c in zip(*outputs)]
        predictions = pd.DataFrame(dict(zip(["gene", "person", "y", "pred"], columns)))
        predictions[["y", "pred"]] = predictions[["y", "pred"]].astype(np.float64)  # exact in CSV round trips
        predictions = predictions.sort_values(["gene", "person"], kind="stable").reset_index(drop=True)
        duplicated = predictions.duplicated(["gene", "person"])
        if duplicated.any():
            raise RuntimeError(
                f"{int(duplicated.sum())} (gene, person) predictions were gathered twice: the evaluation sampler "
                "must give every item to exactly one rank and flag padding copies with keep=False"
            )
        metrics = per_gene_metrics(predictions, by="gene")
        metrics["loss"] = [
            float(
                performer_loss(torch.tensor(g["pred"].to_numpy()), torch.tensor(g["y"].to_numpy()), self.hparams.alpha)
            )
            for _, g in predictions.groupby("gene", sort=False)
        ]
        n_train_genes = self._n_train_genes()
        held_out = np.zeros(len(metrics), dtype=bool)
        if n_train_genes is not None:
            held_out = (metrics["gene"] >= n_train_genes).to_numpy()
        metrics["gene_set"] = np.where(held_out, "HOGP", "HOP")
        stage = self.trainer.state.fn.value if self._trainer is not None else prefix
        self.predictions[stage] = predictions
        self.gene_metrics[stage] = metrics

        trained = mean_over_genes(metrics[~held_out])
        if held_out.all():
            log.warning(
                "%s: the evaluation set holds no training gene, so %s/mean_r2 and %s/mean_pcc are NaN",
                stage,
                prefix,
                prefix,
            )
        self.log_dict(
            {f"{prefix}/mean_r2": trained["mean_r2"], f"{prefix}/mean_pcc": trained["mean_pcc"]},
            prog_bar=prefix == "val",
        )
        if held_out.any():
            other = mean_over_genes(metrics[held_out])
            self.log_dict({f"{prefix}_hogp/mean_r2": other["mean_r2"], f"{prefix}_hogp/mean_pcc": other["mean_pcc"]})
        names = getattr(self.trainer.datamodule, "gene_names", None) if self._trainer is not None else None
        if names is not None and len(metrics) <= MAX_GENES_LOGGED:
            for row in metrics.itertuples():
                group = prefix if row.gene_set == "HOP" else f"{prefix}_hogp"
                self.log_dict({f"{group}/pcc/{names[row.gene]}": row.pcc, f"{group}/r2/{names[row.gene]}": row.r2})
