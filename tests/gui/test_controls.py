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
    assert texts["outputs"] == f"next character ({vocab} symbols)"

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
