"""Training as a generator: ``TrainingConfig``, ``EpochReport`` and ``Trainer``.

``Trainer.epochs()`` compiles on its first ``next()`` and yields one :class:`EpochReport`
per epoch; a Qt worker turns each yield into a signal (superqt's ``GeneratorWorker``
pattern). Commands (learning rate, clip norm, momentum, probe, stop) are thread-safe: any
thread may call them at any time. Hyperparameters are shared scalars read by every compiled
call, so a change lands between two steps (the step in flight keeps the old values) and
never recompiles anything; stop() ends the epoch after the current step.

Minibatches have one fixed shape ``(T, B)`` (JAX needs static shapes): the last partial
batch is padded with all-zero-mask examples, which count nothing in the masked losses.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from dataclasses import dataclass

import numpy as np

from engine import backend
from engine import checkpoint as ckpt
from engine import optim
from engine.model import (CELLS, GATE_NAMES, Model, ModelSpec, build_forward, compile_function, mean_loss,
                          symbolic_inputs)

# pytensor's compiler is not thread-safe: the GUI thread may compile an inference function
# while the worker compiles the training graph.
_COMPILE_LOCK = threading.RLock()


def _positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


@dataclass
class TrainingConfig:
    """Everything that defines a training run (validated on creation)."""

    cell: str = "elman"  # recurrent cell: "elman" (the tutorial's), "gru" or "lstm"
    hidden_sizes: tuple = (64,)  # one hidden size per stacked layer, e.g. (64, 32)
    optimizer: str = "adam"  # "sgd" | "momentum" | "rmsprop" | "adam"
    learning_rate: float = 3e-3  # step size; can be changed while training
    momentum: float = 0.9  # momentum / rmsprop decay / adam beta1, in [0, 1)
    batch_size: int = 32  # sequences per minibatch (the last one is padded)
    clip_norm: float | None = 5.0  # global gradient-norm clip; None or 0 = off
    epochs: int = 100  # epochs to train (counted across resumes)
    validation_fraction: float = 0.2  # share of sequences held out for validation
    seed: int = 0  # initial weights, split and shuffling: same seed, same losses
    dtype: str = "float32"  # "float32" (fast) | "float64" (for gradient checks)
    backend: str = "jax"  # "jax" | "c" | "numba"
    window: int | None = None  # BPTT / forecast window in steps; None = dataset default
    embedding_size: int = 32  # text inputs only: width of the character embedding

    def __post_init__(self):
        if isinstance(self.hidden_sizes, (int, np.integer)) and not isinstance(self.hidden_sizes, bool):
            self.hidden_sizes = (self.hidden_sizes,)
        if isinstance(self.hidden_sizes, (list, tuple)):
            self.hidden_sizes = tuple(int(h) if isinstance(h, (np.integer,)) else h for h in self.hidden_sizes)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        if (not isinstance(self.hidden_sizes, tuple) or not self.hidden_sizes
                or not all(_positive_int(h) for h in self.hidden_sizes)):
            raise ValueError(f"hidden_sizes must be positive integers, got {self.hidden_sizes!r}")
        if self.optimizer not in optim.OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(optim.OPTIMIZERS)}, got {self.optimizer!r}")
        if not _number(self.learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not _number(self.momentum) or not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not _positive_int(self.batch_size):
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.clip_norm is not None and (not _number(self.clip_norm) or not self.clip_norm >= 0
                                           or not math.isfinite(self.clip_norm)):
            raise ValueError(f"clip_norm must be a positive number, or None/0 to turn clipping off, "
                             f"got {self.clip_norm!r}")
        if not _positive_int(self.epochs):
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if not _number(self.validation_fraction) or not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be between 0 and 1 (exclusive), "
                             f"got {self.validation_fraction!r}")
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.dtype not in backend.DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(backend.DTYPES)}, got {self.dtype!r}")
        if self.backend not in backend.BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(backend.BACKENDS)}, got {self.backend!r}")
        if self.window is not None and not (_positive_int(self.window) and self.window >= 2):
            raise ValueError(f"window must be an integer >= 2, or None for the dataset default, "
                             f"got {self.window!r}")
        if not _positive_int(self.embedding_size):
            raise ValueError(f"embedding_size must be a positive integer, got {self.embedding_size!r}")

    def replace(self, **changes) -> "TrainingConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainingConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known settings are {sorted(known)}")
        d = dict(d)
        if "hidden_sizes" in d and isinstance(d["hidden_sizes"], list):
            d["hidden_sizes"] = tuple(d["hidden_sizes"])
        return cls(**d)


@dataclass
class EpochReport:
    epoch: int  # 1-based, counts across resumes
    train_loss: float  # masked mean over the epoch's applied steps
    val_loss: float
    val_accuracy: float | None  # classification tasks (sequence or per step) only
    grad_norms: dict  # per layer name ("layer1", ..., "head"), before clipping, mean over steps
    weight_norms: dict
    hidden: list  # per layer, float32 (T_probe, H_layer), fresh copies
    gates: list  # per layer: GRU {"z","r"}, LSTM {"i","f","o","c"}; {} for elman
    probe_index: int  # which validation sequence was probed
    learning_rate: float  # in force at the end of the epoch
    seconds: float  # wall time of the whole epoch (training, validation, probe)
    sequences_per_second: float  # training throughput
    step_ms: float  # median wall time of one compiled training call
    compile_seconds: float  # > 0 only on the epoch that compiled
    diverged: bool  # a non-finite step was refused in this epoch
    skipped_steps: int
    stopped: bool  # stop() ended the run during (or right at the end of) this epoch

    def to_history(self) -> dict:
        """The scalar part, as stored in ``Trainer.history`` and checkpoints."""
        return {
            "epoch": self.epoch, "train_loss": self.train_loss, "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy, "learning_rate": self.learning_rate,
            "grad_norms": dict(self.grad_norms), "weight_norms": dict(self.weight_norms),
            "seconds": self.seconds, "step_ms": self.step_ms, "diverged": self.diverged,
            "skipped_steps": self.skipped_steps, "stopped": self.stopped,
        }


@dataclass(frozen=True)
class Command:
    """A command sent into the epoch generator (``gen.send(Command("set_learning_rate", 0.01))``).

    ``name`` is one of ``set_learning_rate``, ``set_clip_norm``, ``set_momentum``,
    ``set_probe``, ``stop``; tuples ``(name, value)`` are accepted too.
    """

    name: str
    value: object = None


_COMMANDS = ("set_learning_rate", "set_clip_norm", "set_momentum", "set_probe", "stop")


class _TimeMajor:
    """One Arrays split, transposed once to time-major, with a zero padding example at index N."""

    def __init__(self, arrays, task: str, dtype: str):
        x = np.asarray(arrays.x)
        self.n = int(x.shape[0])
        self.T = int(x.shape[1])
        self.is_text = x.ndim == 2
        pad = lambda a: np.concatenate([a, np.zeros((1,) + a.shape[1:], a.dtype)], axis=0)  # noqa: E731
        x = pad(x.astype("int32" if self.is_text else dtype))
        self.x = np.ascontiguousarray(np.swapaxes(x, 0, 1))  # (T, N+1[, F])
        mask = pad(np.asarray(arrays.mask, dtype=dtype))
        self.mask = np.ascontiguousarray(mask.T)  # (T, N+1)
        y = np.asarray(arrays.y)
        if task == "classify_sequence":
            self.y = pad(y.astype("int32"))  # (N+1,)
        elif task == "next_token":
            self.y = np.ascontiguousarray(pad(y.astype("int32")).T)  # (T, N+1)
        else:
            self.y = np.ascontiguousarray(np.swapaxes(pad(y.astype(dtype)), 0, 1))  # (T, N+1, K)
        self.task = task
        self.lengths = np.asarray(arrays.lengths)  # real (masked) steps

    def batch(self, idx):
        """Columns ``idx`` (index N is the padding example)."""
        if self.task == "classify_sequence":
            y = self.y[idx]
        else:
            y = self.y[:, idx]
        return self.x[:, idx], self.mask[:, idx], y

    def weight(self, mask_b) -> float:
        if self.task == "classify_sequence":
            return float(mask_b.max(axis=0).sum())
        return float(mask_b.sum())


def _batches(n: int, batch_size: int, order) -> list:
    """Index arrays of exactly ``batch_size``, the last one padded with index ``n``."""
    out = []
    for start in range(0, n, batch_size):
        idx = np.asarray(order[start:start + batch_size], dtype=np.int64)
        if len(idx) < batch_size:
            idx = np.concatenate([idx, np.full(batch_size - len(idx), n, dtype=np.int64)])
        out.append(idx)
    return out


class Trainer:
    """Builds, trains and probes one model on one dataset (see the module docstring)."""

    def __init__(self, config: TrainingConfig, dataset, *, split=None):
        if not isinstance(config, TrainingConfig):
            raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
        self._config = config
        self.dataset = dataset
        self.task = dataset.task
        if split is None:
            split = dataset.split(validation_fraction=config.validation_fraction, seed=config.seed,
                                  window=config.window)
        self.split = split
        if len(split.train) == 0 or len(split.val) == 0:
            raise ValueError(f"dataset {getattr(dataset, 'name', '?')!r} needs at least one training and "
                             f"one validation sequence, got {len(split.train)} and {len(split.val)}")
        self.is_text = bool(dataset.is_text)
        self.spec = ModelSpec(
            cell=config.cell, task=self.task, n_in=int(dataset.n_features),
            hidden_sizes=tuple(config.hidden_sizes), n_out=int(dataset.n_outputs),
            is_text=self.is_text, embedding_size=config.embedding_size,
        )
        self.history: list[dict] = []
        self.epoch = 0  # completed (or stopped) epochs, across resumes
        self.n_compiles = 0
        # Settings are shared scalars read by each compiled call, so any thread may change them
        # at any time: the step in flight finishes with the old values, the next one uses the new.
        self._settings_lock = threading.RLock()
        self._stop = threading.Event()
        self._lock = threading.RLock()  # inference functions and lazy set-up
        self._probe_index = 0
        self._model: Model | None = None
        self._optimizer: optim.Optimizer | None = None
        self._pending_params = None  # from a checkpoint, applied when the model is built
        self._pending_state = None
        self._train = self._val = None
        self.f_train = self.f_loss = self.f_predict = None
        self._f_hidden: dict[int, object] = {}
        self.batch_size = min(config.batch_size, len(split.train))
        self.val_batch_size = min(len(split.val), max(self.batch_size, 32))

    # ------------------------------------------------------------------ set-up
    def _ensure_model(self) -> Model:
        with self._lock:
            if self._model is None:
                configured = self.config.backend
                dtype = self.config.dtype  # not a live setting: fixed for the run
                # select() imports JAX the first time (seconds): outside the settings lock, so
                # a command from the GUI thread never waits for it.
                backend.select(configured, dtype)
                model = Model(self.spec, params=self._pending_params, seed=self.config.seed)
                self._train = _TimeMajor(self.split.train, self.task, dtype)
                self._val = _TimeMajor(self.split.val, self.task, dtype)
                # Under the settings lock: a command landing between reading the config and
                # publishing the optimizer would change the config but not the shared scalars.
                with self._settings_lock:
                    config = self.config
                    if config.backend != configured:  # changed meanwhile (rare; the imports are done by now)
                        backend.select(config.backend, dtype)
                    self._optimizer = optim.Optimizer(
                        config.optimizer, model.tparams, learning_rate=config.learning_rate,
                        momentum=config.momentum, clip_norm=config.clip_norm)
                    if self._pending_state is not None:
                        self._optimizer.set_state(self._pending_state)
                    self._pending_params = self._pending_state = None
                    self._model = model  # from here on the backend is fixed
            return self._model

    def _compile(self, build):
        with _COMPILE_LOCK:
            fn = build()
        self.n_compiles += 1
        return fn

    def _ensure_training_functions(self) -> None:
        model = self._ensure_model()
        if self.f_train is None:
            def build():
                x, mask, y = symbolic_inputs(self.spec, self._train.T, self.batch_size)
                out = build_forward(self.spec, model.tparams, x, mask)
                loss = mean_loss(self.spec, out["outputs"], y, mask)
                updates, norms, ok = self._optimizer.updates(loss, self.spec.param_groups())
                return compile_function([x, mask, y], [loss, norms, ok], updates=updates, name="f_train")
            self.f_train = self._compile(build)
        if self.f_loss is None:
            self.f_loss = self._compile(lambda: model.compile_loss(self._val.T, self.val_batch_size, probe=True))

    def _hidden_fn(self, T: int):
        model = self._ensure_model()
        with self._lock:
            if T not in self._f_hidden:
                self._f_hidden[T] = self._compile(lambda: model.compile_hidden(T, 1))
            return self._f_hidden[T]

    @property
    def inference_length(self) -> int:
        self._ensure_model()
        return max(self._train.T, self._val.T)

    # ------------------------------------------------------------------ commands
    def set_learning_rate(self, lr: float) -> None:
        if not _number(lr) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {lr!r}")
        self._update_settings(learning_rate=float(lr))

    def set_clip_norm(self, value) -> None:
        if value is not None and (not _number(value) or not value >= 0 or not math.isfinite(value)):
            raise ValueError(f"clip_norm must be a positive number, or None/0 to turn clipping off, got {value!r}")
        self._update_settings(clip_norm=None if not value else float(value))

    def set_optimizer_params(self, momentum=None) -> None:
        if momentum is not None:
            if not _number(momentum) or not 0 <= momentum < 1:
                raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
            self._update_settings(momentum=float(momentum))

    def set_probe(self, index: int) -> None:
        n = len(self.split.val)
        if not isinstance(index, (int, np.integer)) or not 0 <= index < n:
            raise ValueError(f"probe index must be between 0 and {n - 1} (validation sequences), got {index!r}")
        with self._settings_lock:
            self._probe_index = int(index)

    def stop(self) -> None:
        """Ask the running epoch to end after the current step (thread-safe, returns at once)."""
        self._stop.set()

    def send(self, command) -> None:
        """Apply a :class:`Command` or ``(name, value)`` tuple (what ``gen.send`` does)."""
        if isinstance(command, Command):
            name, value = command.name, command.value
        elif isinstance(command, tuple) and len(command) in (1, 2) and isinstance(command[0], str):
            name, value = command[0], (command[1] if len(command) == 2 else None)
        else:
            raise ValueError(f"a command is Command(name, value) or (name, value), got {command!r}")
        if name not in _COMMANDS:
            raise ValueError(f"unknown command {name!r}; commands are {', '.join(_COMMANDS)}")
        if name == "stop":
            self.stop()
        elif name == "set_learning_rate":
            self.set_learning_rate(value)
        elif name == "set_clip_norm":
            self.set_clip_norm(value)
        elif name == "set_momentum":
            self.set_optimizer_params(momentum=value)
        else:
            self.set_probe(value)

    def _update_settings(self, **changes) -> None:
        with self._settings_lock:
            self.config = self.config.replace(**changes)

    @property
    def config(self) -> TrainingConfig:
        return self._config

    @config.setter
    def config(self, config: TrainingConfig) -> None:
        """Replace the config: live settings (learning rate, clip, momentum, epochs) always;
        the backend until the model is built; anything that shapes the graph or the data never.
        Thread-safe: the new hyperparameters are shared scalars read by the next compiled step."""
        if not isinstance(config, TrainingConfig):
            raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
        with self._settings_lock:
            self._set_config(config)

    def _set_config(self, config: TrainingConfig) -> None:
        live = {"learning_rate", "clip_norm", "momentum", "epochs"}
        if self._model is None:
            live.add("backend")
        old = self._config
        fixed = [f.name for f in dataclasses.fields(config)
                 if f.name not in live and getattr(config, f.name) != getattr(old, f.name)]
        if fixed:
            raise ValueError(f"{', '.join(fixed)} cannot change on an existing run (the model is built for "
                             f"them); start a new run with the new settings")
        self._config = config
        if self._optimizer is not None:
            self._optimizer.set_learning_rate(config.learning_rate)
            self._optimizer.set_clip_norm(config.clip_norm)
            self._optimizer.set_momentum(config.momentum)

    @property
    def probe_index(self) -> int:
        return self._probe_index

    # ------------------------------------------------------------------ training
    def epochs(self):
        """Generator of :class:`EpochReport`; ``gen.send(Command(...))`` applies a command."""
        try:
            yield from self._epochs()
        finally:
            self._stop.clear()  # a stop() ends this generator only; a later epochs() runs again

    def _epochs(self):
        t_compile = time.perf_counter()
        compiled_before = self.n_compiles
        self._ensure_training_functions()
        if self.n_compiles > compiled_before:
            # JAX compiles on the first call: warm the side-effect-free f_loss up here, so
            # compile_seconds holds the compile time and the epoch's seconds hold training.
            pad = np.full(self.val_batch_size, self._val.n)
            self.f_loss(*self._val.batch(pad), np.int32(0))
            compile_seconds = time.perf_counter() - t_compile
        else:
            compile_seconds = 0.0
        while self.epoch < self.config.epochs:
            report = self._run_epoch(compile_seconds)
            compile_seconds = 0.0
            command = yield report
            if command is not None:
                self.send(command)
            if report.stopped or self._stop.is_set():
                return

    def _run_epoch(self, compile_seconds: float) -> EpochReport:
        t_epoch = time.perf_counter()
        data = self._train
        epoch = self.epoch + 1
        rng = np.random.default_rng([self.config.seed, epoch])  # resumable: depends on the epoch only
        order = rng.permutation(data.n)
        groups = list(self.spec.param_groups())
        loss_sum = weight_sum = 0.0
        norm_sum = np.zeros(len(groups))
        n_ok = skipped = n_sequences = 0
        step_times = []
        stopped = False
        pending = None  # the step in flight: (loss, norms, ok, weight)
        t_last = time.perf_counter()

        def finish(step):
            nonlocal loss_sum, weight_sum, norm_sum, n_ok, skipped, t_last
            loss, norms, ok, w = step
            loss = float(np.asarray(loss))  # waits for the device
            now = time.perf_counter()
            step_times.append(now - t_last)
            t_last = now
            if bool(np.asarray(ok)):
                loss_sum += loss * w
                weight_sum += w
                norm_sum += np.asarray(norms, dtype=np.float64)
                n_ok += 1
            else:
                skipped += 1

        for idx in _batches(data.n, self.batch_size, order):
            if self._stop.is_set():
                stopped = True
                break
            # This batch is gathered while the previous step still runs (JAX dispatches
            # asynchronously); at most two steps are in flight, so stop() lands within a step.
            x, mask, y = data.batch(idx)
            outputs = self.f_train(x, mask, y)
            n_sequences += int(np.count_nonzero(idx < data.n))
            if pending is not None:
                finish(pending)
            pending = (*outputs, data.weight(mask))
        if pending is not None:
            finish(pending)
        train_seconds = sum(step_times)
        first_excess = 0.0
        if compile_seconds and step_times:
            # JAX compiles on the first call: count its excess over a normal step as compiling.
            first_excess = step_times[0] - (float(np.median(step_times[1:])) if len(step_times) > 1 else 0.0)
            first_excess = max(first_excess, 0.0)
            compile_seconds += first_excess
            train_seconds -= first_excess
            step_times = step_times[1:] or step_times
        val_loss, val_accuracy, hidden, gates = self._evaluate()
        # A stop() that arrives after the last step still ends the run with this report.
        stopped = stopped or self._stop.is_set()
        if step_times or not stopped:
            # A stop before the first step trained nothing: report it, but count no epoch.
            self.epoch = epoch
        report = EpochReport(
            epoch=epoch,
            train_loss=loss_sum / weight_sum if weight_sum > 0 else float("nan"),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            grad_norms={g: float(v / n_ok) if n_ok else float("nan") for g, v in zip(groups, norm_sum)},
            weight_norms=self._model.weight_norms(),
            hidden=hidden,
            gates=gates,
            probe_index=self._probe_index,
            learning_rate=float(self.config.learning_rate),
            seconds=time.perf_counter() - t_epoch - first_excess,
            sequences_per_second=n_sequences / train_seconds if train_seconds > 0 else 0.0,
            step_ms=float(np.median(step_times)) * 1e3 if step_times else 0.0,
            compile_seconds=compile_seconds,
            diverged=skipped > 0,
            skipped_steps=skipped,
            stopped=stopped,
        )
        if self.epoch == epoch:
            self.history.append(report.to_history())
        return report

    def evaluate(self) -> tuple:
        """(validation loss, validation accuracy or None) over the whole validation split."""
        loss, accuracy, _, _ = self._evaluate()
        return loss, accuracy

    def _evaluate(self) -> tuple:
        """Validation loss and accuracy, plus the probe's hidden states and gates, which come
        out of the same compiled call (the batch that holds the probe sequence)."""
        self._ensure_training_functions()
        data = self._val
        probe = self._probe_index
        probe_batch, probe_column = divmod(probe, self.val_batch_size)
        total = weight = correct = 0.0
        hidden = gates = None
        for k, idx in enumerate(_batches(data.n, self.val_batch_size, np.arange(data.n))):
            res = self.f_loss(*data.batch(idx), np.int32(probe_column if k == probe_batch else 0))
            total += float(np.asarray(res[0]))
            weight += float(np.asarray(res[1]))
            correct += float(np.asarray(res[2]))
            if k == probe_batch:
                hidden, gates = self._probe_arrays(res[3:], int(data.lengths[probe]))
        loss = total / weight if weight > 0 else float("nan")
        accuracy = correct / weight if weight > 0 and self.task != "forecast" else None
        return loss, accuracy, hidden, gates

    def _probe_arrays(self, arrays, length: int) -> tuple:
        """f_loss's probe outputs -> per layer (T_probe, H) hidden and gate dicts (fresh float32)."""
        n_layers = self.spec.n_layers
        names = GATE_NAMES[self.spec.cell]
        length = max(length, 1)
        fresh = [np.array(np.asarray(a)[:length], dtype=np.float32) for a in arrays]
        hidden = fresh[:n_layers]
        gates = [dict(zip(names, fresh[n_layers + layer * len(names): n_layers + (layer + 1) * len(names)]))
                 for layer in range(n_layers)]
        return hidden, gates

    # ------------------------------------------------------------------ probing and inference
    def _run(self, x):
        """Run one sequence (time-major (L, F) normalised or (L,) ids) in chunks, state carried.

        Returns (per_step outputs (L, n_out), hidden list (L, H), gates list of dicts, states).
        """
        T = self.inference_length
        return self._run_with(self._hidden_fn(T), T, x)

    def _run_with(self, fn, T, x, states=None):
        spec = self.spec
        dtype = self.config.dtype
        L = int(x.shape[0])
        n_state = 2 if spec.cell == "lstm" else 1
        if states is None:
            states = [np.zeros((1, H), dtype=dtype) for H in spec.hidden_sizes for _ in range(n_state)]
        n_layers = spec.n_layers
        gate_names = GATE_NAMES[spec.cell]
        outs, hiddens, gates = [], [[] for _ in range(n_layers)], [[] for _ in range(n_layers)]
        for start in range(0, max(L, 1), T):
            n = min(T, L - start)
            xc = np.zeros((T, 1) + x.shape[1:], dtype=x.dtype)
            xc[:n, 0] = x[start:start + n]
            mc = np.zeros((T, 1), dtype=dtype)
            mc[:n, 0] = 1  # every step of the sequence is real; the rest of the chunk is padding
            with self._lock:
                res = fn(xc, mc, *states)
            res = [np.asarray(r) for r in res]
            outs.append(res[0][:n, 0])
            k = 1
            for layer in range(n_layers):
                hiddens[layer].append(res[k][:n, 0])
                k += 1
            for layer in range(n_layers):
                gates[layer].append([res[k + j][:n, 0] for j in range(len(gate_names))])
                k += len(gate_names)
            states = res[k:]
        per_step = np.concatenate(outs, axis=0)
        hidden = [np.ascontiguousarray(np.concatenate(h, axis=0), dtype=np.float32) for h in hiddens]
        gate_dicts = []
        for layer in range(n_layers):
            gate_dicts.append({
                name: np.ascontiguousarray(np.concatenate([chunk[j] for chunk in gates[layer]], axis=0),
                                           dtype=np.float32)
                for j, name in enumerate(gate_names)})
        return per_step, hidden, gate_dicts, states

    def _val_sequence(self, index: int):
        """Validation sequence ``index``: (x (L, ...), y, length) trimmed to its real steps."""
        data = self._val
        length = max(int(data.lengths[index]), 1)
        x = data.x[:length, index]
        y = data.y[index] if self.task == "classify_sequence" else data.y[:length, index]
        return x, y, length

    def probe(self) -> tuple:
        """Hidden states and gates of the probe sequence: fresh float32 (T_probe, H) arrays."""
        self._ensure_training_functions()
        data, probe = self._val, self._probe_index
        probe_batch, probe_column = divmod(probe, self.val_batch_size)
        idx = _batches(data.n, self.val_batch_size, np.arange(data.n))[probe_batch]
        res = self.f_loss(*data.batch(idx), np.int32(probe_column))
        return self._probe_arrays(res[3:], int(data.lengths[probe]))

    def _prepare_input(self, sequence) -> np.ndarray:
        """User input -> (L, F) normalised floats or (L,) int ids."""
        if self.is_text:
            if isinstance(sequence, str):
                return self._encode(sequence)
            ids = np.asarray(sequence)
            if ids.ndim != 1 or ids.dtype.kind not in "iu":
                raise ValueError(f"a text model takes a string or a 1-D array of token ids, got shape "
                                 f"{ids.shape} {ids.dtype}")
            if ids.size and (ids.min() < 0 or ids.max() >= self.spec.n_in):
                raise ValueError(f"token ids must be in [0, {self.spec.n_in}), got {ids.min()}..{ids.max()}")
            return ids.astype("int32")
        try:
            x = np.asarray(sequence, dtype=np.float64)
        except (TypeError, ValueError):  # e.g. a dict or ragged lists: bad input, not a crash
            raise ValueError(f"expected a numeric sequence of shape (T, {self.spec.n_in}), "
                             f"got {type(sequence).__name__}") from None
        if x.ndim == 1 and self.spec.n_in == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.spec.n_in:
            raise ValueError(f"expected a sequence of shape (T, {self.spec.n_in}), got {x.shape}")
        if x.shape[0] == 0:
            raise ValueError("the sequence is empty")
        if not np.all(np.isfinite(x)):
            raise ValueError("the sequence contains NaN or infinite values")
        return np.asarray(self.split.normalize(x), dtype=self.config.dtype)

    def _encode(self, text: str) -> np.ndarray:
        vocab = list(self.dataset.vocabulary)
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
        return np.asarray(self.split.denormalize_target(np.asarray(y)), dtype=np.float32)

    def predict(self, x) -> np.ndarray:
        """Class probabilities (C,) | next values (T, n_out) denormalised | next-char dists (T, V)."""
        seq = self._prepare_input(x)
        if seq.shape[0] == 0:
            raise ValueError("the sequence is empty")
        per_step, _, _, _ = self._run(seq)
        if self.task == "classify_sequence":
            return per_step[-1].astype(np.float32)
        if self.task == "forecast":
            return self._denormalize(per_step)
        return per_step.astype(np.float32)

    def hidden_states(self, sequence) -> list:
        """Per layer, float32 (T, H) hidden states of any sequence (raw values, ids or text)."""
        seq = self._prepare_input(sequence)
        _, hidden, _, _ = self._run(seq)
        return hidden

    def predict_validation(self) -> dict:
        """classify: {"true", "pred", "probs"} over the validation set; forecast:
        {"actual", "forecast"} (denormalised, one step ahead) for the probe sequence;
        next_token: {"true", "pred", "probs"} per step of the probe sequence."""
        model = self._ensure_model()
        data = self._val
        if self.task == "classify_sequence":
            with self._lock:
                if self.f_predict is None:
                    self.f_predict = self._compile(lambda: model.compile_predict(data.T, self.val_batch_size))
            probs = []
            for idx in _batches(data.n, self.val_batch_size, np.arange(data.n)):
                x, mask, _ = data.batch(idx)
                with self._lock:
                    probs.append(np.asarray(self.f_predict(x, mask)))
            probs = np.concatenate(probs, axis=0)[:data.n].astype(np.float32)
            return {"true": data.y[:data.n].astype(np.int64), "pred": probs.argmax(axis=1), "probs": probs}
        x, y, _ = self._val_sequence(self._probe_index)
        per_step, _, _, _ = self._run(x)
        if self.task == "forecast":
            return {"actual": self._denormalize(y), "forecast": self._denormalize(per_step),
                    "index": self._probe_index}
        return {"true": y.astype(np.int64), "pred": per_step.argmax(axis=1),
                "probs": per_step.astype(np.float32), "index": self._probe_index}

    def generate(self, n: int, temperature: float = 1.0, prime="", seed=None):
        """Sample ``n`` characters (text) or forecast ``n`` steps autoregressively (forecast).

        Text returns the generated string (without the prime); forecasting returns float32
        (n, n_out) denormalised values continuing ``prime`` (raw (T, F) values; default: the
        probe validation sequence).
        """
        if not _positive_int(n):
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if not _number(temperature) or not temperature > 0:
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        if self.task == "classify_sequence":
            raise ValueError("generate() needs a next_token or forecast model; this one classifies sequences")
        step = self._hidden_fn(1)
        if self.task == "next_token":
            return self._generate_text(step, n, temperature, prime, seed)
        if list(self.dataset.target_names) != list(self.dataset.feature_names):
            raise ValueError("generate() feeds forecasts back as inputs, so the forecast targets must be "
                             f"the input features; targets {list(self.dataset.target_names)} differ from "
                             f"inputs {list(self.dataset.feature_names)}")
        if prime is None or (isinstance(prime, str) and prime == ""):
            # Continue after the probe's last observed value. Its mask length counts the steps
            # that have a target, one fewer than the inputs when the window ends its sequence.
            length = int(self._val.lengths[self._probe_index])
            seq = self._val.x[:min(length + 1, self._val.x.shape[0]), self._probe_index]
        else:
            seq = self._prepare_input(prime)
        per_step, _, _, states = self._run(seq)
        value = per_step[-1:]  # (1, n_out), normalised
        out = []
        for _ in range(n):
            out.append(value[0].copy())
            res, _, _, states = self._run_with(step, 1, value.astype(self.config.dtype), states=states)
            value = res[-1:]
        return self._denormalize(np.stack(out))

    def _generate_text(self, step, n, temperature, prime, seed) -> str:
        rng = np.random.default_rng(seed)
        vocab = list(self.dataset.vocabulary)
        if prime is not None and len(prime):  # a string or token ids ("if prime" fails on arrays)
            ids = self._prepare_input(prime)
            probs, _, _, states = self._run(ids)
            p = probs[-1]
        else:
            # No prime: start from the training text's character frequencies.
            counts = np.bincount(self._train.x[self._train.mask > 0].ravel(), minlength=len(vocab))
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

    # ------------------------------------------------------------------ checkpoints
    def _fingerprint(self) -> dict:
        ds = self.dataset
        return {
            "task": self.task, "n_features": int(ds.n_features), "n_outputs": int(ds.n_outputs),
            "vocabulary": list(ds.vocabulary), "class_names": list(ds.class_names),
            "feature_names": list(ds.feature_names), "target_names": list(ds.target_names),
            "name": getattr(ds, "name", ""),
        }

    def save_checkpoint(self, path) -> str:
        """Save parameters, optimizer state, config, epoch and history to one .npz (atomic)."""
        model = self._ensure_model()
        return ckpt.save(path, model.get_params(), self.config.to_dict(), self._optimizer.get_state(),
                         self.epoch, self.history, extra={"dataset": self._fingerprint()})

    @classmethod
    def load_checkpoint(cls, path, dataset, *, split=None) -> "Trainer":
        """A trainer that resumes exactly where the checkpoint stopped (same data, same seed)."""
        ck = ckpt.load(path)
        try:
            config = TrainingConfig.from_dict(ck.config)
        except (TypeError, ValueError) as exc:
            raise ckpt.CheckpointError(f"{ck.path}: its training settings are invalid ({exc})") from exc
        fp = ck.extra.get("dataset", {})
        if not isinstance(fp, dict):
            raise ckpt.CheckpointError(f"{ck.path}: the dataset fingerprint is malformed")
        if fp.get("task") and fp["task"] != dataset.task:
            raise ckpt.CheckpointError(
                f"{ck.path} was trained for task {fp['task']!r} but the dataset is {dataset.task!r}")
        if dataset.is_text and fp.get("vocabulary") and list(fp["vocabulary"]) != list(dataset.vocabulary):
            raise ckpt.CheckpointError(
                f"{ck.path} was trained on a text with a different character vocabulary "
                f"({len(fp['vocabulary'])} vs {len(dataset.vocabulary)} characters); open the same text")
        trainer = cls(config, dataset, split=split)
        expected = trainer.spec.param_shapes()
        if list(ck.params) != list(expected):
            raise ckpt.CheckpointError(
                f"{ck.path}: parameters {list(ck.params)} do not match the model {list(expected)}")
        for name, shape in expected.items():
            if ck.params[name].shape != tuple(shape):
                raise ckpt.CheckpointError(
                    f"{ck.path}: parameter {name} has shape {ck.params[name].shape} but this dataset needs "
                    f"{tuple(shape)}; was the checkpoint trained on another dataset?")
            if str(ck.params[name].dtype) != config.dtype:
                raise ckpt.CheckpointError(
                    f"{ck.path}: parameter {name} is {ck.params[name].dtype} but the config says {config.dtype}")
        expected_state = optim.state_shapes(config.optimizer, expected)
        if list(ck.optimizer_state) != list(expected_state) or any(
                ck.optimizer_state[k].shape != s for k, s in expected_state.items()):
            raise ckpt.CheckpointError(
                f"{ck.path}: optimizer state does not match optimizer {config.optimizer!r} for this model")
        trainer._pending_params = ck.params
        trainer._pending_state = ck.optimizer_state
        trainer.epoch = ck.epoch
        trainer.history = list(ck.history)
        return trainer


def train(config: TrainingConfig, dataset, **kwargs):
    """Shorthand: ``for report in train(config, dataset): ...``."""
    return Trainer(config, dataset, **kwargs).epochs()
