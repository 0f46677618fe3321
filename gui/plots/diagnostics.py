"""Per-layer gradient norm (before clipping) and weight norm per epoch, log-y; the recurrent
matrices' spectral radii over epochs (engine.insights) once the run has looked inside."""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import numpy as np
import pyqtgraph as pg

from gui.plots.axis import ReadableAxisItem
from gui.plots.series import GrowableSeries, finite_or_none
from gui.plots.style import configure_long_curve, set_compact_title, set_series


RADIUS_LEGEND_COLUMNS = 4  # entries side by side under the radius plot (an LSTM layer's i f o g in one row)
# Below this height (px) the radius plot and its legend leave the layout and a one-line note says
# the newest radii: three stacked plots in the ~230 px of a 1024x700 window drew views 2 px tall,
# their axes on top of each other.
RADIUS_MIN_HEIGHT = 290
NOTE_POINTS = 8  # the note's text size
NORM_LEGEND_COLUMNS = 6  # the norms' legend entries side by side (layers and head)


def compact_legend(columns: int) -> pg.LegendItem:
    """A legend row outside the plots: entries side by side, no frame, no margins (pyqtgraph's
    default row is ~32 px tall, a sixth of a short dock)."""
    legend = pg.LegendItem(colCount=columns, frame=False, labelTextSize=f"{NOTE_POINTS}pt", verSpacing=-4)
    legend.layout.setContentsMargins(0, 0, 0, 0)
    legend.setSizePolicy(QtWidgets.QSizePolicy.Fixed, QtWidgets.QSizePolicy.Fixed)  # entries together, at the left
    return legend


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
        # One legend for both plots (a layer has one colour in each), a row of its own under them:
        # inside the plots, "layer1" / "head" sat on the curves they name (a column beside them
        # took a fifth of a narrow dock)
        self.legend = compact_legend(NORM_LEGEND_COLUMNS)
        self.graphics.addItem(self.legend, row=2, col=0)
        self.weight_plot.setLabel("bottom", "epoch")
        # x-linked: the epochs are written under the bottom plot only (the room goes to the curves)
        self.grad_plot.getAxis("bottom").setStyle(showValues=False)
        # one width for both left axes, so the x-linked plots line up epoch for epoch
        self.grad_plot.getAxis("left").share_width(self.weight_plot.getAxis("left"))
        self._series: dict[tuple[str, str], GrowableSeries] = {}
        self._items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._names: list[str] = []
        self.radius_plot = self.radius_legend = self.radius_note = None
        self._radius_entries: list[str] = []  # the note's "block radius" entries, largest first
        self._radius_items: dict[tuple, pg.PlotDataItem] = {}
        self._radius_shown = False  # the radius plot and legend are in the layout (else the note is)

    def _item(self, kind: str, name: str) -> pg.PlotDataItem:
        key = (kind, name)
        if key not in self._items:
            new_name = name not in self._names
            if new_name:
                self._names.append(name)
            color = pg.intColor(self._names.index(name), hues=8)
            plot = self.grad_plot if kind == "grad" else self.weight_plot
            item = plot.plot(pen=pg.mkPen(color, width=1.5))
            configure_long_curve(item)
            if new_name:  # one entry per layer: its colour is the same in both plots
                self.legend.addItem(item, name)
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
        self.legend.clear()
        for item in self._radius_items.values():
            self.radius_plot.removeItem(item)
        self._radius_items.clear()
        if self.radius_legend is not None:
            self.radius_legend.clear()
            self._radius_entries = []
            self._set_note_text()

    def set_radius_series(self, epochs, radii: dict) -> None:
        """Spectral radius of each ``(layer, block)`` of U at the looks ``epochs`` (a third plot,
        made on first use, x-linked to the norms; the dashed line is radius 1)."""
        if self.radius_plot is None:
            self._make_radius_plot()
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
        self._note_radii(radii)
        self._fit_radius_plot()

    def _make_radius_plot(self) -> None:
        # the readable axis keeps a text height between labels ("0.9 1.0 1.1" piled up in ~60 px),
        # one width with the norms' axes so the three x-linked plots line up
        self.radius_plot = pg.PlotItem(axisItems={"left": ReadableAxisItem("left")})
        self.grad_plot.getAxis("left").share_width(self.weight_plot.getAxis("left"), self.radius_plot.getAxis("left"))
        set_compact_title(self.radius_plot, "spectral radius of U (1 = the edge of exploding)")
        self.radius_plot.setXLink(self.grad_plot)
        self.radius_plot.showGrid(x=True, y=True, alpha=0.2)
        # the legend is a row of its own under the plot, its entries side by side: anchored
        # inside, an LSTM's four blocks (118 px) covered the ~40 px the short plot draws in
        self.radius_legend = compact_legend(RADIUS_LEGEND_COLUMNS)
        self.radius_plot.addLine(y=1.0, pen=pg.mkPen((200, 200, 200), width=1, style=2))
        self.radius_note = pg.LabelItem("", size=f"{NOTE_POINTS}pt", color=(200, 200, 200))
        self.radius_note.setToolTip("The newest spectral radii; a taller Diagnostics dock plots them over epochs")

    def _note_radii(self, radii: dict) -> None:
        """The short dock's line: the newest radius of each block, the largest first."""
        newest = {key: float(values[-1]) for key, values in radii.items()
                  if len(values) and np.isfinite(values[-1])}
        one_layer = len({layer for layer, _ in newest}) <= 1
        self._radius_entries = [f"{block if one_layer else f'layer{layer} {block}'} {value:.2f}"
                                for (layer, block), value in sorted(newest.items(), key=lambda kv: -kv[1])]
        self._set_note_text()

    def _set_note_text(self) -> None:
        """As many entries as the width shows (the largest radii first), never a line cut at the edge."""
        font = QtGui.QFont(self.font())
        font.setPointSizeF(NOTE_POINTS)
        metrics, room = QtGui.QFontMetrics(font), self.width() - 16
        text = "spectral radius of U: " + (self._radius_entries[0] if self._radius_entries else "–")
        for k in range(2, len(self._radius_entries) + 1):
            longer = "spectral radius of U: " + " · ".join(self._radius_entries[:k])
            if metrics.horizontalAdvance(longer) > room:
                break
            text = longer
        if text != self.radius_note.text:
            self.radius_note.setText(text)

    def _fit_radius_plot(self) -> None:
        """The radius plot and its legend when the dock is tall enough, else the one-line note."""
        if self.radius_plot is None:
            return
        show = self.height() >= RADIUS_MIN_HEIGHT
        if show == self._radius_shown and (show or self.radius_note.scene() is not None):
            return
        layout = self.graphics.ci
        for item in (self.radius_plot, self.radius_legend, self.radius_note):
            if item.scene() is not None:
                layout.removeItem(item)
        if show:
            layout.addItem(self.radius_plot, row=3, col=0)
            layout.addItem(self.radius_legend, row=4, col=0)
        else:
            layout.addItem(self.radius_note, row=3, col=0)
        self.weight_plot.setLabel("bottom", "" if show else "epoch")
        self.weight_plot.showLabel("bottom", not show)
        self.weight_plot.getAxis("bottom").setStyle(showValues=not show)
        self.radius_plot.setLabel("bottom", "epoch" if show else "")
        self._radius_shown = show

    def radius_shown(self) -> bool:
        return self._radius_shown

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_radius_plot()
        if self.radius_note is not None:
            self._set_note_text()

    def radius_data(self) -> dict:
        return {key: item.getData() for key, item in self._radius_items.items()}

    def export_item(self):
        return self.graphics.ci

