"""Model inputs from a batch: float one-hots, or uint8 base codes expanded to one-hots on the device.

Batches of :class:`~performer.data.dataset.GenePeopleDataset` carry one of three inputs:

* ``x`` float ``(B, L, 4)``: the dosage-averaged one-hot of SNVs, one forward pass per person;
* ``codes`` uint8 ``(B, 2, L)``: each person's two sequences with indels (their two haplotypes, or the
  paper's consensus pair), whose one-hots are averaged into one input, one forward pass per person;
* ``haplotypes`` uint8 ``(B, 2, L)``: each person's two haplotypes, each through the model on its own
  (``2B`` sequences per pass); the person's prediction is the mean of the two.

Base codes are 0-3 (``A,C,G,T``) and 4 (``N``, an all-zero row). Carrying codes keeps a batch 16 times
smaller than float one-hots and moves the expansion to the accelerator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

INPUT_KEYS = ("x", "codes", "haplotypes")


def codes_one_hot(codes: torch.Tensor) -> torch.Tensor:
    """uint8 codes ``(..., L)`` -> float32 one-hot ``(..., L, 4)`` on the same device; code 4 (``N``) is zeros."""
    return F.one_hot(codes.long(), num_classes=5)[..., :4].float()


def batch_inputs(batch: dict) -> tuple[torch.Tensor, int]:
    """The model's input of a batch and the number of sequences per person.

    Returns:
        ``(x, passes)``: float32 ``(B * passes, L, 4)``, person ``b``'s sequences at rows
        ``b * passes .. b * passes + passes - 1``; ``passes`` is 1 for ``x`` and ``codes``, 2 for
        ``haplotypes``.

    Raises:
        KeyError: the batch has none of ``x``, ``codes``, ``haplotypes``.
    """
    if "x" in batch:
        return batch["x"].float(), 1
    if "codes" in batch:
        return codes_one_hot(batch["codes"]).mean(dim=1), 1
    if "haplotypes" in batch:
        return codes_one_hot(batch["haplotypes"]).flatten(0, 1), 2
    raise KeyError(f"a batch needs one of {INPUT_KEYS} as the model input; it has {sorted(batch)}")


def person_predictions(pred: torch.Tensor, passes: int) -> torch.Tensor:
    """``(B * passes,)`` predictions -> ``(B,)``: the mean over each person's ``passes`` sequences."""
    return pred.reshape(-1, passes).mean(dim=1) if passes > 1 else pred
