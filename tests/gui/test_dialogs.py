"""Error boxes (gui.dialogs): the same message is never stacked in a second box."""
from PyQt5 import QtWidgets

from gui import dialogs


def _visible_boxes(window):
    return [b for b in window.findChildren(QtWidgets.QMessageBox) if b.isVisible()]


def test_the_same_error_twice_is_one_box(qtbot, make_window):
    window = make_window()
    first = dialogs.show_error(window, "Training error", "could not apply the change")
    second = dialogs.show_error(window, "Training error", "could not apply the change")
    assert second is first and len(_visible_boxes(window)) == 1
    dialogs.show_error(window, "Training error", "another problem")
    assert len(_visible_boxes(window)) == 2
