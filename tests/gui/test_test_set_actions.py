"""File > Open Test Set and Run > Score on test set in the window (issue 9), on a real UCR pair."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PyQt5 import QtWidgets

from gui import dialogs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "benchmarks", "data")
GUNPOINT_TRAIN = os.path.join(DATA, "GunPoint_TRAIN.ts")
TIMEOUT = 60_000


def _boxes(name):
    return [w for w in QtWidgets.QApplication.topLevelWidgets() if w.objectName() == name and w.isVisible()]


def test_opening_a_train_file_offers_its_test_file_and_scores_the_best_weights(qtbot, make_window, auto_dialogs,
                                                                             tmp_path):
    window = make_window()
    assert not window.act_score_test.isEnabled()
    assert window.open_paths([GUNPOINT_TRAIN]) is True
    qtbot.waitUntil(lambda: window.test_set is not None, timeout=TIMEOUT)
    assert auto_dialogs["asked"] == 1  # "GunPoint_TEST.ts is next to the training file. Use it ...?"
    path, test = window.test_set
    assert path.endswith("GunPoint_TEST.ts") and test.n_sequences == 150 and window.act_score_test.isEnabled()
    for epoch in (1, 2):
        window.step_epoch()
        qtbot.waitUntil(lambda: window._run_points >= epoch and window.run_state == "paused", timeout=TIMEOUT)
    trainer = window.worker.trainer
    before = {k: np.array(v) for k, v in trainer._ensure_model().get_params().items()}
    assert window.score_test_set() is True
    qtbot.waitUntil(lambda: window.last_test_result is not None, timeout=TIMEOUT)
    result = window.last_test_result
    assert result.n == 150 and result.weights == "best" and result.epoch == trainer.best.epoch
    assert sum(map(sum, result.confusion)) == 150 and list(result.per_class_accuracy) == ["1", "2"]
    assert 0.0 <= result.accuracy <= 1.0
    after = trainer._ensure_model().get_params()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # training goes on from its own weights
    [box] = _boxes("testResultsBox")
    assert "GunPoint_TEST.ts" in box.text() and "confusion" in box.text()
    [folder] = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    recorded = json.loads((folder / "run.json").read_text())["test"]
    assert recorded["n"] == 150 and recorded["file"] == path and recorded["accuracy"] == result.accuracy
    assert recorded["epoch"] == result.epoch and recorded["confusion"] == result.confusion


def test_a_test_file_that_does_not_fit_names_both_files(qtbot, loaded_window, classify_tsv, tmp_path):
    window = loaded_window(classify_tsv)
    other = tmp_path / "Other_TEST.tsv"  # a class the training file does not have
    other.write_text("".join(f"{label}\t0.1\t0.2\t0.3\n" for label in (1, 3, 3)))
    window.open_test_set(str(other))
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT)
    assert "Other_TEST.tsv" in window.last_error and "Ramps_TRAIN.tsv" in window.last_error
    assert window.test_set is None and not window.act_score_test.isEnabled()


def test_two_train_files_can_be_opened_as_training_and_test_set(qtbot, monkeypatch, make_window, classify_tsv,
                                                                tmp_path):
    other = tmp_path / "Slopes_TRAIN.tsv"
    other.write_text("\n".join(open(classify_tsv).read().splitlines()[:10]) + "\n")
    window = make_window()
    monkeypatch.setattr(dialogs, "ask_choice", lambda *args: "test")
    window.open_paths([classify_tsv, str(other)])
    qtbot.waitUntil(lambda: window.test_set is not None, timeout=TIMEOUT)
    assert window.dataset.n_sequences == 16 and window.test_set[1].n_sequences == 10
    assert window.test_set[0] == str(other)


def test_scoring_before_any_epoch_explains(qtbot, loaded_window, classify_tsv):
    window = loaded_window(classify_tsv)
    window.open_test_set(classify_tsv)
    qtbot.waitUntil(lambda: window.test_set is not None, timeout=TIMEOUT)
    window.score_test_set()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT)
    assert "train at least one epoch" in window.last_error


def test_scoring_every_k_epochs_draws_its_own_curve_and_fills_the_metrics_columns(qtbot, loaded_window,
                                                                                  classify_tsv, tmp_path, tiny_config):
    import csv

    window = loaded_window(classify_tsv, tiny_config.replace(epochs=4))
    window.open_test_set(classify_tsv)
    qtbot.waitUntil(lambda: window.test_set is not None, timeout=TIMEOUT)
    window.set_test_every(2)
    for epoch in (1, 2, 3, 4):
        window.step_epoch()
        qtbot.waitUntil(lambda: window._run_points >= epoch and window.run_state == "paused", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.test_curve().getData()[0] is not None
                    and len(window.test_curve().getData()[0]) == 2, timeout=TIMEOUT)
    x, y = window.test_curve().getData()
    assert list(x) == [2, 4] and all(np.isfinite(y))
    assert "test" in [label.text for _, label in window.loss_plot.legend.items]
    [folder] = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    with open(folder / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["test_loss"] != "" for r in rows] == [False, True, False, True]
    assert float(rows[1]["test_loss"]) == pytest.approx(float(y[0]), rel=1e-5)
    assert rows[1]["test_accuracy"] != ""
    exported = tmp_path / "exported.csv"  # File > Export loss history: the same test columns (they were missing)
    qtbot.waitUntil(lambda: len(window.history.rows) == 4, timeout=TIMEOUT)  # booked once per frame
    window.history.write_csv(str(exported))
    with open(exported, newline="") as fh:
        rows_out = list(csv.DictReader(fh))
    assert [r["test_loss"] != "" for r in rows_out] == [False, True, False, True], rows_out
    assert float(rows_out[3]["test_loss"]) == pytest.approx(float(y[1]), rel=1e-5)
    assert float(rows_out[3]["test_accuracy"]) == pytest.approx(float(rows[3]["test_accuracy"]), rel=1e-5)


def test_changing_k_during_a_run_applies_to_that_run_at_once_and_compiles_nothing(qtbot, loaded_window,
                                                                                  classify_tsv, tmp_path, tiny_config):
    """Before: "every K" was read only when a run started, so the current run never scored."""
    import csv

    from engine import backend

    window = loaded_window(classify_tsv, tiny_config.replace(epochs=6))
    window.open_test_set(classify_tsv)
    qtbot.waitUntil(lambda: window.test_set is not None, timeout=TIMEOUT)

    def epochs(*numbers):
        for epoch in numbers:
            window.step_epoch()
            qtbot.waitUntil(lambda: window._run_points >= epoch and window.run_state in ("paused", "finished"),
                            timeout=TIMEOUT)

    def scored():
        data = window.test_curve().getData()[0]
        return [] if data is None else list(data)

    epochs(1, 2)
    run_id, trainer = window._run_id, window.worker.trainer
    window.set_test_every(1)  # live: from the next epoch of this run
    epochs(3, 4)
    qtbot.waitUntil(lambda: scored() == [3, 4], timeout=TIMEOUT)
    compiles = backend.compile_count()
    window.set_test_every(2)
    epochs(5, 6)
    qtbot.waitUntil(lambda: scored() == [3, 4, 6], timeout=TIMEOUT)
    assert window._run_id == run_id and window.worker.trainer is trainer  # the same run went on
    assert backend.compile_count() == compiles  # the same scorer: no compile for the change or the scores
    [folder] = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    with open(folder / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows if r["test_loss"] != ""] == ["3", "4", "6"]


def test_the_on_demand_score_is_in_the_exported_history(qtbot, loaded_window, classify_tsv, tmp_path, tiny_config):
    """Before: Run > Score on test set went to run.json only; the export had no test columns."""
    import csv

    window = loaded_window(classify_tsv, tiny_config.replace(epochs=3))
    window.open_test_set(classify_tsv)
    qtbot.waitUntil(lambda: window.test_set is not None, timeout=TIMEOUT)
    for epoch in (1, 2, 3):
        window.step_epoch()
        qtbot.waitUntil(lambda: window._run_points >= epoch and window.run_state == "paused", timeout=TIMEOUT)
    assert window.score_test_set() is True
    qtbot.waitUntil(lambda: window.last_test_result is not None, timeout=TIMEOUT)
    result = window.last_test_result
    qtbot.waitUntil(lambda: len(window.history.rows) == 3, timeout=TIMEOUT)
    exported = tmp_path / "exported.csv"
    assert window.export_history(str(exported)) == str(exported)
    with open(exported, newline="") as fh:
        rows = list(csv.DictReader(fh))
    scored = [r for r in rows if r["test_loss"] != ""]
    assert [int(r["epoch"]) for r in scored] == [result.epoch]  # the epoch of the (best) weights scored
    assert float(scored[0]["test_loss"]) == pytest.approx(result.loss, rel=1e-6)
    assert float(scored[0]["test_accuracy"]) == pytest.approx(result.accuracy, rel=1e-6)
