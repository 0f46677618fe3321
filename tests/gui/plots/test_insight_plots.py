"""The three insight widgets draw exactly the Insight they are given (saliency bars and horizon,
PCA coordinates and hover names, eigenvalues), and render non-blank images."""

import numpy as np
import pyqtgraph.exporters
import pytest
from PyQt5 import QtGui, QtWidgets

from engine.insights import Insight
from engine.trajectory import pca_basis, valid_points
from gui.plots.saliency import SaliencyView, char_label
from gui.plots.spectrum import SpectrumView
from gui.plots.trajectory import TrajectoryView
from tests.gui.plots.helpers import not_blank


def _insight(epoch=3, labels=(0, 1, 0, 1), cell_blocks=("z", "r", "n"), features=2, seed=0):
    rng = np.random.default_rng(seed)
    n, steps, units = len(labels), 12, 5
    saliency = np.abs(rng.standard_normal(20)).astype(np.float32)
    spectra = [{b: (rng.standard_normal(units) + 1j * rng.standard_normal(units)).astype(np.complex64)
                for b in cell_blocks} for _ in range(2)]
    return Insight(epoch=epoch, probe_index=5, saliency=saliency, step=19, horizon=4, prediction=0.3,
                   states=rng.standard_normal((n, steps, units)).astype(np.float32),
                   sequences=np.array([5, 0, 1, 2][:n]), steps=np.arange(0, 24, 2), lengths=np.array([20, 24, 10, 24][:n]),
                   labels=np.array(labels), spectra=spectra,
                   inputs=rng.standard_normal((20, features)).astype(np.float32))


def _shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    return widget


def _image(view):
    return pyqtgraph.exporters.ImageExporter(view.export_item()).export(toBytes=True)


def test_saliency_bars_are_the_saliency_and_the_horizon_is_shaded(qtbot):
    view = _shown(qtbot, SaliencyView())
    insight = _insight()
    view.show_insight(insight)
    view.set_series([1, 2, 3], [2, 3, 4])
    np.testing.assert_allclose(view.bar_heights(), insight.saliency / insight.saliency.max(), rtol=1e-6)
    assert view.horizon_region() == pytest.approx((19 - 4 + 0.5, 19.5))
    x, y = view.horizon_data()
    assert list(x) == [1, 2, 3] and list(y) == [2, 3, 4]
    assert "horizon 4 steps" in view.strip_plot.titleLabel.text and "epoch 3 (live)" in view.strip_plot.titleLabel.text
    assert not_blank(_image(view)) > 5


def test_saliency_of_text_labels_each_step_with_its_character(qtbot):
    view = _shown(qtbot, SaliencyView())
    view.task, view.vocabulary = "next_token", ["a", "b", " ", "\n"]
    insight = _insight(features=1)
    insight.inputs = (np.arange(20) % 4).astype(np.float32)[:, None]
    view.show_insight(insight, live=False)
    shown = [(item.pos().x(), item.textItem.toPlainText()) for item in view._char_items if item.isVisible()]
    assert shown[:4] == [(0.0, "a"), (1.0, "b"), (2.0, char_label(" ")), (3.0, char_label("\n"))]
    assert len(shown) == 20 and "(live)" not in view.strip_plot.titleLabel.text


def test_trajectory_draws_the_pca_projection_of_the_real_steps_and_names_points(qtbot):
    view = _shown(qtbot, TrajectoryView())
    view.class_names = ["up", "down"]
    insight = _insight()
    view.show_insight(insight)
    basis = pca_basis(valid_points(insight.states, insight.steps, insight.lengths))
    x, y = view.curve_data(2)  # sequence 1 has 10 real steps: steps 0, 2, ..., 8
    expected = basis.project(insight.states[2][insight.steps < 10])
    np.testing.assert_allclose(np.column_stack([x, y]), expected, rtol=1e-5, atol=1e-6)
    coords, data = view.point_data()
    assert len(coords) == int(sum(np.sum(insight.steps < n) for n in insight.lengths))
    assert view.describe(data[0]) == "validation sequence 5 (probe) · class up · step 0"
    # the basis stays fixed across epochs until Refit axes
    later = _insight(epoch=9, seed=4)
    view.show_insight(later)
    np.testing.assert_allclose(view.basis.mean, basis.mean)
    view.refit_button.click()
    refit = pca_basis(valid_points(later.states, later.steps, later.lengths))
    np.testing.assert_allclose(view.basis.components, refit.components)
    assert not_blank(_image(view)) > 5


