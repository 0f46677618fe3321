"""Train and validation loss per epoch: markers, smoothing, hover read-out and earlier runs in grey."""

from __future__ import annotations

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg

from gui.plots import hover
from gui.plots.axis import ReadableAxisItem
from gui.plots.refused import RefusedMarks
from gui.plots.series import GrowableSeries, trailing_mean
from gui.plots.style import (MARKER_COLOR, OVERLAY_COLOR, TRAIN_COLOR, VAL_COLOR, anchor_inside,
                             configure_long_curve, set_series)


MARKER_TOP = 0.92  # label position of a lone marker (fraction of the view height from the bottom)
MARKER_ROW_STEP = 0.09
MARKER_ROWS = 6
MARKER_NEAR_SHARE = 0.12  # markers closer than this share of the epochs so far stagger their labels
OVERLAY_SCALE_LIMIT = 100.0  # an earlier run whose losses reach this many times the current run's max
# does not set the y range (after a diverged run at 1.6e7, Reset left the new run a flat line)


class LossPlot(QtWidgets.QWidget):
    """Train and validation loss per epoch, with markers, smoothing and earlier runs."""

    MAX_OVERLAY_RUNS = 8  # older runs are dropped so a long session stays bounded

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget(axisItems={"left": ReadableAxisItem("left")})
        self.plot_item: pg.PlotItem = self.plot_widget.getPlotItem()
        self.plot_item.setLabel("bottom", "epoch")
        self.plot_item.setLabel("left", "loss")
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot_item.addLegend(offset=(-10, 10))
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)

        self._train = GrowableSeries()
        self._val = GrowableSeries()
        self.train_curve = self.plot_item.plot(pen=pg.mkPen(TRAIN_COLOR, width=1.5), name="train")
        self.val_curve = self.plot_item.plot(pen=pg.mkPen(VAL_COLOR, width=1.5), name="validation")
        self.train_smooth_curve = pg.PlotDataItem(pen=pg.mkPen(TRAIN_COLOR, width=2.5))
        self.val_smooth_curve = pg.PlotDataItem(pen=pg.mkPen(VAL_COLOR, width=2.5))
        for item in (self.train_smooth_curve, self.val_smooth_curve):
            self.plot_item.addItem(item)
            item.hide()
        for item in (self.train_curve, self.val_curve, self.train_smooth_curve, self.val_smooth_curve):
            configure_long_curve(item)
        self._smoothing = 0
        self._log_y = False

        self._markers: list[tuple[float, str, pg.InfiniteLine]] = []
        self.refused = RefusedMarks(self.plot_item)  # epochs with refused (non-finite) steps
        self._overlays: list[tuple[str, pg.PlotDataItem, pg.PlotDataItem]] = []
        self._overlay_top: dict[int, float] = {}  # id(item) -> its highest loss
        self._overlay_counted: set[int] = set()  # ids of overlay items that set the auto range
        self._compared: list[tuple[str, pg.PlotDataItem, pg.PlotDataItem]] = []  # other runs, in colour

        # Hover readout: a text that follows the mouse plus dots on the nearest points.
        self.hover_text = pg.TextItem(anchor=(0, 1), color=(230, 230, 230), fill=(20, 20, 20, 200))
        self.hover_text.setZValue(100)
        self.hover_text.hide()
        self.plot_item.addItem(self.hover_text, ignoreBounds=True)
        self.hover_dots = pg.PlotDataItem(pen=None, symbol="o", symbolSize=7,
                                          symbolBrush=(255, 255, 255, 180), symbolPen=None)
        self.hover_dots.setZValue(99)
        self.plot_item.addItem(self.hover_dots, ignoreBounds=True)
        hover.mark(self.hover_text)
        hover.mark(self.hover_dots)
        hover.hide_on_leave(self.plot_widget)
        self._mouse_proxy = pg.SignalProxy(self.plot_widget.scene().sigMouseMoved,
                                           rateLimit=60, slot=self._on_mouse_moved)

    # ----- data in
    def extend(self, epochs, train_losses, val_losses) -> None:
        """Append epochs (one or many; a non-finite loss is skipped, not drawn, not stored): one
        setData per curve. The window calls this once per frame with everything that arrived."""
        self._train.extend(epochs, train_losses)
        self._val.extend(epochs, val_losses)
        self._redraw()

    def _redraw(self) -> None:
        set_series(self.train_curve, self._train.x, self._train.y)
        set_series(self.val_curve, self._val.x, self._val.y)
        self._update_smoothed()
        self._fit_overlays()

    def _top_loss(self) -> float:
        tops = [float(np.max(series.y)) for series in (self._train, self._val) if len(series)]
        return max(tops) if tops else 0.0

    def _fit_overlays(self) -> None:
        """Earlier runs far above the current one (OVERLAY_SCALE_LIMIT) stop setting the y range:
        they stay drawn (and in view once the user zooms out), the current run fills the plot."""
        current = self._top_loss()
        for _, *items in self._overlays:
            for item in items:
                counted = not (current > 0 and self._overlay_top[id(item)] > OVERLAY_SCALE_LIMIT * current)
                if counted != (id(item) in self._overlay_counted):
                    self.plot_item.removeItem(item)
                    self.plot_item.addItem(item, ignoreBounds=not counted)
                    (self._overlay_counted.add if counted else self._overlay_counted.discard)(id(item))

    def overlay_sets_range(self, index: int) -> bool:
        """Whether the earlier run ``index`` counts for the auto range (see _fit_overlays)."""
        return id(self._overlays[index][1]) in self._overlay_counted

    def _update_smoothed(self) -> None:
        window = self._smoothing
        if window <= 1:
            self.train_smooth_curve.hide()
            self.val_smooth_curve.hide()
            return
        for series, item in ((self._train, self.train_smooth_curve), (self._val, self.val_smooth_curve)):
            set_series(item, series.x, trailing_mean(series.y, window))
            item.show()

    # ----- options
    def set_log_y(self, enabled: bool) -> None:
        self._log_y = bool(enabled)
        self.plot_item.setLogMode(x=False, y=self._log_y)
        self.refused.set_log_y(self._log_y)

    def log_y(self) -> bool:
        return self._log_y

    def set_smoothing(self, window: int) -> None:
        """Draw a trailing moving average over ``window`` epochs on top of the raw curves; 0 or 1 = off."""
        window = int(window)
        if window < 0:
            raise ValueError(f"smoothing window must be >= 0 (0 or 1 = off), got {window}")
        self._smoothing = window
        fade = 90 if window > 1 else 255
        self.train_curve.setPen(pg.mkPen(QtGui.QColor(TRAIN_COLOR).getRgb()[:3] + (fade,), width=1.5))
        self.val_curve.setPen(pg.mkPen(QtGui.QColor(VAL_COLOR).getRgb()[:3] + (fade,), width=1.5))
        self._update_smoothed()

    def smoothing(self) -> int:
        return self._smoothing

    def smoothed_data(self) -> dict:
        """The smoothed curves as drawn (empty arrays when smoothing is off)."""
        if self._smoothing <= 1:
            empty = (np.empty(0), np.empty(0))
            return {"train": empty, "val": empty}
        return {
            "train": (self._train.x.copy(), trailing_mean(self._train.y, self._smoothing)),
            "val": (self._val.x.copy(), trailing_mean(self._val.y, self._smoothing)),
        }

    # ----- markers
    def add_marker(self, epoch: float, text: str) -> None:
        """A labelled vertical line where a hyperparameter changed (e.g. 'lr 1e-3 -> 3e-4').

        Changes at the same epoch share one line and one label ('lr ...; clip ...'); a marker
        close to earlier ones puts its label lower down (MARKER_ROWS rows), so labels never pile
        on top of each other."""
        epoch, text = float(epoch), str(text)
        for k, (at, old_text, line) in enumerate(self._markers):
            if at == epoch:
                merged = f"{old_text}; {text}"
                line.label.setFormat(merged)
                self._markers[k] = (at, merged, line)
                return
        line = pg.InfiniteLine(
            pos=epoch, angle=90, movable=False,
            pen=pg.mkPen(MARKER_COLOR, width=1, style=QtCore.Qt.DashLine),
            label=text,
            labelOpts={"position": self._free_label_row(epoch), "color": MARKER_COLOR, "fill": (20, 20, 20, 170),
                       "anchors": [(0, 0), (0, 0)]},
        )
        self.plot_item.addItem(line, ignoreBounds=True)
        self._markers.append((epoch, text, line))

    def _free_label_row(self, epoch: float) -> float:
        """The label height (a fraction of the view, from the top) of a new marker at ``epoch``:
        the first row no nearby marker's label uses."""
        span = max(self._train.x[-1] if len(self._train) else 0.0, epoch, 1.0)
        near = MARKER_NEAR_SHARE * span
        taken = {round(line.label.orthoPos, 3) for at, _, line in self._markers if abs(at - epoch) <= near}
        for row in range(MARKER_ROWS):
            position = round(MARKER_TOP - row * MARKER_ROW_STEP, 3)
            if position not in taken:
                return position
        return round(MARKER_TOP - (len(taken) % MARKER_ROWS) * MARKER_ROW_STEP, 3)

    def mark_refused(self, epoch: float, count: int) -> None:
        """Epoch ``epoch`` had ``count`` refused (non-finite) steps: a cross on the curve with the count."""
        near = self._nearest(self._train, epoch) or self._nearest(self._val, epoch)
        self.refused.add(epoch, near[1] if near else float("nan"), count)

    def markers(self) -> list[tuple[float, str]]:
        return [(epoch, text) for epoch, text, _ in self._markers]

    def _clear_markers(self) -> None:
        for _, _, line in self._markers:
            self.plot_item.removeItem(line)
        self._markers.clear()
        self.refused.clear()

    # ----- runs
    def new_run(self, label: str) -> None:
        """Grey out the current curves as an earlier run (legend: ``label``) and start afresh."""
        if len(self._train) or len(self._val):
            pen_train = pg.mkPen(OVERLAY_COLOR, width=1)
            pen_val = pg.mkPen(OVERLAY_COLOR, width=1, style=QtCore.Qt.DashLine)
            old_train = pg.PlotDataItem(pen=pen_train, name=str(label))
            old_val = pg.PlotDataItem(pen=pen_val)
            for item, series in ((old_train, self._train), (old_val, self._val)):
                configure_long_curve(item)
                item.setZValue(-10)
                self.plot_item.addItem(item)
                x, y = series.copy_data()
                set_series(item, x, y)
            self._overlays.append((str(label), old_train, old_val))
            self._overlay_top[id(old_train)] = self._overlay_top[id(old_val)] = self._top_loss()
            self._overlay_counted.update((id(old_train), id(old_val)))
            while len(self._overlays) > self.MAX_OVERLAY_RUNS:
                _, a, b = self._overlays.pop(0)
                self.plot_item.removeItem(a)
                self.plot_item.removeItem(b)
        self._clear_markers()
        self._train.clear()
        self._val.clear()
        self._redraw()

    def overlays(self) -> list[str]:
        """Labels of the earlier runs drawn in grey, oldest first."""
        return [label for label, _, _ in self._overlays]

    def overlay_data(self, index: int) -> dict:
        _, train_item, val_item = self._overlays[index]
        return {"train": train_item.getData(), "val": val_item.getData()}

    def reset(self) -> None:
        """Forget everything: current curves, markers and earlier runs."""
        for _, a, b in self._overlays:
            self.plot_item.removeItem(a)
            self.plot_item.removeItem(b)
        self._overlays.clear()
        self._overlay_top.clear()
        self._overlay_counted.clear()
        self._clear_markers()
        self._train.clear()
        self._val.clear()
        self.hover_text.hide()
        self.hover_dots.setData([], [])
        self._redraw()

    # ----- other runs, compared
    def set_compared(self, runs) -> None:
        """Draw other runs' losses in distinct colours with a legend, under the current run:
        ``runs`` is [(label, epochs, train_losses, val_losses)] (validation solid, train dotted).
        The same runs again (a followed run grew) only get new data: zoom and legend stay."""
        if [str(label) for label, *_ in runs] == self.compared():
            for (_, val_item, train_item), (_, epochs, train, val) in zip(self._compared, runs):
                for item, losses in ((val_item, val), (train_item, train)):
                    series = GrowableSeries(max(1, len(epochs)))
                    series.extend(epochs, losses)
                    set_series(item, series.x, series.y)
            return
        for _, val_item, train_item in self._compared:
            self.plot_item.removeItem(val_item)
            self.plot_item.removeItem(train_item)
        self._compared = []
        for index, (label, epochs, train, val) in enumerate(runs):
            color = pg.intColor(index, hues=max(6, len(runs)), maxValue=235)
            val_item = pg.PlotDataItem(pen=pg.mkPen(color, width=1.5), name=str(label))
            train_item = pg.PlotDataItem(pen=pg.mkPen(color, width=1, style=QtCore.Qt.DotLine))
            for item, losses in ((val_item, val), (train_item, train)):
                series = GrowableSeries(max(1, len(epochs)))
                series.extend(epochs, losses)
                configure_long_curve(item)
                item.setZValue(-5)  # above the grey earlier runs, below the current run
                self.plot_item.addItem(item)
                set_series(item, series.x, series.y)
            self._compared.append((str(label), val_item, train_item))

    def compared(self) -> list[str]:
        """Labels of the compared runs, in legend order."""
        return [label for label, _, _ in self._compared]

    def compared_data(self, index: int) -> dict:
        _, val_item, train_item = self._compared[index]
        return {"train": train_item.getData(), "val": val_item.getData()}

    def compared_at(self, epoch: float, loss: float) -> str:
        """The compared run whose validation curve passes closest to (epoch, loss) ('' if none)."""
        best, best_gap = "", float("inf")
        for label, val_item, _ in self._compared:
            x, y = val_item.getData()
            if x is None or not len(x):
                continue
            i = int(np.clip(np.searchsorted(x, epoch), 0, len(x) - 1))
            gap = abs(float(y[i]) - loss)
            if gap < best_gap:
                best, best_gap = label, gap
        return best

    # ----- read back
    def curve_data(self) -> dict:
        """{'train': (x, y), 'val': (x, y)}: copies of the points of the current run."""
        return {"train": self._train.copy_data(), "val": self._val.copy_data()}

    def point_count(self) -> int:
        return max(len(self._train), len(self._val))

    def export_item(self) -> pg.PlotItem:
        return self.plot_item

    # ----- hover
    @staticmethod
    def _nearest(series: GrowableSeries, epoch: float) -> tuple[float, float] | None:
        if not len(series):
            return None
        x = series.x
        i = int(np.searchsorted(x, epoch))
        candidates = [j for j in (i - 1, i) if 0 <= j < x.size]
        j = min(candidates, key=lambda k: abs(x[k] - epoch))
        return float(x[j]), float(series.y[j])

    def readout_at(self, epoch: float) -> str:
        """Text of the hover readout for the point nearest to ``epoch`` ('' when empty)."""
        lines = []
        train = self._nearest(self._train, epoch)
        val = self._nearest(self._val, epoch)
        ref = train or val
        if ref is None:
            return ""
        lines.append(f"epoch {ref[0]:g}")
        if train is not None:
            lines.append(f"train {train[1]:.5g}")
        if val is not None:
            lines.append(f"val {val[1]:.5g}" + ("" if val[0] == ref[0] else f" (epoch {val[0]:g})"))
        return "\n".join(lines)

    def _on_mouse_moved(self, event) -> None:
        pos = event[0]
        vb = self.plot_item.vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hover_text.hide()
            self.hover_dots.setData([], [])
            return
        view = vb.mapSceneToView(pos)
        text = self.readout_at(view.x())
        if self._compared:  # name the compared run whose curve passes nearest the cursor
            loss = 10.0 ** view.y() if self._log_y else view.y()
            text = (text + "\n" if text else "") + f"run: {self.compared_at(view.x(), loss)}"
        if not text:
            self.hover_text.hide()
            return
        self.hover_text.setText(text)
        anchor_inside(self.hover_text, vb, view)
        self.hover_text.setPos(view.x(), view.y())
        self.hover_text.show()
        dots = [p for p in (self._nearest(self._train, view.x()), self._nearest(self._val, view.x())) if p]
        self.hover_dots.setData([p[0] for p in dots], [p[1] for p in dots])
        self.hover_dots.show()

