"""Qt-free facts about run folders for the Runs view: one table row per run, the config diff,
where window runs go, and the two edits the window makes to an ended run (name, note).

Rows are built from :class:`engine.run_reader.RunReader` (run.json + metrics.csv). A run that is
still being written is only read: its name and note change only once it has ended, because only a
run's own process writes its run.json (docs/RUN_FORMAT.md).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

from engine.run_folder import EVENTS, METRICS, RUN_JSON, atomic_write_text, json_text
from engine.run_reader import RunFolderError

COLUMNS = ("name", "dataset", "cell", "hidden sizes", "optimizer", "learning rate", "batch", "epochs",
           "best val loss", "val accuracy", "test accuracy", "duration", "status")


def default_runs_dir() -> Path:
    """``$XDG_DATA_HOME/rnn-scope/runs`` (``~/.local/share/rnn-scope/runs`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "rnn-scope" / "runs"


def new_run_folder(runs_dir, dataset_name: str) -> Path:
    """A new, empty folder in ``runs_dir`` for a new run, named by time and the dataset's name."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(dataset_name)) or "run"
    stem = f"{time.strftime('%Y-%m-%d_%H%M%S')}_{name}"
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        folder = Path(runs_dir) / (stem if n == 1 else f"{stem}-{n}")
        try:
            folder.mkdir()  # reserved now: the run that gets it is built later, on the worker thread
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(f"{runs_dir}: no free run folder name for {stem}; clean up the runs folder")


def folder_stamp(folder: Path) -> tuple:
    """What changes whenever a run folder is written: (mtime, size) of run.json, metrics.csv, events.jsonl."""
    stamp = []
    folder = os.fspath(folder)  # os.path, not pathlib: a listing stamps hundreds of folders
    for name in (RUN_JSON, METRICS, EVENTS):
        try:
            st = os.stat(os.path.join(folder, name))
            stamp.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


def _format_duration(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return ""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def summary_row(reader) -> dict:
    """{column: (text, sort_value)} of one run for the Runs table."""
    meta = reader.meta
    config = meta.get("config") or {}
    last = reader.last_row()
    best = (meta.get("best") or {}).get("val_loss")
    accuracy = last.get("val_accuracy")
    tested = (meta.get("test") or {}).get("accuracy")  # a test set scored (run.json), else the last periodic score
    tested = tested if tested is not None else last.get("test_accuracy")
    duration = last.get("wall_s")
    epoch = last.get("epoch", meta.get("epoch", 0)) or 0
    total = meta.get("epochs") or config.get("epochs") or epoch
    hidden = config.get("hidden_sizes") or ()
    lr = config.get("learning_rate")
    values = {
        "name": (reader.name, reader.name.lower()),
        "dataset": (str((meta.get("dataset") or {}).get("name", "")),) * 2,
        "cell": (str(config.get("cell", "")),) * 2,
        "hidden sizes": (",".join(str(h) for h in hidden), sum(hidden) if hidden else 0),
        "optimizer": (str(config.get("optimizer", "")),) * 2,
        "learning rate": ("" if lr is None else f"{lr:.3g}", lr if lr is not None else math.inf),
        "batch": (str(config.get("batch_size", "")), config.get("batch_size") or 0),
        "epochs": (f"{epoch} / {total}", epoch),
        "best val loss": ("" if best is None else f"{best:.4g}", best if best is not None else math.inf),
        "val accuracy": ("" if accuracy is None else f"{accuracy:.1%}", accuracy if accuracy is not None else -1.0),
        "test accuracy": ("" if tested is None else f"{tested:.1%}", tested if tested is not None else -1.0),
        "duration": (_format_duration(duration), duration if duration is not None else 0.0),
        "status": (str(reader.status), str(reader.status)),
    }
    return {column: values[column] for column in COLUMNS}


def config_diff(readers) -> list[tuple[str, list]]:
    """The settings that differ between these runs: [(key, [value per run]), ...], sorted by key."""
    configs = [dict(r.meta.get("config") or {}) for r in readers]
    keys = sorted(set().union(*configs)) if configs else []
    missing = object()
    out = []
    for key in keys:
        values = [c.get(key, missing) for c in configs]
        if any(v != values[0] for v in values[1:]):
            out.append((key, ["–" if v is missing else v for v in values]))
    return out


def is_being_written(reader) -> bool:
    """True while the run's own process may still write its folder (then the window only reads it)."""
    return reader.status.is_active


def _edit_meta(reader, **fields) -> None:
    if is_being_written(reader):
        raise RuntimeError(f"{reader.folder}: the run is still {reader.status} (its process writes {RUN_JSON}); "
                           f"rename it or add a note once it has ended")
    path = reader.folder / RUN_JSON
    with open(path, encoding="utf-8") as fh:
        meta = json.load(fh)
    meta.update(fields)
    atomic_write_text(path, json_text(meta))
    reader.poll()


def rename_run(reader, name: str) -> None:
    name = " ".join(str(name).split())
    if not name:
        raise ValueError("a run's name cannot be empty")
    _edit_meta(reader, name=name)


def set_note(reader, note: str) -> None:
    _edit_meta(reader, note=str(note))


def delete_run(reader) -> None:
    """Remove the run's folder (the caller asks the user first); refused while it is being written."""
    if is_being_written(reader):
        raise RuntimeError(f"{reader.folder}: the run is still {reader.status}; stop it before deleting it")
    if not (reader.folder / RUN_JSON).exists():
        raise RunFolderError(f"{reader.folder}: no {RUN_JSON}; not deleting a folder that is not a run")
    shutil.rmtree(reader.folder)


__all__ = ["COLUMNS", "default_runs_dir", "new_run_folder", "folder_stamp", "summary_row", "config_diff",
           "rename_run", "set_note", "delete_run", "is_being_written"]
