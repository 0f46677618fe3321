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
