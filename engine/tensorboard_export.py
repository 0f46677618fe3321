"""Optional TensorBoard export: a run folder's scalars as TensorBoard event files.

An extra (``pip install rnn-scope[tensorboard]`` installs tensorboardX); the core never imports
this module. ``export_run(folder)`` writes ``folder/tensorboard/`` from metrics.csv and the setting
changes in events.jsonl, so ``tensorboard --logdir RUNS_DIR`` shows every run; calling it again
on a run that grew rewrites the export (its event files are derived data, never the record).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from engine.run_reader import open_run

SUBFOLDER = "tensorboard"
_SCALARS = {"train_loss": "loss/train", "val_loss": "loss/val", "val_accuracy": "accuracy/val",
            "learning_rate": "settings/learning_rate", "clip_norm": "settings/clip_norm",
            "momentum": "settings/momentum", "test_loss": "loss/test", "test_accuracy": "accuracy/test"}


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("TensorBoard export needs tensorboardX: pip install 'rnn-scope[tensorboard]' "
                          "(or pip install tensorboardX)") from None
    return SummaryWriter


def _finite_scalars(entry: dict):
    """(tag, value) of one metrics row's finite scalars: losses, rates, per-layer norms, wall time."""
    for column, tag in _SCALARS.items():
        yield tag, entry.get(column)
    for kind in ("grad", "weight"):
        for layer, value in (entry.get(f"{kind}_norms") or {}).items():
            yield f"{kind}_norm/{layer}", value
    yield "time/wall_s", entry.get("wall_s")


def _add_epoch(writer, entry: dict) -> None:
    for tag, value in _finite_scalars(entry):
        if value is not None and math.isfinite(value):
            writer.add_scalar(tag, value, entry["epoch"])


def export_run(folder) -> Path:
    """Write the run in ``folder`` as TensorBoard event files under ``folder/tensorboard``; returns it."""
    SummaryWriter = _summary_writer()
    reader = open_run(folder)
    logdir = Path(folder) / SUBFOLDER
    shutil.rmtree(logdir, ignore_errors=True)
    writer = SummaryWriter(logdir=str(logdir))
    try:
        for entry in reader.epochs:
            _add_epoch(writer, entry)
        changes = [f"epoch {e.get('epoch')}: {e.get('name')} {e.get('old')} -> {e.get('new')}"
                   for e in reader.events if e.get("kind") == "set"]
        writer.add_text("run/config", f"```\n{reader.meta.get('config')}\n```", 0)
        if changes:
            writer.add_text("run/changes", "\n\n".join(changes), 0)
    finally:
        writer.close()
    return logdir
