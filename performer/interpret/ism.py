"""In-silico mutagenesis (ISM) of observed SNVs and high-scoring variants (HSVs).

The ISM score of an SNV is the change of the model's prediction when its ALT base replaces the REF
base in the *reference* window (Drusinsky et al., "Interpretation": ISM of every variant observed in
the cohort, then the top-k variants by absolute ISM as HSVs, with k the number of non-zero elastic-net
coefficients of the same gene and fold).

Coordinates are 0-based; ``distance_to_tss = pos - tss`` in bp (positive downstream on the forward
strand). The forward passes go through :func:`performer.predict.predict_ism` (device, precision, eval
mode, read-out); any model :mod:`performer.predict` reads works here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from performer.data.personal import PersonalWindow
from performer.data.reference import BASES, codes_to_one_hot
from performer.predict import Model, predict_ism

ISM_COLUMNS = ["chrom", "pos", "ref", "alt", "snv_id", "maf", "distance_to_tss", "ism"]


def ism_scores(
    model: Model,
    window: PersonalWindow,
    tss: int,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    track: int | None = None,
    progress: str | None = None,
) -> pd.DataFrame:
    """ISM score of every SNV of ``window`` observed in its people.

    ``ism = prediction(reference window with the ALT base at the SNV) - prediction(reference window)``: the
    reference window is the one-hot of ``window.codes`` (``N`` = all-zero rows) and the mutated window
    carries a full ALT one-hot at the SNV's position (a homozygous-ALT change in the dosage-averaged
    encoding). An SNV is *observed* if at least one row of ``window.snvs.dosage`` has ALT dosage > 0;
    the others are left out of the table.

    Each forward pass holds the reference window followed by up to ``batch_size`` mutated windows,
    and every score is taken against the reference prediction of its own pass
    (:func:`performer.predict.predict_ism`). The model runs in eval mode (restored afterwards).

    Precision: fp32 by default, whatever precision the model was trained with. ``precision="bf16"``
    rounds both outputs to 8 significant bits, and their difference is then mostly rounding: on the
    tiny test model its error reaches about the size of the effects themselves (measured in
    ``tests/test_predict.py``).

    Args:
        model: a Performer model, a pretrained Enformer (with ``track``) or a callable ``(B, L, 4)`` ->
            ``(B,)``; see :func:`performer.predict.readout`.
        window: the gene's window; ``window.snvs.dosage`` rows are the people whose observed SNVs
            are scored (e.g. the cohort people).
        tss: 0-based TSS position on ``window.chrom`` (bp), for ``distance_to_tss``.
        batch_size: mutated windows per forward pass (>= 1).
        device: default :func:`performer.predict.choose_device`; a module is moved there.
        precision: ``"fp32"`` or ``"bf16"``.
        track: a pretrained Enformer's human track (e.g. 4950), read over its 3 centre bins.
        progress: a progress-bar label, or None.

    Returns:
        One row per observed SNV, in window order, columns ``chrom`` (str), ``pos`` (int64, 0-based),
        ``ref``/``alt`` (letters), ``snv_id`` (VCF ID), ``maf`` (float64, ``min(af, 1 - af)`` with
        ``af = dosage.mean() / 2`` over the window's people), ``distance_to_tss`` (int64, bp),
        ``ism`` (float64). ``attrs["reference_prediction"]`` holds the reference window's
        prediction (float, from the first batch; NaN when no SNV is observed).

    Raises:
        ValueError: ``batch_size < 1``; an SNV outside ``[window.start, window.end)``; the model
            does not return one value per sequence; a bad ``precision`` or ``track``.
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

    reference, scores = predict_ism(
        model,
        codes_to_one_hot(window.codes),
        offsets,
        snvs.alt[observed],
        track=track,
        batch_size=batch_size,
        precision=precision,
        device=device,
        progress=progress,
    )
    table.attrs["reference_prediction"] = reference
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
