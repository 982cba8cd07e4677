"""In-silico mutagenesis (ISM) of observed SNVs and high-scoring variants (HSVs).

The ISM score of an SNV is the change of the model's prediction when its ALT base replaces the REF
base in the *reference* window (Drusinsky et al., "Interpretation": ISM of every variant observed in
the cohort, then the top-k variants by absolute ISM as HSVs, with k the number of non-zero elastic-net
coefficients of the same gene and fold).

Coordinates are 0-based; ``distance_to_tss = pos - tss`` in bp (positive downstream on the forward
strand). Everything here is model-agnostic: ``predict`` maps a float32 one-hot tensor ``(B, L, 4)``
(channels ``A,C,G,T``) to a ``(B,)`` tensor, e.g. :class:`~performer.model.head.PerformerModel`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import numpy as np
import pandas as pd
import torch

from performer.data.personal import PersonalWindow
from performer.data.reference import BASES, codes_to_one_hot

Predict = Callable[[torch.Tensor], torch.Tensor]

ISM_COLUMNS = ["chrom", "pos", "ref", "alt", "snv_id", "maf", "distance_to_tss", "ism"]


def infer_device(predict: Predict, device: str | torch.device | None = None) -> torch.device:
    """``device`` if given; else the device of ``predict``'s first parameter (an ``nn.Module`` or a
    bound method of one); else the CPU."""
    if device is not None:
        return torch.device(device)
    module = predict if isinstance(predict, torch.nn.Module) else getattr(predict, "__self__", None)
    if isinstance(module, torch.nn.Module):
        param = next(module.parameters(), None)
        if param is not None:
            return param.device
    return torch.device("cpu")


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return nullcontext() if dtype is None else torch.autocast(device_type=device.type, dtype=dtype)


def _predict_flat(predict: Predict, x: torch.Tensor) -> torch.Tensor:
    out = predict(x)
    if not isinstance(out, torch.Tensor) or out.numel() != x.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"predict must map (B, L, 4) to a (B,) tensor; got {shape} for B = {x.shape[0]}")
    return out.reshape(-1).float()


def ism_scores(
    predict: Predict,
    window: PersonalWindow,
    tss: int,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> pd.DataFrame:
    """ISM score of every SNV of ``window`` observed in its people.

    ``ism = predict(reference window with the ALT base at the SNV) - predict(reference window)``: the
    reference window is the one-hot of ``window.codes`` (``N`` = all-zero rows) and the mutated window
    carries a full ALT one-hot at the SNV's position (a homozygous-ALT change in the dosage-averaged
    encoding). An SNV is *observed* if at least one row of ``window.snvs.dosage`` has ALT dosage > 0;
    the others are left out of the table.

    Each forward pass holds the reference window followed by up to ``batch_size`` mutated windows
    (``batch_size + 1`` sequences), built on ``device`` from the reference one-hot; only one batch of
    sequences exists at a time. Every score is taken against the reference prediction of its own
    batch, so the reference and its variants share the same kernels (matters on GPUs, whose kernels
    and reduction orders can change with the batch shape). Runs under ``torch.no_grad()``.

    The caller is responsible for the model's mode: call ``model.eval()`` first (dropout off), or the
    scores are noisy. With ``autocast_dtype=torch.bfloat16`` the model output is rounded to bf16 (8
    significant bits), so ISM effects below ~0.4 % of the prediction are quantised; use float32 where
    small effects matter.

    Args:
        predict: float32 ``(B, L, 4)`` one-hot -> ``(B,)`` prediction.
        window: the gene's window; ``window.snvs.dosage`` rows are the people whose observed SNVs
            are scored (e.g. the training people of a fold).
        tss: 0-based TSS position on ``window.chrom`` (bp), for ``distance_to_tss``.
        batch_size: mutated windows per forward pass (>= 1).
        device: where the sequences are built and ``predict`` runs; default: the device of
            ``predict``'s parameters when it is a module or a module's method, else the CPU.
        autocast_dtype: if given, ``predict`` runs under ``torch.autocast(device.type, dtype)``
            (the trainer's precision, e.g. ``torch.bfloat16``).

    Returns:
        One row per observed SNV, in window order, columns ``chrom`` (str), ``pos`` (int64, 0-based),
        ``ref``/``alt`` (letters), ``snv_id`` (VCF ID), ``maf`` (float64, ``min(af, 1 - af)`` with
        ``af = dosage.mean() / 2`` over the window's people), ``distance_to_tss`` (int64, bp),
        ``ism`` (float64). ``attrs["reference_prediction"]`` holds the reference window's
        prediction (float, from the first batch; NaN when no SNV is observed).

    Raises:
        ValueError: ``batch_size < 1``; an SNV outside ``[window.start, window.end)``; ``predict``
            does not return one value per sequence.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    snvs = window.snvs
    length = len(window.codes)
    observed = np.flatnonzero((snvs.dosage > 0).any(axis=0)) if len(snvs) else np.zeros(0, np.int64)
    offsets = np.asarray(snvs.pos, dtype=np.int64)[observed] - window.start
    outside = (offsets < 0) | (offsets >= length)
    if outside.any():
        bad = snvs.pos[observed[outside]][:5].tolist()
        raise ValueError(
            f"SNVs at 0-based positions {bad} lie outside window {window.chrom}:{window.start}-{window.end}"
        )

    af = snvs.dosage[:, observed].mean(axis=0, dtype=np.float64) / 2.0 if len(observed) else np.zeros(0)
    table = pd.DataFrame(
        {
            "chrom": [window.chrom] * len(observed),
            "pos": np.asarray(snvs.pos, dtype=np.int64)[observed],
            "ref": [BASES[c] for c in snvs.ref[observed]],
            "alt": [BASES[c] for c in snvs.alt[observed]],
            "snv_id": [snvs.ids[j] for j in observed],
            "maf": np.minimum(af, 1.0 - af).astype(np.float64),
            "distance_to_tss": np.asarray(snvs.pos, dtype=np.int64)[observed] - int(tss),
            "ism": np.full(len(observed), np.nan, dtype=np.float64),
        },
        columns=ISM_COLUMNS,
    )
    table.attrs["reference_prediction"] = float("nan")
    if len(observed) == 0:
        return table

    dev = infer_device(predict, device)
    reference = torch.from_numpy(codes_to_one_hot(window.codes).astype(np.float32)).to(dev)
    offsets_t = torch.from_numpy(offsets).to(dev)
    alts_t = torch.from_numpy(snvs.alt[observed].astype(np.int64)).to(dev)
    scores = np.empty(len(observed), dtype=np.float64)
    with torch.no_grad():
        for begin in range(0, len(observed), batch_size):
            stop = min(begin + batch_size, len(observed))
            k = stop - begin
            x = reference.unsqueeze(0).repeat(k + 1, 1, 1)
            rows = torch.arange(1, k + 1, device=dev)
            x[rows, offsets_t[begin:stop]] = 0.0
            x[rows, offsets_t[begin:stop], alts_t[begin:stop]] = 1.0
            with _autocast(dev, autocast_dtype):
                pred = _predict_flat(predict, x)
            scores[begin:stop] = (pred[1:] - pred[0]).double().cpu().numpy()
            if begin == 0:
                table.attrs["reference_prediction"] = float(pred[0])
    table["ism"] = scores
    return table


def high_scoring_variants(ism_table: pd.DataFrame, k: int) -> pd.DataFrame:
    """The top-``k`` rows of an ISM table by ``|ism|``: the high-scoring variants (HSVs).

    ``k`` is, as in the paper, the number of non-zero elastic-net coefficients of the same gene and
    fold. ``k <= 0`` gives an empty table, ``k`` larger than the table gives every row. Ties keep
    table order; rows with a NaN score come last.

    Args:
        ism_table: a table with an ``ism`` column (as from :func:`ism_scores`).
        k: number of HSVs.

    Returns:
        The selected rows sorted by ``|ism|`` descending, index reset, with an int64 ``rank`` column
        (1 = largest ``|ism|``) appended.

    Raises:
        KeyError: ``ism_table`` has no ``ism`` column.
    """
    if "ism" not in ism_table.columns:
        raise KeyError(f"ism_table needs an 'ism' column; it has {list(ism_table.columns)}")
    k = max(int(k), 0)
    magnitude = ism_table["ism"].abs().to_numpy(dtype=np.float64)
    order = np.argsort(np.where(np.isnan(magnitude), np.inf, -magnitude), kind="stable")[:k]
    top = ism_table.iloc[order].reset_index(drop=True)
    top["rank"] = np.arange(1, len(top) + 1, dtype=np.int64)
    return top
