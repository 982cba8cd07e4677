"""Functional analyses of selected variants: enrichment, fine-mapped auROC, MAF/LD, motifbreakR export.

Every number is computed by hand from a constructed example (or by sklearn / numpy brute force). The
real-data test at the end runs on the Geuvadis chr22 slice when PERFORMER_GEUVADIS names its folder.
"""

import gzip
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import roc_auc_score

from performer.data.variants import SNVs
from performer.interpret.functional import (
    annotation_enrichment,
    check_weight_table,
    fine_mapped_auroc,
    functional_analyses,
    ld_summary,
    mean_pairwise_ld,
    motifbreakr_bed,
    read_annotation_bed,
    read_fine_mapped,
    read_qtltools_lead_eqtls,
    summarize,
    variant_set_summary,
    weight_table,
    write_motifbreakr_bed,
)
from performer.interpret.functional_plots import write_functional_figures


def rows(model, gene, positions, hsv, weights=None, chrom="chr1", **extra):
    n = len(positions)
    return pd.DataFrame(
        {
            "model": model,
            "gene_id": gene,
            "chrom": chrom,
            "pos": positions,
            "ref": "A",
            "alt": "G",
            "weight": weights if weights is not None else np.linspace(1, 0.1, n),
            "hsv": hsv,
            **extra,
        }
    )


# ------------------------------------------------------------------------------------- enrichment


@pytest.fixture
def enrichment_case(tmp_path):
    """Gene A: chr1 [1000, 2000); gene B: contig '1' [5000, 5100) (a chr-less spelling).

    promoter: [900, 1100) and [1050, 1150) merge to [900, 1150): 150 bp inside A (partly outside it).
    enhancer: [5000, 5050): 50 bp inside B. absent: chr2 only.
    """
    bed = tmp_path / "states.bed.gz"
    with gzip.open(bed, "wt") as handle:
        handle.write("track name=states\n# comment\n")
        handle.write("chr1\t900\t1100\tpromoter\t0\t+\n")
        handle.write("chr1\t1050\t1150\tpromoter\n")
        handle.write("chr1\t5000\t5050\tenhancer\n")
        handle.write("chr2\t0\t10\tabsent\n")
    windows = pd.DataFrame({"gene_id": ["A", "B"], "chrom": ["chr1", "1"], "start": [1000, 5000], "end": [2000, 5100]})
    weights = pd.concat(
        [
            # performer: A has HSVs at 1000, 1149 (inside the merged promoter) and 1150 (just past it)
            rows("performer", "A", [1000, 1149, 1150, 1700], [True, True, True, False]),
            rows("performer", "B", [5010, 5060], [True, False], chrom="1"),
            rows("elastic_net", "A", [1000, 1149, 1150, 1700], [False, False, False, True]),
            rows("elastic_net", "B", [5010, 5060], [False, False], chrom="1"),
        ],
        ignore_index=True,
    )
    return read_annotation_bed(bed), windows, weights


def test_read_annotation_bed(enrichment_case, tmp_path):
    regions, _, _ = enrichment_case
    assert regions.to_dict("list") == {
        "chrom": ["chr1", "chr1", "chr1", "chr2"],
        "start": [900, 1050, 5000, 0],
        "end": [1100, 1150, 5050, 10],
        "label": ["promoter", "promoter", "enhancer", "absent"],
    }
    bad = tmp_path / "bad.bed"
    bad.write_text("chr1\t0\t10\tA\nchr1\t20\t20\tB\n")
    with pytest.raises(ValueError, match=r"bad.bed, line 2: need 0 <= start < end"):
        read_annotation_bed(bad)
    bad.write_text("chr1\t0\t10\n")
    with pytest.raises(ValueError, match=r"line 1: 3 tab-separated columns"):
        read_annotation_bed(bad)
    bad.write_text("chr1\tx\t10\tA\n")
    with pytest.raises(ValueError, match=r"line 1: start/end 'x'"):
        read_annotation_bed(bad)


