"""Learning-rate range test (Smith 2017, "Cyclical Learning Rates", section 3.3).

``find_learning_rate(trainer)`` trains a *copy* of the trainer's current weights for a few hundred
steps while the learning rate grows log-uniformly from ``min_lr`` to ``max_lr``, records the loss
of every step, and suggests the rate where the smoothed loss falls fastest (the steepest descent
of loss against log rate, before the loss blows up). The trainer's own weights and optimizer
state are never touched: the copy has its own shared variables. The learning rate is the copy's
shared scalar, so the sweep compiles the training step once, not once per rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.batches import fixed_batches

SMOOTHING = 0.9  # exponential moving average of the step losses (bias-corrected)
BLOW_UP = 4.0  # the sweep ends when the smoothed loss exceeds this multiple of its best


@dataclass
class LRFinderResult:
    rates: list  # learning rate of every step taken
    losses: list  # training loss of each step (the batch it trained on)
    smoothed: list  # the exponential moving average the suggestion is read from
    suggested: float | None  # steepest descent point; None if the sweep was too short to tell
    note: str  # one line for the user

    def to_json(self) -> dict:
        return {"rates": self.rates, "losses": self.losses, "smoothed": self.smoothed,
                "suggested": self.suggested, "note": self.note}


def _copy_trainer(trainer):
    """A Trainer on the same data and split whose parameters start as ``trainer``'s current ones.

    Only the parameters are copied: the copy batches from the trainer's own time-major arrays
    (read-only, so both may run at once; copying them doubled the memory of a big text), and it
    compiles its training step only (the sweep never validates)."""
    from engine.training import Trainer

    params = trainer._ensure_model().get_params()  # fresh NumPy copies; builds trainer._train
    copy = Trainer(trainer.config, trainer.dataset, split=trainer.split)
    copy._train, copy._val = trainer._train, trainer._val
    copy._pending_params = params
    copy._ensure_training_functions()  # the training step only
    return copy


def _steepest(rates, smoothed) -> float | None:
    """Rate of the most negative slope d(loss)/d(log rate), up to the minimum of the smoothed loss."""
    if len(smoothed) < 10:
        return None
    loss = np.asarray(smoothed, dtype=np.float64)
    end = int(np.argmin(loss)) + 1
    if end < 5:
        return None
    log_rates = np.log(np.asarray(rates[:end], dtype=np.float64))
    slope = np.gradient(loss[:end], log_rates)
    return float(rates[int(np.argmin(slope))])


def find_learning_rate(trainer, min_lr: float = 1e-5, max_lr: float = 1.0, steps: int = 200,
                       seed: int = 0, on_step=None) -> LRFinderResult:
    """Sweep the learning rate on a copy of ``trainer``'s weights (see the module docstring).

    ``on_step(done, steps)``, if given, is called after every step of the sweep (progress)."""
    if not (0 < min_lr < max_lr) or not math.isfinite(max_lr):
        raise ValueError(f"the sweep needs 0 < min_lr < max_lr, got {min_lr!r} and {max_lr!r}")
    if not isinstance(steps, int) or steps < 10:
        raise ValueError(f"steps must be an integer >= 10, got {steps!r}")
    copy = _copy_trainer(trainer)
    data = copy._train
    rng = np.random.default_rng(seed)
    rates = np.exp(np.linspace(math.log(min_lr), math.log(max_lr), steps))
    batches = []
    taken, losses, smoothed = [], [], []
    average, best = 0.0, math.inf
    for k, lr in enumerate(rates):
        if not batches:
            batches = fixed_batches(data.n, copy.batch_size, rng.permutation(data.n))
        copy.update(learning_rate=float(lr))  # the shared scalar: no recompile
        loss, _, ok = copy.f_train(*data.batch(batches.pop()))
        loss = float(np.asarray(loss))
        if not bool(np.asarray(ok)) or not math.isfinite(loss):
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        value = average / (1 - SMOOTHING ** (k + 1))
        taken.append(float(lr))
        losses.append(loss)
        smoothed.append(value)
        best = min(best, value)
        if on_step is not None:
            on_step(k + 1, steps)
        if value > BLOW_UP * best:
            break
    suggested = _steepest(taken, smoothed)
    if suggested is None:
        note = f"the loss blew up after {len(taken)} steps; try a smaller min_lr"
    else:
        note = (f"steepest descent at lr {suggested:.2g} (swept {min_lr:.0e}..{taken[-1]:.2g} in "
                f"{len(taken)} steps on a copy of the weights)")
    return LRFinderResult(rates=taken, losses=losses, smoothed=smoothed, suggested=suggested, note=note)
