"""GarbageFreezer: the worker's compiled graphs kept out of the garbage collector's sight.

A full (generation 2) collection walks every object of the process, hundreds of thousands
after a compile (PyTensor graphs, JAX, pyqtgraph), with the GIL held, which the window feels
as a stall (figures in benchmarks/README.md). Once a run has compiled, its graphs live as
long as the run, so they are moved out of the collector's sight (gc.freeze). When a later run
starts (``thaw``), the old runs' graphs become garbage, but they stay frozen while the new run
compiles: the collections the compile itself triggers then do not walk them, and the one
collection that frees them (``release``, 0.2-0.4 s with the GIL held) waits until the new run
has shown its first training loss, instead of delaying it. Freezing is cumulative and unfreeze
releases everything, so restarts in quick succession share one collection (at most one per
``min_interval_s``) without losing any garbage.

The launch itself runs without the collector (:func:`pause_for_launch`, :func:`resume_after_launch`):
importing PyTensor and JAX and building the window create hundreds of thousands of objects and
almost no garbage (~1,400 objects at the first report), yet the collections they trigger cost
~0.1-0.3 s of a ~2.4 s launch (issue 10's launch latency; README.md). The collector is back at the first
training report, or after LAUNCH_PAUSE_MAX_S whatever happens.
"""

from __future__ import annotations

import gc
import time

GC_MIN_INTERVAL_S = 10.0
LAUNCH_PAUSE_MAX_S = 10.0
_launch = {"paused": False}


def pause_for_launch() -> None:
    """The collector off for the launch (if it was on); :func:`resume_after_launch` turns it back on."""
    if gc.isenabled():
        gc.disable()
        _launch["paused"] = True


def resume_after_launch() -> None:
    """The collector on again if :func:`pause_for_launch` turned it off (any thread, any number of times)."""
    if _launch["paused"]:
        _launch["paused"] = False
        gc.enable()


class GarbageFreezer:
    """Used from one thread (the worker's)."""

    def __init__(self, min_interval_s: float = GC_MIN_INTERVAL_S):
        self.min_interval_s = min_interval_s
        self.frozen = False
        self.due = False  # a run was replaced: its garbage waits for release()
        self._collected_at = float("-inf")

    def freeze(self) -> None:
        """The run's first epoch is done: collect what is due (if no step report did), freeze."""
        self.release()
        gc.freeze()
        self.frozen = True

    def thaw(self) -> None:
        """A new run starts: what is frozen may now be garbage; release() collects it."""
        if self.frozen:
            self.due = True

    def release(self) -> None:
        """After the new run's first report: hand the frozen objects back and collect, unless
        the last collection was less than ``min_interval_s`` ago (then a later release does)."""
        now = time.monotonic()
        if self.due and now - self._collected_at >= self.min_interval_s:
            gc.unfreeze()
            gc.collect()
            self.frozen = self.due = False
            self._collected_at = now
