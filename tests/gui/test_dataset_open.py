"""Opening files in the window when they cannot be read as they are (issue 10): the preview dialog
with the error and the option that fixes it, and the question about two datasets."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PyQt5 import QtWidgets

from gui import dialogs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ITALY = os.path.join(ROOT, "benchmarks", "data", "ItalyPowerDemand_TRAIN.ts")


@pytest.fixture
def missing_csv(tmp_path):
    """A real series with holes: ItalyPowerDemand's first 10 days of hourly demand (public UCR data)
    as one column, three values cut out."""
    from engine.data import load_sequences

    days = load_sequences(ITALY).sequences[:10]
    values = np.concatenate([d[:, 0] for d in days])
    lines = ["hour,demand"] + [f"{i},{'' if i in (17, 90, 151) else f'{v:.4f}'}" for i, v in enumerate(values)]
    path = tmp_path / "italy_demand.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _drive_preview(monkeypatch, answer):
    """Replace PreviewDialog.exec_ by ``answer(dialog)`` (what the user does); returns what was seen."""
    seen = []

    def exec_(dialog):
        seen.append({"error": dialog.error, "highlighted": list(dialog.highlighted),
                     "fixes": [b.text() for b in dialog.fix_buttons]})
        return answer(dialog)

    monkeypatch.setattr(dialogs.PreviewDialog, "exec_", exec_)
    return seen


def _click_fix(value):
    def answer(dialog):
        [button] = [b for b, f in zip(dialog.fix_buttons, [f for f in dialog.fixes if f.key in dialog.boxes])
                    if f.value == value]
        button.click()
        assert dialog.error is None and dialog.buttons.button(QtWidgets.QDialogButtonBox.Open).isEnabled()
        return QtWidgets.QDialog.Accepted
    return answer


def test_a_csv_with_missing_values_opens_the_preview_with_the_error_and_its_fix(qtbot, monkeypatch, make_window,
                                                                              missing_csv):
    """It used to be an error box only: the preview, which has the option, never opened."""
    window = make_window()
    seen = _drive_preview(monkeypatch, _click_fix("drop"))
    assert window.open_paths([missing_csv]) is True
    [shown] = seen
    assert "italy_demand.csv" in shown["error"] and '"missing / non-finite values"' in shown["error"]
    assert shown["highlighted"] == ["nonfinite"]
    assert any("drop" in text for text in shown["fixes"]) and any("interpolate" in text for text in shown["fixes"])
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.dataset_options == {"nonfinite": "drop"}
    assert window.dataset.lengths.sum() == 240 - 3
    assert not [w for w in QtWidgets.QApplication.topLevelWidgets()
                if w.objectName() == "errorBox" and w.isVisible()]


def test_a_full_load_that_fails_after_the_preview_opens_the_preview_with_that_error(qtbot, monkeypatch,
                                                                                   make_window, missing_csv):
    """The worker's load (command line, recent files, a big file's head-only preview) fails: the same
    dialog, with the options the load used and the error it gave."""
    window = make_window()
    seen = _drive_preview(monkeypatch, _click_fix("interpolate"))
    window.open_paths([missing_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert len(seen) == 1 and "non-finite" in seen[0]["error"] and seen[0]["highlighted"] == ["nonfinite"]
    assert window.dataset_options == {"nonfinite": "interpolate"} and window.dataset.lengths.sum() == 240


def test_cancelling_the_preview_of_a_bad_file_keeps_the_current_dataset(qtbot, monkeypatch, make_window,
                                                                        forecast_csv, missing_csv):
    window = make_window()
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    dataset = window.dataset
    _drive_preview(monkeypatch, lambda dialog: QtWidgets.QDialog.Rejected)
    assert window.open_paths([missing_csv]) is False
    assert window.dataset is dataset and "italy_demand.csv" in window.last_error


@pytest.fixture
def two_datasets(tmp_path, classify_tsv):
    """Ramps_TRAIN.tsv and Slopes_TRAIN.tsv: two labelled files the engine sees as different datasets."""
    other = tmp_path / "Slopes_TRAIN.tsv"
    rows = open(classify_tsv).read().splitlines()[:10]
    other.write_text("\n".join(rows) + "\n")
    return classify_tsv, str(other)


@pytest.mark.parametrize("answer", ["merge", "first", None])
def test_two_different_train_files_ask_what_was_meant(qtbot, monkeypatch, make_window, two_datasets, answer):
    """They used to be merged silently; the engine now refuses and the window asks."""
    window = make_window()
    asked = []

    def ask_choice(parent, title, text, choices):
        asked.append((text, [key for key, _ in choices]))
        return answer

    monkeypatch.setattr(dialogs, "ask_choice", ask_choice)
    opened = window.open_paths(list(two_datasets))
    [(text, keys)] = asked
    assert "Slopes_TRAIN.tsv" in text and keys == ["merge", "test", "first"]
    if answer is None:
        assert opened is False and window.dataset is None
        return
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.dataset.n_sequences == (16 + 10 if answer == "merge" else 16)
    assert window.dataset_options == ({"multi_file": "merge"} if answer == "merge" else {})


def test_two_different_train_files_from_the_command_line_ask_too(qtbot, monkeypatch, make_window, two_datasets):
    window = make_window()
    monkeypatch.setattr(dialogs, "ask_choice", lambda *a: "merge")
    window.open_paths(list(two_datasets), preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.dataset.n_sequences == 26


def test_a_load_on_the_worker_shows_a_busy_indicator_until_it_ends(qtbot, make_window, forecast_csv, bad_file,
                                                                  monkeypatch):
    """A big file takes seconds on the worker thread; the status message alone expired after 8 s."""
    window = make_window()
    window.open_paths([forecast_csv], preview=False)
    indicator = window._loading_indicator()
    assert indicator.isVisible() and "sine.csv" in indicator.label.text()
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert not indicator.isVisible()
    _drive_preview(monkeypatch, lambda dialog: QtWidgets.QDialog.Rejected)
    window.open_paths([bad_file], preview=False)  # and when it fails
    assert indicator.isVisible()
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=10_000)
    assert not indicator.isVisible()


@pytest.mark.parametrize("answer", ["merge", "test", "replace", None])
def test_opening_another_ucr_file_while_one_is_loaded_asks(qtbot, monkeypatch, make_window, two_datasets, answer):
    first, second = two_datasets
    window = make_window()
    window.open_paths([first], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    asked = []

    def ask_choice(parent, title, text, choices):
        asked.append([key for key, _ in choices])
        return answer

    monkeypatch.setattr(dialogs, "ask_choice", ask_choice)
    monkeypatch.setattr(dialogs.PreviewDialog, "exec_", lambda self: QtWidgets.QDialog.Accepted)
    loaded = window.dataset
    window.open_paths([second])
    assert asked == [["merge", "test", "replace"]]
    if answer == "merge":
        qtbot.waitUntil(lambda: window.dataset.n_sequences == 26, timeout=10_000)
    elif answer == "test":
        qtbot.waitUntil(lambda: window.test_set is not None, timeout=10_000)
        assert window.dataset is loaded and window.test_set[1].n_sequences == 10
    elif answer == "replace":
        qtbot.waitUntil(lambda: window.dataset is not loaded, timeout=10_000)
        assert window.dataset.n_sequences == 10
    else:
        assert window.dataset is loaded and window.test_set is None


def test_a_sequence_over_the_length_limit_is_fixed_in_the_preview(qtbot, monkeypatch, make_window, forecast_csv):
    """--max-length 100 on a 120-step file: the worker's load fails, the preview offers the length it needs."""
    window = make_window()
    seen = _drive_preview(monkeypatch, _click_fix(120))
    window.open_paths([forecast_csv], preview=False, options={"max_length": 100})
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert seen[0]["highlighted"] == ["max_length"] and '"maximum sequence length"' in seen[0]["error"]
    assert window.dataset_options == {"max_length": 120} and window.dataset.lengths[0] == 120


def test_a_big_npz_is_previewed_from_its_head_and_loaded_whole_on_the_worker(qtbot, make_window, tmp_path):
    """The preview (GUI thread) read a .npz under the size limit whole; now its head only, and the
    window's load on the worker thread reads the rest."""
    import numpy as np

    from engine.data import preview

    path = tmp_path / "big.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.random((1000, 120, 4), dtype=np.float32), y=np.arange(1000) % 2)  # 1.9 MB of X
    assert preview(str(path)).estimated  # what the dialog shows: nothing loaded on the GUI thread
    window = make_window()
    assert window.open_paths([str(path)]) is True
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.dataset.n_sequences == 1000 and window.dataset.task == "classify_sequence"
