"""The main window driven like a user would: open, train, change settings, pause, close."""

from __future__ import annotations

import csv
import os
import time

import numpy as np
import pytest
from PyQt5 import QtCore, QtWidgets

from engine import backend
from engine.names import RunState
from gui.plots import qimage_to_array
from tests.gui.child_window import run_window_child
from tests.gui.worker_sync import worker_settled

TRAIN_TIMEOUT = 60_000  # ms; a first compile on a loaded 2-core machine can take a while


def open_via_dialog(qtbot, monkeypatch, window, paths, timeout=15000):
    """Drive File > Open through a monkeypatched QFileDialog and wait for the load."""
    seen = {}

    def fake_get_open_file_names(parent, caption, directory, filters, *args, **kwargs):
        seen["filters"] = filters
        seen["directory"] = directory
        return list(paths), filters.split(";;")[0]

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileNames", staticmethod(fake_get_open_file_names))
    previous = window.dataset
    window.open_dialog()
    qtbot.waitUntil(lambda: window.dataset is not previous or window.last_error is not None, timeout=timeout)
    return seen


def _error_boxes(window):
    return [b for b in window.findChildren(QtWidgets.QMessageBox, "errorBox") if b.isVisible()]


def _points(window):
    data = window.loss_plot.curve_data()
    return len(data["train"][0]), len(data["val"][0])


def training_window(qtbot, make_window, forecast_csv, config):
    """A window training ``config`` (for as long as the test needs) on the forecast CSV, two epochs done."""
    window = make_window(config.replace(epochs=10_000))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.toggle_run()
    qtbot.waitUntil(lambda: _points(window)[0] >= 2, timeout=TRAIN_TIMEOUT)
    return window


def _assert_heatmap_drawn(window, layer, hidden_units):
    window.flush_snapshot()
    array = window.hidden_panel.image_array(layer)
    assert array.ndim == 2 and array.shape[1] == hidden_units and array.shape[0] > 1
    assert np.isfinite(array).all() and np.abs(array).max() > 0
    pixels = qimage_to_array(window.hidden_panel.render_layer_image(layer))
    assert pixels[..., :3].std() > 5  # not one flat colour
    return array.shape


