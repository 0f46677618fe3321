"""The status bar's epoch label and epoch bar show one epoch (gui.status_line.StatusLine.show_epoch)."""
from types import SimpleNamespace

from PyQt5 import QtWidgets

from gui.status_line import StatusLine


def _report(epoch: int):
    return SimpleNamespace(epoch=epoch, train_loss=0.5, val_loss=0.6, val_accuracy=None, sequences_per_second=100.0)


def _shown(line: StatusLine) -> tuple:
    return line.lbl_epoch.text(), line.progress.value()


def test_a_live_change_of_the_runs_length_keeps_the_bar_on_the_labels_epoch(qtbot, make_window):
    """The bar took the newest arrival (window._last_epoch) while the label showed the last drawn
    report: "epoch 511" beside "550 / 100000"."""
    window = make_window()
    line = window.status_line
    line.set_total(1000)
    line.show_report(_report(511), now=0.0)
    window._last_epoch = 550  # arrived from the worker, drawn on the next frame (MainWindow._on_epoch)
    window.controls.user_change("epochs", 100_000)  # gui.control_changes: a longer run
    assert line.progress.maximum() == 100_000
    assert _shown(line) == ("epoch 511", 511)


def test_a_new_run_shows_no_epoch_in_the_label_or_the_bar(qtbot):
    """After a run that reached epoch 511, a new run (or a shown folder with no epochs yet) had
    "epoch 511" beside "0 / 300" (MainWindow._close_current_run, then _begin_run's set_total)."""
    bar = QtWidgets.QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar)
    line.set_total(1000)
    line.show_report(_report(511), now=0.0)
    line.new_run()
    line.set_total(300)
    assert _shown(line) == ("epoch –", 0)
    line.show_row({"epoch": 3, "train_loss": 0.4, "val_loss": 0.5})  # a shown folder's row: both again
    assert _shown(line) == ("epoch 3", 3)


def test_short_epochs_keep_their_epoch_in_the_label_and_the_bar(qtbot):
    """Each short epoch hides the step bar (gui.run_tools calls reset_steps as it arrives, before the
    frame draws it): the label and the bar keep the epoch shown, not "epoch –" beside "0 / 100000"."""
    bar = QtWidgets.QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar)
    line.set_total(100_000)
    line.show_report(_report(149), now=0.0)
    line.reset_steps()  # epoch 150 arrived; the next frame draws it
    assert _shown(line) == ("epoch 149", 149)


def test_before_any_run_the_bar_says_so_not_epoch_0_of_1(qtbot):
    """A launch without --start showed "epoch 0 / 1" beside controls saying 300 epochs."""
    bar = QtWidgets.QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar)
    assert line.progress.text() == "no run yet"
    line.set_total(300)
    assert line.progress.text() == "epoch 0 / 300"
