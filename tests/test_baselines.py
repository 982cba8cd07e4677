"""Baselines: the per-gene elastic net against an independent scikit-learn fit, no leakage of tune/test
people into a fit, and the pretrained-Enformer baseline's track and centre bins."""

import copy

import cyvcf2
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny_datamodule
from scipy.stats import pearsonr
from sklearn.feature_selection import VarianceThreshold
from sklearn.linear_model import ElasticNetCV
from sklearn.metrics import r2_score
from sklearn.pipeline import Pipeline

from performer.baselines import (
    TISSUE_TRACKS,
    centre_bins,
    elastic_net_baseline,
    enformer_baseline,
    enformer_track_prediction,
    fit_gene,
    load_reference_enformer,
    track_for,
)
from performer.baselines import elastic_net as en
from performer.data.datamodule import PerformerDataModule
from performer.data.dataset import GenePeopleDataset
from performer.model import build_trunk

WINDOW_BP = 12_288
TRACK = 4980


def datamodule(tiny_cohort, window_bp: int) -> PerformerDataModule:
    dm = tiny_datamodule(tiny_cohort, window_bp=window_bp, batch_size=8, accumulate=1)
    dm.prepare_data()
    dm.setup()
    return dm


@pytest.fixture(scope="module")
def dm(tiny_cohort):
    return datamodule(tiny_cohort, WINDOW_BP)


@pytest.fixture(scope="module")
def short_dm(tiny_cohort):
    """2,048 bp windows (16 bins): enough for the tiny Enformer's centre bins, fast on a CPU."""
    return datamodule(tiny_cohort, 2048)


@pytest.fixture(scope="module")
def expression(tiny_cohort) -> pd.DataFrame:
    """The expression BED as read by pandas: gene_id -> row with 1-based TSS ``end`` and one column per person."""
    return pd.read_csv(tiny_cohort / "expression.bed.gz", sep="\t").set_index("gene_id")


@pytest.fixture(scope="module")
def result(dm):
    return elastic_net_baseline(dm, seed=0)


def vcf_dosages(vcf_path, chrom: str, start: int, end: int, people: list[str]) -> tuple[np.ndarray, list[int]]:
    """ALT dosages (people x SNVs) and 0-based positions of the biallelic SNVs in [start, end), straight from cyvcf2."""
    vcf = cyvcf2.VCF(str(vcf_path))
    column = {s: i for i, s in enumerate(vcf.samples)}
    rows, pos = [], []
    for record in vcf(f"{chrom}:{start + 1}-{end}"):
        if len(record.REF) == 1 and len(record.ALT) == 1 and len(record.ALT[0]) == 1 and start <= record.POS - 1 < end:
            genotypes = np.array([g[:2] for g in record.genotypes])
            rows.append(genotypes.sum(axis=1)[[column[p] for p in people]])
            pos.append(record.POS - 1)
    return np.array(rows, dtype=np.float64).T, pos


def independent_inputs(tiny_cohort, expression, gene_id, people):
    row = expression.loc[gene_id]
    tss = int(row["end"]) - 1  # GTEx BED: end = 1-based TSS
    start = tss - WINDOW_BP // 2
    x, pos = vcf_dosages(tiny_cohort / "genotypes.vcf.gz", row["#chr"], start, start + WINDOW_BP, people)
    return x, row[people].to_numpy(dtype=np.float64), pos


# ---------------------------------------------------------------- elastic net


