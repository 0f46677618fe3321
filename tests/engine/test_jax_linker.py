import numpy as np
import pytensor
import pytensor.tensor as pt
from jax import monitoring
from pytensor.compile.mode import get_mode

from engine import backend
from engine.jax_linker import EngineJAXLinker

BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"


class _CompileCounter:
    def __init__(self):
        self.n = 0

    def __call__(self, event, duration, **kwargs):
        if event == BACKEND_COMPILE:
            self.n += 1

    def __enter__(self):
        monitoring.register_event_duration_secs_listener(self)
        return self

    def __exit__(self, *exc):
        monitoring.unregister_event_duration_listener(self)


def _step(shape, mode, seed=0):
    """A tiny training step on shared weights of ``shape`` (updates W and b)."""
    rng = np.random.default_rng(seed)
    W = pytensor.shared(rng.normal(size=shape).astype("float32"), name="W")
    b = pytensor.shared(rng.normal(size=shape[1:]).astype("float32"), name="b")
    x = pt.tensor("x", dtype="float32", shape=(4, shape[0]))
    loss = pt.sqr(pt.tanh(x @ W + b)).mean()
    gW, gb = pytensor.grad(loss, [W, b])
    f = backend.function([x], loss, updates=[(W, W - 0.1 * gW), (b, b - 0.1 * gb)], mode=mode)
    return f, W, b, rng.normal(size=(4, shape[0])).astype("float32")


def test_a_new_shape_compiles_one_executable_not_one_per_shared_variable():
    # Shapes no other test uses: JAX caches its small per-shape compiles for the process.
    backend.select("jax", "float32")
    with _CompileCounter() as compiles:
        f, W, b, x = _step((37, 29), backend.get_mode())
        built = compiles.n
        f(x)
    assert isinstance(f.maker.linker, EngineJAXLinker)
    assert built == 0  # PyTensor's linker: jnp.array of W and b, one XLA compile per new shape
    assert compiles.n == 1  # the step itself


def test_the_engine_linker_computes_what_pytensors_jax_linker_computes():
    backend.select("jax", "float32")
    ours, W1, b1, x = _step((5, 3), backend.get_mode())
    theirs, W2, b2, _ = _step((5, 3), get_mode("JAX"))
    for _ in range(3):  # the updated weights are read again by the next call
        np.testing.assert_array_equal(np.asarray(ours(x)), np.asarray(theirs(x)))
    np.testing.assert_array_equal(W1.get_value(), W2.get_value())
    np.testing.assert_array_equal(b1.get_value(), b2.get_value())
