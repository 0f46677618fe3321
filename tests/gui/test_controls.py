"""ControlPanel: the dataset lines come from SequenceDataset.summary(); every row explains itself on hover."""
import os

from PyQt5 import QtCore

from engine.data import load_sequences
from gui.controls import ControlPanel


def _panel_texts(qtbot, dataset) -> dict:
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(dataset)
    return {name: panel._param(name).value() for name in ("file", "sequences", "lengths", "inputs", "outputs")}


def test_classification_dataset_lines(qtbot, classify_tsv):
    dataset = load_sequences(classify_tsv)
    texts = _panel_texts(qtbot, dataset)
    assert texts["file"] == os.path.basename(classify_tsv)
    assert texts["sequences"] == "16" and texts["lengths"] == "24 / 24 / 24"
    assert texts["inputs"].startswith("1 feature(s)")
    assert texts["outputs"] == "2 classes: 1, 2"


def test_forecast_dataset_lines_name_features_and_targets(qtbot, forecast_csv):
    dataset = load_sequences(forecast_csv)
    summary = dataset.summary()
    texts = _panel_texts(qtbot, dataset)
    assert texts["sequences"] == str(summary["sequences"])
    assert texts["outputs"].startswith(f"forecast {len(summary['targets'])} target(s)")
    assert summary["source_paths"] == [os.path.abspath(forecast_csv)] or summary["source_paths"] == [forecast_csv]


def test_text_dataset_lines_count_the_vocabulary(qtbot, tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("the cat sat on the mat. " * 40)
    dataset = load_sequences(str(path))
    vocab = dataset.summary()["vocab"]
    texts = _panel_texts(qtbot, dataset)
    assert texts["inputs"] == f"text, vocabulary {vocab}"
    assert texts["outputs"] == "next character"  # its vocabulary is in the inputs row

def _all_params(param):
    for child in param.children():
        yield child
        yield from _all_params(child)


def _row(panel, param):
    (item,) = [i for i in param.items if i.treeWidget() is panel.tree]
    return item


def test_every_control_has_a_tip_on_its_row_not_only_in_its_editor(qtbot):

    panel = ControlPanel()
    qtbot.addWidget(panel)
    params = list(_all_params(panel.params))
    assert len(params) > 15
    for param in params:
        tip = param.opts.get("tip")
        assert tip, f"control {param.name()!r} has no tooltip"
        item = _row(panel, param)
        # the name column is what the pointer is over when nothing is being edited
        assert item.toolTip(0) == tip, param.name()
        index = panel.tree.indexFromItem(item, 0)
        assert index.data(QtCore.Qt.ToolTipRole) == tip


def test_a_tip_that_changes_later_follows_to_the_row(qtbot, forecast_csv):

    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(load_sequences(forecast_csv))
    file_param = panel._param("file")
    assert _row(panel, file_param).toolTip(0).endswith("sine.csv")


TRAIN_TIMEOUT = 60_000


def _visible_boxes(window):
    from PyQt5 import QtWidgets

    return [b for b in window.findChildren(QtWidgets.QMessageBox) if b.isVisible()]


def _paused_after_one_epoch(qtbot, window):
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() >= 1 and window.run_state == "paused",
                    timeout=TRAIN_TIMEOUT)


def test_an_out_of_range_probe_is_refused_at_entry_and_never_comes_back(qtbot, loaded_window, forecast_csv,
                                                                        tiny_config):
    window = loaded_window(forecast_csv, tiny_config.replace(epochs=50))
    _paused_after_one_epoch(qtbot, window)
    n_val = len(window.worker.trainer.split.val)
    window.controls._param("probe_index").setValue(n_val + 40)  # "probe index 50 of 10"
    assert window.controls.probe_index() == 0  # reverted at once, not left in the field
    assert "refused" in window.last_status and str(n_val + 40) in window.last_status
    assert "refused" in window.controls.last_message()
    assert not _visible_boxes(window) and window.last_error is None  # the status bar, never a box
    window.reset_weights()  # a new run does not bring the refused value (or a box) back
    qtbot.waitUntil(lambda: window.run_state == "ready", timeout=TRAIN_TIMEOUT)
    qtbot.wait(200)
    assert not _visible_boxes(window) and window.last_error is None


