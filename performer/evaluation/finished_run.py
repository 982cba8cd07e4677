"""A finished run as the tasks of ``evaluate.py`` use it: its DataModule, its model, the precision of its
predictions, its genes and people, and its identity columns on any table the tasks write.

Every task (``performer.tasks``) reads a run through these few functions, so a run's DataModule is rebuilt one
way (from its saved config and people, :func:`run_datamodule`), its checkpoint is loaded one way
(:func:`load_model`) and every table names the run with the same columns (:func:`annotate`). The run directory
itself (file names, config, settings with their defaults) is :mod:`performer.runs`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import open_dict

from performer.data.datamodule import PerformerDataModule
from performer.data.splits import MissingPeopleError
from performer.model.module import PerformerModule
from performer.predict import evaluation_precision, predict_split
from performer.runs import Run, build_datamodule, gene_list, read_gene_metrics, read_split

log = logging.getLogger(__name__)

HERITABILITY_FILE = "heritability.tsv"
"""The simulated cis-heritability per gene (``gene_id, h2``), beside a simulated cohort's expression file."""

NEW_PERSON = "new"
"""The :func:`run_split_of` value of a person outside the run's saved split."""

FOLD_GROUP = ["model", "experiment", "train_fraction", "window_bp"]
"""A gene's fold models: runs that differ only in their fold (imputation and scoring average over them)."""

PER_GENE_MODELS = {"elastic_net"}
"""Models fitted on each gene's own train people: every gene they score is a training gene (``HOP``)."""


# ----------------------------------------------------------------------------------------------------------
# Its data and model
# ----------------------------------------------------------------------------------------------------------


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


def load_model(run: Run):
    """The run's model (:class:`~performer.model.head.PerformerModel`) from its best checkpoint, on the CPU
    (:mod:`performer.predict` moves it)."""
    return PerformerModule.load_from_checkpoint(run.checkpoint, map_location="cpu").model


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
    setting = run.settings.trainer_precision
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
    return predict_split(
        load_model(run), datamodule, "test", batch_size=batch_size, precision=prediction_precision(run, precision)
    )


def heritability(expression: Path) -> dict[str, float]:
    """Simulated h2 per gene ID from the :data:`HERITABILITY_FILE` beside a cohort's ``expression`` file (the demo
    cohort), else empty."""
    path = Path(expression).parent / HERITABILITY_FILE
    if not path.exists():
        return {}
    table = pd.read_csv(path, sep="\t")
    return dict(zip(table["gene_id"], table["h2"]))


# ----------------------------------------------------------------------------------------------------------
# Its genes and people
# ----------------------------------------------------------------------------------------------------------


def run_genes(run: Run) -> pd.DataFrame:
    """The genes a run predicts: ``gene_id, gene, gene_set`` (HOP: trained on; HOGP: held out) from its
    ``metrics_test.csv``.

    Raises:
        FileNotFoundError: the run has no ``metrics_test.csv``.
    """
    table = read_gene_metrics(run.path, "test")
    if "gene_set" not in table:
        table["gene_set"] = "HOP"
    return table[["gene_id", "gene", "gene_set"]].drop_duplicates("gene_id").reset_index(drop=True)


def run_split_of(run: Run, people: list[str]) -> np.ndarray:
    """Per person, the split of the run that holds them: ``train``, ``tune``, ``test``, or :data:`NEW_PERSON`.

    People are matched by ID against the run's ``splits/`` (expression IDs, as the run's DataModule names
    them; the target cohort's people are its expression IDs after its ID map), so a cohort that names other
    people with the same IDs as the run's would see them as the run's: rename them.

    Returns:
        object array ``(len(people),)`` of str.

    Raises:
        FileNotFoundError: the run has no saved split (the message names the run).
    """
    split = read_split(run.path)
    where = {person: name for name in ("test", "tune", "train") for person in split[name]}
    return np.array([where.get(person, NEW_PERSON) for person in people], dtype=object)


def run_label(run: Run, root: str | Path) -> str:
    """The run's folder relative to ``root`` (the ``runs=`` folder), else its full path: its name in wide tables."""
    try:
        return str(run.path.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(run.path)


# ----------------------------------------------------------------------------------------------------------
# Its identity columns
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where :func:`annotate` puts a table's identity columns: ``front`` first (in order), ``back`` appended."""

    front: tuple[str, ...]
    back: tuple[str, ...]


EVALUATION_COLUMNS = Layout(
    front=("model", "experiment", "run_dir"),
    back=("fold", "gene_set", "train_fraction", "n_train", "window_bp", "h2", "cohort"),
)
"""The evaluation's tables (``evaluation.csv``, ``predictions.csv``, coefficients) and the interpretation's."""
IMPUTATION_COLUMNS = Layout(
    front=("model", "experiment", "run", "run_dir", "fold", "train_fraction", "window_bp", "encoding"),
    back=("cohort",),
)
"""``imputed_long``."""
SCORE_COLUMNS = Layout(front=(), back=("model", "experiment", "run", "run_dir", "fold", "train_fraction", "window_bp"))
"""``variant_scores.csv``."""


def annotate(
    table: pd.DataFrame,
    model: str,
    run: Run,
    datamodule: PerformerDataModule | None = None,
    layout: Layout = EVALUATION_COLUMNS,
    values: dict | None = None,
) -> pd.DataFrame:
    """A copy of ``table`` with the run's identity columns, placed by ``layout``.

    The columns: ``model``, ``experiment``, ``run_dir``, ``fold``, ``train_fraction``, ``window_bp`` and
    ``encoding`` (:class:`~performer.runs.RunSettings`), ``cohort`` (the run's ``data.name``) and, from the
    ``datamodule`` the table was computed on: ``gene_set`` (``HOP`` for a gene the model was trained on,
    ``HOGP`` for the others: for Performer, and the pretrained Enformer to pair with it, the run's training
    genes; for a model in :data:`PER_GENE_MODELS` every gene), ``n_train`` (its train people), ``window_bp``
    (its window) and ``h2`` (:func:`heritability`, per ``gene_id``). ``values`` gives or overrides any column
    (``run``: :func:`run_label`; cross-cohort rows: the other cohort's ``cohort``, ``h2``, ...); a value is a
    scalar or one value per row.

    Raises:
        KeyError: ``layout`` names a column that neither the run, the DataModule nor ``values`` gives.
    """
    settings = run.settings
    known = {
        "model": model,
        "experiment": run.experiment,
        "run_dir": str(run.path),
        "fold": settings.fold,
        "train_fraction": settings.train_fraction,
        "window_bp": settings.window_bp,
        "encoding": settings.input_encoding,
        "cohort": settings.cohort,
    }
    if datamodule is not None:
        trained = table["gene_id"].isin(datamodule.train_gene_ids) | (model in PER_GENE_MODELS)
        known["gene_set"] = np.where(trained, "HOP", "HOGP")
        known["n_train"] = len(datamodule.split.train)
        known["window_bp"] = int(datamodule.window_bp)
        known["h2"] = table["gene_id"].map(heritability(datamodule.paths["expression"])).astype(float)
    known.update(values or {})
    table = table.copy()
    for i, name in enumerate(layout.front):
        table.insert(i, name, known[name])
    for name in layout.back:
        table[name] = known[name]
    return table
