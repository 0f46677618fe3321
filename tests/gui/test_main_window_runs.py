"""The window's Runs dock: runs folder from the settings, File > Open run folder, --run DIR."""
import json
from types import SimpleNamespace

import numpy as np
from PyQt5 import QtWidgets

from engine.names import RunState
from engine.run_reader import open_run
from tests.gui.run_folders import write_run
from tests.gui.worker_sync import worker_settled


def test_the_runs_dock_lists_the_runs_folder_and_overlays_ticked_runs(qtbot, make_window, tmp_path):
    runs = tmp_path / "runs"  # the conftest points the setting here, never at the user's folder
    write_run(runs / "a", "baseline", [1.0, 0.6, 0.4])
    write_run(runs / "b", "lower lr", [1.1, 0.9, 0.8], learning_rate=3e-4)
    window = make_window()
    assert window.runs_dir() == runs
    window.runs_panel.refresh()
    assert sorted(window.runs_panel.shown_names()) == ["baseline", "lower lr"]
    window.runs_panel.set_checked("baseline")
    window.runs_panel.set_checked("lower lr")  # overlaid on the next turns of the event loop
    qtbot.waitUntil(lambda: sorted(window.loss_plot.compared()) == ["baseline", "lower lr"], timeout=5000)
    index = window.loss_plot.compared().index("baseline")
    np.testing.assert_allclose(window.loss_plot.compared_data(index)["val"][1], [1.0, 0.6, 0.4])
    window.runs_panel.set_checked("baseline", False)
    qtbot.waitUntil(lambda: window.loss_plot.compared() == ["lower lr"], timeout=5000)


def test_open_run_folder_from_the_file_menu_and_a_bad_folder_explains(qtbot, monkeypatch, make_window, tmp_path):
    folder = write_run(tmp_path / "cluster" / "run-42", "on the cluster", [0.5, 0.25])
    window = make_window()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    window.act_open_run.trigger()  # shown in the main panels, listed in the Runs dock
    assert window.history.label == "on the cluster" and window.loss_plot.point_count() == 2
    assert "on the cluster" in window.runs_panel.shown_names() and window.loss_plot.compared() == []
    assert window.docks["runs"].isVisible()
    (tmp_path / "holiday-photos").mkdir()
    assert window.open_run_folder(tmp_path / "holiday-photos") is False
    assert "holiday-photos" in window.last_error and "not an RNN Scope run folder" in window.last_error


def test_runs_folder_can_be_changed_and_is_remembered(qtbot, monkeypatch, make_window, tmp_path):
    other = tmp_path / "elsewhere"
    write_run(other / "x", "moved run", [0.3])
    window = make_window()
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(other)))
    window.act_runs_dir.trigger()
    assert window.runs_panel.shown_names() == ["moved run"]
    assert make_window().runs_dir() == other


def test_run_flag_opens_each_folder(qtbot, tmp_path, forecast_csv, auto_dialogs):
    from gui.app import setup_window

    first = write_run(tmp_path / "r1", "first", [0.9])
    second = write_run(tmp_path / "r2", "second", [0.8])
    window = setup_window(SimpleNamespace(files=[forecast_csv], run=[str(first), str(second)]))
    qtbot.addWidget(window)
    try:  # the last one shown in the main panels once the data has loaded, the others overlaid
        qtbot.waitUntil(lambda: window.loss_plot.compared() == ["first"], timeout=5000)
        qtbot.waitUntil(lambda: window.dataset is not None and window.history.label == "second", timeout=10_000)
        assert window.loss_plot.point_count() == 1 and window.loss_plot.compared() == ["first"]
    finally:
        window.close()


def test_a_window_run_is_recorded_in_the_runs_folder_with_its_live_changes(qtbot, loaded_window, forecast_csv,
                                                                          tiny_config, tmp_path):
    window = loaded_window(forecast_csv, tiny_config.replace(epochs=4))
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 1 and window.run_state == "paused", timeout=60_000)
    window.controls._param("learning_rate").setValue(0.002)  # through the run's one door
    assert window.worker.run_config().learning_rate == 0.002  # the window keeps no copy to drift
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle, timeout=60_000)
    folders = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.endswith("_sine")
    reader = open_run(folders[0])
    assert str(reader.status) == "finished" and [e["epoch"] for e in reader.epochs] == [1, 2, 3, 4]
    changes = [e for e in reader.events if e["kind"] == "set"]
    assert [(e["name"], e["old"], e["new"]) for e in changes] == [("learning_rate", 0.01, 0.002)]
    assert [e["learning_rate"] for e in reader.epochs] == [0.01, 0.002, 0.002, 0.002]
    assert json.loads((folders[0] / "run.json").read_text())["config"]["learning_rate"] == 0.002
    assert window.loss_plot.markers() == [(1.0, "lr 0.01 → 0.002")]
    qtbot.waitUntil(lambda: reader.name in window.runs_panel.shown_names(), timeout=5000)