def test_elastic_net_equals_an_independent_sklearn_fit(dm, result, tiny_cohort, expression):
    for gene_id in dm.gene_ids:
        # the baseline keeps the split's person order (the inner KFold depends on it)
        x_train, y_train, pos = independent_inputs(tiny_cohort, expression, gene_id, dm.split.train)
        model = Pipeline(
            [
                ("variance", VarianceThreshold()),
                ("enet", ElasticNetCV(max_iter=2000, cv=5, random_state=0, n_jobs=1)),
            ]
        ).fit(x_train, y_train)
        coef = np.zeros(x_train.shape[1])
        coef[model["variance"].get_support()] = model["enet"].coef_

        table = result.coefficients[result.coefficients.gene_id == gene_id]
        assert table["pos"].tolist() == pos
        np.testing.assert_allclose(table["coef"], coef, rtol=1e-9, atol=1e-12)

        for split in ("tune", "test"):
            x, y, _ = independent_inputs(tiny_cohort, expression, gene_id, dm.split[split])
            pred = model.predict(x)
            got = result.predictions.query("gene_id == @gene_id and split == @split")
            assert got["person"].tolist() == dm.split[split]
            np.testing.assert_allclose(got["y"], y, atol=1e-6)  # the dataset's float32 targets
            np.testing.assert_allclose(got["pred"], pred, rtol=1e-9, atol=1e-12)
            scores = result.metrics.query("gene_id == @gene_id and split == @split").iloc[0]
            assert scores["n_people"] == len(y)
            assert scores["r2"] == pytest.approx(r2_score(y, pred), abs=1e-6)
            if np.ptp(pred) > 0:
                assert scores["pcc"] == pytest.approx(pearsonr(pred, y).statistic, abs=1e-6)
            else:
                assert np.isnan(scores["pcc"])


def test_elastic_net_tables(dm, result, tiny_cohort):
    assert set(result.predictions["split"]) == {"tune", "test"}
    assert list(result.predictions.columns) == ["gene_id", "gene", "split", "person", "y", "pred"]
    assert len(result.metrics) == 2 * len(dm.gene_ids)
    assert set(result.coefficients["ref"]) | set(result.coefficients["alt"]) <= set("ACGT")
    assert list(result.coefficients.columns) == ["gene_id", "gene", "snv_id", "pos", "ref", "alt", "kind", "coef"]
    assert (result.coefficients["kind"] == "SNV").all()  # indels off: SNVs only
    nonzero = result.coefficients.groupby("gene_id")["coef"].apply(lambda c: int((c != 0).sum()))
    for row in result.metrics.itertuples():
        assert row.n_nonzero == nonzero[row.gene_id]
        assert row.n_snvs == (result.coefficients.gene_id == row.gene_id).sum()
    # the planted core-promoter SNV of BTNL3 (h2 0.6) carries the largest coefficient
    truth = pd.read_csv(tiny_cohort / "truth.tsv", sep="\t")
    causal = truth[truth.gene_name == "BTNL3"].iloc[0]
    btnl3 = result.coefficients[result.coefficients.gene == "BTNL3"]
    assert btnl3.loc[btnl3["coef"].abs().idxmax(), "pos"] == causal["pos"]


def test_no_tune_or_test_person_enters_a_fit(dm, expression, monkeypatch):
    calls = []

    def recording_fit(dosage_train, y_train, seed=0):
        calls.append((np.array(dosage_train), np.array(y_train)))
        return fit_gene(dosage_train, y_train, seed=seed)

    monkeypatch.setattr(en, "fit_gene", recording_fit)
    elastic_net_baseline(dm)
    assert len(calls) == len(dm.gene_ids)
    row = {p: i for i, p in enumerate(dm.people)}
    for g, (gene_id, (dosage, y)) in enumerate(zip(dm.gene_ids, calls)):
        values = expression.loc[gene_id, dm.people].to_numpy(dtype=np.float64)
        # identify each fitted target by value (the simulated expression values of a gene are distinct)
        who = [dm.people[i] for v in y for i in np.flatnonzero(values == v)]
        assert who == dm.split.train
        assert not set(who) & (set(dm.split.tune) | set(dm.split.test))
        np.testing.assert_array_equal(dosage, dm.datasets["train"].windows[g].snvs.dosage[[row[p] for p in who]])


def test_corrupting_tune_and_test_people_changes_no_fit(dm, result):
    """Flip the genotypes and shift the expression of the tune and test people: the fits stay the same."""
    held_out = [i for i, p in enumerate(dm.people) if p not in set(dm.split.train)]
    windows = []
    for window in dm.datasets["test"].windows:
        dosage = window.snvs.dosage.copy()
        dosage[held_out] = 2 - dosage[held_out]
        snvs = type(window.snvs)(**{**vars(window.snvs), "dosage": dosage})
        windows.append(type(window)(window.chrom, window.start, window.end, window.codes, snvs))
    cohort = copy.deepcopy(dm.cohort)
    cohort.expression.values.loc[:, [dm.people[i] for i in held_out]] += 100.0
    corrupted = copy.copy(dm)
    corrupted.cohort = cohort
    corrupted.datasets = {
        split: GenePeopleDataset(windows, data.gene, data.person, data.target + (split != "train") * 100.0)
        for split, data in dm.datasets.items()
    }
    again = elastic_net_baseline(corrupted)
    pd.testing.assert_frame_equal(again.coefficients, result.coefficients)
    assert not np.allclose(again.predictions["y"], result.predictions["y"])


