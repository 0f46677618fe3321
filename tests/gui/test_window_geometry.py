"""The first launch fits the screen and the controls keep their values readable (gui.window_geometry)."""
from PyQt5 import QtCore, QtGui, QtWidgets

from gui.window_geometry import fit_to_screen
from tests.gui.text_dock import show_ranked_text


def _value_column_width(controls) -> int:
    tree = controls.tree
    return tree.viewport().width() - tree.columnWidth(0)


def test_first_launch_fits_the_available_screen(qtbot, make_window):
    window = make_window()
    available = QtWidgets.QApplication.primaryScreen().availableGeometry()  # 800 x 600 offscreen
    assert window.width() <= available.width() and window.height() <= available.height()
    assert available.contains(window.geometry())


def test_a_1024x700_screen_keeps_the_value_column_readable(qtbot, make_window):
    window = make_window()
    small = QtCore.QRect(0, 0, 1024, 700)
    rect = fit_to_screen(window, small)
    qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
    QtWidgets.QApplication.processEvents()
    assert small.contains(rect)
    fm = window.controls.tree.fontMetrics()
    assert _value_column_width(window.controls) >= fm.horizontalAdvance("GunPoint_TRAIN.tsv")
    # squeezed by hand, the dock stops where the values would start to vanish
    window.resizeDocks([window.docks["controls"]], [40], QtCore.Qt.Horizontal)
    QtWidgets.QApplication.processEvents()
    assert _value_column_width(window.controls) >= fm.horizontalAdvance("0.0030")


def test_the_controls_ask_for_more_room_in_a_large_font(qtbot, qapp):
    from gui.controls import VALUE_SAMPLE, ControlPanel

    normal = ControlPanel()
    qtbot.addWidget(normal)
    font = QtGui.QFont(qapp.font())
    large = QtGui.QFont(font)
    large.setPointSizeF(font.pointSizeF() * 1.5)  # what 144 dpi does to a 96-dpi layout
    qapp.setFont(large)
    try:
        panel = ControlPanel()
        qtbot.addWidget(panel)
        names = panel.tree.sizeHintForColumn(0)
        assert names > normal.tree.sizeHintForColumn(0)  # the names are not cut: their column grew
        assert panel.minimum_width() >= names + QtGui.QFontMetrics(large).horizontalAdvance(VALUE_SAMPLE)
    finally:
        qapp.setFont(font)


def test_on_a_1600px_screen_every_dock_fits_and_shows_all_of_its_content(qtbot, make_window):
    """No dock ends past the screen, and none is narrower than its content needs (which would
    scroll its right part out of sight): checked for every dock, raised in turn."""
    window = make_window()
    screen = QtCore.QRect(0, 0, 1600, 1000)
    rect = fit_to_screen(window, screen)
    qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
    assert screen.contains(rect)
    for key, dock in window.docks.items():
        dock.raise_()
        QtWidgets.QApplication.processEvents()
        assert dock.geometry().right() < window.width(), key
        area = dock.widget()
        if isinstance(area, QtWidgets.QScrollArea):
            needed = area.widget().minimumSizeHint().width()
            assert needed <= area.viewport().width(), f"{key}: needs {needed} px, has {area.viewport().width()}"


def test_on_a_1600px_screen_the_text_docks_ranking_shows_every_column_without_scrolling(qtbot, make_window):
    """Its "on span" / "elsewhere" columns were cut off behind a sideways scroll bar."""
    window = make_window()
    rect = fit_to_screen(window, QtCore.QRect(0, 0, 1600, 1000))
    qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
    view = show_ranked_text(window)
    ranking = view.ranking
    header = ranking.header()
    assert ranking.viewport().width() > 0
    assert header.length() <= ranking.viewport().width(), \
        f"columns need {header.length()} px, the list shows {ranking.viewport().width()}"
    assert not ranking.horizontalScrollBar().isVisible()
    area = window.docks["text"].widget()  # and the list's width does not push the dock into a scroll
    if isinstance(area, QtWidgets.QScrollArea):
        assert area.widget().minimumSizeHint().width() <= area.viewport().width()
    for column in range(ranking.columnCount()):  # every value readable in its column
        needed = max(ranking.sizeHintForColumn(column), header.sectionSizeHint(column))
        assert ranking.columnWidth(column) >= needed - 2, (ranking.headerItem().text(column), needed)



