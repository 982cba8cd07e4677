"""Borzoi as a :class:`~performer.model.trunk.Trunk` (borzoi-pytorch): architecture presets, local pretrained
weights, the human output head (7,611 tracks) for a pretrained baseline; Flashzoi in :mod:`performer.model.flashzoi`.

:class:`BorzoiTrunk` *is* a ``borzoi_pytorch.Borzoi`` (a subclass adding the trunk interface), so its
parameters, state-dict keys and ``save_pretrained`` directories are Borzoi's. The network reads channels-first
``(B, 4, L)`` one-hots (``input_layout="BCL"``); the trunk transposes the package's ``(B, L, 4)`` itself.

Shapes at a window of ``L`` bp (``L`` a multiple of 128): stem and conv tower ``(B, 1280, L / 32)``; U-net down
to ``L / 128`` positions for the transformer; back up to 32 bp bins; the centre ``n_bins(L)`` bins are kept
(:meth:`BorzoiTrunk.n_bins`); ``final_joined_convs`` give the 1,920-channel embedding. The conv widths (512 to
1,280 and the final 1,920) are fixed in borzoi-pytorch: only the transformer (``dim``, ``depth``, ``heads``, ...)
scales, so even the smallest Borzoi has about 19 M parameters and a 1,920-wide embedding.

Two traps of borzoi-pytorch 0.5.1 are handled here: ``Attention.positions`` (the relative-position features) is
cached on the first forward, so a later input of another length or device, or a training step after an
``inference_mode`` forward, would fail; :meth:`BorzoiTrunk.embed` clears it on every call (it is a
``(2 L / 128 - 1, 32)`` table, cheap to rebuild). ``TargetLengthCrop`` raises when the window has fewer bins
than ``bins_to_return``: the crop is set from each input's length. Pretrained weights come from a local
``save_pretrained`` directory or a Hugging Face hub ID (:func:`~performer.model.trunk.pretrained_dir`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from borzoi_pytorch import Borzoi
from borzoi_pytorch.config_borzoi import BorzoiConfig
from borzoi_pytorch.pytorch_borzoi_transformer import Attention
from torch import nn

from performer.model.trunk import Trunk, checkpoint_blocks_, pretrained_dir, register_trunk

log = logging.getLogger(__name__)

BIN_BP = 32
"""Borzoi's output resolution: one bin per 32 bp."""

WINDOW_MULTIPLE_BP = 128
"""Window lengths must be multiples of 128 bp: the transformer runs at 128 bp per position and the U-net adds
its upsampled output to the 64 bp and 32 bp skips, whose lengths must match."""

EMBEDDING_DIM = 1920
"""Channels of ``final_joined_convs``, fixed in borzoi-pytorch whatever ``dim``."""

OFFICIAL_BINS = 6144
"""Bins Borzoi returns at its official 524,288 bp window (the centre 196,608 bp; 5,120 bins cropped per side)."""


