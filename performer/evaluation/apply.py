"""Use trained runs on new people and new variants: cross-cohort evaluation, imputation and variant scoring.

Three tasks of ``evaluate.py`` (all forward passes through :mod:`performer.predict`):

* **cross-cohort evaluation** (``python evaluate.py runs=... data=<other cohort>``, paper Fig. 1d): every
  finished run predicts every person of the other cohort who has genotypes and expression and is new to
  it (no split); the elastic net of the same run (fitted on the run's own train
  people) is applied to the same people by mapping its coefficients by variant ``(pos, ref, alt)`` onto
  the other cohort's dosages (a variant absent there has dosage 0, counted); with
  ``baseline=enformer`` the pretrained Enformer too. Rows carry ``gene_set = "cross-cohort"`` and
  ``split = "all"`` beside the run's own HOP/HOGP rows (:func:`cross_cohort_evaluation`). People of the
  run's own train or tune split (by ID; two cohorts can share donors, e.g. two GTEx tissues) are not new
  to it and are left out, counted and named; its test people are kept.
* **imputation** (``task=predict``, :func:`impute`): predicted expression of every person of a VCF x every
  gene of the runs; no expression file needed. The run's own people are imputed too, marked by ``run_split``.
* **variant scoring** (``task=score_variants variants=my.vcf.gz``, :func:`score_variants`): each variant of
  a user VCF inside a gene window, ALT in the reference window minus the reference (ISM), per run and
  averaged over folds.

The *target cohort* is the ``data`` config given on the command line (``data=demo data.root=/other``), or,
without one, each run's own cohort (``run.cfg.data``). Its genes' chrom and TSS come, in this order, from
its expression file, its gene table (``data.gene_table``: TSV ``gene_id gene_name chrom tss strand`` with a
0-based TSS, or a GTF), or the run's own cohort's expression file (the same assembly is assumed). A run's
genes (``metrics_test.csv``: ``gene_id, gene, gene_set``) are matched to the target's by gene ID, then by
the ID without its version, then by symbol (any case); contigs by alias (``chr22`` == ``22``; the readers
resolve them). Genes, people and variants missing on either side are counted, logged and written to a
small summary.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cyvcf2
import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from performer.baselines import track_for
from performer.baselines.elastic_net import window_predictors
from performer.data.cache import personal_window_cache
from performer.data.cohort import Cohort, read_id_map
from performer.data.datamodule import PerformerDataModule
from performer.data.dataset import GenePeopleDataset, tss_window
from performer.data.expression import read_expression_bed, read_gene_table, strip_version
from performer.data.haplotypes import HaplotypeWindow, Records, variant_kind
from performer.data.reference import ReferenceGenome, codes_to_one_hot, encode_bases
from performer.data.simulate import ensure_demo_cohort
from performer.data.variants import VariantReader
from performer.metrics import per_gene_metrics
from performer.model.module import PerformerModule
from performer.predict import predict_ism, predict_people, predict_variants
from performer.runs import Run, read_gene_metrics, read_split

log = logging.getLogger(__name__)

CROSS_COHORT = "cross-cohort"
"""The ``gene_set`` value of cross-cohort rows (the new people of another cohort; ``split`` is ``all``)."""

SEEN_SPLITS = ("train", "tune")
"""A run's splits whose people are not new to it: fitted on (train) or choosing its best epoch (tune)."""

NEW_PERSON = "new"
"""The :func:`run_split_of` value of a person outside the run's saved split."""


# ----------------------------------------------------------------------------------------------------------
# The target cohort
# ----------------------------------------------------------------------------------------------------------


@dataclass
class TargetCohort:
    """The people, genes and files of the cohort the runs are applied to.

    Attributes:
        name: ``data.name`` (or the root folder's name).
        paths: ``vcf, fasta, expression, gene_table, id_map`` (absolute paths or None).
        data: the data config (VCF reader options, cache folder, read workers).
        samples: VCF sample names, in VCF order (the window rows).
        people: one ID per VCF sample: its expression ID where the ID map names one, else the sample name.
        expression: genes x people float64 (expression IDs as columns), or None without an expression file.
        genes: DataFrame indexed by the target's gene ID: ``gene_name, chrom, tss`` (0-based TSS).
        gene_source: where the genes' TSS came from (``expression``, ``gene_table`` or ``run``).
        heritability: gene ID -> simulated h2 (a ``heritability.tsv`` beside the expression file), else empty.
    """

    name: str
    paths: dict
    data: DictConfig
    samples: list[str]
    people: list[str]
    expression: pd.DataFrame | None
    genes: pd.DataFrame
    gene_source: str
    heritability: dict = field(default_factory=dict)
    _windows: dict = field(default_factory=dict)

    def y(self, gene_id: str) -> np.ndarray:
        """float64 ``(n_people,)``: the expression of ``gene_id`` per person, NaN where unknown."""
        if self.expression is None or gene_id not in self.expression.index:
            return np.full(len(self.people), np.nan)
        row = self.expression.loc[gene_id]
        return row.reindex(self.people).to_numpy(np.float64)

    def windows(self, gene_ids: list[str], window_bp: int, indels: bool, encoding: str) -> list:
        """The TSS-centred windows of ``gene_ids`` for every VCF sample, from the window cache (built on demand).

        ``indels`` / ``encoding`` as the run's ``data.indels`` / ``data.encoding`` (the inputs its model
        was trained on): :class:`~performer.data.haplotypes.HaplotypeWindow` windows with indels or the
        haplotype encoding (SNV-only views without indels), else SNV windows.

        Raises:
            whatever the window cache raises (unknown contig, REF mismatch, a corrupt VCF), naming the file.
        """
        key = (window_bp, bool(indels), encoding)
        if key not in self._windows:
            data = self.data
            cache = personal_window_cache(
                data.get("cache_dir"),
                self.paths["fasta"],
                self.paths["vcf"],
                self.samples,
                strict=data.get("strict", True),
                pass_only=data.get("pass_only", True),
                missing=data.get("missing", "ref"),
                indels=bool(indels),
                encoding=encoding,
            )
            self._windows[key] = (cache, {})
        cache, loaded = self._windows[key]
        todo = [g for g in gene_ids if g not in loaded]
        if todo:
            regions = [
                (str(self.genes.at[g, "chrom"]), *tss_window(int(self.genes.at[g, "tss"]), window_bp)) for g in todo
            ]
            workers = self.data.get("read_workers") or 1
            loaded.update(zip(todo, cache.windows(regions, workers)))
        return [loaded[g] for g in gene_ids]


