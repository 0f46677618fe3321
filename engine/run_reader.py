"""The run folder, reader side: open a folder another process may still be writing, and follow it.

``open_run(folder)`` reads everything there is; ``RunReader.poll()`` then returns only what was
appended since the last call (new epochs, new events, whether run.json changed), reading just the
new bytes, so a window can follow a run at a few polls per second. A reader never writes to the
folder (steering goes through ``engine.run_folder.append_command``).

What it tolerates, and what it refuses (docs/RUN_FORMAT.md):

* a last line without its newline (the writer is mid-line, or was killed there): left for the next
  poll; a damaged complete line (a killed writer's partial line, terminated by a later resume) is
  skipped and named in ``notes`` with its file and line;
* missing files (a run that has not finished its first epoch has no metrics yet) and missing
  run.json keys (older format versions);
* a foreign folder (no run.json and no metrics.csv, a run.json that is not an RNN Scope run, a
  metrics.csv with other columns) or a newer format version: :class:`RunFolderError` naming the
  file and the line.
"""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import zipfile
from pathlib import Path

import numpy as np

from engine.limits import MAX_CLASS_NAME_CHARS, MAX_STORED_CLASS_NAMES
from engine.names import GATE_NAMES, RunState
from engine.run_folder import (BASE_COLUMNS, BEST, CHECKPOINT, EVENTS, FORMAT, INSIGHTS, METRICS, RUN_JSON,
                               SNAPSHOTS, UNKNOWN_CHAR, VERSION, snapshot_name)

MAX_LINE = 1 << 20  # longer lines are damaged (a metrics row is a few hundred bytes)
TAIL_BYTES = 1 << 16  # a lazy reader finds the last metrics row in this much of the file's end
SPEED_GAPS = 5  # a followed run's speed: the median wall-clock gap of this many last epochs
# How a setting change is labelled on a loss curve (the window's own changes, followed and overlaid runs alike).
MARKER_LABELS = {"learning_rate": "lr", "clip_norm": "clip", "momentum": "momentum", "epochs": "epochs"}
MARKED_EVENTS = ("set", "pause", "resume", "stop", "divergence", "fork", "resume_run")  # a labelled line each


class RunFolderError(ValueError):
    """A folder that is not a readable run folder; the message names the file, the line and the fix."""


class SnapshotGone(RunFolderError):
    """A listed snapshot (or insight) file that is no longer there: a live writer thinned it away
    (or replaced the folder) between the listing and the read. Not damage: a follower skips it."""


class RunUpdate:
    """What one ``poll()`` found: ``epochs`` (new metrics rows), ``events``, ``meta_changed``, ``notes``."""

    def __init__(self, epochs, events, meta_changed: bool, notes):
        self.epochs, self.events, self.meta_changed, self.notes = epochs, events, meta_changed, notes

    def __bool__(self) -> bool:
        return bool(self.epochs or self.events or self.meta_changed)

    def __repr__(self) -> str:
        return (f"RunUpdate({len(self.epochs)} epochs, {len(self.events)} events, "
                f"meta_changed={self.meta_changed})")


def _marker_value(value) -> str:
    if value is None or value == 0:
        return "off"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def setting_text(name: str, value) -> str:
    """'lr 0.003': a setting's value as a marker names it."""
    return f"{MARKER_LABELS.get(name, name)} {_marker_value(value)}"


def change_text(name: str, old, new) -> str:
    """'lr 0.01 → 0.002', 'clip 5 → off': a setting change as a curve marker says it."""
    return f"{MARKER_LABELS.get(name, name)} {_marker_value(old)} → {_marker_value(new)}"


def marker_text(event: dict) -> str | None:
    """The label of an events.jsonl event on a loss curve; None for events drawn without a line."""
    kind = event.get("kind")
    if kind not in MARKED_EVENTS:
        return None
    if kind == "set":
        if event.get("name") not in MARKER_LABELS:
            return None
        text = change_text(event.get("name"), event.get("old"), event.get("new"))
        return text + (" (control)" if event.get("source") == "control" else "")
    if kind == "fork":
        return f"fork ({event.get('checkpoint', 'latest')} checkpoint)"
    if kind == "resume_run":
        return "resumed"
    return {"divergence": "diverged"}.get(kind, kind)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError, OverflowError) as exc:
        return isinstance(exc, PermissionError)  # exists, owned by someone else
    return True


