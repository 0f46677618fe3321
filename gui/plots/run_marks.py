"""RunMarks: what the loss plot shows of the current run besides its epoch points: the running
training loss between epoch points (long epochs) and the epoch the best weights come from.

Drawn on a LossPlot's plot item (the LossPlot itself keeps the per-epoch curves). The running
loss of epoch ``e`` after ``s`` of ``n`` steps is drawn at x = e - 1 + s / n, so it climbs
towards the epoch's own point; a star marks the lowest validation loss (the weights
"Restore best weights" and the end of a finished run put back).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtCore

from gui.plots.series import GrowableSeries
from gui.plots.style import TRAIN_COLOR, VAL_COLOR, configure_long_curve

BEST_COLOR = (250, 215, 80)


class RunMarks:
    """Running loss and best-epoch marker on ``loss_plot``'s plot item (GUI thread only)."""

    def __init__(self, loss_plot):
        plot = loss_plot.plot_item
        self._plot = plot
        self._running = GrowableSeries()
        self._epochs: list[int] = []  # the epoch of each running point
        # "running": the training loss within an epoch (dotted); "train (running, within an epoch)" was cut at 1024x700
        self.running_curve = pg.PlotDataItem(
            pen=pg.mkPen(TRAIN_COLOR, width=1, style=QtCore.Qt.DotLine), symbol="o", symbolSize=4,
            symbolBrush=TRAIN_COLOR, symbolPen=None, name="running")
        configure_long_curve(self.running_curve)
        plot.addItem(self.running_curve)
        # A PlotDataItem (not a scatter) so it follows the plot's log-y mode like the curves do;
        # the label rides on a vertical line, whose x does not depend on the y scale.
        self.best_point = pg.PlotDataItem(pen=None, symbol="star", symbolSize=16, symbolBrush=BEST_COLOR,
                                          symbolPen=pg.mkPen(VAL_COLOR, width=1))
        self.best_point.setZValue(50)
        plot.addItem(self.best_point)
        self.best_line = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(BEST_COLOR, width=1, style=QtCore.Qt.DotLine), label="",
            labelOpts={"position": 0.75, "color": BEST_COLOR, "fill": (20, 20, 20, 170)})
        self.best_line.hide()
        plot.addItem(self.best_line, ignoreBounds=True)
        self._labels = loss_plot.labels  # its label is placed with the markers' (none overlap)
        self._labels.add(self.best_line, priority=1)
        self._best: tuple[int, float] | None = None
        self._restored = False
        self._pending_running: list = []  # StepReports not drawn yet
        self._pending_best = None  # (epoch, val_loss, restored) not drawn yet

    # ----- the window's frame (gui.live_views draws these with the loss plot: no extra repaint)
    def draw(self) -> bool:
        """Apply what arrived since the last frame; True if anything changed."""
        running, self._pending_running = self._pending_running, []
        best, self._pending_best = self._pending_best, None
        for report in running:
            steps = max(int(report.steps_in_epoch), 1)
            x = report.epoch - 1 + min(report.step, steps) / steps
            if self._running.append(x, report.train_loss):
                self._epochs.append(int(report.epoch))
        if running:
            self._draw_running()
        if best is not None:
            self._draw_best(*best)
        return bool(running) or best is not None

    # ----- running loss
    def add_running(self, report) -> None:
        """One StepReport: its running training loss at its fraction of the epoch (drawn next frame)."""
        self._pending_running.append(report)

    def _draw_running(self) -> None:
        # Each epoch's running mean starts afresh: join the points of one epoch only.
        epochs = np.asarray(self._epochs)
        connect = np.append(epochs[1:] == epochs[:-1], False) if len(epochs) else np.zeros(0, bool)
        self.running_curve.setData(self._running.x, self._running.y, connect=connect, skipFiniteCheck=True)

    def running_data(self) -> tuple:
        return self._running.copy_data()

    def running_count(self) -> int:
        """Running points received (drawn or about to be, on the next frame)."""
        return len(self._running) + len(self._pending_running)

    # ----- best weights
    def set_best(self, epoch: int, val_loss: float, restored: bool = False) -> None:
        if not epoch or not math.isfinite(val_loss):
            return
        if self._best == (int(epoch), float(val_loss)) and restored == self._restored:
            return
        self._best, self._restored = (int(epoch), float(val_loss)), restored
        self._pending_best = (int(epoch), float(val_loss), restored)

    def _draw_best(self, epoch: int, val_loss: float, restored: bool) -> None:
        self.best_point.setData([epoch], [val_loss])
        self.best_line.show()  # first: a hidden line's label ignores a new text (pyqtgraph InfLineLabel)
        self.best_line.setPos(epoch)
        self.best_line.label.setFormat(f"best: epoch {epoch}" + (" (restored)" if restored else ""))
        self._labels.place()

    def mark_restored(self, epoch: int) -> None:
        if self._best is not None and self._best[0] == int(epoch):
            self.set_best(epoch, self._best[1], restored=True)

    def best(self) -> tuple[int, float] | None:
        """(epoch, validation loss) of the marker, or None."""
        return self._best

    def best_text(self) -> str:
        """The marker's label as it will be drawn."""
        if self._best is None:
            return ""
        return f"best: epoch {self._best[0]}" + (" (restored)" if self._restored else "")

    def clear(self) -> None:
        """A new run: no running points, no best marker."""
        self._running.clear()
        self._epochs = []
        self._pending_running, self._pending_best = [], None
        self._draw_running()
        self.best_point.setData([], [])
        self.best_line.hide()
        self._labels.schedule()
        self._best, self._restored = None, False
