"""File ▸ Open Test Set… and Run ▸ Score on test set (issue 9), mixed into MainWindow.

The test set is a second file loaded with the training file's rules and checked against the
training data (``engine.evaluation.load_test_set``: a mismatch is a DataError naming both
files). It is never trained on and never chooses the best epoch: it is scored on demand with
the best weights (``TestScorer.score_best``, the run's own weights left as they were) and the
result goes to the run's run.json ``"test"`` (``Run.set_test``, as in headless mode), to a
dialog, and to File ▸ Export loss history: the test_loss/test_accuracy columns of the row of the
epoch whose weights were scored (the best epoch), the numbers a periodic score at that epoch
writes to metrics.csv. Loading and scoring run on the worker thread (``TrainingWorker.submit``); the window only
keeps the checked test dataset, which belongs to the current training dataset.

Opening ``X_TRAIN.ext`` offers ``X_TEST.ext`` when it exists (``sibling_test_path``).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import weakref

import pyqtgraph as pg
from PyQt5 import QtCore, QtWidgets  # noqa: I001

from gui import dialogs
from gui.dataset_open import error_message

log = logging.getLogger(__name__)

TEST_RULES_LEFT_OUT = ("multi_file", "label_from_folder")  # about several training files, not the test file


def load_test_job(path, train, options, _run):
    """Worker thread: the test file as the training data's terms (DataError naming both files)."""
    from engine.evaluation import load_test_set

    rules = {k: v for k, v in options.items() if k not in TEST_RULES_LEFT_OUT}
    return load_test_set(path, train, **rules)


def score_job(test, path, run):
    """Worker thread: score the best weights of ``run`` on ``test``; recorded in its run.json."""
    from engine.evaluation import TestScorer

    if run is None or not run.trainer.epoch:
        raise ValueError("Nothing to score yet: train at least one epoch (or load a checkpoint) first.")
    result = TestScorer(run.trainer, test).score_best()
    run.set_test({**result.to_json(), "file": path})
    return result


# trainer -> its periodic TestSet (worker thread only): "every K" changes it in place, live
_PERIODIC: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def attach_every_job(path, test, every, relay, run_id, run):
    """Worker thread: score ``run``'s current weights every ``every`` epochs (0: not now) into its
    history (the metrics.csv test columns, as headless --test-every) and send each point to the
    window. Called again for the same run, it only changes K: the current run follows at once, with
    the same scorer (its compiled predict function), and nothing of the training is rebuilt."""
    from gui.headless_results import TestSet

    if run is None:
        return None
    trainer = run.trainer
    periodic = _PERIODIC.get(trainer)
    if periodic is not None:
        periodic.every = every
        return every
    # its epoch listener writes test_loss/test_accuracy; every=0 attaches it idle
    periodic = TestSet(path, trainer, test=test)
    periodic.every = every
    trainer.epoch_listeners.append(periodic.after_epoch)
    _PERIODIC[trainer] = periodic

    def send(entry):
        if "test_loss" in entry:
            accuracy = entry.get("test_accuracy")
            relay.sigTestPoint.emit(run_id, int(entry["epoch"]), float(entry["test_loss"]),
                                    math.nan if accuracy is None else float(accuracy))

    trainer.epoch_listeners.append(send)
    return every


class TestPointRelay(QtCore.QObject):
    """Carries periodic test losses from the worker thread's epoch listener to the window (queued)."""

    sigTestPoint = QtCore.pyqtSignal(int, int, float, float)  # (run_id, epoch, test loss, accuracy or nan)


