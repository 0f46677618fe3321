"""Dialogs: error messages, confirmations, questions (the preview dialog is gui.preview_dialog).

Error messages are shown *non-blocking* (``QMessageBox.open``): a worker error arriving while
another dialog is up must not nest event loops, and tests can inspect the open box.
Confirmations block (``exec_``) because the caller needs the answer; tests monkeypatch
:func:`confirm`.
"""

from __future__ import annotations

import logging

from PyQt5 import QtCore, QtWidgets

from gui.preview_dialog import PreviewDialog, summary_lines  # noqa: F401  (the dialog lives there)

log = logging.getLogger(__name__)


def show_error(parent, title: str, text: str) -> QtWidgets.QMessageBox:
    """A window-modal error box that does not block the caller; returns the box. The same
    message while its box is still open is not stacked in a second box (they piled up and kept
    the window from closing until each was dismissed)."""
    for open_box in (parent.findChildren(QtWidgets.QMessageBox, "errorBox") if parent is not None else []):
        if open_box.isVisible() and open_box.windowTitle() == title and open_box.text() == text:
            open_box.raise_()
            return open_box
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Critical)
    box.setWindowTitle(title)
    box.setText(text)
    box.setStandardButtons(QtWidgets.QMessageBox.Ok)
    box.setAttribute(QtCore.Qt.WA_DeleteOnClose)
    box.setObjectName("errorBox")
    box.open()
    return box


def close_open_dialogs(parent) -> int:
    """Close every dialog of ``parent`` still on screen (its error / info boxes, non-modal tools);
    returns how many. A window that closes takes its boxes with it: a box is a top-level window
    of its own, so it stayed on screen after its window had gone."""
    left = [d for d in parent.findChildren(QtWidgets.QDialog) if d.isVisible()]
    for dialog in left:
        dialog.close()
    return len(left)


def show_warning(parent, title: str, text: str) -> QtWidgets.QMessageBox:
    box = show_error(parent, title, text)
    box.setIcon(QtWidgets.QMessageBox.Warning)
    return box


def show_info(parent, title: str, text: str) -> QtWidgets.QMessageBox:
    """A non-blocking information box (results); monospaced so tables line up."""
    box = show_error(parent, title, text)
    box.setIcon(QtWidgets.QMessageBox.Information)
    box.setObjectName("infoBox")
    box.setStyleSheet("QLabel { font-family: monospace; }")
    return box


def confirm(parent, title: str, text: str) -> bool:
    """Yes/No question; True for Yes."""
    answer = QtWidgets.QMessageBox.question(
        parent, title, text, QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No, QtWidgets.QMessageBox.Yes
    )
    return answer == QtWidgets.QMessageBox.Yes


def ask_choice(parent, title: str, text: str, choices) -> str | None:
    """A question with several answers: ``choices`` is [(key, button text), ...]; returns the key
    of the button pressed, or None for Cancel. Blocks (the caller needs the answer); tests
    monkeypatch it."""
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Question)
    box.setWindowTitle(title)
    box.setText(text)
    buttons = {box.addButton(label, QtWidgets.QMessageBox.AcceptRole): key for key, label in choices}
    box.addButton(QtWidgets.QMessageBox.Cancel)
    box.exec_()
    return buttons.get(box.clickedButton())
