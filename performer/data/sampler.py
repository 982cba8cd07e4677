"""Same-gene batch samplers: every micro-batch, and every gradient-accumulation group, is one gene.

Training epoch (Drusinsky et al., Methods; ARCHITECTURE.md, "epoch"): with effective batch
``E = batch_size * accumulate``, each gene contributes ``floor(n_train / E) * E`` of its train people,
drawn without replacement, cut into blocks of ``E``; the blocks of all genes are shuffled together and
every block is yielded as ``accumulate`` consecutive micro-batches of ``batch_size`` distinct people.
The draw depends only on ``(seed, epoch)``. With several processes (DDP) each rank receives whole
blocks, round-robin over the shuffled list, so genes spread evenly across ranks; the list is padded
by repeating its first blocks so that every rank takes the same number of optimiser steps.

Evaluation covers every person of every gene exactly once, in same-gene batches of up to
``batch_size``; ranks take batches round-robin, with no padding, so gathered predictions count
nobody twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

log = logging.getLogger(__name__)


class SameGeneBatchSampler(Sampler[list[int]]):
    """Training batch sampler implementing the paper's per-gene epoch.

    Args:
        groups: one int array per gene holding that gene's dataset item indices (its people).
        batch_size: micro-batch size.
        accumulate: micro-batches per optimiser step (Lightning's ``accumulate_grad_batches``).
        seed: base seed; epoch ``e`` uses ``numpy.random.default_rng([seed, e])``.
        num_replicas, rank: DDP world size and this process's rank.

    Raises:
        ValueError: no gene has at least ``batch_size * accumulate`` people.
    """

    def __init__(
        self,
        groups: Sequence[np.ndarray],
        batch_size: int,
        accumulate: int = 1,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
    ):
        self.groups = [np.asarray(g, dtype=np.int64) for g in groups]
        self.batch_size = batch_size
        self.accumulate = accumulate
        self.block = batch_size * accumulate
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.blocks_per_gene = [len(g) // self.block for g in self.groups]
        short = sum(1 for n in self.blocks_per_gene if n == 0)
        if short == len(self.groups):
            raise ValueError(
                f"no gene has {self.block} train people (batch_size {batch_size} x accumulate "
                f"{accumulate}); lower the batch size or the accumulation"
            )
        if short:
            log.warning("%d genes have fewer than %d train people and are not trained on", short, self.block)
        n_blocks = sum(self.blocks_per_gene)
        self.blocks_per_rank = -(-n_blocks // num_replicas)
        if n_blocks % num_replicas:
            log.info(
                "padding %d blocks to %d so every rank takes equal steps", n_blocks, self.blocks_per_rank * num_replicas
            )

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch whose draw to yield; the draw depends only on ``(seed, epoch)``."""
        self.epoch = epoch

    @property
    def sampler(self) -> SameGeneBatchSampler:
        """Lightning calls ``set_epoch`` on ``dataloader.batch_sampler.sampler`` each epoch: that is us."""
        return self

    def blocks(self) -> list[np.ndarray]:
        """All ranks' blocks of this epoch, shuffled, padded to a multiple of ``num_replicas``."""
        rng = np.random.default_rng([self.seed, self.epoch])
        blocks = []
        for items, n in zip(self.groups, self.blocks_per_gene):
            if n:
                drawn = rng.permutation(items)[: n * self.block]
                blocks.extend(drawn.reshape(n, self.block))
        order = rng.permutation(len(blocks))
        blocks = [blocks[i] for i in order]
        pad = self.blocks_per_rank * self.num_replicas - len(blocks)
        return blocks + [blocks[i % len(blocks)] for i in range(pad)]

    def __iter__(self) -> Iterator[list[int]]:
        for block in self.blocks()[self.rank :: self.num_replicas]:
            for micro in block.reshape(self.accumulate, self.batch_size):
                yield micro.tolist()

    def __len__(self) -> int:
        return self.blocks_per_rank * self.accumulate


class EvalBatchSampler(Sampler[list[int]]):
    """Evaluation batch sampler: every item once, same-gene batches, round-robin across ranks.

    Args:
        groups: one int array per gene of dataset item indices.
        batch_size: largest batch; a gene's last batch may be smaller.
        num_replicas, rank: DDP world size and this process's rank.
    """

    def __init__(self, groups: Sequence[np.ndarray], batch_size: int, num_replicas: int = 1, rank: int = 0):
        self.batches = [
            chunk.tolist()
            for items in groups
            if len(items)
            for chunk in np.array_split(np.asarray(items), -(-len(items) // batch_size))
        ][rank::num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)
