"""gui.run_tools in the real window: running loss and step progress within a long epoch, the
compile overlay, the best-epoch marker and Restore best weights, the LR finder dialog, patience,
and closing the window while a model compiles."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine.data import SequenceDataset
from engine.names import RunState
from engine.training import TrainingConfig
from tests.gui.child_window import run_window_child


def long_epoch_dataset(n=600):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    seqs = [rng.standard_normal((12, 1)).astype(np.float32) + lab for lab in labels]
    return SequenceDataset(sequences=seqs, labels=labels, task="classify_sequence", class_names=["a", "b"],
                           name="many-steps")


@pytest.fixture
def trainer_built(monkeypatch):
    """``wrap(around)``: from then on the window builds each trainer as ``around(build)``, where
    ``build()`` is the real ``TrainingWorker._make_trainer`` call; undone after the test."""
    from gui import worker as worker_module

    original = worker_module.TrainingWorker._make_trainer

    def wrap(around):
        def made(self, config, dataset):
            return around(lambda: original(self, config, dataset))

        monkeypatch.setattr(worker_module.TrainingWorker, "_make_trainer", made)

    return wrap


@pytest.fixture
def slow_steps(trainer_built):
    """Every trainer the window builds sleeps ``seconds`` after each step (``slow(seconds)``)."""

    def slow(seconds):
        def around(build):
            trainer = build()
            trainer.step_hooks.append(lambda: time.sleep(seconds))
            return trainer

        trainer_built(around)

    return slow


def test_a_long_epoch_shows_running_loss_and_step_progress_and_pauses_within_a_step(qtbot, make_window, slow_steps):
    window = make_window(TrainingConfig(hidden_sizes=(4,), batch_size=2, epochs=2))
    # 1600 steps of at least 3 ms: an epoch of 5 s or more. Unslowed, an idle machine trained the
    # whole epoch in ~0.5 s, inside the window's long-epoch threshold, so no step rate ever showed.
    slow_steps(0.003)
    window.set_dataset(long_epoch_dataset(4000))
    rates = []  # every text of the rate label: the next step report may replace one before a poll sees it
    label = window.status_line.lbl_rate
    set_text = label.setText
    label.setText = lambda text: (rates.append(text), set_text(text))
    window.toggle_run()
    qtbot.waitUntil(lambda: window.run_marks.running_count() >= 1, timeout=60_000)
    assert window.loss_plot.point_count() == 0 or window._last_epoch >= 1
    window.flush_snapshot()  # the running point is drawn with the loss plot's frame
    x, y = window.run_marks.running_data()
    assert 0 < x[0] < 1 and np.isfinite(y[0])  # inside epoch 1, before its epoch point
    assert rates[0] == "first step done"  # right after the compile: no rate yet
    qtbot.waitUntil(lambda: "steps/s" in window.status_line.lbl_rate.text(), timeout=30_000)
    bar = window.status_line.step_progress
    assert not bar.isHidden() and 0 < bar.value() <= bar.maximum() == 1600
    assert "ETA" in window.status_line.lbl_rate.text()
    window.pause()
    steps = []
    window.worker.trainer.step_hooks.insert(0, lambda: steps.append(1))
    qtbot.wait(500)
    assert len(steps) <= 2 and window._last_epoch == 0, "the paused epoch went on"


@pytest.fixture
def held_compile(trainer_built):
    """``hold(seconds)`` -> an Event: from then on a new trainer is built only once the Event is set
    (or ``seconds`` passed), as after an uninterruptible compile; set and undone after the test."""
    release = threading.Event()

    def hold(seconds):
        def around(build):
            release.wait(seconds)
            return build()

        trainer_built(around)
        return release

    yield hold
    release.set()


def test_compile_overlay_greys_the_panels_until_the_new_model_reports(qtbot, make_window, forecast_csv,
                                                                      held_compile):
    window = make_window()
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    overlay = window.compile_overlay
    shown_with = []  # what was drawn each time the overlay came up
    show = overlay.show
    overlay.show = lambda: (shown_with.append(window.run_marks.running_count() + window.loss_plot.point_count()),
                            show())
    release = held_compile(30)  # stands in for a compile: the panels wait for it
    window.toggle_run()
    assert not overlay.is_shown()  # nothing compiles yet: the trainer is being built
    release.set()
    # A graph reused from an earlier test's model of the same shapes compiles in milliseconds: the
    # overlay can come and go between two polls, so each show is recorded rather than polled.
    qtbot.waitUntil(lambda: bool(shown_with), timeout=20_000)
    assert shown_with == [0]  # up once, over panels with nothing of the new model yet
    qtbot.waitUntil(lambda: not overlay.is_shown(), timeout=60_000)
    qtbot.waitUntil(lambda: window.run_marks.running_count() + window.loss_plot.point_count() >= 1,
                    timeout=60_000)


def test_best_epoch_is_marked_and_restored_at_the_end(qtbot, make_window, forecast_csv):
    window = make_window(TrainingConfig(hidden_sizes=(6,), batch_size=8, epochs=4, learning_rate=1e-2))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.toggle_run()
    qtbot.waitUntil(lambda: window.run_state is RunState.FINISHED, timeout=60_000)
    qtbot.waitUntil(lambda: "(restored)" in window.run_marks.best_text(), timeout=10_000)
    trainer = window.worker.trainer
    epoch, loss = window.run_marks.best()
    assert epoch == trainer.best.epoch and loss == pytest.approx(trainer.best.val_loss)
    params = trainer._ensure_model().get_params()
    assert all(np.array_equal(params[k], trainer.best.params[k]) for k in params)
    assert "restored the best weights: epoch" in window.last_status


def test_the_finished_line_names_the_restored_weights_whichever_slot_runs_first(qtbot, make_window):
    """A cross-thread signal reaches its slots as separate events, so the GUI can run between
    two of them: the finished line must be whole after the window's own slot, not after the last."""
    window = make_window()
    window._last_epoch = 4
    window._restored_text = "restored the best weights: epoch 3, validation loss 0.1"
    window._on_run_state(window._run_id, str(RunState.FINISHED))
    assert window.last_status == "finished after epoch 4; restored the best weights: epoch 3, validation loss 0.1"