def test_open_sample_through_the_dialog_and_train_three_epochs(qtbot, monkeypatch, make_window, forecast_csv,
                                                               tmp_path):
    window = make_window()
    seen = open_via_dialog(qtbot, monkeypatch, window, [forecast_csv])
    for pattern in ("*.csv", "*.tsv", "*.txt", "*.ts", "*.npy", "*.npz", "*)"):
        assert pattern in seen["filters"]
    assert window.dataset is not None and window.dataset.task == "forecast"
    assert window.controls.value("sequences") == "1"
    assert window.recent_files()[0] == [os.path.abspath(forecast_csv)]

    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and _points(window) == (3, 3), timeout=TRAIN_TIMEOUT)
    qtbot.wait(100)
    assert _points(window) == (3, 3)
    assert window.run_state is RunState.FINISHED  # the engine's enum, not a bare string
    assert list(window.loss_plot.curve_data()["train"][0]) == [1.0, 2.0, 3.0]
    _assert_heatmap_drawn(window, 0, 6)
    assert window.status_line.progress.value() == 3 and window.status_line.progress.maximum() == 3
    assert window.status_line.lbl_epoch.text() == "epoch 3"
    assert "PyTensor" in window.status_line.lbl_backend.text()
    qtbot.waitUntil(lambda: len(window.predictions.forecast_data().get("actual", [])) > 0, timeout=10_000)

    exported = window.export_history(str(tmp_path / "history.csv"))
    with open(exported, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert set(rows[0]) >= {"epoch", "train_loss", "val_loss", "learning_rate", "changes"}
    png = window.export_plot("hidden", str(tmp_path / "hidden.png"))
    assert os.path.getsize(png) > 1000
    assert window.last_error is None


def test_learning_rate_change_mid_run_needs_no_compile_and_leaves_a_marker(qtbot, make_window, forecast_csv,
                                                                          tiny_config, tmp_path):
    window = make_window(tiny_config.replace(epochs=10_000))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.toggle_run()
    # predictions compile lazily: wait until they have arrived once so every function exists
    qtbot.waitUntil(lambda: _points(window)[0] >= 2 and len(window.predictions.forecast_data().get("actual", [])) > 0,
                    timeout=TRAIN_TIMEOUT)
    trainer = window.worker.trainer
    compiles, trainer_compiles = backend.compile_count(), trainer.n_compiles
    epoch_at_change = window._last_epoch
    window.controls._param("learning_rate").setValue(3e-3)
    window.controls._param("clip_norm").setValue(1.0)
    qtbot.waitUntil(lambda: _points(window)[0] >= epoch_at_change + 4, timeout=TRAIN_TIMEOUT)
    assert backend.compile_count() == compiles and trainer.n_compiles == trainer_compiles
    assert window.worker.trainer is trainer  # same run, same compiled functions
    qtbot.waitUntil(lambda: window._last_report.learning_rate == pytest.approx(3e-3), timeout=10_000)
    texts = [text for _, text in window.loss_plot.markers()]
    # two changes at one epoch share one marker and label (their labels used to pile up)
    assert texts == ["lr 0.01 → 0.003; clip 5 → 1"] or (len(texts) == 2 and texts[0].startswith("lr 0.01 → 0.003")
                                                         and texts[1].startswith("clip 5 → 1"))
    assert all(epoch >= epoch_at_change for epoch, _ in window.loss_plot.markers())
    assert window.act_export_csv.isEnabled()  # mid-run, not only once the run has ended
    window.stop_run()
    path = window.export_history(str(tmp_path / "h.csv"))
    with open(path, newline="") as handle:
        changes = [r["changes"] for r in csv.DictReader(handle) if r["changes"]]
    assert changes and "lr 0.01 → 0.003" in changes[0]


def test_more_epochs_extend_the_running_model_without_a_new_run(qtbot, make_window, forecast_csv, tiny_config,
                                                                 auto_dialogs):
    window = make_window(tiny_config.replace(epochs=6))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.step_epoch()  # paused mid-run after one epoch
    qtbot.waitUntil(lambda: _points(window)[0] == 1 and window.run_state == "paused", timeout=TRAIN_TIMEOUT)
    trainer, compiles = window.worker.trainer, backend.compile_count()
    window.controls._param("epochs").setValue(8)  # while paused mid-run
    assert window.status_line.progress.maximum() == 8
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and _points(window)[0] == 8, timeout=TRAIN_TIMEOUT)
    assert window.worker.trainer is trainer and trainer.epoch == 8
    # Once the run has ended, more epochs reopen it paused; Start continues the same model.
    window.controls._param("epochs").setValue(11)
    qtbot.waitUntil(lambda: window.run_state == "paused", timeout=10_000)
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and _points(window)[0] == 11, timeout=TRAIN_TIMEOUT)
    assert window.worker.trainer is trainer and trainer.epoch == 11
    assert auto_dialogs["asked"] == 0 and not window.loss_plot.overlays()  # never a "new run?" question
    assert backend.compile_count() - compiles <= 2  # at most the lazily compiled prediction functions


def test_hidden_size_change_starts_a_new_run_with_new_heatmap_shapes(qtbot, make_window, forecast_csv, tiny_config,
                                                                    auto_dialogs):
    window = training_window(qtbot, make_window, forecast_csv, tiny_config)
    _assert_heatmap_drawn(window, 0, 6)

    auto_dialogs["confirm"] = False  # declined: nothing changes
    window.controls._param("hidden_sizes").setValue("5,3")
    qtbot.waitUntil(lambda: auto_dialogs["asked"] == 1, timeout=2000)
    qtbot.wait(50)
    assert auto_dialogs["asked"] == 1  # asked once, not again by the revert
    assert window.controls.value("hidden_sizes") == "6"
    assert window.loss_plot.overlays() == []

    auto_dialogs["confirm"] = True
    old_run = window._run_id
    window.controls._param("hidden_sizes").setValue("5, 3")
    qtbot.waitUntil(lambda: auto_dialogs["asked"] == 2, timeout=2000)
    assert window._run_id != old_run
    assert len(window.loss_plot.overlays()) == 1 and "elman 6" in window.loss_plot.overlays()[0]
    qtbot.waitUntil(lambda: _points(window)[0] >= 2, timeout=TRAIN_TIMEOUT)
    assert window.hidden_panel.layer_sizes() == (5, 3)
    qtbot.wait(100)
    shape0 = _assert_heatmap_drawn(window, 0, 5)
    shape1 = _assert_heatmap_drawn(window, 1, 3)
    assert shape0[0] == shape1[0]  # same probe sequence, same time steps
    assert window.run_state == "running"


