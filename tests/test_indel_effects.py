"""Variant effects with indels: ISM of indels and MNPs on HaplotypeWindows, the drivers' dosage columns,
and the indel-aware elastic net, on a small FASTA and phased VCF written here."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cyvcf2
import numpy as np
import pandas as pd
import pysam
import pytest
import torch
from omegaconf import OmegaConf
from sklearn.feature_selection import VarianceThreshold
from sklearn.linear_model import ElasticNetCV
from sklearn.metrics import r2_score
from sklearn.pipeline import Pipeline

from performer.baselines.elastic_net import COEFFICIENT_COLUMNS, elastic_net_baseline, window_predictors
from performer.data.haplotypes import HaplotypeSequences, mean_one_hot
from performer.data.personal import PersonalSequences
from performer.data.reference import codes_to_one_hot
from performer.interpret.attribution import reference_and_personal_attribution
from performer.interpret.drivers import select_drivers
from performer.interpret.ism import ISM_COLUMNS, ism_scores, observed_dosage, observed_variants
from performer.model import PerformerModel, build_trunk
from performer.predict import predict_ism, predict_sequences, predict_variants
from performer.tasks.interpret import gene_drivers

L = 2048
START = 2000
TSS = START + L // 2  # 3024
CONTIG = 6000
HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=c1,length={n}>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{samples}\n"
)
TINY = dict(
    dim=24, depth=1, heads=2, attn_dim_key=8, dim_divisible_by=4, dropout_rate=0.0, attn_dropout=0.0, pos_dropout=0.0
)


class Linear(torch.nn.Module):
    """predict(x) = sum(x * W), weights in quarter steps: float32 sums are exact."""

    def __init__(self, length: int = L, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weight = torch.nn.Parameter(torch.randint(-32, 33, (length, 4), generator=g).float() / 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weight).sum(dim=(1, 2))


def visible_model(seed: int = 0) -> PerformerModel:
    """A tiny Enformer whose centre bin depends visibly on its input (as in tests/test_interpret.py)."""
    torch.manual_seed(seed)
    trunk = build_trunk(**TINY)
    with torch.no_grad():
        for p in trunk.parameters():
            if not p.any():
                p.normal_(0.0, 0.2)
        for bn in (m for m in trunk.modules() if isinstance(m, torch.nn.BatchNorm1d)):
            bn.momentum = None
        trunk.train()(torch.nn.functional.one_hot(torch.randint(0, 4, (2, L)), 4).float())
    return PerformerModel(trunk).eval()


def reference_sequence(seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    seq = np.array(list("ACGT"))[rng.integers(0, 4, CONTIG)]
    # bases the records below need: deletions and insertions left-aligned (REF and ALT end differently)
    seq[2500:2505] = list("GATTC")  # deletion GATT -> G; the * record at 2502 (T)
    seq[3020:3031] = list("CAGTCAGTCAA")  # deletion of 10 bp over the TSS (3024): CAGTCAGTCA -> C
    seq[3100] = "A"  # insertion A -> ACG
    seq[3300:3302] = list("GG")  # MNP GG -> TC
    seq[3500:3503] = list("CTA")  # an unobserved deletion CT -> C
    return "".join(seq)


def write_cohort(tmp: Path, records: list[tuple[int, str, str, list[str]]], n_people: int, seq: str):
    fasta = tmp / "ref.fa"
    fasta.write_text(">c1\n" + seq + "\n")
    pysam.faidx(str(fasta))
    samples = [f"P{i}" for i in range(n_people)]
    lines = [f"c1\t{p + 1}\tv{p}_{a}\t{r}\t{a}\t.\tPASS\t.\tGT\t" + "\t".join(gts) for p, r, a, gts in sorted(records)]
    vcf = tmp / "phased.vcf"
    vcf.write_text(HEADER.format(n=CONTIG, samples="\t".join(samples)) + "\n".join(lines) + "\n")
    return fasta, Path(pysam.tabix_index(str(vcf), preset="vcf", force=True))


def other_base(base: str, shift: int = 1) -> str:
    return "ACGT"[("ACGT".index(base) + shift) % 4]


# (0-based pos, REF, ALT, kind) of the small cohort; GTs of 6 people below
SMALL = [
    (2100, None, None, "SNV"),
    (2500, "GATT", "G", "indel"),
    (2502, "T", "*", None),  # ALT *: never scored
    (2900, None, None, "SNV"),
    (3020, "CAGTCAGTCA", "C", "indel"),  # deletes the TSS base
    (3024, None, None, "SNV"),  # an SNV at the TSS, inside that deletion
    (3100, "A", "ACG", "indel"),
    (3300, "GG", "TC", "MNP"),
    (3500, "CT", "C", None),  # nobody carries it
    (3900, None, None, "SNV"),
]
GENOTYPES = {
    2100: ["0|1", "0|0", "1|1", "0|0", "0|0", "0|0"],
    2500: ["0|0", "1|0", "0|0", "0|1", "0|0", "0|0"],
    2502: ["0|0", "0|1", "0|0", "0|0", "0|0", "0|0"],
    2900: ["0|0", "0|0", "0|1", "0|0", "1|0", "0|0"],
    3020: ["0|0", "0|0", "0|0", "1|0", "0|0", "0|1"],
    3024: ["0|0", "0|0", "0|0", "0|1", "0|0", "0|0"],
    3100: ["1|1", "0|0", "0|0", "0|0", "0|1", "0|0"],
    3300: ["0|0", "0|1", "0|0", "0|0", "0|0", "0|0"],
    3500: ["0|0"] * 6,
    3900: ["0|0", "0|0", "0|0", "0|0", "0|0", "1|1"],
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    seq = reference_sequence()
    records = []
    for pos, ref, alt, _ in SMALL:
        if ref is None:
            ref, alt = seq[pos], other_base(seq[pos])
        assert seq[pos : pos + len(ref)] == ref
        records.append((pos, ref, alt, GENOTYPES[pos]))
    fasta, vcf = write_cohort(tmp_path_factory.mktemp("indel_effects"), records, 6, seq)
    window = HaplotypeSequences(fasta, vcf).window("c1", START, START + L)
    personal = PersonalSequences(fasta, vcf).window("c1", START, START + L)
    return SimpleNamespace(fasta=fasta, vcf=vcf, window=window, personal=personal, seq=seq)


@pytest.fixture(scope="module")
def tiny_model() -> PerformerModel:
    return visible_model()


def test_table_rows_kinds_and_coordinates(small):
    table = ism_scores(Linear(), small.window, tss=TSS, batch_size=3)
    assert list(table.columns) == ISM_COLUMNS
    scored = [(p, k) for p, _, _, k in SMALL if k is not None]
    assert table["pos"].tolist() == [p for p, _ in scored]  # reference coordinates, VCF order
    assert table["kind"].tolist() == [k for _, k in scored]
    assert table["distance_to_tss"].tolist() == [p - TSS for p, _ in scored]
    rows = table.set_index("pos")
    assert (rows.at[2500, "ref"], rows.at[2500, "alt"]) == ("GATT", "G")
    assert (rows.at[3100, "ref"], rows.at[3100, "alt"]) == ("A", "ACG")
    assert (rows.at[3300, "ref"], rows.at[3300, "alt"]) == ("GG", "TC")
    assert rows.at[2500, "snv_id"] == "v2500_G"
    assert rows.at[3100, "maf"] == pytest.approx(3 / 12)
    assert np.isfinite(table["ism"]).all()
    assert (table.loc[table["kind"] != "SNV", "ism"] != 0).all()


def test_indel_and_mnp_ism_equal_brute_force_predictions(small, tiny_model):
    window = small.window
    observed = observed_variants(window)
    for model, exact in ((Linear(), True), (tiny_model, False)):
        table = ism_scores(model, window, tss=TSS, batch_size=2)
        reference = codes_to_one_hot(window.codes).astype(np.float32)
        ref_pred = predict_sequences(model, reference[None])[0]
        for row, j in zip(table.itertuples(), observed):
            carried = np.zeros((1, len(window.records)), dtype=bool)
            carried[0, j] = True
            codes = window.reference_with(carried)
            assert codes.shape == (1, L)
            direct = predict_sequences(model, codes_to_one_hot(codes).astype(np.float32))[0] - ref_pred
            if exact:
                assert row.ism == direct
            else:
                assert row.ism == pytest.approx(direct, rel=1e-4, abs=1e-6)
        if not exact:
            assert (table["ism"].abs() > 1e-5).all()  # not vacuous
    # the deletion over the TSS: the TSS maps to the next surviving base, which lands at index L // 2
    j = observed[list(table["pos"]).index(3020)]
    carried = np.zeros((1, len(window.records)), dtype=bool)
    carried[0, j] = True
    codes = window.reference_with(carried)[0]
    assert "".join("ACGTN"[c] for c in codes[L // 2 - 3 : L // 2 + 2]) == small.seq[3018:3021] + small.seq[3030:3032]


def test_snv_rows_equal_the_snv_only_table(small, tiny_model):
    both = ism_scores(tiny_model, small.window, tss=TSS, batch_size=3)
    snv_only = ism_scores(tiny_model, small.personal, tss=TSS, batch_size=3)
    assert (snv_only["kind"] == "SNV").all()
    snvs = both[both["kind"] == "SNV"].reset_index(drop=True)
    pd.testing.assert_frame_equal(snvs, snv_only)
    assert both.attrs["reference_prediction"] == snv_only.attrs["reference_prediction"]
    # and the SNV-only HaplotypeWindow (data.indels off, phased haplotypes) gives the SNV-only table
    pd.testing.assert_frame_equal(ism_scores(tiny_model, small.window.snv_only(), tss=TSS, batch_size=3), snv_only)


def test_driver_dosages_line_up_with_the_table(small):
    window = small.window
    table = ism_scores(Linear(), window, tss=TSS)
    rows = np.array([0, 2, 3, 5])
    dosage = observed_dosage(window, rows)
    assert dosage.shape == (len(rows), len(table))
    column = {record_id: j for j, record_id in enumerate(window.records.ids)}
    for i, record_id in enumerate(table["snv_id"]):
        np.testing.assert_array_equal(dosage[:, i], window.dosage()[rows, column[record_id]])
    np.testing.assert_array_equal(observed_dosage(small.personal), small.personal.snvs.dosage[:, :])
    # driver selection takes the table's scores with these columns
    result = select_drivers(table["ism"].to_numpy(), observed_dosage(window).astype(float), np.arange(6.0))
    assert len(result.candidates) == len(table)
    # LD reads the same variants (pos, alt letters) from the window
    ld = window_predictors(window, indels=True)
    assert set(zip(ld.pos.tolist(), ld.alt)) >= set(zip(table["pos"], table["alt"]))
    assert (3500, "C") in set(zip(ld.pos.tolist(), ld.alt))  # unobserved, but still a column


def test_predict_variants_matches_predict_ism_for_substitutions(tiny_model):
    rng = np.random.default_rng(3)
    reference = rng.integers(0, 4, L).astype(np.uint8)
    reference[7] = 4
    offsets = np.array([0, 100, 1024, 2047, 500])
    alts = (reference[offsets] % 4 + 1) % 4
    variants = np.repeat(reference[None], len(offsets), axis=0)
    variants[np.arange(len(offsets)), offsets] = alts
    ref_pred, effects = predict_variants(tiny_model, reference, variants, batch_size=2)
    ref_ism, ism = predict_ism(tiny_model, codes_to_one_hot(reference), offsets, alts, batch_size=2)
    np.testing.assert_allclose(effects, ism, rtol=1e-5, atol=1e-7)
    assert ref_pred == pytest.approx(ref_ism, rel=1e-6)
    assert effects.dtype == np.float64
    nan, empty = predict_variants(tiny_model, reference, np.zeros((0, L), np.uint8))
    assert np.isnan(nan) and empty.shape == (0,)
    with pytest.raises(ValueError, match="variant_codes"):
        predict_variants(tiny_model, reference, variants[:, :-1])
    with pytest.raises(ValueError, match="0-4"):
        predict_variants(tiny_model, reference, variants + 5)
    with pytest.raises(ValueError, match="reference_codes"):
        predict_variants(tiny_model, variants, variants)


# ---------------------------------------------------------------- elastic net with indels

N_PEOPLE = 90
DELETION = 2500


class FakeDataset:
    """What the elastic net reads of a split's dataset: windows, person rows, targets and groups."""

    def __init__(self, windows, person: np.ndarray, target: np.ndarray):
        self.windows, self.person, self.target = windows, person, target.astype(np.float32)
        self.gene = np.zeros(len(person), dtype=np.int64)

    def groups(self) -> list[np.ndarray]:
        return [np.arange(len(self.person))]


