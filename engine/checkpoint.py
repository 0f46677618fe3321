"""Checkpoints: one ``.npz`` with parameters, optimizer state, config, epoch, history and data.

The layout is documented in ``docs/CHECKPOINT_FORMAT.md`` (readable with plain NumPy). Writing
goes to a temporary file in the same folder, fsynced, renamed over the target and the folder
fsynced, so a crash leaves the old checkpoint or the new one. Reading never trusts the file: it
is opened once and checked (regular file), every zip member is checked before it is read
(no encryption, stored or deflated only, declared sizes within the budget and consistent with
the ``.npy`` header and the metadata's table), the JSON metadata is bounded in size and checked
field by field against the engine's limits (``engine.limits``) and the format's bounds, and only then is anything
allocated. Every problem is a :class:`CheckpointError` naming the file and what is wrong; no
pickle ever runs.

This module also owns the compatibility rules between a checkpoint and a model or a dataset
(:func:`check_dataset`, :func:`check_model`), so a caller can validate a checkpoint completely
before it touches a run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from engine import limits
from engine.data import Split
from engine.checkpoint_io import (MAX_ARRAY_DIMS, MAX_ARRAYS, MAX_NAMES, TEMP_PREFIX, TEMP_SUFFIX, ArchiveProblem,
                                  read_archive, remove_stale_temp_files, write_atomically)
from engine.names import DTYPES as _DTYPES

__all__ = ["CheckpointError", "CheckpointDatasetMismatch", "Checkpoint", "save", "load",
           "fingerprint", "content_digest", "check_dataset", "check_model", "check_same_data",
           "inference_record", "StoredDataset", "frame_of", "framed_as", "remove_stale_temp_files",
           "TEMP_PREFIX", "TEMP_SUFFIX"]

FORMAT = "rnn-scope-checkpoint"
VERSION = 1
_META = "__meta__"
_PARAM = "param/"
_OPT = "opt/"


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read; the message names the file and the problem."""


class CheckpointDatasetMismatch(CheckpointError):
    """The checkpoint fits the model shapes but was trained on another dataset.

    ``saved`` and ``current`` are the two fingerprints (see :func:`fingerprint`). The weights can
    still be used to start a new run (``Trainer.load_checkpoint(..., weights_only=True)``);
    resuming would show the other dataset's history as this dataset's run.
    """

    def __init__(self, message: str, *, path: str, saved: dict, current: dict):
        super().__init__(message)
        self.path = path
        self.saved = saved
        self.current = current


@dataclass
class Checkpoint:
    path: str
    params: "OrderedDict[str, np.ndarray]"
    config: dict
    optimizer_state: "OrderedDict[str, np.ndarray]"
    epoch: int
    history: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # "dataset": the fingerprint and normalisation

    @property
    def dataset(self) -> dict:
        """The dataset record (fingerprint, normalisation, vocabulary); {} in hand-made files."""
        return self.extra.get("dataset") or {}


# ---------------------------------------------------------------------------------- saving
def _json_array(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, allow_nan=True).encode("utf-8"), dtype=np.uint8)


def _describe(arrays) -> list:
    return [[name, list(a.shape), str(a.dtype)] for name, a in arrays.items()]


def save(path, params: dict, config: dict, optimizer_state: dict, epoch: int, history: list,
         extra: dict | None = None) -> str:
    """Write a checkpoint to ``path`` atomically; returns the path written.

    Stale temporary files of our own naming left in the folder by a killed save are removed
    first. The file gets the user's umask like any other file.
    """
    path = os.fspath(path)
    params = OrderedDict((k, np.asarray(v)) for k, v in params.items())
    optimizer_state = OrderedDict((k, np.asarray(v)) for k, v in optimizer_state.items())
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": int(epoch),
        "config": config,
        "history": history,
        "params": _describe(params),
        "optimizer_state": _describe(optimizer_state),
        "extra": extra or {},
    }
    arrays = {_META: _json_array(meta)}
    arrays.update({_PARAM + k: v for k, v in params.items()})
    arrays.update({_OPT + k: v for k, v in optimizer_state.items()})
    try:
        write_atomically(path, lambda fh: np.savez(fh, **arrays))
    except OSError as exc:
        raise CheckpointError(_save_problem(path, exc)) from None
    return path