def test_a_bad_hidden_size_entry_reverts_and_says_why(qtbot, make_window):
    window = make_window()
    window.controls._param("hidden_sizes").setValue("8,zero")
    qtbot.waitUntil(lambda: window.controls.value("hidden_sizes") == "6", timeout=2000)
    assert "'zero' is not a whole number" in window.controls.last_message()


def test_pause_step_resume(qtbot, make_window, forecast_csv, tiny_config):
    window = make_window(tiny_config.replace(epochs=10_000))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.step_epoch()  # from idle: one epoch (compiles), then paused
    qtbot.waitUntil(lambda: _points(window)[0] == 1 and window.run_state == "paused", timeout=TRAIN_TIMEOUT)
    qtbot.wait(300)
    assert _points(window)[0] == 1
    assert window.act_start.text() == "&Resume"
    window.step_epoch()
    qtbot.waitUntil(lambda: _points(window)[0] == 2, timeout=10_000)
    qtbot.wait(300)
    assert _points(window)[0] == 2 and window.run_state == "paused"
    window.toggle_run()  # resume
    assert window.run_state == "running" and window.act_start.text() == "&Pause"
    qtbot.waitUntil(lambda: _points(window)[0] >= 5, timeout=10_000)
    window.toggle_run()  # pause
    assert window.run_state == "paused"
    # The pause has landed (the epoch under way is held, or it reported and is drawn now): a fixed
    # 300 ms raced a starved worker and the draw timer. Then nothing more comes.
    worker_settled(qtbot, window.worker)
    window.flush_snapshot()
    settled = _points(window)[0]
    qtbot.wait(300)
    window.flush_snapshot()
    assert _points(window)[0] == settled
    epochs = window.loss_plot.curve_data()["train"][0]
    assert list(epochs) == list(range(1, settled + 1))  # no loss point lost or duplicated


def test_two_quick_steps_end_paused_not_running(qtbot, make_window, forecast_csv, tiny_config):
    """Two Step presses before the first epoch came back left the window saying RUNNING after the
    worker had paused: its "running" after epoch 1 (a step still to go) moved the window from
    COMPILING to RUNNING, and the "paused" after epoch 2 was then dropped as a stale reply."""
    window = make_window(tiny_config.replace(epochs=10_000))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.step_epoch()
    window.step_epoch()
    qtbot.waitUntil(lambda: _points(window)[0] == 2, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: window.run_state == "paused", timeout=5_000)
    assert window.act_start.text() == "&Resume"
    window.step_epoch()
    window.step_epoch()  # the same from paused
    qtbot.waitUntil(lambda: _points(window)[0] == 4, timeout=10_000)
    qtbot.waitUntil(lambda: window.run_state == "paused", timeout=5_000)
    qtbot.wait(300)
    assert _points(window)[0] == 4
    window.toggle_run()  # resume, then a quick pause: a late "paused" of the steps must not undo Resume
    assert window.run_state == "running"
    qtbot.waitUntil(lambda: _points(window)[0] >= 6, timeout=10_000)
    assert window.run_state == "running"


def test_closing_during_training_stops_the_worker_within_two_seconds(qtbot, make_window, forecast_csv, tiny_config):
    window = training_window(qtbot, make_window, forecast_csv, tiny_config)
    start = time.monotonic()
    assert window.close()
    assert time.monotonic() - start < 2.0
    assert not window.worker.is_thread_running()


def test_a_bad_file_leaves_the_previous_dataset_and_model(qtbot, monkeypatch, make_window, forecast_csv, bad_file,
                                                          tmp_path):
    window = make_window()
    open_via_dialog(qtbot, monkeypatch, window, [forecast_csv])
    dataset, paths, config = window.dataset, list(window.dataset_paths), window.controls.config()
    binary = tmp_path / "binary.csv"  # no loading option can read it: an error box, not the preview
    binary.write_bytes(b"a,b\n\x00\x00\x01\x02\x00\n")
    seen = open_via_dialog(qtbot, monkeypatch, window, [str(binary)])
    assert seen["directory"] == os.path.dirname(os.path.abspath(forecast_csv))  # starts in the last folder
    assert window.last_error is not None and "binary.csv" in window.last_error
    assert [b.text() for b in _error_boxes(window)] and "binary.csv" in _error_boxes(window)[0].text()
    assert window.dataset is dataset and window.dataset_paths == paths
    assert window.controls.config() == config
    assert window.controls.value("file") == os.path.basename(forecast_csv)
    assert window.controls._param("file").opts["tip"] == os.path.abspath(forecast_csv)
    # the same through the worker's loader (no preview): still unchanged
    window.last_error = None
    window.open_paths([bad_file], preview=False)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10_000)
    assert "broken.csv" in window.last_error and window.dataset is dataset
    assert window.open_paths([os.path.join(os.path.dirname(bad_file), "missing.csv")]) is False
    assert "missing.csv" in window.last_error


