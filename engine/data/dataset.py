"""SequenceDataset (what was loaded) and Split / Arrays (what the engine trains on).

The engine needs static shapes (one compiled graph per (T, B)), so :meth:`SequenceDataset.split`
turns variable-length sequences into padded, fixed-length, example-major arrays with masks.
:meth:`Arrays.batches` hands them out time-major, the last batch padded with zero-mask examples so
every batch has exactly the same shape.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from engine.names import TASKS

from .errors import DataError, data_error
from .formats import NONFINITE_FIXES, to_float32_checked
from .text import id_dtype

__all__ = ["TASKS", "SequenceDataset", "Split", "Arrays"]

DEFAULT_TEXT_WINDOW = 64
DEFAULT_FORECAST_WINDOW = 256
_MIN_STD = 1e-6


def default_feature_names(n_features: int) -> list:
    """Names for unnamed feature columns: "value" for one, else x1..xn."""
    return ["value"] if n_features == 1 else [f"x{j + 1}" for j in range(n_features)]


def _finite_float32(a: np.ndarray, error, index: int) -> np.ndarray:
    """float32 (T, F) with every value finite (a NaN or inf would make every loss NaN)."""
    def locate(t, j):
        return None, f"in sequence {index + 1}, step {t + 1}, feature {j + 1}"
    try:
        out = to_float32_checked(a, None, locate) if a.dtype.kind == "f" else a.astype(np.float32)
    except DataError as exc:
        raise error(exc.problem, exc.hint) from None
    finite = np.isfinite(out)
    if not finite.all():
        t, j = (int(v) for v in np.argwhere(~finite)[0])
        word = "NaN" if np.isnan(out[t, j]) else "an infinite value"
        raise error(f"{word} {locate(t, j)[1]}", "clean the data, or load the file and {fix}",
                    fixes=NONFINITE_FIXES)
    return out


def _normalisation(train_seqs):
    """Per-feature (mean, std) float32 fitted on the training sequences; identity for text (None)."""
    if train_seqs is None:
        return np.zeros(1, np.float32), np.ones(1, np.float32)
    stacked = np.concatenate(train_seqs, axis=0).astype(np.float64)
    std = stacked.std(axis=0)
    return stacked.mean(axis=0).astype(np.float32), np.where(std < _MIN_STD, 1.0, std).astype(np.float32)


def check_task(task: str) -> str:
    if task not in TASKS:
        raise DataError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return task


@dataclass(eq=False)
class SequenceDataset:
    """Variable-length sequences plus what they mean.

    sequences: float32 ``(T_i, F)`` for numeric data; ``(T_i,)`` token ids for text (uint16, or
    int32 for a vocabulary over 65,536 characters: ``text.id_dtype``).
    labels: int64 ``(N,)`` for ``classify_sequence``, else None.
    notes: what loading changed or noticed (dropped rows, interpolated values, encoding fallback),
    one sentence each, for the import dialog.
    """

    sequences: list
    task: str = "forecast"
    labels: np.ndarray | None = None
    feature_names: list = field(default_factory=list)
    target_names: list = field(default_factory=list)
    class_names: list = field(default_factory=list)
    vocabulary: list = field(default_factory=list)
    source_paths: list = field(default_factory=list)
    # Sequences per source path, in order (loading sets it), so a problem in sequence i names the
    # file it came from and its number there; empty when unknown (built in Python, appended files).
    source_counts: list = field(default_factory=list, repr=False)
    name: str = "data"
    notes: list = field(default_factory=list)
    format: str = ""
    # Labels kept while the task is not classify_sequence, so with_task() can switch back.
    source_labels: np.ndarray | None = field(default=None, repr=False)
    # Original steps per time step (engine.data.framing; the loading option "frame"): 1 = as in the file.
    frame: int = 1
    # The same data before framing (engine.data.framing.reframe frames it again another way, e.g. as a
    # checkpoint's data was); None when frame == 1. Mostly views of the framed arrays, not copies.
    unframed: "SequenceDataset | None" = field(default=None, repr=False)

    def __post_init__(self):
        # The one place the dataset rules are checked (loading builds its datasets through here).
        check_task(self.task)
        self.sequences = list(self.sequences)
        if not self.sequences:
            raise self._error("no sequences", "choose a file that contains data")
        if self.vocabulary:
            self._check_text()
        else:
            self._check_numeric()
        self._check_labels()
        self._check_lengths()

    def _error(self, problem: str, hint: str | None = None, record: str | None = None, fixes=()) -> DataError:
        return data_error(self.name, problem, hint, record=record, fixes=fixes)

    def _source_of(self, index: int) -> tuple:
        """(file or dataset name, 0-based index there) of sequence ``index``."""
        counts = [int(c) for c in self.source_counts]
        if len(counts) == len(self.source_paths) and sum(counts) == len(self.sequences):
            for path, count in zip(self.source_paths, counts):
                if index < count:
                    return path, index
                index -= count
        return self.name, index

    def _sequence_error(self, index: int, problem: str, hint: str | None = None, fixes=()) -> DataError:
        """A DataError about sequence ``index`` ("sequence {n}" in ``problem``), naming its file."""
        where, local = self._source_of(index)
        return data_error(where, problem.format(n=local + 1), hint, fixes=fixes)

    def _check_text(self) -> None:
        self.vocabulary = [str(v) for v in self.vocabulary]
        if self.task != "next_token":
            raise self._error(f"text supports only the task 'next_token', not {self.task!r}",
                              "choose next_token, or load a numeric file")
        v = len(self.vocabulary)
        dtype = id_dtype(v)  # uint16 for any capped vocabulary: half the memory of int32 ids
        seqs = []
        for i, s in enumerate(self.sequences):
            s = np.asarray(s).reshape(-1)
            if s.dtype.kind not in "iu":
                s = s.astype(np.int32)
            if s.size and (s.min() < 0 or s.max() >= v):
                raise self._error(f"sequence {i + 1} has token ids outside the vocabulary (0..{v - 1})",
                                  "build the ids from the vocabulary")
            seqs.append(s.astype(dtype, copy=False))  # the loader's ids already are: no copy
        self.sequences = seqs
        self.feature_names, self.target_names, self.class_names = [], [], []

    def _check_numeric(self) -> None:
        seqs = []
        for i, s in enumerate(self.sequences):
            a = np.asarray(s)
            if a.ndim == 1:
                a = a[:, None]
            if a.ndim != 2:
                raise self._error(f"a sequence must be (T,) or (T, F), got shape {a.shape}", "reshape it")
            seqs.append(_finite_float32(a, self._error, i))
        widths = {a.shape[1] for a in seqs}
        if len(widths) != 1:
            raise self._error(f"sequences have different numbers of features {sorted(widths)}",
                              "every sequence (and every file) needs the same columns")
        self.sequences = seqs
        n_feat = widths.pop()
        self.feature_names = [str(f) for f in self.feature_names or default_feature_names(n_feat)]
        if len(self.feature_names) != n_feat:
            raise self._error(f"{len(self.feature_names)} feature names for {n_feat} features",
                              "give one name per feature column")
        if self.task == "next_token":
            raise self._error("next_token needs text, but these sequences are numeric",
                              "choose 'forecast', or load a text file")
        if not self.target_names:
            self.target_names = list(self.feature_names)
        unknown = [t for t in self.target_names if t not in self.feature_names]
        if unknown:
            raise self._error(f"target {unknown[0]!r} is not a feature", f"choose one of {', '.join(self.feature_names)}")

    def _check_labels(self) -> None:
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if self.task != "classify_sequence":
            if self.labels is not None:
                self.source_labels = self.labels
            self.labels = None
            if not self.vocabulary and self.source_labels is None:
                self.class_names = []
            self.class_names = [str(c) for c in self.class_names]
            return
        if self.labels is None and self.source_labels is not None:
            self.labels = np.asarray(self.source_labels, np.int64)
        if self.labels is None:
            raise self._error("has no class labels, so it cannot be used to classify sequences",
                              "use a UCR / .ts / .npz-with-y file, label files by folder, or choose 'forecast'")
        if len(self.labels) != len(self.sequences):
            raise self._error(f"{len(self.labels)} labels for {len(self.sequences)} sequences",
                              "give one label per sequence")
        if not self.class_names:
            self.class_names = [str(c) for c in range(int(self.labels.max()) + 1)]
        self.class_names = [str(c) for c in self.class_names]
        if self.labels.min() < 0 or self.labels.max() >= len(self.class_names):
            raise self._error(f"labels outside 0..{len(self.class_names) - 1}", "give one class name per label")
        if len(np.unique(self.labels)) < 2:
            raise self._error(f"only one class ({self.class_names[int(self.labels[0])]!r})",
                              "classification needs at least two classes: add sequences of another class "
                              "or choose task 'forecast'")
        self.source_labels = self.labels

    def _check_lengths(self) -> None:
        min_len = 1 if self.task == "classify_sequence" else 2
        for i, s in enumerate(self.sequences):
            if len(s) < min_len:
                raise self._sequence_error(i, f"sequence {{n}} has only {len(s)} step(s)",
                                           f"{self.task} needs at least {min_len} steps per sequence; "
                                           "remove short sequences")

    # ----------------------------------------------------------------- derived properties
    @property
    def is_text(self) -> bool:
        return bool(self.vocabulary)

    @property
    def n_sequences(self) -> int:
        return len(self.sequences)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    @property
    def n_features(self) -> int:
        return len(self.vocabulary) if self.is_text else len(self.feature_names)

    @property
    def target_indices(self) -> list[int]:
        return [self.feature_names.index(t) for t in self.target_names]

    @property
    def n_outputs(self) -> int:
        if self.task == "classify_sequence":
            return len(self.class_names)
        if self.task == "next_token":
            return len(self.vocabulary)
        return len(self.target_names)

    def __len__(self) -> int:
        return len(self.sequences)

    def with_task(self, task: str) -> "SequenceDataset":
        """The same data for another task (raises DataError if the data cannot support it)."""
        check_task(task)
        if self.frame != 1 and task != "classify_sequence":  # a forecast's next step would be the next frame
            raise self._error(f"is fed as frames of {self.frame} steps, and frames apply to sequence classification "
                              f"only, not {task!r}", "open the file again with steps per frame 1 (the preview's "
                              "'steps per frame', or --frame 1) to use another task")
        labels = self.labels if self.labels is not None else self.source_labels
        return dataclasses.replace(self, task=task, labels=labels if task == "classify_sequence" else None,
                                   source_labels=labels, notes=list(self.notes))

    def with_targets(self, target_names) -> "SequenceDataset":
        """The same data forecasting only ``target_names`` (names or column indices)."""
        if isinstance(target_names, (str, int)):
            target_names = [target_names]
        n = len(self.feature_names)
        names = []
        for t in target_names:
            if isinstance(t, (int, np.integer)) and not isinstance(t, bool):
                if not -n <= t < n:
                    raise DataError(f"{self.name}: target column {t} is out of range (there are {n} feature "
                                    f"columns); choose one of {', '.join(self.feature_names)}")
                t = self.feature_names[t]
            names.append(t)
        return dataclasses.replace(self, target_names=names, labels=self.labels, notes=list(self.notes))

    def summary(self) -> dict:
        """Plain values for the GUI's dataset panel."""
        lengths = self.lengths
        out = {
            "name": self.name,
            "file": ", ".join(self.source_paths) if self.source_paths else self.name,
            "source_paths": list(self.source_paths),
            "format": self.format,
            "task": self.task,
            "sequences": self.n_sequences,
            "min_length": int(lengths.min()),
            "median_length": float(np.median(lengths)),
            "max_length": int(lengths.max()),
            "total_steps": int(lengths.sum()),
            "features": self.n_features,
            "feature_names": list(self.feature_names),
            "targets": list(self.target_names),
            "classes": list(self.class_names) if self.task == "classify_sequence" else [],
            "vocab": len(self.vocabulary),
            "notes": list(self.notes),
            "frame": int(self.frame),  # framed: the lengths above count frames; the file's, in steps:
            "step_lengths": self.unframed.summary()["lengths"] if self.unframed is not None else None,
            "lengths": (int(lengths.min()), int(np.median(lengths)), int(lengths.max())),
        }
        if self.task == "classify_sequence":
            counts = np.bincount(self.labels, minlength=len(self.class_names))
            out["class_counts"] = {c: int(n) for c, n in zip(self.class_names, counts)}
        return out

    # ----------------------------------------------------------------- splitting
    def default_window(self) -> int | None:
        if self.task == "classify_sequence":
            return None
        if self.is_text:
            return DEFAULT_TEXT_WINDOW
        return int(min(self.lengths.max(), DEFAULT_FORECAST_WINDOW))

    def split(self, validation_fraction: float = 0.2, seed: int = 0, window: int | None = None,
              stride: int | None = None) -> "Split":
        """Deterministic train/validation split into padded fixed-length arrays.

        Several sequences: whole sequences go to one side (stratified by class for
        classify_sequence). A single text / forecast series: split by time, the last
        ``validation_fraction`` of it is validation. Normalisation (numeric inputs) is fitted on
        the training part only. ``window``/``stride`` chop next_token / forecast sequences into
        windows (truncated BPTT); classify_sequence always uses whole sequences.
        """
        try:
            fraction = float(validation_fraction)
        except (TypeError, ValueError):
            raise DataError(f"validation fraction {validation_fraction!r} is not a number; use e.g. 0.2") from None
        if not 0.0 < fraction < 1.0:
            raise DataError(f"validation fraction {fraction:g} must be between 0 and 1 (exclusive); use e.g. 0.2")
        rng = np.random.default_rng(seed)
        if self.n_sequences == 1 and self.task in ("next_token", "forecast"):
            train_seqs, val_seqs, train_idx, val_idx = self._split_by_time(fraction)
            train_labels = val_labels = None
        else:
            if self.n_sequences < 2:
                raise DataError(f"{self.name}: a train/validation split needs at least 2 sequences, found "
                                f"{self.n_sequences}; add sequences or choose task 'forecast'")
            train_idx, val_idx = self._split_indices(fraction, rng)
            train_seqs = [self.sequences[i] for i in train_idx]
            val_seqs = [self.sequences[i] for i in val_idx]
            train_labels = None if self.labels is None else self.labels[train_idx]
            val_labels = None if self.labels is None else self.labels[val_idx]

        mean, std = _normalisation(None if self.is_text else train_seqs)
        if self.task == "classify_sequence":
            longest = int(max(len(s) for s in self.sequences))
            if window is not None and int(window) < longest:
                raise DataError(f"{self.name}: classification uses whole sequences, but window {window} is shorter "
                                f"than the longest sequence ({longest} steps); leave window empty")
            t = longest if window is None else int(window)
        else:
            t = self.default_window() if window is None else int(window)
            if t < 1:
                raise DataError(f"window {window} must be at least 1 step")
        if stride is not None and int(stride) < 1:
            raise DataError(f"stride {stride} must be at least 1 step")
        step = t if stride is None else int(stride)

        split = Split(train=None, val=None, mean=mean, std=std, window=t, task=self.task,  # type: ignore[arg-type]
                      target_indices=list(self.target_indices) if not self.is_text else [],
                      is_text=self.is_text, train_indices=np.asarray(train_idx), val_indices=np.asarray(val_idx),
                      train_sequences=train_seqs, val_sequences=val_seqs, val_labels=val_labels,
                      stride=step)
        split.train = split.make_arrays(train_seqs, train_labels)
        split.val = split.make_arrays(val_seqs, val_labels)
        return split

    def _split_by_time(self, fraction):
        seq = self.sequences[0]
        n = len(seq)
        n_val = max(2, int(round(n * fraction)))
        if n - n_val < 2:
            raise DataError(f"{self.name}: the series has {n} steps, too short to split by time into training and "
                            f"validation parts of at least 2 steps each; use a longer series")
        cut = n - n_val
        # Validation starts at the last training step so its first target is the first unseen value.
        return [seq[:cut]], [seq[cut - 1:]], np.array([0]), np.array([0])

    def _split_indices(self, fraction, rng):
        n = self.n_sequences
        if self.task == "classify_sequence":
            val = []
            for c in np.unique(self.labels):
                members = np.flatnonzero(self.labels == c)
                members = members[rng.permutation(len(members))]
                if len(members) >= 2:
                    k = min(len(members) - 1, max(1, int(round(len(members) * fraction))))
                    val.extend(members[:k].tolist())
            if not val:  # every class has one member: put one sequence in validation anyway
                val = [int(rng.integers(n))]
            val = np.array(sorted(val))
        else:
            n_val = min(n - 1, max(1, int(round(n * fraction))))
            val = np.sort(rng.permutation(n)[:n_val])
        train = np.setdiff1d(np.arange(n), val)
        return train, val


