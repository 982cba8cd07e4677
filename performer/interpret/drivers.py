"""Driver variants: forward selection of the SNVs that explain a model's predictions across people.

Method of Sasse et al. (2023) as adapted by Drusinsky et al. ("Interpretation", driver variants).
The model's prediction for a person is approximated linearly by the sum of per-SNV contributions
``c_j = ism_j * dosage_j`` (``ism`` is the full ALT effect, i.e. of dosage 2 in the dosage-averaged
encoding, so the contribution of dosage ``d`` is strictly ``ism_j * d / 2``; the factor 1/2 changes no
correlation). SNVs are visited by ``|ism|`` descending and kept as drivers when they add enough to
the correlation of the approximation with the model's predictions and are themselves significantly
positively correlated with the predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score


@dataclass
class DriverResult:
    """Outcome of :func:`select_drivers`.

    Attributes:
        drivers: int64 ``(n_drivers,)``, SNV indices (columns of ``dosage``) in selection order.
        trace: float64 ``(n_drivers,)``, Pearson r of the driver-sum approximation with the
            predictions after each driver was added (``trace[-1]`` is the final set's r).
        r_all: Pearson r of the all-SNV approximation with the predictions (``R_all``).
        candidates: one row per SNV in visiting order (``|ism|`` descending): ``index`` (column of
            ``dosage``), ``ism``, ``gain`` (r(D + j) - r(D) against the driver set D at that step),
            ``r`` and ``p_value`` (one-sided Pearson test of ``c_j`` vs predictions, H1: r > 0;
            r = 0 and p = 1 for a constant column), ``selected`` (bool).
    """

    drivers: np.ndarray
    trace: np.ndarray
    r_all: float
    candidates: pd.DataFrame


def _r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r, 0 for fewer than 2 values or a constant input."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(pearsonr(a, b).statistic)


def _check_inputs(ism: np.ndarray, dosage: np.ndarray, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    ism = np.asarray(ism, dtype=np.float64).reshape(-1)
    dosage = np.asarray(dosage, dtype=np.float64)
    if dosage.ndim != 2 or dosage.shape[1] != len(ism):
        raise ValueError(f"dosage must be (n_people, n_snvs) = (n, {len(ism)}); got {dosage.shape}")
    if dosage.shape[0] != n:
        raise ValueError(f"dosage has {dosage.shape[0]} rows but {name} has {n} values")
    if not (np.isfinite(ism).all() and np.isfinite(dosage).all()):
        raise ValueError("ism and dosage must be finite (no NaN or inf)")
    return ism, dosage


def select_drivers(
    ism: np.ndarray,
    dosage: np.ndarray,
    predictions: np.ndarray,
    threshold: float = 0.05,
    alpha: float = 0.01,
) -> DriverResult:
    """Forward selection of driver variants (Sasse et al. 2023; Drusinsky et al., "Interpretation").

    With ``c_j = ism_j * dosage[:, j]`` and ``r(.)`` the Pearson correlation with ``predictions``
    (0 for an empty or constant sum), ``R_all = r(sum_j c_j)`` over all SNVs. SNVs are visited by
    ``|ism|`` descending (ties in input order) and SNV ``j`` joins the driver set ``D`` when all of

    a. ``r(sum_{D + j} c) - r(sum_D c) > threshold * R_all``;
    b. ``r(c_j) > 0``;
    c. the one-sided p-value of ``r(c_j)`` (``scipy.stats.pearsonr(..., alternative="greater")``)
       is below ``alpha / S`` (Bonferroni over the ``S`` SNVs given).

    The rule is applied literally when ``R_all <= 0`` (then (a) accepts any non-negative-threshold
    gain and (b)/(c) decide). Degenerate inputs do not raise: no SNVs, fewer than 3 people or
    constant predictions give no drivers; constant columns (unobserved SNV, ``ism_j = 0``) are never
    drivers.

    Args:
        ism: float ``(S,)`` ISM scores (as from :func:`~performer.interpret.ism.ism_scores`).
        dosage: ``(n, S)`` ALT dosages 0/1/2 of the same SNVs in the same order, one row per person.
        predictions: float ``(n,)``, the model's predictions for those people.
        threshold: minimum correlation gain, as a fraction of ``R_all``.
        alpha: family-wise significance level, divided by ``S``.

    Returns:
        :class:`DriverResult`.

    Raises:
        ValueError: mismatched shapes or non-finite values.
    """
    predictions = np.asarray(predictions, dtype=np.float64).reshape(-1)
    ism, dosage = _check_inputs(ism, dosage, len(predictions), "predictions")
    if not np.isfinite(predictions).all():
        raise ValueError("predictions must be finite (no NaN or inf)")
    n_snvs = len(ism)
    contributions = dosage * ism[None, :]
    r_all = _r(contributions.sum(axis=1), predictions)

    order = np.argsort(-np.abs(ism), kind="stable")
    running = np.zeros(len(predictions))
    r_current = 0.0
    drivers, trace, rows = [], [], []
    for j in order:
        c = contributions[:, j]
        r_with = _r(running + c, predictions)
        gain = r_with - r_current
        r_single = _r(c, predictions)
        if r_single > 0 and len(predictions) >= 3:
            p_value = float(pearsonr(c, predictions, alternative="greater").pvalue)
        else:
            p_value = 1.0
        selected = gain > threshold * r_all and r_single > 0 and p_value < alpha / n_snvs
        if selected:
            running = running + c
            r_current = r_with
            drivers.append(int(j))
            trace.append(r_with)
        rows.append(
            {"index": int(j), "ism": ism[j], "gain": gain, "r": r_single, "p_value": p_value, "selected": selected}
        )
    candidates = pd.DataFrame(rows, columns=["index", "ism", "gain", "r", "p_value", "selected"])
    return DriverResult(
        drivers=np.array(drivers, dtype=np.int64),
        trace=np.array(trace, dtype=np.float64),
        r_all=r_all,
        candidates=candidates,
    )


def surrogate_metrics(
    ism: np.ndarray, dosage: np.ndarray, drivers: np.ndarray, y_observed: np.ndarray
) -> dict[str, float]:
    """Accuracy of the driver-only linear surrogate against observed expression.

    The surrogate prediction of person ``i`` is ``s_i = sum_{j in drivers} ism_j * dosage[i, j]``.
    ``pcc`` is ``scipy.stats.pearsonr(s, y_observed)``; ``r2`` is ``sklearn.metrics.r2_score`` of
    ``y_observed`` against an ordinary least-squares fit ``y ~ a + b * s``
    (``sklearn.linear_model.LinearRegression``, fitted and scored on the same people, so
    ``r2 == pcc ** 2`` when ``pcc`` is defined). The fit only rescales the surrogate, whose units
    are the model's, not the expression's.

    Degenerate cases: no drivers or a constant surrogate give ``pcc = NaN`` and ``r2 = 0`` (the fit
    is the mean); a constant ``y_observed`` or fewer than 2 people give NaN for both.

    Args:
        ism: float ``(S,)``; dosage: ``(n, S)``; drivers: int indices into the ``S`` SNVs;
        y_observed: float ``(n,)``, observed expression of the same people (e.g. held-out people).

    Returns:
        ``{"pcc", "r2", "n_drivers", "n_people"}``.

    Raises:
        ValueError: mismatched shapes, non-finite values, or a driver index out of range.
    """
    y = np.asarray(y_observed, dtype=np.float64).reshape(-1)
    ism, dosage = _check_inputs(ism, dosage, len(y), "y_observed")
    if not np.isfinite(y).all():
        raise ValueError("y_observed must be finite (no NaN or inf)")
    drivers = np.asarray(drivers, dtype=np.int64).reshape(-1)
    if len(drivers) and (drivers.min() < 0 or drivers.max() >= len(ism)):
        raise ValueError(f"driver indices must lie in [0, {len(ism)}); got {drivers.tolist()}")
    surrogate = dosage[:, drivers] @ ism[drivers]
    n = len(y)
    out = {"pcc": np.nan, "r2": np.nan, "n_drivers": len(drivers), "n_people": n}
    if n < 2 or np.ptp(y) == 0:
        return out
    if np.ptp(surrogate) > 0:
        out["pcc"] = float(pearsonr(surrogate, y).statistic)
    fitted = LinearRegression().fit(surrogate[:, None], y).predict(surrogate[:, None])
    out["r2"] = float(r2_score(y, fitted))
    return out
