"""NumPy ``.npy`` and ``.npz`` files, read without ``np.load`` and without ever unpickling.

The ``.npy`` header (dtype, shape, order) is parsed first and checked: numbers only, and
shape x itemsize must fit both the bytes actually present and the size limit. Only then is the
data read, one sequence at a time, from the opened file (or the zip member's stream) with
exactly that many bytes as the bound, and cast to float32 as it comes. For a ``.npz`` each
member's declared uncompressed size is checked against the size limit before it is opened, so
a small archive that would decompress to gigabytes is refused without decompressing it.

A preview (``head_only``) reads the headers, the small members and only the first items of X,
within :data:`PREVIEW_BYTES` (an item longer than that: its first rows): the counts come from
the header, the lengths are estimates (``info["estimated"]``), as for the head of a big table.
"""

from __future__ import annotations

import math
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from .dataset import default_feature_names
from .errors import DataError, data_error, format_size, over_size_limit
from .files import DataFile
from .formats import Loaded, clean_nonfinite, nonfinite_note, too_long, trim_trailing_nan

__all__ = ["read_npy", "read_npz"]

_NPY_HINT = "save a numeric array with numpy.save / numpy.savez"
_NPZ_HINT = "a .npz is a zip of .npy arrays, as numpy.savez writes it"
_MAX_HEADER = 10_000          # NumPy's own safe limit for the header's Python literal
_MAGIC = b"\x93NUMPY"
_SMALL_MEMBERS = ("y", "lengths", "feature_names", "class_names")
PREVIEW_BYTES = 1 << 20       # what a preview reads of X's data (the window previews on its GUI thread)


@dataclass
class _Header:
    dtype: np.dtype
    shape: tuple
    fortran: bool
    data_offset: int          # bytes of magic + header before the data

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _read_header(stream, path, what: str) -> _Header:
    """Parse and check a .npy header from ``stream`` (positioned at its start)."""
    start = stream.read(10)
    if not start.startswith(_MAGIC) or len(start) < 10:
        raise data_error(path, f"{what} is not a NumPy array (no .npy header)", _NPZ_HINT if "'" in what else _NPY_HINT)
    major = start[6]
    if major not in (1, 2, 3):
        raise data_error(path, f"{what} has .npy format version {major}.{start[7]}, which this NumPy cannot read",
                         _NPY_HINT)
    if major == 1:
        length, prefix = struct.unpack("<H", start[8:10])[0], 10
    else:
        length, prefix = struct.unpack("<I", start[8:10] + stream.read(2))[0], 12
    if length > _MAX_HEADER:
        raise data_error(path, f"{what} has a {format_size(length)} .npy header, over the {_MAX_HEADER:,}-byte limit "
                         "NumPy reads safely (a plain numeric array needs about 128 bytes)",
                         f"the file is corrupt or crafted; {_NPY_HINT}")
    header = stream.read(length)
    if len(header) < length:
        raise data_error(path, f"{what} is truncated inside its .npy header", f"the file is cut short; {_NPY_HINT}")
    fake = _FakeStream(start[:6] + bytes((1, 0)) + struct.pack("<H", min(length, 0xFFFF)) + header)
    try:
        np.lib.format.read_magic(fake)
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fake, max_header_size=_MAX_HEADER)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise data_error(path, f"{what} has a broken .npy header ({exc})", f"the file may be corrupt; {_NPY_HINT}") \
            from None
    if dtype.hasobject:
        raise data_error(path, f"{what} contains pickled Python objects, which are never loaded (they can run code)",
                         _NPY_HINT)
    return _Header(dtype=dtype, shape=tuple(int(n) for n in shape), fortran=bool(fortran),
                   data_offset=prefix + length)


class _FakeStream:
    """A bytes buffer with the one method numpy's header parser calls."""

    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, n: int) -> bytes:
        out = self._data[self._pos:self._pos + n]
        self._pos += len(out)
        return out


