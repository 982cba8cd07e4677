"""Personal sequences per second: on-the-fly dosage encoding vs the paper's consensus FASTAs.

Every figure is for 49,152 bp (``--window-bp``) TSS-centred windows on the Geuvadis chr22 slice
(``$PERFORMER_GEUVADIS`` or ``--data``), and every "sequence" is one person's dosage-averaged
float32 one-hot of shape ``(L, 4)``.

1. PersonalSequences, as the training pipeline uses it: ``PersonalSequences.window`` once per gene
   (reference codes + SNV dosages of all people; reported as a one-off time), then
   ``PersonalWindow.one_hot(rows)`` batches of ``--batch`` people (steady-state sequences/s).
   Beside it the cold path: ``PersonalSequences.one_hot`` per batch, re-reading FASTA and VCF.
2. The paper's path: ``bcftools consensus -H 1`` and ``-H 2`` per person and window, written to a
   temporary folder, read back with pyfaidx, one-hot encoded and averaged over the haplotypes.
   The consensus input is an SNV-only, biallelic VCF of the window (``bcftools view -v snps -m2
   -M2``; indels would shift the consensus coordinates) and ``samtools faidx`` of the window,
   made once per gene and timed separately. bcftools/samtools come from PATH when installed
   (one process per call, as in the paper's pipeline), otherwise from pysam's bundled copies
   (in-process: no process start-up, so the consensus figures are then optimistic).

3. Each encoding of the ``data.encoding`` / ``data.indels`` settings, per person at ``L`` bp: the SNV
   path of (1); ``HaplotypeSequences.window`` once per gene (records with indels, margin reference),
   then per batch ``HaplotypeWindow.sequences(rows, encoding)`` -- uint8 ``(B, 2, L)`` codes, what a
   batch carries (the device expands them) -- for ``dosage`` with indels (one input per person) and
   ``haplotypes`` (two inputs per person); beside it the float32 mean one-hot built on the CPU
   (``mean_one_hot``), to show what carrying codes saves.

The two paths' arrays are compared for the people they share (they must be identical).

Usage:
    python benchmarks/bench_personal_sequences.py [--data DIR] [--genes 8] [--people 64]
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyfaidx
import pysam

from performer.data.haplotypes import HaplotypeSequences, mean_one_hot
from performer.data.personal import PersonalSequences
from performer.data.reference import one_hot_encode

# Genes whose 49,152 bp TSS window lies wholly inside the real sequence (the data folder's README).
README_GENES = [
    "DGCR8", "RANBP1", "TRMT2A", "ZDHHC8", "RTN4R", "DGCR6L", "GGTLC3",
    "AC023490.1", "RIMBP3", "USP41", "ZNF74", "SCARF2", "KLHL22", "MED15",
]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=os.environ.get("PERFORMER_GEUVADIS"),
        help="geuvadis_chr22 folder (default: $PERFORMER_GEUVADIS)",
    )
    parser.add_argument("--genes", type=int, default=8, help="genes from the README list (max 14)")
    parser.add_argument("--people", type=int, default=64, help="people for the PersonalSequences paths")
    parser.add_argument("--batch", type=int, default=32, help="people per batch")
    parser.add_argument("--passes", type=int, default=10, help="steady-state passes over all batches")
    parser.add_argument(
        "--consensus-genes", type=int, default=None, help="genes for the consensus path (default: --genes)"
    )
    parser.add_argument(
        "--consensus-people", type=int, default=None, help="people for the consensus path (default: --people)"
    )
    parser.add_argument("--window-bp", type=int, default=49_152)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.data is None:
        parser.error("pass --data or set PERFORMER_GEUVADIS to the geuvadis_chr22 folder")
    return args


def gene_tss(data: Path, names: list[str]) -> dict[str, int]:
    """0-based TSS per gene name: GTF gene_name -> Ensembl ID -> expression BED ``end`` - 1."""
    ids = {}
    with gzip.open(data / "genes.gtf.gz", "rt") as handle:
        for line in handle:
            if "\tgene\t" not in line:
                continue
            name = re.search(r'gene_name "([^"]+)"', line).group(1)
            if name in names:
                ids[re.search(r'gene_id "(ENSG\d+)', line).group(1)] = name
    tss = {}
    with gzip.open(data / "expression.bed.gz", "rt") as handle:
        for line in handle:
            _, _, end, target = line.split("\t", 4)[:4]
            if target.split(".")[0] in ids:
                tss[ids[target.split(".")[0]]] = int(end) - 1
    missing = set(names) - set(tss)
    if missing:
        raise SystemExit(f"genes not found in {data}: {sorted(missing)}")
    return {name: tss[name] for name in names}


def tool_runner():
    """(run(tool, *args) -> stdout, description): CLI tools when on PATH, else pysam's copies."""
    if shutil.which("bcftools") and shutil.which("samtools"):

        def run(tool: str, *args: str) -> str:
            return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout

        version = run("bcftools", "--version").splitlines()[0]
        return run, f"{version} (CLI, one process per call)"

    def run(tool: str, *args: str) -> str:
        command = getattr(importlib.import_module(f"pysam.{tool}"), args[0])
        if "-o" in args:
            command(*args[1:], catch_stdout=False)
            return ""
        return command(*args[1:])

    return run, f"pysam {pysam.__version__} bundled bcftools/samtools (in-process, no process start-up)"


