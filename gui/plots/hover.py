"""Hover read-outs that never stick: hidden when the mouse leaves the plot and before an export.

A read-out followed mouse moves inside the view box only; leaving the widget fast (or for the
File ▸ Export dialog) left the last box on screen, and pyqtgraph's exporters then drew it into the
PNG/SVG. Plots ``mark`` their read-out items and call ``hide_on_leave`` on their graphics view;
``export.py`` calls ``hide_all`` on the scene it renders.
"""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets

_FLAG = "_rnnscope_hover"  # attribute set on read-out items (QGraphicsItem.setData clashes with pyqtgraph's)


def mark(item):
    """Register ``item`` (a TextItem, the dots on the nearest points) as a hover read-out."""
    setattr(item, _FLAG, True)
    return item


def hide_all(scene) -> int:
    """Hide every read-out in ``scene`` (a QGraphicsScene, or an item of one); returns how many."""
    if scene is not None and not isinstance(scene, QtWidgets.QGraphicsScene):
        scene = scene.scene()
    if scene is None:
        return 0
    hidden = 0
    for item in scene.items():
        if getattr(item, _FLAG, False) and item.isVisible():
            item.hide()
            hidden += 1
    return hidden


class _LeaveFilter(QtCore.QObject):
    def __init__(self, view):
        super().__init__(view)
        self._view = view

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QtCore.QEvent.Leave:
            hide_all(self._view.scene())
        return False


def hide_on_leave(view) -> None:
    """Hide ``view``'s read-outs when the mouse leaves it (a pyqtgraph GraphicsView/PlotWidget)."""
    view.installEventFilter(_LeaveFilter(view))
