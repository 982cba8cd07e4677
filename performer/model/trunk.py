"""The trunk interface: what the head, the prediction path, ISM, attribution and the pretrained baseline need
from a sequence-to-embedding network, and nothing more; the registry that builds a trunk from the model config;
the speed options every trunk can use.

A trunk maps a batch of one-hot sequences (``A,C,G,T``, ``L`` bp) to an embedding of ``n_bins(L)`` output
bins of ``bin_bp`` bp each. Its consumers never name the architecture behind it:

* the head (:class:`~performer.model.head.PerformerModel`): :meth:`Trunk.embed`,
  :attr:`Trunk.embedding_dim`, :meth:`Trunk.tss_bins`;
* the pretrained baseline (:func:`performer.predict.readout` with ``track``): :meth:`Trunk.pretrained_tracks`,
  :meth:`Trunk.n_pretrained_tracks`, :meth:`Trunk.pretrained_bins`;
* fine-tuning (:class:`~performer.model.module.PerformerModule`): :func:`build_trunk` and
  :meth:`Trunk.load_pretrained_`;
* fast ISM (later): :attr:`Trunk.input_layout` and :meth:`Trunk.local_layers`.

Every consumer passes float ``(B, L, 4)`` one-hots (the package's layout); a trunk whose network reads
channels-first ``(B, 4, L)`` (Borzoi) converts with :meth:`Trunk.to_input`. Enformer
(:mod:`performer.model.enformer`) is the first implementation.

Adding a trunk is one new module ``performer/model/<name>.py`` whose class is decorated with
``@register_trunk("<name>")``, plus a model config with ``trunk.name: <name>`` and the class's
:meth:`~Trunk.build` options. ``model.trunk.name`` defaults to ``enformer``, so run configs and checkpoints
saved before the key existed build the same trunk.
"""

from __future__ import annotations

import importlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

DEFAULT_TRUNK = "enformer"
"""The trunk of a config without ``model.trunk.name`` (every run saved before the key existed)."""

INPUT_LAYOUTS = ("BLC", "BCL")
"""``BLC``: ``(B, L, 4)``, length before channels (Enformer); ``BCL``: ``(B, 4, L)``, channels first (Borzoi)."""


