"""RefusedMarks: the epochs whose training steps were refused (non-finite), on the loss curve.

The engine refuses a step whose loss or gradient is not finite (the weights stay as they were;
``EpochReport.skipped_steps`` counts them). Such an epoch is drawn as a red cross on the loss
curve with its count ("3 refused"), so a divergence is seen where it happened, not only as a
gap in the curve.
"""

from __future__ import annotations

import math

from PyQt5 import QtCore  # noqa: I001
import pyqtgraph as pg

from gui.plots.style import REFUSED_COLOR, anchor_inside


class RefusedMarks:
    """Crosses and counts on one PlotItem (a PlotDataItem follows log-y by itself; labels are moved)."""

    def __init__(self, plot: pg.PlotItem):
        self._plot = plot
        self._points: list[tuple[float, float, int]] = []  # (epoch, loss, refused steps)
        self._labels: list[pg.TextItem] = []
        self._log_y = False
        self.symbols = pg.PlotDataItem(pen=None, symbol="x", symbolSize=12, symbolPen=pg.mkPen(REFUSED_COLOR, width=2),
                                       symbolBrush=REFUSED_COLOR, name=None)
        self.symbols.setZValue(60)
        plot.addItem(self.symbols)  # in the auto range: a last epoch whose every step was refused has no loss point
        plot.vb.sigRangeChanged.connect(self._place_labels)  # labels stay inside the view

    def add(self, epoch: float, loss: float, count: int) -> None:
        """Epoch ``epoch`` refused ``count`` steps; ``loss`` is where on the curve to draw it."""
        loss = float(loss) if math.isfinite(loss) and loss > 0 else 1.0
        self._points.append((float(epoch), loss, int(count)))
        label = pg.TextItem(f"{int(count)} refused", color=REFUSED_COLOR, fill=(20, 20, 20, 170))
        label.setZValue(60)
        self._plot.addItem(label, ignoreBounds=True)
        self._labels.append(label)
        self._redraw()

    def points(self) -> list[tuple[float, float, int]]:
        return list(self._points)

    def set_log_y(self, enabled: bool) -> None:
        self._log_y = bool(enabled)
        self._redraw()

    def clear(self) -> None:
        for label in self._labels:
            self._plot.removeItem(label)
        self._labels.clear()
        self._points.clear()
        self._redraw()

    def _redraw(self) -> None:
        self.symbols.setData([p[0] for p in self._points], [p[1] for p in self._points])
        self._place_labels()

    def _place_labels(self, *_args) -> None:
        for (epoch, loss, _), label in zip(self._points, self._labels):
            pos = QtCore.QPointF(epoch, math.log10(loss) if self._log_y else loss)
            anchor_inside(label, self._plot.vb, pos)  # on the side of the cross that faces the middle
            label.setPos(pos)
