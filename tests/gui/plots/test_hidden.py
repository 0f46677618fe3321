"""HiddenStatePanel: heatmaps per layer and gate, unit traces, the scrubber, readable axes."""
import numpy as np
import pytest
from PyQt5 import QtCore

from gui.plots import qimage_to_array
from gui.plots.style import NONFINITE_COLOR
from tests.gui.plots.helpers import assert_apart, drawn_labels, not_blank, random_snapshot


def test_hidden_panel_shapes_levels_and_render(hidden_panel):
    rng = np.random.default_rng(0)
    hidden_panel.reset((16, 8), "elman")
    hidden, gates = random_snapshot(rng, [(30, 16), (30, 8)])
    hidden_panel.set_snapshot(1, hidden, gates)
    assert hidden_panel.image_array(0).shape == (30, 16)
    assert hidden_panel.image_array(1).shape == (30, 8)
    np.testing.assert_array_equal(hidden_panel.image_array(1), hidden[1])
    assert hidden_panel.levels(0) == (-1.0, 1.0)
    assert not hidden_panel.gate_combo.isVisibleTo(hidden_panel)
    for layer in (0, 1):
        assert not_blank(hidden_panel.render_layer_image(layer)) > 5
    # showing only layer 2 still lets layer 1 be rendered, and the selection is restored
    hidden_panel.set_layer(1)
    assert hidden_panel.selected_layers() == [1]
    assert not_blank(hidden_panel.render_layer_image(0)) > 5
    assert hidden_panel.selected_layers() == [1]


def test_hidden_panel_nonfinite_and_new_shape(hidden_panel):
    rng = np.random.default_rng(1)
    hidden_panel.reset((4,), "elman")
    h = np.tanh(rng.normal(size=(5, 4))).astype(np.float32)
    h[2, 1] = np.nan
    hidden_panel.set_snapshot(1, [h], [{}])
    shown = hidden_panel.image_array()
    assert np.isnan(shown[2, 1]) and np.isfinite(np.delete(shown.ravel(), 2 * 4 + 1)).all()
    # a snapshot of a differently sized model (new run) is adopted, not drawn wrongly
    hidden, gates = random_snapshot(rng, [(7, 6), (7, 3)], "gru")
    hidden_panel.set_snapshot(2, hidden, gates)
    assert hidden_panel.layer_sizes() == (6, 3) and hidden_panel.cell() == "gru"
    assert hidden_panel.image_array(1).shape == (7, 3)
    with pytest.raises(ValueError, match="2-D"):
        hidden_panel.set_snapshot(3, [np.zeros(5)], [{}])


def test_hidden_panel_gates(hidden_panel):
    rng = np.random.default_rng(2)
    hidden_panel.reset((6,), "lstm")
    hidden, gates = random_snapshot(rng, [(12, 6)], "lstm")
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
    assert not_blank(hidden_panel.render_layer_image(0)) > 5
    with pytest.raises(ValueError, match="no gate"):
        hidden_panel.set_gate("z")


def test_hidden_panel_unit_traces_by_click(hidden_panel, qtbot):
    rng = np.random.default_rng(3)
    hidden_panel.reset((8,), "elman")
    hidden, gates = random_snapshot(rng, [(20, 8)])
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
        hidden, gates = random_snapshot(rng, [(4, 3)])
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
    hidden_panel.set_snapshot(101, *random_snapshot(rng, [(4, 3)]))
    assert hidden_panel.displayed_epoch() == earlier
    hidden_panel.scrub_to(None)
    assert hidden_panel.displayed_epoch() == 101
    assert "live" in hidden_panel.scrub_label.text()


def test_short_linear_axis_does_not_cram_labels(hidden_panel, qtbot):
    # the unit-trace plot is short: pyqtgraph's "1.0 0.8 0.6 0.4 0.2 0" overlapped there
    hidden_panel.traces.widget.setFixedHeight(95)
    qtbot.wait(10)
    axis = hidden_panel.traces.plot.getAxis("left")
    labels = drawn_labels(axis, qtbot)
    assert 2 <= len(labels) <= 4, [t for _, t in labels]
    assert_apart(labels)


