"""The plots' look, shared by every widget: colours, levels, compact titles, curve settings.

``configure()`` sets pyqtgraph's global options; the app (``gui.app.make_application``), headless
rendering and the test suite call it once at start-up, so importing a plot module changes nothing.
"""

from __future__ import annotations

# PyQt5 first, so pyqtgraph binds to it and not to another Qt binding that happens to be installed.
from PyQt5 import QtCore, QtGui  # noqa: I001
import pyqtgraph as pg
import numpy as np

TRAIN_COLOR = "#4c9be8"
VAL_COLOR = "#f28e2b"
OVERLAY_COLOR = (150, 150, 150, 140)
MARKER_COLOR = (230, 200, 60)
ACTUAL_COLOR = (225, 225, 225)  # forecast view: the data, neutral
FORECAST_COLORS = ("#f28e2b", "#59d0a0", "#e15ce0", "#4c9be8", "#f2d22b")  # one per target
LEGEND_BRUSH = (20, 20, 20, 190)  # legends: translucent dark, so a curve under one does not run through its text
ACTUAL_STYLES = (QtCore.Qt.SolidLine, QtCore.Qt.DashLine, QtCore.Qt.DotLine, QtCore.Qt.DashDotLine)

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
HIDDEN_LEVELS = (-1.0, 1.0)  # tanh range
GATE_LEVELS = (0.0, 1.0)  # sigmoid range


def configure() -> None:
    """pyqtgraph's global options for the whole app; call once before building any plot.

    (T, H) arrays display as rows = time; no antialiasing so million-point curves stay cheap to draw.
    """
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


def set_compact_title(plot: pg.PlotItem, text: str, size: str = "9pt", height: int = None) -> None:
    """A smaller plot title in a shorter title row (pyqtgraph's default reserves 30 px)."""
    height = TITLE_HEIGHT if height is None else height
    plot._title_choices = None  # a fixed text (retitle_fitting's choices are dropped)
    plot.setTitle(text, size=size)
    plot.titleLabel.setMaximumHeight(height)
    plot.layout.setRowFixedHeight(0, height)
    _title_may_shrink(plot)


def retitle(plot: pg.PlotItem, text: str, size: str = "9pt") -> None:
    """New text for a title already made compact: ``setTitle`` would reset the row to 30 px and
    back, two layout passes for every frame that only changes the text."""
    plot._title_choices = None
    _set_title_text(plot, text, size)


def _set_title_text(plot: pg.PlotItem, text: str, size: str) -> None:
    plot.titleLabel.setText(text, size=size)
    _title_may_shrink(plot)


def retitle_fitting(plot: pg.PlotItem, texts, size: str = "9pt") -> None:
    """The first of ``texts`` (longest first) that fits the plot's width, refitted when the plot is
    resized: a title that overflowed ran into its neighbour's ("… ep 94confusion")."""
    plot._title_choices = (list(texts), size)
    if not getattr(plot, "_title_fits", False):
        plot._title_fits = True
        plot.geometryChanged.connect(lambda: _fit_title(plot))
    _fit_title(plot)


def _fit_title(plot: pg.PlotItem) -> None:
    if getattr(plot, "_title_choices", None) is None:
        return
    texts, size = plot._title_choices
    font = QtGui.QFont(plot.titleLabel.item.font())
    font.setPointSizeF(float(size.rstrip("pt")))
    metrics, room = QtGui.QFontMetrics(font), plot.width() - 8
    text = next((t for t in texts if metrics.horizontalAdvance(t) <= room), texts[-1])
    if text != plot.titleLabel.text:
        _set_title_text(plot, text, size)


def epoch_note(live: bool, stored: bool = False) -> str:
    """What a view's title says after its epoch: a look read from a run folder is " (stored)" (its
    newest is not live: nothing computes it), the newest of a run the window drives " (live)",
    a replayed one nothing."""
    return " (stored)" if stored else " (live)" if live else ""


def _title_may_shrink(plot: pg.PlotItem) -> None:
    """pyqtgraph makes a title's text width the plot's minimum width: a long title (a text run's
    saliency, 600 px) widened the layout past its dock, whose right part was then cut off. The
    plot keeps the dock's width; a title longer than that overflows at both of its ends.

    ``LabelItem.updateMin`` sets the minimum back to the text's width on every resize, so once was
    not enough: on a 1024x700 screen the predictions' title pushed the confusion matrix out of sight."""
    label = plot.titleLabel
    if not getattr(label, "_may_shrink", False):
        update_min = label.updateMin

        def keep_no_minimum_width() -> None:
            update_min()
            label.setMinimumWidth(0)

        label.updateMin = keep_no_minimum_width
        label._may_shrink = True
    label.setMinimumWidth(0)


def configure_long_curve(item: pg.PlotDataItem) -> None:
    # scrollingPlots.py: long curves are cheap only with peak downsampling and view clipping.
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)


def set_series(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    # Data is pre-filtered (GrowableSeries drops non-finite points), so skip pyqtgraph's scan.
    item.setData(x, y, skipFiniteCheck=True)


def anchor_inside(text: pg.TextItem, vb: pg.ViewBox, view_pos) -> None:
    """Put a hover text on the side of the cursor that faces the middle of the view."""
    (x0, x1), (y0, y1) = vb.viewRange()
    right = view_pos.x() > (x0 + x1) / 2
    upper = view_pos.y() > (y0 + y1) / 2
    if vb.yInverted():
        upper = not upper
    text.setAnchor((1 if right else 0, 0 if upper else 1))

NONFINITE_COLOR = (255, 0, 255)  # magenta: a NaN/Inf cell of a heatmap (no colour map uses it)
REFUSED_COLOR = (235, 60, 60)  # loss plot: an epoch with refused (non-finite) steps
TIME_CURSOR_COLOR = (255, 255, 255, 170)  # heatmaps: the time step picked in the text view
