"""The files of a simulated cohort: what a complete cohort holds, their writers and readers.

Writers of the reference FASTA (+ ``.fai``), the demo's phased VCF (bgzipped, tabix-indexed),
the FastQTL-style expression BED and the tab-separated tables (genes, heritability, truth), and
readers of a demo cohort's VCF and tables (for :mod:`.same_loci`).  Coordinates in the tables
are 0-based; VCF POS and ``truth.tsv`` ``vcf_pos`` are 1-based; the expression BED's ``end`` is
the 1-based TSS.
"""

from __future__ import annotations

import gzip
import pathlib
from collections.abc import Sequence

import numpy as np
import pysam

#: The contig of the demo cohorts (the scale cohort's first contig).
CHROM = "chr1"
FASTA_LINE_WIDTH = 60

#: Columns of ``genes.tsv``, ``heritability.tsv`` and ``truth.tsv``.
GENE_COLUMNS: tuple[str, ...] = ("gene_id", "gene_name", "chrom", "tss", "strand")
HERITABILITY_COLUMNS: tuple[str, ...] = ("gene_id", "gene_name", "h2", "n_causal")
TRUTH_COLUMNS: tuple[str, ...] = (
    "gene_id",
    "gene_name",
    "chrom",
    "pos",
    "vcf_pos",
    "ref",
    "alt",
    "beta",
    "af",
    "distance_to_tss",
    "h2",
)

#: Files that make an output directory a complete cohort.
COHORT_FILES: tuple[str, ...] = (
    "reference.fa",
    "reference.fa.fai",
    "genotypes.vcf.gz",
    "genotypes.vcf.gz.tbi",
    "expression.bed.gz",
    "genes.tsv",
    "heritability.tsv",
    "truth.tsv",
    "README.md",
)


def write_fasta(path: pathlib.Path, contigs: dict[str, np.ndarray]) -> None:
    """Write contigs to a FASTA, 60 bases a line, and index it (.fai).

    Args:
        path: output path, e.g. ``reference.fa``.
        contigs: contig name -> uint8 array of ASCII bases, in file order.
    """
    with open(path, "wb") as handle:
        for name, seq in contigs.items():
            handle.write(f">{name}\n".encode())
            n_full = len(seq) // FASTA_LINE_WIDTH * FASTA_LINE_WIDTH
            lines = seq[:n_full].reshape(-1, FASTA_LINE_WIDTH)
            newlines = np.full((len(lines), 1), ord("\n"), dtype=np.uint8)
            handle.write(np.hstack([lines, newlines]).tobytes())
            if n_full < len(seq):
                handle.write(seq[n_full:].tobytes() + b"\n")
    pysam.faidx(str(path))


def write_vcf(
    path: pathlib.Path,
    contig_length: int,
    sample_names: Sequence[str],
    positions: np.ndarray,
    refs: np.ndarray,
    alts: np.ndarray,
    haplotypes: np.ndarray,
) -> None:
    """Write a bgzipped, tabix-indexed, phased VCF of ``CHROM`` at ``path`` (must end .vcf.gz).

    ``positions`` are 0-based contig coordinates (sorted, unique); they are
    converted to 1-based VCF POS here.  ``haplotypes`` is (n_sites, 2 * n_people)
    with 1 = ALT.
    """
    text_path = path.with_suffix("")  # genotypes.vcf
    genotype_strings = np.array(["0|0", "0|1", "1|0", "1|1"])
    with open(text_path, "w") as handle:
        handle.write("##fileformat=VCFv4.2\n")
        handle.write("##source=performer.data.simulate\n")
        handle.write("##reference=reference.fa\n")
        handle.write(f"##contig=<ID={CHROM},length={contig_length}>\n")
        handle.write('##INFO=<ID=AF,Number=A,Type=Float,Description="ALT allele frequency in the cohort">\n')
        handle.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">\n')
        handle.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(sample_names) + "\n")
        for i, pos0 in enumerate(positions):
            vcf_pos = int(pos0) + 1
            hap = haplotypes[i]
            codes = 2 * hap[0::2] + hap[1::2]
            alt_freq = hap.mean()
            fields = [
                CHROM,
                str(vcf_pos),
                f"sim_{CHROM}_{vcf_pos}",
                refs[i],
                alts[i],
                ".",
                "PASS",
                f"AF={alt_freq:.6g}",
                "GT",
            ]
            handle.write("\t".join(fields) + "\t" + "\t".join(genotype_strings[codes]) + "\n")
    pysam.tabix_index(str(text_path), preset="vcf", force=True)


