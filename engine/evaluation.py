"""The test set: a second file, checked against the training data and scored on demand.

The test set is never trained on and never chooses the best epoch: it is only scored, with the
training split's normalisation, by ``TestScorer.score()`` (at the end of a run, on request, or
every K epochs). Figures per task:

- classify_sequence: accuracy, per-class accuracy, confusion matrix, cross-entropy in nats;
- forecast: MSE and MAE in data units (and the normalised MSE the training loss uses);
- next_token: loss in nats and bits per character, per-character accuracy.

Usage::

    test = load_test_set("GunPoint_TEST.ts", trainer.dataset)   # DataError naming both files
    result = TestScorer(trainer, test).score()
    result.to_json()   # {"accuracy": ..., "loss": ..., "n": ..., "epoch": ..., ...}
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np

from engine.data import DataError, SequenceDataset, load_sequences
from engine.data.dataset import Arrays

MAX_TEST_BATCH = 64


def sibling_test_path(path) -> str | None:
    """``X_TRAIN.ext`` -> ``X_TEST.ext`` when that file exists (any case of TRAIN), else None."""
    folder, name = os.path.split(os.fspath(path))
    match = re.search(r"train", name, flags=re.IGNORECASE)
    if not match:
        return None
    word = match.group(0)
    test = "TEST" if word.isupper() else ("Test" if word[0].isupper() else "test")
    candidate = os.path.join(folder, name[:match.start()] + test + name[match.end():])
    return candidate if os.path.isfile(candidate) else None


def _source(dataset) -> str:
    return ", ".join(dataset.source_paths) if dataset.source_paths else dataset.name


def load_test_set(path, train: SequenceDataset, **options) -> SequenceDataset:
    """Load ``path`` with the same rules (``options``) as the training file and check it fits."""
    options = dict(options)
    options.setdefault("task", train.task)
    if train.frame != 1:
        options.setdefault("frame", train.frame)  # framed like the training data (engine.data.framing)
    if train.format and "format" not in options:
        options["format"] = train.format
    test = load_sequences(path, **options)
    return check_compatible(test, train)


def check_compatible(test: SequenceDataset, train: SequenceDataset) -> SequenceDataset:
    """``test`` expressed in the training data's terms (class order, token ids); DataError if it cannot be."""
    where = f"test file {_source(test)} does not match training file {_source(train)}"
    if test.task != train.task:
        raise DataError(f"{where}: it loads as task {test.task!r}, the training data is {train.task!r}")
    if train.is_text:
        return _remap_text(test, train, where)
    if list(test.feature_names) != list(train.feature_names):
        raise DataError(f"{where}: features {_names(test.feature_names)} vs {_names(train.feature_names)}; "
                        f"the test file needs the same columns or channels")
    if train.task == "forecast":
        if list(test.target_names) != list(train.target_names):
            test = test.with_targets(list(train.target_names))
        return test
    unknown = [c for c in test.class_names if c not in train.class_names]
    if unknown:
        raise DataError(f"{where}: classes {_names(unknown)} do not occur in the training data "
                        f"(its classes are {_names(train.class_names)})")
    order = np.array([train.class_names.index(c) for c in test.class_names], dtype=np.int64)
    labels = order[np.asarray(test.labels, dtype=np.int64)]
    return dataclasses.replace(test, labels=labels, class_names=list(train.class_names), notes=list(test.notes))


def _names(names, limit: int = 6) -> str:
    shown = ", ".join(repr(n) for n in list(names)[:limit])
    return f"[{shown}{', ...' if len(names) > limit else ''}] ({len(names)})"


