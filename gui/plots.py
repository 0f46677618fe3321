"""Live plot widgets: loss curves, hidden-state heatmaps, diagnostics, predictions.

Every widget keeps persistent pyqtgraph items and updates them with ``setData`` /
``setImage`` (never ``clear()`` + ``plot()``, pyqtgraph #2348), filters non-finite values
before they reach pyqtgraph (pyqtgraph #2486) and keeps its own data in numpy buffers so
tests can read back exactly what is drawn.

Heatmaps use row-major images: an array of shape (T, H) is drawn with time down the
vertical axis and one column per hidden unit.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

# PyQt5 first, so pyqtgraph binds to it and not to another Qt binding that happens to be installed.
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters.*)

from engine.names import GATE_NAMES

# Once, for the whole app: (T, H) arrays display as rows = time; no antialiasing so
# million-point curves stay cheap to draw.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

__all__ = [
    "LossPlot",
    "HiddenStatePanel",
    "DiagnosticsPlot",
    "PredictionPanel",
    "export_plot",
    "GrowableSeries",
]

TRAIN_COLOR = "#4c9be8"
VAL_COLOR = "#f28e2b"
OVERLAY_COLOR = (150, 150, 150, 140)
MARKER_COLOR = (230, 200, 60)
ACTUAL_COLOR = (225, 225, 225)  # forecast view: the data, neutral
FORECAST_COLORS = ("#f28e2b", "#59d0a0", "#e15ce0", "#4c9be8", "#f2d22b")  # one per target
ACTUAL_STYLES = (QtCore.Qt.SolidLine, QtCore.Qt.DashLine, QtCore.Qt.DotLine, QtCore.Qt.DashDotLine)
TASK_CLASSIFY = "classify_sequence"
TASK_TEXT = "next_token"
TASK_FORECAST = "forecast"

GATE_TITLES = {
    "h": "hidden state h",
    "z": "z (update gate)",
    "r": "r (reset gate)",
    "i": "i (input gate)",
    "f": "f (forget gate)",
    "o": "o (output gate)",
    "c": "c (cell state)",
}
TITLE_HEIGHT = 20  # px: compact plot titles (pyqtgraph reserves 30)
TRACE_HINT = "click a unit (column) in a heatmap to trace its activation over time"
HIDDEN_LEVELS = (-1.0, 1.0)  # tanh range
GATE_LEVELS = (0.0, 1.0)  # sigmoid range


class GrowableSeries:
    """(x, y) points in numpy buffers that double when full (amortised O(1) append).

    Non-finite points are dropped on the way in, so what is stored is exactly what can be
    drawn; ``dropped`` counts them.
    """

    def __init__(self, capacity: int = 256):
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0
        self.dropped = 0

    def __len__(self) -> int:
        return self._n

    def _reserve(self, needed: int) -> None:
        if needed <= self._x.size:
            return
        capacity = max(needed, 2 * self._x.size)
        x = np.empty(capacity, dtype=np.float64)
        y = np.empty(capacity, dtype=np.float64)
        x[: self._n] = self._x[: self._n]
        y[: self._n] = self._y[: self._n]
        self._x, self._y = x, y

    def append(self, x: float, y: float) -> bool:
        """Store one point; returns False (and counts it) when it is not finite."""
        if y is None or not (math.isfinite(x) and math.isfinite(y)):
            self.dropped += 1
            return False
        self._reserve(self._n + 1)
        self._x[self._n] = x
        self._y[self._n] = y
        self._n += 1
        return True

    def extend(self, xs, ys) -> int:
        """Store many points at once; returns how many were finite and kept."""
        xs = _as_float_array(xs)
        ys = _as_float_array(ys)
        if xs.shape != ys.shape:
            raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
        keep = np.isfinite(xs) & np.isfinite(ys)
        n_keep = int(keep.sum())
        self.dropped += xs.size - n_keep
        self._reserve(self._n + n_keep)
        self._x[self._n : self._n + n_keep] = xs[keep]
        self._y[self._n : self._n + n_keep] = ys[keep]
        self._n += n_keep
        return n_keep

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    def copy_data(self) -> tuple[np.ndarray, np.ndarray]:
        return self.x.copy(), self.y.copy()

    def clear(self) -> None:
        self._n = 0
        self.dropped = 0


def _as_float_array(values) -> np.ndarray:
    """1-D float64 array; None entries (e.g. a missing validation loss) become NaN."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=False).ravel()
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64).ravel()


def _finite_or_none(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _trailing_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Moving average over the last ``window`` points (shorter at the start)."""
    if y.size == 0:
        return y.copy()
    csum = np.cumsum(y, dtype=np.float64)
    out = csum.copy()
    out[window:] = csum[window:] - csum[:-window]
    counts = np.minimum(np.arange(1, y.size + 1), window)
    return out / counts


def _set_compact_title(plot: pg.PlotItem, text: str, size: str = "9pt", height: int = None) -> None:
    """A smaller plot title in a shorter title row (pyqtgraph's default reserves 30 px)."""
    height = TITLE_HEIGHT if height is None else height
    plot.setTitle(text, size=size)
    plot.titleLabel.setMaximumHeight(height)
    plot.layout.setRowFixedHeight(0, height)


def _retitle(plot: pg.PlotItem, text: str, size: str = "9pt") -> None:
    """New text for a title already made compact: ``setTitle`` would reset the row to 30 px and
    back, two layout passes for every frame that only changes the text."""
    plot.titleLabel.setText(text, size=size)


def _configure_long_curve(item: pg.PlotDataItem) -> None:
    # scrollingPlots.py: long curves are cheap only with peak downsampling and view clipping.
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)


def _set_series(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    # Data is pre-filtered (GrowableSeries drops non-finite points), so skip pyqtgraph's scan.
    item.setData(x, y, skipFiniteCheck=True)


# ----- axes

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _format_tick(value: float, digits: int) -> str:
    """Compact label for a positive tick value: 0.08, 2, 300, 2·10⁻⁵, 10⁶."""
    if value == 0:
        return "0"
    exponent = int(math.floor(math.log10(abs(value)) + 1e-9))
    if -3 <= exponent <= 4:
        text = f"{value:.{digits}g}"
        return text if "e" not in text else f"{value:.{max(0, digits - exponent - 1)}f}"
    mantissa = value / 10.0 ** exponent
    m_text = f"{mantissa:.{digits}g}"
    if m_text == "10":  # rounding pushed it to the next decade
        m_text, exponent = "1", exponent + 1
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if m_text == "1" else f"{m_text}·{power}"


def _tick_labels(values: list[float]) -> list[str]:
    """The shortest labels (fewest significant digits) that tell all ``values`` apart."""
    for digits in range(1, 5):
        labels = [_format_tick(v, digits) for v in values]
        if len(set(labels)) == len(labels) and all(
                abs(float(_plain(label)) - v) <= 1e-6 * abs(v) for label, v in zip(labels, values)):
            return labels
    return [_format_tick(v, 4) for v in values]


def _plain(label: str) -> str:
    """Back from a display label to something float() reads (for self-checks and tests)."""
    if "10" in label and any(ch in label for ch in "⁰¹²³⁴⁵⁶⁷⁸⁹"):
        mantissa, _, power = label.rpartition("10")
        mantissa = mantissa.rstrip("·") or "1"
        exponent = power.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))
        return f"{mantissa}e{exponent}"
    return label


