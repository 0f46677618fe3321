"""gui.worker_tools with a real Trainer on an epoch of many steps: progress within the epoch,
a pause that lands within one step, stop while held, best weights and the LR finder."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data import SequenceDataset
from engine.training import Trainer, TrainingConfig
from gui.worker import TrainingWorker
from tests.gui.worker_sync import worker_settled


def many_steps_dataset(n=600):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    seqs = [rng.standard_normal((12, 1)).astype(np.float32) + lab for lab in labels]
    return SequenceDataset(sequences=seqs, labels=labels, task="classify_sequence", class_names=["a", "b"])


@pytest.fixture
def long_epoch(qtbot):
    """A worker training a real tiny model whose epoch has ~240 steps (batch 2)."""
    made, steps_done = [], [0]

    def factory(config, dataset):
        trainer = Trainer(config, dataset)
        trainer._meter.interval = 0.05  # StepReports every 0.05 s instead of 0.5 s: a short test
        trainer.step_hooks.append(lambda: steps_done.__setitem__(0, steps_done[0] + 1))
        made.append(trainer)
        return trainer

    worker = TrainingWorker(trainer_factory=factory)
    worker.start_thread()
    got = {"steps": [], "epochs": [], "states": []}
    worker.sigRunStep.connect(lambda run, r: got["steps"].append(r))
    worker.sigRunEpoch.connect(lambda run, r: got["epochs"].append(r))
    worker.sigRunState.connect(lambda run, s: got["states"].append(s))
    yield worker, made, steps_done, got
    worker.shutdown(timeout_ms=10_000)


def test_progress_within_an_epoch_and_a_pause_within_one_step(qtbot, long_epoch):
    worker, made, steps_done, got = long_epoch
    config = TrainingConfig(hidden_sizes=(4,), batch_size=2, epochs=3)
    worker.new_run(config, many_steps_dataset(), paused=False)
    qtbot.waitUntil(lambda: len(got["steps"]) >= 1, timeout=60_000)
    worker.pause()
    at_pause = steps_done[0]
    first = got["steps"][0]
    assert first.epoch == 1 and 1 <= first.step < first.steps_in_epoch and np.isfinite(first.train_loss)
    worker_settled(qtbot, worker)  # the pause has landed: the epoch is held (a fixed 400 ms raced a starved worker)
    held = steps_done[0]
    assert held - at_pause <= 2, f"{held - at_pause} steps ran after the pause"
    qtbot.wait(300)
    assert steps_done[0] == held and not got["epochs"], "the paused epoch went on"
    worker.resume()
    qtbot.waitUntil(lambda: len(got["epochs"]) >= 1, timeout=60_000)
    assert got["epochs"][0].epoch == 1
    reports = [r for r in got["steps"] if r.epoch == 1]
    assert [r.step for r in reports] == sorted(r.step for r in reports)
    assert all(r.steps_per_s > 0 and r.eta_s >= 0 for r in reports)


def test_stop_ends_a_held_epoch(qtbot, long_epoch):
    worker, made, steps_done, got = long_epoch
    worker.new_run(TrainingConfig(hidden_sizes=(4,), batch_size=2, epochs=3), many_steps_dataset(), paused=False)
    qtbot.waitUntil(lambda: len(got["steps"]) >= 1, timeout=60_000)
    worker.pause()
    worker_settled(qtbot, worker)  # held between two steps, then stopped
    worker.stop()
    qtbot.waitUntil(lambda: "stopped" in got["states"], timeout=20_000)
    assert [r.stopped for r in got["epochs"]][-1:] == [True]


def test_the_finished_run_ends_on_its_best_weights_and_the_lr_finder_leaves_them(qtbot, long_epoch):
    worker, made, steps_done, got = long_epoch
    restored, finder = [], []
    worker.sigBestRestored.connect(lambda run, epoch: restored.append(epoch))
    worker.sigLRFinder.connect(lambda run, payload: finder.append(payload))
    worker.new_run(TrainingConfig(hidden_sizes=(4,), batch_size=32, epochs=3), many_steps_dataset(200),
                   paused=False)
    qtbot.waitUntil(lambda: "finished" in got["states"], timeout=60_000)
    trainer = made[0]
    assert restored == [trainer.best.epoch] and trainer.best.epoch >= 1
    params = trainer._ensure_model().get_params()
    assert all(np.array_equal(params[k], trainer.best.params[k]) for k in params)
    worker.find_learning_rate(min_lr=1e-4, max_lr=1.0, steps=30)
    qtbot.waitUntil(lambda: any("result" in p or "error" in p for p in finder), timeout=60_000)
    assert any("done" in p for p in finder), "no progress before the result"
    result = finder[-1]["result"]
    assert len(result.rates) == len(result.losses) > 0
    after = trainer._ensure_model().get_params()
    assert all(np.array_equal(params[k], after[k]) for k in params), "the LR finder changed the weights"
