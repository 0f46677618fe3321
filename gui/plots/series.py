"""Qt-free curve data: (x, y) points in growable numpy buffers, and the helpers that clean them."""

from __future__ import annotations

import math

import numpy as np


class GrowableSeries:
    """(x, y) points in numpy buffers that double when full (amortised O(1) append).

    Non-finite points are dropped on the way in, so what is stored is exactly what can be
    drawn; ``dropped`` counts them.
    """

    def __init__(self, capacity: int = 256):
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0
        self.dropped = 0

    def __len__(self) -> int:
        return self._n

    def _reserve(self, needed: int) -> None:
        if needed <= self._x.size:
            return
        capacity = max(needed, 2 * self._x.size)
        x = np.empty(capacity, dtype=np.float64)
        y = np.empty(capacity, dtype=np.float64)
        x[: self._n] = self._x[: self._n]
        y[: self._n] = self._y[: self._n]
        self._x, self._y = x, y

    def append(self, x: float, y: float) -> bool:
        """Store one point; returns False (and counts it) when it is not finite."""
        if y is None or not (math.isfinite(x) and math.isfinite(y)):
            self.dropped += 1
            return False
        self._reserve(self._n + 1)
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1
        return True

    def extend(self, xs, ys) -> int:
        """Store many points at once; returns how many were finite and kept."""
        xs = as_float_array(xs)
        ys = as_float_array(ys)
        if xs.shape != ys.shape:
            raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
        keep = np.isfinite(xs) & np.isfinite(ys)
        n_keep = int(keep.sum())
        self.dropped += xs.size - n_keep
        self._reserve(self._n + n_keep)
        self._x[self._n : self._n + n_keep] = xs[keep]
        self._y[self._n : self._n + n_keep] = ys[keep]
        self._n += n_keep
        return n_keep

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    def copy_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x.copy(), self.y.copy()

    def clear(self) -> None:
        self._n = 0
        self.dropped = 0



def as_float_array(values) -> np.ndarray:
    """1-D float64 array; None entries (e.g. a missing validation loss) become NaN."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False).ravel()
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64).ravel()


def finite_or_none(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def trailing_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Moving average over the last ``window`` points (shorter at the start)."""
    if y.size == 0:
        return y.copy()
    csum = np.cumsum(y, dtype=np.float64)
    out = csum.copy()
    out[window:] = csum[window:] - csum[:-window]
    counts = np.minimum(np.arange(1, y.size + 1), window)
    return out / counts

