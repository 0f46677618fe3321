"""TextView: the probe text coloured by a unit's activation, clicks, select by pattern, traces."""
import numpy as np
import pytest
from PyQt5 import QtCore

from gui.plots.style import NONFINITE_COLOR
from gui.plots.text_view import TextView, text_colors
from tests.gui.plots.helpers import not_blank

TEXT = list("ab cab\nba c")  # 11 steps, a newline among them


@pytest.fixture
def text_view(qtbot, hidden_panel):
    view = TextView(hidden_panel)
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    return view


def _snapshot(hidden_panel, epoch=1, units=4, fill=None):
    T = len(TEXT)
    h = np.zeros((T, units), np.float32) if fill is None else fill
    hidden_panel.reset((units,), "elman") if hidden_panel.layer_sizes() != (units,) else None
    hidden_panel.set_snapshot(epoch, [h], [{}], text=TEXT)
    return h


def test_each_character_gets_the_colour_of_its_own_step(hidden_panel, text_view):
    h = np.zeros((len(TEXT), 4), np.float32)
    h[:, 2] = np.linspace(-1, 1, len(TEXT))  # a different value at every step
    h[4, 2] = np.nan
    _snapshot(hidden_panel, fill=h)
    text_view.set_unit(0, 2)
    np.testing.assert_array_equal(text_view.step_values(), h[:, 2].astype(np.float64))
    expected = text_colors(h[:, 2], (-1.0, 1.0), "CET-D1")
    drawn = text_view.char_colors()
    assert [c for c, _ in drawn] == TEXT
    for t, (_, rgb) in enumerate(drawn):
        assert rgb == tuple(int(v) for v in expected[t]), t
    assert drawn[4][1] == NONFINITE_COLOR  # the NaN step is magenta
    assert drawn[0][1] != drawn[-1][1]  # -1 and +1 look different
    # the newline is shown as a sign before a real line break
    assert "↵" in text_view.text.toPlainText() and text_view.text.document().blockCount() == 2


def test_unit_follows_the_scrubber_gate_and_traces(hidden_panel, text_view):
    first = np.zeros((len(TEXT), 4), np.float32)
    first[:, 1] = 0.5
    _snapshot(hidden_panel, 1, fill=first)
    second = np.zeros((len(TEXT), 4), np.float32)
    second[:, 1] = -0.5
    _snapshot(hidden_panel, 2, fill=second)
    hidden_panel.toggle_unit(0, 1)  # tracing a unit makes it the one that colours the text
    assert text_view.unit() == 1
    np.testing.assert_allclose(text_view.step_values(), -0.5)
    hidden_panel.scrub_to(1)
    np.testing.assert_allclose(text_view.step_values(), 0.5)
    assert "epoch 1" in text_view.info_label.text()


def test_without_a_choice_the_most_selective_unit_colours_the_text(hidden_panel, text_view):
    h = np.zeros((len(TEXT), 4), np.float32)
    h[::2, 3] = 0.9
    _snapshot(hidden_panel, fill=h)
    assert text_view.unit() == 3 and "most selective" in text_view.info_label.text()


def test_clicking_a_character_selects_its_step_in_the_heatmaps(hidden_panel, text_view, qtbot):
    _snapshot(hidden_panel)
    start = text_view._starts[7]  # 'b' on the second line
    rect = text_view.text.cursorRect(_cursor_at(text_view, start))
    qtbot.mouseClick(text_view.text.viewport(), QtCore.Qt.LeftButton, pos=rect.center() + QtCore.QPoint(3, 0))
    assert hidden_panel.selected_time() == 7
    assert all(c.isVisible() and c.value() == 7 for c in hidden_panel._cursors)


def test_clicking_a_heatmap_row_selects_its_character(hidden_panel, text_view, qtbot):
    _snapshot(hidden_panel)
    qtbot.wait(10)
    plot = hidden_panel.plot_item(0)
    plot.vb.autoRange(padding=0)
    scene_pos = plot.vb.mapViewToScene(QtCore.QPointF(1.2, 7.1))  # unit 1, t 7: 'b' on the second line
    qtbot.mouseClick(hidden_panel.graphics.viewport(), QtCore.Qt.LeftButton,
                     pos=hidden_panel.graphics.mapFromScene(scene_pos))
    assert hidden_panel.selected_time() == 7
    assert text_view.selected_step() == 7 and text_view.text.textCursor().selectedText() == TEXT[7]
    formats = text_view.text.textCursor().charFormat()
    assert formats.fontUnderline()  # the marked step is underlined too
    hidden_panel.select_time(2)  # and again, from anywhere
    assert text_view.selected_step() == 2


def _cursor_at(view, position):
    cursor = view.text.textCursor()
    cursor.setPosition(position)
    return cursor


def test_select_by_pattern_ranks_and_traces(hidden_panel, text_view):
    h = np.zeros((len(TEXT), 4), np.float32)
    h[3:6, 0] = 0.8  # "cab": unit 0 fires on the span only
    h[:, 1] = 0.8  # always on
    _snapshot(hidden_panel, fill=h)
    text_view.select_span(3, 6)
    assert text_view.selected_span() == (3, 6)
    ranked = text_view.rank_selection()
    assert [s.unit for s in ranked][:1] == [0] and text_view.ranked_units()[0] == 0
    assert {s.unit: s.score for s in ranked}[1] == pytest.approx(0.0)  # always on: not selective
    assert text_view.trace_ranked() == [0]
    assert hidden_panel.traced_units() == [(0, 0)]
    # nothing selected: a message, no ranking
    text_view.text.setTextCursor(_cursor_at(text_view, 0))
    assert text_view.rank_selection() == [] and "select" in text_view.info_label.text()


def test_non_text_data_says_what_the_view_needs(hidden_panel, text_view):
    hidden_panel.reset((3,), "elman")
    hidden_panel.set_snapshot(1, [np.zeros((5, 3), np.float32)], [{}])
    assert "text data" in text_view.info_label.text() and text_view.char_colors() == []


def test_render_image_draws_the_coloured_text(hidden_panel, text_view):
    h = np.tile(np.linspace(-1, 1, len(TEXT))[:, None], (1, 4)).astype(np.float32)
    _snapshot(hidden_panel, fill=h)
    assert not_blank(text_view.render_image(600, 240)) > 5
    fitted = text_view.render_image(600)  # as tall as the two lines need, not a mostly empty page
    assert 120 <= fitted.height() < 240 and fitted.width() == 600
    assert text_view.rank_button.isVisible()  # the buttons come back after the render


def test_a_selection_survives_the_next_epoch_and_the_scrubber(hidden_panel, text_view):
    h = np.zeros((len(TEXT), 4), np.float32)
    _snapshot(hidden_panel, 1, fill=h)
    text_view.select_span(3, 6)
    h2 = h.copy()
    h2[:, 0] = 0.7
    _snapshot(hidden_panel, 2, fill=h2)  # a new epoch arrives while the user has a span selected
    text_view.set_unit(0, 0)
    assert text_view.selected_span() == (3, 6)
    assert text_view.char_colors()[0][1] == tuple(int(v) for v in text_colors(np.array([0.7]), (-1, 1), "CET-D1")[0])
    hidden_panel.scrub_to(1)
    assert text_view.selected_span() == (3, 6)
    assert text_view.rank_selection()  # still rankable
