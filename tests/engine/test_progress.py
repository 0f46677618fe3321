"""Partial progress within an epoch, best weights and early stopping (engine.progress + Trainer)."""

import numpy as np
import pytest

from engine.data import SequenceDataset
from engine.progress import STEPS_CSV_HEADER, StepReport
from engine.training import Trainer, TrainingConfig
from tests.engine.test_training import classify_dataset


def test_partial_progress_arrives_within_an_epoch():
    rng = np.random.default_rng(0)
    labels = np.arange(400) % 2
    seqs = [rng.standard_normal((20, 1)) + lab for lab in labels]
    data = SequenceDataset(sequences=seqs, labels=labels, task="classify_sequence", class_names=["a", "b"])
    trainer = Trainer(TrainingConfig(hidden_sizes=(16,), batch_size=4, epochs=1), data)
    trainer._meter.interval = 0.02  # the default 0.5 s, shortened so a small test epoch sees several
    events = []
    trainer.step_listeners.append(lambda r: events.append(("step", r)))
    for report in trainer.epochs():
        events.append(("epoch", report))
    steps = [r for kind, r in events if kind == "step"]
    assert events[-1][0] == "epoch" and steps, "no partial report before the epoch ended"
    first = steps[0]
    assert first.epoch == 1 and 0 < first.step < first.steps_in_epoch == 80
    assert [r.step for r in steps] == sorted(r.step for r in steps)
    assert all(np.isfinite(r.train_loss) and r.steps_per_s > 0 for r in steps)
    assert len(first.to_row()) == len(STEPS_CSV_HEADER)


def test_eta_follows_the_rate():
    report = StepReport(epoch=1, step=10, steps_in_epoch=30, wall_s=1.0, train_loss=0.5, steps_per_s=5.0)
    assert report.eta_s == pytest.approx(4.0)


def scripted(trainer, losses):
    """Make the validation loss of epoch k be losses[k - 1] (the training itself is real)."""
    real = trainer._evaluate

    def evaluate(limit=None):
        loss, accuracy, hidden, gates, complete = real(limit)
        return losses[min(trainer.epoch, len(losses) - 1)], accuracy, hidden, gates, complete
    trainer._evaluate = evaluate


def test_patience_stops_after_epochs_without_improvement():
    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), batch_size=8, epochs=50, patience=2), classify_dataset())
    scripted(trainer, [1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    reports = list(trainer.epochs())
    assert [r.epoch for r in reports] == [1, 2, 3, 4]
    assert reports[-1].early_stopped and not any(r.early_stopped for r in reports[:-1])
    assert reports[-1].best_epoch == 2 and trainer.best.epoch == 2


def test_no_patience_trains_every_epoch():
    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), batch_size=8, epochs=5), classify_dataset())
    scripted(trainer, [1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert len(list(trainer.epochs())) == 5


def test_restore_best_puts_back_the_lowest_validation_loss_weights():
    trainer = Trainer(TrainingConfig(hidden_sizes=(8,), batch_size=8, epochs=6, learning_rate=0.05),
                      classify_dataset(n=40))
    kept = {}
    for report in trainer.epochs():
        kept[report.epoch] = (trainer._ensure_model().get_params(), report.val_loss)
    best = min(kept, key=lambda e: kept[e][1])
    assert trainer.best.epoch == best == report.best_epoch
    assert trainer.restore_best() == best
    params = trainer._ensure_model().get_params()
    assert all(np.array_equal(params[k], kept[best][0][k]) for k in params)
    loss, _, _, _, _ = trainer._evaluate()
    assert loss == pytest.approx(kept[best][1], rel=1e-5)


def test_restore_before_any_epoch_is_a_no_op():
    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), epochs=1), classify_dataset())
    assert trainer.restore_best() == 0


def test_patience_is_validated():
    with pytest.raises(ValueError, match="patience must be a positive number of epochs"):
        TrainingConfig(patience=-1)
    assert TrainingConfig(patience=0).patience == 0


def test_a_new_model_reports_its_first_step_before_validation_compiles():
    # The window's first loss point of a new model comes from this report, one compile earlier.
    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), batch_size=8, epochs=2), classify_dataset(n=40))
    seen = []
    trainer.step_listeners.append(lambda r: seen.append((r, trainer.f_loss is None)))
    reports = list(trainer.epochs())
    first, before_validation = seen[0]
    assert before_validation, "the first StepReport came after validation had compiled"
    assert first.epoch == 1 and first.step >= 1 and np.isfinite(first.train_loss)
    assert reports[0].compile_seconds > 0 and reports[1].compile_seconds == 0
    assert len(trainer.history) == 2


def test_step_hooks_run_after_every_step():
    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), batch_size=8, epochs=2), classify_dataset(n=40))
    calls = []
    trainer.step_hooks.append(lambda: calls.append(trainer.epoch))
    list(trainer.epochs())
    steps = -(-len(trainer.split.train) // 8)  # batches per epoch
    assert len(calls) == 2 * (steps - 1)  # every step but the last of each epoch (the epoch ends there)


def test_patience_is_a_live_setting():
    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), epochs=3), classify_dataset())
    assert trainer.update(patience=5) == {"patience": (None, 5)}
    assert trainer.config.patience == 5
    trainer.update(patience=0)
    assert trainer.config.patience is None
    with pytest.raises(ValueError, match="patience"):
        trainer.update(patience=-2)
