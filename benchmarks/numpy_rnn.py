"""A lean, hand-written NumPy Elman RNN trainer: the NumPy baseline of bench_engine.py.

Same model as the engine's one-layer Elman network (docs/ARCHITECTURE.md: ``h = tanh(x W + b +
h_tm1 U)``, head ``V, c``, masked-mean losses, Adam, global-norm clipping), written the way a
careful person writes it by hand in NumPy: float32, the input projection for all steps in one
matmul, only the recurrence in the Python loop, the weight gradients of ``U`` in one matmul
after the loop. ``engine.reference`` is the readable version (any cell, any depth, float64);
this one is for speed and is checked against it by :func:`check_against_reference`.

Padding must be trailing (what ``engine.data`` produces): a sequence's steps after its end
never feed a loss term, so their gradient is zero and no state has to be carried.
"""

from __future__ import annotations

import numpy as np

from engine import reference


class NumpyElman:
    """One-layer Elman RNN with a classify / next_token / forecast head, trained with Adam."""

    def __init__(self, task, n_in, hidden, n_out, *, embedding_size=None, seed=0,
                 learning_rate=3e-3, clip_norm=5.0, betas=(0.9, 0.999), eps=1e-8,
                 dtype="float32"):
        if task not in reference.TASKS:
            raise ValueError(f"task must be one of {reference.TASKS}, got {task!r}")
        self.task = task
        self.params = reference.init_params(
            "elman", n_in, (hidden,), n_out, embedding_size=embedding_size, seed=seed, dtype=dtype
        )
        self.dtype = np.dtype(dtype)
        self.lr, self.clip_norm, self.betas, self.eps = learning_rate, clip_norm, betas, eps
        self._m = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._v = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._step = 0

    # ------------------------------------------------------------------ forward / backward

    def _forward(self, x):
        p = self.params
        inp = p["emb"][x] if "emb" in p else x  # (T, B, F)
        T, B, _ = inp.shape
        xW = inp @ p["W1"] + p["b1"]  # (T, B, H) all steps at once
        hs = np.empty_like(xW)
        U = p["U1"]
        np.tanh(xW[0], out=hs[0])
        for t in range(1, T):
            np.tanh(xW[t] + hs[t - 1] @ U, out=hs[t])
        return inp, hs

    def _head(self, hs, mask, y, lengths):
        """Loss and dLoss/dlogits; the last valid state is gathered for classification."""
        p = self.params
        if self.task == "classify_sequence":
            B = hs.shape[1]
            last = hs[lengths - 1, np.arange(B)]  # (B, H)
            z = last @ p["V"] + p["c"]
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            loss = -logp[np.arange(B), y].mean()
            d = np.exp(logp)
            d[np.arange(B), y] -= 1
            d /= B
            return float(loss), d, last
        out = hs @ p["V"] + p["c"]  # (T, B, K)
        total = mask.sum()
        if self.task == "next_token":
            z = out - out.max(axis=2, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
            picked = np.take_along_axis(logp, y[..., None], axis=2)[..., 0]
            loss = -(picked * mask).sum() / total
            d = np.exp(logp)
            np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], 2) - 1, 2)
            d *= (mask / total)[..., None]
            return float(loss), d, None
        diff = (out - y) * mask[..., None]
        k = out.shape[2]
        loss = (diff**2).sum() / (total * k)
        return float(loss), diff * (2.0 / (total * k)), None

    def loss_and_grads(self, x, mask, y, lengths):
        """x (T, B, F) float or (T, B) int; mask (T, B); y per task; lengths (B,)."""
        p = self.params
        inp, hs = self._forward(x)
        loss, d, last = self._head(hs, mask, y, lengths)
        T, B, H = hs.shape
        grads = {}
        if self.task == "classify_sequence":
            grads["V"] = last.T @ d
            grads["c"] = d.sum(axis=0)
            dhs = np.zeros_like(hs)
            dhs[lengths - 1, np.arange(B)] = d @ p["V"].T
        else:
            grads["V"] = hs.reshape(T * B, H).T @ d.reshape(T * B, -1)
            grads["c"] = d.sum(axis=(0, 1))
            dhs = d @ p["V"].T
        U_T = p["U1"].T
        da = np.empty_like(hs)  # dLoss / d(pre-activation), (T, B, H)
        dh_next = np.zeros((B, H), dtype=hs.dtype)
        for t in range(T - 1, -1, -1):
            dh = dhs[t] + dh_next
            da[t] = dh * (1 - hs[t] * hs[t])
            dh_next = da[t] @ U_T
        # dU = sum_t h_{t-1}^T da_t in one matmul (h_{-1} = 0).
        grads["U1"] = hs[:-1].reshape(-1, H).T @ da[1:].reshape(-1, H)
        da2 = da.reshape(T * B, H)
        grads["W1"] = inp.reshape(T * B, -1).T @ da2
        grads["b1"] = da2.sum(axis=0)
        if "emb" in p:
            demb = np.zeros_like(p["emb"])
            np.add.at(demb, x.reshape(-1), da2 @ p["W1"].T)
            grads["emb"] = demb
        return loss, grads

    def loss(self, x, mask, y, lengths):
        _, hs = self._forward(x)
        return self._head(hs, mask, y, lengths)[0]

    # ------------------------------------------------------------------ training

    def train_step(self, x, mask, y, lengths):
        loss, grads = self.loss_and_grads(x, mask, y, lengths)
        if self.clip_norm:
            norm = np.sqrt(sum(float((g * g).sum()) for g in grads.values()))
            if norm > self.clip_norm:
                scale = self.clip_norm / norm
                for g in grads.values():
                    g *= scale
        self._step += 1
        b1, b2 = self.betas
        lr_t = self.lr * np.sqrt(1 - b2**self._step) / (1 - b1**self._step)
        for k, g in grads.items():
            m, v = self._m[k], self._v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            self.params[k] -= (lr_t * m / (np.sqrt(v) + self.eps)).astype(self.dtype)
        return loss


def check_against_reference() -> float:
    """Largest relative gradient difference against engine.reference on tiny problems (float64)."""
    rng = np.random.default_rng(0)
    worst = 0.0
    T, B = 6, 3
    lengths = np.array([6, 4, 6])
    mask = (np.arange(T)[:, None] < lengths[None, :]).astype(np.float64)
    for task, text in (("classify_sequence", False), ("next_token", True), ("forecast", False)):
        n_out = {"classify_sequence": 3, "next_token": 5, "forecast": 2}[task]
        net = NumpyElman(task, 5 if text else 4, 4, n_out, embedding_size=3 if text else None,
                         dtype="float64", seed=1)
        x = rng.integers(0, 5, (T, B)) if text else rng.normal(size=(T, B, 4))
        if task == "classify_sequence":
            y = rng.integers(0, n_out, B)
        elif task == "next_token":
            y = rng.integers(0, n_out, (T, B))
        else:
            y = rng.normal(size=(T, B, n_out))
        loss, grads = net.loss_and_grads(x, mask, y, lengths)
        ref_loss, ref_grads, _ = reference.loss_and_grads(net.params, "elman", task, x, mask, y)
        worst = max(worst, abs(loss - ref_loss) / abs(ref_loss))
        for k, g in ref_grads.items():
            worst = max(worst, float(np.abs(grads[k] - g).max() / (np.abs(g).max() + 1e-12)))
    return worst