def test_hogp_and_training_only_genes(dm, result, tiny_cohort):
    """Genes held out of training are still fitted on their own train people; training genes and held-out
    genes are both predicted; nothing depends on which other genes are in the datamodule."""
    genes, eval_genes = ["BTNL3", "PPIF"], ["BTNL3", "ZFP57"]
    hogp = tiny_datamodule(tiny_cohort, genes=genes, eval_genes=eval_genes, window_bp=WINDOW_BP)
    hogp.setup()
    got = elastic_net_baseline(hogp)
    assert set(got.coefficients["gene"]) == {"BTNL3", "PPIF", "ZFP57"}
    assert set(got.predictions["gene"]) == set(got.metrics["gene"]) == {"BTNL3", "PPIF", "ZFP57"}
    key = ["gene_id", "split", "person"]
    expected = result.predictions[result.predictions.gene.isin(genes + eval_genes)].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(got.predictions.sort_values(key, ignore_index=True), expected)
    mine = got.coefficients.set_index(["gene", "snv_id"])["coef"]
    pd.testing.assert_series_equal(mine, result.coefficients.set_index(["gene", "snv_id"])["coef"].loc[mine.index])


def test_fit_gene_errors_and_constant_snvs():
    rng = np.random.default_rng(0)
    y = rng.normal(size=20)
    with pytest.raises(ValueError, match="no SNVs"):
        fit_gene(np.zeros((20, 0)), y)
    with pytest.raises(ValueError, match="at least 10"):
        fit_gene(rng.integers(0, 3, (5, 4)), y[:5])
    with pytest.raises(ValueError, match="finite"):
        fit_gene(rng.integers(0, 3, (20, 4)), np.where(np.arange(20) == 3, np.nan, y))
    constant = fit_gene(np.ones((20, 3), dtype=np.int8), y)
    np.testing.assert_allclose(constant.predict(rng.integers(0, 3, (4, 3))), y.mean())
    assert not en.snv_coefficients(constant, 3).any()


# ---------------------------------------------------------------- pretrained Enformer


@pytest.fixture(scope="module")
def enformer(tmp_path_factory):
    torch.manual_seed(0)
    saved = build_trunk(dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, keep_heads=True)
    path = tmp_path_factory.mktemp("enformer") / "pretrained"
    saved.save_pretrained(path, safe_serialization=False)
    model = load_reference_enformer(path)  # load_pretrained(path, keep_heads=True) + a human-head check
    linear = model.heads["human"][0]
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(linear.weight.shape, generator=g) * 0.2)
        linear.bias.copy_(torch.linspace(-1.0, 1.0, linear.out_features))
        linear.weight[TRACK] = known_weight(linear.in_features)
        linear.bias[TRACK] = 0.25
    return model.train()  # the baseline must switch to eval mode itself


def known_weight(n: int) -> torch.Tensor:
    return torch.linspace(-0.5, 0.5, n)


