"""Options of ``conf/evaluate.yaml`` that several tasks read and check the same way: the baselines asked for and
the precision of the interpretation's forward passes."""

from __future__ import annotations

from omegaconf import DictConfig

from performer.predict import PRECISIONS

BASELINES = ("elastic_net", "enformer")
"""The baselines ``baseline=`` may name."""


def requested_baselines(cfg: DictConfig) -> list[str]:
    """``cfg.baseline`` as a list (it may be null, one name or a list).

    Raises:
        ValueError: a name other than ``elastic_net`` or ``enformer``.
    """
    baselines = [cfg.baseline] if isinstance(cfg.baseline, str) else list(cfg.baseline or [])
    unknown = set(baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"baseline={sorted(unknown)}: choose elastic_net and/or enformer")
    return baselines


def interpretation_precision(cfg: DictConfig) -> str:
    """The precision of every forward pass of the interpretation and of variant scoring:
    ``cfg.interpret_precision`` (fp32 by default). ``cfg.precision`` (the evaluation's and the trainer's
    setting) is deliberately not read: bf16 rounding swamps the difference of two nearly equal outputs.

    Raises:
        ValueError: ``interpret_precision`` is not ``fp32`` or ``bf16``.
    """
    precision = str(cfg.get("interpret_precision", "fp32"))
    if precision not in PRECISIONS:
        raise ValueError(f"interpret_precision={precision!r}: choose fp32 (default) or bf16")
    return precision
