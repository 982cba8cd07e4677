"""Tests for performer.data.splits: seeded 80/10/10 people folds and their text files."""

from __future__ import annotations

import logging
import random

import pytest

from performer.data.splits import SPLITS, MissingPeopleError, PeopleSplit, make_split


def people(n: int) -> list[str]:
    return [f"P{i:04d}" for i in range(n)]


@pytest.mark.parametrize("n", [10, 19, 100, 109, 344, 535])
@pytest.mark.parametrize("fold", [0, 1, 2])
def test_make_split_partitions_people(n, fold):
    everyone = people(n)
    split = make_split(everyone, fold=fold, seed=0)
    train, tune, test = (set(split[s]) for s in SPLITS)
    # disjoint, no duplicates, covering everyone
    assert len(train) == len(split.train) and len(tune) == len(split.tune) and len(test) == len(split.test)
    assert not (train & tune) and not (train & test) and not (tune & test)
    assert train | tune | test == set(everyone)
    assert len(split.train) + len(split.tune) + len(split.test) == n
    # 80 / 10 / 10: test and tune are one tenth each, rounded down or up; train is the rest (8 tenths,
    # so within 2 people of 0.8 n; e.g. 344 people -> 35 / 35 / 274)
    assert n // 10 <= len(split.test) <= -(-n // 10)
    assert n // 10 <= len(split.tune) <= -(-n // 10)
    assert abs(len(split.train) - 0.8 * n) < 2
    assert all(isinstance(p, str) for s in SPLITS for p in split[s])
    split.check()


def test_make_split_is_shuffled_not_sliced():
    split = make_split(people(100), fold=0, seed=0)
    assert split.test != people(100)[:10]
    assert sorted(split.test) != people(100)[:10]


def test_make_split_deterministic_in_seed():
    everyone = people(200)
    a = make_split(everyone, fold=1, seed=3)
    b = make_split(everyone, fold=1, seed=3)
    assert a == b
    c = make_split(everyone, fold=1, seed=4)
    assert set(c.test) != set(a.test)
    assert set(c.train) != set(a.train)


def test_make_split_input_order_does_not_matter():
    everyone = people(150)
    shuffled = everyone[:]
    random.Random(1).shuffle(shuffled)
    for fold in range(3):
        a = make_split(everyone, fold=fold, seed=9)
        b = make_split(shuffled, fold=fold, seed=9)
        assert a == b


@pytest.mark.parametrize("n", [10, 57, 300])
def test_folds_have_disjoint_test_and_tune_sets(n):
    everyone = people(n)
    folds = [make_split(everyone, fold=k, seed=2) for k in range(3)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not set(folds[i].test) & set(folds[j].test), (i, j)
            assert not set(folds[i].tune) & set(folds[j].tune), (i, j)
        # a fold's test people are training people of the other folds
        for j in range(3):
            if j != i:
                assert set(folds[i].test) <= set(folds[j].train)
    # the folds differ
    assert folds[0].test != folds[1].test != folds[2].test


def test_make_split_rejects_bad_arguments():
    with pytest.raises(ValueError):
        make_split(people(100), fold=3, n_folds=3)
    with pytest.raises(ValueError):
        make_split(people(100), fold=-1)
    with pytest.raises(ValueError):
        make_split(people(100), fold=0, n_folds=6)  # 12 blocks needed of 10
    with pytest.raises(ValueError):
        make_split(people(9), fold=0)


def test_save_load_round_trip(tmp_path):
    split = make_split(people(57), fold=2, seed=5)
    out = split.save(tmp_path / "run" / "splits")
    assert out == tmp_path / "run" / "splits"
    for s in SPLITS:
        lines = (out / f"{s}.txt").read_text().splitlines()
        assert lines == list(split[s])
    loaded = PeopleSplit.load(out)
    assert loaded == split
    assert loaded.train == list(split.train) and loaded.tune == list(split.tune) and loaded.test == list(split.test)


def test_load_hand_written_files_tolerates_blank_lines_and_whitespace(tmp_path):
    (tmp_path / "train.txt").write_text("A\nB \n\nC\n")
    (tmp_path / "tune.txt").write_text("D\n")
    (tmp_path / "test.txt").write_text("E\r\nF\n\n")
    split = PeopleSplit.load(tmp_path)
    assert split == PeopleSplit(train=["A", "B", "C"], tune=["D"], test=["E", "F"])


def test_load_raises_on_person_in_two_splits(tmp_path):
    (tmp_path / "train.txt").write_text("A\nB\nC\n")
    (tmp_path / "tune.txt").write_text("D\n")
    (tmp_path / "test.txt").write_text("E\nB\n")
    with pytest.raises(ValueError, match="'B'"):
        PeopleSplit.load(tmp_path)


def test_load_raises_on_missing_file(tmp_path):
    (tmp_path / "train.txt").write_text("A\n")
    (tmp_path / "test.txt").write_text("B\n")
    with pytest.raises(FileNotFoundError, match="tune.txt"):
        PeopleSplit.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        PeopleSplit.load(tmp_path / "nowhere")


def test_restrict_keeps_a_split_inside_the_cohort():
    split = PeopleSplit(train=["A", "B", "C", "D"], tune=["E", "F"], test=["G", "H"])
    everyone = ["H", "G", "F", "E", "D", "C", "B", "A", "Z"]
    assert split.restrict(everyone) == split  # the split's order kept, not the cohort's
    assert split.missing(everyone) == {"train": [], "tune": [], "test": []}


def test_restrict_raises_on_people_outside_the_cohort():
    split = PeopleSplit(train=["A", "B", "C", "D"], tune=["E", "F"], test=["G", "H"])
    cohort = ["H", "A", "C", "E", "Z"]
    assert split.missing(cohort) == {"train": ["B", "D"], "tune": ["F"], "test": ["G"]}
    with pytest.raises(MissingPeopleError) as error:
        split.restrict(cohort)
    message = str(error.value)
    assert "4 people" in message and "2 of 4 train, 1 of 2 tune, 1 of 2 test" in message
    assert "B, D, F, G" in message and "drop_missing=True" in message
    assert error.value.missing == {"train": ["B", "D"], "tune": ["F"], "test": ["G"]}
    assert isinstance(error.value, ValueError)
    with pytest.raises(MissingPeopleError, match="8 people"):
        split.restrict([])


def test_restrict_names_at_most_five_missing_people():
    split = PeopleSplit(train=people(50), tune=[], test=[])
    with pytest.raises(MissingPeopleError) as error:
        split.restrict(people(50)[:20])
    assert "30 people" in str(error.value) and "30 of 50 train" in str(error.value)
    assert "P0020, P0021, P0022, P0023, P0024)" in str(error.value) and "P0025" not in str(error.value)
    assert len(error.value.missing["train"]) == 30


def test_restrict_drops_people_only_when_asked_and_logs_the_count(caplog):
    split = PeopleSplit(train=["A", "B", "C", "D"], tune=["E", "F"], test=["G", "H"])
    with caplog.at_level(logging.WARNING, logger="performer.data.splits"):
        out = split.restrict(["H", "A", "C", "E", "Z"], drop_missing=True)
    assert out == PeopleSplit(train=["A", "C"], tune=["E"], test=["H"])
    assert "4 people of the split are not in the cohort (2 of 4 train, 1 of 2 tune, 1 of 2 test" in caplog.text
    assert split.restrict([], drop_missing=True) == PeopleSplit([], [], [])
