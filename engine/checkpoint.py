"""Checkpoints: one ``.npz`` with parameters, optimizer state, config, epoch and history.

Written atomically (a temporary file in the same folder, then ``os.replace``), so a crash
mid-save never leaves a half-written checkpoint under the real name. Read with
``allow_pickle=False``: the config and the history are JSON text stored as a uint8 array,
so opening a checkpoint never runs code. Every problem is a :class:`CheckpointError` that
names the file and says what is wrong.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from engine.names import DTYPES as _DTYPES

FORMAT = "rnn-scope-checkpoint"
VERSION = 1
_META = "__meta__"
_PARAM = "param/"
_OPT = "opt/"
_READ_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, zipfile.LargeZipFile)


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read; the message names the file and the problem."""


@dataclass
class Checkpoint:
    path: str
    params: "OrderedDict[str, np.ndarray]"
    config: dict
    optimizer_state: "OrderedDict[str, np.ndarray]"
    epoch: int
    history: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # e.g. the dataset fingerprint


def _json_array(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj, allow_nan=True).encode("utf-8"), dtype=np.uint8)


def _describe(arrays) -> list:
    return [[name, list(a.shape), str(a.dtype)] for name, a in arrays.items()]


def save(path, params: dict, config: dict, optimizer_state: dict, epoch: int, history: list,
         extra: dict | None = None) -> str:
    """Write a checkpoint to ``path`` atomically; returns the path written."""
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
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot save checkpoint {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".npz.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise CheckpointError(f"cannot save checkpoint {path}: {exc.strerror or exc}") from exc
        raise
    return path


def _check_arrays(path, kind, described, arrays) -> "OrderedDict[str, np.ndarray]":
    if not isinstance(described, list):
        raise CheckpointError(f"{path}: the {kind} table is not a list")
    out = OrderedDict()
    for entry in described:
        # [name, shape, dtype] as written by save(); anything else (from a damaged or hand-made
        # file) would otherwise escape below as a TypeError.
        if (not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str)
                or not isinstance(entry[1], list) or not isinstance(entry[2], str)):
            raise CheckpointError(f"{path}: malformed {kind} table entry {entry!r}")
        name, shape, dtype = entry
        if name not in arrays:
            raise CheckpointError(f"{path}: {kind} {name!r} is listed but missing from the file")
        a = arrays[name]
        if list(a.shape) != list(shape) or str(a.dtype) != dtype:
            raise CheckpointError(
                f"{path}: {kind} {name!r} has shape {a.shape} {a.dtype}, expected {tuple(shape)} {dtype}")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise CheckpointError(f"{path}: {kind} {name!r} contains non-finite values")
        out[name] = a
    extra = set(arrays) - set(out)
    if extra:
        raise CheckpointError(f"{path}: unexpected {kind} arrays {sorted(extra)}")
    return out


def load(path) -> Checkpoint:
    """Read and validate a checkpoint; raises :class:`CheckpointError` on any problem."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    unreadable = f"{path} is not a readable RNN Scope checkpoint (corrupt or truncated file: {{}})"
    try:
        loaded = np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise CheckpointError(unreadable.format(exc)) from exc
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # np.load sniffs content: a .npy gives an array
        raise CheckpointError(f"{path} is not an RNN Scope checkpoint (a single NumPy array, not an .npz archive)")
    try:
        with loaded as npz:
            arrays = {k: npz[k] for k in npz.files}
    except _READ_ERRORS as exc:
        raise CheckpointError(unreadable.format(exc)) from exc
    if _META not in arrays:
        raise CheckpointError(f"{path} is not an RNN Scope checkpoint (no {_META} record)")
    try:
        meta = json.loads(arrays.pop(_META).astype(np.uint8).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: the checkpoint's metadata is corrupt ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an RNN Scope checkpoint (format {meta.get('format')!r})"
                              if isinstance(meta, dict) else f"{path}: metadata is not a record")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {meta.get('version')!r}; this RNN Scope reads version {VERSION}")
    params = {k[len(_PARAM):]: v for k, v in arrays.items() if k.startswith(_PARAM)}
    opt = {k[len(_OPT):]: v for k, v in arrays.items() if k.startswith(_OPT)}
    stray = [k for k in arrays if not k.startswith((_PARAM, _OPT))]
    if stray:
        raise CheckpointError(f"{path}: unexpected arrays {stray}")
    params = _check_arrays(path, "parameter", meta.get("params", []), params)
    if not params:
        raise CheckpointError(f"{path}: the checkpoint holds no parameters")
    dtypes = {str(a.dtype) for a in params.values()}
    if len(dtypes) != 1 or not dtypes <= set(_DTYPES):
        raise CheckpointError(f"{path}: parameters must all be float32 or float64, found {sorted(dtypes)}")
    opt = _check_arrays(path, "optimizer state", meta.get("optimizer_state", []), opt)
    epoch = meta.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise CheckpointError(f"{path}: invalid epoch {epoch!r}")
    if not isinstance(meta.get("config"), dict) or not isinstance(meta.get("history"), list):
        raise CheckpointError(f"{path}: config or history record is missing")
    if not isinstance(meta.get("extra") or {}, dict):
        raise CheckpointError(f"{path}: the extra record is not a mapping")
    return Checkpoint(path=path, params=params, config=meta["config"], optimizer_state=opt,
                      epoch=epoch, history=meta["history"], extra=meta.get("extra") or {})

