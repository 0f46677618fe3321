"""Divergence in the window (gui.divergence): the dialog tells the truth and the roll-back works."""
import math

import numpy as np

from engine.training import TrainingConfig
from gui.divergence import DivergenceDialog

TRAIN_TIMEOUT = 90_000


def _dialog(window):
    dialogs = [d for d in window.findChildren(DivergenceDialog) if d.isVisible()]
    return dialogs[-1] if dialogs else None


def test_roll_back_to_the_last_good_epoch_and_resume_with_a_new_rate(qtbot, loaded_window, forecast_csv):
    config = TrainingConfig(cell="lstm", hidden_sizes=(6,), optimizer="sgd", learning_rate=1e-2, clip_norm=None,
                            batch_size=8, epochs=400)
    window = loaded_window(forecast_csv, config)
    for n in (1, 2):
        window.step_epoch()
        qtbot.waitUntil(lambda: window.loss_plot.point_count() == n and window.run_state == "paused",
                        timeout=TRAIN_TIMEOUT)
    window.controls._param("learning_rate").setValue(1000.0)  # accepted as typed (it was capped at 10)
    assert window.worker.run_config().learning_rate == 1000.0
    window.toggle_run()
    qtbot.waitUntil(lambda: _dialog(window) is not None, timeout=TRAIN_TIMEOUT)
    dialog = _dialog(window)
    message = window.last_error
    assert "Training diverged in epoch" in message and "reached" in message  # caught while finite
    assert "gradient clipping (now off)" in message
    assert "GRU/LSTM" not in message  # this is an LSTM already
    assert dialog.roll_back_button.text() == "Roll back to epoch 2 and resume with the new rate"
    weights = window.worker.trainer._model.get_params()
    assert max(float(np.max(np.abs(v))) for v in weights.values()) < 1e17

    diverged_at = window._last_epoch  # the epoch reported diverged (its point may not be drawn yet)
    dialog.rate.setValue(0.01)
    dialog.roll_back_button.click()
    qtbot.waitUntil(lambda: any("back to ep 2" in text for _, text in window.loss_plot.markers()),
                    timeout=TRAIN_TIMEOUT)
    assert window.worker.run_config().learning_rate == 0.01
    assert "rolled back to epoch 2's weights" in window.last_status
    # Two epochs trained after the roll-back (counting drawn points raced the draw timer: the
    # diverged epochs could still be undrawn when the marker came, and count as the two).
    qtbot.waitUntil(lambda: window._last_epoch >= diverged_at + 2, timeout=TRAIN_TIMEOUT)
    window.pause()
    window.flush_snapshot()
    last = window._last_report
    assert last.epoch >= diverged_at + 2
    assert not last.diverged and math.isfinite(last.train_loss) and last.train_loss < 10

    window.reset_weights()  # the diverged run goes grey; the y range follows the new run
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() >= 1 and window.run_state == "paused",
                    timeout=TRAIN_TIMEOUT)
    window.flush_snapshot()
    assert not window.loss_plot.overlay_sets_range(0)