def test_annotation_enrichment_hand_computed(enrichment_case):
    regions, windows, weights = enrichment_case
    table = annotation_enrichment(weights, windows, regions).set_index(["model", "label"])
    perf = table.loc["performer"]
    # promoter: observed 2 (1000, 1149); expected 3 * 150/1000 (A) + 1 * 0/100 (B) = 0.45
    assert perf.loc["promoter", "observed"] == 2
    assert perf.loc["promoter", "expected"] == pytest.approx(0.45, abs=1e-12)
    assert perf.loc["promoter", "log_enrichment"] == pytest.approx(math.log(2 / 0.45), abs=1e-12)
    # enhancer: observed 1 (5010 in B); expected 3 * 0 + 1 * 50/100 = 0.5
    assert perf.loc["enhancer", "observed"] == 1
    assert perf.loc["enhancer", "expected"] == pytest.approx(0.5, abs=1e-12)
    assert perf.loc["enhancer", "log_enrichment"] == pytest.approx(math.log(2), abs=1e-12)
    assert perf.loc["promoter", "n_hsv"] == 4 and perf.loc["promoter", "n_genes"] == 2
    assert perf.loc["promoter", "label_fraction"] == pytest.approx(150 / 1100, abs=1e-12)
    # a label in no window: expected 0, enrichment and log undefined
    assert perf.loc["absent", "expected"] == 0 and np.isnan(perf.loc["absent", "log_enrichment"])
    assert np.isnan(perf.loc["absent", "enrichment"])
    # elastic net: its one "HSV" (non-zero coefficient at 1700) lies outside the promoter
    en = table.loc["elastic_net"]
    assert en.loc["promoter", "observed"] == 0 and en.loc["promoter", "expected"] == pytest.approx(0.15, abs=1e-12)
    assert en.loc["promoter", "enrichment"] == 0 and np.isnan(en.loc["promoter", "log_enrichment"])

    per_gene = annotation_enrichment(weights, windows, regions, by_gene=True)
    a = per_gene[(per_gene["model"] == "performer") & (per_gene["gene_id"] == "A") & (per_gene["label"] == "promoter")]
    assert a[["observed", "expected", "label_fraction"]].to_numpy().tolist() == [[2, 0.45, 0.15]]


def test_annotation_enrichment_windows_per_model(enrichment_case):
    """Enformer's ISM window may be wider: A's is [500, 3000) for it, holding 250 bp of promoter."""
    regions, windows, weights = enrichment_case
    enformer = rows("enformer", "A", [1000, 2500, 2600], [True, True, False])
    per_model = pd.concat(
        [windows.assign(model=m) for m in ("performer", "elastic_net")]
        + [pd.DataFrame({"model": ["enformer"], "gene_id": ["A"], "chrom": ["chr1"], "start": [500], "end": [3000]})],
        ignore_index=True,
    )
    table = annotation_enrichment(pd.concat([weights, enformer]), per_model, regions).set_index(["model", "label"])
    assert table.loc[("enformer", "promoter"), "observed"] == 1
    assert table.loc[("enformer", "promoter"), "expected"] == pytest.approx(2 * 250 / 2500, abs=1e-12)
    assert table.loc[("performer", "promoter"), "expected"] == pytest.approx(0.45, abs=1e-12)
    with pytest.raises(ValueError, match="outside its window"):
        annotation_enrichment(pd.concat([weights, enformer]), pd.concat([windows, windows.iloc[:0]]), regions)


def test_annotation_enrichment_errors(enrichment_case):
    regions, windows, weights = enrichment_case
    outside = weights.copy()
    outside.loc[0, "pos"] = 999
    with pytest.raises(ValueError, match=r"HSV at 0-based chr1:999 of gene A .* outside its window chr1:1000-2000"):
        annotation_enrichment(outside, windows, regions)
    with pytest.raises(KeyError, match="have no window"):
        annotation_enrichment(weights, windows[windows["gene_id"] == "A"], regions)
    with pytest.raises(ValueError, match="no window contig"):
        annotation_enrichment(weights, windows, regions.assign(chrom="chr9"))
    with pytest.raises(KeyError, match="lacks columns"):
        annotation_enrichment(weights.drop(columns="hsv"), windows, regions)


