"""Tests for performer.data.expression: bad expression BEDs are errors, and the TSS rule of whole-gene rows."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pytest

from performer.data.expression import read_expression_bed

GTEX_HEADER = "#chr\tstart\tend\tgene_id"
QTL_HEADER = "#chr\tstart\tend\tgene\tlength\tstrand"


def write_bed(path: Path, header: str, rows: list[str]) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


# ---------------------------------------------------------------- people named twice


@pytest.mark.parametrize("name", ["dup.bed", "dup.bed.gz"])
def test_repeated_person_is_an_error_not_renamed(tmp_path, name):
    path = write_bed(
        tmp_path / name, GTEX_HEADER + "\tNA12878\tNA12891\tNA12878\tNA12892\tNA12891", ["22\t9\t10\tG1\t1\t2\t3\t4\t5"]
    )
    with pytest.raises(ValueError) as info:
        read_expression_bed(path)
    message = str(info.value)
    assert name in message
    assert "['NA12878', 'NA12891']" in message  # both repeated IDs, as written
    assert "NA12878.1" not in message


def test_repeated_person_in_qtltools_layout(tmp_path):
    path = write_bed(tmp_path / "q.bed", QTL_HEADER + "\tS1\tS1", ["chr22\t9\t10\tG1\t5\t+\t1\t2"])
    with pytest.raises(ValueError, match=r"q\.bed.*\['S1'\]"):
        read_expression_bed(path)


# ---------------------------------------------------------------- TSS of one-base and whole-gene rows


def test_qtltools_whole_gene_rows_use_the_strand(tmp_path, caplog):
    path = write_bed(
        tmp_path / "genes.bed",
        QTL_HEADER + "\tS1\tS2",
        [
            "chr22\t1000\t3000\tPLUS\t2000\t+\t1.5\t2",  # whole gene on +: TSS = start
            "chr22\t4000\t6000\tMINUS\t2000\t-\t3\t4",  # whole gene on -: TSS = end - 1
            "chr22\t11999\t12000\tONEPLUS\t1\t+\t5\t6",  # one-base rows: TSS = end - 1 = start
            "chr22\t19999\t20000\tONEMINUS\t1\t-\t7\t8",
            "chr22\t29999\t30000\tONEDOT\t1\t.\t9\t10",  # '.' is fine on a one-base row
        ],
    )
    with caplog.at_level(logging.INFO, logger="performer.data.expression"):
        m = read_expression_bed(path)
    assert m.genes["tss"].tolist() == [1000, 5999, 11999, 19999, 29999]
    assert m.genes["tss"].dtype == np.int64
    assert m.genes["strand"].tolist() == ["+", "-", "+", "-", "."]
    np.testing.assert_array_equal(m.values.to_numpy(), [[1.5, 2], [3, 4], [5, 6], [7, 8], [9, 10]])
    spans = [r.getMessage() for r in caplog.records if "span more than one base" in r.getMessage()]
    assert len(spans) == 1
    assert "2 genes" in spans[0]


def test_one_base_rows_log_nothing_about_spans(tmp_path, caplog):
    path = write_bed(tmp_path / "e.bed", GTEX_HEADER + "\tS1", ["22\t99\t100\tG1\t1"])
    with caplog.at_level(logging.INFO, logger="performer.data.expression"):
        assert read_expression_bed(path).genes["tss"].tolist() == [99]
    assert not [r for r in caplog.records if "span" in r.getMessage()]


def test_whole_gene_rows_without_strand_are_an_error(tmp_path):
    path = write_bed(tmp_path / "gtex.bed", GTEX_HEADER + "\tS1", ["22\t99\t100\tG1\t1", "22\t1000\t3000\tWHOLE\t2"])
    with pytest.raises(ValueError) as info:
        read_expression_bed(path)
    message = str(info.value)
    assert "gtex.bed" in message and "'WHOLE' (line 3)" in message
    assert "one-base" in message and "strand" in message
    assert "G1" not in message


def test_whole_gene_row_with_dot_strand_is_an_error(tmp_path):
    path = write_bed(tmp_path / "q.bed", QTL_HEADER + "\tS1", ["chr22\t1000\t3000\tDOT\t2000\t.\t1"])
    with pytest.raises(ValueError, match=r"q\.bed.*'DOT' \(line 2\).*strand is '\.'"):
        read_expression_bed(path)


@pytest.mark.parametrize("start,end", [(100, 100), (100, 50)])
def test_end_not_after_start_is_an_error(tmp_path, start, end):
    path = write_bed(tmp_path / "e.bed", GTEX_HEADER + "\tS1", ["22\t9\t10\tOK\t1", f"22\t{start}\t{end}\tBACK\t2"])
    with pytest.raises(ValueError, match=r"e\.bed: 1 rows with end <= start, e\.g\. 'BACK' \(line 3\)"):
        read_expression_bed(path)


def test_unknown_strand_is_an_error(tmp_path):
    path = write_bed(tmp_path / "q.bed", QTL_HEADER + "\tS1", ["chr22\t9\t10\tG1\t1\t1\t1.0"])
    with pytest.raises(ValueError, match=r"q\.bed: strand '1' on 'G1' \(line 2\)"):
        read_expression_bed(path)


@pytest.mark.parametrize("value", ["10.5", "ten", "NA"])
def test_non_integer_coordinate_is_an_error(tmp_path, value):
    path = write_bed(tmp_path / "e.bed", GTEX_HEADER + "\tS1", ["22\t9\t10\tG1\t1", f"22\t9\t{value}\tG2\t1"])
    with pytest.raises(ValueError, match=rf"e\.bed: column 'end' holds '{value}' on line 3 \(gene 'G2'\)"):
        read_expression_bed(path)


# ---------------------------------------------------------------- malformed rows and values


def test_short_row_is_an_error(tmp_path):
    path = write_bed(
        tmp_path / "e.bed", GTEX_HEADER + "\tS1\tS2\tS3", ["22\t9\t10\tG1\t1\t2\t3", "22\t19\t20\tG2\t1\t2"]
    )
    with pytest.raises(ValueError, match=r"e\.bed: column 'S3' is empty .*short row.* on line 3 \(gene 'G2'\)"):
        read_expression_bed(path)


def test_empty_cell_is_an_error(tmp_path):
    path = write_bed(tmp_path / "e.bed", GTEX_HEADER + "\tS1\tS2", ["22\t9\t10\tG1\t\t2"])
    with pytest.raises(ValueError, match=r"column 'S1' is empty .*write NA.* on line 2"):
        read_expression_bed(path)


def test_rows_longer_than_the_header_are_an_error(tmp_path):
    # every row one field longer: pandas would otherwise take the first column as an index, shifting all columns
    path = write_bed(tmp_path / "e.bed", GTEX_HEADER + "\tS1", ["22\t9\t10\tG1\t1\t2", "22\t19\t20\tG2\t1\t2"])
    with pytest.raises(ValueError, match=r"e\.bed: line 2 has 6 fields but the header has 5"):
        read_expression_bed(path)
    later = write_bed(tmp_path / "later.bed", GTEX_HEADER + "\tS1", ["22\t9\t10\tG1\t1", "22\t19\t20\tG2\t1\t2"])
    with pytest.raises(ValueError, match=r"later\.bed: rows with another number of fields.*line 3"):
        read_expression_bed(later)


def test_infinite_value_is_an_error(tmp_path):
    path = write_bed(tmp_path / "e.bed", GTEX_HEADER + "\tS1\tS2", ["22\t9\t10\tG1\t1\t2", "22\t19\t20\tG2\t3\tinf"])
    with pytest.raises(ValueError, match=r"column 'S2' holds an infinite value on line 3 \(gene 'G2'\)"):
        read_expression_bed(path)


def test_empty_gene_id_is_an_error(tmp_path):
    path = write_bed(tmp_path / "e.bed", GTEX_HEADER + "\tS1", ["22\t9\t10\tG1\t1", "22\t19\t20\t\t2"])
    with pytest.raises(ValueError, match=r"e\.bed: column 'gene_id' is empty on line 3"):
        read_expression_bed(path)


def test_duplicate_gene_ids_name_both_lines(tmp_path):
    path = write_bed(
        tmp_path / "e.bed", GTEX_HEADER + "\tS1", ["22\t9\t10\tG1\t1", "22\t5\t6\tG2\t1", "22\t1\t2\tG1\t2"]
    )
    with pytest.raises(ValueError, match=r"duplicate gene IDs: 'G1' \(line 2\), 'G1' \(line 4\)"):
        read_expression_bed(path)


def test_empty_files_and_headers_without_people(tmp_path):
    empty = tmp_path / "empty.bed"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.bed: the expression file is empty"):
        read_expression_bed(empty)
    header_only = write_bed(tmp_path / "header.bed", GTEX_HEADER + "\tS1", [])
    with pytest.raises(ValueError, match=r"header\.bed: .*no gene rows"):
        read_expression_bed(header_only)
    no_people = write_bed(tmp_path / "nopeople.bed", QTL_HEADER, ["chr22\t9\t10\tG1\t1\t+"])
    with pytest.raises(ValueError, match=r"nopeople\.bed: the header has no people"):
        read_expression_bed(no_people)


def test_missing_values_and_text_ids_as_written(tmp_path):
    path = write_bed(
        tmp_path / "e.bed",
        GTEX_HEADER + "\tNA\t007\tS3",  # person IDs that pandas would otherwise read as NaN or a number
        ["01\t9\t10\t0123\tNA\tnan\t1.25", "01\t19\t20\tNA\t-2\tNaN\t3"],
    )
    m = read_expression_bed(path)
    assert m.people == ["NA", "007", "S3"]
    assert m.genes.index.tolist() == ["0123", "NA"]
    assert m.genes["chrom"].tolist() == ["01", "01"]
    np.testing.assert_array_equal(m.values.to_numpy(), [[np.nan, np.nan, 1.25], [-2.0, np.nan, 3.0]])
    assert m.values.dtypes.tolist() == [np.float64] * 3
