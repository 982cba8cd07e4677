"""``task=evaluate``: HOP / HOGP evaluation of finished runs and of the baselines, as one tidy table.

``evaluation.csv`` has one row per (model, gene, fold, split, train fraction) with columns ``model``
(``performer``, ``elastic_net``, ``enformer``), ``experiment``, ``run_dir``, ``gene_id``, ``gene``,
``fold``, ``split``, ``gene_set`` (``HOP``: a gene the model was trained on, evaluated on held-out
people; ``HOGP``: a held-out gene, on the same held-out people; the elastic net is fitted on every gene
it scores, so its rows are all ``HOP``; the pretrained Enformer's rows carry the run's labels, to pair
with Performer's), ``train_fraction``, ``n_train``, ``window_bp`` (the input window of that model),
``n_people``, ``pcc``, ``r2``, ``mse``, ``pcc_undefined`` (True where the PCC is NaN because the
predictions or targets of the gene are constant: such genes are left out of PCC means), ``n_nonzero``
(elastic net), ``h2`` (the simulated cis-heritability when the cohort has a ``heritability.tsv``, else
NaN), and the per-gene means over folds ``mean_pcc_folds``
and ``mean_r2_folds``. ``predictions.csv`` holds the per-person predictions behind it. Runs are
evaluated on the people they saved in ``<run>/splits``; runs are found and read by :mod:`performer.runs`.
``skipped_runs.csv`` (``run_dir, status, reason``; a header only when there is none) lists the run folders
under ``runs`` that are not evaluated: ``unfinished`` (a ``config.yaml`` but no ``summary.json``: killed,
failed or still training) and ``unreadable`` (a ``summary.json`` without its config or checkpoint); each is
also named in a WARNING. With ``data=`` (another cohort), the cross-cohort rows
(:mod:`performer.tasks.cross_cohort`) join the table.
Every prediction goes through :mod:`performer.predict`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf

from performer.baselines import elastic_net_baseline, enformer_baseline, load_reference_enformer, track_for
from performer.evaluation.finished_run import annotate, performer_predictions, run_datamodule
from performer.evaluation.options import requested_baselines
from performer.evaluation.plots import CROSS_COHORT_FIGURE, plot_cross_cohort, write_figures
from performer.evaluation.tables import (
    CROSS_COHORT,
    SKIPPED_RUNS_FILE,
    add_fold_means,
    metrics_from_predictions,
    summary_table,
    write_skipped_runs,
    write_table,
)
from performer.runs import Run, find_runs_and_skipped, gene_list
from performer.tasks.cross_cohort import cross_cohort_evaluation

log = logging.getLogger(__name__)

CROSS_COHORT_SUMMARY = "cross_cohort_summary.csv"
"""One row per run of the cross-cohort evaluation (:func:`~performer.tasks.cross_cohort.cross_cohort_evaluation`)."""


class Rows:
    """The evaluation's tables as they grow: per-gene metrics, per-person predictions, elastic-net coefficients."""

    def __init__(self):
        self.metrics, self.predictions, self.coefficients = [], [], []

    def add(self, model: str, run: Run, datamodule, metrics, predictions, coefficients=None) -> None:
        """Add one model's tables of one run, annotated with the run's identity (computed on ``datamodule``)."""
        self.metrics.append(annotate(metrics, model, run, datamodule))
        self.predictions.append(annotate(predictions, model, run, datamodule))
        if coefficients is not None:
            self.coefficients.append(annotate(coefficients, model, run, datamodule))


