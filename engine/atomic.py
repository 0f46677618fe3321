"""Replacing a file atomically: the one writer behind run.json, checkpoints and the --out files.

A new file is written under a temporary name in the target's folder, checked, fsynced, renamed
over the target, and the folder is fsynced, so a crash, a kill or a full disk leaves either the
old file or the new one, never a torn one; on any failure the temporary file is removed and the
target is untouched. Callers choose the temporary name (``make_temp``: a checkpoint's names its
process so a later start can clean up after a killed save) and what "complete" means (``check``).
Errors are OSErrors with the OS's errno kept; callers name the target in their own terms.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable


def default_temp(folder: Path, name: str) -> Path:
    """A new empty ``.<name>.<hex>.tmp`` in ``folder`` (mode 0666 & ~umask, like any other file)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = Path(folder) / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, flags, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(17, "no free temporary file name", os.fspath(folder))


def replace_atomically(path, produce: Callable[[Path], None], *, check: Callable[[Path], None] | None = None,
                       make_temp: Callable[[Path, str], Path] | None = None, fsync: bool = True) -> Path:
    """``produce(tmp)`` writes the new contents at ``tmp``; then ``check(tmp)`` (raise to refuse it),
    fsync, rename onto ``path``, fsync the folder. Returns ``path``."""
    path = Path(path)
    folder = path.parent
    tmp = (make_temp or default_temp)(folder, path.name)
    try:
        produce(tmp)
        if fsync:
            fsync_file(tmp)
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        fsync_folder(folder)
    return path


def write_file_atomically(path, write: Callable, **kwargs) -> Path:
    """``write(fh)`` into a binary file handle; a file shorter on disk than what was written (a
    short write some file systems report late) is refused with EIO."""
    written = []

    def produce(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            written.append(fh.tell())

    def complete(tmp: Path) -> None:
        size = os.stat(tmp).st_size
        if size != written[0]:
            raise OSError(5, f"the written file is shorter than its data ({size:,} of {written[0]:,} bytes)")
        if user_check is not None:
            user_check(tmp)

    user_check = kwargs.pop("check", None)
    return replace_atomically(path, produce, check=complete, **kwargs)


def write_bytes_atomically(path, data: bytes, **kwargs) -> Path:
    return write_file_atomically(path, lambda fh: fh.write(data), **kwargs)


def write_text_atomically(path, text: str, **kwargs) -> Path:
    """UTF-8, newlines as given."""
    return write_bytes_atomically(path, text.encode("utf-8"), **kwargs)


def fsync_file(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder) -> None:
    """Make a rename in ``folder`` durable; best effort (Windows cannot open folders, some file
    systems refuse fsync on one: the rename is then as durable as it gets)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["replace_atomically", "write_file_atomically", "write_bytes_atomically", "write_text_atomically",
           "default_temp", "fsync_file", "fsync_folder"]
