"""A run folder shown in the main panels: its curves, markers, norms, snapshots (the epoch scrubber)
and predictions from its checkpoint, followed while another process still writes it.

The folder is read with ``engine.run_reader`` (the window never writes it); the predictions are a
worker job (``TrainingWorker.submit`` -> ``gui.run_builder.checkpoint_predictions``), so the
compile happens on the worker thread. While the shown run is followed, a live setting changed in
the controls is sent to it through its control.jsonl, and the changes it records (from anywhere)
show in the controls and as markers, as for the window's own run.
"""

from __future__ import annotations

import logging
import time

from PyQt5 import QtCore

from engine.names import TASKS, RunState
from engine.run_folder import append_command
from engine.run_reader import RunFolderError, SnapshotGone, marker_text
from gui.fork_dialog import FORKED_SETTINGS
from gui.run_builder import checkpoint_predictions
from gui.stored_dataset import stored_dataset_texts
from gui.worker_messages import describe_exception

log = logging.getLogger(__name__)

FOLLOW_INTERVAL_MS = 500  # a followed run's new epochs are drawn within ~1 s of being written
PREDICTIONS_INTERVAL_S = 10.0  # a followed run's predictions are recomputed at most this often (new best)
NO_WORKER_RUN = 0  # the window's run id while it shows a folder: no worker signal matches it
# A followed run's state as the toolbar shows it: paused (Resume) or training (Pause)
TOOLBAR_STATE = {RunState.PAUSED: RunState.PAUSED, RunState.DIVERGED: RunState.PAUSED,
                 RunState.READY: RunState.COMPILING, RunState.COMPILING: RunState.COMPILING}


def training_config(meta: dict):
    """run.json's settings as a TrainingConfig, or None when they are missing or foreign."""
    from engine.config import TrainingConfig

    try:
        return TrainingConfig.from_dict(dict(meta.get("config") or {}))
    except (TypeError, ValueError) as exc:
        log.info("run settings not shown: %s", exc)
        return None


