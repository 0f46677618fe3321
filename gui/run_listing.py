"""Which run folders the Runs dock lists, read a bounded amount at a time (Qt-free).

A returning user has hundreds of run folders, and opening one costs ~1-2 ms of the GUI thread
(run.json, the end of metrics.csv, events.jsonl). Reading all of them when the window opened, and
stamping all of them again each time the window's own run changed state, held the GIL for ~1 s
while the worker compiled the first model (py-spy of a launch with 527 folders), so the first loss
point came later. So the listing is read a few folders per turn of the event loop (``read_some``),
and a folder that changed is read alone (``read``); the directory itself is listed again only when
its modification time changed (a folder appeared or went).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from engine.run_folder import RUN_JSON
from engine.run_reader import RunFolderError, open_run
from gui import run_summaries


class RunListing:
    """The runs in ``runs_dir`` plus folders opened by hand; each folder -> (stamp, reader) as last read."""

    def __init__(self, runs_dir):
        self.runs_dir = Path(runs_dir)
        self.opened: list[Path] = []  # folders opened by hand, outside runs_dir
        self._read: dict[Path, tuple] = {}  # folder -> (stamp, reader or None when it did not open)
        self._notes: dict[Path, str] = {}  # folder -> why it is not listed
        self._queue: dict[Path, None] = {}  # folders to read on the next turns, in order (newest name first)
        self._children: set[str] | None = None  # sub-folder names at the last scan; None: never listed
        self._dir_stamp = None
        self._bare: set[Path] = set()  # sub-folders without run.json (yet: a run reserves its folder first)

    @property
    def listed(self) -> bool:
        """True once ``runs_dir`` was listed (its folders may still be queued)."""
        return self._children is not None

    @property
    def pending(self) -> bool:
        return bool(self._queue)

    def key(self, folder) -> Path:
        """The one name a folder is known by: ``runs_dir / name`` inside the runs folder, else resolved."""
        folder = Path(folder)
        if folder.parent == self.runs_dir:
            return folder
        folder = folder.resolve()
        return self.runs_dir / folder.name if folder.parent == self.runs_dir.resolve() else folder

    def open_by_hand(self, folder) -> Path:
        """Keep a folder opened by hand listed (it may lie outside the runs folder); its key."""
        folder = self.key(folder)
        if folder.parent != self.runs_dir and folder not in self.opened:
            self.opened.append(folder)
        return folder

    def set_runs_dir(self, runs_dir) -> list[Path]:
        """Look at another runs folder (listed on the next ``scan``); the folders no longer listed."""
        gone = [f for f in self._read if f.parent == self.runs_dir and f not in self.opened]
        for folder in gone:
            self._forget(folder)
        self.runs_dir, self._children, self._dir_stamp = Path(runs_dir), None, None
        self._queue.clear()
        self._bare.clear()
        return gone

    def scan(self, *, again: bool = False) -> list[Path]:
        """List ``runs_dir`` (one directory read, no file opened): queue the sub-folders new since the
        last scan (``again``: every folder, to be stamped and read if changed); the folders gone."""
        try:
            stamp = self.runs_dir.stat().st_mtime_ns
            with os.scandir(self.runs_dir) as entries:
                names = {entry.name for entry in entries if entry.is_dir()}
        except OSError:  # no runs folder yet: nothing listed
            stamp, names = None, set()
        before = self._children or set()
        self._children, self._dir_stamp = names, stamp
        fresh = names if again else (names - before) | {f.name for f in self._bare}
        for name in sorted(fresh, reverse=True):  # newest name first: the top of the table fills first
            self._queue[self.runs_dir / name] = None
        if again:
            for folder in self.opened:
                self._queue[folder] = None
        gone = [f for f in list(self._read) + list(self._bare) if f.parent == self.runs_dir and f.name not in names]
        for folder in gone:
            self._forget(folder)
        return gone

    def scan_if_changed(self) -> list[Path]:
        """``scan`` when a folder appeared in or left ``runs_dir`` since the last one (one stat)."""
        if not self.listed:
            return []
        try:
            stamp = self.runs_dir.stat().st_mtime_ns
        except OSError:
            stamp = None
        if stamp == self._dir_stamp:
            for folder in self._bare:  # run.json is written inside the folder: its parent does not change
                self._queue[folder] = None
            return []
        return self.scan()

    def read_some(self, budget_s: float) -> list[Path]:
        """Read queued folders for about ``budget_s`` of wall time (one at least); the folders whose
        row changed (read anew, or no longer listed)."""
        changed = []
        deadline = time.perf_counter() + budget_s
        while self._queue:
            folder = next(iter(self._queue))
            if self.read(folder):
                changed.append(folder)
            if time.perf_counter() >= deadline:
                break
        return changed

    def read(self, folder) -> bool:
        """Read one folder again if it changed since it was last read (three stats when it did not);
        True if its row changes (a new reader, or no longer listed: gone, not a run, damaged)."""
        folder = self.key(folder)
        self._queue.pop(folder, None)
        stamp = run_summaries.folder_stamp(folder)
        last = self._read.get(folder)
        if last is not None and last[0] == stamp:
            return False
        had_row = last is not None and last[1] is not None
        if not folder.is_dir():
            self._forget(folder)
            return had_row
        if folder.parent == self.runs_dir and stamp[0] is None:  # no run.json: not a run (yet)
            self._forget(folder)
            self._bare.add(folder)
            return had_row
        self._bare.discard(folder)
        try:
            reader = open_run(folder, lazy=True)  # the table needs run.json and the last row
        except (RunFolderError, OSError) as exc:
            self._read[folder] = (stamp, None)
            self._notes[folder] = f"skipped {folder}: {exc}"
            return had_row
        self._read[folder] = (stamp, reader)
        self._notes.pop(folder, None)
        return True

    def _forget(self, folder: Path) -> None:
        self._read.pop(folder, None)
        self._notes.pop(folder, None)
        self._bare.discard(folder)
        self._queue.pop(folder, None)
        if folder in self.opened:
            self.opened.remove(folder)

    def reader(self, folder):
        """The folder's reader, or None if it is not listed."""
        last = self._read.get(folder)
        return None if last is None else last[1]

    def note(self, folder) -> str | None:
        return self._notes.get(folder)

    def readers(self) -> list:
        """Every listed run: the runs folder's newest name first, then the folders opened by hand."""
        inside = sorted((f for f in self._read if f.parent == self.runs_dir), key=lambda f: f.name, reverse=True)
        outside = [f for f in self.opened if f.parent != self.runs_dir]
        return [r for r in (self.reader(f) for f in inside + outside) if r is not None]

    def notes(self) -> list[str]:
        return list(self._notes.values())


__all__ = ["RunListing"]
