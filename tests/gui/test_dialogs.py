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


def test_closing_the_window_closes_its_boxes(qtbot, make_window):
    """A box is a top-level window of its own: it stayed on screen after its window closed (the
    next test's check for error boxes found it and failed only when run after this kind of test)."""
    window = make_window()
    dialogs.show_error(window, "Export failed", "use a .png file name")
    dialogs.show_info(window, "Results", "accuracy 0.5")
    assert len(_visible_boxes(window)) == 2
    window.close()
    assert not [w for w in QtWidgets.QApplication.topLevelWidgets()
                if isinstance(w, QtWidgets.QDialog) and w.isVisible()]