def test_lr_finder_dialog_applies_the_suggestion_through_the_one_door(qtbot, make_window, forecast_csv):
    window = make_window(TrainingConfig(hidden_sizes=(6,), batch_size=8, epochs=2))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    window.find_learning_rate_dialog()
    dialog = window.lr_dialog
    qtbot.waitUntil(lambda: dialog.result is not None or "failed" in dialog.status.text(), timeout=90_000)
    result = dialog.result
    assert result is not None and len(result.rates) > 10
    trainer = window.worker.trainer
    assert trainer.epoch == 0 and trainer.history == []  # nothing was trained by the sweep
    if result.suggested is None:
        pytest.skip("the loss did not fall in the sweep on this tiny sample")
    sent = []
    real = window.worker.set_live
    window.worker.set_live = lambda name, value: sent.append((name, value)) or real(name, value)
    dialog.apply_button.click()
    assert sent == [("learning_rate", pytest.approx(result.suggested))]
    assert window.controls.value("learning_rate") == pytest.approx(result.suggested, rel=1e-3)
    qtbot.waitUntil(lambda: trainer.config.learning_rate == pytest.approx(result.suggested), timeout=5_000)


def test_patience_control_is_off_by_default_and_goes_through_the_one_door(qtbot, make_window):
    window = make_window()
    assert window.controls.value("patience") == 0 and window.controls.config().patience is None
    sent = []
    window.controls.sigLiveChanged.connect(lambda name, value: sent.append((name, value)))
    window.controls._param("patience").setValue(7)
    assert sent == [("patience", 7)] and window.controls.config().patience == 7


def test_closing_during_a_compile_hides_the_window_first(qtbot, make_window, forecast_csv, held_compile):
    from gui import main_window as main_window_module

    window = make_window()
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    release = held_compile(20)  # an uninterruptible compile
    visible_at_wait = []
    real_shutdown = window.worker.shutdown

    def shutdown(timeout_ms=1800):
        visible_at_wait.append(window.isVisible())
        return real_shutdown(timeout_ms=timeout_ms)

    window.worker.shutdown = shutdown
    try:
        window.toggle_run()
        qtbot.wait(200)
        started = time.monotonic()
        window.close()
        closed_in = time.monotonic() - started
        assert visible_at_wait == [False], "the window stayed on screen while closing waited"
        assert closed_in < 20, "close waited for the whole compile"
        assert main_window_module.lingering_workers()  # gui.app exits without it (see the subprocess test)
    finally:
        release.set()
        qtbot.waitUntil(lambda: not window.worker.is_thread_running(), timeout=30_000)


CLOSE_DURING_COMPILE = """
from gui import worker as worker_module

COMPILE_S = 60.0
original_make = worker_module.TrainingWorker._make_trainer
compiling = threading.Event()

def make(self, config, dataset):  # an uninterruptible compile of a minute
    compiling.set()
    time.sleep(COMPILE_S)
    return original_make(self, config, dataset)

worker_module.TrainingWorker._make_trainer = make
"""


def test_closing_during_a_compile_exits_the_process_long_before_the_compile_ends(tmp_path, forecast_csv):
    started = time.monotonic()
    out = run_window_child(tmp_path, forecast_csv, prelude=CLOSE_DURING_COMPILE, close_when="compiling.is_set()",
                           after_close='print("HIDDEN", not window.isVisible(), flush=True)', epochs=10,
                           after_run='print("NOT_REACHED", code, flush=True)', timeout=120)
    elapsed = time.monotonic() - started
    assert "HIDDEN True" in out.stdout, out.stdout + out.stderr[-3000:]
    assert out.returncode == 0, out.stderr[-3000:]
    assert elapsed < 45, f"the process waited for the compile ({elapsed:.1f} s)"  # the compile lasts 60 s
    assert "Destroyed while thread" not in out.stderr
