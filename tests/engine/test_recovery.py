"""Divergence recovery (engine.recovery): exploding steps end the epoch early, and roll_back()
puts the last good epoch's weights back so a run resumes with a new rate. Tiny models."""

import math

import numpy as np

from engine.recovery import EXPLOSION_FACTOR, LastGoodWeights
from engine.runs import Run
from engine.training import Trainer, TrainingConfig
from tests.engine.test_training import sine_dataset

HUGE = dict(cell="elman", hidden_sizes=(8,), optimizer="sgd", learning_rate=1e3, clip_norm=None, batch_size=4)


def _max_weight(trainer) -> float:
    return max(float(np.max(np.abs(v))) for v in trainer._model.get_params().values())


def test_astronomic_finite_losses_count_as_divergence_before_the_weights_run_away():
    trainer = Trainer(TrainingConfig(epochs=3, **HUGE), sine_dataset(n=16))
    gen = trainer.epochs()
    first = next(gen)  # the window pauses here (headless trains on)
    assert first.diverged
    assert first.exploded_loss is not None and math.isfinite(first.exploded_loss)
    assert first.exploded_loss > EXPLOSION_FACTOR * trainer.last_good.reference
    assert _max_weight(trainer) < 1e17  # SGD at rate 1000 reached 1e17-1e24 before the first NaN
    assert first.good_epoch == 0  # nothing good since the start: roll_back() gives the initial weights
    gen.close()


def test_roll_back_restores_the_last_good_epoch_and_the_run_recovers():
    config = TrainingConfig(cell="elman", hidden_sizes=(8,), optimizer="momentum", learning_rate=1e-2,
                            clip_norm=None, batch_size=4, epochs=8)
    trainer = Trainer(config, sine_dataset(n=16))
    gen = trainer.epochs()
    good = [next(gen), next(gen)]
    params = trainer._model.get_params()
    state = trainer._optimizer.get_state()
    trainer.update(learning_rate=1e3)
    diverged = next(gen)
    while not diverged.diverged:
        diverged = next(gen)
    assert diverged.good_epoch == 2
    assert trainer.roll_back() == 2
    for name, value in trainer._model.get_params().items():
        np.testing.assert_array_equal(value, params[name])
    for name, value in trainer._optimizer.get_state().items():
        np.testing.assert_array_equal(value, state[name])
    trainer.update(learning_rate=1e-2)
    after = next(gen)
    assert not after.diverged and math.isfinite(after.train_loss)
    assert after.train_loss < 2 * good[-1].train_loss  # it goes on from epoch 2's weights
    gen.close()


def test_a_run_logs_the_roll_back_and_a_diverged_run_waits_paused(tmp_path):
    run = Run.start(TrainingConfig(epochs=4, **HUGE), sine_dataset(n=16), tmp_path / "run")
    report = run.step()
    assert report.diverged and str(run.state) == "diverged"
    assert run.roll_back() == 0
    assert str(run.state) == "paused"
    events = [line for line in (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    assert '"kind": "divergence"' in events[-2] and '"exploded_loss"' in events[-2]
    assert '"kind": "rollback"' in events[-1] and '"to_epoch": 0' in events[-1]
    run.close()


def test_an_epoch_far_above_the_best_is_not_kept():
    kept = LastGoodWeights()
    assert kept.is_good(1.0, 1.0, False)
    kept.best_train = kept.best_val = 0.01
    assert kept.is_good(0.05, 0.05, False)
    assert not kept.is_good(5.0, 0.05, False)  # finite, but 500x the best: not a weight to return to
    assert not kept.is_good(0.05, float("nan"), False) and not kept.is_good(0.05, 0.05, True)
    assert not kept.exploded(float("inf"))  # non-finite steps are refused in the compiled step
    assert not kept.exploded(2.0) and kept.reference == 2.0
    assert not kept.exploded(1e4) and kept.exploded(2e4 + 1)
