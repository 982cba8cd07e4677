"""Variant interpretation: exact ISM, HSV counts, driver selection, gradient x input, truth metrics."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import pearsonr
from sklearn.metrics import average_precision_score, roc_auc_score

from performer.data.personal import PersonalWindow
from performer.data.reference import codes_to_one_hot
from performer.data.variants import SNVs
from performer.interpret import (
    ISM_COLUMNS,
    gradient_x_input,
    high_scoring_variants,
    ism_scores,
    label_truth,
    recovery_metrics,
    reference_and_personal_attribution,
    select_drivers,
    sign_agreement,
    standardized_attribution,
)
from performer.model import PerformerModel, build_trunk

TINY = dict(
    dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, dropout_rate=0.0, attn_dropout=0.0, pos_dropout=0.0
)
START = 10_000


class Linear(torch.nn.Module):
    """predict(x) = sum(x * W): weights in quarter steps, so float32 sums are exact."""

    def __init__(self, length: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randint(-32, 33, (length, 4), generator=g).float() / 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).sum(dim=(1, 2))


def make_window(length: int, offsets, n_people: int = 12, seed: int = 0, unobserved=()) -> PersonalWindow:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, length).astype(np.uint8)
    codes[3] = 4  # an N, away from the SNVs
    offsets = np.asarray(offsets, dtype=np.int64)
    ref = codes[offsets]
    alt = ((ref + rng.integers(1, 4, len(offsets))) % 4).astype(np.uint8)
    dosage = rng.integers(0, 3, (n_people, len(offsets))).astype(np.int8)
    dosage[0, :] = 1  # every SNV observed ...
    dosage[:, list(unobserved)] = 0  # ... except these
    snvs = SNVs(
        chrom="chr7",
        pos=START + offsets,
        ref=ref,
        alt=alt,
        ids=[f"snv{i}" for i in range(len(offsets))],
        dosage=dosage,
        samples=[f"P{i}" for i in range(n_people)],
    )
    return PersonalWindow("chr7", START, START + length, codes, snvs)


def visible_model(seed: int = 0, **trunk) -> PerformerModel:
    """A tiny Enformer whose centre bin depends visibly on its input.

    At initialisation the attention output and all biases are zero and BatchNorm statistics are the
    identity, so single-base effects are ~1e-7 (float32 noise); random values there and BatchNorm
    statistics from one random batch give effects of 1e-4 to 1e-1.
    """
    torch.manual_seed(seed)
    trunk = build_trunk(**{**TINY, **trunk})
    with torch.no_grad():
        for p in trunk.parameters():
            if not p.any():
                p.normal_(0.0, 0.2)
        for bn in (m for m in trunk.modules() if isinstance(m, torch.nn.BatchNorm1d)):
            bn.momentum = None  # cumulative average: one batch sets the statistics
        trunk.train()(torch.nn.functional.one_hot(torch.randint(0, 4, (2, 2048)), 4).float())
    return PerformerModel(trunk).eval()


@pytest.fixture(scope="module")
def tiny_model() -> PerformerModel:
    return visible_model()


def test_ism_of_a_linear_model_is_exact_and_skips_unobserved_snvs():
    window = make_window(600, [5, 40, 41, 300, 599, 100], unobserved=[2, 5])
    model = Linear(600)
    table = ism_scores(model, window, tss=START + 300, batch_size=3)
    assert list(table.columns) == ISM_COLUMNS
    kept = np.array([0, 1, 3, 4])
    snvs, w = window.snvs, model.weight.detach().numpy()
    offsets = snvs.pos[kept] - START
    np.testing.assert_array_equal(table["pos"], snvs.pos[kept])
    np.testing.assert_array_equal(table["ism"], w[offsets, snvs.alt[kept]] - w[offsets, snvs.ref[kept]])
    np.testing.assert_array_equal(table["distance_to_tss"], offsets - 300)
    assert list(table["ref"]) == ["ACGT"[c] for c in snvs.ref[kept]]
    assert list(table["alt"]) == ["ACGT"[c] for c in snvs.alt[kept]]
    assert list(table["snv_id"]) == ["snv0", "snv1", "snv3", "snv4"]
    assert list(table["kind"]) == ["SNV"] * 4  # PersonalWindow: SNVs only
    af = snvs.dosage[:, kept].mean(axis=0) / 2
    np.testing.assert_allclose(table["maf"], np.minimum(af, 1 - af))
    ref_x = torch.from_numpy(codes_to_one_hot(window.codes).astype(np.float32))[None]
    assert table.attrs["reference_prediction"] == float(model(ref_x)[0])


def test_ism_equals_direct_predictions_of_a_tiny_enformer(tiny_model):
    window = make_window(1024, [0, 17, 300, 511, 512, 700, 1000, 1023, 450], unobserved=[8])
    table = ism_scores(tiny_model, window, tss=START + 512, batch_size=7)
    assert len(table) == 8
    ref = codes_to_one_hot(window.codes).astype(np.float32)
    with torch.no_grad():
        ref_pred = tiny_model(torch.from_numpy(ref)[None])[0]
        for row in table.itertuples():
            mutated = ref.copy()
            mutated[row.pos - START] = 0
            mutated[row.pos - START, "ACGT".index(row.alt)] = 1
            direct = float(tiny_model(torch.from_numpy(mutated)[None])[0] - ref_pred)
            assert row.ism == pytest.approx(direct, rel=1e-4, abs=1e-6)
    assert (table["ism"].abs() > 1e-5).all()  # the test is not vacuous
    one_by_one = ism_scores(tiny_model, window, tss=START + 512, batch_size=1)
    np.testing.assert_allclose(one_by_one["ism"], table["ism"], rtol=1e-4, atol=1e-6)
    bf16 = ism_scores(tiny_model, window, tss=START + 512, batch_size=4, precision="bf16")
    assert np.isfinite(bf16["ism"]).all()


def test_ism_edge_cases():
    window = make_window(256, [10, 20], unobserved=[0, 1])
    empty = ism_scores(Linear(256), window, tss=START)
    assert empty.empty and list(empty.columns) == ISM_COLUMNS
    with pytest.raises(ValueError, match="batch_size"):
        ism_scores(Linear(256), window, tss=START, batch_size=0)
    with pytest.raises(ValueError, match=r"\(B,\)"):
        ism_scores(lambda x: x.sum(dim=1), make_window(256, [10]), tss=START)


def test_high_scoring_variants_follow_k():
    table = pd.DataFrame({"snv_id": list("abcde"), "ism": [0.1, -0.9, np.nan, 0.5, -0.5]})
    assert high_scoring_variants(table, 0).empty and "rank" in high_scoring_variants(table, 0).columns
    assert high_scoring_variants(table, -3).empty
    top = high_scoring_variants(table, 3)
    assert list(top["snv_id"]) == ["b", "d", "e"] and list(top["rank"]) == [1, 2, 3]
    everything = high_scoring_variants(table, 99)
    assert list(everything["snv_id"]) == ["b", "d", "e", "a", "c"]


def driver_example(seed: int = 0):
    rng = np.random.default_rng(seed)
    n, s = 200, 30
    maf = rng.uniform(0.1, 0.5, s)
    dosage = rng.binomial(2, maf, (n, s)).astype(np.int8)
    beta = np.zeros(s)
    beta[[4, 11, 23]] = [1.0, -0.8, 0.6]
    predictions = dosage @ beta
    ism = beta + np.where(beta == 0, 0.01 * rng.standard_normal(s), 0.0)
    return ism, dosage, predictions


def test_driver_selection_recovers_the_known_drivers():
    ism, dosage, predictions = driver_example()
    result = select_drivers(ism, dosage, predictions)
    assert result.drivers.tolist() == [4, 11, 23]
    assert np.all(np.diff(result.trace) > 0) and result.trace[-1] == pytest.approx(1.0)
    full = pearsonr(dosage @ ism, predictions).statistic
    assert result.r_all == pytest.approx(full)
    assert len(result.candidates) == 30 and result.candidates["selected"].sum() == 3
    # (a): a copy of driver 4 visited right after it is correlated and significant but adds nothing
    with_copy = select_drivers(np.append(ism, 0.95), np.column_stack([dosage, dosage[:, 4]]), predictions)
    assert with_copy.drivers.tolist() == [4, 11, 23]
    copy = with_copy.candidates.set_index("index").loc[30]
    assert copy["r"] > 0.5 and copy["p_value"] < 1e-6 and abs(copy["gain"]) < 1e-9
    # Bonferroni: an alpha so small no p-value passes
    assert len(select_drivers(ism, dosage, predictions, alpha=1e-300).drivers) == 0


def test_driver_selection_degenerate_inputs():
    ism, dosage, predictions = driver_example()
    dosage[:, 4] = 0  # the strongest SNV is unobserved: never a driver
    assert 4 not in select_drivers(ism, dosage, predictions).drivers
    assert len(select_drivers(ism, dosage, np.full(200, 3.0)).drivers) == 0
    none = select_drivers(np.zeros(0), np.zeros((200, 0)), predictions)
    assert len(none.drivers) == 0 and none.r_all == 0
    with pytest.raises(ValueError, match="rows"):
        select_drivers(ism, dosage[:10], predictions)


def test_gradient_x_input_of_a_linear_model_is_x_times_w():
    window = make_window(300, [10, 150, 299], n_people=5)
    model = Linear(300)
    x = window.one_hot()  # dosage-averaged, so halves at heterozygous SNVs
    gxi = gradient_x_input(model, x, batch_size=2)
    np.testing.assert_array_equal(gxi, x * model.weight.detach().numpy())
    assert model.weight.grad is None  # gradients w.r.t. the input only
    with torch.no_grad():  # a caller's no_grad does not matter ...
        np.testing.assert_array_equal(gradient_x_input(model, x), gxi)

    def detached(t):  # ... but a predict that drops the graph is a clear error
        with torch.no_grad():
            return model(t)

    with pytest.raises(RuntimeError, match="no gradient"):
        gradient_x_input(detached, x)


def test_gradient_x_input_matches_autograd_on_a_tiny_enformer(tiny_model):
    window = make_window(1024, [100, 512, 900], n_people=3)
    x = window.one_hot()
    gxi = gradient_x_input(tiny_model, x, batch_size=2)
    for b in range(3):
        xb = torch.from_numpy(x[b : b + 1]).requires_grad_(True)
        tiny_model(xb)[0].backward()
        np.testing.assert_allclose(gxi[b], (xb * xb.grad).detach().numpy()[0], rtol=1e-3, atol=1e-4 * np.abs(gxi).max())
    assert np.abs(gxi).max() > 0


def test_standardized_attribution():
    rng = np.random.default_rng(0)
    gxi = rng.standard_normal((3, 50, 4))
    z = standardized_attribution(gxi)
    assert z.shape == (50,)
    assert z.mean() == pytest.approx(0.0, abs=1e-12) and z.std() == pytest.approx(1.0)
    v = np.abs(gxi.mean(axis=0)).max(axis=1)  # average over people, then max |.| over channels
    np.testing.assert_allclose(z, (v - v.mean()) / v.std())
    np.testing.assert_allclose(standardized_attribution(gxi.mean(axis=0)), z)
    assert np.isnan(standardized_attribution(np.ones((5, 4)))).all()


def test_reference_and_personal_attribution_of_a_linear_model():
    window = make_window(300, [10, 150, 299], n_people=5)
    model = Linear(300)
    w = model.weight.detach().numpy()
    result = reference_and_personal_attribution(model, window, rows=np.array([0, 2, 3]), batch_size=2)
    np.testing.assert_array_equal(result.positions, START + np.arange(300))
    np.testing.assert_array_equal(result.reference, codes_to_one_hot(window.codes) * w)
    np.testing.assert_allclose(result.personal, window.one_hot(np.array([0, 2, 3])).mean(axis=0) * w, atol=1e-6)
    assert result.n_people == 3


def test_recovery_metrics_and_sign_agreement():
    scores = np.array([0.9, -0.8, 0.1, -0.3])
    causal = np.array([True, False, False, True])
    metrics = recovery_metrics(scores, causal)
    assert metrics["auroc"] == pytest.approx(0.75) == roc_auc_score(causal, np.abs(scores))
    assert metrics["aupr"] == pytest.approx(5 / 6) == average_precision_score(causal, np.abs(scores))
    assert (metrics["n_causal"], metrics["n"]) == (2, 4)
    assert np.isnan(recovery_metrics(scores, np.zeros(4, bool))["auroc"])
    assert np.isnan(recovery_metrics(scores, np.ones(4, bool))["aupr"])
    assert sign_agreement([0.5, -0.2, 0.3, 0.0], [1.0, 0.5, 0.0, -2.0]) == pytest.approx(1 / 3)
    assert np.isnan(sign_agreement([1.0], [0.0]))


def test_label_truth_matches_contig_aliases():
    table = pd.DataFrame({"chrom": ["chr1", "chr1", "chr1"], "pos": [10, 20, 30], "alt": ["A", "C", "G"]})
    truth = pd.DataFrame(
        {"gene_id": ["G1", "G1", "G2"], "chrom": ["1", "1", "1"], "pos": [20, 30, 10], "alt": ["C", "T", "A"]}
    ).assign(beta=[0.5, 1.0, -1.0])
    labelled = label_truth(table, truth, gene_id="G1")
    assert labelled["is_causal"].tolist() == [False, True, False]
    assert labelled["true_beta"].tolist() == [0.0, 0.5, 0.0]
