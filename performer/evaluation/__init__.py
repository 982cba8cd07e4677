"""HOP / HOGP evaluation of finished runs and baselines, tidy tables and figures; applying runs to other cohorts
(cross-cohort evaluation, imputation) and to new variants (``apply.py``)."""
