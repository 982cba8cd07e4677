"""The window cache: every gene's TSS window read from the VCF and FASTA once per cohort, then memory-mapped.

Reading a window means decoding every VCF record in it for every person (about 100-200 us per record
with cyvcf2 at 840 people), so a GTEx-size run spends most of its set-up there. The cache does it once
per cohort: :meth:`WindowCache.build` writes each window as plain ``.npy`` files, and every later run,
DDP rank, DataLoader worker and fold maps them read-only (:func:`numpy.load` with ``mmap_mode="r"``),
so the page cache holds one copy per machine however many processes read it.

Layout (``<cache dir>/<cohort key>/``)::

    cohort.json               the inputs the key was made from (files, people, reader options)
    <chrom>_<start>_<end>/    one entry per window (0-based half-open, bp), shared by every gene and run
        codes.npy             uint8 (L,): reference base codes, 0-3 = A,C,G,T, 4 = N (memory-mapped)
        dosage.npy            int8 (n_people, n_snvs): ALT dosages (memory-mapped)
        snvs.npy              structured (n_snvs,): pos int64 (0-based), ref and alt uint8 base codes,
                              missing and haploid calls int32
        ids.txt               SNV IDs, one per line (read only when asked for)
        meta.json             contig spellings, skipped records (counts and positions) by reason

With ``haplotypes=True`` (personal sequences with indels or phased haplotypes) an entry instead holds
what :class:`~performer.data.haplotypes.HaplotypeWindow` needs to build any person's two sequences::

    ref.npy                   uint8 (n_bp,): reference codes of the region read (the window plus margins)
    records.npy               structured (n_records,): pos int64 (0-based), ref_len and alt_len int32
                              (alt_len -1 for ``*``), anchored bool
    bases.npy                 uint8: every record's REF codes then ALT codes, in record order
    haplotypes.npy            bool (n_people, 2, n_records): ALT carried per haplotype (memory-mapped)
    unphased.npy              bool (n_people,): people with an unphased heterozygous call in the region
    ids.txt, meta.json        as above; meta.json adds the region start, the call counts and the
                              carried records skipped by the overlap rule, per encoding

The cohort key is a hash of the VCF's and FASTA's resolved path, size and modification time, the
people (VCF sample names, in dosage-row order) and the reader options (``strict``, ``pass_only``,
``missing``), so an edited or replaced input file, another set of people or other options never reuse
a stale entry. Entries are written to a temporary folder and renamed into place, so concurrent
builders (three folds of one gene started together) never see half an entry; the first one wins.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np

from performer.data.haplotypes import HaplotypeSequences, HaplotypeWindow, Records
from performer.data.personal import PersonalSequences, PersonalWindow
from performer.data.variants import SNVs

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
SNV_DTYPE = np.dtype([("pos", "<i8"), ("ref", "u1"), ("alt", "u1"), ("missing", "<i4"), ("haploid", "<i4")])
RECORD_DTYPE = np.dtype([("pos", "<i8"), ("ref_len", "<i4"), ("alt_len", "<i4"), ("anchored", "?")])

Region = tuple[str, int, int]
"""A window: contig (as the expression file spells it), 0-based start and end (half-open), in bp."""


def cache_root() -> Path:
    """Performer's cache folder: ``$PERFORMER_CACHE``, else ``$XDG_CACHE_HOME/performer``, else ``~/.cache/performer``.

    Nothing is created.
    """
    if os.environ.get("PERFORMER_CACHE"):
        return Path(os.environ["PERFORMER_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "performer"
    return Path.home() / ".cache" / "performer"


def _file_id(path: Path) -> dict:
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class LazyIds(Sequence):
    """SNV IDs of a cache entry, read from ``ids.txt`` on first use (millions of strings stay on disk)."""

    def __init__(self, path: Path, n: int):
        self.path, self.n, self._ids = path, n, None

    def _load(self) -> list[str]:
        if self._ids is None:
            self._ids = self.path.read_text().splitlines() if self.n else []
        return self._ids

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        return self._load()[i]

    def __eq__(self, other) -> bool:
        return list(self) == list(other)


class WindowCache:
    """Windows of one cohort (VCF + FASTA + people + reader options) on disk, memory-mapped.

    Args:
        folder: the cache folder (default :func:`cache_root` ``/ "windows"``); one subfolder per cohort key.
        fasta, vcf: the reference FASTA and the indexed VCF/BCF.
        samples: VCF sample names, in the order of the dosage rows.
        options: :class:`~performer.data.variants.VariantReader` options (``strict``, ``pass_only``,
            ``missing``), or with ``haplotypes`` :class:`~performer.data.haplotypes.HaplotypeSequences`
            options (``pass_only``, ``margin``); part of the key.
        haplotypes: store every biallelic record (SNVs and indels) and each person's two haplotypes,
            loaded as :class:`~performer.data.haplotypes.HaplotypeWindow` (read with ``unphased="first"``:
            unphased people are flagged per window, see ``HaplotypeWindow.carried``).
        indels: with ``haplotypes``, False loads each window's single-base records only (phased SNV
            haplotypes); the entries on disk are the same either way.

    Raises:
        FileNotFoundError: the VCF or the FASTA does not exist.
    """

    def __init__(
        self,
        folder: str | Path | None,
        fasta: str | Path,
        vcf: str | Path,
        samples: list[str],
        options: dict,
        haplotypes: bool = False,
        indels: bool = True,
    ):
        self.fasta, self.vcf = Path(fasta), Path(vcf)
        for path in (self.fasta, self.vcf):
            if not path.exists():
                raise FileNotFoundError(f"{path} not found")
        self.samples = list(samples)
        self.options = dict(options)
        self.inputs = {
            "format": FORMAT_VERSION,
            "vcf": _file_id(self.vcf),
            "fasta": _file_id(self.fasta),
            "samples": self.samples,
            "options": self.options,
        }
        self.haplotypes, self.indels = haplotypes, indels
        if haplotypes:
            self.inputs["layout"] = "haplotypes"
        key = hashlib.sha1(json.dumps(self.inputs, sort_keys=True).encode()).hexdigest()[:16]
        self.path = (Path(folder) if folder is not None else cache_root() / "windows") / key

    def entry(self, region: Region) -> Path:
        """Folder of the entry of ``region``."""
        chrom, start, end = region
        return self.path / f"{chrom}_{start}_{end}"

    def missing(self, regions: Sequence[Region]) -> list[Region]:
        """The distinct regions that have no entry yet, in first-seen order."""
        return [r for r in dict.fromkeys(regions) if not (self.entry(r) / "meta.json").exists()]

    def build(self, regions: Sequence[Region], workers: int = 1) -> int:
        """Read and store every region that has no entry yet.

        Args:
            regions: windows to cache; those already cached are skipped.
            workers: processes that read the VCF in parallel (each opens its own reader).

        Returns:
            The number of entries written by this call.

        Raises:
            whatever :meth:`PersonalSequences.window <performer.data.personal.PersonalSequences.window>`
            raises for a region (unknown contig, REF mismatch, a corrupt VCF), naming the file.
        """
        todo = self.missing(regions)
        if not todo:
            return 0
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "cohort.json").write_text(json.dumps(self.inputs, indent=1) + "\n")
        started = time.perf_counter()
        workers = max(1, min(workers, len(todo) // 16))
        log.info("window cache %s: reading %d windows with %d process(es)", self.path, len(todo), workers)
        args = (str(self.fasta), str(self.vcf), self.samples, self.options, self.haplotypes, str(self.path))
        if workers == 1:
            _build_chunk(*args, todo)
        else:
            chunks = [todo[i::workers] for i in range(workers)]
            # fork: workers start at once and need nothing from the parent but the arguments; each opens
            # its own readers (_forget_readers), never sharing an htslib file handle with the parent.
            context = get_context("fork" if "fork" in get_all_start_methods() else "spawn")
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_forget_readers) as pool:
                for future in [pool.submit(_build_chunk, *args, chunk) for chunk in chunks]:
                    future.result()
        log.info("window cache: %d windows written in %.1f s", len(todo), time.perf_counter() - started)
        return len(todo)

    def load(self, region: Region) -> PersonalWindow | HaplotypeWindow:
        """The cached window of ``region``: codes and dosages (or haplotypes) memory-mapped read-only.

        Raises:
            FileNotFoundError: ``region`` was not built (call :meth:`build` first).
        """
        folder = self.entry(region)
        if not (folder / "meta.json").exists():
            raise FileNotFoundError(f"window {region} is not in the cache {self.path}; build it first")
        meta = json.loads((folder / "meta.json").read_text())
        if self.haplotypes:
            window = _load_haplotypes(folder, meta, region, self.samples)
            return window if self.indels else window.snv_only()
        snv_table = np.load(folder / "snvs.npy")
        n = len(snv_table)
        dosage = np.load(folder / "dosage.npy", mmap_mode="r") if n else np.zeros((len(self.samples), 0), np.int8)
        snvs = SNVs(
            chrom=meta["vcf_chrom"],
            pos=snv_table["pos"],
            ref=snv_table["ref"],
            alt=snv_table["alt"],
            ids=LazyIds(folder / "ids.txt", n),
            dosage=dosage,
            samples=self.samples,
            skipped=Counter(meta["skipped"]),
            missing_calls=int(snv_table["missing"].sum()),
            haploid_calls=int(snv_table["haploid"].sum()),
            missing_per_snv=snv_table["missing"],
            haploid_per_snv=snv_table["haploid"],
            skipped_pos=meta["skipped_pos"],
        )
        codes = np.load(folder / "codes.npy", mmap_mode="r")
        return PersonalWindow(meta["chrom"], region[1], region[2], codes, snvs)

    def windows(self, regions: Sequence[Region], workers: int = 1) -> list[PersonalWindow | HaplotypeWindow]:
        """:meth:`build` what is missing, then :meth:`load` every region, in order."""
        self.build(regions, workers)
        return [self.load(r) for r in regions]

    def nbytes(self) -> int:
        """Bytes on disk of this cohort's entries."""
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())