def test_a_window_run_obeys_its_control_jsonl(qtbot, loaded_window, forecast_csv, tiny_config, tmp_path):
    """Another process (or window) steering this window's run: rate changes, then a pause."""
    from engine.run_folder import append_command

    window = loaded_window(forecast_csv, tiny_config.replace(epochs=100_000))
    window.toggle_run()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() >= 2, timeout=60_000)
    folder = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    append_command(folder, "set", name="learning_rate", value=0.004)
    qtbot.waitUntil(lambda: window.worker.run_config().learning_rate == 0.004, timeout=10_000)
    append_command(folder, "pause")
    qtbot.waitUntil(lambda: window.run_state == "paused", timeout=10_000)
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert [e["kind"] for e in events if e.get("source") == "control"][-2:] == ["set", "pause"]


def test_a_window_run_obeys_a_step_in_its_control_jsonl(qtbot, loaded_window, forecast_csv, tiny_config, tmp_path):
    """Another process's "step" on this window's running run: it pauses, trains one epoch, stays paused."""
    from engine.run_folder import append_command
    from engine.run_reader import open_run

    window = loaded_window(forecast_csv, tiny_config.replace(epochs=100_000))
    window.toggle_run()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() >= 2, timeout=60_000)
    folder = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    append_command(folder, "step")
    qtbot.waitUntil(lambda: window.run_state == "paused", timeout=10_000)
    step = next(e for e in open_run(folder).events if e["kind"] == "step")
    qtbot.waitUntil(lambda: len(open_run(folder).epochs) == step["epoch"] + 1, timeout=10_000)
    qtbot.wait(500)
    assert len(open_run(folder).epochs) == step["epoch"] + 1 and window.run_state == "paused"
    assert [e["kind"] for e in open_run(folder).events if e.get("source") == "control"] == ["pause", "step"]


def test_a_paused_window_run_reads_its_control_jsonl(qtbot, loaded_window, forecast_csv, tiny_config, tmp_path):
    """Paused in the window, the run still obeys another process (or the Runs dock): step, resume,
    stop. It read control.jsonl only while training, so these waited until the user resumed it."""
    from engine.run_folder import append_command
    from engine.run_reader import open_run

    window = loaded_window(forecast_csv, tiny_config.replace(epochs=100_000))
    window.toggle_run()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() >= 2, timeout=60_000)
    folder = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    window.toggle_run()  # Pause
    qtbot.waitUntil(lambda: open_run(folder).status is RunState.PAUSED, timeout=10_000)
    worker_settled(qtbot, window.worker)  # the pause has landed: no epoch is on its way to metrics.csv
    paused_at = len(open_run(folder).epochs)
    append_command(folder, "step")
    qtbot.waitUntil(lambda: len(open_run(folder).epochs) >= paused_at + 1, timeout=10_000)
    append_command(folder, "resume")
    qtbot.waitUntil(lambda: window.run_state == "running", timeout=10_000)
    qtbot.waitUntil(lambda: len(open_run(folder).epochs) > paused_at + 3, timeout=10_000)
    window.toggle_run()  # Pause again, then stop from elsewhere
    qtbot.waitUntil(lambda: open_run(folder).status is RunState.PAUSED, timeout=10_000)
    append_command(folder, "stop")
    qtbot.waitUntil(lambda: window.run_state == "stopped", timeout=10_000)
    assert open_run(folder).status is RunState.STOPPED
    kinds = [e["kind"] for e in open_run(folder).events if e.get("source") == "control"]
    assert kinds == ["step", "resume", "stop"]


def test_overlaid_and_followed_runs_show_their_events_as_markers(qtbot, make_window, tmp_path):
    from engine.run_folder import EVENTS, event_line

    folder = write_run(tmp_path / "runs" / "remote", "remote run", [1.0, 0.7, 0.5], status="running")
    with open(folder / EVENTS, "w") as fh:
        fh.write(event_line("set", 1, 0.5, name="learning_rate", old=0.003, new=0.001) + "\n")
        fh.write(event_line("checkpoint", 2, 1.0, file="checkpoint.npz") + "\n")
    window = make_window()
    window.runs_panel.refresh()
    window.runs_panel.set_checked("remote run")
    qtbot.waitUntil(lambda: window.loss_plot.compared() == ["remote run"], timeout=5000)
    assert window.loss_plot.compared_markers(0) == [(1.0, "lr 0.003 → 0.001")]
    assert window.loss_plot.compared_checkpoints(0) == [2.0]
    with open(folder / EVENTS, "a") as fh:  # the other process pauses it, through its control.jsonl
        fh.write(event_line("pause", 3, 1.5, source="control") + "\n")
    qtbot.waitUntil(lambda: len(window.loss_plot.compared_markers(0)) == 2, timeout=5000)  # followed
    assert window.loss_plot.compared_markers(0)[1] == (3.0, "pause")


def test_dropping_a_run_folder_on_the_window_opens_it(qtbot, make_window, tmp_path):
    from PyQt5 import QtCore, QtGui

    folder = write_run(tmp_path / "elsewhere" / "r7", "dropped run", [0.9, 0.4])
    window = make_window()
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(folder))])
    window.dropEvent(QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                                      QtCore.Qt.NoModifier))
    qtbot.waitUntil(lambda: window.history.label == "dropped run", timeout=5000)  # shown in the main panels
    assert window.loss_plot.point_count() == 2
    assert window.dataset is None and window.last_error is None  # not taken for a data file


def _count_runs_dock_work(monkeypatch, panel):
    """What the Runs dock does from now on: folders stamped and opened, rows inserted, removed, updated."""
    import gui.run_summaries as summaries
    from engine import run_reader

    work = SimpleNamespace(stamped=[], opened=[], inserted=0, removed=0, updated=set())
    stamp = getattr(summaries, "folder_stamp", None)
    monkeypatch.setattr(summaries, "folder_stamp", lambda folder: work.stamped.append(folder.name) or stamp(folder),
                        raising=False)
    real_init = run_reader.RunReader.__init__
    monkeypatch.setattr(run_reader.RunReader, "__init__",
                        lambda reader, folder, **kw: work.opened.append(folder.name) or real_init(reader, folder, **kw))
    def count(what):
        return lambda _parent, first, last: setattr(work, what, getattr(work, what) + last - first + 1)

    panel.model.rowsInserted.connect(count("inserted"))
    panel.model.rowsRemoved.connect(count("removed"))
    panel.model.dataChanged.connect(lambda top, bottom: work.updated.update(range(top.row(), bottom.row() + 1)))
    return work


def test_a_run_state_change_reads_only_its_own_run_folder(qtbot, monkeypatch, make_window, tmp_path):
    """The window's run starting or ending refreshed the whole Runs dock on the GUI thread: every
    folder stamped and every row rebuilt (with ~500 folders ~0.5 s per change while the worker
    compiled). Now only the run's own row is read again; a folder that appears is one new row."""
    runs = tmp_path / "runs"
    for k in range(50):
        write_run(runs / f"2026-11-{k:02d}_sine", f"old run {k}", [1.0, 0.5])
    window = make_window()
    panel = window.runs_panel
    assert len(panel.runs()) == 50
    own = write_run(runs / "2026-12-01_120000_sine", "this window's run", [0.9], status="running")
    window.run_folder = own
    work = _count_runs_dock_work(monkeypatch, panel)
    window._on_run_state(window._run_id, RunState.READY.value)
    assert (work.removed, work.inserted, work.stamped) == (0, 1, [own.name])  # its row appears, the rest untouched
    meta = json.loads((own / "run.json").read_text())
    write_run(tmp_path / "next" / "x", "this window's run", [0.9, 0.7], status="stopped")
    (tmp_path / "next" / "x" / "run.json").replace(own / "run.json")
    (tmp_path / "next" / "x" / "metrics.csv").replace(own / "metrics.csv")
    work = _count_runs_dock_work(monkeypatch, panel)
    window._on_run_state(window._run_id, RunState.STOPPED.value)
    assert (work.removed, work.inserted, work.stamped, work.opened) == (0, 0, [own.name], [own.name])
    assert len(work.updated) == 1 and meta["name"] == "this window's run"
    status = list(panel.model.horizontalHeaderItem(i).text() for i in range(panel.model.columnCount())).index("status")
    row = next(r for r in range(panel.model.rowCount()) if panel.model.item(r, 0).text() == "this window's run")
    assert panel.model.item(row, status).text() == "stopped" and len(panel.runs()) == 51


def test_the_runs_folder_is_read_when_the_runs_dock_is_shown_a_bounded_part_per_turn(qtbot, monkeypatch,
                                                                                      make_window, tmp_path):
    """The window read every run folder while it was built (~1 s of the GUI thread for ~500 folders,
    while the worker compiled the first model). Now nothing is read while the Runs dock is hidden
    (a tab behind Diagnostics at first launch); shown, it reads a time budget's worth per turn of
    the event loop (a zero budget: one folder per turn)."""
    import gui.runs_panel as runs_panel
    from engine import run_reader

    runs = tmp_path / "runs"
    for k in range(50):
        write_run(runs / f"2026-11-{k:02d}_sine", f"old run {k}", [1.0, 0.5])
    opened = []
    real_init = run_reader.RunReader.__init__
    monkeypatch.setattr(run_reader.RunReader, "__init__",
                        lambda reader, folder, **kw: opened.append(folder.name) or real_init(reader, folder, **kw))
    monkeypatch.setattr(runs_panel, "READ_BUDGET_S", 0.0, raising=False)
    window = make_window()
    qtbot.wait(50)
    assert window.docks["runs"].visibleRegion().isEmpty() and opened == []  # a tab behind Diagnostics
    listing = window.runs_panel.listing
    chunks = []
    read_some = listing.read_some
    monkeypatch.setattr(listing, "read_some", lambda budget, _r=read_some: _chunk(chunks, _r(budget)))
    window.docks["runs"].raise_()
    qtbot.waitUntil(lambda: window.runs_panel.model.rowCount() == 50, timeout=10_000)
    assert len(opened) == 50 and opened[0] == "2026-11-49_sine"  # newest first
    assert chunks == [1] * 50  # one folder per turn of the event loop


def _chunk(chunks, changed):
    chunks.append(len(changed))
    return changed
