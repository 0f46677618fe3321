"""What a heatmap marks on top of its colours: non-finite cells and the traced units' columns.

A NaN or Inf cell is painted magenta (``style.NONFINITE_COLOR``) by an RGBA image laid over the
heatmap, never as 0. A traced unit's column is outlined in its trace's colour, so the user sees
which columns the trace plot below is showing.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg
import numpy as np

from gui.plots.style import NONFINITE_COLOR


def nonfinite_rgba(data: np.ndarray) -> np.ndarray:
    """(T, H, 4) uint8: opaque magenta where ``data`` is NaN/Inf, transparent elsewhere."""
    bad = ~np.isfinite(np.asarray(data))
    rgba = np.zeros(bad.shape + (4,), dtype=np.uint8)
    rgba[bad] = (*NONFINITE_COLOR, 255)
    return rgba


def drawable(data: np.ndarray) -> np.ndarray:
    """The values the colour map paints: non-finite cells as 0 (the overlay covers them)."""
    data = np.asarray(data, dtype=np.float32)
    return data if np.isfinite(data).all() else np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)


class NonFiniteOverlay:
    """The magenta layer of one heatmap."""

    def __init__(self, plot: pg.PlotItem):
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(5)
        plot.addItem(self.image)
        self.count = 0

    def show(self, data: np.ndarray) -> None:
        bad = ~np.isfinite(data)
        self.count = int(bad.sum())
        self.image.setVisible(self.count > 0)
        if self.count:
            self.image.setImage(nonfinite_rgba(data), autoLevels=False, levels=(0, 255))
            self.image.setRect(QtCore.QRectF(-0.5, -0.5, data.shape[1], data.shape[0]))

    def clear(self) -> None:
        self.count = 0
        self.image.clear()
        self.image.setVisible(False)


class UnitMarks:
    """Outlines of the traced units' columns on one heatmap: {unit: rectangle in the trace colour}."""

    def __init__(self, plot: pg.PlotItem):
        self._plot = plot
        self._rects: dict[int, QtWidgets.QGraphicsRectItem] = {}
        self._steps = 1

    def add(self, unit: int, color: QtGui.QColor) -> None:
        pen = QtGui.QPen(QtGui.QColor(color), 2)
        pen.setCosmetic(True)  # 2 px on screen whatever the zoom
        rect = QtWidgets.QGraphicsRectItem()
        rect.setPen(pen)
        rect.setBrush(QtGui.QBrush(QtCore.Qt.NoBrush))
        rect.setZValue(8)
        self._plot.addItem(rect, ignoreBounds=True)
        self._rects[int(unit)] = rect
        self._place(int(unit))

    def remove(self, unit: int) -> None:
        rect = self._rects.pop(int(unit), None)
        if rect is not None:
            self._plot.removeItem(rect)

    def clear(self) -> None:
        for unit in list(self._rects):
            self.remove(unit)

    def set_steps(self, steps: int) -> None:
        """The heatmap's number of time steps (the outline's height)."""
        self._steps = max(1, int(steps))
        for unit in self._rects:
            self._place(unit)

    def _place(self, unit: int) -> None:
        self._rects[unit].setRect(QtCore.QRectF(unit - 0.5, -0.5, 1.0, float(self._steps)))

    def marks(self) -> list[tuple[int, tuple[int, int, int]]]:
        """(unit, RGB of its outline), by unit."""
        return [(u, self._rects[u].pen().color().getRgb()[:3]) for u in sorted(self._rects)]
