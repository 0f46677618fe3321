"""The intermediate result of reading one file, and the non-table formats:
sktime/UEA ``.ts``, NumPy ``.npy``/``.npz`` and plain text.

A reader returns a :class:`Loaded` (raw labels, float sequences or text); ``loading`` combines
one or more of them into a :class:`~engine.data.dataset.SequenceDataset`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

import numpy as np

from . import errors
from .dataset import default_feature_names
from .errors import data_error, decode_text, display_name, read_bytes
from .options import Fix

__all__ = ["Loaded", "clean_nonfinite", "trim_trailing_nan", "read_ts", "read_npy", "read_npz",
           "read_text", "NONFINITE_POLICIES"]

NONFINITE_POLICIES = ("reject", "drop", "interpolate")
NONFINITE_HINT = "clean the file, or {fix}"
NONFINITE_FIXES = (Fix("nonfinite", "drop"), Fix("nonfinite", "interpolate"))
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(eq=False)
class Loaded:
    """What one file held, before the files of a multi-select are combined."""
    path: str
    format: str                                   # csv | ucr | ts | text | npy | npz
    layout: str = ""                              # columns | rows | ucr | ts | array | text
    sequences: list = field(default_factory=list)  # float32 (T_i, F)
    labels: list | None = None                    # raw label per sequence (int or str)
    class_order: list | None = None               # declared class names (.ts @classLabel)
    feature_names: list = field(default_factory=list)
    text: str | None = None
    notes: list = field(default_factory=list)
    info: dict = field(default_factory=dict)      # delimiter, header, encoding ... for the preview


def _value_word(v: float) -> str:
    if np.isnan(v):
        return "missing or NaN value"
    return "infinite value" if v > 0 else "negative infinite value"


def trim_trailing_nan(seq: np.ndarray) -> np.ndarray:
    """Drop trailing steps where every feature is NaN (padding of unequal-length rows)."""
    finite_rows = ~np.isnan(seq).all(axis=1)
    if not finite_rows.any():
        return seq[:0]
    return seq[:int(np.flatnonzero(finite_rows)[-1]) + 1]


def to_float32_checked(values: np.ndarray, path, locate, policy: str = "reject") -> np.ndarray:
    """``values`` as float32. Finite values beyond float32's range would silently become inf:
    under ``policy="reject"`` the first one is an error ("too large for float32"), otherwise it
    is left as inf for the non-finite policy to drop or interpolate.

    locate(t, j) -> (line or None, description), as for :func:`clean_nonfinite`.
    """
    values = np.asarray(values)
    with np.errstate(over="ignore", invalid="ignore"):
        out = values.astype(np.float32, copy=False)
    if policy != "reject" or values.dtype.kind != "f" or values.dtype.itemsize <= 4 or np.isfinite(out).all():
        return out
    overflow = np.isinf(out) & np.isfinite(values)
    if overflow.any():
        index = tuple(int(v) for v in np.argwhere(overflow)[0])
        t, j = (index[0], index[1]) if len(index) > 1 else (index[0], 0)
        line, where = locate(t, j)
        raise data_error(path, f"{float(values[index]):.6g} {where} is too large for float32 "
                         f"(the largest is {_FLOAT32_MAX:.4g})",
                         "rescale the data (e.g. to other units) so every value fits", line=line)
    return out


def clean_nonfinite(seq: np.ndarray, policy: str, path, locate, counts: dict) -> np.ndarray:
    """Apply the non-finite policy to one (T, F) sequence.

    locate(t, j) -> (line or None, description) places step t / feature j for the message.
    counts accumulates {"dropped": steps, "interpolated": values, "first": (line, desc)}.
    """
    bad = ~np.isfinite(seq)
    if not bad.any():
        return seq
    t, j = (int(v) for v in np.argwhere(bad)[0])
    line, where = locate(t, j)
    if policy == "reject":
        raise data_error(path, f"{_value_word(float(seq[t, j]))} {where}", NONFINITE_HINT, line=line,
                         fixes=NONFINITE_FIXES)
    counts.setdefault("first", (line, where))
    if policy == "drop":
        keep = ~bad.any(axis=1)
        counts["dropped"] = counts.get("dropped", 0) + int((~keep).sum())
        return seq[keep]
    seq = seq.copy()
    steps = np.arange(len(seq))
    for j in np.flatnonzero(bad.any(axis=0)):
        good = ~bad[:, j]
        if not good.any():
            line, where = locate(0, j)
            raise data_error(path, f"no finite values to interpolate from {where}",
                             "remove that column or fill it in", line=line)
        seq[bad[:, j], j] = np.interp(steps[bad[:, j]], steps[good], seq[good, j])
    counts["interpolated"] = counts.get("interpolated", 0) + int(bad.sum())
    return seq


def nonfinite_note(path, counts: dict) -> str | None:
    if not counts.get("dropped") and not counts.get("interpolated"):
        return None
    line, where = counts["first"]
    at = f"line {line} " if line is not None else ""
    if counts.get("dropped"):
        return (f"{display_name(path)}: dropped {counts['dropped']} step(s) with missing or non-finite values "
                f"(first at {at}{where})")
    return (f"{display_name(path)}: interpolated {counts['interpolated']} missing or non-finite value(s) "
            f"(first at {at}{where})")


# ----------------------------------------------------------------------------------- .ts
_TS_HINT = "see the sktime .ts format: header tags, then @data with one case per line"


def _ts_bool(value: str, tag: str, path, line: int) -> bool:
    v = value.strip().lower()
    if v in ("true", "false"):
        return v == "true"
    raise data_error(path, f"@{tag} must be true or false, got {value!r}", _TS_HINT, line=line)


def read_ts(path, options) -> Loaded:
    """sktime/UEA .ts: ``@problemName``, ``@univariate``, ``@classLabel true a b``, ``@data``;
    dimensions separated by ':', values by ',', '?' is missing, the class label last."""
    text, encoding = decode_text(read_bytes(path), path)
    lines = text.splitlines()
    tags: dict = {}
    class_labels: list | None = None
    has_labels = False
    data_start = None
    for n, raw in enumerate(lines, start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if not s.startswith("@"):
            raise data_error(path, f"expected a header tag (@...) before @data, found {s[:40]!r}",
                             _TS_HINT, line=n)
        parts = s[1:].split(None, 1)
        tag = parts[0].lower() if parts else ""
        value = parts[1] if len(parts) > 1 else ""
        if tag == "data":
            data_start = n
            break
        if tag == "classlabel":
            words = value.split()
            if not words:
                raise data_error(path, "@classLabel needs true or false", _TS_HINT, line=n)
            has_labels = _ts_bool(words[0], "classLabel", path, n)
            if has_labels:
                class_labels = words[1:]
                if not class_labels:
                    raise data_error(path, "@classLabel true lists no class labels",
                                     "list them after true, e.g. @classLabel true 1 2 3", line=n)
        elif tag == "targetlabel" and value.strip().lower().startswith("true"):
            raise data_error(path, "regression .ts files (@targetLabel true) are not supported",
                             "use a classification file (@classLabel) or a CSV for forecasting", line=n)
        elif tag in ("timestamps",) and _ts_bool(value, tag, path, n):
            raise data_error(path, "time-stamped .ts data (@timeStamps true) is not supported",
                             "export the file without time stamps", line=n)
        elif tag in ("univariate", "equallength", "missing"):
            tags[tag] = _ts_bool(value, tag, path, n)
        elif tag in ("dimensions", "serieslength"):
            try:
                tags[tag] = int(value)
            except ValueError:
                raise data_error(path, f"@{tag} must be an integer, got {value!r}", _TS_HINT, line=n) from None
        else:
            tags[tag] = value.strip()
    if data_start is None:
        raise data_error(path, "no @data line found", "a .ts file needs header tags followed by @data")
    policy = options["nonfinite"]
    counts: dict = {}
    sequences, labels = [], []
    n_dims = tags.get("dimensions")
    if tags.get("univariate") is True:
        n_dims = 1
    for n in range(data_start + 1, len(lines) + 1):
        s = lines[n - 1].strip()
        if not s or s.startswith("#"):
            continue
        if "(" in s:
            raise data_error(path, "time-stamped values '(t,v)' are not supported", "export without time stamps",
                             line=n)
        parts = s.split(":")
        if has_labels:
            if len(parts) < 2:
                raise data_error(path, "no class label after the values", "end each case with ':<label>'", line=n)
            label = parts.pop().strip()
            if label not in class_labels:
                raise data_error(path, f"class label {label!r} is not declared in @classLabel "
                                 f"({' '.join(class_labels)})", "add it to @classLabel or fix the case", line=n)
            labels.append(label)
        if n_dims is None:
            n_dims = len(parts)
        if len(parts) != n_dims:
            raise data_error(path, f"{len(parts)} dimension(s) but {n_dims} expected",
                             "every case needs the same number of ':'-separated dimensions", line=n)
        dims = []
        for d, part in enumerate(parts):
            fields = [f.strip() for f in part.split(",")]
            values = []
            for f in fields:
                if f in ("?", "", "NaN", "nan"):
                    values.append(np.nan)
                    continue
                try:
                    values.append(float(f))
                except ValueError:
                    raise data_error(path, f"{f[:30]!r} is not a number (dimension {d + 1})",
                                     "use numbers, or '?' for a missing value", line=n) from None
            dims.append(values)
        lengths = {len(v) for v in dims}
        if len(lengths) != 1:
            raise data_error(path, f"dimensions have different lengths {sorted(lengths)}",
                             "every dimension of a case needs the same number of values", line=n)
        seq = trim_trailing_nan(np.array(dims, dtype=np.float64).T)
        if len(seq) == 0:
            raise data_error(path, "case has no values", "remove the line or fill in values", line=n)
        seq = clean_nonfinite(seq, policy, path, lambda t, j, _d=seq.shape[1]:
                              (n, f"at step {t + 1}" + (f" of dimension {j + 1}" if _d > 1 else "")), counts)
        if len(seq) > options["max_length"]:
            raise too_long(path, len(seq), options["max_length"], line=n)
        sequences.append(seq.astype(np.float32))
    if not sequences:
        raise data_error(path, "no cases after @data", "add one case per line after @data")
    d = sequences[0].shape[1]
    loaded = Loaded(path=str(path), format="ts", layout="ts", sequences=sequences,
                    labels=labels if has_labels else None, class_order=class_labels,
                    feature_names=["value"] if d == 1 else [f"dim{j + 1}" for j in range(d)],
                    info={"encoding": encoding, "problem": tags.get("problemname", "")})
    note = nonfinite_note(path, counts)
    if note:
        loaded.notes.append(note)
    return loaded


def too_long(path, length: int, limit: int, line=None, record=None):
    return data_error(path, f"sequence has {length:,} steps, over the limit of {limit:,}",
                      "pass a larger max_length or shorten the sequence", line=line, record=record)


# ----------------------------------------------------------------------------------- numpy
_NPY_HINT = "save a numeric array with numpy.save / numpy.savez"


def _numpy_error(path, what: str, exc: BaseException):
    if isinstance(exc, ValueError) and "pickle" in str(exc).lower():
        return data_error(path, "contains pickled Python objects, which are never loaded (they can run code)",
                          _NPY_HINT)
    return data_error(path, f"is not a valid {what} file ({exc or type(exc).__name__})",
                      f"the file may be truncated or corrupt; {_NPY_HINT}")


_NUMPY_ERRORS = (ValueError, EOFError, OSError, zipfile.BadZipFile, KeyError)


def _load_numpy(f, path, what: str):
    """np.load from an open file object (we own and close the file: np.load leaks its own
    handle when a broken zip makes NpzFile fail), never unpickling."""
    try:
        return np.load(f, allow_pickle=False)
    except _NUMPY_ERRORS as exc:
        raise _numpy_error(path, what, exc) from None


def _array_sequences(X: np.ndarray, path, key: str, options, lengths=None, per_row_2d=False):
    if X.dtype.kind not in "biuf":
        raise data_error(path, f"array {key!r} has dtype {X.dtype}, not numbers", _NPY_HINT)
    if X.ndim == 1:
        raw = [X[:, None]]
    elif X.ndim == 2:
        raw = [row[:, None] for row in X] if per_row_2d else [X]
    elif X.ndim == 3:
        raw = list(X)
    else:
        raise data_error(path, f"array {key!r} has shape {X.shape}", "use (N, T, F), (T, F) or (T,)")
    if lengths is not None:
        lengths = np.asarray(lengths)
        if lengths.dtype.kind not in "iu" or lengths.shape != (len(raw),):
            raise data_error(path, f"'lengths' must be {len(raw)} integers, got {lengths.dtype} {lengths.shape}",
                             _NPY_HINT)
        if (lengths < 1).any() or (lengths > (raw[0].shape[0] if raw else 0)).any():
            raise data_error(path, f"'lengths' must be between 1 and {raw[0].shape[0]}", _NPY_HINT)
    policy = options["nonfinite"]
    counts: dict = {}
    seqs = []
    for i, r in enumerate(raw):
        r = np.asarray(r, dtype=np.float64)
        r = r[:int(lengths[i])] if lengths is not None else trim_trailing_nan(r)
        if len(r) == 0:
            raise data_error(path, f"sequence {i} is empty (all NaN)", "remove it or give it values")
        r = clean_nonfinite(r, policy, path, lambda t, j, _i=i: (None, f"in sequence {_i}, step {t}, feature {j}"),
                            counts)
        if len(r) > options["max_length"]:
            raise too_long(path, len(r), options["max_length"], record=f"sequence {i}")
        seqs.append(r.astype(np.float32))
    return seqs, counts


def _labels_from_array(y: np.ndarray, path, n: int) -> list:
    if y.shape != (n,):
        raise data_error(path, f"labels 'y' have shape {y.shape}, expected ({n},)", "give one label per sequence")
    if y.dtype.kind in "iub":
        return [int(v) for v in y]
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            bad = y[~np.isfinite(y) | (y != np.round(y))][0]
            raise data_error(path, f"label {bad!r} is not an integer or a name",
                             "labels must be integers or strings")
        return [int(v) for v in y]
    if y.dtype.kind in "US":
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in y.tolist()]
    raise data_error(path, f"labels have dtype {y.dtype}", "labels must be integers or strings")


def read_npy(path, options) -> Loaded:
    try:
        with errors._open(path, "rb") as f:
            X = _load_numpy(f, path, ".npy")
    except OSError as exc:
        raise _numpy_error(path, ".npy", exc) from None
    if not isinstance(X, np.ndarray):
        raise data_error(path, "is not a .npy array", _NPY_HINT)
    seqs, counts = _array_sequences(X, path, "array", options)
    loaded = Loaded(path=str(path), format="npy", layout="array", sequences=seqs,
                    feature_names=default_feature_names(seqs[0].shape[1]),
                    info={"shape": X.shape, "dtype": str(X.dtype)})
    note = nonfinite_note(path, counts)
    if note:
        loaded.notes.append(note)
    return loaded


def read_npz(path, options) -> Loaded:
    try:
        with errors._open(path, "rb") as f:
            archive = _load_numpy(f, path, ".npz")
            if not hasattr(archive, "files"):
                # np.load sniffs content: a .npz-named .npy still loads, as an array
                return read_npy(path, options)
            with archive as z:
                keys = list(z.files)
                lookup = {k.lower(): k for k in keys}
                key = next((lookup[k] for k in ("x", "data", "sequences") if k in lookup), None)
                if key is None and len(keys) == 1:
                    key = keys[0]
                if key is None:
                    raise data_error(path, f"no array named 'X' (found {', '.join(keys) or 'nothing'})",
                                     "save the inputs as X, e.g. numpy.savez(path, X=..., y=...)")
                X = z[key]
                y = z[lookup["y"]] if "y" in lookup else None
                lengths = z[lookup["lengths"]] if "lengths" in lookup else None
                names = z[lookup["feature_names"]] if "feature_names" in lookup else None
                classes = z[lookup["class_names"]] if "class_names" in lookup else None
    except _NUMPY_ERRORS as exc:
        raise _numpy_error(path, ".npz", exc) from None
    per_row = y is not None and X.ndim == 2 and np.ndim(y) == 1 and len(y) == X.shape[0] and X.shape[0] > 1
    seqs, counts = _array_sequences(X, path, key, options, lengths=lengths, per_row_2d=per_row)
    labels = None
    class_order = None
    if y is not None:
        labels = _labels_from_array(np.asarray(y), path, len(seqs))
        if classes is not None and classes.dtype.kind in "US" and classes.ndim == 1:
            class_order = [str(c) for c in classes.tolist()]
            if all(isinstance(v, int) for v in labels):
                if min(labels) < 0 or max(labels) >= len(class_order):
                    raise data_error(path, f"labels must index class_names (0..{len(class_order) - 1})",
                                     "fix y or class_names")
                labels = [class_order[v] for v in labels]
    f = seqs[0].shape[1]
    feature_names = default_feature_names(f)
    if names is not None and names.dtype.kind in "US" and names.shape == (f,):
        feature_names = [str(n) for n in names.tolist()]
    loaded = Loaded(path=str(path), format="npz", layout="array", sequences=seqs, labels=labels,
                    class_order=class_order, feature_names=feature_names,
                    info={"arrays": {k: None for k in keys}, "shape": X.shape, "dtype": str(X.dtype)})
    note = nonfinite_note(path, counts)
    if note:
        loaded.notes.append(note)
    return loaded


# ----------------------------------------------------------------------------------- text
_NEWLINES = re.compile(r"\r\n?")


def read_text(path, options, data: bytes | None = None) -> Loaded:
    """Plain text for a next-character model: UTF-8 (BOM stripped) or Latin-1, CRLF -> LF."""
    if data is None:
        data = read_bytes(path)
    text, encoding = decode_text(data, path)
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    if not text.strip():
        raise data_error(path, "contains only whitespace", "choose a file with text in it")
    if len(text) < 2:
        raise data_error(path, "contains a single character", "a next-character model needs at least 2 characters")
    loaded = Loaded(path=str(path), format="text", layout="text", text=text, info={"encoding": encoding})
    if encoding != "utf-8":
        reason = " (not valid UTF-8)" if encoding in ("cp1252", "latin-1") else ""
        loaded.notes.append(f"{display_name(path)}: decoded as {encoding}{reason}")
    return loaded
