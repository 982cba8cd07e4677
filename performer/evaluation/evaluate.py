"""HOP / HOGP evaluation of finished runs and of the baselines, as one tidy table.

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
also named in a WARNING.
Every prediction goes through :mod:`performer.predict`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict

from performer.baselines import elastic_net_baseline, enformer_baseline, load_reference_enformer, track_for
from performer.data.datamodule import PerformerDataModule
from performer.data.splits import MissingPeopleError
from performer.evaluation.plots import write_figures
from performer.metrics import per_gene_metrics
from performer.model.module import PerformerModule
from performer.predict import evaluation_precision, predict_split
from performer.runs import Run, SkippedRun, build_datamodule, find_runs, gene_list, read_split, scan_runs

log = logging.getLogger(__name__)

KEYS = ["model", "experiment", "gene_id", "split", "gene_set", "train_fraction"]
SKIPPED_RUNS_FILE = "skipped_runs.csv"


def run_datamodule(run: Run, eval_genes: list[str] | None = None, window_bp: int | None = None) -> PerformerDataModule:
    """The run's DataModule (same data, genes and people), set up.

    The people are those the run saved in ``<run>/splits`` (``train.txt``, ``tune.txt``, ``test.txt``:
    its fold, after any ``train_fraction`` downsampling, so they are used as they are), not a split
    made again from the config. Tune/test people cover the run's training genes, its own held-out genes
    (the ``eval_genes`` it was trained with, the HOGP rows of its ``metrics_test.csv``) and, added to
    them, ``eval_genes`` (symbols or IDs); the window is the run's unless ``window_bp`` is given.

    Raises:
        FileNotFoundError: the run has no saved split; the run's ``eval_genes`` names a gene file that is gone.
        MissingPeopleError: the cohort no longer holds some people of the saved split; the message
            names the run, counts them and names a few.
    """
    cfg = run.cfg.copy()
    splits_dir = run.files.splits
    split = read_split(run.path)
    with open_dict(cfg):
        if window_bp is not None:
            cfg.model.window_bp = window_bp
        cfg.splits_dir = str(splits_dir)
        cfg.train_fraction = 1.0  # train.txt is already downsampled
        if eval_genes and gene_list(cfg.gene, cfg.genes) is None:
            log.warning("run %s trained on every gene of its data; eval_genes adds nothing", run.path)
        try:
            own = gene_list(None, cfg.eval_genes) or []
        except FileNotFoundError as error:
            raise FileNotFoundError(f"run {run.path}: its held-out genes (eval_genes): {error}") from error
        cfg.eval_genes = list(dict.fromkeys(own + list(eval_genes or []))) or None
    datamodule = build_datamodule(cfg)
    datamodule.prepare_data()
    try:
        datamodule.setup()
    except MissingPeopleError as error:
        raise MissingPeopleError(
            f"run {run.path}: its saved split ({splits_dir}) does not match the cohort in "
            f"{datamodule.paths['expression']}: {error}",
            error.missing,
        ) from error
    if datamodule.split != split:  # the datamodule must use the saved people exactly
        raise RuntimeError(f"run {run.path}: the datamodule's people split differs from {splits_dir}")
    return datamodule


def heritability(datamodule: PerformerDataModule) -> dict[str, float]:
    """Simulated h2 per gene ID from the cohort's ``heritability.tsv`` (the demo cohort), else empty."""
    path = datamodule.paths["expression"].parent / "heritability.tsv"
    if not path.exists():
        return {}
    table = pd.read_csv(path, sep="\t")
    return dict(zip(table["gene_id"], table["h2"]))


PER_GENE_MODELS = {"elastic_net"}
"""Models fitted on each gene's own train people: every gene they score is a training gene (``HOP``)."""


