"""Train and validation loss per epoch: markers, smoothing, hover read-out and earlier runs in grey."""

from __future__ import annotations

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg

from gui.plots import hover
from gui.plots.axis import ReadableAxisItem
from gui.plots.legend_fit import LegendFit
from gui.plots.marker_labels import TOP as MARKER_TOP, MarkerLabels
from gui.plots.refused import RefusedMarks
from gui.plots.series import GrowableSeries, trailing_mean
from gui.plots.style import (LEGEND_BRUSH, MARKER_COLOR, OVERLAY_COLOR, TRAIN_COLOR, VAL_COLOR, anchor_inside,
                             configure_long_curve, set_series)


OVERLAY_SCALE_LIMIT = 100.0  # an earlier run whose losses reach this many times the current run's max
# does not set the y range (after a diverged run at 1.6e7, Reset left the new run a flat line)
TICK_RISE = 1.06  # a checkpoint tick rises 6 % above the curve (the same height on a log axis)
COMPARED_HUES = 10  # compared runs get 10 distinct hues (kept while they stay ticked), then they repeat


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
        self.legend = self.plot_item.addLegend(offset=(-10, 10), brush=LEGEND_BRUSH)
        self.legend_fit = LegendFit(self.legend, self.plot_item.vb)  # inside the view box, or hidden
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
        self.labels = MarkerLabels(self.plot_item, self, avoid=self._legend_rects)  # every marker label, together
        self.refused = RefusedMarks(self.plot_item)  # epochs with refused (non-finite) steps
        self._overlays: list[tuple[str, pg.PlotDataItem, pg.PlotDataItem]] = []
        self._overlay_top: dict[int, float] = {}  # id(item) -> its highest loss
        self._overlay_counted: set[int] = set()  # ids of overlay items that set the auto range
        self._compared: list[dict] = []  # other runs, in colour: label, val, train, ticks, lines, markers
        self._repaint_soon = QtCore.QTimer(self)  # a new compared run is drawn on the next turn (_draw_next_turn)
        self._repaint_soon.setSingleShot(True)
        self._repaint_soon.setInterval(0)
        self._repaint_soon.timeout.connect(lambda: self.plot_widget.setUpdatesEnabled(True))

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

    def _legend_rects(self) -> list:
        return [self.legend.sceneBoundingRect()] if self.legend.isVisible() and self.legend.items else []

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

        Changes at the same epoch share one line and one label ('lr ...; clip ...'); the label goes
        where it overlaps no other label on the plot (gui.plots.marker_labels)."""
        epoch, text = float(epoch), str(text)
        for k, (at, old_text, line) in enumerate(self._markers):
            if at == epoch:
                merged = f"{old_text}; {text}"
                line.label.setFormat(merged)
                self._markers[k] = (at, merged, line)
                self.labels.place()
                return
        line = self._marker_line(epoch, text, MARKER_COLOR, QtCore.Qt.DashLine, priority=0)
        self._markers.append((epoch, text, line))
        self.labels.place()

    def mark_refused(self, epoch: float, count: int) -> None:
        """Epoch ``epoch`` had ``count`` refused (non-finite) steps: a cross on the curve with the count."""
        near = self._nearest(self._train, epoch) or self._nearest(self._val, epoch)
        self.refused.add(epoch, near[1] if near else float("nan"), count)

    def _marker_line(self, epoch: float, text: str, color, style, priority: int = 2) -> pg.InfiniteLine:
        """A labelled line (the current run's markers: ``priority`` 0; a compared run's: 2, in its colour)."""
        line = pg.InfiniteLine(
            pos=float(epoch), angle=90, movable=False, pen=pg.mkPen(color, width=1, style=style),
            label=str(text),
            labelOpts={"position": MARKER_TOP, "color": color, "fill": (20, 20, 20, 170), "anchors": [(0, 0), (0, 0)]},
        )
        self.plot_item.addItem(line, ignoreBounds=True)
        self.labels.add(line, priority)
        return line

    def markers(self) -> list[tuple[float, str]]:
        return [(epoch, text) for epoch, text, _ in self._markers]

    def _clear_markers(self) -> None:
        for _, _, line in self._markers:
            self.plot_item.removeItem(line)
            self.labels.remove(line)
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
        ``runs`` is [(label, epochs, train_losses, val_losses[, markers[, checkpoint_epochs]])]
        (validation solid, train dotted; markers = [(epoch, text)] drawn as lines in the run's
        colour, checkpoints as small ticks on its validation curve).
        Runs already drawn keep their items (a followed run only gets its new data, a run ticked
        next to them costs only its own curves): zoom and legend stay."""
        runs = [tuple(run) + ((), ())[:max(0, 6 - len(run))] for run in runs]
        kept = {c["label"]: c for c in self._compared}
        labels = [str(run[0]) for run in runs]
        for label, compared in kept.items():
            if label not in labels:
                self._remove_compared(compared)
        self._compared = []
        used = {c["slot"] for label, c in kept.items() if label in labels}
        for run in runs:
            compared = kept.get(str(run[0]))
            if compared is None:  # a colour of its own that no run drawn now has; the others keep theirs
                slot = next(i for i in range(len(runs) + len(used) + 1) if i not in used)
                used.add(slot)
                compared = self._new_compared(str(run[0]), slot)
                self._draw_next_turn()
            self._fill_compared(compared, run)
            self._compared.append(compared)
        self.labels.schedule()  # the legend may have grown or shrunk

    def _draw_next_turn(self) -> None:
        """Building a compared run's items and drawing them are two frames' work (~9 ms and ~10 ms of
        CPU for 1,000 epochs beside nine others): the plot repaints once the event loop has turned."""
        if self.plot_widget.updatesEnabled():
            self.plot_widget.setUpdatesEnabled(False)
            self._repaint_soon.start()

    def _new_compared(self, label: str, slot: int) -> dict:
        color = pg.intColor(slot, hues=COMPARED_HUES, maxValue=235)
        # 1 px cosmetic pens: Qt's raster engine draws them directly; a wider pen is stroked as
        # polygons (10 runs of 1,000 epochs: ~14 ms of CPU per repaint at 1.5 px, ~6 ms at 1 px)
        val_item = pg.PlotDataItem(pen=pg.mkPen(color, width=1), name=label)
        train_item = pg.PlotDataItem(pen=pg.mkPen(color, width=1, style=QtCore.Qt.DotLine))
        # checkpoints: short upright strokes on the validation curve, one line item drawn as pairs
        # (a ScatterPlotItem per run cost ~7 ms of every repaint of the plot)
        ticks = pg.PlotDataItem(pen=pg.mkPen(color, width=1), connect="pairs")
        for item in (val_item, train_item, ticks):
            configure_long_curve(item)
            item.setZValue(-5)  # above the grey earlier runs, below the current run
            self.plot_item.addItem(item)
        return {"label": label, "slot": slot, "val": val_item, "train": train_item, "ticks": ticks, "color": color,
                "lines": [], "markers": None, "data": None, "checkpoints": None}

    def _fill_compared(self, compared: dict, run) -> None:
        _, epochs, train, val, markers, checkpoints = run
        data = (epochs, train, val)
        if compared["data"] is None or any(a is not b for a, b in zip(compared["data"], data)):
            for key, losses in (("val", val), ("train", train)):  # new arrays: new epochs (readers cache)
                series = GrowableSeries(max(1, len(epochs)))
                series.extend(epochs, losses)
                set_series(compared[key], series.x, series.y)
            compared["data"], compared["checkpoints"] = data, None
        markers = [(float(epoch), str(text)) for epoch, text in markers]
        if markers != compared["markers"]:  # followed runs: redrawn only when an event arrived
            for line in compared["lines"]:
                self.plot_item.removeItem(line)
                self.labels.remove(line)
            compared["lines"] = [self._marker_line(epoch, text, compared["color"], QtCore.Qt.DashDotLine)
                                 for epoch, text in markers]
            compared["markers"] = markers
        checkpoints = [float(e) for e in checkpoints]
        if checkpoints == compared["checkpoints"]:
            return
        compared["checkpoints"] = checkpoints
        x, y = compared["val"].getData()
        at = np.asarray(checkpoints, dtype=float)
        if x is not None and len(x) and at.size:
            at = at[(at >= x[0]) & (at <= x[-1])]
            y_at = np.interp(at, x, y)
            compared["ticks"].setData(np.repeat(at, 2), np.column_stack([y_at, y_at * TICK_RISE]).ravel())
        else:
            compared["ticks"].setData([], [])

    def _remove_compared(self, compared: dict) -> None:
        for item in (compared["val"], compared["train"], compared["ticks"], *compared["lines"]):
            self.plot_item.removeItem(item)
        for line in compared["lines"]:
            self.labels.remove(line)

    def compared(self) -> list[str]:
        """Labels of the compared runs, in legend order."""
        return [c["label"] for c in self._compared]

    def compared_data(self, index: int) -> dict:
        c = self._compared[index]
        return {"train": c["train"].getData(), "val": c["val"].getData()}

    def compared_markers(self, index: int) -> list[tuple[float, str]]:
        """The marker lines drawn on one compared run: [(epoch, text)]."""
        return list(self._compared[index]["markers"] or [])

    def compared_checkpoints(self, index: int) -> list[float]:
        x, _ = self._compared[index]["ticks"].getData()
        return [float(v) for v in (x[::2] if x is not None else [])]

    def compared_at(self, epoch: float, loss: float) -> str:
        """The compared run whose validation curve passes closest to (epoch, loss) ('' if none)."""
        best, best_gap = "", float("inf")
        for compared in self._compared:
            label = compared["label"]
            x, y = compared["val"].getData()
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

