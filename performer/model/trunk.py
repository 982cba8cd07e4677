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
) -> Enformer:
    """A randomly initialised Enformer trunk; defaults are the official size (251 M parameters).

    Args:
        dim, depth, heads, attn_dim_key, dim_divisible_by: architecture; ``dim // heads`` must be
            divisible by 6 (relative-position features).
        dropout_rate, attn_dropout, pos_dropout: dropout as in Enformer.
        use_checkpointing: activation checkpointing of the transformer blocks (saves GPU memory).
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
