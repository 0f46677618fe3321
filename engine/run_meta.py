"""run.json: what a run is (settings, data, versions, writer, status, best epoch, parent).

The best epoch is the Trainer's (``Trainer.best``, seeded from a restored history); run.json
only shows it.

:class:`RunMeta` holds the document as a plain dict (``data``) and rewrites it atomically; the
field list is in docs/RUN_FORMAT.md. Also here: the dataset's identity (paths, fingerprint, sizes),
so a resumed or forked run can refuse data that changed since the run started.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import platform
import shutil
import socket
from pathlib import Path

import numpy as np

from engine.limits import MAX_CLASS_NAME_CHARS, MAX_STORED_CLASS_NAMES
from engine.run_folder import (BEST, CHECKPOINT, CONTROL, EVENTS, FORMAT, INSIGHTS, METRICS, RUN_JSON, SNAPSHOTS,
                               VERSION, atomic_write_text, json_text, now_iso)

_RUN_FILES = (RUN_JSON, METRICS, EVENTS, CONTROL, CHECKPOINT, BEST)


def csv_line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


def _versions() -> dict:
    from importlib import metadata

    import engine

    out = {"python": platform.python_version(), "rnn_scope": engine.__version__}
    for name in ("pytensor", "jax", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def fingerprint(dataset) -> str:
    """sha256 of the dataset's files (streamed), or of its arrays when it has no files."""
    digest = hashlib.sha256()
    paths = [p for p in (getattr(dataset, "source_paths", None) or []) if os.path.isfile(p)]
    if paths:
        for path in paths:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
    else:
        for seq in dataset.sequences:
            digest.update(np.ascontiguousarray(seq).tobytes())
        if dataset.labels is not None:
            digest.update(np.ascontiguousarray(dataset.labels).tobytes())
    return "sha256:" + digest.hexdigest()


def stored_class_names(dataset) -> list[str]:
    """The class names run.json keeps (classification; else empty): bounded by engine.limits so a
    data set with thousands of long labels cannot bloat the file."""
    names = list(getattr(dataset, "class_names", None) or [])[:MAX_STORED_CLASS_NAMES]
    return [str(name)[:MAX_CLASS_NAME_CHARS] for name in names]


def dataset_info(dataset, split) -> dict:
    return {
        "name": getattr(dataset, "name", ""), "task": dataset.task, "format": getattr(dataset, "format", ""),
        "paths": [os.path.abspath(p) for p in (getattr(dataset, "source_paths", None) or [])],
        "fingerprint": fingerprint(dataset), "n_sequences": int(dataset.n_sequences),
        "n_features": int(dataset.n_features), "n_outputs": int(dataset.n_outputs),
        "n_train": len(split.train), "n_val": len(split.val), "class_names": stored_class_names(dataset),
        "frame": int(getattr(dataset, "frame", 1)),  # steps per frame (engine.data.framing): reloads frame alike
    }


class RunMeta:
    """The run.json document (``data``) plus the updates a run makes to it."""

    def __init__(self, data: dict):
        self.data = data

    @classmethod
    def new(cls, trainer, dataset) -> "RunMeta":
        config = trainer.config
        data = {
            "format": FORMAT, "version": VERSION,
            "name": f"{getattr(dataset, 'name', 'run')} · {config.cell} "
                    f"({','.join(str(h) for h in config.hidden_sizes)})",
            "status": "ready", "message": "", "started": now_iso(), "updated": now_iso(),
            "config": config.to_dict(), "seed": config.seed,
            "dataset": dataset_info(dataset, trainer.split),
            "versions": _versions(), "backend": config.backend, "backend_detail": None,
            "host": socket.gethostname(), "writer": None, "epoch": trainer.epoch, "epochs": config.epochs,
            "best": trainer.best.record(), "parent": None, "test": None,
            "control": {"offset": 0, "line": 0}, "note": "",
        }
        meta = cls(data)
        meta.writer_started(trainer)
        return meta

    def writer_started(self, trainer) -> None:
        """This process writes the folder from now on (readers use it to spot a dead writer)."""
        self.data["writer"] = {"host": socket.gethostname(), "pid": os.getpid(), "started": now_iso()}
        self.data["host"] = socket.gethostname()
        self.data.setdefault("versions", _versions())
        self.data["versions"] = _versions()

    def save(self, path: Path, state, message: str, trainer) -> None:
        self.data.update(status=str(state), message=message, updated=now_iso(), epoch=trainer.epoch,
                         epochs=trainer.config.epochs, config=trainer.config.to_dict(),
                         best=trainer.best.record())  # the Trainer owns the best epoch (a fork: seeded)
        if trainer.f_train is not None and not self.data.get("backend_detail"):
            from engine import backend

            self.data["backend_detail"] = backend.describe()
        atomic_write_text(path, json_text(self.data))


