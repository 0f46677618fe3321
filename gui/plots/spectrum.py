"""SpectrumView: eigenvalues of each layer's recurrent matrix U in the complex plane.

One scatter per gate block (engine.names.U_BLOCKS: ``h``; GRU ``z r n``; LSTM ``i f o g``) with the
unit circle: eigenvalues outside it amplify a state step after step (exploding), far inside it the
state fades (vanishing). The legend gives each block's spectral radius (the largest modulus). The spectral radii over epochs are drawn on the Diagnostics dock.
"""

from __future__ import annotations

from PyQt5 import QtWidgets  # noqa: I001
import numpy as np
import pyqtgraph as pg

from engine.names import U_BLOCKS
from gui.plots.style import epoch_note, retitle, set_compact_title

BLOCK_COLORS = {"h": "#4c9be8", "z": "#f28e2b", "r": "#59d0a0", "n": "#e15ce0",
                "i": "#4c9be8", "f": "#f28e2b", "o": "#59d0a0", "g": "#e15ce0"}
BLOCK_TITLES = {"h": "U", "z": "U_z (update)", "r": "U_r (reset)", "n": "U_n (candidate)",
                "i": "U_i (input)", "f": "U_f (forget)", "o": "U_o (output)", "g": "U_g (candidate)"}
LEGEND_OFFSET = (-10, 5)
RADIUS_TIP = ("spectral radius = the largest |eigenvalue| (the legend's number): above 1 a state can grow step "
              "after step (exploding), well below 1 it fades (vanishing)")


class SpectrumView(QtWidgets.QWidget):
    """Eigenvalues of the selected layer's U blocks; ``show_insight(insight)``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.currentIndexChanged.connect(lambda _index: self._draw())
        self.graphics = pg.GraphicsLayoutWidget()
        bar = QtWidgets.QHBoxLayout()
        self.layer_label = QtWidgets.QLabel("layer")
        bar.addWidget(self.layer_label)
        bar.addWidget(self.layer_box)
        bar.addStretch(1)
        for widget in (self.layer_label, self.layer_box):  # until a look shows several layers
            widget.setVisible(False)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)
        self.plot = self.graphics.addPlot(row=0, col=0)
        set_compact_title(self.plot, "eigenvalues of U")
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "real")
        self.plot.setLabel("left", "imaginary")
        angle = np.linspace(0, 2 * np.pi, 361)
        self.plot.plot(np.cos(angle), np.sin(angle), pen=pg.mkPen((200, 200, 200), width=1, style=2))
        self.legend = self.plot.addLegend(offset=LEGEND_OFFSET)
        self._scatters: dict[str, pg.ScatterPlotItem] = {}
        self.insight = None
        self._live, self._stored = True, False

    def show_insight(self, insight, *, live: bool = True, stored: bool = False) -> None:
        self.insight = insight
        self._live, self._stored = live, stored
        n_layers = len(insight.spectra)
        if self.layer_box.count() != n_layers:
            self.layer_box.blockSignals(True)
            self.layer_box.clear()
            self.layer_box.addItems([f"layer {k}" for k in range(1, n_layers + 1)])
            self.layer_box.blockSignals(False)
        self.layer_box.setVisible(n_layers > 1)
        self.layer_label.setVisible(n_layers > 1)
        self._draw()

    def layer(self) -> int:
        return max(self.layer_box.currentIndex(), 0)

    def _scatter(self, block: str) -> pg.ScatterPlotItem:
        if block not in self._scatters:
            color = BLOCK_COLORS.get(block, "#dddddd")
            item = pg.ScatterPlotItem(size=7, pen=pg.mkPen(color), brush=pg.mkBrush(color),
                                      name=BLOCK_TITLES[block].split(" ")[0])  # short: it sits inside the plot
            self.plot.addItem(item)
            self._scatters[block] = item
        return self._scatters[block]

    def _draw(self) -> None:
        insight = self.insight
        if insight is None or not insight.spectra:
            return
        blocks = insight.spectra[min(self.layer(), len(insight.spectra) - 1)]
        for name, item in self._scatters.items():
            if name not in blocks:
                item.setData([], [])
        names = []
        for name, values in blocks.items():
            values = np.asarray(values)
            finite = values[np.isfinite(values)]
            item = self._scatter(name)
            item.setData(finite.real, finite.imag)
            radius = np.max(np.abs(finite)) if finite.size else float("nan")
            label = self.legend.getLabel(item)  # short, inside the plot (and so in its exports)
            if label is not None:
                label.setText(f"{BLOCK_TITLES[name].split(' ')[0]} {radius:.3g}")
            names.append(f"{BLOCK_TITLES[name]}: spectral radius {radius:.3g}")
        # the radii are in the legend, not the title: four of them ran off a 474 px dock's right edge
        self.graphics.setToolTip("\n".join([*names, RADIUS_TIP]))
        # a legend sized while the dock was hidden keeps its top-right corner inside the plot:
        # pyqtgraph anchors it once, at its size then
        self.legend.updateSize()
        self.legend.anchor(itemPos=(1, 0), parentPos=(1, 0), offset=LEGEND_OFFSET)
        live = epoch_note(self._live, self._stored)
        text = "" if blocks else " · layer too wide for eigenvalues"
        retitle(self.plot, f"eigenvalues of U, layer {self.layer() + 1}{text} · epoch {insight.epoch}{live}")

    def clear(self) -> None:
        self.insight = None
        for item in self._scatters.values():
            item.setData([], [])

    def points(self, block: str) -> np.ndarray:
        """Drawn eigenvalues of ``block`` as complex numbers (tests)."""
        x, y = self._scatters[block].getData()
        return np.asarray(x) + 1j * np.asarray(y)

    def export_item(self):
        return self.graphics.ci


__all__ = ["SpectrumView", "U_BLOCKS"]