class ReadableAxisItem(pg.AxisItem):
    """An axis whose log-mode tick labels never pile up.

    pyqtgraph labels the 2..9 minor ticks of a log axis as one block, so a range under a
    decade shows "0.3 0.2 0.1 0.09 0.08" on top of each other. Here the labelled ticks are
    the densest set that keeps a text height of free space between neighbours: decades
    (thinned when many), then 1-2-5, then 1..9 per decade, and for very narrow ranges linear
    1-2-5 steps. All 1..9 positions still get an unlabelled tick when there is room.
    Linear mode is pyqtgraph's own, without SI-prefix rescaling of the label.
    """

    MIN_GAP_LINES = 1.5  # free space between labels, in text heights (vertical axes)
    MIN_GAP_PX_HORIZONTAL = 48  # horizontal axes: about the width of "2·10⁻⁵"

    def __init__(self, orientation, **kwargs):
        self._width_group: list[ReadableAxisItem] = [self]  # AxisItem.__init__ already sizes itself
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def share_width(self, *others: "ReadableAxisItem") -> None:
        """Give these vertical axes one width (the widest one's), so x-linked plots line up."""
        group = [self, *others]
        for axis in group:
            axis._width_group = group
        self._updateWidth()

    def _natural_width(self) -> float:
        # AxisItem._updateWidth's own rule, without applying it
        if not self.isVisible():
            return 0.0
        width = self.textWidth if self.style["showValues"] else 0.0
        width += self.style["tickTextOffset"][0] if self.style["showValues"] else 0
        width += max(0, self.style["tickLength"])
        if self.label.isVisible():
            width += self.label.boundingRect().height() * 0.8
        return width

    def _updateWidth(self):
        if len(self._width_group) < 2 or self.fixedWidth is not None:
            return super()._updateWidth()
        width = max(axis._natural_width() for axis in self._width_group)
        for axis in self._width_group:
            if axis.minimumWidth() != width or axis.maximumWidth() != width:
                axis.setMaximumWidth(width)
                axis.setMinimumWidth(width)
                axis.picture = None
                axis.update()

    def _min_gap_px(self) -> float:
        if self.orientation in ("left", "right"):
            font = self.style.get("tickFont") or QtWidgets.QApplication.font()
            return self.MIN_GAP_LINES * QtGui.QFontMetricsF(font).height()
        return float(self.MIN_GAP_PX_HORIZONTAL)

    def tickSpacing(self, minVal, maxVal, size):
        # Linear mode: pyqtgraph aims at ~log(size) labels whatever the text height, which crams
        # "1.0 0.8 0.6 ... 0" into an 80 px tall plot; here labels keep the same gap as in log mode.
        if self._tickSpacing is not None or self.logMode:
            return super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if span == 0 or size <= 0 or not math.isfinite(span):
            return []
        units_per_gap = self._min_gap_px() * span / size
        major = _nice_step_at_least(units_per_gap)
        minor = major / (5 if str(f"{major:.0e}")[0] in "15" else 4)  # 1 -> 0.2, 2 -> 0.5, 5 -> 1
        levels = [(major, 0.0)]
        if minor * size / span >= 4:
            levels.append((minor, 0.0))
        return levels

    def tickValues(self, minVal, maxVal, size):
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        return log_tick_levels(minVal, maxVal, size, self._min_gap_px())

    def tickStrings(self, values, scale, spacing):
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        if spacing is None:  # the unlabelled level
            return [""] * len(values)
        return _tick_labels([10.0 ** v for v in values])

    def labelled_ticks(self) -> list[tuple[QtCore.QRectF, str]]:
        """(rect, text) of every tick label as the axis draws it now (for tests)."""
        image = QtGui.QImage(max(1, int(self.width())), max(1, int(self.height())), QtGui.QImage.Format_ARGB32)
        painter = QtGui.QPainter(image)
        try:
            if self.style.get("tickFont") is not None:
                painter.setFont(self.style["tickFont"])
            specs = self.generateDrawSpecs(painter)
        finally:
            painter.end()
        if specs is None:
            return []
        return [(rect, text) for rect, _flags, text in specs[2] if text]