def evaluate(cfg: DictConfig, out_dir: str | Path) -> pd.DataFrame:
    """Evaluate every finished run under ``cfg.runs`` and the requested baselines; write the outputs.

    Writes into ``out_dir``: ``skipped_runs.csv`` (the run folders not evaluated, written first),
    ``evaluation.csv`` (+ ``.parquet``), ``predictions.csv``, ``elastic_net_coefficients.csv`` (with
    ``baseline=elastic_net``) and the figures. With ``cfg.data`` (a cohort named on the command line), every
    run, its elastic net and the pretrained Enformer are also scored on every person of that cohort who is
    new to the run (:func:`performer.tasks.cross_cohort.cross_cohort_evaluation`): rows with
    ``gene_set = "cross-cohort"``, ``cross_cohort_summary.csv`` and ``cross_cohort_vs_hop.png``.

    Returns:
        The evaluation table (see the module docstring).

    Raises:
        FileNotFoundError: ``cfg.runs`` holds no finished run (the message names its unfinished runs).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    baselines = requested_baselines(cfg)
    eval_genes = gene_list(None, cfg.eval_genes)
    enformer = load_reference_enformer(cfg.model.pretrained) if "enformer" in baselines else None
    runs, skipped = find_runs_and_skipped(cfg.runs)  # names the unfinished runs in WARNINGs
    write_skipped_runs(skipped, out_dir / SKIPPED_RUNS_FILE)

    rows, done = Rows(), set()
    fits = {}  # run path -> (elastic net, DataModule), for the cross-cohort evaluation
    for run in runs:
        log.info("evaluating %s", run.path)
        datamodule = run_datamodule(run, eval_genes)
        performer = performer_predictions(run, datamodule, cfg.precision, cfg.batch_size)
        rows.add("performer", run, datamodule, metrics_from_predictions(performer), performer)
        key = _baseline_key(run)
        if key in done:  # another fold model's baselines were fitted on the same data, genes, people and window
            if key in fits:
                fits[str(run.path)] = fits[key]
            continue
        done.add(key)
        if "elastic_net" in baselines:
            result = elastic_net_baseline(datamodule, seed=cfg.seed)
            fits[key] = fits[str(run.path)] = (result, datamodule)
            rows.add("elastic_net", run, datamodule, result.metrics, result.predictions, result.coefficients)
        if enformer is not None:
            track = track_for(run.cfg.data.tissue, cfg.track)
            windows = run_datamodule(run, eval_genes, window_bp=cfg.enformer_window_bp)
            result = enformer_baseline(enformer, windows, track, split="test", batch_size=cfg.batch_size)
            rows.add("enformer", run, windows, result.metrics, result.predictions)

    if cfg.get("data") is not None:
        cross, cross_predictions, cross_summary = cross_cohort_evaluation(cfg, runs, fits, enformer)
        cross_summary.to_csv(out_dir / CROSS_COHORT_SUMMARY, index=False)
        rows.metrics.append(cross)
        rows.predictions.append(cross_predictions)
    table = _write_outputs(rows, out_dir, cfg.figures)
    print(summary_table(table).to_string())
    if skipped:
        print(f"{len(skipped)} run folders under {cfg.runs} were not evaluated: see {out_dir / SKIPPED_RUNS_FILE}")
    return table


def _baseline_key(run: Run) -> str:
    """Runs that share data, genes, fold, people and window share their baseline fits."""
    cfg = run.cfg
    fields = [
        cfg.data,
        cfg.gene,
        cfg.genes,
        cfg.eval_genes,
        cfg.fold,
        cfg.n_folds,
        cfg.split_seed,
        cfg.splits_dir,
        cfg.get("train_fraction", 1.0),  # as written (not RunSettings): a key of identical configs
        cfg.model.window_bp,
    ]
    return json.dumps([OmegaConf.to_container(f) if isinstance(f, DictConfig | ListConfig) else f for f in fields])


def _write_outputs(rows: Rows, out_dir: Path, figures: bool) -> pd.DataFrame:
    """Write ``evaluation.csv`` (with fold means; returned), ``predictions.csv``, the coefficients and the figures:
    those of the run's own cohort, and the cross-cohort one when the table has cross-cohort rows."""
    table = add_fold_means(pd.concat(rows.metrics, ignore_index=True))
    write_table(table, out_dir / "evaluation.csv")
    predictions = pd.concat(rows.predictions, ignore_index=True)
    predictions.to_csv(out_dir / "predictions.csv", index=False)
    if rows.coefficients:
        pd.concat(rows.coefficients, ignore_index=True).to_csv(out_dir / "elastic_net_coefficients.csv", index=False)
    if figures:
        within = table["gene_set"] != CROSS_COHORT
        write_figures(table[within], predictions[predictions["gene_set"] != CROSS_COHORT], out_dir)
        if not within.all():
            plot_cross_cohort(table, out_dir / CROSS_COHORT_FIGURE)
    return table