def test_hidden_panel_layers_readable_and_no_si_suffix(hidden_panel, qtbot):
    rng = np.random.default_rng(5)
    hidden_panel.resize(510, 420)
    hidden_panel.reset((32, 16), "gru")
    # before any snapshot the empty views span -0.5..0.5, where pyqtgraph labelled "t (x0.001)"
    for layer in (0, 1):
        for axis in ("left", "bottom"):
            assert "(x" not in hidden_panel.plot_item(layer).getAxis(axis).labelString()
    hidden, gates = random_snapshot(rng, [(60, 32), (60, 16)], "gru")
    hidden_panel.set_snapshot(1, hidden, gates)
    qtbot.wait(10)
    assert hidden_panel.graphics.height() <= 300
    for layer in (0, 1):
        plot = hidden_panel.plot_item(layer)
        assert plot.vb.sceneBoundingRect().height() >= 50  # each heatmap keeps a usable height
        assert plot.titleLabel.boundingRect().height() <= 22
        left = plot.getAxis("left")
        assert "(x" not in left.labelString()
        assert_apart(drawn_labels(left, qtbot))
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
    hidden_panel.set_snapshot(1, *random_snapshot(rng, [(20, 8)]))
    qtbot.wait(10)
    # the heatmaps get most of the height, the trace plot the rest
    assert hidden_panel.traces.widget.height() < hidden_panel.graphics.height() / 2
    hint = hidden_panel.traces.hint
    vb_rect = hidden_panel.traces.plot.vb.sceneBoundingRect()
    assert hint.isVisible() and "click a unit" in hint.textItem.toPlainText()
    assert not hidden_panel.traces.plot.titleLabel.isVisible()
    centre = hint.sceneBoundingRect().center()
    assert abs(centre.x() - vb_rect.center().x()) < 5 and abs(centre.y() - vb_rect.center().y()) < 5
    assert not hidden_panel.traces.legend.isVisible()
    hidden_panel.toggle_unit(0, 3)
    assert not hint.isVisible() and hidden_panel.traces.legend.isVisible()
    assert "unit traces" in hidden_panel.traces.plot.titleLabel.text
    hidden_panel.toggle_unit(0, 3)
    assert hint.isVisible()


def _magenta_pixels(image) -> int:
    rgb = qimage_to_array(image)[..., :3].astype(int)
    return int(np.all(rgb == NONFINITE_COLOR, axis=-1).sum())


def test_nonfinite_cells_are_painted_magenta_not_zero(hidden_panel, qtbot):
    rng = np.random.default_rng(7)
    hidden_panel.reset((6,), "lstm")
    hidden, gates = random_snapshot(rng, [(10, 6)], "lstm")
    hidden[0][3, 2] = np.nan
    hidden[0][7, 4] = np.inf
    gates[0]["c"][1, 1] = -np.inf
    hidden_panel.set_snapshot(1, hidden, gates)
    qtbot.wait(10)
    assert hidden_panel.nonfinite_count(0) == 2
    assert "2 NaN/Inf" in hidden_panel.plot_item(0).titleLabel.text
    assert _magenta_pixels(hidden_panel.render_layer_image(0)) > 20
    assert "non-finite" in hidden_panel.readout(0, 3, 2)
    # the cell state's symmetric levels come from the finite values only
    hidden_panel.set_gate("c")
    finite = np.abs(gates[0]["c"][np.isfinite(gates[0]["c"])]).max()
    assert hidden_panel.levels(0) == pytest.approx((-finite, finite))
    assert hidden_panel.nonfinite_count(0) == 1
    # a finite snapshot: nothing magenta
    hidden, gates = random_snapshot(rng, [(10, 6)], "lstm")
    hidden_panel.set_snapshot(2, hidden, gates)
    assert hidden_panel.nonfinite_count(0) == 0
    assert _magenta_pixels(hidden_panel.render_layer_image(0)) == 0