class RunView(QtCore.QObject):
    """The run folder the window shows in place of a run of its own (one at a time)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.reader = None
        self.note = ""  # why there are no predictions, when there are none
        self._snapshots: set[int] = set()
        self._insights: set[int] = set()  # epochs of insights/ already handed to the insight docks
        self._chars: dict[int, str] = {}  # text: token id -> character, learnt from the snapshots
        self._task = None
        self._best = None
        self._predicted_at = float("-inf")
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(FOLLOW_INTERVAL_MS)
        self.timer.timeout.connect(self.follow)
        window.controls.sigLiveChanged.connect(self._on_live_changed)

    @property
    def following(self) -> bool:
        return self.timer.isActive()

    def show(self, reader) -> None:
        """Replace what the main panels show by ``reader``'s run (the window's run has ended)."""
        w = self.window
        w._close_current_run()  # detaches an earlier shown folder too
        w._run_id, w.run_state, w.run_folder = NO_WORKER_RUN, None, None
        self.reader, self._snapshots, self.note, self._best = reader, set(), "", None
        self._insights, self._chars = set(), {}
        w.insight_views.clear()
        config = training_config(reader.meta)
        task = (reader.meta.get("dataset") or {}).get("task")
        if task in TASKS:
            w.controls.set_value("task", task)
        w.controls.show_dataset_texts(stored_dataset_texts(reader.meta.get("dataset")))  # its data, not the window's
        w._refresh_suggestion_bar()  # hidden: the window's suggestion is for the window's data
        if config is not None:
            w.controls.set_config(config)
            w.hidden_panel.reset(config.hidden_sizes, config.cell)
            w.status_line.set_total(config.epochs)
        self._show_backend()
        w.history.label = reader.name
        w.hidden_panel.stored = True  # its newest snapshot is the folder's, not live
        self._add_epochs(reader.epochs)
        self._add_events(reader.events)
        self._add_snapshots()
        self._add_insights()
        self._request_predictions()
        w.setWindowTitle(f"RNN Scope — {reader.name} ({reader.folder})")
        if reader.status.is_active:
            self.timer.start()
        w._update_actions()

    def detach(self) -> None:
        """The window starts (or loads) a run of its own: stop showing and following the folder."""
        self.timer.stop()
        if self.reader is not None:  # the Dataset group shows the window's own data again
            dataset = self.window.dataset
            if dataset is not None:
                self.window.controls.set_dataset(dataset)
            else:
                self.window.controls.show_dataset_texts({})
        self.reader = None
        self._task = None
        self.window._refresh_suggestion_bar()  # the window's own data's suggestion, if it has one

    # ------------------------------------------------------------------ contents
    def _add_epochs(self, epochs) -> None:
        if not epochs:
            return
        w = self.window
        w.loss_plot.extend([e["epoch"] for e in epochs], [e.get("train_loss") for e in epochs],
                           [e.get("val_loss") for e in epochs])
        w.diagnostics.add_reports((e["epoch"], e.get("grad_norms"), e.get("weight_norms")) for e in epochs)
        for row in epochs:
            w.history.add(row)
        w._run_points += len(epochs)
        w._last_epoch = int(epochs[-1]["epoch"])
        # the status bar describes the shown run, not an idle window; its speed from wall_s and n_train
        w.status_line.show_row(epochs[-1], self.reader.sequences_per_second())
        w._elapsed = float(epochs[-1].get("wall_s") or 0.0)

    def _show_backend(self) -> None:
        backend = self.reader.meta.get("backend_detail") or self.reader.meta.get("backend")
        self.window.status_line.show_backend(f"{backend} (its run.json)" if backend else "backend: not recorded")

    def _add_events(self, events) -> None:
        w = self.window
        for event in events:
            text = marker_text(event)
            if text is not None and isinstance(event.get("epoch"), (int, float)):
                w.loss_plot.add_marker(event["epoch"], text)
            if event.get("kind") == "set" and event.get("name") in FORKED_SETTINGS:
                value = event.get("new")
                w.controls.set_value(event["name"], (value or 0.0) if event["name"] == "clip_norm" else value)

    def _add_snapshots(self) -> None:
        reader = self.reader
        for epoch in reader.snapshot_epochs():
            if epoch in self._snapshots:
                continue
            self._snapshots.add(epoch)
            try:  # one read: text data's characters label the heatmaps
                hidden, gates, _, text = reader.snapshot_with_text(epoch)
            except SnapshotGone:  # a followed writer thinned it away since the listing: not damage
                continue
            except RunFolderError as exc:  # one damaged file: the others still replay
                self.window._show_status(str(exc))
                continue
            self.window.hidden_panel.set_snapshot(epoch, hidden, gates, text)

    def _add_insights(self) -> None:
        """The run's stored looks inside (insights/): the insight docks replay them with the
        scrubber, and the memory horizon and spectral radii as of the newest one."""
        reader = self.reader
        looks = []
        for epoch in reader.insight_epochs():
            if epoch in self._insights:
                continue
            self._insights.add(epoch)
            try:
                looks.append(reader.insight(epoch))
            except SnapshotGone:  # thinned away by a followed writer since the listing
                continue
            except RunFolderError as exc:  # one damaged file: the others still replay
                self.window._show_status(str(exc))
        if not looks:
            return
        try:
            series = reader.insight_series()
        except RunFolderError:  # the newest file is damaged: the series of the looks that read
            series = None
        task = (reader.meta.get("dataset") or {}).get("task")
        self.window.insight_views.show_stored(looks, series, task=task, vocabulary=self._vocabulary(task, looks),
                                              class_names=reader.class_names)

    def _vocabulary(self, task, looks) -> list | None:
        """Text: token id -> character for the saliency strip's labels, from the snapshots' characters
        at the looks' token ids (the same probe), so no data file is needed."""
        if task != "next_token":
            return None
        panel = self.window.hidden_panel
        for look in looks:
            snap = panel.snapshots.nearest(look.epoch)
            ids = look.inputs.reshape(-1).astype(int).tolist()
            if snap is not None and snap.text and len(snap.text) == len(ids):
                self._chars.update(zip(ids, snap.text))
        if not self._chars:
            return None
        return [self._chars.get(i, "?") for i in range(max(self._chars) + 1)]

    # ------------------------------------------------------------------ predictions (worker task)
    def _request_predictions(self) -> None:
        self._predicted_at = time.monotonic()
        self._best = (self.reader.meta.get("best") or {}).get("epoch")
        task = self._task = object()  # a later request (or another folder) makes this answer stale
        folder, dataset = self.reader.folder, self.window.dataset
        self.window._submit(lambda _run: checkpoint_predictions(folder, dataset),
                            lambda result, error: self._on_computed(task, result, error))

    def _on_computed(self, task, result, error) -> None:
        if task is not self._task or self.reader is None:
            return
        self._task = None
        w = self.window
        if error is not None:
            self._say(f"no predictions for {self.reader.name}: {describe_exception(error)}")
            return
        if result.get("task"):
            w.predictions.set_task(result["task"], result.get("class_names") or [])
        if result["kind"] == "predictions":
            w.views.take_prediction("predictions", result["result"], result.get("class_names") or [])
        elif result["kind"] == "sample":
            w.views.take_prediction("sample", result["result"])
        if result.get("message"):
            self._say(result["message"], on_panel=result["kind"] == "none")
        else:
            w._show_status(f"{self.reader.name}: predictions from its {result['checkpoint']}")

    def _say(self, text: str, on_panel: bool = True) -> None:
        self.note = text
        self.window._show_status(text)
        if on_panel:
            self.window.predictions.show_note(text)

    # ------------------------------------------------------------------ following
    def follow(self) -> bool:
        """Draw what the shown run's writer appended since the last poll; True if anything was new."""
        reader = self.reader
        if reader is None:
            self.timer.stop()
            return False
        try:
            update = reader.poll()
        except (OSError, ValueError) as exc:  # a run.json being replaced: keep the last good view
            self.window._show_status(f"{reader.folder}: {exc}")
            return False
        self._add_epochs(update.epochs)
        self._add_events(update.events)
        if update.epochs:
            self._add_snapshots()
            self._add_insights()
        best = (reader.meta.get("best") or {}).get("epoch")
        if (best != self._best and self._task is None
                and time.monotonic() - self._predicted_at >= PREDICTIONS_INTERVAL_S):
            self._request_predictions()
        if not reader.status.is_active:
            self.timer.stop()
            self.window._show_status(f"{reader.name} has ended ({reader.status})")
        if update.meta_changed or not self.following:  # its state may have changed: the toolbar shows it
            self._show_backend()  # recorded once the run has compiled
            self.window._update_actions()
        return bool(update)

    # ------------------------------------------------------------------ steering from the toolbar
    def steered_state(self) -> RunState | None:
        """The followed run's state as the toolbar shows it (paused, or compiling/running), as the run
        last reported it in its run.json; None when no shown run can be steered."""
        reader = self.reader
        if reader is None or not self.following or not reader.status.is_active:
            return None
        return TOOLBAR_STATE.get(reader.status, RunState.RUNNING)

    def steer(self, command: str) -> bool:
        """The toolbar's Pause / Resume (``"toggle"``), Step or Stop for the followed run: a command
        appended to its control.jsonl, which the run's own process obeys between steps (a step: one
        epoch, then paused); the toolbar changes when the run reports its new state."""
        state = self.steered_state()
        if state is None:
            return False
        if command == "toggle":
            command = "resume" if state is RunState.PAUSED else "pause"
        append_command(self.reader.folder, command)
        self.window._show_status(f"sent to {self.reader.name}: {command}")
        return True

    def _on_live_changed(self, name: str, value) -> None:
        """A live setting changed in the controls while a followed run is shown: send it to that run."""
        reader = self.reader
        if reader is None or not self.following or name not in FORKED_SETTINGS:
            return
        if reader.status.is_active:
            append_command(reader.folder, "set", name=name, value=value)
            self.window._show_status(f"sent to {reader.name}: {name} = {value}")
