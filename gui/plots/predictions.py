"""What the model predicts: classes (with a confusion matrix), forecasts or sampled text."""

from __future__ import annotations

import math

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg

from gui.plots.axis import ReadableAxisItem
from gui.plots.style import (ACTUAL_COLOR, ACTUAL_STYLES, FORECAST_COLORS, LEGEND_BRUSH, retitle,
                             retitle_fitting, set_compact_title)

TASK_CLASSIFY = "classify_sequence"
TASK_TEXT = "next_token"
TASK_FORECAST = "forecast"


class PredictionPanel(QtWidgets.QWidget):
    """What the model predicts: classes, forecasts or sampled text, depending on the task."""

    sigSampleRequested = QtCore.pyqtSignal(float, str)
    MAX_CELL_LABELS = 400  # confusion matrices bigger than 20 x 20 show colour only
    MAX_TICK_CHARS = 8  # class names on the axes are shortened to this many characters

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stack = QtWidgets.QStackedWidget()
        self.empty_label = QtWidgets.QLabel("No task yet: load a dataset.")
        self.empty_label.setAlignment(QtCore.Qt.AlignCenter)
        self.stack.addWidget(self.empty_label)
        self._build_classification()
        self._build_forecast()
        self._build_text()
        # Which weights the predictions come from: inference runs every ~2 s at most while training,
        # so it can lag the loss curve by a few epochs; the label says so instead of hiding it.
        self.epoch_label = QtWidgets.QLabel("")
        self.epoch_label.setObjectName("predictionsEpoch")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.epoch_label)
        layout.addWidget(self.stack)
        self._epoch: int | None = None
        self._training_epoch: int | None = None
        self._accuracy: float | None = None
        self._task: str | None = None
        self._class_names: list[str] = []
        self._confusion = np.zeros((0, 0), dtype=np.int64)

    # ----- pages
    def _build_classification(self) -> None:
        self.class_graphics = pg.GraphicsLayoutWidget()
        # Short titles: a LabelItem's minimum width is its text width, and a long title here once
        # pushed the confusion matrix out of a normal-sized dock. The title doubles as the legend.
        self.pred_plot = self.class_graphics.addPlot(row=0, col=0)
        set_compact_title(self.pred_plot, self._pred_title(None))
        self.pred_plot.setLabel("bottom", "validation sequence")  # left: the class names say it
        for axis in ("left", "bottom"):
            self.pred_plot.getAxis(axis).enableAutoSIPrefix(False)
        self.true_scatter = pg.ScatterPlotItem(symbol="o", size=11, pen=pg.mkPen(200, 200, 200),
                                               brush=None, name="true")
        self.pred_scatter = pg.ScatterPlotItem(symbol="x", size=8, pen=None, name="predicted")
        self.pred_plot.addItem(self.true_scatter)
        self.pred_plot.addItem(self.pred_scatter)
        self.confusion_plot = self.class_graphics.addPlot(row=0, col=1)
        set_compact_title(self.confusion_plot, "confusion")
        self.confusion_plot.setLabel("left", "true")
        self.confusion_plot.setLabel("bottom", "predicted")
        for axis in ("left", "bottom"):
            self.confusion_plot.getAxis(axis).enableAutoSIPrefix(False)
        self.confusion_plot.invertY(True)
        self.confusion_plot.setAspectLocked(True)
        # a fixed table, not a plot to explore: no panning away from it
        self.confusion_plot.setMouseEnabled(x=False, y=False)
        self.confusion_plot.setMenuEnabled(False)
        self.confusion_plot.hideButtons()
        self.confusion_plot.vb.setDefaultPadding(0.02)
        self.confusion_image = pg.ImageItem(axisOrder="row-major")
        self.confusion_image.setColorMap(pg.colormap.get("viridis"))
        self.confusion_plot.addItem(self.confusion_image)
        self._cell_texts: list[pg.TextItem] = []
        layout = self.class_graphics.ci.layout
        layout.setColumnStretchFactor(0, 1)
        layout.setColumnStretchFactor(1, 1)
        self.stack.addWidget(self.class_graphics)

    def _pred_title(self, accuracy: float | None) -> str:
        return self._pred_titles(accuracy)[0]

    def _pred_titles(self, accuracy: float | None) -> list[str]:
        """The title, then shorter ones for a narrow plot: without the epoch (the line above the plots
        says it), then without the accuracy."""
        score = "" if accuracy is None or not math.isfinite(accuracy) else f" · acc {accuracy:.1%}"
        epoch = "" if getattr(self, "_epoch", None) is None else f" · ep {self._epoch}"
        return [f"o true · x pred{score}{epoch}", f"o true · x pred{score}", "o true · x pred"]

    def _forecast_title(self) -> str:
        epoch = "" if self._epoch is None else f"epoch {self._epoch} · "
        return f"{epoch}probe sequence: one-step forecast vs actual"

    # ----- which epoch
    def set_epoch(self, epoch: int | None, training_epoch: int | None = None) -> None:
        """The epoch whose weights made the predictions shown (None: none of this run yet), and
        the epoch training has reached (the label shows the lag when they differ)."""
        if epoch is not None:
            self._epoch = int(epoch)
        elif self._epoch is not None:
            self._epoch = None
            self._set_epoch_text("predictions of the previous run (this one has none yet)")
            return
        self.show_training_epoch(training_epoch)
        if self._task == TASK_CLASSIFY:
            retitle_fitting(self.pred_plot, self._pred_titles(self._accuracy))
        elif self._task == TASK_FORECAST:
            retitle(self.forecast_plot, self._forecast_title())

    def show_training_epoch(self, training_epoch: int | None) -> None:
        self._training_epoch = training_epoch
        if self._epoch is None:
            return
        text = f"predictions: epoch {self._epoch}"
        if training_epoch is not None and training_epoch > self._epoch:
            text += f" (training at {training_epoch})"
        self._set_epoch_text(text)

    def _set_epoch_text(self, text: str) -> None:
        if self.epoch_label.text() != text:  # called every frame with reports: no repaint when unchanged
            self.epoch_label.setText(text)

    def epoch(self) -> int | None:
        return self._epoch

    def epoch_text(self) -> str:
        return self.epoch_label.text()

    def _build_forecast(self) -> None:
        self.forecast_widget = pg.PlotWidget(axisItems={"left": ReadableAxisItem("left")})
        self.forecast_plot = self.forecast_widget.getPlotItem()
        set_compact_title(self.forecast_plot, "probe sequence: one-step forecast vs actual")  # + epoch later
        self.forecast_plot.setLabel("bottom", "time step")
        self.forecast_plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.forecast_legend = self.forecast_plot.addLegend(offset=(-10, 5), brush=LEGEND_BRUSH)
        self.forecast_plot.showGrid(x=True, y=True, alpha=0.2)
        self._forecast_items: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._forecast_data: dict = {"actual": np.empty((0, 0)), "forecast": np.empty((0, 0))}
        self.stack.addWidget(self.forecast_widget)

    def _build_text(self) -> None:
        page = QtWidgets.QWidget()
        self.text_view = QtWidgets.QPlainTextEdit()
        self.text_view.setReadOnly(True)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        self.text_view.setFont(font)
        self.temperature_slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.temperature_slider.setRange(10, 200)  # hundredths: 0.10 .. 2.00
        self.temperature_slider.setValue(100)
        self.temperature_slider.setToolTip("Sampling temperature: low = safe and repetitive, high = adventurous")
        self.temperature_label = QtWidgets.QLabel()
        self.prime_edit = QtWidgets.QLineEdit()
        self.prime_edit.setPlaceholderText("priming text (optional)")
        self.sample_button = QtWidgets.QPushButton("Sample")
        self.sample_button.setToolTip("Generate text from the current model")
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(QtWidgets.QLabel("Temperature"))
        controls.addWidget(self.temperature_slider, 1)
        controls.addWidget(self.temperature_label)
        controls.addWidget(self.prime_edit, 2)
        controls.addWidget(self.sample_button)
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.text_view, 1)
        layout.addLayout(controls)
        self.temperature_slider.valueChanged.connect(self._update_temperature_label)
        self.sample_button.clicked.connect(self.request_sample)
        self.prime_edit.returnPressed.connect(self.request_sample)
        self._update_temperature_label()
        self.stack.addWidget(page)
        self.text_page = page

    # ----- task
    def set_task(self, task: str, class_names=()) -> None:
        if task not in (TASK_CLASSIFY, TASK_TEXT, TASK_FORECAST):
            raise ValueError(f"unknown task {task!r}; expected {TASK_CLASSIFY}, {TASK_TEXT} or {TASK_FORECAST}")
        self._task = task
        self._class_names = [str(c) for c in class_names]
        if task == TASK_CLASSIFY:
            self._set_class_axes(self._class_names)
            self._confusion = np.zeros((len(self._class_names),) * 2, dtype=np.int64)
            self._draw_confusion()
            self.true_scatter.setData([], [])
            self.pred_scatter.setData([], [])
            set_compact_title(self.pred_plot, self._pred_title(None))
            self.stack.setCurrentWidget(self.class_graphics)
        elif task == TASK_FORECAST:
            self._set_forecast_outputs(0)
            self.stack.setCurrentWidget(self.forecast_widget)
        else:
            self.text_view.setPlainText("")
            self.stack.setCurrentWidget(self.text_page)

    def task(self) -> str | None:
        return self._task

    def show_note(self, text: str) -> None:
        """Say why there are no predictions (e.g. a run opened from disk whose data file is gone)."""
        self.empty_label.setText(str(text))
        self.empty_label.setWordWrap(True)
        self.stack.setCurrentWidget(self.empty_label)

    def note(self) -> str:
        """The text shown instead of predictions ('' while a prediction page is shown)."""
        return self.empty_label.text() if self.stack.currentWidget() is self.empty_label else ""

    def current_page(self) -> QtWidgets.QWidget:
        return self.stack.currentWidget()

    # ----- classification
    def _set_class_axes(self, names: list[str]) -> None:
        # long class names would widen both left axes until the matrix no longer fits
        names = [name if len(name) <= self.MAX_TICK_CHARS else name[: self.MAX_TICK_CHARS - 1] + "…"
                 for name in names]
        self.pred_plot.getAxis("left").setTicks([list(enumerate(names))])
        for item in self._cell_texts:
            self.confusion_plot.removeItem(item)
        self._cell_texts = []
        n = len(names)
        if n * n <= self.MAX_CELL_LABELS:
            for i in range(n):
                for j in range(n):
                    text = pg.TextItem("", anchor=(0.5, 0.5), color=(255, 255, 255))
                    text.setPos(j + 0.5, i + 0.5)
                    self.confusion_plot.addItem(text, ignoreBounds=True)
                    self._cell_texts.append(text)
        # row-major ImageItem pixel (i, j) covers x in [j, j+1), y in [i, i+1); ticks at centres
        shifted = [[(k + 0.5, name) for k, name in enumerate(names)]]
        self.confusion_plot.getAxis("left").setTicks(shifted)
        self.confusion_plot.getAxis("bottom").setTicks(shifted)

    def update_classification(self, true, pred, class_names=None) -> None:
        """Per validation sequence: true and predicted class ids; redraws the confusion matrix."""
        true = np.asarray(true, dtype=np.int64).ravel()
        pred = np.asarray(pred, dtype=np.int64).ravel()
        if true.shape != pred.shape:
            raise ValueError(f"true and predicted labels differ in length: {true.size} vs {pred.size}")
        if class_names is not None and [str(c) for c in class_names] != self._class_names:
            self.set_task(TASK_CLASSIFY, class_names)
        elif self._task != TASK_CLASSIFY:
            self.set_task(TASK_CLASSIFY, self._class_names)
        n = len(self._class_names)
        if n == 0:
            n = int(max(true.max(initial=-1), pred.max(initial=-1)) + 1)
            self.set_task(TASK_CLASSIFY, [str(i) for i in range(n)])
        for kind, ids in (("true", true), ("predicted", pred)):
            bad = (ids < 0) | (ids >= n)
            if bad.any():
                raise ValueError(f"class ids must be in 0..{n - 1} for {n} classes; got {kind} class {int(ids[bad][0])}")
        index = np.arange(true.size)
        correct = true == pred
        self.true_scatter.setData(index, true)
        # two shared brushes/pens indexed per point, not two new Qt objects per validation sequence
        good_brush, bad_brush = pg.mkBrush(80, 200, 120), pg.mkBrush(230, 70, 70)
        good_pen, bad_pen = pg.mkPen(80, 200, 120, width=2), pg.mkPen(230, 70, 70, width=2)
        brushes = [good_brush if ok else bad_brush for ok in correct]
        pens = [good_pen if ok else bad_pen for ok in correct]
        self.pred_scatter.setData(index, pred, brush=brushes, pen=pens)
        accuracy = float(correct.mean()) if correct.size else float("nan")
        self._accuracy = accuracy
        retitle_fitting(self.pred_plot, self._pred_titles(accuracy))
        confusion = np.zeros((n, n), dtype=np.int64)
        np.add.at(confusion, (true, pred), 1)
        self._confusion = confusion
        self._draw_confusion()

    def _draw_confusion(self) -> None:
        confusion = self._confusion
        n = confusion.shape[0]
        if n == 0:
            self.confusion_image.clear()
            return
        top = max(1, int(confusion.max()))
        self.confusion_image.setImage(confusion.astype(np.float32), autoLevels=False, levels=(0, top))
        self.confusion_image.setRect(QtCore.QRectF(0, 0, n, n))
        self.confusion_plot.vb.setRange(xRange=(0, n), yRange=(0, n))
        if self._cell_texts:
            for k, text in enumerate(self._cell_texts):
                count = int(confusion.flat[k])
                # dark text on the bright (yellow) end of viridis
                text.setText(str(count), color=(20, 20, 20) if count > 0.6 * top else (255, 255, 255))

    def confusion_matrix(self) -> np.ndarray:
        return self._confusion.copy()

    def cell_labels(self) -> list[str]:
        return [t.toPlainText() for t in self._cell_texts]

    # ----- forecast
    def _set_forecast_outputs(self, k: int) -> None:
        if k == len(self._forecast_items):
            return
        for actual, forecast in self._forecast_items:
            self.forecast_plot.removeItem(actual)
            self.forecast_plot.removeItem(forecast)
        self._forecast_items = []
        for j in range(k):
            # actual in neutral light grey underneath, forecast in a strong colour on top: the two
            # must never be told apart by dash style alone
            suffix = f" {j + 1}" if k > 1 else ""
            actual_style = ACTUAL_STYLES[j % len(ACTUAL_STYLES)]
            actual = self.forecast_plot.plot(pen=pg.mkPen(ACTUAL_COLOR, width=1.5, style=actual_style),
                                             name=f"actual{suffix}")
            forecast = self.forecast_plot.plot(pen=pg.mkPen(FORECAST_COLORS[j % len(FORECAST_COLORS)], width=2),
                                               name=f"forecast{suffix}")
            actual.setZValue(0)
            forecast.setZValue(1)
            self._forecast_items.append((actual, forecast))

    def update_forecast(self, actual, forecast) -> None:
        """Actual and forecast values over the probe sequence, (T,) or (T, K) each."""
        actual = np.asarray(actual, dtype=np.float64)
        forecast = np.asarray(forecast, dtype=np.float64)
        if actual.ndim == 1:
            actual = actual[:, None]
        if forecast.ndim == 1:
            forecast = forecast[:, None]
        if actual.ndim != 2 or forecast.ndim != 2 or actual.shape[1] != forecast.shape[1]:
            raise ValueError(f"actual and forecast must be (T,) or (T, K) with the same K, "
                             f"got {actual.shape} and {forecast.shape}")
        if self._task != TASK_FORECAST:
            self.set_task(TASK_FORECAST)
        self._set_forecast_outputs(actual.shape[1])
        for j, (actual_item, forecast_item) in enumerate(self._forecast_items):
            for item, values in ((actual_item, actual[:, j]), (forecast_item, forecast[:, j])):
                t = np.arange(values.size, dtype=np.float64)
                keep = np.isfinite(values)
                item.setData(t[keep], values[keep])
        self._forecast_data = {"actual": actual, "forecast": forecast}

    def forecast_data(self) -> dict:
        """{'actual': (T, K), 'forecast': (T, K)} as last given."""
        return {k: v.copy() for k, v in self._forecast_data.items()}

    # ----- text
    def temperature(self) -> float:
        return self.temperature_slider.value() / 100.0

    def set_temperature(self, value: float) -> None:
        if not 0.1 <= value <= 2.0:
            raise ValueError(f"temperature must be between 0.1 and 2.0, got {value}")
        self.temperature_slider.setValue(int(round(value * 100)))

    def prime(self) -> str:
        return self.prime_edit.text()

    def _update_temperature_label(self, *_args) -> None:
        self.temperature_label.setText(f"{self.temperature():.2f}")

    def request_sample(self) -> None:
        self.sigSampleRequested.emit(self.temperature(), self.prime())

    def set_text_sample(self, text: str) -> None:
        if self._task != TASK_TEXT:
            self.set_task(TASK_TEXT)
        self.text_view.setPlainText(str(text))

    def text_sample(self) -> str:
        return self.text_view.toPlainText()

    def export_item(self):
        page = self.stack.currentWidget()
        if page is self.class_graphics:
            return self.class_graphics.ci
        if page is self.forecast_widget:
            return self.forecast_plot
        raise ValueError("only the classification and forecast views can be exported as an image; "
                         "copy the sampled text instead")


