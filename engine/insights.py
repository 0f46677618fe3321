"""Looking inside a training run: saliency over time, state-space trajectories, U's eigenvalues.

An :class:`Insight` is one epoch's numbers for the views that show recurrence at work
(engine.saliency, engine.trajectory, engine.spectrum). :class:`InsightProbe` computes them with
ONE compiled function per model, ``f_insight(x, mask, step, target) -> (dy/dx of the probe, y,
top-layer hidden states)`` for a fixed ``(T_val, N)`` batch (the probe in column 0, then up to 49
other validation sequences), built from engine.model's graph, so the gradient runs through the
same scan (and its BPTT) as training. :class:`InsightRecorder` is what a Run owns (``run.insights``):
when ``enabled`` (headless mode; the window's worker while an insight dock is shown) it looks after
epochs at its own cadence (:class:`Cadence`: at most ~1/80 of the wall time, never more than once a
second, always the first and the last epoch), keeps :class:`InsightSeries` (memory horizon and
spectral radii over epochs) and writes each Insight to the run folder's ``insights/``
(docs/RUN_FORMAT.md). A failure here is logged and turns the views off; it never ends the run.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pytensor
import pytensor.tensor as pt

from engine import saliency, spectrum, trajectory
from engine.model import build_forward, compile_function

log = logging.getLogger(__name__)

BUDGET_RATIO = 80  # insights take at most ~1/80 (1.25%) of the wall time (measured: benchmarks/bench_insights.py)
MIN_INTERVAL_S = 1.0
MAX_SERIES_POINTS = 2000  # the series over epochs is thinned (every other point) beyond this


@dataclass
class Insight:
    """One epoch's look inside (fresh arrays; see the module docstring)."""

    epoch: int
    probe_index: int
    saliency: np.ndarray  # (L,) float32, sum_f |dy/dx_t| over the probe's L steps
    step: int  # 0-based step of the prediction y (InsightProbe.chosen_step: the probe's last unless chosen)
    horizon: int  # steps back holding 90% of the saliency up to ``step``
    prediction: float  # y itself (class score, next value, log-probability)
    states: np.ndarray  # (N, T', H) float32 top-layer hidden states, probe first
    sequences: np.ndarray  # (N,) validation indices of those rows
    steps: np.ndarray  # (T',) step indices the states were kept at
    lengths: np.ndarray  # (N,) real steps of each sequence
    labels: np.ndarray  # (N,) class of each sequence (classification), else -1
    spectra: list = field(default_factory=list)  # per layer {block: complex64 eigenvalues}
    inputs: np.ndarray = field(default_factory=lambda: np.zeros((0, 1), np.float32))  # (L, F) the probe's
    # normalised input values, or (L, 1) its token ids for text (what the saliency strip lies under)

    @property
    def radii(self) -> list:
        return spectrum.radii(self.spectra)

    @property
    def nbytes(self) -> int:
        arrays = (self.saliency, self.states, self.sequences, self.steps, self.lengths, self.labels, self.inputs)
        return sum(a.nbytes for a in arrays) + sum(v.nbytes for layer in self.spectra for v in layer.values())

    def copy(self) -> "Insight":
        """Fresh arrays throughout (what a signal carries to another thread)."""
        fresh = {f.name: np.array(getattr(self, f.name)) for f in dataclasses.fields(self)
                 if isinstance(getattr(self, f.name), np.ndarray)}
        spectra = [{k: np.array(v) for k, v in layer.items()} for layer in self.spectra]
        return dataclasses.replace(self, spectra=spectra, **fresh)

    def to_arrays(self) -> dict:
        """npz arrays (``insights/epoch_NNNNNNN.npz``); states as float16."""
        arrays = {"epoch": np.int64(self.epoch), "probe_index": np.int64(self.probe_index),
                  "saliency": np.asarray(self.saliency, np.float32), "step": np.int64(self.step),
                  "horizon": np.int64(self.horizon), "prediction": np.float64(self.prediction),
                  "states": np.asarray(self.states, np.float16), "sequences": np.asarray(self.sequences, np.int64),
                  "steps": np.asarray(self.steps, np.int64), "lengths": np.asarray(self.lengths, np.int64),
                  "labels": np.asarray(self.labels, np.int64), "inputs": np.asarray(self.inputs, np.float32)}
        for layer, blocks in enumerate(self.spectra, start=1):
            for name, values in blocks.items():
                arrays[f"eig{layer}_{name}"] = np.asarray(values, np.complex64)
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> "Insight":
        spectra: dict = {}
        for key, values in arrays.items():
            if key.startswith("eig") and "_" in key and key[3:key.index("_")].isdigit():
                spectra.setdefault(int(key[3:key.index("_")]), {})[key[key.index("_") + 1:]] = np.asarray(values)
        scalar = {k: arrays[k].item() for k in ("epoch", "probe_index", "step", "horizon", "prediction")}
        return cls(epoch=int(scalar["epoch"]), probe_index=int(scalar["probe_index"]),
                   saliency=np.asarray(arrays["saliency"], np.float32), step=int(scalar["step"]),
                   horizon=int(scalar["horizon"]), prediction=float(scalar["prediction"]),
                   states=np.asarray(arrays["states"], np.float32), sequences=np.asarray(arrays["sequences"]),
                   steps=np.asarray(arrays["steps"]), lengths=np.asarray(arrays["lengths"]),
                   labels=np.asarray(arrays["labels"]), spectra=[spectra[k] for k in sorted(spectra)],
                   inputs=np.asarray(arrays["inputs"], np.float32))


