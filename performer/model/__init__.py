"""Trunk interface and its implementations (Enformer), scalar head, the Performer loss and the LightningModule."""

from performer.model.enformer import EnformerTrunk, load_pretrained
from performer.model.head import PerformerModel
from performer.model.loss import performer_loss
from performer.model.module import PerformerModule
from performer.model.trunk import Trunk, build_trunk, register_trunk

__all__ = [
    "EnformerTrunk",
    "PerformerModel",
    "PerformerModule",
    "Trunk",
    "build_trunk",
    "load_pretrained",
    "performer_loss",
    "register_trunk",
]