def _save_problem(path: str, exc: OSError) -> str:
    """The OS's refusal in words that name the checkpoint (never the hidden temporary file)."""
    folder = os.path.dirname(os.path.abspath(path))
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOENT and not os.path.isdir(folder):
        return f"cannot save checkpoint {path}: folder {folder} does not exist"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot save checkpoint {path}: folder {folder} is not writable ({reason}); choose another folder"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"cannot save checkpoint {path}: the disk is full ({reason}); free some space or choose "
                f"another folder (any previous file of that name is unchanged)")
    return f"cannot save checkpoint {path}: {reason}"


# ---------------------------------------------------------------------------------- loading
def load(path) -> Checkpoint:
    """Read and validate a checkpoint; raises :class:`CheckpointError` on any problem."""
    path = os.fspath(path)
    try:
        meta, arrays = read_archive(path, _META, _expected_members)
    except ArchiveProblem as exc:
        raise CheckpointError(str(exc)) from None
    params = {k[len(_PARAM):]: v for k, v in arrays.items() if k.startswith(_PARAM)}
    opt = {k[len(_OPT):]: v for k, v in arrays.items() if k.startswith(_OPT)}
    params = _match_arrays(path, "parameter", meta["params"], params)
    if not params:
        raise CheckpointError(f"{path}: the checkpoint holds no parameters")
    dtypes = {str(a.dtype) for a in params.values()}
    if len(dtypes) != 1:
        raise CheckpointError(f"{path}: parameters must all have one dtype, found {sorted(dtypes)}")
    opt = _match_arrays(path, "optimizer state", meta["optimizer_state"], opt)
    return Checkpoint(path=path, params=params, config=meta["config"], optimizer_state=opt,
                      epoch=meta["epoch"], history=meta["history"], extra=meta["extra"])


def _expected_members(path: str, meta_bytes: bytes) -> tuple:
    """Parse and validate the metadata; returns (meta, {member: (shape, dtype, label)}) so the archive
    reader can check every member's header against it before reading the member."""
    meta = _parse_meta(path, meta_bytes)
    expected = {}
    for prefix, key, kind in ((_PARAM, "params", "parameter"), (_OPT, "optimizer_state", "optimizer state")):
        table = meta.get(key, [])
        _check_table(path, kind, table)
        meta[key] = table
        for name, shape, dtype in table:
            expected[prefix + name] = (tuple(shape), dtype, f"{kind} {name!r}")
    return meta, expected


def _parse_meta(path: str, raw: bytes) -> dict:
    try:
        meta = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise CheckpointError(f"{path}: the checkpoint's metadata is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: the checkpoint's metadata is corrupt ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: the checkpoint's metadata is not a record")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an RNN Scope checkpoint (format {_short(meta.get('format'))})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {_short(meta.get('version'))}; "
                              f"this RNN Scope reads version {VERSION}")
    epoch = meta.get("epoch")
    if not _is_int(epoch) or not 0 <= epoch <= limits.MAX_EPOCHS:
        raise CheckpointError(f"{path}: invalid epoch {_short(epoch)} (0 to {limits.MAX_EPOCHS:,})")
    if not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{path}: the training settings record is missing")
    _check_config(path, meta["config"])
    meta["history"] = _check_history(path, meta.get("history"))
    extra = meta.get("extra") or {}
    if not isinstance(extra, dict):
        raise CheckpointError(f"{path}: the extra record is not a mapping")
    meta["extra"] = extra
    if "dataset" in extra:
        _check_dataset_record(path, extra["dataset"])
    return meta


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, bool, int, float))


def _check_table(path, kind, table) -> None:
    if not isinstance(table, list) or len(table) > MAX_ARRAYS:
        raise CheckpointError(f"{path}: the {kind} table is not a list of at most {MAX_ARRAYS} entries")
    names = set()
    for entry in table:
        # [name, shape, dtype] as written by save(); anything else comes from a damaged or hand-made file
        if (not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str)
                or not isinstance(entry[1], list) or not isinstance(entry[2], str)
                or len(entry[1]) > MAX_ARRAY_DIMS or not all(_is_int(d) and d >= 0 for d in entry[1])):
            raise CheckpointError(f"{path}: malformed {kind} table entry {_short(entry)}")
        if entry[2] not in _DTYPES:
            raise CheckpointError(f"{path}: {kind} {entry[0]!r} has dtype {_short(entry[2])}; "
                                  f"checkpoints hold {' or '.join(_DTYPES)}")
        if entry[0] in names:
            raise CheckpointError(f"{path}: {kind} {entry[0]!r} is listed twice")
        names.add(entry[0])


def _check_config(path, config: dict) -> None:
    """Shallow checks of the settings record; ``TrainingConfig`` checks the values and limits."""
    for key, value in config.items():
        ok = _scalar(value) or (isinstance(value, list) and len(value) <= MAX_ARRAYS
                                and all(_is_int(v) for v in value))
        if not ok:
            raise CheckpointError(f"{path}: training setting {_short(key)} has an invalid value {_short(value)}")


