"""Live plot widgets: loss curves, hidden-state heatmaps, diagnostics, predictions.

One widget per module; this package re-exports the public names. Every widget keeps persistent
pyqtgraph items and updates them with ``setData`` / ``setImage`` (never ``clear()`` + ``plot()``,
pyqtgraph #2348), filters non-finite values before they reach pyqtgraph (pyqtgraph #2486) and
keeps its own data in numpy buffers so tests can read back exactly what is drawn. Global
pyqtgraph options are set by ``gui.plots.style.configure()`` at start-up, not by this import.
"""

from gui.plots.diagnostics import DiagnosticsPlot
from gui.plots.export import export_plot, qimage_to_array
from gui.plots.hidden import HiddenStatePanel
from gui.plots.loss import LossPlot
from gui.plots.predictions import PredictionPanel
from gui.plots.series import GrowableSeries
from gui.plots.snapshots import Snapshot, SnapshotStore
from gui.plots.style import configure
from gui.plots.text_view import TextView

__all__ = [
    "LossPlot",
    "HiddenStatePanel",
    "DiagnosticsPlot",
    "PredictionPanel",
    "export_plot",
    "qimage_to_array",
    "GrowableSeries",
    "Snapshot",
    "SnapshotStore",
    "configure",
    "TextView",
]