class InsightSeries:
    """Memory horizon and spectral radii over epochs, bounded (thinned evenly beyond
    ``MAX_SERIES_POINTS``). Keys of ``radii``: ``(layer 1-based, block)``."""

    def __init__(self, max_points: int = MAX_SERIES_POINTS):
        self.max_points = int(max_points)
        self.epochs: list[int] = []
        self.horizons: list[int] = []
        self.radii: dict[tuple, list] = {}

    def add(self, insight: Insight) -> None:
        """Append ``insight``'s point; a second look at the last epoch (another step chosen) replaces it."""
        if self.epochs and self.epochs[-1] == int(insight.epoch):
            n = len(self.epochs) - 1
            self.epochs, self.horizons = self.epochs[:n], self.horizons[:n]
            self.radii = {k: v[:n] for k, v in self.radii.items()}
        self.epochs.append(int(insight.epoch))
        self.horizons.append(int(insight.horizon))
        for layer, blocks in enumerate(insight.radii, start=1):
            for name, value in blocks.items():
                values = self.radii.setdefault((layer, name), [])
                values.extend([float("nan")] * (len(self.epochs) - 1 - len(values)))
                values.append(float(value))
        if len(self.epochs) > self.max_points:
            keep = slice(None, None, 2)
            self.epochs, self.horizons = self.epochs[keep], self.horizons[keep]
            self.radii = {k: v[keep] for k, v in self.radii.items()}

    def to_arrays(self) -> dict:
        arrays = {"series_epoch": np.asarray(self.epochs, np.int64),
                  "series_horizon": np.asarray(self.horizons, np.int64)}
        for (layer, name), values in self.radii.items():
            padded = values + [float("nan")] * (len(self.epochs) - len(values))
            arrays[f"series_radius{layer}_{name}"] = np.asarray(padded, np.float64)
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> "InsightSeries":
        series = cls()
        if "series_epoch" not in arrays:
            return series
        series.epochs = [int(v) for v in arrays["series_epoch"]]
        series.horizons = [int(v) for v in arrays["series_horizon"]]
        for key, values in arrays.items():
            if key.startswith("series_radius"):
                layer, name = key[len("series_radius"):].split("_", 1)
                series.radii[(int(layer), name)] = [float(v) for v in values]
        return series


class Cadence:
    """When the next look inside is due: after ``ratio - 1`` times the last one's cost, at least
    ``min_interval_s`` later (the first look, which compiles, is not counted)."""

    def __init__(self, ratio: float = BUDGET_RATIO, min_interval_s: float = MIN_INTERVAL_S):
        self.ratio = float(ratio)
        self.min_interval_s = float(min_interval_s)
        self.next_due = float("-inf")
        self.looks = 0
        self.spent_s = 0.0  # wall time of the looks after the first (benchmarks/bench_insights.py)

    def due(self, now: float | None = None) -> bool:
        return (time.monotonic() if now is None else now) >= self.next_due

    def done(self, start: float, end: float) -> None:
        cost = 0.0 if self.looks == 0 else end - start
        self.spent_s += cost
        self.looks += 1
        self.next_due = end + max(self.min_interval_s, cost * (self.ratio - 1))


