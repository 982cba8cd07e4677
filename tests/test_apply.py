"""Trained runs on new people and new variants: cross-cohort evaluation, imputation and variant scoring."""

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from conftest import ROOT, TINY_MODEL, run_evaluate, run_sweep
from hydra import compose, initialize_config_dir
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

from performer.data.simulate import simulate_same_loci
from performer.evaluation.finished_run import run_datamodule
from performer.interpret.ism import ism_scores
from performer.model.module import PerformerModule
from performer.runs import find_runs, read_split
from performer.tasks.cross_cohort import cross_cohort_evaluation

FAST = [*TINY_MODEL, "batch_size=8", "eval_batch_size=16", "trainer.max_epochs=1", "logger=none"]
DATA = ["vcf=genotypes.vcf.gz", "fasta=reference.fa", "gene_table=genes.tsv"]


def other_data(root: Path, expression: str | None = "expression.bed.gz") -> list[str]:
    """Overrides naming another cohort (the demo config with its own root, not simulated)."""
    return ["data=demo", f"data.root={root}", "data.simulate=false", f"data.expression={expression or 'null'}"]


def _bgzip_text(text: str, path: Path, preset: str | None) -> None:
    plain = path.with_suffix("")  # drop .gz
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    if preset:
        pysam.tabix_index(str(path), preset=preset, force=True)


@pytest.fixture(scope="module")
def other_cohort(tiny_cohort, tmp_path_factory) -> Path:
    """The tiny cohort's loci with other people: samples renamed SIM -> OTH, gene ID versions bumped, the last
    five people absent from the expression file, PPIF's row dropped."""
    out = tmp_path_factory.mktemp("other_cohort")
    for name in ("reference.fa", "reference.fa.fai", "genes.tsv", "heritability.tsv"):
        if (tiny_cohort / name).exists():
            shutil.copy(tiny_cohort / name, out / name)
    vcf = gzip.open(tiny_cohort / "genotypes.vcf.gz", "rt").read()
    lines = vcf.split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("#CHROM"))
    lines[header] = lines[header].replace("SIM", "OTH")
    _bgzip_text("\n".join(lines), out / "genotypes.vcf.gz", "vcf")
    bed = pd.read_csv(tiny_cohort / "expression.bed.gz", sep="\t")
    bed.columns = [c.replace("SIM", "OTH") for c in bed.columns]
    bed = bed.iloc[:, :-5]  # five VCF people without expression
    bed = bed[bed["gene_id"] != bed["gene_id"].iloc[2]]  # the third gene (PPIF) is not measured there
    bed["gene_id"] = bed["gene_id"].str.replace(r"\.1$", ".2", regex=True)
    bed.to_csv(out / "expression.bed.gz", sep="\t", index=False, compression="gzip")
    h2 = out / "heritability.tsv"
    if h2.exists():
        table = pd.read_csv(h2, sep="\t")
        table["gene_id"] = table["gene_id"].str.replace(r"\.1$", ".2", regex=True)
        table.to_csv(h2, sep="\t", index=False)
    return out


@pytest.fixture(scope="module")
def runs(tiny_cohort, tmp_path_factory) -> Path:
    """Two single-gene BTNL3 runs (folds 0 and 1)."""
    sweep = tmp_path_factory.mktemp("apply_runs")
    return run_sweep(sweep, "gene=BTNL3", "fold=0,1", f"data.root={tiny_cohort}", *FAST)