@dataclass(eq=False)
class Arrays:
    """Padded, example-major arrays of one fixed length ``T`` (static shapes for JAX).

    x: float32 (N, T, F) or int32 (N, T) for text; mask: float32 (N, T), 1 where step t has a
    target; y: int32 (N,) classify | int32 (N, T) next_token | float32 (N, T, K) forecast
    (normalised next-step targets); lengths: int32 (N,) = mask.sum(1).
    """

    x: np.ndarray
    mask: np.ndarray
    y: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def window(self) -> int:
        return int(self.x.shape[1])


@dataclass(eq=False)
class Split:
    """Training and validation arrays plus the normalisation fitted on the training part."""

    train: Arrays
    val: Arrays
    mean: np.ndarray              # (F,) float32; zeros(1) for text
    std: np.ndarray               # (F,) float32; ones(1) for text
    window: int                   # the fixed T of train and val
    task: str = "forecast"
    target_indices: list = field(default_factory=list)
    is_text: bool = False
    stride: int = 0
    train_indices: np.ndarray | None = None   # sequence indices (a single series split by time: [0])
    val_indices: np.ndarray | None = None
    train_sequences: list = field(default_factory=list)   # raw (unnormalised, unwindowed) parts
    val_sequences: list = field(default_factory=list)
    val_labels: np.ndarray | None = None

    def normalize(self, x: np.ndarray) -> np.ndarray:
        """Raw inputs (..., F) -> normalised float32; token ids pass through unchanged."""
        if self.is_text:
            return np.asarray(x)
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def denormalize_target(self, y: np.ndarray) -> np.ndarray:
        """Normalised forecast values (..., K) -> original units; other tasks unchanged."""
        if self.task != "forecast":
            return np.asarray(y)
        idx = self.target_indices
        return (np.asarray(y, dtype=np.float32) * self.std[idx] + self.mean[idx]).astype(np.float32)

    def make_arrays(self, sequences: list, labels: np.ndarray | None = None) -> Arrays:
        """Pad (classify) or window (next_token / forecast) raw sequences into Arrays of length window."""
        t = self.window
        if self.task == "classify_sequence":
            n = len(sequences)
            f = sequences[0].shape[1]
            x = np.zeros((n, t, f), np.float32)
            mask = np.zeros((n, t), np.float32)
            lengths = np.zeros(n, np.int32)
            for i, s in enumerate(sequences):
                L = min(len(s), t)
                x[i, :L] = self.normalize(s[:L])
                mask[i, :L] = 1.0
                lengths[i] = L
            y = np.asarray(labels, dtype=np.int32).reshape(n)
            return Arrays(x, mask, y, lengths)

        # next_token / forecast: window [start, start+t) of inputs, targets one step ahead.
        xs, ys, ms, ls = [], [], [], []
        steps = np.arange(t)
        for s in sequences:
            L = len(s)
            starts = np.arange(0, L - 1, self.stride)             # every window has >= 1 target
            if not len(starts):
                continue
            idx = starts[:, None] + steps[None, :]               # (n_k, t)
            valid_in = idx < L
            n_tg = np.minimum(t, L - 1 - starts)                 # (n_k,)
            valid_tg = steps[None, :] < n_tg[:, None]
            src = s if self.is_text else self.normalize(s)
            x_k = src[np.minimum(idx, L - 1)]
            y_k = src[np.minimum(idx + 1, L - 1)]
            if self.is_text:
                x_k = np.where(valid_in, x_k, 0).astype(np.int32)
                y_k = np.where(valid_tg, y_k, 0).astype(np.int32)
            else:
                x_k = np.where(valid_in[..., None], x_k, 0.0).astype(np.float32)
                y_k = np.where(valid_tg[..., None], y_k[..., self.target_indices], 0.0).astype(np.float32)
            xs.append(x_k)
            ys.append(y_k)
            ms.append(valid_tg.astype(np.float32))
            ls.append(n_tg.astype(np.int32))
        if not xs:
            raise DataError("no windows: every sequence is shorter than 2 steps")
        return Arrays(np.concatenate(xs), np.concatenate(ms), np.concatenate(ys), np.concatenate(ls))
