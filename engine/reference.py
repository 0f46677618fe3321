"""Pure NumPy reference of the RNN Scope model: forward pass and hand-written BPTT.

min-char-rnn style: every derivative is written out by hand, one time step at a time, so
the PyTensor graph in ``engine.model`` (and its automatic gradients) can be checked against
something simple. The maths and the parameter names are the ones in docs/ARCHITECTURE.md
("Parameter names and the math"):

* time-major batches: ``x`` is (T, B, F) floats, or (T, B) int token ids for text;
  ``mask`` is (T, B), 1 where a step is real;
* layer l: ``W{l}`` (F_in, G*H), ``U{l}`` (H, G*H), ``b{l}`` (G*H,), gates in the order
  GRU (z, r, n) and LSTM (i, f, o, g); text adds ``emb`` (V, E); the head is ``V``, ``c``;
* padding carries the state: ``h = m * h_new + (1 - m) * h_tm1`` (and the LSTM cell ``c``),
  so ``h[T-1]`` is the last valid hidden state of every sequence; initial states are zeros;
* losses are masked means with a stable log-softmax.

This module is NumPy only (no PyTensor), so it is cheap to import from tests and benchmarks.
Everything is computed in the dtype of the parameters (float64 by default).
"""

from __future__ import annotations

import numpy as np

from engine.names import CELLS, TASKS  # noqa: F401  (re-exported: benchmarks use reference.TASKS)

GATES = {"elman": 1, "gru": 3, "lstm": 4}


# --------------------------------------------------------------------------- parameters


def init_params(
    cell: str,
    n_in: int,
    hidden_sizes,
    n_out: int,
    *,
    embedding_size: int | None = None,
    vocab_size: int | None = None,
    seed: int = 0,
    dtype: str = "float64",
) -> dict[str, np.ndarray]:
    """Return the ordered parameter dict ``name -> array`` for a stacked RNN.

    ``n_in`` is the input width for numeric data. For text pass ``embedding_size`` (and
    ``vocab_size``; when omitted the vocabulary size is ``n_in``): the dict then starts with
    ``emb`` (V, E) and layer 1 reads E-wide embeddings. Weights are drawn with scale
    1/sqrt(fan_in); biases are zero except the LSTM forget-gate slice, which is 1.
    """
    _check_cell(cell)
    hidden_sizes = tuple(int(h) for h in hidden_sizes)
    if not hidden_sizes or any(h <= 0 for h in hidden_sizes):
        raise ValueError(f"hidden_sizes must be positive integers, got {hidden_sizes}")
    if n_out <= 0:
        raise ValueError(f"n_out must be a positive integer, got {n_out}")
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    if embedding_size is not None:
        vocab = int(vocab_size if vocab_size is not None else n_in)
        if vocab <= 0 or embedding_size <= 0:
            raise ValueError(
                f"text models need vocab_size > 0 and embedding_size > 0, "
                f"got vocab_size={vocab}, embedding_size={embedding_size}"
            )
        params["emb"] = rng.normal(0.0, 1.0, (vocab, embedding_size)).astype(dtype)
        f_in = int(embedding_size)
    else:
        if n_in <= 0:
            raise ValueError(f"n_in must be a positive integer, got {n_in}")
        f_in = int(n_in)
    g = GATES[cell]
    for layer, h in enumerate(hidden_sizes, start=1):
        params[f"W{layer}"] = (rng.normal(0.0, 1.0, (f_in, g * h)) / np.sqrt(f_in)).astype(dtype)
        params[f"U{layer}"] = (rng.normal(0.0, 1.0, (h, g * h)) / np.sqrt(h)).astype(dtype)
        bias = np.zeros(g * h, dtype=dtype)
        if cell == "lstm":
            bias[h : 2 * h] = 1.0  # forget gate open at the start: gradients flow back in time
        params[f"b{layer}"] = bias
        f_in = h
    params["V"] = (rng.normal(0.0, 1.0, (f_in, n_out)) / np.sqrt(f_in)).astype(dtype)
    params["c"] = np.zeros(n_out, dtype=dtype)
    return params


