"""LossPlot: what is stored is what is drawn, markers, smoothing, earlier runs, hover."""
import numpy as np
import pyqtgraph as pg
import pytest
from PyQt5 import QtCore

from gui.plots import LossPlot
from tests.gui.plots.helpers import assert_apart, drawn_labels, not_blank


def test_loss_plot_points_log_markers_and_hover(loss_plot, qtbot):
    epochs = np.arange(1, 11)
    loss_plot.extend(epochs, 2.0 / epochs, 2.5 / epochs)
    loss_plot.extend([11], [float("nan")], [0.2])  # a diverged train loss is not drawn
    data = loss_plot.curve_data()
    assert data["train"][0].tolist() == list(range(1, 11))
    assert data["val"][0].tolist() == list(range(1, 12))
    assert len(loss_plot.train_curve.getData()[0]) == 10  # drawn at once, one setData
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
    loss_plot.plot_item.vb.setRange(xRange=(1, 10), yRange=(-1, 0.5), padding=0)
    scene_pos = loss_plot.plot_item.vb.mapViewToScene(QtCore.QPointF(5.1, 0.0))
    loss_plot._on_mouse_moved((scene_pos,))
    assert loss_plot.hover_text.isVisible()
    assert loss_plot.hover_text.toPlainText().startswith("epoch 5")
    assert "train 0.4" in loss_plot.hover_text.toPlainText()

    image = loss_plot.plot_item
    assert not_blank(pg.exporters.ImageExporter(image).export(toBytes=True)) > 5


def test_loss_plot_smoothing_is_a_trailing_mean(loss_plot):
    y = np.array([4.0, 2.0, 6.0, 0.0, 8.0])
    loss_plot.extend(np.arange(1, y.size + 1), y, y + 1)
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
    epochs = np.arange(1, 6)
    loss_plot.extend(epochs, 1.0 / epochs, 1.5 / epochs)
    loss_plot.add_marker(3, "lr 1e-2 -> 1e-3")
    loss_plot.new_run("elman (64) · adam lr 1e-2")
    assert loss_plot.overlays() == ["elman (64) · adam lr 1e-2"]
    old = loss_plot.overlay_data(0)
    np.testing.assert_allclose(old["train"][1], 1.0 / np.arange(1, 6))
    assert loss_plot.curve_data()["train"][0].size == 0
    assert loss_plot.markers() == []
    legend_names = [label.text for _, label in loss_plot.legend.items]
    assert "elman (64) · adam lr 1e-2" in legend_names

    loss_plot.extend([1], [0.9], [1.0])
    loss_plot.new_run("gru (32)")
    assert loss_plot.overlays() == ["elman (64) · adam lr 1e-2", "gru (32)"]
    loss_plot.new_run("empty run is not kept")
    assert len(loss_plot.overlays()) == 2
    for i in range(LossPlot.MAX_OVERLAY_RUNS + 3):
        loss_plot.extend([1], [1.0], [1.0])
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
    loss_plot.extend([1_000_001], [0.5], [0.5])
    assert len(loss_plot.train_curve.getData()[0]) == 1_000_001
    # drawn with peak downsampling and clipping, no symbols
    assert loss_plot.train_curve.opts["autoDownsample"] and loss_plot.train_curve.opts["clipToView"]
    assert loss_plot.train_curve.opts["symbol"] is None


def test_loss_plot_log_mode_uses_the_readable_axis(loss_plot, qtbot):
    epochs = np.arange(1, 30)
    loss_plot.extend(epochs, 0.3 - 0.22 * epochs / 29, 0.31 - 0.2 * epochs / 29)
    loss_plot.set_log_y(True)
    loss_plot.plot_item.vb.setRange(yRange=(np.log10(0.08), np.log10(0.31)), padding=0)
    qtbot.wait(1)
    labels = drawn_labels(loss_plot.plot_item.getAxis("left"), qtbot)
    assert 2 <= len(labels) <= 6
    assert_apart(labels)
    loss_plot.set_log_y(False)  # linear again: plain numbers, no "(x0.001)" label suffix
    qtbot.wait(1)
    axis = loss_plot.plot_item.getAxis("left")
    assert "(x" not in axis.labelString()
    assert_apart(drawn_labels(axis, qtbot))


