"""Services of the evaluation tasks (``performer.tasks``): a finished run as the tasks use it (``finished_run``),
the cohort runs are applied to (``target_cohort``), the elastic net's transfer to it (``elastic_net_transfer``),
a user's variants (``user_variants``), the evaluation's tables (``tables``) and figures (``plots``), and the
options several tasks read (``options``). Nothing here imports a task."""