def annotate(table: pd.DataFrame, model: str, run: Run, datamodule: PerformerDataModule) -> pd.DataFrame:
    """Add the run's identity (model, experiment, fold, gene set, train fraction, window, h2) to a table.

    ``gene_set`` is ``HOP`` for a gene the model was trained on and ``HOGP`` for the others: for
    Performer (and the pretrained Enformer, to pair with it) the run's training genes; for a model in
    :data:`PER_GENE_MODELS` every gene. ``cohort`` is the run's ``data.name``. ``window_bp`` is
    ``datamodule.window_bp``: pass the DataModule the table was computed on.
    """
    table = table.copy()
    table.insert(0, "model", model)
    table.insert(1, "experiment", run.experiment)
    table.insert(2, "run_dir", str(run.path))
    table["fold"] = int(run.cfg.fold)
    trained = table["gene_id"].isin(datamodule.train_gene_ids) | (model in PER_GENE_MODELS)
    table["gene_set"] = np.where(trained, "HOP", "HOGP")
    table["train_fraction"] = float(run.cfg.get("train_fraction", 1.0))
    table["n_train"] = len(datamodule.split.train)
    table["window_bp"] = int(datamodule.window_bp)
    table["h2"] = table["gene_id"].map(heritability(datamodule)).astype(float)
    table["cohort"] = str(run.cfg.data.get("name") or "")  # the cohort scored (cross-cohort rows: the other one)
    return table


def prediction_precision(run: Run, precision: str = "auto") -> str:
    """The precision of a run's HOP/HOGP predictions: ``precision`` when it is not ``auto``; with ``auto``, the
    run's own ``trainer.precision`` (its ``auto``: bf16 on a bf16 GPU, else fp32) mapped by
    :func:`~performer.predict.evaluation_precision`, and fp32 for a setting prediction does not offer
    (fp16, fp64). Plain predictions only: ISM and gradients are fp32 (see ``performer.predict``).

    Raises:
        ValueError: an explicit ``precision`` other than auto, fp32 or bf16 (Lightning spellings allowed).
    """
    if str(precision) != "auto":
        return evaluation_precision(precision)
    setting = run.cfg.get("trainer", {}).get("precision", "auto")
    try:
        return evaluation_precision(setting)
    except ValueError:
        log.info("run %s trained with precision %s: predicting in fp32", run.path, setting)
        return "fp32"


def performer_predictions(
    run: Run, datamodule: PerformerDataModule, precision: str = "auto", batch_size: int = 32
) -> pd.DataFrame:
    """Reload the run's best checkpoint and predict every test person of every eval gene.

    Through :func:`performer.predict.predict_split` on one device (:func:`~performer.predict.choose_device`)
    in :func:`prediction_precision`.

    Returns:
        The per-person table ``gene_id, gene, split, person, y, pred`` (split ``test``), sorted by gene
        and person row.
    """
    module = PerformerModule.load_from_checkpoint(run.checkpoint, map_location="cpu")
    return predict_split(
        module.model, datamodule, "test", batch_size=batch_size, precision=prediction_precision(run, precision)
    )


def metrics_from_predictions(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per gene and split: ``n_people, pcc, r2, mse`` (scipy / sklearn, see ``performer.metrics``)."""
    return per_gene_metrics(predictions, by=["gene_id", "gene", "split"])


def add_fold_means(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``mean_pcc_folds`` and ``mean_r2_folds``: per-gene means over folds (NaN ignored)."""
    means = table.groupby(KEYS, dropna=False)[["pcc", "r2"]].transform("mean")
    return table.assign(mean_pcc_folds=means["pcc"], mean_r2_folds=means["r2"])


def write_table(table: pd.DataFrame, path: Path) -> None:
    """Write ``path`` (CSV) and, when pyarrow is installed, the same table as Parquet beside it."""
    table.to_csv(path, index=False)
    try:
        table.to_parquet(path.with_suffix(".parquet"), index=False)
    except ImportError:
        log.info("pyarrow is not installed: wrote %s only (pip install -e '.[parquet]' for Parquet)", path)


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
        cfg.get("train_fraction", 1.0),
        cfg.model.window_bp,
    ]
    return json.dumps([OmegaConf.to_container(f) if isinstance(f, DictConfig | ListConfig) else f for f in fields])


def requested_baselines(cfg: DictConfig) -> list[str]:
    """``cfg.baseline`` as a list (it may be null, one name or a list).

    Raises:
        ValueError: a name other than ``elastic_net`` or ``enformer``.
    """
    baselines = [cfg.baseline] if isinstance(cfg.baseline, str) else list(cfg.baseline or [])
    unknown = set(baselines) - {"elastic_net", "enformer"}
    if unknown:
        raise ValueError(f"baseline={sorted(unknown)}: choose elastic_net and/or enformer")
    return baselines