def _nice_step_at_least(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is >= value."""
    base = 10.0 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if factor * base >= value * (1 - 1e-9):
            return factor * base
    return 10 * base


def _spaced(positions: np.ndarray, min_gap: float) -> np.ndarray:
    """Greedy: keep positions in the given order of importance while they stay min_gap apart; sorted."""
    chosen: list[float] = []
    for position in positions:
        if all(abs(position - c) >= min_gap for c in chosen):
            chosen.append(float(position))
    return np.sort(np.asarray(chosen, dtype=np.float64))


def _min_gap(positions: np.ndarray) -> float:
    return float(np.min(np.diff(positions))) if positions.size > 1 else math.inf


def log_tick_levels(lo: float, hi: float, size_px: float, min_gap_px: float) -> list:
    """Tick levels for a log axis spanning 10**lo .. 10**hi drawn over ``size_px`` pixels.

    Returns pyqtgraph's [(spacing, positions), ...] in log10 units: the first level is labelled,
    the second (spacing None) only draws ticks.
    """
    lo, hi = sorted((float(lo), float(hi)))
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo <= 0 or size_px <= 0:
        return []
    px_per_decade = size_px / (hi - lo)
    first, last = int(math.floor(lo)), int(math.ceil(hi))

    min_gap_log = min_gap_px / px_per_decade  # the smallest label gap, in decades
    # pyqtgraph skips a label whose text would stick out past the end of the axis
    edge = 0.35 * min_gap_log

    def inside(positions, margin=0.0):
        positions = np.asarray(positions, dtype=np.float64)
        return positions[(positions >= lo + margin - 1e-9) & (positions <= hi - margin + 1e-9)]

    def by_mantissa(mantissas, margin=0.0):
        return inside([d + math.log10(m) for d in range(first, last + 1) for m in mantissas], margin)

    decades = inside(range(first, last + 1))
    if decades.size > 1 and min_gap_log > 1:  # many decades on a short axis: every k-th decade
        k = 2
        while k < min_gap_log and k < 1000:
            k = {2: 3, 3: 5}.get(k, k * 2)
        labelled = inside([d for d in range(first, last + 1) if d % k == 0], edge)
    else:
        # greedy in order of importance: decades, then 2 and 5, then 3, then the rest
        labelled = _spaced(np.concatenate([by_mantissa(m, edge) for m in ((1,), (2, 5), (3,), (4, 6, 7, 8, 9))]),
                           min_gap_log)
    if labelled.size < 3:
        # narrow range (under about a factor 3): nice linear steps read better, if they give more labels
        v_lo, v_hi = 10.0 ** lo, 10.0 ** hi
        base = 10.0 ** math.floor(math.log10(v_hi - v_lo))
        uniform = thinned = None
        for step in (base / 10, base / 5, base / 2, base, base * 2, base * 5, base * 10):
            values = np.arange(math.ceil(v_lo / step - 1e-9), math.floor(v_hi / step + 1e-9) + 1) * step
            positions = inside(np.log10(values[values > 0]), edge) if np.any(values > 0) else np.empty(0)
            if positions.size == 0:
                continue
            if _min_gap(positions) >= min_gap_log:
                uniform = positions
                break
            thinned = _spaced(positions, min_gap_log)  # the step just too fine for every label
        for candidate in (uniform, thinned):
            if candidate is not None and candidate.size >= 2 and candidate.size > labelled.size:
                labelled = candidate
                break
        if labelled.size == 0:
            labelled = inside([(lo + hi) / 2])
    minor = by_mantissa(range(1, 10))
    if _min_gap(minor) * px_per_decade < 3:
        minor = inside(range(first, last + 1))
    minor = minor[~np.isclose(minor[:, None], labelled[None, :], atol=1e-9).any(axis=1)] if minor.size else minor
    return [(1.0, labelled.tolist()), (None, minor.tolist())]


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
            _configure_long_curve(item)
        self._smoothing = 0
        self._log_y = False

        self._markers: list[tuple[float, str, pg.InfiniteLine]] = []
        self._overlays: list[tuple[str, pg.PlotDataItem, pg.PlotDataItem]] = []

        # Hover readout: a text that follows the mouse plus dots on the nearest points.
        self.hover_text = pg.TextItem(anchor=(0, 1), color=(230, 230, 230), fill=(20, 20, 20, 200))
        self.hover_text.setZValue(100)
        self.hover_text.hide()
        self.plot_item.addItem(self.hover_text, ignoreBounds=True)
        self.hover_dots = pg.PlotDataItem(pen=None, symbol="o", symbolSize=7,
                                          symbolBrush=(255, 255, 255, 180), symbolPen=None)
        self.hover_dots.setZValue(99)
        self.plot_item.addItem(self.hover_dots, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(self.plot_widget.scene().sigMouseMoved,
                                           rateLimit=60, slot=self._on_mouse_moved)

        # Coalesce bursts of add_point calls into one setData per event-loop pass; a child
        # timer dies with the widget, so a pending redraw never reaches a deleted plot.
        self._redraw_pending = False
        self._redraw_timer = QtCore.QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(self.flush)

    # ----- data in
    def add_point(self, epoch: float, train_loss, val_loss) -> None:
        """Append one epoch; a non-finite loss is skipped (not drawn, not stored)."""
        epoch = float(epoch)
        train = _finite_or_none(train_loss)
        val = _finite_or_none(val_loss)
        if train is not None:
            self._train.append(epoch, train)
        else:
            self._train.dropped += 1
        if val is not None:
            self._val.append(epoch, val)
        else:
            self._val.dropped += 1
        self._schedule_redraw()

    def extend(self, epochs, train_losses, val_losses) -> None:
        """Append many epochs at once (loading a history, benchmarks): one setData."""
        self._train.extend(epochs, train_losses)
        self._val.extend(epochs, val_losses)
        self.flush()

    def _schedule_redraw(self) -> None:
        if not self._redraw_pending:
            self._redraw_pending = True
            self._redraw_timer.start()

    def flush(self) -> None:
        """Push the buffered points to the curves now (normally done on the next event loop pass)."""
        self._redraw_pending = False
        self._redraw_timer.stop()
        _set_series(self.train_curve, self._train.x, self._train.y)
        _set_series(self.val_curve, self._val.x, self._val.y)
        self._update_smoothed()

    def _update_smoothed(self) -> None:
        window = self._smoothing
        if window <= 1:
            self.train_smooth_curve.hide()
            self.val_smooth_curve.hide()
            return
        for series, item in ((self._train, self.train_smooth_curve), (self._val, self.val_smooth_curve)):
            _set_series(item, series.x, _trailing_mean(series.y, window))
            item.show()

    # ----- options
    def set_log_y(self, enabled: bool) -> None:
        self._log_y = bool(enabled)
        self.plot_item.setLogMode(x=False, y=self._log_y)

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
            "train": (self._train.x.copy(), _trailing_mean(self._train.y, self._smoothing)),
            "val": (self._val.x.copy(), _trailing_mean(self._val.y, self._smoothing)),
        }

    # ----- markers
    def add_marker(self, epoch: float, text: str) -> None:
        """A labelled vertical line where a hyperparameter changed (e.g. 'lr 1e-3 -> 3e-4')."""
        line = pg.InfiniteLine(
            pos=float(epoch), angle=90, movable=False,
            pen=pg.mkPen(MARKER_COLOR, width=1, style=QtCore.Qt.DashLine),
            label=str(text),
            labelOpts={"position": 0.92, "color": MARKER_COLOR, "fill": (20, 20, 20, 170),
                       "anchors": [(0, 0), (0, 0)]},
        )
        self.plot_item.addItem(line, ignoreBounds=True)
        self._markers.append((float(epoch), str(text), line))

    def markers(self) -> list[tuple[float, str]]:
        return [(epoch, text) for epoch, text, _ in self._markers]

    def _clear_markers(self) -> None:
        for _, _, line in self._markers:
            self.plot_item.removeItem(line)
        self._markers.clear()

    # ----- runs
    def new_run(self, label: str) -> None:
        """Grey out the current curves as an earlier run (legend: ``label``) and start afresh."""
        self.flush()
        if len(self._train) or len(self._val):
            pen_train = pg.mkPen(OVERLAY_COLOR, width=1)
            pen_val = pg.mkPen(OVERLAY_COLOR, width=1, style=QtCore.Qt.DashLine)
            old_train = pg.PlotDataItem(pen=pen_train, name=str(label))
            old_val = pg.PlotDataItem(pen=pen_val)
            for item, series in ((old_train, self._train), (old_val, self._val)):
                _configure_long_curve(item)
                item.setZValue(-10)
                self.plot_item.addItem(item)
                x, y = series.copy_data()
                _set_series(item, x, y)
            self._overlays.append((str(label), old_train, old_val))
            while len(self._overlays) > self.MAX_OVERLAY_RUNS:
                _, a, b = self._overlays.pop(0)
                self.plot_item.removeItem(a)
                self.plot_item.removeItem(b)
        self._clear_markers()
        self._train.clear()
        self._val.clear()
        self.flush()

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
        self._clear_markers()
        self._train.clear()
        self._val.clear()
        self.hover_text.hide()
        self.hover_dots.setData([], [])
        self.flush()

    # ----- read back
    def curve_data(self) -> dict:
        """{'train': (x, y), 'val': (x, y)}: copies of the points of the current run."""
        return {"train": self._train.copy_data(), "val": self._val.copy_data()}

    def point_count(self) -> int:
        return max(len(self._train), len(self._val))

    def export_item(self) -> pg.PlotItem:
        self.flush()
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
        if not text:
            self.hover_text.hide()
            return
        self.hover_text.setText(text)
        _anchor_inside(self.hover_text, vb, view)
        self.hover_text.setPos(view.x(), view.y())
        self.hover_text.show()
        dots = [p for p in (self._nearest(self._train, view.x()), self._nearest(self._val, view.x())) if p]
        self.hover_dots.setData([p[0] for p in dots], [p[1] for p in dots])


def _anchor_inside(text: pg.TextItem, vb: pg.ViewBox, view_pos) -> None:
    """Put a hover text on the side of the cursor that faces the middle of the view."""
    (x0, x1), (y0, y1) = vb.viewRange()
    right = view_pos.x() > (x0 + x1) / 2
    upper = view_pos.y() > (y0 + y1) / 2
    if vb.yInverted():
        upper = not upper
    text.setAnchor((1 if right else 0, 0 if upper else 1))


@dataclass
class _Snapshot:
    epoch: int
    hidden: list  # per layer (T, H) float32
    gates: list  # per layer {name: (T, H)}

    @property
    def nbytes(self) -> int:
        return sum(h.nbytes for h in self.hidden) + sum(a.nbytes for g in self.gates for a in g.values())


def _clean_image(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"a hidden-state snapshot must be 2-D (time, units), got shape {array.shape}")
    if not np.isfinite(array).all():
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    return array


def _cell_from_gates(gates: list[dict]) -> str | None:
    keys = set()
    for g in gates or []:
        keys |= set(g or {})
    for cell, names in GATE_NAMES.items():
        if names and keys == set(names):
            return cell
    return "elman" if not keys else None


class HiddenStatePanel(QtWidgets.QWidget):
    """Heatmaps (time x units) of every layer's hidden state or gates for the probe sequence."""

    MAX_SNAPSHOTS = 200
    SNAPSHOT_BUDGET_BYTES = 128 * 1024 * 1024  # the scrubber never holds more than this

    sigUnitsChanged = QtCore.pyqtSignal()

    def __init__(self, parent=None, max_snapshots: int | None = None):
        super().__init__(parent)
        self.max_snapshots = int(max_snapshots or self.MAX_SNAPSHOTS)
        if self.max_snapshots < 2:
            raise ValueError(f"max_snapshots must be >= 2, got {self.max_snapshots}")

        self.layer_combo = QtWidgets.QComboBox()
        self.layer_combo.setToolTip("Which layer to show")
        self.gate_combo = QtWidgets.QComboBox()
        self.gate_combo.setToolTip("Hidden state or one of the gates (GRU / LSTM)")
        self.info_label = QtWidgets.QLabel("")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Layer"))
        top.addWidget(self.layer_combo)
        self.gate_label = QtWidgets.QLabel("Show")
        top.addWidget(self.gate_label)
        top.addWidget(self.gate_combo)
        top.addStretch(1)
        top.addWidget(self.info_label)

        self.graphics = pg.GraphicsLayoutWidget()
        self.trace_widget = pg.PlotWidget(axisItems={"left": ReadableAxisItem("left")})
        self.trace_widget.setMinimumHeight(90)
        self.trace_plot: pg.PlotItem = self.trace_widget.getPlotItem()
        self.trace_plot.setLabel("bottom", "time step t")
        for axis in ("left", "bottom"):
            self.trace_plot.getAxis(axis).enableAutoSIPrefix(False)
        self.trace_legend = self.trace_plot.addLegend(offset=(-10, 5), brush=(20, 20, 20, 190))
        # The empty trace plot says what it is for, in its middle (it follows the view box's size,
        # not the data range, so it stays centred whatever range the last traces left behind).
        self.trace_hint = pg.TextItem(TRACE_HINT, color=(170, 170, 170), anchor=(0.5, 0.5))
        self.trace_hint.setParentItem(self.trace_plot.vb)
        self.trace_hint.textItem.document().setDefaultTextOption(QtGui.QTextOption(QtCore.Qt.AlignCenter))
        self.trace_hint.setZValue(20)
        self.trace_plot.vb.sigResized.connect(self._place_trace_hint)
        # heatmaps above, traces below; the user can drag the handle, the heatmaps get most room
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.graphics)
        self.splitter.addWidget(self.trace_widget)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 110])

        self.scrubber = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.scrubber.setToolTip("Replay the hidden states of earlier epochs; rightmost = live")
        self.scrubber.setEnabled(False)
        self.scrub_label = QtWidgets.QLabel("no snapshot yet")
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(QtWidgets.QLabel("Epoch"))
        bottom.addWidget(self.scrubber, 1)
        bottom.addWidget(self.scrub_label)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)

        self._plots: list[pg.PlotItem] = []
        self._images: list[pg.ImageItem] = []
        self._bars: list[pg.ColorBarItem] = []
        self._hover: list[pg.TextItem] = []
        self._displayed: list[np.ndarray | None] = []
        self._traces: dict[tuple[int, int], pg.PlotDataItem] = {}
        self._layer_sizes: tuple[int, ...] = ()
        self._cell = "elman"
        self._kept: list[_Snapshot] = []
        self._latest: _Snapshot | None = None
        self._stride = 1
        self._offered = 0
        self._scrub_epoch: int | None = None  # None = follow the latest snapshot

        self.layer_combo.currentIndexChanged.connect(self._on_layer_selected)
        self.gate_combo.currentIndexChanged.connect(self._on_gate_selected)
        self.scrubber.valueChanged.connect(self._on_scrub)
        scene = self.graphics.scene()
        self._mouse_proxy = pg.SignalProxy(scene.sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self.reset((), "elman")

    # ----- setup
    def reset(self, layer_sizes, cell: str = "elman") -> None:
        """Start over for a model with these hidden sizes and cell type (drops all snapshots)."""
        cell = str(cell).lower()
        if cell not in GATE_NAMES:
            raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(GATE_NAMES)}")
        sizes = tuple(int(s) for s in layer_sizes)
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden sizes must be positive, got {sizes}")
        self._layer_sizes = sizes
        self._cell = cell
        self._kept = []
        self._latest = None
        self._stride = 1
        self._offered = 0
        self._scrub_epoch = None
        for key in list(self._traces):
            self.trace_plot.removeItem(self._traces.pop(key))
        self._update_trace_hint()

        self.graphics.clear()  # rebuilding the layout for a new model, not per update
        self._plots, self._images, self._bars, self._hover = [], [], [], []
        self._displayed = [None] * len(sizes)
        for layer, size in enumerate(sizes):
            plot = pg.PlotItem(axisItems={"left": ReadableAxisItem("left"), "bottom": ReadableAxisItem("bottom")})
            plot.setLabel("left", "t")
            plot.setLabel("bottom", "unit")  # ReadableAxisItem: integer indices, never "t (x0.001)"
            plot.invertY(True)  # t = 0 at the top, like reading a table
            _set_compact_title(plot, f"layer {layer + 1} · {size} units")
            image = pg.ImageItem(axisOrder="row-major")
            image.setLevels(HIDDEN_LEVELS)
            plot.addItem(image)
            bar = pg.ColorBarItem(values=HIDDEN_LEVELS, colorMap="CET-D1", interactive=False, width=14)
            bar.setImageItem(image)
            # span only the heatmap's height, not its title row: stacked bars' end labels
            # ("-1.0" over "1.0") no longer touch
            bar.layout.setContentsMargins(0, TITLE_HEIGHT + 2, 0, 6)
            hover = pg.TextItem(anchor=(0, 1), color=(240, 240, 240), fill=(20, 20, 20, 210))
            hover.setZValue(50)
            hover.hide()
            plot.addItem(hover, ignoreBounds=True)
            self._plots.append(plot)
            self._images.append(image)
            self._bars.append(bar)
            self._hover.append(hover)

        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        if len(sizes) > 1:
            self.layer_combo.addItem("all layers", None)
        for layer, size in enumerate(sizes):
            self.layer_combo.addItem(f"layer {layer + 1} ({size})", layer)
        self.layer_combo.setCurrentIndex(0)
        self.layer_combo.blockSignals(False)

        self.gate_combo.blockSignals(True)
        self.gate_combo.clear()
        self.gate_combo.addItem(GATE_TITLES["h"], "h")
        for gate in GATE_NAMES[cell]:
            self.gate_combo.addItem(GATE_TITLES[gate], gate)
        self.gate_combo.setCurrentIndex(0)
        self.gate_combo.blockSignals(False)
        has_gates = bool(GATE_NAMES[cell])
        self.gate_combo.setVisible(has_gates)
        self.gate_label.setVisible(has_gates)

        self._layout_plots()
        self._apply_levels()
        self._update_scrubber()
        self.info_label.setText(f"{cell.upper()} · {len(sizes)} layer(s)" if sizes else "")

    def layer_sizes(self) -> tuple[int, ...]:
        return self._layer_sizes

    def cell(self) -> str:
        return self._cell

    def selected_layers(self) -> list[int]:
        layer = self.layer_combo.currentData()
        if layer is None:
            return list(range(len(self._layer_sizes)))
        return [int(layer)]

    def selected_gate(self) -> str:
        return self.gate_combo.currentData() or "h"

    def set_layer(self, layer: int | None) -> None:
        """Show one layer (0-based) or all (None)."""
        index = self.layer_combo.findData(layer)
        if index < 0:
            raise ValueError(f"no layer {layer!r}; this model has {len(self._layer_sizes)} layer(s)")
        self.layer_combo.setCurrentIndex(index)

    def set_gate(self, gate: str) -> None:
        index = self.gate_combo.findData(gate)
        if index < 0:
            names = ", ".join(["h", *GATE_NAMES[self._cell]])
            raise ValueError(f"{self._cell} has no gate {gate!r}; choose one of {names}")
        self.gate_combo.setCurrentIndex(index)

    def _layout_plots(self) -> None:
        # Remove and re-add the persistent items: only the selected layers take space.
        ci = self.graphics.ci
        for item in list(ci.items.keys()):
            ci.removeItem(item)
        selected = self.selected_layers()
        for row, layer in enumerate(selected):
            ci.addItem(self._plots[layer], row=row, col=0)
            ci.addItem(self._bars[layer], row=row, col=1)
            # stacked layers share the x-axis title: only the bottom one spends a row on "unit"
            self._plots[layer].getAxis("bottom").showLabel(layer == selected[-1])
        ci.layout.activate()

    def _apply_levels(self) -> None:
        gate = self.selected_gate()
        for layer, (image, bar) in enumerate(zip(self._images, self._bars)):
            if gate == "h":
                levels, cmap = HIDDEN_LEVELS, "CET-D1"
            elif gate == "c":
                # the LSTM cell state is unbounded: symmetric levels around 0 from the data shown
                data = self._displayed[layer]
                peak = float(np.max(np.abs(data))) if data is not None and data.size else 1.0
                peak = peak if peak > 0 else 1.0
                levels, cmap = (-peak, peak), "CET-D1"
            else:
                levels, cmap = GATE_LEVELS, "viridis"
            if bar.colorMap() is None or bar.colorMap().name != cmap:
                bar.setColorMap(cmap)
            bar.setLevels(levels)
            image.setLevels(levels)
            # ends and middle only: a short bar cannot hold pyqtgraph's five labels
            low, high = levels
            bar.axis.setTicks([[(v, _format_tick(v, 2) if v >= 0 else "-" + _format_tick(-v, 2))
                                for v in (low, (low + high) / 2, high)]])

    def levels(self, layer: int = 0) -> tuple[float, float]:
        return tuple(float(v) for v in self._images[layer].getLevels())

    # ----- snapshots
    def set_snapshot(self, epoch: int, hidden, gates=None) -> None:
        """Show the hidden states of one epoch (the latest) and remember it for the scrubber."""
        hidden = [_clean_image(h) for h in hidden]
        gates = [{k: _clean_image(v) for k, v in (g or {}).items()} for g in (gates or [{}] * len(hidden))]
        if len(gates) != len(hidden):
            raise ValueError(f"got hidden states for {len(hidden)} layers but gates for {len(gates)}")
        sizes = tuple(h.shape[1] for h in hidden)
        cell = _cell_from_gates(gates)
        if cell is None:
            raise ValueError(f"unknown gate names {sorted(set().union(*gates))}; "
                             "expected GRU {z, r} or LSTM {i, f, o, c}")
        if sizes != self._layer_sizes or cell != self._cell:
            # A snapshot from a differently shaped model (new run): adopt its shape.
            self.reset(sizes, cell)
        snap = _Snapshot(int(epoch), hidden, gates)
        self._remember(snap)
        self._update_scrubber()
        if self._scrub_epoch is None:
            self._show(snap)

    def _remember(self, snap: _Snapshot) -> None:
        if self._latest is not None and self._latest.epoch == snap.epoch:
            # the same epoch again (the draw timer repeating): replace, do not store twice
            if self._kept and self._kept[-1] is self._latest:
                self._kept[-1] = snap
            self._latest = snap
            return
        self._latest = snap
        limit = max(2, min(self.max_snapshots, self.SNAPSHOT_BUDGET_BYTES // max(1, snap.nbytes)))
        if self._offered % self._stride == 0:
            self._kept.append(snap)
        self._offered += 1
        if len(self._kept) > limit:
            # thin evenly: keep every other snapshot and from now on store half as often
            self._kept = self._kept[::2]
            self._stride *= 2

    def snapshot_epochs(self) -> list[int]:
        """Epochs the scrubber can replay (kept snapshots plus the latest)."""
        return [s.epoch for s in self._frames()]

    def _frames(self) -> list[_Snapshot]:
        frames = list(self._kept)
        if self._latest is not None and (not frames or frames[-1] is not self._latest):
            frames.append(self._latest)
        return frames

    def _update_scrubber(self) -> None:
        frames = self._frames()
        self.scrubber.blockSignals(True)
        self.scrubber.setEnabled(len(frames) > 1)
        self.scrubber.setRange(0, max(0, len(frames) - 1))
        if self._scrub_epoch is None:
            self.scrubber.setValue(len(frames) - 1)
        else:
            epochs = np.array([s.epoch for s in frames])
            index = int(np.argmin(np.abs(epochs - self._scrub_epoch)))
            self.scrubber.setValue(index)
        self.scrubber.blockSignals(False)
        self._update_scrub_label()

    def _update_scrub_label(self) -> None:
        snap = self.displayed_snapshot()
        if snap is None:
            self.scrub_label.setText("no snapshot yet")
        else:
            live = " (live)" if self._scrub_epoch is None else ""
            self.scrub_label.setText(f"epoch {snap.epoch}{live}")

    def _on_scrub(self, index: int) -> None:
        frames = self._frames()
        if not frames:
            return
        index = min(max(index, 0), len(frames) - 1)
        if index == len(frames) - 1:
            self._scrub_epoch = None
        else:
            self._scrub_epoch = frames[index].epoch
        self._show(frames[index])
        self._update_scrub_label()

    def scrub_to(self, epoch: int | None) -> None:
        """Replay the kept snapshot nearest to ``epoch``; None returns to live."""
        frames = self._frames()
        if not frames:
            return
        if epoch is None:
            self.scrubber.setValue(len(frames) - 1)
            self._on_scrub(len(frames) - 1)
            return
        epochs = np.array([s.epoch for s in frames])
        self.scrubber.setValue(int(np.argmin(np.abs(epochs - epoch))))

    def displayed_snapshot(self) -> _Snapshot | None:
        if self._scrub_epoch is None:
            return self._latest
        frames = self._frames()
        if not frames:
            return None
        return min(frames, key=lambda s: abs(s.epoch - self._scrub_epoch))

    def displayed_epoch(self) -> int | None:
        snap = self.displayed_snapshot()
        return None if snap is None else snap.epoch

    def _layer_array(self, snap: _Snapshot, layer: int) -> np.ndarray:
        gate = self.selected_gate()
        if gate == "h":
            return snap.hidden[layer]
        return snap.gates[layer][gate]

    def _show(self, snap: _Snapshot | None) -> None:
        if snap is None:
            return
        for layer, image in enumerate(self._images):
            data = self._layer_array(snap, layer)  # (T, H)
            self._displayed[layer] = data
            image.setImage(data, autoLevels=False)
            # pixel centres on integer (unit, t), so axis ticks name units and steps
            image.setRect(QtCore.QRectF(-0.5, -0.5, data.shape[1], data.shape[0]))
            _retitle(self._plots[layer], self._layer_title(layer, snap.epoch))
        if self.selected_gate() == "c":
            self._apply_levels()
        self._update_traces()

    def _layer_title(self, layer: int, epoch: int | None) -> str:
        gate = self.selected_gate()
        what = "" if gate == "h" else f" · {GATE_TITLES[gate]}"
        when = "" if epoch is None else f" · epoch {epoch}"
        return f"layer {layer + 1} · {self._layer_sizes[layer]} units{what}{when}"

    def _on_layer_selected(self, _index: int) -> None:
        self._layout_plots()

    def _on_gate_selected(self, _index: int) -> None:
        self._show(self.displayed_snapshot())
        self._apply_levels()

    # ----- read back / export
    def image_array(self, layer: int | None = None) -> np.ndarray:
        """The (T, H) array the heatmap of ``layer`` (default: first selected) is showing."""
        if layer is None:
            selected = self.selected_layers()
            if not selected:
                raise ValueError("no layers: call reset(layer_sizes, cell) first")
            layer = selected[0]
        if not 0 <= layer < len(self._displayed):
            raise ValueError(f"no layer {layer}; this model has {len(self._displayed)} layer(s)")
        data = self._displayed[layer]
        if data is None:
            raise ValueError("nothing displayed yet: no snapshot has been set")
        return data.copy()

    def plot_item(self, layer: int) -> pg.PlotItem:
        return self._plots[layer]

    def export_item(self):
        return self.graphics.ci

    def render_layer_image(self, layer: int, width: int | None = None) -> QtGui.QImage:
        """Render one layer's heatmap with axes and colour bar to a QImage (pyqtgraph ImageExporter)."""
        if not 0 <= layer < len(self._plots):
            raise ValueError(f"no layer {layer}; this model has {len(self._plots)} layer(s)")
        previous = self.layer_combo.currentIndex()
        alone = self.selected_layers() == [layer]
        if not alone:
            self.set_layer(layer)  # only this layer in the layout: the export holds plot + colour bar
        try:
            self.graphics.ci.layout.activate()
            return _export_image(self.graphics.ci, width)
        finally:
            if not alone:
                self.layer_combo.setCurrentIndex(previous)

    # ----- unit traces
    def toggle_unit(self, layer: int, unit: int) -> bool:
        """Add (or remove, if present) the line trace of one unit; returns True if now traced."""
        if not 0 <= layer < len(self._layer_sizes):
            raise ValueError(f"no layer {layer}; this model has {len(self._layer_sizes)} layer(s)")
        if not 0 <= unit < self._layer_sizes[layer]:
            raise ValueError(f"layer {layer + 1} has {self._layer_sizes[layer]} units, no unit {unit}")
        key = (layer, unit)
        if key in self._traces:
            self.trace_plot.removeItem(self._traces.pop(key))
            traced = False
        else:
            item = pg.PlotDataItem(pen=pg.mkPen(pg.intColor(len(self._traces) + 3 * layer, hues=9), width=1.5),
                                   name=f"L{layer + 1} u{unit}")
            self.trace_plot.addItem(item)
            self._traces[key] = item
            traced = True
        self._update_trace_hint()
        self._update_traces()
        self.sigUnitsChanged.emit()
        return traced

    def _update_trace_hint(self) -> None:
        self.trace_hint.setVisible(not self._traces)
        self.trace_legend.setVisible(bool(self._traces))  # an empty legend is a stray grey box
        if self._traces:
            _set_compact_title(self.trace_plot, "unit traces · click a unit again to remove it")
        else:
            self.trace_plot.setTitle(None)
            self.trace_plot.layout.setRowFixedHeight(0, 8)  # room for the top tick label
        self._place_trace_hint()

    def _place_trace_hint(self, *_args) -> None:
        rect = self.trace_plot.vb.rect()
        self.trace_hint.setTextWidth(max(80.0, rect.width() - 20))
        self.trace_hint.setPos(rect.center())

    def traced_units(self) -> list[tuple[int, int]]:
        return sorted(self._traces)

    def trace_data(self, layer: int, unit: int) -> tuple[np.ndarray, np.ndarray]:
        return self._traces[(layer, unit)].getData()

    def _update_traces(self) -> None:
        for (layer, unit), item in self._traces.items():
            data = self._displayed[layer] if layer < len(self._displayed) else None
            if data is None or unit >= data.shape[1]:
                item.setData([], [])
                continue
            column = data[:, unit]
            item.setData(np.arange(column.size), column)

    # ----- mouse
    def _hit(self, scene_pos) -> tuple[int, float, float] | None:
        for layer in self.selected_layers():
            vb = self._plots[layer].vb
            if vb.sceneBoundingRect().contains(scene_pos):
                view = vb.mapSceneToView(scene_pos)
                return layer, view.x(), view.y()
        return None

    def _cell_at(self, layer: int, x: float, y: float) -> tuple[int, int] | None:
        data = self._displayed[layer]
        if data is None:
            return None
        t, unit = int(math.floor(y + 0.5)), int(math.floor(x + 0.5))
        if 0 <= t < data.shape[0] and 0 <= unit < data.shape[1]:
            return t, unit
        return None

    def readout(self, layer: int, t: int, unit: int) -> str:
        value = self._displayed[layer][t, unit]
        return f"t {t}  unit {unit}\n{self.selected_gate()} = {value:+.4f}"

    def _on_mouse_moved(self, event) -> None:
        pos = event[0]
        hit = self._hit(pos)
        for layer, text in enumerate(self._hover):
            if hit is None or hit[0] != layer:
                text.hide()
        if hit is None:
            return
        layer, x, y = hit
        cell = self._cell_at(layer, x, y)
        text = self._hover[layer]
        if cell is None:
            text.hide()
            return
        text.setText(self.readout(layer, *cell))
        _anchor_inside(text, self._plots[layer].vb, QtCore.QPointF(x, y))
        text.setPos(x, y)
        text.show()

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != QtCore.Qt.LeftButton or event.double():
            return
        hit = self._hit(event.scenePos())
        if hit is None:
            return
        layer, x, y = hit
        cell = self._cell_at(layer, x, y)
        if cell is not None:
            self.toggle_unit(layer, cell[1])
            event.accept()


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
        _set_compact_title(self.grad_plot, "gradient norm (before clipping)")
        _set_compact_title(self.weight_plot, "weight norm")
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

    def _item(self, kind: str, name: str) -> pg.PlotDataItem:
        key = (kind, name)
        if key not in self._items:
            if name not in self._names:
                self._names.append(name)
            color = pg.intColor(self._names.index(name), hues=8)
            plot = self.grad_plot if kind == "grad" else self.weight_plot
            item = plot.plot(pen=pg.mkPen(color, width=1.5), name=name)
            _configure_long_curve(item)
            self._items[key] = item
            self._series[key] = GrowableSeries()
        return self._items[key]

    def add_report(self, epoch: float, grad_norms: dict, weight_norms: dict) -> None:
        self.add_reports([(epoch, grad_norms, weight_norms)])

    def add_reports(self, reports) -> None:
        """Append (epoch, grad_norms, weight_norms) rows; each curve gets one setData for all of them."""
        touched = set()
        for epoch, grad_norms, weight_norms in reports:
            for kind, norms in (("grad", grad_norms or {}), ("weight", weight_norms or {})):
                for name, value in norms.items():
                    key = (kind, str(name))
                    self._item(*key)  # creates the curve on first sight
                    series = self._series[key]
                    value = _finite_or_none(value)
                    # log-y: a zero or negative norm cannot be drawn
                    if value is not None and value > 0:
                        series.append(float(epoch), value)
                    else:
                        series.dropped += 1
                    touched.add(key)
        for key in touched:
            series = self._series[key]
            _set_series(self._items[key], series.x, series.y)

    def curve_data(self) -> dict:
        """{(kind, layer_name): (x, y)} with kind 'grad' or 'weight'."""
        return {key: series.copy_data() for key, series in self._series.items()}

    def reset(self) -> None:
        for (kind, _), item in self._items.items():
            (self.grad_plot if kind == "grad" else self.weight_plot).removeItem(item)
        self._items.clear()
        self._series.clear()
        self._names.clear()

    def export_item(self):
        return self.graphics.ci


class PredictionPanel(QtWidgets.QWidget):
    """What the model predicts: classes, forecasts or sampled text, depending on the task."""

    sigSampleRequested = QtCore.pyqtSignal(float, str)
    MAX_CELL_LABELS = 400  # confusion matrices bigger than 20 x 20 show colour only
    MAX_TICK_CHARS = 8  # class names on the axes are shortened to this many characters

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stack = QtWidgets.QStackedWidget()
        self.empty_label = QtWidgets.QLabel("No task yet: load a dataset.")
        self.empty_label.setAlignment(QtCore.Qt.AlignCenter)
        self.stack.addWidget(self.empty_label)
        self._build_classification()
        self._build_forecast()
        self._build_text()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._task: str | None = None
        self._class_names: list[str] = []
        self._confusion = np.zeros((0, 0), dtype=np.int64)

    # ----- pages
    def _build_classification(self) -> None:
        self.class_graphics = pg.GraphicsLayoutWidget()
        # Short titles: a LabelItem's minimum width is its text width, and a long title here once
        # pushed the confusion matrix out of a normal-sized dock. The title doubles as the legend.
        self.pred_plot = self.class_graphics.addPlot(row=0, col=0)
        _set_compact_title(self.pred_plot, self._pred_title(None))
        self.pred_plot.setLabel("bottom", "validation sequence")  # left: the class names say it
        for axis in ("left", "bottom"):
            self.pred_plot.getAxis(axis).enableAutoSIPrefix(False)
        self.true_scatter = pg.ScatterPlotItem(symbol="o", size=11, pen=pg.mkPen(200, 200, 200),
                                               brush=None, name="true")
        self.pred_scatter = pg.ScatterPlotItem(symbol="x", size=8, pen=None, name="predicted")
        self.pred_plot.addItem(self.true_scatter)
        self.pred_plot.addItem(self.pred_scatter)
        self.confusion_plot = self.class_graphics.addPlot(row=0, col=1)
        _set_compact_title(self.confusion_plot, "confusion")
        self.confusion_plot.setLabel("left", "true")
        self.confusion_plot.setLabel("bottom", "predicted")
        for axis in ("left", "bottom"):
            self.confusion_plot.getAxis(axis).enableAutoSIPrefix(False)
        self.confusion_plot.invertY(True)
        self.confusion_plot.setAspectLocked(True)
        # a fixed table, not a plot to explore: no panning away from it
        self.confusion_plot.setMouseEnabled(x=False, y=False)
        self.confusion_plot.setMenuEnabled(False)
        self.confusion_plot.hideButtons()
        self.confusion_plot.vb.setDefaultPadding(0.02)
        self.confusion_image = pg.ImageItem(axisOrder="row-major")
        self.confusion_image.setColorMap(pg.colormap.get("viridis"))
        self.confusion_plot.addItem(self.confusion_image)
        self._cell_texts: list[pg.TextItem] = []
        layout = self.class_graphics.ci.layout
        layout.setColumnStretchFactor(0, 1)
        layout.setColumnStretchFactor(1, 1)
        self.stack.addWidget(self.class_graphics)

    @staticmethod
    def _pred_title(accuracy: float | None) -> str:
        score = "" if accuracy is None or not math.isfinite(accuracy) else f" · acc {accuracy:.1%}"
        return f"o true · x pred{score}"

    def _build_forecast(self) -> None:
        self.forecast_widget = pg.PlotWidget(axisItems={"left": ReadableAxisItem("left")})
        self.forecast_plot = self.forecast_widget.getPlotItem()
        _set_compact_title(self.forecast_plot, "probe sequence: one-step forecast vs actual")
        self.forecast_plot.setLabel("bottom", "time step")
        self.forecast_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.forecast_legend = self.forecast_plot.addLegend(offset=(-10, 5), brush=(20, 20, 20, 190))
        self.forecast_plot.showGrid(x=True, y=True, alpha=0.2)
        self._forecast_items: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._forecast_data: dict = {"actual": np.empty((0, 0)), "forecast": np.empty((0, 0))}
        self.stack.addWidget(self.forecast_widget)

    def _build_text(self) -> None:
        page = QtWidgets.QWidget()
        self.text_view = QtWidgets.QPlainTextEdit()
        self.text_view.setReadOnly(True)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        self.text_view.setFont(font)
        self.temperature_slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.temperature_slider.setRange(10, 200)  # hundredths: 0.10 .. 2.00
        self.temperature_slider.setValue(100)
        self.temperature_slider.setToolTip("Sampling temperature: low = safe and repetitive, high = adventurous")
        self.temperature_label = QtWidgets.QLabel()
        self.prime_edit = QtWidgets.QLineEdit()
        self.prime_edit.setPlaceholderText("priming text (optional)")
        self.sample_button = QtWidgets.QPushButton("Sample")
        self.sample_button.setToolTip("Generate text from the current model")
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(QtWidgets.QLabel("Temperature"))
        controls.addWidget(self.temperature_slider, 1)
        controls.addWidget(self.temperature_label)
        controls.addWidget(self.prime_edit, 2)
        controls.addWidget(self.sample_button)
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.text_view, 1)
        layout.addLayout(controls)
        self.temperature_slider.valueChanged.connect(self._update_temperature_label)
        self.sample_button.clicked.connect(self.request_sample)
        self.prime_edit.returnPressed.connect(self.request_sample)
        self._update_temperature_label()
        self.stack.addWidget(page)
        self.text_page = page

    # ----- task
    def set_task(self, task: str, class_names=()) -> None:
        if task not in (TASK_CLASSIFY, TASK_TEXT, TASK_FORECAST):
            raise ValueError(f"unknown task {task!r}; expected {TASK_CLASSIFY}, {TASK_TEXT} or {TASK_FORECAST}")
        self._task = task
        self._class_names = [str(c) for c in class_names]
        if task == TASK_CLASSIFY:
            self._set_class_axes(self._class_names)
            self._confusion = np.zeros((len(self._class_names),) * 2, dtype=np.int64)
            self._draw_confusion()
            self.true_scatter.setData([], [])
            self.pred_scatter.setData([], [])
            _set_compact_title(self.pred_plot, self._pred_title(None))
            self.stack.setCurrentWidget(self.class_graphics)
        elif task == TASK_FORECAST:
            self._set_forecast_outputs(0)
            self.stack.setCurrentWidget(self.forecast_widget)
        else:
            self.text_view.setPlainText("")
            self.stack.setCurrentWidget(self.text_page)

    def task(self) -> str | None:
        return self._task

    def current_page(self) -> QtWidgets.QWidget:
        return self.stack.currentWidget()

    # ----- classification
    def _set_class_axes(self, names: list[str]) -> None:
        # long class names would widen both left axes until the matrix no longer fits
        names = [name if len(name) <= self.MAX_TICK_CHARS else name[: self.MAX_TICK_CHARS - 1] + "…"
                 for name in names]
        self.pred_plot.getAxis("left").setTicks([list(enumerate(names))])
        for item in self._cell_texts:
            self.confusion_plot.removeItem(item)
        self._cell_texts = []
        n = len(names)
        if n * n <= self.MAX_CELL_LABELS:
            for i in range(n):
                for j in range(n):
                    text = pg.TextItem("", anchor=(0.5, 0.5), color=(255, 255, 255))
                    text.setPos(j + 0.5, i + 0.5)
                    self.confusion_plot.addItem(text, ignoreBounds=True)
                    self._cell_texts.append(text)
        # row-major ImageItem pixel (i, j) covers x in [j, j+1), y in [i, i+1); ticks at centres
        shifted = [[(k + 0.5, name) for k, name in enumerate(names)]]
        self.confusion_plot.getAxis("left").setTicks(shifted)
        self.confusion_plot.getAxis("bottom").setTicks(shifted)

    def update_classification(self, true, pred, class_names=None) -> None:
        """Per validation sequence: true and predicted class ids; redraws the confusion matrix."""
        true = np.asarray(true, dtype=np.int64).ravel()
        pred = np.asarray(pred, dtype=np.int64).ravel()
        if true.shape != pred.shape:
            raise ValueError(f"true and predicted labels differ in length: {true.size} vs {pred.size}")
        if class_names is not None and [str(c) for c in class_names] != self._class_names:
            self.set_task(TASK_CLASSIFY, class_names)
        elif self._task != TASK_CLASSIFY:
            self.set_task(TASK_CLASSIFY, self._class_names)
        n = len(self._class_names)
        if n == 0:
            n = int(max(true.max(initial=-1), pred.max(initial=-1)) + 1)
            self.set_task(TASK_CLASSIFY, [str(i) for i in range(n)])
        for kind, ids in (("true", true), ("predicted", pred)):
            bad = (ids < 0) | (ids >= n)
            if bad.any():
                raise ValueError(f"class ids must be in 0..{n - 1} for {n} classes; got {kind} class {int(ids[bad][0])}")
        index = np.arange(true.size)
        correct = true == pred
        self.true_scatter.setData(index, true)
        # two shared brushes/pens indexed per point, not two new Qt objects per validation sequence
        good_brush, bad_brush = pg.mkBrush(80, 200, 120), pg.mkBrush(230, 70, 70)
        good_pen, bad_pen = pg.mkPen(80, 200, 120, width=2), pg.mkPen(230, 70, 70, width=2)
        brushes = [good_brush if ok else bad_brush for ok in correct]
        pens = [good_pen if ok else bad_pen for ok in correct]
        self.pred_scatter.setData(index, pred, brush=brushes, pen=pens)
        accuracy = float(correct.mean()) if correct.size else float("nan")
        _retitle(self.pred_plot, self._pred_title(accuracy))
        confusion = np.zeros((n, n), dtype=np.int64)
        np.add.at(confusion, (true, pred), 1)
        self._confusion = confusion
        self._draw_confusion()

    def _draw_confusion(self) -> None:
        confusion = self._confusion
        n = confusion.shape[0]
        if n == 0:
            self.confusion_image.clear()
            return
        top = max(1, int(confusion.max()))
        self.confusion_image.setImage(confusion.astype(np.float32), autoLevels=False, levels=(0, top))
        self.confusion_image.setRect(QtCore.QRectF(0, 0, n, n))
        self.confusion_plot.vb.setRange(xRange=(0, n), yRange=(0, n))
        if self._cell_texts:
            for k, text in enumerate(self._cell_texts):
                count = int(confusion.flat[k])
                # dark text on the bright (yellow) end of viridis
                text.setText(str(count), color=(20, 20, 20) if count > 0.6 * top else (255, 255, 255))

    def confusion_matrix(self) -> np.ndarray:
        return self._confusion.copy()

    def cell_labels(self) -> list[str]:
        return [t.toPlainText() for t in self._cell_texts]

    # ----- forecast
    def _set_forecast_outputs(self, k: int) -> None:
        if k == len(self._forecast_items):
            return
        for actual, forecast in self._forecast_items:
            self.forecast_plot.removeItem(actual)
            self.forecast_plot.removeItem(forecast)
        self._forecast_items = []
        for j in range(k):
            # actual in neutral light grey underneath, forecast in a strong colour on top: the two
            # must never be told apart by dash style alone
            suffix = f" {j + 1}" if k > 1 else ""
            actual_style = ACTUAL_STYLES[j % len(ACTUAL_STYLES)]
            actual = self.forecast_plot.plot(pen=pg.mkPen(ACTUAL_COLOR, width=1.5, style=actual_style),
                                             name=f"actual{suffix}")
            forecast = self.forecast_plot.plot(pen=pg.mkPen(FORECAST_COLORS[j % len(FORECAST_COLORS)], width=2),
                                               name=f"forecast{suffix}")
            actual.setZValue(0)
            forecast.setZValue(1)
            self._forecast_items.append((actual, forecast))

    def update_forecast(self, actual, forecast) -> None:
        """Actual and forecast values over the probe sequence, (T,) or (T, K) each."""
        actual = np.asarray(actual, dtype=np.float64)
        forecast = np.asarray(forecast, dtype=np.float64)
        if actual.ndim == 1:
            actual = actual[:, None]
        if forecast.ndim == 1:
            forecast = forecast[:, None]
        if actual.ndim != 2 or forecast.ndim != 2 or actual.shape[1] != forecast.shape[1]:
            raise ValueError(f"actual and forecast must be (T,) or (T, K) with the same K, "
                             f"got {actual.shape} and {forecast.shape}")
        if self._task != TASK_FORECAST:
            self.set_task(TASK_FORECAST)
        self._set_forecast_outputs(actual.shape[1])
        for j, (actual_item, forecast_item) in enumerate(self._forecast_items):
            for item, values in ((actual_item, actual[:, j]), (forecast_item, forecast[:, j])):
                t = np.arange(values.size, dtype=np.float64)
                keep = np.isfinite(values)
                item.setData(t[keep], values[keep])
        self._forecast_data = {"actual": actual, "forecast": forecast}

    def forecast_data(self) -> dict:
        """{'actual': (T, K), 'forecast': (T, K)} as last given."""
        return {k: v.copy() for k, v in self._forecast_data.items()}

    # ----- text
    def temperature(self) -> float:
        return self.temperature_slider.value() / 100.0

    def set_temperature(self, value: float) -> None:
        if not 0.1 <= value <= 2.0:
            raise ValueError(f"temperature must be between 0.1 and 2.0, got {value}")
        self.temperature_slider.setValue(int(round(value * 100)))

    def prime(self) -> str:
        return self.prime_edit.text()

    def _update_temperature_label(self, *_args) -> None:
        self.temperature_label.setText(f"{self.temperature():.2f}")

    def request_sample(self) -> None:
        self.sigSampleRequested.emit(self.temperature(), self.prime())

    def set_text_sample(self, text: str) -> None:
        if self._task != TASK_TEXT:
            self.set_task(TASK_TEXT)
        self.text_view.setPlainText(str(text))

    def text_sample(self) -> str:
        return self.text_view.toPlainText()

    def export_item(self):
        page = self.stack.currentWidget()
        if page is self.class_graphics:
            return self.class_graphics.ci
        if page is self.forecast_widget:
            return self.forecast_plot
        raise ValueError("only the classification and forecast views can be exported as an image; "
                         "copy the sampled text instead")


# ----- export

def _resolve_item(target):
    if hasattr(target, "export_item"):
        return target.export_item()
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsLayoutWidget):
        return target.ci
    if isinstance(target, pg.GraphicsView):
        return target.scene()
    if isinstance(target, (QtWidgets.QGraphicsItem, QtWidgets.QGraphicsScene)):
        return target
    raise TypeError(f"cannot export a {type(target).__name__}: pass a plot widget or a PlotItem")


