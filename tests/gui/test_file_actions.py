"""Loading checkpoints in the window: validate first, ask on another dataset, never lose the run."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PyQt5 import QtWidgets

from engine.data import load_sequences as load_dataset
from engine.training import Trainer
from tests.engine.test_checkpoint import _rewrite_meta


def _error_boxes(window):
    return [b for b in window.findChildren(QtWidgets.QMessageBox, "errorBox") if b.isVisible()]


def _ramps(path, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(16):
        label = 1 + i % 2
        values = np.linspace(-1, 1, 24) * (1 if label == 1 else -1) + 0.1 * rng.normal(size=24)
        rows.append("\t".join([str(label)] + [f"{v:.4f}" for v in values]))
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture
def opened(qtbot, make_window, tmp_path, tiny_config):
    """A window with Ramps_TRAIN.tsv open, and a checkpoint saved for that same file."""
    data_path = _ramps(tmp_path / "Ramps_TRAIN.tsv", seed=1)
    window = make_window()
    window.open_paths([data_path], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    trainer = Trainer(tiny_config, load_dataset([data_path]))
    checkpoint = trainer.save_checkpoint(tmp_path / "ramps.npz")
    return window, checkpoint


@pytest.mark.parametrize("change, message", [
    (lambda m: m["config"].update(epochs=2**40), "epochs 1099511627776 is too many"),
    (lambda m: m.update(epoch=2**40), "invalid epoch 1099511627776"),
    (lambda m: m.update(history=["1.0", "2.0"]), r"history entry 1 is malformed"),
    (lambda m: m.update(history=[1, 2]), r"history entry 1 is malformed \(1 is not a record\)"),
], ids=["config-epochs", "epoch", "history-strings", "history-ints"])
def test_a_crafted_checkpoint_is_a_clear_dialog_and_the_current_run_goes_on(opened, tmp_path, monkeypatch,
                                                                           change, message):
    window, good = opened
    bad = str(_rewrite_meta(good, tmp_path / "crafted.npz", change))
    run_id, state = window._run_id, window.run_state
    monkeypatch.setattr(window.worker, "load_checkpoint", lambda *a, **k: pytest.fail("the run was replaced"))
    monkeypatch.setattr(window, "_close_current_run", lambda: pytest.fail("the current run was ended"))
    assert window.open_checkpoint(bad) is False
    assert window._run_id == run_id and window.run_state == state
    boxes = _error_boxes(window)
    assert len(boxes) == 1 and "crafted.npz" in boxes[0].text()
    assert re.search(message, boxes[0].text())
    for noise in ("OverflowError", "TypeError", "ValueError", "Traceback"):
        assert noise not in boxes[0].text()


def test_an_incompatible_checkpoint_never_ends_the_run(opened, tmp_path, monkeypatch, capfd, forecast_csv,
                                                      tiny_config):
    window, good = opened
    forecast = Trainer(tiny_config, load_dataset([forecast_csv])).save_checkpoint(tmp_path / "sine.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(good, "rb").read()[:500])
    monkeypatch.setattr(window, "_close_current_run", lambda: pytest.fail("the current run was ended"))
    for path, message in [(forecast, "trained for task 'forecast'"), (truncated, "corrupt or truncated")]:
        assert window.open_checkpoint(str(path)) is False
        text = _error_boxes(window)[-1].text()
        assert str(path) in text and message in text
    assert "Traceback" not in capfd.readouterr().err


def test_a_checkpoint_of_another_dataset_asks_and_can_start_a_new_run_from_its_weights(
        qtbot, make_window, tmp_path, tiny_config, auto_dialogs):
    first = _ramps(tmp_path / "A_TRAIN.tsv", seed=1)
    second = _ramps(tmp_path / "B_TRAIN.tsv", seed=2)  # same shapes, other numbers
    checkpoint = Trainer(tiny_config, load_dataset([first])).save_checkpoint(tmp_path / "a.npz")
    window = make_window()
    window.open_paths([second], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)

    auto_dialogs["confirm"] = False  # Cancel: nothing happens
    run_id = window._run_id
    assert window.open_checkpoint(checkpoint) is False
    assert auto_dialogs["asked"] == 1 and window._run_id == run_id and not _error_boxes(window)

    auto_dialogs["confirm"] = True  # load the weights only, as a new run
    with qtbot.waitSignal(window.worker.sigRunLoaded, timeout=20_000) as loaded:
        assert window.open_checkpoint(checkpoint) is True
    payload = loaded.args[1]
    assert payload["weights_only"] is True and payload["history"] == []
    qtbot.waitUntil(lambda: window.run_state == "ready", timeout=20_000)
    assert window.history.label.endswith("(weights from a checkpoint)")
    assert window.worker._trainer.epoch == 0 and window.worker._trainer.dataset is window.dataset


def test_a_full_disk_while_saving_is_a_dialog_without_a_traceback(opened, qtbot, tmp_path, monkeypatch, caplog):
    import errno
    import logging

    from engine import checkpoint_io

    window, _ = opened
    window.step_epoch()  # build a run (one epoch) so there is something to save
    qtbot.waitUntil(lambda: window.worker._trainer is not None and window.worker._trainer.epoch >= 1, timeout=60_000)

    target = tmp_path / "saved.npz"
    create_temp = checkpoint_io._create_temp

    def full(folder, *args, **kwargs):  # only the folder we save to is full, not the window's run folder
        if os.path.samefile(folder, target.parent):
            raise OSError(errno.ENOSPC, "No space left on device")
        return create_temp(folder, *args, **kwargs)

    monkeypatch.setattr(checkpoint_io, "_create_temp", full)
    caplog.set_level(logging.WARNING, logger="gui.worker")
    with qtbot.waitSignal(window.worker.sigError, timeout=10_000) as error:
        window.worker.save_checkpoint(str(target))
    assert "saved.npz: the disk is full" in error.args[0] and ".tmp" not in error.args[0]
    assert not target.exists()
    records = [r for r in caplog.records if r.name == "gui.worker"]
    assert records and all(r.exc_info is None for r in records)


def test_a_checkpoint_of_framed_data_reframes_the_open_file_as_it_was_trained(
        qtbot, make_window, tmp_path, tiny_config):
    from engine.data.framing import frame_dataset

    data_path = _ramps(tmp_path / "Ramps_TRAIN.tsv", seed=1)
    checkpoint = Trainer(tiny_config, frame_dataset(load_dataset([data_path]), 4)).save_checkpoint(
        tmp_path / "framed.npz")
    window = make_window()
    window.open_paths([data_path], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.dataset.frame == 1  # 24 steps: opened as in the file
    window.open_test_set(data_path)
    qtbot.waitUntil(lambda: window.test_set is not None, timeout=20_000)
    with qtbot.waitSignal(window.worker.sigRunLoaded, timeout=20_000) as loaded:
        assert window.open_checkpoint(checkpoint) is True  # was: "parameter ... has shape (4, 6) but ... (1, 6)"
    assert loaded.args[1]["weights_only"] is False and not _error_boxes(window)  # the same data: it resumes
    assert window.dataset.frame == 4 and window.dataset.n_features == 4 and window.dataset_options["frame"] == 4
    qtbot.waitUntil(lambda: window.run_state == "ready", timeout=20_000)
    assert window.worker._trainer.dataset is window.dataset
    qtbot.waitUntil(lambda: window.test_set is not None and window.test_set[1].frame == 4, timeout=20_000)
    assert window.test_set[1].n_features == 4  # the test set was loaded again, framed like the data
    qtbot.waitUntil(lambda: "data reframed as the checkpoint was trained: frames of 4 steps" in window.last_status,
                    timeout=20_000)
