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
    """A row of controls that gives way in a narrow dock, in this order: its captions ("Layer", "Show")
    step aside (the selectors say what they hold), then the widgets added with ``add(widget, wraps=True)``
    (buttons at the row's end) move to a second line. Its minimum width is that of what is left on
    each line. Add widgets through ``line`` (a QHBoxLayout), ``add_caption`` and ``add``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lines = QtWidgets.QVBoxLayout(self)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(2)
        self.line, self.second = QtWidgets.QHBoxLayout(), QtWidgets.QHBoxLayout()
        lines.addLayout(self.line)
        lines.addLayout(self.second)
        self._buddies: dict = {}  # caption -> the widget it names (a caption shows only while it does)
        self._wrapping: list = []  # widgets that go to the second line when the row is narrow (the last ones)

    def add_caption(self, text: str, buddy: QtWidgets.QWidget) -> QtWidgets.QLabel:
        caption = QtWidgets.QLabel(text)
        caption.setBuddy(buddy)
        self._buddies[caption] = buddy
        self.line.addWidget(caption)
        return caption

    def add(self, widget: QtWidgets.QWidget, wraps: bool = False) -> None:
        self.line.addWidget(widget)
        if wraps:
            self._wrapping.append(widget)

    def _width(self, widgets) -> int:
        widths = [w.minimumWidth() or w.minimumSizeHint().width() for w in widgets]  # as a layout reads them
        widths = [w.sizeHint().width() if w in self._buddies else width for w, width in zip(widgets, widths)]
        return sum(widths) + self.line.spacing() * max(len(widths) - 1, 0)

    def _needed(self, captions: bool, wrapping: bool) -> int:
        shown = []
        for widget in list(self._widgets(self.line)) + list(self._widgets(self.second)):
            if widget in self._buddies:
                if captions and not self._buddies[widget].isHidden():
                    shown.append(widget)
            elif not widget.isHidden() and (wrapping or widget not in self._wrapping):
                shown.append(widget)
        return self._width(shown)

    @staticmethod
    def _widgets(layout):
        for index in range(layout.count()):
            widget = layout.itemAt(index).widget()
            if widget is not None:
                yield widget

    def minimumSizeHint(self) -> QtCore.QSize:
        second = self._width([w for w in self._wrapping if not w.isHidden()])
        return QtCore.QSize(max(self._needed(False, False), second), super().minimumSizeHint().height())

    def refit(self) -> None:
        """Captions and wrapping widgets placed for the row's width (call after showing or hiding a buddy)."""
        width = self.width()
        one_line = self._needed(False, True) <= width
        for widget in self._wrapping:
            target = self.line if one_line else self.second
            if target.indexOf(widget) < 0:
                (self.second if one_line else self.line).removeWidget(widget)
                target.addWidget(widget)
        room = self._needed(True, one_line) <= width
        for caption, buddy in self._buddies.items():
            caption.setVisible(room and not buddy.isHidden())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.refit()


class TurningSplitter(QtWidgets.QSplitter):
    """A side-by-side splitter that stacks its sides when it is narrower than both need (the Text dock's
    text and ranked units in a ~280 px column of a 1024x700 screen), and puts them side by side again
    when there is room. Its minimum width is its widest side's, not their sum, so it never pushes its
    dock into a sideways scroll."""

    def __init__(self, parent=None):
        super().__init__(QtCore.Qt.Horizontal, parent)

    def _widths(self) -> list[int]:
        return [max(self.widget(i).minimumWidth(), self.widget(i).minimumSizeHint().width())
                for i in range(self.count()) if not self.widget(i).isHidden()]

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(max(self._widths() + [0]), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        widths = self._widths()
        side_by_side = sum(widths) + self.handleWidth() * max(len(widths) - 1, 0)
        wanted = QtCore.Qt.Horizontal if event.size().width() >= side_by_side else QtCore.Qt.Vertical
        if wanted != self.orientation():
            self.setOrientation(wanted)
        super().resizeEvent(event)
