"""The loss history of this session's runs, one row per epoch, for File ▸ Export loss history (CSV)."""

from __future__ import annotations

import csv

HISTORY_COLUMNS = ("run", "epoch", "train_loss", "val_loss", "val_accuracy", "learning_rate", "seconds", "changes")


class RunHistory:
    """Rows (``HISTORY_COLUMNS``) of the current run plus the last ``max_earlier`` runs."""

    def __init__(self, max_earlier: int):
        self.max_earlier = int(max_earlier)
        self.label = ""  # the current run's "run" column
        self.rows: list[tuple] = []
        self.earlier: list[list[tuple]] = []

    def add(self, fields: dict, changes: str = "") -> None:
        """One row from a report's fields or a checkpoint's history dict."""
        self.rows.append((self.label, *(fields.get(name) for name in HISTORY_COLUMNS[1:-1]), changes))

    def close_run(self) -> None:
        """The current run becomes an earlier one (if it has rows); the next run starts empty."""
        if self.rows:
            self.earlier.append(self.rows)
            del self.earlier[:-self.max_earlier]
        self.rows = []

    def has_rows(self) -> bool:
        return bool(self.rows or self.earlier)

    def write_csv(self, path: str) -> None:
        """All runs, earlier ones first; OSError when the file cannot be written."""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HISTORY_COLUMNS)
            for rows in (*self.earlier, self.rows):
                for row in rows:
                    writer.writerow(["" if v is None else v for v in row])
