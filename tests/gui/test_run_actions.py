"""Run ▸ Fork… and the run's events in the window (gui.run_actions, gui.worker's fork command)."""
import hashlib
import json

from PyQt5 import QtWidgets

from engine.run_folder import append_command
from engine.run_reader import open_run


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _train_parent(qtbot, window, epochs):
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and window.loss_plot.point_count() == epochs, timeout=60_000)
    window.runs_panel.refresh()
    return window.run_folder


def _new_folder(tmp_path, known):
    return next(p for p in (tmp_path / "runs").iterdir() if p.is_dir() and p not in known)


def test_fork_at_an_epoch_changes_the_rate_trains_and_leaves_the_parent_untouched(qtbot, loaded_window, forecast_csv,
                                                                                 tiny_config, tmp_path):
    window = loaded_window(forecast_csv, tiny_config.replace(epochs=3))
    parent = _train_parent(qtbot, window, 3)
    before = _digests(parent)
    with qtbot.waitSignal(window.worker.sigStarted, timeout=60_000):  # it compiles: the window says so
        assert window.fork_run(parent, checkpoint="latest", changes={"learning_rate": 0.003, "epochs": 5})
    qtbot.waitUntil(lambda: window.is_idle and window.loss_plot.point_count() == 5, timeout=60_000)
    child = window.run_folder
    assert child != parent and _digests(parent) == before  # the parent's folder is not touched
    meta = json.loads((child / "run.json").read_text())
    assert meta["parent"]["epoch"] == 3 and meta["parent"]["checkpoint"] == "latest"
    assert meta["parent"]["folder"] == str(parent.resolve()) and meta["status"] == "finished"
    reader = open_run(child)
    assert [e["epoch"] for e in reader.epochs] == [1, 2, 3, 4, 5]  # the parent's curve, then its own
    assert [e["learning_rate"] for e in reader.epochs] == [0.01] * 3 + [0.003] * 2
    assert window.worker.run_config().learning_rate == 0.003
    assert window.controls.value("learning_rate") == 0.003
    assert window.loss_plot.markers() == [(3.0, "fork (latest checkpoint): lr 0.003, epochs 5")]
    assert "fork of" in window.history.label


def test_fork_dialog_from_the_runs_dock_forks_the_best_checkpoint(qtbot, loaded_window, forecast_csv, tiny_config,
                                                                  tmp_path, monkeypatch):
    from gui.fork_dialog import ForkDialog

    window = loaded_window(forecast_csv, tiny_config.replace(epochs=3))
    parent = _train_parent(qtbot, window, 3)
    best = open_run(parent).meta["best"]["epoch"]
    shown = {}

    def answer(dialog):
        shown["items"] = [dialog.checkpoint_box.itemText(i) for i in range(dialog.checkpoint_box.count())]
        dialog.set_checkpoint("best")
        dialog.set_field("momentum", "0.5")
        dialog.set_field("epochs", "nonsense")
        dialog.accept()
        shown["message"] = dialog.message.text()
        dialog.set_field("epochs", str(best + 2))
        dialog.accept()
        return QtWidgets.QDialog.Accepted

    monkeypatch.setattr(ForkDialog, "exec_", answer)
    window.runs_panel.sigForkRequested.emit(parent)  # the Runs dock's context menu action
    assert shown["items"][0] == "latest (epoch 3)" and shown["items"][1].startswith(f"best (epoch {best}")
    assert "epochs" in shown["message"] and "not a number" in shown["message"]
    qtbot.waitUntil(lambda: window.is_idle and window.loss_plot.point_count() == best + 2, timeout=60_000)
    meta = json.loads((window.run_folder / "run.json").read_text())
    assert meta["parent"]["epoch"] == best and meta["parent"]["checkpoint"] == "best"
    assert meta["config"]["momentum"] == 0.5


def test_run_fork_menu_forks_the_current_run_where_it_is(qtbot, loaded_window, forecast_csv, tiny_config,
                                                         monkeypatch):
    from gui.fork_dialog import ForkDialog

    window = loaded_window(forecast_csv, tiny_config.replace(epochs=50))
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 1 and window.run_state == "paused", timeout=60_000)
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 2 and window.run_state == "paused", timeout=60_000)
    parent = window.run_folder

    def answer(dialog):
        dialog.set_field("learning_rate", "0.02")
        dialog.set_field("epochs", "4")
        dialog.accept()
        return QtWidgets.QDialog.Accepted

    monkeypatch.setattr(ForkDialog, "exec_", answer)
    window.act_fork.trigger()
    qtbot.waitUntil(lambda: window.is_idle and window.loss_plot.point_count() == 4, timeout=60_000)
    assert json.loads((window.run_folder / "run.json").read_text())["parent"]["epoch"] == 2
    assert str(open_run(parent).status) == "stopped"  # the current run ended to be forked; its folder stays


def test_a_rate_changed_through_control_jsonl_shows_in_the_controls_and_on_the_curve(qtbot, loaded_window,
                                                                                   forecast_csv, tiny_config):
    window = loaded_window(forecast_csv, tiny_config.replace(epochs=100_000))
    window.toggle_run()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() >= 2, timeout=60_000)
    append_command(window.run_folder, "set", name="learning_rate", value=0.004)
    append_command(window.run_folder, "set", name="clip_norm", value=None)
    qtbot.waitUntil(lambda: window.controls.value("clip_norm") == 0.0, timeout=10_000)
    assert window.controls.value("learning_rate") == 0.004
    texts = [text for _, text in window.loss_plot.markers()]
    # one line per epoch: both on one label when they landed in the same epoch
    assert "; ".join(texts) == "lr 0.01 → 0.004 (control); clip 5 → off (control)"
    window.stop_run()
    qtbot.waitUntil(lambda: window.is_idle, timeout=30_000)
