"""State-space trajectories: which sequences, which steps, and the 2-D principal-component basis.

The trajectory view draws the top layer's hidden state of the probe and of up to
``MAX_TRAJECTORY_SEQUENCES`` other validation sequences as lines in the plane of two principal
components. The states are kept in bounded memory (``MAX_TRAJECTORY_VALUES`` sequences x steps x
units: long sequences are subsampled evenly in time, wide layers get fewer sequences). The basis
is fitted once (a view keeps it fixed, so the scrubber shows the dynamics change, not the axes)
and refitted on demand. NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.limits import MAX_TRAJECTORY_SEQUENCES, MAX_TRAJECTORY_VALUES

MIN_STEPS = 16  # a trajectory keeps at least this many steps (when the sequence has them)


def choose_sequences(n: int, probe: int, limit: int = MAX_TRAJECTORY_SEQUENCES) -> np.ndarray:
    """Validation indices to draw: the probe first, then others evenly spread; always
    ``min(n, limit)`` of them, so the compiled batch shape never changes with the probe."""
    count = min(int(n), int(limit))
    others = np.array([i for i in range(n) if i != probe])
    if count <= 1 or others.size == 0:
        return np.array([probe], dtype=np.int64)
    pick = np.unique(np.linspace(0, others.size - 1, count - 1).round().astype(np.int64))
    return np.concatenate([[probe], others[pick]]).astype(np.int64)


def thin(states, lengths, budget: int = MAX_TRAJECTORY_VALUES) -> tuple:
    """(T, N, H) states -> ((N', T', H) float32, steps (T',), kept N') within ``budget`` values."""
    states = np.asarray(states)
    T, N, H = states.shape
    longest = int(max(1, min(T, int(np.max(lengths)) if len(lengths) else 1)))
    n_steps = min(longest, max(MIN_STEPS, budget // max(1, N * H)))
    steps = np.unique(np.linspace(0, longest - 1, n_steps).round().astype(np.int64))
    n_keep = int(max(1, min(N, budget // max(1, steps.size * H))))
    kept = np.swapaxes(states[steps][:, :n_keep], 0, 1)  # (N', T', H)
    return np.ascontiguousarray(kept, dtype=np.float32), steps, n_keep


def valid_points(states, steps, lengths) -> np.ndarray:
    """The real (unpadded) states of (N, T', H) trajectories as (M, H) rows."""
    states = np.asarray(states)
    keep = np.asarray(steps)[None, :] < np.asarray(lengths)[:, None]  # (N, T')
    return states[keep]


@dataclass(frozen=True)
class Basis:
    mean: np.ndarray  # (H,)
    components: np.ndarray  # (k, H), orthonormal rows, largest variance first
    explained: np.ndarray  # (k,) share of the variance each component holds

    def project(self, states) -> np.ndarray:
        """(..., H) -> (..., k) coordinates in this basis."""
        return (np.asarray(states, dtype=np.float64) - self.mean) @ self.components.T


def pca_basis(points, k: int = 2) -> Basis:
    """Principal components of (M, H) ``points`` from the covariance's eigenvectors.

    Each component's sign is fixed (its largest-magnitude coordinate positive), so refitting on
    nearly the same states gives nearly the same picture instead of a mirrored one.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] == 0:
        raise ValueError(f"PCA needs (points, units) data with at least one point, got shape {points.shape}")
    points = points[np.isfinite(points).all(axis=1)]
    H = points.shape[1]
    mean = points.mean(axis=0) if len(points) else np.zeros(H)
    centred = points - mean
    cov = centred.T @ centred / max(len(points) - 1, 1)
    values, vectors = np.linalg.eigh(cov)  # ascending
    order = np.argsort(values)[::-1][:k]
    components = vectors[:, order].T  # (k', H)
    signs = np.sign(components[np.arange(len(order)), np.argmax(np.abs(components), axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    if components.shape[0] < k:  # fewer units than components: pad with zero directions
        components = np.vstack([components, np.zeros((k - components.shape[0], H))])
    total = float(np.clip(values, 0, None).sum())
    explained = np.array([max(float(values[i]), 0.0) / total if total > 0 else 0.0 for i in order])
    explained = np.concatenate([explained, np.zeros(k - explained.size)])
    return Basis(mean, components, explained)
