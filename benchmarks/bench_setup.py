"""Set-up cost of a run on a GTEx-size cohort: the first build, a later run's load, memory and disk.

For each gene count it times ``PerformerDataModule.prepare_data() + setup()`` twice in fresh
processes: first with an empty window cache (the first run of a cohort), then again (a later run,
fold or DDP rank). It prints the window data's bytes on disk and its resident memory per process,
then maps the same windows from several processes at once (as DDP ranks on one node do) and reports
their proportional set size (PSS), which counts shared pages once in total.

Make the scale cohort first, for example::

    python -m performer.data.simulate /tmp/scale --scale --n-people 840 --n-genes 2000

then::

    python benchmarks/bench_setup.py /tmp/scale --genes 300,1000,2000 --ranks 8

Runs on older code too (no window cache): then "later run" repeats the full read.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, os, sys, time
import numpy as np, psutil
from performer.data.datamodule import PerformerDataModule
from performer.data.expression import read_expression_bed
cohort, n_genes, window_bp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
genes = list(read_expression_bed(os.path.join(cohort, "expression.bed.gz")).genes.index[:n_genes])
started = time.perf_counter()
dm = PerformerDataModule(vcf=sys.argv[4], fasta="reference.fa", expression="expression.bed.gz",
                         gene_table="genes.tsv", root=cohort, genes=genes, window_bp=window_bp)
dm.prepare_data()
dm.setup()
seconds = time.perf_counter() - started
arrays = [a for w in dm.windows for a in (w.codes, w.snvs.dosage)]
touched = sum(int(np.asarray(a).sum(dtype=np.int64)) for a in arrays)  # touch every page, as training would
memory = psutil.Process().memory_full_info()
cache = getattr(dm, "_cache", None)
print(json.dumps({
    "seconds": seconds, "window_bytes": sum(a.nbytes for a in arrays), "touched": touched,
    "rss": memory.rss, "pss": memory.pss, "uss": memory.uss,
    "disk": cache.nbytes() if cache is not None else 0,
    "snvs": sum(len(w.snvs) for w in dm.windows),
}))
"""


def child(cohort: Path, n_genes: int, window_bp: int, vcf: str, env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(cohort), str(n_genes), str(window_bp), vcf],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cohort", type=Path, help="a cohort folder (reference.fa, genotypes, expression.bed.gz)")
    parser.add_argument("--genes", default="300,1000,2000", help="gene counts, comma-separated")
    parser.add_argument("--window-bp", type=int, default=49_152)
    parser.add_argument("--ranks", type=int, default=8, help="processes that map the windows at once")
    parser.add_argument("--vcf", default=None, help="genotype file name in the cohort (default: the one there)")
    args = parser.parse_args()
    vcf = args.vcf or next(n for n in ("genotypes.bcf", "genotypes.vcf.gz") if (args.cohort / n).exists())
    print(f"cohort {args.cohort} ({vcf}), window {args.window_bp:,} bp, {os.cpu_count()} CPU cores")
    print(f"{'genes':>6} {'SNVs':>9} {'first s':>8} {'later s':>8} {'window MB':>10} {'RSS MB':>8} {'disk MB':>8}")
    rows = []
    for n_genes in [int(n) for n in args.genes.split(",")]:
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "PERFORMER_CACHE": cache}
            first = child(args.cohort, n_genes, args.window_bp, vcf, env)
            later = child(args.cohort, n_genes, args.window_bp, vcf, env)
            if n_genes == max(int(n) for n in args.genes.split(",")) and args.ranks > 1:
                with mp.Pool(args.ranks) as pool:
                    ranks = pool.starmap(child, [(args.cohort, n_genes, args.window_bp, vcf, env)] * args.ranks)
            else:
                ranks = []
        rows.append((n_genes, first, later))
        print(
            f"{n_genes:>6} {first['snvs']:>9,} {first['seconds']:>8.1f} {later['seconds']:>8.1f} "
            f"{later['window_bytes'] / 1e6:>10.1f} {later['rss'] / 1e6:>8.0f} {first['disk'] / 1e6:>8.1f}"
        )
    n_genes, first, later = rows[-1]
    scale = 11_000 / n_genes
    print(
        f"extrapolated to 11,000 genes at {args.window_bp:,} bp: first build {first['seconds'] * scale / 60:.1f} min, "
        f"later runs {later['seconds'] * scale:.0f} s, window data {later['window_bytes'] * scale / 1e9:.1f} GB, "
        f"disk {first['disk'] * scale / 1e9:.1f} GB; at 196,608 bp about 4x each"
    )
    if ranks:
        print(
            f"{len(ranks)} processes mapping the {n_genes} windows at once (started together, as DDP ranks): "
            f"set-up {min(r['seconds'] for r in ranks):.1f}-{max(r['seconds'] for r in ranks):.1f} s; "
            f"window data {later['window_bytes'] / 1e6:.0f} MB; "
            f"summed RSS {sum(r['rss'] for r in ranks) / 1e6:.0f} MB, "
            f"summed PSS {sum(r['pss'] for r in ranks) / 1e6:.0f} MB, "
            f"mean USS {sum(r['uss'] for r in ranks) / len(ranks) / 1e6:.0f} MB"
        )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - started:.0f} s")
