"""Careful file access for every loader: open once, check what was opened, read with a bound.

A path is checked and opened once; everything after that reads from the opened descriptor
(``os.fstat`` says it is a regular file and how big it is), never from the path again, and
never more than that size. So a file swapped for ``/dev/zero`` or a pipe between the check and
the read is refused instead of read forever, and a file deleted mid-load is still read whole
(the descriptor keeps it). Files are only ever opened for reading.

``decode_text`` turns bytes into text (and refuses binary content); ``line_pieces`` streams a
file line by line in bounded pieces, so a reader can refuse a 500 MB line before holding it.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import stat

from .errors import DataError, data_error, format_size, over_size_limit

__all__ = ["DataFile", "open_data_file", "read_bytes", "decode_text", "decode_in_pieces", "line_pieces",
           "PIECE_BYTES"]

PIECE_BYTES = 1 << 20      # longest piece of a line ``line_pieces`` hands out at once
_READABLE_HINT = "make the file readable or copy it somewhere you can read"
_ACCESS_HINT = "check that the file is accessible"

# Indirection so tests can simulate a permission error even as root, or swap the file between
# the check and the open.
_open = os.open
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | \
    getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _seek_read(fd: int, n: int, offset: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)


_pread = getattr(os, "pread", _seek_read)      # Windows has no pread; a DataFile is read by one thread


def _fspath(path) -> str:
    try:
        p = os.fsdecode(os.fspath(path))
    except TypeError:
        raise DataError(f"{path!r} is not a file path; pass a str or pathlib.Path") from None
    if not p:
        raise DataError("no file given; choose a file to load")
    return p


def _os_error(p: str, exc: OSError, opening: bool) -> DataError:
    """The user's sentence for an OSError on ``p`` (while checking the path or opening it)."""
    if isinstance(exc, FileNotFoundError):
        if os.path.islink(p):
            return data_error(p, "is a broken link (its target does not exist)", "choose the file it pointed to")
        if opening:
            return data_error(p, "no longer exists (it was removed or renamed while loading)",
                              "check the path or choose another file")
        return data_error(p, "file does not exist", "check the path or choose another file")
    if isinstance(exc, PermissionError):
        if opening:
            return data_error(p, "permission denied", _READABLE_HINT)
        # stat needs no permission on the file itself, only on the folders leading to it
        return data_error(p, f"permission denied: its folder {_locked_folder(p)!r} cannot be opened",
                          "make the folder accessible or copy the file somewhere you can read")
    if isinstance(exc, IsADirectoryError):
        return data_error(p, "is a folder, not a file", "choose the files inside it")
    if exc.errno in (errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
        return data_error(p, f"is not a usable path ({exc.strerror})", "check the path or choose another file")
    return data_error(p, f"cannot be read ({exc.strerror or exc})", _ACCESS_HINT)


def _locked_folder(p: str) -> str:
    folder = os.path.dirname(os.path.abspath(p))
    chain = []
    while folder not in chain:
        chain.append(folder)
        folder = os.path.dirname(folder)
    return next((f for f in reversed(chain) if not os.access(f, os.X_OK)), chain[0])


def _check_stat(p: str, st: os.stat_result, size_limit: int | None) -> int:
    """Refuse anything but a non-empty regular file within the limit; returns its size."""
    mode, size = st.st_mode, st.st_size
    if stat.S_ISDIR(mode):
        raise data_error(p, "is a folder, not a file",
                         "choose the files inside it (several files can be loaded at once)")
    if not stat.S_ISREG(mode):
        raise data_error(p, "is not a regular file (device, pipe or socket)", "choose a data file")
    if size_limit is not None and size > size_limit:
        raise over_size_limit(p, f"file is {format_size(size)}, over the {format_size(size_limit)} size limit",
                              size, "split the file into smaller ones")
    if size == 0:
        raise data_error(p, "file is empty", "choose a file that contains data")
    return size


class DataFile:
    """One opened regular file. ``size`` comes from fstat of the descriptor, and no read goes
    past it, whatever happens to the path (or the file) meanwhile."""

    def __init__(self, path: str, fd: int, size: int):
        self.path = path
        self.size = size
        self._fd = fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "DataFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_at(self, offset: int, n: int | None = None) -> bytes:
        """Up to ``n`` bytes from ``offset`` (all the rest when None), never past ``size``."""
        want = self.size - offset if n is None else min(n, self.size - offset)
        chunks, got = [], 0
        while got < want:
            try:
                chunk = _pread(self._fd, min(want - got, 1 << 26), offset + got)
            except OSError as exc:
                raise _os_error(self.path, exc, opening=True) from None
            if not chunk:           # the file shrank while we read it
                raise data_error(self.path, f"changed while loading (it is now {format_size(offset + got)})",
                                 "wait until the file is completely written, then load it again")
            chunks.append(chunk)
            got += len(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def head(self, n: int) -> bytes:
        return self.read_at(0, n)

    def read_all(self) -> bytes:
        return self.read_at(0)

    def stream(self, offset: int = 0) -> io.BufferedReader:
        """A seekable binary stream of the file from ``offset``, bounded by ``size``."""
        raw = _BoundedRaw(self, offset)
        return io.BufferedReader(raw, buffer_size=1 << 16)


class _BoundedRaw(io.RawIOBase):
    """Raw reads from a DataFile's descriptor at our own position (pread), stopping at size."""

    def __init__(self, source: DataFile, offset: int):
        super().__init__()
        self._source = source
        self._base = offset
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self._source.size - self._base - self._pos
        n = min(len(buffer), left)
        if n <= 0:
            return 0
        data = self._source.read_at(self._base + self._pos, n)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        end = self._source.size - self._base
        target = {io.SEEK_SET: pos, io.SEEK_CUR: self._pos + pos, io.SEEK_END: end + pos}[whence]
        if target < 0:
            raise OSError(errno.EINVAL, "negative seek position")
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos


def open_data_file(path, size_limit: int | None) -> DataFile:
    """Open ``path`` for reading: a readable, non-empty regular file within ``size_limit``.

    The path is looked at first (so a folder or a pipe gets its own message and a pipe is never
    opened), then opened without blocking, and the opened descriptor is checked again.
    """
    p = _fspath(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise _os_error(p, exc, opening=False) from None
    _check_stat(p, st, size_limit)        # a 50 GB file is refused without being opened
    try:
        fd = _open(p, _OPEN_FLAGS)
    except OSError as exc:
        raise _os_error(p, exc, opening=True) from None
    try:
        size = _check_stat(p, os.fstat(fd), size_limit)
    except BaseException:
        os.close(fd)
        raise
    return DataFile(p, fd, size)


def read_bytes(path, n: int | None = None) -> bytes:
    """The whole file (or its first ``n`` bytes) by path, through a checked descriptor."""
    with open_data_file(path, None) as f:
        return f.read_at(0, n)


def line_pieces(stream, piece_bytes: int = PIECE_BYTES):
    """``(line_number, piece, last)`` for every line of a binary stream, split on ``\\n`` only
    (a form feed or ``\\x1c`` inside a line is not a line break). A line longer than
    ``piece_bytes`` comes in several pieces; ``last`` marks a line's final piece (which keeps its
    ``\\n``, if it had one)."""
    n = 1
    while True:
        piece = stream.readline(piece_bytes)
        if not piece:
            return
        last = piece.endswith(b"\n") or not stream.peek(1)
        yield n, piece, last
        if last:
            n += 1


# Control characters that do not occur in text (tab, newline, CR, form feed, vertical tab do).
_C0_CONTROLS = bytes(c for c in range(32) if c not in (9, 10, 11, 12, 13)) + b"\x7f"
_C1_CONTROLS = bytes(range(0x80, 0xA0))
_CONTROL_LIMIT = 0.01  # more than 1 % control characters: a binary file, not text
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _control_fraction(data: bytes, controls: bytes) -> float:
    return (len(data) - len(data.translate(None, controls))) / max(len(data), 1)


def bom_length(data: bytes) -> int:
    """Length of the byte-order mark ``data`` starts with (0 if none)."""
    return next((len(bom) for bom, _ in _BOMS if data.startswith(bom)), 0)


def _decode_bom(data: bytes, path, partial: bool):
    for bom, codec in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                text = body.decode(codec, errors="ignore" if partial else "strict")
            except UnicodeDecodeError as exc:
                raise data_error(path, f"starts with a {codec} byte-order mark but byte {exc.start + len(bom)} "
                                 f"is not valid {codec}", "re-save the file as UTF-8 text") from None
            if codec != "utf-8" and "\x00" in text:
                raise data_error(path, f"is not valid {codec} text", "re-save the file as UTF-8 text")
            return text, codec
    return None


_NUL_PROBLEM = ("looks like a binary file (it contains NUL bytes), not text or a table",
                "choose a CSV/TSV, .ts, .txt, .npy or .npz file, or re-save UTF-16 text as UTF-8")
_CONTROLS_PROBLEM = ("looks like a binary file (many control characters), not text or a table",
                     "choose a CSV/TSV, .ts, .txt, .npy or .npz file")
_LATIN1_PROBLEM = ("cannot be decoded as text (not UTF-8, and as Latin-1 it is full of control characters)",
                   "re-save the file as UTF-8 text")
DECODE_BYTES = 1 << 22  # bytes decoded at a time by decode_in_pieces


def decode_text(data: bytes, path, *, partial: bool = False) -> tuple[str, str]:
    """Decode file bytes as text: UTF-8 (BOM stripped), UTF-16/32 with a BOM,
    then Windows-1252 / Latin-1. Returns ``(text, encoding)``.

    Raises DataError for binary content (NUL bytes, many control characters).
    ``partial``: ``data`` is the head of a longer file, so a multi-byte character may be cut.
    """
    with_bom = _decode_bom(data, path, partial)
    if with_bom is not None:
        return with_bom
    if b"\x00" in data:
        raise data_error(path, *_NUL_PROBLEM)
    if _control_fraction(data, _C0_CONTROLS) > _CONTROL_LIMIT:
        raise data_error(path, *_CONTROLS_PROBLEM)
    try:
        return data.decode("utf-8", errors="strict"), "utf-8"
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(data) - 4:
            return data[:exc.start].decode("utf-8"), "utf-8"
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        pass
    if _control_fraction(data, _C1_CONTROLS) > _CONTROL_LIMIT:
        raise data_error(path, *_LATIN1_PROBLEM)
    return data.decode("latin-1"), "latin-1"


def decode_in_pieces(source: DataFile, build, chunk_bytes: int | None = None):
    """``(build(pieces), encoding)`` for a file without a byte-order mark: decoded as decode_text
    decides (UTF-8, else Windows-1252, else Latin-1; binary content refused), but ``chunk_bytes``
    at a time, so neither the file's bytes nor its whole text is ever held. ``pieces()`` yields
    the text's str pieces, reading the file again on each call; a UnicodeDecodeError out of
    ``build`` moves on to the next encoding."""
    chunk_bytes = chunk_bytes or DECODE_BYTES
    nul = c0 = c1 = 0
    for chunk in _chunks(source, chunk_bytes):
        nul += b"\x00" in chunk
        c0 += len(chunk) - len(chunk.translate(None, _C0_CONTROLS))
        c1 += len(chunk) - len(chunk.translate(None, _C1_CONTROLS))
    size = max(source.size, 1)
    if nul:
        raise data_error(source.path, *_NUL_PROBLEM)
    if c0 / size > _CONTROL_LIMIT:
        raise data_error(source.path, *_CONTROLS_PROBLEM)
    for codec in ("utf-8", "cp1252", "latin-1"):
        if codec == "latin-1" and c1 / size > _CONTROL_LIMIT:
            raise data_error(source.path, *_LATIN1_PROBLEM)
        try:
            return build(lambda: _decoded(source, codec, chunk_bytes)), codec
        except UnicodeDecodeError:
            continue
    raise AssertionError("Latin-1 decodes any bytes")


def _chunks(source: DataFile, chunk_bytes: int):
    for offset in range(0, source.size, chunk_bytes):
        yield source.read_at(offset, chunk_bytes)


def _decoded(source: DataFile, codec: str, chunk_bytes: int):
    decoder = codecs.getincrementaldecoder(codec)("strict")
    for chunk in _chunks(source, chunk_bytes):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)
