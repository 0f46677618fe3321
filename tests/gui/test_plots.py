"""Plot widgets: what is stored is what is drawn, and what is drawn is not blank."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtCore, QtGui  # noqa: E402
import pyqtgraph as pg  # noqa: E402

from gui.plots import (  # noqa: E402
    DiagnosticsPlot,
    GrowableSeries,
    HiddenStatePanel,
    LossPlot,
    PredictionPanel,
    export_plot,
    qimage_to_array,
)


def _not_blank(image: QtGui.QImage) -> float:
    """Spread of the RGB values of a rendered image (0 for a single flat colour)."""
    assert not image.isNull() and image.width() > 10 and image.height() > 10
    return float(qimage_to_array(image)[..., :3].astype(np.float32).std())


def _snapshot(rng, lengths_sizes, cell="elman"):
    hidden = [np.tanh(rng.normal(size=(t, h))).astype(np.float32) for t, h in lengths_sizes]
    names = {"elman": (), "gru": ("z", "r"), "lstm": ("i", "f", "o", "c")}[cell]
    gates = [{g: (rng.uniform(size=h.shape) if g != "c" else 3 * rng.normal(size=h.shape)).astype(np.float32)
              for g in names} for h in hidden]
    return hidden, gates


@pytest.fixture
def loss_plot(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(640, 400)
    plot.show()
    return plot


def test_growable_series_amortised_and_drops_nonfinite():
    s = GrowableSeries(capacity=2)
    for i in range(1000):
        s.append(i, 1.0 / (i + 1))
    assert len(s) == 1000 and s._x.size < 4096  # doubled, not grown by one each time
    assert not s.append(1000, float("nan"))
    assert s.extend([1, 2, 3, 4], [1.0, np.inf, 3.0, None]) == 2  # None: a missing loss
    assert len(s) == 1002 and s.dropped == 3
    assert np.isfinite(s.y).all()


def test_loss_plot_points_log_markers_and_hover(loss_plot, qtbot):
    for epoch in range(1, 11):
        loss_plot.add_point(epoch, 2.0 / epoch, 2.5 / epoch)
    loss_plot.add_point(11, float("nan"), 0.2)  # a diverged train loss is not drawn
    data = loss_plot.curve_data()
    assert data["train"][0].tolist() == list(range(1, 11))
    assert data["val"][0].tolist() == list(range(1, 12))
    qtbot.waitUntil(lambda: loss_plot.train_curve.getData()[0] is not None
                    and len(loss_plot.train_curve.getData()[0]) == 10)
    np.testing.assert_allclose(loss_plot.train_curve.getData()[1], 2.0 / np.arange(1, 11))

    loss_plot.set_log_y(True)
    assert loss_plot.plot_item.ctrl.logYCheck.isChecked()
    loss_plot.add_marker(4, "lr 3e-3 -> 1e-3")
    loss_plot.add_marker(7, "clip off")
    assert loss_plot.markers() == [(4.0, "lr 3e-3 -> 1e-3"), (7.0, "clip off")]
    lines = [i for i in loss_plot.plot_item.items if isinstance(i, pg.InfiniteLine)]
    assert sorted(line.value() for line in lines) == [4.0, 7.0]
    assert "lr 3e-3 -> 1e-3" in [line.label.toPlainText() for line in lines]

    text = loss_plot.readout_at(3.2)
    assert text.splitlines()[0] == "epoch 3" and "train 0.66667" in text and "val 0.83333" in text

    # Moving the mouse over the plot shows the readout for the epoch under the cursor.
    loss_plot.flush()
    loss_plot.plot_item.vb.setRange(xRange=(1, 10), yRange=(-1, 0.5), padding=0)
    scene_pos = loss_plot.plot_item.vb.mapViewToScene(QtCore.QPointF(5.1, 0.0))
    loss_plot._on_mouse_moved((scene_pos,))
    assert loss_plot.hover_text.isVisible()
    assert loss_plot.hover_text.toPlainText().startswith("epoch 5")
    assert "train 0.4" in loss_plot.hover_text.toPlainText()

    image = loss_plot.plot_item
    assert _not_blank(pg.exporters.ImageExporter(image).export(toBytes=True)) > 5


def test_loss_plot_smoothing_is_a_trailing_mean(loss_plot):
    y = np.array([4.0, 2.0, 6.0, 0.0, 8.0])
    for epoch, value in enumerate(y, start=1):
        loss_plot.add_point(epoch, value, value + 1)
    assert loss_plot.smoothed_data()["train"][0].size == 0
    loss_plot.set_smoothing(3)
    x, smoothed = loss_plot.smoothed_data()["train"]
    np.testing.assert_allclose(smoothed, [4.0, 3.0, 4.0, 8 / 3, 14 / 3])
    assert loss_plot.train_smooth_curve.isVisible()
    np.testing.assert_allclose(loss_plot.train_smooth_curve.getData()[1], smoothed)
    loss_plot.set_smoothing(1)
    assert not loss_plot.train_smooth_curve.isVisible()
    with pytest.raises(ValueError, match="smoothing window"):
        loss_plot.set_smoothing(-2)


def test_new_run_moves_curves_to_grey_overlays(loss_plot):
    for epoch in range(1, 6):
        loss_plot.add_point(epoch, 1.0 / epoch, 1.5 / epoch)
    loss_plot.add_marker(3, "lr 1e-2 -> 1e-3")
    loss_plot.new_run("elman (64) · adam lr 1e-2")
    assert loss_plot.overlays() == ["elman (64) · adam lr 1e-2"]
    old = loss_plot.overlay_data(0)
    np.testing.assert_allclose(old["train"][1], 1.0 / np.arange(1, 6))
    assert loss_plot.curve_data()["train"][0].size == 0
    assert loss_plot.markers() == []
    legend_names = [label.text for _, label in loss_plot.legend.items]
    assert "elman (64) · adam lr 1e-2" in legend_names

    loss_plot.add_point(1, 0.9, 1.0)
    loss_plot.new_run("gru (32)")
    assert loss_plot.overlays() == ["elman (64) · adam lr 1e-2", "gru (32)"]
    loss_plot.new_run("empty run is not kept")
    assert len(loss_plot.overlays()) == 2
    for i in range(LossPlot.MAX_OVERLAY_RUNS + 3):
        loss_plot.add_point(1, 1.0, 1.0)
        loss_plot.new_run(f"run {i}")
    assert len(loss_plot.overlays()) == LossPlot.MAX_OVERLAY_RUNS
    loss_plot.reset()
    assert loss_plot.overlays() == [] and loss_plot.point_count() == 0


def test_million_point_curve(loss_plot):
    x = np.arange(1, 1_000_001, dtype=np.float64)
    y = 1.0 / np.sqrt(x)
    loss_plot.extend(x, y, y * 1.1)
    assert loss_plot.point_count() == 1_000_000
    xs, ys = loss_plot.train_curve.getData()
    assert len(xs) == 1_000_000 and ys[-1] == pytest.approx(1e-3)
    loss_plot.add_point(1_000_001, 0.5, 0.5)
    loss_plot.flush()
    assert len(loss_plot.train_curve.getData()[0]) == 1_000_001
    # drawn with peak downsampling and clipping, no symbols
    assert loss_plot.train_curve.opts["autoDownsample"] and loss_plot.train_curve.opts["clipToView"]
    assert loss_plot.train_curve.opts["symbol"] is None


def test_export_png_and_svg(loss_plot, tmp_path):
    for epoch in range(1, 20):
        loss_plot.add_point(epoch, np.exp(-epoch / 5), np.exp(-epoch / 6))
    png = export_plot(loss_plot, tmp_path / "loss.png")
    svg = export_plot(loss_plot.plot_item, tmp_path / "loss.svg")
    assert _not_blank(QtGui.QImage(png)) > 5
    assert "<svg" in open(svg, encoding="utf-8").read(2000)
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        export_plot(loss_plot, tmp_path / "loss.jpg")


@pytest.fixture
def hidden_panel(qtbot):
    panel = HiddenStatePanel(max_snapshots=10)
    qtbot.addWidget(panel)
    panel.resize(800, 700)
    panel.show()
    return panel


def test_hidden_panel_shapes_levels_and_render(hidden_panel):
    rng = np.random.default_rng(0)
    hidden_panel.reset((16, 8), "elman")
    hidden, gates = _snapshot(rng, [(30, 16), (30, 8)])
    hidden_panel.set_snapshot(1, hidden, gates)
    assert hidden_panel.image_array(0).shape == (30, 16)
    assert hidden_panel.image_array(1).shape == (30, 8)
    np.testing.assert_array_equal(hidden_panel.image_array(1), hidden[1])
    assert hidden_panel.levels(0) == (-1.0, 1.0)
    assert not hidden_panel.gate_combo.isVisibleTo(hidden_panel)
    for layer in (0, 1):
        assert _not_blank(hidden_panel.render_layer_image(layer)) > 5
    # showing only layer 2 still lets layer 1 be rendered, and the selection is restored
    hidden_panel.set_layer(1)
    assert hidden_panel.selected_layers() == [1]
    assert _not_blank(hidden_panel.render_layer_image(0)) > 5
    assert hidden_panel.selected_layers() == [1]


def test_hidden_panel_nonfinite_and_new_shape(hidden_panel):
    rng = np.random.default_rng(1)
    hidden_panel.reset((4,), "elman")
    h = np.tanh(rng.normal(size=(5, 4))).astype(np.float32)
    h[2, 1] = np.nan
    hidden_panel.set_snapshot(1, [h], [{}])
    assert np.isfinite(hidden_panel.image_array()).all()
    # a snapshot of a differently sized model (new run) is adopted, not drawn wrongly
    hidden, gates = _snapshot(rng, [(7, 6), (7, 3)], "gru")
    hidden_panel.set_snapshot(2, hidden, gates)
    assert hidden_panel.layer_sizes() == (6, 3) and hidden_panel.cell() == "gru"
    assert hidden_panel.image_array(1).shape == (7, 3)
    with pytest.raises(ValueError, match="2-D"):
        hidden_panel.set_snapshot(3, [np.zeros(5)], [{}])


def test_hidden_panel_gates(hidden_panel):
    rng = np.random.default_rng(2)
    hidden_panel.reset((6,), "lstm")
    hidden, gates = _snapshot(rng, [(12, 6)], "lstm")
    hidden_panel.set_snapshot(1, hidden, gates)
    assert hidden_panel.gate_combo.isVisibleTo(hidden_panel)
    assert [hidden_panel.gate_combo.itemData(i) for i in range(hidden_panel.gate_combo.count())] == \
        ["h", "i", "f", "o", "c"]
    hidden_panel.set_gate("f")
    np.testing.assert_array_equal(hidden_panel.image_array(0), gates[0]["f"])
    assert hidden_panel.levels(0) == (0.0, 1.0)
    hidden_panel.set_gate("c")
    peak = float(np.abs(gates[0]["c"]).max())
    low, high = hidden_panel.levels(0)
    assert low == pytest.approx(-peak) and high == pytest.approx(peak)
    assert _not_blank(hidden_panel.render_layer_image(0)) > 5
    with pytest.raises(ValueError, match="no gate"):
        hidden_panel.set_gate("z")


def test_hidden_panel_unit_traces_by_click(hidden_panel, qtbot):
    rng = np.random.default_rng(3)
    hidden_panel.reset((8,), "elman")
    hidden, gates = _snapshot(rng, [(20, 8)])
    hidden_panel.set_snapshot(1, hidden, gates)
    qtbot.wait(10)
    plot = hidden_panel.plot_item(0)
    plot.vb.autoRange(padding=0)
    scene_pos = plot.vb.mapViewToScene(QtCore.QPointF(5.2, 9.9))  # unit 5, t 10
    widget_pos = hidden_panel.graphics.mapFromScene(scene_pos)
    qtbot.mouseClick(hidden_panel.graphics.viewport(), QtCore.Qt.LeftButton, pos=widget_pos)
    assert hidden_panel.traced_units() == [(0, 5)]
    t, values = hidden_panel.trace_data(0, 5)
    np.testing.assert_array_equal(values, hidden[0][:, 5])
    # hover readout names time, unit and value
    hidden_panel._on_mouse_moved((scene_pos,))
    assert hidden_panel.readout(0, 10, 5).startswith("t 10  unit 5")
    assert hidden_panel._hover[0].isVisible()
    # click again removes the trace
    qtbot.mouseClick(hidden_panel.graphics.viewport(), QtCore.Qt.LeftButton, pos=widget_pos)
    assert hidden_panel.traced_units() == []
    with pytest.raises(ValueError, match="no unit 8"):
        hidden_panel.toggle_unit(0, 8)


def test_scrubber_replays_earlier_epoch_with_bounded_memory(hidden_panel):
    rng = np.random.default_rng(4)
    hidden_panel.reset((3,), "elman")
    frames = {}
    for epoch in range(1, 101):
        hidden, gates = _snapshot(rng, [(4, 3)])
        frames[epoch] = hidden[0]
        hidden_panel.set_snapshot(epoch, hidden, gates)
    epochs = hidden_panel.snapshot_epochs()
    assert len(epochs) <= 11  # max_snapshots=10 kept plus the latest
    assert epochs[0] == 1 and epochs[-1] == 100
    gaps = np.diff(epochs[:-1])
    assert gaps.min() == gaps.max()  # thinned evenly
    assert hidden_panel.displayed_epoch() == 100
    np.testing.assert_array_equal(hidden_panel.image_array(), frames[100])

    hidden_panel.scrubber.setValue(1)  # the user drags back
    earlier = epochs[1]
    assert hidden_panel.displayed_epoch() == earlier
    np.testing.assert_array_equal(hidden_panel.image_array(), frames[earlier])
    # training goes on; the replayed frame stays on screen until the user returns to live
    hidden_panel.set_snapshot(101, *_snapshot(rng, [(4, 3)]))
    assert hidden_panel.displayed_epoch() == earlier
    hidden_panel.scrub_to(None)
    assert hidden_panel.displayed_epoch() == 101
    assert "live" in hidden_panel.scrub_label.text()


def test_diagnostics_plot(qtbot):
    plot = DiagnosticsPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    for epoch in range(1, 6):
        plot.add_report(epoch, {"layer1": 1.0 / epoch, "head": 0.5}, {"layer1": 2.0 + epoch, "head": 1.0})
    plot.add_report(6, {"layer1": float("inf"), "head": 0.0}, {"layer1": 9.0, "head": 1.0})
    data = plot.curve_data()
    assert data[("grad", "layer1")][0].tolist() == [1, 2, 3, 4, 5]  # inf dropped
    assert data[("grad", "head")][0].size == 5  # zero cannot be drawn on log-y
    assert data[("weight", "layer1")][1][-1] == 9.0
    assert plot.grad_plot.ctrl.logYCheck.isChecked()
    assert _not_blank(pg.exporters.ImageExporter(plot.export_item()).export(toBytes=True)) > 5
    plot.reset()
    assert plot.curve_data() == {}


@pytest.fixture
def prediction_panel(qtbot):
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 350)
    panel.show()
    return panel


def test_prediction_classification(prediction_panel, tmp_path):
    prediction_panel.set_task("classify_sequence", ["up", "down", "flat"])
    assert prediction_panel.current_page() is prediction_panel.class_graphics
    prediction_panel.update_classification([0, 1, 2, 2, 1], [0, 2, 2, 1, 1])
    np.testing.assert_array_equal(prediction_panel.confusion_matrix(),
                                  [[1, 0, 0], [0, 1, 1], [0, 1, 1]])
    assert prediction_panel.cell_labels() == ["1", "0", "0", "0", "1", "1", "0", "1", "1"]
    assert prediction_panel.pred_scatter.getData()[1].tolist() == [0, 2, 2, 1, 1]
    assert "60.0%" in prediction_panel.pred_plot.titleLabel.text
    path = export_plot(prediction_panel, tmp_path / "pred.png")
    assert _not_blank(QtGui.QImage(path)) > 5
    with pytest.raises(ValueError, match="class ids"):
        prediction_panel.update_classification([0, 5], [0, 1])


def test_prediction_forecast(prediction_panel):
    prediction_panel.set_task("forecast")
    t = np.arange(40)
    actual = np.stack([np.sin(t / 4), np.cos(t / 4)], axis=1)
    forecast = actual + 0.1
    forecast[3, 0] = np.nan
    prediction_panel.update_forecast(actual, forecast)
    assert prediction_panel.current_page() is prediction_panel.forecast_widget
    assert len(prediction_panel._forecast_items) == 2
    xs, ys = prediction_panel._forecast_items[0][1].getData()
    assert len(xs) == 39 and np.isfinite(ys).all()
    np.testing.assert_array_equal(prediction_panel.forecast_data()["actual"], actual)
    prediction_panel.update_forecast(np.sin(t), np.sin(t))  # one output: back to one pair
    assert len(prediction_panel._forecast_items) == 1
    with pytest.raises(ValueError, match="same K"):
        prediction_panel.update_forecast(actual, np.zeros((40, 3)))


def test_prediction_text_sampling(prediction_panel, qtbot):
    prediction_panel.set_task("next_token")
    assert prediction_panel.current_page() is prediction_panel.text_page
    prediction_panel.set_text_sample("the quick brown fox")
    assert prediction_panel.text_sample() == "the quick brown fox"
    assert prediction_panel.text_view.isReadOnly()
    prediction_panel.temperature_slider.setValue(35)
    assert prediction_panel.temperature_label.text() == "0.35"
    prediction_panel.prime_edit.setText("Once upon")
    with qtbot.waitSignal(prediction_panel.sigSampleRequested) as blocker:
        qtbot.mouseClick(prediction_panel.sample_button, QtCore.Qt.LeftButton)
    assert blocker.args == [pytest.approx(0.35), "Once upon"]
    assert prediction_panel.temperature_slider.minimum() == 10
    assert prediction_panel.temperature_slider.maximum() == 200
    with pytest.raises(ValueError, match="temperature"):
        prediction_panel.set_temperature(5.0)
    with pytest.raises(ValueError, match="unknown task"):
        prediction_panel.set_task("regress")


# ----- readability: what a user sees at normal dock sizes

def _label_values(labels):
    from gui.plots import _plain
    return [float(_plain(text)) for _, text in labels]


def _drawn_labels(axis, qtbot):
    """Tick labels once the axis has had a paint to size itself to them (as on screen)."""
    axis.labelled_ticks()
    qtbot.wait(20)
    return axis.labelled_ticks()


def _assert_apart(labels):
    """Tick label rectangles (sorted along the axis) do not touch each other."""
    rects = sorted((rect for rect, _ in labels), key=lambda r: r.center().y())
    for upper, lower in zip(rects, rects[1:]):
        assert upper.bottom() <= lower.top(), f"labels overlap: {upper} and {lower}"


@pytest.mark.parametrize("low, high", [(0.08, 0.3), (2.0, 16.0), (0.2, 0.3), (1e-5, 30.0), (0.081, 0.083)])
def test_log_axis_labels_fit_under_a_decade_and_over_many(qtbot, low, high):
    plot = DiagnosticsPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    for epoch, value in enumerate(np.geomspace(low, high, 12), start=1):
        plot.add_report(epoch, {"layer1": value}, {"layer1": value})
    for item in (plot.grad_plot, plot.weight_plot):
        item.vb.setRange(yRange=(np.log10(low), np.log10(high)), padding=0)
        qtbot.wait(1)
        axis = item.getAxis("left")
        labels = _drawn_labels(axis, qtbot)
        texts = [text for _, text in labels]
        assert 2 <= len(labels) <= 6, texts  # pyqtgraph drew "0.3 0.2 0.1 0.09 0.08" on top of each other
        assert len(set(texts)) == len(texts), texts
        values = _label_values(labels)
        assert all(low * 0.999 <= v <= high * 1.001 for v in values), texts
        _assert_apart(labels)


def test_log_tick_levels_thin_decades_and_keep_minor_ticks():
    from gui.plots import _tick_labels, log_tick_levels
    # 11 decades over 60 px: every k-th decade, in superscript form
    (spacing, labelled), (_, minor) = log_tick_levels(-8, 3, 60, 20)
    assert 2 <= len(labelled) <= 4 and all(float(v).is_integer() for v in labelled)
    assert "10⁻⁵" in _tick_labels([10.0 ** v for v in labelled]) or len(labelled) < 4
    # 1..16 over 90 px: 1-2-5 labelled, the other 1..9 positions as unlabelled ticks
    (_, labelled), (_, minor) = log_tick_levels(0, np.log10(16), 90, 20)
    assert _tick_labels([10.0 ** v for v in labelled]) == ["2", "5", "10"]  # "1" sits on the very end
    assert len(minor) >= 5
    assert _tick_labels([2e-5, 0.08, 300.0, 1e6]) == ["2·10⁻⁵", "0.08", "300", "10⁶"]


def test_loss_plot_log_mode_uses_the_readable_axis(loss_plot, qtbot):
    for epoch in range(1, 30):
        loss_plot.add_point(epoch, 0.3 - 0.22 * epoch / 29, 0.31 - 0.2 * epoch / 29)
    loss_plot.flush()
    loss_plot.set_log_y(True)
    loss_plot.plot_item.vb.setRange(yRange=(np.log10(0.08), np.log10(0.31)), padding=0)
    qtbot.wait(1)
    labels = _drawn_labels(loss_plot.plot_item.getAxis("left"), qtbot)
    assert 2 <= len(labels) <= 6
    _assert_apart(labels)
    loss_plot.set_log_y(False)  # linear again: plain numbers, no "(x0.001)" label suffix
    qtbot.wait(1)
    axis = loss_plot.plot_item.getAxis("left")
    assert "(x" not in axis.labelString()
    _assert_apart(_drawn_labels(axis, qtbot))


def test_short_linear_axis_does_not_cram_labels(hidden_panel, qtbot):
    # the unit-trace plot is short: pyqtgraph's "1.0 0.8 0.6 0.4 0.2 0" overlapped there
    hidden_panel.trace_widget.setFixedHeight(95)
    qtbot.wait(10)
    axis = hidden_panel.trace_plot.getAxis("left")
    labels = _drawn_labels(axis, qtbot)
    assert 2 <= len(labels) <= 4, [t for _, t in labels]
    _assert_apart(labels)


def test_forecast_actual_and_forecast_are_told_apart(prediction_panel):
    t = np.arange(60)
    prediction_panel.update_forecast(np.sin(t / 5), np.sin(t / 5) + 0.05)
    actual, forecast = prediction_panel._forecast_items[0]
    a_pen, f_pen = actual.opts["pen"], forecast.opts["pen"]
    assert a_pen.color().name() != f_pen.color().name()
    a, f = a_pen.color(), f_pen.color()
    assert abs(a.hue() - f.hue()) > 20 or abs(a.saturation() - f.saturation()) > 100  # grey vs orange
    assert forecast.zValue() > actual.zValue()  # the forecast is drawn on top of the data
    names = [label.text for _, label in prediction_panel.forecast_legend.items]
    assert names == ["actual", "forecast"]
    # several targets: every forecast has its own colour
    prediction_panel.update_forecast(np.stack([np.sin(t), np.cos(t)], 1), np.stack([np.sin(t), np.cos(t)], 1))
    colors = {f.opts["pen"].color().name() for _, f in prediction_panel._forecast_items}
    assert len(colors) == 2
    assert [label.text for _, label in prediction_panel.forecast_legend.items] == \
        ["actual 1", "forecast 1", "actual 2", "forecast 2"]


def test_confusion_matrix_fits_a_normal_dock(qtbot):
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.resize(510, 270)
    panel.show()
    names = ["up", "down", "flat", "a rather long class name"]
    panel.set_task("classify_sequence", names)
    panel.update_classification([0, 1, 2, 3, 1, 2, 3], [0, 1, 2, 3, 2, 2, 0])
    qtbot.wait(10)
    view = panel.class_graphics.viewport().rect()
    for plot in (panel.pred_plot, panel.confusion_plot):
        rect = panel.class_graphics.mapFromScene(plot.sceneBoundingRect()).boundingRect()
        assert view.contains(rect), f"{rect} is cut off by the {view.width()}x{view.height()} view"
    n = len(names)
    assert panel.confusion_plot.vb.viewRect().contains(QtCore.QRectF(0, 0, n, n))
    image_rect = panel.confusion_image.sceneBoundingRect()
    assert image_rect.width() >= 80  # readable cells, not a postage stamp
    # counts in the cells, class names (shortened) on both axes
    assert panel.cell_labels()[:4] == ["1", "0", "0", "0"]
    for axis in ("left", "bottom"):
        ticks = [text for _, text in panel.confusion_plot.getAxis(axis)._tickLevels[0]]
        assert ticks[:3] == ["up", "down", "flat"] and ticks[3].endswith("…") and len(ticks[3]) <= 8
    assert "acc 71.4%" in panel.pred_plot.titleLabel.text


def test_hidden_panel_layers_readable_and_no_si_suffix(hidden_panel, qtbot):
    rng = np.random.default_rng(5)
    hidden_panel.resize(510, 420)
    hidden_panel.reset((32, 16), "gru")
    # before any snapshot the empty views span -0.5..0.5, where pyqtgraph labelled "t (x0.001)"
    for layer in (0, 1):
        for axis in ("left", "bottom"):
            assert "(x" not in hidden_panel.plot_item(layer).getAxis(axis).labelString()
    hidden, gates = _snapshot(rng, [(60, 32), (60, 16)], "gru")
    hidden_panel.set_snapshot(1, hidden, gates)
    qtbot.wait(10)
    assert hidden_panel.graphics.height() <= 300
    for layer in (0, 1):
        plot = hidden_panel.plot_item(layer)
        assert plot.vb.sceneBoundingRect().height() >= 50  # each heatmap keeps a usable height
        assert plot.titleLabel.boundingRect().height() <= 22
        left = plot.getAxis("left")
        assert "(x" not in left.labelString()
        _assert_apart(_drawn_labels(left, qtbot))
    # only the bottom layer spends a row on the x-axis title
    assert not hidden_panel.plot_item(0).getAxis("bottom").label.isVisible()
    assert hidden_panel.plot_item(1).getAxis("bottom").label.isVisible()
    hidden_panel.set_layer(0)
    assert hidden_panel.plot_item(0).getAxis("bottom").label.isVisible()
    # colour bars: ends and middle labelled only, following the levels of what is shown
    assert [text for _, text in hidden_panel._bars[0].axis._tickLevels[0]] == ["-1", "0", "1"]
    hidden_panel.set_gate("z")
    assert [text for _, text in hidden_panel._bars[0].axis._tickLevels[0]] == ["0", "0.5", "1"]


def test_trace_hint_sits_inside_the_empty_trace_plot(hidden_panel, qtbot):
    rng = np.random.default_rng(6)
    hidden_panel.reset((8,), "elman")
    hidden_panel.set_snapshot(1, *_snapshot(rng, [(20, 8)]))
    qtbot.wait(10)
    # the heatmaps get most of the height, the trace plot the rest
    assert hidden_panel.trace_widget.height() < hidden_panel.graphics.height() / 2
    hint = hidden_panel.trace_hint
    vb_rect = hidden_panel.trace_plot.vb.sceneBoundingRect()
    assert hint.isVisible() and "click a unit" in hint.textItem.toPlainText()
    assert not hidden_panel.trace_plot.titleLabel.isVisible()
    centre = hint.sceneBoundingRect().center()
    assert abs(centre.x() - vb_rect.center().x()) < 5 and abs(centre.y() - vb_rect.center().y()) < 5
    assert not hidden_panel.trace_legend.isVisible()
    hidden_panel.toggle_unit(0, 3)
    assert not hint.isVisible() and hidden_panel.trace_legend.isVisible()
    assert "unit traces" in hidden_panel.trace_plot.titleLabel.text
    hidden_panel.toggle_unit(0, 3)
    assert hint.isVisible()
