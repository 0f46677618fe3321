"""Suggested settings in the window (issue 9): ``engine.suggest.suggest(dataset)`` shown in the preview
dialog and under the controls, applied with one click, and used for a new dataset for every
setting the user has not set explicitly.

"Explicitly" means: given on the command line, passed to the window as its config, or changed by
the user in the controls (``ControlPanel.explicit``). Everything else (the defaults, the settings
restored from the last session) gives way to the suggestion when a new dataset is opened. The rule
itself lives in ``engine.suggest``; this module only shows and applies what it returns.
"""

from __future__ import annotations

import logging

from PyQt5 import QtCore, QtWidgets
from PyQt5.QtCore import pyqtSignal

log = logging.getLogger(__name__)

PATIENCE = "patience"  # applied only where the controls have a patience control
KEPT = ("window",)  # suggested TrainingConfig fields with no control: ControlPanel.set_kept


def suggestion_for(dataset):
    """``engine.suggest.suggest(dataset)``, or None when the rule cannot say (logged)."""
    from engine.suggest import suggest

    try:
        return suggest(dataset)
    except Exception as exc:  # a suggestion is advice: never fail an open for it
        log.warning("no suggested settings for %s: %s", getattr(dataset, "name", "dataset"), exc)
        return None


def suggested_values(suggestion) -> dict:
    """Control name -> value: the rule's TrainingConfig fields and its patience."""
    return {**suggestion.settings, PATIENCE: suggestion.patience}


def tooltip(suggestion) -> str:
    lines = [suggestion.reason, ""]
    lines.extend(f"{name.replace('_', ' ')}: {why}" for name, why in suggestion.details.items())
    return "\n".join(lines)


def apply_suggestion(controls, suggestion, *, keep_explicit: bool) -> list[str]:
    """Put the suggested values into ``controls`` (no signals); with ``keep_explicit`` the ones the
    user set explicitly stay. Returns the names changed."""
    changed = []
    for name in KEPT:  # not suggested: back to the dataset's default (a window fits one dataset only)
        if not (keep_explicit and name in controls.explicit):
            controls.set_kept(name, suggestion.settings.get(name))
    for name, value in suggested_values(suggestion).items():
        if not controls.has_control(name) or (keep_explicit and name in controls.explicit):
            continue
        if controls.value_of(name) != value:
            controls.set_value(name, value)
            changed.append(name)
    return changed


class SuggestionBar(QtWidgets.QWidget):
    """Under the controls: "suggested: gru 64, batch 8, ..." and an Apply button (one click)."""

    sigApply = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("suggestionBar")
        self.label = QtWidgets.QLabel("")
        self.label.setWordWrap(True)
        self.label.setObjectName("suggestionText")
        self.button = QtWidgets.QPushButton("Apply")
        self.button.setObjectName("applySuggestion")
        self.button.setToolTip("Set the controls to the suggested settings (a run in progress asks first)")
        self.button.clicked.connect(self.sigApply)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button, 0, QtCore.Qt.AlignTop)
        self.show_suggestion(None)

    def show_suggestion(self, suggestion, *, applied: bool = False) -> None:
        self.setVisible(suggestion is not None)
        if suggestion is None:
            return
        self.label.setText(suggestion.describe().replace("suggested:", "Suggested:", 1).split(" (")[0]
                           + (" (in the controls)" if applied else ""))
        self.setToolTip(tooltip(suggestion))
        self.label.setToolTip(tooltip(suggestion))
        self.button.setEnabled(not applied)


