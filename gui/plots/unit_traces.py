"""The unit-trace plot under the hidden-state heatmaps: one line per traced (layer, unit) over the
probe's time steps, a hint in its middle while nothing is traced, a legend once something is.

``UnitTraces`` owns the plot and its lines; ``gui.plots.hidden.HiddenStatePanel`` decides which
units are traced (a click on a heatmap column) and hands it the displayed arrays.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtGui  # noqa: I001
import pyqtgraph as pg
import numpy as np

from gui.plots.axis import ReadableAxisItem
from gui.plots.style import LEGEND_BRUSH, set_compact_title

TRACE_HINT = "click a unit (column) in a heatmap to trace its activation over time"


class UnitTraces:
    """The trace plot (``widget``, ``plot``, ``legend``, ``hint``) and its lines (``items``)."""

    def __init__(self):
        self.widget = pg.PlotWidget(axisItems={"left": ReadableAxisItem("left")})
        self.widget.setMinimumHeight(90)
        self.plot: pg.PlotItem = self.widget.getPlotItem()
        self.plot.setLabel("bottom", "time step t")
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-10, 5), brush=LEGEND_BRUSH)
        # The empty trace plot says what it is for, in its middle (it follows the view box's size,
        # not the data range, so it stays centred whatever range the last traces left behind).
        self.hint = pg.TextItem(TRACE_HINT, color=(170, 170, 170), anchor=(0.5, 0.5))
        self.hint.setParentItem(self.plot.vb)
        self.hint.textItem.document().setDefaultTextOption(QtGui.QTextOption(QtCore.Qt.AlignCenter))
        self.hint.setZValue(20)
        self.plot.vb.sigResized.connect(self._place_hint)
        self.items: dict[tuple[int, int], pg.PlotDataItem] = {}

    def clear(self) -> None:
        """No unit traced (a new model)."""
        for key in list(self.items):
            self.plot.removeItem(self.items.pop(key))
        self._update_hint()

    def toggle(self, layer: int, unit: int, marks) -> bool:
        """Add (or remove, if present) the line of one unit, outlined in ``marks`` (the layer's
        heatmap UnitMarks) in the same colour; True if it is traced now."""
        key = (layer, unit)
        if key in self.items:
            self.plot.removeItem(self.items.pop(key))
            marks.remove(unit)
            traced = False
        else:
            color = pg.intColor(len(self.items) + 3 * layer, hues=9)
            item = pg.PlotDataItem(pen=pg.mkPen(color, width=1.5), name=f"L{layer + 1} u{unit}", connect="finite")
            self.plot.addItem(item)
            self.items[key] = item
            marks.add(unit, color)
            traced = True
        self._update_hint()
        return traced

    def units(self) -> list[tuple[int, int]]:
        return sorted(self.items)

    def data(self, layer: int, unit: int) -> tuple[np.ndarray, np.ndarray]:
        return self.items[(layer, unit)].getData()

    def show(self, displayed: list) -> None:
        """Each line from its layer's displayed (T, H) array (None: nothing shown for that layer)."""
        for (layer, unit), item in self.items.items():
            data = displayed[layer] if layer < len(displayed) else None
            if data is None or unit >= data.shape[1]:
                item.setData([], [])
                continue
            column = data[:, unit]
            item.setData(np.arange(column.size), column)

    def _update_hint(self) -> None:
        self.hint.setVisible(not self.items)
        self.legend.setVisible(bool(self.items))  # an empty legend is a stray grey box
        if self.items:
            set_compact_title(self.plot, "unit traces · click a unit again to remove it")
        else:
            self.plot.setTitle(None)
            self.plot.layout.setRowFixedHeight(0, 8)  # room for the top tick label
        self._place_hint()

    def _place_hint(self, *_args) -> None:
        rect = self.plot.vb.rect()
        self.hint.setTextWidth(max(80.0, rect.width() - 20))
        self.hint.setPos(rect.center())