def personal_window_cache(
    folder: str | Path | None,
    fasta: str | Path,
    vcf: str | Path,
    samples: list[str],
    *,
    strict: bool = True,
    pass_only: bool = True,
    missing: str = "ref",
    indels: bool = False,
    encoding: str = "dosage",
) -> WindowCache:
    """The window cache of what a personal encoding needs (``data.indels``, ``data.encoding``).

    SNV entries for the paper's encoding (``indels=False``, ``encoding="dosage"``: reader options
    ``strict``, ``pass_only``, ``missing``); haplotype entries otherwise (``pass_only`` only: every REF is
    checked and missing alleles are REF), loaded with their single-base records only when
    ``indels=False``. Raises as :class:`WindowCache`.
    """
    if indels or encoding == "haplotypes":
        return WindowCache(folder, fasta, vcf, samples, {"pass_only": pass_only}, haplotypes=True, indels=indels)
    return WindowCache(folder, fasta, vcf, samples, dict(strict=strict, pass_only=pass_only, missing=missing))


_READERS: dict[tuple, PersonalSequences | HaplotypeSequences] = {}


def _forget_readers() -> None:
    _READERS.clear()


def _build_chunk(
    fasta: str, vcf: str, samples: list[str], options: dict, haplotypes: bool, root: str, regions: list[Region]
) -> None:
    """Read ``regions`` and write their entries under ``root`` (runs in the caller or in a worker process)."""
    key = (fasta, vcf, tuple(sorted(options.items())), tuple(samples), haplotypes)
    if key not in _READERS:
        if haplotypes:
            _READERS[key] = HaplotypeSequences(fasta, vcf, **options, unphased="first", samples=samples)
        else:
            _READERS[key] = PersonalSequences(fasta, vcf, **options, samples=samples)
    sequences = _READERS[key]
    write = _write_haplotypes if haplotypes else _write_snvs
    for region in regions:
        _write_entry(Path(root), region, sequences.window(*region, samples), write)


