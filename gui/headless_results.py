"""What a headless run adds for results (issue 9): suggested settings, the test set, steps.csv.

Qt-free, used by ``gui.headless``: ``frame_as_suggested`` frames the data as the suggestion says
(``--frame`` given wins); ``suggested_changes`` fills the settings the user did not give from
``engine.suggest``; ``TestSet`` loads ``--test FILE`` with the training file's rules, scores it
every ``--test-every K`` epochs (``test_loss``/``test_accuracy`` in the history rows) and at the
end with the restored best weights; ``StepsCsv`` appends the partial reports of long epochs to
``steps.csv``, flushed as they come.
"""

from __future__ import annotations

import csv

from engine.progress import STEPS_CSV_HEADER


def frame_as_suggested(dataset, load_options: dict):
    """``dataset`` framed as ``engine.suggest`` says (a long univariate series to classify), unless the
    loading options chose a frame (``--frame``). The test set follows: it is loaded with the
    training data's frame (``engine.evaluation.load_test_set``)."""
    from engine.data.framing import frame_dataset
    from engine.suggest import suggested_frame

    if "frame" in load_options or dataset.frame != 1:
        return dataset
    return frame_dataset(dataset, suggested_frame(dataset))


def suggested_changes(dataset, changes: dict, validation_fraction: float = 0.2) -> tuple[dict, str]:
    """``changes`` (the flags given) completed by the suggestion; and the one-line header."""
    from engine.suggest import suggest

    s = suggest(dataset, validation_fraction=validation_fraction)
    proposal = dict(s.settings, patience=s.patience)
    kept = sorted([k for k in proposal if k in changes] + (["frame"] if s.frame != dataset.frame else []))
    merged = {**proposal, **changes}
    line = s.describe()
    if kept:
        line += f"; given explicitly: {', '.join(kept)}"
    return merged, line


class TestSet:
    """``--test FILE`` for one trainer: checked at start, scored periodically and at the end."""

    __test__ = False  # not a pytest test class

    def __init__(self, path, trainer, every: int | None = None, test=None):
        from engine.evaluation import TestScorer, load_test_set

        self.path = str(path)
        self.trainer = trainer
        self.every = every
        if test is None:  # the window passes the test set it loaded and checked already
            test = load_test_set(path, trainer.dataset)  # DataError if it does not fit
        self.scorer = TestScorer(trainer, test)
        if every:
            trainer.epoch_listeners.append(self.after_epoch)

    def after_epoch(self, entry: dict) -> None:
        """A Trainer epoch listener: every ``every`` epochs, score the current weights into the
        epoch's history entry (before the run folder records it)."""
        if not self.every or entry.get("epoch", 0) % self.every:
            return
        result = self.scorer.score(weights="last")
        entry["test_loss"], entry["test_accuracy"] = result.loss, result.accuracy

    def final(self):
        """Restore the best weights and score them (the last weights when no epoch was validated)."""
        best = self.trainer.restore_best()
        if best:
            return self.scorer.score(epoch=best, weights="best")
        return self.scorer.score(weights="last")


class StepsCsv:
    """``steps.csv``: one row per partial report (epoch, step, wall_s, train_loss, steps_per_s)."""

    def __init__(self, path):
        self.path = path
        self._file = open(path, "a", newline="", encoding="utf-8")  # a resumed run appends
        self._writer = csv.writer(self._file)
        if self._file.tell() == 0:
            self._writer.writerow(STEPS_CSV_HEADER)
            self._file.flush()

    def __call__(self, report) -> None:
        self._writer.writerow(report.to_row())
        self._file.flush()

    def close(self) -> None:
        self._file.close()
