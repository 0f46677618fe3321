"""SaliencyView: what the prediction looks at, as a heat strip of bars under the probe's input,
and the memory horizon over epochs.

Top: the probe's input (normalised features as lines; for text its characters label the steps).
Middle: ``|dy/dx_t|`` summed over features per step (engine.saliency), bars coloured by value,
the predicted step marked and the memory horizon (steps back holding 90% of the saliency) shaded.
Bottom: the memory horizon at every look so far, the displayed epoch marked.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import numpy as np
import pyqtgraph as pg

from gui.plots.style import epoch_note, retitle, set_compact_title

MAX_CHARACTERS = 200  # text: labels drawn above the strip (the probe's last ones)
MAX_INPUT_LINES = 8  # features drawn above the strip (a 100-feature input would be a blur)
TARGET_TEXT = {"classify_sequence": "top class score", "forecast": "next value",
               "next_token": "log p(next character)"}  # short: the title fits a ~450 px dock column
STRIP_COLORMAP = "inferno"
STEP_TIP = ("The step whose prediction the saliency explains (the next value or character predicted there); "
            "'last' = the probe's last step. Takes effect at the next look, without recompiling")


def char_label(ch: str) -> str:
    """A character as a tick label: spaces and control characters made visible."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(ch, ch if ch.isprintable() else "·")


