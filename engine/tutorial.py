"""The classic Theano tutorial's RNN class, working, on PyTensor.

The tutorial everyone starts from defines ``RNN(input_size, hidden_size, output_size)`` with
shared variables ``Wxh, Whh, Why, bh, by``, an Elman cell ``h_t = tanh(x_t Wxh + h_tm1 Whh + bh)``,
a softmax on the last hidden state (many-to-one classification) and plain SGD. As published it
does not run, and fixing the obvious error is not enough:

* it calls ``self.forward_step`` but never defines it: here :meth:`RNN.forward_step` is the scan
  step, arguments in the order sequences, previous output, non-sequences;
* it builds and compiles a new Theano function on every ``train``/``predict`` call (seconds each):
  here the functions are compiled once per sequence length, lazily, and reused. The JAX backend
  needs static shapes, so a new length T means one new graph, never one per call;
* it applies ``softmax`` to the vector of all hidden states and takes ``log`` of it afterwards:
  here the loss is a numerically stable log-softmax of the logits of the *last* hidden state;
* the learning rate was baked into the compiled update: here it is a call-time input, so any
  learning rate reuses the same compiled function.

Example::

    from engine import RNN
    rnn = RNN(input_size=4, hidden_size=32, output_size=3)
    losses = rnn.train(x, 2, learning_rate=0.1, num_epochs=100)  # x: (T, 4); target: class 2
    rnn.predict(x)  # -> 2

Shapes here are the tutorial's: one sequence at a time, ``(T, input_size)``, no batch axis.
"""

from __future__ import annotations

import numbers

import numpy as np

from engine import backend


