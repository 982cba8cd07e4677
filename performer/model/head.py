"""Scalar expression head on any trunk's embedding, read out at the bins holding the TSS.

The head knows nothing of the architecture: it reads the embedding width, the embedding and the TSS bins
from the :class:`~performer.model.trunk.Trunk` interface.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from performer.model.trunk import Trunk


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


class TrunkWithHead(nn.Module):
    """The trunk and the linear head, under the attribute names of enformer-pytorch's ``HeadAdapterWrapper``
    (which this replaces): ``enformer`` (the trunk, whatever its architecture) and ``to_tracks``
    (``Sequential(Linear(embedding_dim, n_tracks), Identity())``), so the state-dict keys of saved checkpoints,
    ``adapter.enformer.*`` and ``adapter.to_tracks.0.*``, and the parameter order (the optimiser state) stay.
    """

    def __init__(self, trunk: Trunk, n_tracks: int = 1):
        super().__init__()
        self.enformer = trunk
        self.to_tracks = nn.Sequential(nn.Linear(trunk.embedding_dim, n_tracks), nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """float ``(B, L, 4)`` -> ``(B, n_bins, n_tracks)``."""
        return self.to_tracks(self.enformer.embed(x))


HEADS = ("centre_bin", "centre_mean", "attention_pool")
"""Read-outs of the per-bin predictions (``model.head.name``)."""


class PerformerModel(nn.Module):
    """A trunk + a linear head on its embedding, one track, no activation, read out around the TSS.

    The trunk's BatchNorm layers are frozen (running statistics, affine weights without gradient) from
    construction on, before DDP wraps the model: see :class:`FrozenBatchNorm1d`. The head is
    ``Linear(trunk.embedding_dim, 1)`` on every bin (Enformer: its final ``2 * dim`` embedding), read out by
    ``head``:

    * ``centre_bin`` (default; the paper): the mean over ``trunk.tss_bins(L)``, the bins holding the TSS
      (Enformer: the one centre bin ``(L / 128) // 2``);
    * ``centre_mean``: the mean over the ``bins`` bins centred on the TSS bin (:meth:`readout_bins`);
    * ``attention_pool``: a softmax-weighted sum over those bins, the weights from a learned
      ``Linear(embedding_dim, 1)`` score of each bin's embedding (attention pooling as in Rastogi & Reddy's
      fine-tuned Enformer, k = 10). Since the head is linear, pooling the embeddings and then applying it
      equals pooling its per-bin outputs. The score layer starts at zero: uniform weights, i.e. ``centre_mean``.

    Input: float ``(B, L, 4)`` one-hot (``A,C,G,T``), ``L`` in bp (Enformer: a multiple of 128 bp).
    Output: float ``(B,)``.

    Raises:
        ValueError: an unknown ``head``, or ``bins < 1``.
    """

    def __init__(self, trunk: Trunk, head: str = "centre_bin", bins: int = 1):
        super().__init__()
        if head not in HEADS:
            raise ValueError(f"model.head.name={head!r}: choose one of {', '.join(HEADS)}")
        if bins < 1:
            raise ValueError(f"model.head.bins={bins}: at least one bin")
        freeze_batchnorm_(trunk)
        self.adapter = TrunkWithHead(trunk)
        self.head, self.bins = head, int(bins)
        if head == "attention_pool":  # only this head adds parameters: the others keep the state-dict keys
            self.attention = nn.Linear(trunk.embedding_dim, 1)
            nn.init.zeros_(self.attention.weight)
            nn.init.zeros_(self.attention.bias)

    @property
    def trunk(self) -> Trunk:
        return self.adapter.enformer

    def readout_bins(self, window_bp: int) -> slice:
        """The bins read out at a ``window_bp`` window: ``trunk.tss_bins`` for ``centre_bin``; else the ``bins``
        bins starting ``bins // 2`` before the TSS bin (the TSS bin is the centre one for odd ``bins``, the
        right of the two centre ones for even ``bins``).

        Raises:
            ValueError: the window has fewer bins than asked for.
        """
        tss = self.trunk.tss_bins(window_bp)
        if self.head == "centre_bin":
            return tss
        start = tss.start - self.bins // 2
        if start < 0 or start + self.bins > self.trunk.n_bins(window_bp):
            raise ValueError(f"model.head.bins={self.bins} do not fit the {window_bp} bp window's bins")
        return slice(start, start + self.bins)

    def tracks(self, x: torch.Tensor) -> torch.Tensor:
        """Per-bin predictions: float ``(B, trunk.n_bins(L))``."""
        return self.adapter(x)[..., 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bins = self.readout_bins(x.shape[1])
        if self.head != "attention_pool":
            return self.tracks(x)[:, bins].mean(dim=1)
        embedding = self.trunk.embed(x)[:, bins]  # (B, k, C)
        weights = torch.softmax(self.attention(embedding)[..., 0], dim=1)
        return (weights * self.adapter.to_tracks(embedding)[..., 0]).sum(dim=1)
