"""Scalar expression head on the Enformer trunk, read out at the centre bin."""

from __future__ import annotations

import torch
from enformer_pytorch import Enformer
from enformer_pytorch.finetune import HeadAdapterWrapper, freeze_batchnorms_
from torch import nn


def centre_bin(n_bins: int) -> int:
    """Index of the centre output bin: ``n_bins // 2`` (192 of 384 bins at 49,152 bp)."""
    return n_bins // 2


class PerformerModel(nn.Module):
    """Enformer trunk + a linear head on its final ``2 * dim`` embedding, one track, no activation.

    The head is enformer-pytorch's ``HeadAdapterWrapper(num_tracks=1, post_transformer_embed=False,
    output_activation=Identity)`` (ARCHITECTURE.md, "head"). Each forward pass puts the trunk's
    BatchNorm layers in eval mode and freezes them, as the wrapper does on purpose: fine-tuning
    BatchNorm statistics ruins pretrained Enformer.

    Input: float ``(B, L, 4)`` one-hot (``A,C,G,T``), ``L`` a multiple of 128 bp.
    Output: float ``(B,)``, the prediction at the centre bin (the bin holding the TSS).
    """

    def __init__(self, trunk: Enformer):
        super().__init__()
        freeze_batchnorms_(trunk)  # now, not at the first forward: DDP must see them frozen when it wraps us
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
