"""The main window: docks, menus, run buttons, and the glue between worker, controls and plots.

The window never trains, compiles or loads data itself: those are commands to the
:class:`~gui.worker.TrainingWorker`. It keeps only what it draws: every loss point is appended
on arrival, but the hidden-state snapshot is coalesced to the latest one and drawn by a ~30 Hz
timer, together with the status bar and the progress bar.

Run states (``run_state``): ``idle`` (no run, or the last one finished/stopped), ``ready`` (a
fresh Trainer waits at epoch 0), ``compiling``, ``running``, ``paused``.
"""

from __future__ import annotations

import json
import logging
import os
import time

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001  (PyQt5 before pyqtgraph)
from PyQt5.QtCore import Qt

from engine.run_folder import write_metrics_csv
from gui import dialogs
from gui.controls import ControlPanel, format_hidden_sizes
from gui.plots import DiagnosticsPlot, HiddenStatePanel, LossPlot, PredictionPanel, export_plot
from gui.worker import TrainingWorker

log = logging.getLogger(__name__)

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
IMAGE_FILTERS = "PNG image (*.png);;SVG image (*.svg)"
MAX_RECENT = 8
DRAW_INTERVAL_MS = 33  # ~30 Hz: hidden-state heatmaps, status bar, progress bar
CLOSE_TIMEOUT_MS = 1800  # closeEvent waits this long for the training thread (gui.app allows the rest)
MAX_IN_FLIGHT = 64  # reports the worker may queue ahead of the window before it waits
MAX_DIAGNOSTIC_POINTS_PER_FRAME = 4
DIAGNOSTICS_INTERVAL_S = 0.25
STATUS_INTERVAL_S = 0.2  # status-bar text at most this often: each change re-lays out the bar
SAMPLE_LENGTH = 300
ACTIVE_STATES = ("compiling", "running", "paused")
HISTORY_EXTRA_COLUMNS = ("run", "changes")  # after the run folder's metrics columns (engine.run_folder)
MAX_KEPT_RUNS = LossPlot.MAX_OVERLAY_RUNS  # earlier runs kept for CSV export: the ones still drawn in grey
LIVE_LABELS = {"learning_rate": "lr", "clip_norm": "clip", "momentum": "momentum"}


def run_label(config, dataset_name: str = "") -> str:
    """Legend text for a run: its settings in one line."""
    clip = f"{config.clip_norm:g}" if config.clip_norm else "off"
    text = (
        f"{config.cell} {format_hidden_sizes(config.hidden_sizes)} · {config.optimizer} "
        f"lr={config.learning_rate:.3g} · batch {config.batch_size} · clip {clip}"
    )
    return f"{text} · {dataset_name}" if dataset_name else text