def test_compared_runs_get_distinct_colours_a_legend_and_stay_under_the_current_run(loss_plot):
    epochs = np.arange(1, 6)
    loss_plot.extend(epochs, 1.0 / epochs, 1.2 / epochs)
    runs = [(f"run {k}", epochs, (k + 1.0) / epochs, (k + 1.5) / epochs) for k in range(3)]
    loss_plot.set_compared(runs)
    assert loss_plot.compared() == ["run 0", "run 1", "run 2"]
    np.testing.assert_allclose(loss_plot.compared_data(1)["val"][1], 2.5 / epochs)
    colours = {item.opts["pen"].color().name() for item in (c["val"] for c in loss_plot._compared)}
    assert len(colours) == 3
    legend = [label.text for _, label in loss_plot.legend.items]
    assert {"run 0", "run 1", "run 2"} <= set(legend)
    assert all(item.zValue() < loss_plot.val_curve.zValue() for item in (c["val"] for c in loss_plot._compared))
    assert loss_plot.compared_at(2.0, 3.5 / 2) == "run 2"  # the curve through (2, 1.75)
    loss_plot.set_compared(runs[:1])
    assert loss_plot.compared() == ["run 0"]
    assert "run 2" not in [label.text for _, label in loss_plot.legend.items]


def test_compared_runs_carry_their_markers_and_checkpoint_ticks_and_a_followed_run_gains_new_ones(loss_plot):
    epochs = np.arange(1.0, 7.0)
    run = ("followed", epochs[:4], 1.1 / epochs[:4], 1.0 / epochs[:4], [(2, "lr 0.01 → 0.005")], [1, 3, 9])
    loss_plot.set_compared([run])
    assert loss_plot.compared_markers(0) == [(2.0, "lr 0.01 → 0.005")]
    assert loss_plot.compared_checkpoints(0) == [1.0, 3.0]  # a tick past the drawn curve waits for it
    lines = [item for item in loss_plot.plot_item.items if isinstance(item, pg.InfiniteLine)]
    assert [line.label.format for line in lines] == ["lr 0.01 → 0.005"]
    grown = ("followed", epochs, 1.1 / epochs, 1.0 / epochs, [(2, "lr 0.01 → 0.005"), (5, "pause (control)")], [1, 3])
    loss_plot.set_compared([grown])
    assert loss_plot.compared_markers(0) == [(2.0, "lr 0.01 → 0.005"), (5.0, "pause (control)")]
    assert len([i for i in loss_plot.plot_item.items if isinstance(i, pg.InfiniteLine)]) == 2
    loss_plot.set_compared([])
    assert not [i for i in loss_plot.plot_item.items if isinstance(i, pg.InfiniteLine)]


def test_ticking_one_more_run_keeps_the_items_and_colours_of_the_runs_already_drawn(loss_plot):
    epochs = np.arange(1.0, 11.0)
    runs = [(f"run {k}", epochs, 1.0 / epochs, (k + 1.0) / epochs) for k in range(12)]
    loss_plot.set_compared(runs[:7])
    before = {c["label"]: (c["val"], c["color"].name()) for c in loss_plot._compared}
    loss_plot.set_compared(runs[:8])  # one more ticked: only its items are new
    after = {c["label"]: (c["val"], c["color"].name()) for c in loss_plot._compared}
    assert all(after[label] == before[label] for label in before)
    assert after["run 7"][1] not in {colour for _, colour in before.values()}
    loss_plot.set_compared(runs[1:8])  # one unticked: the others stay as they are
    assert {c["label"]: (c["val"], c["color"].name()) for c in loss_plot._compared} == \
        {label: after[label] for label in after if label != "run 0"}


