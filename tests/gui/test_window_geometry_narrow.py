"""On a 1024x700 screen every dock fits its column: nothing is cut at the dock's (the window's) right
edge (gui.window_geometry, gui.plots.style's compact titles, gui.plots.shrinkable)."""
import numpy as np
import pytest
import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets

from gui.window_geometry import fit_to_screen
from tests.gui.text_dock import show_ranked_text

SMALL = QtCore.QRect(0, 0, 1024, 700)


def _fit(qtbot, window, screen=SMALL):
    rect = fit_to_screen(window, screen)
    qtbot.waitUntil(lambda: window.size() == rect.size(), timeout=5000)
    QtWidgets.QApplication.processEvents()
    return rect


def _show_classification(window):
    panel = window.predictions
    names = ["1", "2"]
    labels = np.array([1, 0, 1, 0, 0, 1, 1, 0, 1, 1])
    panel.set_task("classify_sequence", names)
    panel.update_classification(labels, labels, names)
    panel.set_epoch(234, 235)  # the longest title: "o true · x pred · acc 100.0% · ep 234"


def test_on_1024x700_the_predictions_confusion_matrix_is_inside_its_view(qtbot, make_window):
    """The prediction plot's title set its minimum width (pyqtgraph's LabelItem re-sets it to the
    text's width on every resize), so the two plots needed more than the dock and the confusion
    matrix was cut off at the window's right edge, with no scroll bar (a graphics view's content)."""
    window = make_window()
    _fit(qtbot, window)
    _show_classification(window)
    window.docks["predictions"].raise_()
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    view = window.predictions.class_graphics
    shown = QtCore.QRectF(view.viewport().rect())
    for plot in (window.predictions.pred_plot, window.predictions.confusion_plot):
        assert shown.contains(plot.sceneBoundingRect()), (plot.sceneBoundingRect(), shown)


def test_on_1024x700_no_plot_needs_more_than_its_view(qtbot, make_window):
    """Every pyqtgraph view in every dock (raised in turn): its layout's minimum fits the view."""
    window = make_window()
    _fit(qtbot, window)
    _show_classification(window)
    for key, dock in window.docks.items():
        dock.raise_()
        QtWidgets.QApplication.processEvents()
        for view in dock.findChildren(pg.GraphicsView):
            central = getattr(view, "ci", None) or getattr(view, "plotItem", None)
            if central is None or not view.isVisible():
                continue
            needed = central.effectiveSizeHint(QtCore.Qt.MinimumSize).width()
            assert needed <= view.viewport().width() + 1, f"{key}: a plot needs {needed:.0f} px, has {view.viewport().width()}"


def _needs_and_has(dock):
    area = dock.widget()
    assert isinstance(area, QtWidgets.QScrollArea), dock.objectName()
    return area.widget().minimumSizeHint().width(), area.viewport().width()


def test_on_1024x700_the_hidden_states_dock_shows_all_of_its_width(qtbot, make_window):
    """Its row of selectors (Layer, Show, "GRU · 2 layer(s)") and "epoch 74 (live)" asked for 419 px
    of a ~280 px dock: the heatmaps' right part sat behind a sideways scroll, cut at the window's edge."""
    window = make_window()
    _fit(qtbot, window)
    window.hidden_panel.reset((32, 32), "gru")  # a gate selector and the widest layer names
    window.hidden_panel.scrub_label.setText("epoch 12345 (live)")
    QtWidgets.QApplication.processEvents()
    needed, has = _needs_and_has(window.docks["hidden"])
    assert needed <= has, f"needs {needed} px, has {has}"
    info = window.hidden_panel.info_label
    assert info.text() == "GRU · 2 layer(s)"  # the whole text, on hover if it is cut
    if info.fontMetrics().horizontalAdvance(info.text()) > info.width():
        assert "GRU · 2 layer(s)" in info.toolTip()


SCREENS = [QtCore.QRect(0, 0, 1024, 700), QtCore.QRect(0, 0, 1280, 800), QtCore.QRect(0, 0, 1600, 1000),
           QtCore.QRect(0, 0, 512, 350)]  # the last: 1024x700 at 144 dpi (Qt 5 rounds its 1.5 scale to 2)


@pytest.mark.parametrize("screen", SCREENS, ids=lambda r: f"{r.width()}x{r.height()}")
def test_the_window_opens_inside_the_available_screen(qtbot, make_window, monkeypatch, screen):
    """On a 512x350 logical screen the controls kept their full width and the other two columns were
    squeezed below their minimum, so the window came out 628 px wide (and, in a real X window, 486 px
    tall): its right part was off the screen."""
    import gui.window_geometry as window_geometry

    monkeypatch.setattr(window_geometry, "available_geometry", lambda _window: QtCore.QRect(screen))
    window = make_window()
    qtbot.waitExposed(window)
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    assert screen.contains(window.frameGeometry()), (window.frameGeometry(), window.minimumSize())
    for key in ("controls", "loss", "hidden", "diagnostics", "predictions"):
        dock = window.docks[key]
        assert window.rect().contains(dock.geometry()), (key, dock.geometry(), window.rect(), dock.minimumSizeHint())


