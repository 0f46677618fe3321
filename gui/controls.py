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

from engine import limits
from engine.names import CELLS, DTYPES, LIVE_SETTINGS, OPTIMIZERS, TASKS
from gui.dataset_rows import FRAMES_TIP, LENGTHS_TIP, DatasetRows
from gui.dataset_rows import TIPS as DATASET_TIPS
from gui.suggested import SuggestionBar
from gui.typed_limits import guard_typed_values

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
MAX_LAYERS = limits.MAX_LAYERS  # the engine's limits (TrainingConfig enforces them)
MAX_UNITS = limits.MAX_HIDDEN_UNITS
SETTINGS_KEY = "controls/config"
VALUE_SAMPLE = "GunPoint_TRAIN.tsv"  # what the value column always has room for (a file name, 0.0030)


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
        if size < 1:
            raise ValueError(f"Hidden sizes: {size} is out of range; each layer needs 1 to {MAX_UNITS} units.")
        sizes.append(size)
    problem = limits.hidden_sizes_problem(sizes)
    if problem:
        raise ValueError(f"Hidden sizes: {problem}.")
    return tuple(sizes)


def format_hidden_sizes(sizes) -> str:
    return ",".join(str(int(s)) for s in sizes)


RO = {"readonly": True}  # a row that shows, never edits


def _dataset_group() -> dict:
    return {
        "name": "dataset",
        "title": "Dataset",
        "type": "group",
        "tip": "The loaded data, as RNN Scope understood it",
        "children": [
            {"name": "file", "title": "file", "type": "str", "value": "", **RO,
             "tip": DATASET_TIPS["file"]},
            {"name": "task", "title": "task", "type": "list", "limits": list(TASKS), "value": "forecast",
             "tip": "What the model learns: a class per sequence, the next character, or the next "
                    "value. Detected from the file; changing it rebuilds the model"},
            {"name": "sequences", "title": "sequences", "type": "str", "value": "", **RO,
             "tip": DATASET_TIPS["sequences"]},
            {"name": "lengths", "title": "lengths (min/median/max)", "type": "str", "value": "", **RO,
             "tip": LENGTHS_TIP},
            {"name": "frames", "title": "fed as frames", "type": "str", "value": "", **RO, "visible": False,
             "tip": FRAMES_TIP},
            {"name": "inputs", "title": "inputs", "type": "str", "value": "", **RO,
             "tip": DATASET_TIPS["inputs"]},
            {"name": "outputs", "title": "outputs", "type": "str", "value": "", **RO,
             "tip": DATASET_TIPS["outputs"]},
        ],
    }


def _model_group() -> dict:
    return {
        "name": "model",
        "title": "Model",
        "type": "group",
        "tip": "The network's shape; a change starts a new run",
        "children": [
            {"name": "cell", "title": "cell", "type": "list", "limits": list(CELLS), "value": "elman",
             "tip": "Recurrent cell: elman (the classic tanh RNN), gru or lstm (gated, remember "
                    "longer); changing it starts a new run"},
            {"name": "hidden_sizes", "title": "hidden sizes", "type": "str", "value": "64",
             "tip": "Units per layer, comma separated, e.g. 64,32 for two stacked layers; "
                    "changing it starts a new run"},
            {"name": "dtype", "title": "dtype", "type": "list", "limits": list(DTYPES), "value": "float32",
             "tip": "Number precision: float32 is fast, float64 for exact gradient checks"},
        ],
    }


