"""Widgets of a dock's rows that give way on a narrow screen instead of widening the dock.

A row's minimum width is the sum of its widgets' minimums; a combo box asks for its longest item,
a label for its whole text. On a 1024x700 screen the Hidden states dock is ~280 px wide and its
row asked for 419, so the dock scrolled and the heatmap's right part looked cut off at the
window's edge. ``let_shrink`` lets a combo box (or any widget) be squeezed to a few characters
while it keeps its full size when there is room; ``ElidedLabel`` ends its text with "…" when it
does not fit and then carries the whole text in its tooltip.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

MIN_CHARS = 5  # what a squeezed combo box still shows of its text ("layer…")


def let_shrink(widget: QtWidgets.QWidget, chars: int = MIN_CHARS) -> None:
    """``widget`` may be squeezed to ``chars`` average characters (plus its arrow or frame); its size
    hint, what it gets with room to spare, is unchanged."""
    fm = widget.fontMetrics()
    chrome = 36 if isinstance(widget, QtWidgets.QComboBox) else 12
    widget.setMinimumWidth(fm.averageCharWidth() * chars + chrome)


class ElidedLabel(QtWidgets.QLabel):
    """A one-line QLabel whose text ends with "…" when it is narrower than its text; the whole text is
    then its tooltip. ``text()`` is the whole text, as a QLabel's."""

    def __init__(self, text: str = "", parent=None, min_chars: int = 4):
        super().__init__(parent)
        self._full = ""
        self._own_tip = ""
        self._min_chars = min_chars
        self.setSizePolicy(QtWidgets.QSizePolicy.Preferred, QtWidgets.QSizePolicy.Preferred)
        self.setText(text)

    def text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:
        self._full = str(text)
        self._show()
        self.updateGeometry()

    def setToolTip(self, tip: str) -> None:
        self._own_tip = tip
        self._show()

    def sizeHint(self) -> QtCore.QSize:
        hint = super().sizeHint()
        return QtCore.QSize(self.fontMetrics().horizontalAdvance(self._full) + 2 * self.margin() + 2, hint.height())

    def minimumSizeHint(self) -> QtCore.QSize:
        width = min(self.sizeHint().width(), self.fontMetrics().averageCharWidth() * self._min_chars)
        return QtCore.QSize(width, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._show()

    def _show(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin()
        shown = self.fontMetrics().elidedText(self._full, QtCore.Qt.ElideRight, max(room, 0))
        if shown != super().text():
            super().setText(shown)
        tip = self._full if shown != self._full else ""
        super().setToolTip("\n".join(part for part in (tip, self._own_tip) if part))


class CompactRow(QtWidgets.QWidget):
    """A row of controls whose captions ("Layer", "Show") step aside when the row is too narrow for
    them: the selectors say what they hold, so the captions are the first thing to give up. The row's
    minimum is that of its other widgets; a caption shows only while its buddy (the widget it names)
    does. ``layout()`` is the row's QHBoxLayout."""

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self._buddies: dict = {}  # caption -> the widget it names

    def add_caption(self, text: str, buddy: QtWidgets.QWidget) -> QtWidgets.QLabel:
        caption = QtWidgets.QLabel(text)
        caption.setBuddy(buddy)
        self._buddies[caption] = buddy
        self.layout().addWidget(caption)
        return caption

    def _needed(self, with_captions: bool) -> int:
        row, widths = self.layout(), []
        for index in range(row.count()):
            widget = row.itemAt(index).widget()
            if widget in self._buddies:
                if with_captions and not self._buddies[widget].isHidden():
                    widths.append(widget.sizeHint().width())
            elif widget is not None and not widget.isHidden():
                widths.append(widget.minimumWidth() or widget.minimumSizeHint().width())  # as a layout reads it
        margins = row.contentsMargins()
        return sum(widths) + row.spacing() * max(len(widths) - 1, 0) + margins.left() + margins.right()

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(self._needed(False), super().minimumSizeHint().height())

    def refit(self) -> None:
        """Show the captions if the row has room for them (call after showing or hiding a buddy)."""
        room = self._needed(True) <= self.width()
        for caption, buddy in self._buddies.items():
            caption.setVisible(room and not buddy.isHidden())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.refit()
