"""What the window's ~30 Hz frame draws: reports waiting for each plot, one plot per frame.

Qt repaints every changed view of the window in one go, so updating all plots in the same
frame costs the sum of their paints (mostly axis ticks; figures in benchmarks/README.md), which
is what makes a window stutter. One plot per frame, round robin, keeps every paint short; each
plot still updates several times a second and no loss point is lost.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)

MAX_DIAGNOSTIC_POINTS_PER_FRAME = 4
DIAGNOSTICS_INTERVAL_S = 0.25


class LiveViews:
    """The four plots and what is pending for each; ``draw_next`` updates one that has news."""

    def __init__(self, loss_plot, hidden_panel, diagnostics, predictions):
        self.loss_plot = loss_plot
        self.hidden_panel = hidden_panel
        self.diagnostics = diagnostics
        self.predictions = predictions
        self._painters = (self.draw_loss, self._draw_hidden, self._draw_diagnostics, self._draw_predictions)
        self.loss_extras: list = []  # fn() -> bool, drawn with the loss plot (gui.plots.run_marks)
        self._phase = 0  # which plot the next frame updates first
        self._diagnostics_drawn_at = float("-inf")
        self.clear()

    def clear(self) -> None:
        """Forget everything not drawn yet (a run ends)."""
        self._loss_pending: list = []
        self._diagnostics_pending: list = []
        self._latest_snapshot = None  # (epoch, hidden, gates, probe_text) of the newest report only
        self._prediction_pending = None  # ("predictions", dict, epoch) | ("sample", text, epoch), latest only
        self._class_names: list = []
        self.prediction_epoch = None  # the epoch the worker's next predictions come from (sigInferenceEpoch)
        self.latest_epoch = None  # the newest report's
        if getattr(self, "predictions", None) is not None:
            self.predictions.set_epoch(None)

    def take(self, reports: list) -> None:
        """Reports that arrived: every loss point is kept, only the newest snapshot."""
        self._loss_pending.extend(reports)
        self._diagnostics_pending.extend(reports)
        last = reports[-1]
        self._latest_snapshot = (last.epoch, last.hidden, last.gates, getattr(last, "probe_text", None))
        self.latest_epoch = last.epoch
        self.predictions.show_training_epoch(last.epoch)  # the lag of the predictions shows

    def take_prediction(self, kind: str, result, class_names=()) -> None:
        self._prediction_pending = (kind, result, self.prediction_epoch)
        self._class_names = list(class_names)

    def draw_next(self) -> None:
        painters = self._painters
        for offset in range(len(painters)):
            index = (self._phase + offset) % len(painters)
            if painters[index]():
                self._phase = index + 1
                return

    def draw_all(self) -> None:
        """Everything pending, now (tests, exports, the end of a run)."""
        self._diagnostics_drawn_at = float("-inf")
        for painter in self._painters:
            painter()

    # Each painter returns True if it changed something.
    def draw_loss(self) -> bool:
        reports, self._loss_pending = self._loss_pending, []
        extras = [draw() for draw in self.loss_extras]  # in this frame too: no extra repaint
        if not reports:
            return any(extras)
        self.loss_plot.extend([r.epoch for r in reports], [r.train_loss for r in reports],
                              [r.val_loss for r in reports])
        for r in reports:
            if getattr(r, "skipped_steps", 0):
                self.loss_plot.mark_refused(r.epoch, r.skipped_steps)
        return True

    def _draw_hidden(self) -> bool:
        snapshot, self._latest_snapshot = self._latest_snapshot, None
        if snapshot is None:
            return False
        epoch, hidden, gates, text = snapshot
        try:
            self.hidden_panel.set_snapshot(epoch, hidden, gates, text)
        except ValueError as exc:  # shapes of a run that was just replaced
            log.debug("snapshot skipped: %s", exc)
        return True

    def _draw_diagnostics(self) -> bool:
        now = time.monotonic()
        # Two log-scale plots with legends: the most expensive paint, and a trend view.
        if not self._diagnostics_pending or now - self._diagnostics_drawn_at < DIAGNOSTICS_INTERVAL_S:
            return False
        self._diagnostics_drawn_at = now
        reports, self._diagnostics_pending = self._diagnostics_pending, []
        # A few points per frame, always the newest, so a model doing 1000 epochs/s cannot stall
        # the window (loss points are all kept); one setData per curve for all of them.
        step = max(1, -(-len(reports) // MAX_DIAGNOSTIC_POINTS_PER_FRAME))
        self.diagnostics.add_reports((r.epoch, r.grad_norms, r.weight_norms) for r in reports[::-1][::step][::-1])
        return True

    def _draw_predictions(self) -> bool:
        pending, self._prediction_pending = self._prediction_pending, None
        if pending is None:
            return False
        kind, result, epoch = pending
        try:
            if kind == "sample":
                self.predictions.set_text_sample(result if isinstance(result, str) else str(result))
            elif "pred" in result and "true" in result:
                self.predictions.update_classification(result["true"], result["pred"], self._class_names)
            elif "forecast" in result and "actual" in result:
                self.predictions.update_forecast(result["actual"], result["forecast"])
            if epoch is not None:
                self.predictions.set_epoch(epoch, self.latest_epoch)
        except Exception as exc:  # a result from a model that was just replaced: the next one fits
            log.warning("predictions not drawn: %s", exc)
        return True
