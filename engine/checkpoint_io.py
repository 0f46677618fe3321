"""The bytes of a checkpoint: a bounded, pickle-free ``.npz`` reader and an atomic writer.

Reading opens the file once (without following a FIFO into a block), checks the opened file
(regular, size), and checks every zip member's central-directory entry and ``.npy`` header
against the limits and against what the metadata lists before any array is allocated; arrays
are read in chunks into a buffer of exactly the declared size. Python's zip module raises a
dozen exception types on hostile input (NotImplementedError for a changed version byte,
RuntimeError for the encrypted flag, struct.error, zlib.error, ...): all of them become one
:class:`ArchiveProblem` naming the file. Writing goes through a temporary file of our own
naming (``.ckpt-<pid>-<hex>.npz.tmp``) in the target's folder: fsync, rename, fsync the folder.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import struct
import threading
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np

from engine.atomic import write_file_atomically

# Bounds of the format itself, checked before anything is read or allocated (the model's own
# limits, hidden sizes, layers, epochs, ..., are engine.limits, checked by TrainingConfig).
MAX_META_BYTES = 64 << 20  # the JSON metadata (config, history, vocabulary)
MAX_CHECKPOINT_BYTES = 16 << 30  # all arrays together, uncompressed
MAX_ARRAYS = 1024  # arrays in one checkpoint (parameters + optimizer state)
MAX_ARRAY_DIMS = 4  # dimensions of one stored array
MAX_DEFLATE_RATIO = 64  # a compressed member may expand at most this much (zip bombs)
MAX_NAMES = 1 << 20  # characters, classes, features or targets named in the dataset record
TEMP_PREFIX = ".ckpt-"
TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"^\.ckpt-(?:(\d+)-)?[0-9A-Za-z_]+(?:\.npz)?\.tmp$")
_OLD_TEMP_AGE_S = 600  # temp files without a process id (older versions): stale after 10 minutes
_CHUNK = 1 << 20
_ARRAY_DTYPES = ("<f4", "<f8")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error,
               OverflowError, IndexError, KeyError, NotImplementedError, RuntimeError, zlib.error,
               TypeError, AttributeError)
_writing: set = set()  # temp files this process is writing right now
_writing_lock = threading.Lock()


class ArchiveProblem(Exception):
    """The file is not a readable checkpoint archive (the message names the file)."""


# ------------------------------------------------------------------------------------- reading
def read_archive(path: str, meta_name: str, expect) -> tuple:
    """Read ``path``: the uint8 member ``meta_name`` first, then ``expect(path, meta_bytes) ->
    (meta, {member: (shape, dtype, label)})`` validates it, then every other member is checked against
    that table and read. Returns ``(meta, {member: array})``."""
    with _open_regular(path) as fh:
        zf = _open_zip(path, fh)
        with zf:
            infos = _check_members(path, zf, os.fstat(fh.fileno()).st_size)
            if meta_name not in infos:
                raise ArchiveProblem(f"{path} is not an RNN Scope checkpoint (no {meta_name} record)")
            meta_info = infos.pop(meta_name)
            if meta_info.file_size > MAX_META_BYTES:
                raise ArchiveProblem(f"{path}: the metadata record claims {meta_info.file_size:,} bytes, "
                                     f"over the limit of {MAX_META_BYTES:,}")
            raw = _read_member(path, zf, meta_info, None, ("|u1",)).tobytes()
            meta, expected = expect(path, raw)
            stray = sorted(set(infos) - set(expected))
            if stray:
                raise ArchiveProblem(f"{path}: unexpected arrays {stray[:5]}")
            arrays = {name: _read_member(path, zf, info, expected[name], _ARRAY_DTYPES)
                      for name, info in infos.items()}
    return meta, arrays


def _open_regular(path: str):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ArchiveProblem(f"checkpoint {path} does not exist") from None
    except OSError as exc:
        raise ArchiveProblem(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise ArchiveProblem(f"checkpoint {path} is {kind}; choose a .npz checkpoint file")
    return os.fdopen(fd, "rb")


def _open_zip(path: str, fh) -> zipfile.ZipFile:
    head = fh.read(8)
    fh.seek(0)
    if not head.startswith(b"PK\x03\x04"):
        raise ArchiveProblem(f"{path} is not an RNN Scope checkpoint ({_what_is(head)}, not an .npz archive)")
    try:
        return zipfile.ZipFile(fh)
    except _ZIP_ERRORS as exc:
        raise ArchiveProblem(f"{path} is not a readable RNN Scope checkpoint "
                             f"(corrupt or truncated file: {_reason(exc)})") from None


def _what_is(head: bytes) -> str:
    if not head:
        return "the file is empty"
    if head.startswith(b"\x93NUMPY"):
        return "a single NumPy array"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "it looks like a text file"
    return "unknown binary content"


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _check_members(path: str, zf: zipfile.ZipFile, file_size: int) -> dict:
    """Central-directory checks: names, encryption, compression, declared sizes vs the budget."""
    infos = zf.infolist()
    if len(infos) > 2 * MAX_ARRAYS + 1:
        raise ArchiveProblem(f"{path}: {len(infos):,} members, more than a checkpoint holds")
    out, total = {}, 0
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or name[:-4] in out:
            raise ArchiveProblem(f"{path}: unexpected or repeated member {name[:80]!r}")
        if info.flag_bits & 0x1:
            raise ArchiveProblem(f"{path}: member {name!r} is encrypted; checkpoints are never encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveProblem(f"{path}: member {name!r} uses compression method {info.compress_type}; "
                                 "checkpoints are stored or deflated")
        if info.compress_size > file_size or (info.compress_type == zipfile.ZIP_STORED
                                              and info.file_size != info.compress_size):
            raise ArchiveProblem(f"{path}: member {name!r} declares sizes the file cannot hold "
                                 "(corrupt or truncated file)")
        if info.file_size > MAX_DEFLATE_RATIO * info.compress_size + _CHUNK:
            raise ArchiveProblem(f"{path}: member {name!r} claims {info.file_size:,} bytes from "
                                 f"{info.compress_size:,} compressed (over {MAX_DEFLATE_RATIO}x)")
        total += info.file_size
        if total > MAX_CHECKPOINT_BYTES:
            raise ArchiveProblem(f"{path}: the arrays claim more than the limit of "
                                 f"{MAX_CHECKPOINT_BYTES:,} bytes")
        out[name[:-4]] = info
    return out


def _read_member(path, zf, info, expected, dtypes) -> np.ndarray:
    """One .npy member, its header checked (dtype, shape, size) before the buffer is allocated."""
    name = info.filename
    try:
        with zf.open(info) as fp:
            shape, fortran, dtype = _read_header(fp)
            problem = _header_problem(shape, dtype, dtypes, expected, info.file_size - fp.tell())
            if problem:
                label = expected[2] if expected is not None else f"member {name!r}"
                raise ArchiveProblem(f"{path}: {label} {problem}")
            out = np.empty(int(np.prod(shape, dtype=np.int64)) if shape else 1, dtype=dtype)
            view = memoryview(out).cast("B")
            pos = 0
            while pos < len(view):
                chunk = fp.read(min(_CHUNK, len(view) - pos))
                if not chunk:
                    raise EOFError("the member ends early")
                view[pos:pos + len(chunk)] = chunk
                pos += len(chunk)
            if fp.read(1):
                raise ValueError("the member is longer than its header says")
    except ArchiveProblem:
        raise
    except _ZIP_ERRORS as exc:
        raise ArchiveProblem(f"{path} is not a readable RNN Scope checkpoint "
                             f"(corrupt or truncated file: member {name!r}: {_reason(exc)})") from None
    return out.reshape(shape, order="F" if fortran else "C")


def _read_header(fp):
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fp, max_header_size=10_000)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fp, max_header_size=10_000)
    raise ValueError(f".npy format version {version} is not one a checkpoint uses")


def _header_problem(shape, dtype, dtypes, expected, body_bytes) -> str:
    if dtype.str not in dtypes or dtype.hasobject or dtype.fields is not None:
        return f"holds {dtype}, not {' or '.join(np.dtype(d).name for d in dtypes)}"
    if len(shape) > MAX_ARRAY_DIMS or not all(isinstance(d, int) and d >= 0 for d in shape):
        return f"has an invalid shape {shape!r:.60}"
    if expected is not None and (tuple(shape) != tuple(expected[0]) or dtype.name != expected[1]):
        return f"has shape {tuple(shape)} {dtype.name}, expected {tuple(expected[0])} {expected[1]}"
    size = dtype.itemsize
    for d in shape:
        size *= d
    if size != body_bytes:
        return f"declares {size:,} bytes of data but holds {body_bytes:,} (corrupt or truncated file)"
    return ""


# ------------------------------------------------------------------------------------- writing
def write_atomically(path: str, write) -> None:
    """``write(fh)`` into a temporary file next to ``path``, then fsync, rename and fsync the
    folder (engine.atomic, the one atomic writer); the temporary file is removed on any failure.
    Raises OSError (errno kept) naming nothing but the OS's reason: callers name the target."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, "No such folder", folder)
    remove_stale_temp_files(folder)
    made = []

    def make_temp(_folder, _name) -> Path:
        tmp, fd = _create_temp(folder)  # named for this process, so a later start can tell it is stale
        made.append(tmp)
        os.close(fd)
        return Path(tmp)

    try:
        write_file_atomically(path, write, make_temp=make_temp)
    finally:
        with _writing_lock:
            for tmp in made:
                _writing.discard(tmp)


