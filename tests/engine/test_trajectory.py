"""State-space trajectories: the PCA basis against NumPy's SVD, the sequence choice and the bound."""

import numpy as np
import pytest

from engine import trajectory
from engine.limits import MAX_TRAJECTORY_SEQUENCES


def test_pca_basis_matches_numpy_svd():
    rng = np.random.default_rng(2)
    points = rng.standard_normal((300, 6)) @ np.diag([5.0, 3.0, 1.0, 0.5, 0.2, 0.1]) @ \
        np.linalg.qr(rng.standard_normal((6, 6)))[0] + 2.0
    basis = trajectory.pca_basis(points, k=2)
    centred = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    for k in range(2):
        assert abs(float(basis.components[k] @ vt[k])) == pytest.approx(1.0, abs=1e-8)
    np.testing.assert_allclose(basis.explained, (s ** 2 / np.sum(s ** 2))[:2], rtol=1e-8)
    projected = basis.project(points)
    np.testing.assert_allclose(np.abs(projected), np.abs(centred @ vt[:2].T), atol=1e-8)
    # the sign rule: the largest coordinate of each component is positive (stable refits)
    assert all(c[np.argmax(np.abs(c))] > 0 for c in basis.components)


def test_pca_of_fewer_units_than_components_and_bad_input():
    basis = trajectory.pca_basis(np.array([[0.0], [1.0], [3.0]]), k=2)
    assert basis.components.shape == (2, 1) and basis.explained[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least one point"):
        trajectory.pca_basis(np.zeros((0, 3)))


def test_choose_sequences_puts_the_probe_first_with_a_fixed_count():
    chosen = trajectory.choose_sequences(200, probe=7)
    assert chosen[0] == 7 and len(chosen) == MAX_TRAJECTORY_SEQUENCES and len(set(chosen)) == len(chosen)
    assert len(trajectory.choose_sequences(200, probe=150)) == MAX_TRAJECTORY_SEQUENCES
    assert list(trajectory.choose_sequences(3, probe=1)) == [1, 0, 2]
    assert list(trajectory.choose_sequences(1, probe=0)) == [0]


def test_thin_keeps_within_the_budget_and_the_real_steps():
    states = np.random.default_rng(0).standard_normal((500, 50, 64))
    lengths = np.full(50, 400)
    kept, steps, n = trajectory.thin(states, lengths, budget=1 << 16)
    assert kept.size <= 1 << 16 and kept.shape == (n, steps.size, 64)
    assert steps[0] == 0 and steps[-1] == 399  # up to the longest real step, not the padding
    np.testing.assert_allclose(kept[3, 5], states[steps[5], 3].astype(np.float32))
    points = trajectory.valid_points(kept, steps, np.full(n, 10))
    assert points.shape == (n * int(np.sum(steps < 10)), 64)
