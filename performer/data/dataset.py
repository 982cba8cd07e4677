"""Per-gene TSS-centred windows and the (gene, person) items that training and evaluation iterate.

A window of ``window_bp`` is centred on the TSS (0-based TSS at index ``window_bp // 2``), forward
strand. Each gene's window (reference base codes plus the int8 dosage matrix of all cohort people)
comes from the window cache (``cache.py``); batches are built from it on demand.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from performer.data.haplotypes import HaplotypeWindow
from performer.data.personal import PersonalWindow
from performer.data.reference import N_CODE

log = logging.getLogger(__name__)

ENCODINGS = ("dosage", "haplotypes")
"""Personal encodings of a dataset: one averaged input per person, or each haplotype on its own."""


def tss_window(tss: int, window_bp: int) -> tuple[int, int]:
    """0-based half-open ``(start, end)`` of the ``window_bp`` window with the TSS at index ``window_bp // 2``."""
    start = tss - window_bp // 2
    return start, start + window_bp


def log_windows(windows: Sequence[PersonalWindow], gene_names: Sequence[str]) -> None:
    """Log what the windows hold: ``N`` bases per gene, genes without SNVs (a warning), and totals.

    Kept SNVs, skipped records, missing and haploid calls are counted once per record (by contig,
    position and allele or skip reason) however many overlapping windows hold it. A window with no
    kept SNV gives every person the reference sequence, so it is worth a warning: a wrong VCF, a
    contig spelled differently, or a gene desert.
    """
    calls, skipped, padded, empty = {}, set(), 0, []
    for name, window in zip(gene_names, windows):
        snvs = window.snvs
        n = len(snvs)
        missing = snvs.missing_per_snv if snvs.missing_per_snv is not None else np.zeros(n, np.int32)
        haploid = snvs.haploid_per_snv if snvs.haploid_per_snv is not None else np.zeros(n, np.int32)
        keys = zip([snvs.chrom] * n, snvs.pos.tolist(), snvs.alt.tolist())
        calls.update(zip(keys, zip(missing.tolist(), haploid.tolist())))
        skipped.update((snvs.chrom, p, reason) for reason, where in snvs.skipped_pos.items() for p in where)
        if n == 0:
            empty.append(name)
        n_bases = int(np.count_nonzero(np.asarray(window.codes) == N_CODE))
        if n_bases:
            padded += 1
            log.info(
                "gene %s: window %s:%d-%d holds %d N bp (gaps or past the contig), encoded as zeros",
                name,
                window.chrom,
                window.start,
                window.end,
                n_bases,
            )
    if empty:
        log.warning(
            "%d of %d genes have no kept SNV in their window, so every person gets the reference sequence: %s%s",
            len(empty),
            len(windows),
            ", ".join(empty[:20]),
            ", ..." if len(empty) > 20 else "",
        )
    log.info(
        "%d windows: %d distinct SNVs kept; distinct records skipped: %s; missing calls counted as REF: %d; "
        "haploid calls (ALT = dosage 2): %d; windows with N: %d",
        len(windows),
        len(calls),
        dict(Counter(reason for _, _, reason in skipped)) or "none",
        sum(m for m, _ in calls.values()),
        sum(h for _, h in calls.values()),
        padded,
    )


def collate_batch(batch: dict) -> dict:
    """``collate_fn`` for :class:`GenePeopleDataset`: batches are assembled by ``__getitems__``."""
    return batch


class GenePeopleDataset(Dataset):
    """(gene, person) items with targets, batched by gene.

    Args:
        windows: one window per gene; its dosage (or haplotype) rows are the cohort people.
        gene: int64 ``(n_items,)``, index into ``windows``.
        person: int64 ``(n_items,)``, index of the person (a dosage row of the windows).
        target: float32 ``(n_items,)``, expression.
        encoding: with :class:`~performer.data.haplotypes.HaplotypeWindow` windows, ``"dosage"`` (each
            person's two sequences averaged into one input) or ``"haplotypes"`` (two inputs per person);
            ignored for SNV windows.

    ``dataset.__getitems__(indices)`` (used by the DataLoader with a batch sampler) returns a dict:
    the inputs, ``y`` float32 ``(B,)``, ``gene`` int64 ``(B,)``, ``person`` int64 ``(B,)`` and ``keep``
    bool ``(B,)``. The inputs are ``x`` float32 ``(B, L, 4)`` (dosage-averaged one-hot of SNV windows),
    or uint8 base codes ``(B, 2, L)`` of each person's two sequences (0-3 = ``A,C,G,T``, 4 = ``N``),
    expanded to one-hots on the model's device (:func:`performer.model.inputs.batch_inputs`): ``codes``
    for the dosage encoding, ``haplotypes`` for the haplotype encoding. A negative index ``~i``
    (``-1 - i``) is a padding copy of item ``i``: it is built like item ``i`` but has ``keep=False``, so
    that evaluation samplers can give every DDP rank the same number of batches and the padding is
    dropped after gathering.
    """

    def __init__(
        self,
        windows: Sequence[PersonalWindow | HaplotypeWindow],
        gene: np.ndarray,
        person: np.ndarray,
        target: np.ndarray,
        encoding: str = "dosage",
    ):
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding={encoding!r}: choose one of {ENCODINGS}")
        self.windows = list(windows)
        self.encoding = encoding
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
        if isinstance(self.windows[genes[0]], HaplotypeWindow):
            key = "codes" if self.encoding == "dosage" else "haplotypes"
            x = np.empty((len(idx), 2, length), dtype=np.uint8)

            def build(window, rows):
                return window.sequences(rows, self.encoding)

        else:
            key = "x"
            x = np.empty((len(idx), length, 4), dtype=np.float32)

            def build(window, rows):
                return window.one_hot(rows)

        for g in np.unique(genes):
            rows = genes == g
            x[rows] = build(self.windows[g], self.person[idx[rows]])
        return {
            key: torch.from_numpy(x),
            "y": torch.from_numpy(self.target[idx]),
            "gene": torch.from_numpy(genes),
            "person": torch.from_numpy(self.person[idx]),
            "keep": torch.from_numpy(keep),
        }

    def __getitem__(self, index: int) -> dict:
        batch = self.__getitems__([index])
        return {k: v[0] for k, v in batch.items()}
