"""The run folder, writer side: the files one run writes while it trains (docs/RUN_FORMAT.md).

Only the run's own process writes these files; any other process (a window following the run,
another machine over a shared folder) only reads them and appends commands to ``control.jsonl``.
Everything is append-only or replaced atomically, so a reader never sees a half-written file
except a last line still being written, which readers ignore until its newline arrives:

* ``run.json``: replaced atomically (temp file in the folder, fsync, rename);
* ``metrics.csv`` and ``events.jsonl``: appended, one line per epoch / event, flushed each time;
* ``checkpoint.npz``/``best.npz``: written by engine.checkpoint (temp file + fsync + rename);
* ``snapshots/epoch_NNNNNNN.npz``: written to a temp name and renamed; old ones outside the kept
  set (log-spaced epochs plus the most recent ones) are deleted, never rewritten.

The history writer (:func:`metrics_columns`, :func:`metrics_row`, :func:`write_metrics_csv`) is
the one for every producer of loss history: the run folder, headless mode and the window's export.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import numpy as np

from engine.atomic import write_file_atomically, write_text_atomically

FORMAT = "rnn-scope-run"
VERSION = 1  # of the folder layout and run.json; readers open any version <= theirs

RUN_JSON = "run.json"
METRICS = "metrics.csv"
EVENTS = "events.jsonl"
CONTROL = "control.jsonl"
CHECKPOINT = "checkpoint.npz"
BEST = "best.npz"
SNAPSHOTS = "snapshots"
INSIGHTS = "insights"

EVENT_KINDS = ("start", "resume_run", "set", "pause", "resume", "step", "stop", "divergence", "rollback",
               "checkpoint", "fork", "rejected", "finish", "fail")
BASE_COLUMNS = ("epoch", "wall_s", "train_loss", "val_loss", "val_accuracy", "learning_rate", "clip_norm",
                "momentum")
TEST_COLUMNS = ("test_loss", "test_accuracy")  # only when the history carries a test set's results

SNAPSHOT_KEEP_LAST = 50  # the most recent epochs always have a snapshot (the scrubber's near past)
SNAPSHOT_BUDGET_BYTES = 8 << 20  # the kept snapshots of one run stay within about this size


# --------------------------------------------------------------------------- the history writer
def metrics_columns(layers, *, test: bool = False) -> list[str]:
    """``metrics.csv`` columns for a model whose norms are reported for ``layers`` ("layer1", ..., "head")."""
    layers = list(layers)
    return [*BASE_COLUMNS, *[f"grad_norm_{name}" for name in layers], *[f"weight_norm_{name}" for name in layers],
            *(TEST_COLUMNS if test else ())]


def history_layers(history) -> list[str]:
    """The layer names the norms of ``history`` (Trainer.history rows) are reported for, in order."""
    layers: list[str] = []
    for entry in history:
        for name in entry.get("grad_norms") or {}:
            if name not in layers:
                layers.append(name)
    return layers


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # round-trips exactly; nan and inf as "nan", "inf"
    return value


def metrics_row(entry: dict, wall_s: float, columns) -> list:
    """One ``metrics.csv`` row from one ``Trainer.history`` entry (``EpochReport.to_history()``)."""
    grads, weights = entry.get("grad_norms") or {}, entry.get("weight_norms") or {}
    values = {**entry, "wall_s": wall_s}
    row = []
    for column in columns:
        if column.startswith("grad_norm_"):
            value = grads.get(column[len("grad_norm_"):])
        elif column.startswith("weight_norm_"):
            value = weights.get(column[len("weight_norm_"):])
        else:
            value = values.get(column)
        row.append(_cell(value))
    return row


def wall_times(history) -> list[float]:
    """Wall seconds since the start of the run at the end of each entry (its own ``wall_s``, or the
    running sum of the epochs' ``seconds`` for a history that has none)."""
    out, total = [], 0.0
    for entry in history:
        total = float(entry["wall_s"]) if entry.get("wall_s") is not None else total + float(entry.get("seconds") or 0)
        out.append(total)
    return out


def metrics_text(*histories, extra=()) -> str:
    """Histories (one per run) as ``metrics.csv`` text: one header, one row per epoch. ``extra``
    names columns appended after the run folder's (e.g. the window's ``run`` and ``changes``),
    read from the entries as they are."""
    every = [entry for history in histories for entry in history]
    columns = metrics_columns(history_layers(every), test=any("test_loss" in e for e in every))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*columns, *extra])
    for history in histories:
        for entry, wall in zip(history, wall_times(history)):
            writer.writerow([*metrics_row(entry, wall, columns), *(_cell(entry.get(name)) for name in extra)])
    return buffer.getvalue()


