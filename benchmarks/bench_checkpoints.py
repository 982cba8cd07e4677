"""Checkpoint bytes of an official-size run: file sizes, and bytes written per run before vs after.

Builds the official-size Enformer trunk (``performer.model.enformer.EnformerTrunk.build`` defaults, 251 M
parameters, random weights) in a ``PerformerModule`` on the CPU and trains it for ``--epochs`` epochs with a
real Lightning Trainer: one optimiser step per epoch on a zero loss that reaches every parameter (so AdamW holds its
moments for all of them, as in real training) and a scripted tune R^2 that improves on ``--improving``
epochs. Checkpoints are serialised exactly as Lightning writes them, into a byte counter instead of
a file (nothing lands on disk), with two sets of callbacks:

* before: ``ModelCheckpoint(monitor, save_top_k=1, save_last=True)``: on each improving epoch a full
  ``best.ckpt`` and a full copy as ``last.ckpt``.
* after: ``performer.run.build_trainer`` (paper single-gene recipe): weights-only ``best.ckpt`` on
  improving epochs, full ``last.ckpt`` every ``resume_every_n_epochs`` epochs, deleted once the run ends.

Prints the size of each kind of file and the bytes each variant wrote, then the same for a run of
``--extrapolate-epochs`` epochs with ``--extrapolate-improving`` improving epochs.

    python benchmarks/bench_checkpoints.py [--epochs 12] [--improving 0,1,3,7] [--resume-every 10]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections import Counter
from pathlib import Path

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO
from torch.utils.data import DataLoader

from performer.model.module import PerformerModule
from performer.run import build_trainer

ROOT = Path(__file__).resolve().parents[1]
GB = 1e9


class ByteCounter(io.RawIOBase):
    """A write-only stream that only counts the bytes written to it."""

    def __init__(self):
        self.n = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.n += len(data)
        return len(data)


class CountingCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO, serialising with ``torch.save`` into a :class:`ByteCounter` instead of a file."""

    def __init__(self):
        self.writes: list[tuple[str, int, bool]] = []  # (file name, bytes, holds optimiser state)

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        sink = ByteCounter()
        torch.save(checkpoint, sink)
        self.writes.append((Path(path).name, sink.n, "optimizer_states" in checkpoint))

    def remove_checkpoint(self, path) -> None:
        pass


class ScriptedModule(PerformerModule):
    """Official-size PerformerModule whose training step is free and whose tune R^2 follows a script."""

    def __init__(self, scores: list[float]):
        super().__init__(trunk={})  # build_trunk defaults: the official size
        self.scores = scores

    def training_step(self, batch, batch_idx):
        # zero, with a gradient for every trainable parameter: AdamW keeps moments for all of them
        return sum(p.sum() for p in self.parameters() if p.requires_grad) * 0.0

    def validation_step(self, batch, batch_idx) -> None:
        pass

    def on_validation_epoch_end(self) -> None:
        self.log("val/mean_r2", self.scores[self.current_epoch])


def scripted_scores(epochs: int, improving: set[int]) -> list[float]:
    """Tune R^2 per epoch that rises exactly on the ``improving`` epochs (epoch 0 always improves)."""
    scores, best = [], 0.0
    for epoch in range(epochs):
        best += 0.01 if epoch in improving or epoch == 0 else 0.0
        scores.append(best if epoch in improving or epoch == 0 else best - 0.005)
    return scores


def run(variant: str, epochs: int, improving: set[int], resume_every: int) -> tuple[list[tuple[str, int, bool]], int]:
    """Train ``epochs`` epochs with the ``before`` or ``after`` callbacks.

    Returns:
        The checkpoint writes ``(file name, bytes, full state?)`` in order, and the model's parameter count.
    """
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = compose(
            config_name="train",
            overrides=[
                "experiment=paper_single_gene",
                "trainer=cpu",
                f"trainer.max_epochs={epochs}",
                "trainer.accumulate_grad_batches=1",
                "+trainer.enable_progress_bar=false",
                "+trainer.enable_model_summary=false",
                f"resume_every_n_epochs={resume_every}",
                "selection.patience=1000",
            ],
        )
    io_plugin = CountingCheckpointIO()
    with tempfile.TemporaryDirectory() as run_dir:
        if variant == "after":
            trainer = build_trainer(cfg, Path(run_dir), logger=False)
        else:
            trainer = L.Trainer(
                accelerator="cpu",
                max_epochs=epochs,
                logger=False,
                enable_progress_bar=False,
                enable_model_summary=False,
                num_sanity_val_steps=0,
                callbacks=[
                    ModelCheckpoint(
                        dirpath=Path(run_dir) / "checkpoints",
                        filename="best",
                        monitor="val/mean_r2",
                        mode="max",
                        save_top_k=1,
                        save_last=True,
                    )
                ],
            )
        trainer.strategy.checkpoint_io = io_plugin
        torch.manual_seed(0)
        module = ScriptedModule(scripted_scores(epochs, improving))
        one_item = DataLoader([torch.zeros(1)], batch_size=1)
        trainer.fit(module, train_dataloaders=one_item, val_dataloaders=one_item)
    return io_plugin.writes, sum(p.numel() for p in module.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--improving", default="0,1,3,7", help="epochs whose tune R^2 improves (0-based)")
    parser.add_argument("--resume-every", type=int, default=10, help="resume_every_n_epochs of the after variant")
    parser.add_argument("--extrapolate-epochs", type=int, default=41, help="e.g. best epoch 20 + patience 20")
    parser.add_argument("--extrapolate-improving", type=int, default=12)
    args = parser.parse_args()
    improving = {int(e) for e in args.improving.split(",") if e}

    writes = {}
    for variant in ("before", "after"):
        start = time.perf_counter()
        writes[variant], n_parameters = run(variant, args.epochs, improving, args.resume_every)
        print(f"{variant}: {len(writes[variant])} checkpoint writes in {time.perf_counter() - start:.0f} s")

    full = max(n for _, n, is_full in writes["before"] + writes["after"] if is_full)
    weights = min(n for _, n, is_full in writes["after"] if not is_full)
    n_improving = len(improving | {0})
    print(f"\nofficial-size PerformerModule: {n_parameters / 1e6:.1f} M parameters")
    print(f"full checkpoint (weights + AdamW moments + loops + callbacks): {full / GB:.3f} GB")
    print(f"weights-only checkpoint:                                        {weights / GB:.3f} GB")

    print(f"\nmeasured, {args.epochs} epochs, {n_improving} improving ({sorted(improving | {0})}):")
    for variant, rows in writes.items():
        files = Counter(f"{name}{' (full)' if is_full else ' (weights)'}" for name, _, is_full in rows)
        total = sum(n for _, n, _ in rows)
        at_rest = 2 * full if variant == "before" else weights
        listing = ", ".join(f"{count} x {name}" for name, count in sorted(files.items()))
        print(f"  {variant:6s}: {total / GB:6.1f} GB written ({listing}); on disk after the run {at_rest / GB:.1f} GB")

    n, i = args.extrapolate_epochs, args.extrapolate_improving
    print(f"\nformula, {n} epochs, {i} improving:")
    print(f"  before: 2 x {i} x full = {2 * i * full / GB:.1f} GB; on disk after the run {2 * full / GB:.1f} GB")
    for r in sorted({1, args.resume_every}):
        after = n // r * full + i * weights
        writes_after = f"{n // r} x full + {i} x weights"
        print(
            f"  after, last.ckpt every {r:2d} epoch(s): {writes_after} = {after / GB:.1f} GB; on disk after the run "
            f"{weights / GB:.1f} GB"
        )


if __name__ == "__main__":
    main()
