"""Tests for performer.data.sampler: the paper's same-gene epoch and the evaluation sampler."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from performer.data.sampler import EvalBatchSampler, SameGeneBatchSampler


def make_groups(sizes: list[int], shuffle_seed: int | None = None) -> list[np.ndarray]:
    """Item indices per gene as a dataset builds them: items numbered globally, gene after gene.

    With ``shuffle_seed`` the global numbering interleaves genes (a dataset sorted by person).
    """
    labels = np.repeat(np.arange(len(sizes)), sizes)
    if shuffle_seed is not None:
        labels = np.random.default_rng(shuffle_seed).permutation(labels)
    return [np.flatnonzero(labels == g).astype(np.int64) for g in range(len(sizes))]


def gene_of(groups: list[np.ndarray]) -> dict[int, int]:
    return {int(i): g for g, items in enumerate(groups) for i in items}


def epoch_batches(sampler: SameGeneBatchSampler, epoch: int) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return list(sampler)


def as_blocks(batches: list[list[int]], accumulate: int) -> list[list[int]]:
    assert len(batches) % accumulate == 0
    return [sum(batches[k : k + accumulate], []) for k in range(0, len(batches), accumulate)]


def check_same_gene(batches, groups, batch_size, accumulate):
    """Every micro-batch: one gene, distinct items, exactly batch_size; every block: one gene, distinct."""
    owner = gene_of(groups)
    for batch in batches:
        assert len(batch) == batch_size
        assert all(isinstance(i, int) for i in batch)
        assert len(set(batch)) == batch_size
        assert len({owner[i] for i in batch}) == 1
    for block in as_blocks(batches, accumulate):
        assert len(set(block)) == batch_size * accumulate
        assert len({owner[i] for i in block}) == 1


SIZES = [100, 37, 64, 5]


@pytest.mark.parametrize("batch_size,accumulate", [(8, 1), (4, 4), (16, 2), (32, 1), (5, 1)])
@pytest.mark.parametrize("shuffled_numbering", [False, True])
def test_epoch_invariants(batch_size, accumulate, shuffled_numbering):
    groups = make_groups(SIZES, shuffle_seed=3 if shuffled_numbering else None)
    owner = gene_of(groups)
    E = batch_size * accumulate
    sampler = SameGeneBatchSampler(groups, batch_size, accumulate, seed=7)
    for epoch in range(3):
        batches = epoch_batches(sampler, epoch)
        assert len(batches) == len(sampler)
        check_same_gene(batches, groups, batch_size, accumulate)
        items = [i for b in batches for i in b]
        assert len(items) == len(set(items)), "an item is repeated within the epoch"
        per_gene = Counter(owner[i] for i in items)
        for g, n in enumerate(SIZES):
            assert per_gene.get(g, 0) == (n // E) * E
        assert len(sampler) == sum(n // E for n in SIZES) * accumulate


def test_len_counts_exact_numbers():
    groups = make_groups(SIZES)
    # E = 32: 100 -> 3 blocks, 37 -> 1, 64 -> 2, 5 -> 0
    sampler = SameGeneBatchSampler(groups, batch_size=8, accumulate=4)
    assert len(sampler) == 6 * 4
    assert len(list(sampler)) == 24
    # E = 40: 100 -> 2, 64 -> 1
    sampler = SameGeneBatchSampler(groups, batch_size=10, accumulate=4)
    assert len(sampler) == 3 * 4


def test_small_genes_contribute_nothing():
    groups = make_groups([100, 37, 64, 5])
    sampler = SameGeneBatchSampler(groups, batch_size=20, accumulate=2)  # E = 40
    owner = gene_of(groups)
    genes = {owner[i] for b in sampler for i in b}
    assert genes == {0, 2}


def test_each_epoch_uses_a_new_draw_of_people():
    """Over epochs the dropped people of a gene change (without replacement within, new draw across)."""
    groups = make_groups([100])
    sampler = SameGeneBatchSampler(groups, batch_size=8, accumulate=4)  # 96 of 100 per epoch
    used = [frozenset(i for b in epoch_batches(sampler, e) for i in b) for e in range(10)]
    assert all(len(u) == 96 for u in used)
    assert len(set(used)) > 1
    assert frozenset().union(*used) == frozenset(range(100))


def test_deterministic_in_seed_and_epoch():
    groups = make_groups(SIZES)
    a = SameGeneBatchSampler(groups, 8, 2, seed=1)
    b = SameGeneBatchSampler(groups, 8, 2, seed=1)
    c = SameGeneBatchSampler(groups, 8, 2, seed=2)
    e0 = epoch_batches(a, 0)
    assert epoch_batches(b, 0) == e0
    assert epoch_batches(a, 0) == e0  # iterating twice gives the same draw
    assert list(a) == e0
    e1 = epoch_batches(a, 1)
    assert e1 != e0
    assert epoch_batches(b, 1) == e1
    assert epoch_batches(a, 0) == e0  # going back to epoch 0 reproduces it: no hidden state
    assert epoch_batches(c, 0) != e0
    assert epoch_batches(c, 1) != e1


def test_set_epoch_reachable_like_lightning():
    groups = make_groups(SIZES)
    sampler = SameGeneBatchSampler(groups, 8, 2, seed=1)
    reference = SameGeneBatchSampler(groups, 8, 2, seed=1)
    assert sampler.sampler is sampler
    assert hasattr(sampler.sampler, "set_epoch")
    sampler.sampler.set_epoch(5)
    assert sampler.epoch == 5
    assert list(sampler) == epoch_batches(reference, 5)


def test_set_epoch_through_a_dataloader():
    """The DataLoader exposes our object as ``batch_sampler``; ``batch_sampler.sampler.set_epoch`` changes the draw."""
    import torch
    from torch.utils.data import DataLoader

    groups = make_groups([64, 48])
    data = torch.arange(112)
    sampler = SameGeneBatchSampler(groups, 8, 2, seed=0)
    loader = DataLoader(data, batch_sampler=sampler)
    assert loader.batch_sampler is sampler
    first = [b.tolist() for b in loader]
    loader.batch_sampler.sampler.set_epoch(1)
    second = [b.tolist() for b in loader]
    assert first != second
    assert len(first) == len(second) == len(loader) == len(sampler)
    # the helper Lightning's fit loop calls at each epoch start
    lightning_data = pytest.importorskip("lightning.fabric.utilities.data")
    lightning_data._set_sampler_epoch(loader, 2)
    assert sampler.epoch == 2
    assert [b.tolist() for b in loader] == epoch_batches(SameGeneBatchSampler(groups, 8, 2, seed=0), 2)


def test_blocks_shuffled_across_genes():
    # 12 genes x 8 blocks of E = 16: the block order must interleave genes
    groups = make_groups([128] * 12)
    owner = gene_of(groups)
    sampler = SameGeneBatchSampler(groups, batch_size=4, accumulate=4, seed=0)
    for epoch in range(3):
        blocks = as_blocks(epoch_batches(sampler, epoch), 4)
        genes = [owner[b[0]] for b in blocks]
        assert len(genes) == 96
        changes = sum(x != y for x, y in zip(genes[:-1], genes[1:], strict=True))
        # grouped by gene would give 11 changes; a random order about 87
        assert changes > 60
        assert genes != sorted(genes)
        # genes appear early: the first 24 blocks already hold most genes
        assert len(set(genes[:24])) >= 8
    orders = [[owner[b[0]] for b in as_blocks(epoch_batches(sampler, e), 4)] for e in range(3)]
    assert orders[0] != orders[1] != orders[2]


@pytest.mark.parametrize("num_replicas", [2, 3])
@pytest.mark.parametrize(
    "sizes,batch_size,accumulate", [(SIZES, 8, 2), (SIZES, 4, 4), ([100, 37, 64, 5, 90, 33], 8, 1)]
)
def test_distributed(num_replicas, sizes, batch_size, accumulate):
    groups = make_groups(sizes, shuffle_seed=1)
    owner = gene_of(groups)
    E = batch_size * accumulate
    n_blocks = sum(n // E for n in sizes)
    for epoch in (0, 3):
        single = SameGeneBatchSampler(groups, batch_size, accumulate, seed=11)
        single.set_epoch(epoch)
        single_blocks = [tuple(b) for b in as_blocks(list(single), accumulate)]
        assert len(single_blocks) == n_blocks

        per_rank = []
        for rank in range(num_replicas):
            s = SameGeneBatchSampler(groups, batch_size, accumulate, seed=11, num_replicas=num_replicas, rank=rank)
            s.sampler.set_epoch(epoch)
            batches = list(s)
            assert len(batches) == len(s)
            check_same_gene(batches, groups, batch_size, accumulate)
            per_rank.append([tuple(b) for b in as_blocks(batches, accumulate)])

        counts = {len(r) for r in per_rank}
        assert len(counts) == 1, f"ranks take different numbers of blocks: {[len(r) for r in per_rank]}"
        assert counts.pop() == -(-n_blocks // num_replicas)

        union = [b for r in per_rank for b in r]
        assert Counter(union).keys() == Counter(single_blocks).keys()
        n_pad = len(union) - n_blocks
        assert 0 <= n_pad < num_replicas
        if n_blocks % num_replicas == 0:
            assert n_pad == 0
            assert Counter(union) == Counter(single_blocks)
        # padded blocks are copies of real ones: each real block appears once, at most n_pad extra copies
        extra = Counter(union) - Counter(single_blocks)
        assert sum(extra.values()) == n_pad
        assert all(b in set(single_blocks) for b in extra)
        # the real blocks hold distinct people, and every trainable gene is seen
        items = [i for b in single_blocks for i in b]
        assert len(items) == len(set(items))
        assert {owner[b[0]] for b in union} == {g for g, n in enumerate(sizes) if n >= E}


@pytest.mark.parametrize("num_replicas", [2, 4])
def test_distributed_pad_fewer_blocks_than_half_ranks_ok(num_replicas):
    # 1 block over 2 ranks, 2 blocks over 4 ranks: the padding still fits in the block list
    groups = make_groups([16 * (num_replicas // 2)])
    lens = [
        len(list(SameGeneBatchSampler(groups, 4, 4, num_replicas=num_replicas, rank=r))) for r in range(num_replicas)
    ]
    assert lens == [4] * num_replicas


@pytest.mark.parametrize("n_people,num_replicas", [(16, 3), (48, 8)])
def test_distributed_padding_when_more_ranks_than_blocks(n_people, num_replicas):
    groups = make_groups([n_people])  # E = 16: 1 block / 3 blocks
    for rank in range(num_replicas):
        s = SameGeneBatchSampler(groups, 8, 2, num_replicas=num_replicas, rank=rank)
        batches = list(s)
        assert len(batches) == len(s) == 2
        check_same_gene(batches, groups, 8, 2)


def test_no_gene_large_enough_raises():
    groups = make_groups([10, 15, 3])
    with pytest.raises(ValueError, match="16"):
        SameGeneBatchSampler(groups, batch_size=8, accumulate=2)
    with pytest.raises(ValueError):
        SameGeneBatchSampler(make_groups([0, 0]), batch_size=1)
    # exactly E people is enough
    s = SameGeneBatchSampler(make_groups([10, 16]), batch_size=8, accumulate=2)
    assert len(s) == 2


def test_empty_groups_are_ignored_in_training():
    groups = [np.array([], dtype=np.int64), np.arange(0, 20), np.array([], dtype=np.int64)]
    s = SameGeneBatchSampler(groups, 5, 2)
    batches = list(s)
    assert len(batches) == len(s) == 4
    assert sorted(i for b in batches for i in b) == list(range(20))


# ---------------------------------------------------------------- evaluation


def eval_batches(groups, batch_size, num_replicas) -> list[list[list[int]]]:
    """Every rank's batches, checked to be re-iterable and as long as ``len``."""
    per_rank = []
    for rank in range(num_replicas):
        s = EvalBatchSampler(groups, batch_size, num_replicas=num_replicas, rank=rank)
        batches = list(s)
        assert len(batches) == len(s)
        assert list(s) == batches  # re-iterable
        per_rank.append(batches)
    return per_rank


