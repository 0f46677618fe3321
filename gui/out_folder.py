"""The headless output folder (``--out``): checked before training, written atomically.

* :meth:`OutFolder.prepare` runs before any epoch: the folder must be creatable and writable
  (tested by writing a probe file, because permission bits say nothing for root or read-only
  mounts), and must not already hold an earlier run's results unless ``--overwrite`` (or
  ``--resume``) says they may be replaced, so a stale ``hidden_layer2.png`` from a 2-layer run
  never looks like this run's.
* Every file goes to a temporary name in the same folder, is checked (all its bytes there),
  fsynced and renamed over the old one, then the folder is fsynced. A failure (full disk,
  folder gone read-only) raises :class:`OutputError` naming the file; the earlier file of that
  name stays as it was.
* :meth:`OutFolder.finish` removes an earlier run's plots this run did not draw (after success only).

Qt-free: the PNGs arrive as bytes encoded in memory (``gui.headless_plots``).
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Callable

__all__ = ["OutFolder", "OutputError", "OUR_FILES", "OUR_PATTERNS", "PLOT_FILES", "is_our_file"]

# What a headless run leaves in --out: the Run's folder (docs/RUN_FORMAT.md; engine.run_meta refuses
# and clears its own files) and our plots. Any of them means "an earlier run's results".
PLOT_FILES = ("loss.png",)
OUR_FILES = ("run.json", "metrics.csv", "steps.csv", "checkpoint.npz", "history.csv", *PLOT_FILES)
OUR_PATTERNS = ("hidden_layer*.png", "text_layer*.png")
TEMP_PREFIX = ".rnn-scope-"
TEMP_SUFFIX = ".tmp"
log = logging.getLogger(__name__)


class OutputError(OSError):
    """An output file could not be written completely; the message names it and the reason."""

    def __str__(self) -> str:  # the sentence only, without OSError's "[Errno 28]" prefix
        return self.strerror or super().__str__()


def is_our_file(path: Path) -> bool:
    return path.name in OUR_FILES or any(path.match(p) for p in OUR_PATTERNS)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


class OutFolder:
    def __init__(self, path, *, overwrite: bool = False, resume: bool = False):
        self.path = Path(path)
        self.overwrite = overwrite
        self.resume = resume
        self.written: list[Path] = []

    def earlier_outputs(self) -> list[Path]:
        """Files of ours already in the folder (from an earlier run), sorted by name."""
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.iterdir() if p.is_file() and is_our_file(p))

    def prepare(self) -> None:
        """Create the folder and prove it is writable before training; UsageError (with the fix) if not."""
        from gui.cli_output import UsageError

        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"the output folder {self.path} is a file; choose another --out")
        earlier = self.earlier_outputs()
        if earlier and not (self.overwrite or self.resume):
            names = ", ".join(p.name for p in earlier[:4]) + (", ..." if len(earlier) > 4 else "")
            raise UsageError(f"the output folder {self.path} already holds an earlier run's results ({names}); "
                             "pass --overwrite to replace them, or choose another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._probe()
        except OSError as exc:
            raise UsageError(f"the output folder {self.path} is not writable ({_reason(exc)}); "
                             "choose another --out") from None
        self._remove_stale_temps()

    def _probe(self) -> None:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX + "probe-", suffix=TEMP_SUFFIX, dir=self.path)
        try:
            os.write(fd, b"rnn-scope")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(tmp)

    def _remove_stale_temps(self) -> None:
        """Temp files of our naming left by a process that was killed mid-write."""
        for p in self.path.glob(TEMP_PREFIX + "*" + TEMP_SUFFIX + "*"):
            try:
                p.unlink()
            except OSError:
                pass

    def _temp_path(self, name: str) -> Path:
        # ".rnn-scope-loss.1f2e3d4c.tmp.png": hidden, ours, and still ending in the file's own
        # extension; created with mode 0666 so the user's umask applies as to any other file
        stem, ext = os.path.splitext(name)
        for _ in range(100):
            tmp = self.path / f"{TEMP_PREFIX}{stem}.{secrets.token_hex(4)}{TEMP_SUFFIX}{ext}"
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                continue
            return tmp
        raise FileExistsError(errno.EEXIST, f"no free temporary name in {self.path}")

    def write_bytes(self, name: str, data: bytes) -> Path:
        """Write ``data`` as ``name`` atomically; returns the final path."""
        def produce(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                f.write(data)

        def complete(tmp: Path) -> None:
            if tmp.stat().st_size != len(data):
                raise OutputError(errno.EIO, f"only {tmp.stat().st_size:,} of {len(data):,} bytes were written")

        return self.write_with(name, produce, complete)

    def write_with(self, name: str, produce: Callable[[Path], None],
                   check: Callable[[Path], None] | None = None) -> Path:
        """``produce(tmp)`` writes the file; then check, fsync, rename to ``name``, fsync the folder."""
        final = self.path / name
        tmp = None
        try:
            tmp = self._temp_path(name)
            produce(tmp)
            _fsync_file(tmp)
            if check is not None:
                check(tmp)
            os.replace(tmp, final)
            tmp = None
            _fsync_dir(self.path)
        except OSError as exc:
            raise OutputError(exc.errno, f"cannot write {final}: {_reason(exc)}") from None
        finally:
            if tmp is not None:
                try:
                    tmp.unlink()
                except OSError:
                    pass
        self.written.append(final)
        log.debug("wrote %s", final)
        return final

    def finish(self) -> list[Path]:
        """Remove an earlier run's plots this run did not draw (a 2-layer run's hidden_layer2.png);
        returns what was removed. The run folder's own files are the Run's to replace."""
        removed = []
        keep = {p.name for p in self.written}
        for p in self.earlier_outputs():
            if p.name not in keep and (p.name in PLOT_FILES or any(p.match(x) for x in OUR_PATTERNS)):
                try:
                    p.unlink()
                    removed.append(p)
                except OSError:
                    pass
        return removed


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders (Windows): the rename is what matters
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
