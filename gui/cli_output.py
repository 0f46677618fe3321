"""What the command line prints and returns: the contract scripts rely on.

* Results go to stdout (the closing summary line, or with ``--json`` one JSON object and nothing
  else, ``{"status": "error", "exit_code": 2, "error": ...}`` when it fails); progress and messages
  go to stderr; ``--quiet`` silences progress, never errors.
* Exit codes: :data:`EXIT_OK` (finished), :data:`EXIT_USAGE` (bad input or settings: one line on
  stderr), :data:`EXIT_DIVERGED` (the run diverged: its last epoch has no finite validation loss;
  the files are written, the weights are not usable), :data:`EXIT_INTERRUPTED` (Ctrl+C; the epochs
  done are still written), and 1 only for a real bug (Python's own traceback).
* Nothing printed can raise: file names may hold bytes that are not valid in the terminal's
  encoding (a Latin-1 name under ``PYTHONIOENCODING=utf-8:strict``), so text is escaped with
  ``backslashreplace`` for the stream it goes to.

Qt-free: headless mode imports this before it knows whether Qt can be loaded.
"""

from __future__ import annotations

import json
import math
import sys

__all__ = ["EXIT_OK", "EXIT_BUG", "EXIT_USAGE", "EXIT_DIVERGED", "EXIT_INTERRUPTED", "PROG", "UsageError", "Console",
           "printable", "one_line", "write_line", "json_number"]

EXIT_OK = 0
EXIT_BUG = 1  # only for an exception nobody expected: Python prints the traceback
EXIT_USAGE = 2  # the input or a setting is bad; the one line on stderr says what to change
EXIT_DIVERGED = 3  # trained to the end but diverged: no finite validation loss at the end (results written)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl+C
PROG = "rnn-scope"


class UsageError(Exception):
    """Bad input or settings: reported as one line on stderr, exit code 2."""


def one_line(message) -> str:
    return " ".join(str(message).split())


def printable(text: str, stream) -> str:
    """``text`` with every character the stream cannot encode escaped (``\\udcff``, ``\\xe9``)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        try:
            return text.encode(encoding, "backslashreplace").decode(encoding, "replace")
        except LookupError:
            return text.encode("ascii", "backslashreplace").decode("ascii")


def write_line(stream, text: str) -> None:
    stream.write(printable(text, stream) + "\n")
    stream.flush()


def json_number(value):
    """A float for JSON, or None for missing and non-finite values (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Console:
    """stdout for results, stderr for progress and errors; ``quiet`` and ``as_json`` as the flags say.

    ``stdout``/``stderr`` default to the process's streams at call time (pytest's capsys swaps them).
    """

    def __init__(self, *, quiet: bool = False, as_json: bool = False, stdout=None, stderr=None):
        self.quiet = quiet
        self.as_json = as_json
        self._stdout = stdout
        self._stderr = stderr

    @classmethod
    def from_args(cls, args) -> "Console":
        return cls(quiet=bool(getattr(args, "quiet", False)), as_json=bool(getattr(args, "json", False)))

    @property
    def stdout(self):
        return self._stdout if self._stdout is not None else sys.stdout

    @property
    def stderr(self):
        return self._stderr if self._stderr is not None else sys.stderr

    def progress(self, text: str) -> None:
        """A progress note (stderr), silenced by ``--quiet``."""
        if not self.quiet:
            write_line(self.stderr, text)

    def warning(self, text: str) -> None:
        """Something the user must know even with ``--quiet`` (stderr, one line)."""
        write_line(self.stderr, f"{PROG}: warning: {one_line(text)}")

    def fail(self, message) -> int:
        """Print the one-line error (and with ``--json`` the error object on stdout); :data:`EXIT_USAGE`."""
        write_line(self.stderr, f"{PROG}: error: {one_line(message)}")
        if self.as_json:  # a script that parses stdout always gets one JSON object
            self._json({"status": "error", "exit_code": EXIT_USAGE, "error": one_line(message)})
        return EXIT_USAGE

    def _json(self, obj: dict) -> None:
        # ensure_ascii: undecodable file-name bytes become \\udcXX escapes, valid in any encoding
        self.stdout.write(json.dumps(obj, ensure_ascii=True, allow_nan=False) + "\n")
        self.stdout.flush()

    def result(self, text: str, summary: dict) -> None:
        """The closing result: ``text`` on stdout, or ``summary`` as one JSON object with ``--json``."""
        if self.as_json:
            self._json(summary)
        else:
            write_line(self.stdout, text)