class RNN:
    """Elman RNN classifying a whole sequence from its last hidden state (many-to-one)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *, seed: int = 0):
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("output_size", output_size),
        ):
            if not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if output_size < 2:
            raise ValueError(f"output_size must be at least 2 classes, got {output_size}")
        backend.info()  # select the default backend (JAX, float32) unless already done
        import pytensor

        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.output_size = int(output_size)
        self.dtype = pytensor.config.floatX
        rng = np.random.default_rng(seed)

        def weights(n_in, n_out):
            # Scaled by 1/sqrt(fan_in): the tutorial's 0.01 makes tanh units start dead-linear
            # and learning crawl.
            return (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(self.dtype)

        shared = pytensor.shared
        self.Wxh = shared(weights(input_size, hidden_size), name="Wxh")  # (F, H)
        self.Whh = shared(weights(hidden_size, hidden_size), name="Whh")  # (H, H)
        self.Why = shared(weights(hidden_size, output_size), name="Why")  # (H, C)
        self.bh = shared(np.zeros(hidden_size, dtype=self.dtype), name="bh")  # (H,)
        self.by = shared(np.zeros(output_size, dtype=self.dtype), name="by")  # (C,)
        self.params = [self.Wxh, self.Whh, self.Why, self.bh, self.by]
        self._f_train: dict[int, object] = {}  # sequence length T -> compiled SGD step
        self._f_predict: dict[int, object] = {}  # sequence length T -> compiled log-probs
        self.n_compiles = 0

    # ------------------------------------------------------------------ graph

    def forward_step(self, xw_t, h_tm1, Whh):
        """One Elman step; ``xw_t = x_t Wxh + bh`` is precomputed for all steps outside scan."""
        import pytensor.tensor as pt

        return pt.tanh(xw_t + pt.dot(h_tm1, Whh))

    def _log_probs(self, x):
        """Symbolic log class probabilities (C,) from the last hidden state of ``x`` (T, F)."""
        import pytensor
        import pytensor.tensor as pt
        from pytensor.tensor.special import log_softmax

        xw = pt.dot(x, self.Wxh) + self.bh  # (T, H): the input projection, once for all steps
        h0 = pt.zeros((self.hidden_size,), dtype=self.dtype)
        h = pytensor.scan(
            fn=self.forward_step,
            sequences=xw,
            outputs_info=h0,
            non_sequences=[self.Whh],
            strict=True,
            return_updates=False,
        )  # (T, H)
        logits = pt.dot(h[-1], self.Why) + self.by  # (C,)
        return log_softmax(logits, axis=-1)

    def _train_fn(self, T: int):
        fn = self._f_train.get(T)
        if fn is None:
            import pytensor.tensor as pt

            x = pt.matrix("x", dtype=self.dtype, shape=(T, self.input_size))
            target = pt.vector("target", dtype=self.dtype, shape=(self.output_size,))
            lr = pt.scalar("lr", dtype=self.dtype)
            clip = pt.scalar("clip", dtype=self.dtype)  # global-norm cap; inf = off
            loss = -pt.sum(target * self._log_probs(x))  # cross-entropy with a (soft) one-hot
            grads = pt.grad(loss, self.params)
            norm = pt.sqrt(sum(pt.sum(g**2) for g in grads))
            scale = pt.minimum(1.0, clip / pt.maximum(norm, 1e-12)).astype(self.dtype)
            updates = [(p, p - (lr * scale) * g) for p, g in zip(self.params, grads)]
            fn = backend.function([x, target, lr, clip], loss, updates=updates)
            self._f_train[T] = fn
            self.n_compiles += 1
        return fn

    def _predict_fn(self, T: int):
        fn = self._f_predict.get(T)
        if fn is None:
            import pytensor.tensor as pt

            x = pt.matrix("x", dtype=self.dtype, shape=(T, self.input_size))
            fn = backend.function([x], self._log_probs(x))
            self._f_predict[T] = fn
            self.n_compiles += 1
        return fn

    # ------------------------------------------------------------------ checks

    def _sequence(self, input_sequence) -> np.ndarray:
        x = np.asarray(input_sequence)
        if x.ndim != 2 or x.shape[1] != self.input_size or x.shape[0] < 1:
            raise ValueError(
                f"input_sequence must have shape (T, {self.input_size}) "
                f"(time steps x input_size), got shape {x.shape}"
            )
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"input_sequence must be numeric, got dtype {x.dtype}")
        x = x.astype(self.dtype)
        if not np.all(np.isfinite(x)):
            raise ValueError("input_sequence contains NaN or infinite values")
        return x

    def _target(self, target_sequence) -> np.ndarray:
        t = np.asarray(target_sequence)
        if t.ndim == 0:
            if not np.issubdtype(t.dtype, np.integer) or not 0 <= int(t) < self.output_size:
                raise ValueError(
                    f"target must be a class index in [0, {self.output_size}) or a one-hot "
                    f"vector of shape ({self.output_size},), got {target_sequence!r}"
                )
            onehot = np.zeros(self.output_size, dtype=self.dtype)
            onehot[int(t)] = 1
            return onehot
        if t.shape != (self.output_size,):
            raise ValueError(
                f"target must be a class index or a one-hot vector of shape "
                f"({self.output_size},), got shape {t.shape}"
            )
        t = t.astype(self.dtype)
        if np.any(t < 0) or not np.isclose(t.sum(), 1.0):
            raise ValueError(f"one-hot target must be non-negative and sum to 1, got {t}")
        return t

    # ------------------------------------------------------------------ API

    def train(
        self,
        input_sequence,
        target_sequence,
        learning_rate: float = 0.1,
        num_epochs: int = 100,
        verbose: bool = False,
        clip_norm: float | None = 5.0,
    ) -> list[float]:
        """SGD on one sequence for ``num_epochs`` steps; returns the loss of each epoch.

        ``input_sequence`` is (T, input_size); ``target_sequence`` is the class of the whole
        sequence, as an index or a one-hot vector (output_size,). Each epoch's loss is the
        cross-entropy *before* that epoch's update. ``verbose=True`` prints like the tutorial.
        ``clip_norm`` caps the global gradient norm (the tutorial had no cap, and one exploding
        gradient of an Elman RNN undoes an epoch of learning); ``None`` turns it off. Learning
        rate and clip are inputs of the compiled step: changing them never recompiles.
        """
        x = self._sequence(input_sequence)
        target = self._target(target_sequence)
        # numbers.Real first: a string or None must be a ValueError, not a TypeError from isfinite.
        if not isinstance(learning_rate, numbers.Real) or not np.isfinite(learning_rate) or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        if not isinstance(num_epochs, numbers.Integral) or num_epochs < 1:
            raise ValueError(f"num_epochs must be a positive integer, got {num_epochs!r}")
        if clip_norm is not None and (not isinstance(clip_norm, numbers.Real) or not clip_norm > 0):
            raise ValueError(f"clip_norm must be a positive number or None, got {clip_norm!r}")
        f_train = self._train_fn(x.shape[0])
        lr = np.asarray(learning_rate, dtype=self.dtype)
        clip = np.asarray(np.inf if clip_norm is None else clip_norm, dtype=self.dtype)
        losses = []
        for epoch in range(num_epochs):
            loss = float(f_train(x, target, lr, clip))
            losses.append(loss)
            if verbose:
                print(f"Epoch {epoch + 1}/{num_epochs}, Loss: {loss:.4f}")
        return losses

    def predict_proba(self, input_sequence) -> np.ndarray:
        """Class probabilities (output_size,) for one sequence (T, input_size)."""
        x = self._sequence(input_sequence)
        return np.exp(np.asarray(self._predict_fn(x.shape[0])(x), dtype=np.float64))

    def predict(self, input_sequence) -> int:
        """The most probable class of one sequence (T, input_size)."""
        return int(np.argmax(self.predict_proba(input_sequence)))