def n_layers(params: dict) -> int:
    """Number of recurrent layers in ``params`` (count of ``W{l}`` entries)."""
    n = 0
    while f"W{n + 1}" in params:
        n += 1
    if n == 0:
        raise ValueError(f"params has no recurrent layer 'W1'; names: {sorted(params)}")
    return n


# --------------------------------------------------------------------------- helpers


def _check_cell(cell: str) -> None:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # Split by sign so exp never overflows.
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis."""
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _inputs(params, x, mask):
    """Validate shapes; return (layer-1 input (T, B, F_in), mask (T, B)) in the params' dtype."""
    dtype = params["W1"].dtype
    mask = np.asarray(mask, dtype=dtype)
    x = np.asarray(x)
    if "emb" in params:
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
            raise ValueError(
                f"text input must be int token ids of shape (T, B), got {x.dtype} {x.shape}"
            )
        vocab = params["emb"].shape[0]
        if x.size and (x.min() < 0 or x.max() >= vocab):
            raise ValueError(f"token ids must lie in [0, {vocab}), got [{x.min()}, {x.max()}]")
        inp = params["emb"][x]  # (T, B, E): a gather, not a one-hot matmul
    else:
        f_in = params["W1"].shape[0]
        if x.ndim != 3 or x.shape[2] != f_in:
            raise ValueError(f"x must have shape (T, B, {f_in}), got {x.shape}")
        inp = x.astype(dtype, copy=False)
    if mask.shape != inp.shape[:2]:
        raise ValueError(f"mask must have shape (T, B) = {inp.shape[:2]}, got {mask.shape}")
    return inp, mask


# --------------------------------------------------------------------------- one layer


def _layer_forward(cell, W, U, b, inp, mask):
    """Run one recurrent layer over time. Returns (h (T, B, H), cache for the backward pass)."""
    T, B, _ = inp.shape
    H = U.shape[0]
    xW = inp @ W + b  # (T, B, G*H), all steps at once, outside the time loop
    hs = np.zeros((T, B, H), dtype=W.dtype)
    steps = []  # per step: what the backward pass needs
    h_tm1 = np.zeros((B, H), dtype=W.dtype)
    c_tm1 = np.zeros((B, H), dtype=W.dtype)
    for t in range(T):
        m = mask[t][:, None]  # (B, 1)
        if cell == "elman":
            h_new = np.tanh(xW[t] + h_tm1 @ U)
            steps.append((h_tm1, h_new))
            h = m * h_new + (1 - m) * h_tm1
        elif cell == "gru":
            zr = _sigmoid(xW[t, :, : 2 * H] + h_tm1 @ U[:, : 2 * H])
            z, r = zr[:, :H], zr[:, H:]
            n = np.tanh(xW[t, :, 2 * H :] + (r * h_tm1) @ U[:, 2 * H :])
            h_new = (1 - z) * n + z * h_tm1
            steps.append((h_tm1, z, r, n))
            h = m * h_new + (1 - m) * h_tm1
        else:  # lstm
            a = xW[t] + h_tm1 @ U
            ifo = _sigmoid(a[:, : 3 * H])
            i, f, o = ifo[:, :H], ifo[:, H : 2 * H], ifo[:, 2 * H :]
            g = np.tanh(a[:, 3 * H :])
            c_new = f * c_tm1 + i * g
            tanh_c = np.tanh(c_new)
            h_new = o * tanh_c
            steps.append((h_tm1, c_tm1, i, f, o, g, tanh_c))
            c_tm1 = m * c_new + (1 - m) * c_tm1
            h = m * h_new + (1 - m) * h_tm1
        hs[t] = h
        h_tm1 = h
    return hs, (inp, steps)