class MainWindow(QtWidgets.QMainWindow):
    """RNN Scope's window. ``worker`` may be injected (tests); by default one is started."""

    def __init__(self, config=None, *, worker: TrainingWorker | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("RNNScopeMainWindow")
        self.setWindowTitle("RNN Scope")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.settings = QtCore.QSettings()

        self.dataset = None
        self.dataset_paths: list[str] = []
        self.dataset_options: dict = {}
        self.run_state = "idle"
        self.last_error: str | None = None
        self.last_status: str = ""
        self._run_id = 0
        self._run_config = None
        self._run_label = ""
        self._run_points = 0
        self._last_epoch = 0
        self._last_report = None
        self._latest_snapshot = None
        self._history: list[dict] = []  # Trainer.history-style rows of the current run, plus run and changes
        self._incoming: list = []  # reports arrived since the last frame
        self._loss_pending: list = []  # reports not yet on the loss plot
        self._diagnostics_pending: list = []
        self._prediction_pending = None  # ("predictions", dict) | ("sample", text), latest only
        self._phase = 0  # which plot the next frame updates first
        self._diagnostics_drawn_at = float("-inf")
        self._shown_report = None  # the report the status bar shows
        self._status_shown_at = float("-inf")
        self._changes_at: dict = {}  # epoch -> live changes that took effect from it
        self._earlier_runs: list[list[tuple]] = []
        self._pending_changes: list[str] = []
        self._elapsed = 0.0
        self._tick = time.monotonic()
        self._load_request = 0
        self._after_load: list = []
        self._closing = False

        self.controls = ControlPanel(config)
        if config is None:
            self.controls.restore_settings(self.settings)
        self.loss_plot = LossPlot()
        self.hidden_panel = HiddenStatePanel()
        self.diagnostics = DiagnosticsPlot()
        self.predictions = PredictionPanel()
        self._build_docks()
        self._build_actions()
        self._build_menus_and_toolbar()
        self._build_status_bar()

        self.worker = worker or TrainingWorker(max_in_flight=MAX_IN_FLIGHT)
        self._connect_worker()
        self.worker.start_thread()

        self.controls.sigLiveChanged.connect(self._on_live_changed)
        self.controls.sigRestartNeeded.connect(self._on_restart_needed)
        self.predictions.sigSampleRequested.connect(self._on_sample_requested)

        self._painters = (self._draw_loss, self._draw_hidden, self._draw_diagnostics, self._draw_predictions)
        self.draw_timer = QtCore.QTimer(self)
        self.draw_timer.setInterval(DRAW_INTERVAL_MS)
        self.draw_timer.timeout.connect(self._draw)
        self.draw_timer.start()

        self._restore_layout()
        self._update_actions()
        self._reset_hidden_panel()

    # ================================================================== construction
    def _build_docks(self) -> None:
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        specs = [
            ("controls", "Controls", self.controls, Qt.LeftDockWidgetArea),
            ("loss", "Loss", self.loss_plot, Qt.RightDockWidgetArea),
            ("hidden", "Hidden states", self.hidden_panel, Qt.RightDockWidgetArea),
            ("diagnostics", "Diagnostics", self.diagnostics, Qt.RightDockWidgetArea),
            ("predictions", "Predictions", self.predictions, Qt.RightDockWidgetArea),
        ]
        for key, title, widget, area in specs:
            dock = QtWidgets.QDockWidget(title, self)
            dock.setObjectName(f"dock_{key}")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks[key] = dock
        self.splitDockWidget(self.docks["loss"], self.docks["hidden"], Qt.Horizontal)
        self.splitDockWidget(self.docks["loss"], self.docks["diagnostics"], Qt.Vertical)
        self.splitDockWidget(self.docks["hidden"], self.docks["predictions"], Qt.Vertical)
        self.resize(1560, 960)
        self.resizeDocks([self.docks["controls"], self.docks["loss"], self.docks["hidden"]], [380, 560, 620],
                         Qt.Horizontal)
        self.resizeDocks([self.docks["loss"], self.docks["diagnostics"]], [520, 340], Qt.Vertical)
        self.resizeDocks([self.docks["hidden"], self.docks["predictions"]], [560, 300], Qt.Vertical)

    def _action(self, text, slot, shortcut=None, tip=None, icon=None) -> QtWidgets.QAction:
        action = QtWidgets.QAction(text, self)
        if shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        sp = QtWidgets.QStyle
        self.act_open = self._action("&Open…", self.open_dialog, "Ctrl+O", "Open sequence file(s)", sp.SP_DialogOpenButton)
        self.act_save_ckpt = self._action("&Save checkpoint…", self.save_checkpoint_dialog, "Ctrl+S",
                                          "Save the current run's weights and history")
        self.act_load_ckpt = self._action("&Load checkpoint…", self.load_checkpoint_dialog, "Ctrl+L",
                                          "Continue a saved run on the current dataset")
        self.act_export_csv = self._action("Export loss &history (CSV)…", self.export_history_dialog, None,
                                           "Loss per epoch with hyperparameter changes")
        self.act_quit = self._action("&Quit", self.close, "Ctrl+Q")
        self.act_start = self._action("&Start", self.toggle_run, "Space", "Start / pause / resume training",
                                      sp.SP_MediaPlay)
        self.act_step = self._action("Step &one epoch", self.step_epoch, "F10", "Train one epoch, then pause",
                                     sp.SP_MediaSeekForward)
        self.act_stop = self._action("S&top", self.stop_run, "Shift+F5", "End this run", sp.SP_MediaStop)
        self.act_reset = self._action("&Reset weights", self.reset_weights, "Ctrl+R",
                                      "Fresh initial weights, same settings (new run)", sp.SP_BrowserReload)
        self.act_log_y = QtWidgets.QAction("&Log-scale loss", self, checkable=True)
        self.act_log_y.toggled.connect(self.loss_plot.set_log_y)

    def _build_menus_and_toolbar(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addSeparator()
        file_menu.addAction(self.act_save_ckpt)
        file_menu.addAction(self.act_load_ckpt)
        file_menu.addSeparator()
        file_menu.addAction(self.act_export_csv)
        export_menu = file_menu.addMenu("Export &plot (PNG/SVG)")
        for key, title in (("loss", "Loss"), ("hidden", "Hidden states"), ("diagnostics", "Diagnostics"),
                           ("predictions", "Predictions")):
            export_menu.addAction(self._action(f"{title}…", lambda key=key: self.export_plot_dialog(key)))
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        run_menu = bar.addMenu("&Run")
        for action in (self.act_start, self.act_step, self.act_stop, self.act_reset):
            run_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.act_log_y)
        smooth_menu = view_menu.addMenu("Loss &smoothing")
        group = QtWidgets.QActionGroup(self)
        for window in (0, 5, 20, 100):
            action = QtWidgets.QAction("off" if window == 0 else f"{window} epochs", self, checkable=True)
            action.setChecked(window == 0)
            action.triggered.connect(lambda _c=False, w=window: self.loss_plot.set_smoothing(w))
            group.addAction(action)
            smooth_menu.addAction(action)
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())

        self.toolbar = self.addToolBar("Run")
        self.toolbar.setObjectName("toolbar_run")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.toolbar.addAction(self.act_open)
        self.toolbar.addSeparator()
        for action in (self.act_start, self.act_step, self.act_stop, self.act_reset):
            self.toolbar.addAction(action)
        self._rebuild_recent_menu()

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("epoch %v / %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.lbl_epoch = QtWidgets.QLabel("epoch –")
        self.lbl_loss = QtWidgets.QLabel("loss –")
        self.lbl_rate = QtWidgets.QLabel("– seq/s")
        self.lbl_elapsed = QtWidgets.QLabel("0:00")
        self.lbl_backend = QtWidgets.QLabel("backend: not started")
        for widget in (self.lbl_epoch, self.lbl_loss, self.lbl_rate, self.lbl_elapsed, self.lbl_backend,
                       self.progress):
            status.addPermanentWidget(widget)

    def _worker_connections(self) -> list:
        """(signal, slot) pairs: connected here, disconnected on close (one list for both)."""
        w = self.worker
        return [
            (w.sigRunEpoch, self._on_run_epoch),
            (w.sigRunState, self._on_run_state),
            (w.sigRunLoaded, self._on_run_loaded),
            (w.sigStarted, self._on_started),
            (w.sigStatus, self._show_status),
            (w.sigError, self._on_worker_error),
            (w.sigDiverged, self._on_diverged),
            (w.sigPredictions, self._on_predictions),
            (w.sigSample, self._on_sample),
            (w.sigCheckpointSaved, self._on_checkpoint_saved),
            (w.sigDatasetLoaded, self._on_dataset_loaded),
            (w.sigDatasetFailed, self._on_dataset_failed),
        ]

    def _connect_worker(self) -> None:
        for signal, slot in self._worker_connections():
            signal.connect(slot)

    # ================================================================== layout / settings
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.controls.save_settings(self.settings)
        self.settings.sync()

    def recent_files(self) -> list[list[str]]:
        text = self.settings.value("recent_files", "")
        try:
            entries = json.loads(str(text)) if text else []
        except ValueError:
            entries = []
        return [list(map(str, e)) for e in entries if isinstance(e, list) and e][:MAX_RECENT]

    def _add_recent(self, paths) -> None:
        entry = [os.path.abspath(p) for p in paths]
        entries = [e for e in self.recent_files() if e != entry]
        entries.insert(0, entry)
        self.settings.setValue("recent_files", json.dumps(entries[:MAX_RECENT]))
        self.settings.setValue("last_dir", os.path.dirname(entry[0]))
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = self.recent_files()
        for entry in entries:
            label = " + ".join(os.path.basename(p) for p in entry)
            action = self.recent_menu.addAction(label)
            action.setToolTip("\n".join(entry))
            action.triggered.connect(lambda _c=False, e=entry: self.open_paths(e))
        self.recent_menu.setEnabled(bool(entries))

    def last_dir(self) -> str:
        return str(self.settings.value("last_dir", "") or os.getcwd())

    # ================================================================== datasets
    def open_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Open sequences", self.last_dir(), FILE_FILTERS)
        if paths:
            self.open_paths(paths)

    def open_paths(self, paths, *, preview: bool = True, options: dict | None = None) -> bool:
        """Preview (optional), then load ``paths`` on the worker thread; False if refused."""
        paths = [os.fspath(p) for p in paths]
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            self._error("Cannot open", f"File not found: {missing[0]}. Check the path, or pick the file with File ▸ Open.")
            return False
        options = dict(options or {})
        if preview:
            dialog = dialogs.PreviewDialog(paths, self, initial_options=options)
            if dialog.preview is None and dialog.error:
                self._error("Cannot open", dialog.error)
                dialog.deleteLater()
                return False
            accepted = dialog.exec_() == QtWidgets.QDialog.Accepted
            options = dialog.options()
            dataset = dialog.dataset() if dialog.error is None else None
            dialog.deleteLater()
            if not accepted:
                return False
            if dataset is not None:  # the preview loaded it already with these options
                self._load_request += 1  # a load still under way for an older request is void
                self.set_dataset(dataset, paths, options)
                self._run_after_load()
                return True
        self._load_request += 1
        self._pending_load = (self._load_request, paths, options)
        self._show_status(f"loading {', '.join(os.path.basename(p) for p in paths)}…")
        self.worker.load_dataset(paths, options, self._load_request)
        return True

    def _on_dataset_loaded(self, request_id: int, dataset) -> None:
        if request_id != self._load_request or self._closing:
            return
        _, paths, options = self._pending_load
        self.set_dataset(dataset, paths, options)
        self._run_after_load()

    def _run_after_load(self) -> None:
        actions, self._after_load = self._after_load, []
        for action in actions:
            action()

    def _on_dataset_failed(self, request_id: int, message: str) -> None:
        if request_id != self._load_request:
            return
        self._after_load = []
        self._error("Could not load the dataset", message + "\n\nThe current dataset and model are unchanged.")

    def set_dataset(self, dataset, paths=(), options=None) -> None:
        """Make ``dataset`` current: the current run ends (kept in grey on the loss plot)."""
        if self.run_state in ACTIVE_STATES or self.run_state == "ready":
            self.worker.stop()
        self._close_current_run()
        self.dataset = dataset
        self.dataset_paths = [os.path.abspath(p) for p in paths] or list(getattr(dataset, "source_paths", []))
        self.dataset_options = dict(options or {})
        self.controls.set_dataset(dataset)
        self.predictions.set_task(dataset.task, getattr(dataset, "class_names", []))
        self._reset_hidden_panel()
        self.run_state = "idle"
        if self.dataset_paths:
            self._add_recent(self.dataset_paths)
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
        self._drain()  # the old run's last points belong to its curves
        self._draw_loss()
        if self._run_points:
            self.loss_plot.new_run(self._run_label)
            self._earlier_runs.append(self._history)
            del self._earlier_runs[:-MAX_KEPT_RUNS]
        self.diagnostics.reset()
        self._incoming = []
        self._loss_pending = []
        self._diagnostics_pending = []
        self._prediction_pending = None
        self._changes_at = {}
        self._history = []
        self._run_points = 0
        self._last_epoch = 0
        self._last_report = None
        self._latest_snapshot = None
        self._pending_changes = []
        self._elapsed = 0.0

    def _begin_run(self, *, start: bool, checkpoint: str | None = None) -> bool:
        if self.dataset is None:
            self._error("No dataset", "Open a dataset first (File ▸ Open, or drop a file on the window).")
            return False
        try:
            config = self.current_config()
        except ValueError:
            return False
        self._close_current_run()
        self._reset_hidden_panel(config)
        self._run_config = config
        self._run_label = run_label(config, getattr(self.dataset, "name", ""))
        self.progress.setRange(0, config.epochs)
        self.progress.setValue(0)
        self._tick = time.monotonic()
        if checkpoint:
            self._run_id = self.worker.load_checkpoint(checkpoint, self.dataset, paused=not start)
        else:
            self._run_id = self.worker.new_run(config, self.dataset, paused=not start)
        if self.controls.probe_index():  # 0 is the Trainer's default
            self.worker.set_live("probe_index", self.controls.probe_index())
        self.run_state = "compiling" if start else "ready"
        self._update_actions()
        return True

    def toggle_run(self) -> None:
        """Space: Start (new run) / Pause / Resume."""
        if self.run_state == "idle":
            self._begin_run(start=True)
        elif self.run_state in ("running", "compiling"):
            self.worker.pause()
            self.run_state = "paused"
        else:  # ready or paused
            self.worker.resume()
            self.run_state = "running" if self._run_points else "compiling"
            self._tick = time.monotonic()
        self._update_actions()

    def start(self) -> None:
        if self.run_state in ("idle", "ready", "paused"):
            self.toggle_run()

    def pause(self) -> None:
        if self.run_state in ("running", "compiling"):
            self.toggle_run()

    def step_epoch(self) -> None:
        if self.run_state == "idle" and not self._begin_run(start=False):
            return
        self.worker.step()
        self.run_state = "paused" if self._run_points else "compiling"
        self._update_actions()

    def stop_run(self) -> None:
        if self.run_state != "idle":
            self.worker.stop()
            self.run_state = "idle"
            self._update_actions()

    def reset_weights(self) -> None:
        """Fresh weights with the current settings; keeps training if it was."""
        if self.dataset is None:
            return
        running = self.run_state in ("running", "compiling")
        self._begin_run(start=running)

    def open_checkpoint(self, path: str, *, start: bool = False) -> bool:
        if self.dataset is None:
            self._error("No dataset", "Open the dataset the checkpoint was trained on first, then load the checkpoint.")
            return False
        return self._begin_run(start=start, checkpoint=path)

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
        self._loss_pending.extend(reports)
        self._diagnostics_pending.extend(reports)
        for r in reports:
            self._history.append(self._history_row(r.to_history(), self._changes_at.pop(r.epoch, "")))
        last = reports[-1]
        self._last_report = last
        self._latest_snapshot = (last.epoch, last.hidden, last.gates)
        if self.dataset is not None and self.dataset.task == "next_token":
            self.worker.request_sample(SAMPLE_LENGTH, self.predictions.temperature(), self.predictions.prime())
        else:
            self.worker.request_predictions()

    def _history_row(self, entry: dict, changes: str = "") -> dict:
        """One exported row of the current run from a ``Trainer.history`` entry."""
        return {**entry, "run": self._run_label, "changes": changes}

    # One plot per frame, round robin (see _draw): each returns True if it changed something.
    def _draw_loss(self) -> bool:
        reports, self._loss_pending = self._loss_pending, []
        if not reports:
            return False
        self.loss_plot.extend([r.epoch for r in reports], [r.train_loss for r in reports],
                              [r.val_loss for r in reports])
        return True

    def _draw_hidden(self) -> bool:
        snapshot, self._latest_snapshot = self._latest_snapshot, None
        if snapshot is None:
            return False
        epoch, hidden, gates = snapshot
        try:
            self.hidden_panel.set_snapshot(epoch, hidden, gates)
        except ValueError as exc:  # shapes of a run that was just replaced
            log.debug("snapshot skipped: %s", exc)
        return True

    def _draw_diagnostics(self) -> bool:
        now = time.monotonic()
        # Two log-scale plots with legends: the most expensive paint, and a trend view.
        if not self._diagnostics_pending or now - self._diagnostics_drawn_at < DIAGNOSTICS_INTERVAL_S:
            return False
        self._diagnostics_drawn_at = now
        reports, self._diagnostics_pending = self._diagnostics_pending, []
        # A few points per frame, always the newest, so a model doing 1000 epochs/s cannot stall
        # the window (loss points are all kept); one setData per curve for all of them.
        step = max(1, -(-len(reports) // MAX_DIAGNOSTIC_POINTS_PER_FRAME))
        self.diagnostics.add_reports((r.epoch, r.grad_norms, r.weight_norms) for r in reports[::-1][::step][::-1])
        return True

    def _draw_predictions(self) -> bool:
        pending, self._prediction_pending = self._prediction_pending, None
        if pending is None or self.dataset is None:
            return False
        kind, result = pending
        try:
            if kind == "sample":
                self.predictions.set_text_sample(result if isinstance(result, str) else str(result))
            elif "pred" in result and "true" in result:
                self.predictions.update_classification(result["true"], result["pred"], self.dataset.class_names)
            elif "forecast" in result and "actual" in result:
                self.predictions.update_forecast(result["actual"], result["forecast"])
        except Exception as exc:
            log.warning("predictions not drawn: %s", exc)
        return True

    def _on_run_state(self, run_id: int, state: str) -> None:
        if run_id != self._run_id:
            return
        if state in ("finished", "stopped", "failed"):
            self.run_state = "idle"
            self._status_shown_at = float("-inf")  # show the final numbers at once
            if state == "finished":
                self._show_status(f"finished after epoch {self._last_epoch}")
        elif state == "running" and self.run_state == "compiling":
            self.run_state = "running"
        elif state == "paused" and self.run_state in ("compiling", "paused"):
            self.run_state = "paused"  # a step finished (user pauses are applied at once)
        elif state == "ready" and self.run_state == "idle" and self._run_points:
            self.run_state = "paused"  # an ended run reopened by raising its epochs
            self._show_status(f"run extended to {self.progress.maximum()} epochs: Start continues it")
        # "ready"/"compiling" confirm what the window already shows; a "running"/"paused" that
        # crossed a newer user command in the queue is ignored rather than undoing it.
        self._update_actions()

    def _on_run_loaded(self, run_id: int, payload) -> None:
        if run_id != self._run_id:
            return
        config = payload.get("config")
        history = payload.get("history") or []
        if config is not None:
            self.controls.set_config(config)
            self._run_config = config
            self._run_label = run_label(config, getattr(self.dataset, "name", "")) + " (checkpoint)"
            self._reset_hidden_panel(config)
            self.progress.setRange(0, config.epochs)
        epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
        if epochs:
            self.loss_plot.extend(epochs, [row.get("train_loss") for row in history],
                                  [row.get("val_loss") for row in history])
            self._run_points = len(epochs)
            self._last_epoch = int(epochs[-1])
            self.progress.setValue(min(self._last_epoch, self.progress.maximum()))
            self._history.extend(self._history_row(row) for row in history)
        self._show_status(f"checkpoint loaded: epoch {self._last_epoch}")

    def _on_started(self) -> None:
        try:
            from engine import backend

            self.lbl_backend.setText(backend.describe())
        except Exception as exc:  # the label is informative only
            log.debug("backend description unavailable: %s", exc)

    def _on_checkpoint_saved(self, path: str) -> None:
        self._show_status(f"checkpoint saved to {path}")

    def _on_worker_error(self, message: str) -> None:
        self._error("Training error", message)

    def _on_diverged(self, message: str) -> None:
        self.run_state = "paused"
        self._update_actions()
        self._show_status("diverged: paused")
        self.last_error = message
        dialogs.show_warning(self, "Training diverged", message)

    def _on_predictions(self, run_id: int, result) -> None:
        if run_id == self._run_id:
            self._prediction_pending = ("predictions", result)  # drawn on its turn (see _draw)

    def _on_sample(self, run_id: int, text) -> None:
        if run_id == self._run_id:
            self._prediction_pending = ("sample", text)

    def _on_sample_requested(self, temperature: float, prime: str) -> None:
        self.worker.request_sample(SAMPLE_LENGTH, temperature, prime)

    # ================================================================== controls
    def _on_live_changed(self, name: str, value) -> None:
        self.worker.set_live(name, value)
        if name == "epochs":  # a longer (or shorter) run: same model, same compiled functions
            if self._run_config is not None:
                self._run_config = self._run_config.replace(epochs=int(value))
            self.progress.setRange(0, int(value))
            self.progress.setValue(min(self._last_epoch, int(value)))
            return
        if name not in LIVE_LABELS or self._run_config is None:
            return
        old = getattr(self._run_config, name, None)
        self._run_config = self._run_config.replace(**{name: value})
        if self.run_state in ACTIVE_STATES and self._run_points:
            fmt = (lambda v: "off" if not v else f"{v:.3g}")
            text = f"{LIVE_LABELS[name]} {fmt(old)} → {fmt(value)}"
            self.loss_plot.add_marker(self._last_epoch, text)
            self._pending_changes.append(text)

    def _on_restart_needed(self, changes: dict) -> None:
        in_progress = self.run_state in ACTIVE_STATES and self._run_points > 0
        if in_progress:
            what = ", ".join(f"{k.replace('_', ' ')} = {v}" for k, v in changes.items())
            if not dialogs.confirm(self, "Start a new run?",
                                   f"Changing {what} needs a new model. The current run ends (its curves stay "
                                   f"in grey). Start a new run?"):
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
        if self.run_state in ACTIVE_STATES or self.run_state == "ready":
            self._begin_run(start=self.run_state in ("running", "compiling"))
        else:
            self._reset_hidden_panel(config)

    # ================================================================== drawing (~30 Hz)
    def _draw(self) -> None:
        """~30 Hz frame: book arrivals, then update ONE plot that has news, round robin.

        Qt repaints every changed view of the window in one go; updating all plots in the
        same frame costs the sum of their paints (~90 ms on a loaded 2-core machine, mostly
        axis ticks), which is what makes a window stutter. One plot per frame keeps every paint
        short; each plot still updates several times a second and loses no loss point.
        """
        self._drain()
        now = time.monotonic()
        if self.run_state in ("running", "compiling"):
            self._elapsed += now - self._tick
        self._tick = now
        painters = self._painters
        for offset in range(len(painters)):
            index = (self._phase + offset) % len(painters)
            if painters[index]():
                self._phase = index + 1
                break
        self._draw_status(now)

    def _draw_status(self, now: float) -> None:
        report = self._last_report
        if report is not None and report is not self._shown_report and now - self._status_shown_at >= STATUS_INTERVAL_S:
            # Text changes re-layout the status bar: a few times a second is plenty to read.
            self._shown_report = report
            self._status_shown_at = now
            self.progress.setValue(min(report.epoch, self.progress.maximum()))
            acc = f" · acc {report.val_accuracy:.1%}" if report.val_accuracy is not None else ""
            _set_text(self.lbl_epoch, f"epoch {report.epoch}")
            _set_text(self.lbl_loss, f"train {report.train_loss:.4g} · val {report.val_loss:.4g}{acc}")
            _set_text(self.lbl_rate, f"{report.sequences_per_second:,.0f} seq/s")
        minutes, seconds = divmod(int(self._elapsed), 60)
        _set_text(self.lbl_elapsed, f"{minutes}:{seconds:02d}")

    def flush_snapshot(self) -> None:
        """Draw everything pending now (tests, exports)."""
        self._drain()
        self._diagnostics_drawn_at = float("-inf")
        for painter in self._painters:
            painter()
        self._status_shown_at = float("-inf")
        self._draw_status(time.monotonic())
        self.loss_plot.flush()

    # ================================================================== actions state
    def _update_actions(self) -> None:
        state = self.run_state
        has_data = self.dataset is not None
        self.act_start.setText({"running": "&Pause", "compiling": "&Pause", "paused": "&Resume",
                                "ready": "&Start"}.get(state, "&Start"))
        icon = QtWidgets.QStyle.SP_MediaPause if state in ("running", "compiling") else QtWidgets.QStyle.SP_MediaPlay
        self.act_start.setIcon(self.style().standardIcon(icon))
        self.act_start.setEnabled(has_data)
        self.act_step.setEnabled(has_data)
        self.act_stop.setEnabled(state != "idle")
        self.act_reset.setEnabled(has_data)
        self.act_load_ckpt.setEnabled(has_data)
        self.act_save_ckpt.setEnabled(self._run_points > 0)
        # _run_points counts arrivals; _history only fills on the next frame (_drain), and this
        # runs on state changes alone, so testing _history left the export off for a whole run
        self.act_export_csv.setEnabled(bool(self._run_points or self._earlier_runs))

    def _show_status(self, text: str) -> None:
        self.last_status = text
        self.statusBar().showMessage(text, 8000)

    def _error(self, title: str, message: str) -> None:
        self.last_error = message
        log.warning("%s: %s", title, message)
        if not self._closing:
            dialogs.show_error(self, title, message)

    # ================================================================== files
    def _save_path(self, title: str, filters: str, default_name: str) -> str:
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(self, title, os.path.join(self.last_dir(), default_name),
                                                             filters)
        if path and not os.path.splitext(path)[1]:
            ext = ".svg" if "svg" in (chosen or "").lower() else os.path.splitext(default_name)[1]
            path += ext
        return path

    def save_checkpoint_dialog(self) -> None:
        path = self._save_path("Save checkpoint", CHECKPOINT_FILTER, "checkpoint.npz")
        if path:
            self.worker.save_checkpoint(path)

    def load_checkpoint_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load checkpoint", self.last_dir(), CHECKPOINT_FILTER)
        if path:
            self.open_checkpoint(path)

    def export_history_dialog(self) -> None:
        path = self._save_path("Export loss history", "CSV (*.csv)", "loss-history.csv")
        if path:
            self.export_history(path)

    def export_history(self, path: str) -> str:
        """All runs of this session (earlier ones first), one row per epoch."""
        self._drain()  # epochs that arrived since the last frame belong in the file
        try:  # the one history writer: the run folder's metrics.csv columns, then run and changes
            write_metrics_csv(path, *self._earlier_runs, self._history, extra=HISTORY_EXTRA_COLUMNS)
        except OSError as exc:
            self._error("Export failed", f"Could not write {path}: {exc.strerror or exc}. Choose another folder.")
            return ""
        self._show_status(f"loss history written to {path}")
        return path

    def export_plot_dialog(self, key: str) -> None:
        path = self._save_path("Export plot", IMAGE_FILTERS, f"{key}.png")
        if path:
            self.export_plot(key, path)

    def export_plot(self, key: str, path: str) -> str:
        widget = {"loss": self.loss_plot, "hidden": self.hidden_panel, "diagnostics": self.diagnostics,
                  "predictions": self.predictions}[key]
        try:
            self.flush_snapshot()
            export_plot(widget, path)
        except (OSError, ValueError) as exc:
            self._error("Export failed", str(exc))
            return ""
        self._show_status(f"plot written to {path}")
        return path

    # ================================================================== drag and drop
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
            QtCore.QTimer.singleShot(0, lambda: self.open_paths(paths))

    # ================================================================== closing
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self._closing = True
        self.draw_timer.stop()
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


def _set_text(label: QtWidgets.QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


# Workers whose thread did not end within the close timeout (a compile cannot be interrupted).
# Holding them prevents "QThread: Destroyed while thread is still running"; gui.app waits for them.
_LINGERING: list[TrainingWorker] = []


def lingering_workers() -> list[TrainingWorker]:
    return [w for w in _LINGERING if w.is_thread_running()]