class PreviewSuggestion(QtWidgets.QWidget):
    """In the preview dialog: the settings suggested for the previewed data, and whether to use them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QtWidgets.QLabel("")
        self.label.setWordWrap(True)
        self.label.setObjectName("previewSuggestion")
        self.use = QtWidgets.QCheckBox("Use the suggested settings (values you set yourself stay)")
        self.use.setChecked(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.use)
        self.suggestion = None
        self.show_dataset(None)

    def show_dataset(self, dataset) -> None:
        self.suggestion = suggestion_for(dataset) if dataset is not None else None
        self.setVisible(self.suggestion is not None)
        if self.suggestion is not None:
            self.label.setText(self.suggestion.describe().replace("suggested:", "Suggested settings:", 1))
            self.label.setToolTip(tooltip(self.suggestion))


def frame_as_suggested(dataset, options: dict | None, use: bool = True) -> tuple:
    """(dataset, options): framed as ``engine.suggest`` says (a long univariate series to classify)
    when ``use`` and nobody chose a frame (the preview's "steps per frame", ``--frame``)."""
    from engine.data.framing import frame_dataset
    from engine.suggest import suggested_frame

    options = dict(options or {})
    if not use or "frame" in options or getattr(dataset, "frame", 1) != 1:
        return dataset, options
    try:
        k = suggested_frame(dataset)
        if k > 1:
            return frame_dataset(dataset, k), {**options, "frame": k}
    except Exception as exc:  # advice: never fail an open for it
        log.warning("not framed as suggested: %s", exc)
    return dataset, options


class SuggestedSettings:
    """The window's side (mixed into MainWindow): a new dataset gets the suggestion (framed as it
    says, see frame_as_suggested), the bar applies it."""

    suggestion = None  # engine.suggest.Suggestion for the current dataset
    _use_suggested_next = True  # the preview dialog's "Use the suggested settings" for the next dataset

    def _as_suggested(self, dataset, options) -> tuple:
        """set_dataset's first step: the new dataset and its options, framed as suggested."""
        return frame_as_suggested(dataset, options, use=self._use_suggested_next)

    def _suggest_for_new_dataset(self, dataset) -> None:
        """Called by set_dataset: compute, show, and apply for the settings nobody chose."""
        if not getattr(self, "_bar_follows_controls", False):  # the bar says whether the controls still match
            self.controls.sigLiveChanged.connect(lambda *_: self._refresh_suggestion_bar())
            self.controls.sigRestartNeeded.connect(lambda *_: self._refresh_suggestion_bar())
            self._bar_follows_controls = True
        self.suggestion = suggestion_for(dataset)
        use, self._use_suggested_next = self._use_suggested_next, True
        if self.suggestion is None:
            self.controls.suggestion_bar.show_suggestion(None)
            return
        changed = apply_suggestion(self.controls, self.suggestion, keep_explicit=True) if use else []
        self.controls.suggestion_bar.show_suggestion(self.suggestion, applied=self._suggestion_applied())
        if changed:
            log.info("suggested settings applied: %s", ", ".join(changed))

    def _refresh_suggestion_bar(self) -> None:
        """The bar for the window's own data; hidden while a run folder is shown in the panels (its data
        is another file, and Apply would change the window's settings under it). RunView calls this."""
        run_view = getattr(self, "run_view", None)
        if self.suggestion is None or (run_view is not None and run_view.reader is not None):
            self.controls.suggestion_bar.show_suggestion(None)
        else:
            self.controls.suggestion_bar.show_suggestion(self.suggestion, applied=self._suggestion_applied())

    def _suggestion_applied(self) -> bool:
        if self.suggestion.frame != getattr(self.dataset, "frame", 1):
            return False
        try:
            return all(not self.controls.has_control(name) or self.controls.value_of(name) == value
                       for name, value in suggested_values(self.suggestion).items())
        except ValueError:  # a half-typed hidden size: not the suggestion
            return False

    def apply_suggested(self) -> bool:
        """The bar's Apply: every suggested value into the controls (a run in progress asks first)."""
        if self.suggestion is None:
            return False
        from gui import dialogs

        in_progress = not self.is_idle and self._run_points > 0
        if in_progress and not dialogs.confirm(self, "Apply the suggested settings?",
                                               "They change the model, so the current run ends (its curves "
                                               "stay in grey) and a new run starts. Apply them?"):
            return False
        running = self.run_state in ("compiling", "running")
        if self.suggestion.frame != getattr(self.dataset, "frame", 1):  # the data itself changes: framed anew
            options = {k: v for k, v in self.dataset_options.items() if k != "frame"}
            framed, options = frame_as_suggested(self.dataset, options)
            self.set_dataset(framed, self.dataset_paths, options)
        changed = apply_suggestion(self.controls, self.suggestion, keep_explicit=False)
        self.controls.explicit.difference_update(changed)  # chosen by the rule now, not by the user
        self.controls.suggestion_bar.show_suggestion(self.suggestion, applied=True)
        self._show_status(self.suggestion.describe())
        if not self.is_idle:
            self._begin_run(start=running)
        else:
            self._reset_hidden_panel()
        return True