# ------------------------------------------------------------------------------------- fine mapping


def test_fine_mapped_auroc_matches_sklearn():
    # G1: |w| = .9 .8 .1 .5 .3 .2; positives at index 0 (alleles match) and 3 (position only)
    w = np.array([0.9, -0.8, 0.1, 0.5, 0.3, 0.2])
    pos = [100, 200, 300, 400, 500, 600]
    weights = pd.concat(
        [
            rows("performer", "ENSG01.5", pos, False, w, chrom="22"),
            rows("performer", "ENSG02.1", [100, 700], False, [1.0, 2.0], chrom="22"),
            rows("performer", "ENSG03.1", [800], False, [1.0], chrom="22"),
        ],
        ignore_index=True,
    )
    fine = read_fine_mapped(
        pd.DataFrame(
            {
                "gene_id": ["ENSG01.3", "ENSG01.3", "ENSG01.3", "ENSG01.3", "ENSG02", "ENSG03"],
                "chrom": ["chr22"] * 6,
                "pos": [101, 201, 401, 501, 701, 801],  # 1-based
                "ref": ["A", "G", None, "A", None, None],
                "alt": ["G", "A", None, "G", None, None],
                "pip": [0.9, 0.95, 0.5, 0.49, 0.1, 0.7],
            }
        ),
        pip_threshold=0.5,
    )
    assert fine["pos"].tolist() == [100, 200, 400, 500, 700, 800]
    assert fine["label"].tolist() == [True, True, True, False, False, True]
    table = fine_mapped_auroc(weights, fine).set_index("gene_id")
    # 200 is listed with swapped alleles (G>A vs the SNV's A>G): a negative
    labels = np.array([1, 0, 0, 1, 0, 0], bool)
    assert table.loc["ENSG01.5", "auroc"] == roc_auc_score(labels, np.abs(w)) == 7 / 8
    assert table.loc["ENSG01.5", ["n_snvs", "n_positive", "n_listed", "status"]].tolist() == [6, 2, 3, "ok"]
    assert table.loc["ENSG02.1", "status"] == "no_positive" and np.isnan(table.loc["ENSG02.1", "auroc"])
    assert table.loc["ENSG03.1", "status"] == "no_negative" and np.isnan(table.loc["ENSG03.1", "auroc"])
    summary = summarize(table.reset_index(), "auroc")
    assert summary[["n", "n_missing", "mean"]].to_numpy().tolist() == [[1, 2, 7 / 8]]

    # without gene IDs, labels apply to every gene: ENSG02's SNV at 100 (A>G) is now positive
    genes_free = fine.assign(gene_id=None)
    table = fine_mapped_auroc(weights, genes_free).set_index("gene_id")
    assert table.loc["ENSG02.1", "auroc"] == roc_auc_score([1, 0], [1.0, 2.0]) == 0.0


def test_read_fine_mapped_errors(tmp_path):
    with pytest.raises(ValueError, match=r"row 1: pos is not a 1-based position"):
        read_fine_mapped(pd.DataFrame({"chrom": ["1", "1"], "pos": [5, 0], "label": [1, 0]}))
    with pytest.raises(ValueError, match="exactly one of"):
        read_fine_mapped(pd.DataFrame({"chrom": ["1"], "pos": [5], "label": [1], "pip": [1.0]}))
    mixed = read_fine_mapped(
        pd.DataFrame({"gene_id": ["G", None], "chrom": ["1", "1"], "pos": [5, 6], "label": [1, 0]})
    )
    assert mixed["gene_id"].isna().tolist() == [False, True]
    with pytest.raises(ValueError, match="row 1 has no gene_id"):
        fine_mapped_auroc(rows("performer", "G", [4], False, chrom="1"), mixed)
    with pytest.raises(ValueError, match=r"row 0: label is not 0 or 1"):
        read_fine_mapped(pd.DataFrame({"chrom": ["1"], "pos": [5], "label": [2]}))
    path = tmp_path / "fm.tsv"
    path.write_text("chrom\tpos\tpip\n1\t5\t1.5\n")
    with pytest.raises(ValueError, match=r"fm.tsv, row 0: pip is not a probability"):
        read_fine_mapped(path)


