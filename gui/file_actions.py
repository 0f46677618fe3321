"""The window's file dialogs: open, checkpoints, exports, drag and drop (files and run folders), mixed in.

Each dialog only asks for a path and hands it to the window's own method (``open_paths``,
``open_checkpoint``, the worker's ``save_checkpoint``, ``export_history``, ``export_plot``), so tests
drive those methods directly. ``open_checkpoint`` validates the file completely before the current
run is touched: a bad checkpoint is an error box and the run goes on. A checkpoint trained on the
data framed otherwise (``engine.data.framing``) reframes the open data as it was trained
(``engine.checkpoint.framed_as``) and the status line says so.
"""

from __future__ import annotations

import os
import re

from PyQt5 import QtCore, QtGui, QtWidgets

from gui import dialogs, dock_export

FILE_FILTERS = ";;".join(
    [
        "All supported (*.csv *.tsv *.txt *.ts *.npy *.npz)",
        "CSV / TSV tables (*.csv *.tsv)",
        "UCR / sktime time series (*.tsv *.ts)",
        "Text (*.txt)",
        "NumPy arrays (*.npy *.npz)",
        "All files (*)",
    ]
)
CHECKPOINT_FILTER = "RNN Scope checkpoint (*.npz)"


class FileActions:
    """File ▸ dialogs of :class:`gui.main_window.MainWindow` (needs its worker, history and plots)."""

    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Open sequences", self.last_dir(), FILE_FILTERS)
        if paths:
            self.open_paths(paths)

    def open_run_folder_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open run folder", str(self.runs_dir()))
        if folder:
            self.open_run_folder(folder)

    def choose_runs_dir_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Runs folder", str(self.runs_dir()))
        if folder:
            self.set_runs_dir(folder)

    def _save_path(self, title: str, filters: str, default_name: str) -> str:
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(self, title, os.path.join(self.last_dir(), default_name),
                                                             filters)
        if path and not os.path.splitext(path)[1]:
            typed = re.search(r"\*(\.\w+)", chosen or "")  # the extension of the file type chosen
            path += typed.group(1) if typed else os.path.splitext(default_name)[1]
        return path

    def save_checkpoint_dialog(self) -> None:
        path = self._save_path("Save checkpoint", CHECKPOINT_FILTER, "checkpoint.npz")
        if path:
            self.worker.save_checkpoint(path)

    def load_checkpoint_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load checkpoint", self.last_dir(), CHECKPOINT_FILTER)
        if path:
            self.open_checkpoint(path)

    _checkpoint_note = ""  # e.g. "data reframed as the checkpoint was trained: ..." until the run has loaded

    def open_checkpoint(self, path: str, *, start: bool = False) -> bool:
        if self.dataset is None:
            self._error("No dataset", "Open the dataset the checkpoint was trained on first, then load the checkpoint.")
            return False
        checked = self._check_checkpoint(path)  # before anything of the current run is touched
        if checked is None:
            return False
        checkpoint, weights_only, dataset, note = checked
        if dataset is not self.dataset:  # framed as the checkpoint was trained: the window's data from now on
            test_path = self.test_set[0] if self.test_set else None
            self.set_dataset(dataset, self.dataset_paths, {**self.dataset_options, "frame": dataset.frame})
            if test_path:  # the open test set was framed like the old data: load it again, framed alike
                self.open_test_set(test_path)
        self._checkpoint_note = note
        return self._begin_run(start=start, checkpoint=checkpoint, weights_only=weights_only)

    def _take_checkpoint_note(self) -> str:
        """"; <note>" for the "checkpoint loaded" status line, once."""
        note, self._checkpoint_note = self._checkpoint_note, ""
        return f"; {note}" if note else ""

    def _check_checkpoint(self, path: str):
        """(validated Checkpoint, weights_only, the data framed as it was trained, a note or ""), or
        None after telling the user why not: a checkpoint of another dataset of the same shape is
        offered as a new run from its weights."""
        from engine.checkpoint import CheckpointDatasetMismatch, CheckpointError, framed_as, load
        from engine.training import Trainer

        try:
            ck = load(path)
            dataset, note = framed_as(ck, self.dataset)
            try:
                return Trainer.check_checkpoint(ck, dataset), False, dataset, note
            except CheckpointDatasetMismatch as exc:
                question = (f"{exc}\n\nStart a new run on {getattr(self.dataset, 'name', 'this dataset')} from "
                            "the checkpoint's weights (its history and optimizer state are left out)?")
                if not dialogs.confirm(self, "Checkpoint of another dataset", question):
                    self._show_status("checkpoint not loaded")
                    return None
                return Trainer.check_checkpoint(ck, dataset, weights_only=True), True, dataset, note
        except CheckpointError as exc:
            self._error("Cannot load checkpoint", str(exc))
            return None

    def export_history_dialog(self) -> None:
        path = self._save_path("Export loss history", "CSV (*.csv)", "loss-history.csv")
        if path:
            self.export_history(path)

    def export_history(self, path: str) -> str:
        """All runs of this session (earlier ones first), one row per epoch."""
        self._drain()  # epochs that arrived since the last frame belong in the file
        try:
            self.history.write_csv(path)
        except OSError as exc:
            self._error("Export failed", f"Could not write {path}: {exc.strerror or exc}. Choose another folder.")
            return ""
        self._show_status(f"loss history written to {path}")
        return path

    def export_plot_dialog(self, key: str) -> None:
        path = self._save_path("Export plot", dock_export.filters(key), dock_export.default_name(key))
        if path:
            self.export_plot(key, path)

    def export_plot(self, key: str, path: str) -> str:
        """File ▸ Export plot: dock ``key`` (gui.dock_export.EXPORTS) to ``path``."""
        try:
            self.flush_snapshot()
            dock_export.export_dock(self, key, path)
        except (OSError, ValueError) as exc:
            self._error("Export failed", str(exc))
            return ""
        self._show_status(f"plot written to {path}")
        return path

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            # After the drop returns: the preview dialog must not run inside the drag's event loop.
            QtCore.QTimer.singleShot(0, lambda: self.open_dropped(paths))

    def open_dropped(self, paths) -> None:
        """Dropped folders are run folders (opened as File ▸ Open run folder does); files are data."""
        folders = [p for p in paths if os.path.isdir(p)]
        files = [p for p in paths if not os.path.isdir(p)]
        for folder in folders:
            self.open_run_folder(folder)
        if files:
            self.open_paths(files)
