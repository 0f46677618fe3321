"""The NumPy reference is itself checked: hand-written BPTT against central finite
differences (float64) for every cell x task, and a padded batch against the same
sequences run one by one."""

import numpy as np
import pytest

from engine import reference as ref

T, B, F, HIDDEN, VOCAB, EMB = 5, 4, 3, (4, 3), 6, 3
LENGTHS = [5, 3, 1, 0]  # the last column is a pure padding example
CASES = [(cell, task) for cell in ref.CELLS for task in ref.TASKS]


def _mask(lengths, t=T):
    return (np.arange(t)[:, None] < np.asarray(lengths)[None, :]).astype(np.float64)


def _problem(cell, task, text=False, seed=1, lengths=LENGTHS):
    """Tiny random params, inputs, mask and targets for one cell/task."""
    rng = np.random.default_rng(seed)
    n_out = {"classify_sequence": 3, "next_token": VOCAB, "forecast": 2}[task]
    b = len(lengths)
    if text:
        params = ref.init_params(cell, VOCAB, HIDDEN, n_out, embedding_size=EMB, seed=seed)
        x = rng.integers(0, VOCAB, (T, b))
    else:
        params = ref.init_params(cell, F, HIDDEN, n_out, seed=seed)
        x = rng.normal(size=(T, b, F))
    # Non-zero biases so every term of the derivative is exercised.
    for name in params:
        if name.startswith("b") or name == "c":
            params[name] = params[name] + rng.normal(0, 0.3, params[name].shape)
    mask = _mask(lengths)
    if task == "classify_sequence":
        y = rng.integers(0, n_out, b)
    elif task == "next_token":
        y = rng.integers(0, n_out, (T, b))
    else:
        y = rng.normal(size=(T, b, n_out))
    return params, x, mask, y


def _numeric_grads(params, cell, task, x, mask, y, eps=1e-6):
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            up, _, _ = ref.loss_and_grads(params, cell, task, x, mask, y)
            value[idx] = old - eps
            down, _, _ = ref.loss_and_grads(params, cell, task, x, mask, y)
            value[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


GRAD_CASES = [
    pytest.param(cell, task, text, id=f"{cell}-{task}-{'text' if text else 'numeric'}")
    for cell, task in CASES
    for text in (False, True)
    if not (text and task == "forecast")  # text inputs have no forecast task
]


@pytest.mark.parametrize("cell,task,text", GRAD_CASES)
def test_gradients_match_finite_differences(cell, task, text):
    params, x, mask, y = _problem(cell, task, text=text)
    loss, grads, hidden = ref.loss_and_grads(params, cell, task, x, mask, y)
    assert np.isfinite(loss) and loss > 0
    assert list(grads) == list(params)
    numeric = _numeric_grads(params, cell, task, x, mask, y)
    for name in params:
        assert grads[name].shape == params[name].shape
        assert grads[name].dtype == np.float64
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8, err_msg=name)
    # Gradients are not trivially zero (the check would pass vacuously otherwise).
    assert all(np.abs(grads[name]).max() > 1e-6 for name in params if name != "emb")
    if text:
        unused = np.setdiff1d(np.arange(VOCAB), x[mask > 0])
        # Tokens never seen at a real step get no gradient.
        assert np.all(grads["emb"][unused] == 0) or unused.size == 0


@pytest.mark.parametrize("cell,task", CASES)
def test_padded_batch_equals_one_by_one(cell, task):
    lengths = [5, 3, 2]
    params, x, mask, y = _problem(cell, task, lengths=lengths, seed=3)
    loss, grads, hidden = ref.loss_and_grads(params, cell, task, x, mask, y)
    outputs, hidden_fwd = ref.forward(params, cell, task, x, mask)
    for a, b in zip(hidden, hidden_fwd):
        np.testing.assert_array_equal(a, b)

    weights, losses, grad_sum = [], [], {k: np.zeros_like(v) for k, v in params.items()}
    for col, n in enumerate(lengths):
        # The sequence alone, unpadded (next_token/forecast: the mask is its own length).
        xs = x[:n, col : col + 1]
        ms = np.ones((n, 1))
        ys = y[col : col + 1] if task == "classify_sequence" else y[:n, col : col + 1]
        loss_b, grads_b, hidden_b = ref.loss_and_grads(params, cell, task, xs, ms, ys)
        out_b, _ = ref.forward(params, cell, task, xs, ms)
        w = 1.0 if task == "classify_sequence" else float(n)
        weights.append(w)
        losses.append(loss_b)
        for k in params:
            grad_sum[k] += w * grads_b[k]
        for layer, h in enumerate(hidden_b):
            np.testing.assert_allclose(hidden[layer][:n, col], h[:, 0], rtol=1e-12, atol=1e-14)
            # Padding carries the last valid state to the end of the batch.
            for t in range(n, T):
                np.testing.assert_array_equal(hidden[layer][t, col], hidden[layer][n - 1, col])
        if task == "classify_sequence":
            np.testing.assert_allclose(outputs[col], out_b[0], rtol=1e-12)
        else:
            np.testing.assert_allclose(outputs[:n, col], out_b[:, 0], rtol=1e-12, atol=1e-14)
    total = sum(weights)
    np.testing.assert_allclose(loss, np.dot(weights, losses) / total, rtol=1e-12)
    for k in params:
        np.testing.assert_allclose(grads[k], grad_sum[k] / total, rtol=1e-9, atol=1e-14, err_msg=k)


