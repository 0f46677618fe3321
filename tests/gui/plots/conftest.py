"""One shown widget of each kind, closed after the test."""
import pytest

from gui.plots import HiddenStatePanel, LossPlot, PredictionPanel


def _shown(qtbot, widget, width: int, height: int):
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    return widget


@pytest.fixture
def loss_plot(qtbot):
    return _shown(qtbot, LossPlot(), 640, 400)


@pytest.fixture
def hidden_panel(qtbot):
    return _shown(qtbot, HiddenStatePanel(max_snapshots=10), 800, 700)


@pytest.fixture
def prediction_panel(qtbot):
    return _shown(qtbot, PredictionPanel(), 700, 350)
