"""Hover read-outs never stick (gui.plots.hover): hidden when the mouse leaves, never exported."""
import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from gui.plots import export_plot, qimage_to_array
from gui.plots.export import export_image


def _fill(loss_plot):
    loss_plot.extend(np.arange(1, 11), 2.0 / np.arange(1, 11), 2.5 / np.arange(1, 11))
    loss_plot.plot_item.vb.setRange(xRange=(1, 10), yRange=(0, 2.5), padding=0)


def _hover_loss(loss_plot):
    scene_pos = loss_plot.plot_item.vb.mapViewToScene(QtCore.QPointF(5.1, 1.0))
    loss_plot._on_mouse_moved((scene_pos,))
    assert loss_plot.hover_text.isVisible() and loss_plot.hover_dots.isVisible()


def test_leaving_the_loss_plot_hides_its_readout(loss_plot, qtbot):
    _fill(loss_plot)
    _hover_loss(loss_plot)
    QtWidgets.QApplication.sendEvent(loss_plot.plot_widget, QtCore.QEvent(QtCore.QEvent.Leave))
    assert not loss_plot.hover_text.isVisible() and not loss_plot.hover_dots.isVisible()


def test_an_exported_plot_has_no_readout_box(loss_plot, tmp_path):
    _fill(loss_plot)
    clean = qimage_to_array(export_image(loss_plot.plot_item))
    _hover_loss(loss_plot)
    exported = qimage_to_array(export_image(loss_plot.plot_item))
    assert np.array_equal(exported, clean)  # the box drawn over the curve did not come along
    _hover_loss(loss_plot)
    svg = export_plot(loss_plot, tmp_path / "loss.svg")
    assert "epoch 5" not in open(svg, encoding="utf-8").read()


def test_leaving_a_heatmap_hides_its_readout(hidden_panel, qtbot):
    rng = np.random.default_rng(0)
    hidden_panel.reset((6,), "elman")
    hidden_panel.set_snapshot(1, [np.tanh(rng.normal(size=(12, 6))).astype(np.float32)], [{}])
    hover = hidden_panel._hover[0]
    hover.setText("t 3  unit 2")
    hover.show()
    QtWidgets.QApplication.sendEvent(hidden_panel.graphics, QtCore.QEvent(QtCore.QEvent.Leave))
    assert not hover.isVisible()