def evaluate(cfg: DictConfig, out_dir: str | Path) -> pd.DataFrame:
    """Evaluate every finished run under ``cfg.runs`` and the requested baselines; write the outputs.

    Writes into ``out_dir``: ``skipped_runs.csv`` (the run folders not evaluated, written first),
    ``evaluation.csv`` (+ ``.parquet``), ``predictions.csv``, ``elastic_net_coefficients.csv`` (with
    ``baseline=elastic_net``) and the figures. With ``cfg.data`` (a cohort named on the command line), every
    run, its elastic net and the pretrained Enformer are also scored on every person of that cohort who is
    new to the run (:func:`performer.evaluation.apply.cross_cohort_evaluation`): rows with
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

    tables, predictions, coefficients, done = [], [], [], set()
    fits = {}  # run path -> (elastic net, DataModule), for the cross-cohort evaluation
    runs = find_runs(cfg.runs)  # names the unfinished runs in WARNINGs
    skipped = scan_runs(cfg.runs)[1]
    write_skipped_runs(skipped, out_dir / SKIPPED_RUNS_FILE)
    for run in runs:
        log.info("evaluating %s", run.path)
        datamodule = run_datamodule(run, eval_genes)
        performer = performer_predictions(run, datamodule, cfg.precision, cfg.batch_size)
        tables.append(annotate(metrics_from_predictions(performer), "performer", run, datamodule))
        predictions.append(annotate(performer, "performer", run, datamodule))
        key = _baseline_key(run)
        if key in done:
            if key in fits:
                fits[str(run.path)] = fits[key]
            continue
        done.add(key)
        if "elastic_net" in baselines:
            result = elastic_net_baseline(datamodule, seed=cfg.seed)
            fits[key] = fits[str(run.path)] = (result, datamodule)
            tables.append(annotate(result.metrics, "elastic_net", run, datamodule))
            predictions.append(annotate(result.predictions, "elastic_net", run, datamodule))
            coefficients.append(annotate(result.coefficients, "elastic_net", run, datamodule))
        if enformer is not None:
            track = track_for(run.cfg.data.tissue, cfg.track)
            windows = run_datamodule(run, eval_genes, window_bp=cfg.enformer_window_bp)
            result = enformer_baseline(enformer, windows, track, split="test", batch_size=cfg.batch_size)
            tables.append(annotate(result.metrics, "enformer", run, windows))
            predictions.append(annotate(result.predictions, "enformer", run, windows))

    if cfg.get("data") is not None:
        from performer.evaluation.apply import cross_cohort_evaluation, plot_cross_cohort

        cross, cross_predictions, cross_summary = cross_cohort_evaluation(cfg, runs, fits, enformer)
        cross_summary.to_csv(out_dir / "cross_cohort_summary.csv", index=False)
        tables.append(cross)
        predictions.append(cross_predictions)
    table = add_fold_means(pd.concat(tables, ignore_index=True))
    write_table(table, out_dir / "evaluation.csv")
    predictions = pd.concat(predictions, ignore_index=True)
    predictions.to_csv(out_dir / "predictions.csv", index=False)
    if coefficients:
        pd.concat(coefficients, ignore_index=True).to_csv(out_dir / "elastic_net_coefficients.csv", index=False)
    if cfg.figures:
        within = table["gene_set"] != "cross-cohort"
        write_figures(table[within], predictions[predictions["gene_set"] != "cross-cohort"], out_dir)
        if not within.all():
            plot_cross_cohort(table, out_dir / "cross_cohort_vs_hop.png")
    print(summary_table(table).to_string())
    if skipped:
        print(f"{len(skipped)} run folders under {cfg.runs} were not evaluated: see {out_dir / SKIPPED_RUNS_FILE}")
    return table


def write_skipped_runs(skipped: list[SkippedRun], path: Path) -> None:
    """Write the run folders not evaluated (``run_dir, status, reason``), a header only when there is none."""
    table = pd.DataFrame([(str(r.path), r.status, r.reason) for r in skipped], columns=["run_dir", "status", "reason"])
    table.to_csv(path, index=False)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Mean PCC and R^2 over genes and folds per model, split, gene set and train fraction.

    Columns: ``(pcc, mean)``, ``(pcc, count)`` (rows with a finite PCC), ``(r2, mean)``, ``(r2, count)``
    and ``(pcc, n_undefined)``: rows whose PCC is undefined (NaN), left out of the PCC mean.
    """
    keys = ["model", "split", "gene_set", "train_fraction"]
    summary = table.groupby(keys)[["pcc", "r2"]].agg(["mean", "count"]).round(3)
    summary[("pcc", "n_undefined")] = table["pcc"].isna().groupby([table[k] for k in keys]).sum()
    return summary
