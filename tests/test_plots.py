"""Tests for performer.evaluation.plots and the shared helpers of performer.plotting: each figure writes a
readable PNG, plots fold means, and skips (returns None) instead of crashing when the tables lack what it needs."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import r2_score

from performer import plotting
from performer.evaluation import plots

GENES = [f"G{i}" for i in range(6)]
FOLDS = [0, 1, 2]
FRACTIONS = [0.25, 0.5, 0.75, 1.0]
N_PEOPLE = 500  # cohort size; train people = 80 % of it times the train fraction


def make_table(seed: int = 0) -> pd.DataFrame:
    """6 genes x 3 folds x {performer, elastic_net} HOP test/tune rows with h2; Performer also at train
    fractions 0.25-0.75 (same experiment) and on HOGP rows for genes G3-G5. Metrics are random so that
    fold means differ from any single fold."""
    rng = np.random.default_rng(seed)
    h2 = dict(zip(GENES, [0.0, 0.05, 0.2, 0.25, 0.45, 0.6]))
    rows = []

    def add(model, experiment, gene_set, fraction, gene, fold, split):
        n_train = int(round(0.8 * N_PEOPLE * fraction)) + fold  # varies by fold, so means matter
        pcc = float(np.clip(h2[gene] + 0.3 * fraction + rng.normal(0, 0.1), -1, 1))
        r2 = float(pcc**2 - rng.uniform(0, 0.1))
        rows.append(
            {
                "model": model,
                "experiment": experiment,
                "run_dir": f"runs/{experiment}/{gene}",
                "gene_id": f"ENSG{gene[1:].zfill(5)}.1",
                "gene": gene,
                "fold": fold,
                "split": split,
                "gene_set": gene_set,
                "train_fraction": fraction,
                "n_train": n_train,
                "n_people": 50,
                "pcc": pcc,
                "r2": r2,
                "h2": h2[gene],
            }
        )

    for gene in GENES:
        for fold in FOLDS:
            for split in ("test", "tune"):
                add("elastic_net", "elastic_net", "HOP", 1.0, gene, fold, split)
                for fraction in FRACTIONS:
                    add("performer", "single_gene", "HOP", fraction, gene, fold, split)
                if gene in GENES[3:]:
                    add("performer", "multi_gene", "HOGP", 1.0, gene, fold, split)
    table = pd.DataFrame(rows)
    keys = ["model", "gene_id", "split", "gene_set", "train_fraction"]
    table["mean_pcc_folds"] = table.groupby(keys)["pcc"].transform("mean")
    table["mean_r2_folds"] = table.groupby(keys)["r2"].transform("mean")
    return table


def make_predictions(seed: int = 0, genes=GENES) -> pd.DataFrame:
    """Performer test predictions of 10 people per fold per gene (HOP, fraction 1.0)."""
    rng = np.random.default_rng(seed)
    rows = []
    for g, gene in enumerate(genes):
        for fold in FOLDS:
            y = rng.normal(size=10)
            pred = (0.2 + 0.1 * g) * y + rng.normal(0, 0.5, size=10)
            for i in range(10):
                rows.append(
                    {
                        "model": "performer",
                        "experiment": "single_gene",
                        "gene_id": f"ENSG{gene[1:].zfill(5)}.1",
                        "gene": gene,
                        "fold": fold,
                        "split": "test",
                        "gene_set": "HOP",
                        "train_fraction": 1.0,
                        "person": f"p{fold}_{i}",
                        "y": y[i],
                        "pred": pred[i],
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture(scope="module")
def predictions() -> pd.DataFrame:
    return make_predictions()


def assert_png(path):
    assert path is not None and path.exists() and path.stat().st_size > 0
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100 and image.shape[2] in (3, 4)


def expected_fold_means(table, model, gene_set="HOP", split="test", fraction=1.0) -> pd.DataFrame:
    rows = table[
        (table.model == model)
        & (table.gene_set == gene_set)
        & (table.split == split)
        & (table.train_fraction == fraction)
    ]
    return rows.groupby("gene_id")[["pcc", "r2"]].mean()


# --- plotted values are fold means ---------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["test", "tune"])
def test_performer_vs_elastic_net_points_are_fold_means(table, split):
    points = plots.performer_vs_elastic_net_points(table, split).set_index("gene_id")
    performer = expected_fold_means(table, "performer", split=split)
    elastic_net = expected_fold_means(table, "elastic_net", split=split)
    assert len(points) == 6
    np.testing.assert_allclose(points["performer_pcc"], performer.loc[points.index, "pcc"])
    np.testing.assert_allclose(points["performer_r2"], performer.loc[points.index, "r2"])
    np.testing.assert_allclose(points["elastic_net_pcc"], elastic_net.loc[points.index, "pcc"])
    np.testing.assert_allclose(points["elastic_net_r2"], elastic_net.loc[points.index, "r2"])
    # the fold means the evaluation table stores agree with the ones plotted
    stored = table[(table.model == "performer") & (table.split == split) & (table.gene_set == "HOP")]
    stored = stored[stored.train_fraction == 1.0].groupby("gene_id")["mean_pcc_folds"].first()
    np.testing.assert_allclose(points["performer_pcc"], stored.loc[points.index])


def test_r2_difference_points_bin_by_h2(table):
    points = plots.r2_difference_points(table).set_index("gene_id")
    performer = expected_fold_means(table, "performer")
    elastic_net = expected_fold_means(table, "elastic_net")
    np.testing.assert_allclose(points["delta_r2"], (performer["r2"] - elastic_net["r2"]).loc[points.index])
    assert (points["bin_by"] == "h2").all()
    bins = dict(zip(points["gene"], points["bin"].astype(str)))
    # h2 0, 0.05 -> [0, 0.1); 0.2, 0.25 -> [0.1, 0.3); 0.45 and 0.6 (closed right edge) -> [0.3, 0.6]
    assert bins == {
        "G0": "[0, 0.1)",
        "G1": "[0, 0.1)",
        "G2": "[0.1, 0.3)",
        "G3": "[0.1, 0.3)",
        "G4": "[0.3, 0.6]",
        "G5": "[0.3, 0.6]",
    }


def test_r2_difference_falls_back_to_elastic_net_r2_bins(table, tmp_path):
    no_h2 = table.assign(h2=np.nan)
    points = plots.r2_difference_points(no_h2)
    assert len(points) == 6 and (points["bin_by"] == "elastic_net_r2").all()
    np.testing.assert_allclose(points["bin_value"], points["elastic_net_r2"])
    edges = plots.ELASTIC_NET_R2_BINS
    for value, label in zip(points["bin_value"], points["bin"].astype(str)):
        i = list(points["bin"].cat.categories).index(label)
        assert edges[i] <= value < edges[i + 1]
    assert_png(plots.plot_r2_difference_by_heritability(no_h2, tmp_path / "fallback.png"))
    # a table without any h2 column works the same way
    assert len(plots.r2_difference_points(table.drop(columns="h2"))) == 6


def test_hogp_vs_hop_points_are_fold_means(table):
    for metric in ("pcc", "r2"):
        points = plots.hogp_vs_hop_points(table, metric).set_index("gene_id")
        hogp = expected_fold_means(table, "performer", gene_set="HOGP")
        hop = expected_fold_means(table, "performer", gene_set="HOP")
        assert sorted(points["gene"]) == GENES[3:]
        np.testing.assert_allclose(points[f"hogp_{metric}"], hogp.loc[points.index, metric])
        np.testing.assert_allclose(points[f"hop_{metric}"], hop.loc[points.index, metric])
    with pytest.raises(ValueError, match="metric"):
        plots.hogp_vs_hop_points(table, "mse")


def test_learning_curve_points(table):
    points = plots.learning_curve_points(table)
    # only the Performer has several train fractions
    assert list(points["model"].unique()) == ["performer"]
    assert points["train_fraction"].tolist() == FRACTIONS
    rows = table[(table.model == "performer") & (table.split == "test") & (table.gene_set == "HOP")]
    genes = rows.groupby(["train_fraction", "gene_id"])[["pcc", "r2"]].mean()
    for _, point in points.iterrows():
        per_gene = genes.loc[point["train_fraction"]]
        assert point["n_genes"] == 6
        assert point["pcc_mean"] == pytest.approx(per_gene["pcc"].mean())
        assert point["r2_mean"] == pytest.approx(per_gene["r2"].mean())
        assert point["pcc_sem"] == pytest.approx(per_gene["pcc"].std(ddof=1) / np.sqrt(6))
        n_train = rows.loc[rows.train_fraction == point["train_fraction"], "n_train"].mean()
        assert point["n_train"] == pytest.approx(n_train)


def test_observed_vs_predicted_points_pool_all_folds(predictions, tmp_path):
    rows = plots.observed_vs_predicted_points(predictions, "G3")
    assert len(rows) == 30 and sorted(rows["fold"].unique()) == FOLDS
    # the gene may also be given by ID
    assert len(plots.observed_vs_predicted_points(predictions, "ENSG00003.1")) == 30
    metrics = plots.pooled_metrics(rows)
    assert metrics["pcc"] == pytest.approx(pearsonr(rows["y"], rows["pred"]).statistic)
    assert metrics["r2"] == pytest.approx(r2_score(rows["y"], rows["pred"]))
    assert metrics["n"] == 30
    constant = plots.pooled_metrics(rows.assign(pred=1.0))  # PCC undefined, R^2 still defined
    assert np.isnan(constant["pcc"]) and constant["r2"] == pytest.approx(r2_score(rows["y"], np.ones(len(rows))))
    single = plots.pooled_metrics(rows.iloc[:1])
    assert np.isnan(single["pcc"]) and np.isnan(single["r2"]) and single["n"] == 1


def test_shared_figure_helpers(tmp_path):
    fig = plotting.new_figure(4, 3)
    plotting.diagonal(fig.subplots(), np.array([0.0, np.nan, 2.0]), np.array([1.0, 1.0, 1.0]))
    path = plotting.save_figure(fig, tmp_path / "new" / "folder" / "f.png")
    assert matplotlib.image.imread(path).shape[:2] == (3 * plotting.DPI, 4 * plotting.DPI)
    assert plotting.file_safe("HLA-A/B 2") == "HLA-A_B_2" and plotting.file_safe("//") == "gene"
    assert plotting.missing_columns(None, ["y"], "predictions") == "no predictions"
    assert plotting.missing_columns(pd.DataFrame({"y": []}), ["y", "pred"], "predictions") == (
        "predictions lacks columns ['pred']"
    )
    assert plotting.model_label("elastic_net") == "Elastic net" and plotting.model_label("other") == "other"


def test_one_experiment_per_model_is_used(table):
    # a second Performer experiment with fewer genes and very different values must not be averaged in
    extra = table[(table.model == "performer") & table.gene.isin(["G0", "G1"])].assign(experiment="other", pcc=-0.9)
    points = plots.performer_vs_elastic_net_points(pd.concat([table, extra], ignore_index=True))
    pd.testing.assert_frame_equal(points, plots.performer_vs_elastic_net_points(table))


# --- every figure writes a readable PNG -----------------------------------------------------------------------


def test_each_plot_writes_png(table, predictions, tmp_path):
    # non-default arguments here; write_figures below covers the defaults
    assert_png(plots.plot_performer_vs_elastic_net(table, tmp_path / "1b.png", split="tune"))
    assert_png(plots.plot_r2_difference_by_heritability(table, tmp_path / "1c.png", h2_bins=(0.0, 0.3, 1.0)))
    assert_png(plots.plot_observed_vs_predicted(predictions, "ENSG00002.1", tmp_path / "1a.png"))
    assert_png(plots.plot_hogp_vs_hop(table, tmp_path / "5c_r2.png", metric="r2", split="tune"))
    assert_png(plots.plot_learning_curve(table, tmp_path / "sub" / "curve.png", split="tune"))


def test_write_figures_writes_five_files(table, predictions, tmp_path):
    paths = plots.write_figures(table, predictions, tmp_path)
    # the default gene is the Performer gene with the highest fold-mean test PCC (HOP, fraction 1.0)
    best = expected_fold_means(table, "performer")["pcc"].idxmax()
    best_name = table.loc[table.gene_id == best, "gene"].iloc[0]
    assert plots.best_gene(table) == best_name
    assert sorted(p.name for p in paths) == sorted(
        [
            "performer_vs_elastic_net.png",
            "r2_difference_by_h2.png",
            f"observed_vs_predicted_{best_name}.png",
            "hogp_vs_hop.png",
            "learning_curve.png",
        ]
    )
    for path in paths:
        assert path.parent == tmp_path
        assert_png(path)


def test_write_figures_default_gene_is_one_with_predictions(table, tmp_path):
    predictions = make_predictions(genes=["G1"])
    performer_only = table[(table.model == "performer") & (table.gene_set == "HOP") & (table.train_fraction == 1.0)]
    paths = plots.write_figures(performer_only, predictions, tmp_path, gene=None)
    assert [p.name for p in paths] == ["observed_vs_predicted_G1.png"]
    paths = plots.write_figures(performer_only, predictions, tmp_path / "named", gene="ENSG00001.1")
    assert [p.name for p in paths] == ["observed_vs_predicted_ENSG00001.1.png"]


# --- tables lacking what a figure needs: None, never a crash --------------------------------------------------


def test_missing_rows_return_none(table, predictions, tmp_path):
    no_elastic_net = table[table.model != "elastic_net"]
    assert plots.plot_performer_vs_elastic_net(no_elastic_net, tmp_path / "a.png") is None
    assert plots.plot_r2_difference_by_heritability(no_elastic_net, tmp_path / "b.png") is None
    no_hogp = table[table.gene_set != "HOGP"]
    assert plots.plot_hogp_vs_hop(no_hogp, tmp_path / "c.png") is None
    one_fraction = table[table.train_fraction == 1.0]
    assert plots.plot_learning_curve(one_fraction, tmp_path / "d.png") is None
    assert plots.plot_observed_vs_predicted(predictions, "NOT_A_GENE", tmp_path / "e.png") is None
    assert plots.plot_observed_vs_predicted(predictions, "G0", tmp_path / "f.png", model="enformer") is None
    assert plots.plot_performer_vs_elastic_net(table, tmp_path / "g.png", split="validation") is None
    assert not list(tmp_path.iterdir())


def test_empty_and_columnless_tables_return_none(tmp_path):
    empty = make_table().iloc[0:0]
    bare = pd.DataFrame()
    for frame in (empty, bare):
        assert plots.plot_performer_vs_elastic_net(frame, tmp_path / "a.png") is None
        assert plots.plot_r2_difference_by_heritability(frame, tmp_path / "b.png") is None
        assert plots.plot_hogp_vs_hop(frame, tmp_path / "c.png") is None
        assert plots.plot_learning_curve(frame, tmp_path / "d.png") is None
        assert plots.write_figures(frame, make_predictions().iloc[0:0], tmp_path) == []
        assert plots.write_figures(frame, None, tmp_path) == []
    assert plots.plot_observed_vs_predicted(bare, "G0", tmp_path / "e.png") is None
    assert not list(tmp_path.iterdir())


def test_write_figures_writes_only_what_applies(table, predictions, tmp_path):
    performer_only = table[(table.model == "performer") & (table.gene_set == "HOP") & (table.train_fraction == 1.0)]
    paths = plots.write_figures(performer_only, predictions, tmp_path)
    assert [p.name for p in paths] == [f"observed_vs_predicted_{plots.best_gene(performer_only)}.png"]


def test_nan_fold_metrics_do_not_crash(table, tmp_path):
    nan_gene = table.copy()
    nan_gene.loc[nan_gene.gene == "G0", "pcc"] = np.nan  # e.g. constant predictions in every fold
    points = plots.performer_vs_elastic_net_points(nan_gene)
    assert points.loc[points.gene == "G0", "performer_pcc"].isna().all()
    assert_png(plots.plot_performer_vs_elastic_net(nan_gene, tmp_path / "nan.png"))
    curve = plots.learning_curve_points(nan_gene)
    assert (curve["n_genes"] == 5).all() and curve["pcc_mean"].notna().all()
