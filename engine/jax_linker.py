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
"""

from __future__ import annotations

import jax
import numpy as np
from pytensor.graph.basic import Constant
from pytensor.link.jax.linker import JAXLinker
from pytensor.tensor.random.type import RandomType


class EngineJAXLinker(JAXLinker):
    """``JAXLinker`` that does not convert the values of the graph's inputs up front."""

    def fgraph_convert(self, fgraph, input_storage, storage_map, **kwargs):
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
