"""Enformer as a :class:`~performer.model.trunk.Trunk` (enformer-pytorch): architecture presets, local
pretrained weights, the human output head of the pretrained baseline.

:class:`EnformerTrunk` *is* an ``enformer_pytorch.Enformer`` (a subclass adding the trunk interface), so its
parameters, state-dict keys, ``save_pretrained`` directories and outputs are Enformer's. It always runs with
``target_length=-1`` (no cropping: ``ceil(L / 128)`` output bins) and ``use_tf_gamma=False``
(enformer-pytorch's TF gamma positions only work at 196,608 bp). Weights are only ever read from a local
``save_pretrained`` directory; nothing is downloaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from enformer_pytorch import Enformer
from enformer_pytorch.config_enformer import EnformerConfig
from torch import nn

from performer.model.trunk import Trunk, checkpoint_blocks_, pretrained_dir, register_trunk

log = logging.getLogger(__name__)

BIN_BP = 128
"""Enformer's output resolution: one bin per 128 bp (7 downsamplings by 2)."""

HUMAN_HEAD = "human"
"""The pretrained output head of the baseline: 5,313 human tracks (softplus)."""

N_CENTRE_BINS = 3
"""Bins of a pretrained Enformer's track summed around the centre bin ``n_bins // 2`` (one on each side)."""


def centre_bin(n_bins: int) -> int:
    """Index of the centre output bin: ``n_bins // 2`` (192 of 384 bins at 49,152 bp), the bin holding the TSS
    (index ``L // 2``) of a window of a multiple of 128 bp."""
    return n_bins // 2


def centre_bins(n_bins: int) -> slice:
    """The pretrained-Enformer bins summed: ``n_bins // 2 - 1 .. n_bins // 2 + 1`` (191-193 of 384 at 49,152 bp;
    Drusinsky et al., Methods).

    Raises:
        ValueError: fewer than :data:`N_CENTRE_BINS` bins.
    """
    if n_bins < N_CENTRE_BINS:
        raise ValueError(f"{n_bins} output bins: need at least {N_CENTRE_BINS} (inputs of >= 384 bp)")
    centre = centre_bin(n_bins)
    return slice(centre - 1, centre + 2)


