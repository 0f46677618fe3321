"""The loss history of this session's runs, one row per epoch, for File ▸ Export loss history (CSV).

Written by the one history writer (``engine.run_folder.write_metrics_csv``): the run folder's
metrics.csv columns (with test_loss/test_accuracy when a run was scored every K epochs, or on demand:
Run ▸ Score on test set fills the row of the epoch whose weights it scored), then ``run``
(the run's label) and ``changes`` (settings changed at that epoch).
"""

from __future__ import annotations

import os

from engine.run_folder import write_metrics_csv

EXTRA_COLUMNS = ("run", "changes")  # after the run folder's metrics columns


def run_label(config, dataset_name: str = "") -> str:
    """Legend text for a run: its settings in one line."""
    clip = f"{config.clip_norm:g}" if config.clip_norm else "off"
    hidden = ",".join(str(int(h)) for h in config.hidden_sizes)
    text = (
        f"{config.cell} {hidden} · {config.optimizer} "
        f"lr={config.learning_rate:.3g} · batch {config.batch_size} · clip {clip}"
    )
    return f"{text} · {printable(dataset_name)}" if dataset_name else text


def printable(name: str) -> str:
    """A file-derived name as text any file can hold: bytes that were not UTF-8 in the file name
    (decoded by Python as lone surrogates, which no UTF-8 writer accepts) become ``\\xe9``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


class RunHistory:
    """``Trainer.history``-style rows of the current run plus the last ``max_earlier`` runs."""

    def __init__(self, max_earlier: int):
        self.max_earlier = int(max_earlier)
        self.label = ""  # the current run's "run" column
        self.rows: list[dict] = []
        self.earlier: list[list[dict]] = []
        self._tests: dict = {}  # epoch -> test columns that came before their epoch's row

    def add(self, fields: dict, changes: str = "") -> None:
        """One row from a report's fields (``vars(report)``) or a checkpoint's history dict."""
        entry = {k: v for k, v in fields.items() if k not in ("hidden", "gates", "insight")}  # no arrays kept
        entry.update(self._tests.pop(entry.get("epoch"), {}))
        self.rows.append({**entry, "run": self.label, "changes": changes})

    def set_test(self, epoch: int, loss: float, accuracy: float | None = None) -> None:
        """The current run's test score of ``epoch``'s weights (periodic, or on demand with the best
        weights of that epoch): its row's test_loss/test_accuracy
        (the export then has the test columns, as the run folder's metrics.csv). The score and the
        epoch's report travel apart, so either may come first."""
        scores = {"test_loss": float(loss), "test_accuracy": None if accuracy is None else float(accuracy)}
        for row in reversed(self.rows):
            if row.get("epoch") == epoch:
                row.update(scores)
                return
        self._tests[epoch] = scores

    def close_run(self) -> None:
        """The current run becomes an earlier one (if it has rows); the next run starts empty."""
        if self.rows:
            self.earlier.append(self.rows)
            del self.earlier[:-self.max_earlier]
        self.rows = []
        self._tests = {}

    def has_rows(self) -> bool:
        return bool(self.rows or self.earlier)

    def write_csv(self, path: str) -> None:
        """All runs, earlier ones first, atomically; OSError when the file cannot be written."""
        write_metrics_csv(path, *self.earlier, self.rows, extra=EXTRA_COLUMNS)