def insight_graph(spec, tparams, T: int, N: int):
    """Symbolic ``([x, mask, step, target], grad (T, F) of column 0, y, hidden (T, N, H))``.

    x: (T, N, F) floats, or (T, N, E) embedded characters for text (the ids themselves have no
    gradient); the embedding is looked up outside, in :meth:`InsightProbe.compute`.
    """
    dtype = pytensor.config.floatX
    width = spec.embedding_size if spec.is_text else spec.n_in
    x = pt.tensor("x", dtype=dtype, shape=(T, N, width))
    mask = pt.tensor("mask", dtype=dtype, shape=(T, N))
    step = pt.scalar("step", dtype="int32")
    target = pt.scalar("target", dtype="int32")
    float_spec = dataclasses.replace(spec, is_text=False, n_in=width) if spec.is_text else spec
    out = build_forward(float_spec, tparams, x, mask)
    y = saliency.prediction_target(spec.task, out["outputs"], step, target)
    grad = pytensor.grad(y, x)[:, 0]  # (T, F): only column 0 (the probe) reaches y
    return [x, mask, step, target], grad, y, out["hidden"][-1]


class InsightProbe:
    """Computes :class:`Insight` for one Trainer (compiled lazily, once per model shape)."""

    def __init__(self, trainer):
        self._trainer = trainer
        self._fn = None
        self._shape = None
        self.step: int | None = None  # the prediction explained: None = the probe's last step (see chosen_step)

    def chosen_step(self, length: int) -> int:
        """The 0-based step whose prediction the saliency explains, within the probe's ``length``:
        ``step`` (clipped to the last), or the last one. A classifier predicts once, at the end."""
        last = max(int(length) - 1, 0)
        if self.step is None or self._trainer.task == "classify_sequence":
            return last
        return min(max(int(self.step), 0), last)

    def length(self) -> int:
        """Steps of the probe sequence (builds the model's data, compiles nothing)."""
        t = self._trainer
        t.require_data("looking inside the model")
        t._ensure_model()
        return int(t._val.lengths[t.probe_index])

    def step_problem(self, step: int | None) -> str | None:
        """Why the prediction at ``step`` (0-based; None = the last) cannot be explained for this
        probe, or None: a step past its end, or any but the last for a classifier."""
        if step is None:
            return None
        length = self.length()
        if self._trainer.task == "classify_sequence" and step != length - 1:
            return (f"a classifier predicts once, after the probe's last step ({length - 1}); "
                    f"only the last step (-1) can be explained")
        if not 0 <= step < length:
            return f"the probe sequence has {length} steps (0 to {length - 1}; -1 = the last)"
        return None

    def _function(self, T: int, N: int):
        t = self._trainer
        model = t._ensure_model()
        with t._lock:
            if self._fn is None or self._shape != (T, N):
                def build():
                    inputs, grad, y, hidden = insight_graph(t.spec, model.tparams, T, N)
                    return compile_function(inputs, [grad, y, hidden], name="f_insight", on_unused_input="ignore")
                self._fn = t._compile(build)
                self._shape = (T, N)
            return self._fn

    def inputs(self, sequences) -> tuple:
        """(x, mask) of validation ``sequences`` for f_insight (text: embedded characters)."""
        t = self._trainer
        data = t._val
        x = data.x[:, sequences]
        if t.is_text:
            emb = np.asarray(t._ensure_model().tparams["emb"].get_value())
            x = emb[x]  # (T, N, E)
        return np.ascontiguousarray(x, dtype=t.config.dtype), np.ascontiguousarray(data.mask[:, sequences])

    def compute(self, epoch: int) -> Insight:
        t = self._trainer
        t.require_data("looking inside the model")
        t._ensure_model()
        data = t._val
        probe = t.probe_index
        sequences = trajectory.choose_sequences(data.n, probe)
        x, mask = self.inputs(sequences)
        fn = self._function(data.T, len(sequences))
        length = int(data.lengths[probe])
        step = self.chosen_step(length)  # a call-time input of f_insight: choosing another compiles nothing
        target = int(data.y[step, probe]) if t.task == "next_token" else 0
        with t._lock:
            grad, y, hidden = (np.asarray(r) for r in fn(x, mask, np.int32(step), np.int32(target)))
        sal = saliency.profile(grad, length)
        lengths = np.asarray(data.lengths[sequences], dtype=np.int64)
        states, steps, kept = trajectory.thin(hidden, lengths)
        labels = (np.asarray(data.y[sequences][:kept], np.int64) if t.task == "classify_sequence"
                  else np.full(kept, -1, np.int64))
        raw = data.x[:length, probe]
        inputs = np.asarray(raw, np.float32).reshape(length, -1)  # (L, F), or (L, 1) token ids
        model = t._ensure_model()
        with t._lock:
            recurrent = {k: np.asarray(v.get_value()) for k, v in model.tparams.items() if k.startswith("U")}
        return Insight(epoch=int(epoch), probe_index=int(probe), saliency=sal, step=step,
                       horizon=saliency.memory_horizon(sal, step), prediction=float(y), states=states,
                       sequences=sequences[:kept], steps=steps, lengths=lengths[:kept], labels=labels,
                       spectra=spectrum.layer_spectra(t.spec.cell, recurrent), inputs=inputs)