def test_on_1024x700_the_prediction_plots_title_fits_its_plot(qtbot, make_window):
    """ "o true · x pred · acc 100.0% · ep 234" overflowed its plot into the confusion matrix's title
    ("rue · x pred · acc 100.0% · ep 94confusion"); a narrow plot drops the epoch (the line above
    the plots says it), then the accuracy. A wide one keeps it all."""
    window = make_window()
    plot = window.predictions.pred_plot
    for screen, whole in ((SMALL, False), (QtCore.QRect(0, 0, 2400, 1400), True)):
        _fit(qtbot, window, screen)
        _show_classification(window)
        window.docks["predictions"].raise_()
        for _ in range(3):
            QtWidgets.QApplication.processEvents()
        title = plot.titleLabel.item.boundingRect().width()
        assert title <= plot.width(), (screen, plot.titleLabel.text, title, plot.width())
        if whole:
            assert "ep 234" in plot.titleLabel.text, plot.titleLabel.text
        assert plot.titleLabel.text.startswith("o true · x pred")


def test_the_step_bars_text_fits_the_bar_on_1024x700(qtbot, make_window):
    """A text run's long epochs at 1024x700: "epoch 3: step 22 / 39" wrapped onto two lines of the step
    bar (as "epoch 120 / 100000" once did in the epoch bar)."""
    from engine.progress import StepReport

    window = make_window()
    _fit(qtbot, window)
    report = StepReport(epoch=12345, step=2, steps_in_epoch=10_000, wall_s=1.0, train_loss=2.0, steps_per_s=3.0)
    window.status_line.show_step(report, now=1e9)
    QtWidgets.QApplication.processEvents()
    bar = window.status_line.step_progress
    assert bar.text() == "epoch 12345: step 2 / 10000"
    assert bar.fontMetrics().horizontalAdvance(bar.text()) + 8 <= bar.width(), bar.width()


@pytest.fixture
def desktop_font(qapp):
    """The desktop's usual 9 pt font (the offscreen platform's 12 pt is what a 1.33 scale would give)."""
    from PyQt5 import QtGui

    font = QtGui.QFont(qapp.font())
    small = QtGui.QFont(font)
    small.setPointSizeF(9)
    qapp.setFont(small)
    yield small
    qapp.setFont(font)


def test_on_1024x700_the_text_dock_shows_all_of_its_width(qtbot, desktop_font, make_window):
    """Text data at 1024x700: the Text dock's row (Layer, Unit, Rank units, Trace) and its text beside the
    ranked units asked for 391 px of a ~280 px dock, so its right part (Rank, the ranking's columns) was
    cut off behind a sideways scroll. The buttons take a second line, the list goes under the text."""
    window = make_window()
    _fit(qtbot, window)
    view = show_ranked_text(window)
    needed, has = _needs_and_has(window.docks["text"])
    assert needed <= has, f"needs {needed} px, has {has}"
    for button in (view.rank_button, view.trace_button):
        assert button.isVisible() and button.width() >= button.minimumSizeHint().width(), button.text()
    ranking = view.ranking
    assert ranking.header().length() <= ranking.viewport().width()  # every column of the list, unscrolled


def test_on_1024x700_the_status_lines_texts_are_whole_or_elided(qtbot, desktop_font, make_window):
    """At 1024x700 the backend's text was cut mid-word by the epoch bar ("· 1 compute th"); it ends with
    "…" now, the whole text on hover."""
    window = make_window()
    _fit(qtbot, window)
    status = window.status_line
    backend = "PyTensor 3.0.7 · JAX 0.10.2 (cpu) · float32 · 1 compute thread"
    status.show_backend(backend)
    status.set_total(300)
    status.show_epoch(233)
    status.lbl_loss.setText("train 0.000383 · val 0.0002971 · acc 100.0%")
    status.lbl_rate.setText("3,609 seq/s")
    QtWidgets.QApplication.processEvents()
    for label in (status.lbl_epoch, status.lbl_loss, status.lbl_rate, status.lbl_elapsed, status.lbl_backend):
        shown = QtWidgets.QLabel.text(label)
        assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width(), (shown, label.width())
    assert status.lbl_backend.text() == backend
    if QtWidgets.QLabel.text(status.lbl_backend) != backend:
        assert backend in status.lbl_backend.toolTip()


def test_on_1024x700_the_lower_docks_keep_a_usable_height(qtbot, make_window, monkeypatch):
    """Split 520:340 / 560:300 below the toolbar, a 700 px screen left Predictions 167 px with its row of
    tabs (plots ~100 px tall) while Hidden states had 364; the lower docks keep 250 px, or near half."""
    import gui.window_geometry as window_geometry

    monkeypatch.setattr(window_geometry, "available_geometry", lambda _window: QtCore.QRect(SMALL))
    window = make_window()
    qtbot.waitExposed(window)
    QtWidgets.QApplication.processEvents()
    for upper, lower in (("loss", "diagnostics"), ("hidden", "predictions")):
        top, bottom = window.docks[upper].height(), window.docks[lower].height()
        assert bottom >= min(250, 0.45 * (top + bottom)) and top >= bottom, (lower, top, bottom)
