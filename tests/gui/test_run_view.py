"""A run folder shown in the main panels (gui.run_view): curves, markers, snapshots in the scrubber,
predictions from its checkpoint (or why not), and following a run another process writes."""
import json
import os

import numpy as np
import pytest

from engine.run_folder import EVENTS, METRICS, event_line, metrics_text
from engine.run_reader import open_run
from tests.gui.run_folders import write_run


@pytest.fixture
def trained_folder(tmp_path, forecast_csv, tiny_config):
    """A finished run folder written by a real Run (snapshots, checkpoints, a rate change)."""
    from engine.data import load_sequences
    from engine.runs import Run

    run = Run.start(tiny_config.replace(epochs=3), load_sequences(forecast_csv), tmp_path / "disk" / "r1")
    for report in run.epochs():
        if report.epoch == 1:
            run.update(learning_rate=0.005)
    run.close()
    return run.folder


def test_an_opened_folder_shows_its_curves_markers_snapshots_and_predictions(qtbot, make_window, trained_folder):
    window = make_window()
    assert window.open_run_folder(trained_folder)
    reader = open_run(trained_folder)
    epochs, val = reader.curve("val_loss")
    shown = window.loss_plot.curve_data()["val"]
    np.testing.assert_allclose(shown[0], epochs)
    np.testing.assert_allclose(shown[1], val)
    assert window.loss_plot.markers() == [(1.0, "lr 0.01 → 0.005")]
    assert window.loss_plot.compared() == []  # shown, not drawn a second time as an overlay
    assert window.hidden_panel.snapshot_epochs() == reader.snapshot_epochs() == [1, 2, 3]
    window.hidden_panel.scrub_to(1)
    hidden, _, _ = reader.snapshot(1)
    assert window.hidden_panel.displayed_epoch() == 1
    np.testing.assert_allclose(window.hidden_panel.displayed_snapshot().hidden[0], hidden[0])
    assert window.controls.value("learning_rate") == 0.005 and window.history.label == reader.name
    assert set(window.diagnostics.curve_data()) >= {("grad", "layer1"), ("weight", "layer1")}
    qtbot.waitUntil(lambda: window.flush_snapshot() or len(window.predictions.forecast_data().get("forecast", ())) > 0,
                    timeout=60_000)  # computed on the worker thread from best.npz
    assert "best.npz" in window.last_status
    assert not window.act_save_ckpt.isEnabled()  # the worker holds no trainer of this run


def test_when_the_data_file_is_gone_the_panel_says_so(qtbot, make_window, trained_folder, forecast_csv):
    os.remove(forecast_csv)
    window = make_window()
    window.open_run_folder(trained_folder)
    qtbot.waitUntil(lambda: "gone" in window.predictions.note(), timeout=60_000)
    assert os.path.basename(forecast_csv) in window.predictions.note()
    assert window.loss_plot.point_count() == 3  # the curves need no data


def test_starting_a_run_greys_the_shown_folder_and_stops_following_it(qtbot, loaded_window, forecast_csv,
                                                                      trained_folder):
    window = loaded_window(forecast_csv)
    window.open_run_folder(trained_folder)
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 1, timeout=60_000)
    assert window.loss_plot.overlays()[-1] == open_run(trained_folder).name
    assert window.run_view.reader is None


def test_a_followed_shown_run_grows_and_its_rate_change_reaches_the_controls(qtbot, make_window, tmp_path):
    folder = write_run(tmp_path / "remote" / "r", "remote", [1.0, 0.8], status="running")
    meta = json.loads((folder / "run.json").read_text())
    meta["dataset"]["task"] = "classify_sequence"
    meta["backend_detail"] = "JAX on cpu · float32"
    (folder / "run.json").write_text(json.dumps(meta))
    window = make_window()
    window.open_run_folder(folder)
    assert window.controls.value("task") == "classify_sequence"  # the run's task, not the window's default
    assert window.run_view.following and window.loss_plot.point_count() == 2
    status = window.status_line  # it describes the shown run (it said "epoch –", "backend: not started")
    assert (status.lbl_epoch.text(), status.lbl_loss.text()) == ("epoch 2", "train 0.88 · val 0.8")
    assert status.lbl_backend.text() == "JAX on cpu · float32 (its run.json)"
    row = {"epoch": 3, "train_loss": 0.7, "val_loss": 0.6, "val_accuracy": None, "learning_rate": 0.001,
           "clip_norm": 5.0, "momentum": 0.9, "wall_s": 1.5, "grad_norms": {"layer1": 1.0},
           "weight_norms": {"layer1": 2.0}}
    with open(folder / METRICS, "a") as fh:  # the other process's next epoch and its rate change
        fh.write(metrics_text([row]).splitlines()[1] + "\n")
    with open(folder / EVENTS, "a") as fh:
        fh.write(event_line("set", 2, 1.0, name="learning_rate", old=0.003, new=0.001, source="control") + "\n")
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 3, timeout=5000)
    qtbot.waitUntil(lambda: status.lbl_elapsed.text() == "0:01", timeout=5000)  # its wall_s, 1.5 s
    assert (status.lbl_epoch.text(), status.lbl_loss.text()) == ("epoch 3", "train 0.7 · val 0.6")
    assert window.controls.value("learning_rate") == 0.001
    assert window.loss_plot.markers() == [(2.0, "lr 0.003 → 0.001 (control)")]
    window.controls._param("learning_rate").setValue(0.0004)  # steering the shown run from the controls
    lines = (folder / "control.jsonl").read_text().splitlines()
    assert lines and '"learning_rate"' in lines[-1] and "0.0004" in lines[-1]