class InsightRecorder:
    """A Run's look inside (``run.insights``): compute at the cadence, remember the series, store."""

    def __init__(self, trainer, store=None, cadence: Cadence | None = None):
        self.probe = InsightProbe(trainer)
        self.store = store  # engine.run_folder.SnapshotStore over insights/, or None (no folder)
        self.cadence = cadence or Cadence()
        self.series = InsightSeries()
        self.latest: Insight | None = None
        self.failure = ""  # why the views were turned off, if they were
        self.enabled = False  # observe() looks after epochs (headless turns it on; the window's worker asks)
        self._trainer = trainer
        self._looked_step = None  # the step asked for at the latest look

    @property
    def step(self) -> int | None:
        """The step whose prediction is explained (None = the probe's last), as asked for."""
        return self.probe.step

    def set_step(self, step: int | None) -> bool:
        """Explain the prediction at ``step`` (0-based; None = the probe's last) from the next look
        on; True if that is a change (the caller may look again at once). ValueError for a negative
        or non-integer step."""
        if step is not None:
            if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
                raise ValueError(f"the saliency step must be a step index >= 0 or None (the last), got {step!r}")
            step = int(step)
        changed = step != self.probe.step
        self.probe.step = step
        return changed

    def observe(self, report) -> Insight | None:
        """After an epoch (a Run calls it): when ``enabled`` (headless) and due, or at the last
        epoch, the Insight of ``report.epoch`` (also set as ``report.insight``), else None."""
        t = self._trainer
        if not self.enabled:
            return None
        insight = self.look_if_due(force=t.epoch >= t.config.epochs)
        if insight is not None:
            report.insight = insight
        return insight

    def look_if_due(self, force: bool = False) -> Insight | None:
        """Look now if the cadence allows it (or ``force``) and the model or the chosen step changed
        since the last look (the window's worker calls it at its inference cadence); None otherwise."""
        epoch = self._trainer.epoch
        seen = self.latest is not None and self.latest.epoch == epoch and self._looked_step == self.step
        if self.failure or epoch == 0 or seen:
            return None
        if not (force or self.cadence.due()):
            return None
        return self.look(epoch)

    def look(self, epoch: int) -> Insight | None:
        """Compute, remember and store the Insight of ``epoch``; None (and ``failure`` set) if
        computing failed. A failed write (a full disk) stops storing, says so in ``failure`` and
        never raises: the run's own files report the disk."""
        start = time.monotonic()
        try:
            insight = self.probe.compute(epoch)
        except Exception as exc:  # a view must never end the run
            log.exception("looking inside the model failed; the insight views are off for this run")
            self.failure = f"the insight views are off: {exc}"
            return None
        self.cadence.done(start, time.monotonic())
        self._looked_step = self.step
        self.series.add(insight)
        self.latest = insight
        if self.store is not None:
            try:
                self.store.add_arrays(insight.epoch, {**insight.to_arrays(), **self.series.to_arrays()})
            except OSError as exc:
                log.warning("insights not stored any more: %s", exc)
                self.failure = f"insights are not stored any more: {exc}"
                self.store = None
        return insight
