"""Frames: a long series fed to the network as k consecutive steps per time step.

``frame_dataset(ds, k)`` turns every ``(T, F)`` sequence into ``(ceil(T / k), k * F)``: time step
``t`` of the framed sequence holds the original steps ``t*k .. t*k + k - 1`` as its features. The
recurrent network then runs k times fewer steps over the same values: a gated cell carries its
state over 32 steps far more easily than over 251 (ArrowHead, ``benchmarks/README.md``). The last
frame of a sequence whose length is not a multiple of k repeats its last value, so no value is
dropped. The loading option ``frame`` (``--frame K``, the preview's "steps per frame") applies it;
``engine.suggest`` picks k for long univariate series.

Only sequence classification is framed: a forecast or a text predicts the next step, and a frame
would change what that step is (so ``SequenceDataset.with_task`` refuses another task for framed
data, naming the frame: the controls' task switch says to open the file with steps per frame 1).

A framed dataset keeps its unframed original (``dataset.unframed``), so ``reframe(dataset, k)`` can
frame the same data another way (a checkpoint trained with other frames, ``engine.checkpoint.framed_as``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import data_error

__all__ = ["frame_dataset", "framed_feature_names", "reframe", "describe_frame", "reframed_note"]


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
        list(dataset.feature_names), k), target_names=[], frame=k, notes=[*dataset.notes, note],
        unframed=dataset)


def reframe(dataset, k: int):
    """``dataset`` framed by ``k`` steps from its original steps, whatever its frame now (k = 1: unframed).
    A DataError when that is impossible (not sequence classification, or the original steps are not kept)."""
    if int(getattr(dataset, "frame", 1)) == k:
        return dataset
    original = dataset if dataset.frame == 1 else dataset.unframed
    if original is None:
        raise data_error(dataset.name, f"is framed by {dataset.frame} steps and its original steps are not kept",
                         f"load it again with steps per frame {k}")
    return frame_dataset(original, k)


def describe_frame(k: int) -> str:
    """"frames of 5 steps" / "unframed" (status lines, headless output)."""
    return f"frames of {k} steps" if k > 1 else "unframed (1 step per frame)"


def reframed_note(want: int, had: int) -> str:
    """The status line's / headless header's words for data reframed as a checkpoint was trained."""
    return f"data reframed as the checkpoint was trained: {describe_frame(want)} (was {describe_frame(had)})"
