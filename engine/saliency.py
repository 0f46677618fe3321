"""What the prediction looks at: saliency over time and the memory horizon.

The saliency of input step ``t`` is ``sum_f |dy/dx_{t,f}|``, where ``y`` is one prediction of the
probe sequence (:func:`prediction_target`): the top class's score (classification), the next value
at a chosen step (forecasting, the mean over targets), or the log-probability of the true next
character at a chosen step (text; ``x`` is then the embedded character, the last differentiable
input). The gradient comes from ``pytensor.grad`` through the model's own scan (engine.insights
compiles it); this module holds the symbolic target and the NumPy arithmetic on the result.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.special import log_softmax

HORIZON_MASS = 0.9  # the memory horizon holds this share of the saliency mass


def prediction_target(task: str, outputs, step, target):
    """Symbolic scalar ``y`` of batch column 0 whose gradient the saliency is.

    outputs: logits (B, C) for classify_sequence, else per step (T, B, K); ``step`` and
    ``target`` are int32 scalars (the predicted step; the true next character for text).
    """
    if task == "classify_sequence":
        return pt.max(outputs[0])  # the score of the class the model picks
    if task == "forecast":
        return pt.mean(outputs[step, 0])
    return log_softmax(outputs[step, 0], axis=-1)[target]


def profile(grad, length: int) -> np.ndarray:
    """(T, F) gradient of the probe -> (length,) float32 ``sum_f |grad|`` per input step."""
    grad = np.asarray(grad, dtype=np.float64)
    if grad.ndim == 1:
        grad = grad[:, None]
    return np.abs(grad[:max(int(length), 0)]).sum(axis=1).astype(np.float32)


def memory_horizon(saliency, step: int, mass: float = HORIZON_MASS) -> int:
    """Steps back from ``step`` (itself included) that hold ``mass`` of the saliency up to it.

    1 means the prediction rests on the last input alone; ``step + 1`` that it needs all of them.
    0 when there is no saliency at all (a dead network, or no steps).
    """
    values = np.asarray(saliency, dtype=np.float64)[:max(int(step) + 1, 0)]
    values = np.where(np.isfinite(values), values, 0.0)
    total = values.sum()
    if values.size == 0 or total <= 0:
        return 0
    cumulative = np.cumsum(values[::-1])
    return int(min(np.searchsorted(cumulative, mass * total * (1 - 1e-9)) + 1, values.size))
