"""Cross-cohort evaluation (``python evaluate.py runs=... data=<other cohort>``, paper Fig. 1d).

Every finished run predicts every person of the other cohort who has genotypes and expression and is new to
it (no split); the elastic net of the same run (fitted on the run's own train people) is applied to the same
people by mapping its coefficients by variant ``(pos, ref, alt)`` onto the other cohort's dosages (a variant
absent there has dosage 0, counted: :mod:`performer.evaluation.elastic_net_transfer`); with
``baseline=enformer`` the pretrained Enformer too. Rows carry ``gene_set = "cross-cohort"`` and ``split =
"all"`` beside the run's own HOP/HOGP rows (:mod:`performer.tasks.evaluate` adds them). People of the run's own
train or tune split (by ID; two cohorts can share donors, e.g. two GTEx tissues) are not new to it and are
left out, counted and named; its test people are kept.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from performer.baselines import track_for
from performer.evaluation.elastic_net_transfer import TRANSFER_COUNTS, apply_elastic_net
from performer.evaluation.finished_run import (
    annotate,
    run_genes,
    run_label,
    run_split_of,
)
from performer.evaluation.tables import CROSS_COHORT
from performer.evaluation.target_cohort import (
    TargetCohort,
    load_target,
    predict_genes,
    predict_run_genes,
    shared_genes,
)
from performer.metrics import per_gene_metrics
from performer.runs import Run, read_split

log = logging.getLogger(__name__)

SEEN_SPLITS = ("train", "tune")
"""A run's splits whose people are not new to it: fitted on (train) or choosing its best epoch (tune)."""


def cross_cohort_evaluation(cfg: DictConfig, runs: list[Run], elastic_nets: dict, enformer=None):
    """Score every run (and its elastic net, and the pretrained Enformer) on every new person of ``cfg.data``.

    A person is new to a run unless they are in its train or tune split (:data:`SEEN_SPLITS`, matched by
    ID, :func:`~performer.evaluation.finished_run.run_split_of`): the people it was fitted on or whose scores
    chose its epoch are left out of its rows, counted and named in the summary and a WARNING. The run's *test*
    people are kept: they were never trained or selected on, so on the run's own cohort (or one sharing its
    donors) they are scored as in its HOP test rows. The pretrained Enformer (no training people) is scored once
    per gene set and window, on the new people of the first run that needs it.

    Args:
        cfg: the evaluation config; ``cfg.data`` is the other cohort (with an expression file).
        runs: finished runs.
        elastic_nets: run path -> ``(ElasticNetResult, DataModule)`` fitted on the run's own train people
            (from the HOP evaluation; empty without ``baseline=elastic_net``).
        enformer: the pretrained Enformer, or None.

    Returns:
        ``(metrics, predictions, summary)``: per-gene metrics and per-person predictions in the evaluation
        table's layout (``gene_set = "cross-cohort"``, ``split = "all"``, ``cohort`` = the other cohort's
        name, ``target_gene_id``), and a summary table (one row per run: ``n_people_with_expression`` (of the
        run's shared genes), ``n_people_scored``, ``n_run_train_people_excluded``,
        ``n_run_tune_people_excluded``, ``n_run_test_people_scored``, ``run_people_excluded`` (their IDs,
        ``;``-separated), genes shared and missing, elastic-net variants absent in the other cohort).

    Raises:
        ValueError: a run shares no gene with the other cohort; no person has genotypes and expression; every
            person with expression is one of the run's train or tune people (the message names the run).
        FileNotFoundError: a run has no saved split.
    """
    target = load_target(cfg.data, need_expression=True)
    metrics, predictions, summary = [], [], []
    enformer_done = set()
    for run in runs:
        genes, missing = shared_genes(run, target)
        rows, people = new_people(run, target, genes)
        tables = {"performer": _performer_table(run, cfg, target, genes, rows)}
        counts = dict.fromkeys(TRANSFER_COUNTS, 0)
        if str(run.path) in elastic_nets:
            tables["elastic_net"], counts = _elastic_net_table(run, elastic_nets[str(run.path)], target, genes, rows)
        if enformer is not None:
            key = (tuple(genes["target_gene_id"]), int(cfg.enformer_window_bp))  # once per gene set and window
            if key not in enformer_done:
                enformer_done.add(key)
                tables["enformer"] = _enformer_table(enformer, cfg, target, genes, rows)
        for model, table in tables.items():
            window_bp = int(cfg.enformer_window_bp) if model == "enformer" else run.settings.window_bp
            table = table.assign(split="all")
            scores = per_gene_metrics(table, by=["gene_id", "gene", "target_gene_id", "split"])
            metrics.append(_annotate(scores, model, run, target, window_bp))
            predictions.append(_annotate(table, model, run, target, window_bp))
        summary.append(_summary_row(run, target, genes, missing, people, counts))
    return pd.concat(metrics, ignore_index=True), pd.concat(predictions, ignore_index=True), pd.DataFrame(summary)


