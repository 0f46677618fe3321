"""The divergence dialog: what happened, a new rate, and "Roll back to epoch N and resume".

Resume alone never recovered a run whose weights had already exploded (every step refused), so
the dialog offers the real way back: the run keeps the last good epoch's weights
(engine.recovery, ``Run.roll_back``); the button sets the new learning rate through the controls
(the run's one door, with its marker on the loss curve), rolls the weights back on the worker
thread, and resumes. The box is not modal for the caller (``open()``) and there is one at a time.
"""

from __future__ import annotations

import math

from PyQt5 import QtCore, QtWidgets  # noqa: I001  (PyQt5 before pyqtgraph)
import pyqtgraph as pg

MIN_RATE = 1e-7
RATE_DIVISOR = 10.0  # the suggested new rate: the one that diverged, divided by this


def suggested_rate(rate: float) -> float:
    return max(MIN_RATE, float(rate) / RATE_DIVISOR) if math.isfinite(rate) and rate > 0 else 1e-3


class DivergenceDialog(QtWidgets.QDialog):
    """The message, a learning-rate field and the roll-back button (``good_epoch`` < 0: none)."""

    sigRollBack = QtCore.pyqtSignal(float)  # the new learning rate

    def __init__(self, message: str, learning_rate: float, good_epoch: int, parent=None):
        super().__init__(parent)
        self.setObjectName("divergenceDialog")
        self.setWindowTitle("Training diverged")
        self.setAttribute(QtCore.Qt.WA_DeleteOnClose)
        self.good_epoch = int(good_epoch)
        text = QtWidgets.QLabel(message)
        text.setWordWrap(True)
        self.rate = pg.SpinBox(value=suggested_rate(learning_rate), dec=True, step=0.5, minStep=MIN_RATE,
                               bounds=(MIN_RATE, None), decimals=4)
        self.rate.setObjectName("newLearningRate")
        form = QtWidgets.QFormLayout()
        form.addRow(f"New learning rate (was {learning_rate:.3g}):", self.rate)
        self.buttons = QtWidgets.QDialogButtonBox()
        self.roll_back_button = None
        if self.good_epoch >= 0:
            where = f"epoch {self.good_epoch}" if self.good_epoch > 0 else "the start"
            self.roll_back_button = self.buttons.addButton(
                f"Roll back to {where} and resume with the new rate", QtWidgets.QDialogButtonBox.AcceptRole)
            self.roll_back_button.setDefault(True)
        self.buttons.addButton("Stay paused", QtWidgets.QDialogButtonBox.RejectRole)
        self.buttons.accepted.connect(self._roll_back)
        self.buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def _roll_back(self) -> None:
        self.sigRollBack.emit(float(self.rate.value()))
        self.accept()


def ask(window, message: str, report) -> DivergenceDialog:
    """Show the dialog for ``report`` (the diverged epoch's) over ``window``; replaces one still open."""
    old = getattr(window, "_divergence_dialog", None)
    if old is not None:
        try:
            old.close()
        except RuntimeError:  # already deleted (WA_DeleteOnClose)
            pass
    rate = float(getattr(report, "learning_rate", math.nan))
    dialog = DivergenceDialog(message, rate, int(getattr(report, "good_epoch", -1)), window)
    dialog.sigRollBack.connect(lambda new_rate: roll_back_and_resume(window, new_rate))
    window._divergence_dialog = dialog
    dialog.open()
    return dialog


def roll_back_and_resume(window, learning_rate: float) -> None:
    """The new rate through the controls (live change, marker), the weights back, then resume."""
    window.controls.user_change("learning_rate", float(learning_rate))
    window.worker.roll_back()
    window.start()  # Resume: the worker runs the roll-back command before the next epoch


def show_rolled_back(window, epoch: int) -> None:
    where = f"epoch {epoch}'s weights" if epoch > 0 else "the initial weights"
    window.loss_plot.add_marker(window._last_epoch, f"back to ep {epoch}")
    window._show_status(f"rolled back to {where}; training resumed")
