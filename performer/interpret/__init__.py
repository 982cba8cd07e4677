"""Variant interpretation: ISM, high-scoring variants, driver variants, gradient x input, truth checks.

All functions are model-agnostic: they take a ``predict`` callable mapping a float32 one-hot tensor
``(B, L, 4)`` (channels ``A,C,G,T``) to a ``(B,)`` tensor, e.g.
:class:`~performer.model.head.PerformerModel` in eval mode.
"""

from performer.interpret.attribution import (
    WindowAttribution,
    gradient_x_input,
    reference_and_personal_attribution,
    standardized_attribution,
)
from performer.interpret.drivers import DriverResult, select_drivers, surrogate_metrics
from performer.interpret.ism import ISM_COLUMNS, high_scoring_variants, ism_scores
from performer.interpret.truth import label_truth, recovery_metrics, sign_agreement

__all__ = [
    "ISM_COLUMNS",
    "DriverResult",
    "WindowAttribution",
    "gradient_x_input",
    "high_scoring_variants",
    "ism_scores",
    "label_truth",
    "recovery_metrics",
    "reference_and_personal_attribution",
    "select_drivers",
    "sign_agreement",
    "standardized_attribution",
    "surrogate_metrics",
]