@pytest.fixture(scope="module")
def en_cohort(tmp_path_factory):
    """90 people; expression = the 4 bp deletion's dosage + noise; SNVs, an insertion and an MNP beside it."""
    rng = np.random.default_rng(7)
    seq = reference_sequence()
    variants = [
        (2100, seq[2100], other_base(seq[2100])),
        (DELETION, "GATT", "G"),
        (2900, seq[2900], other_base(seq[2900])),
    ]
    variants += [(3100, "A", "ACG"), (3300, "GG", "TC"), (3700, seq[3700], other_base(seq[3700], 2))]
    alleles = {pos: rng.random((N_PEOPLE, 2)) < rng.uniform(0.2, 0.5) for pos, _, _ in variants}
    records = [(p, r, a, [f"{int(h[0])}|{int(h[1])}" for h in alleles[p]]) for p, r, a in variants]
    fasta, vcf = write_cohort(tmp_path_factory.mktemp("en_indels"), records, N_PEOPLE, seq)
    window = HaplotypeSequences(fasta, vcf).window("c1", START, START + L)
    people = [f"P{i}" for i in range(N_PEOPLE)]
    y = alleles[DELETION].sum(axis=1) + rng.normal(0.0, 0.3, N_PEOPLE)
    order = rng.permutation(N_PEOPLE)
    train, tune, test = order[:60], order[60:75], order[75:]
    targets = pd.Series(y, index=people)
    datasets = {
        "tune": FakeDataset([window], tune, y[tune]),
        "test": FakeDataset([window], test, y[test]),
    }

    def make_dm(indels: bool):
        return SimpleNamespace(
            gene_ids=["G1"],
            gene_names=["GENE1"],
            people=people,
            split=SimpleNamespace(train=[people[i] for i in train]),
            cohort=SimpleNamespace(targets=lambda gene_id, who: targets[list(who)]),
            datasets=datasets,
            indels=indels,
        )

    return SimpleNamespace(vcf=vcf, window=window, people=people, y=y, train=train, test=test, make_dm=make_dm)


