"""The main window: docks, menus, run buttons, and the glue between worker, controls and plots.

The window never trains, compiles or loads data itself: those are commands to the worker, which
drives an ``engine.runs.Run``. Reports are drawn by a ~30 Hz frame (``gui.live_views``) with the
status line (``gui.status_line``); layout in ``gui.window_menus``, runs in ``gui.runs_panel``.

The run's state (``run_state``) is an ``engine.names.RunState``, or None before the first run;
``is_idle`` is True when no run can continue (none yet, or finished / stopped / failed).
"""

from __future__ import annotations

import logging
import os
import time

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001  (PyQt5 before pyqtgraph)

from engine.names import RunState
from gui import dialogs, divergence
from gui.control_changes import ControlChanges
from gui.controls import ControlPanel
from gui.dataset_open import DatasetOpening
from gui.file_actions import FileActions
from gui.graph_view import GraphView
from gui.insight_views import InsightViews
from gui.live_views import LiveViews
from gui.plots import DiagnosticsPlot, HiddenStatePanel, LossPlot, PredictionPanel, TextView
from gui.recent_files import RecentFiles
from gui.run_actions import RunActions
from gui.run_history import RunHistory, run_label
from gui.run_states import ENDED, LIVE_RUN, START_TEXT, TRAINING
from gui.run_summaries import new_run_folder
from gui.run_tools import RunTools
from gui.runs_panel import RunsPanel
from gui.status_line import StatusLine
from gui.suggested import SuggestedSettings
from gui.test_set_actions import TestSetActions
from gui.window_geometry import restore_layout, save_layout
from gui.window_menus import build_actions, build_docks, build_menus_and_toolbar
from gui.worker import TrainingWorker

log = logging.getLogger(__name__)

DRAW_INTERVAL_MS = 33  # ~30 Hz: hidden-state heatmaps, status bar, progress bar
CLOSE_TIMEOUT_MS = 1800  # closeEvent waits this long for the training thread (gui.app allows the rest)
MAX_IN_FLIGHT = 64  # reports the worker may queue ahead of the window before it waits
SAMPLE_LENGTH = 300
MAX_KEPT_RUNS = LossPlot.MAX_OVERLAY_RUNS  # earlier runs kept for CSV export: the ones still drawn in grey