class SaliencyView(QtWidgets.QWidget):
    """Saliency of the displayed Insight (``show``) and the horizon series (``set_series``); the
    "explain step" box chooses the prediction explained (``sigStepChosen``: a step, or None = last)."""

    sigStepChosen = QtCore.pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_step_box())
        layout.addWidget(self.graphics)
        self.input_plot = self.graphics.addPlot(row=0, col=0)
        self.strip_plot = self.graphics.addPlot(row=1, col=0)
        self.horizon_plot = self.graphics.addPlot(row=2, col=0)
        set_compact_title(self.input_plot, "probe input")
        set_compact_title(self.strip_plot, "saliency |dy/dx| per step")
        set_compact_title(self.horizon_plot, "memory horizon (steps holding 90% of the saliency)")
        self.strip_plot.setXLink(self.input_plot)
        self.input_plot.hideAxis("bottom")  # the strip right under it numbers the same steps
        for plot in (self.input_plot, self.strip_plot, self.horizon_plot):
            plot.getAxis("left").setWidth(44)  # one width: the steps line up, and "-1.9" / "max" fit
        self.strip_plot.setLabel("bottom", "step")
        self.horizon_plot.setLabel("bottom", "epoch")
        self.horizon_plot.setLabel("left", "steps")
        self.strip_plot.setMouseEnabled(y=False)
        # a short strip: labels at 0 and the top only (bars are normalised to the largest)
        self._ticks: dict = {}  # plot -> the left-axis labels wanted (as many are drawn as fit its height)
        for plot in (self.input_plot, self.strip_plot, self.horizon_plot):
            plot.vb.sigResized.connect(lambda _vb, plot=plot: self._fit_ticks(plot))
        self._set_ticks(self.strip_plot, [(0.0, "0"), (1.0, "max")])
        self.graphics.ci.layout.setRowStretchFactor(0, 2)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)
        self.graphics.ci.layout.setRowStretchFactor(2, 2)
        self._input_items: list[pg.PlotDataItem] = []
        self._char_items: list[pg.TextItem] = []
        self._bars = pg.BarGraphItem(x=[], height=[], width=1.0)
        self.strip_plot.addItem(self._bars)
        self._region = pg.LinearRegionItem(movable=False, brush=(90, 160, 255, 40), pen=(90, 160, 255, 120))
        self._step_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((90, 220, 120), width=1.5))
        for item in (self._region, self._step_line):
            self.strip_plot.addItem(item, ignoreBounds=True)
        self._horizon_curve = self.horizon_plot.plot(pen=pg.mkPen("#59d0a0", width=1.5), symbol="o", symbolSize=4,
                                                     symbolBrush="#59d0a0", symbolPen=None)
        self._epoch_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((230, 200, 60), width=1))
        self.horizon_plot.addItem(self._epoch_line, ignoreBounds=True)
        self._colormap = pg.colormap.get(STRIP_COLORMAP)
        self.vocabulary: list | None = None  # text: token id -> character (step labels)
        self.task = "classify_sequence"
        self.insight = None  # the Insight shown

    def _build_step_box(self) -> QtWidgets.QHBoxLayout:
        self.step_spin = QtWidgets.QSpinBox()
        self.step_spin.setRange(-1, 0)
        self.step_spin.setSpecialValueText("last")  # -1: the probe's last step, whatever its length
        self.step_spin.setValue(-1)
        self.step_spin.setToolTip(STEP_TIP)
        self.step_spin.setKeyboardTracking(False)  # typing "12" asks once, for 12
        self.step_spin.valueChanged.connect(lambda value: self.sigStepChosen.emit(None if value < 0 else int(value)))
        box = QtWidgets.QHBoxLayout()
        box.setContentsMargins(4, 2, 4, 0)
        box.addWidget(QtWidgets.QLabel("Explain the prediction at step"))
        box.addWidget(self.step_spin)
        box.addStretch(1)
        return box

    def chosen_step(self) -> int | None:
        value = self.step_spin.value()
        return None if value < 0 else int(value)

    def set_step_choice(self, enabled: bool, why: str = "") -> None:
        """Allow choosing the step or not (a classifier predicts once; a stored run is replayed)."""
        self.step_spin.setEnabled(enabled)
        self.step_spin.setToolTip(why or STEP_TIP)

    # ----- data in
    def show_insight(self, insight, *, live: bool = True, stored: bool = False) -> None:
        """Draw one Insight (``live``: the newest one, else a replayed epoch; ``stored``: read from
        a run folder)."""
        self.insight = insight
        sal = np.nan_to_num(np.asarray(insight.saliency, dtype=np.float64), nan=0.0, posinf=0.0)
        steps = np.arange(sal.size)
        peak = float(sal.max()) if sal.size and sal.max() > 0 else 1.0
        brushes = [pg.mkBrush(self._colormap.map(v / peak, mode="qcolor")) for v in sal]
        self._bars.setOpts(x=steps, height=sal / peak, width=1.0, brushes=brushes, pen=None)
        self.strip_plot.setYRange(0, 1.15, padding=0)  # room for the "max" label
        self.input_plot.setXRange(-0.5, max(sal.size, 1) - 0.5, padding=0.01)
        step, horizon = int(insight.step), int(insight.horizon)
        self.step_spin.blockSignals(True)
        self.step_spin.setMaximum(max(sal.size - 1, 0))  # the choice itself is kept (the engine clips it)
        self.step_spin.blockSignals(False)
        self._step_line.setValue(step)
        self._region.setRegion((step - horizon + 0.5, step + 0.5) if horizon else (step, step))
        self._show_inputs(np.asarray(insight.inputs))
        live_text = epoch_note(live, stored)
        retitle(self.strip_plot, f"|d {TARGET_TEXT.get(self.task, 'y')} / dx| at step {step} · "
                                 f"horizon {horizon} steps · epoch {insight.epoch}{live_text}")
        self._epoch_line.setValue(insight.epoch)

    def _show_inputs(self, inputs) -> None:
        if self.task == "next_token" and self.vocabulary:
            for item in self._input_items:
                item.setData([], [])
            ids = inputs.reshape(-1).astype(np.int64)
            chars = [char_label(self.vocabulary[i]) if 0 <= i < len(self.vocabulary) else "?" for i in ids]
            self._show_characters(chars)
            retitle(self.input_plot, "probe text (each character above its saliency)")
            return
        self._show_characters([])
        inputs = inputs.reshape(inputs.shape[0], -1) if inputs.size else np.zeros((0, 1))
        n = min(inputs.shape[1], MAX_INPUT_LINES)
        while len(self._input_items) < n:
            color = pg.intColor(len(self._input_items), hues=8)
            self._input_items.append(self.input_plot.plot(pen=pg.mkPen(color, width=1.2)))
        for k, item in enumerate(self._input_items):
            if k < n:
                item.setData(np.arange(inputs.shape[0]), np.nan_to_num(inputs[:, k]))
            else:
                item.setData([], [])
        shown = np.nan_to_num(inputs[:, :n]) if n else np.zeros(1)
        low, high = float(shown.min()), float(shown.max())  # a short plot: three labels, never piled up
        self._set_ticks(self.input_plot, [(v, f"{v:.2g}") for v in sorted({low, (low + high) / 2, high})])
        margin = 0.15 * (high - low) or 1.0
        self.input_plot.setYRange(low - margin, high + margin, padding=0)  # room for the end labels
        more = f" (first {n} of {inputs.shape[1]} features)" if inputs.shape[1] > n else ""
        retitle(self.input_plot, f"probe input, normalised{more}")

    def _show_characters(self, chars) -> None:
        """Text: one label per step (the last MAX_CHARACTERS), in a row above the strip."""
        chars = chars[-MAX_CHARACTERS:]
        offset = (self.insight.saliency.size - len(chars)) if (self.insight is not None and chars) else 0
        while len(self._char_items) < len(chars):
            item = pg.TextItem("", color=(230, 230, 230), anchor=(0.5, 0.5))
            self.input_plot.addItem(item)
            self._char_items.append(item)
        for k, item in enumerate(self._char_items):
            if k < len(chars):
                item.setText(chars[k])
                item.setPos(offset + k, 0.0)
                item.show()
            else:
                item.hide()
        if chars:
            self.input_plot.setYRange(-1, 1, padding=0)
        self.input_plot.getAxis("left").setStyle(showValues=not chars)
        if chars:
            self._set_ticks(self.input_plot, [])

    def _set_ticks(self, plot, ticks) -> None:
        self._ticks[plot] = list(ticks)
        self._fit_ticks(plot)

    def _fit_ticks(self, plot) -> None:
        """The wanted labels of a short axis that fit its height without piling up (in a 300 px
        dock the three plots are ~40 px each): all, else the two ends, else the top one."""
        ticks = self._ticks.get(plot, [])
        room = int(plot.vb.height() // (1.6 * QtGui.QFontMetrics(plot.getAxis("left").font()).height()))
        if len(ticks) > max(room, 1):
            ticks = ticks[-1:] if room <= 1 else [ticks[0], ticks[-1]]
        plot.getAxis("left").setTicks([ticks, []])

    def left_ticks(self, plot) -> list:
        """The labels drawn on ``plot``'s left axis now (tests)."""
        return list(self._ticks.get(plot) and plot.getAxis("left")._tickLevels[0] or [])

    def set_series(self, epochs, horizons) -> None:
        horizons = np.asarray(horizons, dtype=float)
        self._horizon_curve.setData(np.asarray(epochs, dtype=float), horizons)
        top = float(horizons.max()) if horizons.size else 1.0
        self.horizon_plot.setYRange(0, max(top * 1.15, 1.0), padding=0)
        # a short plot: 0, the middle and the top labelled, whole steps
        marks = sorted({0, int(round(top / 2)), int(round(top))})
        self._set_ticks(self.horizon_plot, [(float(v), str(v)) for v in marks])

    def clear(self) -> None:
        self.insight = None
        self._bars.setOpts(x=[], height=[], brushes=[])
        self._horizon_curve.setData([], [])
        for item in self._input_items:
            item.setData([], [])

    # ----- read back (tests, exports)
    def bar_heights(self) -> np.ndarray:
        """The drawn bars, normalised to the largest (1.0)."""
        height = self._bars.opts.get("height")
        return np.asarray([] if height is None else height, dtype=float)

    def horizon_data(self) -> tuple:
        x, y = self._horizon_curve.getData()
        return (np.asarray([] if x is None else x), np.asarray([] if y is None else y))

    def characters(self) -> list[str]:
        """Text: the step labels drawn above the strip ([] for numeric input)."""
        return [item.toPlainText() for item in self._char_items if item.isVisible()]

    def horizon_region(self) -> tuple:
        return tuple(float(v) for v in self._region.getRegion())

    def export_item(self):
        return self.graphics.ci
