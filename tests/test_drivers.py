"""Driver variants: forward selection (with its skip rules) and the drivers' fit-free linear surrogate."""

import itertools

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

from performer.data.personal import PersonalWindow
from performer.data.variants import SNVs
from performer.interpret.drivers import (
    SKIP_CONSTANT_PREDICTIONS,
    SKIP_FEW_PEOPLE,
    SKIP_NO_SNVS,
    SKIP_R_ALL,
    driver_surrogate,
    select_drivers,
)
from performer.interpret.ism import ism_scores


def factorial(n_factors: int, repeats: int) -> np.ndarray:
    """Full 3^k factorial of dosages 0/1/2, repeated: the columns are exactly uncorrelated."""
    design = np.array(list(itertools.product(range(3), repeat=n_factors)), dtype=np.int8)
    return np.tile(design, (repeats, 1))


# --- the surrogate -------------------------------------------------------------------------------------


def test_surrogate_values_by_hand_and_no_fit():
    ism = np.array([2.0, -4.0, 10.0])
    dosage = np.array([[0, 0, 2], [1, 0, 1], [2, 1, 0], [0, 2, 2]])
    # s = 1 + (2 d0 - 4 d1) / 2 = 1 + d0 - 2 d1; SNV 2 is not a driver
    result = driver_surrogate(ism, dosage, np.array([0, 1]), np.array([2.0, 3.0, 2.0, -2.0]), 1.0)
    expected = np.array([1.0, 2.0, 1.0, -3.0])
    np.testing.assert_array_equal(result.values, expected)
    # y = s + 1: perfectly correlated but offset. mean(s) = 0.25, SS_tot = 14.75, SS_res = 4
    assert result.pcc == pytest.approx(1.0)
    assert result.r2 == pytest.approx(1 - 4 / 14.75)
    assert result.r2 == pytest.approx(r2_score([2.0, 3.0, 2.0, -2.0], expected))
    assert result.r2 < result.pcc**2 - 0.2  # nothing was fitted: the offset costs R^2
    assert result.n_drivers == 2 and result.n_people == 4
    assert result.metrics() == {"pcc": result.pcc, "r2": result.r2, "n_drivers": 2, "n_people": 4}


def test_surrogate_agrees_with_sklearn_and_scipy_on_a_linear_example():
    rng = np.random.default_rng(0)
    dosage = rng.integers(0, 3, (50, 6))
    ism = np.array([0.8, -0.3, 0.05, 1.2, 0.0, -0.6])
    drivers = np.array([3, 0, 5])
    known = 4.0 + dosage[:, [3, 0, 5]] @ np.array([0.6, 0.4, -0.3])
    y = known + rng.normal(0, 0.5, 50)
    result = driver_surrogate(ism, dosage, drivers, y, 4.0)
    np.testing.assert_allclose(result.values, known, rtol=0, atol=1e-12)
    assert result.r2 == pytest.approx(r2_score(y, known), abs=1e-12)
    assert result.pcc == pytest.approx(pearsonr(known, y).statistic, abs=1e-12)


def test_surrogate_of_all_snvs_reproduces_an_additive_model():
    """For a model linear in the one-hot, reference + sum ism * d / 2 is exactly the personal prediction:
    this ties the factor 1/2 and the reference baseline to the dosage-averaged encoding and to ism_scores."""
    length, offsets, n = 64, np.array([5, 20, 33, 60]), 9
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 4, length).astype(np.uint8)
    ref = codes[offsets]
    alt = ((ref + rng.integers(1, 4, 4)) % 4).astype(np.uint8)
    dosage = rng.integers(0, 3, (n, 4)).astype(np.int8)
    dosage[0] = 2  # every SNV observed
    snvs = SNVs("chr1", 1000 + offsets, ref, alt, [f"s{i}" for i in range(4)], dosage, [f"P{i}" for i in range(n)])
    window = PersonalWindow("chr1", 1000, 1000 + length, codes, snvs)
    weight = torch.randint(-32, 33, (length, 4), generator=torch.Generator().manual_seed(0)).float() / 4

    def predict(x: torch.Tensor) -> torch.Tensor:
        return (x * weight).sum(dim=(1, 2))

    table = ism_scores(predict, window, tss=1032)
    personal = predict(torch.from_numpy(window.one_hot())).double().numpy()
    y = personal + rng.normal(0, 1, n)
    result = driver_surrogate(table["ism"], dosage, np.arange(4), y, table.attrs["reference_prediction"])
    np.testing.assert_array_equal(result.values, personal)  # quarter-step weights: float sums are exact
    assert result.r2 == pytest.approx(r2_score(y, personal), abs=1e-12)


