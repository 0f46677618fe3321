"""The preview dialog's option controls come from engine.data.options (issue 10)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.options import OPTIONS
from gui.preview_dialog import PreviewDialog


def test_every_loading_option_with_a_dialog_label_has_its_control(qtbot, forecast_csv):
    """The dialog lacked decimal, delimiter, index columns, skip non-numeric, several files, ...:
    the fixes an error named could not be chosen."""
    dialog = PreviewDialog([forecast_csv])
    qtbot.addWidget(dialog)
    labelled = [key for key, option in OPTIONS.items() if option.label]
    assert list(dialog.boxes) == labelled
    assert {key: dialog.labels[key].text() for key in labelled} == {key: OPTIONS[key].label for key in labelled}
    assert dialog.options() == {}  # everything automatic / default
    chosen = {"delimiter": ";", "decimal": ",", "index_columns": [], "skip_non_numeric": True,
              "multi_file": "append", "has_header": False, "target_column": ["a", 2], "nonfinite": "drop",
              "label_from_folder": True, "max_vocab": 64, "layout": "rows", "format": "csv",
              "task": "forecast"}
    dialog.set_options(chosen)
    assert dialog.options() == chosen
    dialog.set_options({"delimiter": "\t"})
    assert dialog.options()["delimiter"] == "tab"


def test_a_european_csv_is_previewed_with_its_decimal_comma_and_can_be_overridden(qtbot, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("sep=;\nprice\n" + "".join(f"1,{i:02d}\n" for i in range(30)))
    dialog = PreviewDialog([str(path)])
    qtbot.addWidget(dialog)
    assert dialog.error is None and "decimal: ," in dialog.summary.text()
    assert dialog.dataset().sequences[0][:2, 0].tolist() == pytest.approx([1.0, 1.01])
    dialog.boxes["decimal"].setCurrentText(".")  # the user's override re-runs the preview
    assert dialog.options() == {"decimal": "."}
    assert dialog.preview is None and "prices.csv" in dialog.error  # "1,01" is no number with a decimal point
    assert "1,01" in dialog.rows.toPlainText()  # the file's head is still shown
    dialog.boxes["decimal"].setCurrentText("auto")
    assert dialog.error is None and dialog.dataset().n_sequences == 1


def test_steps_per_frame_typed_as_1_is_a_choice_the_suggestion_keeps(qtbot, forecast_csv):
    """Empty lets the suggestion frame a long series; a typed 1 keeps the file's steps."""
    dialog = PreviewDialog([forecast_csv])
    qtbot.addWidget(dialog)
    assert "frame" not in dialog.options()
    dialog.set_options({"frame": 1})
    assert dialog.boxes["frame"].text() == "1" and dialog.options()["frame"] == 1
    dialog.boxes["frame"].setText("8")
    assert dialog.options()["frame"] == 8


def test_an_npz_over_the_size_limit_names_the_dialogs_field_and_its_fix_sets_it(qtbot, tmp_path):
    """The message said 'pass a larger size_limit', a Python keyword the window has no control
    for; now the dialog's own field, which its fix button sets."""
    path = tmp_path / "big.npz"
    np.savez_compressed(path, X=np.zeros((64, 1024, 4), np.float32))  # 1 MB + the .npy header, unzipped
    dialog = PreviewDialog([str(path)], initial_options={"size_limit": 1 << 20})
    qtbot.addWidget(dialog)
    assert "member 'X.npy' would decompress to" in dialog.error
    assert 'choose "1048704" for "size limit (bytes)"' in dialog.error
    assert "size_limit" not in dialog.error and "--size-limit" not in dialog.error
    assert dialog.highlighted == ["size_limit"] and [b.text() for b in dialog.fix_buttons] == [
        "size limit (bytes): 1048704"]
    dialog.fix_buttons[0].click()
    assert dialog.error is None and dialog.options() == {"size_limit": 1048704}
