"""Learning-rate range test (Smith 2017, "Cyclical Learning Rates", section 3.3).

``find_learning_rate(trainer)`` trains a *copy* of the trainer's current weights for a few hundred
steps while the learning rate grows log-uniformly from ``min_lr`` to ``max_lr``, records the loss
of every step, and suggests a tenth of the rate where the smoothed loss is lowest (``suggest_rate``:
fastai's "minimum / 10"; the first ``SKIP`` steps, where the moving average is still settling, and
the steps after the loss blows up are ignored). The trainer's own weights and optimizer state are
never touched: the copy has its own shared variables. The learning rate is the copy's shared
scalar, so the sweep compiles the training step once, not once per rate.

Why not the steepest descent of loss against log rate: a derivative of a noisy curve is noise.
With 200 steps over five decades, neighbouring rates are 0.025 decades apart, so a batch-to-batch
wobble of 0.01 in the loss is a steeper slope than a real descent of half a nat per decade; on the
waveforms sample it picked the sweep's first rates (1e-5), and on small batches (4) it picked
1e-4 where 1e-2 trains best. On ten recorded sweeps (``tests/engine/fixtures/lr_curves.json``,
with fixed-rate runs of ~400 steps as the reference) the minimum / 10 lands where those runs
train well; ``benchmarks/README.md`` has the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.batches import fixed_batches

SMOOTHING = 0.9  # exponential moving average of the step losses (bias-corrected)
BLOW_UP = 4.0  # the sweep ends when the smoothed loss exceeds this multiple of its best
SKIP = 10  # first steps ignored: the moving average settles over about 1 / (1 - SMOOTHING) steps
DIVISOR = 10  # the suggestion is the rate of the lowest smoothed loss divided by this


@dataclass
class LRFinderResult:
    rates: list  # learning rate of every step taken
    losses: list  # training loss of each step (the batch it trained on)
    smoothed: list  # the exponential moving average the suggestion is read from
    suggested: float | None  # a tenth of the lowest-loss rate; None if the loss never fell
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


def smooth(losses) -> list:
    """The sweep's bias-corrected exponential moving average of ``losses`` (what it suggests from)."""
    out, average = [], 0.0
    for k, loss in enumerate(losses):
        average = SMOOTHING * average + (1 - SMOOTHING) * float(loss)
        out.append(average / (1 - SMOOTHING ** (k + 1)))
    return out


def lowest_point(smoothed) -> int | None:
    """Index of the lowest smoothed loss after the first SKIP steps; None if it is no lower than
    where the sweep started (the loss never fell: nothing to suggest)."""
    loss = np.asarray(smoothed, dtype=np.float64)
    if len(loss) <= 2 * SKIP:
        return None
    lowest = SKIP + int(np.argmin(loss[SKIP:]))
    if lowest == SKIP or loss[lowest] >= loss[:SKIP + 1].min():
        return None
    return lowest


def suggest_rate(rates, smoothed) -> float | None:
    """A tenth of the rate of the lowest smoothed loss, never below the sweep's first rate."""
    lowest = lowest_point(smoothed)
    if lowest is None:
        return None
    return float(max(rates[lowest] / DIVISOR, rates[0]))


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
    suggested = suggest_rate(taken, smoothed)
    if suggested is None:
        note = (f"the loss did not fall in {len(taken)} steps (swept {min_lr:.0e}..{taken[-1]:.2g}); "
                "try a smaller min_lr or more steps")
    else:
        note = (f"lowest loss at lr {taken[lowest_point(smoothed)]:.2g}: a tenth of it, {suggested:.2g} "
                f"(swept {min_lr:.0e}..{taken[-1]:.2g} in {len(taken)} steps on a copy of the weights)")
    return LRFinderResult(rates=taken, losses=losses, smoothed=smoothed, suggested=suggested, note=note)