def test_read_qtltools_lead_eqtls(tmp_path):
    header = (
        "phe_id phe_chr phe_from phe_to phe_strd n_var_in_cis dist_phe_var var_id var_chr var_from var_to "
        "dof1 dof2 bml1 bml2 nom_pval r_squared slope adj_emp_pval adj_beta_pval"
    ).split()
    lines = [
        "G1.2 22 500 500 + 10 -5 v1 22 495 495 356 298.3 1.05 470.7 0.0004 -0.33 0.44 0.43",
        "G2.1 22 900 900 - 10 3 v2 22 903 903 356 287.3 1.10 429.7 0.00001 0.29 0.001 0.0004",
    ]
    path = tmp_path / "lead.tsv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("\t".join(header) + "\n" + "\n".join(line.replace(" ", "\t") for line in lines) + "\n")
    fine = read_qtltools_lead_eqtls(path, p_threshold=0.05)
    # 19-field rows: adj_beta_pval is the last field (0.43 and 0.0004), not a column of NaN
    assert fine[["gene_id", "chrom", "pos", "label"]].to_numpy().tolist() == [
        ["G1.2", "22", 494, False],
        ["G2.1", "22", 902, True],
    ]
    with gzip.open(path, "wt") as handle:
        handle.write("\t".join(header) + "\n" + lines[0].replace(" ", "\t") + "\tx\tx\n")
    with pytest.raises(ValueError, match=r"line 2: 21 fields under a 20-name header"):
        read_qtltools_lead_eqtls(path)


# ------------------------------------------------------------------------------------- MAF, LD


def test_mean_pairwise_ld_exact_and_brute_force():
    x1 = np.array([0, 1, 2, 0, 1], np.int8)
    dosage = np.stack([x1, x1, np.zeros(5, np.int8), 2 - x1], axis=1)
    # pairs (1,2), (1,4), (2,4) have r^2 = 1; the 3 pairs with the constant column are undefined
    result = mean_pairwise_ld(dosage)
    assert result["mean_r2"] == pytest.approx(1.0, abs=1e-12)
    assert (result["n_pairs"], result["n_undefined"]) == (3, 3)
    rng = np.random.default_rng(0)
    dosage = rng.integers(0, 3, (40, 6)).astype(np.int8)
    brute = [pearsonr(dosage[:, i], dosage[:, j]).statistic ** 2 for i in range(6) for j in range(i + 1, 6)]
    result = mean_pairwise_ld(dosage)
    assert result["n_pairs"] == 15 and result["mean_r2"] == pytest.approx(np.mean(brute), abs=1e-12)
    assert math.isnan(mean_pairwise_ld(dosage[:, :1])["mean_r2"])


