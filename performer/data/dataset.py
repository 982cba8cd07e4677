"""Per-gene TSS-centred windows and the (gene, person) items that training and evaluation iterate.

A window of ``window_bp`` is centred on the TSS (0-based TSS at index ``window_bp // 2``), forward
strand. Each gene's window is read once per process: reference base codes plus the int8 dosage
matrix of all cohort people; batches are built from it on demand.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from performer.data.personal import PersonalSequences, PersonalWindow
from performer.data.reference import N_CODE

log = logging.getLogger(__name__)


def tss_window(tss: int, window_bp: int) -> tuple[int, int]:
    """0-based half-open ``(start, end)`` of the ``window_bp`` window with the TSS at index ``window_bp // 2``."""
    start = tss - window_bp // 2
    return start, start + window_bp


def read_windows(
    sequences: PersonalSequences, genes: pd.DataFrame, vcf_samples: list[str], window_bp: int
) -> list[PersonalWindow]:
    """Read the TSS-centred window of each gene for the given people.

    Args:
        sequences: FASTA + VCF reader.
        genes: rows with ``chrom`` and ``tss`` (0-based), in the order wanted.
        vcf_samples: VCF sample names; dosage rows follow this order.
        window_bp: window length in bp.

    Returns:
        One :class:`PersonalWindow` per gene. Skipped VCF records (by reason), missing calls and
        ``N`` bases (assembly gaps or padding past the contig) are summed and logged.
    """
    windows, skipped, missing, padded = [], Counter(), 0, 0
    for gene_id, row in genes.iterrows():
        start, end = tss_window(int(row["tss"]), window_bp)
        window = sequences.window(row["chrom"], start, end, vcf_samples)
        skipped.update(window.snvs.skipped)
        missing += window.snvs.missing_calls
        n_bases = int((window.codes == N_CODE).sum())
        if n_bases:
            padded += 1
            log.info(
                "gene %s: window %s:%d-%d holds %d N bp (gaps or past the contig), encoded as zeros",
                gene_id,
                window.chrom,
                start,
                end,
                n_bases,
            )
        windows.append(window)
    n_snvs = sum(len(w.snvs) for w in windows)
    log.info(
        "read %d windows of %d bp: %d SNVs kept; skipped records: %s; missing calls counted as REF: %d; "
        "windows with N: %d",
        len(windows),
        window_bp,
        n_snvs,
        dict(skipped) or "none",
        missing,
        padded,
    )
    return windows


def collate_batch(batch: dict) -> dict:
    """``collate_fn`` for :class:`GenePeopleDataset`: batches are assembled by ``__getitems__``."""
    return batch


class GenePeopleDataset(Dataset):
    """(gene, person) items with targets, batched by gene.

    Args:
        windows: one window per gene; its dosage rows are the cohort people.
        gene: int64 ``(n_items,)``, index into ``windows``.
        person: int64 ``(n_items,)``, index of the person (a dosage row of the windows).
        target: float32 ``(n_items,)``, expression.

    ``dataset.__getitems__(indices)`` (used by the DataLoader with a batch sampler) returns a dict:
    ``x`` float32 ``(B, L, 4)``, ``y`` float32 ``(B,)``, ``gene`` int64 ``(B,)``, ``person`` int64 ``(B,)``
    and ``keep`` bool ``(B,)``. A negative index ``~i`` (``-1 - i``) is a padding copy of item ``i``:
    it is built like item ``i`` but has ``keep=False``, so that evaluation samplers can give every DDP
    rank the same number of batches and the padding is dropped after gathering.
    """

    def __init__(self, windows: Sequence[PersonalWindow], gene: np.ndarray, person: np.ndarray, target: np.ndarray):
        self.windows = list(windows)
        self.gene = np.asarray(gene, dtype=np.int64)
        self.person = np.asarray(person, dtype=np.int64)
        self.target = np.asarray(target, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.gene)

    def groups(self) -> list[np.ndarray]:
        """Item indices of each gene (int64 arrays, one per window, possibly empty)."""
        order = np.argsort(self.gene, kind="stable")
        bounds = np.searchsorted(self.gene[order], np.arange(len(self.windows) + 1))
        return [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    def __getitems__(self, indices: Sequence[int]) -> dict:
        idx = np.asarray(indices, dtype=np.int64)
        keep = idx >= 0
        idx = np.where(keep, idx, ~idx)
        genes = self.gene[idx]
        length = len(self.windows[genes[0]].codes)
        x = np.empty((len(idx), length, 4), dtype=np.float32)
        for g in np.unique(genes):
            rows = genes == g
            x[rows] = self.windows[g].one_hot(self.person[idx[rows]])
        return {
            "x": torch.from_numpy(x),
            "y": torch.from_numpy(self.target[idx]),
            "gene": torch.from_numpy(genes),
            "person": torch.from_numpy(self.person[idx]),
            "keep": torch.from_numpy(keep),
        }

    def __getitem__(self, index: int) -> dict:
        batch = self.__getitems__([index])
        return {k: v[0] for k, v in batch.items()}