def hand_prediction(model, x: torch.Tensor, per_bin: bool = False) -> torch.Tensor:
    """softplus(embedding @ w + b) of the known track, summed over bins n//2-1, n//2, n//2+1 (or every bin)."""
    model.eval()
    with torch.no_grad():
        embedding = model(x, return_only_embeddings=True)  # (B, n_bins, 2 * dim)
    model.train()
    track = torch.nn.functional.softplus(embedding @ known_weight(embedding.shape[-1]) + 0.25)
    if per_bin:
        return track
    n = track.shape[1]
    return track[:, n // 2 - 1] + track[:, n // 2] + track[:, n // 2 + 1]


def test_centre_bins_are_the_papers():
    assert range(384)[centre_bins(384)] == range(191, 194)
    assert range(5)[centre_bins(5)] == range(1, 4)
    with pytest.raises(ValueError, match="at least 3"):
        centre_bins(2)


def test_track_prediction_reads_the_track_and_centre_bins(enformer):
    # 640 bp = 5 bins: the edge bins 0 and 4 differ from the inner ones (padding), so a shifted bin window shows
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (3, 640), generator=torch.Generator().manual_seed(2)), 4)
    x = x.float()
    got = enformer_track_prediction(enformer, x, TRACK, batch_size=2)
    assert got.shape == (3,) and got.dtype == np.float64
    np.testing.assert_allclose(got, hand_prediction(enformer, x).numpy(), rtol=1e-6, atol=1e-6)
    per_bin = hand_prediction(enformer, x, per_bin=True).numpy()
    for shifted in (per_bin[:, 0:3].sum(1), per_bin[:, 2:5].sum(1)):  # the test can see an off-by-one
        assert np.abs(shifted - got).min() > 1e-4
    assert enformer.training  # mode restored
    assert np.abs(enformer_track_prediction(enformer, x, TRACK + 1) - got).min() > 1e-3
    with pytest.raises(ValueError, match="out of range"):
        enformer_track_prediction(enformer, x, 5313)


def test_enformer_baseline_on_the_cohort(enformer, short_dm, expression):
    dm = short_dm
    res = enformer_baseline(enformer, dm, track=TRACK, split=["test"], batch_size=4)  # 6 people: batches of 4 + 2
    table = res.predictions
    assert list(table.columns) == ["gene_id", "gene", "split", "person", "y", "pred"]
    assert res.track == TRACK
    assert table.groupby("gene_id")["pred"].nunique().max() > 1  # the people's SNVs reach the prediction
    row = {p: i for i, p in enumerate(dm.people)}
    gene = {gene_id: g for g, gene_id in enumerate(dm.gene_ids)}
    for (gene_id, split), got in table.groupby(["gene_id", "split"]):
        assert sorted(got["person"]) == sorted(dm.split[split])
        np.testing.assert_allclose(got["y"], expression.loc[gene_id, got["person"]].to_numpy(float), atol=1e-6)
        scores = res.metrics.query("gene_id == @gene_id and split == @split").iloc[0]
        assert scores["r2"] == pytest.approx(r2_score(got["y"], got["pred"]))
        if got["pred"].nunique() > 1:
            assert scores["pcc"] == pytest.approx(pearsonr(got["pred"], got["y"]).statistic)
        else:  # no SNV varies among these people in the 2 kb window
            assert np.isnan(scores["pcc"])
    assert len(table) == len(dm.gene_ids) * len(dm.split.test) and set(table["split"]) == {"test"}
    # every person's own dosage-averaged window, through the hand-computed head, in one pass
    x = np.concatenate(
        [
            dm.datasets["test"].windows[gene[gene_id]].one_hot([row[person]])
            for gene_id, person in zip(table["gene_id"], table["person"])
        ]
    )
    np.testing.assert_allclose(table["pred"], hand_prediction(enformer, torch.from_numpy(x)).numpy(), rtol=1e-5)


def test_enformer_without_heads_is_a_clear_error(tmp_path):
    build_trunk(dim=24, depth=1, heads=2, dim_divisible_by=4).save_pretrained(tmp_path, safe_serialization=False)
    with pytest.raises(ValueError, match="no 'human' output head"):
        load_reference_enformer(tmp_path)
    with pytest.raises(ValueError, match="keep_heads=True"):
        enformer_track_prediction(build_trunk(dim=24, depth=1, heads=2, dim_divisible_by=4), torch.zeros(1, 512, 4), 0)


def test_track_selection():
    assert TISSUE_TRACKS == {"blood": 4950, "brain": 4980}
    assert track_for("blood") == 4950
    assert track_for("Brain") == 4980
    assert track_for("liver", track=123) == 123
    assert track_for("blood", track=7) == 7
    with pytest.raises(ValueError, match="blood.*brain"):
        track_for("liver")
    with pytest.raises(ValueError):
        track_for()