def test_ld_summary_and_variant_sets():
    x = np.array([[0, 0, 2, 1], [1, 1, 1, 0], [2, 2, 0, 1], [0, 1, 2, 2]], np.int8)  # 4 people x 4 SNVs
    snvs = SNVs(
        chrom="chr1",
        pos=np.array([10, 20, 30, 40]),
        ref=np.zeros(4, np.uint8),
        alt=np.full(4, 2, np.uint8),  # G
        ids=["a", "b", "c", "d"],
        dosage=x,
        samples=list("pqrs"),
    )
    extra = dict(maf=[0.1, 0.2, 0.3, 0.4], distance_to_tss=[-100, 50, 300, -1000])
    weights = pd.concat(
        [
            rows(
                "performer",
                "A",
                [10, 20, 30, 40],
                [True, True, True, False],
                driver=[True, True, False, False],
                **extra,
            ),
            rows("elastic_net", "A", [10, 20, 30, 40], [False, True, True, True], driver=False, **extra),
        ],
        ignore_index=True,
    )
    ld = ld_summary(weights, {"A": snvs}).set_index(["model", "set"])
    r2 = lambda i, j: pearsonr(x[:, i], x[:, j]).statistic ** 2  # noqa: E731
    assert ld.loc[("performer", "driver"), "mean_r2"] == pytest.approx(r2(0, 1), abs=1e-12)
    assert ld.loc[("elastic_net", "hsv"), "mean_r2"] == pytest.approx((r2(1, 2) + r2(1, 3) + r2(2, 3)) / 3, abs=1e-12)
    assert ld.loc[("performer", "all"), "n_pairs"] == 6
    assert ("elastic_net", "driver") not in ld.index
    # a (pos, dosage) tuple matches on position alone
    ld_tuple = ld_summary(weights, {"A": (snvs.pos, x)})
    assert ld_tuple["mean_r2"].tolist() == pytest.approx(ld.reset_index()["mean_r2"].tolist(), abs=1e-12)
    with pytest.raises(KeyError, match="not among its dosage columns"):
        ld_summary(weights.assign(alt="T"), {"A": snvs})

    summary = variant_set_summary(weights).set_index(["model", "set"])
    assert summary.loc[("performer", "hsv"), ["n_variants", "maf_mean", "maf_median"]].tolist() == pytest.approx(
        [3, 0.2, 0.2]
    )
    assert summary.loc[("performer", "driver"), "abs_distance_mean"] == 75.0
    assert summary.loc[("elastic_net", "hsv"), "abs_distance_median"] == 300.0
    assert summary.loc[("performer", "all"), "n_genes"] == 1


# ------------------------------------------------------------------------------------- pipeline tables


def test_weight_table_from_ism_tables():
    ism = pd.DataFrame(
        {
            "model": "performer",
            "fold": 0,
            "gene_id": "A",
            "chrom": "22",
            "pos": [10, 20, 30],
            "ref": ["A", "C", "G"],
            "alt": ["G", "T", "A"],
            "ism": [0.5, -0.1, 0.2],
            "en_coef": [0.0, np.nan, -0.3],
            "is_hsv": ["True", "False", "True"],  # as a CSV round trip leaves them
            "is_driver": [True, False, False],
        }
    )
    enformer = ism[["fold", "gene_id", "chrom", "pos", "ref", "alt"]].assign(ism=[0.01, -0.3, 0.02])
    table = weight_table(ism, enformer).set_index(["model", "pos"])
    assert table.loc["elastic_net", "weight"].tolist() == [0.0, 0.0, -0.3]
    assert table.loc["elastic_net", "hsv"].tolist() == [False, False, True]
    assert table.loc["performer", "hsv"].tolist() == [True, False, True]
    assert table.loc["performer", "driver"].tolist() == [True, False, False]
    # Enformer's HSVs: the top 2 (Performer's HSV count) by |ism|: 20 and 30
    assert table.loc["enformer", "hsv"].tolist() == [False, True, True]
    with pytest.raises(ValueError, match="twice"):
        check_weight_table(pd.concat([table.reset_index()] * 2))
    # two deletions at one position share their ALT (the anchor base): different variants, both kept
    deletions = table.reset_index().iloc[:2].assign(pos=7, ref=["ACG", "ACGT"], alt="A", model="performer")
    assert len(check_weight_table(deletions)) == 2
    # one grouping key only (no fold), and an explicit k
    single = weight_table(ism.drop(columns="fold"), enformer.drop(columns="fold")).set_index(["model", "pos"])
    assert single.loc["enformer", "hsv"].tolist() == [False, True, True]
    assert weight_table(ism, enformer, k=1).set_index(["model", "pos"]).loc["enformer", "hsv"].tolist() == [
        False,
        True,
        False,
    ]


