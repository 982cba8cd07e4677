"""``task=predict``: imputed expression of every person of a cohort x every gene of the runs; no expression file
needed. The run's own people are imputed too, marked by ``run_split``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from performer.evaluation.finished_run import (
    FOLD_GROUP,
    IMPUTATION_COLUMNS,
    annotate,
    run_label,
    run_split_of,
)
from performer.evaluation.tables import write_table
from performer.evaluation.target_cohort import TargetCohort, predict_run_genes, shared_genes, target_of
from performer.runs import Run, find_runs

log = logging.getLogger(__name__)

OWN_SPLITS = ("train", "tune", "test")
"""The run's splits whose people are counted among the imputed (``n_run_<split>_people``)."""


def impute_task(cfg: DictConfig, out_dir: str | Path) -> pd.DataFrame:
    """``task=predict``: :func:`impute` every finished run under ``cfg.runs`` into ``<out_dir>/imputed``."""
    return impute(cfg, find_runs(cfg.runs), Path(out_dir) / "imputed")


@dataclass
class Plan:
    """One run's imputation: the cohort, the run's genes it holds (and the symbols it does not), the people."""

    run: Run
    target: TargetCohort
    genes: pd.DataFrame
    missing: list[str]
    n_people: int


def impute(cfg: DictConfig, runs: list[Run], out_dir: str | Path) -> pd.DataFrame:
    """Predicted expression of every person of the target cohort x every gene of every run; write the tables.

    The target cohort is ``cfg.data`` when given, else each run's own cohort (every person of its VCF,
    trained on or not). Every person of the VCF is predicted, with or without expression (``y`` is NaN
    without it); ``cfg.max_people`` keeps the first n. Unlike the cross-cohort evaluation, the run's own train
    and tune people are kept (imputing them is legitimate, but their predictions are not held-out ones):
    ``run_split`` marks them (:func:`~performer.evaluation.finished_run.run_split_of`) and their numbers are
    logged and written to ``imputed_runs.csv``. Writes into ``out_dir`` (Parquet with pyarrow, else CSV.gz):

    * ``imputed_long``: one row per run, gene and person: ``model, experiment, run, run_dir, fold,
      train_fraction, window_bp, encoding, gene_id, gene, target_gene_id, person, y, pred``, ``run_split``
      (``train``, ``tune``, ``test`` or ``new``: the run's split holding the person), ``cohort`` and
      ``pred_mean_folds`` / ``n_folds`` (the mean over the gene's fold models,
      :data:`~performer.evaluation.finished_run.FOLD_GROUP`);
    * ``imputed_by_run``: one row per gene and person, one column per run (its folder under ``runs``) and one
      ``mean:<experiment>[:<train fraction>]`` column per group of fold models;
    * ``imputed_matrix[_<group>]``: person x gene (symbol) matrix of the fold means, one per group;
    * ``imputed_runs.csv``: the runs (label, folder, checkpoint, fold, window, encoding, genes, and
      ``n_run_train_people``, ``n_run_tune_people``, ``n_run_test_people``: people imputed per run split).

    Returns:
        The long table.

    Raises:
        ValueError: a run shares no gene with the target cohort.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plans = _plans(cfg, runs)
    tables, described = [], []
    total = sum(len(plan.genes) * plan.n_people for plan in plans)
    with tqdm(total=total, desc="predict (people x genes)", unit="person-gene") as bar:
        for plan in plans:
            table = _impute_run(plan, cfg, bar)
            tables.append(table)
            described.append(_run_row(plan, table, cfg))
    long = pd.concat(tables, ignore_index=True)
    grouped = long.groupby([*FOLD_GROUP, "gene_id", "person"], sort=False)["pred"]
    long["pred_mean_folds"] = grouped.transform("mean")
    long["n_folds"] = grouped.transform("size")
    write_table(long, out_dir / "imputed_long.csv.gz", parquet="instead")
    _write_wide_tables(long, out_dir)
    pd.DataFrame(described).to_csv(out_dir / "imputed_runs.csv", index=False)
    log.info("imputed %d predictions (%d runs) into %s", len(long), len(runs), out_dir)
    print(
        f"imputed expression of {long['person'].nunique()} people x {long['gene_id'].nunique()} genes "
        f"from {len(runs)} runs: {out_dir}"
    )
    return long


def _plans(cfg: DictConfig, runs: list[Run]) -> list[Plan]:
    """Every run's cohort, genes and people, read before any prediction (so the progress bar knows the total)."""
    targets: dict[str, TargetCohort] = {}
    plans = []
    for run in runs:
        target = target_of(run, cfg, targets)
        genes, missing = shared_genes(run, target)
        n = len(target.people) if cfg.get("max_people") is None else min(int(cfg.max_people), len(target.people))
        plans.append(Plan(run, target, genes, missing, n))
    return plans


