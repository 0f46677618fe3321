"""What a reader returns (:class:`Loaded`) and the value cleaning every reader shares:
the non-finite policy, the checked float32 cast, trailing-NaN padding, the length limit.

The readers: ``tables`` (CSV/TSV/UCR), ``ts`` (sktime/UEA .ts), ``npy`` (.npy/.npz), ``text``.
``loading`` combines one or more :class:`Loaded` into a :class:`~engine.data.dataset.SequenceDataset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import data_error, display_name
from .options import NONFINITE_POLICIES, Fix

__all__ = ["Loaded", "clean_nonfinite", "to_float32_checked", "trim_trailing_nan", "nonfinite_note", "too_long",
           "NONFINITE_POLICIES"]

NONFINITE_HINT = "clean the file, or {fix}"
NONFINITE_FIXES = (Fix("nonfinite", "drop"), Fix("nonfinite", "interpolate"))
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(eq=False)
class Loaded:
    """What one file held, before the files of a multi-select are combined."""
    path: str
    format: str                                   # csv | ucr | ts | text | npy | npz
    layout: str = ""                              # columns | rows | ucr | ts | array | text
    sequences: list = field(default_factory=list)  # float32 (T_i, F)
    labels: list | None = None                    # raw label per sequence (int or str)
    class_order: list | None = None               # declared class names (.ts @classLabel)
    feature_names: list = field(default_factory=list)
    text: "TextCodes | None" = None               # engine.data.text.TextCodes: a text's characters as ids
    notes: list = field(default_factory=list)
    info: dict = field(default_factory=dict)      # delimiter, header, encoding ... for the preview


def _value_word(v: float) -> str:
    if np.isnan(v):
        return "missing or NaN value"
    return "infinite value" if v > 0 else "negative infinite value"


def trim_trailing_nan(seq: np.ndarray) -> np.ndarray:
    """Drop trailing steps where every feature is NaN (padding of unequal-length rows)."""
    finite_rows = ~np.isnan(seq).all(axis=1)
    if not finite_rows.any():
        return seq[:0]
    return seq[:int(np.flatnonzero(finite_rows)[-1]) + 1]


def to_float32_checked(values: np.ndarray, path, locate, policy: str = "reject") -> np.ndarray:
    """``values`` as float32. Finite values beyond float32's range would silently become inf:
    under ``policy="reject"`` the first one is an error ("too large for float32"), otherwise it
    is left as inf for the non-finite policy to drop or interpolate.

    locate(t, j) -> (line or None, description), as for :func:`clean_nonfinite`.
    """
    values = np.asarray(values)
    with np.errstate(over="ignore", invalid="ignore"):
        out = values.astype(np.float32, copy=False)
    if policy != "reject" or values.dtype.kind != "f" or values.dtype.itemsize <= 4 or np.isfinite(out).all():
        return out
    overflow = np.isinf(out) & np.isfinite(values)
    if overflow.any():
        index = tuple(int(v) for v in np.argwhere(overflow)[0])
        t, j = (index[0], index[1]) if len(index) > 1 else (index[0], 0)
        line, where = locate(t, j)
        raise data_error(path, f"{float(values[index]):.6g} {where} is too large for float32 "
                         f"(the largest is {_FLOAT32_MAX:.4g})",
                         "rescale the data (e.g. to other units) so every value fits", line=line)
    return out


def clean_nonfinite(seq: np.ndarray, policy: str, path, locate, counts: dict) -> np.ndarray:
    """Cast one (T, F) sequence to float32 (:func:`to_float32_checked`), then apply the
    non-finite policy to it. Returns float32.

    locate(t, j) -> (line or None, description) places step t / feature j for the message.
    counts accumulates {"dropped": steps, "interpolated": values, "first": (line, desc)}.
    """
    seq = to_float32_checked(seq, path, locate, policy)
    bad = ~np.isfinite(seq)
    if not bad.any():
        return seq
    t, j = (int(v) for v in np.argwhere(bad)[0])
    line, where = locate(t, j)
    if policy == "reject":
        raise data_error(path, f"{_value_word(float(seq[t, j]))} {where}", NONFINITE_HINT, line=line,
                         fixes=NONFINITE_FIXES)
    counts.setdefault("first", (line, where))
    if policy == "drop":
        keep = ~bad.any(axis=1)
        counts["dropped"] = counts.get("dropped", 0) + int((~keep).sum())
        return seq[keep]
    seq = seq.copy()
    steps = np.arange(len(seq))
    for j in np.flatnonzero(bad.any(axis=0)):
        good = ~bad[:, j]
        if not good.any():
            line, where = locate(0, j)
            raise data_error(path, f"no finite values to interpolate from {where}",
                             "remove that column or fill it in", line=line)
        seq[bad[:, j], j] = np.interp(steps[bad[:, j]], steps[good], seq[good, j])
    counts["interpolated"] = counts.get("interpolated", 0) + int(bad.sum())
    return seq


def nonfinite_note(path, counts: dict) -> str | None:
    if not counts.get("dropped") and not counts.get("interpolated"):
        return None
    line, where = counts["first"]
    at = f"line {line} " if line is not None else ""
    if counts.get("dropped"):
        return (f"{display_name(path)}: dropped {counts['dropped']} step(s) with missing or non-finite values "
                f"(first at {at}{where})")
    return (f"{display_name(path)}: interpolated {counts['interpolated']} missing or non-finite value(s) "
            f"(first at {at}{where})")


def too_long(path, length: int, limit: int, line=None, record=None):
    # the fix names the length that is needed, so the window's preview can offer it as one click
    return data_error(path, f"sequence has {length:,} steps, over the limit of {limit:,}",
                      "{fix} or shorten the sequence", line=line, record=record,
                      fixes=(Fix("max_length", int(length)),))