def _paths(data: DictConfig) -> tuple[dict, Path | None]:
    """Absolute input paths of a data config (the DataModule's rules: names relative to ``data.root``; the demo
    cohort simulated into its cache folder when ``simulate`` and no root)."""
    from hydra.utils import to_absolute_path

    root = data.get("root")
    root = None if root is None else to_absolute_path(str(root))
    dm = PerformerDataModule(
        vcf=data.vcf,
        fasta=data.fasta,
        expression=data.get("expression"),
        root=root,
        gene_table=data.get("gene_table"),
        id_map=data.get("id_map"),
        simulate=bool(data.get("simulate", False)) and root is None,
    )
    if dm.simulate:
        ensure_demo_cohort(dm.root)
    return dm.paths, dm.root


def _target_of(run: Run, cfg: DictConfig, targets: dict[str, TargetCohort]) -> TargetCohort:
    """The cohort a run is applied to: ``cfg.data`` if given, else the run's own; read once per data config."""
    data = cfg.get("data") or run.cfg.data
    key = json.dumps(dict(data), default=str, sort_keys=True)
    if key not in targets:
        targets[key] = load_target(data, run)
    return targets[key]


def load_target(data: DictConfig, run: Run | None = None, need_expression: bool = False) -> TargetCohort:
    """Read the target cohort of ``data`` (a ``conf/data`` config): its people, genes and expression.

    Args:
        data: the data config; ``expression`` may be null (prediction only).
        run: a run whose own cohort gives the genes' TSS when ``data`` has neither an expression file
            nor a gene table.
        need_expression: cross-cohort evaluation: an expression file is required.

    Raises:
        FileNotFoundError: a named input file does not exist.
        ValueError: ``need_expression`` and no expression file; no expression, no gene table and no run;
            no person of the expression file in the VCF (from :class:`~performer.data.cohort.Cohort`).
    """
    paths, root = _paths(data)
    for name in ("vcf", "fasta", "expression", "gene_table", "id_map"):
        if paths[name] is not None and not paths[name].exists():
            raise FileNotFoundError(f"data.{name}: {paths[name]} not found (data.root={root})")
    if need_expression and paths["expression"] is None:
        raise ValueError("cross-cohort evaluation needs the other cohort's expression: set data.expression=<BED>")
    samples = VariantReader(paths["vcf"]).samples
    id_map = read_id_map(paths["id_map"]) if paths["id_map"] else {}
    by_sample = {v: k for k, v in id_map.items()}
    people = [by_sample.get(s, s) for s in samples]
    gene_table = read_gene_table(paths["gene_table"]) if paths["gene_table"] else None
    expression, heritability = None, {}
    if paths["expression"] is not None:
        matrix = read_expression_bed(paths["expression"])
        cohort = Cohort(matrix, samples, gene_table, id_map)  # checks IDs; people with genotypes and expression
        expression = matrix.values
        genes, source = cohort.genes[["gene_name", "chrom", "tss"]], "expression"
        h2 = paths["expression"].parent / "heritability.tsv"
        if h2.exists():
            table = pd.read_csv(h2, sep="\t")
            heritability = dict(zip(table["gene_id"], table["h2"]))
        log.info(
            "target cohort %s: %d VCF samples, %d with expression; %d expression-only people left out",
            data.get("name"),
            len(samples),
            len(cohort.people),
            len(matrix.people) - len(cohort.people),
        )
    elif gene_table is not None:
        genes, source = (
            gene_table.drop_duplicates("gene_id").set_index("gene_id")[["gene_name", "chrom", "tss"]],
            "gene_table",
        )
    elif run is not None:
        own, _ = _paths(run.cfg.data)
        matrix = read_expression_bed(own["expression"])
        table = read_gene_table(own["gene_table"]) if own["gene_table"] else None
        genes = Cohort(matrix, VariantReader(own["vcf"]).samples, table).genes[["gene_name", "chrom", "tss"]]
        source = "run"
        log.info(
            "target cohort %s has no expression file or gene table: TSSs from run %s's cohort",
            data.get("name"),
            run.path,
        )
    else:
        raise ValueError(
            "the target cohort has no expression file and no gene table: give data.gene_table=<TSV gene_id gene_name "
            "chrom tss strand (0-based TSS) or GTF>, or data.expression=<BED>"
        )
    genes = genes.copy()
    genes["gene_name"] = genes["gene_name"].fillna(pd.Series(genes.index, index=genes.index)).astype(str)
    name = str(data.get("name") or (root.name if root else paths["vcf"].parent.name))
    return TargetCohort(name, paths, data, samples, people, expression, genes, source, heritability)


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


