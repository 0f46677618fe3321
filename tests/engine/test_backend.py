import numpy as np
import pytensor.tensor as pt
import pytest

from engine import backend


def test_default_backend_is_jax_and_described_in_one_line():
    info = backend.select()
    assert info.name == "jax"
    line = backend.describe()
    assert "\n" not in line and "JAX" in line and "float32" in line


def test_function_uses_the_configured_mode_and_counts_compiles():
    backend.select("jax", "float32")
    before = backend.compile_count()
    x = pt.vector("x", shape=(3,))
    f = backend.function([x], (x * 2).sum())
    assert backend.compile_count() == before + 1
    assert float(f(np.ones(3, dtype="float32"))) == 6.0
    assert "JAX" in type(f.maker.linker).__name__.upper()


def test_float64_is_selectable_on_jax():
    try:
        backend.select("jax", "float64")
        x = pt.dvector("x", shape=(2,))
        out = backend.function([x], x * 1.5)(np.array([1.0, 2.0]))
        assert np.asarray(out).dtype == np.float64
    finally:
        backend.select("jax", "float32")


def test_unknown_backend_or_dtype_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="jax, c, numba"):
        backend.select("tpu")
    with pytest.raises(ValueError, match="float32, float64"):
        backend.select("jax", "float16")


def test_missing_jax_falls_back_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(backend, "_jax_available", lambda: (False, "ImportError: no jax"))
    try:
        with caplog.at_level("WARNING", logger="rnnscope.backend"):
            info = backend.select("jax")
        assert info.name == "c" and info.requested == "jax"
        assert "JAX could not be imported" in caplog.text
        assert "fell back" in backend.describe()
    finally:
        monkeypatch.undo()
        backend.select("jax", "float32")


def test_c_backend_is_selectable_and_multiplies_matrices_without_a_blas_library():
    # Dot22 has no C code without a linkable BLAS; the CVM linker must fall back, not fail.
    try:
        info = backend.select("c", "float32")
        assert info.name == "c" and "C" in backend.describe()
        a = pt.matrix("a", shape=(2, 3))
        b = pt.matrix("b", shape=(3, 2))
        out = backend.function([a, b], a @ b)(np.ones((2, 3), "float32"), np.ones((3, 2), "float32"))
        np.testing.assert_allclose(out, np.full((2, 2), 3.0))
    finally:
        backend.select("jax", "float32")
