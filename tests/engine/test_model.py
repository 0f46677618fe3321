"""The model graph: parameter layout, initialisation, and masking (padding never changes a result)."""

import numpy as np
import pytest

from engine import backend, reference
from engine.model import GATE_NAMES, Model, ModelSpec, init_params


@pytest.fixture(autouse=True)
def float32():
    backend.select("jax", "float32")


def test_parameter_names_shapes_and_order_follow_the_contract():
    spec = ModelSpec("lstm", "next_token", n_in=11, hidden_sizes=(8, 5), n_out=11, is_text=True,
                     embedding_size=6)
    params = init_params(spec, seed=3)
    assert list(params) == ["emb", "W1", "U1", "b1", "W2", "U2", "b2", "V", "c"]
    assert {k: v.shape for k, v in params.items()} == {
        "emb": (11, 6), "W1": (6, 32), "U1": (8, 32), "b1": (32,), "W2": (8, 20), "U2": (5, 20),
        "b2": (20,), "V": (5, 11), "c": (11,)}
    assert all(v.dtype == np.float32 for v in params.values())
    # LSTM forget-gate slice (order i, f, o, g) starts at 1, everything else at 0.
    np.testing.assert_array_equal(params["b1"][8:16], 1.0)
    assert not params["b1"][:8].any() and not params["b1"][16:].any()
    # Same names and shapes as the NumPy reference.
    ref = reference.init_params("lstm", 11, (8, 5), 11, embedding_size=6, vocab_size=11)
    assert {k: v.shape for k, v in ref.items()} == {k: v.shape for k, v in params.items()}
    assert spec.param_groups() == {"layer1": ["emb", "W1", "U1", "b1"], "layer2": ["W2", "U2", "b2"],
                                   "head": ["V", "c"]}


def test_init_is_deterministic_in_the_seed():
    spec = ModelSpec("gru", "forecast", n_in=3, hidden_sizes=(6,), n_out=3)
    a, b, c = init_params(spec, seed=1), init_params(spec, seed=1), init_params(spec, seed=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])
    # Recurrent blocks are orthogonal: U_z^T U_z = I.
    U = a["U1"][:, :6].astype(np.float64)
    np.testing.assert_allclose(U.T @ U, np.eye(6), atol=1e-5)


def test_spec_rejects_unknown_cell_and_task():
    with pytest.raises(ValueError, match="cell must be one of"):
        ModelSpec("rnn", "forecast", 1, (4,), 1)
    with pytest.raises(ValueError, match="task must be one of"):
        ModelSpec("gru", "regress", 1, (4,), 1)


def _run_one_by_one(f_step, spec, x, n_state):
    """Feed one sequence step by step (T=1 graph, no padding anywhere), carrying the state."""
    states = [np.zeros((1, H), np.float32) for H in spec.hidden_sizes for _ in range(n_state)]
    outs, hidden = [], [[] for _ in spec.hidden_sizes]
    n_gates = len(GATE_NAMES[spec.cell])
    for t in range(len(x)):
        res = [np.asarray(r) for r in f_step(x[t:t + 1, None], np.ones((1, 1), np.float32), *states)]
        outs.append(res[0][0, 0])
        for layer in range(spec.n_layers):
            hidden[layer].append(res[1 + layer][0, 0])
        states = res[1 + spec.n_layers + n_gates * spec.n_layers:]
    return np.array(outs), [np.array(h) for h in hidden]


@pytest.mark.parametrize("cell, task", [("lstm", "forecast"), ("gru", "next_token"),
                                        ("elman", "classify_sequence")])
def test_padded_batch_equals_sequences_run_one_by_one(cell, task):
    T, lengths = 6, [6, 2, 4]
    B = len(lengths)
    is_text = task == "next_token"
    n_out = {"forecast": 2, "next_token": 9, "classify_sequence": 3}[task]
    spec = ModelSpec(cell, task, 9 if is_text else 2, (5, 4), n_out, is_text=is_text, embedding_size=4)
    model = Model(spec, seed=4)
    rng = np.random.default_rng(5)
    mask = np.zeros((T, B), np.float32)
    for b, L in enumerate(lengths):
        mask[:L, b] = 1
    if is_text:
        x = rng.integers(0, 9, (T, B)).astype(np.int32)
        y = rng.integers(0, 9, (T, B)).astype(np.int32)
    else:
        x = rng.standard_normal((T, B, 2)).astype(np.float32)
        y = (rng.integers(0, 3, B) if task == "classify_sequence" else rng.standard_normal((T, B, 2)))
        y = y.astype(np.int32 if task == "classify_sequence" else np.float32)
    # Garbage in the padding must not matter either.
    if is_text:
        x[mask == 0] = 8
    else:
        x[mask == 0] = 1e3

    f_loss = model.compile_loss(T, B)
    f_batch = model.compile_hidden(T, B)
    f_step = model.compile_hidden(1, 1)
    n_state = 2 if cell == "lstm" else 1
    total, weight, _ = (float(np.asarray(v)) for v in f_loss(x, mask, y))
    zeros = [np.zeros((B, H), np.float32) for H in spec.hidden_sizes for _ in range(n_state)]
    batch = [np.asarray(r) for r in f_batch(x, mask, *zeros)]
    assert all(r.dtype == np.float32 for r in batch), "an accidental float64 upcast in the graph"

    losses, weights = [], []
    for b, L in enumerate(lengths):
        outs, hidden = _run_one_by_one(f_step, spec, x[:L, b], n_state)
        for layer in range(spec.n_layers):
            np.testing.assert_allclose(batch[1 + layer][:L, b], hidden[layer], rtol=1e-5, atol=1e-6)
            # Padding carries the last valid state through to T-1.
            np.testing.assert_allclose(batch[1 + layer][L:, b],
                                       np.repeat(hidden[layer][-1:], T - L, axis=0), rtol=1e-5, atol=1e-6)
        if task == "forecast":
            losses.append(np.sum(np.mean((outs - y[:L, b]) ** 2, axis=-1)))
            weights.append(L)
        elif task == "next_token":
            losses.append(-np.sum(np.log(outs[np.arange(L), y[:L, b]])))
            weights.append(L)
        else:
            losses.append(-np.log(outs[-1, y[b]]))
            weights.append(1)
    assert weight == pytest.approx(sum(weights))
    assert total / weight == pytest.approx(sum(losses) / sum(weights), rel=1e-5)


def test_padding_example_counts_nothing_in_the_classification_loss():
    spec = ModelSpec("gru", "classify_sequence", 2, (4,), 3)
    model = Model(spec, seed=0)
    T, B = 4, 3
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, 2)).astype(np.float32)
    mask = np.ones((T, B), np.float32)
    mask[:, 2] = 0  # an all-zero column is a padding example
    y = np.array([0, 2, 1], np.int32)
    f_loss = model.compile_loss(T, B)
    total, weight, correct = (float(np.asarray(v)) for v in f_loss(x, mask, y))
    assert weight == 2.0
    y2 = y.copy()
    y2[2] = 0
    x[:, 2] = 99.0
    total2, _, _ = (float(np.asarray(v)) for v in f_loss(x, mask, y2))
    assert total2 == pytest.approx(total, rel=1e-6)
    assert 0 <= correct <= 2