@register_trunk("enformer")
class EnformerTrunk(Enformer, Trunk):
    """An ``enformer_pytorch.Enformer`` with the trunk interface.

    Input ``(B, L, 4)`` (``BLC``); ``ceil(L / 128)`` bins (each of the 7 poolings pads an odd length by one);
    embedding ``2 * dim`` channels (3,072 at the official size); the TSS bin is the centre bin ``n_bins // 2``
    (192 of 384 at 49,152 bp); the pretrained tracks are the human head's, of which the baseline sums the 3
    centre bins; the local part is the stem and the conv tower.
    """

    bin_bp = BIN_BP
    input_layout = "BLC"

    @classmethod
    def build(
        cls,
        dim: int = 1536,
        depth: int = 11,
        heads: int = 8,
        attn_dim_key: int = 64,
        dim_divisible_by: int = 128,
        dropout_rate: float = 0.4,
        attn_dropout: float = 0.05,
        pos_dropout: float = 0.01,
        use_checkpointing: bool = False,
        keep_heads: bool = False,
        init: str = "enformer",
        checkpoint_conv: bool = False,
    ) -> EnformerTrunk:
        """A randomly initialised Enformer trunk; defaults are the official size (251 M parameters).

        Args:
            dim, depth, heads, attn_dim_key, dim_divisible_by: architecture; ``dim // heads`` must be
                divisible by 6 (relative-position features).
            dropout_rate, attn_dropout, pos_dropout: dropout as in Enformer.
            use_checkpointing: activation checkpointing of the transformer blocks (enformer-pytorch's own
                option; saves GPU memory).
            checkpoint_conv: activation checkpointing of the stem and of each conv-tower block
                (:func:`checkpoint_conv_tower_`), which hold most of the activations at 49,152 bp and more;
                with ``use_checkpointing`` too, every block of the trunk is recomputed in the backward pass.
            keep_heads: keep the original human (5,313) / mouse (1,643) output heads; without them
                DDP needs no unused-parameter search.
            init: ``enformer`` keeps enformer-pytorch's initialisation (weights that are then replaced by
                pretrained ones); ``kaiming`` re-initialises every convolution with He-normal weights and zero
                biases, for training from scratch: with PyTorch's default initialisation the signal shrinks
                about 2.5-fold per convolution, so a single-base change moves the output of a fresh tiny
                trunk by ~1e-7 and training stalls for many epochs before it learns any effect size.

        Raises:
            ValueError: ``dim // heads`` not divisible by 6, or an unknown ``init``.
        """
        if (dim // heads) % 6:
            raise ValueError(f"dim // heads = {dim // heads} must be divisible by 6 (dim={dim}, heads={heads})")
        if init not in ("enformer", "kaiming"):
            raise ValueError(f"init={init!r}: choose enformer or kaiming")
        trunk = cls(
            EnformerConfig(
                dim=dim,
                depth=depth,
                heads=heads,
                attn_dim_key=attn_dim_key,
                dim_divisible_by=dim_divisible_by,
                dropout_rate=dropout_rate,
                attn_dropout=attn_dropout,
                pos_dropout=pos_dropout,
                use_checkpointing=use_checkpointing,
                output_heads=dict(human=5313, mouse=1643) if keep_heads else {},
                target_length=-1,
                use_tf_gamma=False,
            )
        )
        if init == "kaiming":
            for module in trunk.modules():
                if isinstance(module, torch.nn.Conv1d):
                    torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                    torch.nn.init.zeros_(module.bias)
        if checkpoint_conv:
            checkpoint_conv_tower_(trunk)
        return trunk

    @property
    def embedding_dim(self) -> int:
        return 2 * self.dim

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """float ``(B, L, 4)`` -> ``(B, ceil(L / 128), 2 * dim)``: the final pointwise embedding."""
        return self(x, return_only_embeddings=True)

    def local_layers(self) -> nn.Sequential:
        """The transpose to ``(B, 4, L)``, the stem and the conv tower: ``(B, L, 4)`` -> ``(B, dim, ceil(L / 128))``."""
        return self._trunk[:3]

    def n_bins(self, window_bp: int) -> int:
        return -(-window_bp // self.bin_bp)

    def tss_bins(self, window_bp: int) -> slice:
        """The centre bin ``n_bins // 2`` (192 of 384 at 49,152 bp), as a one-bin slice."""
        centre = centre_bin(self.n_bins(window_bp))
        return slice(centre, centre + 1)

    def load_pretrained_(self, path: str | Path) -> None:
        """Copy the weights of a local ``save_pretrained`` Enformer into this trunk (its output heads are left out).

        Raises:
            FileNotFoundError: no such directory (see :func:`load_pretrained`).
            RuntimeError: the saved architecture differs from this trunk's (mismatched tensor shapes).
        """
        self.load_state_dict(load_pretrained(path).state_dict(), strict=True)

    def n_pretrained_tracks(self) -> int:
        """Tracks of the human head (5,313).

        Raises:
            ValueError: no human head (the trunk was built or loaded without ``keep_heads=True``).
        """
        head = enformer_human_head(self)
        return next(m for m in head.modules() if isinstance(m, nn.Linear)).out_features

    def pretrained_tracks(self, x: torch.Tensor) -> torch.Tensor:
        """The human head: float ``(B, L, 4)`` -> ``(B, ceil(L / 128), 5313)``, softplus.

        Raises:
            ValueError: no human head.
        """
        enformer_human_head(self)
        return self(x, head=HUMAN_HEAD)

    def pretrained_bins(self, window_bp: int) -> slice:
        """The 3 centre bins (:func:`centre_bins`): 191-193 of 384 at 49,152 bp.

        Raises:
            ValueError: fewer than 3 bins.
        """
        return centre_bins(self.n_bins(window_bp))


def enformer_human_head(enformer: Enformer) -> nn.Module:
    """The human output head of a pretrained Enformer.

    Raises:
        ValueError: the model has no human head (it was loaded without ``keep_heads=True``).
    """
    heads = enformer.heads if hasattr(enformer, "_heads") else {}
    if HUMAN_HEAD not in heads:
        raise ValueError(
            f"this Enformer has no {HUMAN_HEAD!r} output head (heads: {list(heads) or 'none'}); "
            "load it with performer.model.enformer.load_pretrained(path, keep_heads=True)"
        )
    return heads[HUMAN_HEAD]


def checkpoint_conv_tower_(trunk: Enformer) -> Enformer:
    """Checkpoint the stem and each conv-tower block of an Enformer trunk, in place; returns ``trunk``.

    enformer-pytorch's ``use_checkpointing`` wraps only the transformer blocks, while at 49,152 bp the
    stem's and conv tower's activations (``L`` positions x ``dim / 2`` channels, halving in length and
    growing in channels block by block) are most of the memory of a training step. Each of these
    ``nn.Sequential`` blocks becomes a :class:`~performer.model.trunk.CheckpointedSequential` (the class is
    swapped, so pretrained weights, checkpoints and ``save_pretrained`` are unaffected). The outputs and
    gradients are those of the plain trunk; the price is a second forward pass of the conv layers in backward.
    """
    checkpoint_blocks_([trunk.stem, *trunk.conv_tower])
    return trunk


def load_pretrained(path: str | Path, keep_heads: bool = False) -> EnformerTrunk:
    """Load an Enformer saved with ``Enformer.save_pretrained(path, safe_serialization=False)``, or from the hub.

    Args:
        path: a local directory holding ``config.json`` and the weights, or a Hugging Face hub ID
            (``EleutherAI/enformer-official-rough``), resolved by :func:`~performer.model.trunk.pretrained_dir`.
        keep_heads: keep the original human/mouse output heads (the pretrained baseline needs them).

    Raises:
        FileNotFoundError: neither a directory with ``config.json`` nor a hub ID that resolves.
    """
    path = pretrained_dir(path, "Enformer")
    trunk = EnformerTrunk.from_pretrained(str(path), target_length=-1, use_tf_gamma=False)
    if not keep_heads:
        trunk._heads = torch.nn.ModuleDict()
    log.info("loaded pretrained Enformer (dim %d, depth %d) from %s", trunk.config.dim, trunk.config.depth, path)
    return trunk
