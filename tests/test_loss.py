"""Tests for performer.model.loss against a brute-force double loop over pairs i < j."""

from __future__ import annotations

import pytest
import torch

from performer.model.loss import pairwise_difference_loss, performer_loss


def brute_pairwise(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    n = pred.shape[0]
    terms = [((pred[i] - pred[j]) - (target[i] - target[j])) ** 2 for i in range(n) for j in range(i + 1, n)]
    if not terms:
        return pred.new_zeros(())
    return torch.stack(terms).sum() / len(terms)


def brute_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float) -> torch.Tensor:
    mse = sum((pred[i] - target[i]) ** 2 for i in range(pred.shape[0])) / pred.shape[0]
    return alpha * mse + (1 - alpha) * brute_pairwise(pred, target)


def random_pair(n: int, seed: int, dtype=torch.float64, scale: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(n, generator=g, dtype=dtype) * scale + 0.3
    target = torch.randn(n, generator=g, dtype=dtype) * scale - 0.2
    return pred, target


@pytest.mark.parametrize("n", [1, 2, 3, 7, 32])
@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_matches_brute_force(n, alpha):
    for seed in range(3):
        pred, target = random_pair(n, seed, scale=1.0 + seed)
        got = performer_loss(pred, target, alpha)
        assert got.shape == ()
        torch.testing.assert_close(got, brute_loss(pred, target, alpha), rtol=1e-10, atol=1e-12)


def test_matches_brute_force_float32():
    pred, target = random_pair(32, 0, dtype=torch.float32)
    got = performer_loss(pred, target, 0.5)
    assert got.dtype == torch.float32
    ref = brute_loss(pred.double(), target.double(), 0.5)
    torch.testing.assert_close(got.double(), ref, rtol=1e-5, atol=1e-6)


def test_known_values():
    pred = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    target = torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64)
    # MSE = (1 + 4 + 16) / 3 = 7; pairs (1-2)^2 + (1-4)^2 + (2-4)^2 = 1 + 9 + 4 = 14 over 3 pairs
    assert performer_loss(pred, target, 1.0).item() == pytest.approx(7.0)
    assert performer_loss(pred, target, 0.0).item() == pytest.approx(14 / 3)
    assert performer_loss(pred, target, 0.5).item() == pytest.approx(0.5 * 7 + 0.5 * 14 / 3)
    # batch of two: a single pair
    p2 = torch.tensor([3.0, 1.0], dtype=torch.float64)
    y2 = torch.tensor([0.0, 1.0], dtype=torch.float64)
    assert performer_loss(p2, y2, 0.0).item() == pytest.approx(((3 - 1) - (0 - 1)) ** 2)


@pytest.mark.parametrize("n", [1, 2, 5, 32])
def test_alpha_one_is_mse(n):
    pred, target = random_pair(n, 4)
    torch.testing.assert_close(performer_loss(pred, target, 1.0), torch.nn.functional.mse_loss(pred, target))


@pytest.mark.parametrize("n", [2, 5, 32])
def test_alpha_zero_is_pairwise_only(n):
    pred, target = random_pair(n, 5)
    got = performer_loss(pred, target, 0.0)
    torch.testing.assert_close(got, brute_pairwise(pred, target))
    torch.testing.assert_close(got, pairwise_difference_loss(pred, target))


def test_batch_of_one_has_zero_pairwise_term():
    pred, target = random_pair(1, 0)
    assert pairwise_difference_loss(pred, target).item() == 0.0
    torch.testing.assert_close(performer_loss(pred, target, 0.5), 0.5 * (pred - target).square().mean())
    assert torch.isfinite(performer_loss(pred, target, 0.0))


@pytest.mark.parametrize("offset", [-3.0, 0.5, 10.0, 1000.0])
def test_constant_offset_leaves_pairwise_term_unchanged(offset):
    pred, target = random_pair(32, 6)
    base = pairwise_difference_loss(pred, target)
    torch.testing.assert_close(pairwise_difference_loss(pred + offset, target), base, rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(pairwise_difference_loss(pred, target + offset), base, rtol=1e-7, atol=1e-9)
    # ... while the MSE term sees it
    assert performer_loss(pred + offset, target, 1.0) > performer_loss(pred, target, 1.0)
    # a perfect ranking with an offset costs nothing in the pairwise term
    assert pairwise_difference_loss(target + offset, target).item() == pytest.approx(0.0, abs=1e-9)


def test_constant_offset_float32_is_stable():
    pred, target = random_pair(32, 0, dtype=torch.float32)
    shifted = pred + 1000.0  # the float32 inputs themselves; the reference uses exactly these values
    ref = brute_pairwise(shifted.double(), target.double())
    got = pairwise_difference_loss(shifted, target)
    torch.testing.assert_close(got.double(), ref, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("n", [1, 2, 3, 16])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_gradients_match_brute_force(n, alpha):
    pred, target = random_pair(n, 7)
    pred_a = pred.clone().requires_grad_(True)
    target_a = target.clone().requires_grad_(True)
    (g_pred, g_target) = torch.autograd.grad(performer_loss(pred_a, target_a, alpha), (pred_a, target_a))
    pred_b = pred.clone().requires_grad_(True)
    target_b = target.clone().requires_grad_(True)
    (r_pred, r_target) = torch.autograd.grad(brute_loss(pred_b, target_b, alpha), (pred_b, target_b))
    torch.testing.assert_close(g_pred, r_pred, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(g_target, r_target, rtol=1e-10, atol=1e-12)


def test_gradcheck():
    pred, target = random_pair(6, 8)
    pred.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: performer_loss(p, target, 0.5), (pred,))


def test_pairwise_gradient_closed_form():
    # d/dp_k mean_{i<j} (e_i - e_j)^2 = 2 * n * (e_k - mean e) / (n (n-1) / 2)
    pred, target = random_pair(10, 9)
    pred.requires_grad_(True)
    (grad,) = torch.autograd.grad(pairwise_difference_loss(pred, target), pred)
    e = (pred - target).detach()
    n = 10
    torch.testing.assert_close(grad, 2 * n * (e - e.mean()) / (n * (n - 1) / 2))


@pytest.mark.parametrize(
    "pred_shape,target_shape",
    [((4,), (5,)), ((4, 1), (4,)), ((4,), (4, 1)), ((4, 1), (4, 1)), ((), ()), ((2, 3), (2, 3))],
)
def test_shape_mismatch_raises(pred_shape, target_shape):
    with pytest.raises(ValueError, match="shape"):
        performer_loss(torch.zeros(pred_shape), torch.zeros(target_shape))
