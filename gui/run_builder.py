"""Qt-free: the engine.runs.Run a worker command asks for (a new run, one restored from a
checkpoint, or a fork of a run folder), built on the worker thread; and the predictions of a run
folder opened from disk (``checkpoint_predictions``, a worker task).

The worker owns when a run is built; this module owns how, so a new kind of run is one function
here and one queued command in the worker (gui/worker.py).
"""

from __future__ import annotations

from pathlib import Path

from engine.run_meta import fingerprint, load_dataset_for, read_meta
from engine.runs import Run


def build_run(kind: str, source, dataset, folder, trainer_factory=None, **run_kwargs) -> Run:
    """``kind`` "new_run" (source = TrainingConfig), "load_checkpoint" (source = (path or Checkpoint,
    weights_only)) or "fork" (source = (run folder, "latest" | "best", {live changes})); ``run_kwargs``
    go to Run.create (e.g. test_columns)."""
    from engine.training import Trainer

    if kind == "new_run":
        trainer = trainer_factory(source, dataset) if trainer_factory is not None else Trainer(source, dataset)
    elif kind == "load_checkpoint":
        path, weights_only = source
        trainer = Trainer.load_checkpoint(path, dataset, weights_only=weights_only)
    elif kind == "fork":
        parent, checkpoint, changes = source
        return Run.fork(parent, folder, same_data(parent, dataset), checkpoint=checkpoint, run_kwargs=run_kwargs,
                        **changes)
    else:
        raise ValueError(f"unknown kind of run {kind!r}")
    return Run.create(trainer, dataset, folder, **run_kwargs)


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


def checkpoint_predictions(folder, dataset=None, sample_length: int = 300) -> dict:
    """What the Predictions panel shows for a run folder opened from disk, from its best.npz (else
    checkpoint.npz); runs on the worker thread (it compiles the prediction function).

    Returns {"task", "class_names", "checkpoint", "kind": "predictions" | "sample" | "none",
    "result", "message"}. Predictions on the validation set need the run's data: ``dataset`` if it
    is the same data, else the files named in run.json; when they are gone (or changed), a text
    model still samples from its stored vocabulary, any other model gets a message saying why.
    """
    from engine.training import Trainer

    folder = Path(folder)
    path = next((folder / name for name in ("best.npz", "checkpoint.npz") if (folder / name).exists()), None)
    if path is None:
        return {"kind": "none", "message": f"{folder} has no checkpoint yet, so there are no predictions to show"}
    meta = read_meta(folder)
    problem = ""
    try:
        data = same_data(folder, dataset) or load_dataset_for(meta, None)
    except (OSError, ValueError) as exc:  # gone, changed, or never on disk
        data, problem = None, str(exc)
    trainer = Trainer.load_checkpoint(path, data)
    out = {"task": trainer.task, "class_names": list(getattr(trainer.dataset, "class_names", None) or []),
           "checkpoint": path.name, "message": ""}
    if data is not None and trainer.task != "next_token":
        return {**out, "kind": "predictions", "result": trainer.predict_validation()}
    if trainer.task == "next_token":
        note = f"sampled from {path.name}" + (f" (without the data: {problem})" if problem else "")
        return {**out, "kind": "sample", "result": trainer.generate(sample_length), "message": note}
    return {**out, "kind": "none", "message": f"no predictions from {path.name}: they need the run's data, "
                                              f"and {problem}"}