@pytest.mark.slow  # trains 2 runs
def test_cross_cohort_metrics_equal_scipy_and_sklearn(runs, other_cohort):
    run_evaluate(
        f"runs={runs}", "baseline=elastic_net", *other_data(other_cohort), "hydra.run.dir=" + str(runs / "cross")
    )
    table = pd.read_csv(runs / "cross" / "evaluation.csv")
    predictions = pd.read_csv(runs / "cross" / "predictions.csv", dtype={"person": str})
    cross = table[table["gene_set"] == "cross-cohort"]
    assert set(cross["model"]) == {"performer", "elastic_net"} and set(cross["split"]) == {"all"}
    assert "test" in set(table.loc[table["gene_set"] == "HOP", "split"])  # the HOP rows are still there
    assert len(cross) == 4  # 2 runs x 2 models, BTNL3 matched across ID versions
    for row in cross.itertuples():
        people = predictions[
            (predictions["model"] == row.model)
            & (predictions["fold"] == row.fold)
            & (predictions["gene_set"] == "cross-cohort")
        ]
        assert len(people) == row.n_people == 55  # every person with genotypes and expression, no split
        assert people["person"].str.startswith("OTH").all()
        assert row.r2 == pytest.approx(r2_score(people["y"], people["pred"]))
        if people["pred"].std() > 0:
            assert row.pcc == pytest.approx(pearsonr(people["pred"], people["y"]).statistic)
    assert cross["h2"].notna().all() and set(cross["cohort"]) == {"demo"}
    summary = pd.read_csv(runs / "cross" / "cross_cohort_summary.csv")
    assert (summary["n_people_with_expression"] == 55).all() and (summary["n_vcf_samples"] == 60).all()
    # the same genotypes: every elastic-net variant is found in the other cohort
    assert (summary["elastic_net_n_absent"] == 0).all() and (summary["elastic_net_n_predictors"] > 0).all()
    # so the elastic net's predictions of a person equal its predictions of the same genome in the own cohort
    own = predictions[(predictions["model"] == "elastic_net") & (predictions["gene_set"] == "HOP")]
    own = own.assign(person=own["person"].str.replace("SIM", "OTH"))
    other = predictions[(predictions["model"] == "elastic_net") & (predictions["gene_set"] == "cross-cohort")]
    both = own.merge(other, on=["fold", "person"], suffixes=("_own", "_other"))
    assert len(both) > 0
    np.testing.assert_allclose(both["pred_own"], both["pred_other"], rtol=1e-12)
    assert (runs / "cross" / "cross_cohort_vs_hop.png").stat().st_size > 0


@pytest.mark.slow  # trains 2 runs
def test_cross_cohort_on_new_people_of_the_same_loci(runs, tiny_cohort, tmp_path):
    other = simulate_same_loci(tiny_cohort, tmp_path / "second", n_people=40)
    out = tmp_path / "eval"
    run_evaluate(f"runs={runs}", "baseline=elastic_net", "figures=false", *other_data(other), f"hydra.run.dir={out}")
    table = pd.read_csv(out / "evaluation.csv")
    predictions = pd.read_csv(out / "predictions.csv", dtype={"person": str})
    cross = table[table["gene_set"] == "cross-cohort"]
    assert len(cross) == 4 and (cross["n_people"] == 40).all()
    for row in cross.itertuples():
        people = predictions[
            (predictions["model"] == row.model)
            & (predictions["fold"] == row.fold)
            & (predictions["gene_set"] == row.gene_set)
        ]
        assert people["person"].str.startswith("OTH").all() and len(people) == 40
        assert row.r2 == pytest.approx(r2_score(people["y"], people["pred"]))
        if people["pred"].std() > 0:
            assert row.pcc == pytest.approx(pearsonr(people["pred"], people["y"]).statistic)
    summary = pd.read_csv(out / "cross_cohort_summary.csv")
    assert (summary["n_genes_shared"] == 1).all() and (summary["n_vcf_samples"] == 40).all()
    assert (summary["n_people_scored"] == 40).all()  # new people: none of them is the runs' own
    assert (summary[["n_run_train_people_excluded", "n_run_tune_people_excluded"]] == 0).all().all()
    # the same sites: a model variant is absent only where no new person carries it (and is then dosage 0)
    assert (summary["elastic_net_n_absent"] <= summary["elastic_net_n_predictors"]).all()


@pytest.mark.slow  # trains 2 runs
def test_cross_cohort_on_the_runs_own_cohort_leaves_out_its_train_and_tune_people(runs, tiny_cohort, tmp_path):
    """The run's own cohort given as "another" one: only its test people are new to it, scored as in its HOP rows."""
    out = tmp_path / "own"
    run_evaluate(
        f"runs={runs}", "baseline=elastic_net", "figures=false", *other_data(tiny_cohort), f"hydra.run.dir={out}"
    )
    predictions = pd.read_csv(out / "predictions.csv", dtype={"person": str})
    summary = pd.read_csv(out / "cross_cohort_summary.csv").set_index("run_dir")
    found = find_runs(runs)
    assert len(found) == 2
    for run in found:
        split = read_split(run.path)
        row = summary.loc[str(run.path)]
        assert row["n_people_with_expression"] == 60
        assert row["n_run_train_people_excluded"] == len(split.train) == 48
        assert row["n_run_tune_people_excluded"] == len(split.tune) == 6
        assert row["n_people_scored"] == row["n_run_test_people_scored"] == len(split.test) == 6
        assert sorted(row["run_people_excluded"].split(";")) == sorted(split.train + split.tune)
        mine = predictions[predictions["fold"] == int(run.cfg.fold)]
        for model in ("performer", "elastic_net"):
            cross = mine[(mine["model"] == model) & (mine["gene_set"] == "cross-cohort")]
            assert sorted(cross["person"]) == sorted(split.test)  # exactly the people the run never saw
            hop = mine[(mine["model"] == model) & (mine["gene_set"] == "HOP") & (mine["split"] == "test")]
            both = hop.merge(cross, on="person", suffixes=("_hop", "_cross"))
            assert len(both) == 6
            np.testing.assert_allclose(both["pred_cross"], both["pred_hop"], rtol=1e-5, atol=1e-6)

    # a cohort holding only fold 0's train and tune people: nothing is new to that run, an error naming it
    seen = tmp_path / "seen"
    shutil.copytree(tiny_cohort, seen)
    (seen / "expression.bed.gz.tbi").unlink(missing_ok=True)
    run = next(r for r in found if int(r.cfg.fold) == 0)
    split = read_split(run.path)
    bed = pd.read_csv(seen / "expression.bed.gz", sep="\t")
    bed = bed.drop(columns=split.test)
    bed.to_csv(seen / "expression.bed.gz", sep="\t", index=False, compression="gzip")
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(config_name="evaluate", overrides=[f"runs={runs}", *other_data(seen)])
    with pytest.raises(ValueError, match="none is new to it") as error:
        cross_cohort_evaluation(cfg, [run], {})
    assert f"run {run.path}" in str(error.value) and "train (48) or tune (6)" in str(error.value)