_HISTORY_FLOATS = ("train_loss", "val_loss", "val_accuracy", "learning_rate", "seconds", "step_ms")


def _check_history(path, history) -> list:
    if not isinstance(history, list):
        raise CheckpointError(f"{path}: the history record is missing")
    if len(history) > limits.MAX_EPOCHS:
        raise CheckpointError(f"{path}: the history has {len(history):,} entries, over the limit of "
                              f"{limits.MAX_EPOCHS:,} epochs")
    for i, row in enumerate(history):
        problem = _history_row_problem(row)
        if problem:
            raise CheckpointError(f"{path}: history entry {i + 1} is malformed ({problem})")
    return history


def _history_row_problem(row) -> str:
    if not isinstance(row, dict):
        return f"{_short(row)} is not a record"
    epoch = row.get("epoch")
    if not _is_int(epoch) or not 1 <= epoch <= limits.MAX_EPOCHS:
        return f"epoch {_short(epoch)} is not an integer from 1 to {limits.MAX_EPOCHS:,}"
    for key, value in row.items():
        if key in _HISTORY_FLOATS and not (value is None or _is_number(value)):
            return f"{key} {_short(value)} is not a number"
        if isinstance(value, dict):
            if not all(isinstance(k, str) and (v is None or _is_number(v)) for k, v in value.items()):
                return f"{key} is not a table of numbers"
        elif not _scalar(value):
            return f"{key} {_short(value)} is not a single value"
    return ""


def _check_dataset_record(path, record) -> None:
    """The dataset fingerprint and normalisation written by :func:`fingerprint`."""
    if not isinstance(record, dict):
        raise CheckpointError(f"{path}: the dataset fingerprint is malformed")
    for key in ("task", "name", "digest"):
        if key in record and not isinstance(record[key], str):
            raise CheckpointError(f"{path}: the dataset fingerprint's {key} is malformed")
    for key in ("vocabulary", "class_names", "feature_names", "target_names"):
        value = record.get(key, [])
        if (not isinstance(value, list) or len(value) > MAX_NAMES
                or not all(isinstance(v, str) for v in value)):
            raise CheckpointError(f"{path}: the dataset fingerprint's {key} is malformed")
    bounds = {"n_features": MAX_NAMES, "n_outputs": MAX_NAMES, "window": limits.MAX_WINDOW, "frame": MAX_NAMES}
    for key, bound in bounds.items():
        if key in record and not (_is_int(record[key]) and 0 < record[key] <= bound):
            raise CheckpointError(f"{path}: the dataset fingerprint's {key} {_short(record[key])} is out of range")
    n = record.get("n_features")
    for key in ("mean", "std"):
        value = record.get(key)
        if value is not None and (not isinstance(value, list) or len(value) != n or not all(
                _is_number(v) and math.isfinite(v) for v in value)):
            raise CheckpointError(f"{path}: the stored normalisation ({key}) is malformed")
    if record.get("std") is not None and not all(v > 0 for v in record["std"]):
        raise CheckpointError(f"{path}: the stored normalisation has a non-positive std")
    idx = record.get("target_indices")
    if idx is not None and (not isinstance(idx, list) or not all(
            _is_int(i) and 0 <= i < (n or 0) for i in idx)):
        raise CheckpointError(f"{path}: the stored target indices are malformed")


def _match_arrays(path, kind, described, arrays) -> "OrderedDict[str, np.ndarray]":
    out = OrderedDict()
    for name, shape, dtype in described:
        if name not in arrays:
            raise CheckpointError(f"{path}: {kind} {name!r} is listed but missing from the file")
        a = arrays[name]
        if list(a.shape) != list(shape) or str(a.dtype) != dtype:
            raise CheckpointError(
                f"{path}: {kind} {name!r} has shape {a.shape} {a.dtype}, expected {tuple(shape)} {dtype}")
        if not np.all(np.isfinite(a)):
            raise CheckpointError(f"{path}: {kind} {name!r} contains non-finite values")
        out[name] = a
    extra = set(arrays) - set(out)
    if extra:
        raise CheckpointError(f"{path}: unexpected {kind} arrays {sorted(extra)[:5]}")
    return out


# ---------------------------------------------------------------------------------- compatibility
_DIGESTS = weakref.WeakKeyDictionary()  # dataset -> content digest (datasets are not changed once made)


