"""Reading the interpretation's tables: flag columns and text files that may be gzipped.

The pipeline's tables (``ism.csv``, the weight table of :mod:`performer.interpret.variant_weights`) hold
flag columns (``is_hsv``, ``is_driver``, ``is_causal``, ``hsv``, ``driver``) that a CSV round trip can leave
as bools, 0/1 or the strings ``"True"`` / ``"False"``; :func:`flags` is the one parser of them. The
functional analyses' inputs (annotation BEDs, QTLtools output) are read through :func:`open_text`.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from performer.data.reference import compression

_TRUE = {"true", "t", "yes", "1", "1.0"}
_FALSE = {"false", "f", "no", "0", "0.0"}


def flags(values: pd.Series | None, length: int = 0) -> np.ndarray:
    """A flag column as float64 ``(n,)``: 1.0 (true), 0.0 (false) or NaN (unknown).

    Accepts bools, numbers (non-zero = true) and strings (``"True"``, ``"false"``, ``"1"``, ...; empty = unknown).
    ``values`` None gives ``length`` NaNs. ``flags(values) == 1.0`` reads unknown as False.

    Raises:
        ValueError: a string that is neither true nor false (the message names the column).
    """
    if values is None:
        return np.full(length, np.nan)
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(np.isnan(out), np.nan, (out != 0).astype(np.float64))
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values.to_numpy(object)):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            continue
        if isinstance(v, (bool, np.bool_, int, float, np.integer, np.floating)):
            out[i] = float(v != 0)
            continue
        text = str(v).strip().lower()
        if text in _TRUE:
            out[i] = 1.0
        elif text in _FALSE:
            out[i] = 0.0
        elif text not in ("", "nan", "none", "<na>"):
            raise ValueError(f"flag column {values.name!r} holds {v!r}; expected True/False, 0/1 or empty")
    return out


def open_text(path: Path):
    """``path`` opened for reading text, through gzip when it is gzip or BGZF
    (:func:`performer.data.reference.compression`)."""
    return open(path) if compression(path) == "none" else gzip.open(path, "rt")
