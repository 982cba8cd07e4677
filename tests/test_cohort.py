"""Tests for performer.data.expression (BED readers, gene tables) and performer.data.cohort."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from performer.data.cohort import Cohort, read_id_map
from performer.data.expression import ExpressionMatrix, read_expression_bed, read_gene_table, strip_version

PEOPLE = ["S1", "S2", "S3", "S4", "S5"]
VALUES = {
    "ENSG00000100001.5": [0.1, -1.2, 2.5, 0.0, 3.25],
    "ENSG00000100002.3": [1.0, 2.0, float("nan"), 4.0, 5.0],
    "ENSG00000100003.12": [-0.5, 0.5, 1.5, -2.5, 7.0],
}
# 1-based TSS (the BED ``end``) of each gene, and its strand
TSS_1BASED = {"ENSG00000100001.5": 1001, "ENSG00000100002.3": 6000, "ENSG00000100003.12": 12001}
STRAND = {"ENSG00000100001.5": "+", "ENSG00000100002.3": "-", "ENSG00000100003.12": "+"}


def write_text(path: Path, text: str) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def fmt(x: float) -> str:
    return "NA" if np.isnan(x) else repr(x)


def gtex_bed(path: Path, chrom: str = "22", people: list[str] = PEOPLE, values: dict = VALUES) -> Path:
    lines = ["\t".join(["#chr", "start", "end", "gene_id", *people])]
    for gene, row in values.items():
        end = TSS_1BASED[gene]
        lines.append("\t".join([chrom, str(end - 1), str(end), gene, *map(fmt, row)]))
    return write_text(path, "\n".join(lines) + "\n")


def qtltools_bed(path: Path, chrom: str = "chr22", people: list[str] = PEOPLE) -> Path:
    lines = ["\t".join(["#chr", "start", "end", "gene", "length", "strand", *people])]
    for gene, row in VALUES.items():
        end = TSS_1BASED[gene]
        lines.append("\t".join([chrom, str(end - 1), str(end), gene, "1234", STRAND[gene], *map(fmt, row)]))
    return write_text(path, "\n".join(lines) + "\n")


def gtf_line(chrom, feature, start, end, strand, attributes):
    return "\t".join([chrom, "HAVANA", feature, str(start), str(end), ".", strand, ".", attributes])


# GTF gene records, 1-based inclusive: gene 1 on + (TSS = start 1001 -> 1000 0-based), gene 2 on - (TSS = end
# 6000 -> 5999), gene 3 on + with a newer version than the expression file's and no gene_name.
def attrs(gene_id: str, name: str | None = None, transcript: str | None = None) -> str:
    out = f'gene_id "{gene_id}"; '
    out += f'transcript_id "{transcript}"; ' if transcript else 'gene_type "protein_coding"; '
    return out + (f'gene_name "{name}";' if name else "")


GTF_TEXT = (
    "\n".join(
        [
            "##description: test annotation",
            "#!genome-build GRCh37",
            gtf_line("chr22", "gene", 1001, 3000, "+", attrs("ENSG00000100001.5", "BTNL3")),
            gtf_line("chr22", "transcript", 1001, 3000, "+", attrs("ENSG00000100001.5", "BTNL3", "ENST1.1")),
            gtf_line("chr22", "exon", 1001, 1200, "+", attrs("ENSG00000100001.5", "BTNL3", "ENST1.1")),
            gtf_line("chr22", "gene", 4001, 6000, "-", attrs("ENSG00000100002.4", "ZNF74")),
            gtf_line("chr22", "exon", 5800, 6000, "-", attrs("ENSG00000100002.4", "ZNF74", "ENST2.1")),
            gtf_line("chr22", "gene", 12001, 15000, "+", attrs("ENSG00000100003.14")),
        ]
    )
    + "\n"
)


def gene_table(tmp_path: Path) -> pd.DataFrame:
    return read_gene_table(write_text(tmp_path / "genes.gtf", GTF_TEXT))


# ---------------------------------------------------------------- expression readers


@pytest.mark.parametrize("name", ["expr.bed", "expr.bed.gz"])
def test_read_gtex_layout(tmp_path, name):
    m = read_expression_bed(gtex_bed(tmp_path / name))
    assert m.people == PEOPLE
    assert list(m.genes.index) == list(VALUES)
    assert list(m.genes.columns) == ["chrom", "tss", "strand"]
    assert list(m.values.index) == list(VALUES)
    assert (m.genes["chrom"] == "22").all()
    assert m.genes["tss"].dtype == np.int64
    assert m.genes["tss"].tolist() == [TSS_1BASED[g] - 1 for g in VALUES]  # 0-based TSS = end - 1
    assert (m.genes["strand"] == ".").all()
    assert (m.values.dtypes == np.float64).all()
    expected = np.array(list(VALUES.values()))
    np.testing.assert_array_equal(m.values.to_numpy(), expected)  # NaN where NA
    assert np.isnan(m.values.at["ENSG00000100002.3", "S3"])
    assert m.path == tmp_path / name


@pytest.mark.parametrize("name", ["expr.bed", "expr.bed.gz"])
def test_read_qtltools_bed6_layout(tmp_path, name):
    m = read_expression_bed(qtltools_bed(tmp_path / name))
    assert m.people == PEOPLE  # length and strand are not people
    assert list(m.genes.index) == list(VALUES)
    assert (m.genes["chrom"] == "chr22").all()
    assert m.genes["tss"].tolist() == [TSS_1BASED[g] - 1 for g in VALUES]
    assert m.genes["strand"].tolist() == [STRAND[g] for g in VALUES]
    np.testing.assert_array_equal(m.values.to_numpy(), np.array(list(VALUES.values())))


def test_gtex_and_qtltools_layouts_agree(tmp_path):
    a = read_expression_bed(gtex_bed(tmp_path / "a.bed"))
    b = read_expression_bed(qtltools_bed(tmp_path / "b.bed"))
    pd.testing.assert_frame_equal(a.values, b.values)
    assert a.genes["tss"].tolist() == b.genes["tss"].tolist()


def test_gtex_layout_with_person_columns_named_like_numbers(tmp_path):
    people = ["1001", "1002", "1003", "1004", "1005"]
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed", people=people))
    assert m.people == people
    assert all(isinstance(p, str) for p in m.people)


def test_read_expression_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_expression_bed(tmp_path / "missing.bed")
    bad = write_text(tmp_path / "bad.bed", "gene\tS1\tS2\nA\t1\t2\n")
    with pytest.raises(ValueError, match="bad.bed"):
        read_expression_bed(bad)
    dup = write_text(tmp_path / "dup.bed", "#chr\tstart\tend\tgene_id\tS1\n22\t0\t1\tG1\t1.0\n22\t5\t6\tG1\t2.0\n")
    with pytest.raises(ValueError, match="G1"):
        read_expression_bed(dup)
    text = write_text(tmp_path / "text.bed", "#chr\tstart\tend\tgene_id\tS1\tS2\n22\t0\t1\tG1\t1.0\toops\n")
    with pytest.raises(ValueError, match="S2"):
        read_expression_bed(text)


# ---------------------------------------------------------------- gene tables


@pytest.mark.parametrize("name", ["genes.gtf", "genes.gtf.gz"])
def test_read_gtf_gene_table(tmp_path, name):
    table = read_gene_table(write_text(tmp_path / name, GTF_TEXT))
    assert list(table.columns) == ["gene_id", "gene_name", "chrom", "tss", "strand"]
    assert len(table) == 3  # only 'gene' records
    rows = table.set_index("gene_id")
    assert rows.at["ENSG00000100001.5", "tss"] == 1000  # + strand: start - 1
    assert rows.at["ENSG00000100002.4", "tss"] == 5999  # - strand: end - 1
    assert rows.at["ENSG00000100003.14", "tss"] == 12000
    assert table["tss"].dtype == np.int64
    assert rows["strand"].tolist() == ["+", "-", "+"]
    assert rows["gene_name"].tolist() == ["BTNL3", "ZNF74", "ENSG00000100003.14"]  # no name -> ID
    assert (rows["chrom"] == "chr22").all()


def test_read_gtf_without_genes_raises(tmp_path):
    path = write_text(
        tmp_path / "t.gtf", gtf_line("chr22", "exon", 1, 10, "+", 'gene_id "G1"; transcript_id "T1";') + "\n"
    )
    with pytest.raises(ValueError, match="gene"):
        read_gene_table(path)


def test_read_tsv_gene_table(tmp_path):
    path = write_text(
        tmp_path / "genes.tsv",
        "gene_id\tgene_name\tchrom\ttss\tstrand\textra\n"
        "ENSG00000100001\tBTNL3\t22\t1000\t+\tx\n"
        "ENSG00000100002\tZNF74\t22\t5999\t-\ty\n",
    )
    table = read_gene_table(path)
    assert list(table.columns) == ["gene_id", "gene_name", "chrom", "tss", "strand"]
    assert table["tss"].tolist() == [1000, 5999]
    assert table["tss"].dtype == np.int64
    assert table["chrom"].tolist() == ["22", "22"]  # kept as text
    assert table["gene_name"].tolist() == ["BTNL3", "ZNF74"]
    missing = write_text(tmp_path / "bad.tsv", "gene_id\tchrom\ttss\nG\t22\t5\n")
    with pytest.raises(ValueError, match="gene_name"):
        read_gene_table(missing)
    with pytest.raises(FileNotFoundError):
        read_gene_table(tmp_path / "none.tsv")


def test_strip_version():
    assert strip_version("ENSG00000100075.9") == "ENSG00000100075"
    assert strip_version("ENSG00000100075") == "ENSG00000100075"
    assert strip_version("ENSG00000100075.12") == "ENSG00000100075"


# ---------------------------------------------------------------- cohort: people


def test_cohort_people_intersection_in_expression_order(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    vcf_samples = ["S5", "X9", "S2", "S1", "X8"]
    cohort = Cohort(m, vcf_samples)
    assert cohort.people == ["S1", "S2", "S5"]
    assert cohort.vcf_sample == {"S1": "S1", "S2": "S2", "S5": "S5"}


def test_cohort_no_overlap_raises_with_examples(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    with pytest.raises(ValueError) as info:
        Cohort(m, ["NA1", "NA2", "NA3", "NA4"])
    message = str(info.value)
    assert "S1" in message and "NA1" in message
    assert "e.bed" in message
    assert "id_map" in message or "ID map" in message


def test_cohort_with_id_map(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    map_path = write_text(
        tmp_path / "ids.tsv", "expression_id\tvcf_id\nS1\tNA001\nS2\tNA002\nS4\tNA004\nS5\tNOT_IN_VCF\n"
    )
    id_map = read_id_map(map_path)
    assert id_map == {"S1": "NA001", "S2": "NA002", "S4": "NA004", "S5": "NOT_IN_VCF"}
    vcf = ["NA004", "NA001", "NA002", "S3", "NA999"]
    cohort = Cohort(m, vcf, id_map=id_map)
    # S3 is not in the map but has the same name in the VCF
    assert cohort.people == ["S1", "S2", "S3", "S4"]
    assert cohort.vcf_sample == {"S1": "NA001", "S2": "NA002", "S3": "S3", "S4": "NA004"}
    with pytest.raises(ValueError):
        Cohort(m, vcf[:0] + ["NOPE"], id_map=id_map)


def test_read_id_map_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_id_map(tmp_path / "none.tsv")
    with pytest.raises(ValueError, match="vcf_id"):
        read_id_map(write_text(tmp_path / "a.tsv", "expression_id\tsample\nS1\tN1\n"))
    with pytest.raises(ValueError, match="S1"):
        read_id_map(write_text(tmp_path / "b.tsv", "expression_id\tvcf_id\nS1\tN1\nS1\tN2\n"))


def test_read_id_map_two_expression_ids_for_one_sample(tmp_path):
    path = write_text(tmp_path / "ids.tsv", "expression_id\tvcf_id\nS1\tNA001\nS2\tNA002\nS1_rep\tNA001\n")
    with pytest.raises(ValueError) as info:
        read_id_map(path)
    message = str(info.value)
    assert "ids.tsv" in message
    assert "VCF sample 'NA001' <- expression IDs ['S1', 'S1_rep']" in message
    assert "NA002" not in message


def test_read_id_map_empty_cell_and_ids_as_written(tmp_path):
    with pytest.raises(ValueError, match=r"ids\.tsv: column 'vcf_id' is empty on line 3"):
        read_id_map(write_text(tmp_path / "ids.tsv", "expression_id\tvcf_id\nS1\tN1\nS2\t\n"))
    as_written = write_text(tmp_path / "text.tsv", "expression_id\tvcf_id\nNA\t007\n")
    assert read_id_map(as_written) == {"NA": "007"}  # not NaN, not 7


def test_cohort_id_map_dict_two_people_for_one_sample(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    with pytest.raises(ValueError) as info:
        Cohort(m, ["N1", "N2", "S5"], id_map={"S1": "N1", "S2": "N2", "S3": "N1"})
    message = str(info.value)
    assert "e.bed" in message
    assert "VCF sample 'N1' <- expression IDs ['S1', 'S3']" in message
    # a sample reached through the map and by a person's own name is the same genome too
    with pytest.raises(ValueError, match=r"VCF sample 'S5' <- expression IDs \['S1', 'S5'\]"):
        Cohort(m, ["S5", "S2"], id_map={"S1": "S5"})
    # two IDs mapped to a sample the VCF lacks: neither is in the cohort, so nothing can leak
    cohort = Cohort(m, ["S2", "S4"], id_map={"S1": "GONE", "S3": "GONE"})
    assert cohort.vcf_sample == {"S2": "S2", "S4": "S4"}


def test_cohort_without_map_people_are_their_vcf_samples(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    cohort = Cohort(m, list(reversed(PEOPLE)))
    assert cohort.people == PEOPLE
    assert cohort.vcf_sample == {p: p for p in PEOPLE}


def test_cohort_repeated_vcf_samples_raise(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    with pytest.raises(ValueError, match=r"the VCF names the samples \['S2', 'S1'\] more than once"):
        Cohort(m, ["S2", "S1", "S2", "S3", "S1"])


def test_targets_drop_nan_people(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    cohort = Cohort(m, PEOPLE)
    t = cohort.targets("ENSG00000100002.3")
    assert list(t.index) == ["S1", "S2", "S4", "S5"]
    assert t.tolist() == [1.0, 2.0, 4.0, 5.0]
    assert t.dtype == np.float64
    t = cohort.targets("ENSG00000100001.5", people=["S4", "S1"])
    assert list(t.index) == ["S4", "S1"]
    assert t.tolist() == [0.0, 0.1]
    partial = Cohort(m, ["S2", "S3"])
    assert list(partial.targets("ENSG00000100002.3").index) == ["S2"]


# ---------------------------------------------------------------- cohort: genes


def test_cohort_genes_join_gene_table(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    cohort = Cohort(m, PEOPLE, gene_table=gene_table(tmp_path))
    genes = cohort.genes
    assert list(genes.columns) == ["gene_name", "chrom", "tss", "strand"]
    assert list(genes.index) == list(VALUES)  # keyed by the expression file's IDs
    # names and strands from the GTF, joined on the unversioned ID (gene 2 and 3 have other versions)
    assert genes["gene_name"].tolist() == ["BTNL3", "ZNF74", "ENSG00000100003.14"]
    assert genes["strand"].tolist() == ["+", "-", "+"]
    # chrom and TSS from the expression file, which defines the modelled feature
    assert genes["chrom"].tolist() == ["22", "22", "22"]
    assert genes["tss"].tolist() == [TSS_1BASED[g] - 1 for g in VALUES]
    assert cohort.gene_name("ENSG00000100002.3") == "ZNF74"
    assert list(cohort.all_gene_names()) == ["BTNL3", "ZNF74", "ENSG00000100003.14"]


def test_cohort_keeps_qtltools_strand(tmp_path):
    m = read_expression_bed(qtltools_bed(tmp_path / "q.bed"))
    table = gene_table(tmp_path)
    table.loc[table["gene_id"] == "ENSG00000100002.4", "strand"] = "+"  # a disagreeing table
    cohort = Cohort(m, PEOPLE, gene_table=table)
    assert cohort.genes["strand"].tolist() == ["+", "-", "+"]


def test_cohort_without_gene_table_names_are_ids(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    cohort = Cohort(m, PEOPLE)
    assert cohort.genes["gene_name"].tolist() == list(VALUES)
    assert cohort.resolve("ENSG00000100003") == "ENSG00000100003.12"


@pytest.mark.parametrize(
    "query,expected",
    [
        ("BTNL3", "ENSG00000100001.5"),  # symbol
        ("btnl3", "ENSG00000100001.5"),  # symbol, other case
        ("ZNF74", "ENSG00000100002.3"),  # symbol from a GTF entry of another version
        ("ENSG00000100001.5", "ENSG00000100001.5"),  # versioned ID as in the file
        ("ENSG00000100002", "ENSG00000100002.3"),  # unversioned ID
        ("ENSG00000100002.4", "ENSG00000100002.3"),  # another version than the file's (the GTF's)
        ("ENSG00000100003.99", "ENSG00000100003.12"),
    ],
)
def test_resolve(tmp_path, query, expected):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    cohort = Cohort(m, PEOPLE, gene_table=gene_table(tmp_path))
    assert cohort.resolve(query) == expected


def test_resolve_unknown_gene_lists_close_matches(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    cohort = Cohort(m, PEOPLE, gene_table=gene_table(tmp_path))
    with pytest.raises(KeyError) as info:
        cohort.resolve("BTNL2")
    message = str(info.value)
    assert "BTNL2" in message and "BTNL3" in message
    with pytest.raises(KeyError, match="ENSG00000100001"):
        cohort.resolve("ENSG00000100009")
    with pytest.raises(KeyError):
        cohort.resolve("QQQQQQ")


def test_resolve_ambiguous_symbol(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    table = gene_table(tmp_path)
    table["gene_name"] = ["DUP", "DUP", "OTHER"]
    cohort = Cohort(m, PEOPLE, gene_table=table)
    with pytest.raises(KeyError, match="ENSG00000100001.5"):
        cohort.resolve("DUP")
    assert cohort.resolve("OTHER") == "ENSG00000100003.12"


def test_cohort_gene_table_without_a_name_keeps_the_id(tmp_path):
    m = read_expression_bed(gtex_bed(tmp_path / "e.bed"))
    table = gene_table(tmp_path)
    table["gene_name"] = ["BTNL3", None, ""]
    cohort = Cohort(m, PEOPLE, gene_table=table)
    assert list(cohort.all_gene_names()) == ["BTNL3", "ENSG00000100002.3", "ENSG00000100003.12"]
    assert cohort.resolve("ENSG00000100002.3") == "ENSG00000100002.3"


def scan_resolve(genes: pd.DataFrame, query: str) -> str:
    """The former Cohort.resolve: a scan of every gene per query (the reference semantics)."""
    if query in genes.index:
        return query
    stems = genes.index.map(strip_version)
    hits = list(genes.index[stems == strip_version(query)])
    if not hits:
        hits = list(genes.index[genes["gene_name"] == query])
    if not hits:
        hits = list(genes.index[genes["gene_name"].str.upper() == query.upper()])
    if len(hits) == 1:
        return hits[0]
    raise KeyError(hits)


def test_resolve_many_genes_matches_the_scan():
    n = 20_000
    ids = [f"ENSG{i:011d}.{i % 7 + 1}" for i in range(n)]
    ids[1] = "ENSG00000000000.9"  # a second version of gene 0's ID: the unversioned ID names two genes
    ids[2] = "ENSGNOVERSION"  # an ID without a version
    names = [f"GENE{i}" for i in range(n)]
    names[10], names[11] = "DUP", "DUP"  # one symbol, two genes
    names[12], names[13] = "Abc1", "ABC1"  # symbols differing only in case
    names[14] = "ENSG00000000050"  # a symbol that is another gene's unversioned ID (the ID wins)
    genes = pd.DataFrame(
        {"chrom": "1", "tss": np.arange(n, dtype=np.int64), "strand": "."}, index=pd.Index(ids, name="gene_id")
    )
    matrix = ExpressionMatrix(genes, pd.DataFrame(0.0, index=genes.index, columns=PEOPLE), Path("big.bed"))
    table = pd.DataFrame(  # the gene table has other versions than the expression file
        {"gene_id": [f"{strip_version(g)}.{k % 3 + 20}" for k, g in enumerate(ids)], "gene_name": names}
    ).assign(chrom="1", tss=0, strand="+")
    cohort = Cohort(matrix, PEOPLE, gene_table=table)

    assert [cohort.resolve(g) for g in ids] == ids
    unique = [k for k in range(3, n) if k not in (10, 11, 12, 13, 14)]
    assert [cohort.resolve(strip_version(ids[k])) for k in unique] == [ids[k] for k in unique]
    assert [cohort.resolve(f"gene{k}") for k in unique] == [ids[k] for k in unique]

    tricky = {
        "ENSG00000000003.99": ids[3],  # a version the file does not have
        "ENSGNOVERSION": "ENSGNOVERSION",
        "ENSGNOVERSION.4": "ENSGNOVERSION",
        "GENE15": ids[15],
        "gene15": ids[15],
        "Abc1": ids[12],  # exact symbol before any case
        "ABC1": ids[13],
        "ENSG00000000050": ids[50],
        "ENSG00000000014": ids[14],
    }
    for query, expected in tricky.items():
        assert scan_resolve(cohort.genes, query) == expected
        assert cohort.resolve(query) == expected
    ambiguous = {"ENSG00000000000": [ids[0], ids[1]], "DUP": [ids[10], ids[11]], "abc1": [ids[12], ids[13]]}
    for query, hits in ambiguous.items():
        with pytest.raises(KeyError) as scan:
            scan_resolve(cohort.genes, query)
        assert scan.value.args[0] == hits
        with pytest.raises(KeyError, match="names several genes") as info:
            cohort.resolve(query)
        assert str(hits) in str(info.value)
    with pytest.raises(KeyError, match=r"'GENE1999x' is not in big\.bed; close matches: \['GENE1999'"):
        cohort.resolve("GENE1999x")


# ---------------------------------------------------------------- real data (Geuvadis chr22), gated

GEUVADIS = os.environ.get("PERFORMER_GEUVADIS")
geuvadis = pytest.mark.skipif(not GEUVADIS, reason="set PERFORMER_GEUVADIS to the geuvadis_chr22 data folder")


@pytest.fixture(scope="module")
def geuvadis_dir() -> Path:
    return Path(GEUVADIS)


@pytest.fixture(scope="module")
def geuvadis_genes(geuvadis_dir) -> pd.DataFrame:
    return read_gene_table(geuvadis_dir / "genes.gtf.gz")


@pytest.fixture(scope="module")
def geuvadis_vcf_samples(geuvadis_dir) -> list[str]:
    from cyvcf2 import VCF

    vcf = VCF(str(geuvadis_dir / "genotypes.vcf.gz"))
    samples = list(vcf.samples)
    vcf.close()
    return samples


@geuvadis
def test_geuvadis_fastqtl_expression(geuvadis_dir):
    m = read_expression_bed(geuvadis_dir / "expression.bed.gz")
    assert m.values.shape == (364, 373)
    assert len(m.people) == 373 and m.people[0] == "HG00096"
    assert (m.genes["chrom"] == "22").all()
    assert (m.genes["strand"] == ".").all()
    assert m.genes.at["ENSG00000185252.13", "tss"] == 20748404  # ZNF74: end 20748405, 1-based
    assert m.values.notna().all().all()
    # values agree with an independent parse of the text, cell by cell
    with gzip.open(geuvadis_dir / "expression.bed.gz", "rt") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in handle]
    assert header[4:] == m.people
    assert [r[3] for r in rows] == list(m.genes.index)
    assert m.genes["tss"].tolist() == [int(r[2]) - 1 for r in rows]
    np.testing.assert_array_equal(m.values.to_numpy(), np.array([[float(x) for x in r[4:]] for r in rows]))


@geuvadis
def test_geuvadis_qtltools_expression(geuvadis_dir, geuvadis_genes):
    m = read_expression_bed(geuvadis_dir / "expression_rpkm_qtltools.bed.gz")
    assert m.values.shape == (608, 358)
    assert m.people[0] == "HG00096"
    assert (m.genes["chrom"] == "chr22").all()
    assert set(m.genes["strand"]) == {"+", "-"}
    assert (m.values.to_numpy() >= 0).all()
    # the QTLtools TSS and strand agree with GENCODE v19 for every shared gene (same annotation)
    gtf = geuvadis_genes.set_index("gene_id")
    shared = m.genes.index.intersection(gtf.index)
    assert len(shared) > 550
    assert (m.genes.loc[shared, "tss"] == gtf.loc[shared, "tss"]).all()
    assert (m.genes.loc[shared, "strand"] == gtf.loc[shared, "strand"]).all()


@geuvadis
def test_geuvadis_gtf(geuvadis_genes):
    g = geuvadis_genes
    assert len(g) > 1000
    assert g["gene_id"].is_unique
    assert (g["chrom"] == "chr22").all()
    znf74 = g[g["gene_name"] == "ZNF74"]
    assert len(znf74) == 1
    assert znf74.iloc[0]["gene_id"] == "ENSG00000185252.13"
    assert znf74.iloc[0]["tss"] == 20748404  # gene record starts at 20748405 (1-based) on +
    assert znf74.iloc[0]["strand"] == "+"


@geuvadis
def test_geuvadis_cohort_and_gene_resolution(geuvadis_dir, geuvadis_genes, geuvadis_vcf_samples):
    m = read_expression_bed(geuvadis_dir / "expression.bed.gz")
    assert len(geuvadis_vcf_samples) == 1092
    cohort = Cohort(m, geuvadis_vcf_samples, gene_table=geuvadis_genes)
    assert len(cohort.people) == 344
    assert cohort.people == [p for p in m.people if p in set(geuvadis_vcf_samples)]
    # versions differ between the expression file and the GTF for many genes
    expr_ids, gtf_ids = set(m.genes.index), set(geuvadis_genes["gene_id"])
    differing = [g for g in expr_ids - gtf_ids if strip_version(g) in {strip_version(x) for x in gtf_ids}]
    assert len(differing) > 100
    zid = cohort.resolve("ZNF74")
    assert zid == "ENSG00000185252.13"
    assert cohort.resolve("ENSG00000185252") == zid
    assert cohort.resolve("ENSG00000185252.7") == zid
    assert cohort.genes.at[zid, "strand"] == "+"
    # a symbol whose expression ID has another version than the GTF's
    stem_names = geuvadis_genes.assign(stem=geuvadis_genes["gene_id"].map(strip_version)).set_index("stem")
    some = sorted(differing)[0]
    name = stem_names.at[strip_version(some), "gene_name"]
    assert cohort.resolve(name) == some
    assert len(cohort.targets(zid)) == 344
    with pytest.raises(KeyError, match="ZNF74"):
        cohort.resolve("ZNF75")


@geuvadis
def test_geuvadis_qtltools_cohort(geuvadis_dir, geuvadis_genes, geuvadis_vcf_samples):
    m = read_expression_bed(geuvadis_dir / "expression_rpkm_qtltools.bed.gz")
    cohort = Cohort(m, geuvadis_vcf_samples, gene_table=geuvadis_genes)
    assert len(cohort.people) == 330
    assert cohort.gene_name(cohort.resolve("ZNF74")) == "ZNF74"
