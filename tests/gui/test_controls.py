"""ControlPanel's dataset lines come from SequenceDataset.summary(): one summary, two readers."""
import os

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
