"""Hyperparameter controls: one pyqtgraph ParameterTree (dataset, model, training, view).

Two kinds of change leave this widget:

* ``sigLiveChanged(name, value)`` for settings the Trainer takes between steps without
  recompiling (``engine.names.LIVE_SETTINGS``: learning rate, clip norm, momentum, epochs, probe);
* ``sigRestartNeeded(dict)`` for settings that change the graph or the data (cell, hidden sizes,
  dtype, optimizer, batch size, validation fraction, seed, task). The window decides
  (asking the user if a run is in progress) and calls :meth:`ControlPanel.revert_last` if the
  change is refused.

Parameter names are ``TrainingConfig`` field names, so ``config()`` is a plain mapping.
"""

from __future__ import annotations

import json
import logging
import os

from PyQt5 import QtCore, QtWidgets  # noqa: I001  (PyQt5 before pyqtgraph)
from PyQt5.QtCore import pyqtSignal
from pyqtgraph.parametertree import Parameter, ParameterTree

from engine.names import CELLS, DTYPES, LIVE_SETTINGS, OPTIMIZERS, TASKS

log = logging.getLogger(__name__)

LIVE = LIVE_SETTINGS  # what the worker forwards to the Trainer without a restart
RESTART = (
    "task",
    "cell",
    "hidden_sizes",
    "dtype",
    "optimizer",
    "batch_size",
    "validation_fraction",
    "seed",
)
MAX_LAYERS = 8
MAX_UNITS = 4096
SETTINGS_KEY = "controls/config"


