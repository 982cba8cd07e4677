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
        meta.json             contig spellings, skipped records (counts and positions) by reason;
                              ``built_from``: the VCF's and FASTA's identity as the builder read them
                              (``path`` resolved, ``size`` in bytes, ``mtime_ns``, ``inode``);
                              ``files``: every other file's ``bytes`` and ``blake2b`` (16-byte digest, hex)

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

The cohort key is a hash of the format version, the VCF's and FASTA's resolved path, size, modification
time and inode, the people (VCF sample names, in dosage-row order) and the reader options (``strict``,
``pass_only``, ``missing``), so an edited or replaced input file, another set of people or other options
never reuse a stale entry. Each process keeps one reader per cohort key (a replaced file gets a new
reader with its new key), and after reading each window checks that the files still are those the key
names: a file replaced under an open :class:`WindowCache` is a :class:`CacheError`, never an entry of
the new file under the old key. Entries are written to a temporary folder and renamed into place, so
concurrent builders (three folds of one gene started together) never see half an entry; the first one
wins.

Checks on load: every file's size on every :meth:`WindowCache.load`, and every file's checksum the first
time a process maps the entry (forked DataLoader workers inherit the entries checked). An entry that
fails (a truncated or overwritten file, an unreadable meta.json, ``built_from`` not the cache's input
files) is logged as a WARNING naming it, moved aside, deleted and built again
(:attr:`WindowCache.rebuilt` counts them); where it cannot be moved (a cache folder this user cannot
write), :meth:`~WindowCache.load` raises :class:`CacheError` naming the entry and the fix.

Space: :meth:`WindowCache.build` estimates the bytes it needs from the first window it reads (its size
times the windows to build) and raises ``OSError`` (``errno.ENOSPC``) naming the folder, the bytes
needed and free, before writing anything, when they do not fit; a disk that fills while writing raises
the same. Either way no partial entry is left (entries written whole stay).

Reader processes of a parallel build exit within about a second of their parent's end (a run killed
with ``kill -9`` leaves no reader behind).

Format 3 added ``built_from`` and ``files`` to meta.json and the inode to the key: cohort folders written
by earlier versions have other keys, so they are never reused (nor checked); delete them to reclaim
their space.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np

from performer.data.haplotypes import HaplotypeSequences, HaplotypeWindow, Records
from performer.data.personal import PersonalSequences, PersonalWindow
from performer.data.variants import SNVs

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
SNV_DTYPE = np.dtype([("pos", "<i8"), ("ref", "u1"), ("alt", "u1"), ("missing", "<i4"), ("haploid", "<i4")])
RECORD_DTYPE = np.dtype([("pos", "<i8"), ("ref_len", "<i4"), ("alt_len", "<i4"), ("anchored", "?")])
SNV_FILES = ("snvs.npy", "codes.npy", "dosage.npy", "ids.txt")
HAPLOTYPE_FILES = ("records.npy", "bases.npy", "ref.npy", "haplotypes.npy", "unphased.npy", "ids.txt")

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


class CacheError(RuntimeError):
    """A window cache that cannot be used as it is: an input file replaced under an open cache, or a damaged
    entry that cannot be rebuilt here. The message names the file or the entry, and the fix."""


class _DamagedEntry(Exception):
    """An entry that failed a check on load (the message says which); :meth:`WindowCache.load` rebuilds it."""


