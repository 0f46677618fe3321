"""Refused (non-finite) training steps drawn on the loss curve with their count."""
import math
from types import SimpleNamespace

import numpy as np

from gui.live_views import LiveViews
from gui.plots import qimage_to_array
from gui.plots.export import export_image
from gui.plots.style import REFUSED_COLOR


def _views(loss_plot):
    """LiveViews with only the loss plot real (the other views are not drawn by draw_loss)."""
    predictions = SimpleNamespace(set_epoch=lambda *args: None, show_training_epoch=lambda *args: None)
    return LiveViews(loss_plot, None, None, predictions)


def _report(epoch, train, val, skipped=0):
    return SimpleNamespace(epoch=epoch, train_loss=train, val_loss=val, skipped_steps=skipped,
                           hidden=[], gates=[], probe_text=None, grad_norms={}, weight_norms={})


def test_an_epoch_with_refused_steps_is_a_marker_with_its_count(loss_plot, qtbot):
    views = _views(loss_plot)
    views.take([_report(1, 2.0, 2.1), _report(2, 1.5, 1.6, skipped=3), _report(3, math.nan, math.nan, skipped=40)])
    views.draw_loss()
    points = loss_plot.refused.points()
    assert [(e, n) for e, _, n in points] == [(2.0, 3), (3.0, 40)]
    assert points[0][1] == 1.5  # on the train curve at that epoch
    assert points[1][1] == 1.5  # all steps refused: no loss of its own, drawn at the nearest point
    assert [label.textItem.toPlainText() for label in loss_plot.refused._labels] == ["3 refused", "40 refused"]
    x, y = loss_plot.refused.symbols.getData()
    np.testing.assert_array_equal(x, [2.0, 3.0])
    qtbot.wait(10)
    rgb = qimage_to_array(export_image(loss_plot.plot_item, 640))[..., :3].astype(int)
    assert np.all(np.abs(rgb - REFUSED_COLOR) <= 10, axis=-1).sum() > 10  # the crosses are drawn
    # the label sits on the side of the cross that faces the middle of the view: never cut off
    view_rect = loss_plot.plot_item.vb.sceneBoundingRect()
    loss_plot.plot_item.vb.autoRange()
    qtbot.wait(10)
    for label in loss_plot.refused._labels:
        assert view_rect.contains(label.sceneBoundingRect().center())
    # log-y: the labels move to the log position, the crosses follow by themselves
    loss_plot.set_log_y(True)
    assert loss_plot.refused._labels[0].pos().y() == np.log10(1.5)
    # a new run starts without them
    loss_plot.new_run("earlier")
    assert loss_plot.refused.points() == [] and loss_plot.refused._labels == []


def test_epochs_without_refused_steps_draw_no_marker(loss_plot):
    views = _views(loss_plot)
    views.take([_report(1, 2.0, 2.1), _report(2, 1.9, 2.0)])
    views.draw_loss()
    assert loss_plot.refused.points() == []
