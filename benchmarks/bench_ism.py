"""ISM throughput: variants scored per second for the tiny and the official-size Enformer.

Scores the observed SNVs of real 49,152 bp TSS-centred windows (Geuvadis chr22, $PERFORMER_GEUVADIS or
--data) with randomly initialised models of each size (speed does not depend on the weights), on the
CPU and, when there is one, on the GPU (fp32 and bf16 autocast). Prints variants/s and the wall time of
one gene's full ISM (all observed SNVs of its window), measured for the tiny model and for the official
model on a GPU, extrapolated from the measured rate for the official model on a CPU.

    python benchmarks/bench_ism.py [--data DIR] [--genes ZNF74,DGCR8] [--official-variants 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import torch

from performer.data import PersonalSequences
from performer.data.cohort import Cohort
from performer.data.dataset import tss_window
from performer.data.expression import read_expression_bed, read_gene_table
from performer.interpret import ism_scores
from performer.model import PerformerModel, build_trunk

WINDOW_BP = 49_152
TINY = dict(dim=48, depth=1, heads=2, attn_dim_key=16, dim_divisible_by=8)


def windows(data: Path, genes: list[str]):
    """(gene, TSS, PersonalWindow of all VCF samples) for each gene symbol."""
    sequences = PersonalSequences(data / "reference.fa", data / "genotypes.vcf.gz")
    cohort = Cohort(
        read_expression_bed(data / "expression.bed.gz"), sequences.samples, read_gene_table(data / "genes.gtf.gz")
    )
    for gene in genes:
        row = cohort.genes.loc[cohort.resolve(gene)]
        start, end = tss_window(int(row["tss"]), WINDOW_BP)
        yield gene, int(row["tss"]), sequences.window(row["chrom"], start, end)


def time_ism(model, window, tss, device, autocast, max_variants=None, batch_size=8) -> tuple[int, float]:
    precision = "bf16" if autocast else "fp32"
    if max_variants is not None:  # score only the first observed SNVs
        keep = (window.snvs.dosage > 0).any(axis=0).nonzero()[0][:max_variants]
        window = dataclasses.replace(window, snvs=window.snvs.subset(keep))
    ism_scores(model, window, tss, batch_size=batch_size, device=device, precision=precision)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    table = ism_scores(model, window, tss, batch_size=batch_size, device=device, precision=precision)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(table), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("PERFORMER_GEUVADIS", "../shared/data/geuvadis_chr22"))
    )
    parser.add_argument("--genes", default="ZNF74,DGCR8")
    parser.add_argument("--official-variants", type=int, default=4, help="SNVs scored with the official model on a CPU")
    args = parser.parse_args()

    torch.manual_seed(0)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(
        f"window {WINDOW_BP:,} bp; torch {torch.__version__}; CPU threads {torch.get_num_threads()}; "
        f"GPU: {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}"
    )
    for size, trunk in (("tiny", TINY), ("official", {})):
        model = PerformerModel(build_trunk(**trunk)).eval()
        n_params = sum(p.numel() for p in model.parameters())
        for device in devices:
            model = model.to(device)
            precisions = [None] + ([torch.bfloat16] if device.type == "cuda" else [])
            for autocast in precisions:
                for gene, tss, window in windows(args.data, args.genes.split(",")):
                    observed = int((window.snvs.dosage > 0).any(axis=0).sum())
                    cap = args.official_variants if size == "official" and device.type == "cpu" else None
                    n, seconds = time_ism(
                        model, window, tss, device, autocast, max_variants=cap, batch_size=2 if cap else 8
                    )
                    rate = n / seconds
                    how = "measured" if cap is None else f"extrapolated from {n} SNVs"
                    print(
                        f"{size:8s} ({n_params / 1e6:6.1f} M params) {device.type:4s} "
                        f"{'bf16' if autocast else 'fp32'}  {gene:6s}: {rate:8.2f} variants/s; "
                        f"one gene's ISM ({observed} observed SNVs): {observed / rate:8.1f} s ({how})"
                    )
        del model


if __name__ == "__main__":
    main()
