"""A barrier on the training worker for tests: wait for a durable fact instead of a fixed time.

``worker.pause()`` takes effect within one step, but when that step ends depends on how soon the
(niced) worker thread gets a core: on a loaded machine a fixed ``qtbot.wait(100)`` after a pause
could end before the epoch under way had reported, and a count taken then changed later. A job
queued with ``worker.submit`` runs only once the worker is between two epochs or holds a paused
epoch between two steps (gui.worker_tools.HOLD_SERVES), and its answer comes back on the GUI
thread after every signal the worker sent before it (one sender thread, one receiver thread: Qt
keeps their order).
"""

from __future__ import annotations

import itertools

_ids = itertools.count(-1, -1)  # negative: never one of the window's own job ids (1, 2, ...)


def worker_settled(qtbot, worker, timeout: int = 30_000) -> None:
    """Return once the worker has served a no-op job queued now: every report sent before it has
    been delivered, and after a pause no epoch is under way any more (a paused run's epoch is held)."""
    job_id = next(_ids)
    with qtbot.waitSignal(worker.sigJobDone, timeout=timeout,
                          check_params_cb=lambda done_id, result, error: done_id == job_id):
        worker.submit(lambda _run: None, job_id)
