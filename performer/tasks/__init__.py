"""The tasks of ``evaluate.py``, one module per ``task=``: each a short loop over finished runs that calls the
services below it (``performer.evaluation``: a finished run, the target cohort, tables and figures;
``performer.interpret``: ISM, drivers, attribution, functional analyses).

| ``task=`` | module | what |
| --- | --- | --- |
| ``evaluate`` | ``evaluate`` | HOP / HOGP tables, baselines, figures; with ``data=`` the ``cross_cohort`` rows |
| ``ism`` | ``interpret`` | ISM, HSVs, drivers, gradient x input, truth checks, functional analyses |
| ``predict`` | ``impute`` | imputed expression of every person x gene of a cohort |
| ``score_variants`` | ``score_variants`` | ISM of a user's VCF in the runs' windows |

Tasks import services, never the other way round.
"""
