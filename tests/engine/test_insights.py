"""engine.insights: the cadence, the records, and a Run writing insights/ that a reader replays."""

import numpy as np
import pytest

from engine.data import load_sequences
from engine.insights import Cadence, Insight, InsightSeries
from engine.limits import INSIGHT_BUDGET_BYTES
from engine.run_folder import INSIGHTS
from engine.run_reader import RunFolderError, open_run
from engine.runs import Run
from engine.training import TrainingConfig
from resources import sample_path


def test_cadence_spends_at_most_one_part_in_ratio():
    cadence = Cadence(ratio=25, min_interval_s=1.0)
    assert cadence.due(0.0)
    cadence.done(0.0, 3.0)  # the first look compiles: not counted
    assert not cadence.due(3.5) and cadence.due(4.0)
    cadence.done(4.0, 4.2)  # 0.2 s -> next after 24 x 0.2 = 4.8 s
    assert not cadence.due(8.9) and cadence.due(9.01)


def _insight(epoch, radius=1.0):
    return Insight(epoch=epoch, probe_index=2, saliency=np.arange(5, dtype=np.float32), step=4, horizon=2,
                   prediction=0.5, states=np.ones((3, 4, 2), np.float32), sequences=np.array([2, 0, 1]),
                   steps=np.arange(4), lengths=np.array([5, 5, 3]), labels=np.array([1, 0, 1]),
                   spectra=[{"h": np.array([radius, 0.5j], np.complex64)}])


def test_insight_and_series_survive_their_arrays():
    insight = _insight(3)
    back = Insight.from_arrays(insight.to_arrays())
    assert back.epoch == 3 and back.horizon == 2 and back.radii == [{"h": 1.0}]
    np.testing.assert_array_equal(back.states, insight.states)
    np.testing.assert_array_equal(back.spectra[0]["h"], insight.spectra[0]["h"])
    series = InsightSeries(max_points=4)
    for epoch in range(1, 8):
        series.add(_insight(epoch, radius=epoch))
    assert len(series.epochs) <= 4 and series.epochs[0] == 1
    again = InsightSeries.from_arrays(series.to_arrays())
    assert again.epochs == series.epochs and again.radii == series.radii == {(1, "h"): [float(e) for e in series.epochs]}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "sine"
    config = TrainingConfig(cell="elman", hidden_sizes=(6, 4), epochs=4, batch_size=16, window=20)
    run = Run.start(config, load_sequences(sample_path("sine_forecast.csv")), folder)
    run.insights.enabled = True  # as headless mode does
    run.insights.cadence = Cadence(ratio=1, min_interval_s=0.0)  # every epoch, for the test
    reports = list(run.epochs())
    return folder, run, reports


def test_a_run_looks_inside_and_its_folder_replays_it(finished_run):
    folder, run, reports = finished_run
    assert all(r.insight is not None and r.insight.epoch == r.epoch for r in reports)
    last = reports[-1].insight
    assert last.saliency.shape == (last.step + 1,) and 1 <= last.horizon <= last.step + 1
    assert [list(layer) for layer in last.spectra] == [["h"], ["h"]]
    assert last.states.shape[2] == 4 and last.sequences[0] == run.trainer.probe_index  # top layer, probe first
    reader = open_run(folder)
    assert reader.insight_epochs() == [1, 2, 3, 4]
    stored = reader.insight(4)
    np.testing.assert_allclose(stored.saliency, last.saliency)
    np.testing.assert_allclose(stored.states, last.states, rtol=1e-2, atol=1e-3)  # float16 on disk
    series = reader.insight_series()
    assert series.epochs == [1, 2, 3, 4] and series.horizons == [r.insight.horizon for r in reports]
    assert series.radii[(2, "h")][-1] == pytest.approx(last.radii[1]["h"])
    size = sum(p.stat().st_size for p in (folder / INSIGHTS).iterdir())
    assert size < INSIGHT_BUDGET_BYTES


def test_folders_without_insights_still_open_and_damage_is_named(finished_run, tmp_path):
    folder, _, _ = finished_run
    reader = open_run(folder)
    old = tmp_path / "old"
    old.mkdir()
    for name in ("run.json", "metrics.csv"):
        (old / name).write_bytes((folder / name).read_bytes())
    old_reader = open_run(old)
    assert old_reader.insight_epochs() == [] and old_reader.insight_series().epochs == []
    path = folder / INSIGHTS / "epoch_0000002.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(RunFolderError, match="epoch_0000002.npz: damaged"):
        reader.insight(2)
    with pytest.raises(RunFolderError, match="no snapshot of epoch 9"):
        reader.insight(9)


def test_a_failing_look_inside_turns_the_views_off_not_the_run(monkeypatch):
    config = TrainingConfig(cell="elman", hidden_sizes=(4,), epochs=2, batch_size=16, window=20)
    run = Run.start(config, load_sequences(sample_path("sine_forecast.csv")))
    run.insights.enabled = True

    def broken(epoch):
        raise RuntimeError("no memory")

    monkeypatch.setattr(run.insights.probe, "compute", broken)
    reports = list(run.epochs())
    assert len(reports) == 2 and str(run.state) == "finished"
    assert "no memory" in run.insights.failure and all(r.insight is None for r in reports)


def test_off_by_default_and_on_request_once_per_epoch(finished_run):
    _, run, _ = finished_run
    config = TrainingConfig(cell="elman", hidden_sizes=(4,), epochs=1, batch_size=16, window=20)
    quiet = Run.start(config, load_sequences(sample_path("sine_forecast.csv")))
    assert [r.insight for r in quiet.epochs()] == [None]  # a library Run does not look unless asked
    assert run.insights.look_if_due(force=True) is None  # epoch 4 was looked at already
    copy = run.insights.latest.copy()
    assert copy.states is not run.insights.latest.states and copy.nbytes == run.insights.latest.nbytes


def test_the_explained_step_is_chosen_without_compiling_and_stored(tmp_path):
    from engine import backend

    config = TrainingConfig(cell="gru", hidden_sizes=(4,), epochs=1, batch_size=16, window=20)
    run = Run.start(config, load_sequences(sample_path("sine_forecast.csv")), tmp_path / "run")
    list(run.epochs())
    recorder = run.insights
    last = recorder.look_if_due(force=True)
    assert recorder.step is None and last.step == last.saliency.size - 1  # default: the probe's last step
    compiles = backend.compile_count()
    assert recorder.set_step(5) and not recorder.set_step(5)
    chosen = recorder.look_if_due(force=True)  # the same epoch, looked at again for the new step
    assert backend.compile_count() == compiles  # the step is a call-time input of f_insight
    assert chosen.epoch == last.epoch and chosen.step == 5 and 1 <= chosen.horizon <= 6
    assert np.all(chosen.saliency[6:] == 0)  # later inputs cannot move an earlier prediction
    assert open_run(run.folder).insight(chosen.epoch).step == 5  # stored with the insight
    assert recorder.series.epochs == [1] and recorder.series.horizons == [chosen.horizon]  # replaced, not doubled
    assert recorder.probe.step_problem(5) is None and recorder.probe.step_problem(None) is None
    assert "has 20 steps (0 to 19" in recorder.probe.step_problem(20)  # what --saliency-step refuses
    recorder.set_step(10_000)  # past the probe: its last step
    assert recorder.look_if_due(force=True).step == last.step
    with pytest.raises(ValueError, match="saliency step"):
        recorder.set_step(-1)
    run.close()