def _layer_backward(cell, W, U, mask, cache, dhs):
    """BPTT through one layer.

    ``dhs`` (T, B, H) is dLoss/dh[t] from outside the recurrence (the head or the layer
    above). Returns (dW, dU, db, dinp (T, B, F_in)).
    """
    inp, steps = cache
    T, B, F = inp.shape
    H = U.shape[0]
    dxW = np.zeros((T, B, U.shape[1]), dtype=W.dtype)
    dU = np.zeros_like(U)
    dh_next = np.zeros((B, H), dtype=W.dtype)  # dLoss/dh[t] flowing back from step t+1
    dc_next = np.zeros((B, H), dtype=W.dtype)
    for t in reversed(range(T)):
        m = mask[t][:, None]
        dh = dhs[t] + dh_next
        dh_new = m * dh  # real step: the gradient goes through the cell
        dh_tm1 = (1 - m) * dh  # padding: the state was copied through
        if cell == "elman":
            h_tm1, h_new = steps[t]
            da = dh_new * (1 - h_new**2)
            dxW[t] = da
            dU += h_tm1.T @ da
            dh_tm1 += da @ U.T
        elif cell == "gru":
            h_tm1, z, r, n = steps[t]
            dn = dh_new * (1 - z)
            dz = dh_new * (h_tm1 - n)
            dh_tm1 += dh_new * z
            dan = dn * (1 - n**2)
            dxW[t, :, 2 * H :] = dan
            dU[:, 2 * H :] += (r * h_tm1).T @ dan
            drh = dan @ U[:, 2 * H :].T  # d(r * h_tm1)
            dr = drh * h_tm1
            dh_tm1 += drh * r
            dazr = np.concatenate([dz * z * (1 - z), dr * r * (1 - r)], axis=1)
            dxW[t, :, : 2 * H] = dazr
            dU[:, : 2 * H] += h_tm1.T @ dazr
            dh_tm1 += dazr @ U[:, : 2 * H].T
        else:  # lstm
            h_tm1, c_tm1, i, f, o, g, tanh_c = steps[t]
            dc_new = m * dc_next + dh_new * o * (1 - tanh_c**2)
            dc_tm1 = (1 - m) * dc_next + dc_new * f
            da = np.concatenate([dc_new * g * i * (1 - i), dc_new * c_tm1 * f * (1 - f),  # gates i, f
                                 dh_new * tanh_c * o * (1 - o), dc_new * i * (1 - g**2)], axis=1)  # o, g
            dxW[t] = da
            dU += h_tm1.T @ da
            dh_tm1 += da @ U.T
            dc_next = dc_tm1
        dh_next = dh_tm1
    dW = inp.reshape(T * B, F).T @ dxW.reshape(T * B, -1)
    db = dxW.sum(axis=(0, 1))
    dinp = dxW @ W.T
    return dW, dU, db, dinp


# --------------------------------------------------------------------------- model


def _forward(params, cell, task, x, mask):
    _check_cell(cell)
    _check_task(task)
    inp, mask = _inputs(params, x, mask)
    caches, hidden = [], []
    layer_in = inp
    for layer in range(1, n_layers(params) + 1):
        h, cache = _layer_forward(
            cell, params[f"W{layer}"], params[f"U{layer}"], params[f"b{layer}"], layer_in, mask
        )
        caches.append(cache)
        hidden.append(h)
        layer_in = h
    top = hidden[-1]
    if task == "classify_sequence":
        outputs = top[-1] @ params["V"] + params["c"]  # (B, C)
    else:
        outputs = top @ params["V"] + params["c"]  # (T, B, n_out)
    return outputs, hidden, caches, mask


def forward(params, cell, task, x, mask):
    """Return ``(outputs, hidden)``.

    ``outputs`` are logits (B, C) for ``classify_sequence``, logits (T, B, V) for
    ``next_token`` and predictions (T, B, K) for ``forecast``; ``hidden`` is a list with
    one (T, B, H_layer) array per layer.
    """
    outputs, hidden, _, _ = _forward(params, cell, task, x, mask)
    return outputs, hidden


