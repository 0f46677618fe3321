"""The engine's JAX linker: PyTensor's, minus an XLA compile per shared variable shape.

PyTensor's ``JAXLinker`` turns every graph input that already holds a value (every shared
variable: the weights and the optimizer state) into a JAX array with ``jnp.array`` while it
writes the Python function it hands to ``jax.jit`` (``fgraph_to_python``; PyTensor marks it
"FIXME ... wasteful"). Those arrays are never used, because the compiled function is called
with the variables' current values, but under JAX 0.10 ``jnp.array`` of a NumPy array runs
the ``stage`` primitive eagerly, and that is one small XLA compile (~10-40 ms) per new shape
and dtype; the graph's array constants go the same way. A training step paid ten of them
before its own compile began.

:class:`EngineJAXLinker` hides the inputs' values from that conversion and hands it the array
constants already on the device (``jax.device_put`` compiles nothing): the compiled function,
its inputs, outputs and updates are PyTensor's own. Only the engine's mode uses it
(``engine.backend.select``), so a host process's own PyTensor functions are untouched.

A copy of a compiled function (``Function.copy`` in engine.function_cache: the same graph on
other shared variables) is linked under :func:`reusing`: it takes the original's Python function
and ``jax.jit`` wrapper instead of writing them again, so JAX traces only shapes it has not seen
(a Reset traces nothing; a resize traces its new shapes once).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import jax
import numpy as np
from pytensor.graph.basic import Constant
from pytensor.link.jax.linker import JAXLinker
from pytensor.tensor.random.type import RandomType


_reuse = threading.local()


@contextmanager
def reusing(fn):
    """Functions linked in this block on this thread reuse ``fn``'s JAX function: only for a copy
    of ``fn`` (the same graph, inputs in the same order). A ``fn`` not linked by this linker: no-op."""
    linker = getattr(getattr(fn, "maker", None), "linker", None)
    source = linker if isinstance(linker, EngineJAXLinker) and linker.jitted is not None else None
    _reuse.source = source
    try:
        yield
    finally:
        _reuse.source = None


class EngineJAXLinker(JAXLinker):
    """``JAXLinker`` that does not convert the values of the graph's inputs up front."""

    converted = None  # the Python function written for this linker's graph
    jitted = None  # its jax.jit wrapper

    def jit_compile(self, fn):
        source = getattr(_reuse, "source", None)
        if source is not None and fn is source.converted:
            self.converted, self.jitted = source.converted, source.jitted
        else:
            self.converted, self.jitted = fn, super().jit_compile(fn)
        return self.jitted

    def fgraph_convert(self, fgraph, input_storage, storage_map, **kwargs):
        source = getattr(_reuse, "source", None)
        if source is not None and len(fgraph.inputs) == len(source.fgraph.inputs):
            self.scalar_shape_inputs = source.scalar_shape_inputs
            return source.converted
        if any(isinstance(inp.type, RandomType) for inp in fgraph.inputs):
            # PyTensor swaps shared random generators in this step: leave that to it.
            return super().fgraph_convert(fgraph, input_storage, storage_map, **kwargs)
        # A view of the storage in which inputs hold no value: fgraph_to_python then converts
        # only the graph's constants. The real storage (the thunk's inputs) is not touched.
        view = dict(storage_map)
        for inp in fgraph.inputs:
            view[inp] = [None]
        for const in _array_constants(fgraph):
            # On the device already, so fgraph_to_python keeps it as it is (no jnp.array).
            view[const] = [jax.device_put(const.data)]
        return super().fgraph_convert(fgraph, input_storage, view, **kwargs)


def _array_constants(fgraph):
    """The graph's NumPy array constants (0-d ones are left to PyTensor, which makes them
    weakly typed Python scalars)."""
    seen = set()
    for node in fgraph.apply_nodes:
        for inp in node.inputs:
            data = getattr(inp, "data", None)
            if isinstance(inp, Constant) and isinstance(data, np.ndarray) and data.ndim > 0 and inp not in seen:
                seen.add(inp)
                yield inp
