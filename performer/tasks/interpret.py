"""``task=ism``: variant interpretation of finished runs: ISM, HSVs, drivers, gradient x input and truth checks.

For every finished run and each gene it was trained on (``python evaluate.py task=ism runs=...``):

* ISM of every variant observed in the cohort inside the gene's window (``ism_scores``: SNVs, and with
  ``data.indels`` also indels and MNPs, each applied to the reference window with the TSS kept at its
  centre; the ``kind`` column tells them apart), written per run
  as ``<run_dir>/ism.csv`` and for all runs as ``interpretation/ism.csv``; with ``baseline=enformer``
  also the pretrained Enformer's ISM (tissue CAGE track, 3 centre bins) in ``ism_enformer.csv``,
  computed once per gene window and reused by every fold and train fraction (it depends on neither);
* HSVs: the top-k variants by |ISM|, k = the number of non-zero elastic-net coefficients of the same gene,
  window, fold and train fraction (``k=`` overrides), as in Drusinsky et al.; variants are matched to
  their coefficients on (``pos``, ``ref``, ``alt``);
* drivers: forward selection on the test people (Sasse et al. 2023, adapted by Drusinsky et al.),
  with the PCC / R^2 against observed expression of the model's own linear surrogate, the reference
  prediction plus the drivers' ISM x dosage / 2 (dosages of the ISM table's variants, column for row:
  :func:`~performer.interpret.ism.observed_dosage`; ``drivers.csv``; genes with r_all <= 0 are skipped
  with the reason in ``drivers_skipped``);
* gradient x input on the reference window and averaged over the test people's personal windows,
  with the standardized attribution (``attribution/<run>__<gene>.npz``);
* on a simulated cohort (``truth.tsv`` beside the expression file): auROC / auPR of |ISM| and of
  |elastic-net coefficient| for the planted causal SNVs and the ISM sign agreement
  (``truth_checks.csv``), for genes with h2 above ``truth_min_h2``;
* the functional analyses of the variant weights (``functional=true``: :func:`functional`).

Every forward pass goes through :mod:`performer.predict`, in ``interpret_precision`` (default fp32,
whatever ``precision`` the evaluation or the training used: bf16 rounding swamps ISM differences). The
computations are the services of :mod:`performer.interpret`; a run is read through
:mod:`performer.evaluation.finished_run`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from performer.baselines.elastic_net import elastic_net_baseline, window_predictors
from performer.baselines.enformer import load_reference_enformer, track_for
from performer.data.haplotypes import HaplotypeWindow
from performer.evaluation.finished_run import annotate, heritability, load_model, run_datamodule
from performer.evaluation.options import interpretation_precision, requested_baselines
from performer.interpret.attribution import reference_and_personal_attribution, standardized_attribution
from performer.interpret.drivers import driver_surrogate, select_drivers
from performer.interpret.functional import (
    functional_analyses,
    read_fine_mapped,
    read_qtltools_lead_eqtls,
    weight_table,
)
from performer.interpret.ism import high_scoring_variants, ism_scores, observed_dosage
from performer.interpret.plots import write_interpretation_figures
from performer.interpret.truth import label_truth, recovery_metrics, sign_agreement
from performer.predict import Model, predict_people
from performer.runs import Run, find_runs

log = logging.getLogger(__name__)

VARIANT_KEYS = ["pos", "ref", "alt"]
"""A variant of an ISM table: an indel and an SNV (or two deletions) can share pos and alt."""


def interpret(cfg: DictConfig, out_dir: str | Path) -> pd.DataFrame:
    """Interpret every finished run under ``cfg.runs``; write tables and figures to ``out_dir/interpretation``.

    Returns:
        The ISM table of all runs.
    """
    out_dir = Path(out_dir) / "interpretation"
    out_dir.mkdir(parents=True, exist_ok=True)
    saved_path = Path(out_dir).parent / "elastic_net_coefficients.csv"
    saved = pd.read_csv(saved_path) if saved_path.exists() else None
    runs = find_runs(cfg.runs)
    tables = [interpret_run(run, cfg, out_dir, saved) for run in runs]
    ism = pd.concat([t[0] for t in tables], ignore_index=True)
    reference = None
    if "enformer" in requested_baselines(cfg):
        enformer = load_reference_enformer(cfg.model.pretrained)
        cache: dict = {}
        results = [enformer_ism(run, cfg, enformer, cache) for run in runs]
        reference = pd.concat([r[0] for r in results], ignore_index=True)
        reference.to_csv(out_dir / "ism_enformer.csv", index=False)
        pd.concat([r[1] for r in results], ignore_index=True).to_csv(out_dir / "drivers_enformer.csv", index=False)
    ism.to_csv(out_dir / "ism.csv", index=False)
    _write_drivers([t[1] for t in tables if t[1] is not None], out_dir)
    truth = _write_truth_checks([t[2] for t in tables if t[2] is not None], out_dir)
    if cfg.figures:
        write_interpretation_figures(ism, truth, out_dir)
    if cfg.functional:
        windows = _functional_windows(runs, tables, reference is not None, cfg)
        truth = next((t[3]["truth"] for t in tables if t[3]["truth"] is not None), None)
        functional(ism, reference, windows, truth, cfg, out_dir / "functional")
    return ism


# ----------------------------------------------------------------------------------------------------------
# One run
# ----------------------------------------------------------------------------------------------------------


def interpret_run(run: Run, cfg: DictConfig, out_dir: Path, saved_coefficients: pd.DataFrame | None):
    """Interpret one run; returns (ism table, driver table, truth-check table, {"windows", "truth"}).

    Writes the run's ``<run_dir>/ism.csv`` and its gradient x input (``out_dir/attribution``).
    """
    datamodule = run_datamodule(run)
    model = load_model(run)
    coefficients = _coefficients(run, datamodule, saved_coefficients, cfg.seed)
    truth_path = datamodule.paths["expression"].parent / "truth.tsv"
    truth = pd.read_csv(truth_path, sep="\t") if truth_path.exists() else None
    h2 = heritability(datamodule.paths["expression"])
    test = datamodule.datasets["test"]
    test_groups = test.groups()

    ism_tables, driver_rows, truth_rows = [], [], []
    for gene_id in datamodule.train_gene_ids:
        g = datamodule.gene_ids.index(gene_id)
        name = datamodule.gene_names[g]
        window = datamodule.windows[g]
        tss = int(datamodule.cohort.genes.at[gene_id, "tss"])
        table = gene_ism(model, window, tss, cfg)
        table.insert(0, "gene_id", gene_id)
        table.insert(1, "gene", name)
        table = _mark_hsvs(table, coefficients[coefficients["gene_id"] == gene_id], cfg.k)

        items = test_groups[g]
        table["is_driver"], row = gene_drivers(model, table, window, test, items, cfg)
        driver_rows.append({"gene_id": gene_id, "gene": name, **row})
        _save_attribution(model, window, test.person[items], tss, cfg, datamodule.encoding, out_dir, run, name)

        if truth is not None:
            table = label_truth(table, truth, gene_id)
            if h2.get(gene_id, 0.0) > cfg.truth_min_h2 and table["is_causal"].any():
                truth_rows.append({"gene_id": gene_id, "gene": name, "h2": h2[gene_id], **_truth_check(table)})
        else:
            table["is_causal"], table["true_beta"] = np.nan, np.nan
        ism_tables.append(table)

    ism_table = annotate(pd.concat(ism_tables, ignore_index=True), "performer", run, datamodule)
    ism_table.to_csv(run.files.ism, index=False)

    def as_table(rows: list[dict]) -> pd.DataFrame | None:
        return annotate(pd.DataFrame(rows), "performer", run, datamodule) if rows else None

    windows = {g: datamodule.windows[datamodule.gene_ids.index(g)] for g in datamodule.train_gene_ids}
    return ism_table, as_table(driver_rows), as_table(truth_rows), {"windows": windows, "truth": truth}


def gene_ism(model: Model, window, tss: int, cfg: DictConfig, track: int | None = None) -> pd.DataFrame:
    """ISM table of one gene window (:func:`~performer.interpret.ism.ism_scores`) with the task's
    batch size (``cfg.batch_size``) and precision (:func:`~performer.evaluation.options.interpretation_precision`)."""
    return ism_scores(
        model,
        window,
        tss,
        batch_size=int(cfg.batch_size),
        precision=interpretation_precision(cfg),
        track=track,
        progress="ISM",
    )


def _coefficients(run: Run, datamodule, saved: pd.DataFrame | None, seed: int) -> pd.DataFrame:
    """Elastic-net coefficients of the run's genes, fitted on the same window, fold and train fraction.

    Taken from the evaluation's ``elastic_net_coefficients.csv`` when it has rows of every training gene
    with the run's ``window_bp``, ``fold`` and ``train_fraction`` (a table without ``window_bp``, from an
    older evaluation, is not used); else fitted now on the run's train people."""
    settings = run.settings
    window_bp = int(datamodule.window_bp)
    if saved is not None and "window_bp" in saved.columns:
        rows = saved[
            (saved["window_bp"] == window_bp)
            & (saved["fold"] == settings.fold)
            & (saved["train_fraction"] == settings.train_fraction)
        ]
        rows = rows[rows["gene_id"].isin(datamodule.train_gene_ids)]
        if rows["gene_id"].nunique() == len(datamodule.train_gene_ids):
            return rows.drop_duplicates(["gene_id", *VARIANT_KEYS])
    log.info(
        "fitting the elastic net for %s (no saved coefficients for window %d bp, fold %s, train fraction %s): "
        "it sets the HSV count",
        run.path,
        window_bp,
        settings.fold,
        settings.train_fraction,
    )
    return elastic_net_baseline(datamodule, seed=seed).coefficients


