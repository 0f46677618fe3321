"""Frames: a long series fed to the network as k consecutive steps per time step.

``frame_dataset(ds, k)`` turns every ``(T, F)`` sequence into ``(ceil(T / k), k * F)``: time step
``t`` of the framed sequence holds the original steps ``t*k .. t*k + k - 1`` as its features. The
recurrent network then runs k times fewer steps over the same values: a gated cell carries its
state over 32 steps far more easily than over 251 (ArrowHead, ``benchmarks/README.md``). The last
frame of a sequence whose length is not a multiple of k repeats its last value, so no value is
dropped. The loading option ``frame`` (``--frame K``, the preview's "steps per frame") applies it;
``engine.suggest`` picks k for long univariate series.

Only sequence classification is framed: a forecast or a text predicts the next step, and a frame
would change what that step is.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import data_error

__all__ = ["frame_dataset", "framed_feature_names"]


def framed_feature_names(names: list, k: int) -> list:
    """``value`` -> ``value@0 .. value@k-1`` (step within the frame, then feature: the reshape's order)."""
    return [f"{name}@{j}" for j in range(k) for name in names]


def _frame(sequence: np.ndarray, k: int) -> np.ndarray:
    t, f = sequence.shape
    steps = -(-t // k)  # ceil
    if steps * k != t:  # repeat the last value into the last frame
        sequence = np.concatenate([sequence, np.repeat(sequence[-1:], steps * k - t, axis=0)])
    return np.ascontiguousarray(sequence.reshape(steps, k * f))  # (T/k, k*F)


def frame_dataset(dataset, k: int):
    """``dataset`` with every sequence framed by ``k`` steps (see the module docstring); k = 1: unchanged."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise data_error(dataset.name, f"steps per frame must be a positive integer, got {k!r}")
    k = int(k)
    if k == 1:
        return dataset
    if dataset.task != "classify_sequence":
        raise data_error(dataset.name, f"frames apply to sequence classification, not {dataset.task!r}",
                         "load it with steps per frame 1")
    if dataset.frame != 1:
        raise data_error(dataset.name, f"is already framed by {dataset.frame} steps",
                         "frame the file once, from its original steps")
    sequences = [_frame(np.asarray(s), k) for s in dataset.sequences]
    padded = sum(1 for s in dataset.sequences if len(s) % k)
    note = (f"framed: {k} consecutive steps per time step ({dataset.n_features} -> {dataset.n_features * k} "
            f"inputs, sequences {k} times shorter)"
            + (f"; the last frame of {padded} sequence(s) repeats its last value" if padded else ""))
    return dataclasses.replace(dataset, sequences=sequences, feature_names=framed_feature_names(
        list(dataset.feature_names), k), target_names=[], frame=k, notes=[*dataset.notes, note])