def bench_personal(seqs: PersonalSequences, windows: dict[str, int], people: list[str], args) -> dict:
    L, B = args.window_bp, args.batch
    batches = [np.arange(i, min(i + B, len(people))) for i in range(0, len(people), B)]

    t0 = time.perf_counter()
    cached = {gene: seqs.window("22", start, start + L, people) for gene, start in windows.items()}
    window_s = time.perf_counter() - t0
    n_snvs = [len(w.snvs) for w in cached.values()]

    for rows in batches[:1]:  # warm-up
        next(iter(cached.values())).one_hot(rows)
    n = 0
    t0 = time.perf_counter()
    for _ in range(args.passes):
        for window in cached.values():
            for rows in batches:
                x = window.one_hot(rows)
                n += x.shape[0]
    steady_s = time.perf_counter() - t0
    assert x.dtype == np.float32 and x.shape[1:] == (L, 4)

    n_cold = 0
    t0 = time.perf_counter()
    for start in windows.values():
        for rows in batches:
            n_cold += seqs.one_hot("22", start, start + L, [people[i] for i in rows]).shape[0]
    cold_s = time.perf_counter() - t0
    return dict(
        cached=cached, window_s=window_s, n_snvs=n_snvs, steady_n=n, steady_s=steady_s, cold_n=n_cold, cold_s=cold_s
    )


def bench_encodings(data: Path, windows: dict[str, int], people: list[str], args) -> dict:
    """People/s of each encoding with indels: window reads once per gene, then steady-state batches."""
    L, B = args.window_bp, args.batch
    batches = [np.arange(i, min(i + B, len(people))) for i in range(0, len(people), B)]
    seqs = HaplotypeSequences(data / "reference.fa", data / "genotypes.vcf.gz", unphased="first")
    t0 = time.perf_counter()
    cached = {gene: seqs.window("22", start, start + L, people) for gene, start in windows.items()}
    out = {"window_s": time.perf_counter() - t0, "n_records": [int(w.inside().sum()) for w in cached.values()]}
    out["n_indels"] = [int(w.inside().sum()) - len(w.snvs) for w in cached.values()]
    for name, build in [
        ("dosage", lambda w, rows: w.sequences(rows, "dosage")),
        ("haplotypes", lambda w, rows: w.sequences(rows, "haplotypes")),
        ("dosage, float one-hot on the CPU", lambda w, rows: mean_one_hot(w.sequences(rows, "dosage"))),
    ]:
        n = 0
        t0 = time.perf_counter()
        for _ in range(args.passes):
            for window in cached.values():
                for rows in batches:
                    n += len(build(window, rows))
        out[name] = n / (time.perf_counter() - t0)
    return out