def _training_group() -> dict:
    return {
        "name": "training",
        "title": "Training",
        "type": "group",
        "tip": "How it learns; learning rate, momentum and clip apply live",
        "children": [
            {"name": "optimizer", "title": "optimizer", "type": "list", "limits": list(OPTIMIZERS),
             "value": "adam", "tip": "How gradients become weight updates; changing it starts a new run"},
            {"name": "learning_rate", "title": "learning rate", "type": "float", "value": 3e-3,
             "dec": True, "step": 0.5, "minStep": 1e-7, "limits": (1e-7, None), "decimals": 4,
             "tip": "Step size of each update; applied live on the next step (no cap: divergence is caught)"},
            {"name": "momentum", "title": "momentum / decay / β1", "type": "float", "value": 0.9,
             "step": 0.01, "limits": (0.0, 0.9999), "decimals": 4,
             "tip": "momentum (sgd+momentum), decay (rmsprop) or β1 (adam); applied live"},
            {"name": "batch_size", "title": "batch size", "type": "int", "value": 32, "limits": (1, limits.MAX_BATCH_SIZE),
             "tip": "Sequences per update step; changing it starts a new run"},
            {"name": "clip_norm", "title": "gradient clip (0 = off)", "type": "float", "value": 5.0,
             "step": 0.5, "limits": (0.0, 1e6), "tip": "Global gradient-norm clip; applied live"},
            {"name": "epochs", "title": "epochs", "type": "int", "value": 100, "limits": (1, limits.MAX_EPOCHS),
             "tip": "Passes over the training data; more epochs extend the run in place"},
            {"name": "patience", "title": "early stop after (0 = off)", "type": "int", "value": 0,
             "limits": (0, limits.MAX_EPOCHS),
             "tip": "Early stopping: end the run after this many epochs without a lower validation "
                    "loss, then restore the best weights; 0 = train every epoch. Applied live"},
            {"name": "validation_fraction", "title": "validation fraction", "type": "float", "value": 0.2,
             "step": 0.05, "limits": (0.01, 0.9), "decimals": 3,
             "tip": "Share of the sequences held out to measure validation loss; starts a new run"},
            {"name": "seed", "title": "seed", "type": "int", "value": 0, "limits": (0, 2**31 - 1),
             "tip": "Initial weights, split and shuffling: the same seed gives the same losses"},
        ],
    }


def _view_group() -> dict:
    return {
        "name": "view",
        "title": "View",
        "type": "group",
        "tip": "What the plots show",
        "children": [
            {"name": "probe_index", "title": "probe sequence", "type": "int", "value": 0, "default": 0,
             "limits": (0, 1_000_000), "tip": "Which validation sequence the hidden-state plots show"},
        ],
    }


def _tree_spec() -> list[dict]:
    """The tree in pyqtgraph's ``Parameter.create`` format: one declarative group per section, in order."""
    return [_dataset_group(), _model_group(), _training_group(), _view_group()]

