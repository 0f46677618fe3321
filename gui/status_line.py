"""The status bar's permanent part: epoch, losses, speed, elapsed time, backend and a progress bar."""

from __future__ import annotations

from PyQt5 import QtWidgets

STATUS_INTERVAL_S = 0.2  # report text at most this often: each change re-lays out the bar


def _set_text(label: QtWidgets.QLabel, text: str) -> None:
    if label.text() != text:  # an unchanged text still costs a re-layout
        label.setText(text)


class StatusLine:
    """Labels and a progress bar added to ``status_bar``; ``show_report`` throttles itself."""

    def __init__(self, status_bar: QtWidgets.QStatusBar):
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("epoch %v / %m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.lbl_epoch = QtWidgets.QLabel("epoch –")
        self.lbl_loss = QtWidgets.QLabel("loss –")
        self.lbl_rate = QtWidgets.QLabel("– seq/s")
        self.lbl_elapsed = QtWidgets.QLabel("0:00")
        self.lbl_backend = QtWidgets.QLabel("backend: not started")
        for widget in (self.lbl_epoch, self.lbl_loss, self.lbl_rate, self.lbl_elapsed, self.lbl_backend,
                       self.progress):
            status_bar.addPermanentWidget(widget)
        self._shown_report = None
        self._shown_at = float("-inf")

    def set_total(self, epochs: int, done: int = 0) -> None:
        self.progress.setRange(0, int(epochs))
        self.progress.setValue(min(int(done), int(epochs)))

    def show_now(self) -> None:
        """The next ``show_report`` updates at once (final numbers, exports)."""
        self._shown_at = float("-inf")

    def show_report(self, report, now: float) -> None:
        if report is None or report is self._shown_report or now - self._shown_at < STATUS_INTERVAL_S:
            return
        self._shown_report = report
        self._shown_at = now
        self.progress.setValue(min(report.epoch, self.progress.maximum()))
        acc = f" · acc {report.val_accuracy:.1%}" if report.val_accuracy is not None else ""
        _set_text(self.lbl_epoch, f"epoch {report.epoch}")
        _set_text(self.lbl_loss, f"train {report.train_loss:.4g} · val {report.val_loss:.4g}{acc}")
        _set_text(self.lbl_rate, f"{report.sequences_per_second:,.0f} seq/s")

    def show_elapsed(self, seconds: float) -> None:
        minutes, seconds = divmod(int(seconds), 60)
        _set_text(self.lbl_elapsed, f"{minutes}:{seconds:02d}")

    def show_backend(self, text: str) -> None:
        self.lbl_backend.setText(text)
