"""Enformer trunk, scalar head, the Performer loss and the LightningModule."""

from performer.model.head import PerformerModel
from performer.model.loss import performer_loss
from performer.model.module import PerformerModule
from performer.model.trunk import build_trunk, load_pretrained

__all__ = ["PerformerModel", "PerformerModule", "build_trunk", "load_pretrained", "performer_loss"]
