"""PredictionPanel: classification with a confusion matrix, forecasts, sampled text."""
import numpy as np
import pytest
from PyQt5 import QtCore, QtGui

from gui.plots import PredictionPanel, export_plot
from tests.gui.plots.helpers import not_blank


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
    assert not_blank(QtGui.QImage(path)) > 5
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


def test_the_panel_says_which_epoch_its_predictions_come_from_and_the_lag(prediction_panel):
    prediction_panel.set_task("forecast")
    prediction_panel.update_forecast(np.arange(5.0), np.arange(5.0) + 0.1)
    prediction_panel.set_epoch(3, training_epoch=3)
    assert prediction_panel.epoch() == 3
    assert prediction_panel.epoch_text() == "predictions: epoch 3"
    assert "epoch 3" in prediction_panel.forecast_plot.titleLabel.text
    prediction_panel.show_training_epoch(7)  # training went on; the next inference is not due yet
    assert prediction_panel.epoch_text() == "predictions: epoch 3 (training at 7)"
    prediction_panel.set_epoch(None)  # a new run
    assert "previous run" in prediction_panel.epoch_text()
    prediction_panel.set_task("classify_sequence", ["a", "b"])
    prediction_panel.update_classification([0, 1, 1], [0, 1, 0])
    prediction_panel.set_epoch(12, training_epoch=12)
    assert "ep 12" in prediction_panel.pred_plot.titleLabel.text and "acc 66.7%" in prediction_panel.pred_plot.titleLabel.text
