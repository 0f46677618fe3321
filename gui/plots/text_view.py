"""TextView: the probe text, each character's background coloured by one unit's activation.

LSTMVis style, live: the characters are the probe sequence's inputs (``EpochReport.probe_text``),
the colour is the activation of the chosen unit (layer, unit) at that step, in the heatmap's
colour map and levels, for whatever the hidden-state panel shows (hidden state or a gate, the
live epoch or the one the scrubber replays: it follows ``HiddenStatePanel.sigDisplayed``).
Clicking a character marks its time step on the heatmaps, and a step marked there (a click on a
heatmap row) selects its character here, scrolled into view. Selecting a span and "Rank units"
lists the units high on the span and low elsewhere (``engine.text_pattern.rank_units``);
"Trace" adds the chosen ones to the panel's unit traces.
"""

from __future__ import annotations

import bisect

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg
import numpy as np

from engine.text_pattern import most_selective_unit, rank_units, visible_char
from gui.plots.shrinkable import CompactRow, TurningSplitter, let_shrink
from gui.plots.style import GATE_TITLES, NONFINITE_COLOR

RANK_TOP = 10  # units listed for a selected span
RANK_COLUMNS = (("unit", "the unit (click to colour the text by it)"),
                ("score", "mean activation on the selected span - mean elsewhere"),
                ("span", "mean activation on the selected span"),
                ("rest", "mean activation elsewhere in the probe"))
NO_TEXT = "The text view colours the probe's characters by a unit's activation; it needs text data " \
          "(open a .txt file or the words sample)."


def text_colors(values: np.ndarray, levels, cmap_name: str) -> np.ndarray:
    """(T, 3) uint8 RGB of each value in the colour map over ``levels``; non-finite -> magenta."""
    values = np.asarray(values, dtype=np.float64)
    low, high = float(levels[0]), float(levels[1])
    span = high - low if high > low else 1.0
    unit = np.clip((np.where(np.isfinite(values), values, low) - low) / span, 0.0, 1.0)
    rgb = pg.colormap.get(cmap_name).map(unit, mode="byte")[:, :3].astype(np.uint8)
    rgb[~np.isfinite(values)] = NONFINITE_COLOR
    return rgb


def shown_char(ch: str) -> str:
    """What the text view writes for one step: spaces stay spaces (their colour shows them),
    a newline is ↵ before the line break, other invisible characters are signs."""
    if ch == " ":
        return " "
    if ch == "<unk>":
        return "\ufffd"
    return visible_char(ch)


