"""Where RNN Scope's log goes: ``--verbose``, ``--log-file PATH``, and the window's log file.

* stderr shows warnings; ``--verbose`` (or the older ``RNNSCOPE_LOG=INFO|DEBUG``) shows our
  modules' details too. Other libraries' loggers stay at WARNING so PyTensor and JAX do not
  bury ours.
* ``--log-file PATH`` writes our modules' DEBUG log to PATH (appending).
* The window always keeps a log in the cache folder, :func:`log_path` (shown in Help > About),
  rotated at 1 MB so it never grows without bound.

Qt-free, and importing it configures nothing: :func:`configure` is called once by ``main.py``.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

__all__ = ["configure", "log_path", "OUR_LOGGERS", "ENV_LOG"]

ENV_LOG = "RNNSCOPE_LOG"  # kept for scripts that set it: a level name, e.g. DEBUG
OUR_LOGGERS = ("engine", "gui", "rnnscope")  # module loggers (__name__) and engine.backend's "rnnscope.*"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"
WINDOW_LOG_BYTES = 1 << 20
WINDOW_LOG_BACKUPS = 2


def log_path() -> Path:
    """The window's log file: ``<cache folder>/rnn-scope.log`` (the folder of the compile caches)."""
    from engine.backend import cache_dir

    return cache_dir() / "rnn-scope.log"


def _stderr_level(verbose: bool) -> int:
    if verbose:
        return logging.DEBUG
    name = os.environ.get(ENV_LOG, "").strip().upper()
    level = logging.getLevelName(name) if name else logging.WARNING
    return level if isinstance(level, int) else logging.WARNING


def configure(*, verbose: bool = False, log_file=None, window: bool = False) -> Path | None:
    """Install the handlers; returns the log file in use (None: stderr only). OSError if ``log_file`` fails."""
    stderr_level = _stderr_level(verbose)
    path = Path(log_file) if log_file else (log_path() if window else None)
    file_level = logging.DEBUG if log_file else logging.INFO
    to_file = _file_handler(path, rotate=not log_file, required=bool(log_file)) if path else None
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(stderr_level)
    console.setFormatter(logging.Formatter(STDERR_FORMAT))

    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_rnnscope", False):  # configured before (tests call this more than once)
            root.removeHandler(old)
            old.close()
    for handler in (console, to_file):
        if handler is not None:
            handler._rnnscope = True
            root.addHandler(handler)
    root.setLevel(logging.WARNING)
    ours = min(stderr_level, file_level) if to_file is not None else stderr_level
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(ours)
    if to_file is None:
        return None
    to_file.setLevel(file_level)
    return path


def _file_handler(path: Path, *, rotate: bool, required: bool) -> logging.Handler | None:
    """A file handler; the window's own log is best effort (None when the cache folder is read-only)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if rotate:
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=WINDOW_LOG_BYTES,
                                                           backupCount=WINDOW_LOG_BACKUPS, encoding="utf-8",
                                                           errors="backslashreplace")
        else:
            handler = logging.FileHandler(path, encoding="utf-8", errors="backslashreplace")
    except OSError:
        if required:
            raise
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler
