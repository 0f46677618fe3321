"""A launch with no file named reopens the last session's dataset (gui.recent_files, gui.app)."""
from types import SimpleNamespace

from PyQt5 import QtCore

import resources


def _launch(qtbot):
    from gui.app import setup_window

    window = setup_window(SimpleNamespace(files=[]))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.dataset is not None or window.last_error is not None, timeout=30_000)
    return window


def test_relaunch_reopens_the_last_dataset_with_its_options(qtbot, forecast_csv, tmp_path):
    first = _launch(qtbot)
    try:
        assert first.dataset_paths == [str(resources.default_dataset_path())]  # nothing remembered yet
        first.open_paths([forecast_csv], preview=False, options={"index_columns": []})
        qtbot.waitUntil(lambda: first.dataset_paths == [forecast_csv], timeout=30_000)
    finally:
        first.close()
    QtCore.QSettings().sync()

    second = _launch(qtbot)
    try:
        assert second.dataset_paths == [forecast_csv]
        assert second.dataset_options == {"index_columns": []}
        assert "sine.csv" in second.last_status and "last session" in second.last_status
    finally:
        second.close()


def test_a_vanished_last_dataset_opens_the_sample_and_says_so(qtbot, tmp_path):
    gone = tmp_path / "gone.csv"
    gone.write_text("t,value\n" + "\n".join(f"{i},{i % 7}" for i in range(60)) + "\n")
    first = _launch(qtbot)
    try:
        first.open_paths([str(gone)], preview=False)
        qtbot.waitUntil(lambda: first.dataset_paths == [str(gone)], timeout=30_000)
    finally:
        first.close()
    gone.unlink()

    second = _launch(qtbot)
    try:
        assert second.dataset_paths == [str(resources.default_dataset_path())]
        assert "gone.csv" in second.last_status and "no longer exists" in second.last_status
        assert second.last_error is None  # a note in the status bar, not an error box
    finally:
        second.close()