@pytest.mark.slow
def test_the_toolbar_pauses_steps_resumes_and_stops_a_followed_headless_run(qtbot, loaded_window, tmp_path):
    """A run trained by a headless child process, shown and followed: the toolbar's Pause, Step, Resume
    and Stop go to it through its control.jsonl (it obeys), and the toolbar shows the state it reports.
    Step used to start a new local run over the followed one (the window has the same data open)."""

    from engine.names import RunState
    from tests.gui.headless_child import start, wait_for, wave_csv

    out = tmp_path / "remote"
    data = wave_csv(tmp_path / "wave.csv")
    proc = start(data, "--epochs", 1_000_000, "--hidden", 3, "--batch-size", 4, "--out", out,
                 log=tmp_path / "child-stderr.txt")
    try:
        wait_for(lambda: (out / "metrics.csv").exists() and open_run(out).epochs, proc, what="its first epoch")
        window = loaded_window(data)
        assert window.open_run_folder(out) and window.run_view.following
        assert window.act_start.text() == "&Pause" and window.act_stop.isEnabled()
        window.act_start.trigger()  # Pause
        qtbot.waitUntil(lambda: open_run(out).status is RunState.PAUSED, timeout=60_000)
        qtbot.waitUntil(lambda: window.act_start.text() == "&Resume", timeout=10_000)
        assert window.run_view.reader is not None and window.run_state is None  # no run of the window's own
        paused_at = len(open_run(out).epochs)
        assert window.act_step.isEnabled()
        window.act_step.trigger()  # one epoch, then paused again
        qtbot.waitUntil(lambda: len(open_run(out).epochs) == paused_at + 1, timeout=60_000)
        qtbot.wait(1000)  # the child reads control.jsonl 5 times a second while paused: it stays paused
        assert len(open_run(out).epochs) == paused_at + 1 and open_run(out).status is RunState.PAUSED
        assert window.run_state is None and window.act_start.text() == "&Resume"
        paused_at += 1
        window.act_start.trigger()  # Resume
        qtbot.waitUntil(lambda: len(open_run(out).epochs) > paused_at + 1, timeout=60_000)
        qtbot.waitUntil(lambda: window.act_start.text() == "&Pause", timeout=10_000)
        window.act_stop.trigger()
        assert proc.wait(timeout=60) == 0
        reader = open_run(out)
        assert reader.status is RunState.STOPPED
        assert [e["kind"] for e in reader.events if e.get("source") == "control"] == ["pause", "step", "resume", "stop"]
        qtbot.waitUntil(lambda: not window.act_stop.isEnabled(), timeout=10_000)
        assert window.act_start.text() == "&Start" and not window.run_view.following
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def text_folder(tmp_path, tiny_config):
    """A finished text run that looked inside after every epoch (insights/, as headless writes it)."""
    from engine.data import load_sequences
    from engine.insights import Cadence
    from engine.runs import Run

    path = tmp_path / "chars.txt"
    path.write_text("the cat sat on the mat. " * 20)
    run = Run.start(tiny_config.replace(epochs=3, window=24, embedding_size=4), load_sequences(str(path)),
                    tmp_path / "disk" / "text")
    run.insights.enabled = True
    run.insights.cadence = Cadence(ratio=1, min_interval_s=0.0)  # every epoch, for the test
    list(run.epochs())
    run.close()
    return run.folder