def new_people(run: Run, target: TargetCohort, genes: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict]:
    """The people of ``target`` to score a run on, per gene: those with expression who are new to the run.

    A person in the run's train or tune split (:data:`SEEN_SPLITS`,
    :func:`~performer.evaluation.finished_run.run_split_of`) is not new: they are left out, counted and named in
    a WARNING. The run's test people are kept (never trained or selected on).

    Args:
        run: the run.
        target: the other cohort (with expression).
        genes: the run's genes matched to the target's (``gene``, ``target_gene_id``).

    Returns:
        ``(rows, people)``: target gene ID -> int64 indices into ``target.people``, and the summary columns
        ``n_people_with_expression`` (of these genes), ``n_people_scored``, ``n_run_train_people_excluded``,
        ``n_run_tune_people_excluded``, ``n_run_test_people_scored``, ``run_people_excluded`` (``;``-separated IDs).

    Raises:
        ValueError: no person has expression of these genes; every one who has is a train or tune person
            of the run (the message names the run, its split folder and the fix).
    """
    run_split = run_split_of(run, target.people)
    seen = np.isin(run_split, SEEN_SPLITS)
    rows, expressed = {}, set()
    for g in genes["target_gene_id"]:
        known = np.flatnonzero(~np.isnan(target.y(g)))
        expressed.update(known.tolist())
        rows[g] = known[~seen[known]]
    if not expressed:
        raise ValueError(f"no person of {target.paths['vcf']} has expression in {target.paths['expression']}")
    expressed = sorted(expressed)
    excluded = {s: [target.people[p] for p in expressed if run_split[p] == s] for s in SEEN_SPLITS}
    named = excluded["train"] + excluded["tune"]
    scored = sorted(set().union(*[set(r.tolist()) for r in rows.values()]))
    if not scored:
        raise ValueError(
            f"run {run.path}: every one of the {len(expressed)} people with expression in {target.paths['expression']}"
            f" is one of its train ({len(excluded['train'])}) or tune ({len(excluded['tune'])}) people "
            f"({run.files.splits}), so none is new to it. The other cohort is the run's own or shares its people: "
            "evaluate the run without data= (its HOP test rows), or give a cohort of other people"
        )
    if named:
        log.warning(
            "run %s: %d of the %d people with expression in %s are its train (%d) or tune (%d) people, left out of "
            "its cross-cohort rows (named in cross_cohort_summary.csv): %s",
            run.path,
            len(named),
            len(expressed),
            target.name,
            len(excluded["train"]),
            len(excluded["tune"]),
            ", ".join(named[:10]) + (", ..." if len(named) > 10 else ""),
        )
    unscored = [name for name, g in zip(genes["gene"], genes["target_gene_id"]) if len(rows[g]) == 0]
    if unscored:
        log.warning("run %s: no new person has expression of %s in %s: not scored", run.path, unscored, target.name)
    people = {
        "n_people_with_expression": len(expressed),
        "n_people_scored": len(scored),
        "n_run_train_people_excluded": len(excluded["train"]),
        "n_run_tune_people_excluded": len(excluded["tune"]),
        "n_run_test_people_scored": int(sum(run_split[p] == "test" for p in scored)),
        "run_people_excluded": ";".join(named),
    }
    return rows, people


