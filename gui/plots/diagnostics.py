"""Per-layer gradient norm (before clipping) and weight norm per epoch, log-y; the recurrent
matrices' spectral radii over epochs (engine.insights) once the run has looked inside."""

from __future__ import annotations

from PyQt5 import QtWidgets  # noqa: I001
import numpy as np
import pyqtgraph as pg

from gui.plots.axis import ReadableAxisItem
from gui.plots.series import GrowableSeries, finite_or_none
from gui.plots.style import configure_long_curve, set_compact_title, set_series


RADIUS_LEGEND_COLUMNS = 4  # entries side by side under the radius plot (an LSTM layer's i f o g in one row)


class DiagnosticsPlot(QtWidgets.QWidget):
    """Per-layer gradient norm (before clipping) and weight norm per epoch, log-y."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.grad_plot = self.graphics.addPlot(row=0, col=0, axisItems={"left": ReadableAxisItem("left")})
        self.weight_plot = self.graphics.addPlot(row=1, col=0, axisItems={"left": ReadableAxisItem("left")})
        set_compact_title(self.grad_plot, "gradient norm (before clipping)")
        set_compact_title(self.weight_plot, "weight norm")
        self.weight_plot.setXLink(self.grad_plot)
        for plot in (self.grad_plot, self.weight_plot):
            plot.setLogMode(x=False, y=True)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.addLegend(offset=(-10, 5))
        self.weight_plot.setLabel("bottom", "epoch")
        # one width for both left axes, so the x-linked plots line up epoch for epoch
        self.grad_plot.getAxis("left").share_width(self.weight_plot.getAxis("left"))
        self._series: dict[tuple[str, str], GrowableSeries] = {}
        self._items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._names: list[str] = []
        self.radius_plot = self.radius_legend = None
        self._radius_items: dict[tuple, pg.PlotDataItem] = {}

    def _item(self, kind: str, name: str) -> pg.PlotDataItem:
        key = (kind, name)
        if key not in self._items:
            if name not in self._names:
                self._names.append(name)
            color = pg.intColor(self._names.index(name), hues=8)
            plot = self.grad_plot if kind == "grad" else self.weight_plot
            item = plot.plot(pen=pg.mkPen(color, width=1.5), name=name)
            configure_long_curve(item)
            self._items[key] = item
            self._series[key] = GrowableSeries()
        return self._items[key]

    def add_reports(self, reports) -> None:
        """Append (epoch, grad_norms, weight_norms) rows; each curve gets one setData for all of them."""
        touched = set()
        for epoch, grad_norms, weight_norms in reports:
            for kind, norms in (("grad", grad_norms or {}), ("weight", weight_norms or {})):
                for name, value in norms.items():
                    key = (kind, str(name))
                    self._item(*key)  # creates the curve on first sight
                    series = self._series[key]
                    value = finite_or_none(value)
                    # log-y: a zero or negative norm cannot be drawn
                    if value is not None and value > 0:
                        series.append(float(epoch), value)
                    else:
                        series.dropped += 1
                    touched.add(key)
        for key in touched:
            series = self._series[key]
            set_series(self._items[key], series.x, series.y)

    def curve_data(self) -> dict:
        """{(kind, layer_name): (x, y)} with kind 'grad' or 'weight'."""
        return {key: series.copy_data() for key, series in self._series.items()}

    def reset(self) -> None:
        for (kind, _), item in self._items.items():
            (self.grad_plot if kind == "grad" else self.weight_plot).removeItem(item)
        self._items.clear()
        self._series.clear()
        self._names.clear()
        for item in self._radius_items.values():
            self.radius_plot.removeItem(item)
        self._radius_items.clear()
        if self.radius_legend is not None:
            self.radius_legend.clear()

    def set_radius_series(self, epochs, radii: dict) -> None:
        """Spectral radius of each ``(layer, block)`` of U at the looks ``epochs`` (a third plot,
        made on first use, x-linked to the norms; the dashed line is radius 1)."""
        if self.radius_plot is None:
            self.radius_plot = self.graphics.addPlot(row=2, col=0)
            set_compact_title(self.radius_plot, "spectral radius of U (1 = the edge of exploding)")
            self.radius_plot.setXLink(self.grad_plot)
            self.radius_plot.showGrid(x=True, y=True, alpha=0.2)
            # the legend is a row of its own under the plot, its entries side by side: anchored
            # inside, an LSTM's four blocks (118 px) covered the ~40 px the short plot draws in
            self.radius_legend = pg.LegendItem(colCount=RADIUS_LEGEND_COLUMNS)
            self.graphics.addItem(self.radius_legend, row=3, col=0)
            self.radius_plot.addLine(y=1.0, pen=pg.mkPen((200, 200, 200), width=1, style=2))
        x = np.asarray(epochs, dtype=float)
        for k, (key, values) in enumerate(sorted(radii.items())):
            if key not in self._radius_items:
                layer, block = key
                color = pg.intColor(k, hues=8)
                self._radius_items[key] = self.radius_plot.plot(pen=pg.mkPen(color, width=1.5))
                self.radius_legend.addItem(self._radius_items[key], f"layer{layer} {block}")
            y = np.full(x.shape, np.nan)
            y[:min(len(values), len(x))] = np.asarray(values, dtype=float)[:len(x)]
            keep = np.isfinite(y)
            self._radius_items[key].setData(x[keep], y[keep])

    def radius_data(self) -> dict:
        return {key: item.getData() for key, item in self._radius_items.items()}

    def export_item(self):
        return self.graphics.ci

