"""Training as a generator: ``TrainingConfig``, ``EpochReport`` and ``Trainer``.

``Trainer.epochs()`` compiles on its first ``next()`` and yields one :class:`EpochReport`
per epoch; a Qt worker or an :class:`engine.runs.Run` turns each yield into a signal or a row
of the run folder (superqt's ``GeneratorWorker`` pattern). Live changes have one door,
``Trainer.update(**changes)`` with the names in ``engine.names.LIVE_SETTINGS``; it is
thread-safe: any thread may call it at any time. Hyperparameters are shared scalars read by
every compiled call, so a change lands between two steps (the step in flight keeps the old
values) and never recompiles anything; ``stop()`` ends the epoch after the current step.

Minibatches have one fixed shape ``(T, B)`` (engine.batches; JAX needs static shapes).
Inference (predictions, hidden states, generation, the probe) lives in engine.inference.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pytensor

from engine import backend
from engine import checkpoint as ckpt
from engine import function_cache as compiled
from engine import optim
from engine import step_store
from engine.batches import TimeMajor, fixed_batches
from engine.config import TrainingConfig, is_number
from engine.inference import Inference, probe_arrays
from engine.progress import BestWeights, StepMeter
from engine.recovery import LastGoodWeights
from engine.model import Model, ModelSpec, build_forward, compile_function, mean_loss, symbolic_inputs
from engine.names import LIVE_SETTINGS

# pytensor's compiler is not thread-safe: the GUI thread may compile an inference function
# while the worker compiles the training graph.
_COMPILE_LOCK = threading.RLock()


@contextlib.contextmanager
def _building():
    """A graph build: under the compile lock, and with traceback__limit=0 (PyTensor otherwise reads
    8 stack frames' source lines (linecache) for every variable the build creates, about a third of
    building a training graph; they only decorate its error messages). Restored on return."""
    with _COMPILE_LOCK, pytensor.config.change_flags(traceback__limit=0):
        yield


@dataclass
class EpochReport:
    epoch: int  # 1-based, counts across resumes
    train_loss: float  # masked mean over the epoch's applied steps
    val_loss: float  # an epoch cut short by stop(): over as many validation batches as it trained
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
    clip_norm: float | None = None  # in force at the end of the epoch (None = off)
    momentum: float | None = None  # in force at the end of the epoch
    best_epoch: int = 0  # epoch of the lowest validation loss so far (the weights restore_best() restores)
    early_stopped: bool = False  # patience ran out at this epoch: the run ends here
    probe_text: list | None = None  # text data: the probe's input character at each step t (len T_probe)
    exploded_loss: float | None = None  # a step's finite loss past the divergence limit ended the epoch early
    good_epoch: int = -1  # the last good epoch: the weights roll_back() restores (0: the initial ones)
    insight: object = None  # engine.insights.Insight, set by a Run at the inference cadence, else None

    def to_history(self) -> dict:
        """The scalar part, as stored in ``Trainer.history`` and checkpoints."""
        return {
            "epoch": self.epoch, "train_loss": self.train_loss, "val_loss": self.val_loss,
            "val_accuracy": self.val_accuracy, "learning_rate": self.learning_rate,
            "clip_norm": self.clip_norm, "momentum": self.momentum,
            "grad_norms": dict(self.grad_norms), "weight_norms": dict(self.weight_norms),
            "seconds": self.seconds, "step_ms": self.step_ms, "diverged": self.diverged,
            "skipped_steps": self.skipped_steps, "stopped": self.stopped,
        }


class _EpochTally:
    """What one epoch's training steps add up to (losses, norms, step times, refused steps)."""

    def __init__(self, n_groups: int):
        self.loss_sum = self.weight_sum = 0.0
        self.norm_sum = np.zeros(n_groups)
        self.n_ok = self.skipped = self.n_sequences = 0
        self.last_loss = float("nan")  # the last booked step's loss
        self.exploded = None  # that loss, when it was past the divergence limit (engine.recovery)
        self.step_times: list[float] = []
        self._t_last = time.perf_counter()

    def finish(self, step) -> None:
        """Book a step in flight ``(loss, norms, ok, weight)``: waits for the device."""
        loss, norms, ok, w = step
        loss = self.last_loss = float(np.asarray(loss))
        now = time.perf_counter()
        self.step_times.append(now - self._t_last)
        self._t_last = now
        if bool(np.asarray(ok)):
            self.loss_sum += loss * w
            self.weight_sum += w
            self.norm_sum += np.asarray(norms, dtype=np.float64)
            self.n_ok += 1
        else:
            self.skipped += 1

    def take_compile_excess(self, compiling: bool) -> float:
        """JAX compiles on the first call: its excess over a normal step counts as compiling
        and is dropped from the step times. Returns the excess in seconds."""
        times = self.step_times
        if not (compiling and times):
            return 0.0
        excess = max(times[0] - (float(np.median(times[1:])) if len(times) > 1 else 0.0), 0.0)
        self.step_times = times[1:] or times
        return excess

    @property
    def train_loss(self) -> float:
        return self.loss_sum / self.weight_sum if self.weight_sum > 0 else float("nan")

    def grad_norms(self, groups) -> dict:
        return {g: float(v / self.n_ok) if self.n_ok else float("nan") for g, v in zip(groups, self.norm_sum)}


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
        # A trainer loaded from a checkpoint without its data file has no arrays (split.train is
        # None): it predicts in data units with the stored normalisation, but cannot train.
        self.has_data = split.train is not None
        if self.has_data and (len(split.train) == 0 or len(split.val) == 0):
            raise ValueError(f"dataset {getattr(dataset, 'name', '?')!r} needs at least one training and "
                             f"one validation sequence, got {len(split.train)} and {len(split.val)}")
        self.is_text = bool(dataset.is_text)
        self.spec = _model_spec(config, dataset)
        self.history: list[dict] = []
        self.epoch = 0  # completed (or stopped) epochs, across resumes
        self.n_compiles = 0
        # Settings are shared scalars read by each compiled call, so any thread may change them
        # at any time: the step in flight finishes with the old values, the next one uses the new.
        self._settings_lock = threading.RLock()
        self._stop = threading.Event()
        self._iterating = False  # an epochs() generator is running (at most one at a time)
        self._lock = threading.RLock()  # inference functions and lazy set-up
        self._probe_index = 0
        self._model: Model | None = None
        self._optimizer: optim.Optimizer | None = None
        self._pending_params = None  # from a checkpoint, applied when the model is built
        self._pending_state = None
        self._train = self._val = None
        self.f_train = self.f_loss = None
        self.batch_size = min(config.batch_size, len(split.train)) if self.has_data else config.batch_size
        self.val_batch_size = min(len(split.val), max(self.batch_size, 32)) if self.has_data else 1
        self.inference = Inference(self)
        self.best = BestWeights()  # lowest-validation-loss parameters; restore_best() puts them back
        self.last_good = LastGoodWeights()  # the last good epoch's weights; roll_back() puts them back
        self.step_listeners: list = []  # fn(StepReport) on the training thread, ~every 0.5 s of an epoch
        # fn() on the training thread after every step (may block: a window holds a paused epoch there)
        self.step_hooks: list = []
        self._meter = StepMeter(self.step_listeners)
        self.epoch_listeners: list = []  # fn(history entry) on the training thread, before the report is yielded

    # ------------------------------------------------------------------ set-up
    def _ensure_model(self) -> Model:
        with self._lock:
            if self._model is None:
                dtype = self.config.dtype  # not a live setting: fixed for the run
                # select() imports JAX the first time (seconds): outside the settings lock, so
                # a live change from the GUI thread never waits for it.
                backend.select(self.config.backend, dtype)
                model = Model(self.spec, params=self._pending_params, seed=self.config.seed)
                if self.has_data and self._train is None:  # (the LR finder's copy shares its trainer's)
                    self._train = TimeMajor(self.split.train, self.task, dtype)
                    self._val = TimeMajor(self.split.val, self.task, dtype)
                # Under the settings lock: a change landing between reading the config and
                # publishing the optimizer would change the config but not the shared scalars.
                with self._settings_lock:
                    config = self.config
                    self._optimizer = optim.Optimizer(
                        config.optimizer, model.tparams, learning_rate=config.learning_rate,
                        momentum=config.momentum, clip_norm=config.clip_norm)
                    if self._pending_state is not None:
                        self._optimizer.set_state(self._pending_state)
                    self._pending_params = self._pending_state = None
                    self._model = model
                    self.last_good.keep(self.epoch, model, self._optimizer)  # what a run starts from
            return self._model

    def _compile(self, build):
        with _building():
            fn = build()
        self.n_compiles += 1
        return fn

    def _graph_key(self, kind: str, *shape) -> tuple:
        """What a compiled function of this trainer depends on besides its shared variables'
        values (engine.function_cache: an equal key reuses the graph). The hidden sizes are not
        in it: the graph reads them from the shared variables' shapes (engine.model)."""
        spec = dataclasses.replace(self.spec, hidden_sizes=(None,) * self.spec.n_layers)
        return (kind, spec, *shape, self.config.dtype, backend.info().name)

    def require_data(self, what: str) -> None:
        """Refuse ``what`` on a trainer loaded from a checkpoint without its dataset."""
        if not self.has_data:
            raise ValueError(f"{what} needs the training data; this model was loaded from a checkpoint "
                             "without its dataset (it can predict; load it with its dataset to train)")

    def _ensure_training_functions(self) -> None:
        """The training step only: validation and the probe compile on the first evaluation
        (:meth:`_ensure_loss_function`), so a new model shows its first training loss (a
        StepReport) one compile earlier."""
        self.require_data("training")
        model = self._ensure_model()
        if self.f_train is None:
            def build():
                x, mask, y = symbolic_inputs(self.spec, self._train.T, self.batch_size)
                out = build_forward(self.spec, model.tparams, x, mask)
                loss = mean_loss(self.spec, out["outputs"], y, mask)
                updates, norms, ok = self._optimizer.updates(loss, self.spec.param_groups())
                return compile_function([x, mask, y], [loss, norms, ok], updates=updates, name="f_train")
            opt = self._optimizer
            key = self._graph_key("f_train", self._train.T, self.batch_size, opt.name)
            shared = [*model.tparams.values(), *opt.hyper.values(), *opt.state.values()]

            def pytensor_step():  # also built lazily for the Graph dock of a stored step
                with _building():
                    return compiled.functions.get(key, shared, build)
            # JAX: the step an earlier launch stored (engine.step_store), else compiled and stored.
            self.f_train = self._compile(lambda: step_store.training_step(key, shared, pytensor_step))

    def _ensure_loss_function(self) -> float:
        """Compile f_loss (validation loss + the probe) and warm it up; returns the seconds spent
        (0 when it was compiled already). JAX compiles on the first call, so the side-effect-free
        warm-up call keeps that time out of the epoch's validation."""
        self._ensure_training_functions()
        if self.f_loss is not None:
            return 0.0
        start = time.perf_counter()
        model = self._ensure_model()
        key = self._graph_key("f_loss", self._val.T, self.val_batch_size)
        f_loss = self._compile(lambda: compiled.functions.get(
            key, list(model.tparams.values()), lambda: model.compile_loss(self._val.T, self.val_batch_size, probe=True)))
        pad = np.full(self.val_batch_size, self._val.n)
        f_loss(*self._val.batch(pad), np.int32(0))
        self.f_loss = f_loss
        return time.perf_counter() - start

    # ------------------------------------------------------------------ live changes (the one door)
    def update(self, **changes) -> dict:
        """Change live settings (``engine.names.LIVE_SETTINGS``) between two steps, no recompile.

        Thread-safe; all changes are validated before any is applied (a bad value changes
        nothing). ``clip_norm`` None or 0 turns clipping off. Returns ``{name: (old, new)}`` for
        the settings whose value changed.
        """
        unknown = sorted(set(changes) - set(LIVE_SETTINGS))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a live setting; live settings are "
                             f"{', '.join(LIVE_SETTINGS)} (anything else needs a new run)")
        changes = dict(changes)
        has_probe = "probe_index" in changes
        probe = changes.pop("probe_index", None)
        if has_probe:
            self.require_data("a probe")
            n = len(self.split.val)
            if not isinstance(probe, (int, np.integer)) or isinstance(probe, bool) or not 0 <= probe < n:
                raise ValueError(f"probe_index must be between 0 and {n - 1} (validation sequences), "
                                 f"got {probe!r}")
        if "clip_norm" in changes and not changes["clip_norm"]:
            changes["clip_norm"] = None
        if "patience" in changes and not changes["patience"]:
            changes["patience"] = None  # 0 or None: no early stopping
        for name in set(changes) - {"epochs", "patience"}:  # the rest are floats
            if is_number(changes[name]):
                changes[name] = float(changes[name])
        with self._settings_lock:
            old = self._config
            new = old.replace(**changes)  # TrainingConfig validates every value
            diff = {k: (getattr(old, k), v) for k, v in changes.items() if getattr(old, k) != v}
            if has_probe and int(probe) != self._probe_index:
                diff["probe_index"] = (self._probe_index, int(probe))
                self._probe_index = int(probe)
            self._config = new
            if self._optimizer is not None:
                self._optimizer.set_learning_rate(new.learning_rate)
                self._optimizer.set_clip_norm(new.clip_norm)
                self._optimizer.set_momentum(new.momentum)
        return diff

    def stop(self) -> None:
        """Ask the running epoch to end after the current step (thread-safe, returns at once)."""
        self._stop.set()

    @property
    def config(self) -> TrainingConfig:
        """The run's settings; change the live ones with :meth:`update`."""
        return self._config

    @property
    def probe_index(self) -> int:
        return self._probe_index

    # ------------------------------------------------------------------ training
    def epochs(self):
        """Generator of :class:`EpochReport`, one per epoch up to ``config.epochs`` (read before
        every epoch, so a larger ``epochs`` extends the run). One at a time per Trainer: a second
        generator that starts while another is running raises RuntimeError. It takes no commands:
        a value sent into it (gen.send) is refused with a warning naming Trainer.update, and the
        generator goes on."""
        with self._settings_lock:
            if self._iterating:
                raise RuntimeError("this Trainer is already training in another epochs() generator; "
                                   "close that one (gen.close()) or let it finish first")
            self._iterating = True
        try:
            yield from self._epochs()
        finally:
            self._stop.clear()  # a stop() ends this generator only; a later epochs() runs again
            self._iterating = False

    def _epochs(self):
        # The training step compiles first (JAX compiles it on the first step, whose excess over
        # a normal step counts as compiling); validation compiles after that first step has been
        # reported (_ensure_loss_function). The first epoch's compile_seconds holds them all.
        t_compile = time.perf_counter()
        compiled_before = self.n_compiles
        self._ensure_training_functions()
        compile_seconds = time.perf_counter() - t_compile if self.n_compiles > compiled_before else 0.0
        while self.epoch < self.config.epochs:
            report = self._run_epoch(compile_seconds)
            compile_seconds = 0.0
            sent = yield report
            if sent is not None:  # refused in words; raising here would end the generator
                warnings.warn(f"Trainer.epochs() takes no commands through send(); use "
                              f"Trainer.update(...) (ignored: {sent!r:.80})", stacklevel=2)
            if report.stopped or report.early_stopped:
                return
            # A stop() that landed after this report was built is answered by the next epoch's
            # first check: one stopped report that counts no epoch, so a stop always shows.

    def _train_steps(self, epoch: int) -> tuple:
        """One pass over the shuffled training data; returns (tally, stopped)."""
        data = self._train
        order = np.random.default_rng([self.config.seed, epoch]).permutation(data.n)  # resumable
        tally = _EpochTally(len(self.spec.param_groups()))
        pending = None  # the step in flight: (loss, norms, ok, weight)
        stopped = False
        batches = fixed_batches(data.n, self.batch_size, order)
        # A new model reports its first step at once: its training loss, right after the compile.
        self._meter.start_epoch(epoch, len(batches), report_first=self.f_loss is None)
        for idx in batches:
            if self._stop.is_set():
                stopped = True
                break
            # This batch is gathered while the previous step still runs (JAX dispatches
            # asynchronously); at most two steps are in flight, so stop() lands within a step.
            x, mask, y = data.batch(idx)
            outputs = self.f_train(x, mask, y)
            tally.n_sequences += int(np.count_nonzero(idx < data.n))
            if pending is not None:
                tally.finish(pending)
                self._meter.step(tally)
                for hook in self.step_hooks:
                    hook()
            pending = (*outputs, data.weight(mask))
            if tally.n_ok and self.last_good.exploded(tally.last_loss):  # end the epoch before the weights run away
                tally.exploded = tally.last_loss
                break
        if pending is not None:
            tally.finish(pending)
            if tally.exploded is None and self.last_good.exploded(tally.last_loss):
                tally.exploded = tally.last_loss
            self._meter.step(tally)  # a one-batch epoch of a new model reports its step too
        return tally, stopped

    def _run_epoch(self, compile_seconds: float) -> EpochReport:
        t_epoch = time.perf_counter()
        epoch = self.epoch + 1
        tally, stopped = self._train_steps(epoch)
        train_seconds = sum(tally.step_times)
        first_excess = tally.take_compile_excess(bool(compile_seconds))
        train_seconds -= first_excess
        # An epoch that stop() cut short validates on no more batches than it trained (plus the
        # probe's): on a huge text a full pass would take minutes after the user asked to stop.
        limit = max(len(tally.step_times), 1) if stopped else None
        first_excess += self._ensure_loss_function()  # the first epoch compiles validation here
        val_loss, val_accuracy, hidden, gates, complete = self._evaluate(limit)
        # A stop() that arrives after the last step still ends the run with this report.
        stopped = stopped or self._stop.is_set()
        if tally.step_times or not stopped:
            # A stop before the first step trained nothing: report it, but count no epoch.
            self.epoch = epoch
        config = self.config
        diverged = tally.skipped > 0 or tally.exploded is not None
        if self.epoch == epoch and complete:  # a loss on part of the split compares with nothing
            self.best.observe(epoch, val_loss, self._model)
            self.last_good.observe(epoch, tally.train_loss, val_loss, diverged, self._model, self._optimizer)
        patience = config.patience
        report = EpochReport(
            epoch=epoch, train_loss=tally.train_loss, val_loss=val_loss, val_accuracy=val_accuracy,
            grad_norms=tally.grad_norms(self.spec.param_groups()), weight_norms=self._model.weight_norms(),
            hidden=hidden, gates=gates, probe_index=self._probe_index,
            learning_rate=float(config.learning_rate),
            seconds=time.perf_counter() - t_epoch - first_excess,
            sequences_per_second=tally.n_sequences / train_seconds if train_seconds > 0 else 0.0,
            step_ms=float(np.median(tally.step_times)) * 1e3 if tally.step_times else 0.0,
            compile_seconds=compile_seconds + first_excess,
            diverged=diverged, skipped_steps=tally.skipped, stopped=stopped,
            clip_norm=config.clip_norm, momentum=float(config.momentum), best_epoch=self.best.epoch,
            early_stopped=bool(patience) and self.epoch == epoch and self.best.epochs_since(epoch) >= patience,
            probe_text=self._probe_text(hidden),
            exploded_loss=tally.exploded, good_epoch=self.last_good.epoch,
        )
        if self.epoch == epoch:
            self.history.append(report.to_history())
            for listener in list(self.epoch_listeners):  # e.g. a test set scored every K epochs
                listener(self.history[-1])
        return report

    def _evaluate(self, limit: int | None = None) -> tuple:
        """Validation loss and accuracy, plus the probe's hidden states and gates, which come
        out of the same compiled call (the batch that holds the probe sequence); and whether the
        whole split was scored. ``limit``: score only the first ``limit`` batches and the probe's."""
        self._ensure_loss_function()
        data = self._val
        probe = self._probe_index
        probe_batch, probe_column = divmod(probe, self.val_batch_size)
        total = weight = correct = 0.0
        hidden = gates = None
        batches = fixed_batches(data.n, self.val_batch_size, np.arange(data.n))
        complete = limit is None or limit >= len(batches)
        for k, idx in enumerate(batches):
            if not complete and k >= limit and k != probe_batch:
                continue
            res = self.f_loss(*data.batch(idx), np.int32(probe_column if k == probe_batch else 0))
            total += float(np.asarray(res[0]))
            weight += float(np.asarray(res[1]))
            correct += float(np.asarray(res[2]))
            if k == probe_batch:
                hidden, gates = probe_arrays(self.spec, res[3:], int(data.lengths[probe]))
        loss = total / weight if weight > 0 else float("nan")
        accuracy = correct / weight if weight > 0 and self.task != "forecast" else None
        return loss, accuracy, hidden, gates, complete

    def _probe_text(self, hidden) -> list | None:
        """Text data: the character read at each step of the probe (what the heatmaps' rows are)."""
        if not (self.is_text and hidden):
            return None
        ids = self.split.val.x[self._probe_index, :hidden[0].shape[0]]
        vocabulary = self.dataset.vocabulary
        return [vocabulary[int(i)] for i in ids]

    def restore_best(self) -> int:
        """Put the lowest-validation-loss epoch's parameters back into the model (the optimizer
        state stays as it is); returns that epoch, or 0 when no epoch has been validated."""
        if self.best.params is None:
            return 0
        with self._lock:
            self._ensure_model().set_params(self.best.params)
        return self.best.epoch

    def roll_back(self) -> int:
        """Put the last good epoch's parameters and optimizer state back (engine.recovery), e.g.
        after a divergence, so training resumes from there with a new rate; returns that epoch
        (0: the weights the run started from). The epoch count and history go on as they were."""
        with self._lock:
            model = self._ensure_model()
            kept = self.last_good
            with self._settings_lock:
                model.set_params(kept.params)
                if kept.optimizer_state is not None:
                    self._optimizer.set_state(kept.optimizer_state)
        return kept.epoch

    # ------------------------------------------------------------------ inference (engine.inference)
    @property
    def inference_length(self) -> int:
        return self.inference.length

    def predict(self, x) -> np.ndarray:
        """Class probabilities (C,) | next values (T, n_out) denormalised | next-char dists (T, V)."""
        return self.inference.predict(x)

    def predict_validation(self) -> dict:
        """Predictions over the validation set or the probe (see ``Inference.predict_validation``)."""
        return self.inference.predict_validation()

    def hidden_states(self, sequence) -> list:
        """Per layer, float32 (T, H) hidden states of any sequence (raw values, ids or text)."""
        return self.inference.hidden_states(sequence)

    def generate(self, n: int, temperature: float = 1.0, prime="", seed=None):
        """Sample text or forecast ``n`` steps autoregressively (see ``Inference.generate``)."""
        return self.inference.generate(n, temperature=temperature, prime=prime, seed=seed)

    def probe(self) -> tuple:
        """Hidden states and gates of the probe sequence: fresh float32 (T_probe, H) arrays."""
        return self.inference.probe()

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path) -> str:
        """Save parameters, optimizer state, config, epoch, history and the data's fingerprint and
        normalisation to one .npz (atomic; see docs/CHECKPOINT_FORMAT.md)."""
        model = self._ensure_model()
        record = self.dataset.record if isinstance(self.dataset, ckpt.StoredDataset) else \
            ckpt.fingerprint(self.dataset, self.split)
        return ckpt.save(path, model.get_params(), self.config.to_dict(), self._optimizer.get_state(),
                         self.epoch, self.history, extra={"dataset": record})

    @classmethod
    def check_checkpoint(cls, path, dataset=None, *, weights_only=False, backend=None) -> ckpt.Checkpoint:
        """Read ``path`` and run every check against ``dataset`` without building anything (no
        split, no model); returns the checkpoint to pass to :meth:`load_checkpoint`.

        Raises :class:`~engine.checkpoint.CheckpointError`, or its subclass
        :class:`~engine.checkpoint.CheckpointDatasetMismatch` when the weights fit but the data
        differ (unless ``weights_only``). Without ``dataset`` the checkpoint must carry its data's
        normalisation (and vocabulary) to predict on its own."""
        ck = path if isinstance(path, ckpt.Checkpoint) else ckpt.load(path)
        config = _checkpoint_config(ck, backend)
        if dataset is None:
            dataset = ckpt.StoredDataset(ckpt.inference_record(ck))
        else:
            ckpt.check_dataset(ck, dataset, config.window)
        shapes = _model_spec(config, dataset).param_shapes()
        ckpt.check_model(ck, shapes, optim.state_shapes(config.optimizer, shapes), config.dtype, config.optimizer)
        if not weights_only and not isinstance(dataset, ckpt.StoredDataset):
            ckpt.check_same_data(ck, dataset)
        return ck

    @classmethod
    def load_checkpoint(cls, path, dataset=None, *, split=None, backend=None, weights_only=False) -> "Trainer":
        """A trainer that resumes exactly where the checkpoint stopped (same data, same seed).

        ``path`` is a file or a :class:`~engine.checkpoint.Checkpoint` from :meth:`check_checkpoint`.
        ``weights_only`` starts a new run (epoch 0, no history, fresh optimizer state) from the
        saved weights, e.g. on another dataset of the same shape. Without ``dataset`` the trainer
        predicts in data units from what the checkpoint stores but cannot train. ``backend``
        overrides the saved one (it changes no result, only the compiled code)."""
        ck = cls.check_checkpoint(path, dataset, weights_only=weights_only, backend=backend)
        config = _checkpoint_config(ck, backend)
        if dataset is None:
            dataset = ckpt.StoredDataset(ck.dataset)
            split = dataset.split()
        trainer = cls(config, dataset, split=split)
        trainer._pending_params = ck.params
        if not weights_only:
            trainer._pending_state = ck.optimizer_state
            trainer.epoch = ck.epoch
            trainer.history = list(ck.history)
            trainer.best.seed(trainer.history)  # the best so far stays the bar (its weights: best.npz)
        return trainer


def _model_spec(config: TrainingConfig, dataset) -> ModelSpec:
    """The shapes ``config`` gives a model of ``dataset`` (nothing is allocated)."""
    return ModelSpec(cell=config.cell, task=dataset.task, n_in=int(dataset.n_features),
                     hidden_sizes=tuple(config.hidden_sizes), n_out=int(dataset.n_outputs),
                     is_text=bool(dataset.is_text), embedding_size=config.embedding_size)


def _checkpoint_config(ck, backend=None) -> TrainingConfig:
    try:
        config = TrainingConfig.from_dict(ck.config)
        return config if backend is None else config.replace(backend=backend)
    except (TypeError, ValueError) as exc:
        raise ckpt.CheckpointError(f"{ck.path}: its training settings are invalid ({exc})") from None
