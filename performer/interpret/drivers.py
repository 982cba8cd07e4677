"""Driver variants: forward selection of the SNVs that explain a model's predictions across people.

Method of Sasse et al. (2023) as adapted by Drusinsky et al. ("Interpretation", driver variants).
The model's prediction for person ``i`` is approximated linearly around the reference window by

    f(x_i) ~ f(reference) + sum_j ism_j * dosage_ij / 2,

with ``ism_j`` the full ALT effect in the reference window (a homozygous-ALT change, i.e. dosage 2 in the
dosage-averaged encoding, so dosage ``d`` contributes ``ism_j * d / 2``). SNVs are visited by
``|ism|`` descending and kept as drivers when they add enough to the correlation of the approximation
with the model's predictions and are themselves significantly positively correlated with the
predictions (:func:`select_drivers`). The drivers' linear surrogate is then scored, without any fit,
against observed expression (:func:`driver_surrogate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

SKIP_NO_SNVS = "no SNVs"
SKIP_FEW_PEOPLE = "fewer than 3 people"
SKIP_CONSTANT_PREDICTIONS = "constant predictions"
SKIP_R_ALL = "r_all <= 0"
SKIP_REASONS = (SKIP_NO_SNVS, SKIP_FEW_PEOPLE, SKIP_CONSTANT_PREDICTIONS, SKIP_R_ALL)
"""Every value :attr:`DriverResult.skipped` can take besides ``None``."""

CANDIDATE_COLUMNS = ["index", "ism", "gain", "r", "p_value", "selected"]


@dataclass
class DriverResult:
    """Outcome of :func:`select_drivers`.

    Attributes:
        drivers: int64 ``(n_drivers,)``, SNV indices (columns of ``dosage``) in selection order.
        trace: float64 ``(n_drivers,)``, Pearson r of the driver-sum approximation with the
            predictions after each driver was added (``trace[-1]`` is the final set's r).
        r_all: Pearson r of the all-SNV approximation with the predictions (``R_all``; 0 when undefined).
        candidates: one row per SNV in visiting order (``|ism|`` descending): ``index`` (column of
            ``dosage``), ``ism``, ``gain`` (r(D + j) - r(D) against the driver set D at that step;
            with D empty throughout for a skipped gene), ``r`` and ``p_value`` (one-sided Pearson
            test of ``c_j`` vs predictions, H1: r > 0; r = 0 and p = 1 for a constant column),
            ``selected`` (bool).
        skipped: ``None`` when selection ran; else why the gene has no drivers by rule, one of
            :data:`SKIP_REASONS` (``"no SNVs"``, ``"fewer than 3 people"``, ``"constant predictions"``,
            ``"r_all <= 0"``). Callers count these reasons; ``drivers`` is then empty.
    """

    drivers: np.ndarray
    trace: np.ndarray
    r_all: float
    candidates: pd.DataFrame
    skipped: str | None = None


@dataclass
class SurrogateResult:
    """Outcome of :func:`driver_surrogate`.

    Attributes:
        values: float64 ``(n,)``, the surrogate prediction of each person, in the model's output units.
        pcc: ``scipy.stats.pearsonr(values, y_observed)`` (NaN when undefined).
        r2: ``sklearn.metrics.r2_score(y_observed, values)`` (NaN when undefined; may be negative).
        n_drivers: number of drivers in the surrogate.
        n_people: number of people scored.
    """

    values: np.ndarray
    pcc: float
    r2: float
    n_drivers: int
    n_people: int

    def metrics(self) -> dict[str, float]:
        """``{"pcc", "r2", "n_drivers", "n_people"}``, e.g. for a table row."""
        return {"pcc": self.pcc, "r2": self.r2, "n_drivers": self.n_drivers, "n_people": self.n_people}


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
    if dosage.size and (dosage.min() < 0 or dosage.max() > 2):
        raise ValueError(f"dosage must be ALT dosages in [0, 2]; got values in [{dosage.min()}, {dosage.max()}]")
    return ism, dosage


def _check_vector(values, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return out


def select_drivers(
    ism: np.ndarray,
    dosage: np.ndarray,
    predictions: np.ndarray,
    threshold: float = 0.05,
    alpha: float = 0.01,
) -> DriverResult:
    """Forward selection of driver variants (Sasse et al. 2023; Drusinsky et al., "Interpretation").

    With ``c_j = ism_j * dosage[:, j] / 2`` and ``r(.)`` the Pearson correlation with ``predictions``
    (0 for an empty or constant sum), ``R_all = r(sum_j c_j)`` over all SNVs. SNVs are visited by
    ``|ism|`` descending (ties in input order) and SNV ``j`` joins the driver set ``D`` when all of

    a. ``r(sum_{D + j} c) - r(sum_D c) > threshold * R_all``;
    b. ``r(c_j) > 0``;
    c. the one-sided p-value of ``r(c_j)`` (``scipy.stats.pearsonr(..., alternative="greater")``)
       is below ``alpha / S`` (Bonferroni over the ``S`` SNVs given).

    Genes with ``R_all <= 0`` are skipped (``skipped="r_all <= 0"``, no drivers): the all-SNV linear
    approximation then does not track the model across these people, and rule (a) would accept SNVs
    that lower the correlation (any gain above a non-positive bound). Degenerate inputs are skipped
    likewise, with their own reason, instead of raising: no SNVs, fewer than 3 people (no one-sided
    test), constant predictions. Constant columns (unobserved SNV, ``ism_j = 0``) are never drivers.
    Every skipped gene still gets its ``candidates`` table (``selected`` all False).

    Args:
        ism: float ``(S,)`` ISM scores (as from :func:`~performer.interpret.ism.ism_scores`).
        dosage: ``(n, S)`` ALT dosages in [0, 2] of the same SNVs in the same order, one row per person.
        predictions: float ``(n,)``, the model's predictions for those people.
        threshold: minimum correlation gain, as a fraction of ``R_all`` (>= 0).
        alpha: family-wise significance level in (0, 1], divided by ``S``.

    Returns:
        :class:`DriverResult`; check ``skipped`` before reading an empty ``drivers`` as "none found".

    Raises:
        ValueError: mismatched shapes; non-finite values; dosages outside [0, 2]; ``threshold < 0``;
            ``alpha`` outside (0, 1].
    """
    if not threshold >= 0:
        raise ValueError(f"threshold must be >= 0 (a fraction of r_all); got {threshold}")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must lie in (0, 1]; got {alpha}")
    predictions = _check_vector(predictions, "predictions")
    ism, dosage = _check_inputs(ism, dosage, len(predictions), "predictions")
    n_people, n_snvs = dosage.shape
    contributions = dosage * (ism[None, :] / 2.0)
    r_all = _r(contributions.sum(axis=1), predictions)
    skipped = _skip_reason(n_snvs, n_people, predictions, r_all)
    drivers, trace, candidates = _forward_selection(
        ism, contributions, predictions, threshold * r_all, alpha / max(n_snvs, 1), skipped is None
    )
    return DriverResult(
        drivers=np.array(drivers, dtype=np.int64),
        trace=np.array(trace, dtype=np.float64),
        r_all=r_all,
        candidates=candidates,
        skipped=skipped,
    )


def _skip_reason(n_snvs: int, n_people: int, predictions: np.ndarray, r_all: float) -> str | None:
    """Why a gene gets no drivers by rule (one of :data:`SKIP_REASONS`), else None."""
    if n_snvs == 0:
        return SKIP_NO_SNVS
    if n_people < 3:
        return SKIP_FEW_PEOPLE
    if np.ptp(predictions) == 0:
        return SKIP_CONSTANT_PREDICTIONS
    if r_all <= 0:
        return SKIP_R_ALL
    return None


def _forward_selection(
    ism: np.ndarray,
    contributions: np.ndarray,
    predictions: np.ndarray,
    min_gain: float,
    max_p: float,
    select: bool,
) -> tuple[list[int], list[float], pd.DataFrame]:
    """The visit of :func:`select_drivers`: SNVs by ``|ism|`` descending, each kept when its gain exceeds
    ``min_gain``, ``r(c_j) > 0`` and its one-sided p-value is below ``max_p`` (never when not ``select``).

    Args:
        contributions: float64 ``(n, S)``, ``c_j = ism_j * dosage[:, j] / 2``.

    Returns:
        The driver indices and the r after each was added (selection order), and the ``candidates`` table.
    """
    n_people = len(predictions)
    order = np.argsort(-np.abs(ism), kind="stable")
    running = np.zeros(n_people)
    r_current = 0.0
    drivers, trace, rows = [], [], []
    for j in order:
        c = contributions[:, j]
        r_with = _r(running + c, predictions)
        gain = r_with - r_current
        r_single = _r(c, predictions)
        if r_single > 0 and n_people >= 3:
            p_value = float(pearsonr(c, predictions, alternative="greater").pvalue)
        else:
            p_value = 1.0
        selected = select and gain > min_gain and r_single > 0 and p_value < max_p
        if selected:
            running = running + c
            r_current = r_with
            drivers.append(int(j))
            trace.append(r_with)
        rows.append(
            {"index": int(j), "ism": ism[j], "gain": gain, "r": r_single, "p_value": p_value, "selected": selected}
        )
    return drivers, trace, pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def driver_surrogate(
    ism: np.ndarray,
    dosage: np.ndarray,
    drivers: np.ndarray,
    y_observed: np.ndarray,
    reference_prediction: float,
) -> SurrogateResult:
    """The drivers' linear surrogate of the model and its accuracy against observed expression.

    The surrogate is the model's own first-order (additive) approximation restricted to the drivers
    (Sasse et al. 2023; Drusinsky et al., "Interpretation", driver variants):

        s_i = reference_prediction + sum_{j in drivers} ism_j * dosage[i, j] / 2,

    where ``ism_j`` is the full ALT effect (dosage 2 in the dosage-averaged encoding) and
    ``reference_prediction`` the model's prediction on the reference window (the baseline the ISM
    scores are taken against, ``ism_scores(...).attrs["reference_prediction"]``). Nothing is fitted:
    ``r2 = sklearn.metrics.r2_score(y_observed, s)`` and ``pcc = scipy.stats.pearsonr(s, y_observed)``,
    so ``r2`` is an out-of-sample score in expression units (the model's output units) and can be
    negative. With no drivers the surrogate is the constant reference prediction.

    Degenerate cases: a constant surrogate (e.g. no drivers) gives ``pcc = NaN`` and the finite
    ``r2`` of that constant; a constant ``y_observed`` or fewer than 2 people give NaN for both.

    Args:
        ism: float ``(S,)`` ISM scores (model output units).
        dosage: ``(n, S)`` ALT dosages in [0, 2], one row per person, columns as ``ism``.
        drivers: integer ``(k,)`` distinct indices into the ``S`` SNVs (e.g. ``DriverResult.drivers``).
        y_observed: float ``(n,)``, observed expression of the same people (e.g. held-out people).
        reference_prediction: the model's prediction on the reference window (finite float).

    Returns:
        :class:`SurrogateResult` with the per-person values and the metrics.

    Raises:
        ValueError: mismatched shapes; non-finite values (including ``reference_prediction``, which
            is NaN in an ISM table without SNVs); dosages outside [0, 2]; non-integer, repeated or
            out-of-range driver indices.
    """
    y = _check_vector(y_observed, "y_observed")
    ism, dosage = _check_inputs(ism, dosage, len(y), "y_observed")
    reference = float(reference_prediction)
    if not np.isfinite(reference):
        raise ValueError(f"reference_prediction must be finite; got {reference_prediction}")
    drivers = np.asarray(drivers).reshape(-1)
    if len(drivers) and not np.issubdtype(drivers.dtype, np.integer):
        raise ValueError(f"drivers must be integer SNV indices; got dtype {drivers.dtype}")
    drivers = drivers.astype(np.int64)
    if len(drivers) and (drivers.min() < 0 or drivers.max() >= len(ism)):
        raise ValueError(f"driver indices must lie in [0, {len(ism)}); got {drivers.tolist()}")
    if len(np.unique(drivers)) != len(drivers):
        raise ValueError(f"driver indices must be distinct; got {drivers.tolist()}")
    values = reference + dosage[:, drivers] @ (ism[drivers] / 2.0)
    n = len(y)
    pcc = r2 = np.nan
    if n >= 2 and np.ptp(y) > 0:
        r2 = float(r2_score(y, values))
        if np.ptp(values) > 0:
            pcc = float(pearsonr(values, y).statistic)
    return SurrogateResult(values=values, pcc=pcc, r2=r2, n_drivers=len(drivers), n_people=n)