def _loss_and_doutputs(task, outputs, mask, y):
    """Masked-mean loss and dLoss/doutputs."""
    if task == "classify_sequence":
        y = np.asarray(y)
        if y.shape != outputs.shape[:1]:
            raise ValueError(f"y must have shape (B,) = {outputs.shape[:1]}, got {y.shape}")
        w = mask.max(axis=0)  # (B,): an all-padding column is a padding example
        total = w.sum()
        if total <= 0:
            raise ValueError("the batch has no real example: every mask column is all zero")
        logp = log_softmax(outputs)  # (B, C)
        rows = np.arange(len(y))
        y_safe = np.where(w > 0, y, 0)
        loss = float(-(w * logp[rows, y_safe]).sum() / total)
        dout = np.exp(logp)
        dout[rows, y_safe] -= 1.0
        dout *= (w / total)[:, None]
        return loss, dout
    total = mask.sum()
    if total <= 0:
        raise ValueError("the mask has no real step: nothing to compute a loss on")
    if task == "next_token":
        y = np.asarray(y)
        if y.shape != outputs.shape[:2]:
            raise ValueError(f"y must have shape (T, B) = {outputs.shape[:2]}, got {y.shape}")
        y_safe = np.where(mask > 0, y, 0)  # targets at padded steps may be anything
        logp = log_softmax(outputs)  # (T, B, V)
        picked = np.take_along_axis(logp, y_safe[..., None], axis=-1)[..., 0]
        loss = float(-(mask * picked).sum() / total)
        dout = np.exp(logp)
        np.put_along_axis(
            dout, y_safe[..., None], np.take_along_axis(dout, y_safe[..., None], -1) - 1.0, -1
        )
        dout *= (mask / total)[..., None]
        return loss, dout
    # forecast
    y = np.asarray(y, dtype=outputs.dtype)
    if y.shape != outputs.shape:
        raise ValueError(f"y must have shape (T, B, K) = {outputs.shape}, got {y.shape}")
    diff = np.where(mask[..., None] > 0, outputs - y, 0.0)  # padded targets may be NaN
    k = outputs.shape[-1]
    loss = float((mask * (diff**2).mean(axis=-1)).sum() / total)
    dout = (mask / total)[..., None] * 2.0 * diff / k
    return loss, dout


def loss_and_grads(params, cell, task, x, mask, y):
    """Return ``(loss, grads, hidden)``: the masked-mean loss, dLoss/dparam for every name
    in ``params`` (same shapes and dtype) and the per-layer hidden states (T, B, H)."""
    outputs, hidden, caches, mask = _forward(params, cell, task, x, mask)
    loss, dout = _loss_and_doutputs(task, outputs, mask, y)
    grads = {}
    top = hidden[-1]
    dtop = np.zeros_like(top)
    if task == "classify_sequence":
        grads["V"] = top[-1].T @ dout
        grads["c"] = dout.sum(axis=0)
        dtop[-1] = dout @ params["V"].T
    else:
        T, B, H = top.shape
        grads["V"] = top.reshape(T * B, H).T @ dout.reshape(T * B, -1)
        grads["c"] = dout.sum(axis=(0, 1))
        dtop = dout @ params["V"].T
    dh = dtop
    for layer in range(len(hidden), 0, -1):
        dW, dU, db, dh = _layer_backward(
            cell, params[f"W{layer}"], params[f"U{layer}"], mask, caches[layer - 1], dh
        )
        grads[f"W{layer}"], grads[f"U{layer}"], grads[f"b{layer}"] = dW, dU, db
    if "emb" in params:
        demb = np.zeros_like(params["emb"])
        np.add.at(demb, np.asarray(x), dh)  # scatter-add back into the gathered rows
        grads["emb"] = demb
    return loss, {name: grads[name] for name in params}, hidden
