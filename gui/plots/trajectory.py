"""TrajectoryView: hidden-state trajectories in the plane of two principal components.

The top layer's states of the probe (thick) and of up to 49 other validation sequences
(engine.trajectory) are drawn as lines, coloured by class (classification) or, for forecasting and
text, as points coloured by time (early dark, late bright). The basis is fitted on the first
Insight shown and then kept, so replaying epochs with the scrubber shows the dynamics change
against fixed axes; *Refit axes* fits it again on what is displayed. Hovering a point names the
sequence, its class and the step.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets  # noqa: I001
import numpy as np
import pyqtgraph as pg

from engine.trajectory import pca_basis, valid_points
from gui.plots.style import anchor_inside, epoch_note, retitle, set_compact_title

PROBE_WIDTH = 3.0
# Tableau 10: classes stay tellable apart (pyqtgraph's hue wheel puts neighbours in one colour family)
CLASS_COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                "#9c755f", "#bab0ac")


def class_color(label: int, alpha: int = 255):
    color = pg.mkColor(CLASS_COLORS[int(label) % len(CLASS_COLORS)])
    color.setAlpha(alpha)
    return color


class TrajectoryView(QtWidgets.QWidget):
    """See the module docstring. ``show_insight(insight)``; ``refit()``; ``basis`` (engine Basis)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.refit_button = QtWidgets.QPushButton("Refit axes")
        self.refit_button.setToolTip("Fit the two principal components again on the states shown now")
        self.refit_button.clicked.connect(self.refit)
        self.hover_label = QtWidgets.QLabel("")
        self.legend_label = QtWidgets.QLabel("")  # classes and their colours (rich text)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.refit_button)
        bar.addWidget(self.legend_label)
        bar.addWidget(self.hover_label, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)
        self.plot = self.graphics.addPlot(row=0, col=0)
        set_compact_title(self.plot, "hidden-state trajectories (PCA of the top layer)")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self._curves: list[pg.PlotCurveItem] = []
        self._points = pg.ScatterPlotItem(size=4, pen=None, hoverable=True, hoverSize=9,
                                          hoverBrush=pg.mkBrush(255, 255, 255))
        self._points.sigHovered.connect(self._on_hover)
        self.plot.addItem(self._points)
        self._hover_text = pg.TextItem("", color=(230, 230, 230), fill=(20, 20, 20, 200))
        self._hover_text.setZValue(20)
        self._hover_text.hide()
        self.plot.addItem(self._hover_text, ignoreBounds=True)
        self.class_names: list = []
        self.basis = None
        self.insight = None
        self._live, self._stored = True, False
        self._time_map = pg.colormap.get("viridis")

    # ----- data in
    def show_insight(self, insight, *, live: bool = True, stored: bool = False) -> None:
        self.insight = insight
        self._live, self._stored = live, stored
        states = np.asarray(insight.states, dtype=np.float64)
        if states.size == 0:
            return
        if self.basis is None or self.basis.mean.shape[0] != states.shape[2]:
            self.basis = pca_basis(valid_points(states, insight.steps, insight.lengths))
        self._draw()

    def refit(self) -> None:
        """A new basis from the Insight on display (the button)."""
        insight = self.insight
        if insight is None or np.asarray(insight.states).size == 0:
            return
        self.basis = pca_basis(valid_points(insight.states, insight.steps, insight.lengths))
        self._draw()

    def _draw(self) -> None:
        insight, basis = self.insight, self.basis
        coords = basis.project(insight.states)  # (N, T', 2)
        steps, lengths = np.asarray(insight.steps), np.asarray(insight.lengths)
        labels = np.asarray(insight.labels)
        by_class = labels.size and labels.min() >= 0
        while len(self._curves) < coords.shape[0]:
            curve = pg.PlotCurveItem()
            self.plot.addItem(curve)
            self._curves.append(curve)
        spots_x, spots_y, brushes, data = [], [], [], []
        for row, curve in enumerate(self._curves):
            if row >= coords.shape[0]:
                curve.setData([], [])
                continue
            real = steps < lengths[row]
            xy = coords[row][real]
            color = class_color(labels[row]) if by_class else pg.mkColor(150, 150, 150, 90)
            line = class_color(labels[row], 255 if row == 0 else 110) if by_class else color
            width = PROBE_WIDTH if row == 0 else 1.0
            if by_class or row == 0:  # by time, the other sequences are points only (lines would hide them)
                pen = pg.mkPen(line, width=width) if by_class else pg.mkPen((235, 235, 235, 170), width=1.5)
                curve.setData(xy[:, 0], xy[:, 1], pen=pen)
            else:
                curve.setData([], [])
            curve.setZValue(10 if row == 0 else 0)
            fraction = steps[real] / max(1, int(lengths[row]) - 1)
            for (x, y), step, f in zip(xy, steps[real], fraction):
                spots_x.append(x)
                spots_y.append(y)
                brushes.append(pg.mkBrush(class_color(labels[row], 170)) if by_class
                               else pg.mkBrush(self._time_map.map(f, mode="qcolor")))
                data.append((int(insight.sequences[row]), int(labels[row]), int(step), row == 0))
        self._points.setData(x=spots_x, y=spots_y, brush=brushes, data=data)
        explained = ", ".join(f"{100 * v:.0f}%" for v in basis.explained)
        live = epoch_note(self._live, self._stored)
        self.legend_label.setText(" ".join(self._class_legend(labels)) if by_class else "colour: time, dark early")
        colour = "colour: class" if by_class else "colour: time (dark early, bright late)"
        retitle(self.plot, f"{coords.shape[0]} sequences · PC1, PC2 hold {explained} · "
                           f"{colour} · epoch {insight.epoch}{live}")
        self.plot.setLabel("bottom", "PC1")
        self.plot.setLabel("left", "PC2")

    def _class_legend(self, labels) -> list:
        out = []
        for label in sorted(set(int(v) for v in labels))[:len(CLASS_COLORS)]:
            name = self.class_names[label] if label < len(self.class_names) else str(label)
            out.append(f"<span style='color:{CLASS_COLORS[label % len(CLASS_COLORS)]}'>&#9632; {name}</span>")
        return out

    def _on_hover(self, item, points, event=None) -> None:
        if not len(points):
            self.hover_label.setText("")
            self._hover_text.hide()
            return
        self.hover_label.setText(self.describe(points[0].data()))
        self._hover_text.setText(self.hover_label.text())
        pos = points[0].pos()
        self._hover_text.setPos(pos)
        anchor_inside(self._hover_text, self.plot.getViewBox(), pos)
        self._hover_text.show()

    def describe(self, data) -> str:
        """'validation sequence 12 (probe) · class up · step 40' for a point's data."""
        sequence, label, step, probe = data
        parts = [f"validation sequence {sequence}" + (" (probe)" if probe else "")]
        if label >= 0:
            name = self.class_names[label] if label < len(self.class_names) else str(label)
            parts.append(f"class {name}")
        parts.append(f"step {step}")
        return " · ".join(parts)

    def clear(self) -> None:
        self.insight = self.basis = None
        for curve in self._curves:
            curve.setData([], [])
        self._points.setData(x=[], y=[])

    # ----- read back (tests, exports)
    def point_data(self) -> tuple:
        """((M, 2) drawn coordinates, list of (sequence, label, step, is_probe))."""
        x, y = self._points.getData()
        return np.column_stack([x, y]), list(self._points.data["data"])

    def curve_data(self, row: int) -> tuple:
        return self._curves[row].getData()

    def export_item(self):
        return self.graphics.ci

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(520, 420)