@pytest.mark.slow  # trains 2 runs
def test_imputation_equals_evaluation_and_needs_no_expression(runs, other_cohort):
    run_evaluate(f"runs={runs}", "figures=false", "hydra.run.dir=" + str(runs / "hop"))
    evaluated = pd.read_csv(runs / "hop" / "predictions.csv", dtype={"person": str})
    run_evaluate(f"runs={runs}", "task=predict", "hydra.run.dir=" + str(runs / "own"))
    long = pd.read_csv(runs / "own" / "imputed" / "imputed_long.csv.gz", dtype={"person": str})
    assert len(long) == 2 * 60  # every person of the VCF, for each run
    for run in find_runs(runs):  # the run's own people are imputed too, marked and counted
        split = read_split(run.path)
        mine = long[long["fold"] == int(run.cfg.fold)]
        for name in ("train", "tune", "test"):
            assert sorted(mine.loc[mine["run_split"] == name, "person"]) == sorted(split[name])
    described = pd.read_csv(runs / "own" / "imputed" / "imputed_runs.csv")
    assert (described[["n_run_train_people", "n_run_tune_people", "n_run_test_people"]] == [48, 6, 6]).all().all()
    merged = evaluated[evaluated["model"] == "performer"].merge(long, on=["fold", "gene_id", "person"])
    assert len(merged) == 2 * 6  # the test people of each fold
    np.testing.assert_allclose(merged["pred_x"], merged["pred_y"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(merged["y_x"], merged["y_y"], rtol=1e-6)  # evaluation's y went through float32
    mean = long.groupby("person")["pred"].mean()
    np.testing.assert_allclose(long.set_index("person")["pred_mean_folds"].groupby(level=0).first(), mean)
    by_run = pd.read_csv(runs / "own" / "imputed" / "imputed_by_run.csv.gz", dtype={"person": str})
    assert {"BTNL3/fold0", "BTNL3/fold1", "mean:single_gene"} <= set(by_run.columns)
    matrix = pd.read_csv(runs / "own" / "imputed" / "imputed_matrix.csv.gz", index_col=0)
    assert matrix.shape == (60, 1) and list(matrix.columns) == ["BTNL3"]
    np.testing.assert_allclose(matrix["BTNL3"].to_numpy(), mean.loc[matrix.index.astype(str)].to_numpy())

    # a cohort given by a VCF, a FASTA and a gene table only: every VCF person gets predictions
    run_evaluate(f"runs={runs}", "task=predict", *other_data(other_cohort, None), "hydra.run.dir=" + str(runs / "new"))
    new = pd.read_csv(runs / "new" / "imputed" / "imputed_long.csv.gz", dtype={"person": str})
    assert len(new) == 2 * 60 and new["y"].isna().all() and new["person"].str.startswith("OTH").all()
    assert (new["run_split"] == "new").all()
    # the same genomes under other names: the same predictions
    same = long.assign(person=long["person"].str.replace("SIM", "OTH")).merge(new, on=["fold", "person"])
    np.testing.assert_allclose(same["pred_x"], same["pred_y"], rtol=1e-5, atol=1e-6)

    # with the expression file, people missing from it still get a prediction (y NaN)
    run_evaluate(f"runs={runs}", "task=predict", *other_data(other_cohort), "hydra.run.dir=" + str(runs / "partial"))
    partial = pd.read_csv(runs / "partial" / "imputed" / "imputed_long.csv.gz", dtype={"person": str})
    assert len(partial) == 2 * 60 and partial["y"].isna().sum() == 2 * 5


def _sites_vcf(path: Path, rows: list[tuple]) -> Path:
    header = "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    body = "".join(f"{c}\t{p}\t{i}\t{r}\t{a}\t.\tPASS\t.\n" for c, p, i, r, a in rows)
    path.write_text(header + body)
    return path


@pytest.mark.slow  # trains 2 runs
def test_variant_scores_equal_ism_and_errors(runs, tiny_cohort, tmp_path):
    run = next(r for r in find_runs(runs) if int(r.cfg.fold) == 0 and "BTNL3" in str(r.path))
    dm = run_datamodule(run)
    window = dm.windows[0]
    model = PerformerModule.load_from_checkpoint(run.checkpoint, map_location="cpu").model
    tss = window.start + (window.end - window.start) // 2
    ism = ism_scores(model, window, tss, batch_size=32)
    chosen = ism.iloc[:: max(1, len(ism) // 8)].head(8)
    fasta = (tiny_cohort / "reference.fa").read_text().split("\n", 1)[1].replace("\n", "")
    far = 5_000 if fasta[4_999] in "ACGT" else 5_001  # outside every window (BTNL3's TSS is ~ 42,768)
    rows = [
        ("chr1", p + 1, f"v{i}", r, a) for i, (p, r, a) in enumerate(zip(chosen["pos"], chosen["ref"], chosen["alt"]))
    ]
    # a deletion of 3 bp at the TSS - 10 (scored through predict_variants), and a variant far from any gene
    start = tss - 10
    rows.append(("chr1", start + 1, "del", fasta[start : start + 4], fasta[start]))
    rows.append(("1", far, "far", fasta[far - 1], "A" if fasta[far - 1] != "A" else "C"))
    variants = _sites_vcf(tmp_path / "sites.vcf", rows)
    run_evaluate(
        f"runs={runs}", "task=score_variants", f"variants={variants}", "hydra.run.dir=" + str(tmp_path / "out")
    )
    scores = pd.read_csv(tmp_path / "out" / "variant_scores" / "variant_scores.csv")
    mine = scores[(scores["fold"] == 0) & (scores["kind"] == "SNV")].sort_values("pos")
    expected = chosen.sort_values("pos")
    np.testing.assert_array_equal(mine["pos"], expected["pos"])
    np.testing.assert_allclose(mine["score"], expected["ism"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(mine["maf"], expected["maf"])
    np.testing.assert_array_equal(mine["distance_to_tss"], expected["distance_to_tss"])
    deletion = scores[(scores["variant_id"] == "del")]
    assert len(deletion) == 2 and deletion["kind"].eq("indel").all() and deletion["score"].notna().all()
    summary = json.loads((tmp_path / "out" / "variant_scores" / "variant_scores_summary.json").read_text())
    assert summary["n_outside_every_window"] == 1 and summary["n_alleles"] == len(rows)
    mean = pd.read_csv(tmp_path / "out" / "variant_scores" / "variant_scores_mean.csv")
    assert (mean["n_folds"] == 2).all()

    # no variant in any window: a clear error
    only_far = _sites_vcf(tmp_path / "far.vcf", [rows[-1]])
    result = run_evaluate(f"runs={runs}", "task=score_variants", f"variants={only_far}", check=False)
    assert result.returncode != 0 and "none of its 1 variants lies in a window" in result.stderr
    # a REF that is not the FASTA's: an error naming the record and the fix
    bad = _sites_vcf(tmp_path / "bad.vcf", [("chr1", rows[0][1], "x", "N" if rows[0][3] != "N" else "A", "G")])
    result = run_evaluate(f"runs={runs}", "task=score_variants", f"variants={bad}", check=False)
    assert result.returncode != 0 and "differs from the FASTA" in result.stderr and "strict_ref=false" in result.stderr


@pytest.mark.slow  # trains 2 runs
def test_no_shared_gene_is_a_clear_error(runs, other_cohort, tmp_path):
    genes = pd.read_csv(other_cohort / "genes.tsv", sep="\t")
    genes = genes[genes["gene_name"] != "BTNL3"]
    genes.to_csv(tmp_path / "genes.tsv", sep="\t", index=False)
    overrides = [*other_data(other_cohort, None), f"data.gene_table={tmp_path / 'genes.tsv'}"]
    result = run_evaluate(f"runs={runs}", "task=predict", *overrides, "hydra.run.dir=" + str(tmp_path), check=False)
    assert result.returncode != 0 and "none of its genes (BTNL3)" in result.stderr
