"""Run ▸ Fork…, showing a run folder in the main panels, and the run's own events, mixed into
MainWindow (as gui.file_actions is).

Forking starts a new run (engine ``Run.fork``, built on the worker thread by gui.run_builder) from
the latest or best checkpoint of the current run or of a run in the Runs dock; the current run
ends first (its folder keeps everything). The run's events (``TrainingWorker.sigRunEvent``) keep
the window a view of the run: a setting changed through its control.jsonl (by another process or
window) shows in the controls and is marked on the curve, like a change made here.
"""

from __future__ import annotations

import os
from pathlib import Path

from PyQt5 import QtWidgets

from engine.names import RunState
from engine.run_reader import RunFolderError, marker_text, open_run, setting_text
from gui import dialogs
from gui.fork_dialog import FORKED_SETTINGS, ForkDialog, ForkSource
from gui.run_view import RunView
from gui.run_summaries import default_runs_dir, new_run_folder

MARKED_CONTROL_EVENTS = ("set", "pause", "resume", "stop")  # from control.jsonl: another process did it
_CAN_CONTINUE = (RunState.READY, RunState.COMPILING, RunState.RUNNING, RunState.PAUSED)


class RunActions:
    """Fork and run events of :class:`gui.main_window.MainWindow` (needs its worker, plots, controls)."""

    run_folder: Path | None = None  # the current run's folder (the window chose it)
    run_view: RunView | None = None  # a run folder shown in the main panels (made on first use)

    # ------------------------------------------------------------------ the runs folder, opening a run folder
    def runs_dir(self) -> Path:
        """Where window runs go and the Runs dock looks (setting ``runs/dir``; default under the data dir)."""
        return Path(str(self.settings.value("runs/dir", "") or default_runs_dir()))

    def set_runs_dir(self, folder) -> None:
        self.settings.setValue("runs/dir", os.fspath(folder))
        self.runs_panel.set_runs_dir(folder)

    def open_run_folder(self, folder, *, show: bool = True) -> bool:
        """Open a run folder (written here or elsewhere): listed in the Runs dock and shown in the main
        panels (``show``, unless the user keeps the current run: then overlaid)."""
        try:
            self.runs_panel.add_folder(folder)
        except (RunFolderError, OSError) as exc:
            self._error("Cannot open the run folder", str(exc))
            return False
        if not (show and self.show_run_folder(folder)):
            self.runs_panel.add_folder(folder, tick=True)
        self.docks["runs"].show()
        self.docks["runs"].raise_()
        return True

    # ------------------------------------------------------------------ a run folder in the main panels
    def show_run_folder(self, folder) -> bool:
        """Show a run folder's curves, markers, snapshots and predictions in the main panels; the
        window's own run ends first (asked when it could continue; its folder keeps it)."""
        try:
            reader = open_run(folder)
        except (RunFolderError, OSError) as exc:
            self._error("Cannot open the run folder", str(exc))
            return False
        if self.run_state in _CAN_CONTINUE:
            if self._run_points and not dialogs.confirm(
                    self, "Show the run folder?", f"Showing {reader.name} in the main panels ends the current "
                                                  f"run (its run folder keeps everything). Show it?"):
                return False
            self.worker.stop()
        if self.run_view is None:
            self.run_view = RunView(self)
        self.run_view.show(reader)
        self._show_status(f"showing {reader.name}" + (" (following it)" if self.run_view.following else ""))
        return True

    def _steer_followed(self, command: str) -> bool:
        """The toolbar's Pause/Resume (``"toggle"``), Step and Stop while a followed run is shown steer
        that run through its control.jsonl (gui.run_view.RunView.steer); False when none is shown."""
        return self.run_view is not None and self.run_view.steer(command)

    def _followed_state(self):
        """The shown, followed run's state for the toolbar, or None (the window's own run, if any, counts)."""
        return self.run_view.steered_state() if self.run_view is not None else None

    # ------------------------------------------------------------------ fork
    def fork_dialog(self, folder=None) -> bool:
        """Run ▸ Fork…: fork ``folder``, else the current run, else the run selected in the Runs dock."""
        source = self._fork_source(folder)
        if source is None:
            return False
        dialog = ForkDialog(source, self)
        accepted = dialog.exec_() == QtWidgets.QDialog.Accepted
        choice = dialog.choice
        dialog.deleteLater()
        if not accepted or choice is None:
            return False
        return self.fork_run(source.folder, checkpoint=choice.checkpoint, changes=choice.changes)

    def _fork_source(self, folder) -> ForkSource | None:
        if folder is None and self.run_folder is not None and self._run_points:
            return self._current_fork_source()
        if folder is None:
            selected = self.runs_panel.selected_runs()
            if len(selected) != 1:
                self._error("Nothing to fork", "Train a run first, or select one run in the Runs dock, then fork it.")
                return None
            folder = selected[0].folder
        try:
            reader = open_run(folder)
        except (RunFolderError, OSError) as exc:
            self._error("Cannot fork", str(exc))
            return None
        if reader.checkpoint_path is None and reader.best_path is None:
            self._error("Cannot fork", f"{reader.folder} has no checkpoint yet (it never finished an epoch).")
            return None
        return _reader_fork_source(reader)

    def _current_fork_source(self) -> ForkSource:
        config = self.worker.run_config()
        best = {}
        try:
            best = open_run(self.run_folder).meta.get("best") or {}
        except (RunFolderError, OSError):
            pass
        settings = {"learning_rate": config.learning_rate, "clip_norm": config.clip_norm,
                    "momentum": config.momentum, "epochs": config.epochs}
        return ForkSource(str(self.run_folder), self.history.label or "the current run", self._last_epoch,
                          best.get("epoch"), best.get("val_loss"), settings)

    def fork_run(self, source, *, checkpoint: str = "latest", changes=None, start: bool = True) -> bool:
        """Start a fork of the run folder ``source`` (engine Run.fork) as the window's run."""
        source = Path(source)
        try:
            parent = open_run(source)
        except (RunFolderError, OSError) as exc:
            self._error("Cannot fork", str(exc))
            return False
        self._close_current_run()
        dataset_name = (parent.meta.get("dataset") or {}).get("name") or getattr(self.dataset, "name", "run")
        folder = new_run_folder(self.runs_dir(), dataset_name)
        self._run_id = self.worker.fork_run(source, self.dataset, checkpoint=checkpoint, changes=changes,
                                            paused=not start, folder=folder)
        self.run_folder = folder
        self.history.label = f"fork of {parent.name}"
        self._pending_fork = dict(changes or {})
        self.run_state = RunState.COMPILING if start else RunState.READY
        self._stepping = False
        self._show_status(f"forking {parent.name} at its {checkpoint} checkpoint…")
        self._update_actions()
        return True

    def _on_fork_loaded(self, run_id: int, payload) -> None:
        """A fork is built: adopt its data if the window had other (or none), mark where it forked."""
        if run_id != self._run_id or "parent" not in payload:
            return
        dataset = payload.get("dataset")
        if dataset is not None and dataset is not self.dataset:
            self.dataset = dataset
            self.dataset_paths = list(getattr(dataset, "source_paths", None) or [])
            self.controls.set_dataset(dataset)
            self.predictions.set_task(dataset.task, getattr(dataset, "class_names", []))
            self.setWindowTitle(f"RNN Scope — {getattr(dataset, 'name', '')}")
        parent = payload["parent"]
        text = marker_text({"kind": "fork", "checkpoint": parent.get("checkpoint")})
        changes = getattr(self, "_pending_fork", {})
        if changes:
            text += ": " + ", ".join(setting_text(name, value) for name, value in changes.items())
        self.loss_plot.add_marker(parent.get("epoch") or 0, text)
        self._update_actions()

    # ------------------------------------------------------------------ the run's own events
    def _on_run_event(self, run_id: int, event) -> None:
        """What the run recorded; changes from its control.jsonl are shown and marked here."""
        if run_id != self._run_id or event.get("source") != "control":
            return
        kind = event.get("kind")
        if kind == "set" and event.get("name") in FORKED_SETTINGS:
            name, value = event["name"], event.get("new")
            self.controls.set_value(name, (value or 0.0) if name == "clip_norm" else value)
            if name == "epochs":
                self.status_line.set_total(int(value))
        text = marker_text(event)
        if kind in MARKED_CONTROL_EVENTS and text is not None:
            self.loss_plot.add_marker(event.get("epoch") or self._last_epoch, text)
            self._pending_changes.append(text)


def _reader_fork_source(reader) -> ForkSource:
    config = reader.meta.get("config") or {}
    last = reader.epochs[-1] if reader.epochs else {}
    settings = {name: last.get(name, config.get(name)) for name in FORKED_SETTINGS if name != "epochs"}
    settings["epochs"] = reader.meta.get("epochs") or config.get("epochs")
    best = reader.meta.get("best") or {}
    latest = int(reader.meta.get("epoch") or (last.get("epoch") or 0))
    has_best = reader.best_path is not None and best.get("epoch") is not None
    return ForkSource(str(reader.folder), reader.name, latest, best.get("epoch") if has_best else None,
                      best.get("val_loss") if has_best else None, settings)
