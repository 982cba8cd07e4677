"""In-silico mutagenesis (ISM) of observed variants (SNVs, and indels and MNPs) and high-scoring variants (HSVs).

The ISM score of a variant is the change of the model's prediction when its ALT allele replaces the
REF allele in the *reference* window (Drusinsky et al., "Interpretation": ISM of every variant observed
in the cohort, then the top-k variants by absolute ISM as HSVs, with k the number of non-zero
elastic-net coefficients of the same gene and fold).

Two kinds of windows:

* a :class:`~performer.data.personal.PersonalWindow` (SNVs only): every observed SNV, a single-base
  substitution of the reference one-hot (:func:`performer.predict.predict_ism`);
* a :class:`~performer.data.haplotypes.HaplotypeWindow` (``data.indels``, or phased SNV haplotypes):
  every observed record starting inside the window. SNVs are scored exactly as above (same passes, so
  their rows equal the SNV-only table's); indels and MNPs (multi-base substitutions) by applying the ALT
  allele to the reference window with the TSS kept at index ``L // 2``
  (:meth:`~performer.data.haplotypes.HaplotypeWindow.reference_with`, as ``bcftools consensus``) and
  predicting that sequence (:func:`performer.predict.predict_variants`). Records with an ALT ``*`` are
  never scored (no one carries them).

Coordinates are reference coordinates, 0-based: ``pos`` is the start of the REF allele (an indel's
anchor base) and ``distance_to_tss = pos - tss`` in bp (positive downstream on the forward strand). The
forward passes go through :mod:`performer.predict` (device, precision, eval mode, read-out); any model
it reads works here. :func:`observed_dosage` gives the dosage columns in the table's row order (driver
selection).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from performer.data.haplotypes import HaplotypeWindow, variant_kind
from performer.data.personal import PersonalWindow
from performer.data.reference import BASES, codes_to_one_hot, decode_bases
from performer.predict import Model, predict_ism, predict_variants

ISM_COLUMNS = ["chrom", "pos", "ref", "alt", "snv_id", "kind", "maf", "distance_to_tss", "ism"]
VARIANTS_PER_CHUNK = 1024
"""At most this many indel/MNP sequences (rounded to whole passes) are built at once (memory)."""


def observed_variants(window: PersonalWindow | HaplotypeWindow) -> np.ndarray:
    """int64 indices of the variants :func:`ism_scores` scores, in table order.

    For a :class:`~performer.data.haplotypes.HaplotypeWindow`: indices into ``window.records`` of the
    records starting inside ``[start, end)`` with an ALT other than ``*`` carried by at least one person.
    Otherwise: columns of ``window.snvs`` with ALT dosage > 0 in at least one person.
    """
    if isinstance(window, HaplotypeWindow):
        variants = window.variants()
        return variants[(window.dosage()[:, variants] > 0).any(axis=0)]
    snvs = window.snvs
    if len(snvs) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero((snvs.dosage > 0).any(axis=0)).astype(np.int64)


def observed_dosage(window: PersonalWindow | HaplotypeWindow, rows: np.ndarray | None = None) -> np.ndarray:
    """int8 ``(n_people, n_observed)``: ALT dosages 0/1/2 of the selected people (default all), one column
    per :func:`ism_scores` row, in the same order (``window.dosage()`` of a HaplotypeWindow, else
    ``window.snvs.dosage``, at :func:`observed_variants`)."""
    columns = observed_variants(window)
    dosage = window.dosage() if isinstance(window, HaplotypeWindow) else window.snvs.dosage
    dosage = dosage if rows is None else dosage[np.asarray(rows, dtype=np.int64)]
    return dosage[:, columns]


def ism_scores(
    model: Model,
    window: PersonalWindow | HaplotypeWindow,
    tss: int,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    track: int | None = None,
    progress: str | None = None,
) -> pd.DataFrame:
    """ISM score of every variant of ``window`` observed in its people.

    ``ism = prediction(reference window with the ALT allele) - prediction(reference window)``: the
    reference window is the one-hot of ``window.codes`` (``N`` = all-zero rows). For an SNV the mutated
    window carries a full ALT one-hot at the SNV's position (a homozygous-ALT change in the
    dosage-averaged encoding). For an indel or MNP of a HaplotypeWindow it is the reference window with
    that one record applied, TSS-centred (``window.reference_with``): a deletion pulls in downstream and
    upstream flank so the TSS stays at index ``L // 2``. A variant is *observed* if at least one person
    carries its ALT (:func:`observed_variants`); the others are left out of the table.

    Each forward pass holds the reference window followed by up to ``batch_size`` mutated windows,
    and every score is taken against the reference prediction of its own pass
    (:func:`performer.predict.predict_ism` for SNVs, :func:`performer.predict.predict_variants` for
    indels and MNPs, in separate passes). The model runs in eval mode (restored afterwards).

    Precision: fp32 by default, whatever precision the model was trained with. ``precision="bf16"``
    rounds both outputs to 8 significant bits, and their difference is then mostly rounding: on the
    tiny test model its error reaches about the size of the effects themselves (measured in
    ``tests/test_predict.py``).

    Args:
        model: a Performer model (any trunk), a trunk with pretrained tracks such as a pretrained Enformer
            (with ``track``) or a callable ``(B, L, 4)`` -> ``(B,)``; see :func:`performer.predict.readout`.
        window: the gene's window, a PersonalWindow (SNVs) or a HaplotypeWindow (every record); its
            dosage rows are the people whose observed variants are scored (e.g. the cohort people).
        tss: 0-based TSS position on ``window.chrom`` (bp), for ``distance_to_tss``.
        batch_size: mutated windows per forward pass (>= 1).
        device: default :func:`performer.predict.choose_device`; a module is moved there.
        precision: ``"fp32"`` or ``"bf16"``.
        track: a trunk's pretrained track, read over its baseline bins (a pretrained Enformer's human track,
            e.g. 4950, over its 3 centre bins).
        progress: a progress-bar label, or None.

    Returns:
        One row per observed variant, in window (VCF) order, columns :data:`ISM_COLUMNS`: ``chrom``
        (str), ``pos`` (int64, 0-based start of REF in reference coordinates), ``ref``/``alt`` (allele
        letters, e.g. ``ACG``/``A`` for a deletion), ``snv_id`` (VCF ID, also of indels), ``kind``
        (``SNV``, ``indel`` or ``MNP``: :func:`~performer.data.haplotypes.variant_kind`), ``maf``
        (float64, ``min(af, 1 - af)`` with ``af = dosage.mean() / 2`` over the window's people),
        ``distance_to_tss`` (int64, bp), ``ism`` (float64). ``attrs["reference_prediction"]`` holds the
        reference window's prediction (float, from the first pass, of the SNVs if any; NaN when no
        variant is observed).

    Raises:
        ValueError: ``batch_size < 1``; an SNV outside ``[window.start, window.end)``; the model
            does not return one value per sequence; a bad ``precision`` or ``track``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(window, HaplotypeWindow):
        return _haplotype_ism(model, window, tss, batch_size, device, precision, track, progress)
    snvs = window.snvs
    length = len(window.codes)
    observed = observed_variants(window)
    offsets = np.asarray(snvs.pos, dtype=np.int64)[observed] - window.start
    outside = (offsets < 0) | (offsets >= length)
    if outside.any():
        bad = snvs.pos[observed[outside]][:5].tolist()
        raise ValueError(
            f"SNVs at 0-based positions {bad} lie outside window {window.chrom}:{window.start}-{window.end}"
        )
    table = _table(
        window.chrom,
        np.asarray(snvs.pos, dtype=np.int64)[observed],
        [BASES[c] for c in snvs.ref[observed]],
        [BASES[c] for c in snvs.alt[observed]],
        [snvs.ids[j] for j in observed],
        ["SNV"] * len(observed),
        snvs.dosage[:, observed],
        tss,
    )
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