def test_trajectory_without_classes_colours_by_time(qtbot):
    view = _shown(qtbot, TrajectoryView())
    view.show_insight(_insight(labels=(-1, -1, -1, -1)))
    assert "colour: time" in view.plot.titleLabel.text
    assert view.describe((3, -1, 7, False)) == "validation sequence 3 · step 7"
    assert np.size(view.curve_data(1)[0]) == 0  # other sequences are points only; the probe is a line
    assert len(view.curve_data(0)[0]) > 0


def test_spectrum_shows_the_selected_layers_eigenvalues_with_their_radii(qtbot):
    view = _shown(qtbot, SpectrumView())
    assert not view.layer_box.isVisible()  # no empty layer selector before the first look
    insight = _insight()
    view.show_insight(insight)
    for block in ("z", "r", "n"):
        np.testing.assert_allclose(view.points(block), insight.spectra[0][block], rtol=1e-6)
    view.layer_box.setCurrentIndex(1)
    np.testing.assert_allclose(view.points("n"), insight.spectra[1]["n"], rtol=1e-6)
    radius = np.max(np.abs(insight.spectra[1]["z"]))
    assert f"U_z {radius:.3g}" in [label.text for _, label in view.legend.items]
    assert f"U_z (update): spectral radius {radius:.3g}" in view.graphics.toolTip()
    assert "layer 2" in view.plot.titleLabel.text
    assert not_blank(_image(view)) > 5


def test_the_spectrum_legend_stays_inside_a_narrow_plot_drawn_while_hidden(qtbot):
    """In a 474 px dock column, drawn while its tab was behind another, the legend's labels
    were cut off by the plot's right edge."""
    view = SpectrumView()
    qtbot.addWidget(view)
    view.show_insight(_insight(cell_blocks=("i", "f", "o", "g")))  # hidden: the tab is behind another
    view.resize(474, 260)
    view.show()
    for _ in range(20):
        QtWidgets.QApplication.processEvents()
    legend = view.legend.sceneBoundingRect()
    assert legend.right() <= view.graphics.width(), (legend, view.graphics.width())


def test_a_short_saliency_dock_never_piles_its_axis_labels(qtbot):
    """In a 300 px dock (a tab next to Predictions) each of the three plots is ~40 px tall: three
    labels on its left axis overlapped ("-0.41" over "-0.44", "max" over "0")."""
    view = SaliencyView()
    qtbot.addWidget(view)
    view.resize(520, 250)
    view.show()
    qtbot.waitExposed(view)
    view.show_insight(_insight())
    view.set_series([1, 2, 3], [4, 9, 12])
    for _ in range(10):
        QtWidgets.QApplication.processEvents()
    for plot in (view.input_plot, view.strip_plot, view.horizon_plot):
        values = sorted(v for v, _ in view.left_ticks(plot))
        low, high = plot.vb.viewRange()[1]
        pixels = np.diff(values) * plot.vb.height() / (high - low)
        line = QtGui.QFontMetrics(plot.getAxis("left").font()).height()
        assert values and np.all(pixels >= line), (plot.titleLabel.text, values, pixels)
    view.resize(520, 900)  # tall again: all the labels come back
    for _ in range(10):
        QtWidgets.QApplication.processEvents()
    assert len(view.left_ticks(view.input_plot)) == 3


def test_a_long_title_never_widens_the_saliency_dock_past_its_column(qtbot):
    """On a 1600 px screen the rightmost column is ~500 px: a text run's strip title ("saliency of
    the next character's log-probability at step 63: horizon 19 steps · epoch 148 (live)") set
    the plots' minimum width, so the layout outgrew the dock and its right part was cut off."""
    view = SaliencyView()
    qtbot.addWidget(view)
    view.task, view.vocabulary = "next_token", list("abcdefghij")
    view.resize(474, 420)
    view.show()
    qtbot.waitExposed(view)
    insight = _insight(features=1)
    insight.inputs = (np.arange(20) % 10).astype(np.float32)[:, None]
    view.show_insight(insight)
    for _ in range(10):
        QtWidgets.QApplication.processEvents()
    width = view.graphics.viewport().width()
    for plot in (view.input_plot, view.strip_plot, view.horizon_plot):
        assert plot.sceneBoundingRect().right() <= width + 1, (plot.titleLabel.text, plot.sceneBoundingRect(), width)