def _create_temp(folder: str) -> tuple:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}.npz{TEMP_SUFFIX}")
        with _writing_lock:
            _writing.add(tmp)
        try:
            return tmp, os.open(tmp, flags, 0o666)  # 0o666 & ~umask, like any other file
        except FileExistsError:
            continue
        except BaseException:
            with _writing_lock:
                _writing.discard(tmp)
            raise
    raise FileExistsError(17, "could not create a temporary file", folder)


def remove_stale_temp_files(folder) -> list:
    """Remove temporary checkpoint files in ``folder`` left by a save that was killed: ours that
    no live process is writing. Returns the paths removed; errors are ignored (best effort)."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMP_NAME.match(name)
        if not match:
            continue
        full = os.path.join(os.fspath(folder), name)
        if _in_use(full, match.group(1)):
            continue
        try:
            os.unlink(full)
            removed.append(full)
        except OSError:
            pass
    return removed


def _in_use(full: str, pid: str | None) -> bool:
    if pid is None:  # written by an older version: no owner to ask, so go by age
        try:
            return time.time() - os.lstat(full).st_mtime < _OLD_TEMP_AGE_S
        except OSError:
            return True
    if int(pid) == os.getpid():
        with _writing_lock:
            return full in _writing
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, OverflowError, ValueError):
        return False  # no such process (or no such process id at all)
    except PermissionError:
        return True  # another user's live process
    return True
