"""gui.plots.legend_fit: the legend stays inside its view box, and placing it cannot recurse."""
import itertools

import pyqtgraph as pg

from gui.plots.legend_fit import LegendFit


def test_a_legend_whose_width_follows_its_anchor_is_placed_once_not_recursively(qtbot):
    # Anchoring moves the legend, which signals geometryChanged, which fits again: a legend whose
    # width read differently after each move sent fit() into itself until a RecursionError
    # (seen at the end of bench_ui's resize measurement).
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    view_box = widget.getPlotItem().vb
    legend = pg.LegendItem()
    legend.setParentItem(view_box)
    legend.addItem(pg.PlotDataItem([0, 1]), "validation")
    fit = LegendFit(legend, view_box)
    room = view_box.width()
    widths = itertools.cycle([room - 5, room + 50])  # fits only at the left, then not at all, ...
    legend.width = lambda: next(widths)
    calls = []
    original_anchor = legend.anchor

    def anchor(*args):
        calls.append(args)
        original_anchor(*args)
        legend.geometryChanged.emit()  # what a move does

    legend.anchor = anchor
    fit.fit()
    assert len(calls) <= 1 and fit.place in ("left", "hidden")
