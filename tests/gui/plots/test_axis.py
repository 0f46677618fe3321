"""ReadableAxisItem and the log tick rule: labels never pile up."""
import numpy as np
import pytest

from gui.plots import DiagnosticsPlot
from gui.plots.axis import log_tick_levels, tick_labels
from tests.gui.plots.helpers import assert_apart, drawn_labels, label_values


@pytest.mark.parametrize("low, high", [(0.08, 0.3), (2.0, 16.0), (0.2, 0.3), (1e-5, 30.0), (0.081, 0.083)])
def test_log_axis_labels_fit_under_a_decade_and_over_many(qtbot, low, high):
    plot = DiagnosticsPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    plot.add_reports((epoch, {"layer1": value}, {"layer1": value})
                     for epoch, value in enumerate(np.geomspace(low, high, 12), start=1))
    for item in (plot.grad_plot, plot.weight_plot):
        item.vb.setRange(yRange=(np.log10(low), np.log10(high)), padding=0)
        qtbot.wait(1)
        axis = item.getAxis("left")
        labels = drawn_labels(axis, qtbot)
        texts = [text for _, text in labels]
        assert 2 <= len(labels) <= 6, texts  # pyqtgraph drew "0.3 0.2 0.1 0.09 0.08" on top of each other
        assert len(set(texts)) == len(texts), texts
        values = label_values(labels)
        assert all(low * 0.999 <= v <= high * 1.001 for v in values), texts
        assert_apart(labels)


def test_log_tick_levels_thin_decades_and_keep_minor_ticks():
    # 11 decades over 60 px: every k-th decade, in superscript form
    (spacing, labelled), (_, minor) = log_tick_levels(-8, 3, 60, 20)
    assert 2 <= len(labelled) <= 4 and all(float(v).is_integer() for v in labelled)
    assert "10⁻⁵" in tick_labels([10.0 ** v for v in labelled]) or len(labelled) < 4
    # 1..16 over 90 px: 1-2-5 labelled, the other 1..9 positions as unlabelled ticks
    (_, labelled), (_, minor) = log_tick_levels(0, np.log10(16), 90, 20)
    assert tick_labels([10.0 ** v for v in labelled]) == ["2", "5", "10"]  # "1" sits on the very end
    assert len(minor) >= 5
    assert tick_labels([2e-5, 0.08, 300.0, 1e6]) == ["2·10⁻⁵", "0.08", "300", "10⁶"]