def _table(chrom, pos, ref, alt, ids, kind, dosage, tss) -> pd.DataFrame:
    """The ISM table with NaN scores and ``attrs["reference_prediction"]`` NaN."""
    pos = np.asarray(pos, dtype=np.int64)
    af = dosage.mean(axis=0, dtype=np.float64) / 2.0 if len(pos) else np.zeros(0)
    table = pd.DataFrame(
        {
            "chrom": [chrom] * len(pos),
            "pos": pos,
            "ref": list(ref),
            "alt": list(alt),
            "snv_id": list(ids),
            "kind": list(kind),
            "maf": np.minimum(af, 1.0 - af).astype(np.float64),
            "distance_to_tss": pos - int(tss),
            "ism": np.full(len(pos), np.nan, dtype=np.float64),
        },
        columns=ISM_COLUMNS,
    )
    table.attrs["reference_prediction"] = float("nan")
    return table


def _haplotype_ism(model, window: HaplotypeWindow, tss, batch_size, device, precision, track, progress) -> pd.DataFrame:
    records = window.records
    observed = observed_variants(window)
    kind = [variant_kind(len(records.ref[j]), len(records.alt[j])) for j in observed]
    table = _table(
        window.chrom,
        records.pos[observed],
        [decode_bases(records.ref[j]) for j in observed],
        [decode_bases(records.alt[j]) for j in observed],
        [records.ids[j] for j in observed],
        kind,
        window.dosage()[:, observed],
        tss,
    )
    if len(observed) == 0:
        return table
    snv = np.array([k == "SNV" for k in kind], dtype=bool)
    options = dict(track=track, batch_size=batch_size, precision=precision, device=device, progress=progress)
    scores = np.full(len(observed), np.nan, dtype=np.float64)
    references = []
    if snv.any():
        rows = observed[snv]
        reference, scores[snv] = predict_ism(
            model,
            codes_to_one_hot(window.codes),
            records.pos[rows] - window.start,
            np.array([records.alt[j][0] for j in rows], dtype=np.int64),
            **options,
        )
        references.append(reference)
    if (~snv).any():
        rows = observed[~snv]
        chunk = batch_size * max(1, VARIANTS_PER_CHUNK // batch_size)
        effects = []
        for begin in range(0, len(rows), chunk):
            carried = np.zeros((len(rows[begin : begin + chunk]), len(records)), dtype=bool)
            carried[np.arange(len(carried)), rows[begin : begin + chunk]] = True
            reference, part = predict_variants(model, window.codes, window.reference_with(carried), **options)
            references.append(reference)
            effects.append(part)
        scores[~snv] = np.concatenate(effects)
    table.attrs["reference_prediction"] = references[0]
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