def _check_data_size(header: _Header, available: int, limit: int | None, path, what: str) -> None:
    if limit is not None and header.nbytes > limit:
        raise over_size_limit(path, f"{what} has shape {header.shape} {header.dtype}: {format_size(header.nbytes)}, "
                              f"over the {format_size(limit)} size limit", header.nbytes, "save a smaller array")
    if header.nbytes > available:
        raise data_error(path, f"{what} is truncated: its header says {format_size(header.nbytes)} of data, "
                         f"{format_size(max(available, 0))} are there", f"the file is cut short; {_NPY_HINT}")


def _read_exact(stream, n: int, path, what: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise data_error(path, f"{what} is truncated ({format_size(len(data))} of {format_size(n)} data)",
                         f"the file is cut short; {_NPY_HINT}")
    return data


def _whole(stream, header: _Header, path, what: str) -> np.ndarray:
    data = _read_exact(stream, header.nbytes, path, what)
    order = "F" if header.fortran else "C"
    return np.frombuffer(data, dtype=header.dtype).reshape(header.shape, order=order)


def _items(stream, header: _Header, path, what: str):
    """arr[0], arr[1], ... read one at a time (C order), so only one item's bytes are held."""
    if header.fortran:
        yield from _whole(stream, header, path, what)
        return
    item_shape = header.shape[1:]
    item_bytes = math.prod(item_shape) * header.dtype.itemsize
    for _ in range(header.shape[0]):
        data = _read_exact(stream, item_bytes, path, what)
        yield np.frombuffer(data, dtype=header.dtype).reshape(item_shape)


def _single(stream, header: _Header, path, what: str):
    """The whole array as one (T, F) sequence, read only when asked for."""
    array = _whole(stream, header, path, what)
    yield array[:, None] if array.ndim == 1 else array


def _raw_sequences(stream, header: _Header, path, key: str, per_row_2d: bool):
    """The (T, F) items of X, in order, as they are read."""
    if header.dtype.kind not in "biuf" or header.dtype.fields is not None:
        raise data_error(path, f"array {key!r} has dtype {header.dtype}, not numbers", _NPY_HINT)
    ndim = len(header.shape)
    if ndim == 1 or (ndim == 2 and not per_row_2d):
        return _single(stream, header, path, repr(key))
    if ndim == 2:
        return (row[:, None] for row in _items(stream, header, path, repr(key)))
    if ndim == 3:
        return _items(stream, header, path, repr(key))
    raise data_error(path, f"array {key!r} has shape {header.shape}", "use (N, T, F), (T, F) or (T,)")


def _head_items(stream, header: _Header, path, key: str, per_row_2d: bool):
    """(the first (T, F) items of X within PREVIEW_BYTES, whether that is all of X) for a preview;
    None when X cannot be cut (Fortran order, or a shape the full read refuses)."""
    shape, ndim = header.shape, len(header.shape)
    if header.fortran or ndim > 3 or header.dtype.kind not in "biuf" or header.dtype.fields is not None:
        return None
    single = ndim == 1 or (ndim == 2 and not per_row_2d)
    n_items, steps = (1, shape[0]) if single else (shape[0], shape[1])
    width = (shape[1] if ndim == 2 else 1) if single else (shape[2] if ndim == 3 else 1)
    row = max(1, width * header.dtype.itemsize)
    keep = min(steps, max(1, PREVIEW_BYTES // row))   # rows read of each item
    n_read = 1 if keep < steps else min(n_items, max(1, PREVIEW_BYTES // (row * max(steps, 1))))
    items = [np.frombuffer(_read_exact(stream, keep * width * header.dtype.itemsize, path, repr(key)),
                           dtype=header.dtype).reshape(keep, width) for _ in range(n_read)]
    return items, keep == steps and n_read == n_items


def _check_lengths(lengths, n: int, steps: int, path):
    if lengths is None:
        return None
    lengths = np.asarray(lengths)
    if lengths.dtype.kind not in "iu" or lengths.shape != (n,):
        raise data_error(path, f"'lengths' must be {n} integers, got {lengths.dtype} {lengths.shape}", _NPY_HINT)
    if (lengths < 1).any() or (lengths > steps).any():
        raise data_error(path, f"'lengths' must be between 1 and {steps}", _NPY_HINT)
    return lengths


def _array_sequences(raw, header: _Header, path, options, lengths=None, per_row_2d=False):
    """float32 (T_i, F) sequences from X's items: cut to ``lengths`` (else trailing-NaN padding
    trimmed), the non-finite policy applied, each checked against max_length."""
    n_items = 1 if len(header.shape) == 1 or (len(header.shape) == 2 and not per_row_2d) else header.shape[0]
    steps = header.shape[0] if n_items == 1 else (header.shape[1] if len(header.shape) > 1 else 1)
    lengths = _check_lengths(lengths, n_items, steps, path)
    if n_items == 1 and lengths is None and steps > options["max_length"]:     # refused before it is read
        raise too_long(path, steps, options["max_length"], record="sequence 0")
    policy = options["nonfinite"]
    counts: dict = {}
    seqs = []
    for i, r in enumerate(raw):
        if r.dtype.kind != "f":
            r = r.astype(np.float32)
        r = r[:int(lengths[i])] if lengths is not None else trim_trailing_nan(r)
        if len(r) == 0:
            raise data_error(path, f"sequence {i} is empty (all NaN)", "remove it or give it values")
        r = clean_nonfinite(r, policy, path, lambda t, j, _i=i: (None, f"in sequence {_i}, step {t}, feature {j}"),
                            counts)
        if len(r) > options["max_length"]:
            raise too_long(path, len(r), options["max_length"], record=f"sequence {i}")
        seqs.append(r)
    if not seqs:
        raise data_error(path, "array 'X' holds no sequences", _NPY_HINT)
    return seqs, counts


def _x_sequences(stream, header: _Header, path, key: str, options, lengths=None, per_row_2d=False):
    """(sequences, non-finite counts, info) of X: all of it, or with ``options["head_only"]`` its head
    (info then says the counts are the header's and the lengths estimates)."""
    head = _head_items(stream, header, path, key, per_row_2d) if options.get("head_only") else None
    if head is None or head[1]:
        raw = head[0] if head is not None else _raw_sequences(stream, header, path, key, per_row_2d)
        return (*_array_sequences(raw, header, path, options, lengths, per_row_2d), {})
    items, _ = head
    single = len(header.shape) == 1 or (len(header.shape) == 2 and not per_row_2d)
    n_items, steps = (1, header.shape[0]) if single else (header.shape[0], header.shape[1])
    seqs, counts = _array_sequences(items, header, path, options, lengths=lengths, per_row_2d=per_row_2d)
    full = np.asarray(lengths) if lengths is not None else np.full(n_items, steps)
    info = {"estimated": True, "estimated_rows": n_items, "estimated_lengths": full,
            "preview_note": f"preview of the first {len(items[0]):,} steps of {len(items):,} of {n_items:,} "
                            f"sequence(s) of {key!r}: the whole array is checked when it is opened"}
    return seqs, counts, info


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


def _loaded(path, fmt: str, seqs, counts, header: _Header, **fields) -> Loaded:
    fields.setdefault("feature_names", default_feature_names(seqs[0].shape[1]))
    loaded = Loaded(path=path, format=fmt, layout="array", sequences=seqs,
                    info={"shape": header.shape, "dtype": str(header.dtype), **fields.pop("info", {})}, **fields)
    note = nonfinite_note(path, counts)
    if note:
        loaded.notes.append(note)
    return loaded


def read_npy(source: DataFile, options) -> Loaded:
    path = source.path
    stream = source.stream()
    header = _read_header(stream, path, "the file")
    _check_data_size(header, source.size - header.data_offset, None, path, "the array")
    seqs, counts, info = _x_sequences(stream, header, path, "array", options)
    return _loaded(path, "npy", seqs, counts, header, info=info)


# ----------------------------------------------------------------------------------- .npz
def _zip_error(path, exc: BaseException) -> DataError:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, RuntimeError) and "encrypted" in text:
        return data_error(path, "is an encrypted (password-protected) zip archive", f"save it unencrypted; {_NPZ_HINT}")
    if isinstance(exc, NotImplementedError):
        return data_error(path, f"uses a zip feature numpy.savez never writes ({text})", f"re-save it; {_NPZ_HINT}")
    return data_error(path, f"is not a valid .npz file ({text})", f"the file may be truncated or corrupt; {_NPZ_HINT}")


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError,
               ValueError, KeyError, struct.error, zlib.error, OverflowError)


class _Archive:
    """The members of an opened .npz, each checked against the size limit before it is read."""

    def __init__(self, zf: zipfile.ZipFile, path: str, limit: int | None):
        self.zf, self.path, self.limit = zf, path, limit
        self.members = {}
        for info in zf.infolist():
            if not info.is_dir():
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                self.members.setdefault(key, info)
        self.lookup = {k.lower(): k for k in self.members}

    def key_for(self, *names: str) -> str | None:
        return next((self.lookup[k] for k in names if k in self.lookup), None)

    def open(self, key: str):
        """(stream, header) of member ``key``, after checking its declared and real sizes."""
        info = self.members[key]
        what = f"member {info.filename!r}"
        if self.limit is not None and info.file_size > self.limit:
            raise over_size_limit(self.path, f"{what} would decompress to {format_size(info.file_size)}, over the "
                                  f"{format_size(self.limit)} size limit", info.file_size, "save a smaller array")
        stream = self.zf.open(info)
        header = _read_header(stream, self.path, what)
        _check_data_size(header, info.file_size - header.data_offset, self.limit, self.path, what)
        return stream, header

    def small(self, key: str | None):
        """A whole small member (labels, lengths, names) as an array, or None."""
        if key is None:
            return None
        stream, header = self.open(key)
        if header.dtype.kind not in "biufcUS" or header.dtype.fields is not None:
            raise data_error(self.path, f"array {key!r} has dtype {header.dtype}", _NPY_HINT)
        with stream:
            return _whole(stream, header, self.path, repr(key)).copy()


def _class_order(labels: list, classes, path):
    if classes is None or classes.dtype.kind not in "US" or classes.ndim != 1:
        return labels, None
    class_order = [str(c) for c in classes.tolist()]
    if all(isinstance(v, int) for v in labels):
        if min(labels) < 0 or max(labels) >= len(class_order):
            raise data_error(path, f"labels must index class_names (0..{len(class_order) - 1})", "fix y or class_names")
        labels = [class_order[v] for v in labels]
    return labels, class_order


def _read_archive(archive: _Archive, path: str, options) -> Loaded:
    key = archive.key_for("x", "data", "sequences")
    if key is None and len(archive.members) == 1:
        key = next(iter(archive.members))
    if key is None:
        raise data_error(path, f"no array named 'X' (found {', '.join(archive.members) or 'nothing'})",
                         "save the inputs as X, e.g. numpy.savez(path, X=..., y=...)")
    y, lengths, names, classes = (archive.small(archive.key_for(k)) for k in _SMALL_MEMBERS)
    stream, header = archive.open(key)
    with stream:
        per_row = y is not None and len(header.shape) == 2 and y.ndim == 1 and len(y) == header.shape[0] > 1
        seqs, counts, info = _x_sequences(stream, header, path, key, options, lengths=lengths, per_row_2d=per_row)
        if not info:
            stream.read(1)               # reach the member's end, so zipfile checks its CRC
    labels = class_order = None
    if y is not None:
        labels, class_order = _class_order(_labels_from_array(y, path, info.get("estimated_rows", len(seqs))),
                                           classes, path)
    f = seqs[0].shape[1]
    feature_names = default_feature_names(f)
    if names is not None and names.dtype.kind in "US" and names.shape == (f,):
        feature_names = [str(n) for n in names.tolist()]
    return _loaded(path, "npz", seqs, counts, header, labels=labels, class_order=class_order,
                   feature_names=feature_names, info={"arrays": {k: None for k in archive.members}, **info})


def read_npz(source: DataFile, options) -> Loaded:
    path = source.path
    if source.head(len(_MAGIC)) == _MAGIC:       # a .npz-named .npy: read it as what it is
        return read_npy(source, options)
    try:
        with zipfile.ZipFile(source.stream()) as zf:
            return _read_archive(_Archive(zf, path, options["size_limit"]), path, options)
    except DataError:
        raise
    except _ZIP_ERRORS as exc:
        raise _zip_error(path, exc) from None
