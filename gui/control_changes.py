"""What the window does with a change in the controls (ControlChanges, mixed into MainWindow).

A live setting goes through the run's one door (``worker.set_live`` -> ``Run.update``) and, when the
run took it, becomes a marker on the loss curve; a restart setting (cell, sizes, task, ...) asks
before it ends a run in progress, then starts a new run (or reshapes the idle panels). Uses the
window's worker, controls, loss plot, dataset, run state and ``_begin_run``.
"""

from __future__ import annotations

from engine.run_reader import MARKER_LABELS, change_text
from gui import dialogs
from gui.run_states import ACTIVE_STATES, LIVE_RUN, TRAINING


class ControlChanges:
    """Mixin of MainWindow: the slots of ControlPanel.sigLiveChanged and sigRestartNeeded."""

    def _on_live_changed(self, name: str, value) -> None:
        # the run's one door; it says what changed (the window keeps no copy of the settings)
        changed = self.worker.set_live(name, value)
        if name == "epochs":  # a longer (or shorter) run: same model, same compiled functions
            self.status_line.set_total(int(value))
            return
        if name not in MARKER_LABELS or name not in changed:
            return
        old, value = changed[name]
        if self.run_state in ACTIVE_STATES and self._run_points:
            text = change_text(name, old, value)
            self.loss_plot.add_marker(self._last_epoch, text)
            self._pending_changes.append(text)

    def _on_restart_needed(self, changes: dict) -> None:
        in_progress = self.run_state in ACTIVE_STATES and self._run_points > 0
        if in_progress:
            self._prepare_next_run(changes)  # compiled while the user reads the question
            what = ", ".join(f"{k.replace('_', ' ')} = {v}" for k, v in changes.items())
            if not dialogs.confirm(self, "Start a new run?",
                                   f"Changing {what} needs a new model. The current run ends (its curves stay "
                                   f"in grey). Start a new run?"):
                self.worker.cancel_prepare()
                self.controls.revert_last()
                return
        if "task" in changes and self.dataset is not None:
            try:
                dataset = self.dataset.with_task(changes["task"])
            except Exception as exc:
                self.controls.revert_last()
                self._error("Task not possible", str(exc))
                return
            self.dataset = dataset
            self.controls.set_dataset(dataset)
            self.predictions.set_task(dataset.task, getattr(dataset, "class_names", []))
        try:
            config = self.controls.config()
        except ValueError as exc:
            self.controls.revert_last()
            self._error("Invalid settings", str(exc))
            return
        if self.run_state in LIVE_RUN:
            self._begin_run(start=self.run_state in TRAINING)
        else:
            self._reset_hidden_panel(config)

    def _prepare_next_run(self, changes: dict) -> None:
        """The worker compiles the training step of the run the user is asked about (engine.precompile);
        a task change (another dataset view) or settings that do not fit together are left to the run."""
        if "task" in changes or self.dataset is None:
            return
        try:
            config = self.controls.config()
        except ValueError:
            return
        self.worker.prepare(config, self.dataset)
