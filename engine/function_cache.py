"""Compiled functions reused by a new model of the same structure (a Reset, a resize).

A new run whose graph would be the same as an earlier one's, except for the values of its
shared variables (weights, optimizer state, hyperparameters), need not rebuild and rewrite it:
PyTensor's ``Function.copy(swap=...)`` gives a function on the new shared variables that skips
the graph build and the rewrites (~1.2-1.4 s CPU for a training step, README.md "Latency of
structural changes"); the linker still writes and traces the JAX function, and XLA compiles it
(or finds the executable in its cache when the shapes were compiled before). The graph does not
name the hidden sizes (engine.model reads them from the shared variables' shapes), so a model of
other hidden sizes is such a run too.

The caller names everything the graph depends on besides those values in the key (the model
spec without its hidden sizes, the batch shape, the optimizer, the backend and dtype) and passes
the shared variables in a fixed order; :class:`FunctionCache` keeps the last few functions it built.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict

from engine import backend

MAX_ENTRIES = 8


class FunctionCache:
    """Key -> (a compiled function, its shared variables in the caller's order)."""

    def __init__(self, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.reused = 0  # how many functions were copies (for tests and diagnostics)

    def get(self, key, shared, build):
        """A function for ``shared``: a copy of the cached one for ``key``, else ``build()``."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
        if hit is not None:
            fn = _copy_onto(*hit, list(shared))
            if fn is not None:
                with self._lock:
                    self.reused += 1
                return fn
        fn = build()
        with self._lock:
            self._entries[key] = (fn, list(shared))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return fn

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _copy_onto(fn, old_shared, new_shared):
    """``fn`` with ``new_shared`` in place of ``old_shared``, or None if they do not match."""
    if len(old_shared) != len(new_shared):
        return None
    if any(old.type != new.type for old, new in zip(old_shared, new_shared)):
        return None
    used = {i.variable for i in fn.maker.inputs}
    swap = {old: new for old, new in zip(old_shared, new_shared) if old in used}
    with _linked_like(fn):
        return backend.copy_function(fn, swap)


def _linked_like(fn):
    """On JAX, the copy takes ``fn``'s JAX function (engine.jax_linker.reusing)."""
    if backend.info().name != "jax":
        return contextlib.nullcontext()
    from engine.jax_linker import reusing

    return reusing(fn)


functions = FunctionCache()  # the process's one cache (the Trainer's training and loss functions)
