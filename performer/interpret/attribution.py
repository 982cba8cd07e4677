"""Gradient x input attribution and the paper's standardized attribution along a gene's window.

``gradient x input`` is ``x * d prediction(x) / dx`` (autograd). For a one-hot input only the channel of
the base present is non-zero, so the per-position maximum of ``|gxi|`` over channels is the absolute
gradient at that base; for a dosage-averaged personal input a heterozygous SNV contributes half of
each allele's gradient. The standardized attribution z-scores that per-position value across the
window (Drusinsky et al., "Interpretation", attribution maps around the TSS).

Coordinates are 0-based; position ``i`` of a window is ``window.start + i``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from performer.data.haplotypes import HaplotypeWindow
from performer.data.personal import PersonalWindow
from performer.data.reference import codes_to_one_hot
from performer.predict import Model, input_gradients

DEFAULT_BATCH_SIZE = 2
"""Sequences per forward/backward pass: the official Enformer needs about 4 GB of fp32 activations per
49,152 bp sequence."""


def gradient_x_input(
    model: Model,
    x: np.ndarray | torch.Tensor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: str | torch.device | None = None,
    track: int | None = None,
) -> np.ndarray:
    """Gradient x input of each sequence: ``x * d prediction(x)_b / d x_b``.

    The gradient comes from :func:`performer.predict.input_gradients`: fp32, eval mode, gradients with
    respect to the input only (parameters' ``.grad`` untouched), even inside a caller's
    ``torch.no_grad()``.

    Args:
        model: a Performer model (any trunk), a trunk with pretrained tracks such as a pretrained Enformer
            (with ``track``) or a callable ``(B, L, 4)`` -> ``(B,)``; see :func:`performer.predict.readout`.
        x: float ``(B, L, 4)`` (numpy or torch), one-hot or dosage-averaged one-hot.
        batch_size: sequences per forward/backward pass.
        device: default :func:`performer.predict.choose_device`; a module is moved there.
        track: a trunk's pretrained track (a pretrained Enformer's human track).

    Returns:
        float32 numpy ``(B, L, 4)``.

    Raises:
        ValueError: ``x`` is not 3-d with 4 channels, ``batch_size < 1``, or the model does not
            return one value per sequence.
        RuntimeError: the model's output carries no gradient (it detaches it).
    """
    x = torch.as_tensor(x)
    grad = input_gradients(model, x, track=track, batch_size=batch_size, device=device)
    return (x.detach().cpu().float().numpy() * grad).astype(np.float32)


def standardized_attribution(gxi: np.ndarray) -> np.ndarray:
    """Standardized attribution per position: z-scored max ``|gradient x input|`` over channels.

    For a batch ``(B, L, 4)`` the gradient x input is first averaged over the ``B`` sequences
    (people), then ``v_i = max_c |mean gxi[i, c]|``; the result is ``(v - mean(v)) / std(v)`` across
    the ``L`` positions (population std, ``ddof=0``), so it has mean 0 and std 1.

    Args:
        gxi: float ``(L, 4)`` or ``(B, L, 4)``.

    Returns:
        float64 ``(L,)``; all NaN when ``v`` is constant (std 0) or ``L == 0``.

    Raises:
        ValueError: ``gxi`` is not ``(L, 4)`` or ``(B, L, 4)``.
    """
    gxi = np.asarray(gxi, dtype=np.float64)
    if gxi.ndim == 3:
        gxi = gxi.mean(axis=0)
    if gxi.ndim != 2 or gxi.shape[-1] != 4:
        raise ValueError(f"gxi must be (L, 4) or (B, L, 4); got {gxi.shape}")
    v = np.abs(gxi).max(axis=1)
    std = v.std() if len(v) else 0.0
    if std == 0 or not np.isfinite(std):
        return np.full(len(v), np.nan)
    return (v - v.mean()) / std


@dataclass
class WindowAttribution:
    """Gradient x input of a gene's window, for the reference and averaged over people.

    Attributes:
        positions: int64 ``(L,)``, 0-based genomic positions ``window.start + arange(L)``.
        reference: float32 ``(L, 4)``, gradient x input of the reference window.
        personal: float32 ``(L, 4)``, mean over the people of their personal windows' gradient x input.
        n_people: number of people averaged.
        n_inserted: bases of the personal sequences inserted by indels (no reference position; left out).
    """

    positions: np.ndarray
    reference: np.ndarray
    personal: np.ndarray
    n_people: int
    n_inserted: int = 0


def reference_and_personal_attribution(
    model: Model,
    window: PersonalWindow | HaplotypeWindow,
    rows: np.ndarray | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: str | torch.device | None = None,
    track: int | None = None,
    encoding: str = "dosage",
) -> WindowAttribution:
    """Gradient x input of the reference window and the mean over people's personal windows.

    Personal windows are the model inputs of the people, built ``batch_size`` people at a time and
    summed, so memory stays at one batch. For a :class:`~performer.data.personal.PersonalWindow` they are
    the dosage-averaged one-hots ``window.one_hot(rows)``, in reference coordinates already. For a
    :class:`~performer.data.haplotypes.HaplotypeWindow` (indels) each person's two sequences
    (``encoding`` ``"dosage"``: one input, the mean of their one-hots, whose gradient x input is split
    between the two sequences by their halves of the input; ``"haplotypes"``: each haplotype's own
    gradient x input, halved) are mapped back to reference coordinates base by base
    (``window.origins``): an inserted base has no reference position and is left out (counted in
    ``n_inserted``), a deleted base receives nothing from the sequences that lack it. The personal
    attribution is reported in reference coordinates either way. ``standardized_attribution`` of
    ``personal`` is the standardized attribution averaged over those people.

    Args:
        model: as in :func:`gradient_x_input`.
        window: the gene's window.
        rows: indices into ``window.snvs.dosage`` rows (default: all people).
        batch_size: personal windows per forward/backward pass.
        device, track: as in :func:`gradient_x_input`.
        encoding: the personal encoding the model was trained with (``data.encoding``); haplotype windows only.

    Returns:
        :class:`WindowAttribution`.

    Raises:
        ValueError: no people selected, or as :func:`gradient_x_input`.
    """
    rows = np.arange(window.snvs.dosage.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
    if len(rows) == 0:
        raise ValueError("rows selects no people: pass at least one row of window.snvs.dosage")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    length = len(window.codes)
    reference_x = codes_to_one_hot(window.codes).astype(np.float32)[None]
    reference = gradient_x_input(model, reference_x, batch_size=1, device=device, track=track)[0]
    total = np.zeros((length, 4), dtype=np.float64)
    inserted = 0
    for begin in range(0, len(rows), batch_size):
        chunk = rows[begin : begin + batch_size]
        if not isinstance(window, HaplotypeWindow):
            total += gradient_x_input(model, window.one_hot(chunk), batch_size, device, track).sum(
                axis=0, dtype=np.float64
            )
            continue
        codes, origin = window.sequences(chunk, encoding), window.origins(chunk, encoding)
        one_hot = codes_to_one_hot(codes).astype(np.float32)  # (n, 2, L, 4)
        if encoding == "haplotypes":
            flat = one_hot.reshape(-1, length, 4)
            gxi = gradient_x_input(model, flat, batch_size, device, track).reshape(one_hot.shape) / 2
        else:
            grad = input_gradients(model, one_hot.mean(axis=1), track=track, batch_size=batch_size, device=device)
            gxi = grad[:, None] * one_hot / 2
        kept = (origin >= window.start) & (origin < window.end)
        inserted += int((origin == -1).sum())
        np.add.at(total, origin[kept] - window.start, gxi[kept])
    return WindowAttribution(
        positions=window.start + np.arange(length, dtype=np.int64),
        reference=reference,
        personal=(total / len(rows)).astype(np.float32),
        n_people=len(rows),
        n_inserted=inserted,
    )
