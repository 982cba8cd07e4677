"""Helpers shared by the evaluation figures (``performer.evaluation.plots``) and the interpretation figures
(``performer.interpret.plots``, ``performer.interpret.functional_plots``): figure creation and saving, labels,
reference lines and file names.

Figures are ``matplotlib.figure.Figure`` objects on the Agg canvas: they never touch pyplot's global state
or a notebook's backend, need no closing, and are saved as PNG at :data:`DPI`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 150
"""Resolution of every saved figure (dots per inch)."""
MODEL_LABELS = {"performer": "Performer", "elastic_net": "Elastic net", "enformer": "Enformer (reference)"}
"""Display names of the ``model`` values of the evaluation and interpretation tables."""
METRIC_LABELS = {"pcc": "PCC", "r2": "$R^2$"}
"""Display names of the metric columns."""
REFERENCE_LINE = {"color": "0.4", "linestyle": "--", "linewidth": 1}
"""Style of reference lines: y = x, and zero differences."""


def model_label(model: str) -> str:
    """The display name of ``model`` (:data:`MODEL_LABELS`), else ``model`` itself."""
    return MODEL_LABELS.get(model, model)


def missing_columns(table: pd.DataFrame | None, columns: Sequence[str], what: str) -> str | None:
    """A reason to skip a figure when ``table`` is None or lacks any of ``columns``, else None.

    Args:
        what: the table's name in the reason, e.g. ``"ISM table"``.
    """
    if table is None:
        return f"no {what}"
    missing = [c for c in columns if c not in table.columns]
    return f"{what} lacks columns {missing}" if missing else None


def new_figure(width: float, height: float) -> Figure:
    """A Figure of ``width`` x ``height`` inches with constrained layout, on the Agg canvas (nothing to close)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` as a PNG at :data:`DPI` to ``path`` (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def diagonal(ax, x: np.ndarray, y: np.ndarray) -> None:
    """Draw y = x over the range of ``x`` and ``y`` (finite values, 5 % margin) and make the axes square."""
    values = np.concatenate([np.asarray(x, float), np.asarray(y, float)])
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) if hi > lo else 0.05
    lo, hi = lo - pad, hi + pad
    ax.plot([lo, hi], [lo, hi], **REFERENCE_LINE, zorder=0)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")


def file_safe(name: str) -> str:
    """``name`` (a gene name or ID) as part of a file name: runs of other characters than letters, digits,
    ``.``, ``_`` and ``-`` become ``_``; ``"gene"`` when nothing is left."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "gene"
