"""The cohort finished runs are applied to: its people, genes, expression and windows, and predictions on them.

The *target cohort* is the ``data`` config given on the command line (``data=demo data.root=/other``), or,
without one, each run's own cohort (``run.cfg.data``). Its files are located as a run's own cohort's are
(:func:`performer.runs.cohort_files`). Its genes' chrom and TSS come, in this order, from its expression file,
its gene table (``data.gene_table``: TSV ``gene_id gene_name chrom tss strand`` with a 0-based TSS, or a GTF),
or the run's own cohort's expression file (the same assembly is assumed). A run's genes (``metrics_test.csv``:
``gene_id, gene, gene_set``) are matched to the target's by gene ID, then by the ID without its version, then by
symbol (any case); contigs by alias (``chr22`` == ``22``; the readers resolve them). Genes missing on either side
are counted and logged. Cross-cohort evaluation, imputation and variant scoring (``performer.tasks``) all read it
through this module; every forward pass goes through :mod:`performer.predict`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from performer.data.cache import personal_window_cache
from performer.data.cohort import Cohort, read_id_map
from performer.data.datamodule import PerformerDataModule
from performer.data.dataset import GenePeopleDataset, tss_window
from performer.data.expression import read_expression_bed, read_gene_table, strip_version
from performer.data.simulate import ensure_demo_cohort
from performer.data.variants import VariantReader
from performer.evaluation.finished_run import heritability, load_model, prediction_precision, run_genes
from performer.predict import predict_people
from performer.runs import Run, cohort_files, data_setting

log = logging.getLogger(__name__)

GENE_COLUMNS = ["gene_name", "chrom", "tss"]


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
                data_setting(data, "cache_dir"),
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
            workers = data_setting(self.data, "read_workers") or 1
            loaded.update(zip(todo, cache.windows(regions, workers)))
        return [loaded[g] for g in gene_ids]


# ----------------------------------------------------------------------------------------------------------
# Reading it
# ----------------------------------------------------------------------------------------------------------


def cohort_paths(data: DictConfig) -> tuple[dict, Path | None]:
    """Absolute input paths and root of a data config, located as a run's DataModule locates them
    (:func:`performer.runs.cohort_files`: names relative to ``data.root``); the demo cohort is simulated into its
    cache folder when ``simulate`` and no root."""
    files = cohort_files(data)
    datamodule = PerformerDataModule(**files)
    if datamodule.simulate and files["root"] is None:
        ensure_demo_cohort(datamodule.root)
    return datamodule.paths, datamodule.root


def target_of(run: Run, cfg: DictConfig, targets: dict[str, TargetCohort]) -> TargetCohort:
    """The cohort a run is applied to: ``cfg.data`` if given, else the run's own; read once per data config
    (``targets`` keeps them, keyed by the config)."""
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
    paths, root = cohort_paths(data)
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
    expression, heritabilities = None, {}
    if paths["expression"] is not None:
        expression, genes = _expression_genes(data, paths["expression"], samples, gene_table, id_map)
        source, heritabilities = "expression", heritability(paths["expression"])
    elif gene_table is not None:
        genes, source = gene_table.drop_duplicates("gene_id").set_index("gene_id")[GENE_COLUMNS], "gene_table"
    elif run is not None:
        genes, source = _run_cohort_genes(run), "run"
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
    return TargetCohort(name, paths, data, samples, people, expression, genes, source, heritabilities)


def _expression_genes(
    data: DictConfig, path: Path, samples: list[str], gene_table: pd.DataFrame | None, id_map: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The expression matrix (genes x people) of the target's expression file and its genes (``GENE_COLUMNS``)."""
    matrix = read_expression_bed(path)
    cohort = Cohort(matrix, samples, gene_table, id_map)  # checks IDs; people with genotypes and expression
    log.info(
        "target cohort %s: %d VCF samples, %d with expression; %d expression-only people left out",
        data.get("name"),
        len(samples),
        len(cohort.people),
        len(matrix.people) - len(cohort.people),
    )
    return matrix.values, cohort.genes[GENE_COLUMNS]