class ControlPanel(QtWidgets.QWidget):
    """The ParameterTree plus a one-line message area for refused entries."""

    sigLiveChanged = pyqtSignal(str, object)
    sigRestartNeeded = pyqtSignal(dict)

    def __init__(self, config=None, parent=None):
        super().__init__(parent)
        self.params = Parameter.create(name="settings", type="group", children=_tree_spec())
        self.tree = ParameterTree(showHeader=False)
        self.tree.setParameters(self.params, showTop=False)
        self._show_tips_on_rows(self.params)
        self.dataset_rows = DatasetRows(self, lambda: self.tree.fontMetrics().horizontalAdvance(VALUE_SAMPLE))
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("controlsMessage")
        self.message.setStyleSheet("color: #b00020;")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        self.suggestion_bar = SuggestionBar()  # engine.suggest's settings for the data, one click to apply
        layout.addWidget(self.suggestion_bar)
        layout.addWidget(self.message)
        self.explicit: set[str] = set()  # settings the user chose (edits, flags, a given config): kept
        self._applying = False
        self._base_config = None
        self._accepted: dict = {}  # field -> last value the window accepted
        self._accepted_before: dict = {}  # live field -> the accepted value before the last change (reject)
        self._last_change: dict = {}  # field -> value before the last emitted restart change
        self._deferred: list = []  # restart fields changed in this event-loop pass
        self.params.sigTreeStateChanged.connect(self._on_tree_changed)
        self._enter_closes_editors()
        self._typed_notes: dict = {}  # field -> what a spin box did with a typed value it cannot hold
        self._typed_guards = guard_typed_values(self.params, self._typed_note, self)
        if config is not None:
            self.set_config(config)
        else:
            self._accepted = self._tree_values()

    def _show_tips_on_rows(self, param: Parameter) -> None:
        """Put each parameter's tip on its tree row, so it shows on hover.

        pyqtgraph puts ``tip`` on the editor widget only, which is hidden until the row is
        being edited; a tip that changes later (the file paths) follows through sigOptionsChanged.
        """
        for child in param.children():
            self._show_tips_on_rows(child)
        self._set_row_tip(param, param.opts)
        param.sigOptionsChanged.connect(self._set_row_tip)

    def minimum_width(self) -> int:
        """Room for the names (pyqtgraph sizes that column to its contents, in the items' fonts,
        so 144 dpi widens it) and for VALUE_SAMPLE in the value column: the controls dock never
        gets narrower, so the values never vanish."""
        fm = self.tree.fontMetrics()
        scrollbar = self.style().pixelMetric(QtWidgets.QStyle.PM_ScrollBarExtent)
        names = max(self.tree.sizeHintForColumn(0), self.tree.columnWidth(0))
        [task] = self._param("task").items  # an editable row: its value shares the column with a reset button
        reset = task.defaultBtn.width() + task.layoutWidget.layout().spacing() + 4  # "classify_sequence" touched it
        return names + fm.horizontalAdvance(VALUE_SAMPLE) + reset + scrollbar + 4 * self.tree.frameWidth() + 8

    @staticmethod
    def _set_row_tip(param: Parameter, opts: dict) -> None:
        if "tip" not in opts:
            return
        for item in param.items:
            for column in range(max(1, item.columnCount())):
                item.setToolTip(column, opts["tip"])

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
            "patience": int(values["patience"]) or None,
            "validation_fraction": float(values["validation_fraction"]),
            "seed": int(values["seed"]),
            "dtype": values["dtype"],
        }
        if self._base_config is None:
            return TrainingConfig(**fields)
        return self._base_config.replace(**fields)

    def has_control(self, name: str) -> bool:
        try:
            self._param(name)
        except KeyError:
            return False
        return True

    def value_of(self, name: str):
        """A control's value as TrainingConfig holds it (hidden sizes as a tuple)."""
        value = self.value(name)
        return parse_hidden_sizes(value) if name == "hidden_sizes" else value

    def mark_explicit(self, names) -> None:
        """These settings were chosen (flags, a config given to the window): suggestions leave them."""
        self.explicit.update(names)

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
                "patience": int(config.patience or 0),
                "validation_fraction": float(config.validation_fraction),
                "seed": int(config.seed),
            },
            as_default=True,
        )

    def set_kept(self, name: str, value) -> None:
        """A TrainingConfig field with no control (``window``): kept for ``config()``."""
        from engine.training import TrainingConfig

        self._base_config = (self._base_config or TrainingConfig()).replace(**{name: value})

    def set_value(self, name: str, value) -> None:
        """Programmatic change without signals (e.g. restoring a checkpoint's settings)."""
        if name == "hidden_sizes" and not isinstance(value, str):
            value = format_hidden_sizes(value)
        self._set_values({name: value})

    def set_dataset(self, dataset) -> None:
        """Fill the read-only dataset summary (from ``dataset.summary()``) and the task selector."""
        self.show_dataset_texts(summary_texts(dataset.summary()), dataset.task)

    def show_dataset_texts(self, texts: dict, task: str | None = None) -> None:
        """The Dataset rows from ``texts`` (summary_texts' keys; a shown run folder's come from
        gui.stored_dataset) and, when given, the task."""
        self._applying = True
        try:
            self.dataset_rows.show(texts)  # fitted to the value column, the full texts in the tooltips
            self._param("frames").setOpts(visible=bool(texts.get("frames")))
            if task is not None:
                self._param("task").setValue(task)
                self._param("task").setDefault(task)
        finally:
            self._applying = False
        if task is not None:
            self._accepted["task"] = task

    def revert_last(self) -> None:
        """Undo the last restart change (the user declined it)."""
        if self._last_change:
            self._set_values(dict(self._last_change))
            self._last_change = {}

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def reject(self, name: str, value, reason: str) -> str:
        """The run refused ``value`` for ``name``: the field goes back (to the last value accepted,
        or to its default when that was the one refused) without signals, the reason is shown
        under the tree; returns the one-line text for the status bar. Never a dialog: a refused
        entry must not come back as a box on every new run."""
        param = self._param(name)
        previous = self._accepted_before.get(name, param.defaultValue())
        if previous == value or previous is None:
            previous = param.defaultValue()
        self._set_values({name: previous})
        text = f"{param.opts.get('title', name)} {value} refused: {reason}; kept {previous}."
        self.message.setText(text)
        return text

    def _typed_note(self, name: str, text: str) -> None:
        """Shown now, and again by the change it causes (which would otherwise clear the line)."""
        self._typed_notes[name] = text
        self.message.setText(text)
        QtCore.QTimer.singleShot(0, lambda: self._typed_notes.pop(name, None))

    def user_change(self, name: str, value) -> None:
        """Change a setting as the user would (signals and all), e.g. from the divergence dialog."""
        self._param(name).setValue(value)

    # ------------------------------------------------------------------ editors
    def _enter_closes_editors(self) -> None:
        """Enter commits an edit and closes the editor, so that Space then pauses or resumes
        instead of typing into a field that stayed open."""
        self._enter_filter = _EnterFilter(self._close_editor, self)
        for group in self.params.children():
            for param in group.children():
                for item in list(param.items):
                    editor = getattr(item, "widget", None)
                    if isinstance(editor, QtWidgets.QWidget):
                        editor.installEventFilter(self._enter_filter)

    def _close_editor(self) -> None:
        self.tree.clearSelection()  # the row's editor hides (pyqtgraph shows it while selected)
        self.tree.setCurrentItem(None)
        self.tree.setFocus(QtCore.Qt.OtherFocusReason)

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
        self.message.setText(self._typed_notes.get(name, ""))
        self._accepted_before[name] = self._accepted.get(name)
        self.explicit.add(name)
        self._accepted[name] = value
        if name == "clip_norm":
            value = float(value) or None
        elif name in ("probe_index", "epochs"):
            value = int(value)
        elif name == "patience":
            value = int(value) or None
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
        self.message.setText(self._typed_notes.get(name, ""))
        self.explicit.add(name)
        self._last_change = {name: previous}
        self._accepted[name] = value
        self.sigRestartNeeded.emit({name: emitted})