def bench_consensus(data: Path, windows: dict[str, int], people: list[str], args, run) -> dict:
    L = args.window_bp
    out = {"setup_s": 0.0, "bcftools_s": 0.0, "read_s": 0.0, "bytes_fasta": 0, "bytes_total": 0, "n": 0, "arrays": {}}
    with tempfile.TemporaryDirectory(prefix="bench_consensus_") as tmp:
        tmp = Path(tmp)
        for gene, start in windows.items():
            region = f"22:{start + 1}-{start + L}"
            region_fa, snv_vcf = tmp / f"{gene}.fa", tmp / f"{gene}.snvs.vcf.gz"
            t0 = time.perf_counter()
            run("samtools", "faidx", str(data / "reference.fa"), region, "-o", str(region_fa))
            run(
                "bcftools",
                "view",
                "-v",
                "snps",
                "-m2",
                "-M2",
                "-r",
                region,
                "-s",
                ",".join(people),
                "-Oz",
                "-o",
                str(snv_vcf),
                str(data / "genotypes.vcf.gz"),
            )
            pysam.tabix_index(str(snv_vcf), preset="vcf", force=True)
            out["setup_s"] += time.perf_counter() - t0
            for person in people:
                paths = [tmp / f"{gene}.{person}.H{h}.fa" for h in (1, 2)]
                t0 = time.perf_counter()
                for hap, path in zip((1, 2), paths, strict=True):
                    run(
                        "bcftools",
                        "consensus",
                        "-s",
                        person,
                        "-H",
                        str(hap),
                        "-f",
                        str(region_fa),
                        "-o",
                        str(path),
                        str(snv_vcf),
                    )
                out["bcftools_s"] += time.perf_counter() - t0
                t0 = time.perf_counter()
                haplotypes = []
                for path in paths:
                    fasta = pyfaidx.Fasta(str(path), as_raw=True, sequence_always_upper=True)
                    seq = fasta[next(iter(fasta.keys()))][:]
                    fasta.close()
                    haplotypes.append(one_hot_encode(seq).astype(np.float32))
                x = (haplotypes[0] + haplotypes[1]) * np.float32(0.5)
                out["read_s"] += time.perf_counter() - t0
                assert x.shape == (L, 4)
                out["arrays"][gene, person] = x
                out["n"] += 1
                out["bytes_fasta"] += sum(p.stat().st_size for p in paths)
        out["bytes_total"] = sum(p.stat().st_size for p in tmp.iterdir())
    return out