def _write_entry(
    root: Path, region: Region, window: PersonalWindow | HaplotypeWindow, write: Callable[[Path, object], dict]
) -> None:
    """Write ``window``'s entry into a temporary folder with ``write(folder, window) -> meta``, then rename it
    into place."""
    chrom, start, end = region
    final = root / f"{chrom}_{start}_{end}"
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        meta = write(tmp, window)
        (tmp / "meta.json").write_text(json.dumps(meta) + "\n")  # written last: its presence marks the entry done
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "meta.json").exists():
                raise
            log.debug("window %s was cached by another process first", final.name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _write_snvs(tmp: Path, window: PersonalWindow) -> dict:
    snvs = window.snvs
    table = np.empty(len(snvs), SNV_DTYPE)
    table["pos"], table["ref"], table["alt"] = snvs.pos, snvs.ref, snvs.alt
    table["missing"], table["haploid"] = snvs.missing_per_snv, snvs.haploid_per_snv
    np.save(tmp / "snvs.npy", table)
    np.save(tmp / "codes.npy", np.asarray(window.codes, np.uint8))
    np.save(tmp / "dosage.npy", np.ascontiguousarray(snvs.dosage, np.int8))
    (tmp / "ids.txt").write_text("".join(f"{i}\n" for i in snvs.ids))
    return {
        "chrom": window.chrom,
        "vcf_chrom": snvs.chrom,
        "skipped": dict(snvs.skipped),
        "skipped_pos": snvs.skipped_pos,
    }


def _write_haplotypes(tmp: Path, window: HaplotypeWindow) -> dict:
    records = window.records
    table = np.empty(len(records), RECORD_DTYPE)
    table["pos"] = records.pos
    table["ref_len"] = [len(r) for r in records.ref]
    table["alt_len"] = [-1 if a is None else len(a) for a in records.alt]
    table["anchored"] = records.anchored
    bases = [b for r, a in zip(records.ref, records.alt) for b in (r, a) if b is not None]
    np.save(tmp / "records.npy", table)
    np.save(tmp / "bases.npy", np.concatenate(bases) if bases else np.zeros(0, np.uint8))
    np.save(tmp / "ref.npy", np.asarray(window.ref_codes, np.uint8))
    np.save(tmp / "haplotypes.npy", np.ascontiguousarray(records.alleles, bool))
    np.save(tmp / "unphased.npy", np.asarray(records.unphased_people, bool))
    (tmp / "ids.txt").write_text("".join(f"{i}\n" for i in records.ids))
    return {
        "chrom": window.chrom,
        "vcf_chrom": records.chrom,
        "ref_start": window.ref_start,
        "skipped": dict(records.skipped),
        "missing_calls": records.missing_calls,
        "haploid_calls": records.haploid_calls,
        "unphased_calls": records.unphased_calls,
        "star_alleles": records.star_alleles,
        "overlaps": {encoding: window.overlaps(encoding) for encoding in ("haplotypes", "dosage")},
    }


def _load_haplotypes(folder: Path, meta: dict, region: Region, samples: list[str]) -> HaplotypeWindow:
    table = np.load(folder / "records.npy")
    bases = np.load(folder / "bases.npy")
    ref, alt, at = [], [], 0
    for ref_len, alt_len in zip(table["ref_len"].tolist(), table["alt_len"].tolist()):
        ref.append(bases[at : at + ref_len])
        at += ref_len
        alt.append(None if alt_len < 0 else bases[at : at + alt_len])
        at += max(alt_len, 0)
    n = len(table)
    records = Records(
        chrom=meta["vcf_chrom"],
        pos=table["pos"],
        ref=ref,
        alt=alt,
        ids=LazyIds(folder / "ids.txt", n),
        alleles=np.load(folder / "haplotypes.npy", mmap_mode="r") if n else np.zeros((len(samples), 2, 0), bool),
        samples=samples,
        skipped=Counter(meta["skipped"]),
        missing_calls=meta["missing_calls"],
        haploid_calls=meta["haploid_calls"],
        unphased_calls=meta["unphased_calls"],
        star_alleles=meta["star_alleles"],
        anchored=table["anchored"],
        unphased_people=np.load(folder / "unphased.npy"),
    )
    ref = np.load(folder / "ref.npy", mmap_mode="r")
    return HaplotypeWindow(meta["chrom"], region[1], region[2], meta["ref_start"], ref, records, meta["overlaps"])
