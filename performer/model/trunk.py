"""Enformer trunk construction (enformer-pytorch): architecture presets and local pretrained weights.

The trunk always runs with ``target_length=-1`` (no cropping: ``L / 128`` output bins) and
``use_tf_gamma=False`` (enformer-pytorch's TF gamma positions only work at 196,608 bp). Weights are
only ever read from a local ``save_pretrained`` directory; nothing is downloaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from enformer_pytorch import Enformer
from torch import nn
from torch.utils.checkpoint import checkpoint

log = logging.getLogger(__name__)

BIN_BP = 128
"""Enformer's output resolution: one bin per 128 bp (7 downsamplings by 2)."""


def build_trunk(
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
) -> Enformer:
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
    trunk = Enformer.from_hparams(
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
    if init == "kaiming":
        for module in trunk.modules():
            if isinstance(module, torch.nn.Conv1d):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                torch.nn.init.zeros_(module.bias)
    if checkpoint_conv:
        checkpoint_conv_tower_(trunk)
    return trunk


class CheckpointedSequential(nn.Sequential):
    """An ``nn.Sequential`` whose forward pass in training keeps only its input: the block's activations
    are recomputed in the backward pass (``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)``,
    which restores the random-number state, so dropout masks match).

    Checkpointing applies when the module is in training mode and gradients are enabled; evaluation,
    inference and ``torch.no_grad`` run the plain forward pass. Same parameters, buffers and state-dict
    keys as the ``nn.Sequential`` it replaces (only the class changes).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            return checkpoint(super().forward, x, use_reentrant=False)
        return super().forward(x)


def checkpoint_conv_tower_(trunk: Enformer) -> Enformer:
    """Checkpoint the stem and each conv-tower block of an Enformer trunk, in place; returns ``trunk``.

    enformer-pytorch's ``use_checkpointing`` wraps only the transformer blocks, while at 49,152 bp the
    stem's and conv tower's activations (``L`` positions x ``dim / 2`` channels, halving in length and
    growing in channels block by block) are most of the memory of a training step. Each of these
    ``nn.Sequential`` blocks becomes a :class:`CheckpointedSequential` (the class is swapped, so
    pretrained weights, checkpoints and ``save_pretrained`` are unaffected). The outputs and gradients
    are those of the plain trunk; the price is a second forward pass of the conv layers in backward.
    """
    blocks = [trunk.stem, *trunk.conv_tower]
    for block in blocks:
        if type(block) not in (nn.Sequential, CheckpointedSequential):
            raise TypeError(f"expected an nn.Sequential conv block, got {type(block).__name__}")
        block.__class__ = CheckpointedSequential
    return trunk


def compile_trunk(trunk: Enformer, backend: str = "inductor", mode: str | None = None) -> Enformer:
    """``torch.compile`` an Enformer trunk in place (``nn.Module.compile``); returns ``trunk``.

    The module keeps its class, parameters and state-dict keys (no ``_orig_mod.`` prefix), so
    checkpoints and pretrained weights load as before; its calls run the compiled graph. The first
    training and the first evaluation step compile (each mode and input shape once), so compile pays
    off only over many steps of one window length.

    Args:
        backend: a ``torch.compile`` backend: ``inductor`` (default; Triton kernels on a GPU, C++ on a
            CPU, which needs a C compiler) or ``aot_eager`` (no code generation; for checks).
        mode: ``torch.compile`` mode (``None``, ``default``, ``reduce-overhead``, ``max-autotune``).
    """
    trunk.compile(backend=backend, mode=mode)
    return trunk


def load_pretrained(path: str | Path, keep_heads: bool = False) -> Enformer:
    """Load an Enformer saved with ``Enformer.save_pretrained(path, safe_serialization=False)``.

    Args:
        path: a local directory holding ``config.json`` and the weights.
        keep_heads: keep the original human/mouse output heads (the pretrained baseline needs them).

    Raises:
        FileNotFoundError: ``path`` is not a directory with ``config.json`` (never a download).
    """
    path = Path(path).expanduser()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"no pretrained Enformer at {path}: expected a directory written by "
            "Enformer.save_pretrained(dir, safe_serialization=False) with config.json and weights. "
            "Performer never downloads weights; save them to a local directory first"
        )
    trunk = Enformer.from_pretrained(str(path), target_length=-1, use_tf_gamma=False)
    if not keep_heads:
        trunk._heads = torch.nn.ModuleDict()
    log.info("loaded pretrained Enformer (dim %d, depth %d) from %s", trunk.config.dim, trunk.config.depth, path)
    return trunk