def vcf_matrix(vcf_path: Path, people: list[str]) -> tuple[np.ndarray, list[int], list[str]]:
    """ALT dosages (people x records) of every record in the window, straight from cyvcf2."""
    vcf = cyvcf2.VCF(str(vcf_path))
    column = {s: i for i, s in enumerate(vcf.samples)}
    rows, pos, alts = [], [], []
    for record in vcf(f"c1:{START + 1}-{START + L}"):
        if START <= record.POS - 1 < START + L and record.ALT[0] != "*":
            genotypes = np.array([g[:2] for g in record.genotypes])
            rows.append(genotypes.sum(axis=1)[[column[p] for p in people]])
            pos.append(record.POS - 1)
            alts.append(record.ALT[0])
    return np.array(rows, dtype=np.float64).T, pos, alts


def test_indel_aware_elastic_net_picks_the_deletion(en_cohort):
    result = elastic_net_baseline(en_cohort.make_dm(indels=True), seed=0)
    coefs = result.coefficients
    assert list(coefs.columns) == COEFFICIENT_COLUMNS
    assert coefs["kind"].tolist() == ["SNV", "indel", "SNV", "indel", "MNP", "SNV"]
    assert coefs.loc[coefs["pos"] == DELETION, ["ref", "alt"]].values.tolist() == [["GATT", "G"]]
    top = coefs.loc[coefs["coef"].abs().idxmax()]
    assert (top["pos"], top["kind"]) == (DELETION, "indel")
    assert top["coef"] > 0.5
    test = result.metrics.query("split == 'test'").iloc[0]
    assert test["r2"] > 0.6 and test["status"] == "fit" and test["n_snvs"] == 6

    # the same fit straight from sklearn on the VCF's dosage matrix
    x, pos, _ = vcf_matrix(en_cohort.vcf, en_cohort.people)
    assert coefs["pos"].tolist() == pos
    model = Pipeline(
        [("variance", VarianceThreshold()), ("enet", ElasticNetCV(max_iter=2000, cv=5, random_state=0, n_jobs=1))]
    ).fit(x[en_cohort.train], en_cohort.y[en_cohort.train])
    coef = np.zeros(x.shape[1])
    coef[model["variance"].get_support()] = model["enet"].coef_
    np.testing.assert_allclose(coefs["coef"], coef, rtol=1e-9, atol=1e-12)
    got = result.predictions.query("split == 'test'")
    pred = model.predict(x[en_cohort.test])
    np.testing.assert_allclose(got["pred"], pred, rtol=1e-9, atol=1e-12)
    assert test["r2"] == pytest.approx(r2_score(en_cohort.y[en_cohort.test].astype(np.float32), pred), abs=1e-6)


