"""The command line of the simulators: ``python -m performer.data.simulate``.

Usage::

    python -m performer.data.simulate OUT_DIR [--seed N] [--n-people N] [--force]
    python -m performer.data.simulate OUT_DIR --same-loci-as SOURCE_DIR [--seed N]
        [--n-people N] [--force]      (seed default: SOURCE's + 1000; n-people: SOURCE's)
    python -m performer.data.simulate OUT_DIR --scale [--n-people 840] [--n-genes 2000]
        [--window-bp 49152] [--genotype-format vcf|bcf] [--x-fraction 0.05]
        [--indel-fraction 0.01] [--missing-rate 0.001] [--h2-range 0 0.5]

It lives here rather than in ``__main__.py`` so that the package can re-export :func:`main`
without importing its ``__main__`` module (which ``python -m`` would then warn about).
"""

from __future__ import annotations

import argparse
import logging
import pathlib
from collections.abc import Sequence

from performer.data.simulate.demo import simulate_cohort
from performer.data.simulate.same_loci import simulate_same_loci
from performer.data.simulate.scale import simulate_scale_cohort


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m performer.data.simulate OUT_DIR``.

    Options: ``--seed N`` (default 0), ``--n-people N`` (default 300, or 840 with ``--scale``),
    ``--force`` to write into a non-empty ``OUT_DIR`` (existing files with the
    cohort's names are overwritten; other files are left alone).  ``--same-loci-as DIR``
    writes a second cohort of the loci of the demo cohort ``DIR`` with
    :func:`simulate_same_loci` (``--seed`` default: ``DIR``'s seed + 1000; ``--n-people``
    default: ``DIR``'s number of people).  ``--scale`` writes
    the GTEx-sized benchmark cohort of :func:`simulate_scale_cohort` instead of the
    demo; the options ``--n-genes``, ``--window-bp``, ``--genotype-format``,
    ``--x-fraction``, ``--indel-fraction``, ``--missing-rate`` and ``--h2-range``
    set its arguments and need ``--scale``.

    Returns:
        0 on success.  Exits with status 2 (argparse error) if ``OUT_DIR`` is
        non-empty and ``--force`` was not given, if a scale option is given
        without ``--scale``, if ``--same-loci-as`` is given with ``--scale`` or names a
        folder that is not a complete demo cohort, or if an argument is out of range.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    scale_options = _scale_options(args)
    _check_arguments(parser, args, scale_options)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("msprime").setLevel(logging.WARNING)  # per-replicate chatter
    out_dir: pathlib.Path = args.out_dir
    try:
        if args.same_loci_as is not None:
            simulate_same_loci(args.same_loci_as, out_dir, seed=args.seed, n_people=args.n_people)
        elif args.scale:
            n_people = 840 if args.n_people is None else args.n_people
            seed = 0 if args.seed is None else args.seed
            simulate_scale_cohort(out_dir, n_people=n_people, seed=seed, **scale_options)
        else:
            seed = 0 if args.seed is None else args.seed
            simulate_cohort(out_dir, seed=seed, n_people=300 if args.n_people is None else args.n_people)
    except ValueError as err:
        parser.error(str(err))
    if args.same_loci_as is not None:
        print(f"Wrote simulated second cohort of the loci of {args.same_loci_as} to {out_dir}")
    else:
        print(f"Wrote simulated {'scale' if args.scale else 'demo'} cohort to {out_dir}")
    return 0


def _parser() -> argparse.ArgumentParser:
    """The argument parser of :func:`main`."""
    parser = argparse.ArgumentParser(
        prog="python -m performer.data.simulate",
        description=(
            "Simulate the Performer demo cohort (synthetic genomes and expression), or with --scale a "
            "GTEx-sized benchmark cohort (840 people, 2,000 genes, ~600 SNVs per 49,152 bp window, "
            "indels, split multi-allelic sites, missing calls, haploid chrX in males), or with "
            "--same-loci-as DIR a second cohort of new people at the loci of the demo cohort DIR."
        ),
    )
    parser.add_argument("out_dir", type=pathlib.Path, metavar="OUT_DIR")
    parser.add_argument(
        "--seed", type=int, default=None, help="simulation seed (default 0; with --same-loci-as DIR: DIR's + 1000)"
    )
    parser.add_argument(
        "--n-people",
        type=int,
        default=None,
        help="number of individuals (default 300; 840 with --scale; DIR's with --same-loci-as DIR)",
    )
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUT_DIR")
    parser.add_argument(
        "--same-loci-as",
        type=pathlib.Path,
        metavar="DIR",
        help="write a second cohort of new people (new seed) at the loci of the demo cohort DIR: same "
        "reference, genes, variant sites, causal variants and betas; genotypes by Li & Stephens copying "
        "of DIR's phased haplotypes",
    )
    scale = parser.add_argument_group("scale cohort (with --scale)")
    scale.add_argument("--scale", action="store_true", help="write the GTEx-sized benchmark cohort")
    scale.add_argument("--n-genes", type=int, help="number of genes (default 2000)")
    scale.add_argument("--window-bp", type=int, help="simulated window per gene, TSS centred (default 49152)")
    scale.add_argument(
        "--genotype-format",
        choices=("vcf", "bcf"),
        help="genotypes.vcf.gz + .tbi (vcf, default) or genotypes.bcf + .csi (bcf)",
    )
    scale.add_argument("--x-fraction", type=float, help="fraction of genes on chrX (default 0.05)")
    scale.add_argument("--indel-fraction", type=float, help="fraction of biallelic sites made indels (default 0.01)")
    scale.add_argument("--missing-rate", type=float, help="fraction of calls written missing (default 0.001)")
    scale.add_argument("--h2-range", type=float, nargs=2, metavar=("LOW", "HIGH"), help="h2 range (default 0 0.5)")
    return parser


def _scale_options(args: argparse.Namespace) -> dict[str, object]:
    """The scale options given on the command line, as :func:`simulate_scale_cohort` keyword arguments."""
    scale_options = {
        "n_genes": args.n_genes,
        "window_bp": args.window_bp,
        "genotype_format": args.genotype_format,
        "x_fraction": args.x_fraction,
        "indel_fraction": args.indel_fraction,
        "missing_rate": args.missing_rate,
        "h2_range": tuple(args.h2_range) if args.h2_range else None,
    }
    return {key: value for key, value in scale_options.items() if value is not None}


def _check_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace, scale_options: dict[str, object]
) -> None:
    """Exit through ``parser.error`` on options that do not go together or an ``OUT_DIR`` not to write into."""
    if scale_options and not args.scale:
        names = ", ".join("--" + key.replace("_", "-") for key in scale_options)
        parser.error(f"{names} need --scale")
    if args.scale and args.same_loci_as is not None:
        parser.error("--same-loci-as cannot be combined with --scale")
    out_dir: pathlib.Path = args.out_dir
    if out_dir.exists() and not out_dir.is_dir():
        parser.error(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not args.force:
        parser.error(f"{out_dir} is not empty; use --force to overwrite")
