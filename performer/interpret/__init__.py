"""Variant interpretation: ISM, high-scoring variants, driver variants, gradient x input, truth checks.

All functions are model-agnostic: they take a model (:data:`performer.predict.Model`: a Performer
model or a pretrained Enformer with its track) and reach it only through :mod:`performer.predict`.
"""

from performer.interpret.attribution import (
    WindowAttribution,
    gradient_x_input,
    reference_and_personal_attribution,
    standardized_attribution,
)
from performer.interpret.drivers import DriverResult, SurrogateResult, driver_surrogate, select_drivers
from performer.interpret.ism import ISM_COLUMNS, high_scoring_variants, ism_scores
from performer.interpret.truth import label_truth, recovery_metrics, sign_agreement

__all__ = [
    "ISM_COLUMNS",
    "DriverResult",
    "SurrogateResult",
    "WindowAttribution",
    "driver_surrogate",
    "gradient_x_input",
    "high_scoring_variants",
    "ism_scores",
    "label_truth",
    "recovery_metrics",
    "reference_and_personal_attribution",
    "select_drivers",
    "sign_agreement",
    "standardized_attribution",
]
