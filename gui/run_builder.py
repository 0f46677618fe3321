"""Qt-free: the engine.runs.Run a worker command asks for (a new run, one restored from a
checkpoint, or a fork of a run folder), built on the worker thread.

The worker owns when a run is built; this module owns how, so a new kind of run is one function
here and one queued command in the worker (gui/worker.py).
"""

from __future__ import annotations

from pathlib import Path

from engine.run_meta import fingerprint, read_meta
from engine.runs import Run


def build_run(kind: str, source, dataset, folder, trainer_factory=None) -> Run:
    """``kind`` "new_run" (source = TrainingConfig), "load_checkpoint" (source = (path or Checkpoint,
    weights_only)) or "fork" (source = (run folder, "latest" | "best", {live changes}))."""
    from engine.training import Trainer

    if kind == "new_run":
        trainer = trainer_factory(source, dataset) if trainer_factory is not None else Trainer(source, dataset)
    elif kind == "load_checkpoint":
        path, weights_only = source
        trainer = Trainer.load_checkpoint(path, dataset, weights_only=weights_only)
    elif kind == "fork":
        parent, checkpoint, changes = source
        return Run.fork(parent, folder, same_data(parent, dataset), checkpoint=checkpoint, **changes)
    else:
        raise ValueError(f"unknown kind of run {kind!r}")
    return Run.create(trainer, dataset, folder)


def same_data(folder, dataset):
    """``dataset`` if it is the data the run in ``folder`` trained on (same fingerprint), else None:
    then ``Run.fork`` reloads the files named in its run.json (and says so if they are gone)."""
    if dataset is None:
        return None
    recorded = (read_meta(Path(folder)).data.get("dataset") or {}).get("fingerprint")
    return dataset if recorded and fingerprint(dataset) == recorded else None


def loaded_payload(kind: str, source, run: Run) -> dict:
    """What the window hears about a run that starts with a history (sigRunLoaded)."""
    payload = {"config": run.config, "history": [dict(row) for row in run.history],
               "weights_only": bool(source[1]) if kind == "load_checkpoint" else False}
    if kind == "fork":
        parent = dict(run.meta.data.get("parent") or {}) if run.meta is not None else {}
        payload.update(parent=parent, dataset=run.trainer.dataset,
                       origin=f" (fork of {parent.get('name') or 'a run'} at epoch {parent.get('epoch')})")
    return payload
