"""``task=score_variants variants=my.vcf.gz``: each variant of a user VCF inside a gene window, ALT in the
reference window minus the reference (ISM), per run and averaged over folds."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import to_absolute_path
from omegaconf import DictConfig

from performer.baselines.elastic_net import window_predictors
from performer.data.dataset import tss_window
from performer.data.haplotypes import HaplotypeWindow
from performer.data.reference import ReferenceGenome, codes_to_one_hot, encode_bases
from performer.evaluation.finished_run import FOLD_GROUP, SCORE_COLUMNS, annotate, load_model, run_label
from performer.evaluation.options import interpretation_precision
from performer.evaluation.target_cohort import TargetCohort, shared_genes, target_of
from performer.evaluation.user_variants import UserVariants, read_user_variants, variant_sequences
from performer.predict import predict_ism, predict_variants
from performer.runs import Run, find_runs

log = logging.getLogger(__name__)

VARIANT_COLUMNS = ["chrom", "pos", "vcf_pos", "ref", "alt", "variant_id", "kind"]
"""A user variant's columns (:class:`~performer.evaluation.user_variants.UserVariants`)."""
MEAN_KEYS = [*VARIANT_COLUMNS, "gene_id", "gene", "tss", "distance_to_tss", "maf"]
"""A variant and gene, whose scores ``variant_scores_mean.csv`` averages over fold models (``FOLD_GROUP``)."""


def score_variants_task(cfg: DictConfig, out_dir: str | Path) -> pd.DataFrame:
    """``task=score_variants``: :func:`score_variants` with every finished run under ``cfg.runs`` into
    ``<out_dir>/variant_scores``."""
    return score_variants(cfg, find_runs(cfg.runs), Path(out_dir) / "variant_scores")


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
    if not cfg.get("variants"):
        raise ValueError("task=score_variants needs variants=<VCF>")
    path = Path(to_absolute_path(str(cfg.variants)))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    precision = interpretation_precision(cfg)
    targets: dict[str, TargetCohort] = {}
    read: dict[str, UserVariants] = {}  # per reference FASTA
    tables, missing, inside_any = [], {}, None
    for run in runs:
        target = target_of(run, cfg, targets)
        fasta = ReferenceGenome(target.paths["fasta"])
        if str(target.paths["fasta"]) not in read:
            read[str(target.paths["fasta"])] = read_user_variants(path, fasta, bool(cfg.get("strict_ref", True)))
        variants = read[str(target.paths["fasta"])].table
        if inside_any is None:
            inside_any = np.zeros(len(variants), dtype=bool)
        genes, missing[str(run.path)] = shared_genes(run, target)
        scores, inside = _score_run(run, cfg, target, fasta, genes, variants, precision)
        tables += scores
        inside_any |= inside
    if not tables:
        raise ValueError(
            f"{path}: none of its {len(variants)} variants lies in a window of the runs' genes "
            f"({runs[-1].settings.window_bp} bp around each TSS); check the contigs and the assembly"
        )
    scores = pd.concat(tables, ignore_index=True)
    scores.to_csv(out_dir / "variant_scores.csv", index=False)
    mean = (
        scores.groupby([*MEAN_KEYS, *FOLD_GROUP], sort=False, dropna=False)["score"]
        .agg(score_mean="mean", score_sd="std", n_folds="size")
        .reset_index()
    )
    mean.to_csv(out_dir / "variant_scores_mean.csv", index=False)
    first = next(iter(read.values()))
    n_outside = int((~inside_any).sum())
    summary = {
        "variants_file": str(path),
        "n_records": first.n_records,
        "alleles_skipped": first.skipped,
        "n_alleles": int(len(variants)),
        "n_outside_every_window": n_outside,
        "n_scored_alleles": int(len(variants) - n_outside),
        "n_scores": int(len(scores)),
        "genes_missing_in_target": missing,
    }
    (out_dir / "variant_scores_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    log.info("%s: %d alleles, %d outside every window, %d scores", path, len(variants), n_outside, len(scores))
    print(f"scored {summary['n_scored_alleles']} variants ({n_outside} outside every window) into {out_dir}")
    return scores


def _score_run(
    run: Run,
    cfg: DictConfig,
    target: TargetCohort,
    fasta: ReferenceGenome,
    genes: pd.DataFrame,
    variants: pd.DataFrame,
    precision: str,
) -> tuple[list[pd.DataFrame], np.ndarray]:
    """One run's scores of the variants in its genes' windows (one table per gene that holds some), and which
    variants (bool ``(len(variants),)``) lie in one of those windows. ``precision``: of the forward passes."""
    settings = run.settings
    windows = target.windows(list(genes["target_gene_id"]), settings.window_bp, settings.indels, settings.encoding)
    tables, inside_any, model = [], np.zeros(len(variants), dtype=bool), None
    for (gene_id, name, target_id), window in zip(
        genes[["gene_id", "gene", "target_gene_id"]].itertuples(index=False), windows
    ):
        chrom = fasta.contig(str(target.genes.at[target_id, "chrom"]))
        tss = int(target.genes.at[target_id, "tss"])
        start, end = tss_window(tss, settings.window_bp)
        here = (
            (variants["chrom"] == chrom).to_numpy()
            & (variants["pos"] >= start).to_numpy()
            & (variants["pos"] < end).to_numpy()
        )
        if not here.any():
            continue
        inside_any |= here
        part = variants[here].reset_index(drop=True)
        model = model or load_model(run)
        reference, score = _gene_scores(model, window, part, (chrom, start, end), fasta, cfg.batch_size, precision)
        maf = _window_maf(window)
        part = part.assign(
            gene_id=gene_id,
            gene=name,
            tss=tss,
            distance_to_tss=part["pos"] - tss,
            maf=[maf.get((int(p), r, a), np.nan) for p, r, a in zip(part["pos"], part["ref"], part["alt"])],
        )
        part = annotate(part, "performer", run, layout=SCORE_COLUMNS, values={"run": run_label(run, cfg.runs)})
        tables.append(part.assign(reference_prediction=reference, score=score))
    return tables, inside_any


def _gene_scores(
    model,
    window,
    part: pd.DataFrame,
    region: tuple[str, int, int],
    fasta: ReferenceGenome,
    batch_size: int,
    precision: str,
) -> tuple[float, np.ndarray]:
    """The reference prediction of a gene's window (``region``: chrom, start, end) and float64 ``(len(part),)``
    scores of its variants ``part``: SNVs by ISM, indels and MNPs by their re-centred sequences
    (:func:`~performer.evaluation.user_variants.variant_sequences`)."""
    chrom, start, end = region
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
            batch_size=batch_size,
            precision=precision,
        )
    if (~snv).any():
        sequences = variant_sequences(codes, chrom, start, end, fasta, part[~snv])
        ref_pred, score[~snv] = predict_variants(model, codes, sequences, batch_size=batch_size, precision=precision)
        reference = ref_pred if np.isnan(reference) else reference
    return reference, score


def _window_maf(window) -> dict:
    """``(pos, ref, alt) -> min(af, 1 - af)`` of every variant the target cohort holds in ``window``."""
    observed = window_predictors(window, indels=isinstance(window, HaplotypeWindow))
    if not len(observed):
        return {}
    af = np.asarray(observed.dosage, dtype=np.float64).mean(axis=0) / 2
    return {(int(p), r, a): min(f, 1 - f) for p, r, a, f in zip(observed.pos, observed.ref, observed.alt, af)}
