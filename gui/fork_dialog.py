"""Run ▸ Fork…: which checkpoint of a run to start from and which live settings to change.

The dialog only asks; ``gui.run_actions`` hands the answer to the worker (engine ``Run.fork``).
``ForkChoice`` is what it returns: the checkpoint ("latest" or "best") and the live settings that
differ from the parent's, so run.json's fork event lists exactly what the user changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PyQt5 import QtWidgets

from engine.limits import MAX_EPOCHS
from engine.names import LIVE_SETTINGS

FORKED_SETTINGS = tuple(name for name in LIVE_SETTINGS if name != "probe_index")  # what a fork may change


@dataclass
class ForkSource:
    """What the dialog shows of the parent run."""

    folder: str
    name: str
    latest_epoch: int  # epoch of its latest checkpoint (the current run: where it is now)
    best_epoch: int | None  # epoch of best.npz, None when it has none
    best_val_loss: float | None
    settings: dict  # the parent's live settings: learning_rate, clip_norm (None = off), momentum, epochs


@dataclass
class ForkChoice:
    checkpoint: str  # "latest" | "best"
    changes: dict = field(default_factory=dict)  # live settings that differ from the parent's


def default_epochs(source: ForkSource, start_epoch: int) -> int:
    """The parent's total if the fork has epochs left to train, else as many again."""
    total = int(source.settings.get("epochs") or 0)
    return total if total > start_epoch else start_epoch + max(total, 10)


def parse_choice(source: ForkSource, checkpoint: str, texts: dict) -> ForkChoice:
    """The dialog's fields (text per setting) as a ForkChoice; ValueError naming the field."""
    values = {}
    for name in FORKED_SETTINGS:
        text = str(texts.get(name, "")).strip()
        label = name.replace("_", " ")
        try:
            value = int(text or "0") if name in ("epochs", "patience") else float(text or "0")
        except ValueError:
            raise ValueError(f"{label}: {text!r} is not a number") from None
        if name != "epochs" and not math.isfinite(value):
            raise ValueError(f"{label}: must be a finite number")
        values[name] = value
    if values["learning_rate"] <= 0:
        raise ValueError("learning rate: must be greater than 0")
    if values["clip_norm"] < 0:
        raise ValueError("clip norm: must be >= 0 (0 = off)")
    values["clip_norm"] = values["clip_norm"] or None
    if values["patience"] < 0:
        raise ValueError("patience: must be >= 0 epochs (0 = no early stopping)")
    values["patience"] = values["patience"] or None
    start = source.latest_epoch if checkpoint == "latest" else (source.best_epoch or 0)
    if not start < values["epochs"] <= MAX_EPOCHS:
        raise ValueError(f"epochs: the fork starts at epoch {start}; ask for more (up to {MAX_EPOCHS:,}) so it "
                         f"has epochs to train")
    changes = {k: v for k, v in values.items() if v != source.settings.get(k)}
    return ForkChoice(checkpoint, changes)


class ForkDialog(QtWidgets.QDialog):
    """Fork ``source`` (a ForkSource): checkpoint choice and the live settings to start with."""

    def __init__(self, source: ForkSource, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Fork {source.name}")
        self.source = source
        self.choice: ForkChoice | None = None
        form = QtWidgets.QFormLayout(self)
        form.addRow(QtWidgets.QLabel(f"A new run that starts from a checkpoint of <b>{source.name}</b>; "
                                     f"the parent run is not changed."))
        self.checkpoint_box = QtWidgets.QComboBox()
        self.checkpoint_box.addItem(f"latest (epoch {source.latest_epoch})", "latest")
        if source.best_epoch is not None:
            loss = "" if source.best_val_loss is None else f", val loss {source.best_val_loss:.4g}"
            self.checkpoint_box.addItem(f"best (epoch {source.best_epoch}{loss})", "best")
        form.addRow("Start from", self.checkpoint_box)
        self.fields = {}
        settings = source.settings
        clip = settings.get("clip_norm")
        initial = {"learning_rate": f"{settings.get('learning_rate', 1e-3):g}",
                   "clip_norm": f"{clip or 0:g}", "momentum": f"{settings.get('momentum', 0.0):g}",
                   "epochs": str(default_epochs(source, source.latest_epoch)),
                   "patience": str(settings.get("patience") or 0)}
        tips = {"clip_norm": "0 = off", "patience": "early stopping after this many epochs without a better "
                "validation loss; 0 = off", "epochs": "total epochs of the new run, counted from the parent's start"}
        for name in FORKED_SETTINGS:
            edit = QtWidgets.QLineEdit(initial[name])
            edit.setToolTip(tips.get(name, ""))
            self.fields[name] = edit
            form.addRow(name.replace("_", " ").capitalize(), edit)
        self.message = QtWidgets.QLabel("")
        self.message.setStyleSheet("color: #e06c6c")
        form.addRow(self.message)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.Ok).setText("Fork and start")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def set_field(self, name: str, text) -> None:
        self.fields[name].setText(str(text))

    def set_checkpoint(self, checkpoint: str) -> None:
        self.checkpoint_box.setCurrentIndex(self.checkpoint_box.findData(checkpoint))

    def accept(self) -> None:
        """Closes only with settings that make a run: otherwise the message says what is wrong."""
        try:
            self.choice = parse_choice(self.source, self.checkpoint_box.currentData(),
                                       {name: edit.text() for name, edit in self.fields.items()})
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        super().accept()