def write_metrics_csv(path, *histories, extra=()) -> str:
    """Write histories as a metrics CSV (the run folder's columns, then ``extra``) atomically."""
    atomic_write_text(path, metrics_text(*histories, extra=extra))
    return os.fspath(path)


# --------------------------------------------------------------------------- atomic files
def atomic_write_text(path, text: str, *, fsync: bool = True) -> None:
    """Write ``text`` to a temp file next to ``path``, fsync, rename: a crash leaves old or new
    (engine.atomic, the one atomic writer)."""
    write_text_atomically(path, text, fsync=fsync)


def _unlink_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# --------------------------------------------------------------------------- snapshots
def snapshot_name(epoch: int) -> str:
    return f"epoch_{int(epoch):07d}.npz"


def is_log_epoch(epoch: int, per_doubling: int = 3) -> bool:
    """Epochs kept for good: 1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, ... (3 per doubling), or
    1, 2, 4, 8, ... (1 per doubling) for a probe too big for the denser set."""
    return epoch >= 1 and epoch in _log_epochs(epoch, per_doubling)


def _log_epochs(limit: int, per_doubling: int = 3) -> set:
    out, k = set(), 0
    while True:
        value = int(round(2 ** (k / per_doubling)))
        if value > limit:
            return out
        out.add(value)
        k += 1


UNKNOWN_CHAR = -1  # ``text`` code of a vocabulary entry that is not one character (``<unk>``)


def text_codes(text) -> np.ndarray:
    """The probe's characters as int32 code points, one per step (4 bytes a step, whatever the
    vocabulary's entries look like); ``<unk>`` and any other multi-character entry -> UNKNOWN_CHAR."""
    return np.asarray([ord(ch) if len(ch) == 1 else UNKNOWN_CHAR for ch in text], dtype=np.int32)


def snapshot_arrays(hidden, gates, probe_index: int, text=None) -> dict:
    """One epoch's probe as npz arrays: ``h{l}`` and ``{gate}{l}`` (1-based layers), float16,
    and for text data ``text`` (:func:`text_codes` of ``EpochReport.probe_text``)."""
    arrays = {"probe_index": np.asarray(probe_index, dtype=np.int64)}
    if text is not None:
        arrays["text"] = text_codes(text)
    for layer, h in enumerate(hidden or [], start=1):
        arrays[f"h{layer}"] = np.asarray(h, dtype=np.float16)
    for layer, layer_gates in enumerate(gates or [], start=1):
        for name, g in (layer_gates or {}).items():
            arrays[f"{name}{layer}"] = np.asarray(g, dtype=np.float16)
    return arrays