def _hash_as_int32(h, ids: np.ndarray, chunk: int = 1 << 20) -> None:
    """Hash token ids exactly as their int32 copy would hash, a chunk at a time: text ids were
    int32 before they became uint16, and the checkpoints written then must still match."""
    h.update(f"{np.dtype(np.int32).str}{ids.shape}".encode())
    for start in range(0, len(ids), chunk):
        h.update(ids[start:start + chunk].astype(np.int32).tobytes())


def content_digest(dataset) -> str:
    """A short hash of the dataset's values, labels and task: two files with the same shapes
    but other numbers get other digests. Cached per dataset object (hashing 1 GB takes ~1 s)."""
    try:
        return _DIGESTS[dataset]
    except (KeyError, TypeError):
        pass
    h = hashlib.blake2b(digest_size=16)
    h.update(str(dataset.task).encode())
    text = bool(getattr(dataset, "vocabulary", None))
    for seq in dataset.sequences:
        a = np.ascontiguousarray(seq)
        if text and a.dtype != np.int32:
            _hash_as_int32(h, a)
            continue
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    if dataset.labels is not None:
        h.update(np.ascontiguousarray(dataset.labels, dtype=np.int64).tobytes())
    digest = h.hexdigest()
    try:
        _DIGESTS[dataset] = digest
    except TypeError:
        pass
    return digest


def fingerprint(dataset, split=None) -> dict:
    """The dataset record a checkpoint stores: what identifies the data (names, vocabulary, a
    content digest) and, from ``split``, what a model needs to work without the data file (the
    normalisation fitted on the training part, the target columns, the window)."""
    record = {
        "task": dataset.task, "n_features": int(dataset.n_features), "n_outputs": int(dataset.n_outputs),
        "vocabulary": list(dataset.vocabulary), "class_names": list(dataset.class_names),
        "feature_names": list(dataset.feature_names), "target_names": list(dataset.target_names),
        "name": str(getattr(dataset, "name", "")), "digest": content_digest(dataset),
        "frame": int(getattr(dataset, "frame", 1)),  # steps per frame (engine.data.framing); absent = 1
    }
    if split is not None:
        record["window"] = int(split.window)
        if not dataset.is_text:
            record["mean"] = [float(v) for v in np.asarray(split.mean, dtype=np.float64)]
            record["std"] = [float(v) for v in np.asarray(split.std, dtype=np.float64)]
            record["target_indices"] = [int(i) for i in split.target_indices]
    return record


def frame_of(ck: Checkpoint) -> int:
    """Steps per frame of the data ``ck`` was trained on (engine.data.framing); 1 in checkpoints
    written before frames were stored."""
    return int(ck.dataset.get("frame") or 1)


def framed_as(ck: Checkpoint, dataset) -> tuple:
    """(``dataset`` framed as the checkpoint's data was, a note saying so or ""): the same file opened
    framed otherwise (or not at all) is reframed from its original steps. A :class:`CheckpointError`
    naming the frame when that is impossible."""
    from engine.data import DataError
    from engine.data.framing import describe_frame, reframe, reframed_note

    want, have = frame_of(ck), int(getattr(dataset, "frame", 1))
    if want == have:
        return dataset, ""
    if ck.dataset.get("task") not in (None, "", dataset.task):
        return dataset, ""  # check_dataset names the task: no frame can fix it
    try:
        framed = reframe(dataset, want)
    except DataError as exc:
        raise CheckpointError(f"{ck.path} was trained on {describe_frame(want)} but "
                              f"{getattr(dataset, 'name', 'the dataset')} is {describe_frame(have)} and cannot be "
                              f"framed so ({exc}); open the data with steps per frame {want}") from None
    return framed, reframed_note(want, have)


def check_dataset(ck: Checkpoint, dataset, window=None) -> None:
    """Refuse a dataset the checkpoint's model cannot run on (task, vocabulary, frame, window), as a
    :class:`CheckpointError`; run before anything is built for it."""
    from engine.data.framing import describe_frame

    saved = ck.dataset
    if saved.get("task") and saved["task"] != dataset.task:
        raise CheckpointError(f"{ck.path} was trained for task {saved['task']!r} but the dataset is {dataset.task!r}")
    have = int(getattr(dataset, "frame", 1))
    if frame_of(ck) != have:
        raise CheckpointError(f"{ck.path} was trained on {describe_frame(frame_of(ck))} but "
                              f"{getattr(dataset, 'name', 'the dataset')} is {describe_frame(have)}; "
                              f"open the data with steps per frame {frame_of(ck)}")
    if dataset.is_text and saved.get("vocabulary") and saved["vocabulary"] != list(dataset.vocabulary):
        raise CheckpointError(
            f"{ck.path} was trained on a text with a different character vocabulary "
            f"({len(saved['vocabulary'])} vs {len(dataset.vocabulary)} characters); open the same text")
    if window is not None and dataset.task != "classify_sequence":
        longest = int(max(len(s) for s in dataset.sequences))
        if window > longest and not dataset.is_text:
            raise CheckpointError(f"{ck.path}: its window of {window:,} steps is longer than the longest "
                                  f"sequence of {getattr(dataset, 'name', 'the dataset')} ({longest:,} steps)")


