"""Reference genome access: pyfaidx reads, N padding past contig ends, contig aliases.

Coordinates are 0-based half-open throughout (``start`` inclusive, ``end`` exclusive).
One-hot channel order is ``A, C, G, T``; ``N`` and every other IUPAC code encode as all zeros,
and soft-masked (lowercase) bases count as their uppercase base.

Compressed files are recognised by their first bytes, not their names: a FASTA may be plain text or
bgzip-compressed (BGZF, read through pyfaidx with BioPython); a plain-gzip FASTA is refused with the
command that recompresses it, and a BGZF file without its 28-byte end-of-file marker (cut short by
an interrupted download or copy) is refused as truncated.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyfaidx

log = logging.getLogger(__name__)

BASES = "ACGT"
N_CODE = 4
"""Base code of ``N`` (and of any non-ACGT symbol) in :func:`encode_bases`."""

_CODE_TABLE = np.full(256, N_CODE, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _CODE_TABLE[ord(_b)] = _i
    _CODE_TABLE[ord(_b.lower())] = _i

_ONE_HOT_TABLE = np.zeros((5, 4), dtype=np.uint8)
_ONE_HOT_TABLE[np.arange(4), np.arange(4)] = 1


BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
"""The empty BGZF block that ends every complete bgzip-compressed file (SAM specification, 4.1.2)."""


def compression(path: str | Path) -> str:
    """How ``path`` is compressed, from its first 16 bytes: ``"bgzf"``, ``"gzip"`` or ``"none"``.

    BGZF (``bgzip``, ``bcftools view -Oz``/``-Ob``) is gzip whose header carries the extra subfield
    ``BC`` of length 2; any other gzip stream (``gzip``, ``pigz``) is ``"gzip"``.

    Raises:
        OSError: ``path`` cannot be read.
    """
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head[:2] != b"\x1f\x8b":
        return "none"
    if len(head) == 16 and head[3] & 0x04 and head[12:16] == b"BC\x02\x00":
        return "bgzf"
    return "gzip"


def has_bgzf_eof(path: str | Path) -> bool:
    """Whether the file ends with the BGZF end-of-file marker (:data:`BGZF_EOF`, 28 bytes).

    A BGZF file without it was cut short (or written by a tool that did not close it properly).
    """
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        if size < len(BGZF_EOF):
            return False
        handle.seek(size - len(BGZF_EOF))
        return handle.read() == BGZF_EOF


def encode_bases(seq: str) -> np.ndarray:
    """Map a DNA string to base codes 0-3 (``A,C,G,T``), 4 for ``N`` and other symbols.

    Returns a uint8 array of shape ``(len(seq),)``. Lowercase is treated as uppercase.
    """
    return _CODE_TABLE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def decode_bases(codes: np.ndarray) -> str:
    """Base codes 0-4 -> a DNA string (``A,C,G,T``, ``N``): the inverse of :func:`encode_bases` on ``ACGTN``."""
    return "".join((BASES + "N")[int(c)] for c in codes)


def codes_to_one_hot(codes: np.ndarray) -> np.ndarray:
    """Base codes of shape ``(..., L)`` -> uint8 one-hot of shape ``(..., L, 4)``; code 4 -> zeros."""
    return _ONE_HOT_TABLE[codes]


def one_hot_encode(seq: str) -> np.ndarray:
    """DNA string -> uint8 one-hot of shape ``(len(seq), 4)``, channels ``A,C,G,T``, ``N`` = zeros."""
    return codes_to_one_hot(encode_bases(seq))


def contig_aliases(name: str) -> list[str]:
    """Candidate spellings of a contig name: itself, then with ``chr`` added or removed.

    ``chrM`` and ``MT`` are treated as the same contig. Example: ``"22" -> ["22", "chr22"]``.
    """
    bare = name[3:] if name.lower().startswith("chr") else name
    candidates = [name, bare, "chr" + bare]
    if bare.upper() in {"M", "MT"}:
        candidates += ["chrM", "MT", "M", "chrMT"]
    return list(dict.fromkeys(candidates))


def resolve_contig(name: str, available: Iterable[str], source: str = "file") -> str:
    """Return the spelling of contig ``name`` used by ``available`` (``chr22`` == ``22``).

    Raises:
        KeyError: no alias of ``name`` is in ``available``; the message names ``source`` and
            lists some contigs it does have.
    """
    available = list(available)
    present = set(available)
    for candidate in contig_aliases(name):
        if candidate in present:
            return candidate
    raise KeyError(
        f"contig {name!r} is not in {source} (contigs there: {', '.join(available[:10])}"
        f"{', ...' if len(available) > 10 else ''}); check the genome build and contig names"
    )


def _check_fasta_compression(path: Path) -> None:
    """Refuse compressed FASTA files that pyfaidx would misread or reject with an unhelpful message."""
    kind = compression(path)
    if kind == "gzip":
        plain = path.with_suffix("") if path.suffix.lower() == ".gz" else path.with_name(f"{path.name}.plain.fa")
        raise ValueError(
            f"reference FASTA {path} is compressed with gzip, not bgzip, so it cannot be read by position: "
            f"decompress it (`gunzip -c {path} > {plain}`) or recompress it with bgzip "
            f"(`gunzip -c {path} | bgzip > {plain}.bgz`)"
        )
    if kind != "bgzf":
        return
    if not has_bgzf_eof(path):
        raise ValueError(
            f"reference FASTA {path} is truncated: it lacks the BGZF end-of-file marker (an interrupted download "
            "or copy?); download or bgzip it again and delete its old .fai/.gzi index"
        )
    if not path.name.lower().endswith((".gz", ".bgz")):
        raise ValueError(
            f"reference FASTA {path} is bgzip-compressed but its name does not end in .gz or .bgz, which pyfaidx "
            "needs to read it as compressed: rename it (and its .fai) with a .gz suffix"
        )
    if importlib.util.find_spec("Bio") is None:
        raise ImportError(
            f"reference FASTA {path} is bgzip-compressed; pyfaidx reads BGZF through BioPython, which is not "
            f"installed: `pip install biopython`, or decompress the FASTA (`bgzip -d {path}`)"
        )


class ReferenceGenome:
    """A FASTA reference read through pyfaidx (the ``.fai`` index is built if missing).

    Windows that run past either end of a contig are padded with ``N`` (all-zero one-hot rows),
    so a TSS-centred window near a chromosome end keeps its length and centre.

    Args:
        path: FASTA file, plain text or bgzip-compressed (``.gz``/``.bgz``, needs BioPython), with or
            beside its ``.fai`` index.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the FASTA is gzip- rather than bgzip-compressed, is bgzip-compressed but cut short
            (no BGZF end-of-file marker), or is bgzip-compressed under a name not ending in
            ``.gz``/``.bgz``; the message gives the command that fixes it.
        ImportError: the FASTA is bgzip-compressed and BioPython (which pyfaidx uses for BGZF) is
            not installed.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"reference FASTA not found: {self.path}")
        _check_fasta_compression(self.path)
        self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, sequence_always_upper=True)
        self.contigs = list(self._fasta.keys())

    def contig(self, name: str) -> str:
        """This FASTA's spelling of contig ``name`` (see :func:`resolve_contig`)."""
        return resolve_contig(name, self.contigs, source=f"reference FASTA {self.path}")

    def contig_length(self, name: str) -> int:
        """Length in bp of contig ``name`` (any alias)."""
        return len(self._fasta[self.contig(name)])

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Uppercase sequence of ``[start, end)`` (0-based half-open), ``N``-padded off the contig.

        Returns a string of exactly ``end - start`` characters.

        Raises:
            ValueError: ``end < start``.
            KeyError: unknown contig.
        """
        if end < start:
            raise ValueError(f"window end {end} is before its start {start}")
        contig = self.contig(chrom)
        length = len(self._fasta[contig])
        lo = min(max(start, 0), end)  # clamped into [start, end] so windows wholly off the contig work
        hi = max(min(end, length), lo)
        inner = self._fasta[contig][lo:hi] if hi > lo else ""
        return "N" * (lo - start) + inner + "N" * (end - hi)

    def codes(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Base codes (uint8, shape ``(end - start,)``, 0-3 = ``A,C,G,T``, 4 = ``N``) of a window."""
        return encode_bases(self.fetch(chrom, start, end))

    def one_hot(self, chrom: str, start: int, end: int) -> np.ndarray:
        """One-hot window: uint8 of shape ``(end - start, 4)``, channels ``A,C,G,T``, ``N`` = zeros."""
        return codes_to_one_hot(self.codes(chrom, start, end))