class _EnterFilter(QtCore.QObject):
    """Calls ``close`` (on the next event-loop pass, after the editor committed) when Enter or
    Return is pressed in an editor."""

    def __init__(self, close, parent=None):
        super().__init__(parent)
        self._close = close

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QtCore.QEvent.KeyPress and event.key() in (QtCore.Qt.Key_Return, QtCore.Qt.Key_Enter):
            QtCore.QTimer.singleShot(0, self._close)
        return False


def _listed(names, limit: int) -> str:
    names = [str(n) for n in names]
    text = ", ".join(names[:limit])
    return text + (", …" if len(names) > limit else "")


def summary_texts(summary: dict) -> dict:
    """The dataset panel's lines from ``SequenceDataset.summary()``: file, sequences, lengths, inputs, outputs."""
    lengths = (f"{summary['min_length']} / {int(summary['median_length'])} / {summary['max_length']}"
               if summary["sequences"] else "")
    lengths_tip, frames = LENGTHS_TIP, ""
    if lengths and summary.get("frame", 1) > 1:  # counted in frames: the file's steps in their own row
        steps, k = summary.get("step_lengths"), summary["frame"]
        # Two short rows, not "150 / 150 / 150 steps, as 30 frames of 5": that was cut at the column's edge.
        frames = f"{summary['max_length'] if summary['min_length'] == summary['max_length'] else lengths} × {k} steps"
        lengths = " / ".join(map(str, steps)) if steps else f"{lengths} frames"
        lengths_tip = f"{lengths} (frames: {summary['min_length']} / {int(summary['median_length'])} / " \
                      f"{summary['max_length']})\n{LENGTHS_TIP}; fed as frames of {k} consecutive steps"
    if summary["task"] == "next_token":
        inputs = f"text, vocabulary {summary['vocab']}"
        outputs = "next character"  # the vocabulary is in the inputs row; "(27 symbols)" was cut
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
            "sequences": str(summary["sequences"]), "lengths": lengths, "lengths_tip": lengths_tip, "frames": frames,
            "inputs": inputs, "outputs": outputs}