@register_trunk("borzoi")
class BorzoiTrunk(Borzoi, Trunk):
    """A ``borzoi_pytorch.Borzoi`` with the trunk interface.

    Input ``(B, L, 4)`` one-hot, transposed to the network's ``(B, 4, L)`` (``BCL``), ``L`` a multiple of 128 bp;
    32 bp bins; ``n_bins(L) = min(bins_to_return, L // 32)`` centre bins (all ``L // 32`` when
    ``bins_to_return=-1``; 6,144 at the official 524,288 bp); embedding 1,920 channels; the TSS bin is
    ``n_bins // 2``, the 32 bp bin whose first base is the TSS (index ``L // 2``); the pretrained tracks are the
    human head's (7,611, softplus); the local part is the stem and the conv tower (``conv_dna``, ``res_tower``).
    """

    bin_bp = BIN_BP
    input_layout = "BCL"

    @classmethod
    def build(
        cls,
        dim: int = 1536,
        depth: int = 8,
        heads: int = 8,
        attn_dim_key: int = 64,
        attn_dim_value: int = 192,
        dropout_rate: float = 0.2,
        attn_dropout: float = 0.05,
        pos_dropout: float = 0.01,
        bins_to_return: int = OFFICIAL_BINS,
        keep_heads: bool = False,
        flashed: bool = False,
        init: str = "borzoi",
        use_checkpointing: bool = False,
        checkpoint_conv: bool = False,
    ) -> BorzoiTrunk:
        """A randomly initialised Borzoi trunk (borzoi-pytorch's xavier-normal init); defaults are the official
        size (dim 1,536, depth 8, heads 8; 171 M parameters without the human head, 186 M with it).

        Args:
            dim, depth, heads, attn_dim_key, attn_dim_value: the transformer (and the U-net's width ``dim``);
                the conv tower's widths are fixed by borzoi-pytorch.
            dropout_rate, attn_dropout, pos_dropout: dropout as in Borzoi (``dropout_rate``: the feed-forward
                blocks). borzoi-pytorch also hard-codes ``Dropout(0.2)`` after each attention block and
                ``Dropout(0.1)`` in ``final_joined_convs``, which no option changes: in training mode a trunk
                with all three options at 0 is still stochastic.
            bins_to_return: centre 32 bp bins kept (Borzoi: 6,144 of 16,384 at 524,288 bp); a shorter window
                keeps all its ``L // 32`` bins; ``-1`` never crops. Even, so the crop is symmetric.
            keep_heads: keep the human output head (``Conv1d(1920, 7611, 1)``) for :meth:`pretrained_tracks`;
                without it DDP needs no unused-parameter search.
            flashed: FlashAttention (rotary positions) instead of Borzoi's attention: Flashzoi; needs
                ``flash_attn`` (a CUDA machine). Use ``model.trunk.name=flashzoi``, which checks for it.
            init: ``borzoi`` keeps borzoi-pytorch's xavier-normal initialisation (weights then replaced by
                pretrained ones); ``kaiming`` re-initialises every convolution with He-normal weights and zero
                biases, for training from scratch: with xavier weights a single-base change moves the TSS
                prediction of a fresh tiny trunk by ~1e-6 (He: ~4e-3), as with Enformer.
            use_checkpointing: activation checkpointing of each transformer block (as Enformer's option).
            checkpoint_conv: activation checkpointing of the conv tower (``res_tower``) and the U-net's first
                down block (``unet1``), which hold most of the activations of a long window; with
                ``use_checkpointing`` too, both are recomputed in the backward pass. Outputs and gradients are
                those of the plain trunk (:class:`~performer.model.trunk.CheckpointedSequential`).

        Raises:
            ValueError: ``bins_to_return`` odd or below -1, or an unknown ``init``.
        """
        if init not in ("borzoi", "kaiming"):
            raise ValueError(f"init={init!r}: choose borzoi or kaiming")
        if bins_to_return != -1 and (bins_to_return < 2 or bins_to_return % 2):
            raise ValueError(f"bins_to_return={bins_to_return}: use an even number of bins, or -1 for no crop")
        config = BorzoiConfig(
            dim=dim,
            depth=depth,
            heads=heads,
            attn_dim_key=attn_dim_key,
            attn_dim_value=attn_dim_value,
            dropout_rate=dropout_rate,
            attn_dropout=attn_dropout,
            pos_dropout=pos_dropout,
            bins_to_return=bins_to_return,
            return_center_bins_only=True,
            enable_human_head=keep_heads,
            enable_mouse_head=False,
            flashed=flashed,
        )
        trunk = cls(config)
        if init == "kaiming":
            for module in trunk.modules():
                if isinstance(module, nn.Conv1d):
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
        if use_checkpointing:
            checkpoint_blocks_(list(trunk.transformer))
        if checkpoint_conv:
            checkpoint_blocks_([trunk.res_tower, trunk.unet1])
        return trunk

    @property
    def embedding_dim(self) -> int:
        """1,920 (borzoi-pytorch's fixed ``final_joined_convs`` width)."""
        return EMBEDDING_DIM

    def _bins_to_return(self) -> int:
        return self.config.bins_to_return

    def n_bins(self, window_bp: int) -> int:
        """``min(bins_to_return, window_bp // 32)`` (``window_bp // 32`` when ``bins_to_return=-1``): 6,144 at
        524,288 bp, 64 at 2,048 bp."""
        all_bins = window_bp // self.bin_bp
        return all_bins if self._bins_to_return() == -1 else min(self._bins_to_return(), all_bins)

    def tss_bins(self, window_bp: int) -> slice:
        """The bin ``n_bins // 2``, as a one-bin slice: the 32 bp bin whose first base is the TSS (index
        ``window_bp // 2``; uncropped bin ``window_bp // 64``). 3,072 of 6,144 at 524,288 bp; 32 of 64 at 2,048 bp."""
        tss = self.n_bins(window_bp) // 2
        return slice(tss, tss + 1)

    def _check_length(self, length: int) -> None:
        if length < WINDOW_MULTIPLE_BP or length % WINDOW_MULTIPLE_BP:
            raise ValueError(
                f"Borzoi input of {length} bp: the window must be a positive multiple of {WINDOW_MULTIPLE_BP} bp "
                "(model.window_bp)"
            )

    def _fit_to_input_(self, x: torch.Tensor) -> None:
        """Set the crop for a channels-first input ``x`` ``(B, 4, L)`` and clear the cached attention positions
        (rebuilt for this length, on this device, in this grad mode, by the first attention call).

        Raises:
            ValueError: ``L`` is not a positive multiple of 128.
        """
        length = x.shape[-1]
        self._check_length(length)
        self.crop.target_length = self.n_bins(length)
        for module in self.transformer.modules():
            if isinstance(module, Attention):
                module.positions = None

    def _embedding(self, x: torch.Tensor) -> torch.Tensor:
        """float ``(B, L, 4)`` -> ``(B, 1920, n_bins(L))`` (channels first, as the heads read it)."""
        x = self.to_input(x)
        self._fit_to_input_(x)
        return self.final_joined_convs(self.get_embs_after_crop(x))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """float ``(B, L, 4)`` -> ``(B, n_bins(L), 1920)``: the embedding after ``final_joined_convs``.

        Raises:
            ValueError: ``L`` is not a positive multiple of 128.
        """
        return self._embedding(x).transpose(1, 2)

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        """Borzoi's own forward (channels-first ``(B, 4, L)`` -> ``(B, 7611, n_bins)``), with the crop and the
        attention positions fitted to ``L`` first."""
        self._fit_to_input_(x)
        return super().forward(x, *args, **kwargs)

    def local_layers(self) -> nn.Sequential:
        """The stem and the conv tower, before the U-net's transformer: ``(B, 4, L)`` -> ``(B, 1280, L / 32)``
        (also the 32 bp skip of the U-net)."""
        return nn.Sequential(self.conv_dna, self.res_tower)

    def load_pretrained_(self, path: str | Path) -> None:
        """Copy the weights of a local ``save_pretrained`` Borzoi into this trunk (the human head too when the
        trunk keeps it; the mouse head is left out).

        Raises:
            FileNotFoundError: no such directory (see :func:`load_pretrained`).
            RuntimeError: the saved architecture differs from this trunk's (mismatched tensor shapes).
        """
        state = load_pretrained(path, keep_heads=hasattr(self, "human_head")).state_dict()
        own = self.state_dict()
        self.load_state_dict({k: v for k, v in state.items() if k in own}, strict=True)

    def n_pretrained_tracks(self) -> int:
        """Tracks of the human head (7,611).

        Raises:
            ValueError: no human head (built or loaded without ``keep_heads=True``).
        """
        return self._human_head().out_channels

    def pretrained_tracks(self, x: torch.Tensor) -> torch.Tensor:
        """The human head: float ``(B, L, 4)`` -> ``(B, n_bins(L), 7611)``, softplus, in float32.

        Raises:
            ValueError: no human head; ``L`` not a positive multiple of 128.
        """
        head = self._human_head()
        embedding = self._embedding(x)
        with torch.autocast(x.device.type, enabled=False):
            return self.final_softplus(head(embedding.float())).transpose(1, 2)

    def _human_head(self) -> nn.Conv1d:
        if not getattr(self, "enable_human_head", False) or not hasattr(self, "human_head"):
            raise ValueError(
                "this Borzoi has no human output head: build it with model.trunk.keep_heads=true "
                "(or load it with performer.model.borzoi.load_pretrained(path, keep_heads=True))"
            )
        return self.human_head


def load_pretrained(path: str | Path, keep_heads: bool = False) -> BorzoiTrunk:
    """Load a Borzoi saved with ``save_pretrained``, or from the hub (``johahi/borzoi-replicate-0``).

    Args:
        path: a local directory holding ``config.json`` and the weights, or a Hugging Face hub ID, resolved by
            :func:`~performer.model.trunk.pretrained_dir`.
        keep_heads: keep the human output head (7,611 tracks; the pretrained baseline needs it).

    Raises:
        FileNotFoundError: neither a directory with ``config.json`` nor a hub ID that resolves.
    """
    path = pretrained_dir(path, "Borzoi")
    trunk = BorzoiTrunk.from_pretrained(str(path), enable_human_head=keep_heads, enable_mouse_head=False)
    log.info("loaded pretrained Borzoi (dim %d, depth %d) from %s", trunk.config.dim, trunk.config.depth, path)
    return trunk
