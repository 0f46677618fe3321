"""engine.lr_finder: the range test leaves the model untouched and compiles once, not per rate."""

import json
from pathlib import Path

import numpy as np
import pytest

from engine import backend
from engine.lr_finder import _copy_trainer, find_learning_rate, smooth, suggest_rate
from engine.training import Trainer, TrainingConfig
from tests.engine.test_training import classify_dataset


def test_sweep_leaves_weights_and_optimizer_state_bit_identical():
    trainer = Trainer(TrainingConfig(hidden_sizes=(8,), batch_size=8, epochs=1), classify_dataset(n=40))
    list(trainer.epochs())  # trained weights and a non-zero Adam state
    before = trainer._ensure_model().get_params()
    state_before = trainer._optimizer.get_state()
    lr_before = trainer.config.learning_rate
    compiles = backend.compile_count()
    result = find_learning_rate(trainer, min_lr=1e-4, max_lr=10.0, steps=60)
    # the copy compiles once, whatever the number of rates (a global count: another test's leftover
    # thread may compile meanwhile, so the copy's own functions are checked in the test below)
    assert backend.compile_count() - compiles <= 2
    after = trainer._ensure_model().get_params()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    state_after = trainer._optimizer.get_state()
    assert all(np.array_equal(state_before[k], state_after[k]) for k in state_before)
    assert trainer.config.learning_rate == lr_before
    assert len(result.rates) == len(result.losses) == len(result.smoothed) > 10
    assert np.all(np.diff(result.rates) > 0)  # log-uniform, increasing
    assert result.suggested is None or 1e-4 <= result.suggested <= result.rates[-1]
    assert "copy of the weights" in result.note or "did not fall" in result.note
    assert result.smoothed == pytest.approx(smooth(result.losses))


def test_bad_sweep_arguments_are_refused():
    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), epochs=1), classify_dataset())
    with pytest.raises(ValueError, match="min_lr < max_lr"):
        find_learning_rate(trainer, min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="steps"):
        find_learning_rate(trainer, steps=3)


def test_sweep_batches_from_the_trainers_arrays_without_copying_them(monkeypatch):
    import engine.training

    trainer = Trainer(TrainingConfig(hidden_sizes=(4,), batch_size=8, epochs=1), classify_dataset(n=40))
    list(trainer.epochs())
    built = []
    real = engine.training.TimeMajor
    monkeypatch.setattr(engine.training, "TimeMajor", lambda *a, **k: built.append(a) or real(*a, **k))
    before = trainer._ensure_model().get_params()
    result = find_learning_rate(trainer, min_lr=1e-4, max_lr=1.0, steps=20)
    assert built == []  # the copy trained on trainer._train itself, not on a transposed copy of the data
    assert len(result.rates) > 10
    copy = _copy_trainer(trainer)
    assert copy._train is trainer._train and copy._val is trainer._val
    assert copy.f_train is not None and copy.f_loss is None  # the sweep never validates: no f_loss compiled
    after = trainer._ensure_model().get_params()
    assert all(np.array_equal(before[k], after[k]) for k in before)


# Recorded sweeps (tests/engine/fixtures/lr_curves.json, see its "about"): loss against rate on the
# waveforms sample, UCR files and the sine sample, with the default and the suggested settings.
CURVES = json.loads((Path(__file__).parent / "fixtures" / "lr_curves.json").read_text())["curves"]


def _grid_loss(grid: dict, rate: float) -> float:
    """The fixed-rate runs' best validation loss at ``rate`` (linear in log rate between grid rates)."""
    rates = sorted(grid, key=float)
    x = np.log([float(r) for r in rates])
    return float(np.interp(np.log(rate), x, [grid[r] for r in rates]))


@pytest.mark.parametrize("name", sorted(CURVES))
def test_the_suggestion_is_well_inside_a_recorded_sweep(name):
    curve = CURVES[name]
    rates, smoothed = curve["rates"], smooth(curve["losses"])
    suggested = suggest_rate(rates, smoothed)
    # the old rule (steepest slope) answered the first rates, 1e-5, on the waveforms: a start-up wobble
    assert suggested is not None and suggested >= 10 * rates[0]
    assert suggested < rates[int(np.argmin(smoothed))]  # below the lowest loss, far from the blow-up


@pytest.mark.parametrize("name", sorted(n for n in CURVES if "grid" in CURVES[n]))
def test_the_suggested_rate_trains_nearly_as_well_as_the_best_fixed_rate(name):
    """Against fixed-rate runs of ~400 steps: the suggestion is within 15 % of their range from the
    best one (the old rule's 1e-5 to 1e-4 suggestions were at the worst end on 4 of these 5)."""
    curve = CURVES[name]
    grid = curve["grid"]["val_loss"]
    suggested = suggest_rate(curve["rates"], smooth(curve["losses"]))
    best, worst = min(grid.values()), max(grid.values())
    assert _grid_loss(grid, suggested) <= best + 0.15 * (worst - best), (suggested, grid)


def test_no_suggestion_when_the_loss_never_falls():
    rates = list(np.geomspace(1e-5, 1.0, 60))
    rising = smooth(np.linspace(1.0, 3.0, 60))
    assert suggest_rate(rates, rising) is None
    assert suggest_rate(rates[:15], smooth(np.linspace(1.0, 0.5, 15))) is None  # too short to tell
    falling = smooth(np.linspace(2.0, 0.1, 60))
    assert suggest_rate(rates, falling) == pytest.approx(rates[-1] / 10)