def _remap_text(test, train, where) -> SequenceDataset:
    index = {ch: i for i, ch in enumerate(train.vocabulary)}
    unk = index.get("<unk>")
    missing = [ch for ch in test.vocabulary if ch not in index]
    if missing and unk is None:
        raise DataError(f"{where}: characters {_names(missing)} are not in the training vocabulary of "
                        f"{len(train.vocabulary)} characters")
    table = np.array([index.get(ch, unk) for ch in test.vocabulary], dtype=np.int32)
    sequences = [table[np.asarray(s, dtype=np.int64)] for s in test.sequences]
    return dataclasses.replace(test, sequences=sequences, vocabulary=list(train.vocabulary),
                               notes=list(test.notes))


@dataclass
class TestResult:
    """What scoring the test set found (accuracy as a fraction)."""

    __test__ = False  # not a pytest test class

    task: str
    n: int  # test sequences (classification) or scored steps (text, forecast)
    loss: float  # the training loss on the test set: nats (classify, text) or normalised MSE (forecast)
    accuracy: float | None  # classify: per sequence; text: per character; forecast: None
    epoch: int  # the epoch whose weights were scored
    weights: str = "last"  # "best" (restored lowest-validation-loss weights) or "last"
    per_class_accuracy: dict = field(default_factory=dict)  # class name -> accuracy (None: no test example)
    confusion: list = field(default_factory=list)  # [true][predicted] counts, training class order
    class_names: list = field(default_factory=list)
    mse: float | None = None  # forecast, data units
    mae: float | None = None
    bits_per_char: float | None = None  # text

    def to_json(self) -> dict:
        out = {"accuracy": self.accuracy, "loss": self.loss, "n": self.n, "epoch": self.epoch,
               "weights": self.weights, "task": self.task}
        if self.task == "classify_sequence":
            out.update(per_class_accuracy=self.per_class_accuracy, confusion=self.confusion,
                       class_names=self.class_names)
        elif self.task == "forecast":
            out.update(mse=self.mse, mae=self.mae)
        else:
            out.update(bits_per_char=self.bits_per_char)
        return out

    def describe(self) -> str:
        which = f"{self.weights} weights, epoch {self.epoch}"
        if self.task == "classify_sequence":
            return f"test accuracy {self.accuracy:.1%} on {self.n} sequences, loss {self.loss:.4f} ({which})"
        if self.task == "forecast":
            return f"test MSE {self.mse:.4g}, MAE {self.mae:.4g} (data units) on {self.n} steps ({which})"
        return (f"test loss {self.loss:.4f} nats = {self.bits_per_char:.3f} bits/char, accuracy "
                f"{self.accuracy:.1%} on {self.n} characters ({which})")


def _classify_arrays(split, sequences, labels) -> Arrays:
    """Whole sequences padded to the longest (test sequences may outgrow the training window)."""
    t = max(max(len(s) for s in sequences), int(split.window))
    n, f = len(sequences), sequences[0].shape[1]
    x = np.zeros((n, t, f), np.float32)
    mask = np.zeros((n, t), np.float32)
    for i, s in enumerate(sequences):
        x[i, :len(s)] = split.normalize(s)
        mask[i, :len(s)] = 1.0
    return Arrays(x, mask, np.asarray(labels, dtype=np.int32), mask.sum(1).astype(np.int32))


