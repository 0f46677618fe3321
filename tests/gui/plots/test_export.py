"""export_plot: PNG and SVG through pyqtgraph exporters, anything else refused."""
import pytest
import numpy as np
from PyQt5 import QtGui

from gui.plots import export_plot
from tests.gui.plots.helpers import not_blank


def test_export_png_and_svg(loss_plot, tmp_path):
    epochs = np.arange(1, 20)
    loss_plot.extend(epochs, np.exp(-epochs / 5), np.exp(-epochs / 6))
    png = export_plot(loss_plot, tmp_path / "loss.png")
    svg = export_plot(loss_plot.plot_item, tmp_path / "loss.svg")
    assert not_blank(QtGui.QImage(png)) > 5
    assert "<svg" in open(svg, encoding="utf-8").read(2000)
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        export_plot(loss_plot, tmp_path / "loss.jpg")
