"""DataError and the careful file access every loader goes through.

Every problem with a user's file ends up as a :class:`DataError` whose message names the
file, the line or record where it can, the problem, and what the user can do about it.
Files are only ever opened for reading.
"""

from __future__ import annotations

import os

__all__ = ["DataError", "data_error", "display_name", "check_file", "read_bytes", "decode_text",
           "format_size"]


class DataError(ValueError):
    """A file (or option) that cannot be turned into sequences.

    ``str(error)`` is a complete sentence for the user, e.g.
    ``sunspots.csv, line 14: 'n/a' is not a number (column 'value'); remove it or pass
    skip_non_numeric=True``. The parts are kept as attributes for the GUI.

    ``fixes``: the option settings (:class:`~engine.data.options.Fix`) that would get past the
    error; ``engine.data.options.render(error, "cli" | "dialog")`` names them as a front end does.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 problem: str | None = None, hint: str | None = None, fixes=(),
                 hint_template: str | None = None, where: str | None = None):
        super().__init__(message)
        self.path = path
        self.line = line
        self.problem = problem if problem is not None else message
        self.hint = hint
        self.fixes = tuple(fixes)
        self.hint_template = hint_template
        self.where = where

    def render(self, style: str = "api") -> str:
        """The message with its fixes named for a front end: "api", "cli" (flags) or "dialog"."""
        from .options import render
        return render(self, style)


def display_name(path) -> str:
    if path is None:
        return "<data>"
    try:
        return os.path.basename(os.fspath(path)) or os.fspath(path)
    except TypeError:
        return repr(path)


def data_error(path, problem: str, hint: str | None = None, *, line: int | None = None,
               record: str | None = None, fixes=()) -> DataError:
    """Build (not raise) a DataError: ``"<file>, line <n>: <problem>; <hint>"``.

    With ``fixes`` the hint may hold ``{fix}``, filled with the fixes in the Python API's words
    (``pass nonfinite='drop'``); front ends re-render it with their own (engine.data.options)."""
    where = display_name(path)
    if line is not None:
        where += f", line {line}"
    elif record:
        where += f", {record}"
    template = None
    if fixes:
        from .options import fill_hint
        template, hint = hint, fill_hint(hint, fixes)
    message = f"{where}: {problem}"
    if hint:
        message += f"; {hint}"
    return DataError(message, path=None if path is None else str(path), line=line,
                     problem=problem, hint=hint, fixes=fixes, hint_template=template, where=where)


def format_size(n_bytes: int) -> str:
    value = float(n_bytes)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# Indirection so tests can simulate a permission error even when running as root.
_open = open


def check_file(path, size_limit: int | None) -> int:
    """Validate that ``path`` is a readable, non-empty regular file within the size limit.

    Checked before anything is read, so a 50 GB file is refused without touching it.
    Returns the size in bytes.
    """
    try:
        p = os.fspath(path)
    except TypeError:
        raise DataError(f"{path!r} is not a file path; pass a str or pathlib.Path") from None
    if not p:
        raise DataError("no file given; choose a file to load")
    if not os.path.lexists(p):
        raise data_error(p, "file does not exist", "check the path or choose another file")
    if os.path.isdir(p):
        raise data_error(p, "is a folder, not a file",
                         "choose the files inside it (several files can be loaded at once)")
    if not os.path.isfile(p):
        raise data_error(p, "is not a regular file (device, pipe or broken link)",
                         "choose a data file")
    try:
        size = os.path.getsize(p)
    except OSError as exc:
        raise data_error(p, f"cannot be read ({exc.strerror or exc})",
                         "check that the file is accessible") from None
    if size_limit is not None and size > size_limit:
        raise data_error(p, f"file is {format_size(size)}, over the {format_size(size_limit)} size limit",
                         "pass a larger size_limit or split the file into smaller ones")
    if size == 0:
        raise data_error(p, "file is empty", "choose a file that contains data")
    if not os.access(p, os.R_OK):
        raise data_error(p, "permission denied", "make the file readable or copy it somewhere you can read")
    return size


def read_bytes(path, n: int | None = None) -> bytes:
    """Read the whole file (or its first ``n`` bytes), converting OS errors to DataError."""
    try:
        with _open(path, "rb") as f:
            return f.read() if n is None else f.read(n)
    except PermissionError:
        raise data_error(path, "permission denied",
                         "make the file readable or copy it somewhere you can read") from None
    except IsADirectoryError:
        raise data_error(path, "is a folder, not a file", "choose the files inside it") from None
    except OSError as exc:
        raise data_error(path, f"cannot be read ({exc.strerror or exc})",
                         "check that the file is accessible") from None


# Control characters that do not occur in text (tab, newline, CR, form feed, vertical tab do).
_C0_CONTROLS = bytes(c for c in range(32) if c not in (9, 10, 11, 12, 13)) + b"\x7f"
_C1_CONTROLS = bytes(range(0x80, 0xA0))
_CONTROL_LIMIT = 0.01  # more than 1 % control characters: a binary file, not text


def _control_fraction(data: bytes, controls: bytes) -> float:
    return (len(data) - len(data.translate(None, controls))) / max(len(data), 1)


def decode_text(data: bytes, path, *, partial: bool = False) -> tuple[str, str]:
    """Decode file bytes as text: UTF-8 (BOM stripped), UTF-16/32 with a BOM,
    then Windows-1252 / Latin-1. Returns ``(text, encoding)``.

    Raises DataError for binary content (NUL bytes, many control characters).
    ``partial``: ``data`` is the head of a longer file, so a multi-byte character may be cut.
    """
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
                       (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):
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
    if b"\x00" in data:
        raise data_error(path, "looks like a binary file (it contains NUL bytes), not text or a table",
                         "choose a CSV/TSV, .ts, .txt, .npy or .npz file, or re-save UTF-16 text as UTF-8")
    if _control_fraction(data, _C0_CONTROLS) > _CONTROL_LIMIT:
        raise data_error(path, "looks like a binary file (many control characters), not text or a table",
                         "choose a CSV/TSV, .ts, .txt, .npy or .npz file")
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
        raise data_error(path, "cannot be decoded as text (not UTF-8, and as Latin-1 it is full of "
                         "control characters)", "re-save the file as UTF-8 text")
    return data.decode("latin-1"), "latin-1"