def test_surrogate_degenerate_cases():
    ism, dosage = np.array([1.0, 2.0]), np.array([[0, 1], [1, 2], [2, 0], [1, 1]])
    y = np.array([0.0, 1.0, 2.0, 3.0])
    empty = driver_surrogate(ism, dosage, np.array([], dtype=np.int64), y, 1.0)
    np.testing.assert_array_equal(empty.values, np.ones(4))
    assert np.isnan(empty.pcc)
    assert empty.r2 == pytest.approx(1 - 6 / 5)  # SS_res = 1 + 0 + 1 + 4, SS_tot = 5
    assert driver_surrogate(ism, dosage, [], y, 1.0).n_drivers == 0  # an empty list is fine
    constant_y = driver_surrogate(ism, dosage, np.array([0]), np.full(4, 2.0), 1.0)
    assert np.isnan(constant_y.pcc) and np.isnan(constant_y.r2)
    one = driver_surrogate(ism, dosage[:1], np.array([0]), y[:1], 1.0)
    assert np.isnan(one.pcc) and np.isnan(one.r2) and one.values.tolist() == [1.0]


def test_surrogate_input_errors():
    ism, dosage, y = np.array([1.0, 2.0]), np.array([[0, 1], [1, 2], [2, 0]]), np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="rows"):
        driver_surrogate(ism, dosage[:2], [0], y, 0.0)
    with pytest.raises(ValueError, match="n_snvs"):
        driver_surrogate(ism[:1], dosage, [0], y, 0.0)
    with pytest.raises(ValueError, match="reference_prediction"):
        driver_surrogate(ism, dosage, [0], y, float("nan"))
    with pytest.raises(ValueError, match="y_observed"):
        driver_surrogate(ism, dosage, [0], np.array([0.0, np.inf, 1.0]), 0.0)
    with pytest.raises(ValueError, match="finite"):
        driver_surrogate(np.array([1.0, np.nan]), dosage, [0], y, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        driver_surrogate(ism, dosage * 2, [0], y, 0.0)
    with pytest.raises(ValueError, match="integer"):
        driver_surrogate(ism, dosage, np.array([0.0, 1.0]), y, 0.0)
    with pytest.raises(ValueError, match="distinct"):
        driver_surrogate(ism, dosage, [1, 1], y, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        driver_surrogate(ism, dosage, [2], y, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        driver_surrogate(ism, dosage, [-1], y, 0.0)


def test_selection_finds_the_two_strong_snvs_among_noise():
    d = factorial(3, 8).astype(np.float64)  # 216 people; d0, d1, d2 exactly uncorrelated
    predictions = d[:, 0] - 0.7 * d[:, 1]
    unobserved = np.zeros(216)
    copy = d[:, 0]
    # columns: 0 uncorrelated big ISM, 1 strong, 2 unobserved big ISM, 3 strong, 4 weak copy of SNV 1
    dosage = np.column_stack([d[:, 2], d[:, 0], unobserved, d[:, 1], copy])
    ism = np.array([5.0, 1.0, 9.0, -0.7, 0.01])
    result = select_drivers(ism, dosage, predictions)
    assert result.skipped is None
    assert result.drivers.tolist() == [1, 3]
    np.testing.assert_allclose(result.trace, [1 / np.sqrt(1.49), 1.0], rtol=1e-12)
    # R_all: cov = (1 + 0.49) var, var(sum c) = (1 + 0.49 + 25) var / 4 (+ the weak copy)
    full = dosage @ ism / 2
    assert result.r_all == pytest.approx(pearsonr(full, predictions).statistic, abs=1e-12)
    cand = result.candidates.set_index("index")
    assert cand.index.tolist() == [2, 0, 1, 3, 4]  # |ism| descending
    assert cand.loc[2, "r"] == 0 and cand.loc[2, "p_value"] == 1 and not cand.loc[2, "selected"]
    assert abs(cand.loc[0, "r"]) < 1e-12 and not cand.loc[0, "selected"]
    assert cand.loc[3, "gain"] == pytest.approx(1 - 1 / np.sqrt(1.49), abs=1e-12)
    assert cand.loc[4, "gain"] < 0 and cand.loc[4, "p_value"] < 1e-30 and not cand.loc[4, "selected"]
    expected_p = pearsonr(dosage[:, 3] * -0.35, predictions, alternative="greater").pvalue
    assert cand.loc[3, "p_value"] == pytest.approx(expected_p, rel=1e-9)
    # the gain rule: a threshold above SNV 3's gain / R_all drops it
    high = (1 - 1 / np.sqrt(1.49)) / result.r_all + 0.01
    assert select_drivers(ism, dosage, predictions, threshold=high).drivers.tolist() == [1]


def test_negative_r_all_skips_the_gene():
    d = factorial(2, 20).astype(np.float64)  # 180 people, d0 and d1 exactly uncorrelated, var 2/3
    predictions = d[:, 0] - 2 * d[:, 1]
    ism = np.array([1.0, 2.0])  # the sign of SNV 1 disagrees with the model across people
    result = select_drivers(ism, d, predictions)
    # r_all = cov / sd: (1 - 4)(2/3)/2 / sqrt(5 (2/3) / 4 * 5 (2/3)) = -1 / (5/3)
    assert result.r_all == pytest.approx(-0.6, abs=1e-12)
    assert result.skipped == SKIP_R_ALL == "r_all <= 0"
    assert len(result.drivers) == 0 and len(result.trace) == 0
    # without the skip, the literal rule would have taken SNV 0: positive, significant, gain > 0.05 * r_all
    snv0 = result.candidates.set_index("index").loc[0]
    assert snv0["r"] == pytest.approx(1 / np.sqrt(5), abs=1e-12)
    assert snv0["p_value"] < 0.01 / 2 and snv0["gain"] > 0.05 * result.r_all
    assert not result.candidates["selected"].any()
    # the same people with the model's sign: R_all = 1, both SNVs are drivers
    agree = select_drivers(np.array([1.0, -2.0]), d, predictions)
    assert agree.skipped is None and agree.r_all == pytest.approx(1.0)
    assert agree.drivers.tolist() == [1, 0]
    np.testing.assert_allclose(agree.trace, [2 / np.sqrt(5), 1.0], rtol=1e-12)


def test_degenerate_genes_are_skipped_with_a_reason():
    d = factorial(2, 3).astype(np.float64)
    predictions = d[:, 0] + d[:, 1]
    ism = np.array([1.0, 1.0])
    none = select_drivers(np.zeros(0), np.zeros((len(d), 0)), predictions)
    assert none.skipped == SKIP_NO_SNVS and none.r_all == 0 and none.candidates.empty
    few = select_drivers(ism, d[:2], predictions[:2])
    assert few.skipped == SKIP_FEW_PEOPLE and len(few.drivers) == 0
    flat = select_drivers(ism, d, np.full(len(d), 3.0))
    assert flat.skipped == SKIP_CONSTANT_PREDICTIONS and flat.r_all == 0 and len(flat.drivers) == 0


def test_selection_input_errors():
    d = factorial(2, 2).astype(np.float64)
    predictions, ism = d[:, 0], np.array([1.0, 1.0])
    with pytest.raises(ValueError, match="rows"):
        select_drivers(ism, d[:5], predictions)
    with pytest.raises(ValueError, match="n_snvs"):
        select_drivers(ism[:1], d, predictions)
    with pytest.raises(ValueError, match="predictions"):
        select_drivers(ism, d, np.where(predictions == 1, np.nan, predictions))
    with pytest.raises(ValueError, match="finite"):
        select_drivers(np.array([1.0, np.inf]), d, predictions)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        select_drivers(ism, d - 1, predictions)
    with pytest.raises(ValueError, match="threshold"):
        select_drivers(ism, d, predictions, threshold=-0.1)
    for alpha in (0.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="alpha"):
            select_drivers(ism, d, predictions, alpha=alpha)