def match_genes(genes: pd.DataFrame, target: TargetCohort) -> tuple[pd.DataFrame, list[str]]:
    """Match a run's genes to the target's: the same ID, else the ID without version, else the symbol (any case).

    Args:
        genes: ``gene_id, gene`` (+ any columns) of the run.
        target: the target cohort.

    Returns:
        ``(matched, missing)``: ``genes`` restricted to the matched ones with a ``target_gene_id`` column, and
        the symbols of the genes the target does not hold (or holds several times under one symbol).
    """
    ids = set(target.genes.index)
    by_stem, by_name = {}, {}
    for gene_id, name in zip(target.genes.index, target.genes["gene_name"]):
        by_stem.setdefault(strip_version(gene_id), []).append(gene_id)
        by_name.setdefault(str(name).upper(), []).append(gene_id)
    found, missing = [], []
    for gene_id, name in zip(genes["gene_id"], genes["gene"]):
        if gene_id in ids:
            found.append(gene_id)
            continue
        hits = by_stem.get(strip_version(gene_id)) or by_name.get(str(name).upper()) or []
        found.append(hits[0] if len(hits) == 1 else None)
        if len(hits) != 1:
            missing.append(str(name))
    matched = genes.assign(target_gene_id=found)
    return matched[matched["target_gene_id"].notna()].reset_index(drop=True), missing


def _shared_genes(run: Run, target: TargetCohort, summary: dict) -> pd.DataFrame:
    genes, missing = match_genes(run_genes(run), target)
    summary.setdefault("genes_missing_in_target", {})[str(run.path)] = missing
    if missing:
        log.warning(
            "run %s: %d genes not in the target cohort %s: %s", run.path, len(missing), target.name, missing[:20]
        )
    if genes.empty:
        raise ValueError(
            f"run {run.path}: none of its genes ({', '.join(run_genes(run)['gene'].astype(str)[:10])}) is in the "
            f"target cohort {target.name} ({target.gene_source}: {len(target.genes)} genes, matched by Ensembl ID "
            "without version or symbol); give the other cohort's expression file or a gene table that names them"
        )
    return genes


def _load_model(run: Run):
    return PerformerModule.load_from_checkpoint(run.checkpoint, map_location="cpu").model


def _predict_genes(
    model,
    target: TargetCohort,
    genes: pd.DataFrame,
    rows: dict[str, np.ndarray],
    window_bp: int,
    data_cfg,
    precision: str,
    batch_size: int,
    bar: tqdm | None = None,
    track: int | None = None,
) -> pd.DataFrame:
    """Predict ``rows[target gene ID]`` (indices into ``target.people``) of every gene through ``predict_people``.

    Returns the tidy table ``gene_id, gene, target_gene_id, person, y, pred`` (float64).
    """
    target_ids = list(genes["target_gene_id"])
    windows = target.windows(target_ids, window_bp, data_cfg.get("indels", False), data_cfg.get("encoding", "dosage"))
    gene_index = np.concatenate([np.full(len(rows[g]), i, np.int64) for i, g in enumerate(target_ids)])
    person = np.concatenate([rows[g] for g in target_ids]).astype(np.int64)
    y = np.concatenate([target.y(g)[rows[g]] for g in target_ids])
    dataset = GenePeopleDataset(windows, gene_index, person, y, data_cfg.get("encoding", "dosage"))
    parts, start = [], 0
    for g in target_ids:  # one gene at a time, so the bar counts people x genes
        items = np.arange(start, start + len(rows[g]))
        start += len(rows[g])
        parts.append(predict_people(model, dataset, items, track=track, batch_size=batch_size, precision=precision))
        if bar is not None:
            bar.update(len(items))
    return pd.DataFrame(
        {
            "gene_id": np.repeat(genes["gene_id"].to_numpy(), [len(rows[g]) for g in target_ids]),
            "gene": np.repeat(genes["gene"].to_numpy(), [len(rows[g]) for g in target_ids]),
            "target_gene_id": np.repeat(np.array(target_ids, dtype=object), [len(rows[g]) for g in target_ids]),
            "person": [target.people[p] for p in person],
            "y": y,
            "pred": np.concatenate(parts) if parts else np.zeros(0),
        }
    )


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


