"""Text along time, Qt-free: visible characters, and units found by a pattern (LSTMVis style).

The probe's characters label the heatmaps' time axis and the text view; whitespace is drawn as
a visible sign so a space or a newline is a character the user can point at. "Select by
pattern" (Strobelt et al., LSTMVis, 2017): the user marks a span of the text and asks which
units are high on that span and low elsewhere. Here the score of a unit is the mean of its
activation over the span minus its mean over the rest of the sequence; the ranking is by score,
highest first. Activations are per unit, shape (T, H) as in ``EpochReport.hidden``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Signs for characters that would otherwise be invisible (or break a line) in a label.
VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍", "\f": "␌", "\v": "␋"}


def visible_char(ch: str) -> str:
    """A printable stand-in for ``ch``: whitespace as a sign, other control characters as U+2400+."""
    if ch in VISIBLE:
        return VISIBLE[ch]
    if len(ch) == 1 and ord(ch) < 0x20:
        return chr(0x2400 + ord(ch))  # the Control Pictures block
    return ch


def tick_stride(n_steps: int, pixels: float, min_pixels_per_label: float) -> int:
    """Label every k-th step so that neighbouring labels are at least ``min_pixels_per_label`` apart."""
    if n_steps <= 0 or pixels <= 0:
        return 1
    per_step = pixels / n_steps
    return max(1, int(np.ceil(min_pixels_per_label / per_step)))


@dataclass(frozen=True)
class UnitScore:
    unit: int
    score: float  # mean on the span - mean elsewhere
    span_mean: float
    rest_mean: float


def rank_units(activations, start: int, stop: int, top: int | None = None) -> list[UnitScore]:
    """Units whose activation is high on steps ``[start, stop)`` and low elsewhere, best first.

    Non-finite activations are left out of both means (a unit with no finite value on the span
    scores -inf and ranks last). The whole sequence as the span leaves no "elsewhere": the rest
    mean is then 0, so the ranking is by mean activation.
    """
    a = np.asarray(activations, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"activations must be (time, units), got shape {a.shape}")
    T = a.shape[0]
    start, stop = int(start), int(stop)
    if not 0 <= start < stop <= T:
        raise ValueError(f"span [{start}, {stop}) is not within the sequence's {T} steps")
    inside = np.zeros(T, dtype=bool)
    inside[start:stop] = True
    span_mean = _finite_mean(a[inside])
    rest_mean = _finite_mean(a[~inside]) if (~inside).any() else np.zeros(a.shape[1])
    rest_mean = np.where(np.isnan(rest_mean), 0.0, rest_mean)
    score = np.where(np.isnan(span_mean), -np.inf, span_mean - rest_mean)
    order = sorted(range(a.shape[1]), key=lambda u: (-score[u], u))  # ties: lower unit first
    if top is not None:
        order = order[:max(0, int(top))]
    return [UnitScore(u, float(score[u]), float(span_mean[u]), float(rest_mean[u])) for u in order]


WARM_UP_STEPS = 8  # most_selective_unit skips at most this many first steps (see there)


def most_selective_unit(activations) -> int:
    """The unit that tells the characters apart most: the largest spread (std) over time.

    The first steps (up to WARM_UP_STEPS, at most a quarter of the sequence) are left out: every
    unit starts from a zero state, and a unit that only moves while it leaves that state would
    otherwise look selective."""
    a = np.asarray(activations, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"activations must be (time, units) with at least one unit, got shape {a.shape}")
    a = a[min(WARM_UP_STEPS, a.shape[0] // 4):]
    a = np.where(np.isfinite(a), a, np.nan)
    with np.errstate(invalid="ignore"):
        spread = np.nanstd(a, axis=0) if a.shape[0] else np.zeros(a.shape[1])
    spread = np.where(np.isnan(spread), -1.0, spread)
    return int(np.argmax(spread))


def _finite_mean(block: np.ndarray) -> np.ndarray:
    """Per column mean over the finite values (NaN for a column without one)."""
    finite = np.isfinite(block)
    count = finite.sum(axis=0)
    total = np.where(finite, block, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
