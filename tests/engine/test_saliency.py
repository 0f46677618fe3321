"""Saliency over time: the compiled dy/dx (pytensor.grad through the model's scan) against central
finite differences of the same compiled prediction y, for every cell on the three bundled samples
(all three tasks), in float64; and the memory horizon's arithmetic."""

import numpy as np
import pytest

from engine import saliency, trajectory
from engine.data import load_sequences
from engine.insights import InsightProbe
from engine.training import Trainer, TrainingConfig
from resources import sample_path

SAMPLES = {"classify_sequence": "waveforms_TRAIN.tsv", "forecast": "sine_forecast.csv", "next_token": "words.txt"}
CASES = [("classify_sequence", "elman"), ("classify_sequence", "gru"), ("forecast", "lstm"),
         ("forecast", "elman"), ("next_token", "gru"), ("next_token", "lstm")]


@pytest.fixture(scope="module")
def datasets():
    return {task: load_sequences(sample_path(name)) for task, name in SAMPLES.items()}


def _trainer(dataset, cell):
    config = TrainingConfig(cell=cell, hidden_sizes=(3,), epochs=1, batch_size=8, dtype="float64",
                            window=None if dataset.task == "classify_sequence" else 12,
                            embedding_size=4, seed=3)
    return Trainer(config, dataset)


@pytest.mark.parametrize("task, cell", CASES)
def test_saliency_matches_finite_differences_of_the_compiled_prediction(datasets, task, cell):
    trainer = _trainer(datasets[task], cell)
    probe = InsightProbe(trainer)
    insight = probe.compute(epoch=0)
    data = trainer._val
    sequences = trajectory.choose_sequences(data.n, trainer.probe_index)
    x, mask = probe.inputs(sequences)
    fn = probe._function(data.T, len(sequences))
    length = int(data.lengths[trainer.probe_index])
    step = insight.step
    target = int(data.y[step, trainer.probe_index]) if task == "next_token" else 0
    grad, y, _ = (np.asarray(r) for r in fn(x, mask, np.int32(step), np.int32(target)))
    assert float(y) == pytest.approx(insight.prediction)
    np.testing.assert_allclose(insight.saliency, np.abs(grad[:length]).sum(axis=1), rtol=1e-6)
    assert np.all(grad[length:] == 0)  # padding never influences the prediction
    eps = 1e-6
    rng = np.random.default_rng(0)
    checked = 0
    for t in sorted({step, max(step - 1, 0), max(step - 3, 0), int(rng.integers(0, step + 1))}):
        for f in range(x.shape[2]):
            plus, minus = x.copy(), x.copy()
            plus[t, 0, f] += eps
            minus[t, 0, f] -= eps
            y_plus = float(np.asarray(fn(plus, mask, np.int32(step), np.int32(target))[1]))
            y_minus = float(np.asarray(fn(minus, mask, np.int32(step), np.int32(target))[1]))
            numeric = (y_plus - y_minus) / (2 * eps)
            assert grad[t, f] == pytest.approx(numeric, rel=1e-4, abs=1e-8), (t, f)
            checked += 1
    assert checked >= 2 and np.abs(grad[step]).sum() > 0


def test_memory_horizon_counts_steps_back_holding_ninety_percent():
    assert saliency.memory_horizon([0, 0, 0, 1.0], step=3) == 1
    assert saliency.memory_horizon([1, 1, 1, 1, 1, 1, 1, 1, 1, 1], step=9) == 9
    assert saliency.memory_horizon([5.0, 0, 0, 0, 1.0], step=4) == 5  # the mass is at the start
    assert saliency.memory_horizon([1.0, 1.0, 9.0, 0.0], step=2) == 2  # steps after `step` do not count
    assert saliency.memory_horizon([0.0, 0.0], step=1) == 0
    assert saliency.memory_horizon([np.nan, 1.0], step=1) == 1


def test_profile_sums_absolute_gradient_over_features():
    grad = np.array([[1.0, -2.0], [0.5, 0.5], [3.0, 0.0]])
    np.testing.assert_allclose(saliency.profile(grad, 2), [3.0, 1.0])