def _performer_table(run: Run, cfg: DictConfig, target: TargetCohort, genes: pd.DataFrame, rows: dict) -> pd.DataFrame:
    """The run's predictions of its new people (``gene_id, gene, target_gene_id, person, y, pred``)."""
    total = sum(len(r) for r in rows.values())
    with tqdm(total=total, desc=f"cross-cohort {run_label(run, cfg.runs)}", unit="person-gene", leave=False) as bar:
        return predict_run_genes(run, target, genes, rows, cfg.precision, cfg.batch_size, bar)


def _elastic_net_table(
    run: Run, fit: tuple, target: TargetCohort, genes: pd.DataFrame, rows: dict
) -> tuple[pd.DataFrame, dict]:
    """The run's elastic net (``fit``: its result and DataModule) on its new people, and the transfer counts summed
    over genes (:data:`~performer.evaluation.elastic_net_transfer.TRANSFER_COUNTS`)."""
    result, dm = fit
    settings = run.settings
    windows = target.windows(list(genes["target_gene_id"]), settings.window_bp, settings.indels, settings.encoding)
    counts = dict.fromkeys(TRANSFER_COUNTS, 0)
    parts = []
    for (gene_id, name, target_id), window in zip(
        genes[["gene_id", "gene", "target_gene_id"]].itertuples(index=False), windows
    ):
        pred, gene_counts = apply_elastic_net(result, dm, gene_id, window, settings.indels)
        for k in counts:
            counts[k] += gene_counts[k]
        r = rows[target_id]
        parts.append(
            pd.DataFrame(
                {
                    "gene_id": gene_id,
                    "gene": name,
                    "target_gene_id": target_id,
                    "person": [target.people[p] for p in r],
                    "y": target.y(target_id)[r],
                    "pred": pred[r],
                }
            )
        )
    log.info(
        "run %s: elastic-net variants absent in %s (dosage 0): %d of %d (%d of %d non-zero coefficients)",
        run.path,
        target.name,
        counts["n_absent"],
        counts["n_predictors"],
        counts["n_nonzero_absent"],
        counts["n_nonzero"],
    )
    return pd.concat(parts, ignore_index=True), counts


def _enformer_table(enformer, cfg: DictConfig, target: TargetCohort, genes: pd.DataFrame, rows: dict) -> pd.DataFrame:
    """The pretrained Enformer's predictions of the new people (the other cohort's tissue track, fp32)."""
    track = track_for(cfg.data.get("tissue"), cfg.track)
    window_bp = int(cfg.enformer_window_bp)
    return predict_genes(enformer, target, genes, rows, window_bp, False, "dosage", "fp32", cfg.batch_size, track=track)


def _annotate(table: pd.DataFrame, model: str, run: Run, target: TargetCohort, window_bp: int) -> pd.DataFrame:
    """The identity columns of cross-cohort rows: the run's, with the other cohort's name and h2."""
    values = {
        "gene_set": CROSS_COHORT,
        "n_train": len(read_split(run.path).train),
        "window_bp": int(window_bp),
        "h2": table["target_gene_id"].map(target.heritability).astype(float),
        "cohort": target.name,
    }
    return annotate(table, model, run, values=values)


def _summary_row(
    run: Run, target: TargetCohort, genes: pd.DataFrame, missing: list[str], people: dict, counts: dict
) -> dict:
    """The run's row of ``cross_cohort_summary.csv``."""
    return {
        "run_dir": str(run.path),
        "cohort": target.name,
        "n_vcf_samples": len(target.samples),
        **people,
        "n_expression_only_people": int(len(set(target.expression.columns) - set(target.people))),
        "n_run_genes": len(run_genes(run)),
        "n_genes_shared": len(genes),
        "genes_missing": ";".join(missing),
        **{f"elastic_net_{k}": v for k, v in counts.items()},
    }
