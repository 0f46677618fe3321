"""One shown widget of each kind, closed after the test."""
import pytest

from gui.plots import HiddenStatePanel, LossPlot, PredictionPanel


@pytest.fixture
def loss_plot(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(640, 400)
    plot.show()
    return plot


@pytest.fixture
def hidden_panel(qtbot):
    panel = HiddenStatePanel(max_snapshots=10)
    qtbot.addWidget(panel)
    panel.resize(800, 700)
    panel.show()
    return panel


@pytest.fixture
def prediction_panel(qtbot):
    panel = PredictionPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 350)
    panel.show()
    return panel
