"""Gradients of every cell x head: PyTensor (JAX, float64) vs the NumPy reference and vs
central finite differences. Parameters are symbolic inputs here, so one compiled function
per combination serves the loss, the gradients and every finite-difference probe."""

from collections import OrderedDict

import numpy as np
import pytest
import pytensor.tensor as pt

from engine import backend, reference
from engine.model import CELLS, ModelSpec, build_forward, compile_function, init_params, mean_loss, symbolic_inputs

T, B = 5, 3
N_IN, VOCAB, N_CLASSES, N_TARGETS = 3, 7, 4, 2
# Two stacked layers for the forecast head (the inter-layer path, once per cell), one
# layer elsewhere: every compile here costs seconds.
HIDDEN = {"forecast": (4, 3)}
HEADS = ("classify_sequence", "next_token", "forecast")


@pytest.fixture(scope="module", autouse=True)
def float64():
    backend.select("jax", "float64")
    yield
    backend.select("jax", "float32")


def _case(cell, task, is_text=None, vocab=VOCAB):
    is_text = task == "next_token" if is_text is None else is_text
    n_out = {"classify_sequence": N_CLASSES, "next_token": vocab, "forecast": N_TARGETS}[task]
    spec = ModelSpec(cell, task, vocab if is_text else N_IN, HIDDEN.get(task, (4,)), n_out, is_text=is_text,
                     embedding_size=3)
    rng = np.random.default_rng(10 * CELLS.index(cell) + HEADS.index(task))
    params = init_params(spec, seed=1, dtype="float64")
    # Non-zero biases, so no derivative is accidentally ~0.
    params = OrderedDict((k, v + 0.1 * rng.standard_normal(v.shape)) for k, v in params.items())
    if is_text:
        x = rng.integers(0, vocab, (T, B)).astype("int32")
    else:
        x = rng.standard_normal((T, B, N_IN))
    mask = np.ones((T, B))
    mask[3:, 1] = 0.0  # shorter sequences: padding must not leak into the result
    mask[4:, 2] = 0.0
    if task == "classify_sequence":
        y = rng.integers(0, N_CLASSES, (B,)).astype("int32")
    elif task == "next_token":
        y = rng.integers(0, vocab, (T, B)).astype("int32")
    else:
        y = rng.standard_normal((T, B, N_TARGETS))
    return spec, params, x, mask, y


def _compile(spec, params):
    symbols = OrderedDict((k, pt.tensor(k, dtype="float64", shape=v.shape)) for k, v in params.items())
    x, mask, y = symbolic_inputs(spec, T, B)
    out = build_forward(spec, symbols, x, mask)
    loss = mean_loss(spec, out["outputs"], y, mask)
    grads = pt.grad(loss, list(symbols.values()))
    return compile_function(list(symbols.values()) + [x, mask, y], [loss, *grads, *out["hidden"]])


CASES = [(cell, task, None, VOCAB) for cell in CELLS for task in HEADS] + [
    # Text classification with a vocabulary larger than T*B: the plain emb[x] @ W gather path
    # (smaller vocabularies gather rows of the precomputed emb @ W table instead).
    ("gru", "classify_sequence", True, 20),
]


@pytest.mark.parametrize("cell, task, is_text, vocab", CASES)
def test_gradients_match_reference_and_finite_differences(cell, task, is_text, vocab):
    spec, params, x, mask, y = _case(cell, task, is_text, vocab)
    assert spec.is_text == (task == "next_token" or bool(is_text))
    f = _compile(spec, params)
    names = list(params)
    res = [np.asarray(r) for r in f(*params.values(), x, mask, y)]
    loss, grads, hidden = float(res[0]), res[1:1 + len(names)], res[1 + len(names):]
    assert all(g.dtype == np.float64 for g in grads)

    # NumPy reference: forward (loss, hidden states) and hand-written BPTT.
    ref_loss, ref_grads, ref_hidden = reference.loss_and_grads(dict(params), cell, task, x, mask, y)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-6, atol=1e-12)
    for h, rh in zip(hidden, ref_hidden):
        np.testing.assert_allclose(h, rh, rtol=1e-6, atol=1e-10)
    for name, g in zip(names, grads):
        np.testing.assert_allclose(g, ref_grads[name], rtol=1e-6, atol=1e-9, err_msg=f"{cell}/{task}: d{name}")
        assert np.abs(g).max() > 1e-6, f"{cell}/{task}: gradient of {name} is zero: check the test case"

    # Central finite differences along a random direction per parameter (float64).
    rng = np.random.default_rng(0)
    eps = 1e-5
    for k, name in enumerate(names):
        d = rng.standard_normal(params[name].shape)
        plus = OrderedDict(params)
        minus = OrderedDict(params)
        plus[name] = params[name] + eps * d
        minus[name] = params[name] - eps * d
        lp = float(np.asarray(f(*plus.values(), x, mask, y)[0]))
        lm = float(np.asarray(f(*minus.values(), x, mask, y)[0]))
        numeric = (lp - lm) / (2 * eps)
        analytic = float(np.sum(grads[k] * d))
        assert numeric == pytest.approx(analytic, rel=1e-6, abs=1e-9), f"{cell}/{task}: d{name}"