def test_motifbreakr_bed(tmp_path):
    weights = pd.concat(
        [
            rows("performer", "A", [20_099_999, 20_100_010], [True, False], [0.5, 0.9], chrom="22"),
            rows("performer", "B", [20_099_999], [True], [-0.7], chrom="22"),
        ],
        ignore_index=True,
    )
    bed = motifbreakr_bed(weights)
    assert bed.to_dict("records") == [
        {
            "chrom": "chr22",
            "start": 20_099_999,
            "end": 20_100_000,
            "name": "chr22:20100000:A:G",
            "score": 0,
            "strand": "+",
            "genes": "A;B",
            "max_abs_weight": 0.7,
        }
    ]
    path = write_motifbreakr_bed(bed, tmp_path / "hsv.bed")
    assert path.read_text() == "chr22\t20099999\t20100000\tchr22:20100000:A:G\t0\t+\n"
    with pytest.raises(ValueError, match="no rows of model 'enformer'"):
        motifbreakr_bed(weights, model="enformer")


def test_functional_analyses_writes_tables(enrichment_case, tmp_path):
    regions, windows, weights = enrichment_case
    bed = tmp_path / "regions.bed"
    regions.to_csv(bed, sep="\t", header=False, index=False)
    fine = read_fine_mapped(pd.DataFrame({"chrom": ["chr1"], "pos": [1001], "label": [1]}))
    rng = np.random.default_rng(1)
    dosages = {
        "A": ([1000, 1149, 1150, 1700], rng.integers(0, 3, (20, 4))),
        "B": ([5010, 5060], rng.integers(0, 3, (20, 2))),
    }
    tables = functional_analyses(weights, tmp_path / "out", windows, bed, fine, dosages, figures=False)
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(
        [f"{name}.csv" for name in tables] + ["motifbreakr_elastic_net.bed", "motifbreakr_performer.bed"]
    )
    assert pd.read_csv(tmp_path / "out" / "annotation_enrichment.csv")["observed"].sum() == 3
    assert (tmp_path / "out" / "motifbreakr_performer.bed").read_text().splitlines()[
        0
    ] == "chr1\t1000\t1001\tchr1:1001:A:G\t0\t+"


