"""Inference on a trained model: predictions, hidden states, generation and the probe.

:class:`Inference` belongs to one :class:`~engine.training.Trainer` (``trainer.inference``) and
reads its model, data and probe index; the Trainer's ``predict``/``hidden_states``/``generate``/
``predict_validation``/``probe`` are one-line doors to it. Functions are compiled once, lazily, on
the calling thread (the Trainer's compile lock serialises PyTensor's compiler), and every compiled
call holds the Trainer's lock, so the window may ask for predictions while the worker trains.
"""

from __future__ import annotations

import numpy as np

from engine.batches import fixed_batches
from engine.config import is_number, is_positive_int
from engine.names import GATE_NAMES


def probe_arrays(spec, arrays, length: int) -> tuple:
    """A compiled call's probe outputs -> per layer (T_probe, H) hidden and gate dicts (fresh float32)."""
    n_layers = spec.n_layers
    names = GATE_NAMES[spec.cell]
    length = max(length, 1)
    fresh = [np.array(np.asarray(a)[:length], dtype=np.float32) for a in arrays]
    hidden = fresh[:n_layers]
    gates = [dict(zip(names, fresh[n_layers + layer * len(names): n_layers + (layer + 1) * len(names)]))
             for layer in range(n_layers)]
    return hidden, gates


