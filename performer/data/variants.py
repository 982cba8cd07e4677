"""Biallelic SNVs and their ALT dosages from an indexed VCF/BCF, read with cyvcf2.

Coordinates: VCF ``POS`` is 1-based; everything returned here is 0-based (``pos = POS - 1``) and
regions are 0-based half-open ``[start, end)``.

Only biallelic SNVs are kept. Every other record in a queried region is skipped and counted by
reason in :attr:`SNVs.skipped`:

===============  ==============================================================================
``indel``        REF and ALT of different lengths
``mnp``          multi-nucleotide substitution (REF and ALT of equal length > 1)
``multiallelic`` more than one ALT allele (split them with ``bcftools norm -m-`` to keep them)
``symbolic``     symbolic or breakend ALT (``<DEL>``, ``N[chr1:1[``, ``*``)
``monomorphic``  no ALT allele (``.``)
``non_acgt``     REF or ALT is not one of A, C, G, T
``filtered``     FILTER is not PASS/``.`` (only when ``pass_only=True``)
``ref_mismatch`` REF differs from the FASTA (only when ``strict=False``; otherwise an error)
===============  ==============================================================================

Dosage (ALT copies on the diploid scale, 0, 1 or 2) of one genotype call:

* diploid call (``0|1``, ``1/1``): the number of ALT alleles.
* haploid call (``1``, ``0``: chrX/chrY of males, chrM): the person's only copy, so a haploid ALT is
  dosage 2 and a haploid REF dosage 0, and the personal one-hot ALT channel ``d/2`` is 1.0, as for a
  homozygous diploid call. Records may mix haploid and diploid calls. Counted in
  :attr:`SNVs.haploid_calls`.
* a missing allele (``./.``, ``0|.``, ``.``) counts as REF and is counted in
  :attr:`SNVs.missing_calls` (``missing="ref"``), or raises (``missing="error"``).
* more than two alleles (polyploid), or an allele index above 1 in a biallelic record, raises.

Records at one position: two SNVs with different ALTs (a split multi-allelic site, ``A>C`` and
``A>G``) are kept; the same SNV listed twice, SNVs with different REF alleles, or a person whose ALT
dosages at one position sum to more than 2 raise :class:`VCFError`. So the personal one-hot built from
a returned table (REF channel ``1 - sum(d)/2``, each ALT channel ``d/2``) stays within [0, 1].

File checks, each a :class:`VCFError` (or ``FileNotFoundError``) naming the file and the fix:
gzip- instead of bgzip-compressed, missing BGZF end-of-file marker (a file cut short), no index,
an unreadable header or duplicated sample names, no samples, no ``GT`` FORMAT field, and a contig
without records (per-chromosome files, other contig names). htslib reports read errors during a
region query (a corrupt block, a CRC mismatch) only on stderr, and cyvcf2 then ends the query as
if the region were complete; :meth:`VariantReader.fetch` watches stderr and raises on them.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import struct
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cyvcf2
import numpy as np

from performer.data.reference import ReferenceGenome, compression, contig_aliases, encode_bases, has_bgzf_eof

log = logging.getLogger(__name__)

MISSING_POLICIES = ("ref", "error")
NO_ALLELE = -2
"""Fill value of ``Genotypes.array`` for the absent second allele of a haploid call."""
MISSING_ALLELE = -1
"""Allele value of a missing allele (``.``) in ``Genotypes.array``."""


class VCFError(ValueError):
    """A VCF/BCF that cannot be read correctly; the message names the file, the record and the fix."""


@dataclass
class SNVs:
    """Biallelic SNVs of one region and the ALT dosage of each requested person.

    Attributes:
        chrom: contig as spelled in the VCF.
        pos: int64 ``(n_snvs,)``, 0-based positions, sorted as in the VCF.
        ref: uint8 ``(n_snvs,)``, REF base codes 0-3 (``A,C,G,T``).
        alt: uint8 ``(n_snvs,)``, ALT base codes 0-3.
        ids: VCF ``ID`` of each SNV (``chrom:POS:REF:ALT`` where the ID is ``.``).
        dosage: int8 ``(n_people, n_snvs)``, ALT copies 0/1/2 in each person (haploid ALT = 2).
        samples: VCF sample names, one per dosage row.
        skipped: records skipped in the region, counted by reason (see the module docstring).
        missing_calls: genotype calls with a missing allele, counted as REF (``missing="ref"``).
        haploid_calls: genotype calls with a single allele (``0``, ``1``, ``.``), read as dosage 0/2.
        missing_per_snv, haploid_per_snv: int32 ``(n_snvs,)``, the same two counts per SNV (None when
            not recorded), so that windows that overlap can be counted once per SNV.
        skipped_pos: 0-based positions of the skipped records, by reason.
    """

    chrom: str
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    ids: list[str]
    dosage: np.ndarray
    samples: list[str]
    skipped: Counter = field(default_factory=Counter)
    missing_calls: int = 0
    haploid_calls: int = 0
    missing_per_snv: np.ndarray | None = None
    haploid_per_snv: np.ndarray | None = None
    skipped_pos: dict[str, list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pos)

    def subset(self, keep: np.ndarray) -> SNVs:
        """The SNVs at indices ``keep`` (int array), with the same people, skip, missing and haploid counts."""
        return SNVs(
            chrom=self.chrom,
            pos=self.pos[keep],
            ref=self.ref[keep],
            alt=self.alt[keep],
            ids=[self.ids[i] for i in keep],
            dosage=self.dosage[:, keep],
            samples=self.samples,
            skipped=self.skipped,
            missing_calls=self.missing_calls,
            haploid_calls=self.haploid_calls,
            missing_per_snv=None if self.missing_per_snv is None else self.missing_per_snv[keep],
            haploid_per_snv=None if self.haploid_per_snv is None else self.haploid_per_snv[keep],
            skipped_pos=self.skipped_pos,
        )

    def allele_frequency(self) -> np.ndarray:
        """ALT allele frequency in the dosage rows: float64 ``(n_snvs,)``."""
        return self.dosage.mean(axis=0, dtype=np.float64) / 2.0


def _skip_reason(record: cyvcf2.Variant, pass_only: bool) -> str | None:
    alts = record.ALT
    if not alts:
        return "monomorphic"
    if len(alts) > 1:
        return "multiallelic"
    ref, alt = record.REF, alts[0]
    if alt.startswith("<") or "[" in alt or "]" in alt or alt == "*":
        return "symbolic"
    if len(ref) != len(alt):
        return "indel"
    if len(ref) > 1:
        return "mnp"
    if ref.upper() not in "ACGT" or alt.upper() not in "ACGT":
        return "non_acgt"
    if pass_only and record.FILTER not in (None, "PASS", "."):
        return "filtered"
    return None


@contextlib.contextmanager
def _stderr_lines() -> Iterator[list[str]]:
    """Collect what is written to file descriptor 2 (htslib's log) inside the block.

    Yields a list that is filled, after the block, with the captured lines; the text is also passed
    on to the real stderr so that no message (warnings included) is lost.
    """
    sys.stderr.flush()
    lines: list[str] = []
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                capture.seek(0)
                text = capture.read()
                if text:
                    os.write(2, text)
                lines.extend(text.decode(errors="replace").splitlines())
    finally:
        os.close(saved)


def header_sample_names(path: str | Path) -> list[str]:
    """Sample names of the ``#CHROM`` line of a VCF (plain, gzip or BGZF) or BCF, read without htslib.

    Used to explain headers that htslib refuses (duplicated names). Returns ``[]`` when there is no
    ``#CHROM`` line.
    """
    opener = open if compression(path) == "none" else gzip.open
    with opener(path, "rb") as handle:
        if handle.read(3) == b"BCF":  # magic "BCF\2\2", uint32 header length, header text
            handle.read(2)
            (length,) = struct.unpack("<I", handle.read(4))
            lines = handle.read(length).decode(errors="replace").split("\n")
        else:
            handle.seek(0)
            lines = (line.decode(errors="replace") for line in handle)
        for line in lines:
            if line.startswith("#CHROM"):
                return line.rstrip("\r\n\0").split("\t")[9:]
            if not line.startswith("#"):
                break
    return []


class VariantReader:
    """Region reads of biallelic SNVs and dosages from a bgzipped, indexed VCF or a BCF.

    Args:
        path: ``.vcf.gz`` with a ``.tbi``/``.csi`` index, or ``.bcf`` with a ``.csi`` index.
        reference: if given, every SNV's REF is checked against it.
        strict: REF mismatches raise (True) or are skipped and counted (False).
        pass_only: skip records whose FILTER is not PASS or ``.``.
        missing: ``"ref"`` counts a missing allele (``./.``, ``0|.``) as REF and counts it in
            :attr:`SNVs.missing_calls`; ``"error"`` raises on the first one.
        samples: decode only these samples (htslib then parses only their genotype columns, about
            twice as fast on a 1,092-sample VCF); :meth:`fetch` can ask for any of them, in any order.
            Default: all samples of the VCF.

    Attributes:
        samples: the samples this reader decodes (``samples`` as given, else the VCF's, in file order).
        vcf_samples: every sample of the VCF, in file order.
        contigs: contigs of the VCF header (or of its index when the header declares none).

    Raises:
        FileNotFoundError: the VCF or its index is missing (the message gives the ``tabix`` or
            ``bcftools index`` command that makes one).
        VCFError: the file is gzip- rather than bgzip-compressed, is cut short (no BGZF end-of-file
            marker), has an unreadable header or repeated sample names, has no samples or no ``GT``
            FORMAT field.
        KeyError: a sample of ``samples`` is not in the VCF.
        ValueError: ``missing`` is not one of ``"ref"``, ``"error"``, or ``samples`` is empty.
    """

    def __init__(
        self,
        path: str | Path,
        reference: ReferenceGenome | None = None,
        strict: bool = True,
        pass_only: bool = True,
        missing: str = "ref",
        samples: list[str] | None = None,
    ):
        self.path = Path(path)
        if missing not in MISSING_POLICIES:
            raise ValueError(f"missing={missing!r}: choose one of {MISSING_POLICIES}")
        self._check_file()
        self.reference = reference
        self.strict = strict
        self.pass_only = pass_only
        self.missing = missing

        header = self._open()
        self.vcf_samples: list[str] = list(header.samples)
        self.contigs: list[str] = list(header.seqnames)
        self._check_header(header)
        if samples is None:
            self.samples = self.vcf_samples
            self._vcf = header
        else:
            self.samples = list(dict.fromkeys(samples))
            if not self.samples:
                raise ValueError(f"samples=[] for VCF {self.path}: pass None to read every sample")
            absent = sorted(set(self.samples) - set(self.vcf_samples))
            if absent:
                raise KeyError(f"{len(absent)} requested samples are not in VCF {self.path}, e.g. {absent[:5]}")
            header.close()
            self._vcf = cyvcf2.VCF(str(self.path), lazy=True, samples=self.samples)
        decoded = list(self._vcf.samples)  # VCF order, also for a subset
        if sorted(decoded) != sorted(self.samples):
            raise VCFError(f"htslib decoded samples {decoded[:5]}... of {self.path}, not the requested ones")
        self._decoded = decoded
        self._column = {s: i for i, s in enumerate(decoded)}
        self._has_records: dict[str, bool] = {}

    def _check_file(self) -> None:
        if not self.path.exists():
            raise FileNotFoundError(f"VCF not found: {self.path}")
        kind = compression(self.path)
        if kind == "gzip":
            raise VCFError(
                f"VCF {self.path} is compressed with gzip, not bgzip, so it cannot be indexed or read by region: "
                f"recompress it (`gunzip -c {self.path} | bgzip > calls.vcf.gz`) and index it (`tabix -p vcf "
                "calls.vcf.gz`)"
            )
        if kind == "bgzf" and not has_bgzf_eof(self.path):
            raise VCFError(
                f"VCF {self.path} is truncated: it lacks the BGZF end-of-file marker, so records past the cut "
                "would be silently missing (an interrupted download or copy?). Download or write it again "
                "(bgzip, `bcftools view -Oz`/`-Ob`) and rebuild its index (tabix -p vcf / bcftools index)"
            )
        if not any(Path(f"{self.path}{ext}").exists() for ext in (".tbi", ".csi")):
            compress = f"compress it with `bgzip {self.path}`, then " if kind == "none" else ""
            raise FileNotFoundError(
                f"VCF {self.path} has no index (.tbi or .csi) beside it; region reads need one: {compress}"
                f"run `tabix -p vcf {self.path}{'.gz' if kind == 'none' else ''}` (bgzipped VCF) or "
                f"`bcftools index {self.path}` (BCF)"
            )

    def _open(self) -> cyvcf2.VCF:
        try:
            return cyvcf2.VCF(str(self.path), lazy=True)
        except Exception as error:  # cyvcf2 raises a bare Exception("cannot parse VCF header")
            names = header_sample_names(self.path)
            repeated = [name for name, n in Counter(names).items() if n > 1]
            if repeated:
                raise VCFError(
                    f"VCF {self.path} lists sample name(s) {repeated[:10]} more than once in its #CHROM line, "
                    "which htslib refuses: give every sample column a unique name (`bcftools reheader -s "
                    "new_names.txt`) or drop the repeated columns"
                ) from error
            raise VCFError(
                f"cannot read the header of VCF {self.path} ({error}); check it with `bcftools view -h {self.path}`"
            ) from error

    def _check_header(self, header: cyvcf2.VCF) -> None:
        if not self.vcf_samples:
            raise VCFError(
                f"VCF {self.path} has no sample columns (a sites-only VCF); personal sequences need each "
                "person's genotypes (GT)"
            )
        if not any(h.type == "FORMAT" and h.info().get("ID") == "GT" for h in header.header_iter()):
            raise VCFError(
                f"VCF {self.path} has no GT FORMAT field in its header, so it holds no genotypes to read; use "
                "the genotype VCF of the cohort (if its records do carry GT, declare it: `bcftools annotate -h` "
                'with the line ##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">)'
            )

    def sample_indices(self, samples: list[str] | None) -> np.ndarray:
        """Columns (int64) of ``samples`` in the genotype arrays this reader decodes; all when None.

        Raises:
            KeyError: a sample is not decoded by this reader (the message lists a few and says
                whether they are in the VCF at all).
        """
        if samples is None:
            samples = self.samples
        absent = [s for s in samples if s not in self._column]
        if absent:
            in_vcf = [s for s in absent if s in set(self.vcf_samples)]
            hint = (
                f"; {in_vcf[:5]} are in the VCF but not among the samples this reader was opened with" if in_vcf else ""
            )
            raise KeyError(f"{len(absent)} requested samples are not in VCF {self.path}, e.g. {absent[:5]}{hint}")
        return np.array([self._column[s] for s in samples], dtype=np.int64)

    def fetch(self, chrom: str, start: int, end: int, samples: list[str] | None = None) -> SNVs:
        """Biallelic SNVs with 0-based position in ``[start, end)`` and their dosages.

        Args:
            chrom: contig name, any alias (``22`` or ``chr22``).
            start, end: 0-based half-open region, in bp.
            samples: sample names for the dosage rows, in this order (default: :attr:`samples`).

        Returns:
            :class:`SNVs` with ``dosage`` of shape ``(len(samples), n_snvs)``.

        Raises:
            KeyError: a sample is not decoded by this reader.
            VCFError: the contig has no records in the VCF; htslib reported a read error (corrupt
                file); a record cannot be parsed or has no GT; a polyploid call or an allele index
                above 1; the same SNV twice, different REF alleles at one position, or ALT dosages of
                one person summing to more than 2 at one position.
            ValueError: REF differs from the reference FASTA and ``strict=True`` (the message
                lists the first mismatching positions), or a missing call with ``missing="error"``.
        """
        columns = self.sample_indices(samples)
        sample_names = list(self.samples if samples is None else samples)
        snvs = self._read_checked(
            chrom, start, end, lambda contig: self._read(contig, start, end, columns, sample_names)
        )
        if self.reference is not None and len(snvs):
            snvs = self._check_ref(snvs, start, end)
        self._check_shared_positions(snvs)
        return snvs

    def _read_checked(self, chrom: str, start: int, end: int, read):
        """``read(contig)`` for ``chrom``'s VCF spelling, watching htslib's log: its read errors raise.

        Raises:
            VCFError: the contig has no records, or htslib reported a read error (a corrupt file).
        """
        with _stderr_lines() as htslib_log:
            contig = self._contig(chrom)
            out = read(contig)
        errors = [line for line in htslib_log if line.startswith("[E::")]
        if errors:
            raise VCFError(
                f"htslib could not read VCF {self.path} in {contig}:{max(start, 0) + 1}-{end} "
                f"({'; '.join(errors[:3])}): the file is corrupt. Download it again (or recompress it with bgzip) "
                "and rebuild its index (tabix -p vcf / bcftools index)"
            )
        return out

    def _records(self, region: str) -> Iterator[cyvcf2.Variant]:
        """cyvcf2's region iterator, with its bare parse exceptions turned into :class:`VCFError`."""
        records = self._vcf(region)
        while True:
            try:
                record = next(records)
            except StopIteration:
                return
            except Exception as error:  # cyvcf2 raises a bare Exception("error parsing")
                raise VCFError(
                    f"cannot parse a record of VCF {self.path} in {region} ({error}); check it with "
                    f"`bcftools view {self.path} {region}`"
                ) from error
            yield record

    def _contains_records(self, contig: str) -> bool:
        if contig not in self._has_records:
            with warnings.catch_warnings():  # cyvcf2 warns "no intervals found" for contigs without records
                warnings.simplefilter("ignore")
                self._has_records[contig] = next(self._vcf(contig), None) is not None
        return self._has_records[contig]

    def _contig(self, chrom: str) -> str:
        """The VCF's spelling of ``chrom`` (``22`` == ``chr22``), which must have records."""
        declared = set(self.contigs)
        for candidate in contig_aliases(chrom):
            if candidate in declared and self._contains_records(candidate):
                return candidate
        with_records = [c for c in self.contigs if self._contains_records(c)]
        if any(c in declared for c in contig_aliases(chrom)):
            where = f"is declared in the header of VCF {self.path} but has no records"
        else:
            where = f"is not in VCF {self.path}"
        raise VCFError(
            f"contig {chrom!r} {where} (contigs with records: {', '.join(with_records[:10])}"
            f"{', ...' if len(with_records) > 10 else ''}), so every person would get the reference sequence. "
            "If this chromosome's genotypes are in another file (per-chromosome VCFs), use that file or join them "
            "(`bcftools concat`); if contig names differ (e.g. NC_000022.10 vs 22), rename them with "
            "`bcftools annotate --rename-chrs`; otherwise drop the genes on this contig"
        )

    def _read(self, contig: str, start: int, end: int, columns: np.ndarray, sample_names: list[str]) -> SNVs:
        skipped: Counter = Counter()
        skipped_pos: dict[str, list[int]] = {}
        pos, ref, alt, ids, calls = [], [], [], [], []
        empty = end <= max(start, 0)  # a window wholly before the contig start, or of length 0
        for record in () if empty else self._records(f"{contig}:{max(start, 0) + 1}-{end}"):
            p = record.POS - 1
            if not start <= p < end:  # records overlapping the region but starting outside it
                continue
            reason = _skip_reason(record, self.pass_only)
            if reason is not None:
                skipped[reason] += 1
                skipped_pos.setdefault(reason, []).append(p)
                continue
            calls.append(self._alleles(record))
            pos.append(p)
            ref.append(record.REF.upper())
            alt.append(record.ALT[0].upper())
            ids.append(record.ID or f"{contig}:{record.POS}:{record.REF}:{record.ALT[0]}")
        if calls:
            where = [f"{contig}:{p + 1} ({r}>{a}) of VCF {self.path}" for p, r, a in zip(pos, ref, alt)]
            dosage, missing, haploid = self._dosages(calls, columns, where)
        else:
            dosage, missing, haploid = (
                np.zeros((len(columns), 0), np.int8),
                np.zeros(0, np.int32),
                np.zeros(0, np.int32),
            )
        return SNVs(
            chrom=contig,
            pos=np.array(pos, dtype=np.int64),
            ref=encode_bases("".join(ref)),
            alt=encode_bases("".join(alt)),
            ids=ids,
            dosage=dosage,
            samples=sample_names,
            skipped=skipped,
            missing_calls=int(missing.sum()),
            haploid_calls=int(haploid.sum()),
            missing_per_snv=missing,
            haploid_per_snv=haploid,
            skipped_pos=skipped_pos,
        )

    def _alleles(self, record: cyvcf2.Variant) -> np.ndarray:
        """The allele indices of one record's calls: int ``(n_decoded, ploidy)``, :data:`NO_ALLELE` where absent.

        cyvcf2's ``genotype.array()`` is ``(n_decoded, ploidy + 1)``: the alleles, then a 0/1 phase flag.
        Only the first ``ploidy`` columns are alleles: for an all-haploid record (ploidy 1) the flag is
        read from the neighbouring call (or past the buffer for the last one), so it must never be read
        as an allele.
        """
        try:
            genotype = record.genotype
        except Exception as error:  # cyvcf2: "couldn't get genotypes for variant"
            raise VCFError(
                f"record {self._where(record)} has no GT (genotype) values; every record needs them"
            ) from error
        return genotype.array(fill=NO_ALLELE)[:, : genotype.ploidy]

    def _dosages(
        self, calls: list[np.ndarray], columns: np.ndarray, where: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ALT dosages of a window's biallelic records for the requested people, decoded all at once.

        Args:
            calls: per record, the allele indices of :meth:`_alleles`.
            columns: the requested people's columns among the decoded samples.
            where: per record, its description for error messages.

        Returns:
            int8 dosages ``(len(columns), n_records)`` (see the module docstring), and per record the
            int32 counts of calls with a missing allele and of haploid calls among the requested people.

        Raises:
            VCFError: a call with more than two alleles, or an allele index above 1.
            ValueError: a missing allele with ``missing="error"``.
        """
        ploidy = max(c.shape[1] for c in calls)
        if any(c.shape[1] != ploidy for c in calls):  # records of mixed ploidy: pad the absent alleles
            calls = [np.pad(c, ((0, 0), (0, ploidy - c.shape[1])), constant_values=NO_ALLELE) for c in calls]
        alleles = np.stack(calls)  # (n_records, n_decoded, ploidy)
        if not np.array_equal(columns, np.arange(alleles.shape[1])):
            alleles = alleles[:, columns]
        n_records = len(calls)
        if ploidy == 2 and alleles.min() >= 0 and alleles.max() <= 1:  # complete diploid calls: the common case
            dosage = (alleles[:, :, 0] + alleles[:, :, 1]).astype(np.int8).T
            return np.ascontiguousarray(dosage), np.zeros(n_records, np.int32), np.zeros(n_records, np.int32)
        # elementwise over the few allele columns: numpy's reductions over a last axis of length 2 are slow
        by_allele = [alleles[:, :, k] for k in range(ploidy)]
        n_alleles = sum((a != NO_ALLELE).astype(np.int8) for a in by_allele)
        n_alt = sum((a == 1).astype(np.int8) for a in by_allele)
        missing = np.logical_or.reduce([a == MISSING_ALLELE for a in by_allele])

        def first(mask: np.ndarray) -> tuple[str, str, int]:
            """The first offending call of ``mask`` ``(n_records, n_people)``: its record, sample and largest allele."""
            record, person = np.argwhere(mask)[0]
            return where[record], self._sample(int(columns[person])), int(alleles[record, person].max())

        if (n_alleles > 2).any():
            place, sample, _ = first(n_alleles > 2)
            raise VCFError(
                f"sample {sample} has a call with {ploidy} alleles at {place}; only haploid and diploid calls "
                "are supported"
            )
        if alleles.max() > 1:
            place, sample, index = first(np.logical_or.reduce([a > 1 for a in by_allele]))
            raise VCFError(
                f"sample {sample} has allele index {index} at {place}, which has a single ALT allele; fix the GT "
                "values (`bcftools norm` keeps them consistent)"
            )
        if self.missing == "error" and missing.any():
            place, sample, _ = first(missing)
            raise ValueError(
                f"missing genotype call in {self.path} at {place} (sample {sample}); pass missing=ref to count "
                "missing alleles as REF"
            )
        haploid = n_alleles == 1
        dosage = np.where(haploid, 2 * n_alt, n_alt).astype(np.int8).T
        return np.ascontiguousarray(dosage), missing.sum(axis=1, dtype=np.int32), haploid.sum(axis=1, dtype=np.int32)

    def _where(self, record: cyvcf2.Variant) -> str:
        return f"{record.CHROM}:{record.POS} ({record.REF}>{record.ALT[0]}) of VCF {self.path}"

    def _sample(self, column: int) -> str:
        return self._decoded[column]

    def _check_ref(self, snvs: SNVs, start: int, end: int) -> SNVs:
        fasta = self.reference.codes(snvs.chrom, start, end)[snvs.pos - start]
        bad = np.flatnonzero(fasta != snvs.ref)
        if len(bad) == 0:
            return snvs
        if self.strict:
            shown = ", ".join(
                f"{snvs.chrom}:{snvs.pos[i] + 1} VCF REF {'ACGTN'[snvs.ref[i]]} FASTA {'ACGTN'[fasta[i]]}"
                for i in bad[:5]
            )
            raise ValueError(
                f"REF alleles of {len(bad)} SNVs in {self.path} differ from reference FASTA "
                f"{self.reference.path} ({shown}{', ...' if len(bad) > 5 else ''}). Check that both "
                "use the same genome build, or set strict=false to skip mismatching SNVs"
            )
        snvs.skipped["ref_mismatch"] += len(bad)
        snvs.skipped_pos.setdefault("ref_mismatch", []).extend(snvs.pos[bad].tolist())
        return snvs.subset(np.setdiff1d(np.arange(len(snvs)), bad))

    def _check_shared_positions(self, snvs: SNVs) -> None:
        """Raise on SNVs at one position that no genome can carry together (see the module docstring)."""
        values, inverse, counts = np.unique(snvs.pos, return_inverse=True, return_counts=True)
        for k in np.flatnonzero(counts > 1):
            at = np.flatnonzero(inverse == k)
            where = f"{snvs.chrom}:{values[k] + 1} of VCF {self.path}"
            alleles = [f"{'ACGT'[snvs.ref[i]]}>{'ACGT'[snvs.alt[i]]}" for i in at]
            if len(set(snvs.ref[at])) > 1:
                raise VCFError(
                    f"SNVs with different REF alleles ({', '.join(alleles)}) at {where}; at most one can match "
                    "the reference: check the file (`bcftools norm --check-ref e -f reference.fa`)"
                )
            repeated = [a for a, n in Counter(alleles).items() if n > 1]
            if repeated:
                ids = [snvs.ids[i] for i, a in zip(at, alleles) if a == repeated[0]]
                raise VCFError(
                    f"SNV {repeated[0]} is listed {alleles.count(repeated[0])} times at {where} (records "
                    f"{', '.join(ids)}); remove duplicate records with `bcftools norm -d exact`"
                )
            total = snvs.dosage[:, at].sum(axis=1, dtype=np.int64)
            over = np.flatnonzero(total > 2)
            if len(over):
                i = int(over[0])
                raise VCFError(
                    f"sample {snvs.samples[i]} carries {total[i]} ALT copies at {where} ({', '.join(alleles)} "
                    f"with dosages {snvs.dosage[i, at].tolist()}), more than the 2 copies of a genome "
                    f"({len(over)} samples affected); fix the genotypes of this split multi-allelic site"
                )
