"""Haplotype sequences with indels (performer/data/haplotypes.py) against ``bcftools consensus``.

Each haplotype must equal ``bcftools consensus -s SAMPLE -H 1|2`` re-centred on the TSS: the 0-based
reference TSS is mapped through the chain file (``-c``; a deleted TSS goes to the next aligned base)
and the consensus is cut ``L//2`` bases before and ``L - L//2 - 1`` after it, ``N`` beyond its ends.
bcftools is the copy bundled with pysam.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pysam
import pysam.bcftools
import pytest

from performer.data.cache import WindowCache
from performer.data.haplotypes import HaplotypeSequences, mean_one_hot
from performer.data.personal import PersonalSequences
from performer.data.reference import encode_bases
from performer.data.variants import VCFError

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=c1,length={n}>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{samples}\n"
)


def _write_vcf(path: Path, n: int, samples: list[str], records: list[tuple[int, str, str, list[str]]]) -> Path:
    """bgzipped, indexed VCF on contig ``c1``; ``records`` are (1-based POS, REF, ALT, GT per sample)."""
    lines = [f"c1\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\tGT\t" + "\t".join(gts) for p, r, a, gts in records]
    path.write_text(HEADER.format(n=n, samples="\t".join(samples)) + "\n".join(lines) + "\n")
    return Path(pysam.tabix_index(str(path), preset="vcf", force=True))


def _chain_blocks(path: Path) -> list[tuple[int, int, int]]:
    """Ungapped blocks ``(reference start, consensus start, size)`` of a one-chain file, 0-based.

    Both starts are relative to the chain's start (bcftools gives a ``22:a-b`` region FASTA the
    coordinates of the whole contig), so they index the consensus sequence that bcftools wrote.
    """
    lines = path.read_text().split("\n")
    header = lines[0].split()
    assert header[0] == "chain"
    t, q = 0, 0
    blocks = []
    for line in lines[1:]:
        if not line.strip():
            continue
        fields = [int(x) for x in line.split()]
        blocks.append((t, q, fields[0]))
        if len(fields) == 3:
            t, q = t + fields[0] + fields[1], q + fields[0] + fields[2]
    return blocks


def _map(blocks: list[tuple[int, int, int]], t: int) -> int:
    """Consensus coordinate of reference base ``t``; a deleted base maps to the next aligned base."""
    for tb, qb, size in blocks:
        if t < tb + size:
            return qb + max(t - tb, 0)
    raise AssertionError(f"reference base {t} is past the chain")


def _consensus(fasta: Path, vcf: Path, sample: str, hap: int, tmp: Path) -> tuple[str, list]:
    chain = tmp / f"chain_{sample}_{hap}.txt"
    out = pysam.bcftools.consensus("-H", str(hap), "-s", sample, "-f", str(fasta), "-c", str(chain), str(vcf))
    return "".join(out.strip().split("\n")[1:]), _chain_blocks(chain)


def _recentred(seq: str, blocks: list, t: int, length: int) -> np.ndarray:
    q = _map(blocks, t)
    padded = "N" * length + seq + "N" * length
    lo = length + q - length // 2
    return encode_bases(padded[lo : lo + length])


def _crafted(tmp: Path) -> tuple[Path, Path, list[str], str]:
    """A 300 bp contig and a phased VCF with SNVs, MNPs, insertions, deletions and overlaps."""
    rng = np.random.default_rng(7)
    seq = list("".join(rng.choice(list("ACGT"), 300)))

    def deletion(p1: int, n: int) -> tuple[str, str]:  # REF of n + 1 bases whose last base differs from the first
        p = p1 - 1
        if seq[p + n] == seq[p]:
            seq[p + n] = {"A": "C", "C": "G", "G": "T", "T": "A"}[seq[p]]
        return "".join(seq[p : p + n + 1]), seq[p]

    def insertion(p1: int, bases: str) -> tuple[str, str]:
        anchor = seq[p1 - 1]
        assert bases[-1] != anchor
        return anchor, anchor + bases

    def snv(p1: int) -> tuple[str, str]:
        r = seq[p1 - 1]
        return r, {"A": "G", "C": "T", "G": "A", "T": "C"}[r]

    alleles = [
        (5, *snv(5)),
        (20, *snv(20)),
        (40, *insertion(40, "TTG" if seq[39] != "G" else "TTC")),
        (60, *deletion(60, 5)),
        (80, *snv(80)),
        (80, *insertion(80, "CA" if seq[79] != "A" else "CT")),  # an SNV then an insertion at one base
        (100, *deletion(100, 10)),  # spans the TSS at 0-based 103..109
        (104, *snv(104)),  # inside the deletion
        (130, *insertion(130, "GATTACA" if seq[129] != "A" else "GATTACC")),
        (150, *snv(150)),
        (170, *deletion(170, 3)),
        (172, *snv(172)),
        (173, *insertion(173, "CG" if seq[172] != "G" else "CA")),  # anchored on the deletion's last base
        (200, *insertion(200, "AC" if seq[199] != "C" else "AG")),
        (200, *insertion(200, "TTTG" if seq[199] != "G" else "TTTA")),  # a second insertion at one base
        (220, "".join(seq[219:221]), "".join(snv(220)[1] + snv(221)[1])),  # an MNP
        (250, *deletion(250, 20)),
        (290, *deletion(290, 5)),
    ]
    alleles.sort(key=lambda a: a[0])
    samples = ["S1", "S2", "S3", "S4", "ALL1"]
    choices = ["0|0", "0|1", "1|0", "1|1"]
    records = [(p, r, a, [*rng.choice(choices, 4), "1|0"]) for p, r, a in alleles]
    fasta = tmp / "ref.fa"
    fasta.write_text(">c1\n" + "".join(seq) + "\n")
    pysam.faidx(str(fasta))
    return fasta, _write_vcf(tmp / "calls.vcf", 300, samples, records), samples, "".join(seq)


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    return _crafted(tmp_path_factory.mktemp("haplotypes"))


@pytest.mark.parametrize("length, margin", [(61, 1_000), (40, 3)])
def test_haplotypes_equal_bcftools_consensus(crafted, tmp_path, length, margin):
    fasta, vcf, samples, _ = crafted
    seqs = HaplotypeSequences(fasta, vcf, margin=margin)
    expected = {(s, h): _consensus(fasta, vcf, s, h, tmp_path) for s in samples for h in (1, 2)}
    for tss in range(0, 300):
        codes = seqs.haplotype_codes("c1", tss, length, samples)
        assert codes.shape == (len(samples), 2, length) and codes.dtype == np.uint8
        for i, s in enumerate(samples):
            for h in (1, 2):
                want = _recentred(*expected[s, h], tss, length)
                np.testing.assert_array_equal(codes[i, h - 1], want, err_msg=f"{s} -H {h} TSS {tss}")
    # the SNVs inside deletions and the second insertion are skipped
    assert seqs.window("c1", 100, 161, samples).overlaps() > 0


def test_origins_follow_the_bcftools_chain(crafted, tmp_path):
    """Every base of a haplotype maps to the reference base the chain file aligns it to; inserted bases to -1."""
    fasta, vcf, samples, _ = crafted
    seqs = HaplotypeSequences(fasta, vcf)
    inserted = 0
    for s in samples:
        for h in (1, 2):
            consensus, blocks = _consensus(fasta, vcf, s, h, tmp_path)
            inverse = np.full(len(consensus), -1)
            for tb, qb, size in blocks:
                inverse[qb : qb + size] = np.arange(tb, tb + size)
            for tss in (30, 105, 150, 260):
                window = seqs.window("c1", tss - 30, tss + 31, [s])
                q = _map(blocks, tss)
                padded = np.r_[np.full(61, -1), inverse, np.full(61, -1)]
                want = padded[61 + q - 30 : 61 + q + 31]
                got = window.origins()[0, h - 1]
                aligned = want >= 0
                np.testing.assert_array_equal(got[aligned], want[aligned], err_msg=f"{s} -H {h} TSS {tss}")
                # the rest: inserted bases (-1), or N padding past the contig ends (coordinates outside it)
                rest = got[~aligned]
                assert ((rest == -1) | (rest < 0) | (rest >= 300)).all()
                inserted += int((rest == -1).sum())
                assert got[window.length // 2] >= tss  # the TSS itself, or the next surviving base if deleted
    assert inserted > 0


def test_deleted_tss_maps_to_next_surviving_base(crafted):
    fasta, vcf, _, seq = crafted
    seqs = HaplotypeSequences(fasta, vcf)
    # ALL1 carries every record on haplotype 1: the deletion at POS 100 (0-based 99) removes 100..109
    codes = seqs.haplotype_codes("c1", 105, 21, ["ALL1"])
    assert codes[0, 0, 10] == encode_bases(seq[110])[0]
    assert codes[0, 1, 10] == encode_bases(seq[105])[0]  # haplotype 2 is the reference
    np.testing.assert_array_equal(codes[0, 1], encode_bases(seq[95:116]))
    # contig ends keep N padding
    start = seqs.haplotype_codes("c1", 2, 21, ["ALL1"])
    assert (start[0, :, :8] == 4).all() and (start[0, :, 8:] < 4).all()


def test_genotype_rules(tmp_path):
    seq = "ACGTACGTTAGCATCGATCGGATCCATGCATGCAAGT"
    fasta = tmp_path / "r.fa"
    fasta.write_text(">c1\n" + seq + "\n")
    samples = ["HAPLOID", "MISSING", "UNPHASED"]
    records = [
        (5, "ACGT", "A", ["1", "1|.", "0|0"]),
        (6, "C", "*", ["1", "0|0", "0|0"]),  # the base of the deletion above
        (10, "A", "C", ["0", ".|.", "0/1"]),
        (15, "C", "<DEL>", ["1", "1|1", "1|1"]),  # symbolic: skipped and counted
    ]
    vcf = _write_vcf(tmp_path / "g.vcf", len(seq), samples, records)
    with pytest.raises(VCFError, match="unphased heterozygous"):
        HaplotypeSequences(fasta, vcf).haplotype_codes("c1", 18, 11)
    seqs = HaplotypeSequences(fasta, vcf, unphased="first")
    reads = seqs.reader.records("c1", 0, len(seq))
    assert (reads.haploid_calls, reads.missing_calls, reads.unphased_calls, reads.star_alleles) == (3, 2, 1, 2)
    assert reads.skipped == {"symbolic": 1} and len(reads) == 3
    codes = seqs.haplotype_codes("c1", 9, 5)
    haplotype = seq[0:5] + seq[8:]  # 0-based 5..7 deleted; the TSS (9) is at index 6 of the haplotype
    np.testing.assert_array_equal(codes[0, 0], encode_bases(haplotype[4:9]))
    np.testing.assert_array_equal(codes[0, 1], codes[0, 0])  # haploid: the one allele on both haplotypes
    np.testing.assert_array_equal(codes[1, 1], encode_bases(seq[7:12]))  # missing allele -> REF
    assert codes[2, 1, 2] == encode_bases("C")[0] and codes[2, 0, 2] == encode_bases("A")[0]  # GT order


@pytest.mark.parametrize("ref, alt, match", [("AC", "A,C", "multi-allelic"), ("AC", "C", "not left-aligned")])
def test_records_that_need_norm(tmp_path, ref, alt, match):
    seq = "GAACGTTA"
    (tmp_path / "r.fa").write_text(">c1\n" + seq + "\n")
    ref_allele = "AAC" if match == "not left-aligned" else seq[2:4]
    alt_allele = "AC" if match == "not left-aligned" else alt
    pos = 2 if match == "not left-aligned" else 3
    vcf = _write_vcf(tmp_path / "n.vcf", len(seq), ["S"], [(pos, ref_allele, alt_allele, ["0|1"])])
    with pytest.raises(VCFError, match=f"{match}.*bcftools norm -m- -f"):
        HaplotypeSequences(tmp_path / "r.fa", vcf).haplotype_codes("c1", 4, 5)


def test_snv_only_mean_equals_dosage_encoding(tmp_path):
    rng = np.random.default_rng(3)
    seq = "".join(rng.choice(list("ACGT"), 200))
    fasta = tmp_path / "r.fa"
    fasta.write_text(">c1\n" + seq + "\n")
    samples = ["A", "B", "C", "D"]
    choices = ["0|0", "0|1", "1|0", "1|1", "1", "0", ".|.", "0|."]
    records = []
    for p in sorted(rng.choice(np.arange(1, 201), 40, replace=False)):
        r = seq[p - 1]
        records.append((int(p), r, "ACGT"[("ACGT".index(r) + 1) % 4], list(rng.choice(choices, len(samples)))))
    vcf = _write_vcf(tmp_path / "s.vcf", len(seq), samples, records)
    haps = HaplotypeSequences(fasta, vcf)
    dosage = PersonalSequences(fasta, vcf)
    for tss, length in [(100, 64), (3, 33), (190, 50)]:
        start = tss - length // 2
        want = dosage.one_hot("c1", start, start + length, samples)
        np.testing.assert_array_equal(mean_one_hot(haps.haplotype_codes("c1", tss, length, samples)), want)
        np.testing.assert_array_equal(mean_one_hot(haps.dosage_consensus_codes("c1", tss, length, samples)), want)


def test_dosage_consensus_equals_bcftools_consensus(crafted, tmp_path):
    """The paper's pair: ``-i 'GT="AA"' -H 1`` (homozygous ALT) and ``-i 'GT="alt"' -H A`` (any ALT).

    bcftools evaluates ``-i`` over every sample of a record, so each person's VCF is cut out first.
    """
    fasta, vcf, samples, _ = crafted
    seqs = HaplotypeSequences(fasta, vcf)
    length = 61
    for person in samples:
        single = tmp_path / f"{person}.vcf.gz"
        pysam.bcftools.view("-s", person, "-Oz", "-o", str(single), str(vcf), catch_stdout=False)
        pysam.tabix_index(str(single), preset="vcf", force=True)
        expected = []
        for k, (expr, hap) in enumerate([('GT="AA"', "1"), ('GT="alt"', "A")]):
            chain = tmp_path / f"chain_{person}_{k}.txt"
            out = pysam.bcftools.consensus("-i", expr, "-H", hap, "-f", str(fasta), "-c", str(chain), str(single))
            expected.append(("".join(out.strip().split("\n")[1:]), _chain_blocks(chain)))
        for tss in range(0, 300, 2):
            pair = seqs.dosage_consensus_codes("c1", tss, length, [person])
            for k in (0, 1):
                want = _recentred(*expected[k], tss, length)
                np.testing.assert_array_equal(pair[0, k], want, err_msg=f"{person} sequence {k + 1} TSS {tss}")


GEUVADIS = os.environ.get("PERFORMER_GEUVADIS")


@pytest.mark.skipif(not GEUVADIS, reason="set PERFORMER_GEUVADIS to the geuvadis_chr22 folder")
def test_geuvadis_haplotypes_equal_bcftools_consensus(tmp_path):
    data = Path(GEUVADIS)
    reference = data / "reference.fa"
    norm = tmp_path / "norm.vcf.gz"
    pysam.bcftools.norm(
        "-m-", "-f", str(reference), "-Oz", "-o", str(norm), str(data / "genotypes.vcf.gz"), catch_stdout=False
    )
    pysam.tabix_index(str(norm), preset="vcf", force=True)
    length = 49_152
    seqs = HaplotypeSequences(reference, norm)
    # windows around indel clusters; 20110945 lies inside the deletion at POS 20110939
    for tss in (20_105_000, 20_110_945, 20_278_000, 20_985_000):  # the last runs past the contig end
        lo, hi = tss - length // 2 - 5_000, tss + length // 2 + 5_000
        reads = seqs.reader.records("22", lo, hi)
        indel = np.array([len(r) != len(a) for r, a in zip(reads.ref, reads.alt)])
        carriers = np.flatnonzero(reads.alleles[:, :, indel].any(axis=(1, 2)))
        assert len(carriers) >= 3
        people = [reads.samples[i] for i in carriers[:4]] + ["HG00096", "NA19098"]
        codes = seqs.haplotype_codes("22", tss, length, people)
        if hi > seqs.reference.contig_length("22"):
            assert (codes[:, :, -100:] == 4).all()  # N padding past the contig end
        region = f"22:{lo + 1}-{hi}"
        region_fa = tmp_path / f"region_{tss}.fa"
        pysam.faidx(str(reference), region, "-o", str(region_fa))
        sub = tmp_path / f"sub_{tss}.vcf.gz"
        pysam.bcftools.view("-r", region, "-Oz", "-o", str(sub), str(norm), catch_stdout=False)
        pysam.tabix_index(str(sub), preset="vcf", force=True)
        for i, person in enumerate(people):
            for h in (1, 2):
                seq, blocks = _consensus(region_fa, sub, person, h, tmp_path)
                want = _recentred(seq, blocks, tss - lo, length)
                np.testing.assert_array_equal(codes[i, h - 1], want, err_msg=f"{person} -H {h} TSS {tss}")
        pair = seqs.dosage_consensus_codes("22", tss, length, people[:2])
        for i, person in enumerate(
            people[:2]
        ):  # the paper's pair, as in test_dosage_consensus_equals_bcftools_consensus
            single = tmp_path / f"{person}_{tss}.vcf.gz"
            pysam.bcftools.view("-s", person, "-Oz", "-o", str(single), str(sub), catch_stdout=False)
            pysam.tabix_index(str(single), preset="vcf", force=True)
            for k, (expr, hap) in enumerate([('GT="AA"', "1"), ('GT="alt"', "A")]):
                chain = tmp_path / f"chain_{person}_{tss}_{k}.txt"
                out = pysam.bcftools.consensus(
                    "-i", expr, "-H", hap, "-f", str(region_fa), "-c", str(chain), str(single)
                )
                want = _recentred("".join(out.strip().split("\n")[1:]), _chain_blocks(chain), tss - lo, length)
                np.testing.assert_array_equal(pair[i, k], want, err_msg=f"{person} sequence {k + 1} TSS {tss}")


@pytest.mark.skipif(not GEUVADIS, reason="set PERFORMER_GEUVADIS to the geuvadis_chr22 folder")
def test_geuvadis_snv_only_mean_equals_dosage_encoding(tmp_path):
    data = Path(GEUVADIS)
    reference = data / "reference.fa"
    snvs = tmp_path / "snvs.vcf.gz"
    pysam.bcftools.view("-v", "snps", "-Oz", "-o", str(snvs), str(data / "genotypes.vcf.gz"), catch_stdout=False)
    pysam.tabix_index(str(snvs), preset="vcf", force=True)
    haps = HaplotypeSequences(reference, snvs)
    dosage = PersonalSequences(reference, data / "genotypes.vcf.gz")  # skips the indels itself
    people = haps.reader.samples[:: len(haps.reader.samples) // 20][:20]
    length = 49_152
    for tss in (20_105_000, 20_278_000):
        start = tss - length // 2
        want = dosage.one_hot("22", start, start + length, people)
        np.testing.assert_array_equal(mean_one_hot(haps.haplotype_codes("22", tss, length, people)), want)
        assert (want[:, :, :] % 1 != 0).any()  # heterozygous SNVs are in the window


def _random_records(rng: np.random.Generator, seq: str, n: int) -> list[tuple[int, str, str]]:
    """``n`` random left-aligned biallelic records (SNV, MNP, insertion, deletion), many overlapping."""
    out = []
    for p in sorted(rng.integers(2, len(seq) - 12, n)):
        kind = rng.integers(4)
        r = seq[p - 1]
        if kind == 0:
            out.append((int(p), r, "ACGT"[("ACGT".index(r) + 1 + rng.integers(3)) % 4]))
        elif kind == 1:
            bases = "".join(rng.choice(list("ACGT"), rng.integers(1, 6)))
            if bases[-1] != r:
                out.append((int(p), r, r + bases))
        elif kind == 2:
            ref = seq[p - 1 : p + int(rng.integers(1, 9))]
            if ref[-1] != r:
                out.append((int(p), ref, r))
        else:
            ref = seq[p - 1 : p + 1]
            out.append((int(p), ref, "".join("ACGT"[("ACGT".index(b) + 1) % 4] for b in ref)))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_random_overlapping_records_equal_bcftools_consensus(tmp_path, seed):
    rng = np.random.default_rng(100 + seed)
    seq = "".join(rng.choice(list("ACGT"), 400))
    fasta = tmp_path / "r.fa"
    fasta.write_text(">c1\n" + seq + "\n")
    samples = ["R1", "R2", "R3"]
    choices = ["0|0", "0|1", "1|0", "1|1"]
    records = [
        (p, r, a, list(rng.choice(choices, 3, p=[0.2, 0.25, 0.25, 0.3]))) for p, r, a in _random_records(rng, seq, 90)
    ]
    vcf = _write_vcf(tmp_path / "r.vcf", len(seq), samples, records)
    seqs = HaplotypeSequences(fasta, vcf, margin=5)
    expected = {(s, h): _consensus(fasta, vcf, s, h, tmp_path) for s in samples for h in (1, 2)}
    for tss in range(400):
        codes = seqs.haplotype_codes("c1", tss, 51, samples)
        for i, s in enumerate(samples):
            for h in (1, 2):
                want = _recentred(*expected[s, h], tss, 51)
                np.testing.assert_array_equal(codes[i, h - 1], want, err_msg=f"seed {seed} {s} -H {h} TSS {tss}")
    assert seqs.window("c1", 0, 400, samples).overlaps() > 0


# --- Windows in the cache and the encodings ------------------------------------------------------------


def test_cached_haplotype_windows_equal_direct_builds(crafted, tmp_path):
    fasta, vcf, samples, _ = crafted
    regions = [("c1", 70, 131), ("c1", 0, 61), ("c1", 240, 301)]  # a deleted TSS, the contig's two ends
    options = {"pass_only": True}
    cache = WindowCache(tmp_path / "cache", fasta, vcf, samples, options, haplotypes=True)
    assert cache.path != WindowCache(tmp_path / "cache", fasta, vcf, samples, options).path
    assert cache.build(regions) == 3 and cache.build(regions) == 0
    direct = HaplotypeSequences(fasta, vcf, unphased="first")
    for region in regions:
        cached, fresh = cache.load(region), direct.window(*region, samples)
        for encoding in ("haplotypes", "consensus", "dosage"):
            np.testing.assert_array_equal(cached.sequences(None, encoding), fresh.sequences(None, encoding))
        rows = np.array([3, 0])
        np.testing.assert_array_equal(cached.sequences(rows), fresh.sequences()[rows])
        assert cached.skipped_overlaps == {e: fresh.overlaps(e) for e in ("haplotypes", "dosage")}
        assert list(cached.records.ids) == fresh.records.ids
        np.testing.assert_array_equal(cached.codes, fresh.codes)


def test_snv_view_equals_the_snv_reader(tmp_path):
    """Single-base records of a haplotype window are the SNV path's SNVs, dosages included."""
    rng = np.random.default_rng(5)
    seq = "".join(rng.choice(list("ACGT"), 300))
    fasta = tmp_path / "r.fa"
    fasta.write_text(">c1\n" + seq + "\n")
    samples = ["A", "B", "C"]
    choices = ["0|0", "0|1", "1|0", "1|1", "1", "0", ".|.", "0/1"]
    records = []
    for p in range(10, 290, 9):
        r = seq[p - 1]
        if p % 4 == 0 and seq[p] != r:  # a 1 bp deletion, left-aligned
            records.append((p, seq[p - 1 : p + 1], r, list(rng.choice(choices, 3))))
        else:
            records.append((p, r, "ACGT"[("ACGT".index(r) + 1) % 4], list(rng.choice(choices, 3))))
    vcf = _write_vcf(tmp_path / "v.vcf", len(seq), samples, records)
    window = HaplotypeSequences(fasta, vcf, unphased="first").window("c1", 40, 240, samples)
    want = PersonalSequences(fasta, vcf).window("c1", 40, 240, samples).snvs
    got = window.snvs
    for name in ("pos", "ref", "alt", "dosage"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert got.ids == want.ids and got.skipped["indel"] == want.skipped["indel"] > 0
    # the region read spans the whole contig (1,000 bp margins)
    assert window.records.unphased_people.tolist() == [any(r[3][i] == "0/1" for r in records) for i in range(3)]


def test_dosage_encoding_uses_haplotypes_where_phased_and_the_consensus_pair_where_not(tmp_path):
    seq = "ACGTACGTTGCAACGTACGTAGCTAGCTAGGATCCAGT"
    fasta = tmp_path / "r.fa"
    fasta.write_text(">c1\n" + seq + "\n")
    # a deletion and an SNV; P is phased 0|1 then 1|0, U is unphased 0/1 at both
    records = [
        (10, seq[9:13], seq[9], ["0|1", "0/1"]),
        (25, seq[24], "ACGT"[("ACGT".index(seq[24]) + 1) % 4], ["1|0", "0/1"]),
    ]
    vcf = _write_vcf(tmp_path / "p.vcf", len(seq), ["P", "U"], records)
    window = HaplotypeSequences(fasta, vcf, unphased="first").window("c1", 5, 35)
    haplotypes = window.sequences(None, "haplotypes")
    consensus = window.sequences(None, "consensus")
    dosage = window.sequences(None, "dosage")
    np.testing.assert_array_equal(dosage[0], haplotypes[0])
    np.testing.assert_array_equal(dosage[1], consensus[1])
    assert not np.array_equal(haplotypes[0], consensus[0])  # the rule matters: P's pair differs
    np.testing.assert_array_equal(consensus[1, 0], window.codes)  # U carries no homozygous ALT
    with pytest.raises(VCFError, match="unphased heterozygous call.*phase the VCF"):
        HaplotypeSequences(fasta, vcf).window("c1", 5, 35)
