"""Per-gene elastic net on variant dosages: the paper's linear baseline.

For each gene, the predictors are the ALT dosages (0/1/2, float64) of every biallelic SNV in the same
TSS-centred window the model reads. With indels on (``dm.indels``, whose windows are
:class:`~performer.data.haplotypes.HaplotypeWindow`), they are the ALT dosages
(``window.dosage()``) of every record starting inside the window, in VCF order: SNVs, indels
(insertions, deletions, complex replacements) and MNPs (multi-base substitutions), all but records with
an ALT ``*`` (never carried); :func:`window_predictors`. The model is scikit-learn's
``Pipeline([("variance", VarianceThreshold()), ("enet", ElasticNetCV(max_iter=2000, cv=5))])``
(docs/architecture.md, "baselines"; Drusinsky et al., Methods). It is fitted on the fold's **train people
only** (``dm.split.train``, after any ``train_fraction`` downsampling; :func:`train_rows`): the inner
5-fold cross-validation that picks ``alpha`` runs on them, in the split's order (``KFold`` without
shuffling); tune and test people are only ever predicted (:func:`rows_by_gene` of the tune/test
datasets: the same people and targets the fine-tuned model is scored on).

The model is per gene, so every gene of ``dm.gene_ids`` is fitted on its own train people, including
held-out (HOGP) evaluation genes that the fine-tuned model never trained on; every gene with tune/test
people is predicted (the tune and test sets hold the training genes and the held-out genes).

Cases without an elastic net, each recorded in the ``status`` column of the metrics and logged:

=================  ====================================================================================
``fit``            the elastic net above
``constant_snvs``  every SNV of the window has zero variance in the train people: ``VarianceThreshold``
                   would leave no predictor, so the gene is predicted by the train mean (a
                   ``DummyRegressor``) and has 0 non-zero coefficients
``no_snvs``        the window holds no SNV at all: predicted by the train mean, 0 non-zero coefficients
=================  ====================================================================================

(With indels on, "SNVs" in these names and in ``n_snvs`` means every predictor: SNVs, indels and MNPs.)

Coefficients are per ALT allele, on the dosage scale (the pipeline does not standardise). The
coefficient table has one row per predictor, ``gene_id, gene, snv_id`` (the VCF ID, also of indels),
``pos`` (0-based start of REF), ``ref, alt`` (allele letters: ``A``/``G`` for an SNV, ``ACG``/``A`` for a
deletion), ``kind`` (``SNV``, ``indel`` or ``MNP``; all ``SNV`` without indels) and ``coef``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.feature_selection import VarianceThreshold
from sklearn.linear_model import ElasticNetCV
from sklearn.pipeline import Pipeline

from performer.data.dataset import GenePeopleDataset
from performer.data.haplotypes import HaplotypeWindow, variant_kind
from performer.data.reference import BASES, decode_bases
from performer.metrics import per_gene_metrics

log = logging.getLogger(__name__)

MIN_PEOPLE = 10
"""Fewest train people :func:`fit_gene` accepts (the inner CV has 5 folds)."""

EVAL_SPLITS = ("tune", "test")
PREDICTION_COLUMNS = ["gene_id", "gene", "split", "person", "y", "pred"]
COEFFICIENT_COLUMNS = ["gene_id", "gene", "snv_id", "pos", "ref", "alt", "kind", "coef"]


@dataclass
class Predictors:
    """A gene window's elastic-net predictors, one per column of ``dosage``.

    Attributes:
        ids: VCF IDs. pos: int64 ``(n,)``, 0-based start of each REF. ref, alt: allele letters.
        kind: ``SNV``, ``indel`` or ``MNP`` per column. dosage: int8 ``(n_people, n)`` ALT dosages 0/1/2,
            rows as the window's people (``dm.people``).
    """

    ids: list[str]
    pos: np.ndarray
    ref: list[str]
    alt: list[str]
    kind: list[str]
    dosage: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)


def window_predictors(window, indels: bool = False) -> Predictors:
    """The predictors of one gene window.

    Args:
        window: a :class:`~performer.data.personal.PersonalWindow` or
            :class:`~performer.data.haplotypes.HaplotypeWindow`.
        indels: with a HaplotypeWindow, every record starting inside ``[start, end)`` except ALT ``*``
            (SNVs, indels, MNPs; dosages from ``window.dosage()``); otherwise (and for any other window)
            ``window.snvs``, all of kind ``SNV``.
    """
    if indels and isinstance(window, HaplotypeWindow):
        records = window.records
        keep = window.variants()
        return Predictors(
            ids=[records.ids[j] for j in keep],
            pos=records.pos[keep].astype(np.int64),
            ref=[decode_bases(records.ref[j]) for j in keep],
            alt=[decode_bases(records.alt[j]) for j in keep],
            kind=[variant_kind(len(records.ref[j]), len(records.alt[j])) for j in keep],
            dosage=window.dosage()[:, keep],
        )
    snvs = window.snvs
    return Predictors(
        ids=list(snvs.ids),
        pos=np.asarray(snvs.pos).astype(np.int64),
        ref=[BASES[c] for c in snvs.ref],
        alt=[BASES[c] for c in snvs.alt],
        kind=["SNV"] * len(snvs),
        dosage=snvs.dosage,
    )


def make_pipeline(seed: int = 0) -> Pipeline:
    """The unfitted per-gene model: ``VarianceThreshold()`` then ``ElasticNetCV(max_iter=2000, cv=5)``.

    ``l1_ratio`` is scikit-learn's default (0.5); ``alpha`` is chosen by the inner CV over its default
    grid of 100 values. ``seed`` is ``ElasticNetCV``'s ``random_state``.
    """
    return Pipeline(
        [
            ("variance", VarianceThreshold()),
            ("enet", ElasticNetCV(max_iter=2000, cv=5, random_state=seed, n_jobs=1)),
        ]
    )


def fit_gene(dosage_train: np.ndarray, y_train: np.ndarray, seed: int = 0) -> Pipeline:
    """Fit one gene's elastic net on the train people.

    Args:
        dosage_train: ``(n_train_people, n_snvs)`` ALT dosages 0/1/2 (any numeric dtype; used as float64),
            one row per train person, in the order of ``y_train``.
        y_train: ``(n_train_people,)`` expression of the same people.
        seed: ``ElasticNetCV`` random state.

    Returns:
        A fitted :class:`~sklearn.pipeline.Pipeline` with steps ``variance`` and ``enet``. When every SNV
        has zero variance in the train people, ``variance`` is ``"passthrough"`` and ``enet`` a
        ``DummyRegressor(strategy="mean")``: it predicts the train mean and has no coefficients.

    Raises:
        ValueError: no SNVs (0 columns), fewer than :data:`MIN_PEOPLE` people, mismatched lengths, or
            non-finite dosages or targets.
    """
    x = np.asarray(dosage_train, dtype=np.float64)
    y = np.asarray(y_train, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"dosage_train must be (n_people, n_snvs) and y_train (n_people,): got {x.shape}, {y.shape}")
    if x.shape[1] == 0:
        raise ValueError("no SNVs: the elastic net needs at least one SNV column in dosage_train")
    if len(y) < MIN_PEOPLE:
        raise ValueError(f"{len(y)} train people: the elastic net needs at least {MIN_PEOPLE} (5-fold inner CV)")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("dosage_train and y_train must be finite (drop people with NaN expression first)")
    if not np.ptp(x, axis=0).any():
        model = Pipeline([("variance", "passthrough"), ("enet", DummyRegressor(strategy="mean"))])
    else:
        model = make_pipeline(seed)
    return model.fit(x, y)


def snv_coefficients(model: Pipeline, n_snvs: int) -> np.ndarray:
    """float64 ``(n_snvs,)``: the fitted coefficient of every SNV column, 0 where ``VarianceThreshold``
    removed the SNV or the elastic net shrank it to 0 (all 0 for a train-mean model)."""
    coef = np.zeros(n_snvs, dtype=np.float64)
    enet = model.named_steps["enet"]
    if hasattr(enet, "coef_"):
        coef[model.named_steps["variance"].get_support()] = enet.coef_
    return coef + 0.0  # -0.0 (shrunk from below) -> 0.0


def train_rows(dm) -> list[tuple[np.ndarray, np.ndarray]]:
    """The rows each gene's elastic net is fitted on: the fold's train people with that gene's expression.

    Args:
        dm: a set-up datamodule; read: ``gene_ids``, ``people``, ``split.train`` and ``cohort.targets``.

    Returns:
        One ``(person, y)`` pair per gene of ``dm.gene_ids``: ``person`` int64 ``(n,)`` (indices into
        ``dm.people``, i.e. rows of the window's dosage matrix) and ``y`` float64 ``(n,)`` (expression), in
        the order of ``dm.split.train``; people with NaN expression are left out (and logged by the cohort).
    """
    row = {p: i for i, p in enumerate(dm.people)}
    out = []
    for gene_id in dm.gene_ids:
        values = dm.cohort.targets(gene_id, list(dm.split.train))
        out.append((np.array([row[p] for p in values.index], dtype=np.int64), values.to_numpy(np.float64)))
    return out


def rows_by_gene(dataset: GenePeopleDataset) -> list[tuple[np.ndarray, np.ndarray]]:
    """The people and targets of each gene in one split's dataset (what the model is scored on).

    Args:
        dataset: ``dm.datasets[split]``.

    Returns:
        One ``(person, y)`` pair per gene (index = position in ``dm.gene_ids``; empty for genes the split
        does not hold): ``person`` int64 ``(n,)`` (indices into ``dm.people``) and ``y`` float64 ``(n,)``
        (the dataset's float32 targets), in dataset order.
    """
    return [(dataset.person[items], dataset.target[items].astype(np.float64)) for items in dataset.groups()]


@dataclass
class ElasticNetResult:
    """Output of :func:`elastic_net_baseline`.

    Attributes:
        predictions: one row per (gene, tune/test person): ``gene_id, gene, split, person`` (person ID),
            ``y``, ``pred`` (float64); ``y`` is the dataset's target, as the fine-tuned model is scored on.
        metrics: one row per gene and split: ``gene_id, gene, split, n_people, pcc, r2, mse`` (from
            :func:`performer.metrics.per_gene_metrics`), ``n_snvs`` (predictors: SNVs in the window, with
            indels on also its indels and MNPs), ``n_nonzero``
            (non-zero coefficients), ``alpha`` (chosen penalty, NaN without an elastic net) and ``status``
            (``fit``, ``constant_snvs`` or ``no_snvs``; see the module docstring).
        coefficients: one row per predictor of each gene's window (:data:`COEFFICIENT_COLUMNS`):
            ``gene_id, gene, snv_id, pos`` (0-based), ``ref, alt`` (allele letters), ``kind`` (``SNV``,
            ``indel``, ``MNP``), ``coef`` (per ALT allele; 0 if removed or shrunk).
        models: gene ID -> fitted pipeline (None for ``no_snvs`` genes).
    """

    predictions: pd.DataFrame
    metrics: pd.DataFrame
    coefficients: pd.DataFrame
    models: dict[str, Pipeline | None] = field(default_factory=dict)


def elastic_net_baseline(dm, seed: int = 0) -> ElasticNetResult:
    """Fit the per-gene elastic net on the train people of ``dm``'s fold; predict its tune and test people.

    Args:
        dm: a set-up :class:`~performer.data.datamodule.PerformerDataModule` (``prepare_data()`` and
            ``setup()`` called). Read: ``gene_ids``, ``gene_names``, ``people``, ``split.train``,
            ``cohort.targets`` (train rows, :func:`train_rows`) and ``datasets`` (the windows, and the
            tune/test rows), ``indels`` (default False); each gene's predictors are those of its model
            window (:func:`window_predictors`).
        seed: ``ElasticNetCV`` random state.

    Returns:
        :class:`ElasticNetResult`.

    Raises:
        ValueError: a gene has fewer than :data:`MIN_PEOPLE` train people (the message names the gene).
    """
    predictions, metrics, coefficients, models = [], [], [], {}
    windows = dm.datasets["test"].windows
    indels = bool(getattr(dm, "indels", False))
    rows = {"train": train_rows(dm), **{split: rows_by_gene(dm.datasets[split]) for split in EVAL_SPLITS}}
    for g, (gene_id, name) in enumerate(zip(dm.gene_ids, dm.gene_names)):
        snvs = window_predictors(windows[g], indels)
        person_train, y_train = rows["train"][g]
        model, status, train_mean = _fit_window(gene_id, name, snvs, person_train, y_train, seed)
        models[gene_id] = model
        coef = snv_coefficients(model, len(snvs)) if model is not None else np.zeros(0)
        coefficients.append(_coefficient_rows(gene_id, name, snvs, coef))
        for split in EVAL_SPLITS:
            person, y = rows[split][g]
            if len(person) == 0:  # a training-only gene, or an empty split
                continue
            if model is None:
                pred = np.full(len(person), train_mean)
            else:
                pred = model.predict(snvs.dosage[person].astype(np.float64))
            predictions.append(
                pd.DataFrame(
                    {
                        "gene_id": gene_id,
                        "gene": name,
                        "split": split,
                        "person": [dm.people[i] for i in person],
                        "y": y,
                        "pred": np.asarray(pred, dtype=np.float64),
                    }
                )
            )
        metrics.append(
            {
                "gene_id": gene_id,
                "n_snvs": len(snvs),
                "n_nonzero": int(np.count_nonzero(coef)),
                "alpha": float(model.named_steps["enet"].alpha_) if status == "fit" else np.nan,
                "status": status,
            }
        )
    predictions = pd.concat(predictions, ignore_index=True) if predictions else pd.DataFrame(columns=PREDICTION_COLUMNS)
    return ElasticNetResult(
        predictions=predictions,
        metrics=_gene_scores(predictions, pd.DataFrame(metrics)),
        coefficients=pd.concat(coefficients, ignore_index=True),
        models=models,
    )


def _fit_window(
    gene_id: str, name: str, snvs: Predictors, person_train: np.ndarray, y_train: np.ndarray, seed: int
) -> tuple[Pipeline | None, str, float | None]:
    """One gene's model, its ``status`` (module docstring) and, for ``no_snvs``, the train mean it predicts.

    Raises:
        ValueError: fewer than :data:`MIN_PEOPLE` train people, or :func:`fit_gene`'s errors (naming the gene).
    """
    if len(snvs) == 0:
        if len(y_train) < MIN_PEOPLE:
            raise ValueError(f"gene {name} ({gene_id}): {len(y_train)} train people, need {MIN_PEOPLE}")
        log.warning("gene %s: no SNVs in its window; predicted by the train mean", name)
        return None, "no_snvs", float(np.mean(y_train))
    try:
        model = fit_gene(snvs.dosage[person_train], y_train, seed=seed)
    except ValueError as error:
        raise ValueError(f"gene {name} ({gene_id}): {error}") from error
    status = "fit" if isinstance(model.named_steps["enet"], ElasticNetCV) else "constant_snvs"
    if status == "constant_snvs":
        log.warning(
            "gene %s: all %d SNVs are constant in the train people; predicted by the train mean",
            name,
            len(snvs),
        )
    return model, status, None


def _coefficient_rows(gene_id: str, name: str, snvs: Predictors, coef: np.ndarray) -> pd.DataFrame:
    """The rows of one gene in :attr:`ElasticNetResult.coefficients` (:data:`COEFFICIENT_COLUMNS`)."""
    return pd.DataFrame(
        {
            "gene_id": gene_id,
            "gene": name,
            "snv_id": snvs.ids,
            "pos": snvs.pos,
            "ref": snvs.ref,
            "alt": snvs.alt,
            "kind": snvs.kind,
            "coef": coef,
        },
        columns=COEFFICIENT_COLUMNS,
    )


def _gene_scores(predictions: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """Per-gene metrics of ``predictions`` by gene and split, with each gene's ``fits`` columns
    (``n_snvs``, ``n_nonzero``, ``alpha``, ``status``) merged on ``gene_id``."""
    scores = per_gene_metrics(predictions, by=["gene_id", "gene", "split"])
    if scores.empty:
        scores = pd.DataFrame(columns=["gene_id", "gene", "split", "n_people", "pcc", "r2", "mse"])
    return scores.merge(fits, on="gene_id", how="left", validate="many_to_one")
