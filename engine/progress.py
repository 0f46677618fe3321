"""Progress inside an epoch and the best weights so far: what a long epoch reports and keeps.

``StepMeter`` turns the training steps the Trainer already books (each step's loss is read back
from the device once, as before) into a :class:`StepReport` at most every ``interval`` seconds,
handed to the Trainer's step listeners on the training thread. It adds one clock read per step
and no device sync, so a 3-minute epoch on a large text shows its running loss, steps per second
and ETA within a second, while per-epoch reports stay as they are.

``BestWeights`` keeps a copy of the parameters of the epoch with the lowest validation loss (the
test set never chooses it), so a run that overfits can be rolled back, and early stopping can
count the epochs since the last improvement.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

PROGRESS_INTERVAL = 0.5  # seconds between partial reports within an epoch


@dataclass(frozen=True)
class StepReport:
    """Partial progress of the running epoch."""

    epoch: int  # 1-based, the epoch in progress
    step: int  # training steps done in this epoch
    steps_in_epoch: int
    wall_s: float  # seconds since the epoch generator started (compile included)
    train_loss: float  # running mean training loss over this epoch's applied steps
    steps_per_s: float  # over this epoch so far

    @property
    def eta_s(self) -> float:
        """Seconds left in this epoch's training steps at the current rate."""
        left = max(self.steps_in_epoch - self.step, 0)
        return left / self.steps_per_s if self.steps_per_s > 0 else math.inf

    def to_row(self) -> list:
        """The ``steps.csv`` row: epoch, step, wall_s, train_loss, steps_per_s."""
        return [self.epoch, self.step, round(self.wall_s, 3), self.train_loss, round(self.steps_per_s, 3)]


STEPS_CSV_HEADER = ["epoch", "step", "wall_s", "train_loss", "steps_per_s"]


class StepMeter:
    """Calls ``listeners`` with a StepReport at most every ``interval`` s of an epoch's steps."""

    def __init__(self, listeners: list, interval: float = PROGRESS_INTERVAL):
        self.listeners = listeners  # the Trainer's list: listeners added later are seen
        self.interval = interval
        self._t0 = time.perf_counter()
        self._epoch = self._n_steps = 0
        self._t_epoch = self._t_last = self._t0
        self._report_next = False

    def start_epoch(self, epoch: int, n_steps: int, report_first: bool = False) -> None:
        """``report_first``: report the first booked step at once (a new model's first training
        loss, right after its compile), then every ``interval`` as usual."""
        self._epoch, self._n_steps = epoch, n_steps
        self._t_epoch = self._t_last = time.perf_counter()
        self._report_next = report_first

    def step(self, tally) -> None:
        """After a booked step: report if ``interval`` has passed since the last report."""
        if not self.listeners:
            return
        now = time.perf_counter()
        if now - self._t_last < self.interval and not self._report_next:
            return
        self._report_next = False
        self._t_last = now
        done = tally.n_ok + tally.skipped
        elapsed = now - self._t_epoch
        report = StepReport(epoch=self._epoch, step=done, steps_in_epoch=self._n_steps, wall_s=now - self._t0,
                            train_loss=tally.train_loss, steps_per_s=done / elapsed if elapsed > 0 else 0.0)
        for listener in list(self.listeners):
            listener(report)


class BestWeights:
    """The parameters of the lowest-validation-loss epoch (a copy; see the module docstring)."""

    def __init__(self):
        self.epoch = 0  # 0: no epoch observed yet
        self.val_loss = math.inf
        self.params = None  # OrderedDict name -> fresh ndarray

    def observe(self, epoch: int, val_loss: float, model) -> bool:
        """Keep ``model``'s parameters if ``val_loss`` is finite and lower than the best so far."""
        if not (math.isfinite(val_loss) and val_loss < self.val_loss):
            return False
        self.epoch, self.val_loss, self.params = int(epoch), float(val_loss), model.get_params()
        return True

    def seed(self, history) -> None:
        """The best epoch of a restored ``history`` (a resumed or forked run): its loss is the bar
        to beat, its weights are not here (``params`` stays None: restore_best has nothing to put back)."""
        for entry in history:
            val_loss = entry.get("val_loss")
            if val_loss is not None and math.isfinite(val_loss) and val_loss < self.val_loss:
                self.epoch, self.val_loss = int(entry["epoch"]), float(val_loss)

    def record(self) -> dict:
        """run.json's "best": {"epoch", "val_loss"} (None, None before any epoch was validated)."""
        return {"epoch": self.epoch or None, "val_loss": self.val_loss if self.epoch else None}

    def epochs_since(self, epoch: int) -> int:
        return int(epoch) - self.epoch if self.epoch else int(epoch)
