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


def test_the_spectral_radius_legend_never_covers_its_curves_in_a_short_plot(qtbot):
    """In the Diagnostics dock the radius plot is ~90 px tall: its legend (an LSTM's four blocks,
    anchored inside the plot) covered most of the curves."""
    from PyQt5 import QtWidgets

    plot = DiagnosticsPlot()
    qtbot.addWidget(plot)
    plot.resize(474, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.add_reports((epoch, {"layer1": 1.0}, {"layer1": 2.0}) for epoch in range(1, 11))
    epochs = list(range(1, 11))
    plot.set_radius_series(epochs, {(1, b): [0.8 + 0.05 * k + 0.02 * e for e in epochs]
                                    for k, b in enumerate("ifog")})
    for _ in range(10):
        QtWidgets.QApplication.processEvents()
    legend = plot.radius_legend
    assert {label.text for _, label in legend.items} == {f"layer1 {b}" for b in "ifog"}
    box = legend.sceneBoundingRect()
    view = plot.radius_plot.vb.sceneBoundingRect()
    assert box.height() > 0 and not box.intersects(view), (box, view)
    assert box.right() <= plot.graphics.width() and box.bottom() <= plot.graphics.height()
    assert view.height() > 20  # the plot itself keeps room to draw in
