"""When the training worker runs the next inference (predictions, text samples) while training.

Qt-free. Inference takes about 1/BUDGET_RATIO of the wall time at most, so it never slows training
noticeably, but never waits longer than MAX_INTERVAL_S: the next one is due ``BUDGET_RATIO - 1``
times the last one's duration later, clamped to [MIN_INTERVAL_S, MAX_INTERVAL_S]. A compile is no
part of that duration: the first inference of a run compiles ``f_predict`` (seconds), and counting
it once pushed the next refresh 9 x that far away, so the Predictions dock showed an early epoch
for most of a short run. While the run is paused, stopped or finished, a request is served at once
(the worker checks ``TrainingWorker._training_continuously``).
"""

from __future__ import annotations

import contextlib
import time

MIN_INTERVAL_S = 0.5
MAX_INTERVAL_S = 2.0  # the panel is never older than this (plus one epoch) while training
BUDGET_RATIO = 10


class InferenceSchedule:
    """The time the next inference is due (``clock`` is injectable for tests)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self.next_at = 0.0
        self.last_interval = 0.0

    def reset(self) -> None:
        """A new run: its first inference is due at once."""
        self.next_at = 0.0

    def due(self) -> bool:
        return self._clock() >= self.next_at

    def wait_s(self) -> float:
        """Seconds until the next inference is due (0 if it is)."""
        return max(0.0, self.next_at - self._clock())

    def done(self, seconds: float, compile_seconds: float = 0.0) -> float:
        """An inference just ended after ``seconds``, ``compile_seconds`` of them compiling;
        returns the interval until the next one."""
        work = max(0.0, float(seconds) - float(compile_seconds))
        interval = min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, work * (BUDGET_RATIO - 1)))
        self.last_interval = interval
        self.next_at = self._clock() + interval
        return interval

    @contextlib.contextmanager
    def timing(self, trainer):
        """Time the inference in the ``with`` block on ``trainer``; a block in which the trainer
        compiled (``n_compiles`` grew: f_predict's first call) is not counted against the budget."""
        start = self._clock()
        compiles = getattr(trainer, "n_compiles", 0)
        try:
            yield
        finally:
            seconds = self._clock() - start
            compiled = getattr(trainer, "n_compiles", 0) > compiles
            self.done(seconds, compile_seconds=seconds if compiled else 0.0)
