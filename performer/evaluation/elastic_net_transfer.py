"""A run's elastic net applied to another cohort: its coefficients travel by variant, not by column.

A fitted elastic net (:mod:`performer.baselines.elastic_net`) reads the dosage columns of its own cohort's
window. The target cohort's window of the same gene holds other columns (other variants, another order), so
each coefficient is matched by its variant ``(pos, ref, alt)`` to the target's columns; a variant the target
does not hold meets dosage 0 for everyone, and such variants are counted. Used by the cross-cohort evaluation
(:mod:`performer.tasks.cross_cohort`), beside the target cohort (:mod:`performer.evaluation.target_cohort`).
"""

from __future__ import annotations

import numpy as np

from performer.baselines.elastic_net import snv_coefficients, train_rows, window_predictors

TRANSFER_COUNTS = ("n_predictors", "n_absent", "n_nonzero", "n_nonzero_absent", "n_target_only")
"""The counts of :func:`apply_elastic_net`, summed over genes in ``cross_cohort_summary.csv``."""


def apply_elastic_net(result, dm, gene_id: str, target_window, indels: bool) -> tuple[np.ndarray, dict]:
    """Predict every row of ``target_window`` with the run's elastic net of ``gene_id``.

    The model's predictors (its own window's variants, :func:`~performer.baselines.elastic_net.window_predictors`)
    are matched by ``(pos, ref, alt)`` to the target window's variants; a predictor the target does not hold
    has dosage 0 for everyone.

    Args:
        result: the run's :class:`~performer.baselines.elastic_net.ElasticNetResult` (fitted on its train people).
        dm: the run's set-up DataModule (its windows and train rows).
        gene_id: the run's gene ID.
        target_window: the target cohort's window of that gene (rows = the target's VCF samples).
        indels: the run's ``data.indels``.

    Returns:
        ``(pred, counts)``: float64 ``(n_target_people,)`` and :data:`TRANSFER_COUNTS`: ``n_predictors``,
        ``n_absent`` (predictors not in the target window), ``n_nonzero``, ``n_nonzero_absent``, ``n_target_only``
        (target variants the model has no coefficient for).
    """
    g = dm.gene_ids.index(gene_id)
    own = window_predictors(dm.windows[g], indels)
    other = window_predictors(target_window, indels)
    n_people = other.dosage.shape[0]
    column = {(int(p), r, a): j for j, (p, r, a) in enumerate(zip(other.pos, other.ref, other.alt))}
    where = np.array([column.get((int(p), r, a), -1) for p, r, a in zip(own.pos, own.ref, own.alt)], dtype=np.int64)
    x = np.zeros((n_people, len(own)), dtype=np.float64)
    present = where >= 0
    if present.any():
        x[:, present] = np.asarray(other.dosage)[:, where[present]]
    model = result.models.get(gene_id)
    if model is None:
        _, y_train = train_rows(dm)[g]
        pred = np.full(n_people, float(np.mean(y_train)))
        coef = np.zeros(len(own))
    else:
        pred = np.asarray(model.predict(x), dtype=np.float64)
        coef = snv_coefficients(model, len(own))
    nonzero = coef != 0
    counts = {
        "n_predictors": len(own),
        "n_absent": int((~present).sum()),
        "n_nonzero": int(nonzero.sum()),
        "n_nonzero_absent": int((nonzero & ~present).sum()),
        "n_target_only": int(len(other) - len(set(where[present].tolist()))),
    }
    return pred, counts
