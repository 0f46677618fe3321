"""The window's history export writes the run folder's columns (one history writer), then run and changes."""
import csv

from engine.run_folder import metrics_columns
from gui.run_history import RunHistory


def _entry(epoch, **extra):
    return {"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 2.0 / epoch, "val_accuracy": None,
            "learning_rate": 0.01, "clip_norm": 5.0, "momentum": 0.9, "seconds": 0.25,
            "grad_norms": {"layer1": 0.5, "head": 0.1}, "weight_norms": {"layer1": 3.0, "head": 1.0},
            "hidden": ["not exported"], **extra}


def test_export_has_the_metrics_columns_of_every_run(tmp_path):
    history = RunHistory(max_earlier=2)
    history.label = "first"
    history.add(_entry(1))
    history.add(_entry(2), "lr 0.01 → 0.003")
    history.close_run()
    history.label = "second"
    history.add(_entry(1))
    path = tmp_path / "h.csv"
    history.write_csv(str(path))
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [*metrics_columns(["layer1", "head"]), "run", "changes"]
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert [(r["run"], r["epoch"], r["wall_s"]) for r in body] == [("first", "1", "0.25"), ("first", "2", "0.5"),
                                                                   ("second", "1", "0.25")]
    assert body[1]["changes"] == "lr 0.01 → 0.003" and body[0]["val_accuracy"] == ""
    assert not list(tmp_path.glob("*.tmp"))


def test_export_with_a_dataset_whose_file_name_is_not_utf8(tmp_path):
    """Issue 11: a file name with a Latin-1 byte (b"caf\\xe9.csv") made the run label hold a lone
    surrogate, and File > Export loss history failed with UnicodeEncodeError."""
    import os

    from engine.training import TrainingConfig
    from gui.run_history import run_label

    history = RunHistory(max_earlier=2)
    history.label = run_label(TrainingConfig(), os.path.splitext(os.fsdecode(b"caf\xe9_series.csv"))[0])
    history.add(_entry(1))
    path = tmp_path / "h.csv"
    history.write_csv(str(path))
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["run"].endswith("caf\\xe9_series")  # the byte, readable, in a valid UTF-8 file


def test_a_test_score_fills_its_epochs_row_whichever_comes_first(tmp_path):
    import csv

    from gui.run_history import RunHistory

    history = RunHistory(3)
    history.add({"epoch": 1, "train_loss": 1.0, "val_loss": 1.1})
    history.set_test(1, 0.9, 0.5)  # after its row
    history.set_test(2, 0.8, None)  # before its row (the score and the report travel apart)
    history.add({"epoch": 2, "train_loss": 0.7, "val_loss": 0.8})
    history.add({"epoch": 3, "train_loss": 0.6, "val_loss": 0.7})
    path = tmp_path / "h.csv"
    history.write_csv(str(path))
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["test_loss"], r["test_accuracy"]) for r in rows] == [("0.9", "0.5"), ("0.8", ""), ("", "")]