def _file_id(path: Path) -> dict:
    """A file's identity in the cohort key and in meta.json: resolved path, size (bytes), mtime (ns), inode."""
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inode": stat.st_ino}


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

    Attributes:
        path: this cohort's folder, ``folder / <cohort key>``.
        rebuilt: entries this object found damaged on load and built again.

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
        self.rebuilt = 0

    def entry(self, region: Region) -> Path:
        """Folder of the entry of ``region``."""
        chrom, start, end = region
        return self.path / f"{chrom}_{start}_{end}"

    def missing(self, regions: Sequence[Region]) -> list[Region]:
        """The distinct regions that have no entry yet, in first-seen order."""
        return [r for r in dict.fromkeys(regions) if not (self.entry(r) / "meta.json").exists()]

    def build(self, regions: Sequence[Region], workers: int = 1) -> int:
        """Read and store every region that has no entry yet.

        The first window is read here and its size times the windows to build compared with the free space
        in :attr:`path` before anything is written.

        Args:
            regions: windows to cache; those already cached are skipped.
            workers: processes that read the VCF in parallel (each opens its own reader, and exits when
                this process ends).

        Returns:
            The number of entries written by this call.

        Raises:
            OSError: (``errno.ENOSPC``) no space left in the cache folder for the windows, found before
                writing or while writing; the message names the folder, the bytes needed and free. No
                partial entry is left.
            CacheError: the VCF or the FASTA changed since this cache was made (open it again).
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
        files, meta = self._read(todo[0])
        need = _nbytes(files) * len(todo)
        if need > shutil.disk_usage(self.path).free:
            raise self._no_space(need, len(todo))
        try:
            _write_entry(self.path, todo[0], files, meta)
            rest = todo[1:]
            if workers == 1:
                _build_chunk(self, rest)
            else:
                chunks = [rest[i::workers] for i in range(workers)]
                # fork: workers start at once and need nothing from the parent but the arguments; each opens
                # its own readers (_start_reader_process), never sharing an htslib file handle with the parent.
                context = get_context("fork" if "fork" in get_all_start_methods() else "spawn")
                init = dict(initializer=_start_reader_process, initargs=(os.getpid(),))
                with ProcessPoolExecutor(workers, mp_context=context, **init) as pool:
                    for future in [pool.submit(_build_chunk, self, chunk) for chunk in chunks]:
                        future.result()
        except OSError as error:
            if _out_of_space(error):
                raise self._no_space(need, len(todo), error) from error
            raise
        log.info("window cache: %d windows written in %.1f s", len(todo), time.perf_counter() - started)
        return len(todo)

    def _no_space(self, need: int, n: int, cause: OSError | None = None) -> OSError:
        """The error of a build that does not fit in :attr:`path`: the folder, the bytes needed and free, the fix."""
        free = shutil.disk_usage(self.path).free
        return OSError(
            errno.ENOSPC,
            f"no space left in {self.path}{f' ({cause})' if cause else ''}: the window cache needs about "
            f"{need:,} bytes ({need / 2**30:.2f} GiB) for {n} windows and {free:,} bytes are free; free space "
            "there, or set cache_dir (data.cache_dir) or $PERFORMER_CACHE to a folder with room",
        )

    def _reader(self) -> PersonalSequences | HaplotypeSequences:
        """This process's reader of the cohort: one per cohort key, so a replaced input file (a new key) gets
        a new one."""
        key = str(self.path)
        if key not in _READERS:
            if self.haplotypes:
                _READERS[key] = HaplotypeSequences(
                    self.fasta, self.vcf, **self.options, unphased="first", samples=self.samples
                )
            else:
                _READERS[key] = PersonalSequences(self.fasta, self.vcf, **self.options, samples=self.samples)
        return _READERS[key]

    def _read(self, region: Region) -> tuple[dict[str, np.ndarray | str], dict]:
        """``region``'s entry in memory, read from the VCF and FASTA: its files (name -> array, or text) and
        meta.json's fields but ``files``.

        Raises:
            CacheError: the VCF or the FASTA is no longer the file the cohort key names (checked after the
                read, so the window and ``built_from`` are of the files the key names).
            whatever the reader raises for the region.
        """
        try:
            window = self._reader().window(*region, self.samples)
        finally:  # also when the read failed: a file rewritten in place can read as a corrupt one
            self._check_inputs()
        files, meta = (_haplotype_files if self.haplotypes else _snv_files)(window)
        meta["built_from"] = {"vcf": self.inputs["vcf"], "fasta": self.inputs["fasta"]}
        return files, meta

    def _check_inputs(self) -> None:
        """Raise :class:`CacheError` (and forget this process's reader) if the VCF or the FASTA is no longer the
        file the cohort key names."""
        for name, path in (("vcf", self.vcf), ("fasta", self.fasta)):
            now = _file_id(path) if path.exists() else "missing"
            if now != self.inputs[name]:
                _READERS.pop(str(self.path), None)
                raise CacheError(
                    f"{path} changed since the window cache {self.path} was opened (was {self.inputs[name]}, now "
                    f"{now}); open it again (a new WindowCache, or run again) to cache the new file's windows"
                )

    def load(self, region: Region) -> PersonalWindow | HaplotypeWindow:
        """The cached window of ``region``: codes and dosages (or haplotypes) memory-mapped read-only.

        The entry's file sizes are checked on every load, their checksums the first time this process maps
        the entry; a damaged entry is rebuilt, with a WARNING naming it (counted in :attr:`rebuilt`).

        Raises:
            FileNotFoundError: ``region`` was not built (call :meth:`build` first).
            CacheError: the entry is damaged and cannot be rebuilt (a cache folder this user cannot write, or
                damaged again once rebuilt); the message names the entry and the fix.
            whatever :meth:`build` raises while rebuilding.
        """
        folder = self.entry(region)
        if not (folder / "meta.json").exists():
            raise FileNotFoundError(f"window {region} is not in the cache {self.path}; build it first")
        try:
            meta = self._verify(folder)
        except _DamagedEntry as damage:
            self._rebuild(region, damage)
            try:
                meta = self._verify(folder)
            except _DamagedEntry as again:
                raise CacheError(
                    f"window cache entry {folder} is damaged ({again}) even after rebuilding it; "
                    f"delete {self.path} and run again"
                ) from again
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

    def _verify(self, folder: Path) -> dict:
        """The entry's meta.json, once the entry is checked: built from this cache's input files, holding the
        layout's files with the sizes recorded and, the first time this process maps it, their checksums.

        Raises:
            _DamagedEntry: naming the check that failed.
        """
        try:
            meta = json.loads((folder / "meta.json").read_text())
            built_from = {name: meta["built_from"][name] for name in ("vcf", "fasta")}
            files = meta["files"]
            sizes = {name: recorded["bytes"] for name, recorded in files.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise _DamagedEntry(f"meta.json unreadable: {error!r}") from error
        for name, source in built_from.items():
            if source != self.inputs[name]:
                raise _DamagedEntry(f"built from {name} {source}, not {self.inputs[name]}")
        expected = HAPLOTYPE_FILES if self.haplotypes else SNV_FILES
        if sorted(files) != sorted(expected):
            raise _DamagedEntry(f"meta.json lists the files {sorted(files)}, not {sorted(expected)}")
        for name, size in sizes.items():
            found = (folder / name).stat().st_size if (folder / name).is_file() else None
            if found != size:
                raise _DamagedEntry(f"{name} holds {found} bytes, {size} when built")
        if str(folder) not in _VERIFIED:
            for name, recorded in files.items():
                if _checksum(folder / name) != recorded["blake2b"]:
                    raise _DamagedEntry(f"{name}'s checksum differs from the one recorded when it was built")
            _VERIFIED.add(str(folder))
        return meta

    def _rebuild(self, region: Region, damage: _DamagedEntry) -> None:
        """Move the damaged entry of ``region`` aside, delete it and build it again, with a WARNING naming it.

        Raises:
            CacheError: the entry cannot be moved (a cache folder this user cannot write).
        """
        folder = self.entry(region)
        log.warning("window cache entry %s is damaged (%s): rebuilding it", folder, damage)
        aside = folder.with_name(f".{folder.name}.damaged.{os.getpid()}.{time.time_ns()}")
        try:
            os.rename(folder, aside)  # atomic: a concurrent loader sees the whole entry or none
        except FileNotFoundError:
            pass  # another process moved it aside first
        except OSError as error:
            raise CacheError(
                f"window cache entry {folder} is damaged ({damage}) and cannot be rebuilt here ({error}); delete "
                f"it (rm -r {folder}) or set cache_dir (data.cache_dir) to a folder you can write"
            ) from error
        shutil.rmtree(aside, ignore_errors=True)
        _VERIFIED.discard(str(folder))
        self.rebuilt += 1
        self.build([region])

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


_READERS: dict[str, PersonalSequences | HaplotypeSequences] = {}
"""This process's VCF and FASTA readers, by cohort folder (its key names the files' identity)."""

_VERIFIED: set[str] = set()
"""Entry folders whose checksums this process has checked (forked DataLoader workers inherit it)."""


def _start_reader_process(parent: int) -> None:
    """Initialise a reader process of :meth:`WindowCache.build`: drop the parent's readers (never share an
    htslib file handle) and exit when the process ``parent`` ends."""
    _READERS.clear()
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """Check every ``every_s`` seconds that ``parent`` is still this process's parent; exit at once when it
    is not (it ended, even by ``kill -9``, and this process was adopted)."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


