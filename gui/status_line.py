"""The status bar's permanent part: epoch, losses, speed, elapsed time, backend and a progress bar
(epochs), plus a second bar that moves within a long epoch (steps, steps/s and an ETA)."""

from __future__ import annotations

from PyQt5 import QtWidgets

from gui.plots.shrinkable import ElidedLabel

BAR_MAX_WIDTH = 220  # px: the epoch bar's usual width
STEP_BAR_MAX_WIDTH = 180  # px: the step bar's usual width
BAR_PADDING = 24  # px around the epoch bar's text (the style's frame and margins)
STATUS_INTERVAL_S = 0.2  # report text at most this often: each change re-lays out the bar


DERIVED_SPEED_TIP = ("Derived from the run folder: run.json's training sequences over the wall time between "
                     "its last epochs in metrics.csv (validation and checkpoints included)")


def _clock(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "–"
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _number(value) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else "–"


def _set_text(label: QtWidgets.QLabel, text: str) -> None:
    if label.text() != text:  # an unchanged text still costs a re-layout
        label.setText(text)


def _fit_bar(bar: QtWidgets.QProgressBar, longest: str, usual: int) -> None:
    """Never narrower than its longest text: a squeezed bar (1024x700) wrapped "epoch 120 / 100000",
    and the step bar "epoch 3: step 22 / 39", onto two lines."""
    widest = bar.fontMetrics().horizontalAdvance(longest) + BAR_PADDING
    if bar.minimumWidth() != widest:
        bar.setMinimumWidth(widest)
        bar.setMaximumWidth(max(usual, widest))


NO_RUN = "no run yet"


class StatusLine:
    """Labels and a progress bar added to ``status_bar``; ``show_report`` throttles itself."""

    def __init__(self, status_bar: QtWidgets.QStatusBar):
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(BAR_MAX_WIDTH)
        self.progress.setFormat(NO_RUN)  # until a run gives its length (set_total): not "epoch 0 / 1"
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.lbl_epoch = QtWidgets.QLabel("epoch –")
        self.lbl_loss = QtWidgets.QLabel("loss –")
        self.lbl_rate = QtWidgets.QLabel("– seq/s")
        self.lbl_elapsed = QtWidgets.QLabel("0:00")
        self.lbl_backend = ElidedLabel("backend: not started", min_chars=12)  # gives way first ("…", whole on hover)
        self.step_progress = QtWidgets.QProgressBar()  # within an epoch: shown once a run reports steps
        self.step_progress.setMaximumWidth(STEP_BAR_MAX_WIDTH)
        self.step_progress.setObjectName("stepProgress")
        self.step_progress.hide()
        for widget in (self.lbl_epoch, self.lbl_loss, self.lbl_rate, self.lbl_elapsed, self.lbl_backend,
                       self.step_progress, self.progress):
            status_bar.addPermanentWidget(widget)
        self._shown_report = None
        self._shown_at = float("-inf")
        self._epoch: int | None = None  # the epoch the label and the bar show (show_epoch)
        self._step_shown_at = float("-inf")

    def show_step(self, report, now: float) -> None:
        """A StepReport (progress within an epoch): step bar, running loss, steps/s and ETA."""
        if now - self._step_shown_at < STATUS_INTERVAL_S or report.steps_in_epoch <= 1:
            return
        self._step_shown_at = now
        self.step_progress.setRange(0, int(report.steps_in_epoch))
        self.step_progress.setValue(min(int(report.step), int(report.steps_in_epoch)))
        self.step_progress.setFormat(f"epoch {report.epoch}: step %v / %m")
        _fit_bar(self.step_progress, f"epoch {report.epoch}: step {report.steps_in_epoch} / {report.steps_in_epoch}",
                 STEP_BAR_MAX_WIDTH)
        self.step_progress.show()
        _set_text(self.lbl_epoch, f"epoch {report.epoch} (in progress)")
        _set_text(self.lbl_loss, f"train {report.train_loss:.4g} (running)")
        # the first report of a new model comes right after its compile: no rate to speak of yet
        rate = (f"{report.steps_per_s:,.1f} steps/s · ETA {_clock(report.eta_s)}" if report.step > 1
                else "first step done")
        _set_text(self.lbl_rate, rate)

    def reset_steps(self) -> None:
        """The step bar waits for the next StepReport (a new run, or short epochs again)."""
        self.step_progress.hide()
        self._step_shown_at = float("-inf")

    def new_run(self) -> None:
        """A new run (or a shown folder): no epoch yet in the label and the bar, no step bar."""
        self.reset_steps()
        self.show_epoch(None)

    def show_epoch(self, epoch: int | None) -> None:
        """The last finished epoch, in the label and the bar at once, the one place either takes it (the
        bar once took the newest arrival while the label showed the last drawn report); show_step's
        "epoch N (in progress)" is the epoch after it."""
        self._epoch = None if epoch is None else int(epoch)
        _set_text(self.lbl_epoch, "epoch –" if epoch is None else f"epoch {self._epoch}")
        self.progress.setValue(min(self._epoch or 0, self.progress.maximum()))

    def set_total(self, epochs: int) -> None:
        """The run's epochs: the bar's range; its value stays the epoch the label shows."""
        self.progress.setFormat("epoch %v / %m")
        self.progress.setRange(0, int(epochs))
        self.progress.setValue(min(self._epoch or 0, int(epochs)))
        _fit_bar(self.progress, f"epoch {int(epochs)} / {int(epochs)}", BAR_MAX_WIDTH)

    def show_now(self) -> None:
        """The next ``show_report`` updates at once (final numbers, exports)."""
        self._shown_at = float("-inf")

    def show_report(self, report, now: float) -> None:
        if report is None or report is self._shown_report or now - self._shown_at < STATUS_INTERVAL_S:
            return
        self._shown_report = report
        self._shown_at = now
        self.show_epoch(report.epoch)
        acc = f" · acc {report.val_accuracy:.1%}" if report.val_accuracy is not None else ""
        _set_text(self.lbl_loss, f"train {report.train_loss:.4g} · val {report.val_loss:.4g}{acc}")
        _set_text(self.lbl_rate, f"{report.sequences_per_second:,.0f} seq/s")
        self.lbl_rate.setToolTip("")

    def show_row(self, row: dict, speed: float | None = None) -> None:
        """A run folder's last metrics.csv row (a run shown from disk, or followed): its epoch and
        losses, as ``show_report`` does for the window's own run; ``speed`` is not recorded there but
        derived (RunReader.sequences_per_second, "≈"), None = "–"."""
        self._shown_report = None
        acc = row.get("val_accuracy")
        acc = f" · acc {acc:.1%}" if isinstance(acc, float) and acc == acc else ""
        self.show_epoch(row["epoch"])
        _set_text(self.lbl_loss, f"train {_number(row.get('train_loss'))} · val {_number(row.get('val_loss'))}{acc}")
        _set_text(self.lbl_rate, f"≈{speed:,.0f} seq/s" if speed else "– seq/s")
        self.lbl_rate.setToolTip(DERIVED_SPEED_TIP if speed else "")

    def show_elapsed(self, seconds: float) -> None:
        _set_text(self.lbl_elapsed, _clock(seconds))

    def show_backend(self, text: str) -> None:
        self.lbl_backend.setText(text)