def test_a_worker_exception_becomes_an_error_dialog_and_the_app_stays_up(qtbot, make_window, forecast_csv):
    from gui.worker import TrainingWorker

    def failing_factory(config, dataset):
        raise RuntimeError("trainer exploded on purpose")

    window = make_window(worker=TrainingWorker(trainer_factory=failing_factory))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.toggle_run()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10_000)
    assert "trainer exploded on purpose" in window.last_error
    qtbot.waitUntil(lambda: window.is_idle, timeout=5000)
    assert any("exploded" in b.text() for b in _error_boxes(window))
    assert window.worker.is_thread_running()
    window.toggle_run()  # still responds
    qtbot.waitUntil(lambda: window.is_idle, timeout=5000)


def test_divergence_pauses_and_explains(qtbot, make_window, forecast_csv):
    from tests.gui.test_worker import ScriptedTrainer
    from gui.worker import TrainingWorker

    def factory(config, dataset):
        return ScriptedTrainer(config, dataset, epoch_seconds=0.01, diverge_at=2)

    window = make_window(worker=TrainingWorker(trainer_factory=factory))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.hidden_panel.reset((3,), "elman")
    window.toggle_run()
    qtbot.waitUntil(lambda: window.run_state == "paused" and window.last_error is not None, timeout=5000)
    assert "diverged in epoch 2" in window.last_error and "learning rate" in window.last_error
    qtbot.wait(200)
    worker_settled(qtbot, window.worker)  # no epoch 3 on its way
    window.flush_snapshot()  # epoch 2 is drawn (200 ms of a starved draw timer may not have drawn it)
    assert _points(window)[0] == 2


def test_settings_layout_and_recent_files_persist_between_windows(qtbot, monkeypatch, make_window, forecast_csv,
                                                                  classify_tsv):
    from gui.main_window import MainWindow

    first = make_window()
    open_via_dialog(qtbot, monkeypatch, first, [forecast_csv])
    open_via_dialog(qtbot, monkeypatch, first, [classify_tsv])
    assert first.dataset.task == "classify_sequence"
    first.controls._param("learning_rate").setValue(0.02)
    first.docks["diagnostics"].hide()
    first.close()

    second = MainWindow()  # no config: restores the last one
    qtbot.addWidget(second)
    try:
        assert second.controls.config().learning_rate == pytest.approx(0.02)
        assert second.controls.config().hidden_sizes == (6,)
        assert second.recent_files()[:2] == [[os.path.abspath(classify_tsv)], [os.path.abspath(forecast_csv)]]
        assert second.last_dir() == os.path.dirname(os.path.abspath(classify_tsv))
        assert [a.text() for a in second.recent_menu.actions()][:2] == ["Ramps_TRAIN.tsv", "sine.csv"]
        second.show()
        assert not second.docks["diagnostics"].isVisible() and second.docks["loss"].isVisible()
    finally:
        second.close()


def test_checkpoint_save_and_load_through_the_window(qtbot, make_window, classify_tsv, tmp_path, monkeypatch):
    window = make_window()
    window.open_paths([classify_tsv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and _points(window)[0] == 3, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: window.predictions.confusion_matrix().sum() > 0, timeout=10_000)
    path = str(tmp_path / "run.npz")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (path, "")))
    with qtbot.waitSignal(window.worker.sigCheckpointSaved, timeout=10_000):
        window.save_checkpoint_dialog()
    assert os.path.getsize(path) > 0

    window.controls.set_value("epochs", 5)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (path, "")))
    window.load_checkpoint_dialog()
    qtbot.waitUntil(lambda: _points(window)[0] == 3 and window.run_state == "ready", timeout=10_000)
    assert window.controls.config().epochs == 3  # the checkpoint's own settings
    assert len(window.loss_plot.overlays()) == 1
    window.toggle_run()  # already at its last epoch: finishes at once
    qtbot.waitUntil(lambda: window.is_idle, timeout=TRAIN_TIMEOUT)
    assert _points(window)[0] == 3


