"""Opening a dataset in the window: preview, load on the worker thread, and what to do when a file
cannot be read (mixed into MainWindow).

A load error is never a dead end when an option can fix it: the preview dialog opens with the
error shown and the option highlighted (``gui.preview_dialog``), whether the error came from the
preview or from the full load on the worker thread (a head-only preview of a big file can pass
and the whole file fail). Two files of different labelled datasets (two UCR ``_TRAIN`` files) are
refused by the engine with a merge fix; the window asks what was meant: merge them, train on the
first and test on the second, or open only the first. A UCR file opened while another labelled
dataset is loaded asks too: merge with it (another dataset), use it as the test set, or replace it.
"""

from __future__ import annotations

import logging
import os
import re

from PyQt5 import QtWidgets

from engine.data.options import Fix
from gui import dialogs
from gui.worker_messages import describe_exception

log = logging.getLogger(__name__)

MERGE = Fix("multi_file", "merge")
UCR_SPLIT = re.compile(r"_(TRAIN|TEST)$", re.IGNORECASE)  # an archive file's name: X_TRAIN.ext / X_TEST.ext


def _stem(path) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def error_message(exc) -> str:
    """A loading error in the window's words (DataError fixes named by the dialog's labels)."""
    render = getattr(exc, "render", None)
    return render("dialog") if render is not None else describe_exception(exc)


def error_fixes(exc) -> tuple:
    return tuple(Fix(*f) for f in getattr(exc, "fixes", ()) or ())