def test_enter_commits_an_edit_and_closes_the_editor_so_space_pauses(qtbot, loaded_window, forecast_csv,
                                                                     tiny_config):
    window = loaded_window(forecast_csv, tiny_config.replace(epochs=100_000))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.toggle_run()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() >= 1 and window.run_state == "running",
                    timeout=TRAIN_TIMEOUT)
    param = window.controls._param("learning_rate")
    item = next(iter(param.items))
    window.controls.tree.setCurrentItem(item, 1)  # what a click on the row does: its editor opens
    editor = item.widget
    qtbot.waitUntil(editor.isVisible, timeout=2000)
    editor.setFocus()
    editor.lineEdit().selectAll()
    qtbot.keyClicks(editor, "0.002")
    qtbot.keyClick(editor, QtCore.Qt.Key_Return)
    qtbot.waitUntil(lambda: not editor.isVisible(), timeout=2000)  # committed and closed
    assert window.worker.run_config().learning_rate == 0.002
    focused = window.focusWidget() or window
    qtbot.keyClick(focused, QtCore.Qt.Key_Space)
    assert window.run_state == "paused", focused
    assert param.value() == 0.002  # no space typed into the field


def test_a_large_learning_rate_is_not_capped_silently(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel._param("learning_rate").setValue(1000.0)
    assert panel.value("learning_rate") == 1000.0 and panel.config().learning_rate == 1000.0



def _type_into(qtbot, panel, name, text):
    item = next(iter(panel._param(name).items))
    item.showEditor()
    spin = item.widget
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), QtCore.Qt.Key_Return)
    return spin


def test_a_typed_value_beyond_a_limit_is_set_to_the_limit_and_says_so(qtbot):
    """Spin boxes clamped typed values silently: 99999 in batch size became 4096 (or a negative
    rate the smallest one) with nothing saying why the number changed."""
    from engine import limits

    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.show()
    _type_into(qtbot, panel, "batch_size", "99999")
    assert panel.value("batch_size") == limits.MAX_BATCH_SIZE
    qtbot.wait(20)  # the restart change it causes is decided on the next pass: the words stay
    message = panel.last_message()
    assert "batch size 99999" in message and f"{limits.MAX_BATCH_SIZE}" in message and "largest" in message and "set to" in message
    _type_into(qtbot, panel, "validation_fraction", "0")
    assert panel.value("validation_fraction") == 0.01
    assert "validation fraction 0" in panel.last_message() and "smallest" in panel.last_message()
    _type_into(qtbot, panel, "seed", "7")  # in range: no message, the old one goes
    qtbot.waitUntil(lambda: panel.last_message() == "", timeout=2000)
    assert panel.value("seed") == 7


def test_framed_lengths_are_frames_with_the_files_steps(qtbot, classify_tsv):
    from engine.data.framing import frame_dataset

    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(frame_dataset(load_sequences(classify_tsv), 4))
    assert panel.value("lengths") == "24 / 24 / 24"  # was "6 / 6 / 6", as if the file had 6
    assert panel.value("frames") == "6 × 4 steps" and panel._param("frames").opts["visible"]
    panel.set_dataset(load_sequences(classify_tsv))  # unframed: no frames row
    assert not panel._param("frames").opts["visible"]


def test_the_lengths_tip_names_the_frames(qtbot, classify_tsv):
    from engine.data.framing import frame_dataset

    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(frame_dataset(load_sequences(classify_tsv), 4))
    assert "frames: 6 / 6 / 6" in panel._param("lengths").opts["tip"]
    panel.set_dataset(load_sequences(classify_tsv))
    assert panel._param("lengths").opts["tip"].startswith("Time steps per sequence")


def test_a_dataset_row_shows_its_whole_text_when_the_column_has_room_and_refits_when_narrowed(qtbot):
    """Fitted once to the narrowest column, a wide dock showed 'ItalyPowerDeman…' beside free room."""
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_dataset(load_sequences("benchmarks/data/ItalyPowerDemand_TRAIN.ts"))
    panel.resize(700, 600)
    panel.show()
    qtbot.waitUntil(lambda: panel.value("file") == "ItalyPowerDemand_TRAIN.ts", timeout=5000)
    panel.resize(panel.minimum_width(), 600)
    qtbot.waitUntil(lambda: panel.value("file") != "ItalyPowerDemand_TRAIN.ts", timeout=5000)
    assert panel.value("file").endswith("…")
    assert "ItalyPowerDemand_TRAIN.ts" in panel._param("file").opts["tip"]