class Inference:
    """Everything a trained model answers besides its training loss (see the module docstring)."""

    def __init__(self, trainer):
        self._trainer = trainer
        self._f_hidden: dict[int, object] = {}  # chunk length T -> compiled f_hidden
        self.f_predict = None

    @property
    def length(self) -> int:
        """Chunk length of the inference graph (the longest training or validation window)."""
        t = self._trainer
        t._ensure_model()
        if not t.has_data:  # loaded without its dataset: the window the model was trained with
            return int(t.split.window)
        return max(t._train.T, t._val.T)

    def _hidden_fn(self, T: int):
        t = self._trainer
        model = t._ensure_model()
        with t._lock:
            if T not in self._f_hidden:
                self._f_hidden[T] = t._compile(lambda: model.compile_hidden(T, 1))
            return self._f_hidden[T]

    def _run(self, x):
        """Run one sequence (time-major (L, F) normalised or (L,) ids) in chunks, state carried.

        Returns (per_step outputs (L, n_out), hidden list (L, H), gates list of dicts, states).
        """
        T = self.length
        return self._run_with(self._hidden_fn(T), T, x)

    def _run_with(self, fn, T, x, states=None):
        spec, dtype, lock = self._trainer.spec, self._trainer.config.dtype, self._trainer._lock
        L = int(x.shape[0])
        n_state = 2 if spec.cell == "lstm" else 1
        if states is None:
            states = [np.zeros((1, H), dtype=dtype) for H in spec.hidden_sizes for _ in range(n_state)]
        outs, chunks = [], []  # chunks: per chunk, the hidden and gate outputs of every layer
        for start in range(0, max(L, 1), T):
            n = min(T, L - start)
            xc = np.zeros((T, 1) + x.shape[1:], dtype=x.dtype)
            xc[:n, 0] = x[start:start + n]
            mc = np.zeros((T, 1), dtype=dtype)
            mc[:n, 0] = 1  # every step of the sequence is real; the rest of the chunk is padding
            with lock:
                res = [np.asarray(r) for r in fn(xc, mc, *states)]
            n_probe = spec.n_layers * (1 + len(GATE_NAMES[spec.cell]))
            outs.append(res[0][:n, 0])
            chunks.append([r[:n, 0] for r in res[1:1 + n_probe]])
            states = res[1 + n_probe:]
        per_step = np.concatenate(outs, axis=0)
        joined = [np.ascontiguousarray(np.concatenate(parts, axis=0)) for parts in zip(*chunks)]
        hidden, gates = probe_arrays(spec, joined, L)
        return per_step, hidden, gates, states

    def probe(self) -> tuple:
        """Hidden states and gates of the probe sequence: fresh float32 (T_probe, H) arrays."""
        t = self._trainer
        t.require_data("the probe")
        t._ensure_loss_function()
        data, probe = t._val, t.probe_index
        probe_batch, probe_column = divmod(probe, t.val_batch_size)
        idx = fixed_batches(data.n, t.val_batch_size, np.arange(data.n))[probe_batch]
        res = t.f_loss(*data.batch(idx), np.int32(probe_column))
        return probe_arrays(t.spec, res[3:], int(data.lengths[probe]))

    def prepare_input(self, sequence) -> np.ndarray:
        """User input -> (L, F) normalised floats or (L,) int ids."""
        t = self._trainer
        n_in = t.spec.n_in
        if t.is_text:
            if isinstance(sequence, str):
                return self._encode(sequence)
            ids = np.asarray(sequence)
            if ids.ndim != 1 or ids.dtype.kind not in "iu":
                raise ValueError(f"a text model takes a string or a 1-D array of token ids, got shape "
                                 f"{ids.shape} {ids.dtype}")
            if ids.size and (ids.min() < 0 or ids.max() >= n_in):
                raise ValueError(f"token ids must be in [0, {n_in}), got {ids.min()}..{ids.max()}")
            return ids.astype("int32")
        try:
            x = np.asarray(sequence, dtype=np.float64)
        except (TypeError, ValueError):  # e.g. a dict or ragged lists: bad input, not a crash
            raise ValueError(f"expected a numeric sequence of shape (T, {n_in}), "
                             f"got {type(sequence).__name__}") from None
        if x.ndim == 1 and n_in == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != n_in:
            raise ValueError(f"expected a sequence of shape (T, {n_in}), got {x.shape}")
        if x.shape[0] == 0:
            raise ValueError("the sequence is empty")
        if not np.all(np.isfinite(x)):
            raise ValueError("the sequence contains NaN or infinite values")
        return np.asarray(t.split.normalize(x), dtype=t.config.dtype)

    def _encode(self, text: str) -> np.ndarray:
        vocab = list(self._trainer.dataset.vocabulary)
        index = {ch: i for i, ch in enumerate(vocab)}
        unk = index.get("<unk>")
        ids = []
        for ch in text:
            i = index.get(ch, unk)
            if i is None:
                raise ValueError(f"character {ch!r} is not in the model's vocabulary of {len(vocab)} characters")
            ids.append(i)
        return np.asarray(ids, dtype="int32")

    def _denormalize(self, y) -> np.ndarray:
        return np.asarray(self._trainer.split.denormalize_target(np.asarray(y)), dtype=np.float32)

    def predict(self, x) -> np.ndarray:
        """Class probabilities (C,) | next values (T, n_out) denormalised | next-char dists (T, V)."""
        seq = self.prepare_input(x)
        if seq.shape[0] == 0:
            raise ValueError("the sequence is empty")
        per_step, _, _, _ = self._run(seq)
        task = self._trainer.task
        if task == "classify_sequence":
            return per_step[-1].astype(np.float32)
        if task == "forecast":
            return self._denormalize(per_step)
        return per_step.astype(np.float32)

    def hidden_states(self, sequence) -> list:
        """Per layer, float32 (T, H) hidden states of any sequence (raw values, ids or text)."""
        _, hidden, _, _ = self._run(self.prepare_input(sequence))
        return hidden

    def predict_validation(self) -> dict:
        """classify: {"true", "pred", "probs"} over the validation set; forecast:
        {"actual", "forecast"} (denormalised, one step ahead) for the probe sequence;
        next_token: {"true", "pred", "probs"} per step of the probe sequence."""
        t = self._trainer
        t.require_data("predictions on the validation set")
        model = t._ensure_model()
        data = t._val
        if t.task == "classify_sequence":
            with t._lock:
                if self.f_predict is None:
                    self.f_predict = t._compile(lambda: model.compile_predict(data.T, t.val_batch_size))
            probs = []
            for idx in fixed_batches(data.n, t.val_batch_size, np.arange(data.n)):
                x, mask, _ = data.batch(idx)
                with t._lock:
                    probs.append(np.asarray(self.f_predict(x, mask)))
            probs = np.concatenate(probs, axis=0)[:data.n].astype(np.float32)
            return {"true": data.y[:data.n].astype(np.int64), "pred": probs.argmax(axis=1), "probs": probs}
        probe = t.probe_index
        x, y, _ = data.sequence(probe)
        per_step, _, _, _ = self._run(x)
        if t.task == "forecast":
            return {"actual": self._denormalize(y), "forecast": self._denormalize(per_step), "index": probe}
        return {"true": y.astype(np.int64), "pred": per_step.argmax(axis=1),
                "probs": per_step.astype(np.float32), "index": probe}

    def generate(self, n: int, temperature: float = 1.0, prime="", seed=None):
        """Sample ``n`` characters (text) or forecast ``n`` steps autoregressively (forecast).

        Text returns the generated string (without the prime); forecasting returns float32
        (n, n_out) denormalised values continuing ``prime`` (raw (T, F) values; default: the
        probe validation sequence).
        """
        t = self._trainer
        if not is_positive_int(n):
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if not is_number(temperature) or not temperature > 0:
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        if t.task == "classify_sequence":
            raise ValueError("generate() needs a next_token or forecast model; this one classifies sequences")
        step = self._hidden_fn(1)
        if t.task == "next_token":
            return self._generate_text(step, n, temperature, prime, seed)
        return self._generate_forecast(step, n, prime)

    def _generate_forecast(self, step, n: int, prime):
        t = self._trainer
        targets, features = list(t.dataset.target_names), list(t.dataset.feature_names)
        if targets != features:
            raise ValueError("generate() feeds forecasts back as inputs, so the forecast targets must be "
                             f"the input features; targets {targets} differ from inputs {features}")
        if prime is None or (isinstance(prime, str) and prime == ""):
            # Continue after the probe's last observed value. Its mask length counts the steps
            # that have a target, one fewer than the inputs when the window ends its sequence.
            t.require_data("a forecast without a prime")
            probe = t.probe_index
            length = int(t._val.lengths[probe])
            seq = t._val.x[:min(length + 1, t._val.x.shape[0]), probe]
        else:
            seq = self.prepare_input(prime)
        per_step, _, _, states = self._run(seq)
        value = per_step[-1:]  # (1, n_out), normalised
        out = []
        for _ in range(n):
            out.append(value[0].copy())
            res, _, _, states = self._run_with(step, 1, value.astype(t.config.dtype), states=states)
            value = res[-1:]
        return self._denormalize(np.stack(out))

    def _generate_text(self, step, n, temperature, prime, seed) -> str:
        t = self._trainer
        rng = np.random.default_rng(seed)
        vocab = list(t.dataset.vocabulary)
        if prime is not None and len(prime):  # a string or token ids ("if prime" fails on arrays)
            probs, _, _, states = self._run(self.prepare_input(prime))
            p = probs[-1]
        else:
            # No prime: start from the training text's character frequencies.
            t.require_data("text without a prime")
            counts = np.bincount(t._train.x[t._train.mask > 0].ravel(), minlength=len(vocab))
            p, states = counts / counts.sum(), None
        chars = []
        for _ in range(n):
            logp = np.log(np.maximum(np.asarray(p, dtype=np.float64), 1e-30)) / temperature
            q = np.exp(logp - logp.max())
            q /= q.sum()
            token = int(rng.choice(len(q), p=q))
            chars.append(vocab[token])
            res, _, _, states = self._run_with(step, 1, np.asarray([token], dtype="int32"), states=states)
            p = res[-1]
        return "".join(chars)