class Trunk(nn.Module, ABC):
    """A sequence-to-embedding network, as the rest of the package sees it.

    Class attributes:
        bin_bp: bp per output bin (Enformer 128; Borzoi 32).
        input_layout: the layout of the network's own input and of :meth:`local_layers`' input, one of
            :data:`INPUT_LAYOUTS` (Enformer ``BLC``; Borzoi ``BCL``).

    Subclasses implement :meth:`build`, :attr:`embedding_dim`, :meth:`embed` and :meth:`local_layers`, and
    override the defaults below where their network differs (bins of a padded or cropped output, pretrained
    weights, pretrained output tracks).
    """

    bin_bp: ClassVar[int]
    input_layout: ClassVar[str]

    @classmethod
    @abstractmethod
    def build(cls, **options) -> Trunk:
        """A new trunk from the options of the model config's ``trunk`` group (without ``name``).

        Raises:
            ValueError: an invalid option (the message names it).
        """

    @property
    @abstractmethod
    def embedding_dim(self) -> int:
        """Channels ``C`` of :meth:`embed`'s output (Enformer: ``2 * dim``, 3,072 at the official size)."""

    @abstractmethod
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding: float ``(B, L, 4)`` one-hot -> float ``(B, n_bins(L), embedding_dim)``.

        Call it rather than ``forward``: it is the one entry point of the head, and it goes through the
        module's ``__call__``, so a compiled trunk (:func:`compile_trunk`) runs its compiled graph.
        """

    @abstractmethod
    def local_layers(self) -> nn.Module:
        """The local part of the network: the leading layers (stem, convolutions, pooling) in which each output
        position depends on a bounded stretch of the input, before any layer that sees the whole window
        (attention). A module sharing the trunk's own layers and weights, mapping the network's input
        (:attr:`input_layout`) to channels-first features ``(B, C_local, positions)``; for fast ISM.
        """

    def to_input(self, x: torch.Tensor) -> torch.Tensor:
        """float ``(B, L, 4)`` one-hot -> the network's input layout (a transposed view for ``BCL``).

        Raises:
            ValueError: :attr:`input_layout` is not one of :data:`INPUT_LAYOUTS`.
        """
        if self.input_layout not in INPUT_LAYOUTS:
            raise ValueError(f"{type(self).__name__}.input_layout={self.input_layout!r}: choose from {INPUT_LAYOUTS}")
        return x if self.input_layout == "BLC" else x.transpose(1, 2)

    def n_bins(self, window_bp: int) -> int:
        """Output bins of a ``window_bp`` window: ``window_bp // bin_bp`` unless the trunk pads or crops."""
        return window_bp // self.bin_bp

    def tss_bins(self, window_bp: int) -> slice:
        """The output bins holding the TSS of a ``window_bp`` window (the TSS is at index ``window_bp // 2``):
        by default the one bin ``(window_bp // 2) // bin_bp``. The head predicts their mean."""
        tss_bin = (window_bp // 2) // self.bin_bp
        return slice(tss_bin, tss_bin + 1)

    def load_pretrained_(self, path: str | Path) -> None:
        """Copy the weights of a local pretrained model of this architecture into the trunk, in place.

        Raises:
            NotImplementedError: the trunk has no pretrained weights (this default).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot load pretrained weights")

    def n_pretrained_tracks(self) -> int:
        """Number of tracks of the pretrained output head (Enformer's human head: 5,313).

        Raises:
            ValueError: the trunk has no pretrained output head (this default; the message says how to load one).
        """
        raise ValueError(f"{type(self).__name__} has no pretrained output tracks")

    def pretrained_tracks(self, x: torch.Tensor) -> torch.Tensor:
        """The pretrained output head: float ``(B, L, 4)`` one-hot -> ``(B, n_bins(L), n_pretrained_tracks())``.

        Raises:
            ValueError: the trunk has no pretrained output head (this default), as :meth:`n_pretrained_tracks`.
        """
        raise ValueError(f"{type(self).__name__} has no pretrained output tracks")

    def pretrained_bins(self, window_bp: int) -> slice:
        """The bins of :meth:`pretrained_tracks` that the pretrained baseline sums: by default :meth:`tss_bins`."""
        return self.tss_bins(window_bp)


TRUNKS: dict[str, type[Trunk]] = {}
"""Registered trunk classes by ``model.trunk.name``."""


HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
"""A Hugging Face hub model ID, ``owner/name`` (e.g. ``EleutherAI/enformer-official-rough``)."""


def pretrained_dir(source: str | Path, architecture: str) -> Path:
    """The local directory of pretrained weights named by ``model.pretrained``: a directory written by
    ``save_pretrained`` (``config.json`` and weights), or a Hugging Face hub ID resolved by
    ``huggingface_hub.snapshot_download`` into the user's hub cache (``$HF_HOME``; with ``HF_HUB_OFFLINE=1``
    only from that cache, never the network).

    Args:
        source: a local directory or a hub ID ``owner/name``; an existing local path always wins.
        architecture: the trunk's name, for messages (``Enformer``, ``Borzoi``).

    Raises:
        FileNotFoundError: a local path without ``config.json``, or a hub ID that cannot be resolved (offline and
            not cached, unknown, no network); the message names the source and the fix.
    """
    path = Path(source).expanduser()
    if not path.exists() and HUB_ID.match(str(source)):
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        try:
            path = Path(snapshot_download(str(source), allow_patterns=["*.json", "*.bin", "*.safetensors"]))
        except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as error:
            raise FileNotFoundError(
                f"model.pretrained={source}: no {architecture} weights on the Hugging Face hub or in its cache "
                f"({type(error).__name__}: {error}). Check the ID, the network (HF_HUB_OFFLINE), or give a local "
                "directory written by save_pretrained"
            ) from error
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"no pretrained {architecture} at {source}: expected a directory written by save_pretrained (with "
            "config.json and weights) or a Hugging Face hub ID such as owner/name"
        )
    return path


def register_trunk(name: str) -> Callable[[type[Trunk]], type[Trunk]]:
    """Class decorator: make a :class:`Trunk` subclass the trunk of ``model.trunk.name = name``.

    Raises:
        ValueError: another class holds ``name``.
    """

    def register(cls: type[Trunk]) -> type[Trunk]:
        if TRUNKS.get(name, cls) is not cls:
            raise ValueError(f"trunk name {name!r} is taken by {TRUNKS[name].__qualname__}")
        TRUNKS[name] = cls
        return cls

    return register


def trunk_class(name: str = DEFAULT_TRUNK) -> type[Trunk]:
    """The trunk class registered as ``name``; an unregistered name first imports ``performer.model.<name>``
    (the trunk's module, which registers it).

    Raises:
        ValueError: no trunk of that name (the message lists the known ones).
    """
    if name not in TRUNKS and name.isidentifier():
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__package__}.{name}":
                raise
    if name not in TRUNKS:
        raise ValueError(f"model.trunk.name={name!r}: no such trunk; known trunks: {sorted(TRUNKS)}")
    return TRUNKS[name]


def build_trunk(name: str = DEFAULT_TRUNK, **options) -> Trunk:
    """A new trunk: ``trunk_class(name).build(**options)``; ``name`` and ``options`` are the model config's
    ``trunk`` group (``name`` defaults to ``enformer``: :meth:`performer.model.enformer.EnformerTrunk.build`
    lists its options; its defaults are the official size).

    Raises:
        ValueError: an unknown ``name`` or an invalid option.
    """
    return trunk_class(name).build(**options)


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


def checkpoint_blocks_(blocks: list[nn.Module]) -> None:
    """Turn each ``nn.Sequential`` of ``blocks`` into a :class:`CheckpointedSequential`, in place (the class is
    swapped, so parameters, state-dict keys and pretrained weights are unaffected).

    Raises:
        TypeError: a block is not an ``nn.Sequential``.
    """
    for block in blocks:
        if type(block) not in (nn.Sequential, CheckpointedSequential):
            raise TypeError(f"expected an nn.Sequential conv block, got {type(block).__name__}")
        block.__class__ = CheckpointedSequential


def compile_trunk(trunk: Trunk, backend: str = "inductor", mode: str | None = None) -> Trunk:
    """``torch.compile`` a trunk in place (``nn.Module.compile``); returns ``trunk``.

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
