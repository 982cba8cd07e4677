"""Scalar expression head on the Enformer trunk, read out at the centre bin."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from enformer_pytorch import Enformer
from enformer_pytorch.finetune import HeadAdapterWrapper
from torch import nn


def centre_bin(n_bins: int) -> int:
    """Index of the centre output bin: ``n_bins // 2`` (192 of 384 bins at 49,152 bp)."""
    return n_bins // 2


class FrozenBatchNorm1d(nn.BatchNorm1d):
    """A ``BatchNorm1d`` that always normalises with its stored running statistics, in train and eval mode.

    Fine-tuning BatchNorm statistics ruins pretrained Enformer, so the trunk's BatchNorm layers are frozen
    by construction rather than by being put in eval mode: the layer behaves the same whatever its
    ``training`` flag, and the model has no module left in eval mode when training starts (which
    Lightning warns about). Same parameters and buffers (state-dict keys) as ``BatchNorm1d``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


def freeze_batchnorm_(trunk: nn.Module) -> None:
    """Turn every ``BatchNorm1d`` of ``trunk`` into a :class:`FrozenBatchNorm1d` without trainable parameters."""
    for module in trunk.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.__class__ = FrozenBatchNorm1d
            module.track_running_stats = False
            for parameter in module.parameters():
                parameter.requires_grad = False


class PerformerModel(nn.Module):
    """Enformer trunk + a linear head on its final ``2 * dim`` embedding, one track, no activation.

    The head is enformer-pytorch's ``HeadAdapterWrapper(num_tracks=1, post_transformer_embed=False,
    output_activation=Identity)``. The trunk's BatchNorm layers are frozen (running statistics,
    affine weights without gradient) from construction on, before DDP wraps the model: see
    :class:`FrozenBatchNorm1d`. (The wrapper also puts them in eval mode at each forward pass.)

    Input: float ``(B, L, 4)`` one-hot (``A,C,G,T``), ``L`` a multiple of 128 bp.
    Output: float ``(B,)``, the prediction at the centre bin (the bin holding the TSS).
    """

    def __init__(self, trunk: Enformer):
        super().__init__()
        freeze_batchnorm_(trunk)
        self.adapter = HeadAdapterWrapper(
            enformer=trunk, num_tracks=1, post_transformer_embed=False, output_activation=nn.Identity()
        )

    @property
    def trunk(self) -> Enformer:
        return self.adapter.enformer

    def tracks(self, x: torch.Tensor) -> torch.Tensor:
        """Per-bin predictions: float ``(B, L / 128)``."""
        return self.adapter(x)[..., 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tracks = self.tracks(x)
        return tracks[:, centre_bin(tracks.shape[1])]
