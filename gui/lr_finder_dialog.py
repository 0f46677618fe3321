"""Run ▸ Find Learning Rate…: the range test's progress, loss against rate, and Apply.

The sweep itself runs on the worker thread (``TrainingWorker.find_learning_rate`` ->
``engine.lr_finder.find_learning_rate``, on a copy of the weights); this dialog shows its
progress, then the loss of every step against its learning rate on a log axis with the smoothed
curve and the suggested point (a tenth of the lowest-loss rate, ``engine.lr_finder.suggest_rate``). "Apply" emits ``sigApply(rate)``; the window
sets it through the run's one door (``worker.set_live``), like the learning-rate control.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt5 import QtWidgets
from PyQt5.QtCore import pyqtSignal

from gui.plots.style import TRAIN_COLOR, VAL_COLOR

SUGGESTED_COLOR = (250, 215, 80)


class LRFinderDialog(QtWidgets.QDialog):
    """Non-modal; ``show_progress`` / ``show_result`` / ``show_error`` are called by the window."""

    sigApply = pyqtSignal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Find learning rate")
        self.setObjectName("lrFinderDialog")
        self.resize(640, 460)
        self.result = None
        self.status = QtWidgets.QLabel("compiling a copy of the model…")
        self.status.setWordWrap(True)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)  # busy until the first step is reported
        self.plot_widget = pg.PlotWidget()
        plot = self.plot_widget.getPlotItem()
        plot.setLogMode(x=True, y=False)
        plot.setLabel("bottom", "learning rate")
        plot.getAxis("bottom").enableAutoSIPrefix(False)  # rates as they are, not "(x0.001)"
        plot.setLabel("left", "training loss")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.addLegend(offset=(-10, 10))
        self.loss_curve = plot.plot(pen=pg.mkPen(TRAIN_COLOR, width=1), name="loss per step")
        self.smoothed_curve = plot.plot(pen=pg.mkPen(VAL_COLOR, width=2), name="smoothed")
        self.suggested_point = plot.plot(pen=None, symbol="o", symbolSize=11, symbolBrush=SUGGESTED_COLOR,
                                         name="suggested (lowest loss / 10)")
        self.apply_button = QtWidgets.QPushButton("Apply")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self._apply)
        close = QtWidgets.QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot_widget, 1)
        layout.addLayout(buttons)

    def show_progress(self, done: int, steps: int) -> None:
        self.progress.setRange(0, int(steps))
        self.progress.setValue(int(done))
        self.status.setText(f"sweeping the learning rate on a copy of the weights: step {done} of {steps}…")

    def show_result(self, result) -> None:
        self.result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        rates = np.asarray(result.rates, dtype=float)
        self.loss_curve.setData(rates, np.asarray(result.losses, dtype=float))
        self.smoothed_curve.setData(rates, np.asarray(result.smoothed, dtype=float))
        suggested = result.suggested
        if suggested is not None and math.isfinite(suggested) and len(rates):
            i = int(np.argmin(np.abs(np.log(rates) - math.log(suggested))))
            self.suggested_point.setData([suggested], [float(result.smoothed[i])])
            self.apply_button.setText(f"Apply lr {suggested:.3g}")
            self.apply_button.setEnabled(True)
        else:
            self.suggested_point.setData([], [])
            self.apply_button.setEnabled(False)
        self.status.setText(result.note + ". The model's own weights were not changed.")

    def show_error(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"The learning-rate finder failed: {message}")

    def _apply(self) -> None:
        if self.result is not None and self.result.suggested is not None:
            self.sigApply.emit(float(self.result.suggested))