class LoadingIndicator(QtWidgets.QWidget):
    """ "loading X…" with a busy bar: the worker reads the whole file, the window stays responsive."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("loadingIndicator")
        self.label = QtWidgets.QLabel("")
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 0)  # busy: the loader reports no fraction
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.hide()

    def show_loading(self, what: str) -> None:
        self.label.setText(f"loading {what}…")
        self.show()


class DatasetOpening:
    """``open_paths`` and its answers from the worker (needs MainWindow's worker and set_dataset)."""

    def open_paths(self, paths, *, preview: bool = True, options: dict | None = None) -> bool:
        """Preview (optional), then load ``paths`` on the worker thread; False if refused."""
        paths = [os.fspath(p) for p in paths]
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            self._error("Cannot open", f"File not found: {missing[0]}. Check the path, or pick the file with File ▸ Open.")
            return False
        options = dict(options or {})
        if preview:
            answer = self._ask_about_second_dataset(paths)
            if answer is not None:
                return answer
            return self._preview_and_open(paths, options)
        self._load(paths, options)
        return True

    def _load(self, paths, options, offer_test: bool = False) -> None:
        self._load_request += 1  # a load still under way for an older request is void
        self._pending_load = (self._load_request, paths, options)
        self._offer_test = offer_test  # opened through the preview: offer X_TEST next to X_TRAIN
        what = ", ".join(os.path.basename(p) for p in paths)
        self._show_status(f"loading {what}…")
        self._loading_indicator().show_loading(what)
        self.worker.load_dataset(paths, options, self._load_request)

    def _loading_indicator(self) -> "LoadingIndicator":
        """A busy bar in the status bar while the worker loads (a big file takes seconds)."""
        if getattr(self, "_loading", None) is None:
            self._loading = LoadingIndicator()
            self.statusBar().addPermanentWidget(self._loading)
        return self._loading

    def _load_ended(self) -> None:
        if getattr(self, "_loading", None) is not None:
            self._loading.hide()

    def _preview_and_open(self, paths, options, error=None) -> bool:
        """The preview dialog (showing ``error``, the full load's, if given); True if a load began."""
        after_load, self._after_load = self._after_load, []  # kept only if the user goes on
        dialog = dialogs.PreviewDialog(paths, self, initial_options=options, initial_error=error)
        try:
            if dialog.preview is None and MERGE in dialog.fixes:
                return self._ask_merge(paths, options, dialog.error, after_load)
            if dialog.error is not None and not dialog.fixes:  # no option can get past it
                self._error("Cannot open", dialog.error)
                return False
            if dialog.error is not None:
                self._note_error(dialog.error)  # shown in the dialog, next to the options that fix it
            accepted = dialog.exec_() == QtWidgets.QDialog.Accepted and dialog.preview is not None
            options = dialog.options()
            dataset = dialog.dataset() if dialog.error is None else None
            use_suggested = dialog.suggested.use.isChecked()
        finally:
            dialog.deleteLater()
        if not accepted:
            return False
        self._after_load = after_load
        self._use_suggested_next = use_suggested  # for the dataset this opens (gui.suggested)
        if dataset is not None:  # the preview loaded it already with these options
            self._load_request += 1
            self.set_dataset(dataset, paths, options)
            self.offer_sibling_test_set()
            self._run_after_load()
        else:
            self._load(paths, options, offer_test=True)
        return True

    def _note_error(self, message: str) -> None:
        self.last_error = message
        log.warning("cannot open: %s", message)

    def _ask_merge(self, paths, options, message, after_load) -> bool:
        """Two labelled datasets in one open: merge, train on one and test on the other, or one only."""
        first, second = os.path.basename(paths[0]), os.path.basename(paths[-1])
        choices = [("merge", "Merge into one dataset")]
        if len(paths) == 2:
            choices.append(("test", f"Train on {first}, test on {second}"))
        choices.append(("first", f"Open only {first}"))
        answer = dialogs.ask_choice(self, "Two datasets?", f"{message}\n\nWhat did you mean?", choices)
        self._after_load = after_load
        if answer == "merge":
            return self.open_paths(paths, options={**options, "multi_file": "merge"})
        if answer == "test":
            self._after_load.append(lambda: self.open_test_set(paths[1]))
            return self.open_paths(paths[:1], options=options)
        if answer == "first":
            return self.open_paths(paths[:1], options=options)
        self._after_load = []
        self._show_status("nothing opened")
        return False

    def _ask_about_second_dataset(self, paths):
        """File ▸ Open of a UCR ``_TRAIN``/``_TEST`` file while another labelled one is loaded: merge
        (another dataset), use it as the test set, or replace. None: open it as usual."""
        if not (self.dataset is not None and self.dataset.task == "classify_sequence" and len(paths) == 1
                and len(self.dataset_paths) == 1 and UCR_SPLIT.search(_stem(paths[0]))):
            return None
        new, current = paths[0], self.dataset_paths[0]
        if os.path.abspath(new) == current:
            return None
        from engine.data.loading import dataset_stem

        name, loaded = os.path.basename(new), os.path.basename(current)
        choices = [] if dataset_stem(new) == dataset_stem(current) else [("merge", f"Merge with {loaded}")]
        choices += [("test", f"Use {name} as the test set"), ("replace", f"Open {name} instead")]
        answer = dialogs.ask_choice(self, "Another dataset file", f"{loaded} is open. What should {name} be?",
                                    choices)
        if answer == "merge":
            return self.open_paths([current, new], options={**self.dataset_options, "multi_file": "merge"})
        if answer == "test":
            return self.open_test_set(new)
        return None if answer == "replace" else False

    def _on_dataset_loaded(self, request_id: int, dataset) -> None:
        if request_id != self._load_request or self._closing:
            return
        self._load_ended()
        _, paths, options = self._pending_load
        self.set_dataset(dataset, paths, options)
        if self._offer_test:
            self.offer_sibling_test_set()
        self._run_after_load()

    def _run_after_load(self) -> None:
        actions, self._after_load = self._after_load, []
        for action in actions:
            action()

    def _on_dataset_failed(self, request_id: int, error) -> None:
        """The worker's load failed: a fixable error opens the preview dialog, others an error box."""
        if request_id != self._load_request or self._closing:
            return
        self._load_ended()
        _, paths, options = self._pending_load
        fixes = error_fixes(error)
        if MERGE in fixes and len(paths) > 1:
            self._ask_merge(paths, options, error_message(error), self._after_load)
        elif fixes:
            self._preview_and_open(paths, options, error=error)
        else:
            self._after_load = []
            self._error("Could not load the dataset",
                        error_message(error) + "\n\nThe current dataset and model are unchanged.")
