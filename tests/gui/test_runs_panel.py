"""The Runs dock: table, filter, sort, ticks, config diff, rename and delete (asks first)."""
import numpy as np
import pytest
from PyQt5 import QtCore, QtWidgets

from engine.run_reader import RunFolderError
from gui.runs_panel import RunsPanel
from tests.gui.run_folders import write_run


@pytest.fixture
def panel(qtbot, tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "2026-12-01_a", "gru small", [1.0, 0.5, 0.4])
    write_run(runs / "2026-12-01_b", "lstm big", [0.9, 0.3], cell="lstm", hidden_sizes=[64])
    write_run(runs / "2026-12-01_c", "gru fast", [0.8, 0.6], learning_rate=0.01)
    widget = RunsPanel(runs)
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    return widget


def test_table_filters_and_sorts_by_value(panel):
    assert panel.row_count() == 3
    panel.filter_edit.setText("LSTM")  # any column, any case
    assert panel.shown_names() == ["lstm big"]
    panel.filter_edit.setText("")
    best = list(panel.model.horizontalHeaderItem(i).text() for i in range(panel.model.columnCount())).index(
        "best val loss")
    panel.table.sortByColumn(best, QtCore.Qt.AscendingOrder)
    assert panel.shown_names() == ["lstm big", "gru small", "gru fast"]  # 0.3, 0.4, 0.6 as numbers


def test_ticks_and_config_diff(panel, qtbot):
    with qtbot.waitSignal(panel.sigCompareChanged):
        panel.set_checked("gru small")
    panel.set_checked("lstm big")
    assert sorted(r.name for r in panel.checked_runs()) == ["gru small", "lstm big"]
    panel.select(["gru small", "gru fast"])
    names = [r.name for r in panel.selected_runs()]
    assert [panel.diff.horizontalHeaderItem(j).text() for j in range(2)] == names  # one column per run
    assert panel.diff_rows() == [("learning_rate", ["0.003" if n == "gru small" else "0.01" for n in names])]
    assert "1 setting(s) differ" in panel.diff_label.text()
    panel.select(["gru small"])
    assert panel.diff_rows() == [] and "two or more" in panel.diff_label.text()
    panel.refresh()  # ticks survive a refresh
    assert sorted(r.name for r in panel.checked_runs()) == ["gru small", "lstm big"]


def test_ticks_are_overlaid_on_the_next_turn_once_however_many_changed(panel, qtbot):
    """A tick's click returns at once; the overlay (reading the run, new plot items, the repaint) is
    built on the next turn of the event loop, once for several ticks (bench_ui --only-runs-view:
    the tick, the items and the repaint in one frame made it 57-92 ms long at load 5-6)."""
    built = []
    panel.sigCompareChanged.connect(lambda: built.append(len(panel.checked_runs())))
    for name in ("gru small", "lstm big", "gru fast"):
        panel.set_checked(name)
    assert built == []
    qtbot.waitUntil(lambda: built == [3], timeout=5_000)
    qtbot.wait(20)
    assert built == [3]


def test_a_refresh_keeps_the_selection_and_its_config_diff(panel):
    """The window refreshes the dock when its own run starts or ends: the runs selected for the diff
    stay selected (they were all deselected, and the diff emptied)."""
    panel.select(["gru small", "gru fast"])
    before = [r.name for r in panel.selected_runs()]
    panel.refresh()
    assert [r.name for r in panel.selected_runs()] == before
    assert panel.diff_rows() and "1 setting(s) differ" in panel.diff_label.text()


def test_rename_and_delete_ask_first(panel, monkeypatch, auto_dialogs):
    panel.select(["gru fast"])
    monkeypatch.setattr(QtWidgets.QInputDialog, "getText", staticmethod(lambda *a, **k: ("gru lr 1e-2", True)))
    panel.rename_selected()
    assert "gru lr 1e-2" in panel.shown_names()
    panel.select(["gru lr 1e-2"])
    auto_dialogs["confirm"] = False
    panel.delete_selected()
    assert panel.row_count() == 3 and auto_dialogs["asked"] == 1
    auto_dialogs["confirm"] = True
    panel.delete_selected()
    assert panel.row_count() == 2 and "gru lr 1e-2" not in panel.shown_names()


def test_an_opened_folder_outside_the_runs_dir_is_listed_and_a_foreign_one_refused(panel, tmp_path):
    elsewhere = write_run(tmp_path / "cluster" / "run7", "from the cluster", [0.7])
    panel.add_folder(elsewhere, tick=True)
    assert "from the cluster" in panel.shown_names()
    assert [name for name, *_ in panel.compared_curves()] == ["from the cluster"]
    (tmp_path / "junk").mkdir()
    with pytest.raises(RunFolderError, match="not an RNN Scope run folder"):
        panel.add_folder(tmp_path / "junk")
    assert panel.row_count() == 4