def test_padding_targets_are_ignored():
    params, x, mask, y = _problem("gru", "forecast")
    loss, grads, _ = ref.loss_and_grads(params, "gru", "forecast", x, mask, y)
    y2 = y.copy()
    y2[mask == 0] = np.nan  # garbage where there is no real step
    loss2, grads2, _ = ref.loss_and_grads(params, "gru", "forecast", x, mask, y2)
    assert loss2 == loss
    for k in grads:
        np.testing.assert_array_equal(grads[k], grads2[k])


def test_init_params_names_shapes_and_forget_bias():
    p = ref.init_params("lstm", 7, (5, 2), 3, embedding_size=4, vocab_size=9, dtype="float32")
    assert list(p) == ["emb", "W1", "U1", "b1", "W2", "U2", "b2", "V", "c"]
    assert p["emb"].shape == (9, 4) and p["W1"].shape == (4, 20) and p["U1"].shape == (5, 20)
    assert p["W2"].shape == (5, 8) and p["U2"].shape == (2, 8) and p["V"].shape == (2, 3)
    assert all(v.dtype == np.float32 for v in p.values())
    np.testing.assert_array_equal(p["b1"][5:10], 1.0)
    assert np.count_nonzero(p["b1"]) == 5
    same = ref.init_params("lstm", 7, (5, 2), 3, embedding_size=4, vocab_size=9, dtype="float32")
    assert all(np.array_equal(p[k], same[k]) for k in p)  # deterministic per seed


def test_float32_params_compute_in_float32():
    params, x, mask, y = _problem("elman", "next_token", text=True)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    loss32, grads32, hidden32 = ref.loss_and_grads(p32, "elman", "next_token", x, mask, y)
    loss64, grads64, _ = ref.loss_and_grads(params, "elman", "next_token", x, mask, y)
    assert all(g.dtype == np.float32 for g in grads32.values()) and hidden32[0].dtype == np.float32
    assert abs(loss32 - loss64) < 1e-5


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(x=np.zeros((T, 2, F + 1)), mask=np.ones((T, 2))), r"x must have shape \(T, B, 3\)"),
        (dict(x=np.zeros((T, 2, F)), mask=np.ones((T, 3))), "mask must have shape"),
    ],
)
def test_bad_shapes_are_named(kwargs, match):
    params = ref.init_params("elman", F, (2,), 2)
    with pytest.raises(ValueError, match=match):
        ref.forward(params, "elman", "forecast", **kwargs)


def test_bad_names_and_empty_batch():
    with pytest.raises(ValueError, match="cell must be one of"):
        ref.init_params("rnn", 2, (3,), 2)
    with pytest.raises(ValueError, match="hidden_sizes must be positive integers"):
        ref.init_params("gru", 2, (3, 0), 2)
    params = ref.init_params("elman", 2, (3,), 2)
    with pytest.raises(ValueError, match="no real example"):
        ref.loss_and_grads(
            params, "elman", "classify_sequence", np.zeros((3, 2, 2)), np.zeros((3, 2)), [0, 1]
        )
    text = ref.init_params("elman", 4, (3,), 4, embedding_size=2)
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 4\)"):
        ref.forward(text, "elman", "next_token", np.full((3, 1), 4), np.ones((3, 1)))


def test_benchmark_numpy_baseline_matches_reference():
    """The lean float32 NumPy loop in benchmarks/ is the same model as this reference."""
    import sys
    from pathlib import Path

    bench = str(Path(__file__).resolve().parents[2] / "benchmarks")
    sys.path.insert(0, bench)
    try:
        from numpy_rnn import check_against_reference
    finally:
        sys.path.remove(bench)
    assert check_against_reference() < 1e-9
