"""The compute backend made ready off the GUI thread, as early in the launch as possible.

Importing PyTensor and JAX takes about a second (README.md, "Latency of structural changes"),
and the first run cannot compile before it is done. :func:`start` runs :func:`import_modules`
on a daemon thread: ``gui.app.setup_window`` calls it before it imports and builds the window,
so the imports overlap with PyQt5's and pyqtgraph's and with the window's construction instead
of following them. The training worker calls :func:`warm_up` first thing on its own thread
(``gui.worker_tools``): it waits for those imports (they are done once per process) and then
selects the backend and starts XLA's compiler there: only imports happen on the short-lived
thread, and JAX's runtime (its XLA client and thread pools) starts on the worker's thread, which
lives as long as the process, as it did before. A failure is left for the first run to report
(it selects the backend itself).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state = {"imported": False}


def _import_modules() -> None:
    import engine.training  # noqa: F401  (PyTensor's tensor modules, the model)
    from engine import backend

    if backend.requested_backend() == "jax":
        import jax  # noqa: F401
        import jax.numpy  # noqa: F401


def _start_backend() -> None:
    from engine import backend

    if backend.select().name == "jax":
        import jax
        import jax.numpy as jnp

        jax.jit(lambda x: x + 1)(jnp.float32(0)).block_until_ready()


def import_modules() -> None:
    """Import PyTensor, the engine and JAX, once per process; a second caller waits for the first."""
    with _lock:
        if _state["imported"]:
            return
        try:
            _import_modules()
        except Exception as exc:  # the first run reports a broken backend with its own error
            log.debug("importing the backend failed: %s", exc)
        finally:
            _state["imported"] = True


def warm_up() -> None:
    """On the worker thread: the imports (or the wait for them), then the backend and XLA started."""
    import_modules()
    try:
        _start_backend()
    except Exception as exc:
        log.debug("starting the backend failed: %s", exc)


def start() -> threading.Thread:
    """Import the backend's modules on a daemon thread (returns at once)."""
    thread = threading.Thread(target=import_modules, name="backend-imports", daemon=True)
    thread.start()
    return thread