def test_traced_units_are_outlined_on_the_heatmap_in_their_trace_colour(hidden_panel, qtbot):
    rng = np.random.default_rng(8)
    hidden_panel.reset((8, 5), "elman")
    hidden_panel.set_snapshot(1, *random_snapshot(rng, [(12, 8), (12, 5)]))
    hidden_panel.toggle_unit(0, 3)
    hidden_panel.toggle_unit(1, 4)
    for layer, unit in ((0, 3), (1, 4)):
        pen = hidden_panel.traces.items[(layer, unit)].opts["pen"]
        assert hidden_panel.unit_marks(layer) == [(unit, pen.color().getRgb()[:3])]
    rect = hidden_panel._marks[0]._rects[3]
    assert rect.isVisible() and rect.rect() == QtCore.QRectF(2.5, -0.5, 1.0, 12.0)
    hidden_panel.toggle_unit(0, 3)  # untraced: the outline goes too
    assert hidden_panel.unit_marks(0) == [] and hidden_panel.unit_marks(1) != []


def test_text_labels_the_time_axis_readably(hidden_panel, qtbot):
    rng = np.random.default_rng(9)
    text = list("the cat\nsat on a mat ") * 4  # 88 steps
    hidden_panel.reset((5,), "elman")
    hidden_panel.set_snapshot(1, *random_snapshot(rng, [(len(text), 5)]), text=text)
    qtbot.wait(10)
    assert hidden_panel.time_labels(0)[:8] == list("the␣cat↵")
    axis = hidden_panel.plot_item(0).getAxis("left")
    labels = drawn_labels(axis, qtbot)
    shown = [t for _, t in labels]
    assert 3 <= len(shown) < len(text)  # crowded: every k-th character, not all 88
    assert_apart(labels)
    assert set(shown) <= set("the␣cat↵sonam")
    assert "'↵'" in hidden_panel.readout(0, 7, 0)
    with pytest.raises(ValueError, match="characters"):
        hidden_panel.set_snapshot(2, *random_snapshot(rng, [(5, 5)]), text=list("abc"))


def test_select_time_marks_the_step_on_every_layer(hidden_panel):
    rng = np.random.default_rng(10)
    hidden_panel.reset((4, 4), "elman")
    hidden_panel.set_snapshot(1, *random_snapshot(rng, [(9, 4), (9, 4)]))
    hidden_panel.select_time(6)
    assert hidden_panel.selected_time() == 6
    assert all(c.isVisible() and c.value() == 6 for c in hidden_panel._cursors)
    hidden_panel.select_time(None)
    assert not any(c.isVisible() for c in hidden_panel._cursors)


def test_a_reset_reuses_the_layer_plots_and_leaves_nothing_of_the_last_model(hidden_panel, qtbot, monkeypatch):
    """Every Reset and every restart rebuilt each layer's PlotItem (~25 ms apiece, its context
    menu); hammering Reset starved the event loop for 0.5-0.9 s (tests/gui/test_stress.py on CI)."""
    import pyqtgraph as pg

    rng = np.random.default_rng(11)
    hidden_panel.reset((6, 4), "lstm")
    hidden, gates = random_snapshot(rng, [(10, 6), (10, 4)], "lstm")
    hidden[0][3, 2] = np.nan
    hidden_panel.set_snapshot(1, hidden, gates)
    hidden_panel.toggle_unit(0, 3)
    hidden_panel.select_time(4)
    hidden_panel.set_gate("c")
    built = []
    original = pg.PlotItem.__init__
    monkeypatch.setattr(pg.PlotItem, "__init__", lambda self, *a, **k: (built.append(1), original(self, *a, **k))[1])
    for sizes in ((6, 4), (7, 3), (5,), (8, 2)):
        hidden_panel.reset(sizes, "elman")
    assert built == []  # never more layers than before: nothing built
    assert hidden_panel.layer_sizes() == (8, 2)
    assert "layer 1 · 8 units" in hidden_panel.plot_item(0).titleLabel.text
    assert hidden_panel.nonfinite_count(0) == 0 and hidden_panel.unit_marks(0) == []
    assert not any(c.isVisible() for c in hidden_panel._cursors)
    assert hidden_panel.levels(0) == pytest.approx((-1.0, 1.0))
    hidden_panel.set_snapshot(1, *random_snapshot(rng, [(12, 8), (12, 2)]))
    assert hidden_panel.image_array(0).shape == (12, 8)
    assert _magenta_pixels(hidden_panel.render_layer_image(0)) == 0
    hidden_panel.reset((3, 3, 3), "gru")
    assert len(built) == 2  # one more layer: its plot and its colour bar (a PlotItem too)
