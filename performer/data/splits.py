"""People splits (train / tune / test) for cross-validation, saved as plain text files.

Default scheme: the people are shuffled once with ``seed`` and cut
into ``n_blocks`` (10) near-equal blocks; fold ``k`` tests on block ``2k``, tunes on block ``2k+1``
and trains on the other 8 (80/10/10). Test sets of different folds are disjoint. Splits are saved as
``train.txt``, ``tune.txt``, ``test.txt`` (one person ID per line) so a run records exactly whom it
used and users can bring the paper's own splits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SPLITS = ("train", "tune", "test")


class MissingPeopleError(ValueError):
    """People of a split are not in the cohort (raised by :meth:`PeopleSplit.restrict`).

    Attributes:
        missing: the missing person IDs per split (``train``, ``tune``, ``test``), in split order.
    """

    def __init__(self, message: str, missing: dict[str, list[str]]):
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class PeopleSplit:
    """Disjoint lists of person IDs: ``train``, ``tune`` (validation) and ``test``."""

    train: list[str]
    tune: list[str]
    test: list[str]

    def __getitem__(self, split: str) -> list[str]:
        return getattr(self, split)

    def save(self, directory: str | Path) -> Path:
        """Write ``train.txt``, ``tune.txt``, ``test.txt`` into ``directory`` (created)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for split in SPLITS:
            (directory / f"{split}.txt").write_text("".join(f"{p}\n" for p in self[split]))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> PeopleSplit:
        """Read a split saved by :meth:`save` (or written by hand, one ID per line).

        Raises:
            FileNotFoundError: a file is missing.
            ValueError: a person is in two splits.
        """
        directory = Path(directory)
        lists = {}
        for split in SPLITS:
            path = directory / f"{split}.txt"
            if not path.exists():
                raise FileNotFoundError(f"split file not found: {path} (need train.txt, tune.txt, test.txt)")
            lists[split] = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        split = cls(**lists)
        split.check()
        return split

    def check(self) -> None:
        """Raise ValueError if a person is in two splits."""
        seen: dict[str, str] = {}
        for name in SPLITS:
            for person in self[name]:
                if person in seen:
                    raise ValueError(f"person {person!r} is in both the {seen[person]} and the {name} split")
                seen[person] = name

    def downsample_train(self, fraction: float, seed: int = 0) -> PeopleSplit:
        """The split with only ``round(fraction * n_train)`` train people (at least 1), tune/test kept.

        The train people kept are the first of one seeded permutation, so for a given seed the set
        kept at a smaller fraction is inside the set kept at every larger one (nested learning curves).
        """
        order = np.random.default_rng(seed).permutation(sorted(self.train))
        keep = set(order[: max(1, round(fraction * len(order)))].tolist())
        return PeopleSplit(train=[p for p in self.train if p in keep], tune=self.tune, test=self.test)

    def missing(self, people: list[str]) -> dict[str, list[str]]:
        """The people of each split (``train``, ``tune``, ``test``; split order) who are not in ``people``."""
        known = set(people)
        return {s: [p for p in self[s] if p not in known] for s in SPLITS}

    def restrict(self, people: list[str], drop_missing: bool = False) -> PeopleSplit:
        """The split limited to ``people`` (the split's order kept).

        Args:
            people: the person IDs available (the cohort).
            drop_missing: leave out the people not in ``people``, with a warning that counts them per
                split and names a few; by default they are an error.

        Raises:
            MissingPeopleError: some people of the split are not in ``people`` and ``drop_missing`` is
                False; the message counts them per split and names up to 5.
        """
        missing = self.missing(people)
        n_missing = sum(len(m) for m in missing.values())
        if not n_missing:
            return self
        counts = ", ".join(f"{len(missing[s])} of {len(self[s])} {s}" for s in SPLITS if missing[s])
        examples = [p for s in SPLITS for p in missing[s]][:5]
        message = f"{n_missing} people of the split are not in the cohort ({counts}; e.g. {', '.join(examples)})"
        if not drop_missing:
            raise MissingPeopleError(
                f"{message}: use the cohort the split was made for, remove them from the split files, "
                "or drop them explicitly (PeopleSplit.restrict(people, drop_missing=True))",
                missing,
            )
        log.warning("%s: they are left out", message)
        gone = {p for m in missing.values() for p in m}
        return PeopleSplit(*[[p for p in self[s] if p not in gone] for s in SPLITS])


def make_split(people: list[str], fold: int = 0, n_folds: int = 3, seed: int = 0, n_blocks: int = 10) -> PeopleSplit:
    """Seeded cross-validation split of ``people`` for one fold.

    Args:
        people: person IDs (order does not matter: they are sorted before shuffling).
        fold: which fold, ``0 <= fold < n_folds``.
        n_folds: number of folds; ``2 * n_folds <= n_blocks``.
        seed: shuffling seed.
        n_blocks: number of blocks; each is ``1 / n_blocks`` of the people (10 -> 80/10/10).

    Raises:
        ValueError: bad fold numbers, or fewer people than blocks.
    """
    if not 0 <= fold < n_folds or 2 * n_folds > n_blocks:
        raise ValueError(f"fold={fold}, n_folds={n_folds}: need 0 <= fold < n_folds <= {n_blocks // 2}")
    if len(people) < n_blocks:
        raise ValueError(f"{len(people)} people are too few for a {n_blocks}-block split")
    order = np.random.default_rng(seed).permutation(sorted(people))
    blocks = np.array_split(order, n_blocks)
    test, tune = blocks[2 * fold], blocks[2 * fold + 1]
    train = np.concatenate([b for i, b in enumerate(blocks) if i not in (2 * fold, 2 * fold + 1)])
    return PeopleSplit(train=train.tolist(), tune=tune.tolist(), test=test.tolist())