def test_compared_runs_are_drawn_with_thin_cosmetic_pens(loss_plot):
    """Qt's raster engine strokes a pen wider than 1 px as polygons: ten compared runs of 1,000 epochs
    at 1.5 px cost ~14 ms of CPU per repaint against ~6 ms at 1 px (bench_ui --only-runs-view)."""
    epochs = np.arange(1.0, 11.0)
    loss_plot.set_compared([("run", epochs, 1.0 / epochs, 1.2 / epochs, [(3, "lr 0.01 → 0.005")], [2, 5])])
    compared = loss_plot._compared[0]
    for key in ("val", "train", "ticks"):
        pen = compared[key].opts["pen"]
        assert pen.isCosmetic() and pen.widthF() <= 1.0, (key, pen.widthF())
    assert loss_plot.val_curve.opts["pen"].widthF() > 1.0  # the current run stays the bolder one


def test_a_newly_compared_run_is_drawn_a_turn_of_the_event_loop_after_its_items_are_built(loss_plot, qtbot):
    """Building a run's items and repainting the plot with them are separate frames: a timer due
    while the items were built fires before the repaint (in one frame they were 57-92 ms at load 5-6)."""
    order = []

    class PaintSpy(QtCore.QObject):
        def eventFilter(self, _obj, event):
            if event.type() == QtCore.QEvent.Paint:
                order.append("paint")
            return False

    spy = PaintSpy()
    loss_plot.plot_widget.viewport().installEventFilter(spy)
    qtbot.wait(50)
    order.clear()
    timer = QtCore.QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: order.append("timer"))
    timer.start(0)
    epochs = np.arange(1.0, 1001.0)
    loss_plot.set_compared([("run", epochs, 1.0 / epochs, 1.2 / epochs, [(500, "lr 0.01 → 0.005")], [100, 500])])
    qtbot.waitUntil(lambda: "paint" in order, timeout=5_000)
    assert order[0] == "timer", order
    loss_plot.plot_widget.viewport().removeEventFilter(spy)


def test_marker_labels_close_together_never_overlap(loss_plot, qtbot):
    epochs = np.arange(1, 201)
    loss_plot.extend(epochs, 1.0 / epochs, 1.2 / epochs)
    loss_plot.legend.hide()  # rows only (labels beside the legend: the test below)
    loss_plot.add_marker(30, "lr 0.003 → 0.001")
    loss_plot.add_marker(31, "clip 5 → off")
    loss_plot.add_marker(32, "momentum 0.9 → 0.5")
    loss_plot.add_marker(32, "lr 0.001 → 0.0003")  # the same epoch: one line, one label
    assert loss_plot.markers() == [(30.0, "lr 0.003 → 0.001"), (31.0, "clip 5 → off"),
                                   (32.0, "momentum 0.9 → 0.5; lr 0.001 → 0.0003")]
    qtbot.wait(50)
    labels = [line.label for _, _, line in loss_plot._markers]
    assert labels[2].toPlainText() == "momentum 0.9 → 0.5; lr 0.001 → 0.0003"
    rects = [label.sceneBoundingRect() for label in labels]
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            assert not rects[i].intersects(rects[j]), (labels[i].toPlainText(), labels[j].toPlainText())
    loss_plot.add_marker(110, "lr 0.0003 → 0.0001")  # far from the others: back on the top row
    assert loss_plot._markers[-1][2].label.orthoPos == loss_plot._markers[0][2].label.orthoPos
    loss_plot.add_marker(199, "lr 0.0001 → 3e-05")  # at the right edge: left of its line, inside the view
    qtbot.wait(50)
    edge = loss_plot._markers[-1][2]
    assert edge.label.sceneBoundingRect().right() <= loss_plot.plot_item.vb.sceneBoundingRect().right()
    assert edge.label.sceneBoundingRect().left() < edge.sceneBoundingRect().left()