def main() -> None:
    args = parse_args()
    data: Path = args.data
    rng = np.random.default_rng(args.seed)
    seqs = PersonalSequences(data / "reference.fa", data / "genotypes.vcf.gz")
    people = sorted(rng.choice(seqs.samples, size=args.people, replace=False).tolist(), key=seqs.samples.index)
    genes = README_GENES[: args.genes]
    windows = {g: t - args.window_bp // 2 for g, t in gene_tss(data, genes).items()}
    run, tools = tool_runner()
    L = args.window_bp

    print(f"data: {data}")
    print(f"window: {L:,} bp, TSS-centred; sequences are float32 ({L}, 4) dosage-averaged one-hots")
    print(f"cpu threads visible: {os.cpu_count()}; numpy {np.__version__}")
    print()

    p = bench_personal(seqs, windows, people, args)
    e = bench_encodings(data, windows, people, args)
    cons_genes = dict(list(windows.items())[: args.consensus_genes or len(windows)])
    cons_people = people[: args.consensus_people or len(people)]
    c = bench_consensus(data, cons_genes, cons_people, args, run)

    # The two paths must agree exactly on the people and genes they share.
    worst = 0.0
    for (gene, person), x in c["arrays"].items():
        y = p["cached"][gene].one_hot(np.array([people.index(person)]))[0]
        worst = max(worst, float(np.abs(x - y).max()))

    print(f"(i) PersonalSequences: {len(genes)} genes x {len(people)} people, batches of {args.batch}")
    print(f"    genes: {', '.join(genes)}; SNVs per window: {p['n_snvs']}")
    print(
        f"    window read (FASTA + VCF, once per gene): {p['window_s'] / len(genes) * 1e3:.1f} ms/gene "
        f"({p['window_s']:.3f} s for {len(genes)} genes)"
    )
    print(
        f"    steady state PersonalWindow.one_hot(rows): {p['steady_n'] / p['steady_s']:,.0f} sequences/s "
        f"({p['steady_n']} sequences in {p['steady_s']:.2f} s, {args.passes} passes)"
    )
    first = p["window_s"] + p["steady_s"] / args.passes
    print(f"    first epoch incl. window reads: {len(genes) * len(people) / first:,.0f} sequences/s")
    print(
        f"    cold PersonalSequences.one_hot per batch: {p['cold_n'] / p['cold_s']:,.0f} sequences/s "
        f"({p['cold_n']} sequences in {p['cold_s']:.2f} s)"
    )
    print("    disk written: 0 bytes")
    print()
    print(f"(iii) encodings (data.indels, data.encoding), people/s at {L:,} bp, batches of {args.batch}")
    print(
        f"    records per window: {e['n_records']} (other than SNVs: {e['n_indels']}); window read with indels "
        f"(FASTA + VCF, once per gene): {e['window_s'] / len(genes) * 1e3:.1f} ms/gene"
    )
    print(f"    SNVs only, dosage (float32 one-hot, the paper's path): {p['steady_n'] / p['steady_s']:,.0f} people/s")
    print(f"    indels, dosage (uint8 (B, 2, L) codes, one input per person): {e['dosage']:,.0f} people/s")
    print(f"    indels, haplotypes (uint8 (B, 2, L) codes, two inputs per person): {e['haplotypes']:,.0f} people/s")
    cpu_one_hot = e["dosage, float one-hot on the CPU"]
    print(f"    indels, dosage, float32 mean one-hot built on the CPU: {cpu_one_hot:,.0f} people/s")
    print()
    n, total_s = c["n"], c["setup_s"] + c["bcftools_s"] + c["read_s"]
    fewer = " (a subset of (i))" if n < len(genes) * len(people) else " (the same as (i))"
    print(
        f"(ii) bcftools consensus FASTAs: {len(cons_genes)} genes x {len(cons_people)} people{fewer}, "
        "one bcftools call per person, haplotype and window"
    )
    print(f"    tools: {tools}")
    print(
        f"    per-gene setup (samtools faidx + SNV-only VCF + tabix): {c['setup_s'] / len(cons_genes) * 1e3:.1f} "
        f"ms/gene"
    )
    print(
        f"    bcftools consensus -H 1/-H 2 only: {n / c['bcftools_s']:,.1f} sequences/s "
        f"({2 * n} calls in {c['bcftools_s']:.2f} s)"
    )
    print(f"    pyfaidx read + one-hot + haplotype mean only: {n / c['read_s']:,.1f} sequences/s")
    print(
        f"    end to end (setup + consensus + read): {n / total_s:,.1f} sequences/s ({n} sequences in {total_s:.2f} s)"
    )
    print(
        f"    disk written: {c['bytes_fasta']:,} bytes of consensus FASTA "
        f"({c['bytes_fasta'] / n:,.0f} per person and window, both haplotypes); {c['bytes_total']:,} bytes in all "
        f"with .fai, region FASTA and VCFs"
    )
    print()
    print(f"speed-up, steady state vs consensus end to end: {p['steady_n'] / p['steady_s'] / (n / total_s):,.0f}x")
    print(f"max |difference| between the two paths' arrays ({n} shared sequences): {worst}")
    if worst != 0.0:
        raise SystemExit("the two paths disagree")


if __name__ == "__main__":
    main()