class TestScorer:
    """Scores one trainer's current weights on one (checked) test set; compiles once per scorer."""

    __test__ = False  # not a pytest test class

    def __init__(self, trainer, test: SequenceDataset):
        self.trainer = trainer
        self.test = check_compatible(test, trainer.dataset)
        split = trainer.split
        if self.test.task == "classify_sequence":
            self.arrays = _classify_arrays(split, self.test.sequences, self.test.labels)
        else:
            self.arrays = split.make_arrays(self.test.sequences)
        if len(self.arrays) == 0:
            raise DataError(f"test file {_source(self.test)} has no step with a target to score")
        self.batch_size = min(MAX_TEST_BATCH, len(self.arrays))
        self._f_predict = None

    def _predict(self, x, mask):
        trainer = self.trainer
        model = trainer._ensure_model()
        if self._f_predict is None:
            T = int(self.arrays.x.shape[1])
            self._f_predict = trainer._compile(lambda: model.compile_predict(T, self.batch_size))
        with trainer._lock:
            return np.asarray(self._f_predict(x, mask), dtype=np.float64)

    def _outputs(self):
        """Model outputs over all test examples: (N, C) probabilities or (N, T, K|V)."""
        a, B = self.arrays, self.batch_size
        dtype = self.trainer.config.dtype
        outs = []
        for start in range(0, len(a), B):
            x, mask = a.x[start:start + B], a.mask[start:start + B]
            real = len(x)
            if real < B:  # pad with zero-mask examples: static shapes
                x = np.concatenate([x, np.zeros((B - real,) + x.shape[1:], x.dtype)])
                mask = np.concatenate([mask, np.zeros((B - real,) + mask.shape[1:], mask.dtype)])
            x_tm = np.swapaxes(x, 0, 1).astype("int32" if x.ndim == 2 else dtype)
            out = self._predict(np.ascontiguousarray(x_tm), np.ascontiguousarray(mask.T.astype(dtype)))
            outs.append(out[:real] if out.ndim == 2 else np.swapaxes(out, 0, 1)[:real])
        return np.concatenate(outs, axis=0)

    def score(self, epoch: int | None = None, weights: str = "last") -> TestResult:
        """Score the model's weights as they are now (see ``Trainer.restore_best``)."""
        out = self._outputs()
        epoch = self.trainer.epoch if epoch is None else int(epoch)
        task = self.test.task
        if task == "classify_sequence":
            return self._score_classes(out, epoch, weights)
        mask = self.arrays.mask > 0
        if task == "forecast":
            err = out - self.arrays.y  # normalised units, (N, T, K)
            split = self.trainer.split
            data_err = split.denormalize_target(out[mask]) - split.denormalize_target(self.arrays.y[mask])
            return TestResult(task=task, n=int(mask.sum()), loss=float(np.mean(err[mask] ** 2)), accuracy=None,
                              epoch=epoch, weights=weights, mse=float(np.mean(np.square(data_err, dtype=np.float64))),
                              mae=float(np.mean(np.abs(data_err))))
        y = self.arrays.y[mask]
        probs = out[mask]
        nll = -np.log(np.maximum(probs[np.arange(len(y)), y], 1e-30))
        loss = float(nll.mean())
        return TestResult(task=task, n=int(mask.sum()), loss=loss, epoch=epoch, weights=weights,
                          accuracy=float(np.mean(probs.argmax(axis=1) == y)), bits_per_char=loss / math.log(2))

    def score_best(self) -> TestResult:
        """Score the lowest-validation-loss weights (the last ones when no epoch was validated) and
        leave the model's weights as they were: a run scored on demand trains on from where it is."""
        trainer = self.trainer
        if trainer.best.params is None:
            return self.score(weights="last")
        with trainer._lock:  # no inference call may see the swap
            model = trainer._ensure_model()
            current = model.get_params()
            try:
                model.set_params(trainer.best.params)
                return self.score(epoch=trainer.best.epoch, weights="best")
            finally:
                model.set_params(current)

    def _score_classes(self, probs, epoch, weights) -> TestResult:
        y = np.asarray(self.arrays.y, dtype=np.int64)
        pred = probs.argmax(axis=1)
        names = list(self.test.class_names)
        confusion = np.zeros((len(names), len(names)), dtype=np.int64)
        np.add.at(confusion, (y, pred), 1)
        per_class = {}
        for c, name in enumerate(names):
            total = int(confusion[c].sum())
            per_class[name] = float(confusion[c, c] / total) if total else None
        loss = float(np.mean(-np.log(np.maximum(probs[np.arange(len(y)), y], 1e-30))))
        return TestResult(task="classify_sequence", n=len(y), loss=loss, accuracy=float(np.mean(pred == y)),
                          epoch=epoch, weights=weights, per_class_accuracy=per_class,
                          confusion=confusion.tolist(), class_names=names)