def test_a_folder_opened_before_the_listing_is_not_listed_twice_and_skipped_ones_are_reported(qtbot, tmp_path):
    """``--run DIR`` opens (and ticks) a folder while the dock has not read its runs folder yet; once
    it has, that folder is one row, still ticked, and a damaged folder is named in the status bar."""
    runs = tmp_path / "runs"
    good = write_run(runs / "a", "good", [1.0])
    (runs / "b").mkdir()
    (runs / "b" / "run.json").write_text("{not json")
    panel = RunsPanel(runs)
    qtbot.addWidget(panel)
    panel.add_folder(good, tick=True)
    messages = []
    panel.sigMessage.connect(messages.append)
    panel.show()  # the runs folder is read now
    qtbot.waitUntil(lambda: not panel.listing.pending, timeout=5_000)
    assert panel.shown_names() == ["good"] and [r.name for r in panel.checked_runs()] == ["good"]
    assert len(panel.notes) == 1 and "1 folder(s) skipped" in messages[-1] and "run.json" in messages[-1]


def test_a_folder_written_by_a_real_run_reads_back(qtbot, tmp_path):
    from engine.data import SequenceDataset
    from engine.runs import Run
    from engine.training import TrainingConfig

    t = np.arange(16)
    dataset = SequenceDataset(sequences=[np.sin(0.5 * t + p)[:, None] for p in np.linspace(0, 5, 8)],
                              task="forecast", name="sine")
    config = TrainingConfig(cell="elman", hidden_sizes=(3,), batch_size=4, epochs=2, learning_rate=1e-2)
    run = Run.start(config, dataset, tmp_path / "runs" / "real")
    reports = list(run.epochs())
    run.close()
    panel = RunsPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.show()  # the runs folder is listed when the dock is first shown
    panel.model.item(0, 0).setCheckState(QtCore.Qt.Checked)
    (name, epochs, train, val, _markers, _checkpoints), = panel.compared_curves()
    assert list(epochs) == [1, 2] and list(val) == [r.val_loss for r in reports]
    row = {panel.model.horizontalHeaderItem(i).text(): panel.model.item(0, i).text()
           for i in range(panel.model.columnCount())}
    assert row["status"] == "finished" and row["epochs"] == "2 / 2" and row["cell"] == "elman"
    assert row["dataset"] == "sine" and row["hidden sizes"] == "3"



def test_runs_with_the_same_name_are_told_apart_by_folder_in_the_legend(qtbot, tmp_path):
    write_run(tmp_path / "runs" / "monday", "sine · gru (16)", [0.5])
    write_run(tmp_path / "runs" / "tuesday", "sine · gru (16)", [0.4])
    widget = RunsPanel(tmp_path / "runs")
    qtbot.addWidget(widget)
    widget.show()
    for row in range(widget.model.rowCount()):
        widget.model.item(row, 0).setCheckState(QtCore.Qt.Checked)
    assert sorted(label for label, *_ in widget.compared_curves()) == ["sine · gru (16) [monday]",
                                                                       "sine · gru (16) [tuesday]"]


WRITER = """
import sys
import numpy as np
from engine.data import SequenceDataset
from engine.runs import Run
from engine.training import TrainingConfig
t = np.arange(16)
data = SequenceDataset(sequences=[np.sin(0.5 * t + p)[:, None] for p in np.linspace(0, 5, 8)], task="forecast",
                       name="sine")
config = TrainingConfig(cell="elman", hidden_sizes=(3,), batch_size=4, epochs=100000, learning_rate=1e-2)
run = Run.start(config, data, sys.argv[1])
for report in run.epochs(poll_s=0.05):
    pass
run.close()
"""


@pytest.mark.slow
def test_follow_a_run_another_process_writes_and_steer_it_through_control_jsonl(qtbot, tmp_path):
    """A run trained by a second process: ticked, its new epochs appear without a refresh (the
    view's zoom stays: only data changes); rate, then stop go through its control.jsonl."""
    import os
    import subprocess
    import sys

    from engine.run_reader import open_run

    folder = tmp_path / "runs" / "remote"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], cwd=root,
                              env=dict(os.environ, PYTHONPATH=root), stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: (folder / "metrics.csv").exists() and bool(open_run(folder).epochs), timeout=120_000)
        panel = RunsPanel(tmp_path / "runs")
        qtbot.addWidget(panel)
        panel.set_checked(open_run(folder).name)
        first = len(panel.compared_curves()[0][1])
        qtbot.waitUntil(lambda: len(panel.compared_curves()[0][1]) > first + 2, timeout=30_000)  # followed
        panel.select([panel.shown_names()[0]])
        assert panel.steer("set", name="learning_rate", value=0.0005)
        reader = open_run(folder)
        qtbot.waitUntil(lambda: reader.poll() is not None and bool(reader.epochs)
                        and reader.epochs[-1]["learning_rate"] == 0.0005, timeout=30_000)
        change = [e for e in reader.events if e["kind"] == "set"][-1]
        assert (change["name"], change["new"], change.get("source")) == ("learning_rate", 0.0005, "control")
        qtbot.waitUntil(lambda: any("→ 0.0005 (control)" in text for _, text in panel.compared_curves()[0][4]),
                        timeout=10_000)  # the followed curve is marked where the rate changed
        assert panel.steer("stop")
        writer.wait(timeout=60)
        reader.poll()
        assert str(reader.status) == "stopped" and writer.returncode == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
