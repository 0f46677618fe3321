"""DataError and the sentences it is made of.

Every problem with a user's file ends up as a :class:`DataError` whose message names the
file, the line or record where it can, the problem, and what the user can do about it.
Reading files is ``files``' job.
"""

from __future__ import annotations

import os

__all__ = ["DataError", "data_error", "display_name", "format_size"]


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


def over_size_limit(path, problem: str, needed: int, otherwise: str) -> DataError:
    """A file or array over the size limit: the fix is the limit that lets it through, named as each
    front end names it (``size_limit=`` / ``--size-limit`` / the preview's "size limit" field)."""
    from .options import Fix
    return data_error(path, problem, "{fix} or " + otherwise, fixes=(Fix("size_limit", int(needed)),))


def format_size(n_bytes: int) -> str:
    value = float(n_bytes)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