def test_an_opened_text_run_replays_its_characters_and_its_looks_inside(qtbot, make_window, text_folder):
    window = make_window()
    assert window.open_run_folder(text_folder)
    reader = open_run(text_folder)
    chars = reader.snapshot_text(3)
    assert chars and window.hidden_panel.displayed_text() == chars  # the heatmaps' rows are characters
    assert window.hidden_panel.time_labels(0)
    views = window.insight_views
    assert views.store.epochs() == reader.insight_epochs() == [1, 2, 3]
    views.draw_all()
    stored = reader.insight(3)
    saliency = views.views["saliency"]
    np.testing.assert_allclose(saliency.bar_heights(), stored.saliency / stored.saliency.max(), rtol=1e-6)
    assert "".join(saliency.characters()) == "".join(ch if ch != " " else "␣" for ch in chars)
    assert saliency.horizon_data()[1].tolist() == reader.insight_series().horizons
    assert set(window.diagnostics.radius_data()) == {(1, "h")}
    window.hidden_panel.scrub_to(1)  # the scrubber replays the stored looks of that epoch
    insight, live = views.displayed()
    assert (insight.epoch, live) == (1, False)
    views.draw_all()
    np.testing.assert_allclose(saliency.bar_heights(), reader.insight(1).saliency / reader.insight(1).saliency.max(),
                               rtol=1e-6)
    qtbot.wait(700)  # a poll of the docks while the folder is shown leaves its looks alone
    assert views.store.epochs() == [1, 2, 3]


def test_an_opened_folders_newest_look_is_titled_stored_not_live(qtbot, make_window, text_folder):
    window = make_window()
    assert window.open_run_folder(text_folder)
    views = window.insight_views
    views.draw_all()
    titles = {"saliency": views.views["saliency"].strip_plot.titleLabel.text,
              "trajectory": views.views["trajectory"].plot.titleLabel.text,
              "spectrum": views.views["spectrum"].plot.titleLabel.text,
              "scrubber": window.hidden_panel.scrub_label.text()}
    for name, title in titles.items():  # nothing computes them: the folder's newest epoch, stored
        assert "epoch 3 (stored)" in title and "(live)" not in title, (name, title)
    window.hidden_panel.scrub_to(1)
    views.draw_all()
    assert "epoch 1 (stored)" in views.views["saliency"].strip_plot.titleLabel.text


@pytest.fixture
def classes_folder(tmp_path, tiny_config):
    """A finished classification run (classes named 'rising' and 'falling') that looked inside."""
    from engine.data import load_sequences
    from engine.insights import Cadence
    from engine.runs import Run

    rng = np.random.default_rng(2)
    rows = []
    for i in range(16):
        name, sign = ("rising", 1) if i % 2 else ("falling", -1)
        values = sign * np.linspace(-1, 1, 12) + 0.1 * rng.normal(size=12)
        rows.append("\t".join([name] + [f"{v:.4f}" for v in values]))
    path = tmp_path / "Ramps_TRAIN.tsv"
    path.write_text("\n".join(rows) + "\n")
    run = Run.start(tiny_config.replace(epochs=2), load_sequences(str(path)), tmp_path / "disk" / "ramps")
    run.insights.enabled = True
    run.insights.cadence = Cadence(ratio=1, min_interval_s=0.0)
    list(run.epochs())
    run.close()
    return run.folder


def test_an_opened_classification_folder_names_its_classes_in_the_trajectories(qtbot, make_window, classes_folder):
    meta = json.loads((classes_folder / "run.json").read_text())
    assert sorted(meta["dataset"]["class_names"]) == ["falling", "rising"]
    window = make_window()
    assert window.open_run_folder(classes_folder)
    views = window.insight_views
    views.draw_all()
    trajectory = views.views["trajectory"]
    legend = trajectory.legend_label.text()
    assert "rising" in legend and "falling" in legend
    _, data = trajectory.point_data()
    names = meta["dataset"]["class_names"]
    assert f"class {names[data[0][1]]}" in trajectory.describe(data[0])  # the hover names it too
    del meta["dataset"]["class_names"]  # a folder written before the names were stored: numbered, still opens
    (classes_folder / "run.json").write_text(json.dumps(meta))
    assert window.open_run_folder(classes_folder)
    views.draw_all()
    assert "rising" not in trajectory.legend_label.text() and trajectory.describe(data[0]).count("class ") == 1


def test_a_shown_folder_names_its_own_data_in_the_controls_until_the_windows_run_is_back(
        qtbot, loaded_window, forecast_csv, classes_folder):
    """The Dataset group kept the window's file (a forecast CSV) while a classification run on
    another file was shown in every panel."""
    window = loaded_window(forecast_csv)
    own = {name: window.controls.value(name) for name in ("file", "sequences", "outputs")}
    assert window.open_run_folder(classes_folder)
    assert window.controls.value("file") == "Ramps_TRAIN.tsv"
    assert window.controls.value("sequences").startswith("16 (")
    assert window.controls.value("outputs").startswith("2 classes")  # the names, if they do not fit, on hover
    assert "2 classes: " in window.controls._param("outputs").opts["tip"] and "rising" in window.controls._param("outputs").opts["tip"]
    assert "run.json" in window.controls._param("lengths").opts["tip"]
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 1, timeout=60_000)
    assert {name: window.controls.value(name) for name in own} == own