def test_figures(enrichment_case, tmp_path):
    regions, windows, weights = enrichment_case
    weights = weights.assign(maf=0.1, distance_to_tss=weights["pos"] - 1500, driver=weights["hsv"])
    fine = read_fine_mapped(pd.DataFrame({"chrom": ["chr1"], "pos": [1001], "label": [1]}))
    paths = write_functional_figures(
        tmp_path,
        enrichment=annotation_enrichment(weights, windows, regions),
        auroc=fine_mapped_auroc(weights, fine),
        weights=weights,
        ld=None,
    )
    assert sorted(p.name for p in paths) == [
        "annotation_enrichment.png",
        "distance_to_tss.png",
        "fine_mapped_auroc.png",
        "maf.png",
    ]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_imports_flow_one_way():
    """The runner (functional.py) imports the analyses and the figures; none of them imports it back."""
    import ast

    import performer.interpret as package

    below = ["variant_weights", "enrichment", "fine_mapping", "variant_stats", "motifbreakr", "functional_plots"]
    for name in below:
        tree = ast.parse((Path(package.__file__).parent / f"{name}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert "performer.interpret.functional" not in imported, name


# ------------------------------------------------------------------------------------- real data


@pytest.mark.skipif(
    not os.environ.get("PERFORMER_GEUVADIS"), reason="set PERFORMER_GEUVADIS to the geuvadis_chr22 folder"
)
def test_geuvadis_end_to_end(tmp_path):
    """Fine-mapped auROC and promoter enrichment on real files: the README's lead-eQTL table, a promoter
    BED (TSS +/- 1 kb from genes.gtf.gz, contig chr22) and random |weights| over the VCF's SNVs (contig 22)."""
    from performer.data.expression import read_gene_table
    from performer.data.variants import VariantReader

    data = Path(os.environ["PERFORMER_GEUVADIS"])
    genes = read_gene_table(data / "genes.gtf.gz")
    genes = genes[genes["gene_name"].isin(["DGCR8", "TRMT2A", "DGCR6L", "ZNF74", "MED15"])]
    assert len(genes) == 5
    promoters = genes.assign(start=genes["tss"] - 1000, end=genes["tss"] + 1000, label="promoter")
    bed = tmp_path / "promoters.bed"
    promoters[["chrom", "start", "end", "label"]].to_csv(bed, sep="\t", header=False, index=False)
    regions = read_annotation_bed(bed)

    reader = VariantReader(data / "genotypes.vcf.gz")
    rng = np.random.default_rng(0)
    tables, windows, dosages = [], [], {}
    for gene in genes.itertuples():
        start, end = gene.tss - 24_576, gene.tss + 24_576
        snvs = reader.fetch("22", start, end)
        windows.append({"gene_id": gene.gene_id, "chrom": "22", "start": start, "end": end})
        dosages[gene.gene_id] = snvs
        weight = rng.normal(size=len(snvs))
        hsv = np.zeros(len(snvs), bool)
        hsv[np.argsort(-np.abs(weight))[:5]] = True
        tables.append(
            pd.DataFrame(
                {
                    "model": "performer",
                    "gene_id": gene.gene_id,
                    "chrom": snvs.chrom,
                    "pos": snvs.pos,
                    "ref": [("A", "C", "G", "T")[c] for c in snvs.ref],
                    "alt": [("A", "C", "G", "T")[c] for c in snvs.alt],
                    "weight": weight,
                    "hsv": hsv,
                    "maf": np.minimum(snvs.allele_frequency(), 1 - snvs.allele_frequency()),
                    "distance_to_tss": snvs.pos - gene.tss,
                }
            )
        )
    weights = pd.concat(tables, ignore_index=True)
    windows = pd.DataFrame(windows)

    # (2) lead eQTLs: every lead variant of these genes is missing from the thinned VCF, so every gene
    # is dropped without a positive (the README says to expect this), though 4 have a significant lead
    fine = read_qtltools_lead_eqtls(data / "lead_eqtls_qtltools.tsv.gz")
    assert len(fine) == 608 and int(fine["label"].sum()) == 292
    auroc = fine_mapped_auroc(weights, fine)
    assert (auroc["status"] == "no_positive").all()
    listed = dict(zip(auroc["gene_id"].map(genes.set_index("gene_id")["gene_name"]), auroc["n_listed"]))
    assert listed == {"DGCR8": 1, "TRMT2A": 1, "DGCR6L": 1, "MED15": 1, "ZNF74": 0}  # adj_beta_pval < 0.05

    # (1) promoter enrichment against a brute-force per-base count
    table = annotation_enrichment(weights, windows, regions, by_gene=True)
    for row in table.itertuples():
        w = windows.set_index("gene_id").loc[row.gene_id]
        covered = np.zeros(w.end - w.start, bool)
        for p in promoters.itertuples():
            covered[max(p.start, w.start) - w.start : max(min(p.end, w.end) - w.start, 0)] = True
        hsv_pos = weights[(weights["gene_id"] == row.gene_id) & weights["hsv"]]["pos"].to_numpy()
        assert row.observed == int(covered[hsv_pos - w.start].sum())
        assert row.expected == pytest.approx(5 * covered.sum() / covered.size, abs=1e-12)
    total = annotation_enrichment(weights, windows, regions)
    assert total["n_hsv"].tolist() == [25]

    # (3) LD and MAF run on the real dosages
    ld = ld_summary(weights, dosages)
    assert (ld["n_variants"] >= 2).all() and ld["mean_r2"].between(0, 1).all()
    assert variant_set_summary(weights)["maf_mean"].between(0, 0.5).all()
