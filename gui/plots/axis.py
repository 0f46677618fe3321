"""Readable axes: tick labels that never pile up, in log and in linear mode."""

from __future__ import annotations

import math

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg
import numpy as np

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def format_tick(value: float, digits: int) -> str:
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
    power = "10" + str(exponent).translate(SUPERSCRIPT)
    return power if m_text == "1" else f"{m_text}·{power}"


def tick_labels(values: list[float]) -> list[str]:
    """The shortest labels (fewest significant digits) that tell all ``values`` apart."""
    for digits in range(1, 5):
        labels = [format_tick(v, digits) for v in values]
        if len(set(labels)) == len(labels) and all(
                abs(float(plain_label(label)) - v) <= 1e-6 * abs(v) for label, v in zip(labels, values)):
            return labels
    return [format_tick(v, 4) for v in values]


def plain_label(label: str) -> str:
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
        return tick_labels([10.0 ** v for v in values])

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

