"""Optimizers as update lists, with global-norm clipping and a divergence guard.

Hyperparameters that a user may change while training (learning rate, clip norm, momentum)
are shared scalars, so changing them is a ``set_value`` between steps and never recompiles
(lstm.py passes ``lr`` at call time; a shared scalar is the same idea without an extra
argument on every call).

The guard lives inside the compiled function: when the loss or the gradient norm is not
finite, every update writes back the old value (``switch(ok, new, old)``), so parameters
and optimizer state keep their last finite values and the caller only sees ``ok == 0``.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytensor
import pytensor.tensor as pt

from engine.names import OPTIMIZERS  # noqa: F401  (re-exported)

ADAM_BETA2 = 0.999
EPS = 1e-8  # rmsprop / adam denominator; well above float32's tiny


def _scalar(value, name):
    return pytensor.shared(np.asarray(value, dtype=pytensor.config.floatX), name=name)


class Optimizer:
    """Builds the training updates for one parameter dict and owns the optimizer state.

    ``state`` is an ordered dict ``name -> shared`` (slots like ``"m/W1"``), saved in
    checkpoints; ``hyper`` holds the shared hyperparameters (``lr``, ``clip``, ``momentum``).
    """

    def __init__(self, name: str, tparams, *, learning_rate: float, momentum: float = 0.9,
                 clip_norm: float | None = 5.0):
        shapes = state_shapes(name, OrderedDict((k, p.get_value().shape) for k, p in tparams.items()))  # checks name
        self.name = name
        self.tparams = tparams
        self.hyper = OrderedDict(
            lr=_scalar(learning_rate, "lr"),
            momentum=_scalar(momentum, "momentum"),
            clip=_scalar(clip_norm or 0.0, "clip"),  # <= 0 means no clipping
        )
        self.state: OrderedDict[str, pytensor.compile.SharedVariable] = OrderedDict()
        dtype = pytensor.config.floatX
        for key, shape in shapes.items():
            # Shapes left symbolic, as the parameters' (engine.model.to_shared): one graph for every size.
            self.state[key] = pytensor.shared(np.zeros(shape, dtype=dtype), name=key, shape=(None,) * len(shape))

    # ------------------------------------------------------------------ hyperparameters
    def set_learning_rate(self, lr: float) -> None:
        self.hyper["lr"].set_value(np.asarray(lr, dtype=self.hyper["lr"].dtype))

    def set_clip_norm(self, clip: float | None) -> None:
        self.hyper["clip"].set_value(np.asarray(clip or 0.0, dtype=self.hyper["clip"].dtype))

    def set_momentum(self, momentum: float) -> None:
        self.hyper["momentum"].set_value(np.asarray(momentum, dtype=self.hyper["momentum"].dtype))

    def get_state(self) -> "OrderedDict[str, np.ndarray]":
        return OrderedDict((k, np.array(v.get_value())) for k, v in self.state.items())

    def set_state(self, values) -> None:
        for k, v in self.state.items():
            v.set_value(np.asarray(values[k], dtype=v.dtype).reshape(np.shape(v.get_value())))

    # ------------------------------------------------------------------ graph
    def updates(self, loss, groups):
        """Return ``(updates, group_norms, ok)`` for ``loss``.

        ``groups`` maps a layer name to its parameter names; ``group_norms`` is the vector of
        per-group gradient norms before clipping, in that order. ``ok`` is 1 when the step
        was applied (finite loss and gradient norm), else 0 and nothing changes.
        """
        dtype = pytensor.config.floatX
        one = np.asarray(1, dtype=dtype)
        names = list(self.tparams)
        params = [self.tparams[n] for n in names]
        grads = OrderedDict(zip(names, pt.grad(loss, params)))
        sq = OrderedDict((n, pt.sum(pt.sqr(g))) for n, g in grads.items())
        group_norms = pt.stack([pt.sqrt(sum(sq[n] for n in members)) for members in groups.values()])
        total_norm = pt.sqrt(sum(sq.values()))
        ok = pt.isfinite(loss) & pt.isfinite(total_norm)
        clip = self.hyper["clip"]
        scale = pt.switch(
            pt.gt(clip, 0) & pt.gt(total_norm, clip),
            clip / pt.maximum(total_norm, np.asarray(1e-12, dtype=dtype)),
            one,
        )
        grads = OrderedDict((n, g * scale) for n, g in grads.items())
        lr, mu = self.hyper["lr"], self.hyper["momentum"]
        new = OrderedDict()  # shared -> new value
        if self.name == "sgd":
            for n, p in self.tparams.items():
                new[p] = p - lr * grads[n]
        elif self.name == "momentum":
            for n, p in self.tparams.items():
                v = self.state[f"v/{n}"]
                v_new = mu * v - lr * grads[n]
                new[v] = v_new
                new[p] = p + v_new
        elif self.name == "rmsprop":
            for n, p in self.tparams.items():
                ms = self.state[f"ms/{n}"]
                ms_new = mu * ms + (one - mu) * pt.sqr(grads[n])
                new[ms] = ms_new
                new[p] = p - lr * grads[n] / (pt.sqrt(ms_new) + EPS)
        else:  # adam, with the bias correction folded into the step size
            t = self.state["t"]
            t_new = t + one
            b2 = np.asarray(ADAM_BETA2, dtype=dtype)
            step = lr * pt.sqrt(one - b2 ** t_new) / (one - mu ** t_new)
            new[t] = t_new
            for n, p in self.tparams.items():
                m, v = self.state[f"m/{n}"], self.state[f"v/{n}"]
                m_new = mu * m + (one - mu) * grads[n]
                v_new = b2 * v + (one - b2) * pt.sqr(grads[n])
                new[m] = m_new
                new[v] = v_new
                new[p] = p - step * m_new / (pt.sqrt(v_new) + EPS)
        # Divergence guard: a refused step writes every old value back.
        updates = [(var, pt.switch(ok, value, var).astype(var.dtype)) for var, value in new.items()]
        return updates, group_norms, ok


def state_shapes(name: str, param_shapes) -> "OrderedDict[str, tuple]":
    """Names and shapes of the optimizer state for ``name`` (to validate checkpoints)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    slots = {"sgd": (), "momentum": ("v",), "rmsprop": ("ms",), "adam": ("m", "v")}[name]
    shapes = OrderedDict()
    for slot in slots:
        for pname, shape in param_shapes.items():
            shapes[f"{slot}/{pname}"] = tuple(shape)
    if name == "adam":
        shapes["t"] = ()
    return shapes
