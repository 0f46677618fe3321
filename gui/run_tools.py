"""The window's side of progress within an epoch, the compile overlay, best weights and the
learning-rate finder; mixed into ``gui.main_window.MainWindow`` (like ``gui.file_actions``).

- StepReports (``worker.sigRunStep``) put the running training loss on the loss plot between
  epoch points and move the status bar's step bar with steps/s and an ETA when epochs are long.
- While a new model compiles, the old run's panels are greyed ("compiling new model…") until the
  new run's first training report.
- The loss plot marks the epoch of the lowest validation loss; Run ▸ Restore best weights puts
  those weights back (a finished run does it by itself, as headless mode does).
- Run ▸ Find Learning Rate… runs ``engine.lr_finder`` on the worker thread and "Apply" sets the
  rate through the run's one door (``worker.set_live``), like the learning-rate control.
"""

from __future__ import annotations

import math
import time

from engine.names import RunState
from gui.compile_overlay import CompileOverlay
from gui.lr_finder_dialog import LRFinderDialog
from gui.plots.run_marks import RunMarks
from gui.window_menus import make_action

LONG_EPOCH_S = 1.0  # the status bar follows StepReports once an epoch has run this long


class RunTools:
    """Mixin of MainWindow; ``_install_run_tools()`` is called once from its constructor."""

    def _install_run_tools(self) -> None:
        self.run_marks = RunMarks(self.loss_plot)
        self.views.loss_extras.append(self.run_marks.draw)  # drawn in the loss plot's frame
        self.compile_overlay = CompileOverlay([self.loss_plot, self.hidden_panel, self.diagnostics,
                                               self.predictions])
        self.lr_dialog: LRFinderDialog | None = None
        self._epoch_started_at = time.monotonic()
        self._best_val: dict = {}  # epoch -> validation loss, for the best-epoch marker
        self._restored_text = ""
        self.act_restore_best = make_action(self, "Restore &best weights", self.restore_best_weights, "Ctrl+B",
                                            "Put back the weights of the epoch with the lowest validation loss")
        self.act_find_lr = make_action(self, "Find &learning rate…", self.find_learning_rate_dialog, None,
                                       "Sweep the learning rate on a copy of the weights and suggest one")
        self.run_menu.addSeparator()
        self.run_menu.addAction(self.act_restore_best)
        self.run_menu.addAction(self.act_find_lr)

    def _tool_connections(self) -> list:
        w = self.worker
        return [(w.sigRunStep, self._on_run_step), (w.sigRunEpoch, self._on_epoch_marks),
                (w.sigRunState, self._on_state_overlay), (w.sigBestRestored, self._on_best_restored),
                (w.sigLRFinder, self._on_lr_finder)]

    # ------------------------------------------------------------------ a new run
    def _reset_run_tools(self) -> None:
        """The current run ended or was replaced: its marks go (its curves turn grey elsewhere)."""
        self.run_marks.clear()
        self.status_line.new_run()  # no epoch and no step bar until its first reports
        self._best_val = {}
        self._restored_text = ""
        self._epoch_started_at = time.monotonic()

    def _finished_text(self) -> str:
        """The status line of a finished run, with the best weights it ended on if restored."""
        text = f"finished after epoch {self._last_epoch}"
        return f"{text}; {self._restored_text}" if self._restored_text else text

    def _on_state_overlay(self, run_id: int, state: str) -> None:
        if run_id != self._run_id:
            return
        if state == RunState.COMPILING and not self._run_points:
            self.compile_overlay.show()
        elif state != RunState.COMPILING:
            self.compile_overlay.hide()  # ready, paused before the first step, failed, ...

    # ------------------------------------------------------------------ reports
    def _on_run_step(self, run_id: int, report) -> None:
        if run_id != self._run_id:
            return
        self.compile_overlay.hide()  # the new model trains: what is drawn from now on is its own
        now = time.monotonic()
        # A new model's first step (right after its compile), and long epochs: short epochs have
        # their epoch points, and a running curve on top would only cost paint time.
        if now - self._epoch_started_at >= LONG_EPOCH_S or (report.epoch == 1 and not self._run_points):
            self.run_marks.add_running(report)
            self.status_line.show_step(report, now)

    def _on_epoch_marks(self, run_id: int, report) -> None:
        if run_id != self._run_id:
            return
        self.compile_overlay.hide()
        now = time.monotonic()
        if now - self._epoch_started_at < LONG_EPOCH_S:
            self.status_line.reset_steps()  # short epochs: the epoch bar says it all
        self._epoch_started_at = now
        if math.isfinite(report.val_loss):
            self._best_val[report.epoch] = report.val_loss
        best = getattr(report, "best_epoch", 0)
        if best in self._best_val:
            self.run_marks.set_best(best, self._best_val[best])
            self._best_val = {best: self._best_val[best]}  # only the best can still be marked

    # ------------------------------------------------------------------ best weights
    def restore_best_weights(self) -> None:
        if self.run_state is None or not self.run_marks.best():
            self._show_status("no best weights yet: train at least one epoch with a validation loss")
            return
        self.worker.restore_best()

    def _on_best_restored(self, run_id: int, epoch: int) -> None:
        if run_id != self._run_id:
            return
        self.run_marks.mark_restored(epoch)
        best = self.run_marks.best()
        loss = f", validation loss {best[1]:.4g}" if best else ""
        self._restored_text = f"restored the best weights: epoch {epoch}{loss}"
        self._show_status(self._restored_text)

    # ------------------------------------------------------------------ learning-rate finder
    def find_learning_rate_dialog(self) -> None:
        if self.dataset is None:
            self._error("No dataset", "Open a dataset first (File ▸ Open, or drop a file on the window).")
            return
        if self.is_idle and not self._begin_run(start=False):  # a model to sweep: a new run, paused
            return
        if self.run_state in (RunState.RUNNING, RunState.COMPILING):
            self.pause()  # the sweep uses the worker: training waits for it anyway
        if self.lr_dialog is not None:
            self.lr_dialog.close()
            self.lr_dialog.deleteLater()
        self.lr_dialog = LRFinderDialog(self)
        self.lr_dialog.sigApply.connect(self._apply_learning_rate)
        self.lr_dialog.show()
        self._lr_run = self._run_id
        self.worker.find_learning_rate()

    def _on_lr_finder(self, run_id: int, payload: dict) -> None:
        dialog = self.lr_dialog
        if dialog is None or run_id != getattr(self, "_lr_run", None):
            return
        if "done" in payload:
            dialog.show_progress(payload["done"], payload["steps"])
        elif "result" in payload:
            dialog.show_result(payload["result"])
            self._show_status(payload["result"].note)
        elif "error" in payload:
            dialog.show_error(payload["error"])

    def _apply_learning_rate(self, rate: float) -> None:
        """The dialog's Apply: the control shows it and the run takes it through its one door."""
        self.controls.set_value("learning_rate", float(rate))
        self._on_live_changed("learning_rate", float(rate))
        self._show_status(f"learning rate set to {rate:.3g} (from the learning-rate finder)")