def test_a_shown_folder_hides_the_windows_suggestion_until_the_windows_run_is_back(
        qtbot, loaded_window, forecast_csv, classes_folder):
    """The suggestion bar kept describing the window's forecast CSV ("Suggested: ..., Apply") while a
    classification run on another file was shown; its Apply would have changed the window's settings."""
    window = loaded_window(forecast_csv)
    bar = window.controls.suggestion_bar
    assert window.suggestion is not None and bar.isVisibleTo(window.controls)
    own = bar.label.text()
    assert window.open_run_folder(classes_folder)
    assert not bar.isVisibleTo(window.controls)
    window.controls.user_change("learning_rate", 0.02)  # a change in the controls refreshes the bar: still hidden
    assert not bar.isVisibleTo(window.controls)
    window.step_epoch()  # the window's own run: its data's suggestion is back
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 1, timeout=60_000)
    assert bar.isVisibleTo(window.controls) and bar.label.text().split(" (")[0] == own.split(" (")[0]


@pytest.mark.slow
def test_a_headless_folders_speed_is_derived_from_its_wall_clock_and_training_set(qtbot, make_window, tmp_path):
    """metrics.csv has no speed column: the status bar said "– seq/s" for every run shown from disk.
    It is run.json's n_train over the median wall_s gap of the last epochs; without n_train, "–"."""
    import csv
    import shutil
    import statistics
    import subprocess

    from tests.gui.headless_child import ROOT, child_env, headless, wave_csv

    out = tmp_path / "headless"
    data = wave_csv(tmp_path / "wave.csv")
    subprocess.run(headless(data, "--epochs", 8, "--hidden", 3, "--batch-size", 4, "--no-plots", "-q", "--out", out),
                   cwd=ROOT, env=child_env(), check=True, timeout=300, stdout=subprocess.DEVNULL)
    with open(out / "metrics.csv") as fh:
        walls = [float(row["wall_s"]) for row in csv.DictReader(fh)]
    n_train = json.loads((out / "run.json").read_text())["dataset"]["n_train"]
    expected = n_train / statistics.median(b - a for a, b in zip(walls[-6:], walls[-5:]))
    window = make_window()
    assert window.open_run_folder(out)
    assert window.status_line.lbl_rate.text() == f"≈{expected:,.0f} seq/s"
    older = tmp_path / "older"  # a run.json without the training set's size
    shutil.copytree(out, older)
    meta = json.loads((older / "run.json").read_text())
    del meta["dataset"]["n_train"]
    (older / "run.json").write_text(json.dumps(meta))
    assert window.open_run_folder(older)
    assert window.status_line.lbl_rate.text() == "– seq/s"


def test_a_snapshot_thinned_away_while_read_is_skipped_and_a_damaged_one_named(qtbot, make_window, tmp_path,
                                                                               monkeypatch):
    """A followed writer prunes a listed snapshot before the window reads it: skipped quietly (it
    was reported as damaged); a truly damaged file is still named in the status bar."""
    from engine.run_folder import SnapshotStore, snapshot_name
    from engine.run_reader import RunReader

    folder = write_run(tmp_path / "follow", "follow", [0.5, 0.4, 0.3])
    store = SnapshotStore(folder)
    for epoch in (1, 2, 3):
        store.add(epoch, [np.full((20, 16), 0.1 * epoch)], [{"z": np.zeros((20, 16)), "r": np.zeros((20, 16))}], 0)
    damaged = folder / "snapshots" / snapshot_name(3)
    damaged.write_bytes(damaged.read_bytes()[:200])
    listed = RunReader.snapshot_epochs
    monkeypatch.setattr(RunReader, "snapshot_epochs",  # epoch 33 was listed, then pruned by the writer
                        lambda self, subfolder="snapshots": sorted(listed(self, subfolder) + [33]))
    window = make_window()
    said = []
    monkeypatch.setattr(window, "_show_status", said.append)
    assert window.open_run_folder(folder)
    assert window.hidden_panel.snapshot_epochs() == [1, 2]
    assert not [text for text in said if snapshot_name(33) in text]
    assert [text for text in said if f"{damaged}: damaged snapshot" in text]
