"""DiagnosticsPlot: gradient and weight norms per layer on log axes."""
import pyqtgraph as pg

from gui.plots import DiagnosticsPlot
from tests.gui.plots.helpers import not_blank


def test_diagnostics_plot(qtbot):
    plot = DiagnosticsPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    plot.add_reports((epoch, {"layer1": 1.0 / epoch, "head": 0.5}, {"layer1": 2.0 + epoch, "head": 1.0})
                     for epoch in range(1, 6))
    plot.add_reports([(6, {"layer1": float("inf"), "head": 0.0}, {"layer1": 9.0, "head": 1.0})])
    data = plot.curve_data()
    assert data[("grad", "layer1")][0].tolist() == [1, 2, 3, 4, 5]  # inf dropped
    assert data[("grad", "head")][0].size == 5  # zero cannot be drawn on log-y
    assert data[("weight", "layer1")][1][-1] == 9.0
    assert plot.grad_plot.ctrl.logYCheck.isChecked()
    assert not_blank(pg.exporters.ImageExporter(plot.export_item()).export(toBytes=True)) > 5
    plot.reset()
    assert plot.curve_data() == {}


MIN_VIEW_PX = 25  # a view this tall still draws its curves (the squeezed ones were 1-2 px); ~32 here


def _shown(qtbot, width, height, radius_blocks="ifog"):
    from PyQt5 import QtWidgets

    plot = DiagnosticsPlot()
    qtbot.addWidget(plot)
    plot.resize(width, height)
    plot.show()
    qtbot.waitExposed(plot)
    plot.add_reports((epoch, {"layer1": 1.0 / epoch, "head": 0.5 + 0.01 * epoch},
                      {"layer1": 2.0 + 0.1 * epoch, "head": 1.0}) for epoch in range(1, 11))
    if radius_blocks:
        epochs = list(range(1, 11))
        plot.set_radius_series(epochs, {(1, b): [0.8 + 0.05 * k + 0.02 * e for e in epochs]
                                        for k, b in enumerate(radius_blocks)})
    for _ in range(10):
        QtWidgets.QApplication.processEvents()
    return plot


def _legends(plot):
    return [item for item in plot.graphics.scene().items() if isinstance(item, pg.LegendItem) and item.isVisible()]


def _tick_label_rects(axis):
    """The scene rectangles of an axis's tick labels, as it draws them (ReadableAxisItem's, pyqtgraph's)."""
    from gui.plots.axis import ReadableAxisItem

    return [axis.mapRectToScene(rect) for rect, _text in ReadableAxisItem.labelled_ticks(axis)]


def test_the_norm_legends_cover_no_curve(qtbot):
    """"layer1" / "head" sat inside the plots' top right corner, on the curves they name."""
    plot = _shown(qtbot, 474, 270, radius_blocks="")
    views = [p.vb.sceneBoundingRect() for p in (plot.grad_plot, plot.weight_plot)]
    legends = [item for item in _legends(plot) if item.items]
    assert legends and all(label.text in ("layer1", "head") for legend in legends for _, label in legend.items)
    for legend in legends:
        box = legend.sceneBoundingRect()
        assert box.width() > 0 and not any(box.intersects(view) for view in views), (box, views)
        assert box.right() <= plot.graphics.width()
    assert all(view.height() > 30 for view in views)


def test_a_short_dock_lists_the_radii_in_a_line_instead_of_a_third_plot(qtbot):
    """In a 1024x700 window the dock is ~230 px: three stacked plots drew views 2 px tall and
    their axes on top of each other."""
    plot = _shown(qtbot, 474, 230)
    for p in (plot.grad_plot, plot.weight_plot):
        assert p.vb.sceneBoundingRect().height() > MIN_VIEW_PX
        rects = _tick_label_rects(p.getAxis("left")) + _tick_label_rects(p.getAxis("bottom"))
        assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    assert not plot.grad_plot.sceneBoundingRect().intersects(plot.weight_plot.sceneBoundingRect())
    assert not plot.radius_shown() and plot.radius_plot.scene() is None
    assert plot.radius_note.isVisible() and plot.radius_note.text.startswith("spectral radius of U: g 1.15")
    text = plot.radius_note.item.mapRectToScene(plot.radius_note.item.boundingRect())
    assert 0 <= text.left() and text.right() <= plot.graphics.width()  # as many radii as fit, none cut
    note = plot.radius_note.sceneBoundingRect()
    assert not note.intersects(plot.weight_plot.sceneBoundingRect()) and note.bottom() <= plot.graphics.height()


def test_a_tall_dock_plots_the_radii_with_the_legend_in_its_own_row(qtbot):
    """An LSTM's four blocks: the legend is under the plot, the plot's labels do not overlap, from
    the lowest height that plots them."""
    from gui.plots.diagnostics import RADIUS_MIN_HEIGHT

    plot = _shown(qtbot, 474, RADIUS_MIN_HEIGHT)
    legend = plot.radius_legend
    assert {label.text for _, label in legend.items} == {f"layer1 {b}" for b in "ifog"}
    box = legend.sceneBoundingRect()
    view = plot.radius_plot.vb.sceneBoundingRect()
    assert box.height() > 0 and not box.intersects(view), (box, view)
    assert box.right() <= plot.graphics.width() and box.bottom() <= plot.graphics.height()
    assert all(p.vb.sceneBoundingRect().height() > MIN_VIEW_PX
               for p in (plot.grad_plot, plot.weight_plot, plot.radius_plot))
    rects = _tick_label_rects(plot.radius_plot.getAxis("left")) + _tick_label_rects(plot.radius_plot.getAxis("bottom"))
    assert rects and not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    plots = [plot.grad_plot, plot.weight_plot, plot.radius_plot]
    assert not any(a.sceneBoundingRect().intersects(b.sceneBoundingRect()) for i, a in enumerate(plots)
                   for b in plots[i + 1:])
    assert plot.radius_shown() and plot.radius_note.scene() is None
    plot.resize(474, 230)  # made short again: back to the line
    qtbot.waitUntil(lambda: not plot.radius_shown(), timeout=2000)
    assert plot.radius_note.scene() is not None
