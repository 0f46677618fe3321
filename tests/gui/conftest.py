"""GUI fixtures: settings isolated per test, small sample files, a window with a tiny model."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt5 import QtCore, QtWidgets


@pytest.fixture(scope="session", autouse=True)
def plot_options():
    """pyqtgraph's global options, set once as the app sets them at start-up."""
    from gui.plots.style import configure

    configure()


@pytest.fixture(autouse=True)
def widgets_deleted_after_the_test(qapp):
    """The test's widgets are really gone before the next test starts.

    pytest-qt closes the widgets a test registered and calls ``deleteLater``; Qt deletes them only
    in a later event loop. A next test that never runs one before it looks at the application's
    windows still saw the last test's: test_dataset_open, run after test_dialogs (reverse file
    order), found its two visible error boxes among ``QApplication.topLevelWidgets()``. Sending
    the deferred deletes here (the last fixture to finish: pytest-qt has closed the widgets)
    deletes them with their child boxes and dialogs."""
    yield
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp):
    """Every QSettings() in a test reads and writes an INI file under tmp_path, never the real one."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QtCore.QSettings.setDefaultFormat(QtCore.QSettings.IniFormat)
    QtCore.QSettings.setPath(QtCore.QSettings.IniFormat, QtCore.QSettings.UserScope, str(folder))
    qapp.setOrganizationName("RNN Scope Tests")
    qapp.setApplicationName("RNN Scope Tests")
    QtCore.QSettings().setValue("runs/dir", str(tmp_path / "runs"))  # window runs and the Runs dock
    yield folder


@pytest.fixture(autouse=True)
def no_dialog_left_open(qapp):
    """After each test (and its windows' teardown) no dialog or message box is still on screen: a
    box left open by one test (an error box whose window closed) was found by the next test's
    check for error boxes, which then failed only in that order. A leaked dialog is closed here
    and the test that left it fails, so the leak is named where it happens."""
    yield
    qapp.processEvents()
    left = [w for w in QtWidgets.QApplication.topLevelWidgets()
            if isinstance(w, QtWidgets.QDialog) and w.isVisible()]
    for widget in left:
        widget.close()
    assert not left, "dialogs left open: " + ", ".join(
        f"{type(w).__name__} {w.objectName()!r} {w.windowTitle()!r}" for w in left)


@pytest.fixture
def forecast_csv(tmp_path):
    """One noisy sine, two columns (t, value): a forecasting sample of 120 steps."""
    rng = np.random.default_rng(0)
    t = np.arange(120)
    x = np.sin(t / 5.0) + 0.05 * rng.normal(size=t.size)
    path = tmp_path / "sine.csv"
    lines = ["t,value"] + [f"{i},{v:.5f}" for i, v in zip(t, x)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture
def classify_tsv(tmp_path):
    """UCR layout: label then 24 values per row; two classes (rising vs falling), 16 rows."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(16):
        label = 1 + i % 2
        ramp = np.linspace(-1, 1, 24) * (1 if label == 1 else -1)
        values = ramp + 0.1 * rng.normal(size=24)
        rows.append("\t".join([str(label)] + [f"{v:.4f}" for v in values]))
    path = tmp_path / "Ramps_TRAIN.tsv"
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("a,b\nfoo,bar\n1,\n")
    return str(path)


@pytest.fixture
def tiny_config():
    from engine.training import TrainingConfig

    return TrainingConfig(cell="elman", hidden_sizes=(6,), epochs=3, batch_size=8, learning_rate=1e-2)


@pytest.fixture
def auto_dialogs(monkeypatch):
    """Preview dialogs accept at once; confirmations answer what ``answers['confirm']`` says."""
    from gui import dialogs

    answers = {"confirm": True, "asked": 0}

    def confirm(*_args, **_kwargs):
        answers["asked"] += 1
        return answers["confirm"]

    monkeypatch.setattr(dialogs.PreviewDialog, "exec_", lambda self: QtWidgets.QDialog.Accepted)
    monkeypatch.setattr(dialogs, "confirm", confirm)
    return answers


@pytest.fixture
def make_window(qtbot, tiny_config, auto_dialogs):
    """Factory for MainWindows that are closed (worker thread ended) after the test."""
    from gui.main_window import MainWindow

    windows = []

    def make(config=None, **kwargs):
        window = MainWindow(config or tiny_config, **kwargs)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.worker.is_thread_running()



@pytest.fixture
def loaded_window(qtbot, make_window):
    """Factory: a window (``make_window``) with ``path`` loaded, no preview."""

    def make(path, config=None):
        window = make_window(config)
        window.open_paths([path], preview=False)
        qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
        return window

    return make
