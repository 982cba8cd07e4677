"""Personal haplotype sequences with SNVs and indels, TSS-centred, exact against ``bcftools consensus``.

Coordinates: VCF ``POS`` is 1-based; everything here is 0-based half-open. Base codes are uint8
0-3 (``A,C,G,T``) and 4 (``N``, any other symbol, and a literal ``*``).

Records (:class:`HaplotypeReader`): biallelic records of any length (SNVs, MNPs, insertions,
deletions, complex replacements), left-normalised. Multi-allelic records, indels whose REF and ALT
end in the same base (not left-aligned), and REF alleles that differ from the FASTA raise
:class:`~performer.data.variants.VCFError` naming the record and the fix (``bcftools norm -m- -f
ref.fa``). Records skipped and counted in :attr:`Records.skipped`: ``symbolic`` (``<DEL>``, breakends),
``monomorphic`` (ALT ``.``), ``filtered`` (FILTER not PASS/``.``, with ``pass_only=True``).

Genotype rules, per person and record (``alleles[person, haplotype, record]`` is True where the
haplotype carries ALT):

* phased diploid (``0|1``): allele 1 on haplotype 0, allele 2 on haplotype 1 (``bcftools consensus
  -H 1`` / ``-H 2``).
* unphased heterozygous (``0/1``): ``unphased="error"`` (default) raises; ``unphased="first"`` takes the
  alleles in GT order, as ``bcftools consensus -H 1/-H 2`` does, and counts the calls in
  :attr:`Records.unphased_calls`. Unphased homozygous calls (``0/0``, ``1/1``) need no phase.
* haploid (``1``: male chrX/chrY, chrM): the person's one allele on both haplotypes (so the mean of
  the two one-hots is the dosage encoding with a haploid ALT = dosage 2); counted in
  :attr:`Records.haploid_calls`. (``bcftools consensus -H 2`` writes REF for a haploid call.)
* a missing allele (``.``, ``./.``, ``0|.``): REF, counted in :attr:`Records.missing_calls`.
* an ALT ``*`` (the base is removed by an overlapping upstream deletion): never applied, counted in
  :attr:`Records.star_alleles`. (``bcftools consensus`` writes a literal ``*`` when no applied deletion
  covers it.)

Overlapping records (:func:`apply_records`), the rule of ``bcftools consensus`` (its ``apply_variant``,
checked against it on random overlapping records): records are applied in VCF order and the first
applied record wins. A record carried by the haplotype is skipped, and counted, when it starts before
the last REF base of the previous applied record (an SNV inside an applied deletion), or at that last
base unless it is an indel whose REF and ALT share their first base and the previous applied record was
not an insertion. Such an anchored indel keeps the base already there (an SNV's ALT, a deletion's
anchor) and replaces the rest of its REF by the rest of its ALT (an SNV then an insertion at one
position give the SNV's base, then the inserted bases).

TSS-centred windows (:func:`haplotype_codes`): each haplotype is the margin-padded reference with its
records applied; the reference TSS is mapped through the applied edits and the window is cut
``L//2`` bases before and ``L - L//2 - 1`` after it, so the TSS's base is at index ``L//2``. After a
net deletion upstream the window holds more of the haplotype's own upstream sequence, after an
insertion less. A TSS inside a record's REF maps to the base at the same offset in ALT (the first base
for SNVs and anchored indels); a TSS whose base is deleted on a haplotype maps to the next surviving
reference base (the first reference base after the deletion, past bases inserted there), where the
next aligned block of the ``bcftools consensus -c`` chain file places it. Past the contig ends the
window holds ``N`` (all-zero one-hot rows).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import cyvcf2
import numpy as np

from performer.data.reference import ReferenceGenome, codes_to_one_hot, encode_bases
from performer.data.variants import MISSING_ALLELE, NO_ALLELE, SNVs, VariantReader, VCFError

log = logging.getLogger(__name__)

UNPHASED_POLICIES = ("error", "first")
NORM_HINT = "normalise the VCF first: `bcftools norm -m- -f ref.fa in.vcf.gz -Oz -o out.vcf.gz` and index it"


@dataclass
class Records:
    """Biallelic records of one region and which haplotypes of each person carry their ALT.

    Attributes:
        chrom: contig as spelled in the VCF.
        pos: int64 ``(n,)``, 0-based start of each record's REF, in VCF order.
        ref, alt: per record, the REF and ALT codes (uint8 arrays; an ALT ``*`` is ``None``).
        ids: VCF ``ID`` of each record (``chrom:POS:REF:ALT`` where it is ``.``).
        alleles: bool ``(n_people, 2, n)``, True where the haplotype carries ALT (see the module docstring).
        samples: sample names, one per ``alleles`` row.
        skipped: records skipped, counted by reason.
        missing_calls, haploid_calls, unphased_calls: genotype calls read as REF, as haploid, or as unphased
            heterozygous in GT order.
        star_alleles: haplotypes carrying an ALT ``*`` (not applied).
        anchored: bool ``(n,)``, indels whose REF and ALT share their first base (the overlap rule uses it).
        unphased_people: bool ``(n_people,)``, people with an unphased heterozygous call in the region.
    """

    chrom: str
    pos: np.ndarray
    ref: list[np.ndarray]
    alt: list[np.ndarray | None]
    ids: list[str]
    alleles: np.ndarray
    samples: list[str]
    skipped: Counter = field(default_factory=Counter)
    missing_calls: int = 0
    haploid_calls: int = 0
    unphased_calls: int = 0
    star_alleles: int = 0
    anchored: np.ndarray | None = None
    unphased_people: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pos)

    @property
    def end(self) -> np.ndarray:
        """int64 ``(n,)``: 0-based exclusive end of each record's REF."""
        return self.pos + np.array([len(r) for r in self.ref], dtype=np.int64)