def parse_hidden_sizes(text: str) -> tuple[int, ...]:
    """``"64, 32"`` -> ``(64, 32)``; ValueError with a message a user can act on."""
    parts = [p.strip() for p in str(text).replace(";", ",").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise ValueError("Hidden sizes: enter at least one layer size, like 64 or 64,32.")
    sizes = []
    for part in parts:
        try:
            size = int(part)
        except ValueError:
            raise ValueError(
                f"Hidden sizes: {part!r} is not a whole number; write sizes separated by commas, "
                f"like 64,32."
            ) from None
        if size < 1 or size > MAX_UNITS:
            raise ValueError(f"Hidden sizes: {size} is out of range; each layer needs 1 to {MAX_UNITS} units.")
        sizes.append(size)
    if len(sizes) > MAX_LAYERS:
        raise ValueError(f"Hidden sizes: {len(sizes)} layers is too many; use at most {MAX_LAYERS}.")
    return tuple(sizes)


def format_hidden_sizes(sizes) -> str:
    return ",".join(str(int(s)) for s in sizes)


def _tree_spec():
    ro = {"readonly": True}
    return [
        {
            "name": "dataset",
            "title": "Dataset",
            "type": "group",
            "children": [
                {"name": "file", "title": "file", "type": "str", "value": "", **ro},
                {"name": "task", "title": "task", "type": "list", "limits": list(TASKS), "value": "forecast",
                 "tip": "Override the detected task; the model is rebuilt"},
                {"name": "sequences", "title": "sequences", "type": "str", "value": "", **ro},
                {"name": "lengths", "title": "lengths (min/median/max)", "type": "str", "value": "", **ro},
                {"name": "inputs", "title": "inputs", "type": "str", "value": "", **ro},
                {"name": "outputs", "title": "outputs", "type": "str", "value": "", **ro},
            ],
        },
        {
            "name": "model",
            "title": "Model",
            "type": "group",
            "children": [
                {"name": "cell", "title": "cell", "type": "list", "limits": list(CELLS), "value": "elman"},
                {"name": "hidden_sizes", "title": "hidden sizes", "type": "str", "value": "64",
                 "tip": "Units per layer, comma separated, e.g. 64,32"},
                {"name": "dtype", "title": "dtype", "type": "list", "limits": list(DTYPES), "value": "float32"},
            ],
        },
        {
            "name": "training",
            "title": "Training",
            "type": "group",
            "children": [
                {"name": "optimizer", "title": "optimizer", "type": "list", "limits": list(OPTIMIZERS),
                 "value": "adam"},
                {"name": "learning_rate", "title": "learning rate", "type": "float", "value": 3e-3,
                 "dec": True, "step": 0.5, "minStep": 1e-7, "limits": (1e-7, 10.0), "decimals": 4,
                 "tip": "Applied live on the next step"},
                {"name": "momentum", "title": "momentum / decay / β1", "type": "float", "value": 0.9,
                 "step": 0.01, "limits": (0.0, 0.9999), "decimals": 4,
                 "tip": "momentum (sgd+momentum), decay (rmsprop) or β1 (adam); applied live"},
                {"name": "batch_size", "title": "batch size", "type": "int", "value": 32, "limits": (1, 65536)},
                {"name": "clip_norm", "title": "gradient clip (0 = off)", "type": "float", "value": 5.0,
                 "step": 0.5, "limits": (0.0, 1e6), "tip": "Global gradient-norm clip; applied live"},
                {"name": "epochs", "title": "epochs", "type": "int", "value": 100, "limits": (1, 10_000_000)},
                {"name": "validation_fraction", "title": "validation fraction", "type": "float", "value": 0.2,
                 "step": 0.05, "limits": (0.01, 0.9), "decimals": 3},
                {"name": "seed", "title": "seed", "type": "int", "value": 0, "limits": (0, 2**31 - 1)},
            ],
        },
        {
            "name": "view",
            "title": "View",
            "type": "group",
            "children": [
                {"name": "probe_index", "title": "probe sequence", "type": "int", "value": 0, "default": 0,
                 "limits": (0, 1_000_000), "tip": "Which validation sequence the hidden-state plots show"},
            ],
        },
    ]


class ControlPanel(QtWidgets.QWidget):
    """The ParameterTree plus a one-line message area for refused entries."""

    sigLiveChanged = pyqtSignal(str, object)
    sigRestartNeeded = pyqtSignal(dict)

    def __init__(self, config=None, parent=None):
        super().__init__(parent)
        self.params = Parameter.create(name="settings", type="group", children=_tree_spec())
        self.tree = ParameterTree(showHeader=False)
        self.tree.setParameters(self.params, showTop=False)
        self.tree.setColumnWidth(0, 170)  # names are short; leave the room to the values
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("controlsMessage")
        self.message.setStyleSheet("color: #b00020;")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        self._applying = False
        self._base_config = None
        self._accepted: dict = {}  # field -> last value the window accepted
        self._last_change: dict = {}  # field -> value before the last emitted restart change
        self._deferred: list = []  # restart fields changed in this event-loop pass
        self.params.sigTreeStateChanged.connect(self._on_tree_changed)
        if config is not None:
            self.set_config(config)
        else:
            self._accepted = self._tree_values()

    # ------------------------------------------------------------------ reading
    def _param(self, name) -> Parameter:
        for group in self.params.children():
            for child in group.children():
                if child.name() == name:
                    return child
        raise KeyError(name)

    def value(self, name):
        return self._param(name).value()

    def _tree_values(self) -> dict:
        return {n: self._param(n).value() for n in (*LIVE, *RESTART)}

    def config(self):
        """The TrainingConfig the controls describe (validated by TrainingConfig itself)."""
        from engine.training import TrainingConfig

        values = self._tree_values()
        fields = {
            "cell": values["cell"],
            "hidden_sizes": parse_hidden_sizes(values["hidden_sizes"]),
            "optimizer": values["optimizer"],
            "learning_rate": float(values["learning_rate"]),
            "momentum": float(values["momentum"]),
            "batch_size": int(values["batch_size"]),
            "clip_norm": float(values["clip_norm"]) or None,
            "epochs": int(values["epochs"]),
            "validation_fraction": float(values["validation_fraction"]),
            "seed": int(values["seed"]),
            "dtype": values["dtype"],
        }
        if self._base_config is None:
            return TrainingConfig(**fields)
        return self._base_config.replace(**fields)

    def task(self) -> str:
        return self.value("task")

    def probe_index(self) -> int:
        return int(self.value("probe_index"))

    def last_message(self) -> str:
        return self.message.text()

    # ------------------------------------------------------------------ writing (no signals)
    def _set_values(self, values: dict, as_default: bool = False) -> None:
        self._applying = True
        try:
            for name, value in values.items():
                self._param(name).setValue(value)
                if as_default:
                    self._param(name).setDefault(self._param(name).value())
        finally:
            self._applying = False
        self._accepted.update({k: self._param(k).value() for k in values})

    def set_config(self, config) -> None:
        """Show ``config`` (keeps its backend/window/embedding fields for ``config()``).

        Its values become the parameters' defaults, so the tree's small "revert" button next to
        a changed value means "back to the settings this run was set up with".
        """
        self._base_config = config
        self._set_values(
            {
                "cell": config.cell,
                "hidden_sizes": format_hidden_sizes(config.hidden_sizes),
                "dtype": config.dtype,
                "optimizer": config.optimizer,
                "learning_rate": float(config.learning_rate),
                "momentum": float(config.momentum),
                "batch_size": int(config.batch_size),
                "clip_norm": float(config.clip_norm or 0.0),
                "epochs": int(config.epochs),
                "validation_fraction": float(config.validation_fraction),
                "seed": int(config.seed),
            },
            as_default=True,
        )

    def set_value(self, name: str, value) -> None:
        """Programmatic change without signals (e.g. restoring a checkpoint's settings)."""
        if name == "hidden_sizes" and not isinstance(value, str):
            value = format_hidden_sizes(value)
        self._set_values({name: value})

    def set_dataset(self, dataset) -> None:
        """Fill the read-only dataset summary (from ``dataset.summary()``) and the task selector."""
        texts = summary_texts(dataset.summary())
        self._applying = True
        try:
            for name in ("file", "sequences", "lengths", "inputs", "outputs"):
                self._param(name).setValue(texts[name])
            self._param("file").setOpts(tip=texts["file_tip"])
            self._param("task").setValue(dataset.task)
            self._param("task").setDefault(dataset.task)
        finally:
            self._applying = False
        self._accepted["task"] = dataset.task

    def revert_last(self) -> None:
        """Undo the last restart change (the user declined it)."""
        if self._last_change:
            self._set_values(dict(self._last_change))
            self._last_change = {}

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    # ------------------------------------------------------------------ settings
    def save_settings(self, settings: QtCore.QSettings) -> None:
        try:
            settings.setValue(SETTINGS_KEY, json.dumps(self.config().to_dict()))
        except Exception as exc:  # a half-edited control must not block closing the window
            log.warning("controls not saved: %s", exc)

    def restore_settings(self, settings: QtCore.QSettings) -> bool:
        """Load the last session's settings; False (and defaults kept) if absent or invalid."""
        from engine.training import TrainingConfig

        text = settings.value(SETTINGS_KEY, "")
        if not text:
            return False
        try:
            config = TrainingConfig.from_dict(json.loads(str(text)))
        except Exception as exc:
            log.warning("ignoring saved controls (%s)", exc)
            return False
        self.set_config(config)
        return True

    # ------------------------------------------------------------------ changes from the user
    def _on_tree_changed(self, _root, changes) -> None:
        if self._applying:
            return
        for param, change, data in changes:
            if change != "value":
                continue
            name = param.name()
            if name in LIVE:
                self._live_changed(name, data)
            elif name in RESTART and name not in self._deferred:
                # Decided after this signal has reached every listener: pyqtgraph's tree item
                # still writes the new value back to the parameter after us, which would undo a
                # revert made right here (and ask the user twice).
                self._deferred.append(name)
                QtCore.QTimer.singleShot(0, self._process_deferred)

    def _process_deferred(self) -> None:
        names, self._deferred = self._deferred, []
        for name in names:
            self._restart_changed(name, self._param(name).value())

    def _live_changed(self, name, value) -> None:
        self.message.setText("")
        self._accepted[name] = value
        if name == "clip_norm":
            value = float(value) or None
        elif name in ("probe_index", "epochs"):
            value = int(value)
        else:
            value = float(value)
        self.sigLiveChanged.emit(name, value)

    def _restart_changed(self, name, value) -> None:
        previous = self._accepted.get(name)
        if name == "hidden_sizes":
            try:
                sizes = parse_hidden_sizes(value)
            except ValueError as exc:
                self.message.setText(f"{exc} Kept {previous}.")
                self._set_values({name: previous})
                return
            normalized = format_hidden_sizes(sizes)
            if normalized != value:
                self._set_values({name: normalized})
            if normalized == previous:
                return
            value = normalized
            emitted = sizes
        else:
            if value == previous:
                return
            emitted = value
        self.message.setText("")
        self._last_change = {name: previous}
        self._accepted[name] = value
        self.sigRestartNeeded.emit({name: emitted})


def _listed(names, limit: int) -> str:
    names = [str(n) for n in names]
    text = ", ".join(names[:limit])
    return text + (", …" if len(names) > limit else "")


def summary_texts(summary: dict) -> dict:
    """The dataset panel's lines from ``SequenceDataset.summary()``: file, sequences, lengths, inputs, outputs."""
    lengths = (f"{summary['min_length']} / {int(summary['median_length'])} / {summary['max_length']}"
               if summary["sequences"] else "")
    if summary["task"] == "next_token":
        inputs = f"text, vocabulary {summary['vocab']}"
        outputs = f"next character ({summary['vocab']} symbols)"
    else:
        names = summary["feature_names"]
        inputs = f"{summary['features']} feature(s)" + (f": {_listed(names, 6)}" if names else "")
        targets = summary["targets"]
        outputs = f"forecast {len(targets)} target(s)" + (f": {_listed(targets, 6)}" if targets else "")
    if summary["task"] == "classify_sequence":
        classes = summary["classes"]
        outputs = f"{len(classes)} classes: {', '.join(map(str, classes[:8]))}"
    paths = summary["source_paths"]
    # The tree column is narrow: show file names, keep the full paths in the tooltip.
    file_text = ", ".join(os.path.basename(p) for p in paths) if paths else summary["name"]
    return {"file": file_text, "file_tip": "\n".join(paths) if paths else file_text,
            "sequences": str(summary["sequences"]), "lengths": lengths, "inputs": inputs, "outputs": outputs}