def write_tsv(path: pathlib.Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Write a tab-separated table: the ``header`` line, then each row's values as ``str(value)``."""
    with open(path, "w") as handle:
        handle.write("\t".join(header) + "\n")
        for row in rows:
            handle.write("\t".join(str(value) for value in row) + "\n")


def write_expression_bed(
    path: pathlib.Path,
    sample_names: Sequence[str],
    gene_ids: Sequence[str],
    chroms: Sequence[str],
    tss: Sequence[int],
    expression: np.ndarray,
) -> None:
    """Write the FastQTL-style expression BED, bgzipped and tabix-indexed.

    ``path`` must end in .bed.gz.  ``expression`` is (n_genes, n_people);
    ``tss`` is 0-based, so the row spans [tss, tss + 1).  Rows are sorted by
    contig (in order of first appearance in ``chroms``), then TSS.
    """
    text_path = path.with_suffix("")  # expression.bed
    contig_rank = {chrom: rank for rank, chrom in enumerate(dict.fromkeys(chroms))}
    order = np.lexsort((np.asarray(tss), np.array([contig_rank[c] for c in chroms])))
    with open(text_path, "w") as handle:
        handle.write("#chr\tstart\tend\tgene_id\t" + "\t".join(sample_names) + "\n")
        for k in order:
            values = "\t".join(f"{v:.6g}" for v in expression[k])
            handle.write(f"{chroms[k]}\t{tss[k]}\t{tss[k] + 1}\t{gene_ids[k]}\t{values}\n")
    pysam.tabix_index(str(text_path), preset="bed", force=True)


def read_tsv_rows(path: pathlib.Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a tab-separated table as dicts of the raw strings.

    Raises:
        ValueError: if the header is not ``columns`` or a row has another number of fields.
    """
    lines = path.read_text().splitlines()
    if not lines or tuple(lines[0].split("\t")) != tuple(columns):
        raise ValueError(f"{path}: expected the columns {' '.join(columns)}")
    rows = [line.split("\t") for line in lines[1:] if line]
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"{path}: a row does not have {len(columns)} fields")
    return [dict(zip(columns, row)) for row in rows]


def read_cohort_vcf(path: pathlib.Path) -> tuple[int, list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read a demo cohort's VCF (as :func:`write_vcf` writes it).

    Returns:
        (contig length, sample names, 0-based positions (int64), REFs, ALTs (object arrays),
        haplotypes int8 (n_records, 2 * n_people), 1 = ALT).

    Raises:
        ValueError: unless every record is on ``chr1``, biallelic, sorted with unique positions,
            and every genotype is a phased diploid call of 0 and 1.
    """
    contig_length, samples = None, None
    positions, refs, alts, rows = [], [], [], []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("##"):
                if line.startswith(f"##contig=<ID={CHROM},length="):
                    contig_length = int(line.split("length=")[1].split(">")[0].split(",")[0])
                continue
            if line.startswith("#CHROM"):
                samples = line.rstrip("\n").split("\t")[9:]
                continue
            if samples is None:
                raise ValueError(f"{path}: no #CHROM header line")
            chrom, pos, _, ref, alt, _, _, _, fmt, gts = line.rstrip("\n").split("\t", 9)
            if chrom != CHROM or fmt != "GT" or "," in alt:
                raise ValueError(f"{path}: record {chrom}:{pos} is not a biallelic {CHROM} GT record")
            calls = np.frombuffer(gts.encode(), dtype=np.uint8)
            alleles = calls[0::2]
            if (
                len(calls) != 4 * len(samples) - 1
                or not np.all(calls[1::4] == ord("|"))
                or not np.all((alleles == ord("0")) | (alleles == ord("1")))
            ):
                raise ValueError(f"{path}: record {chrom}:{pos} has genotypes other than phased diploid 0/1 calls")
            positions.append(int(pos) - 1)
            refs.append(ref)
            alts.append(alt)
            rows.append((alleles - ord("0")).astype(np.int8))
    if contig_length is None or samples is None:
        raise ValueError(f"{path}: no ##contig line for {CHROM} or no #CHROM line")
    positions_ = np.asarray(positions, dtype=np.int64)
    if len(positions_) == 0 or np.any(np.diff(positions_) <= 0):
        raise ValueError(f"{path}: no records, or records not sorted by unique POS")
    haplotypes = np.vstack(rows)
    return contig_length, samples, positions_, np.array(refs, dtype=object), np.array(alts, dtype=object), haplotypes