def _skip_reason(record: cyvcf2.Variant, pass_only: bool) -> str | None:
    alts = record.ALT
    if not alts:
        return "monomorphic"
    alt = alts[0]
    if alt.startswith("<") or "[" in alt or "]" in alt:
        return "symbolic"
    if pass_only and record.FILTER not in (None, "PASS", "."):
        return "filtered"
    return None


class HaplotypeReader(VariantReader):
    """Region reads of biallelic SNVs and indels with each person's two haplotypes.

    The file checks are those of :class:`~performer.data.variants.VariantReader` (bgzip, index, EOF
    marker, samples, GT, contig names); the record and genotype rules are in the module docstring.

    Args:
        path: ``.vcf.gz`` with a ``.tbi``/``.csi`` index, or ``.bcf`` with a ``.csi`` index.
        reference: the FASTA every REF allele is checked against (required: indels need it).
        pass_only: skip records whose FILTER is not PASS or ``.``.
        unphased: ``"error"`` raises on an unphased heterozygous call; ``"first"`` reads it in GT order.
        samples: decode only these samples (default every sample of the VCF).

    Raises:
        as :class:`~performer.data.variants.VariantReader`; ValueError for an unknown ``unphased``.
    """

    def __init__(
        self,
        path: str | Path,
        reference: ReferenceGenome,
        pass_only: bool = True,
        unphased: str = "error",
        samples: list[str] | None = None,
    ):
        if unphased not in UNPHASED_POLICIES:
            raise ValueError(f"unphased={unphased!r}: choose one of {UNPHASED_POLICIES}")
        super().__init__(path, reference=reference, strict=True, pass_only=pass_only, missing="ref", samples=samples)
        self.unphased = unphased

    def records(self, chrom: str, start: int, end: int, samples: list[str] | None = None) -> Records:
        """Biallelic records whose REF overlaps ``[start, end)`` (0-based half-open) and their haplotypes.

        Records starting before ``start`` are included when their REF reaches into the region.

        Raises:
            KeyError: a sample is not decoded by this reader.
            VCFError: the contig has no records; htslib read errors; a multi-allelic or not left-aligned
                record; REF differs from the FASTA; a polyploid call or an allele index above 1; an unphased
                heterozygous call with ``unphased="error"``.
        """
        columns = self.sample_indices(samples)
        names = list(self.samples if samples is None else samples)
        return self._read_checked(
            chrom, start, end, lambda contig: self._read_records(contig, start, end, columns, names)
        )

    def _read_records(self, contig: str, start: int, end: int, columns: np.ndarray, names: list[str]) -> Records:
        skipped: Counter = Counter()
        pos, ref, alt, ids, calls, phased, anchored = [], [], [], [], [], [], []
        empty = end <= max(start, 0)
        for record in () if empty else self._records(f"{contig}:{max(start, 0) + 1}-{end}"):
            reason = _skip_reason(record, self.pass_only)
            if reason is not None:
                skipped[reason] += 1
                continue
            where = self._where(record)
            if len(record.ALT) > 1:
                raise VCFError(f"multi-allelic record {where}: haplotypes need biallelic records; {NORM_HINT}")
            r, a = record.REF.upper(), record.ALT[0].upper()
            if len(r) != len(a) and a != "*" and r[-1] == a[-1]:
                raise VCFError(f"indel {where} is not left-aligned (REF and ALT end in the same base); {NORM_HINT}")
            p = record.POS - 1
            fasta = self.reference.fetch(contig, p, p + len(r))
            if fasta != r:
                raise VCFError(
                    f"REF {r} of {where} differs from reference FASTA {self.reference.path} ({fasta}): check the "
                    f"genome build, or {NORM_HINT} (with `--check-ref e`)"
                )
            genotype = self._genotype(record)
            calls.append(genotype[:, : genotype.shape[1] - 1])
            phased.append(genotype[:, -1])
            pos.append(p)
            ref.append(encode_bases(r))
            alt.append(None if a == "*" else encode_bases(a))
            anchored.append(len(r) != len(a) and a != "*" and r[0] == a[0])
            ids.append(record.ID or f"{contig}:{record.POS}:{record.REF}:{record.ALT[0]}")
        out = Records(contig, np.array(pos, dtype=np.int64), ref, alt, ids, None, names, skipped)
        out.anchored = np.array(anchored, dtype=bool)
        out.alleles = self._haplotypes(calls, phased, columns, out)
        if skipped:
            log.info("%s:%d-%d of %s: skipped records %s", contig, start + 1, end, self.path, dict(skipped))
        return out

    def _genotype(self, record: cyvcf2.Variant) -> np.ndarray:
        """Alleles then the phase flag, ``(n_decoded, ploidy + 1)``; :data:`NO_ALLELE` for absent alleles."""
        try:
            genotype = record.genotype
        except Exception as error:  # cyvcf2: "couldn't get genotypes for variant"
            raise VCFError(f"record {self._where(record)} has no GT (genotype) values") from error
        array = genotype.array(fill=NO_ALLELE)
        if genotype.ploidy == 1:  # the flag column of an all-haploid record is undefined (docs: known traps)
            array = array[:, :1]
            return np.concatenate([array, np.ones_like(array)], axis=1)
        return array[:, : genotype.ploidy + 1]

    def _haplotypes(self, calls: list, phased: list, columns: np.ndarray, out: Records) -> np.ndarray:
        n = len(calls)
        result = np.zeros((len(columns), 2, n), dtype=bool)
        out.unphased_people = np.zeros(len(columns), dtype=bool)
        for j, (call, flag) in enumerate(zip(calls, phased)):
            call, flag = call[columns], flag[columns]
            if call.shape[1] > 2 and (call[:, 2:] != NO_ALLELE).any():
                person = int(np.flatnonzero((call[:, 2:] != NO_ALLELE).any(axis=1))[0])
                raise VCFError(
                    f"sample {out.samples[person]} has a polyploid call at record {out.ids[j]} of {self.path}; only "
                    "haploid and diploid calls are supported"
                )
            if call.max(initial=0) > 1:
                person = int(np.flatnonzero(call.max(axis=1) > 1)[0])
                raise VCFError(
                    f"sample {out.samples[person]} has an allele index above 1 at record {out.ids[j]} of "
                    f"{self.path}, which has one ALT allele; {NORM_HINT}"
                )
            first = call[:, 0]
            second = call[:, 1] if call.shape[1] > 1 else np.full_like(first, NO_ALLELE)
            haploid = (second == NO_ALLELE) & (first != NO_ALLELE)
            second = np.where(haploid, first, second)
            missing = (first == MISSING_ALLELE) | (second == MISSING_ALLELE) | (first == NO_ALLELE)
            het = ~haploid & (first >= 0) & (second >= 0) & (first != second) & (flag == 0)
            if het.any():
                if self.unphased == "error":
                    person = int(np.flatnonzero(het)[0])
                    raise VCFError(
                        f"sample {out.samples[person]} has an unphased heterozygous call at record {out.ids[j]} of "
                        f"{self.path} ({int(het.sum())} such calls there): phase the VCF (e.g. SHAPEIT, Beagle), "
                        "pass unphased='first' to read alleles in GT order as `bcftools consensus -H 1/2` does, or "
                        "use dosage_consensus_codes for unphased data"
                    )
                out.unphased_calls += int(het.sum())
                out.unphased_people |= het
            out.haploid_calls += int(haploid.sum())
            out.missing_calls += int(missing.sum())
            result[:, 0, j] = first == 1
            result[:, 1, j] = second == 1
            if out.alt[j] is None:
                out.star_alleles += int(result[:, :, j].sum())
                result[:, :, j] = False
        return result


