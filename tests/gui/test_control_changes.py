"""gui.control_changes: a structural change during a run compiles the new run's training step while
the user is asked (issue 10, latency of structural changes); a "no" keeps the run as it was."""

from __future__ import annotations

from tests.gui.test_main_window import TRAIN_TIMEOUT, _points, training_window


def test_the_new_runs_step_is_compiled_while_the_user_is_asked_and_the_run_takes_it(
        qtbot, monkeypatch, make_window, forecast_csv, tiny_config):
    from gui import dialogs

    window = training_window(qtbot, make_window, forecast_csv, tiny_config)
    old_trainer, made_ahead = window.worker.trainer, []

    def confirm(*_args, **_kwargs):  # the question is open: the worker compiles meanwhile
        qtbot.waitUntil(lambda: window.worker._prepared is not None, timeout=TRAIN_TIMEOUT)
        made_ahead.append(window.worker._prepared[2])
        assert window.worker.trainer is old_trainer and window.run_state == "running"
        return True

    monkeypatch.setattr(dialogs, "confirm", confirm)
    window.controls._param("hidden_sizes").setValue("9")
    qtbot.waitUntil(lambda: bool(made_ahead) and window.worker.trainer is not old_trainer, timeout=TRAIN_TIMEOUT)
    assert window.worker.trainer is made_ahead[0]  # the run took the trainer made while it was asked
    assert made_ahead[0].config.hidden_sizes == (9,)
    qtbot.waitUntil(lambda: _points(window)[0] >= 2, timeout=TRAIN_TIMEOUT)
    assert window.worker._prepared is None and window.run_state == "running"
    assert window.hidden_panel.layer_sizes() == (9,)


def test_a_no_goes_on_with_the_run_and_drops_a_compile_not_begun(qtbot, monkeypatch, make_window, forecast_csv,
                                                                  tiny_config):
    from gui import dialogs

    window = training_window(qtbot, make_window, forecast_csv, tiny_config)
    old_trainer, asked = window.worker.trainer, []

    def confirm(*_args, **_kwargs):
        asked.append(True)
        return False

    monkeypatch.setattr(dialogs, "confirm", confirm)
    window.controls._param("hidden_sizes").setValue("9")
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    epochs = _points(window)[0]
    qtbot.waitUntil(lambda: _points(window)[0] >= epochs + 2, timeout=TRAIN_TIMEOUT)
    assert window.worker.trainer is old_trainer and window.controls.value("hidden_sizes") == "6"
    assert window.run_state == "running" and window.loss_plot.overlays() == []

    # a "no" before the worker began: the compile is dropped (the worker's lock held, it takes no command)
    with window.worker._cond:
        window.worker.prepare(old_trainer.config.replace(hidden_sizes=(9,)), window.dataset)
        assert [c[0] for c in window.worker._commands] == ["prepare"]
        window.worker.cancel_prepare()
        assert not window.worker._commands
