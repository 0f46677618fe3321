"""Parameters and the scan graph of a stacked recurrent network.

Theano style (DeepLearningTutorials ``lstm.py``): the parameters live in one ordered dict of
NumPy arrays (:func:`init_params`), are wrapped as shared variables in exactly one place
(:func:`to_shared`), and the symbolic graph is built from that dict (:func:`build_forward`).

Batches are **time-major**: ``x`` is ``(T, B, F)`` floats, or ``(T, B)`` int token ids for text,
and ``mask`` is ``(T, B)`` with 1 where a step is real. The mask carries the state through
padding, so ``h[T-1]`` is the last valid hidden state of every sequence and padded steps
never change a result. Parameter names, shapes and the maths are those of
``docs/ARCHITECTURE.md``; ``engine.reference`` implements the same in NumPy.

JAX needs static shapes, so :class:`Model` builds one graph per fixed ``(T, B)`` and the
caller reuses the compiled function.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph
from pytensor.gradient import DisconnectedType
from pytensor.tensor.special import log_softmax, softmax

from engine import backend
from engine.names import CELLS, GATE_NAMES, TASKS  # noqa: F401  (re-exported: engine.model.CELLS)

GATES = {"elman": 1, "gru": 3, "lstm": 4}


@dataclass(frozen=True)
class ModelSpec:
    """Everything that fixes the parameter shapes and the graph (not the weights)."""

    cell: str  # "elman" | "gru" | "lstm"
    task: str  # one of TASKS
    n_in: int  # input features, or vocabulary size for text
    hidden_sizes: tuple  # one hidden size per stacked layer
    n_out: int  # classes | vocabulary size | forecast targets
    is_text: bool = False  # integer token inputs gathered from an embedding table
    embedding_size: int = 32  # text only

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")

    @property
    def n_layers(self) -> int:
        return len(self.hidden_sizes)

    def layer_input_size(self, layer: int) -> int:
        """Input width of 1-based ``layer``."""
        if layer == 1:
            return self.embedding_size if self.is_text else self.n_in
        return self.hidden_sizes[layer - 2]

    def param_shapes(self) -> "OrderedDict[str, tuple]":
        """name -> shape, in the canonical order used everywhere (checkpoints, grads)."""
        shapes: OrderedDict[str, tuple] = OrderedDict()
        if self.is_text:
            shapes["emb"] = (self.n_in, self.embedding_size)
        g = GATES[self.cell]
        for layer, h in enumerate(self.hidden_sizes, start=1):
            shapes[f"W{layer}"] = (self.layer_input_size(layer), g * h)
            shapes[f"U{layer}"] = (h, g * h)
            shapes[f"b{layer}"] = (g * h,)
        shapes["V"] = (self.hidden_sizes[-1], self.n_out)
        shapes["c"] = (self.n_out,)
        return shapes

    def param_groups(self) -> "OrderedDict[str, list[str]]":
        """Layer name ("layer1", ..., "head") -> parameter names, for per-layer norms."""
        groups: OrderedDict[str, list[str]] = OrderedDict()
        for layer in range(1, self.n_layers + 1):
            names = [f"W{layer}", f"U{layer}", f"b{layer}"]
            if layer == 1 and self.is_text:
                names.insert(0, "emb")
            groups[f"layer{layer}"] = names
        groups["head"] = ["V", "c"]
        return groups


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))  # sign fix makes the distribution uniform


def init_params(spec: ModelSpec, seed: int = 0, dtype: str = "float32") -> "OrderedDict[str, np.ndarray]":
    """Fresh parameters as an ordered dict of NumPy arrays (deterministic in ``seed``).

    Input weights are N(0, 1/F_in), recurrent weights orthogonal per gate block, biases zero
    except the LSTM forget gate (1, so memory is kept early in training).
    """
    rng = np.random.default_rng(seed)
    g = GATES[spec.cell]
    params: OrderedDict[str, np.ndarray] = OrderedDict()
    if spec.is_text:
        params["emb"] = rng.standard_normal((spec.n_in, spec.embedding_size))
    for layer, h in enumerate(spec.hidden_sizes, start=1):
        f_in = spec.layer_input_size(layer)
        params[f"W{layer}"] = rng.standard_normal((f_in, g * h)) / np.sqrt(f_in)
        params[f"U{layer}"] = np.concatenate([_orthogonal(rng, h) for _ in range(g)], axis=1)
        b = np.zeros(g * h)
        if spec.cell == "lstm":
            b[h : 2 * h] = 1.0  # gate order i, f, o, g
        params[f"b{layer}"] = b
    h_last = spec.hidden_sizes[-1]
    params["V"] = rng.standard_normal((h_last, spec.n_out)) / np.sqrt(h_last)
    params["c"] = np.zeros(spec.n_out)
    return OrderedDict((k, v.astype(dtype)) for k, v in params.items())


def to_shared(params: "OrderedDict[str, np.ndarray]") -> "OrderedDict[str, pytensor.compile.SharedVariable]":
    """The one place parameters become shared variables (lstm.py's ``init_tparams``)."""
    # No static shapes: the hidden size is not part of the graph, so a model of another size
    # reuses a rewritten graph (engine.function_cache); JAX still traces with concrete shapes.
    return OrderedDict(
        (k, pytensor.shared(np.asarray(v), name=k, shape=(None,) * np.ndim(v))) for k, v in params.items()
    )


def get_values(tparams) -> "OrderedDict[str, np.ndarray]":
    """Shared variables -> fresh NumPy arrays (lstm.py's ``unzip``)."""
    return OrderedDict((k, np.array(v.get_value())) for k, v in tparams.items())


def set_values(tparams, values) -> None:
    """Copy arrays into the shared variables (lstm.py's ``zipp``), keeping their dtype."""
    for k, v in tparams.items():
        v.set_value(np.asarray(values[k], dtype=v.dtype))


# ---------------------------------------------------------------------------------------
# Recurrent layers
#
# Each layer is a forward scan wrapped in an OpFromGraph whose gradient is a hand-written
# reverse scan (BPTT). Autodiff through scan would accumulate dU inside the loop: one small
# (H, B) @ (B, G*H) product per step. Here the loop only carries the state gradient, and dU is
# one large (H, T*B) @ (T*B, G*H) product after it, which makes a training step markedly
# faster (measured in benchmarks/README.md). tests/engine/test_gradients.py checks these gradients
# against the NumPy reference and finite differences. The ops are inlined when compiled.


def _zeros_if_disconnected(grad, like):
    return pt.zeros_like(like) if isinstance(grad.type, DisconnectedType) else grad


def _flat(a):
    """(T, B, K) -> (T*B, K)."""
    return a.reshape((-1, a.shape[-1]))


def _blocks(a, n):
    """(R, n*H) -> (R, n, H) without naming H (the graph is generic in the hidden size)."""
    return a.reshape((a.shape[0], n, -1))


def _join(a3):
    """(R, k, H) -> (R, k*H)."""
    return a3.reshape((a3.shape[0], -1))


def _elman_forward(xw, mask3, U, h0):
    one = np.asarray(1, dtype=xw.dtype)

    def step(xw_t, m_t, h_tm1, U):
        h = pt.tanh(xw_t + pt.dot(h_tm1, U))
        return m_t * h + (one - m_t) * h_tm1

    h_seq = pytensor.scan(step, sequences=[xw, mask3], outputs_info=[h0], non_sequences=[U],
                          strict=True, return_updates=False, name="elman_scan")
    return [h_seq]


def _elman_backward(inputs, outputs, output_grads):
    xw, mask3, U, h0 = inputs
    (h_seq,) = outputs
    dH = _zeros_if_disconnected(output_grads[0], h_seq)
    one = np.asarray(1, dtype=xw.dtype)

    # Where m_t = 1, h_t is the fresh tanh output; where m_t = 0 the local terms vanish anyway.
    def step(dH_t, h_t, m_t, dh_next, U_T):
        g = dH_t + dh_next
        da = g * m_t * (one - h_t * h_t)
        return pt.dot(da, U_T) + g * (one - m_t), da

    carry, dA = pytensor.scan(step, sequences=[dH, h_seq, mask3], outputs_info=[pt.zeros_like(h0), None],
                              non_sequences=[U.T], go_backwards=True, strict=True, return_updates=False,
                              name="elman_bptt")
    dA = dA[::-1]  # (T, B, H), back in time order
    h_prev = pt.concatenate([h0[None], h_seq[:-1]], axis=0)
    dU = pt.dot(_flat(h_prev).T, _flat(dA))
    return [dA, pt.zeros_like(mask3), dU, carry[-1]]


def _gru_forward(xw, mask3, U, h0):
    one = np.asarray(1, dtype=xw.dtype)
    # The candidate uses (r * h_tm1) @ U_n, so the recurrent matrix is split outside the
    # loop: z and r share one product, n gets its own.
    U3 = _blocks(U, 3)
    U_zr, U_n = _join(U3[:, :2]), U3[:, 2]

    def step(xw_t, m_t, h_tm1, U_zr, U_n):
        xw3 = _blocks(xw_t, 3)
        zr = pt.sigmoid(_join(xw3[:, :2]) + pt.dot(h_tm1, U_zr))
        zr3 = _blocks(zr, 2)
        z, r = zr3[:, 0], zr3[:, 1]
        n = pt.tanh(xw3[:, 2] + pt.dot(r * h_tm1, U_n))
        h = (one - z) * n + z * h_tm1
        return m_t * h + (one - m_t) * h_tm1, z, r, n

    h_seq, z, r, n = pytensor.scan(step, sequences=[xw, mask3], outputs_info=[h0, None, None, None],
                                   non_sequences=[U_zr, U_n], strict=True, return_updates=False, name="gru_scan")
    return [h_seq, z, r, n]


def _gru_backward(inputs, outputs, output_grads):
    xw, mask3, U, h0 = inputs
    h_seq, z, r, n = outputs
    U3 = _blocks(U, 3)
    dH = _zeros_if_disconnected(output_grads[0], h_seq)
    one = np.asarray(1, dtype=xw.dtype)
    h_prev = pt.concatenate([h0[None], h_seq[:-1]], axis=0)

    def step(dH_t, z_t, r_t, n_t, hp_t, m_t, dh_next, Uzr_T, Un_T):
        g = dH_t + dh_next
        dh_new = g * m_t
        dan = dh_new * (one - z_t) * (one - n_t * n_t)
        drh = pt.dot(dan, Un_T)
        daz = dh_new * (hp_t - n_t) * z_t * (one - z_t)
        dar = drh * hp_t * r_t * (one - r_t)
        dazr = pt.concatenate([daz, dar], axis=1)
        dh_prev = g * (one - m_t) + dh_new * z_t + drh * r_t + pt.dot(dazr, Uzr_T)
        return dh_prev, dazr, dan

    carry, dAzr, dAn = pytensor.scan(
        step, sequences=[dH, z, r, n, h_prev, mask3], outputs_info=[pt.zeros_like(h0), None, None],
        non_sequences=[_join(U3[:, :2]).T, U3[:, 2].T], go_backwards=True, strict=True,
        return_updates=False, name="gru_bptt")
    dAzr, dAn = dAzr[::-1], dAn[::-1]
    dU = pt.concatenate([pt.dot(_flat(h_prev).T, _flat(dAzr)), pt.dot(_flat(r * h_prev).T, _flat(dAn))], axis=1)
    return [pt.concatenate([dAzr, dAn], axis=2), pt.zeros_like(mask3), dU, carry[-1]]


def _lstm_forward(xw, mask3, U, h0, c0):
    one = np.asarray(1, dtype=xw.dtype)

    def step(xw_t, m_t, h_tm1, c_tm1, U):  # gate order i, f, o, g
        pre = _blocks(xw_t + pt.dot(h_tm1, U), 4)
        ifo = pt.sigmoid(pre[:, :3])
        i, f, o = ifo[:, 0], ifo[:, 1], ifo[:, 2]
        g = pt.tanh(pre[:, 3])
        c = f * c_tm1 + i * g
        h = o * pt.tanh(c)
        c = m_t * c + (one - m_t) * c_tm1
        h = m_t * h + (one - m_t) * h_tm1
        return h, c, i, f, o, g

    return list(pytensor.scan(step, sequences=[xw, mask3], outputs_info=[h0, c0, None, None, None, None],
                              non_sequences=[U], strict=True, return_updates=False, name="lstm_scan"))


def _lstm_backward(inputs, outputs, output_grads):
    xw, mask3, U, h0, c0 = inputs
    h_seq, c_seq, i, f, o, g = outputs
    dH = _zeros_if_disconnected(output_grads[0], h_seq)
    dC = _zeros_if_disconnected(output_grads[1], c_seq)
    one = np.asarray(1, dtype=xw.dtype)
    h_prev = pt.concatenate([h0[None], h_seq[:-1]], axis=0)
    c_prev = pt.concatenate([c0[None], c_seq[:-1]], axis=0)

    # Where m_t = 1, c_t is the fresh cell; where m_t = 0 every local term is multiplied by 0.
    def step(dH_t, dC_t, i_t, f_t, o_t, g_t, c_t, cp_t, m_t, dh_next, dc_next, U_T):
        gh = dH_t + dh_next
        gc = dC_t + dc_next
        dh_new = gh * m_t
        tc = pt.tanh(c_t)
        dc_new = gc * m_t + dh_new * o_t * (one - tc * tc)
        dpre = pt.concatenate([
            dc_new * g_t * i_t * (one - i_t),
            dc_new * cp_t * f_t * (one - f_t),
            dh_new * tc * o_t * (one - o_t),
            dc_new * i_t * (one - g_t * g_t),
        ], axis=1)
        dh_prev = gh * (one - m_t) + pt.dot(dpre, U_T)
        dc_prev = gc * (one - m_t) + dc_new * f_t
        return dh_prev, dc_prev, dpre

    dh, dc, dPre = pytensor.scan(
        step, sequences=[dH, dC, i, f, o, g, c_seq, c_prev, mask3],
        outputs_info=[pt.zeros_like(h0), pt.zeros_like(c0), None], non_sequences=[U.T], go_backwards=True,
        strict=True, return_updates=False, name="lstm_bptt")
    dPre = dPre[::-1]
    dU = pt.dot(_flat(h_prev).T, _flat(dPre))
    return [dPre, pt.zeros_like(mask3), dU, dh[-1], dc[-1]]


_FORWARD = {"elman": _elman_forward, "gru": _gru_forward, "lstm": _lstm_forward}
_BACKWARD = {"elman": _elman_backward, "gru": _gru_backward, "lstm": _lstm_backward}


def _recurrent_layer(spec: ModelSpec, xw, mask3, U, h0, c0=None):
    """One recurrent layer over precomputed input projections.

    xw: (T, B, G*H) = x @ W + b for all steps (done outside the loop); mask3: (T, B, 1).
    Returns (h_seq (T, B, H), gates list for the probe, final h, final c or None).
    """
    outer = [xw, mask3, U, h0] + ([c0] if spec.cell == "lstm" else [])
    inner = [v.type() for v in outer]
    inner_outputs = _FORWARD[spec.cell](*inner)
    op = OpFromGraph(inner, inner_outputs, pullback=_BACKWARD[spec.cell], inline=True,
                     name=f"{spec.cell}_layer")
    outs = op(*outer)
    if spec.cell == "elman":
        h_seq = outs if not isinstance(outs, (list, tuple)) else outs[0]
        return h_seq, [], h_seq[-1], None
    if spec.cell == "gru":
        h_seq, z, r, _ = outs
        return h_seq, [z, r], h_seq[-1], None
    h_seq, c_seq, i, f, o, _ = outs
    return h_seq, [i, f, o, c_seq], h_seq[-1], c_seq[-1]


# ---------------------------------------------------------------------------------------
# Symbolic graph


def build_forward(spec: ModelSpec, tparams, x, mask, initial_states=None):
    """Symbolic forward pass.

    x: (T, B, F) float or (T, B) int; mask: (T, B). ``initial_states`` is an optional list per
    layer of ``h0`` (B, H) or ``(h0, c0)`` for LSTM; zeros when omitted.
    Returns dict with "outputs" (logits (B, C) for classify_sequence, (T, B, n_out) otherwise),
    "hidden" list per layer (T, B, H), "gates" list per layer (list of (T, B, H)),
    "final" list per layer of final states (h or (h, c)).
    """
    dtype = pytensor.config.floatX
    T, B = mask.type.shape  # static under JAX; None (symbolic) is fine for the C/python modes
    if B is None:
        B = mask.shape[1]
    mask3 = mask[:, :, None]  # (T, B, 1), broadcast over hidden units
    hidden, gates, finals = [], [], []
    layer_in = x
    for layer in range(1, spec.n_layers + 1):
        W, U, b = tparams[f"W{layer}"], tparams[f"U{layer}"], tparams[f"b{layer}"]
        if layer == 1 and spec.is_text:
            emb = tparams["emb"]
            V_size = spec.n_in
            if T is not None and isinstance(B, int) and V_size <= T * B:
                # (emb @ W)[x] == emb[x] @ W, and the (V, G*H) table is cheaper than a
                # (T*B, E) @ (E, G*H) product whenever the vocabulary is smaller than the batch.
                xw = (pt.dot(emb, W) + b)[x]  # (T, B, G*H)
            else:
                xw = pt.dot(emb[x], W) + b
        else:
            xw = pt.dot(layer_in, W) + b  # (T, B, G*H): all steps at once, outside the loop
        if initial_states is None:  # (B, H), H read from U: the graph does not name the hidden size
            h0 = pt.zeros((B, U.shape[0]), dtype=dtype)
            c0 = pt.zeros((B, U.shape[0]), dtype=dtype) if spec.cell == "lstm" else None
        else:
            state = initial_states[layer - 1]
            h0, c0 = state if spec.cell == "lstm" else (state, None)
        h_seq, g, h_last, c_last = _recurrent_layer(spec, xw, mask3, U, h0, c0)
        hidden.append(h_seq)
        gates.append(g)
        finals.append((h_last, c_last) if spec.cell == "lstm" else h_last)
        layer_in = h_seq
    V, c = tparams["V"], tparams["c"]
    if spec.task == "classify_sequence":
        outputs = pt.dot(hidden[-1][-1], V) + c  # (B, C) from the last valid state
    else:
        outputs = pt.dot(hidden[-1], V) + c  # (T, B, n_out)
    return {"outputs": outputs, "hidden": hidden, "gates": gates, "final": finals}


def _pick(logp, y):
    """logp[..., y] for int y of shape logp.shape[:-1], with int32 indices throughout
    (take_along_axis builds int64 aranges, which JAX truncates with a warning)."""
    flat = logp.reshape((-1, logp.shape[-1]))
    idx = y.flatten()
    rows = pt.arange(idx.shape[0], dtype="int32")
    return flat[rows, idx].reshape(y.shape)


def loss_terms(spec: ModelSpec, outputs, y, mask):
    """Per-example losses and their weights, so callers can form exact masked means.

    Returns (loss_sum, weight_sum, n_correct) as symbolic scalars; the mean loss is
    loss_sum / weight_sum. n_correct is 0 for forecasting.
    """
    dtype = pytensor.config.floatX
    if spec.task == "forecast":
        sq = pt.mean(pt.sqr(outputs - y), axis=-1)  # (T, B)
        return pt.sum(mask * sq), pt.sum(mask), pt.zeros((), dtype=dtype)
    # Cross-entropy of one class per sequence (B,) or of one token per step (T, B).
    # classify_sequence: an all-zero mask column is a padding example and weighs nothing.
    w = pt.max(mask, axis=0) if spec.task == "classify_sequence" else mask
    logp = log_softmax(outputs, axis=-1)  # (B, C) | (T, B, V), stable
    picked = _pick(logp, y)  # (B,) | (T, B)
    # "the true class has the top score" (no argmax: JAX would cast its int64 result)
    correct = pt.ge(picked, pt.max(logp, axis=-1)).astype(dtype)
    return pt.sum(w * -picked), pt.sum(w), pt.sum(w * correct)


def mean_loss(spec: ModelSpec, outputs, y, mask):
    """Masked mean loss (guarded against an all-padding batch)."""
    total, weight, _ = loss_terms(spec, outputs, y, mask)
    return total / pt.maximum(weight, np.asarray(1, dtype=pytensor.config.floatX))


def symbolic_inputs(spec: ModelSpec, T: int, B: int):
    """Static-shape symbolic (x, mask, y) for one (T, B) (JAX requires static shapes)."""
    dtype = pytensor.config.floatX
    if spec.is_text:
        x = pt.tensor("x", dtype="int32", shape=(T, B))
    else:
        x = pt.tensor("x", dtype=dtype, shape=(T, B, spec.n_in))
    mask = pt.tensor("mask", dtype=dtype, shape=(T, B))
    if spec.task == "classify_sequence":
        y = pt.tensor("y", dtype="int32", shape=(B,))
    elif spec.task == "next_token":
        y = pt.tensor("y", dtype="int32", shape=(T, B))
    else:
        y = pt.tensor("y", dtype=dtype, shape=(T, B, spec.n_out))
    return x, mask, y


def compile_function(inputs, outputs, **kwargs):
    """``engine.backend.function`` with a lighter rewrite set on JAX.

    XLA fuses and simplifies the graph itself, so PyTensor's full ``fast_run`` rewrites
    mostly cost compile time: with ``fast_compile`` rewrites (plus the JAX linker's
    required ones) a training graph compiles ~2x faster here and runs as fast.
    """
    if backend.info().name == "jax" and "mode" not in kwargs:
        kwargs["mode"] = backend.get_mode().clone(optimizer="fast_compile")
    return backend.function(inputs, outputs, **kwargs)


class Model:
    """A spec plus its shared parameters, and builders of the compiled functions."""

    def __init__(self, spec: ModelSpec, params=None, seed: int = 0):
        self.spec = spec
        dtype = pytensor.config.floatX
        if params is None:
            params = init_params(spec, seed=seed, dtype=dtype)
        self.tparams = to_shared(OrderedDict((k, np.asarray(v, dtype=dtype)) for k, v in params.items()))

    def get_params(self):
        return get_values(self.tparams)

    def set_params(self, values):
        set_values(self.tparams, values)

    def weight_norms(self) -> dict:
        values = self.get_params()
        return {
            group: float(np.sqrt(sum(float(np.sum(np.square(values[n], dtype=np.float64))) for n in names)))
            for group, names in self.spec.param_groups().items()
        }

    def compile_loss(self, T: int, B: int, probe: bool = False):
        """f_loss(x, mask, y) -> (loss_sum, weight_sum, n_correct) for a (T, B) batch.

        With ``probe=True`` it takes a fourth input, the batch column to probe (int32
        scalar), and also returns that column's hidden states per layer (T, H) followed by
        its gates per layer (GATE_NAMES order): validation and the probe share one compile.
        """
        x, mask, y = symbolic_inputs(self.spec, T, B)
        out = build_forward(self.spec, self.tparams, x, mask)
        total, weight, correct = loss_terms(self.spec, out["outputs"], y, mask)
        if not probe:
            return compile_function([x, mask, y], [total, weight, correct], name="f_loss")
        column = pt.scalar("probe_column", dtype="int32")
        extra = [h[:, column] for h in out["hidden"]]
        extra += [g[:, column] for gates in out["gates"] for g in gates]
        return compile_function([x, mask, y, column], [total, weight, correct, *extra], name="f_loss")

    def compile_predict(self, T: int, B: int):
        """f_predict(x, mask) -> probabilities (classification) or predicted values."""
        x, mask, _ = symbolic_inputs(self.spec, T, B)
        out = build_forward(self.spec, self.tparams, x, mask)["outputs"]
        if self.spec.task != "forecast":
            out = softmax(out, axis=-1)
        return compile_function([x, mask], out, name="f_predict")

    def compile_hidden(self, T: int, B: int = 1):
        """f_hidden(x, mask, *states) -> [outputs, *hidden, *gates, *final states].

        Used by the probe, inference and generation: states in and out let any length be
        processed in chunks of T with one compiled graph. ``outputs`` are probabilities
        (per step, also for classify_sequence) or forecast values, (T, B, n_out).
        Outputs in order: per-step outputs; hidden per layer; gates per layer in GATE_NAMES
        order; final states per layer (h, or h and c for LSTM).
        """
        spec = self.spec
        dtype = pytensor.config.floatX
        x, mask, _ = symbolic_inputs(spec, T, B)
        states, state_inputs = [], []
        for layer, H in enumerate(spec.hidden_sizes, start=1):
            h0 = pt.tensor(f"h0_{layer}", dtype=dtype, shape=(B, H))
            state_inputs.append(h0)
            if spec.cell == "lstm":
                c0 = pt.tensor(f"c0_{layer}", dtype=dtype, shape=(B, H))
                state_inputs.append(c0)
                states.append((h0, c0))
            else:
                states.append(h0)
        out = build_forward(spec, self.tparams, x, mask, initial_states=states)
        last = out["hidden"][-1]
        per_step = pt.dot(last, self.tparams["V"]) + self.tparams["c"]  # (T, B, n_out)
        if spec.task != "forecast":
            per_step = softmax(per_step, axis=-1)
        outputs = [per_step] + list(out["hidden"])
        for g in out["gates"]:
            outputs.extend(g)
        for f in out["final"]:
            outputs.extend(f if spec.cell == "lstm" else [f])
        return compile_function([x, mask] + state_inputs, outputs, name="f_hidden")
