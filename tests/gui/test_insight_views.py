"""The insight docks in the window: off (nothing compiled) while hidden, live once shown, replaying
with the hidden-state scrubber, spectral radii on Diagnostics, insights/ in the run folder."""

import numpy as np

from engine.insights import Cadence
from resources import sample_path

TRAIN_TIMEOUT = 90_000


def _train(qtbot, window, epochs):
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and window._last_epoch == epochs, timeout=TRAIN_TIMEOUT)


def test_hidden_insight_docks_cost_nothing(qtbot, loaded_window):
    window = loaded_window(sample_path("sine_forecast.csv"))
    assert {"saliency", "trajectory", "spectrum"} <= set(window.docks)
    titles = [a.text() for a in window.menuBar().actions()[2].menu().actions()]
    assert {"Saliency over time", "State trajectories", "Recurrent matrix"} <= set(titles)
    assert not window.insight_views.looking()  # tabs behind Predictions
    _train(qtbot, window, 3)
    qtbot.wait(300)
    assert window.worker.trainer.inference is not None and window.worker._run is not None
    assert window.worker._run.insights.latest is None and window.insight_views.store.latest is None


def test_shown_docks_follow_training_and_the_scrubber(qtbot, loaded_window, tiny_config):
    window = loaded_window(sample_path("waveforms_TRAIN.tsv"), tiny_config.replace(epochs=4, cell="gru"))
    window.docks["trajectory"].raise_()
    qtbot.waitUntil(lambda: window.insight_views.looking(), timeout=5_000)
    _train(qtbot, window, 4)
    views = window.insight_views
    qtbot.waitUntil(lambda: views.store.latest is not None and views.store.latest.epoch == 4, timeout=TRAIN_TIMEOUT)
    views.draw_all()
    latest = views.store.latest
    saliency = views.views["saliency"]
    np.testing.assert_allclose(saliency.bar_heights(), latest.saliency / latest.saliency.max(), rtol=1e-6)
    coords, data = views.views["trajectory"].point_data()
    assert len(coords) > 0 and data[0][0] == window.worker.trainer.probe_index
    assert views.views["spectrum"].points("z").size == 6
    assert not saliency.step_spin.isEnabled()  # a classifier predicts once, at the end: no step to choose
    radii = window.diagnostics.radius_data()
    assert set(radii) == {(1, "z"), (1, "r"), (1, "n")}
    assert radii[(1, "n")][1][-1] == np.float64(latest.radii[0]["n"]).item()
    # scrub the hidden-state panel back: the insight views follow it, then return to live
    window.flush_snapshot()
    window.hidden_panel.scrub_to(1)
    insight, live = views.displayed()
    replayed = window.hidden_panel.displayed_epoch()  # the panel keeps the snapshots it drew (not every epoch)
    assert replayed < 4 and not live and insight is views.store.nearest(replayed)
    window.hidden_panel.scrub_to(None)
    assert views.displayed() == (latest, True)
    folder = window.worker._run.folder
    assert (folder / "insights" / "epoch_0000004.npz").exists()


def test_while_training_the_run_looks_after_epochs_at_its_own_cadence(qtbot, loaded_window, tiny_config):
    window = loaded_window(sample_path("sine_forecast.csv"), tiny_config.replace(epochs=6))
    window.docks["saliency"].raise_()
    qtbot.waitUntil(lambda: window.insight_views.looking(), timeout=5_000)
    window.step_epoch()
    qtbot.waitUntil(lambda: window.insight_views.store.latest is not None, timeout=TRAIN_TIMEOUT)
    window.worker._run.insights.cadence = Cadence(ratio=1, min_interval_s=0.0)  # every epoch, for the test
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and window._last_epoch == 6, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: window.insight_views.store.epochs()[-1:] == [6], timeout=10_000)
    assert window.worker._run.insights.series.epochs == [1, 2, 3, 4, 5, 6]  # after epochs, not only at predictions
    assert len(window.insight_views.store.epochs()) >= 2  # the window polls: it gets the newest, coalesced
    window.flush_snapshot()
    assert window.history.rows and all(row.get("insight") is None for row in window.history.rows)  # no arrays kept


def test_the_saliency_step_is_chosen_in_the_dock_and_needs_no_compile(qtbot, loaded_window, tiny_config):
    from engine import backend

    window = loaded_window(sample_path("sine_forecast.csv"), tiny_config.replace(epochs=2))
    window.docks["saliency"].raise_()
    qtbot.waitUntil(lambda: window.insight_views.looking(), timeout=5_000)
    _train(qtbot, window, 2)
    views = window.insight_views
    qtbot.waitUntil(lambda: views.store.latest is not None and views.store.latest.epoch == 2, timeout=TRAIN_TIMEOUT)
    first = views.store.latest
    spin = views.views["saliency"].step_spin
    # The spin's range comes with the drawing (a timer after the store has the look): a step chosen
    # before that was clamped to the range of the empty view (0), a race the step store's faster
    # start-up made frequent.
    qtbot.waitUntil(lambda: spin.maximum() == first.saliency.size - 1, timeout=10_000)
    assert spin.isEnabled() and spin.text() == "last" and first.step == first.saliency.size - 1
    compiles = backend.compile_count()
    spin.setValue(4)  # the paused run is looked at again at once, for step 4
    qtbot.waitUntil(lambda: views.store.latest.step == 4, timeout=TRAIN_TIMEOUT)
    assert backend.compile_count() == compiles and views.store.latest.epoch == 2
    assert window.worker._run.insights.step == 4
    views.draw_all()
    assert "at step 4" in views.views["saliency"].strip_plot.titleLabel.text
