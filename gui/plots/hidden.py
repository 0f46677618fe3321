"""Heatmaps (time x units) of every layer's hidden state or gates, unit traces and the epoch scrubber.

Row-major images: an array of shape (T, H) is drawn with time down the vertical axis and one
column per hidden unit. The snapshots themselves live in a Qt-free ``SnapshotStore``.
"""

from __future__ import annotations

import math

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg
import numpy as np

from engine.text_pattern import visible_char
from gui.plots.axis import ReadableAxisItem, format_tick
from gui.plots.export import export_image
from gui.plots.heatmap_marks import NonFiniteOverlay, UnitMarks, drawable
from gui.plots.hover import hide_on_leave, mark as mark_hover
from gui.plots.shrinkable import CompactRow, ElidedLabel, let_shrink
from gui.plots.snapshots import GATE_NAMES, Snapshot, SnapshotStore, make_snapshot
from gui.plots.style import (GATE_LEVELS, GATE_TITLES, HIDDEN_LEVELS, TIME_CURSOR_COLOR, TITLE_HEIGHT,
                             anchor_inside, epoch_note, retitle, set_compact_title)
from gui.plots.time_axis import TextTimeAxis
from gui.plots.unit_traces import UnitTraces



class HiddenStatePanel(QtWidgets.QWidget):
    """Heatmaps (time x units) of every layer's hidden state or gates for the probe sequence."""

    MAX_SNAPSHOTS = 200
    SNAPSHOT_BUDGET_BYTES = 128 * 1024 * 1024  # the scrubber never holds more than this

    sigUnitsChanged = QtCore.pyqtSignal()
    sigDisplayed = QtCore.pyqtSignal()  # another snapshot, layer data or gate is on show (text view follows)
    sigTimeSelected = QtCore.pyqtSignal(object)  # select_time(t): the step marked (int) or None; the text view selects it

    def __init__(self, parent=None, max_snapshots: int | None = None):
        super().__init__(parent)
        self.snapshots = SnapshotStore(int(max_snapshots or self.MAX_SNAPSHOTS), self.SNAPSHOT_BUDGET_BYTES)

        self.layer_combo = QtWidgets.QComboBox()
        self.layer_combo.setToolTip("Which layer to show")
        self.gate_combo = QtWidgets.QComboBox()
        self.gate_combo.setToolTip("Hidden state or one of the gates (GRU / LSTM)")
        self.info_label = ElidedLabel("")
        for combo in (self.layer_combo, self.gate_combo):
            let_shrink(combo)  # a ~280 px dock on a 1024x700 screen: the row gives way, the dock does not scroll
        self.top_row = CompactRow()  # the captions step aside in a narrow dock
        top = self.top_row.line
        self.top_row.add_caption("Layer", self.layer_combo)
        top.addWidget(self.layer_combo)
        self.gate_label = self.top_row.add_caption("Show", self.gate_combo)
        top.addWidget(self.gate_combo)
        top.addStretch(1)
        top.addWidget(self.info_label)

        self._build_views()

        self.scrubber = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.scrubber.setToolTip("Replay the hidden states of earlier epochs; rightmost = live")
        self.scrubber.setEnabled(False)
        self.scrub_label = ElidedLabel("no snapshot yet")
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(QtWidgets.QLabel("Epoch"))
        bottom.addWidget(self.scrubber, 1)
        bottom.addWidget(self.scrub_label)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.top_row)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)

        self._plots: list[pg.PlotItem] = []
        self._images: list[pg.ImageItem] = []
        self._bars: list[pg.ColorBarItem] = []
        self._hover: list[pg.TextItem] = []
        self._displayed: list[np.ndarray | None] = []
        self._nonfinite: list[NonFiniteOverlay] = []
        self._marks: list[UnitMarks] = []  # per layer: outlines of the traced units' columns
        self._cursors: list[pg.InfiniteLine] = []  # per layer: the selected time step
        self._pool: list[tuple] = []  # built layer plots, reused across resets (_build_layer_plots)
        self._selected_t: int | None = None
        self._layer_sizes: tuple[int, ...] = ()
        self._cell = "elman"
        self._scrub_epoch: int | None = None  # None = follow the latest snapshot
        self.stored = False  # the snapshots were read from a run folder: the newest is not live

        self.layer_combo.currentIndexChanged.connect(self._on_layer_selected)
        self.gate_combo.currentIndexChanged.connect(self._on_gate_selected)
        self.scrubber.valueChanged.connect(self._on_scrub)
        scene = self.graphics.scene()
        self._mouse_proxy = pg.SignalProxy(scene.sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self.reset((), "elman")

    def _build_views(self) -> None:
        """The heatmap area above the unit-trace plot, in a splitter."""
        self.graphics = pg.GraphicsLayoutWidget()
        hide_on_leave(self.graphics)
        self.traces = UnitTraces()
        # heatmaps above, traces below; the user can drag the handle, the heatmaps get most room
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.graphics)
        self.splitter.addWidget(self.traces.widget)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 110])

    # ----- setup
    def reset(self, layer_sizes, cell: str = "elman") -> None:
        """Start over for a model with these hidden sizes and cell type (drops all snapshots)."""
        cell = str(cell).lower()
        if cell not in GATE_NAMES:
            raise ValueError(f"unknown cell {cell!r}; expected one of {', '.join(GATE_NAMES)}")
        sizes = tuple(int(s) for s in layer_sizes)
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden sizes must be positive, got {sizes}")
        self._layer_sizes = sizes
        self._cell = cell
        self.snapshots.clear()
        self._scrub_epoch, self.stored = None, False
        self._selected_t = None
        self.traces.clear()

        self._build_layer_plots(sizes)
        self._fill_combos(sizes, cell)
        self._layout_plots()
        self._apply_levels()
        self._update_scrubber()
        self.info_label.setText(f"{cell.upper()} · {len(sizes)} layer(s)" if sizes else "")

    def _build_layer_plots(self, sizes: tuple[int, ...]) -> None:
        """One heatmap per layer. Plots are pooled: a PlotItem costs ~25 ms to build (its context
        menu), so a reset to a model of as many layers or fewer reuses them, cleared."""
        self.graphics.clear()  # rebuilding the layout for a new model, not per update
        while len(self._pool) < len(sizes):
            self._pool.append(self._new_layer_plot())
        layers = self._pool[:len(sizes)]
        self._plots, self._images, self._bars, self._nonfinite, self._marks, self._cursors, self._hover = (
            [list(column) for column in zip(*layers)] if layers else [[] for _ in range(7)])
        self._displayed = [None] * len(sizes)
        for layer, size in enumerate(sizes):
            set_compact_title(self._plots[layer], f"layer {layer + 1} · {size} units")
            self._plots[layer].enableAutoRange()  # a zoom into the last model's units does not carry
            self._images[layer].clear()
            self._nonfinite[layer].clear()
            self._marks[layer].clear()
            self._cursors[layer].hide()
            self._hover[layer].hide()

    @staticmethod
    def _new_layer_plot() -> tuple:
        """(plot, image, colour bar, non-finite overlay, unit marks, time cursor, hover text)."""
        plot = pg.PlotItem(axisItems={"left": TextTimeAxis("left"), "bottom": ReadableAxisItem("bottom")})
        plot.setLabel("left", "t")
        plot.setLabel("bottom", "unit")  # ReadableAxisItem: integer indices, never "t (x0.001)"
        plot.invertY(True)  # t = 0 at the top, like reading a table
        image = pg.ImageItem(axisOrder="row-major")
        image.setLevels(HIDDEN_LEVELS)
        plot.addItem(image)
        nonfinite, marks = NonFiniteOverlay(plot), UnitMarks(plot)
        cursor = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(TIME_CURSOR_COLOR, width=1,
                                                                      style=QtCore.Qt.DashLine))
        cursor.setZValue(9)
        plot.addItem(cursor, ignoreBounds=True)
        bar = pg.ColorBarItem(values=HIDDEN_LEVELS, colorMap="CET-D1", interactive=False, width=14)
        bar.setImageItem(image)
        # span only the heatmap's height, not its title row: stacked bars' end labels
        # ("-1.0" over "1.0") no longer touch
        bar.layout.setContentsMargins(0, TITLE_HEIGHT + 2, 0, 6)
        hover = pg.TextItem(anchor=(0, 1), color=(240, 240, 240), fill=(20, 20, 20, 210))
        hover.setZValue(50)
        plot.addItem(hover, ignoreBounds=True)
        mark_hover(hover)
        return plot, image, bar, nonfinite, marks, cursor, hover

    def _fill_combos(self, sizes: tuple[int, ...], cell: str) -> None:
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        if len(sizes) > 1:
            self.layer_combo.addItem("all layers", None)
        for layer, size in enumerate(sizes):
            self.layer_combo.addItem(f"layer {layer + 1} ({size})", layer)
        self.layer_combo.setCurrentIndex(0)
        self.layer_combo.blockSignals(False)

        self.gate_combo.blockSignals(True)
        self.gate_combo.clear()
        self.gate_combo.addItem(GATE_TITLES["h"], "h")
        for gate in GATE_NAMES[cell]:
            self.gate_combo.addItem(GATE_TITLES[gate], gate)
        self.gate_combo.setCurrentIndex(0)
        self.gate_combo.blockSignals(False)
        has_gates = bool(GATE_NAMES[cell])
        self.gate_combo.setVisible(has_gates)
        self.top_row.refit()  # its caption follows it

    def layer_sizes(self) -> tuple[int, ...]:
        return self._layer_sizes

    def cell(self) -> str:
        return self._cell

    def selected_layers(self) -> list[int]:
        layer = self.layer_combo.currentData()
        if layer is None:
            return list(range(len(self._layer_sizes)))
        return [int(layer)]

    def selected_gate(self) -> str:
        return self.gate_combo.currentData() or "h"

    def set_layer(self, layer: int | None) -> None:
        """Show one layer (0-based) or all (None)."""
        index = self.layer_combo.findData(layer)
        if index < 0:
            raise ValueError(f"no layer {layer!r}; this model has {len(self._layer_sizes)} layer(s)")
        self.layer_combo.setCurrentIndex(index)

    def set_gate(self, gate: str) -> None:
        index = self.gate_combo.findData(gate)
        if index < 0:
            names = ", ".join(["h", *GATE_NAMES[self._cell]])
            raise ValueError(f"{self._cell} has no gate {gate!r}; choose one of {names}")
        self.gate_combo.setCurrentIndex(index)

    def _layout_plots(self) -> None:
        # Remove and re-add the persistent items: only the selected layers take space.
        ci = self.graphics.ci
        for item in list(ci.items.keys()):
            ci.removeItem(item)
        selected = self.selected_layers()
        for row, layer in enumerate(selected):
            ci.addItem(self._plots[layer], row=row, col=0)
            ci.addItem(self._bars[layer], row=row, col=1)
            # stacked layers share the x-axis title: only the bottom one spends a row on "unit"
            self._plots[layer].getAxis("bottom").showLabel(layer == selected[-1])
        ci.layout.activate()

    def _apply_levels(self) -> None:
        gate = self.selected_gate()
        for layer, (image, bar) in enumerate(zip(self._images, self._bars)):
            if gate == "h":
                levels, cmap = HIDDEN_LEVELS, "CET-D1"
            elif gate == "c":
                # the LSTM cell state is unbounded: symmetric levels around 0 from the data shown
                data = self._displayed[layer]
                finite = np.abs(data[np.isfinite(data)]) if data is not None else np.empty(0)
                peak = float(finite.max()) if finite.size else 1.0
                peak = peak if peak > 0 else 1.0
                levels, cmap = (-peak, peak), "CET-D1"
            else:
                levels, cmap = GATE_LEVELS, "viridis"
            if bar.colorMap() is None or bar.colorMap().name != cmap:
                bar.setColorMap(cmap)
            bar.setLevels(levels)
            image.setLevels(levels)
            # ends and middle only: a short bar cannot hold pyqtgraph's five labels
            low, high = levels
            bar.axis.setTicks([[(v, format_tick(v, 2) if v >= 0 else "-" + format_tick(-v, 2))
                                for v in (low, (low + high) / 2, high)]])

    def levels(self, layer: int = 0) -> tuple[float, float]:
        return tuple(float(v) for v in self._images[layer].getLevels())

    # ----- snapshots
    def set_snapshot(self, epoch: int, hidden, gates=None, text=None) -> None:
        """Show the hidden states of one epoch (the latest) and remember it for the scrubber;
        ``text``: the probe's characters (text data), which then label the time axes."""
        snap, cell = make_snapshot(epoch, hidden, gates, text)
        if snap.layer_sizes != self._layer_sizes or cell != self._cell:
            # A snapshot from a differently shaped model (new run): adopt its shape.
            self.reset(snap.layer_sizes, cell)
        self.snapshots.add(snap)
        self._update_scrubber()
        if self._scrub_epoch is None:
            self._show(snap)

    def snapshot_epochs(self) -> list[int]:
        """Epochs the scrubber can replay (kept snapshots plus the latest)."""
        return self.snapshots.epochs()

    def _update_scrubber(self) -> None:
        frames = self.snapshots.frames()
        self.scrubber.blockSignals(True)
        self.scrubber.setEnabled(len(frames) > 1)
        self.scrubber.setRange(0, max(0, len(frames) - 1))
        if self._scrub_epoch is None:
            self.scrubber.setValue(len(frames) - 1)
        else:
            self.scrubber.setValue(self.snapshots.nearest_index(self._scrub_epoch))
        self.scrubber.blockSignals(False)
        self._update_scrub_label()

    def _update_scrub_label(self) -> None:
        snap = self.displayed_snapshot()
        if snap is None:
            self.scrub_label.setText("no snapshot yet")
        else:
            self.scrub_label.setText(f"epoch {snap.epoch}{epoch_note(self._scrub_epoch is None, self.stored)}")

    def _on_scrub(self, index: int) -> None:
        frames = self.snapshots.frames()
        if not frames:
            return
        index = min(max(index, 0), len(frames) - 1)
        if index == len(frames) - 1:
            self._scrub_epoch = None
        else:
            self._scrub_epoch = frames[index].epoch
        self._show(frames[index])
        self._update_scrub_label()

    def scrub_to(self, epoch: int | None) -> None:
        """Replay the kept snapshot nearest to ``epoch``; None returns to live."""
        frames = self.snapshots.frames()
        if not frames:
            return
        if epoch is None:
            self.scrubber.setValue(len(frames) - 1)
            self._on_scrub(len(frames) - 1)
            return
        self.scrubber.setValue(self.snapshots.nearest_index(epoch))

    def displayed_snapshot(self) -> Snapshot | None:
        if self._scrub_epoch is None:
            return self.snapshots.latest
        return self.snapshots.nearest(self._scrub_epoch)

    def displayed_epoch(self) -> int | None:
        snap = self.displayed_snapshot()
        return None if snap is None else snap.epoch

    def _layer_array(self, snap: Snapshot, layer: int) -> np.ndarray:
        gate = self.selected_gate()
        if gate == "h":
            return snap.hidden[layer]
        return snap.gates[layer][gate]

    def _show(self, snap: Snapshot | None) -> None:
        if snap is None:
            return
        for layer, image in enumerate(self._images):
            data = self._layer_array(snap, layer)  # (T, H), NaN/Inf kept: the overlay marks them
            self._displayed[layer] = data
            image.setImage(drawable(data), autoLevels=False)
            # pixel centres on integer (unit, t), so axis ticks name units and steps
            image.setRect(QtCore.QRectF(-0.5, -0.5, data.shape[1], data.shape[0]))
            self._nonfinite[layer].show(data)
            self._marks[layer].set_steps(data.shape[0])
            self._plots[layer].getAxis("left").set_characters(snap.text)
            retitle(self._plots[layer], self._layer_title(layer, snap.epoch))
        if self.selected_gate() == "c":
            self._apply_levels()
        self._update_traces()
        self.sigDisplayed.emit()

    def _layer_title(self, layer: int, epoch: int | None) -> str:
        gate = self.selected_gate()
        what = "" if gate == "h" else f" · {GATE_TITLES[gate]}"
        when = "" if epoch is None else f" · epoch {epoch}"
        bad = self._nonfinite[layer].count if layer < len(self._nonfinite) else 0
        flag = f" · {bad} NaN/Inf (magenta)" if bad else ""
        return f"layer {layer + 1} · {self._layer_sizes[layer]} units{what}{when}{flag}"

    def _on_layer_selected(self, _index: int) -> None:
        self._layout_plots()

    def _on_gate_selected(self, _index: int) -> None:
        self._show(self.displayed_snapshot())
        self._apply_levels()

    # ----- read back / export
    def image_array(self, layer: int | None = None) -> np.ndarray:
        """The (T, H) array the heatmap of ``layer`` (default: first selected) is showing."""
        if layer is None:
            selected = self.selected_layers()
            if not selected:
                raise ValueError("no layers: call reset(layer_sizes, cell) first")
            layer = selected[0]
        if not 0 <= layer < len(self._displayed):
            raise ValueError(f"no layer {layer}; this model has {len(self._displayed)} layer(s)")
        data = self._displayed[layer]
        if data is None:
            raise ValueError("nothing displayed yet: no snapshot has been set")
        return data.copy()

    def nonfinite_count(self, layer: int) -> int:
        """How many cells of ``layer``'s heatmap are NaN/Inf (painted magenta)."""
        return self._nonfinite[layer].count

    def unit_marks(self, layer: int) -> list[tuple[int, tuple[int, int, int]]]:
        """The traced units outlined on ``layer``'s heatmap: (unit, RGB of the outline)."""
        return self._marks[layer].marks()

    def time_labels(self, layer: int = 0) -> list[str]:
        """The characters labelling ``layer``'s time axis ([] for numeric ticks)."""
        return self._plots[layer].getAxis("left").characters()

    def displayed_text(self) -> list[str] | None:
        """The probe's characters of the snapshot on show (None for non-text data)."""
        snap = self.displayed_snapshot()
        return None if snap is None else snap.text

    def displayed_array(self, layer: int) -> np.ndarray | None:
        """What ``layer``'s heatmap shows (raw values, NaN kept), or None before a snapshot."""
        return self._displayed[layer] if 0 <= layer < len(self._displayed) else None

    # ----- the selected time step (a click here or in the text view)
    def select_time(self, t: int | None) -> None:
        """Mark time step ``t`` on every heatmap with a line (None: no mark)."""
        self._selected_t = None if t is None else int(t)
        for cursor in self._cursors:
            cursor.setVisible(self._selected_t is not None)
            if self._selected_t is not None:
                cursor.setValue(self._selected_t)
        self.sigTimeSelected.emit(self._selected_t)

    def selected_time(self) -> int | None:
        return self._selected_t

    def plot_item(self, layer: int) -> pg.PlotItem:
        return self._plots[layer]

    def export_item(self):
        return self.graphics.ci

    def render_layer_image(self, layer: int, width: int | None = None) -> QtGui.QImage:
        """Render one layer's heatmap with axes and colour bar to a QImage (pyqtgraph ImageExporter)."""
        if not 0 <= layer < len(self._plots):
            raise ValueError(f"no layer {layer}; this model has {len(self._plots)} layer(s)")
        previous = self.layer_combo.currentIndex()
        alone = self.selected_layers() == [layer]
        if not alone:
            self.set_layer(layer)  # only this layer in the layout: the export holds plot + colour bar
        try:
            self.graphics.ci.layout.activate()
            return export_image(self.graphics.ci, width)
        finally:
            if not alone:
                self.layer_combo.setCurrentIndex(previous)

    # ----- unit traces
    def toggle_unit(self, layer: int, unit: int) -> bool:
        """Add (or remove, if present) the line trace of one unit; returns True if now traced."""
        if not 0 <= layer < len(self._layer_sizes):
            raise ValueError(f"no layer {layer}; this model has {len(self._layer_sizes)} layer(s)")
        if not 0 <= unit < self._layer_sizes[layer]:
            raise ValueError(f"layer {layer + 1} has {self._layer_sizes[layer]} units, no unit {unit}")
        traced = self.traces.toggle(layer, unit, self._marks[layer])
        self._update_traces()
        self.sigUnitsChanged.emit()
        return traced

    def traced_units(self) -> list[tuple[int, int]]:
        return self.traces.units()

    def trace_data(self, layer: int, unit: int) -> tuple[np.ndarray, np.ndarray]:
        return self.traces.data(layer, unit)

    def _update_traces(self) -> None:
        self.traces.show(self._displayed)

    # ----- mouse
    def _hit(self, scene_pos) -> tuple[int, float, float] | None:
        for layer in self.selected_layers():
            vb = self._plots[layer].vb
            if vb.sceneBoundingRect().contains(scene_pos):
                view = vb.mapSceneToView(scene_pos)
                return layer, view.x(), view.y()
        return None

    def _cell_at(self, layer: int, x: float, y: float) -> tuple[int, int] | None:
        data = self._displayed[layer]
        if data is None:
            return None
        t, unit = int(math.floor(y + 0.5)), int(math.floor(x + 0.5))
        if 0 <= t < data.shape[0] and 0 <= unit < data.shape[1]:
            return t, unit
        return None

    def readout(self, layer: int, t: int, unit: int) -> str:
        value = float(self._displayed[layer][t, unit])
        text = self.displayed_text()
        char = f"  '{visible_char(text[t])}'" if text and t < len(text) else ""
        shown = f"{value:+.4f}" if math.isfinite(value) else f"{value} (non-finite)"
        return f"t {t}{char}  unit {unit}\n{self.selected_gate()} = {shown}"

    def _on_mouse_moved(self, event) -> None:
        pos = event[0]
        hit = self._hit(pos)
        for layer, text in enumerate(self._hover):
            if hit is None or hit[0] != layer:
                text.hide()
        if hit is None:
            return
        layer, x, y = hit
        cell = self._cell_at(layer, x, y)
        text = self._hover[layer]
        if cell is None:
            text.hide()
            return
        text.setText(self.readout(layer, *cell))
        anchor_inside(text, self._plots[layer].vb, QtCore.QPointF(x, y))
        text.setPos(x, y)
        text.show()

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != QtCore.Qt.LeftButton or event.double():
            return
        hit = self._hit(event.scenePos())
        if hit is None:
            return
        layer, x, y = hit
        cell = self._cell_at(layer, x, y)
        if cell is not None:
            self.toggle_unit(layer, cell[1])
            self.select_time(cell[0])  # the row's step: marked here and selected in the text view
            event.accept()