def apply_records(
    ref_codes: np.ndarray, start: int, records: Records, carried: np.ndarray, tss: int, with_origin: bool = False
) -> tuple[np.ndarray, int, int, np.ndarray | None]:
    """One haplotype: the reference ``[start, start + len(ref_codes))`` with the carried records applied.

    Args:
        ref_codes: uint8 ``(n_bp,)`` reference codes from ``start`` (0-based); every record's REF must lie inside.
        start: 0-based coordinate of ``ref_codes[0]``.
        records: the region's records, in VCF order.
        carried: bool ``(len(records),)``, True where this haplotype carries the ALT.
        tss: 0-based reference coordinate to map (inside the region).
        with_origin: also return each base's reference coordinate (else ``origin`` is None).

    Returns:
        ``(codes, index, n_overlaps, origin)``: uint8 haplotype codes, the index of the mapped ``tss`` in
        them (module docstring: same offset in ALT, else the next surviving reference base), the number
        of carried records skipped by the overlap rule (module docstring; that of ``bcftools consensus``)
        and int64 ``origin`` (same length as ``codes``): the reference coordinate of each base, -1 for
        inserted bases. ALT base ``k`` of a record at ``p`` comes from ``p + k`` while ``k < len(REF)``
        (substituted or anchor bases), later ALT bases are inserted.
    """
    pieces: list[np.ndarray] = []
    spans: list[tuple[int, int, int]] = []  # per piece: first reference coordinate, bases from it, inserted bases
    length = 0
    cursor = start  # next reference coordinate to copy
    last = start - 1  # last REF base of the previous applied record
    prev_insertion = False
    mapped = -1
    overlaps = 0
    for j in np.flatnonzero(carried):
        p = int(records.pos[j])
        ref, alt = records.ref[j], records.alt[j]
        insertion = len(alt) > len(ref)
        if p < last or (p == last and (not records.anchored[j] or prev_insertion)):
            overlaps += 1
            continue
        if p == last:  # an anchored indel on the previous record's last base: keep that base, apply the rest
            if mapped < 0 and tss < p + len(ref):
                if tss - p < len(alt):
                    mapped = length + (tss - p - 1)
                else:
                    tss = p + len(ref)
            pieces.append(alt[1:])
            kept = max(min(len(alt), len(ref)) - 1, 0)
            spans.append((p + 1, kept, len(alt) - 1 - kept))
            length += len(alt) - 1
            cursor = p + len(ref)
        else:
            if mapped < 0 and tss < p:
                mapped = length + (tss - cursor)
            pieces.append(ref_codes[cursor - start : p - start])
            spans.append((cursor, p - cursor, 0))
            length += p - cursor
            if mapped < 0 and tss < p + len(ref):
                if tss - p < len(alt):
                    mapped = length + (tss - p)
                else:  # a deleted base: follow the next reference base, past any insertion anchored here
                    tss = p + len(ref)
            pieces.append(alt)
            kept = min(len(alt), len(ref))
            spans.append((p, kept, len(alt) - kept))
            length += len(alt)
            cursor = p + len(ref)
        last = p + len(ref) - 1
        prev_insertion = insertion
    if mapped < 0:
        mapped = length + (tss - cursor)
    pieces.append(ref_codes[cursor - start :])
    spans.append((cursor, start + len(ref_codes) - cursor, 0))
    origin = _origin(np.array(spans, dtype=np.int64).reshape(-1, 3)) if with_origin else None
    return np.concatenate(pieces) if len(pieces) > 1 else ref_codes.copy(), mapped, overlaps, origin