def check_model(ck: Checkpoint, param_shapes: dict, state_shapes: dict, dtype: str, optimizer: str) -> None:
    """The stored arrays are exactly the model's parameters and the optimizer's state."""
    if list(ck.params) != list(param_shapes):
        raise CheckpointError(f"{ck.path}: parameters {list(ck.params)[:8]} do not match the model "
                              f"{list(param_shapes)[:8]}")
    for name, shape in param_shapes.items():
        if ck.params[name].shape != tuple(shape):
            raise CheckpointError(
                f"{ck.path}: parameter {name} has shape {ck.params[name].shape} but this dataset needs "
                f"{tuple(shape)}; was the checkpoint trained on another dataset?")
        if str(ck.params[name].dtype) != dtype:
            raise CheckpointError(f"{ck.path}: parameter {name} is {ck.params[name].dtype} but the config says {dtype}")
    if list(ck.optimizer_state) != list(state_shapes) or any(
            ck.optimizer_state[k].shape != tuple(s) for k, s in state_shapes.items()):
        raise CheckpointError(f"{ck.path}: optimizer state does not match optimizer {optimizer!r} for this model")


def check_same_data(ck: Checkpoint, dataset) -> None:
    """Raise :class:`CheckpointDatasetMismatch` if the checkpoint was trained on other data.

    Compares the content digest and the column/class names; a checkpoint written before digests
    were stored is compared by its names and the dataset's name."""
    saved = ck.dataset
    current = fingerprint(dataset)
    keys = ["digest"] if "digest" in saved else ["name"]
    keys += ["feature_names", "target_names", "class_names"]
    differs = [k for k in keys if k in saved and saved[k] != current[k]]
    if differs:
        raise CheckpointDatasetMismatch(
            f"{ck.path} was trained on another dataset ({saved.get('name') or 'unnamed'!s}, not "
            f"{current['name'] or 'this one'}: {', '.join(differs)} differ); its weights can start a new "
            f"run on this dataset, but its history and optimizer state belong to the other one",
            path=ck.path, saved=saved, current=current)


def inference_record(ck: Checkpoint) -> dict:
    """The dataset record checked to be complete enough to predict without the data file."""
    saved = ck.dataset
    needed = ["task", "n_features", "n_outputs", "window"]
    if not saved.get("vocabulary"):  # numeric inputs: the normalisation the model was trained with
        needed += ["mean", "std", "target_indices"]
    missing = [k for k in needed if k not in saved]
    if missing:
        raise CheckpointError(f"{ck.path} does not store its data's {', '.join(missing)} (it was written before "
                              f"checkpoints were self-contained); load it together with its dataset")
    return saved


class StoredDataset:
    """What a checkpoint records about its data, standing in for the dataset when a model is
    loaded without its file: the names, vocabulary and normalisation needed to predict in data
    units (no sequences: such a trainer predicts but cannot train)."""

    labels = None
    sequences: tuple = ()

    def __init__(self, record: dict):
        self.record = record
        self.task = record["task"]
        self.name = record.get("name", "")
        self.vocabulary = list(record.get("vocabulary", []))
        self.class_names = list(record.get("class_names", []))
        self.feature_names = list(record.get("feature_names", []))
        self.target_names = list(record.get("target_names", []))
        self.n_features = int(record["n_features"])
        self.n_outputs = int(record["n_outputs"])
        self.frame = int(record.get("frame") or 1)  # its inputs are frames of this many steps

    @property
    def is_text(self) -> bool:
        return bool(self.vocabulary)

    def split(self) -> Split:
        """A Split with the stored normalisation and window, and no arrays."""
        r = self.record
        mean = np.asarray(r.get("mean", [0.0]), dtype=np.float32)
        std = np.asarray(r.get("std", [1.0]), dtype=np.float32)
        return Split(train=None, val=None, mean=mean, std=std, window=int(r["window"]), task=self.task,
                     target_indices=list(r.get("target_indices", [])), is_text=self.is_text)