def _shown_labels(loss_plot):
    return [item.label for item in loss_plot.plot_item.items
            if isinstance(item, pg.InfiniteLine) and item.isVisible() and item.label.isVisible()]


def _assert_no_two_intersect(labels):
    rects = [label.sceneBoundingRect() for label in labels]
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            assert not rects[i].intersects(rects[j]), (labels[i].toPlainText(), labels[j].toPlainText())


def test_local_best_and_compared_marker_labels_share_one_placement_and_never_overlap(loss_plot, qtbot):
    """The compared runs' labels used to sit on the top row whatever the current run's labels did."""
    from gui.plots.run_marks import RunMarks

    epochs = np.arange(1.0, 201.0)
    loss_plot.extend(epochs, 1.0 / epochs, 1.2 / epochs)
    marks = RunMarks(loss_plot)
    for epoch, text in ((100, "lr 0.003 → 0.001"), (104, "clip 5 → off"), (30, "pause")):
        loss_plot.add_marker(epoch, text)
    marks.set_best(102, 0.01)
    marks.draw()
    runs = [(f"run {k}", epochs, 1.1 / epochs, (1.3 + k) / epochs,
             [(100 + k, "lr 0.003 → 0.001 (control)"), (30, "pause (control)")], []) for k in range(2)]
    loss_plot.set_compared(runs)
    qtbot.wait(100)
    labels = _shown_labels(loss_plot)
    assert "best: epoch 102" in [label.toPlainText() for label in labels]
    assert len(labels) == 3 + 1 + 4  # every label has room in a 400 px plot
    _assert_no_two_intersect(labels)
    legend = loss_plot.legend.sceneBoundingRect()  # and room beside or below the legend
    assert not any(label.sceneBoundingRect().intersects(legend) for label in labels)
    loss_plot.plot_item.vb.setXRange(90, 115, padding=0)  # zoomed in: rows freed, still apart
    qtbot.wait(100)
    _assert_no_two_intersect(_shown_labels(loss_plot))
    loss_plot.resize(640, 120)  # too short for five rows: some labels wait for room, none overlap
    qtbot.wait(100)
    shown = _shown_labels(loss_plot)
    assert 0 < len(shown) < 8
    _assert_no_two_intersect(shown)


def test_a_diverged_grey_run_does_not_set_the_y_range_of_the_next(loss_plot, qtbot):
    epochs = np.arange(1, 21)
    loss_plot.extend(epochs, np.geomspace(1.0, 1.6e7, 20), np.geomspace(1.0, 1.6e7, 20))
    loss_plot.new_run("sgd lr 1000 (diverged)")
    loss_plot.extend(epochs[:5], [1.0, 0.8, 0.6, 0.5, 0.45], [1.1, 0.9, 0.7, 0.6, 0.55])
    loss_plot.plot_item.vb.enableAutoRange()
    qtbot.wait(50)
    _, (low, high) = loss_plot.plot_item.vb.viewRange()
    assert high < 10  # the new run fills the plot, not a flat line under 1.6e7
    assert not loss_plot.overlay_sets_range(0)
    assert loss_plot.overlays() == ["sgd lr 1000 (diverged)"]  # still drawn in grey
    loss_plot.new_run("second")  # a run of the same scale as before keeps counting
    loss_plot.extend(epochs[:3], [1.0, 0.9, 0.8], [1.0, 0.9, 0.8])
    assert loss_plot.overlay_sets_range(1)


def test_the_loss_legend_has_a_translucent_background_so_a_curve_does_not_cross_its_text(loss_plot):
    from gui.plots.style import LEGEND_BRUSH

    color = loss_plot.legend.opts["brush"].color()
    assert loss_plot.legend.opts["brush"].style() != QtCore.Qt.NoBrush
    assert 0 < color.alpha() < 255  # the curve stays faintly visible under it
    assert color.getRgb() == LEGEND_BRUSH