def read_meta(folder: Path) -> RunMeta:
    """The run.json of ``folder`` for a writer that takes the folder over (resume) or forks it."""
    from engine.run_reader import RunFolderError, RunReader

    path = Path(folder) / RUN_JSON
    if not path.exists():
        raise RunFolderError(f"{path}: missing; {folder} is not a run folder that can be resumed or forked")
    return RunMeta(RunReader._parse_meta(path))


def load_dataset_for(meta: RunMeta, dataset=None):
    """The dataset of a run: ``dataset`` if given, else reloaded from the paths in run.json; either
    way it must have the fingerprint recorded there (the same data), and it is framed as the run's
    data was (run.json "dataset" "frame"; a given dataset framed otherwise is reframed here)."""
    from engine.data.framing import reframe

    info = meta.data.get("dataset") or {}
    frame = int(info.get("frame") or 1)
    if dataset is not None and frame != getattr(dataset, "frame", 1):
        dataset = reframe(dataset, frame)  # e.g. --resume with the training file again, framed otherwise
    if dataset is None:
        from engine.data import load_sequences

        paths = info.get("paths") or []
        if not paths:
            raise ValueError("run.json names no data files (the run trained on data built in memory); "
                             "pass the dataset explicitly")
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            raise FileNotFoundError(f"{missing[0]}: the run's data file is gone; pass the data file(s) again")
        dataset = load_sequences(paths if len(paths) > 1 else paths[0], frame=frame)
    recorded = info.get("fingerprint")
    if recorded and fingerprint(dataset) != recorded:
        raise ValueError(f"the data ({', '.join(info.get('paths') or [dataset.name])}) changed since the run "
                         f"started (fingerprint differs from run.json); start a new run on the new data")
    return dataset


def check_new_folder(folder: Path, *, overwrite: bool) -> None:
    """A new run may not take over a folder that already holds a run, unless ``overwrite``."""
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder}: exists and is not a folder; choose another output folder")
    if not (folder / RUN_JSON).exists() and not (folder / METRICS).exists():
        return
    if not overwrite:
        raise FileExistsError(f"{folder} already holds a run; resume it (--resume {folder}), "
                              f"choose another folder, or overwrite it")
    for name in _RUN_FILES:
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass
    for sub in (SNAPSHOTS, INSIGHTS):
        shutil.rmtree(folder / sub, ignore_errors=True)


def check_not_being_written(folder: Path) -> None:
    """Only one process writes a run folder: refuse to take over one whose writer is alive here."""
    from engine.run_reader import RunReader, _pid_alive

    reader = RunReader(folder)
    writer = reader.meta.get("writer") or {}
    if (reader.status.is_active and writer.get("host") == socket.gethostname()
            and writer.get("pid") != os.getpid() and _pid_alive(writer.get("pid"))):
        raise FileExistsError(f"{folder} is still being trained by process {writer.get('pid')} on this machine; "
                              f"stop it first (append {{\"command\": \"stop\"}} to its control.jsonl), "
                              f"or follow it instead of resuming it")
