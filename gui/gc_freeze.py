"""GarbageFreezer: the worker's compiled graphs kept out of the garbage collector's sight.

A full (generation 2) collection walks every object of the process, hundreds of thousands
after a compile (PyTensor graphs, JAX, pyqtgraph), with the GIL held, which the window feels
as a stall (figures in benchmarks/README.md). Once a run has compiled, its graphs live as
long as the run, so they are moved out of the collector's sight (gc.freeze); they are handed
back, and the old runs' garbage collected, when a later run starts (a moment the window
already shows as busy). Freezing is cumulative and unfreeze releases everything, so restarts
in quick succession share one collection (at most one per ``min_interval_s``) without losing
any garbage.
"""

from __future__ import annotations

import gc
import time

GC_MIN_INTERVAL_S = 10.0


class GarbageFreezer:
    """Used from one thread (the worker's)."""

    def __init__(self, min_interval_s: float = GC_MIN_INTERVAL_S):
        self.min_interval_s = min_interval_s
        self.frozen = False
        self._collected_at = float("-inf")

    def freeze(self) -> None:
        gc.freeze()
        self.frozen = True

    def thaw(self) -> None:
        now = time.monotonic()
        if self.frozen and now - self._collected_at >= self.min_interval_s:
            gc.unfreeze()
            gc.collect()
            self.frozen = False
            self._collected_at = now