def _build_chunk(cache: WindowCache, regions: list[Region]) -> None:
    """Read ``regions`` and write their entries (runs in the caller or in a reader process)."""
    for region in regions:
        _write_entry(cache.path, region, *cache._read(region))


def _out_of_space(error: OSError) -> bool:
    """Whether ``error`` is a full disk or quota: ``ENOSPC``, ``EDQUOT``, or numpy's short write (``"49152
    requested and 36736 written"``, which carries no errno)."""
    short_write = error.errno is None and " requested and " in str(error) and str(error).endswith(" written")
    return error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)) or short_write


def _nbytes(files: dict[str, np.ndarray | str]) -> int:
    """About the bytes an entry's ``files`` take on disk: each array's data plus a 128-byte .npy header."""
    return sum(len(c.encode()) if isinstance(c, str) else c.nbytes + 128 for c in files.values())


def _checksum(path: Path) -> str:
    """blake2b of a file's bytes (16-byte digest, hex)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _write_entry(root: Path, region: Region, files: dict[str, np.ndarray | str], meta: dict) -> None:
    """Write ``region``'s entry into a temporary folder under ``root``, then rename it into place.

    ``files`` maps file names to arrays (saved as ``.npy``) or text; meta.json holds ``meta`` and every
    file's ``bytes`` and ``blake2b``, and is written last. The temporary folder is removed whatever happens;
    an entry another process finished first stays.
    """
    chrom, start, end = region
    final = root / f"{chrom}_{start}_{end}"
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        for name, content in files.items():
            if isinstance(content, str):
                (tmp / name).write_text(content)
            else:
                np.save(tmp / name, content)
        recorded = {name: {"bytes": (tmp / name).stat().st_size, "blake2b": _checksum(tmp / name)} for name in files}
        (tmp / "meta.json").write_text(json.dumps({**meta, "files": recorded}) + "\n")  # last: marks the entry done
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "meta.json").exists():
                raise
            log.debug("window %s was cached by another process first", final.name)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _snv_files(window: PersonalWindow) -> tuple[dict[str, np.ndarray | str], dict]:
    """An SNV entry's files and meta.json fields."""
    snvs = window.snvs
    table = np.empty(len(snvs), SNV_DTYPE)
    table["pos"], table["ref"], table["alt"] = snvs.pos, snvs.ref, snvs.alt
    table["missing"], table["haploid"] = snvs.missing_per_snv, snvs.haploid_per_snv
    files = {
        "snvs.npy": table,
        "codes.npy": np.asarray(window.codes, np.uint8),
        "dosage.npy": np.ascontiguousarray(snvs.dosage, np.int8),
        "ids.txt": "".join(f"{i}\n" for i in snvs.ids),
    }
    meta = {
        "chrom": window.chrom,
        "vcf_chrom": snvs.chrom,
        "skipped": dict(snvs.skipped),
        "skipped_pos": snvs.skipped_pos,
    }
    return files, meta


def _haplotype_files(window: HaplotypeWindow) -> tuple[dict[str, np.ndarray | str], dict]:
    """A haplotype entry's files and meta.json fields."""
    records = window.records
    table = np.empty(len(records), RECORD_DTYPE)
    table["pos"] = records.pos
    table["ref_len"] = [len(r) for r in records.ref]
    table["alt_len"] = [-1 if a is None else len(a) for a in records.alt]
    table["anchored"] = records.anchored
    bases = [b for r, a in zip(records.ref, records.alt) for b in (r, a) if b is not None]
    files = {
        "records.npy": table,
        "bases.npy": np.concatenate(bases) if bases else np.zeros(0, np.uint8),
        "ref.npy": np.asarray(window.ref_codes, np.uint8),
        "haplotypes.npy": np.ascontiguousarray(records.alleles, bool),
        "unphased.npy": np.asarray(records.unphased_people, bool),
        "ids.txt": "".join(f"{i}\n" for i in records.ids),
    }
    meta = {
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
    return files, meta


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