def test_snv_only_elastic_net_on_the_same_windows(en_cohort):
    result = elastic_net_baseline(en_cohort.make_dm(indels=False), seed=0)
    coefs = result.coefficients
    assert list(coefs.columns) == COEFFICIENT_COLUMNS
    assert (coefs["kind"] == "SNV").all() and coefs["pos"].tolist() == [2100, 2900, 3700]
    snvs = en_cohort.window.snvs
    predictors = window_predictors(en_cohort.window, indels=False)
    np.testing.assert_array_equal(predictors.dosage, snvs.dosage)
    assert result.metrics.query("split == 'test'").iloc[0]["r2"] < 0.3  # the deletion is not a predictor


class PersonalDataset:
    """Items = people of one gene; inputs = the mean one-hot of each person's two haplotypes."""

    def __init__(self, window, target: np.ndarray):
        self.window, self.target = window, target.astype(np.float32)
        self.person = np.arange(len(target))

    def __getitems__(self, items):
        codes = self.window.sequences(self.person[np.asarray(items)])
        return {"x": torch.from_numpy(mean_one_hot(codes))}


def test_gene_drivers_with_indels_in_the_table(small):
    window = small.window
    model = Linear()
    table = ism_scores(model, window, tss=TSS)
    dosage = observed_dosage(window).astype(float)
    y = table.attrs["reference_prediction"] + dosage @ table["ism"].to_numpy() / 2  # the surrogate itself
    dataset = PersonalDataset(window, y)
    cfg = OmegaConf.create({"batch_size": 4, "interpret_precision": "fp32"})
    flags, row = gene_drivers(model, table, window, dataset, np.arange(6), cfg)
    assert flags.shape == (len(table),) and row["n_snvs"] == len(table) and row["n_people"] == 6
    assert row["r_all"] > 0.5
    with pytest.raises(ValueError, match="observed variants"):
        gene_drivers(model, table.iloc[1:], window, dataset, np.arange(6), cfg)