def _impute_run(plan: Plan, cfg: DictConfig, bar: tqdm) -> pd.DataFrame:
    """One run's rows of ``imputed_long`` (without the fold means)."""
    run = plan.run
    rows = {g: np.arange(plan.n_people) for g in plan.genes["target_gene_id"]}
    table = predict_run_genes(run, plan.target, plan.genes, rows, cfg.precision, cfg.batch_size, bar)
    table["run_split"] = run_split_of(run, list(table["person"]))
    values = {"run": run_label(run, cfg.runs), "cohort": plan.target.name}
    return annotate(table, "performer", run, layout=IMPUTATION_COLUMNS, values=values)


def _run_row(plan: Plan, table: pd.DataFrame, cfg: DictConfig) -> dict:
    """The run's row of ``imputed_runs.csv``; logs how many of its own people were imputed."""
    run, settings = plan.run, plan.run.settings
    people = table.drop_duplicates("person")["run_split"]
    counts = {s: int((people == s).sum()) for s in OWN_SPLITS}
    if counts["train"] or counts["tune"]:
        log.info(
            "run %s: %d of the %d people imputed from %s are its own train (%d), tune (%d) or test (%d) "
            "people (run_split in imputed_long)",
            run.path,
            sum(counts.values()),
            plan.n_people,
            plan.target.name,
            counts["train"],
            counts["tune"],
            counts["test"],
        )
    return {
        "run": run_label(run, cfg.runs),
        "run_dir": str(run.path),
        "checkpoint": str(run.checkpoint),
        "experiment": run.experiment,
        "fold": settings.fold,
        "train_fraction": settings.train_fraction,
        "window_bp": settings.window_bp,
        "encoding": table["encoding"].iloc[0],
        "cohort": plan.target.name,
        "gene_source": plan.target.gene_source,
        "n_people": plan.n_people,
        **{f"n_run_{s}_people": count for s, count in counts.items()},
        "genes": ";".join(plan.genes["gene"].astype(str)),
        "genes_missing": ";".join(plan.missing),
    }


def _write_wide_tables(long: pd.DataFrame, out_dir: Path) -> None:
    """Write ``imputed_by_run`` (a column per run and per group of fold models) and ``imputed_matrix[_<group>]``."""
    group_label = long["experiment"] + np.where(
        long.groupby("experiment")["train_fraction"].transform("nunique") > 1,
        ":" + long["train_fraction"].astype(str),
        "",
    )
    wide = long.pivot_table(index=["gene_id", "gene", "person"], columns="run", values="pred", sort=False)
    means = long.assign(group="mean:" + group_label).pivot_table(
        index=["gene_id", "gene", "person"], columns="group", values="pred", aggfunc="mean", sort=False
    )
    y = long.groupby(["gene_id", "gene", "person"], sort=False)["y"].first()
    by_run = pd.concat([y, wide, means], axis=1).reset_index()
    by_run.columns.name = None
    write_table(by_run, out_dir / "imputed_by_run.csv.gz", parquet="instead")

    labels = sorted(set(group_label))
    for label in labels:
        part = long[group_label == label].drop_duplicates(["gene_id", "person"])
        names = part.groupby("gene_id")["gene"].first()
        column = names if not names.duplicated().any() else pd.Series(names.index, index=names.index)
        matrix = part.assign(column=part["gene_id"].map(column)).pivot(
            index="person", columns="column", values="pred_mean_folds"
        )
        matrix = matrix.reindex(list(dict.fromkeys(part["person"])))
        matrix.columns.name = None
        matrix.index.name = "person"
        stem = "imputed_matrix" if len(labels) == 1 else "imputed_matrix_" + label.replace(":", "_")
        write_table(matrix, out_dir / f"{stem}.csv.gz", index=True, parquet="instead")