class SnapshotStore:
    """``snapshots/``: the probe's hidden states and gates for a bounded set of epochs (or, with
    ``subfolder=INSIGHTS``, engine.insights' arrays: the same files and the same thinning)."""

    def __init__(self, folder: Path, *, keep_last: int = SNAPSHOT_KEEP_LAST, budget: int = SNAPSHOT_BUDGET_BYTES,
                 subfolder: str = SNAPSHOTS):
        self.folder = Path(folder) / subfolder
        self.keep_last = keep_last
        self.budget = budget
        self._recent: list[int] = sorted(self._existing())

    def _existing(self):
        if not self.folder.is_dir():
            return []
        out = []
        for path in self.folder.glob("epoch_*.npz"):
            try:
                out.append(int(path.stem[len("epoch_"):]))
            except ValueError:
                continue
        return out

    def add(self, epoch: int, hidden, gates, probe_index: int, text=None) -> None:
        self.add_arrays(epoch, snapshot_arrays(hidden, gates, probe_index, text))

    def add_arrays(self, epoch: int, arrays: dict) -> None:
        """Write ``arrays`` as epoch ``epoch``'s file (temp name, rename), then thin the kept set."""
        self.folder.mkdir(exist_ok=True)
        path = self.folder / snapshot_name(epoch)
        # not fsynced: one per epoch, and a snapshot lost in a crash only thins the scrubber
        try:
            write_file_atomically(path, lambda fh: np.savez(fh, **arrays), fsync=False)
        except OSError as exc:  # name the file (a full disk's write error names none)
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        size = max(sum(a.nbytes for a in arrays.values()), 1)
        self._recent = sorted(set(self._recent) | {epoch})
        # The log-spaced epochs of a long run number ~3 per doubling (~60 for a million epochs);
        # a big probe keeps 1 per doubling, and fewer recent ones, to stay near the budget.
        per_doubling = 3 if size * len(_log_epochs(max(epoch, 1000))) <= self.budget // 2 else 1
        permanent = len(_log_epochs(epoch, per_doubling))
        keep_last = int(min(self.keep_last, max(self.budget // size - permanent, 5)))
        self._prune(keep_last, per_doubling)

    def _prune(self, keep_last: int, per_doubling: int) -> None:
        recent = set(self._recent[-keep_last:])
        dropped = [e for e in self._recent if e not in recent and not is_log_epoch(e, per_doubling)]
        for epoch in dropped:
            _unlink_quietly(self.folder / snapshot_name(epoch))
        self._recent = [e for e in self._recent if e not in set(dropped)]


# --------------------------------------------------------------------------- appending logs
class AppendLog:
    """A text file that only grows by whole lines, flushed after each (metrics.csv, events.jsonl)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fh = None

    def _open(self):
        if self._fh is None:
            self._terminate_partial_line()
            self._fh = open(self.path, "a", encoding="utf-8", newline="")
        return self._fh

    def _terminate_partial_line(self) -> None:
        # A writer killed mid-line left no newline; start on a fresh line so the partial one stays
        # the only damaged line (readers skip it and report it).
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size:
            with open(self.path, "rb") as fh:
                fh.seek(size - 1)
                last = fh.read(1)
            if last != b"\n":
                with open(self.path, "ab") as fh:
                    fh.write(b"\n")

    def write_line(self, text: str) -> None:
        fh = self._open()
        fh.write(text + "\n")
        fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            finally:
                self._fh = None


# --------------------------------------------------------------------------- control.jsonl
CONTROL_COMMANDS = ("set", "pause", "resume", "step", "stop")
MAX_CONTROL_LINE = 64 << 10  # a longer line is rejected without being held in memory


def append_command(folder, command: str, **fields) -> None:
    """Append one command to a run folder's ``control.jsonl`` (what another process does to steer
    the run): ``append_command(folder, "set", name="learning_rate", value=5e-4)``, ``"pause"``,
    ``"resume"``, ``"step"`` (one epoch, then paused), ``"stop"``. One ``write`` in append mode, so lines of several writers never mix."""
    line = (json.dumps({"command": command, **fields}, default=_json_default) + "\n").encode("utf-8")
    fd = os.open(Path(folder) / CONTROL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def parse_command(text: str, live_settings) -> dict:
    """One control line -> a command dict; ValueError saying what is wrong with it."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    command = record.get("command")
    if command not in CONTROL_COMMANDS:
        raise ValueError(f"unknown command {command!r}; commands are {', '.join(CONTROL_COMMANDS)}")
    if command == "set":
        if record.get("name") not in live_settings:
            raise ValueError(f"cannot set {record.get('name')!r}; settable are {', '.join(live_settings)}")
        if "value" not in record:
            raise ValueError(f"set {record['name']} needs a \"value\"")
    return record


class ControlReader:
    """Reads the commands appended to ``control.jsonl`` since the last call, whole lines only."""

    def __init__(self, folder, offset: int = 0, line: int = 0):
        self.path = Path(folder) / CONTROL
        self.offset = offset  # bytes consumed so far (recorded in run.json, so a resume skips them)
        self.line = line  # lines consumed so far

    def read(self) -> list:
        """``[(line_number, text or None)]`` of the new complete lines; None for an oversized line."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size <= self.offset:
            return []
        out = []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            while True:
                raw = fh.readline(MAX_CONTROL_LINE + 1)
                text = raw.decode("utf-8", errors="replace").strip()
                if not raw.endswith(b"\n") and len(raw) > MAX_CONTROL_LINE:
                    text = None  # oversized: skip to its newline in bounded chunks
                    while raw and not raw.endswith(b"\n"):
                        raw = fh.readline(MAX_CONTROL_LINE)
                if not raw.endswith(b"\n"):
                    break  # still being written: read it next time
                self.offset = fh.tell()
                self.line += 1
                if text != "":
                    out.append((self.line, text))
        return out


def event_record(kind: str, epoch: int, wall_s: float, **fields) -> dict:
    """One events.jsonl object: ``{"epoch", "wall_s", "kind", ...fields}``."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; kinds are {', '.join(EVENT_KINDS)}")
    return {"epoch": int(epoch), "wall_s": round(float(wall_s), 3), "kind": kind, **fields}


def event_line(kind: str, epoch: int, wall_s: float, **fields) -> str:
    return json_line(event_record(kind, epoch, wall_s, **fields))


def json_line(record: dict) -> str:
    """One JSON object on one line (numpy scalars and paths as plain values)."""
    return json.dumps(record, allow_nan=True, default=_json_default)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_text(obj) -> str:
    return json.dumps(obj, indent=2, allow_nan=True, default=_json_default) + "\n"