class TextView(QtWidgets.QWidget):
    """The coloured probe text of a ``HiddenStatePanel`` (see the module docstring)."""

    sigStepClicked = QtCore.pyqtSignal(int)

    def __init__(self, hidden_panel, parent=None):
        super().__init__(parent)
        self.panel = hidden_panel
        self.layer_combo = QtWidgets.QComboBox()
        self.layer_combo.setToolTip("Layer of the unit that colours the text")
        self.unit_spin = QtWidgets.QSpinBox()
        self.unit_spin.setToolTip("Unit whose activation colours each character (follows the last traced unit)")
        self.info_label = QtWidgets.QLabel("")
        self.info_label.setWordWrap(True)
        self.rank_button = QtWidgets.QPushButton("Rank units")
        self.rank_button.setToolTip("Select characters, then list the units high on them and low elsewhere")
        self.trace_button = QtWidgets.QPushButton("Trace")
        self.trace_button.setToolTip("Trace the units chosen in the list (heatmaps and unit traces)")
        # a ~280 px dock on a 1024x700 screen: the captions step aside, the buttons take a second line
        self.top_row = top = CompactRow()
        let_shrink(self.layer_combo)
        self._controls = [top.add_caption("Layer", self.layer_combo), self.layer_combo]
        top.add(self.layer_combo)
        self._controls += [top.add_caption("Unit", self.unit_spin), self.unit_spin, self.rank_button, self.trace_button]
        top.add(self.unit_spin)
        top.line.addStretch(1)
        top.add(self.rank_button, wraps=True)
        top.add(self.trace_button, wraps=True)
        splitter = self._build_text_and_ranking()

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(top)
        layout.addWidget(self.info_label)
        layout.addWidget(splitter, 1)

        self._starts: list[int] = []  # document position of each step's first character
        self._chars: list[str] | None = None
        self._values = np.empty(0)
        self._colors = np.empty((0, 3), np.uint8)
        self._known_traces: set = set()
        self._chosen = False  # the user picked the unit (else: the most selective one)
        self._span: tuple[int, int] | None = None
        self._dirty = True

        self.layer_combo.currentIndexChanged.connect(self._on_unit_changed)
        self.unit_spin.valueChanged.connect(self._on_unit_changed)
        self.rank_button.clicked.connect(self.rank_selection)
        self.trace_button.clicked.connect(self.trace_ranked)
        self.ranking.itemClicked.connect(self._on_ranked_clicked)
        self.panel.sigDisplayed.connect(self.refresh)
        self.panel.sigUnitsChanged.connect(self._follow_traces)
        self.panel.sigTimeSelected.connect(self._on_time_selected)
        self.refresh()

    def _build_text_and_ranking(self) -> QtWidgets.QSplitter:
        self.text = QtWidgets.QTextEdit()
        self.text.setReadOnly(True)
        self.text.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse | QtCore.Qt.TextSelectableByKeyboard)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont)
        font.setPointSize(max(font.pointSize(), 11))
        self.text.setFont(font)
        self.text.viewport().installEventFilter(self)
        self.text.setToolTip("Each character's background is the unit's activation at that step (magenta = "
                             "NaN/Inf). Click a character to mark its step on the heatmaps; select a span, "
                             "then Rank units.")
        self.info_label.setToolTip("Without a choice, the most selective unit colours the text: the one whose "
                                   "activation spreads widest over the probe")
        self.ranking = QtWidgets.QTreeWidget()
        # short headers, explained in their tooltips: "on span" / "elsewhere" made the list wider
        # than a 474 px dock's share of it, so its right columns sat behind a sideways scroll
        self.ranking.setHeaderLabels([title for title, _ in RANK_COLUMNS])
        for column, (_, tip) in enumerate(RANK_COLUMNS):
            self.ranking.headerItem().setToolTip(column, tip)
        header = self.ranking.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        self.ranking.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        self.ranking.setRootIsDecorated(False)
        self.ranking.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
        self.ranking.setToolTip("score = mean activation on the selected span - mean elsewhere; "
                                "click a row to colour the text by that unit")
        splitter = TurningSplitter()  # stacked in a narrow dock
        splitter.addWidget(self.text)
        splitter.addWidget(self.ranking)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([500, 260])
        self._fit_ranking()
        return splitter

    # ----- what colours the text
    def layer(self) -> int:
        return max(0, self.layer_combo.currentIndex())

    def unit(self) -> int:
        return int(self.unit_spin.value())

    def set_unit(self, layer: int, unit: int) -> None:
        """Colour by ``unit`` of ``layer`` (0-based)."""
        self._chosen = True
        self.layer_combo.setCurrentIndex(int(layer))
        self.unit_spin.setValue(int(unit))
        self.refresh()

    def _follow_traces(self) -> None:
        traced = set(self.panel.traced_units())
        added = sorted(traced - self._known_traces)
        self._known_traces = traced
        if added:
            self.set_unit(*added[-1])

    def _on_unit_changed(self, *_args) -> None:
        if self.sender() is not None:
            self._chosen = True
        self.refresh()

    def _sync_controls(self, sizes) -> None:
        for widget in (self.layer_combo, self.unit_spin):
            widget.blockSignals(True)
        if self.layer_combo.count() != len(sizes):
            self.layer_combo.clear()
            self.layer_combo.addItems([f"layer {i + 1}" for i in range(len(sizes))])
            self._chosen = False
            self._known_traces = set(self.panel.traced_units())
        if sizes:
            self.unit_spin.setRange(0, sizes[self.layer()] - 1)
        for widget in (self.layer_combo, self.unit_spin):
            widget.blockSignals(False)

    # ----- drawing
    def refresh(self) -> None:
        """Redraw from what the panel shows (the ``sigDisplayed`` slot); a hidden view waits
        until it is shown (a tabbed-away dock costs nothing per frame)."""
        if self.isVisible():
            self.redraw()
        else:
            self._dirty = True

    def redraw(self) -> None:
        self._dirty = False
        sizes = self.panel.layer_sizes()
        self._sync_controls(sizes)
        chars = self.panel.displayed_text()
        data = self.panel.displayed_array(self.layer()) if sizes else None
        if not chars or data is None:
            self._show_message(NO_TEXT if self.panel.displayed_snapshot() is not None else
                               "no snapshot yet: start training on text data")
            return
        if not self._chosen:
            self.unit_spin.blockSignals(True)
            self.unit_spin.setValue(most_selective_unit(data))
            self.unit_spin.blockSignals(False)
        self._values = np.array(data[:, self.unit()], dtype=np.float64)
        gate = self.panel.selected_gate()
        levels = self.panel.levels(self.layer())
        self._colors = text_colors(self._values, levels, "viridis" if gate not in ("h", "c") else "CET-D1")
        self._write(chars)
        epoch = self.panel.displayed_epoch()
        pick = "" if self._chosen else " (most selective)"
        self.info_label.setText(f"{GATE_TITLES[gate]} · layer {self.layer() + 1} unit {self.unit()}{pick} · "
                                f"epoch {epoch} · colour {levels[0]:+.2g} … {levels[1]:+.2g}")

    def _show_message(self, message: str) -> None:
        self._chars, self._starts = None, []
        self._values, self._colors = np.empty(0), np.empty((0, 3), np.uint8)
        self.text.setPlainText("")
        self.info_label.setText(message)

    def _write(self, chars: list[str]) -> None:
        """The document: one run of characters per step, with its background colour. The same
        characters again (the next epoch, the scrubber) are only recoloured, so the user's
        selection and scroll position survive every frame."""
        document = self.text.document()
        same = chars == self._chars and len(self._starts) == len(chars)
        cursor = QtGui.QTextCursor(document)
        cursor.beginEditBlock()
        if not same:
            document.clear()
            cursor = QtGui.QTextCursor(document)
        starts = []
        for t, ch in enumerate(chars):
            shown = shown_char(ch)
            if same:
                cursor.setPosition(self._starts[t])
                cursor.setPosition(self._starts[t] + len(shown), QtGui.QTextCursor.KeepAnchor)
                cursor.setCharFormat(self._format(t))
                continue
            starts.append(cursor.position())
            cursor.insertText(shown, self._format(t))
            if ch == "\n":
                cursor.insertBlock()
        cursor.endEditBlock()
        if not same:
            self._chars, self._starts = list(chars), starts

    def _format(self, t: int) -> QtGui.QTextCharFormat:
        rgb = self._colors[t]
        fmt = QtGui.QTextCharFormat()
        color = QtGui.QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))
        fmt.setBackground(color)
        fmt.setForeground(QtGui.QColor("black" if color.lightness() > 128 else "white"))
        if t == self.panel.selected_time():
            fmt.setFontUnderline(True)
            fmt.setFontWeight(QtGui.QFont.Bold)
        return fmt

    # ----- reading back (tests, headless)
    def step_values(self) -> np.ndarray:
        """The activation that colours each step (what the unit did at t)."""
        return self._values.copy()

    def char_colors(self) -> list[tuple[str, tuple[int, int, int]]]:
        """(character, background RGB) per step, read from the document as drawn."""
        out = []
        cursor = QtGui.QTextCursor(self.text.document())
        for t, start in enumerate(self._starts):
            cursor.setPosition(start + 1)  # the format of the character just before the position
            out.append((self._chars[t], cursor.charFormat().background().color().getRgb()[:3]))
        return out

    def step_at(self, position: int) -> int | None:
        """The step whose character is at document ``position``."""
        if not self._starts:
            return None
        return max(0, bisect.bisect_right(self._starts, int(position)) - 1)

    # ----- clicks and spans
    def eventFilter(self, obj, event) -> bool:
        if obj is self.text.viewport() and event.type() == QtCore.QEvent.MouseButtonRelease \
                and event.button() == QtCore.Qt.LeftButton and not self.text.textCursor().hasSelection():
            t = self.step_at(self.text.cursorForPosition(event.pos()).position())
            if t is not None:
                self.click_step(t)
        return super().eventFilter(obj, event)

    def click_step(self, t: int) -> None:
        """Mark step ``t`` on the heatmaps (as a click on its character does)."""
        self.panel.select_time(t)
        self.sigStepClicked.emit(int(t))
        self.refresh()

    def _on_time_selected(self, t) -> None:
        """A step marked on the heatmaps: its character is selected (and underlined) here."""
        self.refresh()
        if t is None or self._dirty or not 0 <= t < len(self._starts):
            return
        self.select_span(t, t + 1)
        self.text.ensureCursorVisible()

    def selected_step(self) -> int | None:
        """The step whose character alone is selected (as a heatmap click leaves it), else None."""
        span = self.selected_span()
        return span[0] if span is not None and span[1] - span[0] == 1 else None

    def select_span(self, start: int, stop: int) -> None:
        """Select steps ``[start, stop)`` in the text (as a mouse drag does)."""
        cursor = self.text.textCursor()
        cursor.setPosition(self._starts[start])
        end = self._starts[stop] if stop < len(self._starts) else self.text.document().characterCount() - 1
        cursor.setPosition(end, QtGui.QTextCursor.KeepAnchor)
        self.text.setTextCursor(cursor)

    def selected_span(self) -> tuple[int, int] | None:
        """The steps the text selection covers, ``[start, stop)``, or None."""
        cursor = self.text.textCursor()
        if not cursor.hasSelection() or not self._starts:
            return None
        start = self.step_at(cursor.selectionStart())
        stop = self.step_at(max(cursor.selectionStart(), cursor.selectionEnd() - 1)) + 1
        return start, stop

    def rank_selection(self) -> list:
        """Rank the units of the shown layer for the selected span; fills the list; returns it."""
        span = self.selected_span()
        data = self.panel.displayed_array(self.layer())
        self.ranking.clear()
        if span is None or data is None:
            self.info_label.setText("select some characters first (drag over them), then Rank units")
            return []
        self._span = span
        scores = rank_units(data, *span, top=RANK_TOP)
        for s in scores:
            item = QtWidgets.QTreeWidgetItem([str(s.unit), f"{s.score:+.2f}", f"{s.span_mean:+.2f}",
                                              f"{s.rest_mean:+.2f}"])
            item.setData(0, QtCore.Qt.UserRole, s.unit)
            self.ranking.addTopLevelItem(item)
        if scores:
            self.ranking.topLevelItem(0).setSelected(True)
        self._fit_ranking()
        return scores

    def _fit_ranking(self) -> None:
        """The list is at least as wide as its columns (the text beside it gives way)."""
        tree = self.ranking
        tree.header().resizeSections(QtWidgets.QHeaderView.ResizeToContents)
        bar = tree.verticalScrollBar().sizeHint().width()
        tree.setMinimumWidth(tree.header().length() + 2 * tree.frameWidth() + bar)

    def ranked_units(self) -> list[int]:
        return [self.ranking.topLevelItem(i).data(0, QtCore.Qt.UserRole)
                for i in range(self.ranking.topLevelItemCount())]

    def _on_ranked_clicked(self, item, _column) -> None:
        self.set_unit(self.layer(), int(item.data(0, QtCore.Qt.UserRole)))

    def trace_ranked(self) -> list[int]:
        """Trace the units chosen in the ranking (the top one if none is chosen); returns them."""
        chosen = [int(i.data(0, QtCore.Qt.UserRole)) for i in self.ranking.selectedItems()]
        if not chosen and self.ranking.topLevelItemCount():
            chosen = [self.ranked_units()[0]]
        layer = self.layer()
        for unit in chosen:
            if (layer, unit) not in self.panel.traced_units():
                self.panel.toggle_unit(layer, unit)
        return chosen

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.redraw()

    def render_image(self, width: int = 900, height: int | None = None) -> QtGui.QImage:
        """The caption and the coloured text drawn offscreen, without the buttons and the ranking
        list (headless text_layer<l>.png); ``height`` None = as tall as the text needs (120..1200 px)."""
        chrome = [w for w in (*self._controls, self.ranking) if not w.isHidden()]
        for widget in chrome:
            widget.hide()
        try:
            self.resize(width, height or 400)
            self.redraw()
            self.layout().activate()
            if height is None:
                document = self.text.document()
                document.setTextWidth(self.text.viewport().width())
                needed = int(document.size().height()) + self.info_label.sizeHint().height() + 40
                self.resize(width, min(max(needed, 120), 1200))
                self.layout().activate()
            return self.grab().toImage()
        finally:
            for widget in chrome:
                widget.show()
