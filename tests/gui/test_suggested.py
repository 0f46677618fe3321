"""Suggested settings in the window (issue 9): shown in the preview and under the controls, one click
to apply, and used for a new dataset unless the user set a value explicitly."""

from __future__ import annotations

import os

import pytest
from PyQt5 import QtWidgets

from engine.suggest import suggest
from gui.controls import format_hidden_sizes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUNPOINT_TRAIN = os.path.join(ROOT, "benchmarks", "data", "GunPoint_TRAIN.ts")
RULE_FIELDS = ("cell", "hidden_sizes", "batch_size", "learning_rate", "optimizer", "epochs")


@pytest.fixture
def plain_window(qtbot, auto_dialogs):
    """A window as the app makes it (no config given: defaults or the last session's settings)."""
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def _load(qtbot, window, path):
    window.open_paths([path], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=20_000)


def test_a_new_dataset_gets_the_suggested_settings_except_those_the_user_chose(qtbot, plain_window):
    window = plain_window
    window.controls._param("clip_norm").setValue(2.0)  # a user edit: an explicit choice
    window.controls._param("epochs").setValue(7)
    _load(qtbot, window, GUNPOINT_TRAIN)
    s = suggest(window.dataset)
    config = window.controls.config()
    for field in ("cell", "hidden_sizes", "batch_size", "learning_rate", "optimizer"):
        assert getattr(config, field) == s.settings[field], field
    assert config.epochs == 7 and config.clip_norm == 2.0  # what the user set stays
    bar = window.controls.suggestion_bar
    assert bar.isVisible() and bar.label.text().startswith("Suggested: gru")
    assert s.reason in bar.toolTip()


def test_a_config_given_to_the_window_wins_and_apply_takes_the_suggestion_in_one_click(qtbot, make_window,
                                                                                   tiny_config):
    window = make_window(tiny_config)
    _load(qtbot, window, GUNPOINT_TRAIN)
    assert window.controls.config() == tiny_config  # chosen by the caller: not replaced
    bar = window.controls.suggestion_bar
    assert bar.isVisible() and bar.button.isEnabled()
    bar.button.click()
    s = suggest(window.dataset)
    config = window.controls.config()
    assert {f: getattr(config, f) for f in RULE_FIELDS} == s.settings
    assert window.controls.value("hidden_sizes") == format_hidden_sizes(s.settings["hidden_sizes"])
    assert not bar.button.isEnabled() and "in the controls" in bar.label.text()
    window.controls._param("learning_rate").setValue(0.01)  # the user departs from it: one click away again
    assert bar.button.isEnabled() and "in the controls" not in bar.label.text()


def test_the_preview_shows_the_suggestion_and_can_leave_the_settings_alone(qtbot, monkeypatch, plain_window):
    from gui import dialogs

    window = plain_window
    before = window.controls.config()
    seen = {}

    def exec_(dialog):
        seen["text"] = dialog.suggested.label.text()
        seen["visible"] = dialog.suggested.isVisibleTo(dialog)
        dialog.suggested.use.setChecked(False)
        return QtWidgets.QDialog.Accepted

    monkeypatch.setattr(dialogs.PreviewDialog, "exec_", exec_)
    window.open_paths([GUNPOINT_TRAIN])
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=20_000)
    assert seen["visible"] and seen["text"].startswith("Suggested settings: gru")
    assert window.controls.config() == before  # unticked: nothing applied ...
    assert window.controls.suggestion_bar.button.isEnabled()  # ... and still one click away


def test_command_line_flags_win_over_the_suggestion_and_test_opens_the_test_set(qtbot, auto_dialogs):
    import main
    from gui.app import setup_window

    test_file = GUNPOINT_TRAIN.replace("_TRAIN", "_TEST")
    args = main.build_parser().parse_args([GUNPOINT_TRAIN, "--test", test_file, "--cell", "lstm", "--epochs", "5"])
    window = setup_window(args)
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.test_set is not None, timeout=20_000)
        s = suggest(window.dataset)
        config = window.controls.config()
        assert (config.cell, config.epochs) == ("lstm", 5)  # given on the command line
        assert (config.batch_size, config.hidden_sizes) == (s.settings["batch_size"], s.settings["hidden_sizes"])
        assert window.test_set[0] == test_file and window.test_set[1].n_sequences == 150
        assert window.test_set[1].frame == window.dataset.frame == 5  # framed as suggested, like the training file
    finally:
        window.close()


def test_a_long_univariate_series_is_framed_as_suggested_unless_the_preview_says_no(qtbot, monkeypatch,
                                                                                     plain_window):
    from gui import dialogs

    window = plain_window
    _load(qtbot, window, GUNPOINT_TRAIN)  # 150 steps, one value each
    assert window.dataset.frame == 5 and window.dataset.n_features == 5 and window.dataset.lengths.max() == 30
    assert window.dataset_options["frame"] == 5  # the test set and a reopen load it framed too
    bar = window.controls.suggestion_bar
    assert "frames of 5 steps" in bar.label.text() and not bar.button.isEnabled()
    monkeypatch.setattr(dialogs.PreviewDialog, "exec_", lambda dialog: dialog.suggested.use.setChecked(False)
                        or QtWidgets.QDialog.Accepted)
    window.dataset = None
    window.open_paths([GUNPOINT_TRAIN])
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=20_000)
    assert window.dataset.frame == 1 and "frame" not in window.dataset_options  # unticked: as in the file
    assert bar.button.isEnabled()
    bar.button.click()  # Apply: the data is framed as suggested, in one click
    assert window.dataset.frame == 5 and window.dataset_options["frame"] == 5
    assert not bar.button.isEnabled()


def test_a_single_short_series_gets_a_window_that_cuts_it_into_many_batches(qtbot, tmp_path, plain_window):
    import numpy as np

    path = tmp_path / "one_series.csv"
    path.write_text("value\n" + "\n".join(f"{np.sin(t / 10):.4f}" for t in range(300)) + "\n")
    window = plain_window
    _load(qtbot, window, str(path))
    s = suggest(window.dataset)
    config = window.controls.config()
    assert config.window == s.settings["window"] == 32 and config.batch_size == s.settings["batch_size"] >= 4
    window.dataset = None
    _load(qtbot, window, GUNPOINT_TRAIN)
    assert window.controls.config().window is None  # that window was for that series only


def test_switching_framed_data_to_forecast_in_the_controls_is_refused_naming_the_frame(qtbot, plain_window):
    window = plain_window
    _load(qtbot, window, GUNPOINT_TRAIN)  # framed as suggested: frames of 5 steps
    framed = window.dataset
    window.controls._param("task").setValue("forecast")
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=5000)
    assert "frames of 5 steps" in window.last_error and "steps per frame 1" in window.last_error
    assert window.dataset is framed and window.dataset.task == "classify_sequence"
    qtbot.waitUntil(lambda: window.controls.task() == "classify_sequence", timeout=2000)
