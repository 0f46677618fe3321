"""Fixed-shape, time-major minibatches of one ``Arrays`` split, for the compiled functions.

JAX needs static shapes, so every batch has exactly ``batch_size`` columns: the last one is padded
with the all-zero-mask example kept at index N, which counts nothing in the masked losses.
"""

from __future__ import annotations

import numpy as np


class TimeMajor:
    """One Arrays split, transposed once to time-major, with a zero padding example at index N."""

    def __init__(self, arrays, task: str, dtype: str):
        x = np.asarray(arrays.x)
        self.n = int(x.shape[0])
        self.T = int(x.shape[1])
        self.is_text = x.ndim == 2
        pad = lambda a: np.concatenate([a, np.zeros((1,) + a.shape[1:], a.dtype)], axis=0)  # noqa: E731
        x = pad(x.astype("int32" if self.is_text else dtype))
        self.x = np.ascontiguousarray(np.swapaxes(x, 0, 1))  # (T, N+1[, F])
        mask = pad(np.asarray(arrays.mask, dtype=dtype))
        self.mask = np.ascontiguousarray(mask.T)  # (T, N+1)
        y = np.asarray(arrays.y)
        if task == "classify_sequence":
            self.y = pad(y.astype("int32"))  # (N+1,)
        elif task == "next_token":
            self.y = np.ascontiguousarray(pad(y.astype("int32")).T)  # (T, N+1)
        else:
            self.y = np.ascontiguousarray(np.swapaxes(pad(y.astype(dtype)), 0, 1))  # (T, N+1, K)
        self.task = task
        self.lengths = np.asarray(arrays.lengths)  # real (masked) steps

    def batch(self, idx):
        """Columns ``idx`` (index N is the padding example)."""
        if self.task == "classify_sequence":
            y = self.y[idx]
        else:
            y = self.y[:, idx]
        return self.x[:, idx], self.mask[:, idx], y

    def weight(self, mask_b) -> float:
        if self.task == "classify_sequence":
            return float(mask_b.max(axis=0).sum())
        return float(mask_b.sum())

    def sequence(self, index: int):
        """Sequence ``index``: (x (L, ...), y, length) trimmed to its real steps."""
        length = max(int(self.lengths[index]), 1)
        x = self.x[:length, index]
        y = self.y[index] if self.task == "classify_sequence" else self.y[:length, index]
        return x, y, length


def fixed_batches(n: int, batch_size: int, order) -> list:
    """Index arrays of exactly ``batch_size``, the last one padded with index ``n``."""
    out = []
    for start in range(0, n, batch_size):
        idx = np.asarray(order[start:start + batch_size], dtype=np.int64)
        if len(idx) < batch_size:
            idx = np.concatenate([idx, np.full(batch_size - len(idx), n, dtype=np.int64)])
        out.append(idx)
    return out
