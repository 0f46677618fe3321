"""MarkerLabels: one placement for every labelled vertical line on a plot, so no two labels overlap.

The loss plot's own markers (setting changes, pause, ...), the best-epoch line and the markers of
every compared run all register their lines here. Each label is a pyqtgraph ``InfLineLabel``
whose top-left corner sits on its line (its top-right one near the view's right edge) at a height
given as a share of the view (``orthoPos``). The placement works in pixels: labels are taken in
order of priority (the current run's first, then the best epoch, then compared runs; left to
right within each), and each goes into the highest row where its box meets no box already placed
and not the legend; where only rows under the legend are free, it may sit under the legend (which
can be dragged aside) rather than be hidden. A label that finds no free row inside
the view is hidden until the view has room again (zoom in, or a taller plot); its line stays.

Placement is redone (once per turn of the event loop) when a line is added, removed or
relabelled, and when the view's range or size changes, since pixel distances change with both.
"""

from __future__ import annotations

from PyQt5 import QtCore

TOP = 0.92  # the first row's label corner, as a share of the view height from the bottom
ROW_GAP_PX = 2  # between two rows of labels
MARGIN_PX = 4  # between two labels in the same row
RIGHT_OF_LINE, LEFT_OF_LINE = (0, 0), (1, 0)  # the label's top-left (or top-right) corner on its line


class MarkerLabels(QtCore.QObject):
    """The labels of the vertical lines on ``plot_item`` (a pyqtgraph PlotItem), placed together."""

    def __init__(self, plot_item, parent=None, avoid=None):
        super().__init__(parent)
        self._vb = plot_item.vb
        self._avoid = avoid or (lambda: [])  # scene rects labels keep clear of while there is room (legend)
        self._groups: dict[int, list] = {}  # priority -> lines, in the order added
        self._hidden: list = []
        self._soon = QtCore.QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.place)
        self._vb.sigRangeChanged.connect(self.schedule)
        self._vb.sigResized.connect(self.schedule)

    def add(self, line, priority: int = 0) -> None:
        """Place ``line``'s label with the others (lower ``priority`` = placed first, higher up), on
        the next turn of the event loop, or at once with :meth:`place`."""
        line.label.anchors = [RIGHT_OF_LINE, RIGHT_OF_LINE]
        line.label.setAnchor(RIGHT_OF_LINE)
        self._groups.setdefault(priority, []).append(line)
        self.schedule()

    def remove(self, line) -> None:
        for lines in self._groups.values():
            if line in lines:
                lines.remove(line)
        self.schedule()

    def lines(self) -> list:
        """Every registered line, in placement order."""
        return [line for priority in sorted(self._groups) for line in self._groups[priority]]

    def hidden(self) -> list:
        """Lines whose label found no free row at the last placement."""
        return list(self._hidden)

    def schedule(self, *_args) -> None:
        """Place again on the next turn of the event loop (one placement for many changes)."""
        if any(self._groups.values()):
            self._soon.start()

    def place(self) -> None:
        """Put every label in the highest row where it overlaps no label placed before it (and, where
        there is such a row, not the legend either)."""
        self._soon.stop()
        view = self._vb.sceneBoundingRect()
        if view.height() <= 1:
            return
        placed: list[QtCore.QRectF] = []
        avoid = list(self._avoid())
        self._hidden = []
        for group in sorted(self._groups):
            lines = [line for line in self._groups[group] if line.isVisible()]
            for line in sorted(lines, key=lambda item: item.value()):
                self._place_one(line, view, placed, avoid)

    def _place_one(self, line, view: QtCore.QRectF, placed: list, avoid: list) -> None:
        label = line.label
        x = self._vb.mapViewToScene(QtCore.QPointF(line.value(), 0.0)).x()
        width = label.boundingRect().width()
        corner = RIGHT_OF_LINE if x + width <= view.right() or x - width < view.left() else LEFT_OF_LINE
        if label.anchors[0] != corner:  # near the right edge the label goes to the left of its line
            label.anchors = [corner, corner]
            label.setAnchor(corner)
        box = label.boundingRect()  # pixels, relative to the label's corner on the line
        for taken in (placed + avoid, placed):
            position = _free_row(x, box, view, taken)
            if position is not None:
                placed.append(_box_at(x, box, view, position))
                if round(label.orthoPos, 6) != round(position, 6):
                    label.setPosition(position)
                if not label.isVisible():
                    label.setVisible(True)
                return
        self._hidden.append(line)
        label.setVisible(False)


def _box_at(x: float, box: QtCore.QRectF, view: QtCore.QRectF, position: float) -> QtCore.QRectF:
    """The label's scene box with its corner on the line at ``position`` (share of the view height)."""
    y = view.bottom() - position * view.height()
    return QtCore.QRectF(x + box.left(), y + box.top(), box.width(), box.height())


def _free_row(x: float, box: QtCore.QRectF, view: QtCore.QRectF, taken: list) -> float | None:
    """The highest row (as a label position) whose box meets none of ``taken``; None if none fits."""
    step = (box.height() + ROW_GAP_PX) / view.height()
    position = TOP
    while True:
        rect = _box_at(x, box, view, position)
        if rect.bottom() > view.bottom():
            return None
        if not any(rect.adjusted(-MARGIN_PX, 0, MARGIN_PX, 0).intersects(other) for other in taken):
            return position
        position -= step
