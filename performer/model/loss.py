"""The Performer training loss: MSE plus a pairwise-difference term.

``loss = alpha * mean_i (p_i - y_i)^2 + (1 - alpha) * mean_{i<j} ((p_i - p_j) - (y_i - y_j))^2``
(Drusinsky et al., Methods; alpha = 0.5). All samples of a micro-batch are people of one gene, so the
pairwise term asks the model to rank people within a gene, which MSE alone neglects.
"""

from __future__ import annotations

import torch


def pairwise_difference_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over pairs ``i < j`` of ``((pred_i - pred_j) - (target_i - target_j))^2``.

    Computed in O(B) from the residuals ``e = pred - target``, centred for numerical stability:
    ``sum_{i<j} (e_i - e_j)^2 = B * sum_i (e_i - mean(e))^2``. Zero for a batch of one.

    Args:
        pred, target: float tensors of shape ``(B,)``.

    Returns:
        A scalar tensor.
    """
    n = pred.shape[0]
    if n < 2:
        return pred.new_zeros(())
    residual = pred - target
    pair_sum = n * (residual - residual.mean()).square().sum()
    return pair_sum / (n * (n - 1) / 2)


def performer_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    """``alpha * MSE + (1 - alpha) * pairwise-difference loss`` of one same-gene batch.

    Args:
        pred, target: float tensors of shape ``(B,)``.
        alpha: weight of the MSE term, in ``[0, 1]``.

    Returns:
        A scalar tensor.

    Raises:
        ValueError: shapes differ or are not 1-d.
    """
    if pred.ndim != 1 or pred.shape != target.shape:
        raise ValueError(
            f"pred and target must both have shape (B,), got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    mse = (pred - target).square().mean()
    return alpha * mse + (1.0 - alpha) * pairwise_difference_loss(pred, target)