def _run_cohort_genes(run: Run) -> pd.DataFrame:
    """The genes (``GENE_COLUMNS``) of a run's own cohort: the TSSs of a target without expression or gene table."""
    own, _ = cohort_paths(run.cfg.data)
    matrix = read_expression_bed(own["expression"])
    table = read_gene_table(own["gene_table"]) if own["gene_table"] else None
    return Cohort(matrix, VariantReader(own["vcf"]).samples, table).genes[GENE_COLUMNS]


# ----------------------------------------------------------------------------------------------------------
# A run's genes in it
# ----------------------------------------------------------------------------------------------------------


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


def shared_genes(run: Run, target: TargetCohort) -> tuple[pd.DataFrame, list[str]]:
    """The run's genes the target holds (:func:`match_genes`, with ``target_gene_id``) and the symbols of those it
    does not (logged in a WARNING).

    Raises:
        ValueError: the target holds none of the run's genes (the message names them and the fix).
    """
    genes, missing = match_genes(run_genes(run), target)
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
    return genes, missing


# ----------------------------------------------------------------------------------------------------------
# Predicting its people
# ----------------------------------------------------------------------------------------------------------


def predict_genes(
    model,
    target: TargetCohort,
    genes: pd.DataFrame,
    rows: dict[str, np.ndarray],
    window_bp: int,
    indels: bool,
    encoding: str,
    precision: str,
    batch_size: int,
    bar: tqdm | None = None,
    track: int | None = None,
) -> pd.DataFrame:
    """Predict ``rows[target gene ID]`` (int64 indices into ``target.people``) of every gene of ``genes`` (``gene_id,
    gene, target_gene_id``) through :func:`~performer.predict.predict_people`, one gene at a time.

    Args:
        model, track: a run's model, or the pretrained Enformer with its track.
        window_bp, indels, encoding: the inputs the model reads (a run's :class:`~performer.runs.RunSettings`).
        precision, batch_size: of the forward passes.
        bar: a progress bar counting people x genes, or None.

    Returns:
        The tidy table ``gene_id, gene, target_gene_id, person, y, pred`` (float64; ``y`` NaN without expression).
    """
    target_ids = list(genes["target_gene_id"])
    windows = target.windows(target_ids, window_bp, indels, encoding)
    counts = [len(rows[g]) for g in target_ids]
    gene_index = np.concatenate([np.full(len(rows[g]), i, np.int64) for i, g in enumerate(target_ids)])
    person = np.concatenate([rows[g] for g in target_ids]).astype(np.int64)
    y = np.concatenate([target.y(g)[rows[g]] for g in target_ids])
    dataset = GenePeopleDataset(windows, gene_index, person, y, encoding)
    parts, start = [], 0
    for g in target_ids:  # one gene at a time, so the bar counts people x genes
        items = np.arange(start, start + len(rows[g]))
        start += len(rows[g])
        parts.append(predict_people(model, dataset, items, track=track, batch_size=batch_size, precision=precision))
        if bar is not None:
            bar.update(len(items))
    return pd.DataFrame(
        {
            "gene_id": np.repeat(genes["gene_id"].to_numpy(), counts),
            "gene": np.repeat(genes["gene"].to_numpy(), counts),
            "target_gene_id": np.repeat(np.array(target_ids, dtype=object), counts),
            "person": [target.people[p] for p in person],
            "y": y,
            "pred": np.concatenate(parts) if parts else np.zeros(0),
        }
    )


def predict_run_genes(
    run: Run,
    target: TargetCohort,
    genes: pd.DataFrame,
    rows: dict[str, np.ndarray],
    precision: str,
    batch_size: int,
    bar: tqdm | None = None,
) -> pd.DataFrame:
    """A finished run's model on ``rows`` of ``target``: :func:`predict_genes` with the run's own window, indels
    and encoding, and its precision (``precision``: the evaluation's setting, see
    :func:`~performer.evaluation.finished_run.prediction_precision`)."""
    settings = run.settings
    model, precision = load_model(run), prediction_precision(run, precision)
    return predict_genes(
        model, target, genes, rows, settings.window_bp, settings.indels, settings.encoding, precision, batch_size, bar
    )
