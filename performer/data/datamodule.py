"""PerformerDataModule: from VCF + FASTA + expression files to same-gene batches of personal sequences."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import lightning as L
import numpy as np
from torch.utils.data import DataLoader

from performer.data.cache import WindowCache, personal_window_cache
from performer.data.cohort import Cohort, read_id_map
from performer.data.dataset import ENCODINGS, GenePeopleDataset, collate_batch, log_windows, tss_window
from performer.data.expression import read_expression_bed, read_gene_table
from performer.data.haplotypes import UNPHASED_POLICIES
from performer.data.reference import ReferenceGenome
from performer.data.sampler import EvalBatchSampler, SameGeneBatchSampler
from performer.data.simulate import demo_cache_dir, ensure_demo_cohort
from performer.data.splits import SPLITS, MissingPeopleError, PeopleSplit, make_split
from performer.data.variants import VariantReader, VCFError

log = logging.getLogger(__name__)


class PerformerDataModule(L.LightningDataModule):
    """Streams personal sequences of a cohort, one gene per micro-batch.

    Args:
        root: folder the file names below are relative to (absolute names are kept as given);
            with ``simulate=True`` and no root, the demo cohort's cache folder.
        vcf, fasta, expression: genotypes (indexed VCF/BCF), reference FASTA, expression BED.
        gene_table: optional GTF or gene TSV for symbols and strands.
        id_map: optional TSV mapping expression IDs to VCF sample names.
        simulate: generate the demo cohort into ``root`` if it is not there (``prepare_data``).
        genes: gene symbols or IDs to train on; None or empty means every gene of the expression file.
        eval_genes: genes whose tune/test people are evaluated (default: ``genes``); genes not trained
            on give held-out-gene-and-people (HOGP) figures.
        train_fraction: train on this fraction of the fold's train people (learning curves): the first
            ``round(fraction * n)`` of a seeded permutation, so a smaller set is inside every larger
            one; tune and test people are untouched.
        window_bp: input length in bp, TSS at index ``window_bp // 2``.
        batch_size, accumulate: micro-batch size and micro-batches per optimiser step.
        eval_batch_size: tune/test batch size (default ``batch_size``).
        fold, n_folds, split_seed: the cross-validation split of the people (see ``splits.py``).
        splits_dir: read the split from ``train.txt``/``tune.txt``/``test.txt`` there instead.
        seed: base seed of the training epochs' draws.
        num_workers: DataLoader worker processes.
        strict, pass_only, missing: VCF handling (see ``variants.VariantReader``).
        indels: build personal sequences from every biallelic record, SNVs and indels, TSS-centred
            (``haplotypes.HaplotypeSequences``; the VCF must be left-normalised and biallelic, and
            ``strict=True``, ``missing="ref"`` apply); False: biallelic SNVs only (the paper's path).
        encoding: ``"dosage"`` (default): one input per person, the mean one-hot of their two
            sequences (with indels: their two haplotypes where phased, else the paper's consensus pair;
            without: the dosage-averaged SNV one-hot); ``"haplotypes"``: each of the person's two
            haplotypes through the model, the prediction their mean (phased VCFs).
        unphased: with ``encoding="haplotypes"``, an unphased heterozygous call in a window is an error
            (``"error"``) or its alleles are read in GT order and counted (``"first"``).
        cache_dir: the window cache folder (default ``$PERFORMER_CACHE/windows``; see ``cache.py``).
        read_workers: processes that read windows from the VCF into the cache (default: up to 8, one
            per CPU core).

    :meth:`prepare_data` (one process per node) builds the ``.fai`` index of the FASTA if it is
    missing and reads every window that is not yet in the window cache; :meth:`setup` (every process)
    maps the cached windows read-only, so DDP ranks, folds and later runs of the cohort read the VCF
    only once.

    After :meth:`setup`: ``cohort``, ``split``, ``gene_ids`` and ``gene_names`` (training genes first,
    then other eval genes; the ``gene`` index of a batch points into them), ``train_gene_ids``,
    ``untrained_gene_ids`` (requested training genes with fewer train people than one effective batch,
    evaluated as held-out genes),
    ``people`` (person IDs; the ``person`` index of a batch points into it), ``windows`` (one per gene)
    and ``datasets`` (``train``/``tune``/``test``).
    """

    def __init__(
        self,
        vcf: str,
        fasta: str,
        expression: str,
        root: str | None = None,
        gene_table: str | None = None,
        id_map: str | None = None,
        simulate: bool = False,
        genes: list[str] | None = None,
        eval_genes: list[str] | None = None,
        train_fraction: float = 1.0,
        window_bp: int = 49_152,
        batch_size: int = 32,
        accumulate: int = 4,
        eval_batch_size: int | None = None,
        fold: int = 0,
        n_folds: int = 3,
        split_seed: int = 0,
        splits_dir: str | None = None,
        seed: int = 0,
        num_workers: int = 0,
        strict: bool = True,
        pass_only: bool = True,
        missing: str = "ref",
        cache_dir: str | None = None,
        read_workers: int | None = None,
        indels: bool = False,
        encoding: str = "dosage",
        unphased: str = "error",
    ):
        super().__init__()
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding={encoding!r}: choose one of {ENCODINGS}")
        if unphased not in UNPHASED_POLICIES:
            raise ValueError(f"unphased={unphased!r}: choose one of {UNPHASED_POLICIES}")
        if (indels or encoding == "haplotypes") and not (strict and missing == "ref"):
            raise ValueError(
                "indels=true and encoding=haplotypes check every REF against the FASTA and read missing calls as "
                f"REF: set strict=true and missing=ref (got strict={strict}, missing={missing!r})"
            )
        if simulate and root is None:
            root = str(demo_cache_dir())
        self.root = Path(root) if root is not None else None
        self.simulate = simulate
        self.paths = {
            name: self._path(value)
            for name, value in dict(
                vcf=vcf, fasta=fasta, expression=expression, gene_table=gene_table, id_map=id_map
            ).items()
        }
        self.requested_genes = list(genes or [])
        self.requested_eval_genes = list(eval_genes or [])
        if not 0 < train_fraction <= 1:
            raise ValueError(f"train_fraction={train_fraction}: must be in (0, 1]")
        self.train_fraction = train_fraction
        self.window_bp = window_bp
        self.batch_size = batch_size
        self.accumulate = accumulate
        self.eval_batch_size = eval_batch_size or batch_size
        self.fold, self.n_folds, self.split_seed = fold, n_folds, split_seed
        self.splits_dir = splits_dir
        self.seed = seed
        self.num_workers = num_workers
        self.variant_options = dict(strict=strict, pass_only=pass_only, missing=missing)
        self.indels, self.encoding, self.unphased = indels, encoding, unphased
        self.cache_dir = cache_dir
        self.read_workers = read_workers if read_workers is not None else min(8, len(os.sched_getaffinity(0)))
        self.datasets: dict[str, GenePeopleDataset] = {}
        self._cache: WindowCache | None = None
        self._cannot_train: str | None = None

    def _path(self, value: str | None) -> Path | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() or self.root is None else self.root / path

    def prepare_data(self) -> None:
        """Simulate the demo cohort if asked, index the FASTA, and cache every window not yet cached."""
        if self.simulate:
            ensure_demo_cohort(self.root)
        ReferenceGenome(self.paths["fasta"])  # builds a missing .fai here, not concurrently in every rank
        self._resolve()
        self._cache.build(self.regions, self.read_workers)

    def _resolve(self) -> None:
        """Join the cohort and resolve the genes and their windows (file headers and the expression table)."""
        if self._cache is not None:
            return
        expression = read_expression_bed(self.paths["expression"])
        gene_table = read_gene_table(self.paths["gene_table"]) if self.paths["gene_table"] else None
        id_map = read_id_map(self.paths["id_map"]) if self.paths["id_map"] else None
        vcf_samples = VariantReader(self.paths["vcf"], **self.variant_options).samples
        self.cohort = Cohort(expression, vcf_samples, gene_table, id_map)

        def resolve(queries: list[str]) -> list[str]:
            return list(dict.fromkeys(self.cohort.resolve(q) for q in queries))

        self.train_gene_ids = resolve(self.requested_genes or list(self.cohort.genes.index))
        self.eval_gene_ids = resolve(self.requested_eval_genes) if self.requested_eval_genes else self.train_gene_ids
        self.gene_ids = list(dict.fromkeys(self.train_gene_ids + self.eval_gene_ids))
        self.gene_names = [self.cohort.gene_name(g) for g in self.gene_ids]
        self.people = self.cohort.people
        genes = self.cohort.genes.loc[self.gene_ids]
        self.regions = [
            (chrom, *tss_window(int(tss), self.window_bp)) for chrom, tss in zip(genes["chrom"], genes["tss"])
        ]
        vcf_order = [self.cohort.vcf_sample[p] for p in self.people]
        self._cache = personal_window_cache(
            self.cache_dir,
            self.paths["fasta"],
            self.paths["vcf"],
            vcf_order,
            **self.variant_options,
            indels=self.indels,
            encoding=self.encoding,
        )

    def setup(self, stage: str | None = None) -> None:
        """Split the people and map every gene's cached window (reading any window not yet cached).

        The tune and test sets hold every gene (training genes and held-out eval genes); the train
        set holds the training genes only.
        """
        if self.datasets:
            return
        self._resolve()
        if self.splits_dir:
            try:
                self.split = PeopleSplit.load(self.splits_dir).restrict(self.people)
            except MissingPeopleError as error:
                raise MissingPeopleError(f"splits_dir={self.splits_dir}: {error}", error.missing) from error
        else:
            self.split = make_split(self.people, fold=self.fold, n_folds=self.n_folds, seed=self.split_seed)
        if self.train_fraction < 1:
            self.split = self.split.downsample_train(self.train_fraction, seed=self.split_seed)
        log.info("people split (fold %d): %s", self.fold, {s: len(self.split[s]) for s in SPLITS})
        self._hold_out_untrainable()

        self.windows = self._cache.windows(self.regions, self.read_workers)
        if self._cache.haplotypes:
            self._check_phase()
        log_windows(self.windows, self.gene_names)
        # one (genes x people) copy of the expression; training genes are the first rows
        expression = self.cohort.expression.values.loc[self.gene_ids, self.people].to_numpy(np.float64)
        column = {p: i for i, p in enumerate(self.people)}
        for split in SPLITS:
            people = np.array([column[p] for p in self.split[split]], dtype=np.int64)
            values = expression[: len(self.train_gene_ids) if split == "train" else len(self.gene_ids)][:, people]
            known = ~np.isnan(values)
            if not known.all():
                with_nan = np.flatnonzero(~known.all(axis=1))
                log.warning(
                    "%s people: %d expression values are NaN and left out, in %d genes: %s",
                    split,
                    int((~known).sum()),
                    len(with_nan),
                    ", ".join(self.gene_names[g] for g in with_nan[:10]) + (", ..." if len(with_nan) > 10 else ""),
                )
            gene, j = np.nonzero(known)  # gene by gene, people in split order
            self.datasets[split] = GenePeopleDataset(self.windows, gene, people[j], values[gene, j], self.encoding)
        log.info("%d genes; items per split: %s", len(self.gene_ids), {s: len(d) for s, d in self.datasets.items()})

    def _hold_out_untrainable(self) -> None:
        """Move training genes with fewer train people than one effective batch to the held-out genes.

        The same-gene sampler draws whole blocks of ``batch_size x accumulate`` train people per gene
        (people with a NaN value do not count), so a gene with fewer is never trained on: it must not be
        labelled HOP nor enter the selection mean. Such genes are named in a WARNING and evaluated as
        held-out genes (HOGP), listed after the training genes (``untrained_gene_ids``).

        When no training gene has enough, nothing moves (the DataModule still serves evaluation, e.g. the
        baselines) and :meth:`train_dataloader` raises a ``ValueError`` that names them and the fix.
        """
        block = self.batch_size * self.accumulate
        values = self.cohort.expression.values.loc[self.train_gene_ids, list(self.split.train)]
        n_train = dict(zip(self.train_gene_ids, values.notna().sum(axis=1).astype(int)))
        short = [g for g in self.train_gene_ids if n_train[g] < block]
        self.untrained_gene_ids, self._cannot_train = [], None
        if not short:
            return
        named = ", ".join(f"{self.cohort.gene_name(g)} ({n_train[g]})" for g in short[:20])
        named += ", ..." if len(short) > 20 else ""
        if len(short) == len(self.train_gene_ids):
            self._cannot_train = (
                f"no training gene has {block} train people with expression (batch_size {self.batch_size} x "
                f"accumulate {self.accumulate}), so nothing can be trained: {named}. Lower batch_size or "
                "trainer.accumulate_grad_batches, or use a cohort with more people"
            )
            log.warning("%s (evaluation only)", self._cannot_train)
            return
        self.untrained_gene_ids = short
        log.warning(
            "%d of %d training genes have fewer than %d train people with expression (batch_size %d x accumulate "
            "%d) and are not trained on; they are evaluated as held-out genes (HOGP), outside the selection mean: %s",
            len(short),
            len(self.train_gene_ids),
            block,
            self.batch_size,
            self.accumulate,
            named,
        )
        self.train_gene_ids = [g for g in self.train_gene_ids if n_train[g] >= block]
        first = [self.gene_ids.index(g) for g in self.train_gene_ids + short]
        order = first + sorted(set(range(len(self.gene_ids))) - set(first))
        self.gene_ids = [self.gene_ids[i] for i in order]
        self.gene_names = [self.gene_names[i] for i in order]
        self.regions = [self.regions[i] for i in order]

    def _check_phase(self) -> None:
        """Log what the haplotype windows hold; unphased heterozygous calls under the haplotype encoding."""
        indels = sum(int(w.inside().sum()) - len(w.snvs) for w in self.windows)
        unphased = {name: w for name, w in zip(self.gene_names, self.windows) if w.records.unphased_people.any()}
        overlaps = sum((w.skipped_overlaps or {}).get(self.encoding, 0) for w in self.windows)
        log.info(
            "%s encoding, %s: %d records other than SNVs kept in the windows; carried records skipped as "
            "overlapping an earlier one (bcftools consensus's rule): %d; genes with unphased heterozygous calls: %d",
            self.encoding,
            "SNVs and indels" if self.indels else "SNVs only",
            indels,
            overlaps,
            len(unphased),
        )
        if unphased and self.encoding == "haplotypes":
            name, window = next(iter(unphased.items()))
            people = np.flatnonzero(window.records.unphased_people)
            message = (
                f"{self.paths['vcf']}: {len(unphased)} genes' windows hold unphased heterozygous calls (gene {name}: "
                f"{len(people)} people, e.g. {self.people[people[0]]})"
            )
            if self.unphased == "error":
                raise VCFError(
                    f"{message}; encoding=haplotypes needs phased genotypes: phase the VCF (e.g. SHAPEIT, Beagle), "
                    "use encoding=dosage (the consensus pair for unphased people), or set unphased=first to read "
                    "alleles in GT order"
                )
            log.warning("%s; read in GT order (unphased=first)", message)

    def _replicas(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)

    def _loader(self, dataset: GenePeopleDataset, batch_sampler) -> DataLoader:
        return DataLoader(
            dataset,
            batch_sampler=batch_sampler,
            collate_fn=collate_batch,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        """Same-gene training batches of this rank.

        Raises:
            ValueError: no training gene has ``batch_size x accumulate`` train people (see setup).
        """
        if self._cannot_train:
            raise ValueError(self._cannot_train)
        world, rank = self._replicas()
        dataset = self.datasets["train"]
        sampler = SameGeneBatchSampler(
            dataset.groups(), self.batch_size, self.accumulate, seed=self.seed, num_replicas=world, rank=rank
        )
        return self._loader(dataset, sampler)

    def eval_dataloader(self, split: str) -> DataLoader:
        """Loader over every person of every gene of ``split`` (``tune`` or ``test``), this rank's share."""
        world, rank = self._replicas()
        dataset = self.datasets[split]
        return self._loader(dataset, EvalBatchSampler(dataset.groups(), self.eval_batch_size, world, rank))

    def val_dataloader(self) -> DataLoader:
        return self.eval_dataloader("tune")

    def test_dataloader(self) -> DataLoader:
        return self.eval_dataloader("test")