ENCODINGS = ("haplotypes", "consensus", "dosage")
"""What :meth:`HaplotypeWindow.sequences` builds per person (module docstring, "Encodings")."""


KINDS = ("SNV", "indel", "MNP")
"""Kinds of variant: single-base substitution; REF and ALT of different lengths (insertion, deletion,
complex replacement); multi-base substitution of equal lengths."""


def variant_kind(ref_length: int, alt_length: int) -> str:
    """``SNV`` (1 and 1 bp), ``MNP`` (equal lengths above 1) or ``indel`` (different lengths)."""
    if ref_length != alt_length:
        return "indel"
    return "SNV" if ref_length == 1 else "MNP"


def _subset_records(records: Records, keep: np.ndarray) -> Records:
    """The records at indices ``keep`` (int array), same people and counts."""
    return replace(
        records,
        pos=records.pos[keep],
        ref=[records.ref[j] for j in keep],
        alt=[records.alt[j] for j in keep],
        ids=[records.ids[j] for j in keep],
        alleles=records.alleles[:, :, keep],
        anchored=records.anchored[keep],
    )


@dataclass
class HaplotypeWindow:
    """A TSS-centred window for a set of people with every record needed to build their sequences.

    Attributes:
        chrom: contig as spelled in the reference FASTA.
        start, end: the 0-based half-open reference window; the TSS is ``start + (end - start) // 2``.
        ref_start: 0-based coordinate of ``ref_codes[0]``.
        ref_codes: uint8 ``(n_bp,)`` reference codes around the window: they hold every record's REF and
            enough flanking sequence for each sequence's window after its net deletions.
        records: the records of ``ref_codes``'s region, with ``alleles`` rows for the window's people.
        skipped_overlaps: carried records skipped by the overlap rule over every person's two sequences,
            by encoding, where known (the window cache counts them); :meth:`overlaps` computes them.

    The window duck-types :class:`~performer.data.personal.PersonalWindow` for code that reads the
    reference and the SNVs (``codes``, ``offsets``, ``snvs``); personal inputs come from
    :meth:`sequences` (uint8 codes), not from a float one-hot.
    """

    chrom: str
    start: int
    end: int
    ref_start: int
    ref_codes: np.ndarray
    records: Records
    skipped_overlaps: dict[str, int] | None = None

    @property
    def length(self) -> int:
        """Window length ``L`` in bp."""
        return self.end - self.start

    @property
    def tss(self) -> int:
        """0-based reference TSS: ``start + L // 2``."""
        return self.start + self.length // 2

    @property
    def codes(self) -> np.ndarray:
        """uint8 ``(L,)``: reference codes of ``[start, end)``."""
        return self.ref_codes[self.start - self.ref_start : self.end - self.ref_start]

    def inside(self) -> np.ndarray:
        """bool ``(n_records,)``: records starting inside ``[start, end)`` (the window's own variants)."""
        return (self.records.pos >= self.start) & (self.records.pos < self.end)

    def dosage(self) -> np.ndarray:
        """int8 ``(n_people, n_records)``: ALT copies 0/1/2 of each record (haploid ALT = 2, ``*`` = 0).

        Computed once per window and kept (ISM, drivers, the elastic net and the SNV view all read it).
        """
        if "_dosage" not in self.__dict__:
            self.__dict__["_dosage"] = self.records.alleles.sum(axis=1, dtype=np.int8)
        return self.__dict__["_dosage"]

    def variants(self) -> np.ndarray:
        """int64 indices into ``records`` of the window's own variants: records starting inside
        ``[start, end)`` with an ALT other than ``*`` (SNVs, indels, MNPs), in VCF order."""
        real = np.array([a is not None for a in self.records.alt], dtype=bool).reshape(-1)
        return np.flatnonzero(self.inside() & real).astype(np.int64)

    @cached_property
    def snvs(self) -> SNVs:
        """The window's single-base records as :class:`~performer.data.variants.SNVs` (indels counted in
        ``skipped["indel"]``, multi-base substitutions in ``skipped["mnp"]``, ALT ``*`` in ``skipped["star"]``),
        dosages from the haplotypes."""
        records = self.records
        lengths = np.array([(len(r), -1 if a is None else len(a)) for r, a in zip(records.ref, records.alt)])
        lengths = lengths.reshape(-1, 2)
        inside = self.inside()
        single = inside & (lengths[:, 0] == 1) & (lengths[:, 1] == 1)
        keep = np.flatnonzero(single)
        skipped = Counter(records.skipped)
        skipped["indel"] += int((inside & (lengths[:, 1] >= 0) & (lengths[:, 0] != lengths[:, 1])).sum())
        skipped["star"] += int((inside & (lengths[:, 1] < 0)).sum())
        skipped["mnp"] += int((inside & (lengths[:, 0] == lengths[:, 1]) & (lengths[:, 0] > 1)).sum())
        return SNVs(
            chrom=records.chrom,
            pos=records.pos[keep],
            ref=np.array([records.ref[j][0] for j in keep], dtype=np.uint8),
            alt=np.array([records.alt[j][0] for j in keep], dtype=np.uint8),
            ids=[records.ids[j] for j in keep],
            dosage=self.dosage()[:, keep],
            samples=records.samples,
            skipped=+skipped,
            missing_calls=records.missing_calls,
            haploid_calls=records.haploid_calls,
        )

    @property
    def offsets(self) -> np.ndarray:
        """int64 ``(n_snvs,)``: positions of :attr:`snvs` relative to ``start``."""
        return self.snvs.pos - self.start

    def snv_only(self) -> HaplotypeWindow:
        """The same window with its single-base records only (phased SNV haplotypes)."""
        keep = np.flatnonzero(
            [len(r) == 1 and a is not None and len(a) == 1 for r, a in zip(self.records.ref, self.records.alt)]
        )
        records = _subset_records(self.records, keep)
        return HaplotypeWindow(self.chrom, self.start, self.end, self.ref_start, self.ref_codes, records)

    def carried(self, rows: np.ndarray | None = None, encoding: str = "haplotypes") -> np.ndarray:
        """bool ``(n, 2, n_records)``: the records each sequence of each selected person carries.

        ``haplotypes``: haplotype 1 and 2. ``consensus``: the paper's pair, homozygous-ALT records, then
        heterozygous and homozygous-ALT ones (phase ignored). ``dosage``: the two haplotypes of a person
        whose calls in the window are phased, the consensus pair of a person with an unphased
        heterozygous call there.

        Raises:
            ValueError: an unknown ``encoding``.
        """
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding={encoding!r}: choose one of {ENCODINGS}")
        alleles = self.records.alleles if rows is None else self.records.alleles[rows]
        alleles = np.asarray(alleles, dtype=bool)
        if encoding == "haplotypes":
            return alleles
        consensus = np.stack([alleles[:, 0] & alleles[:, 1], alleles[:, 0] | alleles[:, 1]], axis=1)
        if encoding == "consensus":
            return consensus
        unphased = self.records.unphased_people if rows is None else self.records.unphased_people[rows]
        return np.where(np.asarray(unphased)[:, None, None], consensus, alleles)

    def sequences(self, rows: np.ndarray | None = None, encoding: str = "haplotypes") -> np.ndarray:
        """Each selected person's two TSS-centred sequences: uint8 ``(n, 2, L)``, codes 0-4.

        Args:
            rows: indices into ``records.alleles`` rows (default: every person).
            encoding: which two sequences (:meth:`carried`).

        The TSS's (mapped) base is at index ``L // 2`` of every sequence (module docstring). People
        carrying the same records share one build.

        Raises:
            ValueError: an unknown ``encoding``.
        """
        return self._cut(self.carried(rows, encoding))[0]

    def reference_with(self, carried: np.ndarray) -> np.ndarray:
        """The reference window with some records applied, TSS-centred: uint8 ``(n, L)``.

        Args:
            carried: bool ``(n, n_records)``, the records applied to each sequence (e.g. one record each, for
                ISM of observed variants: ``np.eye(n_records, dtype=bool)[indices]``).

        Same rules as :meth:`sequences` (overlap rule, TSS at index ``L // 2``).
        """
        return self._cut(np.asarray(carried, dtype=bool)[:, None, :])[0][:, 0]

    def _cut(self, carried: np.ndarray, with_origin: bool = False) -> tuple[np.ndarray, int, np.ndarray | None]:
        """Codes of every sequence of ``carried``, the carried records skipped by the overlap rule, and
        (``with_origin``) int64 reference coordinates of every base (-1: inserted), else None."""
        length, before = self.length, self.length // 2
        after = length - before - 1
        out = np.empty(carried.shape[:2] + (length,), dtype=np.uint8)
        origin = np.empty(carried.shape[:2] + (length,), dtype=np.int64) if with_origin else None
        built: dict[bytes, tuple[np.ndarray, int, np.ndarray | None]] = {}
        overlaps = 0
        for i in range(carried.shape[0]):
            for h in range(carried.shape[1]):
                key = np.packbits(carried[i, h]).tobytes()
                if key not in built:
                    codes, index, skipped, where = apply_records(
                        self.ref_codes, self.ref_start, self.records, carried[i, h], self.tss, with_origin
                    )
                    if index - before < 0 or index + after >= len(codes):  # excluded by HaplotypeSequences.window
                        raise RuntimeError(
                            f"{self.chrom}:{self.tss + 1}: the reference region is too short for a sequence"
                        )
                    cut = slice(index - before, index + after + 1)
                    built[key] = codes[cut], skipped, None if where is None else where[cut]
                out[i, h], skipped, where = built[key]
                if with_origin:
                    origin[i, h] = where
                overlaps += skipped
        return out, overlaps, origin

    def origins(self, rows: np.ndarray | None = None, encoding: str = "haplotypes") -> np.ndarray:
        """int64 ``(n, 2, L)``: the reference coordinate of each base of :meth:`sequences` (-1: inserted base)."""
        return self._cut(self.carried(rows, encoding), with_origin=True)[2]

    def overlaps(self, encoding: str = "haplotypes") -> int:
        """Carried records skipped by the overlap rule over every person's two sequences of ``encoding``."""
        return self._cut(self.carried(None, encoding))[1]