# --- Gradient x input in reference coordinates ------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["dosage", "haplotypes"])
def test_personal_attribution_is_mapped_to_reference_coordinates(small, encoding):
    """A linear model's gradient is its weight, so the mapped attribution has a brute-force value: each
    sequence's base at index j adds ``W[j, base] / 2`` at its reference position; inserted bases add nothing."""
    model = Linear()
    window = small.window
    rows = np.arange(6)
    got = reference_and_personal_attribution(model, window, rows=rows, batch_size=4, encoding=encoding)
    weight = model.weight.detach().numpy().astype(np.float64)
    want = np.zeros((L, 4))
    inserted = 0
    codes, origin = window.sequences(rows, encoding), window.origins(rows, encoding)
    for i in rows:
        for h in (0, 1):
            for j in range(L):
                r, base = origin[i, h, j], codes[i, h, j]
                if r == -1:
                    inserted += 1
                elif START <= r < START + L and base < 4:
                    want[r - START, base] += weight[j, base] / 2
    np.testing.assert_allclose(got.personal, want / len(rows), rtol=1e-6, atol=1e-6)
    assert got.n_inserted == inserted == 2 * 3  # person 0 carries the 2 bp insertion on both haplotypes, 4 once
    # the deleted TSS-spanning bases of carriers receive only the other haplotypes' share
    np.testing.assert_array_equal(got.positions, START + np.arange(L))


def test_snv_haplotype_attribution_equals_the_dosage_one_hot_attribution(small, tiny_model):
    snv_only = small.window.snv_only()
    want = reference_and_personal_attribution(tiny_model, small.personal, batch_size=3)
    got = reference_and_personal_attribution(tiny_model, snv_only, batch_size=3, encoding="dosage")
    np.testing.assert_allclose(got.personal, want.personal, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(got.reference, want.reference)
