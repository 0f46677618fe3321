"""Recovering from divergence: exploding steps are caught early, and the last good weights kept.

A refused step (non-finite loss or gradient) leaves the weights as they were, but a run with a
far too large learning rate first takes steps whose losses are finite and astronomic: with SGD at
rate 1000 the weights reached 1e17-1e24 before the first NaN, and from there every step was
refused whatever the new rate, so Resume never recovered. Two things here make recovery real:

* :meth:`LastGoodWeights.exploded` says when a step's loss is beyond ``EXPLOSION_FACTOR`` times
  the run's reference loss (its first step's, at the weights it started from); the Trainer ends
  the epoch there and reports it as diverged, before the weights run away;
* :class:`LastGoodWeights` keeps a copy of the parameters and optimizer state of the last epoch
  that was good (finite losses, no refused or exploding step, not more than ``GOOD_FACTOR``
  above the best so far), from the weights the run started with on; ``Trainer.roll_back()`` puts
  them back, so the run resumes from there with a new rate.

Qt-free, numpy only, in the style of ``engine.progress.BestWeights``.
"""

from __future__ import annotations

import math

EXPLOSION_FACTOR = 1e4  # a step's loss this many times the reference loss is divergence
REFERENCE_FLOOR = 1.0  # ... with the reference at least this (a tiny first loss is not a scale)
GOOD_FACTOR = 10.0  # an epoch whose loss is more than this many times the best is not "good"


class LastGoodWeights:
    """The parameters and optimizer state of the last good epoch (see the module docstring)."""

    def __init__(self):
        self.epoch = -1  # -1: nothing kept yet; 0: the weights a fresh run started from
        self.params = None  # OrderedDict name -> fresh ndarray
        self.optimizer_state = None
        self.reference = math.nan  # the run's first finite step loss
        self.best_train = self.best_val = math.inf

    @property
    def kept(self) -> bool:
        return self.params is not None

    def keep(self, epoch: int, model, optimizer) -> None:
        """Copy ``model``'s parameters and ``optimizer``'s state as those of ``epoch``."""
        self.epoch = int(epoch)
        self.params = model.get_params()
        self.optimizer_state = optimizer.get_state() if optimizer is not None else None

    # ------------------------------------------------------------------ steps
    def limit(self) -> float:
        """The step loss beyond which a run has diverged (inf until a reference is known)."""
        if not math.isfinite(self.reference):
            return math.inf
        return EXPLOSION_FACTOR * max(self.reference, REFERENCE_FLOOR)

    def exploded(self, loss: float) -> bool:
        """True if a booked step's finite ``loss`` is astronomic; the first finite one sets the
        reference (the run's loss at the weights it started from)."""
        if not math.isfinite(loss):
            return False  # refused in the compiled step already (ok == 0)
        if not math.isfinite(self.reference):
            self.reference = float(loss)
            return False
        return loss > self.limit()

    # ------------------------------------------------------------------ epochs
    def is_good(self, train_loss: float, val_loss: float, diverged: bool) -> bool:
        if diverged or not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            return False
        return train_loss <= GOOD_FACTOR * self.best_train and val_loss <= GOOD_FACTOR * self.best_val

    def observe(self, epoch: int, train_loss: float, val_loss: float, diverged: bool, model, optimizer) -> bool:
        """After an epoch: keep its weights if it was good; True if they were kept."""
        good = self.is_good(train_loss, val_loss, diverged)
        if good:
            self.best_train = min(self.best_train, float(train_loss))
            self.best_val = min(self.best_val, float(val_loss))
            self.keep(epoch, model, optimizer)
        return good