def _run_label(run: Run, root: str | Path) -> str:
    try:
        return str(run.path.resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(run.path)


# ----------------------------------------------------------------------------------------------------------
# 1. Cross-cohort evaluation
# ----------------------------------------------------------------------------------------------------------


def apply_elastic_net(result, dm, gene_id: str, target_window, indels: bool) -> tuple[np.ndarray, dict]:
    """Predict every row of ``target_window`` with the run's elastic net of ``gene_id``.

    The model's predictors (its own window's variants, :func:`~performer.baselines.elastic_net.window_predictors`)
    are matched by ``(pos, ref, alt)`` to the target window's variants; a predictor the target does not hold
    has dosage 0 for everyone.

    Args:
        result: the run's :class:`~performer.baselines.elastic_net.ElasticNetResult` (fitted on its train people).
        dm: the run's set-up DataModule (its windows and train rows).
        gene_id: the run's gene ID.
        target_window: the target cohort's window of that gene (rows = the target's VCF samples).
        indels: the run's ``data.indels``.

    Returns:
        ``(pred, counts)``: float64 ``(n_target_people,)`` and ``n_predictors``, ``n_absent`` (predictors not in
        the target window), ``n_nonzero``, ``n_nonzero_absent``, ``n_target_only`` (target variants the model has
        no coefficient for).
    """
    from performer.baselines.elastic_net import snv_coefficients, train_rows

    g = dm.gene_ids.index(gene_id)
    own = window_predictors(dm.windows[g], indels)
    other = window_predictors(target_window, indels)
    n_people = other.dosage.shape[0]
    column = {(int(p), r, a): j for j, (p, r, a) in enumerate(zip(other.pos, other.ref, other.alt))}
    where = np.array([column.get((int(p), r, a), -1) for p, r, a in zip(own.pos, own.ref, own.alt)], dtype=np.int64)
    x = np.zeros((n_people, len(own)), dtype=np.float64)
    present = where >= 0
    if present.any():
        x[:, present] = np.asarray(other.dosage)[:, where[present]]
    model = result.models.get(gene_id)
    if model is None:
        _, y_train = train_rows(dm)[g]
        pred = np.full(n_people, float(np.mean(y_train)))
        coef = np.zeros(len(own))
    else:
        pred = np.asarray(model.predict(x), dtype=np.float64)
        coef = snv_coefficients(model, len(own))
    nonzero = coef != 0
    counts = {
        "n_predictors": len(own),
        "n_absent": int((~present).sum()),
        "n_nonzero": int(nonzero.sum()),
        "n_nonzero_absent": int((nonzero & ~present).sum()),
        "n_target_only": int(len(other) - len(set(where[present].tolist()))),
    }
    return pred, counts


def new_people(run: Run, target: TargetCohort, genes: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict]:
    """The people of ``target`` to score a run on, per gene: those with expression who are new to the run.

    A person in the run's train or tune split (:data:`SEEN_SPLITS`, :func:`run_split_of`) is not new: they
    are left out, counted and named in a WARNING. The run's test people are kept (never trained or selected on).

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


def cross_cohort_evaluation(cfg: DictConfig, runs: list[Run], elastic_nets: dict, enformer=None):
    """Score every run (and its elastic net, and the pretrained Enformer) on every new person of ``cfg.data``.

    A person is new to a run unless they are in its train or tune split (:data:`SEEN_SPLITS`, matched by
    ID, :func:`run_split_of`): the people it was fitted on or whose scores chose its epoch are left out of
    its rows, counted and named in the summary and a WARNING. The run's *test* people are kept: they were
    never trained or selected on, so on the run's own cohort (or one sharing its donors) they are scored
    as in its HOP test rows. The pretrained Enformer (no training people) is scored once per gene set and
    window, on the new people of the first run that needs it.

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
    from performer.evaluation.evaluate import prediction_precision

    target = load_target(cfg.data, need_expression=True)
    metrics, predictions, summary = [], [], []
    enformer_done = set()
    for run in runs:
        info: dict = {}
        genes = _shared_genes(run, target, info)
        rows, people = new_people(run, target, genes)
        n_total = sum(len(r) for r in rows.values())
        window_bp = int(run.cfg.model.window_bp)
        tables = {}
        with tqdm(
            total=n_total, desc=f"cross-cohort {_run_label(run, cfg.runs)}", unit="person-gene", leave=False
        ) as bar:
            tables["performer"] = _predict_genes(
                _load_model(run),
                target,
                genes,
                rows,
                window_bp,
                run.cfg.data,
                prediction_precision(run, cfg.precision),
                cfg.batch_size,
                bar,
            )
        counts = {"n_predictors": 0, "n_absent": 0, "n_nonzero": 0, "n_nonzero_absent": 0, "n_target_only": 0}
        if str(run.path) in elastic_nets:
            result, dm = elastic_nets[str(run.path)]
            indels = bool(run.cfg.data.get("indels", False))
            windows = target.windows(
                list(genes["target_gene_id"]), window_bp, indels, run.cfg.data.get("encoding", "dosage")
            )
            parts = []
            for (gene_id, name, target_id), window in zip(
                genes[["gene_id", "gene", "target_gene_id"]].itertuples(index=False), windows
            ):
                pred, gene_counts = apply_elastic_net(result, dm, gene_id, window, indels)
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
            tables["elastic_net"] = pd.concat(parts, ignore_index=True)
            log.info(
                "run %s: elastic-net variants absent in %s (dosage 0): %d of %d (%d of %d non-zero coefficients)",
                run.path,
                target.name,
                counts["n_absent"],
                counts["n_predictors"],
                counts["n_nonzero_absent"],
                counts["n_nonzero"],
            )
        if enformer is not None:
            key = (tuple(genes["target_gene_id"]), int(cfg.enformer_window_bp))
            if key not in enformer_done:
                enformer_done.add(key)
                track = track_for(cfg.data.get("tissue"), cfg.track)
                tables["enformer"] = _predict_genes(
                    enformer,
                    target,
                    genes,
                    rows,
                    int(cfg.enformer_window_bp),
                    {"indels": False, "encoding": "dosage"},
                    "fp32",
                    cfg.batch_size,
                    track=track,
                )
        for model, table in tables.items():
            table = table.assign(split="all")
            scores = per_gene_metrics(table, by=["gene_id", "gene", "target_gene_id", "split"])
            for frame, out in ((scores, metrics), (table, predictions)):
                out.append(
                    _annotate(
                        frame, model, run, target, window_bp if model != "enformer" else int(cfg.enformer_window_bp)
                    )
                )
        summary.append(
            {
                "run_dir": str(run.path),
                "cohort": target.name,
                "n_vcf_samples": len(target.samples),
                **people,
                "n_expression_only_people": int(len(set(target.expression.columns) - set(target.people))),
                "n_run_genes": len(run_genes(run)),
                "n_genes_shared": len(genes),
                "genes_missing": ";".join(info["genes_missing_in_target"][str(run.path)]),
                **{f"elastic_net_{k}": v for k, v in counts.items()},
            }
        )
    return pd.concat(metrics, ignore_index=True), pd.concat(predictions, ignore_index=True), pd.DataFrame(summary)


def _annotate(table: pd.DataFrame, model: str, run: Run, target: TargetCohort, window_bp: int) -> pd.DataFrame:
    """Identity columns of cross-cohort rows (as :func:`~performer.evaluation.evaluate.annotate`)."""
    table = table.copy()
    table.insert(0, "model", model)
    table.insert(1, "experiment", run.experiment)
    table.insert(2, "run_dir", str(run.path))
    table["fold"] = int(run.cfg.fold)
    table["gene_set"] = CROSS_COHORT
    table["train_fraction"] = float(run.cfg.get("train_fraction", 1.0))
    table["n_train"] = len(run.files.splits.joinpath("train.txt").read_text().split())
    table["window_bp"] = int(window_bp)
    table["h2"] = table["target_gene_id"].map(target.heritability).astype(float)
    table["cohort"] = target.name
    return table


def plot_cross_cohort(table: pd.DataFrame, path: str | Path) -> Path | None:
    """Per model: each gene's HOP test R^2 (mean over folds) against its cross-cohort R^2 (mean over folds).

    Returns the path written, or None (logged) when the table holds no pair.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["model", "gene"]
    hop = table[(table["gene_set"] == "HOP") & (table["split"] == "test")].groupby(keys)["r2"].mean()
    cross = table[table["gene_set"] == CROSS_COHORT].groupby(keys)["r2"].mean()
    pairs = pd.concat([hop.rename("hop"), cross.rename("cross")], axis=1).dropna().reset_index()
    if pairs.empty:
        log.info("cross-cohort figure skipped: no gene with both HOP and cross-cohort rows")
        return None
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for model, group in pairs.groupby("model"):
        ax.scatter(group["hop"], group["cross"], label=model, s=18)
    low = float(min(pairs["hop"].min(), pairs["cross"].min(), 0))
    high = float(max(pairs["hop"].max(), pairs["cross"].max(), 0.1))
    ax.plot([low, high], [low, high], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("HOP test R$^2$ (own cohort)")
    ax.set_ylabel("cross-cohort R$^2$ (all people)")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


# ----------------------------------------------------------------------------------------------------------
# 2. Imputation
# ----------------------------------------------------------------------------------------------------------


def write_frame(table: pd.DataFrame, path_stem: Path, index: bool = False) -> Path:
    """Write ``table`` as ``<stem>.parquet`` when pyarrow is importable, else ``<stem>.csv.gz``; returns the path."""
    try:
        import pyarrow  # noqa: F401

        path = path_stem.with_name(path_stem.name + ".parquet")
        table.to_parquet(path, index=index)
    except ImportError:
        path = path_stem.with_name(path_stem.name + ".csv.gz")
        table.to_csv(path, index=index)
    return path


GROUP = ["model", "experiment", "train_fraction", "window_bp"]
"""A gene's fold models: runs that differ only in their fold (their predictions are averaged)."""


def impute(cfg: DictConfig, runs: list[Run], out_dir: str | Path) -> pd.DataFrame:
    """Predicted expression of every person of the target cohort x every gene of every run; write the tables.

    The target cohort is ``cfg.data`` when given, else each run's own cohort (every person of its VCF,
    trained on or not). Every person of the VCF is predicted, with or without expression (``y`` is NaN
    without it); ``cfg.max_people`` keeps the first n. Unlike the cross-cohort evaluation, the run's own train
    and tune people are kept (imputing them is legitimate, but their predictions are not held-out ones):
    ``run_split`` marks them (:func:`run_split_of`) and their numbers are logged and written to
    ``imputed_runs.csv``. Writes into ``out_dir`` (Parquet with pyarrow, else CSV.gz):

    * ``imputed_long``: one row per run, gene and person: ``model, experiment, run, run_dir, fold,
      train_fraction, window_bp, encoding, gene_id, gene, target_gene_id, person, y, pred``, ``run_split``
      (``train``, ``tune``, ``test`` or ``new``: the run's split holding the person), ``cohort`` and
      ``pred_mean_folds`` / ``n_folds`` (the mean over the gene's fold models, :data:`GROUP`);
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
    from performer.evaluation.evaluate import prediction_precision

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets: dict[str, TargetCohort] = {}
    tables, described, info = [], [], {}
    plans = []
    for run in runs:
        target = _target_of(run, cfg, targets)
        genes = _shared_genes(run, target, info)
        n = len(target.people) if cfg.get("max_people") is None else min(int(cfg.max_people), len(target.people))
        plans.append((run, target, genes, n))
    total = sum(len(genes) * n for _, _, genes, n in plans)
    with tqdm(total=total, desc="predict (people x genes)", unit="person-gene") as bar:
        for run, target, genes, n in plans:
            rows = {g: np.arange(n) for g in genes["target_gene_id"]}
            table = _predict_genes(
                _load_model(run),
                target,
                genes,
                rows,
                int(run.cfg.model.window_bp),
                run.cfg.data,
                prediction_precision(run, cfg.precision),
                cfg.batch_size,
                bar,
            )
            label = _run_label(run, cfg.runs)
            table.insert(0, "model", "performer")
            table.insert(1, "experiment", run.experiment)
            table.insert(2, "run", label)
            table.insert(3, "run_dir", str(run.path))
            table.insert(4, "fold", int(run.cfg.fold))
            table.insert(5, "train_fraction", float(run.cfg.get("train_fraction", 1.0)))
            table.insert(6, "window_bp", int(run.cfg.model.window_bp))
            table.insert(
                7,
                "encoding",
                f"{run.cfg.data.get('encoding', 'dosage')}{'+indels' if run.cfg.data.get('indels') else ''}",
            )
            table["run_split"] = run_split_of(run, list(table["person"]))
            table["cohort"] = target.name
            tables.append(table)
            people = table.drop_duplicates("person")["run_split"]
            counts = {s: int((people == s).sum()) for s in ("train", "tune", "test")}
            if counts["train"] or counts["tune"]:
                log.info(
                    "run %s: %d of the %d people imputed from %s are its own train (%d), tune (%d) or test (%d) "
                    "people (run_split in imputed_long)",
                    run.path,
                    sum(counts.values()),
                    n,
                    target.name,
                    counts["train"],
                    counts["tune"],
                    counts["test"],
                )
            described.append(
                {
                    "run": label,
                    "run_dir": str(run.path),
                    "checkpoint": str(run.checkpoint),
                    "experiment": run.experiment,
                    "fold": int(run.cfg.fold),
                    "train_fraction": float(run.cfg.get("train_fraction", 1.0)),
                    "window_bp": int(run.cfg.model.window_bp),
                    "encoding": table["encoding"].iloc[0],
                    "cohort": target.name,
                    "gene_source": target.gene_source,
                    "n_people": n,
                    **{f"n_run_{s}_people": count for s, count in counts.items()},
                    "genes": ";".join(genes["gene"].astype(str)),
                    "genes_missing": ";".join(info["genes_missing_in_target"][str(run.path)]),
                }
            )
    long = pd.concat(tables, ignore_index=True)
    keys = [*GROUP, "gene_id", "person"]
    grouped = long.groupby(keys, sort=False)["pred"]
    long["pred_mean_folds"] = grouped.transform("mean")
    long["n_folds"] = grouped.transform("size")
    write_frame(long, out_dir / "imputed_long")

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
    write_frame(by_run, out_dir / "imputed_by_run")

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
        write_frame(matrix, out_dir / stem, index=True)
    pd.DataFrame(described).to_csv(out_dir / "imputed_runs.csv", index=False)
    log.info("imputed %d predictions (%d runs) into %s", len(long), len(runs), out_dir)
    print(
        f"imputed expression of {long['person'].nunique()} people x {long['gene_id'].nunique()} genes "
        f"from {len(runs)} runs: {out_dir}"
    )
    return long


# ----------------------------------------------------------------------------------------------------------
# 3. Variant scoring
# ----------------------------------------------------------------------------------------------------------


@dataclass
class UserVariants:
    """Biallelic alleles of a user VCF (multi-allelic records split), REF checked against the FASTA.

    Attributes:
        table: one row per allele: ``chrom`` (the FASTA's spelling), ``pos`` (0-based start of REF), ``vcf_pos``
            (1-based), ``ref``, ``alt`` (uppercase letters), ``variant_id`` (VCF ID, else ``chrom:POS:REF:ALT``),
            ``kind`` (``SNV``, ``indel``, ``MNP``).
        skipped: alleles skipped, by reason (``symbolic``, ``star``, ``no_alt``, ``not_acgt``, ``contig_not_in_fasta``,
            ``ref_mismatch``).
        n_records: records read.
    """

    table: pd.DataFrame
    skipped: dict
    n_records: int


def read_user_variants(path: str | Path, fasta: ReferenceGenome, strict_ref: bool = True) -> UserVariants:
    """Read every record of a VCF/BCF with cyvcf2 (sites-only is fine; no index needed).

    Raises:
        FileNotFoundError: no such file.
        ValueError: ``strict_ref`` and a REF that differs from the FASTA (the message names the file, the record
            and the fixes); no usable allele at all.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"variants={path}: no such file")
    rows, skipped, n_records = [], {}, 0

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    contigs: dict[str, str | None] = {}
    for record in cyvcf2.VCF(str(path), lazy=True):
        n_records += 1
        chrom = record.CHROM
        if chrom not in contigs:
            try:
                contigs[chrom] = fasta.contig(chrom)
            except KeyError:
                contigs[chrom] = None
        ref = record.REF.upper()
        for alt in record.ALT or []:
            alt = alt.upper()
            if alt.startswith("<") or "[" in alt or "]" in alt:
                skip("symbolic")
            elif alt == "*":
                skip("star")
            elif alt in ("", "."):
                skip("no_alt")
            elif set(ref + alt) - set("ACGTN"):
                skip("not_acgt")
            elif contigs[chrom] is None:
                skip("contig_not_in_fasta")
            else:
                pos = record.POS - 1
                reference = fasta.fetch(chrom, pos, pos + len(ref))
                if reference != ref:
                    if strict_ref:
                        raise ValueError(
                            f"{path}: record {chrom}:{record.POS} REF {ref} differs from the FASTA {fasta.path} "
                            f"({reference}): the VCF is on another assembly or not normalised; fix it "
                            "(`bcftools norm -c ws -f ref.fa`) or set strict_ref=false to skip and count such records"
                        )
                    skip("ref_mismatch")
                    continue
                vid = record.ID or f"{chrom}:{record.POS}:{ref}:{alt}"
                rows.append((contigs[chrom], pos, record.POS, ref, alt, vid, variant_kind(len(ref), len(alt))))
        if not record.ALT:
            skip("no_alt")
    table = pd.DataFrame(rows, columns=["chrom", "pos", "vcf_pos", "ref", "alt", "variant_id", "kind"])
    if skipped:
        log.warning("%s: %d records; alleles skipped: %s", path, n_records, skipped)
    if table.empty:
        raise ValueError(f"{path}: no usable variant ({n_records} records; skipped: {skipped or 'none'})")
    return UserVariants(table, skipped, n_records)


def _variant_sequences(
    window_codes: np.ndarray, chrom: str, start: int, end: int, fasta: ReferenceGenome, variants: pd.DataFrame
) -> np.ndarray:
    """uint8 ``(n, L)``: the reference window with each variant applied alone, TSS kept at ``L // 2``
    (:meth:`~performer.data.haplotypes.HaplotypeWindow.reference_with`, bcftools consensus's rules)."""
    margin = int(max(variants["ref"].str.len().max(), variants["alt"].str.len().max())) + 1
    ref_start = start - margin
    ref_codes = fasta.codes(chrom, ref_start, end + margin)
    codes = [encode_bases(s) for s in variants["ref"]]
    alts = [encode_bases(s) for s in variants["alt"]]
    n = len(variants)
    records = Records(
        chrom=chrom,
        pos=variants["pos"].to_numpy(np.int64),
        ref=codes,
        alt=alts,
        ids=list(variants["variant_id"]),
        alleles=np.zeros((0, 2, n), dtype=bool),
        samples=[],
        anchored=np.array([len(r) != len(a) and r[0] == a[0] for r, a in zip(codes, alts)], dtype=bool),
        unphased_people=np.zeros(0, dtype=bool),
    )
    window = HaplotypeWindow(chrom, start, end, ref_start, ref_codes, records)
    assert np.array_equal(window.codes, window_codes)
    return window.reference_with(np.eye(n, dtype=bool))


def score_variants(cfg: DictConfig, runs: list[Run], out_dir: str | Path) -> pd.DataFrame:
    """ISM of every variant of ``cfg.variants`` inside a gene window of a run, per run and averaged over folds.

    ``score = prediction(reference window with the ALT) - prediction(reference window)``, in fp32
    (``cfg.interpret_precision``): SNVs through :func:`~performer.predict.predict_ism`, indels and MNPs through
    :func:`~performer.predict.predict_variants` (ALT applied and the window re-cut around the TSS). The
    reference, the genes' TSS and the MAF come from the target cohort (``cfg.data``, else the run's own):
    ``maf = min(af, 1 - af)`` over its VCF samples where it holds the same (pos, ref, alt), else NaN. A
    variant is scored for every gene whose window ``[start, end)`` holds its REF start.

    Writes into ``out_dir``: ``variant_scores.csv`` (one row per variant, gene and run: ``chrom, pos`` (0-based),
    ``vcf_pos, ref, alt, variant_id, kind, gene_id, gene, tss, distance_to_tss`` (bp, ``pos - tss``), ``maf,
    model, experiment, run, run_dir, fold, train_fraction, window_bp, reference_prediction, score``),
    ``variant_scores_mean.csv`` (per variant, gene and group of fold models: ``score_mean, score_sd, n_folds``)
    and ``variant_scores_summary.json`` (records, alleles skipped by reason, outside every window, scored).

    Raises:
        ValueError: no ``variants=``; no variant inside any window (the message counts them); REF mismatches
            (with ``strict_ref``).
    """
    from performer.interpret.pipeline import interpretation_precision

    if not cfg.get("variants"):
        raise ValueError("task=score_variants needs variants=<VCF>")
    from hydra.utils import to_absolute_path

    path = Path(to_absolute_path(str(cfg.variants)))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    precision = interpretation_precision(cfg)
    targets: dict[str, TargetCohort] = {}
    read: dict[str, UserVariants] = {}
    tables, info, inside_any = [], {}, None
    for run in runs:
        target = _target_of(run, cfg, targets)
        fasta = ReferenceGenome(target.paths["fasta"])
        fasta_key = str(target.paths["fasta"])
        if fasta_key not in read:
            read[fasta_key] = read_user_variants(path, fasta, bool(cfg.get("strict_ref", True)))
        variants = read[fasta_key].table
        if inside_any is None:
            inside_any = np.zeros(len(variants), dtype=bool)
        genes = _shared_genes(run, target, info)
        window_bp = int(run.cfg.model.window_bp)
        indels = bool(run.cfg.data.get("indels", False))
        windows = target.windows(
            list(genes["target_gene_id"]), window_bp, indels, run.cfg.data.get("encoding", "dosage")
        )
        model = None
        for (gene_id, name, target_id), window in zip(
            genes[["gene_id", "gene", "target_gene_id"]].itertuples(index=False), windows
        ):
            chrom = fasta.contig(str(target.genes.at[target_id, "chrom"]))
            tss = int(target.genes.at[target_id, "tss"])
            start, end = tss_window(tss, window_bp)
            here = (
                (variants["chrom"] == chrom).to_numpy()
                & (variants["pos"] >= start).to_numpy()
                & (variants["pos"] < end).to_numpy()
            )
            if not here.any():
                continue
            inside_any |= here
            part = variants[here].reset_index(drop=True)
            model = model or _load_model(run)
            codes = np.asarray(window.codes)
            score = np.full(len(part), np.nan)
            reference = np.nan
            snv = (part["kind"] == "SNV").to_numpy()
            if snv.any():
                reference, score[snv] = predict_ism(
                    model,
                    codes_to_one_hot(codes),
                    part.loc[snv, "pos"].to_numpy() - start,
                    encode_bases("".join(part.loc[snv, "alt"])),
                    batch_size=cfg.batch_size,
                    precision=precision,
                )
            if (~snv).any():
                sequences = _variant_sequences(codes, chrom, start, end, fasta, part[~snv])
                ref_pred, score[~snv] = predict_variants(
                    model, codes, sequences, batch_size=cfg.batch_size, precision=precision
                )
                reference = ref_pred if np.isnan(reference) else reference
            observed = window_predictors(window, indels=isinstance(window, HaplotypeWindow))
            maf = {}
            if len(observed):
                af = np.asarray(observed.dosage, dtype=np.float64).mean(axis=0) / 2
                maf = {
                    (int(p), r, a): min(f, 1 - f) for p, r, a, f in zip(observed.pos, observed.ref, observed.alt, af)
                }
            part = part.assign(
                gene_id=gene_id,
                gene=name,
                tss=tss,
                distance_to_tss=part["pos"] - tss,
                maf=[maf.get((int(p), r, a), np.nan) for p, r, a in zip(part["pos"], part["ref"], part["alt"])],
                model="performer",
                experiment=run.experiment,
                run=_run_label(run, cfg.runs),
                run_dir=str(run.path),
                fold=int(run.cfg.fold),
                train_fraction=float(run.cfg.get("train_fraction", 1.0)),
                window_bp=window_bp,
                reference_prediction=reference,
                score=score,
            )
            tables.append(part)
    n_outside = int((~inside_any).sum()) if inside_any is not None else 0
    skipped = next(iter(read.values())).skipped if read else {}
    n_records = next(iter(read.values())).n_records if read else 0
    if not tables:
        raise ValueError(
            f"{path}: none of its {len(variants)} variants lies in a window of the runs' genes "
            f"({window_bp} bp around each TSS); check the contigs and the assembly"
        )
    scores = pd.concat(tables, ignore_index=True)
    scores.to_csv(out_dir / "variant_scores.csv", index=False)
    keys = [
        "chrom",
        "pos",
        "vcf_pos",
        "ref",
        "alt",
        "variant_id",
        "kind",
        "gene_id",
        "gene",
        "tss",
        "distance_to_tss",
        "maf",
        *GROUP,
    ]
    mean = (
        scores.groupby(keys, sort=False, dropna=False)["score"]
        .agg(score_mean="mean", score_sd="std", n_folds="size")
        .reset_index()
    )
    mean.to_csv(out_dir / "variant_scores_mean.csv", index=False)
    summary = {
        "variants_file": str(path),
        "n_records": n_records,
        "alleles_skipped": skipped,
        "n_alleles": int(len(variants)),
        "n_outside_every_window": n_outside,
        "n_scored_alleles": int(len(variants) - n_outside),
        "n_scores": int(len(scores)),
        "genes_missing_in_target": info.get("genes_missing_in_target", {}),
    }
    (out_dir / "variant_scores_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    log.info("%s: %d alleles, %d outside every window, %d scores", path, len(variants), n_outside, len(scores))
    print(f"scored {summary['n_scored_alleles']} variants ({n_outside} outside every window) into {out_dir}")
    return scores


def impute_task(cfg: DictConfig, out_dir: str | Path) -> pd.DataFrame:
    """``task=predict``: :func:`impute` every finished run under ``cfg.runs`` into ``<out_dir>/imputed``."""
    from performer.runs import find_runs

    return impute(cfg, find_runs(cfg.runs), Path(out_dir) / "imputed")


def score_variants_task(cfg: DictConfig, out_dir: str | Path) -> pd.DataFrame:
    """``task=score_variants``: :func:`score_variants` with every finished run under ``cfg.runs`` into
    ``<out_dir>/variant_scores``."""
    from performer.runs import find_runs

    return score_variants(cfg, find_runs(cfg.runs), Path(out_dir) / "variant_scores")
