"""People splits (train / tune / test) for cross-validation, saved as plain text files.

Default scheme (ARCHITECTURE.md, "people splits"): the people are shuffled once with ``seed`` and cut
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

    def restrict(self, people: list[str]) -> PeopleSplit:
        """The split limited to ``people`` (order kept); logs how many were not in the cohort."""
        keep = set(people)
        out = PeopleSplit(*[[p for p in self[s] if p in keep] for s in SPLITS])
        dropped = sum(len(self[s]) for s in SPLITS) - sum(len(out[s]) for s in SPLITS)
        if dropped:
            log.warning("%d people of the given split are not in the cohort and are left out", dropped)
        return out


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