def _mark_hsvs(table: pd.DataFrame, coefficients: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """Add ``en_coef`` (the gene's elastic-net coefficient of each variant, NaN without one), ``hsv_rank`` and
    ``is_hsv``: the top ``k`` variants by |ISM| (default: the gene's number of non-zero coefficients)."""
    gene_coefs = coefficients.set_index(VARIANT_KEYS)["coef"]
    table["en_coef"] = [gene_coefs.get(key, np.nan) for key in zip(*(table[c] for c in VARIANT_KEYS))]
    k = int(k) if k is not None else int((gene_coefs != 0).sum())
    hsv = high_scoring_variants(table, k)
    rank = dict(zip(zip(*(hsv[c] for c in VARIANT_KEYS)), hsv["rank"]))
    table["hsv_rank"] = [float(rank.get(key, np.nan)) for key in zip(*(table[c] for c in VARIANT_KEYS))]
    table["is_hsv"] = table["hsv_rank"].notna()
    return table


def gene_drivers(
    model: Model, table: pd.DataFrame, window, dataset, items: np.ndarray, cfg: DictConfig, track: int | None = None
) -> tuple[np.ndarray, dict]:
    """Driver variants of one gene on its test people, and their surrogate's accuracy.

    Args:
        model, track: the model (Performer, or the pretrained Enformer with its track).
        table: the gene's ISM table (:func:`gene_ism`; one row per observed variant, in window order), with
            ``attrs["reference_prediction"]`` (and an ``is_hsv`` column, if HSVs were chosen).
        window: the gene's window; dataset, items: the test set and the gene's items in it.

    Returns:
        bool ``(len(table),)`` driver flags, and a row for ``drivers.csv``: ``n_snvs``, ``n_hsv``,
        ``n_drivers``, ``r_all``, ``surrogate_pcc``, ``surrogate_r2`` (the model's own linear surrogate,
        :func:`~performer.interpret.drivers.driver_surrogate`, against observed expression),
        ``drivers_skipped`` (the reason no driver was selected, e.g. ``r_all <= 0``) and ``n_people``.
    """
    people = dataset.person[items]
    y = dataset.target[items].astype(np.float64)
    precision = interpretation_precision(cfg)
    predictions = predict_people(
        model, dataset, items, track=track, batch_size=int(cfg.batch_size), precision=precision
    )
    dosage = observed_dosage(window, people).astype(np.float64)  # one column per table row
    if dosage.shape[1] != len(table):
        raise ValueError(f"the ISM table has {len(table)} rows but the window {dosage.shape[1]} observed variants")
    ism = table["ism"].to_numpy()
    drivers = select_drivers(ism, dosage, predictions)
    surrogate_pcc = surrogate_r2 = np.nan  # no drivers to score (e.g. r_all <= 0): counted in interpret()'s log
    if drivers.skipped is None:
        surrogate = driver_surrogate(ism, dosage, drivers.drivers, y, table.attrs["reference_prediction"])
        surrogate_pcc, surrogate_r2 = surrogate.pcc, surrogate.r2
    row = {
        "n_snvs": len(table),
        "n_hsv": int(table["is_hsv"].sum()) if "is_hsv" in table else np.nan,
        "n_drivers": len(drivers.drivers),
        "r_all": drivers.r_all,
        "surrogate_pcc": surrogate_pcc,
        "surrogate_r2": surrogate_r2,
        "drivers_skipped": drivers.skipped or "",
        "n_people": len(y),
    }
    return np.isin(np.arange(len(table)), drivers.drivers), row


def _save_attribution(
    model: Model,
    window,
    people: np.ndarray,
    tss: int,
    cfg: DictConfig,
    encoding: str,
    out_dir: Path,
    run: Run,
    name: str,
) -> Path:
    """Gradient x input of one gene on the reference window and over its test ``people`` (rows of the window),
    raw and standardized, as ``out_dir/attribution/<run>__<gene>.npz``; returns the path."""
    attribution = reference_and_personal_attribution(
        model, window, rows=people, batch_size=int(cfg.attribution_batch_size), encoding=encoding
    )
    attribution_dir = out_dir / "attribution"
    attribution_dir.mkdir(parents=True, exist_ok=True)
    path = attribution_dir / f"{_slug(run.path)}__{_slug(name)}.npz"
    np.savez_compressed(
        path,
        chrom=window.chrom,
        positions=attribution.positions,
        tss=tss,
        reference=attribution.reference,
        personal=attribution.personal,
        standardized_reference=standardized_attribution(attribution.reference),
        standardized_personal=standardized_attribution(attribution.personal),
    )
    return path


def _truth_check(table: pd.DataFrame) -> dict:
    """Recovery of a simulated gene's planted causal variants (``is_causal``, ``true_beta`` of
    :func:`~performer.interpret.truth.label_truth`) by |ISM| and |elastic-net coefficient|, and ISM sign agreement."""
    causal = table["is_causal"].to_numpy(bool)
    ism_rec = recovery_metrics(table["ism"].to_numpy(), causal)
    en_rec = recovery_metrics(table["en_coef"].fillna(0).to_numpy(), causal)
    return {
        "n_snvs": len(table),
        "n_causal": int(causal.sum()),
        "ism_auroc": ism_rec["auroc"],
        "ism_aupr": ism_rec["aupr"],
        "en_auroc": en_rec["auroc"],
        "en_aupr": en_rec["aupr"],
        "sign_agreement": sign_agreement(table["ism"].to_numpy(), table["true_beta"].fillna(0).to_numpy()),
    }


def enformer_ism(run: Run, cfg: DictConfig, enformer, cache: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ISM of the run's genes with a pretrained Enformer: its tissue CAGE track summed over the 3 centre
    bins, on ``cfg.enformer_window_bp`` windows (49,152 bp: bins 191-193).

    The ISM of a gene window depends on the cohort's files, the window, the track, the weights and the
    precision, not on the run's fold or train fraction: each is computed once per ``cache`` (a dict kept
    across runs, keyed by those) and reused. Driver variants (:func:`gene_drivers`) are selected per run,
    on its test people.

    Returns:
        The ISM table (with ``is_driver``) and the driver table, both annotated with ``model`` ``enformer``.
    """
    track = track_for(run.cfg.data.tissue, cfg.track)
    datamodule = run_datamodule(run, window_bp=cfg.enformer_window_bp)
    cache = {} if cache is None else cache
    cohort = tuple(str(datamodule.paths[k]) for k in ("vcf", "fasta", "expression"))
    test = datamodule.datasets["test"]
    test_groups = test.groups()
    tables, driver_rows = [], []
    for gene_id in datamodule.train_gene_ids:
        g = datamodule.gene_ids.index(gene_id)
        window = datamodule.windows[g]
        key = (cohort, gene_id, window.chrom, window.start, window.end, track, str(cfg.model.pretrained))
        key = (*key, interpretation_precision(cfg))
        if key not in cache:
            tss = int(datamodule.cohort.genes.at[gene_id, "tss"])
            table = gene_ism(enformer, window, tss, cfg, track=track)
            table.insert(0, "gene_id", gene_id)
            table.insert(1, "gene", datamodule.gene_names[g])
            cache[key] = table
        else:
            log.info("pretrained-Enformer ISM of %s reused from an earlier run (same window and track)", gene_id)
        table = cache[key].copy()  # the window's ISM is shared; drivers depend on the run's test people
        table.attrs = dict(cache[key].attrs)
        table["is_driver"], row = gene_drivers(enformer, table, window, test, test_groups[g], cfg, track=track)
        driver_rows.append({"gene_id": gene_id, "gene": datamodule.gene_names[g], **row})
        tables.append(table)
    ism = annotate(pd.concat(tables, ignore_index=True), "enformer", run, datamodule)
    return ism, annotate(pd.DataFrame(driver_rows), "enformer", run, datamodule)


def _slug(value) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).strip("_")


# ----------------------------------------------------------------------------------------------------------
# All runs
# ----------------------------------------------------------------------------------------------------------


def _write_drivers(tables: list[pd.DataFrame], out_dir: Path) -> None:
    """Write ``drivers.csv`` (when any run has drivers) and log the genes whose driver selection was skipped."""
    if not tables:
        return
    drivers = pd.concat(tables, ignore_index=True)
    drivers.to_csv(out_dir / "drivers.csv", index=False)
    skipped = drivers["drivers_skipped"][drivers["drivers_skipped"] != ""].value_counts()
    if len(skipped):
        log.info("driver selection skipped %d gene-runs: %s", int(skipped.sum()), skipped.to_dict())


def _write_truth_checks(tables: list[pd.DataFrame], out_dir: Path) -> pd.DataFrame:
    """Write ``truth_checks.csv`` and print its means when a simulated cohort gave any; returns the table."""
    truth = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if len(truth):
        truth.to_csv(out_dir / "truth_checks.csv", index=False)
        print(
            f"causal-SNV recovery over {len(truth)} gene-folds: mean auROC |ISM| {truth['ism_auroc'].mean():.3f}, "
            f"|elastic net| {truth['en_auroc'].mean():.3f}; ISM sign agreement {truth['sign_agreement'].mean():.3f}"
        )
    return truth


def _functional_windows(runs: list[Run], tables: list, with_enformer: bool, cfg: DictConfig) -> dict[str, dict]:
    """``{"performer": {gene_id: window}, "enformer": {gene_id: window}}`` for :func:`functional`: the first
    window of each gene (one window size per sweep), the pretrained Enformer's only with its ISM."""
    windows = {"performer": {}, "enformer": {}}
    for table in tables:
        for gene_id, window in table[3]["windows"].items():
            windows["performer"].setdefault(gene_id, window)
    if with_enformer:
        for run in runs:
            enformer_dm = run_datamodule(run, window_bp=cfg.enformer_window_bp)  # mapped from the window cache
            for gene_id in enformer_dm.train_gene_ids:
                windows["enformer"].setdefault(gene_id, enformer_dm.windows[enformer_dm.gene_ids.index(gene_id)])
    return windows


def functional(
    ism: pd.DataFrame,
    reference: pd.DataFrame | None,
    windows: dict[str, dict],
    truth: pd.DataFrame | None,
    cfg: DictConfig,
    out_dir: Path,
) -> dict[str, pd.DataFrame]:
    """The paper's functional analyses of the variant weights of Performer (ISM), the elastic net
    (coefficients) and, with ``reference`` (its ISM table), the pretrained Enformer
    (:func:`performer.interpret.functional.functional_analyses`): variant sets, motifbreakR export,
    annotation enrichment (``annotation_bed=``), fine-mapped eQTL auROC and LD of selected variants.

    Args:
        windows: ``{"performer": {gene_id: window}, "enformer": {gene_id: window}}``; the elastic net
            shares Performer's windows. LD reads each gene's widest window (all are centred on the TSS).
        truth: the simulated cohort's ``truth.tsv`` (or None).

    Fine-mapped variants come from ``fine_mapped=`` (a table with ``pip`` or ``label``, or QTLtools lead
    eQTLs with ``fine_mapped_format=qtltools``); on a simulated cohort without one, the planted causal
    SNVs of ``truth`` are the labels.
    """
    if cfg.fine_mapped:
        if cfg.fine_mapped_format == "qtltools":
            fine = read_qtltools_lead_eqtls(cfg.fine_mapped, cfg.eqtl_p_threshold)
        else:
            fine = read_fine_mapped(cfg.fine_mapped, cfg.pip_threshold)
    elif truth is not None:
        causal = truth.assign(pos=truth["vcf_pos"], label=1)  # vcf_pos: 1-based, as fine-mapping tables are
        fine = read_fine_mapped(causal[["gene_id", "chrom", "pos", "ref", "alt", "label"]], source="truth.tsv")
    else:
        fine = None
    rows = [
        {"model": model, "gene_id": g, "chrom": w.chrom, "start": w.start, "end": w.end}
        for model, source in (("performer", "performer"), ("elastic_net", "performer"), ("enformer", "enformer"))
        for g, w in windows[source].items()
    ]
    widest = {}
    for window_set in windows.values():
        for g, w in window_set.items():
            if g not in widest or w.end - w.start > widest[g].end - widest[g].start:
                widest[g] = w
    return functional_analyses(
        weight_table(ism, reference),
        out_dir,
        windows=pd.DataFrame(rows),
        annotation_bed=cfg.annotation_bed,
        fine_mapped=fine,
        dosages={g: window_predictors(w, indels=isinstance(w, HaplotypeWindow)) for g, w in widest.items()},
        figures=cfg.figures,
    )
