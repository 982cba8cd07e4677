"""Training, evaluation and ISM throughput of a model preset on real same-gene batches.

Builds :class:`~performer.model.module.PerformerModule` from a model preset (``conf/model/<name>.yaml``:
``enformer`` is the official architecture with random weights of the pretrained shapes; speed does not
depend on the weights), reads same-gene micro-batches from the DataModule's ``train_dataloader()`` (the
demo cohort, simulated on first use as ``conf/data/demo.yaml`` does, or ``--data DIR``, a cohort written by
``performer.data.simulate``) and runs plain AdamW steps as the module's ``configure_optimizers`` and
Lightning's loop do (forward, Performer loss, backward, gradient-norm clip, step). Prints:

* steady-state training samples/s and the step split into data wait, host-to-device copy,
  forward+backward and optimizer (``torch.cuda.synchronize`` between phases on CUDA, ``perf_counter``);
* peak memory: ``torch.cuda.max_memory_allocated`` on CUDA; on a CPU the process's peak RSS (VmHWM,
  reset after the warm-up steps where the kernel allows it) and its rise over the RSS before the timed
  steps, per sequence;
* FLOPs of one training step (``torch.utils.flop_counter.FlopCounterMode``; model FLOPs, i.e. without
  the recomputation of activation checkpointing), achieved TFLOP/s and MFU against the device's dense
  peak (:data:`PEAK_TFLOPS`; n/a for other devices);
* evaluation samples/s through :func:`performer.predict.predict_split` (the tune people; the one
  prediction path, the trainer precision's evaluation precision) and ISM variants/s through
  :func:`performer.predict.predict_ism` on one window (fp32, as the interpretation pipeline runs it).

Every figure is printed with the device name, the command line and the date. Examples:

    python benchmarks/bench_train.py --model enformer_tiny --window 12288 --batch-size 8       # CPU, < 1 min
    python benchmarks/bench_train.py --model enformer --window 49152 --precision bf16-mixed --batch-size 32
    python benchmarks/bench_train.py --model enformer --window 196608 --precision bf16-mixed --batch-size 8 \\
        --checkpoint-conv --checkpoint-transformer --skip-eval --skip-ism
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from torch.utils.flop_counter import FlopCounterMode

from performer.data.datamodule import PerformerDataModule
from performer.model.inputs import batch_inputs
from performer.model.loss import performer_loss
from performer.model.module import PerformerModule
from performer.model.trunk import compile_trunk
from performer.predict import choose_device, evaluation_precision, predict_ism, predict_people, predict_split

CONF = Path(__file__).resolve().parents[1] / "conf"

PEAK_TFLOPS = {
    # (name fragment, precision) -> dense peak TFLOP/s (NVIDIA data sheets; no sparsity). 32-true runs
    # matmuls in plain fp32 (torch's default: no TF32 for matmuls).
    ("H100 PCIe", "bf16-mixed"): 756.0,
    ("H100 NVL", "bf16-mixed"): 835.0,
    ("H100", "bf16-mixed"): 989.0,  # SXM (HBM3)
    ("H200", "bf16-mixed"): 989.0,
    ("A100", "bf16-mixed"): 312.0,
    ("L40S", "bf16-mixed"): 362.0,
    ("H100 PCIe", "32-true"): 51.0,
    ("H100 NVL", "32-true"): 60.0,
    ("H100", "32-true"): 67.0,
    ("H200", "32-true"): 67.0,
    ("A100", "32-true"): 19.5,
    ("L40S", "32-true"): 91.6,
}
"""Dense peak TFLOP/s by a fragment of ``torch.cuda.get_device_name`` and the precision; first match wins."""

GRADIENT_CLIP = 0.05  # conf/train.yaml trainer.gradient_clip_val


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU {platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"


def peak_tflops(name: str, precision: str) -> float | None:
    for (fragment, prec), value in PEAK_TFLOPS.items():
        if fragment in name and prec == precision:
            return value
    return None


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rss_now_mib() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_peak_mib() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_rss_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) of this process; False where it is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def load_preset(name: str) -> dict:
    path = CONF / "model" / f"{name}.yaml"
    if not path.is_file():
        presets = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
        raise SystemExit(f"no model preset {path}: choose one of {presets}")
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def batches(loader):
    """Micro-batches forever: the train loader's epochs one after another."""
    epoch = 0
    while True:
        sampler = getattr(loader, "batch_sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def autocast(device: torch.device, precision: str):
    if precision == "bf16-mixed":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def train_step(module, optimizer, batch, device, precision, times: dict | None) -> torch.Tensor:
    """One micro-batch: copy, forward + loss + backward, clip + AdamW step (times added to ``times``)."""
    sync(device)
    t0 = time.perf_counter()
    batch = to_device(batch, device)
    sync(device)
    t1 = time.perf_counter()
    with autocast(device, precision):
        pred = module.predict_batch(batch)
    loss = performer_loss(pred, batch["y"].float(), module.hparams.alpha)
    loss.backward()
    sync(device)
    t2 = time.perf_counter()
    torch.nn.utils.clip_grad_norm_(module.parameters(), GRADIENT_CLIP)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    sync(device)
    t3 = time.perf_counter()
    if times is not None:
        times["copy"] += t1 - t0
        times["fwd_bwd"] += t2 - t1
        times["optimizer"] += t3 - t2
    return loss.detach()


def count_flops(module, batch, device, precision) -> int:
    """Model FLOPs of one forward + backward (no checkpoint recomputation; weights untouched)."""
    trunk = module.model.trunk
    transformer_checkpointing = trunk.use_checkpointing
    trunk.use_checkpointing = False
    compiled = getattr(trunk, "_compiled_call_impl", None)
    trunk._compiled_call_impl = None  # count the eager graph
    was_training = module.training
    module.eval()  # CheckpointedSequential runs plainly outside training; FLOPs of dropout are not counted
    try:
        batch = to_device(batch, device)
        with FlopCounterMode(display=False) as counter:
            with autocast(device, precision):
                pred = module.predict_batch(batch)
            performer_loss(pred, batch["y"].float(), module.hparams.alpha).backward()
        module.zero_grad(set_to_none=True)
    finally:
        trunk.use_checkpointing = transformer_checkpointing
        trunk._compiled_call_impl = compiled
        module.train(was_training)
    return counter.get_total_flops()


MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072", "MALLOC_TRIM_THRESHOLD_": "131072"}
"""glibc settings under which freed tensors leave the process at once (fixed mmap threshold), so that on a
CPU the RSS tracks live memory and its peak measures a step's activations; set by re-executing the script."""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="enformer_tiny", help="preset in conf/model (enformer, enformer_tiny)")
    parser.add_argument("--window", type=int, default=None, help="bp, a multiple of 128 (default: the preset's)")
    parser.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed"])
    parser.add_argument("--batch-size", type=int, default=8, help="micro-batch: people of one gene")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed training steps first (compilation)")
    parser.add_argument("--data", default=None, help="cohort folder (performer.data.simulate); default: demo")
    parser.add_argument("--cache-dir", default=None, help="window cache folder (default: the data's default)")
    parser.add_argument("--genes", default=None, help="comma-separated genes (default: every gene)")
    parser.add_argument("--eval-batch-size", type=int, default=None, help="default: 2 x --batch-size")
    parser.add_argument("--ism-variants", type=int, default=700, help="SNVs scored on one window")
    parser.add_argument("--ism-batch-size", type=int, default=None, help="default: --eval-batch-size")
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--skip-ism", action="store_true")
    parser.add_argument("--skip-flops", action="store_true")
    parser.add_argument(
        "--compile",
        nargs="?",
        const="inductor",
        default=None,
        metavar="BACKEND",
        help="torch.compile the trunk (default backend inductor)",
    )
    parser.add_argument("--checkpoint-conv", action="store_true", help="checkpoint the stem and conv tower")
    parser.add_argument("--checkpoint-transformer", action="store_true", help="enformer-pytorch use_checkpointing")
    parser.add_argument("--device", default=None, help="default: CUDA if available, else CPU")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="append the figures as one JSON line to this file")
    args = parser.parse_args(argv)

    if argv is None and not torch.cuda.is_available() and any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **MALLOC_ENV})
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = choose_device(args.device)
    name = device_name(device)
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tag = f"[{name} | {date}]"

    preset = load_preset(args.model)
    window = args.window or preset["window_bp"]
    if window % 128:
        raise SystemExit(f"--window {window}: must be a multiple of 128")
    trunk = dict(preset["trunk"])
    trunk["checkpoint_conv"] = args.checkpoint_conv
    trunk["use_checkpointing"] = args.checkpoint_transformer
    eval_batch_size = args.eval_batch_size or 2 * args.batch_size

    # data: real same-gene micro-batches of the DataModule (accumulation 1: every micro-batch is a step)
    data = dict(vcf="genotypes.vcf.gz", fasta="reference.fa", expression="expression.bed.gz", gene_table="genes.tsv")
    datamodule = PerformerDataModule(
        **data,
        root=args.data,
        simulate=args.data is None,
        genes=args.genes.split(",") if args.genes else None,
        window_bp=window,
        batch_size=args.batch_size,
        accumulate=1,
        eval_batch_size=eval_batch_size,
        seed=args.seed,
        cache_dir=args.cache_dir,
    )
    t = time.perf_counter()
    datamodule.prepare_data()
    datamodule.setup("fit")
    setup_s = time.perf_counter() - t
    loader = datamodule.train_dataloader()

    module = PerformerModule(trunk=trunk, lr=preset["lr"]).to(device).train()
    optimizer = module.configure_optimizers()
    n_params = sum(p.numel() for p in module.parameters())
    stream = batches(loader)

    flops = None
    if not args.skip_flops:
        flops = count_flops(module, next(stream), device, args.precision)
    if args.compile:
        compile_trunk(module.model.trunk, backend=args.compile)

    t = time.perf_counter()
    for _ in range(args.warmup):
        train_step(module, optimizer, next(stream), device, args.precision, None)
    sync(device)
    warmup_s = time.perf_counter() - t

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    rss_reset = reset_rss_peak() if device.type == "cpu" else False
    rss_start = rss_now_mib()
    times = dict(data=0.0, copy=0.0, fwd_bwd=0.0, optimizer=0.0)
    samples = 0
    losses = []
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        batch = next(stream)
        times["data"] += time.perf_counter() - t0
        samples += len(batch["y"])
        losses.append(train_step(module, optimizer, batch, device, args.precision, times))
    sync(device)
    train_s = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak = rss_peak_mib()
    assert all(torch.isfinite(loss) for loss in losses), "a training loss is not finite"

    result = dict(
        device=name,
        date=date,
        command=command,
        torch=torch.__version__,
        model=args.model,
        parameters=n_params,
        window_bp=window,
        precision=args.precision,
        batch_size=args.batch_size,
        compile=args.compile,
        checkpoint_conv=args.checkpoint_conv,
        checkpoint_transformer=args.checkpoint_transformer,
        steps=args.steps,
        setup_s=setup_s,
        warmup_s=warmup_s,
        train_samples_per_s=samples / train_s,
        step_ms={k: 1000 * v / args.steps for k, v in times.items()},
    )
    lines = [
        f"{tag} command: {command}",
        f"{tag} torch {torch.__version__}; model {args.model} ({n_params / 1e6:.2f} M parameters, random weights), "
        f"window {window:,} bp, precision {args.precision}, micro-batch {args.batch_size}, "
        f"compile {args.compile or 'off'}, "
        f"checkpointing: conv {'on' if args.checkpoint_conv else 'off'}, transformer "
        f"{'on' if args.checkpoint_transformer else 'off'}",
        f"{tag} data set-up {setup_s:.1f} s; {args.warmup} warm-up steps {warmup_s:.1f} s",
        f"{tag} training: {samples / train_s:.2f} samples/s over {args.steps} steps "
        f"({samples} samples, {train_s:.2f} s)",
        f"{tag} step split (ms/step): "
        + ", ".join(f"{k} {1000 * v / args.steps:.1f}" for k, v in times.items())
        + f" | total {1000 * train_s / args.steps:.1f}",
    ]
    if device.type == "cuda":
        result["peak_memory_mib"] = peak
        lines.append(
            f"{tag} peak device memory (max_memory_allocated): {peak:,.0f} MiB "
            f"({peak / args.batch_size:,.1f} MiB/sequence)"
        )
    else:
        rise = peak - rss_start
        result.update(
            peak_rss_mib=peak,
            rss_start_mib=rss_start,
            rss_rise_per_sequence_mib=rise / args.batch_size,
            rss_peak_reset=rss_reset,
        )
        lines.append(
            f"{tag} peak RSS during the timed steps: {peak:,.0f} MiB "
            f"({'VmHWM reset after warm-up' if rss_reset else 'process peak'}); "
            f"RSS before them {rss_start:,.0f} MiB; rise {rise:,.0f} MiB = {rise / args.batch_size:,.1f} MiB/sequence"
        )
    if flops is not None:
        step_flops = flops
        achieved = step_flops * args.steps / train_s / 1e12
        peak_t = peak_tflops(name, args.precision) if device.type == "cuda" else None
        mfu = achieved / peak_t if peak_t else None
        result.update(
            flops_per_step=step_flops,
            flops_per_sample=step_flops / args.batch_size,
            achieved_tflops=achieved,
            peak_tflops=peak_t,
            mfu=mfu,
        )
        lines.append(
            f"{tag} FLOPs (FlopCounterMode, one step, model FLOPs): {step_flops / 1e12:.3f} TFLOP/step "
            f"({step_flops / args.batch_size / 1e9:.1f} GFLOP/sample); achieved {achieved:.3f} TFLOP/s; "
            f"peak {f'{peak_t:g} TFLOP/s' if peak_t else 'n/a'}; MFU {f'{100 * mfu:.1f} %' if mfu else 'n/a'}"
        )

    if not args.skip_eval:
        precision = evaluation_precision(args.precision, device)
        dataset = datamodule.datasets["tune"]
        predict_people(
            module.model,
            dataset,
            np.arange(min(eval_batch_size, len(dataset))),
            batch_size=eval_batch_size,
            precision=precision,
            device=device,
        )  # warm-up (compile)
        sync(device)
        t = time.perf_counter()
        table = predict_split(
            module.model, datamodule, "tune", batch_size=eval_batch_size, precision=precision, device=device
        )
        sync(device)
        eval_s = time.perf_counter() - t
        assert np.isfinite(table["pred"]).all()
        result.update(eval_samples_per_s=len(table) / eval_s, eval_items=len(table), eval_precision=precision)
        lines.append(
            f"{tag} evaluation (predict_split, tune people, {precision}, batch {eval_batch_size}): "
            f"{len(table) / eval_s:.2f} samples/s ({len(table)} people x genes in {eval_s:.2f} s)"
        )

    if not args.skip_ism:
        x, _ = batch_inputs(next(stream))
        reference = x[0].float().cpu().numpy()
        rng = np.random.default_rng(args.seed)
        offsets = np.sort(rng.choice(window, size=min(args.ism_variants, window), replace=False))
        alts = (reference[offsets].argmax(axis=1) + 1 + rng.integers(0, 3, size=len(offsets))) % 4
        ism_batch = args.ism_batch_size or eval_batch_size
        predict_ism(
            module.model, reference, offsets[:ism_batch], alts[:ism_batch], batch_size=ism_batch, device=device
        )  # warm-up (compile)
        sync(device)
        t = time.perf_counter()
        _, scores = predict_ism(module.model, reference, offsets, alts, batch_size=ism_batch, device=device)
        sync(device)
        ism_s = time.perf_counter() - t
        assert np.isfinite(scores).all()
        result.update(ism_variants_per_s=len(offsets) / ism_s, ism_variants=len(offsets))
        lines.append(
            f"{tag} ISM (predict_ism, one window, fp32, batch {ism_batch}): {len(offsets) / ism_s:.1f} variants/s "
            f"({len(offsets)} SNVs in {ism_s:.2f} s)"
        )

    print("\n".join(lines), flush=True)
    if args.json:
        with open(args.json, "a") as handle:
            handle.write(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
