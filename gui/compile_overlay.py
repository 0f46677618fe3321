"""CompileOverlay: greys the panels while a new model compiles ("compiling new model…").

After a structural change (cell, hidden sizes, ...) the panels still hold the old run until the
new model's first training report arrives; the overlay says so instead of letting the old
pictures pass for the new run. One translucent child widget per panel, kept at its panel's size
through an event filter; it lets the mouse through, so the panels stay usable underneath.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtGui, QtWidgets

TEXT = "compiling new model…"


class _Veil(QtWidgets.QWidget):
    """The grey layer over one panel."""

    def __init__(self, panel: QtWidgets.QWidget, text: str):
        super().__init__(panel)
        self.text = text
        self.setAttribute(QtCore.Qt.WA_TransparentForMouseEvents, True)
        self.setAttribute(QtCore.Qt.WA_NoSystemBackground, True)
        self.setObjectName("compileOverlay")
        self.hide()
        panel.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.parentWidget() and event.type() == QtCore.QEvent.Resize:
            self.setGeometry(watched.rect())
        return False

    def paintEvent(self, _event) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(40, 40, 40, 170))
        painter.setPen(QtGui.QColor(235, 235, 235))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        painter.setFont(font)
        painter.drawText(self.rect(), QtCore.Qt.AlignCenter, self.text)
        painter.end()


class CompileOverlay:
    """``show()`` greys every panel with the message, ``hide()`` takes it away (GUI thread)."""

    def __init__(self, panels, text: str = TEXT):
        self._veils = [_Veil(panel, text) for panel in panels]
        self.text = text

    def show(self) -> None:
        for veil in self._veils:
            veil.setGeometry(veil.parentWidget().rect())
            veil.raise_()
            veil.show()

    def hide(self) -> None:
        for veil in self._veils:
            veil.hide()

    def is_shown(self) -> bool:
        return any(not veil.isHidden() for veil in self._veils)