def _origin(spans: np.ndarray) -> np.ndarray:
    """Reference coordinate of every base of pieces ``(first coordinate, bases from it, inserted bases)``."""
    first, kept, inserted = spans.T
    lengths = kept + inserted
    piece = np.repeat(np.arange(len(spans)), lengths)
    k = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.where(k < kept[piece], first[piece] + k, -1)


class HaplotypeSequences:
    """TSS-centred personal sequences with indels: phased haplotypes and the paper's dosage consensus pair.

    Args:
        fasta_path: reference FASTA.
        vcf_path: bgzipped, indexed VCF/BCF (biallelic, left-normalised: ``bcftools norm -m- -f ref.fa``).
        margin: bp read on each side of the window beyond ``L/2`` (at least; see :meth:`window`).
        pass_only, unphased, samples: passed to :class:`HaplotypeReader`.

    Raises:
        as :class:`~performer.data.reference.ReferenceGenome` and :class:`HaplotypeReader`.

    Example:
        >>> seqs = HaplotypeSequences("reference.fa", "phased.norm.vcf.gz")
        >>> codes = seqs.haplotype_codes("22", 20_105_000, 49_152, ["HG00096", "HG00097"])
        >>> codes.shape, codes.dtype  # TSS base at index 24_576 of every haplotype
        ((2, 2, 49152), dtype('uint8'))
        >>> x = mean_one_hot(codes)  # float32 (2, 49152, 4): the personal encoding with indels
    """

    def __init__(
        self,
        fasta_path: str | Path,
        vcf_path: str | Path,
        margin: int = 1_000,
        pass_only: bool = True,
        unphased: str = "error",
        samples: list[str] | None = None,
    ):
        self.reference = ReferenceGenome(fasta_path)
        self.reader = HaplotypeReader(vcf_path, self.reference, pass_only=pass_only, unphased=unphased, samples=samples)
        self.margin = margin

    @property
    def samples(self) -> list[str]:
        """Sample names this reader decodes."""
        return self.reader.samples

    def window(self, chrom: str, start: int, end: int, samples: list[str] | None = None) -> HaplotypeWindow:
        """The records and reference around the window ``[start, end)`` (0-based half-open; TSS at ``start + L//2``).

        The region read spans at least ``margin`` bp beyond the window on each side, grows until no
        record straddles its ends (so the overlap rule sees every record that decides it), and until
        each margin is at least the bases deleted by all its records together, so every sequence's
        window fits after its net deletions.

        Raises:
            as :meth:`HaplotypeReader.records`; ValueError for ``end <= start``.
        """
        if end <= start:
            raise ValueError(f"window [{start}, {end}) must hold at least 1 bp")
        margin = self.margin
        while True:
            lo, hi = start - margin, end + margin
            records = self.reader.records(chrom, lo, hi, samples)
            while len(records) and (records.pos.min() < lo or records.end.max() > hi):
                lo, hi = min(lo, int(records.pos.min())), max(hi, int(records.end.max()))
                records = self.reader.records(chrom, lo, hi, samples)
            deleted = sum(
                len(r) - len(a) for r, a in zip(records.ref, records.alt) if a is not None and len(r) > len(a)
            )
            if min(start - lo, hi - end) >= deleted:
                break
            margin = max(2 * margin, deleted)
        ref = self.reference.codes(chrom, lo, hi)
        return HaplotypeWindow(self.reference.contig(chrom), start, end, lo, ref, records)

    def _window_at(self, chrom: str, tss: int, length: int, samples: list[str] | None) -> HaplotypeWindow:
        if length < 1:
            raise ValueError(f"window length {length} must be at least 1 bp")
        return self.window(chrom, tss - length // 2, tss - length // 2 + length, samples)

    def haplotype_codes(self, chrom: str, tss: int, length: int, samples: list[str] | None = None) -> np.ndarray:
        """Each person's two haplotypes around ``tss``: uint8 ``(n_people, 2, length)``, codes 0-4.

        ``tss`` is the 0-based reference TSS; its (mapped) base is at index ``length // 2`` of every
        haplotype (module docstring for the rules); sequence 0 is ``bcftools consensus -H 1``, 1 is
        ``-H 2``. Raises as :meth:`HaplotypeReader.records`; ValueError for ``length < 1``.
        """
        return self._window_at(chrom, tss, length, samples).sequences(None, "haplotypes")

    def dosage_consensus_codes(self, chrom: str, tss: int, length: int, samples: list[str] | None = None) -> np.ndarray:
        """The paper's two consensus sequences per person for unphased data: uint8 ``(n_people, 2, length)``.

        Sequence 0 carries the person's homozygous-ALT records, sequence 1 the heterozygous and
        homozygous-ALT ones (a haploid ALT counts as homozygous); phase is ignored. Same TSS-centred
        cutting and overlap rule as :meth:`haplotype_codes`. Raises as :meth:`HaplotypeReader.records`
        (construct with ``unphased="first"`` for unphased VCFs).
        """
        return self._window_at(chrom, tss, length, samples).sequences(None, "consensus")


def mean_one_hot(codes: np.ndarray) -> np.ndarray:
    """Mean one-hot of a person's two sequences: codes uint8 ``(..., 2, L)`` -> float32 ``(..., L, 4)``.

    For two haplotypes or the two dosage consensus sequences this is the personal encoding
    (docs/architecture.md); ``N`` rows are zeros.
    """
    return codes_to_one_hot(codes).astype(np.float32).mean(axis=-3)