def test_drop_a_file_on_the_window_opens_it(qtbot, make_window, forecast_csv):
    window = make_window()
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(forecast_csv)])
    event = QtGui_drop_event(mime)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.dataset.name == "sine"


def QtGui_drop_event(mime):
    from PyQt5 import QtGui

    return QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                            QtCore.Qt.NoModifier)


def test_run_gui_starts_training_and_quits_within_two_seconds_of_closing(tmp_path, forecast_csv):
    """The real entry point in a fresh process: --start trains, closing mid-training exits fast and clean."""
    out = run_window_child(tmp_path, forecast_csv, close_when="window.loss_plot.point_count() >= 2",
                           epochs=100_000, after_run='print("CLOSED_IN", time.monotonic() - closed["at"], code, flush=True)')
    assert out.returncode == 0, out.stderr[-3000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("CLOSED_IN")][-1]
    seconds, code = float(line.split()[1]), int(line.split()[2])
    assert code == 0 and seconds < 2.0
    assert "Destroyed while thread" not in out.stderr
    assert (tmp_path / "config").exists()  # settings went to the isolated folder, not the user's


def test_preview_dialog_shows_rows_and_detected_task_and_reacts_to_options(qtbot, classify_tsv, bad_file):
    from gui.dialogs import PreviewDialog

    dialog = PreviewDialog([classify_tsv])
    qtbot.addWidget(dialog)
    assert dialog.error is None
    assert dialog.rows.toPlainText().splitlines()[0].startswith("1\t")  # the file's first row
    summary = dialog.summary.text()
    assert "classify_sequence" in summary and "16 sequence(s)" in summary
    assert dialog.dataset().n_sequences == 16
    dialog.task_box.setCurrentText("forecast")  # task override re-runs the preview
    assert dialog.options() == {"task": "forecast"}
    assert "forecast" in dialog.summary.text() and dialog.dataset().task == "forecast"

    broken = PreviewDialog([bad_file])
    qtbot.addWidget(broken)
    assert broken.error and "broken.csv" in broken.error
    assert not broken.buttons.button(QtWidgets.QDialogButtonBox.Open).isEnabled()


def test_task_override_in_the_controls_rebuilds_the_dataset_or_explains(qtbot, make_window, classify_tsv,
                                                                       forecast_csv):
    window = make_window()
    window.open_paths([classify_tsv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.controls._param("task").setValue("forecast")
    qtbot.waitUntil(lambda: window.dataset.task == "forecast", timeout=2000)
    assert window.predictions.task() == "forecast"
    window.controls._param("task").setValue("next_token")  # numbers are not characters
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=2000)
    assert window.dataset.task == "forecast"
    qtbot.waitUntil(lambda: window.controls.task() == "forecast", timeout=2000)


def test_space_toggles_start_and_pause(qtbot, make_window, forecast_csv, tiny_config):
    window = make_window(tiny_config.replace(epochs=10_000))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.act_start.shortcut().toString() == "Space"
    window.activateWindow()
    window.act_start.trigger()  # what the Space shortcut triggers
    assert window.run_state == "compiling"
    qtbot.waitUntil(lambda: _points(window)[0] >= 1, timeout=TRAIN_TIMEOUT)
    window.act_start.trigger()
    assert window.run_state == "paused" and window.act_start.text() == "&Resume"
    window.act_stop.trigger()
    assert window.run_state is RunState.STOPPED and window.is_idle and not window.act_stop.isEnabled()


def test_divergence_message_names_the_clip_norm_in_force_after_a_live_change(qtbot, make_window, forecast_csv,
                                                                            tiny_config):
    """Issue 10: with clipping turned off live, the dialog still said "gradient clipping (now 5)"
    (the worker explained the divergence from its copy of the config at the start of the run)."""
    window = make_window(tiny_config.replace(optimizer="sgd", learning_rate=10.0, clip_norm=5.0, epochs=400))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.step_epoch()
    qtbot.waitUntil(lambda: _points(window)[0] >= 1 and window.run_state == "paused", timeout=TRAIN_TIMEOUT)
    window.controls._param("clip_norm").setValue(0.0)
    window.toggle_run()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TRAIN_TIMEOUT)
    assert "diverged" in window.last_error
    assert "gradient clipping (now off)" in window.last_error, window.last_error
