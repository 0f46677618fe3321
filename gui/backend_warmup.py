"""The compute backend made ready off the GUI thread, as early in the launch as possible.

Importing PyTensor and JAX and starting XLA's compiler takes about a second (README.md,
"Latency of structural changes"), and the first run cannot compile before it is done.
:func:`start` runs :func:`warm_up` on a daemon thread: ``gui.app.setup_window`` calls it before
it imports and builds the window, so that second overlaps with PyQt5's and pyqtgraph's imports
and the window's construction instead of following them. The training worker calls
:func:`warm_up` first thing on its own thread (``gui.worker_tools``): the work is done once per
process, and a caller that comes while it runs waits for it. A failure is left for the first
run to report (it selects the backend itself).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state = {"done": False}


def _import_backend() -> None:
    import engine.training  # noqa: F401  (PyTensor's tensor modules, the model)
    from engine import backend

    if backend.select().name == "jax":
        import jax
        import jax.numpy as jnp

        jax.jit(lambda x: x + 1)(jnp.float32(0)).block_until_ready()


def warm_up() -> None:
    """Import the backend and start XLA, once per process; returns when that is done."""
    with _lock:
        if _state["done"]:
            return
        try:
            _import_backend()
        except Exception as exc:  # the first run reports a broken backend with its own error
            log.debug("warming up the backend failed: %s", exc)
        finally:
            _state["done"] = True


def start() -> threading.Thread:
    """Warm the backend up on a daemon thread (returns at once)."""
    thread = threading.Thread(target=warm_up, name="backend-warmup", daemon=True)
    thread.start()
    return thread
