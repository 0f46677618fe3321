"""When predictions are refreshed while training (gui.inference_schedule, the worker's use of it)."""
import time

import pytest

from gui.inference_schedule import MAX_INTERVAL_S, MIN_INTERVAL_S, InferenceSchedule
from gui.worker import TrainingWorker
from tests.gui.test_worker import Recorder, ScriptedTrainer, config


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_interval_keeps_the_budget_but_never_exceeds_two_seconds():
    clock = Clock()
    schedule = InferenceSchedule(clock)
    assert schedule.due()  # a run's first inference is due at once
    assert schedule.done(0.01) == MIN_INTERVAL_S
    assert schedule.done(0.1) == pytest.approx(0.9)  # 9x the work: about a tenth of the wall time
    assert schedule.done(1.0) == MAX_INTERVAL_S  # was 9 s: the panel was many epochs behind
    clock.now += MAX_INTERVAL_S
    assert schedule.due()


def test_compiling_f_predict_is_not_counted_in_the_budget():
    clock = Clock()
    schedule = InferenceSchedule(clock)
    assert schedule.done(5.0, compile_seconds=4.95) == MIN_INTERVAL_S  # was 45 s after the first one
    assert schedule.wait_s() == pytest.approx(MIN_INTERVAL_S)


class CompilingTrainer(ScriptedTrainer):
    """The first prediction compiles (takes COMPILE_S and counts a compile), later ones are quick."""

    COMPILE_S = 1.5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_compiles = 0

    def predict_validation(self):
        if self.n_compiles == 0:
            time.sleep(self.COMPILE_S)
            self.n_compiles += 1
        return super().predict_validation()


def test_the_refresh_after_a_compiling_first_prediction_comes_soon(qtbot):
    made = []
    worker = TrainingWorker(trainer_factory=lambda c, d: made.append(CompilingTrainer(c, d, epoch_seconds=0.01))
                            or made[-1])
    rec = Recorder(worker)
    epochs_of = []
    worker.sigInferenceEpoch.connect(lambda run, epoch: epochs_of.append(epoch))
    worker.start_thread()
    try:
        worker.new_run(config(epochs=100_000), dataset="data", paused=False)
        worker.sigRunEpoch.connect(lambda run, report: worker.request_predictions())
        qtbot.waitUntil(lambda: len(rec.predictions) >= 1, timeout=20_000)
        # 9 x 1.5 s of compiling = 13.5 s before the next refresh, before the fix
        qtbot.waitUntil(lambda: len(rec.predictions) >= 2, timeout=8_000)
        assert epochs_of[1] > epochs_of[0] >= 1  # each refresh says which epoch's weights it shows
        worker.pause()
        qtbot.wait(100)
        worker.request_predictions()  # paused: served at once, from the last epoch trained
        qtbot.waitUntil(lambda: epochs_of[-1] == made[0].epoch, timeout=2_000)
    finally:
        assert worker.shutdown(timeout_ms=3000)


def test_at_the_end_of_a_run_the_panel_shows_the_last_epoch(qtbot, loaded_window, forecast_csv, tiny_config):
    window = loaded_window(forecast_csv, tiny_config.replace(epochs=4))
    window.toggle_run()
    qtbot.waitUntil(lambda: window.is_idle and window.loss_plot.point_count() == 4, timeout=60_000)
    qtbot.waitUntil(lambda: window.predictions.epoch() == 4, timeout=10_000)
    assert window.predictions.epoch_text() == "predictions: epoch 4"
