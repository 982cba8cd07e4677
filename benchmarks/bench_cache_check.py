"""Cost of the window cache's checks on load, on a GTEx-size cohort: file sizes on every load, checksums on first map.

Builds (or reuses) the window cache of the first ``--genes`` genes of a cohort (SNV entries; haplotype entries
with ``--haplotypes``), then loads every entry in a fresh process (a later run's set-up), three ways:

* ``checked``: :meth:`WindowCache.load` as it runs: meta.json, every file's size and, this process's first
  map of the entry, every file's blake2b checksum;
* ``sizes only``: the same with every entry marked as checksummed already (as a second load in one process);
* ``unchecked``: meta.json and the memory maps only (what the cache did before the checks).

Each runs with the page cache warm (the entries read just before) and, with ``--cold``, after dropping the
entries' pages (``posix_fadvise(DONTNEED)``, as on a fresh node; it takes effect where the kernel allows).
It also times the hash functions alone over the entries' bytes (xxh3-128 too where ``xxhash`` is installed).
It prints figures; it is not a test. Make the scale cohort first, for example::

    python -m performer.data.simulate /tmp/scale --scale --n-people 840 --n-genes 1000

then::

    python benchmarks/bench_cache_check.py /tmp/scale --genes 1000 --cache /tmp/scale-cache --cold
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
from pathlib import Path
import performer.data.cache as cache_module
from performer.data.cache import WindowCache
cohort, folder, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
spec = json.loads(sys.argv[4])
cache = WindowCache(folder, cohort / "reference.fa", cohort / spec["vcf"], spec["samples"], spec["options"],
                    haplotypes=spec["haplotypes"])
regions = [tuple(r) for r in spec["regions"]]
if mode == "sizes":
    cache_module._VERIFIED.update(str(cache.entry(r)) for r in regions)
elif mode == "none":
    cache._verify = lambda entry: json.loads((entry / "meta.json").read_text())
started = time.perf_counter()
windows = [cache.load(r) for r in regions]
print(json.dumps({"seconds": time.perf_counter() - started, "rebuilt": cache.rebuilt}))
"""

MODES = {"checked": "checked", "sizes": "sizes only", "none": "unchecked"}


def drop_pages(folder: Path) -> None:
    """Ask the kernel to drop the page-cache pages of every file under ``folder``."""
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def read_all(folder: Path) -> int:
    """Read every file under ``folder`` (warms the page cache); returns the bytes read."""
    return sum(len(p.read_bytes()) for p in folder.rglob("*") if p.is_file())


def hash_seconds(folder: Path, make) -> float:
    """Seconds to hash every entry file under ``folder`` (page cache warm) with ``make()`` objects."""
    files = [p for p in folder.rglob("*") if p.is_file() and p.name != "meta.json" and p.parent != folder]
    started = time.perf_counter()
    for path in files:
        digest = make()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        digest.digest()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cohort", type=Path, help="a cohort folder (reference.fa, genotypes, genes.tsv)")
    parser.add_argument("--genes", type=int, default=1000, help="the first N genes of genes.tsv")
    parser.add_argument("--window-bp", type=int, default=49_152)
    parser.add_argument("--cache", type=Path, default=None, help="cache folder (default <cohort>/window-cache)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="reader processes of the build")
    parser.add_argument("--haplotypes", action="store_true", help="haplotype entries instead of SNV entries")
    parser.add_argument("--cold", action="store_true", help="also time loads after dropping the entries' pages")
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode (the fastest is printed)")
    args = parser.parse_args()

    from performer.data.cache import WindowCache
    from performer.data.dataset import tss_window
    from performer.data.expression import read_gene_table
    from performer.data.variants import VariantReader

    vcf = next(n for n in ("genotypes.bcf", "genotypes.vcf.gz") if (args.cohort / n).exists())
    genes = read_gene_table(args.cohort / "genes.tsv").iloc[: args.genes]
    regions = [(c, *tss_window(int(t), args.window_bp)) for c, t in zip(genes["chrom"], genes["tss"])]
    samples = VariantReader(args.cohort / vcf).samples
    options = {"pass_only": True} if args.haplotypes else dict(strict=True, pass_only=True, missing="ref")
    folder = args.cache or args.cohort / "window-cache"
    cache = WindowCache(folder, args.cohort / "reference.fa", args.cohort / vcf, samples, options, args.haplotypes)
    started = time.perf_counter()
    built = cache.build(regions, args.workers)
    build_s = time.perf_counter() - started
    entries = [cache.entry(r) for r in dict.fromkeys(regions)]
    n_bytes = sum(p.stat().st_size for e in entries for p in e.iterdir())
    print(f"cohort {args.cohort} ({vcf}, {len(samples)} people), {len(regions)} genes, {args.window_bp:,} bp windows")
    print(f"cache {cache.path}: {len(entries)} {'haplotype' if args.haplotypes else 'SNV'} entries, {n_bytes:,} bytes")
    print(
        f"build: {built} entries written in {build_s:.1f} s with {args.workers} process(es)"
        if built
        else "build: reused"
    )
    print(f"{os.cpu_count()} CPU cores; python {sys.version.split()[0]}")

    spec = json.dumps(
        {"vcf": vcf, "samples": samples, "options": options, "haplotypes": args.haplotypes, "regions": regions}
    )
    states = ["warm", "cold"] if args.cold else ["warm"]
    print(f"\nload of all {len(entries)} entries in a fresh process, fastest of {args.repeats} (seconds):")
    print(f"{'':12}" + "".join(f"{s:>12}" for s in states))
    for mode, label in MODES.items():
        row = []
        for state in states:
            times = []
            for _ in range(args.repeats):
                read_all(cache.path) if state == "warm" else drop_pages(cache.path)
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(args.cohort), str(folder), mode, spec],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode:
                    raise RuntimeError(out.stderr[-3000:])
                result = json.loads(out.stdout.strip().splitlines()[-1])
                assert result["rebuilt"] == 0, "an entry was rebuilt: the timing is not of the checks"
                times.append(result["seconds"])
            row.append(min(times))
        print(f"{label:12}" + "".join(f"{t:12.2f}" for t in row))

    read_all(cache.path)
    hashes = {"blake2b-128": lambda: hashlib.blake2b(digest_size=16)}
    try:
        import xxhash

        hashes["xxh3-128"] = xxhash.xxh3_128
    except ImportError:
        pass
    print(f"\nhashing the entries' {n_bytes:,} bytes alone, page cache warm:")
    for name, make in hashes.items():
        seconds = hash_seconds(cache.path, make)
        print(f"{name:12}{seconds:12.2f} s  {n_bytes / seconds / 2**20:8.0f} MiB/s")


if __name__ == "__main__":
    main()
