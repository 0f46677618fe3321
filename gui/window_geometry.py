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
    """Size and place window ``w`` (with its docks built) for a first launch; returns the rect."""
    available = available if available is not None else available_geometry(w)
    rect = first_launch_rect(available)
    for key, dock in w.docks.items():
        if key != "controls":  # the settings tree scrolls by itself
            scroll_when_narrow(dock)
    w.resize(rect.size())
    w.move(rect.topLeft())
    controls_min = w.controls.minimum_width()
    w.docks["controls"].setMinimumWidth(min(controls_min, rect.width() // 2))
    scale = rect.width() / PREFERRED[0]
    controls = max(controls_min, int(COLUMNS[0] * scale))
    rest = max(rect.width() - controls, 2)
    loss = int(rest * COLUMNS[1] / (COLUMNS[1] + COLUMNS[2]))
    w.resizeDocks([w.docks["controls"], w.docks["loss"], w.docks["hidden"]], [controls, loss, rest - loss],
                  Qt.Horizontal)
    w.resizeDocks([w.docks["loss"], w.docks["diagnostics"]], _split(rect.height(), LOSS_ROWS), Qt.Vertical)
    w.resizeDocks([w.docks["hidden"], w.docks["predictions"]], _split(rect.height(), HIDDEN_ROWS), Qt.Vertical)
    return rect


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
    if geometry is not None:
        w.restoreGeometry(geometry)
    if state is not None:
        w.restoreState(state)


def save_layout(w, settings) -> None:
    settings.setValue("window/geometry", w.saveGeometry())
    settings.setValue("window/state", w.saveState())


def _split(total: int, shares) -> list[int]:
    first = int(total * shares[0] / sum(shares))
    return [first, max(total - first, 1)]