def _check_size(item) -> None:
    rect = item.sceneBoundingRect() if hasattr(item, "sceneBoundingRect") else item.sceneRect()
    if rect.width() < 1 or rect.height() < 1:
        raise ValueError("the plot has no size yet: show or resize its widget before exporting")


def _export_image(item, width: int | None = None) -> QtGui.QImage:
    _check_size(item)
    exporter = pg.exporters.ImageExporter(item)
    if width:
        exporter.parameters()["width"] = int(width)
    image = exporter.export(toBytes=True)
    if image is None or image.isNull():
        raise RuntimeError("rendering the plot produced no image")
    return image


def export_plot(widget_or_plotitem, path, width: int | None = None) -> str:
    """Save a plot as PNG or SVG (chosen by the file extension) through pyqtgraph's exporters."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    item = _resolve_item(widget_or_plotitem)
    if ext == ".png":
        image = _export_image(item, width)
        if not image.save(path, "PNG"):
            raise OSError(f"could not write {path}: check that the folder exists and is writable")
    elif ext == ".svg":
        _check_size(item)
        pg.exporters.SVGExporter(item).export(fileName=path)
    else:
        raise ValueError(f"cannot export to {path!r}: use a .png or .svg file name")
    return path


def qimage_to_array(image: QtGui.QImage) -> np.ndarray:
    """(H, W, 4) uint8 copy of a QImage (RGBA), for tests and headless checks."""
    image = image.convertToFormat(QtGui.QImage.Format_RGBA8888)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    stride = image.bytesPerLine()
    array = np.frombuffer(ptr, dtype=np.uint8).reshape(image.height(), stride)
    return array[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()
