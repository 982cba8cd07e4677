"""Tests for performer.interpret.plots: each figure writes a readable PNG, plots the right values (fold
choice, sign agreement, fold means), and skips (returns None) instead of crashing when the tables lack
what it needs."""

from __future__ import annotations

import logging

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from performer.interpret import plots

GENES = ["GA", "GB", "GC"]
FOLDS = [0, 1]
N_SNVS = 40


def make_ism(seed: int = 0) -> pd.DataFrame:
    """3 genes x 2 folds x 40 SNVs of one Performer run set; gene GA has 5 HSVs per fold, GB 3, GC 1; two
    drivers and two causal SNVs per gene; elastic-net coefficients are 0 for most SNVs and of either sign
    otherwise."""
    rng = np.random.default_rng(seed)
    frames = []
    n_hsv = {"GA": 5, "GB": 3, "GC": 1}
    for g, gene in enumerate(GENES):
        tss = 10_000 * (g + 1)
        pos = np.sort(rng.choice(np.arange(tss - 5_000, tss + 5_000), N_SNVS, replace=False))
        for fold in FOLDS:
            ism = rng.normal(0, 0.1, N_SNVS)
            coef = np.where(rng.uniform(size=N_SNVS) < 0.6, 0.0, rng.normal(0, 0.2, N_SNVS))
            rank = np.argsort(-np.abs(ism))
            hsv_rank = np.full(N_SNVS, np.nan)
            hsv_rank[rank[: n_hsv[gene]]] = np.arange(1, n_hsv[gene] + 1)
            causal = np.zeros(N_SNVS, bool)
            causal[[3, 17]] = True
            frames.append(
                pd.DataFrame(
                    {
                        "model": "performer",
                        "experiment": "single_gene",
                        "run_dir": f"runs/{gene}/fold{fold}",
                        "fold": fold,
                        "gene_id": f"ENSG0000{g}.1",
                        "gene": gene,
                        "chrom": "chr22",
                        "pos": pos,
                        "ref": "A",
                        "alt": "G",
                        "snv_id": [f"chr22_{p}_A_G" for p in pos],
                        "maf": rng.uniform(0.01, 0.5, N_SNVS),
                        "distance_to_tss": pos - tss,
                        "ism": ism,
                        "en_coef": coef,
                        "is_hsv": ~np.isnan(hsv_rank),
                        "hsv_rank": hsv_rank,
                        "is_driver": np.isin(np.arange(N_SNVS), rank[:2]),
                        "is_causal": causal,
                        "true_beta": np.where(causal, 0.3, 0.0),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def make_truth() -> pd.DataFrame:
    rows = []
    for g, gene in enumerate(GENES):
        for fold in FOLDS:
            rows.append(
                {
                    "experiment": "single_gene",
                    "fold": fold,
                    "gene_id": f"ENSG0000{g}.1",
                    "gene": gene,
                    "h2": 0.1 + 0.2 * g,
                    "n_snvs": N_SNVS,
                    "n_causal": 2,
                    "ism_auroc": 0.6 + 0.1 * g + 0.02 * fold,
                    "ism_aupr": 0.3,
                    "en_auroc": 0.5 + 0.1 * fold,
                    "en_aupr": 0.2,
                    "sign_agreement": [1.0, 0.5][fold],
                }
            )
    return pd.DataFrame(rows)


def assert_png(path) -> None:
    assert path is not None and path.exists() and path.stat().st_size > 0
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


@pytest.fixture(scope="module")
def ism() -> pd.DataFrame:
    return make_ism()


# ----------------------------------------------------------------------------------------------------------
# Track view
# ----------------------------------------------------------------------------------------------------------


def test_track_points_fold_choice_and_flags(ism):
    rows = plots.track_points(ism, "GB")
    assert len(rows) == N_SNVS and set(rows["fold"]) == {0}  # lowest fold by default
    expected = ism[(ism["gene"] == "GB") & (ism["fold"] == 0)].sort_values("distance_to_tss")
    np.testing.assert_allclose(rows["ism"], expected["ism"])
    assert rows["is_hsv"].sum() == 3 and rows["is_driver"].sum() == 2 and (rows["is_causal"] == 1).sum() == 2
    assert rows["distance_to_tss"].is_monotonic_increasing
    by_id = plots.track_points(ism, "ENSG00001.1", fold=1)
    expected = ism[(ism["gene"] == "GB") & (ism["fold"] == 1)].sort_values("distance_to_tss")
    np.testing.assert_allclose(by_id["ism"], expected["ism"])
    assert plots.track_points(ism, "GB", fold=7).empty
    assert plots.track_points(ism, "NOPE").empty


def test_plot_track_writes_png(ism, tmp_path):
    assert_png(plots.plot_track(ism, "GA", tmp_path / "a.png"))
    assert_png(plots.plot_track(ism, "GA", tmp_path / "a1.png", fold=1))


def test_plot_track_without_elastic_net_or_truth(ism, tmp_path):
    table = ism.assign(en_coef=np.nan, is_causal=np.nan, true_beta=np.nan, is_hsv=False, is_driver=False)
    assert_png(plots.plot_track(table, "GC", tmp_path / "no_en.png"))
    # optional columns absent altogether
    bare = ism.drop(columns=["en_coef", "is_hsv", "is_driver", "is_causal"])
    assert_png(plots.plot_track(bare, "GC", tmp_path / "bare.png"))


def test_plot_track_skips_unknown_gene_or_fold(ism, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert plots.plot_track(ism, "GX", tmp_path / "x.png") is None
        assert plots.plot_track(ism, "GA", tmp_path / "y.png", fold=5) is None
        assert plots.plot_track(ism.iloc[0:0], "GA", tmp_path / "z.png") is None
        assert plots.plot_track(ism.drop(columns=["ism"]), "GA", tmp_path / "w.png") is None
    assert "not in the ISM table" in caplog.text and "folds present" in caplog.text
    assert not list(tmp_path.iterdir())


def test_csv_round_trip_flags(ism, tmp_path):
    """is_causal holding True/False/NaN comes back from CSV as objects; flags still parse."""
    table = ism.copy()
    table["is_causal"] = table["is_causal"].astype(object)
    table.loc[table["gene"] == "GC", "is_causal"] = np.nan
    table.to_csv(tmp_path / "ism.csv", index=False)
    back = pd.read_csv(tmp_path / "ism.csv")
    rows = plots.track_points(back, "GA")
    assert (rows["is_causal"] == 1).sum() == 2 and rows["is_hsv"].sum() == 5
    assert plots.track_points(back, "GC")["is_causal"].isna().all()
    np.testing.assert_array_equal(
        plots.flags(pd.Series(["True", "false", "", None, "1", 0], dtype=object)), [1, 0, np.nan, np.nan, 1, 0]
    )
    with pytest.raises(ValueError, match="maybe"):
        plots.flags(pd.Series(["maybe"], name="is_hsv"))


# ----------------------------------------------------------------------------------------------------------
# HSV distance, Fig. 2c, truth recovery
# ----------------------------------------------------------------------------------------------------------


def test_hsv_distance(ism, tmp_path, caplog):
    points = plots.hsv_distance_points(ism)
    assert len(points) == len(ism) and points["is_hsv"].sum() == 2 * (5 + 3 + 1)
    np.testing.assert_allclose(points["abs_distance"], np.abs(ism["distance_to_tss"]))
    assert_png(plots.plot_hsv_distance(ism, tmp_path / "d.png"))
    with caplog.at_level(logging.WARNING):
        assert plots.plot_hsv_distance(ism.assign(is_hsv=False), tmp_path / "none.png") is None
        assert plots.plot_hsv_distance(ism.iloc[0:0], tmp_path / "empty.png") is None
    assert "no HSV" in caplog.text


def test_sign_agreement_by_hand(ism):
    points, agreement = plots.sign_agreement_points(ism)
    nonzero = ism[ism["en_coef"] != 0]
    assert len(points) == len(nonzero) > 0
    hand = np.mean([(i > 0) == (c > 0) for i, c in zip(nonzero["ism"], nonzero["en_coef"])])
    assert agreement == pytest.approx(hand)
    # an ISM of exactly 0 agrees with neither sign; NaN coefficients are left out
    small = pd.DataFrame(
        {
            "gene_id": "g",
            "gene": "g",
            "fold": 0,
            "distance_to_tss": [0, 1, 2, 3, 4, 5],
            "ism": [0.5, -0.2, 0.0, 0.3, 0.1, 0.4],
            "en_coef": [0.1, 0.2, 0.3, -0.4, 0.0, np.nan],
        }
    )
    points, agreement = plots.sign_agreement_points(small)
    assert len(points) == 4 and agreement == pytest.approx(1 / 4)


def test_plot_ism_vs_elastic_net(ism, tmp_path, caplog):
    assert_png(plots.plot_ism_vs_elastic_net(ism, tmp_path / "c.png"))
    with caplog.at_level(logging.WARNING):
        assert plots.plot_ism_vs_elastic_net(ism.assign(en_coef=np.nan), tmp_path / "nan.png") is None
        assert plots.plot_ism_vs_elastic_net(ism.assign(en_coef=0.0), tmp_path / "zero.png") is None
        assert plots.plot_ism_vs_elastic_net(ism.drop(columns=["en_coef"]), tmp_path / "none.png") is None
    assert plots.sign_agreement_points(ism.assign(en_coef=np.nan))[1] != plots.sign_agreement_points(ism)[1]
    assert np.isnan(plots.sign_agreement_points(ism.assign(en_coef=0.0))[1])


def test_truth_recovery(tmp_path, caplog):
    truth = make_truth()
    points = plots.truth_recovery_points(truth)
    assert list(points["gene"]) == GENES and (points["n_folds"] == 2).all()
    np.testing.assert_allclose(points["ism_auroc"], [0.61, 0.71, 0.81])
    np.testing.assert_allclose(points["en_auroc"], 0.55)
    np.testing.assert_allclose(points["sign_agreement"], 0.75)
    assert_png(plots.plot_truth_recovery(truth, tmp_path / "t.png"))
    assert_png(plots.plot_truth_recovery(truth.drop(columns=["h2"]), tmp_path / "t_no_h2.png"))
    with caplog.at_level(logging.WARNING):
        assert plots.plot_truth_recovery(pd.DataFrame(), tmp_path / "empty.png") is None
        assert plots.plot_truth_recovery(truth.iloc[0:0], tmp_path / "empty2.png") is None
        assert plots.plot_truth_recovery(truth.assign(en_auroc=np.nan), tmp_path / "nan.png") is None
    assert not (tmp_path / "empty.png").exists()


def test_one_run_set_prefers_most_genes(ism, caplog):
    other = ism[ism["gene"] == "GA"].assign(experiment="multi_gene", ism=0.0)
    with caplog.at_level(logging.WARNING):
        points, agreement = plots.sign_agreement_points(pd.concat([ism, other], ignore_index=True))
    assert agreement == pytest.approx(plots.sign_agreement_points(ism)[1])
    assert "run sets" in caplog.text


def test_concatenated_run_sets_with_duplicate_index(ism, tmp_path):
    """Tables concatenated without ignore_index (duplicate index labels) and downsampled runs: the full
    train fraction is preferred on ties, and every figure still draws."""
    table = pd.concat([ism.assign(train_fraction=0.5, ism=0.0), ism.assign(train_fraction=1.0)])
    assert not table.index.is_unique
    np.testing.assert_allclose(plots.track_points(table, "GA")["ism"], plots.track_points(ism, "GA")["ism"])
    assert plots.sign_agreement_points(table)[1] == pytest.approx(plots.sign_agreement_points(ism)[1])
    assert plots.top_hsv_genes(table) == ["GA", "GB", "GC"]
    assert len(plots.hsv_distance_points(table)) == len(ism)
    assert_png(plots.plot_hsv_distance(table, tmp_path / "d.png"))


# ----------------------------------------------------------------------------------------------------------
# All figures
# ----------------------------------------------------------------------------------------------------------


def test_write_interpretation_figures(ism, tmp_path):
    assert plots.top_hsv_genes(ism) == ["GA", "GB", "GC"]
    assert plots.top_hsv_genes(ism, n=2) == ["GA", "GB"]
    written = plots.write_interpretation_figures(ism, make_truth(), tmp_path / "all")
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "track_GA.png",
            "track_GB.png",
            "track_GC.png",
            "hsv_distance.png",
            "ism_vs_elastic_net.png",
            "truth_recovery.png",
        ]
    )
    for path in written:
        assert_png(path)
    # explicit genes (unknown ones skipped), no truth, no elastic net
    written = plots.write_interpretation_figures(
        ism.assign(en_coef=np.nan), pd.DataFrame(), tmp_path / "some", genes=["GB", "NOPE"]
    )
    assert sorted(p.name for p in written) == ["hsv_distance.png", "track_GB.png"]
    assert plots.write_interpretation_figures(ism.assign(is_hsv=False, en_coef=0.0), None, tmp_path / "x", []) == []