class MainWindow(RunTools, DatasetOpening, TestSetActions, SuggestedSettings, FileActions, RunActions,
                 ControlChanges, QtWidgets.QMainWindow):
    """RNN Scope's window. ``worker`` may be injected (tests); by default one is started."""

    def __init__(self, config=None, *, worker: TrainingWorker | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("RNNScopeMainWindow")
        self.setWindowTitle("RNN Scope")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.settings = QtCore.QSettings()

        self._init_state()
        self._build_views(config)
        build_docks(self)
        build_actions(self)
        build_menus_and_toolbar(self)
        self.recent = RecentFiles(self.settings, self.recent_menu, self.open_paths)
        self.status_line = StatusLine(self.statusBar())
        self._install_run_tools()  # gui.run_tools: step progress, compile overlay, best weights, LR finder

        self.worker = worker or TrainingWorker(max_in_flight=MAX_IN_FLIGHT)
        self._connect_worker()
        self.worker.start_thread()

        self._connect_views()

        self.draw_timer = QtCore.QTimer(self)
        self.draw_timer.setInterval(DRAW_INTERVAL_MS)
        self.draw_timer.timeout.connect(self._draw)
        self.draw_timer.start()

        restore_layout(self, self.settings)  # a later launch: the user's size, place and docks
        self._update_actions()
        self._reset_hidden_panel()

    # ================================================================== construction
    def _init_state(self) -> None:
        """The window's bookkeeping of the dataset and the run it shows (the run itself is the worker's)."""
        self.dataset = None
        self.dataset_paths: list[str] = []
        self.dataset_options: dict = {}
        self.run_state: RunState | None = None
        self.last_error: str | None = None
        self.last_status: str = ""
        self._run_id = 0
        self._run_points = 0
        self._last_epoch = 0
        self._last_report = None
        self.history = RunHistory(MAX_KEPT_RUNS)
        self._incoming: list = []  # reports arrived since the last frame
        self._changes_at: dict = {}  # epoch -> live changes that took effect from it
        self._pending_changes: list[str] = []
        self._elapsed = 0.0
        self._tick = time.monotonic()
        self._load_request = 0
        self._after_load: list = []
        self._closing = False
        self._stepping = False  # the last command was Step: the worker's "paused" when done is awaited


    def _build_views(self, config) -> None:
        """The controls and the plots and docks' widgets (laid out by ``build_docks``)."""
        self.controls = ControlPanel(config)
        if config is None:
            self.controls.restore_settings(self.settings)
        else:  # the caller chose these settings: a dataset's suggestion leaves them
            self.controls.mark_explicit(config.to_dict())
        self.loss_plot = LossPlot()
        self.hidden_panel = HiddenStatePanel()
        self.text_view = TextView(self.hidden_panel)  # the probe text coloured by a unit (text data)
        self.graph_view = GraphView()  # the compiled training step (worker.sigGraph)
        self.diagnostics = DiagnosticsPlot()
        self.predictions = PredictionPanel()
        self.views = LiveViews(self.loss_plot, self.hidden_panel, self.diagnostics, self.predictions)
        self.runs_panel = RunsPanel(self.runs_dir())
        self.insight_views = InsightViews(self)  # saliency, trajectories, U's spectrum (docks)

    def _connect_views(self) -> None:
        self.controls.sigLiveChanged.connect(self._on_live_changed)
        self.controls.sigRestartNeeded.connect(self._on_restart_needed)
        self.controls.suggestion_bar.sigApply.connect(self.apply_suggested)
        self.predictions.sigSampleRequested.connect(self._on_sample_requested)
        self.runs_panel.sigCompareChanged.connect(
            lambda: self.loss_plot.set_compared(self.runs_panel.compared_curves()))
        self.runs_panel.sigMessage.connect(self._show_status)
        self.runs_panel.sigForkRequested.connect(self.fork_dialog)
        self.runs_panel.sigShowRequested.connect(self.show_run_folder)

    def _worker_connections(self) -> list:
        """(signal, slot) pairs: connected here, disconnected on close (one list for both)."""
        w = self.worker
        return [
            (w.sigRunEpoch, self._on_run_epoch),
            (w.sigRunState, self._on_run_state),
            (w.sigRunLoaded, self._on_fork_loaded),  # first: a fork may bring its own dataset
            (w.sigRunLoaded, self._on_run_loaded),
            (w.sigRunEvent, self._on_run_event),
            (w.sigStarted, self._on_started),
            (w.sigStatus, self._show_status),
            (w.sigGraph, self.graph_view.take),
            (w.sigError, self._on_worker_error),
            (w.sigDiverged, self._on_diverged),
            (w.sigSteered, self._on_steered),
            (w.sigPredictions, self._on_predictions),
            (w.sigSample, self._on_sample),
            (w.sigInferenceEpoch, self._on_inference_epoch),
            (w.sigLiveRefused, self._on_live_refused),
            (w.sigRolledBack, self._on_rolled_back),
            (w.sigCheckpointSaved, self._on_checkpoint_saved),
            (w.sigDatasetLoaded, self._on_dataset_loaded),
            (w.sigDatasetFailed, self._on_dataset_failed),
            (w.sigJobDone, self._on_job_done),
            *self._tool_connections(),
        ]

    def _connect_worker(self) -> None:
        for signal, slot in self._worker_connections():
            signal.connect(slot)

    # ================================================================== layout / settings
    def save_settings(self) -> None:
        save_layout(self, self.settings)
        self.controls.save_settings(self.settings)
        self.settings.sync()

    def recent_files(self) -> list[list[str]]:
        return self.recent.entries()

    def last_dir(self) -> str:
        return self.recent.last_dir()

    # ================================================================== datasets
    def set_dataset(self, dataset, paths=(), options=None) -> None:
        """Make ``dataset`` current: the current run ends (kept in grey on the loss plot)."""
        dataset, options = self._as_suggested(dataset, options)  # gui.suggested: framed as suggested
        if self.run_state in LIVE_RUN:
            self.worker.stop()
        self._close_current_run()
        self.dataset = dataset
        self.dataset_paths = [os.path.abspath(p) for p in paths] or list(getattr(dataset, "source_paths", []))
        self.dataset_options = dict(options or {})
        self.controls.set_dataset(dataset)
        self.predictions.set_task(dataset.task, getattr(dataset, "class_names", []))
        self._suggest_for_new_dataset(dataset)
        self._reset_hidden_panel()
        self.forget_test_set()
        if getattr(dataset, "is_text", False):
            self.docks["text"].raise_()
        self.run_state = None
        if self.dataset_paths:
            self.recent.add(self.dataset_paths, self.dataset_options)
        self.setWindowTitle(f"RNN Scope — {getattr(dataset, 'name', '')}")
        self._show_status(f"loaded {getattr(dataset, 'name', '')}: {dataset.n_sequences} sequence(s), task {dataset.task}")
        self._update_actions()

    # ================================================================== runs
    def current_config(self):
        """TrainingConfig from the controls; errors are shown and re-raised."""
        try:
            return self.controls.config()
        except ValueError as exc:
            self.controls.show_message(str(exc))
            self._error("Invalid settings", str(exc))
            raise

    def _reset_hidden_panel(self, config=None) -> None:
        try:
            config = config or self.controls.config()
        except ValueError:
            return
        self.hidden_panel.reset(config.hidden_sizes, config.cell)

    def _close_current_run(self) -> None:
        """Move the current run's curves to the grey overlays (if it has any points)."""
        if self.run_view is not None:
            self.run_view.detach()  # a run folder shown in the panels is not followed any more
        self._drain()  # the old run's last points belong to its curves
        self.views.draw_loss()
        if self._run_points:
            self.loss_plot.new_run(self.history.label)
        self.history.close_run()
        self.diagnostics.reset()
        self._incoming = []
        self._reset_run_tools()
        self.views.clear()
        self._changes_at = {}
        self._run_points = 0
        self._last_epoch = 0
        self._last_report = None
        self._pending_changes = []
        self._elapsed = 0.0

    def _begin_run(self, *, start: bool, checkpoint=None, weights_only: bool = False) -> bool:
        if self.dataset is None:
            self._error("No dataset", "Open a dataset first (File ▸ Open, or drop a file on the window).")
            return False
        try:
            config = self.current_config()
        except ValueError:
            return False
        folder = new_run_folder(self.runs_dir(), getattr(self.dataset, "name", "run"))
        # The worker first: it builds and compiles while the panels below are reset.
        if checkpoint:
            run_id = self.worker.load_checkpoint(checkpoint, self.dataset, paused=not start,
                                                 weights_only=weights_only, folder=folder)
        else:
            run_id = self.worker.new_run(config, self.dataset, paused=not start, folder=folder)
        self._close_current_run()
        self._run_id = run_id
        self._reset_hidden_panel(config)
        self.history.label = run_label(config, getattr(self.dataset, "name", ""))
        self.status_line.set_total(config.epochs)
        self._tick = time.monotonic()
        self.run_folder = folder
        self._test_run_started(self._run_id)  # periodic test scoring, when asked for
        self.graph_view.begin_run(self._run_id)
        if self.controls.probe_index():  # 0 is the Trainer's default
            self.worker.set_live("probe_index", self.controls.probe_index())
        self.run_state = RunState.COMPILING if start else RunState.READY
        self._stepping = False
        self._update_actions()
        return True

    def toggle_run(self) -> None:
        """Space: Start (new run) / Pause / Resume; a followed run shown in the panels: through its control.jsonl."""
        if self._steer_followed("toggle"):
            return
        self._stepping = False
        if self.is_idle:
            self._begin_run(start=True)
        elif self.run_state in TRAINING:
            self.worker.pause()
            self.run_state = RunState.PAUSED
        else:  # ready or paused
            self.worker.resume()
            self.run_state = RunState.RUNNING if self._run_points else RunState.COMPILING
            self._tick = time.monotonic()
        self._update_actions()

    def start(self) -> None:
        if self.is_idle or self.run_state in (RunState.READY, RunState.PAUSED):
            self.toggle_run()

    def pause(self) -> None:
        if self.run_state in TRAINING:
            self.toggle_run()

    def step_epoch(self) -> None:
        """Step: one epoch, then paused; a followed run shown in the panels: through its control.jsonl."""
        if self._steer_followed("step"):
            return
        if self.is_idle and not self._begin_run(start=False):
            return
        self.worker.step()
        self._stepping = True
        self.run_state = RunState.PAUSED if self._run_points else RunState.COMPILING
        self._update_actions()

    def stop_run(self) -> None:
        if self._steer_followed("stop"):
            return
        if not self.is_idle:
            self.worker.stop()
            self.run_state = RunState.STOPPED
            self._update_actions()

    def reset_weights(self) -> None:
        """Fresh weights with the current settings; keeps training if it was."""
        if self.dataset is None:
            return
        running = self.run_state in TRAINING
        self._begin_run(start=running)

    # ================================================================== worker signals
    def _on_run_epoch(self, run_id: int, report) -> None:
        """Arrival: O(1) bookkeeping only; the ~30 Hz timer draws (see ``_drain``)."""
        if run_id != self._run_id:
            return
        self.worker.ack_epoch()
        self._incoming.append(report)
        self._run_points += 1
        self._last_epoch = report.epoch
        if self._pending_changes:  # the first epoch after a live change carries it in the CSV
            self._changes_at[report.epoch] = "; ".join(self._pending_changes)
            self._pending_changes = []

    def _drain(self) -> None:
        """Book the reports that arrived since the last frame (history rows, pending plot data)."""
        reports, self._incoming = self._incoming, []
        if not reports:
            return
        self.views.take(reports)
        for r in reports:
            self.history.add(vars(r), self._changes_at.pop(r.epoch, ""))
        self._last_report = reports[-1]
        if self.dataset is not None and self.dataset.task == "next_token":
            self.worker.request_sample(SAMPLE_LENGTH, self.predictions.temperature(), self.predictions.prime())
        else:
            self.worker.request_predictions()

    def _on_run_state(self, run_id: int, state: str) -> None:
        if run_id != self._run_id:
            return
        state = RunState(state)
        if state in ENDED or state is RunState.READY:
            self.runs_panel.update_folder(self.run_folder)  # its row appears (READY), shows how it ended
        if state in ENDED:
            self.run_state = state
            self.status_line.show_now()  # the final numbers at once
            if state is RunState.FINISHED:
                self._show_status(self._finished_text())  # one slot: no half-told status between two
        elif state is RunState.RUNNING and self.run_state is RunState.COMPILING:
            self.run_state = RunState.RUNNING
        elif state is RunState.PAUSED and (self.run_state in (RunState.COMPILING, RunState.PAUSED) or self._stepping):
            self.run_state = RunState.PAUSED  # steps finished (user pauses are applied at once)
        elif state is RunState.READY and self.is_idle and self._run_points:
            self.run_state = RunState.PAUSED  # an ended run reopened by raising its epochs
            self._show_status(f"run extended to {self.status_line.progress.maximum()} epochs: Start continues it")
        # READY/COMPILING confirm what the window already shows; a RUNNING/PAUSED that crossed a
        # newer user command in the queue is ignored rather than undoing it.
        self._update_actions()

    @property
    def is_idle(self) -> bool:
        """No run that can continue: none yet, or the last one finished, stopped or failed."""
        return self.run_state is None or self.run_state in ENDED

    def _on_run_loaded(self, run_id: int, payload) -> None:
        if run_id != self._run_id:
            return
        config = payload.get("config")
        history = payload.get("history") or []
        if config is not None:
            self.controls.set_config(config)
            origin = payload.get("origin") or (" (weights from a checkpoint)" if payload.get("weights_only")
                                               else " (checkpoint)")
            self.history.label = run_label(config, getattr(self.dataset, "name", "")) + origin
            self._reset_hidden_panel(config)
            self.status_line.set_total(config.epochs)
        epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
        if epochs:
            self.loss_plot.extend(epochs, [row.get("train_loss") for row in history],
                                  [row.get("val_loss") for row in history])
            self._run_points = len(epochs)
            self._last_epoch = int(epochs[-1])
            self.status_line.show_epoch(self._last_epoch)
            for row in history:
                self.history.add(row)
        self._show_status(f"checkpoint loaded: epoch {self._last_epoch}" + self._take_checkpoint_note())

    def _on_started(self) -> None:
        try:
            from engine import backend

            self.status_line.show_backend(backend.describe())
        except Exception as exc:  # the label is informative only
            log.debug("backend description unavailable: %s", exc)

    def _on_checkpoint_saved(self, path: str) -> None:
        self._show_status(f"checkpoint saved to {path}")

    def _on_worker_error(self, message: str) -> None:
        self._error("Training error", message)

    def _on_diverged(self, message: str) -> None:
        self.run_state = RunState.PAUSED
        self._update_actions()
        self._show_status("diverged: paused")
        self.last_error = message
        report = self._incoming[-1] if self._incoming else self._last_report  # the diverged epoch's
        divergence.ask(self, message, report)

    def _on_rolled_back(self, run_id: int, epoch: int) -> None:
        if run_id == self._run_id:
            divergence.show_rolled_back(self, epoch)

    def _on_live_refused(self, run_id: int, name: str, value, reason: str) -> None:
        if run_id == self._run_id or not self._run_id:
            self._show_status(self.controls.reject(name, value, reason))

    def _on_inference_epoch(self, run_id: int, epoch: int) -> None:
        if run_id == self._run_id:
            self.views.prediction_epoch = epoch

    def _on_steered(self, run_id: int, state: str, what: str) -> None:
        """Another process (or the Runs dock) paused or resumed this run through its control.jsonl."""
        paused = state == RunState.PAUSED
        if run_id == self._run_id and (self.run_state in TRAINING if paused else self.run_state is RunState.PAUSED):
            self.run_state = RunState.PAUSED if paused else RunState.RUNNING
            self._update_actions()
            self._show_status(what)

    def _on_predictions(self, run_id: int, result) -> None:
        if run_id == self._run_id and self.dataset is not None:  # drawn on its turn (see _draw)
            self.views.take_prediction("predictions", result, self.dataset.class_names)

    def _on_sample(self, run_id: int, text) -> None:
        if run_id == self._run_id:
            self.views.take_prediction("sample", text)

    def _on_sample_requested(self, temperature: float, prime: str) -> None:
        self.worker.request_sample(SAMPLE_LENGTH, temperature, prime)

    # ================================================================== drawing (~30 Hz)
    def _draw(self) -> None:
        """~30 Hz frame: book arrivals, then update ONE plot that has news (see gui.live_views)."""
        self._drain()
        now = time.monotonic()
        if self.run_state in TRAINING:
            self._elapsed += now - self._tick
        self._tick = now
        self.views.draw_next()
        self.status_line.show_report(self._last_report, now)
        self.status_line.show_elapsed(self._elapsed)

    def flush_snapshot(self) -> None:
        """Draw everything pending now (tests, exports)."""
        self._drain()
        self.views.draw_all()
        self.status_line.show_now()
        self.status_line.show_report(self._last_report, time.monotonic())
        self.status_line.show_elapsed(self._elapsed)

    # ================================================================== actions state
    def _update_actions(self) -> None:
        followed = self._followed_state()  # a followed run shown in the panels: the toolbar steers it
        state = followed or self.run_state
        has_data = self.dataset is not None
        self.act_start.setText(START_TEXT.get(state, "&Start"))
        icon = QtWidgets.QStyle.SP_MediaPause if state in TRAINING else QtWidgets.QStyle.SP_MediaPlay
        self.act_start.setIcon(self.style().standardIcon(icon))
        self.act_start.setEnabled(has_data or followed is not None)
        self.act_step.setEnabled(has_data or followed is not None)
        self.act_stop.setEnabled(not self.is_idle or followed is not None)
        self.act_reset.setEnabled(has_data)
        self.act_load_ckpt.setEnabled(has_data)
        self.act_save_ckpt.setEnabled(self._run_points > 0 and self._run_id > 0)  # 0: a folder is shown
        # _run_points counts arrivals; the history only fills on the next frame (_drain)
        self.act_export_csv.setEnabled(bool(self._run_points or self.history.has_rows()))
        self._update_test_actions()

    def _show_status(self, text: str) -> None:
        self.last_status = text
        self.statusBar().showMessage(text, 8000)

    def _error(self, title: str, message: str) -> None:
        self.last_error = message
        log.warning("%s: %s", title, message)
        if not self._closing:
            dialogs.show_error(self, title, message)

    # ================================================================== closing
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._closing = True
        # Gone from the screen at once: the wait below may last until the exit deadline when
        # a compile is under way (it cannot be interrupted), and a frozen window is worse.
        self.hide()  # (xcb flushes the unmap itself; processing events here would run other slots)
        self.draw_timer.stop()
        dialogs.close_open_dialogs(self)  # its error boxes and tool dialogs go with it
        try:
            self.save_settings()
        except Exception as exc:  # never block closing
            log.warning("settings not saved: %s", exc)
        finished = self.worker.shutdown(timeout_ms=CLOSE_TIMEOUT_MS)
        if not finished:
            _LINGERING.append(self.worker)  # keep the QThread alive until it ends (see gui.app)
        for signal, slot in self._worker_connections():
            try:
                signal.disconnect(slot)
            except TypeError:
                pass
        super().closeEvent(event)


# Workers whose thread did not end within the close timeout (a compile cannot be interrupted).
# Holding them prevents "QThread: Destroyed while thread is still running"; gui.app waits for them.
_LINGERING: list[TrainingWorker] = []


def lingering_workers() -> list[TrainingWorker]:
    return [w for w in _LINGERING if w.is_thread_running()]