EVAL_SIZES = [[67], [1], [5, 0, 3], SIZES, [64, 64], [2, 3, 5, 7, 11, 13, 17]]


@pytest.mark.parametrize("sizes", EVAL_SIZES)
@pytest.mark.parametrize("batch_size", [1, 4, 7, 32, 64, 200])
@pytest.mark.parametrize("num_replicas", [1, 2, 3, 4, 8, 16])
def test_eval_covers_every_item_once_with_equal_batches_per_rank(sizes, batch_size, num_replicas):
    groups = make_groups(sizes, shuffle_seed=5)
    owner = gene_of(groups)
    per_rank = eval_batches(groups, batch_size, num_replicas)
    n_real = sum(-(-n // batch_size) for n in sizes)  # the fewest batches possible: ceil(n / batch_size) per gene
    # every rank takes the same number of batches, at least one, even with more ranks than batches
    assert {len(b) for b in per_rank} == {-(-n_real // num_replicas)}
    kept, padding, n_padding_batches = [], [], 0
    for batches in per_rank:
        for batch in batches:
            assert all(isinstance(i, int) for i in batch)
            real = [i for i in batch if i >= 0]
            copies = [~i for i in batch if i < 0]
            assert not (real and copies), "a batch mixes real items and padding"
            assert len({owner[i] for i in real + copies}) == 1, "a batch holds two genes"
            if real:
                assert 1 <= len(real) <= batch_size
                # a gene of n items is cut into k = ceil(n / batch_size) batches of floor(n / k) or ceil(n / k)
                n = sizes[owner[real[0]]]
                k = -(-n // batch_size)
                assert len(real) in (n // k, -(-n // k))
            else:
                assert len(copies) == 1  # padding batches are one item: as cheap as possible
                n_padding_batches += 1
            kept.extend(real)
            padding.extend(copies)
    # among kept items, every item of every gene exactly once over all ranks
    assert sorted(kept) == list(range(sum(sizes)))
    assert n_padding_batches == -n_real % num_replicas < num_replicas
    assert set(padding) <= set(kept)  # padding copies existing items
    if num_replicas == 1:
        assert not padding


def test_eval_one_gene_more_ranks_than_batches():
    """67 people, batches of 32, 8 ranks: 3 real batches (23, 22, 22) on ranks 0-2, padding on ranks 3-7."""
    groups = make_groups([67])
    per_rank = eval_batches(groups, 32, 8)
    assert [len(b) for b in per_rank] == [1] * 8
    assert [len(b[0]) for b in per_rank[:3]] == [23, 22, 22]
    assert [b[0] for b in per_rank[:3]] == [list(range(0, 23)), list(range(23, 45)), list(range(45, 67))]
    assert all(b[0][0] < 0 for b in per_rank[3:])
    assert [~b[0][0] for b in per_rank[3:]] == [0, 23, 45, 0, 23]


def test_eval_padding_through_the_dataset_is_flagged():
    """Padding indices reach ``GenePeopleDataset.__getitems__`` as flagged copies of real items."""
    from torch.utils.data import DataLoader

    from performer.data.dataset import GenePeopleDataset, collate_batch

    class Window:  # the one method the dataset calls, with a person-dependent one-hot
        codes = np.zeros(3)

        def one_hot(self, people):
            return np.repeat(np.asarray(people, dtype=np.float32)[:, None, None], 3, axis=1).repeat(4, axis=2)

    gene = np.array([0, 0, 0, 1, 1])
    dataset = GenePeopleDataset([Window(), Window()], gene, np.array([4, 5, 6, 7, 8]), np.arange(5.0))
    seen = []
    for rank in range(4):
        sampler = EvalBatchSampler(dataset.groups(), 2, num_replicas=4, rank=rank)
        for batch in DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_batch):
            seen.append((batch["person"][batch["keep"]].tolist(), batch["keep"].tolist(), batch["gene"].tolist()))
    # 3 real batches ([0, 1], [2], [3, 4]) and one padding batch: a flagged copy of item 0
    assert seen == [
        ([4, 5], [True, True], [0, 0]),
        ([6], [True], [0]),
        ([7, 8], [True, True], [1, 1]),
        ([], [False], [0]),
    ]


def test_eval_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        EvalBatchSampler(make_groups([5]), 0)
    with pytest.raises(ValueError, match="rank"):
        EvalBatchSampler(make_groups([5]), 2, num_replicas=2, rank=2)


def test_eval_with_an_empty_group():
    groups = [np.arange(0, 5), np.array([], dtype=np.int64), np.arange(5, 8)]
    s = EvalBatchSampler(groups, 2)
    assert sorted(i for b in s for i in b) == list(range(8))
    assert len(s) == 5
    assert all(len(EvalBatchSampler([np.array([], dtype=np.int64)], 2, 3, r)) == 0 for r in range(3))


def test_short_and_empty_genes_are_named_apart_in_the_warning(caplog):
    # gene 1 is too small to train on; gene 2 has no train items (a held-out gene) and is no training gene
    with caplog.at_level("WARNING"):
        SameGeneBatchSampler(make_groups([16, 3, 0]), batch_size=4, accumulate=2)
    assert "1 genes (indices [1])" in caplog.text


# ----------------------------------------------------------------------------------------------------------
# The DataModule holds out training genes the sampler could never train on
# ----------------------------------------------------------------------------------------------------------


def cohort_with_few_train_people_for(cohort, out, gene: str, n_train: int):
    """A copy of ``cohort`` whose expression of ``gene`` (a symbol) is NaN for all but ``n_train`` of the train
    people of fold 0 (its tune and test people keep theirs)."""
    import gzip
    import shutil

    import pandas as pd
    from conftest import tiny_datamodule

    dm = tiny_datamodule(cohort, genes=[gene], batch_size=4, accumulate=1)
    dm.prepare_data()
    dm.setup()
    keep = {*dm.split.train[:n_train], *dm.split.tune, *dm.split.test}
    shutil.copytree(cohort, out)
    genes = pd.read_csv(out / "genes.tsv", sep="\t")
    gene_id = genes.loc[genes["gene_name"] == gene, "gene_id"].item()
    path = out / "expression.bed.gz"
    table = pd.read_csv(path, sep="\t")
    table.loc[table["gene_id"] == gene_id, [p for p in table.columns[4:] if p not in keep]] = np.nan
    with gzip.open(path, "wt") as handle:
        table.to_csv(handle, sep="\t", index=False, na_rep="NA")
    return out


def test_genes_with_too_few_train_people_are_held_out_not_hop(tiny_cohort, tmp_path, caplog):
    from conftest import tiny_datamodule

    from performer.data.simulate import DEMO_GENES

    short_gene = DEMO_GENES[0]  # BTNL3, listed first: it must move behind the trainable gene
    cohort = cohort_with_few_train_people_for(tiny_cohort, tmp_path / "cohort", short_gene, n_train=7)
    dm = tiny_datamodule(cohort, genes=list(DEMO_GENES[:2]), batch_size=4, accumulate=2)
    with caplog.at_level("WARNING"):
        dm.prepare_data()
        dm.setup()
    assert dm.gene_names == [DEMO_GENES[1], short_gene]
    assert [dm.cohort.gene_name(g) for g in dm.train_gene_ids] == [DEMO_GENES[1]]
    assert [dm.cohort.gene_name(g) for g in dm.untrained_gene_ids] == [short_gene]
    assert f"{short_gene} (" in caplog.text and "held-out genes (HOGP)" in caplog.text
    # the train set holds the trainable gene only; tune and test hold both, each gene's own people
    assert set(dm.datasets["train"].gene.tolist()) == {0}
    assert set(dm.datasets["test"].gene.tolist()) == {0, 1}

    nothing = tiny_datamodule(cohort, genes=[short_gene], batch_size=4, accumulate=2)
    nothing.prepare_data()
    nothing.setup()  # still serves evaluation (the baselines)
    assert nothing.train_gene_ids == nothing.gene_ids and nothing.untrained_gene_ids == []
    with pytest.raises(ValueError, match=rf"no training gene has 8 train people.*{short_gene} \("):
        nothing.train_dataloader()