def result_text(result, path) -> str:
    """What the results dialog says: the headline, then the per-class table or the units."""
    lines = [f"{os.path.basename(path)}: {result.describe()}"]
    if result.weights == "best":
        lines.append(f"Scored with the best weights (epoch {result.epoch}, lowest validation loss); "
                     "training goes on from its own weights.")
    if result.task == "classify_sequence":
        lines.append("")
        lines.append("per class: " + ", ".join(
            f"{name} {'–' if acc is None else f'{acc:.1%}'}" for name, acc in result.per_class_accuracy.items()))
        width = max(len(str(n)) for n in result.class_names)
        lines.append("confusion (rows: true class, columns: predicted):")
        lines.append(" " * (width + 2) + " ".join(f"{str(n):>6}" for n in result.class_names))
        for name, row in zip(result.class_names, result.confusion):
            lines.append(f"{str(name):>{width}}  " + " ".join(f"{c:>6}" for c in row))
    elif result.task == "next_token":
        lines.append(f"loss {result.loss:.4f} nats per character = {result.bits_per_char:.3f} bits per character")
    return "\n".join(lines)


class TestSetActions:
    """The test set of the window's current dataset (needs MainWindow's worker and dataset)."""

    test_set = None  # (path, SequenceDataset checked against self.dataset) or None
    last_test_result = None  # engine.evaluation.TestResult of the last scoring

    def _submit(self, job, on_done) -> None:
        """``job(run)`` on the worker thread; ``on_done(result, error)`` back on this one."""
        self._job_id = getattr(self, "_job_id", 0) + 1
        self._jobs = getattr(self, "_jobs", {})
        self._jobs[self._job_id] = on_done
        self.worker.submit(job, self._job_id)

    def _on_job_done(self, job_id: int, result, error) -> None:
        on_done = getattr(self, "_jobs", {}).pop(job_id, None)
        if on_done is not None and not self._closing:
            on_done(result, error)

    def open_test_set_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open test set", self._test_dir(),
                                                        "All files (*)")
        if path:
            self.open_test_set(path)

    def _test_dir(self) -> str:
        return os.path.dirname(self.dataset_paths[0]) if self.dataset_paths else self.last_dir()

    def open_test_set(self, path) -> bool:
        """Load ``path`` on the worker thread with the training file's rules and check it fits."""
        if self.dataset is None:
            self._error("No dataset", "Open the training data first (File ▸ Open), then its test set.")
            return False
        path = os.fspath(path)
        train = self.dataset
        self._show_status(f"loading test set {os.path.basename(path)}…")
        self._submit(functools.partial(load_test_job, path, train, dict(self.dataset_options)),
                     lambda test, error: self._test_set_loaded(path, train, test, error))
        return True

    def _test_set_loaded(self, path, train, test, error) -> None:
        if train is not self.dataset:  # another training file was opened meanwhile
            return
        if error is not None:
            self._error("Cannot use this test set", error_message(error))
            return
        self.test_set = (path, test)
        self._sync_test_columns()
        self._show_status(f"test set {os.path.basename(path)}: {test.n_sequences} sequence(s); "
                          "Run ▸ Score on test set scores the best weights")
        self._update_test_actions()

    def offer_sibling_test_set(self) -> None:
        """After opening X_TRAIN.ext: offer X_TEST.ext when it exists (called once per new dataset)."""
        from engine.evaluation import sibling_test_path

        if len(self.dataset_paths) != 1:
            return
        sibling = sibling_test_path(self.dataset_paths[0])
        if sibling and dialogs.confirm(self, "Test set", f"{os.path.basename(sibling)} is next to the training "
                                       "file. Use it as the test set (never trained on; scored on demand)?"):
            self.open_test_set(sibling)

    def forget_test_set(self) -> None:
        """A new training dataset: the old test set was checked against the old one."""
        self.test_set = None
        self.last_test_result = None
        if getattr(self, "_test_curve", None) is not None:
            self._test_curve.setData([], [])
        self._sync_test_columns()
        self._update_test_actions()

    def score_test_set(self) -> bool:
        """Score the current run's best weights on the test set (worker thread); False if it cannot."""
        if self.test_set is None:
            self._error("No test set", "Open a test set first (File ▸ Open Test Set…).")
            return False
        path, test = self.test_set
        self._show_status(f"scoring on {os.path.basename(path)}…")
        run_id = self._run_id
        self._submit(functools.partial(score_job, test, path),
                     lambda result, error: self._scored(path, result, error, run_id))
        return True

    def _scored(self, path, result, error, run_id=None) -> None:
        if error is not None:
            self._error("Cannot score the test set", error_message(error))
            return
        self.last_test_result = result
        if run_id == self._run_id:  # the export's test columns, on the row of the epoch whose weights were scored
            self.history.set_test(result.epoch, result.loss, result.accuracy)
        self._show_status(result.describe())
        box = dialogs.show_info(self, "Test set results", result_text(result, path))
        box.setObjectName("testResultsBox")

    # ------------------------------------------------------------------ every K epochs
    test_every = 0  # 0: only on demand

    def test_every_dialog(self) -> None:
        k, ok = QtWidgets.QInputDialog.getInt(self, "Score the test set every K epochs",
                                              "K (0 = only on demand; applies to the current run at once):",
                                              self.test_every, 0, 10_000)
        if ok:
            self.set_test_every(k)

    def set_test_every(self, k: int) -> None:
        """Score the test set every ``k`` epochs (0: off): a live setting, the current run follows at
        its next epoch (the same scorer: no compile of the training, no new run)."""
        self.test_every = max(0, int(k))
        self._sync_test_columns()
        live = self.run_state is not None and not self.is_idle and self.test_set is not None
        if live:
            self._test_run_started(self._run_id)
        self._show_status(f"test set scored every {k} epochs" + (", from this epoch on" if live else "") if k
                          else "test set scored on demand only")

    def _sync_test_columns(self) -> None:
        # A run started with a test set open has the metrics.csv test columns (empty until scored), so
        # "every K" can start mid-run: a run folder's header never changes under its followers.
        on = self.test_set is not None
        self.worker.run_kwargs = {"test_columns": True} if on else {}  # metrics.csv test_loss/test_accuracy

    def _test_run_started(self, run_id: int) -> None:
        """Called when a run begins, and when K changes during one: its periodic test scoring is
        attached (or its K changed) on the worker thread."""
        if self.test_set is None or not (self.test_every or getattr(self, "_test_attached", None) == run_id):
            return
        self._test_attached = run_id
        if getattr(self, "_test_relay", None) is None:
            self._test_relay = TestPointRelay(self)
            self._test_relay.sigTestPoint.connect(self._on_test_point)
        path, test = self.test_set
        self._submit(functools.partial(attach_every_job, path, test, self.test_every, self._test_relay, run_id),
                     lambda _result, error: error is not None and self._error(
                         "Cannot score the test set", error_message(error)))

    def test_curve(self) -> pg.PlotDataItem:
        """The test loss of the current run on the loss plot (its own curve, in the legend)."""
        if getattr(self, "_test_curve", None) is None:
            self._test_curve = self.loss_plot.plot_item.plot(
                pen=pg.mkPen((90, 200, 120), width=1.5), symbol="o", symbolSize=5,
                symbolBrush=(90, 200, 120), name="test")
            self._test_points = (None, [], [])
        return self._test_curve

    def _on_test_point(self, run_id: int, epoch: int, loss: float, accuracy: float = math.nan) -> None:
        if run_id != self._run_id:
            return
        self.history.set_test(epoch, loss, None if math.isnan(accuracy) else accuracy)  # Export loss history
        curve = self.test_curve()
        owner, xs, ys = self._test_points
        if owner != run_id:  # a new run: its own curve
            xs, ys = [], []
        xs.append(epoch)
        ys.append(loss)
        self._test_points = (run_id, xs, ys)
        curve.setData(xs, ys)

    def _update_test_actions(self) -> None:
        if hasattr(self, "act_score_test"):
            self.act_score_test.setEnabled(self.test_set is not None)
            self.act_open_test.setEnabled(self.dataset is not None)
            self.act_test_every.setEnabled(self.test_set is not None)