class _Lines:
    """Whole lines appended to one file since the last read (byte offset kept)."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.line = 0

    def read(self) -> list:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self.offset:  # replaced by a shorter file (not something a run does): start over
            self.offset = self.line = 0
        out = []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            while True:
                raw = fh.readline(MAX_LINE + 1)
                if not raw.endswith(b"\n"):
                    if len(raw) <= MAX_LINE:
                        break  # still being written
                    while raw and not raw.endswith(b"\n"):
                        raw = fh.readline(MAX_LINE)
                    if not raw:
                        break
                    raw = b"\x00"  # oversized: reported as damaged
                self.offset = fh.tell()
                self.line += 1
                out.append((self.line, raw.decode("utf-8", errors="replace").rstrip("\r\n")))
        return out


class RunReader:
    """One run folder as data: ``meta`` (run.json), ``status``, ``epochs`` (metrics rows as
    Trainer.history-style dicts), ``events``, ``notes``, snapshots and checkpoint paths."""

    def __init__(self, folder, *, lazy: bool = False):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise RunFolderError(f"{self.folder}: no such folder; open a run folder (one with a {RUN_JSON})")
        self.meta: dict = {}
        self.notes: list[str] = []
        self.columns: list[str] | None = None
        self._epochs: list[dict] = []  # one per epoch; a later row for the same epoch replaces it
        self._loaded = not lazy  # lazy: metrics.csv is read on first use of ``epochs`` (a Runs table of
        self._curves: dict = {}  # many runs needs run.json and the last row only); column -> (n, arrays)
        self._last: dict = {}  # the last row read
        self.events: list[dict] = []
        self._metrics = _Lines(self.folder / METRICS)
        self._events = _Lines(self.folder / EVENTS)
        self._meta_stamp = None
        self._index: dict[int, int] = {}
        if not (self.folder / RUN_JSON).exists() and not (self.folder / METRICS).exists():
            raise RunFolderError(f"{self.folder}: not an RNN Scope run folder (it has no {RUN_JSON} and no "
                                 f"{METRICS}); open the folder a run wrote, e.g. the --out folder of a headless run")
        if lazy:
            self._read_header()
        self.poll()

    @property
    def epochs(self) -> list:
        """Trainer.history-style dicts, one per epoch (a lazy reader reads metrics.csv now)."""
        if not self._loaded:
            self._loaded = True
            self._read_metrics()
        return self._epochs

    # ------------------------------------------------------------------ reading
    def poll(self) -> RunUpdate:
        """Read what was appended since the last call; returns only the new part."""
        meta_changed = self._read_meta()
        notes_before = len(self.notes)
        epochs = self._read_metrics() if self._loaded else []
        events = self._read_events()
        return RunUpdate(epochs, events, meta_changed, self.notes[notes_before:])

    def _read_meta(self) -> bool:
        path = self.folder / RUN_JSON
        try:
            stat = path.stat()
        except FileNotFoundError:
            if self._meta_stamp is None:
                self._meta_stamp = "missing"
                self.notes.append(f"{path}: missing; the run's settings are unknown (curves only)")
            return False
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp == self._meta_stamp:
            return False
        self._meta_stamp = stamp
        self.meta = self._parse_meta(path)
        return True

    @staticmethod
    def _parse_meta(path: Path) -> dict:
        if path.stat().st_size > MAX_LINE * 16:
            raise RunFolderError(f"{path}: {path.stat().st_size:,} bytes is far too large for a run.json; "
                                 f"this is not a run folder")
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg}); the file is damaged "
                                 f"or not written by RNN Scope") from None
        except UnicodeDecodeError:
            raise RunFolderError(f"{path}: not UTF-8 text; not written by RNN Scope") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise RunFolderError(f"{path} line 1: not an RNN Scope run (\"format\" is not {FORMAT!r})")
        version = meta.get("version")
        if not isinstance(version, int) or version < 0:
            raise RunFolderError(f"{path}: \"version\" must be a non-negative integer, got {version!r}")
        if version > VERSION:
            raise RunFolderError(f"{path}: written by a newer RNN Scope (run format {version}; this one reads "
                                 f"up to {VERSION}); update RNN Scope to open it")
        return meta

    def _read_metrics(self) -> list:
        new = []
        for number, text in self._metrics.read():
            if number == 1:
                self.columns = self._parse_header(number, text)
                continue
            row = self._parse_row(number, text)
            if row is None:
                continue
            epoch = row["epoch"]
            if epoch in self._index:  # resumed from an older checkpoint: the later row wins
                self._epochs[self._index[epoch]] = row
            else:
                self._index[epoch] = len(self._epochs)
                self._epochs.append(row)
            new.append(row)
        if new:
            self._curves.clear()
            self._last = new[-1]
        return new

    def _read_header(self) -> None:
        """A lazy reader still refuses a foreign metrics.csv at once (its header is checked)."""
        try:
            with open(self.folder / METRICS, "rb") as fh:
                raw = fh.readline(MAX_LINE)
        except FileNotFoundError:
            return
        if raw.endswith(b"\n"):
            self.columns = self._parse_header(1, raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    def _column_arrays(self, column: str) -> tuple:
        """(epochs, values) of one column straight from metrics.csv (numbers only: no quoting), with
        the readers' rules: complete lines, damaged ones skipped, a later row for an epoch wins.
        The losses come along in the same pass (a compared run asks for both)."""
        try:
            with open(self.folder / METRICS, "rb") as fh:
                lines = fh.read().split(b"\n")[1:-1]  # after the header; the last piece is partial or empty
        except FileNotFoundError:
            lines = []
        names = list(dict.fromkeys([column, *(n for n in ("train_loss", "val_loss") if n in self.columns)]))
        width, at = len(self.columns), [self.columns.index(n) for n in names]
        by_epoch: dict = {}
        for raw in lines:
            fields = raw.rstrip(b"\r").split(b",")
            if len(fields) != width:
                continue
            try:
                by_epoch[float(fields[0])] = [float(fields[i]) if fields[i] else np.nan for i in at]
            except ValueError:
                continue
        table = np.array(list(by_epoch.values()), dtype=float).reshape(len(by_epoch), len(names))
        epochs = np.fromiter(by_epoch.keys(), dtype=float, count=len(by_epoch))
        for index, name in enumerate(names):
            self._curves[name] = (None, None, (epochs, table[:, index].copy()))
        return self._curves[column][2]

    def last_row(self) -> dict:
        """The last row written ({} before the first; after a resume from an older checkpoint it is
        not the highest epoch): a lazy reader reads only the end of metrics.csv."""
        if self._loaded:
            return self._last
        path = self.folder / METRICS
        try:
            with open(path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - TAIL_BYTES))
                pieces = fh.read().split(b"\n")[:-1]  # complete lines only
        except FileNotFoundError:
            return {}
        if size > TAIL_BYTES:
            pieces = pieces[1:]  # the first piece may be the end of a longer line
        for raw in reversed(pieces):
            fields = next(csv.reader([raw.decode("utf-8", errors="replace").rstrip("\r")]), [])
            if self.columns is None or len(fields) != len(self.columns) or fields == self.columns:
                continue
            try:
                entry = self._history_entry([None if f == "" else float(f) for f in fields])
            except ValueError:
                continue
            return entry
        return {}

    def _parse_header(self, number: int, text: str) -> list:
        columns = next(csv.reader([text]), [])
        if tuple(columns[:len(BASE_COLUMNS)]) != BASE_COLUMNS:
            raise RunFolderError(f"{self._metrics.path} line {number}: the columns are not an RNN Scope run's "
                                 f"(expected {', '.join(BASE_COLUMNS)}, ...); this is not a run folder")
        return columns

    def _parse_row(self, number: int, text: str):
        fields = next(csv.reader([text]), [])
        problem = None
        if len(fields) != len(self.columns):
            problem = f"{len(fields)} values where the header has {len(self.columns)}"
        else:
            try:
                values = [None if f == "" else float(f) for f in fields]
            except ValueError:
                problem = "a value that is not a number"
            else:
                if values[0] is None or values[0] != int(values[0]) or values[0] < 1:
                    problem = "an epoch that is not a positive integer"
        if problem:
            self.notes.append(f"{self._metrics.path} line {number}: damaged ({problem}); skipped")
            return None
        return self._history_entry(values)

    def _history_entry(self, values) -> dict:
        entry = {"grad_norms": {}, "weight_norms": {}}
        for column, value in zip(self.columns, values):
            if column.startswith("grad_norm_"):
                entry["grad_norms"][column[len("grad_norm_"):]] = value
            elif column.startswith("weight_norm_"):
                entry["weight_norms"][column[len("weight_norm_"):]] = value
            else:
                entry[column] = value
        entry["epoch"] = int(entry["epoch"])
        return entry

    def _read_events(self) -> list:
        new = []
        for number, text in self._events.read():
            if not text.strip():
                continue
            try:
                event = json.loads(text)
            except json.JSONDecodeError:
                event = None
            if not isinstance(event, dict) or "kind" not in event:
                self.notes.append(f"{self._events.path} line {number}: damaged (not an event object); skipped")
                continue
            self.events.append(event)
            new.append(event)
        return new

    # ------------------------------------------------------------------ derived views
    @property
    def status(self) -> RunState:
        """The run's state; ``interrupted`` when run.json says it is active but its writer, on this
        host, is gone (killed, crashed). A writer on another host is taken at its word."""
        try:
            state = RunState(self.meta.get("status", "interrupted"))
        except ValueError:
            return RunState.INTERRUPTED
        writer = self.meta.get("writer") or {}
        if state.is_active and writer.get("host") == socket.gethostname() and not _pid_alive(writer.get("pid")):
            return RunState.INTERRUPTED
        return state

    @property
    def name(self) -> str:
        return str(self.meta.get("name") or self.folder.name)

    @property
    def class_names(self) -> list[str]:
        """The classes' names from run.json's dataset section (the first few hundred, cut short;
        engine.limits); [] for a folder written before they were stored, or a damaged entry, so a
        reader then numbers the classes."""
        names = (self.meta.get("dataset") or {}).get("class_names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return []
        return [n[:MAX_CLASS_NAME_CHARS] for n in names[:MAX_STORED_CLASS_NAMES]]

    def sequences_per_second(self) -> float | None:
        """Training sequences per second of wall time, derived from what the folder has: run.json's
        ``n_train`` over metrics.csv's ``wall_s`` between consecutive epochs (the median of the last
        SPEED_GAPS gaps, so one pause or a resume's compile does not count). None without ``n_train``
        or two consecutive epochs. The gaps include validation and checkpoints, so it is a little
        below the writer's own figure (training steps only)."""
        n_train = (self.meta.get("dataset") or {}).get("n_train")
        if not isinstance(n_train, int) or isinstance(n_train, bool) or n_train <= 0:
            return None
        rows = self.epochs[-(SPEED_GAPS + 1):]
        gaps = [b["wall_s"] - a["wall_s"] for a, b in zip(rows, rows[1:])
                if b["epoch"] == a["epoch"] + 1 and _finite(a.get("wall_s")) and _finite(b.get("wall_s"))
                and b["wall_s"] > a["wall_s"]]
        return n_train / float(np.median(gaps)) if gaps else None

    def curve(self, column: str) -> tuple:
        """(epochs, values) float arrays of one metrics column ("val_loss", "grad_norm_layer1", ...);
        kept until the next epoch arrives (a Runs view asks again for every ticked run)."""
        cached = self._curves.get(column)
        if cached is not None:
            return cached[2]
        if not self._loaded and self.columns is not None and column in self.columns:
            return self._column_arrays(column)  # a lazy reader: the file's columns, no per-row dicts
        rows = self.epochs
        epochs = np.array([e["epoch"] for e in rows], dtype=float)
        if column.startswith(("grad_norm_", "weight_norm_")):
            kind, layer = column.split("_norm_", 1)
            values = [e[f"{kind}_norms"].get(layer) for e in rows]
        else:
            values = [e.get(column) for e in rows]
        out = epochs, np.array([np.nan if v is None else v for v in values], dtype=float)
        self._curves[column] = (len(rows), rows, out)  # cleared when metrics.csv grows
        return out

    def curve_ready(self, column: str) -> bool:
        """Whether ``curve(column)`` is at hand without reading metrics.csv (the Runs view reads one
        ticked run per frame)."""
        return column in self._curves

    def markers(self, events=None) -> list:
        """(epoch, text) for every setting change, pause, resume, stop, divergence and fork (of
        ``events``, default all), labelled by :func:`marker_text` as the window labels its own."""
        out = []
        for event in self.events if events is None else events:
            text = marker_text(event)
            if text is not None and isinstance(event.get("epoch"), (int, float)):
                out.append((event["epoch"], text))
        return out

    def checkpoint_epochs(self, events=None) -> list:
        """Epochs at which a checkpoint was written (small ticks on a curve, not labelled lines)."""
        return [e["epoch"] for e in (self.events if events is None else events)
                if e.get("kind") == "checkpoint" and isinstance(e.get("epoch"), (int, float))]

    @property
    def checkpoint_path(self) -> Path | None:
        path = self.folder / CHECKPOINT
        return path if path.exists() else None

    @property
    def best_path(self) -> Path | None:
        path = self.folder / BEST
        return path if path.exists() else None

    def snapshot_epochs(self, subfolder: str = SNAPSHOTS) -> list:
        folder = self.folder / subfolder
        if not folder.is_dir():
            return []
        out = []
        for path in folder.glob("epoch_*.npz"):
            stem = path.stem[len("epoch_"):]
            if stem.isdigit():
                out.append(int(stem))
        return sorted(out)

    def _snapshot_arrays(self, epoch: int, subfolder: str) -> dict:
        """All arrays of one file, read at once through one open handle (a rename or prune by the
        writer afterwards cannot tear it); a file gone since it was listed is SnapshotGone, a
        damaged one (truncated, not a zip, a bad member) a RunFolderError naming it."""
        path = self.folder / subfolder / snapshot_name(epoch)
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except FileNotFoundError:
            raise SnapshotGone(f"{path}: no snapshot of epoch {epoch}; kept epochs are "
                               f"{self.snapshot_epochs(subfolder)[:20]}...") from None
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise RunFolderError(f"{path}: damaged snapshot ({exc or type(exc).__name__})") from None

    def insight_epochs(self) -> list:
        """Epochs with an ``insights/`` file (none in folders written before it existed)."""
        return self.snapshot_epochs(INSIGHTS)

    def insight(self, epoch: int):
        """The engine.insights.Insight of one epoch (saliency, trajectories, U's eigenvalues)."""
        from engine.insights import Insight

        arrays = self._snapshot_arrays(epoch, INSIGHTS)
        try:
            return Insight.from_arrays(arrays)
        except (KeyError, ValueError) as exc:
            raise RunFolderError(f"{self.folder / INSIGHTS / snapshot_name(epoch)}: damaged insight "
                                 f"(missing {exc})") from None

    def insight_series(self):
        """engine.insights.InsightSeries (memory horizon, spectral radii over epochs) as of the
        newest insights/ file; empty when there is none."""
        from engine.insights import InsightSeries

        epochs = self.insight_epochs()
        return InsightSeries.from_arrays(self._snapshot_arrays(epochs[-1], INSIGHTS)) if epochs else InsightSeries()

    def snapshot_text(self, epoch: int) -> list | None:
        """The probe's characters of one epoch's snapshot (text data; ``<unk>`` as such), else None
        (numeric data, and snapshots written before they held the text)."""
        return self._text_of(self._snapshot_arrays(epoch, SNAPSHOTS))

    @staticmethod
    def _text_of(arrays: dict) -> list | None:
        if "text" not in arrays:
            return None
        return ["<unk>" if code == UNKNOWN_CHAR else chr(code) for code in arrays["text"].tolist()
                if code == UNKNOWN_CHAR or 0 <= code <= 0x10FFFF]

    def snapshot_with_text(self, epoch: int) -> tuple:
        """(hidden, gates, probe_index, text) from ONE read of the file: a follower reading the
        snapshot and its text in two reads could see the writer thin it away in between."""
        arrays = self._snapshot_arrays(epoch, SNAPSHOTS)
        return (*self._snapshot_of(arrays), self._text_of(arrays))

    def snapshot(self, epoch: int) -> tuple:
        """(hidden, gates, probe_index) of one epoch as float32, shaped like an EpochReport's."""
        return self._snapshot_of(self._snapshot_arrays(epoch, SNAPSHOTS))

    def _snapshot_of(self, arrays: dict) -> tuple:
        cell = (self.meta.get("config") or {}).get("cell", "elman")
        n_layers = sum(1 for k in arrays if k.startswith("h") and k[1:].isdigit())
        hidden = [arrays[f"h{layer}"].astype(np.float32) for layer in range(1, n_layers + 1)]
        gates = [{g: arrays[f"{g}{layer}"].astype(np.float32) for g in GATE_NAMES.get(cell, ()) if f"{g}{layer}" in arrays}
                 for layer in range(1, n_layers + 1)]
        return hidden, gates, int(arrays.get("probe_index", 0))


def open_run(folder, *, lazy: bool = False) -> RunReader:
    """Open a run folder for reading (see the module docstring for what it tolerates); ``lazy``
    leaves metrics.csv until ``epochs`` is first used (its header is still checked)."""
    return RunReader(folder, lazy=lazy)
