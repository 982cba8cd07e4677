"""PerformerModule: the LightningModule that fine-tunes an Enformer trunk with a scalar head."""

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
from performer.model.loss import performer_loss
from performer.model.trunk import build_trunk, load_pretrained

log = logging.getLogger(__name__)

MAX_GENES_LOGGED = 64
"""Per-gene tune metrics are sent to the logger only for gene sets up to this size."""


class PerformerModule(L.LightningModule):
    """Fine-tunes :class:`~performer.model.head.PerformerModel` on same-gene batches.

    Args:
        trunk: keyword arguments of :func:`~performer.model.trunk.build_trunk` (the architecture).
        lr: AdamW learning rate (paper: 5e-6 for pretrained weights).
        weight_decay: AdamW weight decay.
        alpha: MSE weight of :func:`~performer.model.loss.performer_loss`.

    Batches are dicts from ``GenePeopleDataset``: ``x`` ``(B, L, 4)``, ``y`` ``(B,)``, ``gene`` and
    ``person`` ``(B,)``. Tune and test predictions of all ranks are gathered at the end of each
    evaluation epoch into :attr:`predictions` (a DataFrame ``gene, person, y, pred`` keyed by stage:
    ``validate`` or ``test``) and :attr:`gene_metrics`; ``val/mean_r2`` and ``val/mean_pcc`` (or
    ``test/...``) are logged for checkpoint selection and early stopping.
    """

    def __init__(self, trunk: dict, lr: float = 5e-6, weight_decay: float = 0.0, alpha: float = 0.5):
        super().__init__()
        self.save_hyperparameters()
        self.model = PerformerModel(build_trunk(**trunk))
        self.predictions: dict[str, pd.DataFrame] = {}
        self.gene_metrics: dict[str, pd.DataFrame] = {}
        self._outputs: list[tuple[np.ndarray, ...]] = []

    def load_pretrained_trunk(self, path: str | Path) -> None:
        """Copy the weights of a local ``save_pretrained`` Enformer into the trunk.

        Raises:
            FileNotFoundError: no such directory (see :func:`~performer.model.trunk.load_pretrained`).
            RuntimeError: the saved architecture differs from ``trunk`` (mismatched tensor shapes).
        """
        pretrained = load_pretrained(path)
        self.model.trunk.load_state_dict(pretrained.state_dict(), strict=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, L, 4)`` one-hot -> ``(B,)`` centre-bin prediction."""
        return self.model(x)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        pred = self(batch["x"]).float()
        loss = performer_loss(pred, batch["y"], self.hparams.alpha)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(pred))
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)

    # evaluation: collect per-person predictions, gather them from every rank, score per gene

    def _collect(self, batch: dict) -> None:
        pred = self(batch["x"]).float()
        self._outputs.append(
            tuple(t.detach().cpu().numpy() for t in (batch["gene"], batch["person"], batch["y"], pred))
        )

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
        metrics = per_gene_metrics(predictions, by="gene")
        metrics["loss"] = [
            float(
                performer_loss(
                    torch.from_numpy(g["pred"].to_numpy()), torch.from_numpy(g["y"].to_numpy()), self.hparams.alpha
                )
            )
            for _, g in predictions.groupby("gene", sort=False)
        ]
        stage = self.trainer.state.fn.value if self._trainer is not None else prefix
        self.predictions[stage] = predictions
        self.gene_metrics[stage] = metrics
        summary = mean_over_genes(metrics)
        self.log_dict(
            {f"{prefix}/mean_r2": summary["mean_r2"], f"{prefix}/mean_pcc": summary["mean_pcc"]},
            prog_bar=prefix == "val",
        )
        names = getattr(self.trainer.datamodule, "gene_names", None) if self._trainer is not None else None
        if names is not None and len(metrics) <= MAX_GENES_LOGGED:
            for row in metrics.itertuples():
                self.log_dict({f"{prefix}/pcc/{names[row.gene]}": row.pcc, f"{prefix}/r2/{names[row.gene]}": row.r2})
