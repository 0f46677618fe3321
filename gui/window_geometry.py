"""The window's first-launch size: fit the screen it opens on (later launches restore the user's).

A fixed 1560 x 960 left a third of the window off a 1024 x 700 screen. The window now takes at
most the preferred size and at most ``SCREEN_SHARE`` of the screen's available geometry (no
panels or task bar), centred on it; the docks keep their proportions. The controls dock keeps
room for its value column (``ControlPanel.minimum_width``, from the font, so a 144 dpi font or
QT_SCALE_FACTOR=2 get the room they need).
"""

from __future__ import annotations

from PyQt5 import QtCore, QtWidgets
from PyQt5.QtCore import Qt

PREFERRED = (1560, 960)  # on a large screen
SCREEN_SHARE = 0.94  # of the available geometry, so the frame and the title bar fit too
# The first-launch split (of the preferred size): controls | loss | hidden, and the heights.
COLUMNS = (380, 560, 620)
LOSS_ROWS = (520, 340)  # loss over diagnostics
HIDDEN_ROWS = (560, 300)  # hidden states over predictions
LOWER_MIN_HEIGHT = 250  # px the lower docks keep on a short screen (at most half the height)
FRAME = 16  # px a window manager's borders may add to the window's width
SEPARATOR = 6  # px between two docks (the style's PM_DockWidgetSeparatorExtent and a margin)


def available_geometry(window) -> QtCore.QRect:
    """Where the window may go: the available geometry of its screen (the primary one at first)."""
    handle = window.windowHandle()
    screen = handle.screen() if handle is not None else None
    screen = screen or QtWidgets.QApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, *PREFERRED)


def first_launch_rect(available: QtCore.QRect) -> QtCore.QRect:
    """The window's rectangle on a screen whose available geometry is ``available``."""
    width = min(PREFERRED[0], int(available.width() * SCREEN_SHARE))
    height = min(PREFERRED[1], int(available.height() * SCREEN_SHARE))
    rect = QtCore.QRect(0, 0, max(width, 1), max(height, 1))
    rect.moveCenter(available.center())
    return rect


def fit_to_screen(w, available: QtCore.QRect | None = None) -> QtCore.QRect:
    """Size and place window ``w`` (with its docks built) for a first launch; returns the rect.

    Called while the window is built, before its toolbar and status bar exist; so the first time
    the window is shown it is fitted again, with them (unless ``restore_layout`` restored the
    user's layout): fitted only once, the docks' heights left no room for the toolbar and the status
    bar and the window grew past a small screen's bottom."""
    for key, dock in w.docks.items():
        if key != "controls":  # the settings tree scrolls by itself
            scroll_when_narrow(dock)
    rect = _size_docks(w, available if available is not None else available_geometry(w))
    if not hasattr(w, "_fit_on_show"):
        w._fit_on_show = _FitOnFirstShow(w, available)
    return rect


class _FitOnFirstShow(QtCore.QObject):
    def __init__(self, w, available):
        super().__init__(w)
        self.available = available
        w.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QtCore.QEvent.Show and obj is self.parent():
            obj.removeEventFilter(self)
            if not getattr(obj, "_layout_restored", False):
                _size_docks(obj, self.available if self.available is not None else available_geometry(obj))
        return False


def _size_docks(w, available: QtCore.QRect) -> QtCore.QRect:
    rect = first_launch_rect(available)
    controls_min = w.controls.minimum_width()
    others = 2 * (_column_minimum(w) + SEPARATOR)  # the plot columns' minimum (a dock's, or its row of tabs')
    if rect.width() < controls_min + others:  # the screen's margin goes before the controls' values do
        rect.setWidth(min(controls_min + others, available.width() - FRAME))
        rect.moveCenter(available.center())
    w.resize(rect.size())
    w.move(rect.topLeft())
    scale = rect.width() / PREFERRED[0]
    controls = min(max(controls_min, int(COLUMNS[0] * scale)), rect.width() - others)  # all of it on screen
    w.docks["controls"].setMinimumWidth(max(min(controls_min, rect.width() // 2, controls), 1))
    rest = max(rect.width() - controls - 2 * SEPARATOR, 2)  # the loss and hidden docks' widths
    loss = min(max(int(rest * COLUMNS[1] / (COLUMNS[1] + COLUMNS[2])), _column_minimum(w)), rest - 1)
    w.resizeDocks([w.docks["controls"], w.docks["loss"], w.docks["hidden"]], [max(controls, 1), loss, rest - loss],
                  Qt.Horizontal)
    height = max(rect.height() - _chrome_height(w) - SEPARATOR, 2)  # what two docks share below the toolbar
    # a tabbed dock's size includes its row of tabs (none yet at the first fit, as the bars)
    lower = LOWER_MIN_HEIGHT + max([bar.sizeHint().height() for bar in w.findChildren(QtWidgets.QTabBar)
                                    if bar.count()] + [0])
    w.resizeDocks([w.docks["loss"], w.docks["diagnostics"]], _split(height, LOSS_ROWS, lower), Qt.Vertical)
    w.resizeDocks([w.docks["hidden"], w.docks["predictions"]], _split(height, HIDDEN_ROWS, lower), Qt.Vertical)
    return rect


def _column_minimum(w) -> int:
    """The narrowest a column of plot docks can be: its docks' minimum, or the tabs of tabbed docks'."""
    docks = [dock.minimumSizeHint().width() for key, dock in w.docks.items() if key != "controls"]
    tabs = [bar.minimumSizeHint().width() for bar in w.findChildren(QtWidgets.QTabBar) if bar.count()]
    return max(docks + tabs + [1])


def _chrome_height(w) -> int:
    """The menu bar's, toolbars' and status bar's heights (those that exist yet)."""
    bars = [w.menuWidget(), w.findChild(QtWidgets.QStatusBar)] + w.findChildren(QtWidgets.QToolBar)
    return sum(bar.sizeHint().height() for bar in bars if bar is not None and not bar.isHidden())


def scroll_when_narrow(dock: QtWidgets.QDockWidget) -> None:
    """The dock's content scrolls when the dock is narrower than it needs (the Runs dock's row of
    buttons asked for 700 px, the hidden-state panel's selectors for 320) instead of pushing the
    window past a small screen; with room to spare it fills the dock as before."""
    content = dock.widget()
    if content is None or isinstance(content, QtWidgets.QScrollArea):
        return
    area = QtWidgets.QScrollArea()
    area.setObjectName(f"{dock.objectName()}_scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.NoFrame)
    dock.setWidget(area)
    area.setWidget(content)


def restore_layout(w, settings) -> None:
    """The size, place and dock layout the user left (none on a first launch: fit_to_screen's)."""
    geometry = settings.value("window/geometry")
    state = settings.value("window/state")
    w._layout_restored = geometry is not None or state is not None  # the first show keeps them
    if geometry is not None:
        w.restoreGeometry(geometry)
    if state is not None:
        w.restoreState(state)


def save_layout(w, settings) -> None:
    settings.setValue("window/geometry", w.saveGeometry())
    settings.setValue("window/state", w.saveState())


def _split(total: int, shares, lower: int) -> list[int]:
    """``total`` px in ``shares``, the second at least ``lower`` px (or half): at 700 px, 560:300 left
    Predictions 167 px under Hidden states' 364, its plots ~100 px tall."""
    first = min(int(total * shares[0] / sum(shares)), max(total - lower, total // 2))
    return [first, max(total - first, 1)]
