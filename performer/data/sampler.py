"""Same-gene batch samplers: every micro-batch, and every gradient-accumulation group, is one gene.

Training epoch (Drusinsky et al., Methods): with effective batch
``E = batch_size * accumulate``, each gene contributes ``floor(n_train / E) * E`` of its train people,
drawn without replacement, cut into blocks of ``E``; the blocks of all genes are shuffled together and
every block is yielded as ``accumulate`` consecutive micro-batches of ``batch_size`` distinct people.
The draw depends only on ``(seed, epoch)``. With several processes (DDP) each rank receives whole
blocks, round-robin over the shuffled list, so genes spread evenly across ranks; the list is padded
by repeating its first blocks so that every rank takes the same number of optimiser steps.

Evaluation covers every person of every gene exactly once, in same-gene batches of up to
``batch_size``; ranks take batches round-robin. So that every rank runs the same number of steps
(Lightning refuses a rank with an empty loader, and a rank without batches would leave the others
waiting in the gather), the batch list is padded to a multiple of the world size with one-item
padding batches ``[~i]``: a negative index asks the dataset for a copy of item ``i`` flagged
``keep=False``, which the model drops before gathering, so nobody is counted twice.
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
        if not any(self.blocks_per_gene):
            raise ValueError(
                f"no gene has {self.block} train people (batch_size {batch_size} x accumulate "
                f"{accumulate}); lower the batch size or the accumulation"
            )
        short = [i for i, (g, n) in enumerate(zip(self.groups, self.blocks_per_gene)) if len(g) and not n]
        if short:  # genes without items (held-out genes) are not training genes and not counted
            log.warning(
                "%d genes (indices %s) have fewer than %d train people and are not trained on",
                len(short),
                short[:20],
                self.block,
            )
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
    """Evaluation batch sampler: every item once, same-gene batches, equal batch counts on every rank.

    The real batches are each gene's items cut into ``ceil(n / batch_size)`` near-equal chunks, genes
    in order; rank ``r`` takes batches ``r, r + W, r + 2W, ...`` (``W = num_replicas``). When the number
    of batches is not a multiple of ``W`` (in particular when it is smaller than ``W``), padding batches
    are appended: each is one negative index ``~i`` (``-1 - i``), a flagged copy of the first item of a
    real batch, so that every rank gets ``ceil(n_batches / W)`` batches. Drop items whose batch
    ``keep`` is False (see ``GenePeopleDataset``) to count every item once.

    Args:
        groups: one int array per gene of dataset item indices (non-negative).
        batch_size: largest batch; a gene's batches differ in size by at most one.
        num_replicas, rank: DDP world size and this process's rank.

    Attributes:
        batches: this rank's batches, lists of int indices (negative ones are padding).
        n_padding: padding batches added over all ranks, ``< num_replicas``.

    Raises:
        ValueError: ``batch_size < 1`` or ``rank`` not in ``[0, num_replicas)``.
    """

    def __init__(self, groups: Sequence[np.ndarray], batch_size: int, num_replicas: int = 1, rank: int = 0):
        if batch_size < 1:
            raise ValueError(f"eval batch_size={batch_size}: must be at least 1")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank={rank}: must be in [0, num_replicas={num_replicas})")
        batches = [
            chunk.tolist()
            for items in groups
            if len(items)
            for chunk in np.array_split(np.asarray(items, dtype=np.int64), -(-len(items) // batch_size))
        ]
        self.n_padding = -len(batches) % num_replicas
        batches += [[~batches[k % len(batches)][0]] for k in range(self.n_padding)] if batches else []
        self.batches = batches[rank::num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)