def _dataset_row_room(controls, name):
    """(text, pixels the text needs, pixels its label shows within the tree's viewport) of a Dataset row."""
    tree = controls.tree
    [item] = list(controls._param(name).items)
    label = item.displayLabel
    assert label.isVisibleTo(tree), name
    left = label.mapTo(tree.viewport(), QtCore.QPoint(0, 0)).x()
    return label.text(), label.fontMetrics().horizontalAdvance(label.text()), \
        min(label.width(), tree.viewport().width() - left)


def test_framed_lengths_fit_their_column_at_the_default_size_and_on_1024x700(qtbot, make_window):
    """GunPoint framed by 5 showed "150 / 150 / 150 steps, a" (the rest only in the tooltip)."""
    from engine.data import load_sequences
    from engine.data.framing import frame_dataset

    window = make_window()
    window.controls.set_dataset(frame_dataset(load_sequences("benchmarks/data/GunPoint_TRAIN.ts"), 5))
    for screen in (None, QtCore.QRect(0, 0, 1024, 700)):
        rect = fit_to_screen(window, screen)
        qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
        QtWidgets.QApplication.processEvents()
        for name in ("lengths", "frames"):
            text, needed, room = _dataset_row_room(window.controls, name)
            assert needed <= room, (screen, name, text, needed, room)


ROW_GAP = 4  # px between a row's text and what follows it (the column's edge, its reset button)


def test_every_dataset_row_fits_its_column_with_its_full_text_in_its_tooltip(qtbot, make_window):
    """GunPoint framed by 5 read "5 feature(s): value@0, v" (no tooltip with the rest) and "classify_sequence"
    touched its reset button at 1024x700."""
    from engine.data import load_sequences
    from engine.data.framing import frame_dataset

    window = make_window()
    window.controls.set_dataset(frame_dataset(load_sequences("benchmarks/data/GunPoint_TRAIN.ts"), 5))
    names = ("file", "task", "sequences", "lengths", "frames", "inputs", "outputs")
    for screen in (None, QtCore.QRect(0, 0, 1024, 700)):
        rect = fit_to_screen(window, screen)
        qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
        QtWidgets.QApplication.processEvents()
        for name in names:
            text, needed, room = _dataset_row_room(window.controls, name)
            assert needed + ROW_GAP <= room, (screen, name, text, needed, room)
    [item] = list(window.controls._param("inputs").items)
    assert "value@0, value@1, value@2, value@3, value@4" in item.toolTip(1)  # every name, on hover


def test_the_loss_legend_stays_inside_its_plot_at_the_default_size_and_on_1024x700(qtbot, make_window):
    """At 1024x700 the legend was cut at the plot's left edge: "n", "dation", "n (running, within an epoch)".
    Shown, it is inside the view box; a plot too narrow for it (the offscreen 800x600 default) hides it."""
    window = make_window()
    plot = window.loss_plot
    for screen in (None, QtCore.QRect(0, 0, 1024, 700), QtCore.QRect(0, 0, 1600, 1000)):
        rect = fit_to_screen(window, screen)
        qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
        QtWidgets.QApplication.processEvents()
        legend = plot.legend.sceneBoundingRect()
        view = plot.plot_item.vb.sceneBoundingRect()
        assert plot.legend.isVisible() or (screen is None and legend.width() > view.width()), (screen, legend, view)
        if plot.legend.isVisible():
            assert view.contains(legend) and plot.plot_widget.sceneRect().contains(legend), (screen, legend, view)


def test_the_epoch_bars_text_fits_the_bar_on_1024x700(qtbot, make_window):
    """A 100000-epoch run at 1024x700: "epoch 120 / 100000" wrapped onto two lines in a squeezed bar."""
    window = make_window()
    window.status_line.set_total(100_000)
    window.status_line.show_epoch(99_999)
    bar = window.status_line.progress
    for screen in (None, QtCore.QRect(0, 0, 1024, 700)):
        rect = fit_to_screen(window, screen)
        qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
        QtWidgets.QApplication.processEvents()
        assert bar.text() == "epoch 99999 / 100000"
        assert bar.fontMetrics().horizontalAdvance(bar.text()) + 2 * ROW_GAP <= bar.width(), (screen, bar.width())
