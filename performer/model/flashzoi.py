"""Flashzoi: Borzoi with FlashAttention (rotary positions), the ``flashzoi`` trunk; GPU only.

It needs the ``flash_attn`` package, which builds from source on a CUDA machine:
``pip install -e ".[gpu]"`` (or ``pip install flash-attn --no-build-isolation``).
"""

from __future__ import annotations

import importlib.util

from performer.model.borzoi import BorzoiTrunk
from performer.model.trunk import register_trunk

INSTALL_HINT = (
    "model.trunk.name=flashzoi needs the flash_attn package, which is not installed. It runs on a CUDA GPU only: "
    'on a CUDA machine install it with pip install -e ".[gpu]" (or pip install flash-attn --no-build-isolation), '
    "or use model=borzoi (the same network with Borzoi's own attention; runs anywhere)"
)


@register_trunk("flashzoi")
class FlashzoiTrunk(BorzoiTrunk):
    """:class:`~performer.model.borzoi.BorzoiTrunk` with ``flashed=True``: same interface, bins and embedding."""

    @classmethod
    def build(cls, **options) -> FlashzoiTrunk:
        """As :meth:`BorzoiTrunk.build <performer.model.borzoi.BorzoiTrunk.build>`, with ``flashed=True``.

        Raises:
            ImportError: ``flash_attn`` is not installed (the message says how to install it).
            ValueError: as :meth:`BorzoiTrunk.build <performer.model.borzoi.BorzoiTrunk.build>`.
        """
        if importlib.util.find_spec("flash_attn") is None:
            raise ImportError(INSTALL_HINT)
        return super().build(**{**options, "flashed": True})
