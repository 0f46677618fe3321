"""Headless mode: trains for real on a tiny file and writes every output; bad input exits 2."""
import argparse
import csv
import io
import json
import os
import signal
import subprocess
import sys
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt5 import QtGui  # noqa: E402

from gui import headless  # noqa: E402
from gui.plots import qimage_to_array  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _args(files, out, **overrides) -> argparse.Namespace:
    values = dict(files=[str(f) for f in files], cell="elman", hidden=(4,), lr=0.01, optimizer="adam",
                  batch_size=4, epochs=2, seed=0, backend=None, dtype=None, out=str(out),
                  checkpoint=None, start=False, headless=True, overwrite=False, no_plots=False,
                  quiet=False, json=False)
    values.update(overrides)
    return argparse.Namespace(**values)


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "tiny_wave.csv"
    t = np.arange(60)
    with open(path, "w") as f:
        f.write("value\n")
        for v in np.sin(t / 4.0):
            f.write(f"{v:.5f}\n")
    return path


def _png_spread(path) -> float:
    image = QtGui.QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable PNG"
    assert image.width() > 100 and image.height() > 100
    return float(qimage_to_array(image)[..., :3].astype(np.float32).std())


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_headless_run_writes_all_outputs_and_resumes(tiny_csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert headless.run_headless(_args([tiny_csv], out, hidden=(5, 3))) == 0
    printed = capsys.readouterr()
    # progress on stderr, the result (one line) on stdout
    lines = printed.err.splitlines()
    assert any(line.startswith("epoch 1/2 [############............] train ") for line in lines)
    assert any(line.startswith("epoch 2/2 [########################]") and "seq/s" in line for line in lines)
    assert "\r" not in printed.err  # not a terminal: plain lines
    assert printed.out.count("\n") == 1 and printed.out.startswith("done: 2 epochs in ")
    assert "hidden_layer2.png" in printed.out and str(out) in printed.out

    names = sorted(p.name for p in out.iterdir())
    assert names == ["best.npz", "checkpoint.npz", "events.jsonl", "hidden_layer1.png", "hidden_layer2.png",
                     "insights", "loss.png", "metrics.csv", "run.json", "saliency.png", "snapshots",
                     "spectrum_layer1.png", "spectrum_layer2.png", "steps.csv", "trajectory.png"]
    rows = _read_csv(out / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert list(rows[0]) == ["epoch", "wall_s", "train_loss", "val_loss", "val_accuracy", "learning_rate",
                             "clip_norm", "momentum", "grad_norm_layer1", "grad_norm_layer2", "grad_norm_head",
                             "weight_norm_layer1", "weight_norm_layer2", "weight_norm_head"]
    assert all(np.isfinite(float(r["train_loss"])) and float(r["learning_rate"]) == 0.01 for r in rows)
    for png in ("loss.png", "hidden_layer1.png", "hidden_layer2.png", "saliency.png", "trajectory.png",
                "spectrum_layer1.png", "spectrum_layer2.png"):
        assert _png_spread(out / png) > 10, f"{png} is blank"
    assert sorted(p.name for p in (out / "insights").iterdir())[-1] == "epoch_0000002.npz"  # the last epoch

    # --checkpoint resumes: epochs count across resumes, so --epochs 3 trains one more
    out2 = tmp_path / "out2"
    args = _args([tiny_csv], out2, cell=None, hidden=None, optimizer=None, batch_size=None, seed=None,
                 lr=0.005, epochs=3, checkpoint=str(out / "checkpoint.npz"), tensorboard=True)
    assert headless.run_headless(args) == 0
    assert list((out2 / "tensorboard").glob("events.out.tfevents.*"))  # --tensorboard (the test extra has it)
    rows = _read_csv(out2 / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["learning_rate"]) == 0.005
    assert "epoch 3/3" in capsys.readouterr().err


def test_a_resumed_run_says_on_the_console_what_control_jsonl_changed(tiny_csv, tmp_path, capsys):
    """Commands from another process (the window's toolbar) are announced on stderr; a paused run
    used to look hung, with no line saying why the progress stopped."""
    out = tmp_path / "steered"
    assert headless.run_headless(_args([tiny_csv], out, epochs=1, no_plots=True)) == 0
    with open(out / "control.jsonl", "a") as fh:  # read when the resumed run starts
        fh.write('{"command": "set", "name": "learning_rate", "value": 0.002}\n{"command": "fly"}\n')
    capsys.readouterr()
    args = _args([], None, cell=None, hidden=None, optimizer=None, batch_size=None, seed=None, lr=None,
                 epochs=2, resume=str(out), no_plots=True)
    args.out = None
    assert headless.run_headless(args) == 0
    err = capsys.readouterr().err
    assert "control.jsonl: lr 0.01 → 0.002 after epoch 1" in err
    assert "control.jsonl line 2 rejected: unknown command 'fly'" in err
    assert headless.control_note({"kind": "step", "epoch": 7, "source": "control"}) == \
        "control.jsonl: one epoch, then paused after epoch 7"
    assert headless.control_note({"kind": "pause", "epoch": 7, "source": "local"}) is None


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, f"expected one line, got {err!r}"
    assert err.startswith("rnn-scope: error: ")
    return err


def test_a_file_over_the_size_limit_names_the_flag(tmp_path, capsys):
    """It said 'pass a larger size_limit' (the Python keyword), where the flag is --size-limit."""
    path = tmp_path / "big.npz"
    np.savez_compressed(path, X=np.zeros((64, 1024, 4), np.float32))
    assert headless.run_headless(_args([path], tmp_path / "out", size_limit=1 << 20)) == 2
    err = _one_line_error(capsys)
    assert "big.npz: member 'X.npy' would decompress to" in err and "pass --size-limit 1048704 or" in err
    assert "size_limit" not in err
    assert headless.run_headless(_args([path], tmp_path / "out", size_limit=100)) == 2
    err = _one_line_error(capsys)
    assert "big.npz: file is" in err and "pass --size-limit" in err and "size_limit" not in err


def test_bad_file_exits_2_with_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert headless.run_headless(_args([missing], tmp_path / "out")) == 2
    assert "nope.csv" in _one_line_error(capsys)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,oops\n4,5\n")
    assert headless.run_headless(_args([bad], tmp_path / "out")) == 2
    err = _one_line_error(capsys)
    assert "bad.csv" in err and "oops" in err
    assert not (tmp_path / "out").exists()  # nothing written for bad input


def test_with_json_a_failure_is_a_json_object_on_stdout_too(tmp_path, capsys):
    assert headless.run_headless(_args([tmp_path / "nope.csv"], tmp_path / "out", json=True)) == 2
    printed = capsys.readouterr()
    failure = json.loads(printed.out)
    assert failure["status"] == "error" and failure["exit_code"] == 2 and "nope.csv" in failure["error"]
    assert printed.err == f"rnn-scope: error: {failure['error']}\n"


def test_bad_setting_exits_2(tiny_csv, tmp_path, capsys):
    assert headless.run_headless(_args([tiny_csv], tmp_path / "out", optimizer="adagrad")) == 2
    assert "optimizer" in _one_line_error(capsys)
    assert headless.run_headless(_args([tiny_csv], tmp_path / "out", lr=1e39)) == 2
    assert "learning_rate 1e+39 is too large for float32" in _one_line_error(capsys)
    assert not (tmp_path / "out").exists()  # refused before training: no run folder
    not_a_checkpoint = tmp_path / "junk.npz"
    not_a_checkpoint.write_bytes(b"not a zip file")
    args = _args([tiny_csv], tmp_path / "out", checkpoint=str(not_a_checkpoint))
    assert headless.run_headless(args) == 2
    assert "junk.npz" in _one_line_error(capsys)


def test_output_folder_that_is_a_file_exits_2(tiny_csv, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    assert headless.run_headless(_args([tiny_csv], taken)) == 2
    assert "output folder" in _one_line_error(capsys)


def test_ctrl_c_stops_cleanly_and_still_writes(tiny_csv, tmp_path, monkeypatch, capsys):
    update = headless.Progress.update

    def interrupt_after_first_epoch(self, report):
        update(self, report)
        if report.epoch == 1:
            signal.raise_signal(signal.SIGINT)  # what Ctrl+C delivers

    monkeypatch.setattr(headless.Progress, "update", interrupt_after_first_epoch)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when pytest runs as a background job
    out = tmp_path / "out"
    assert headless.run_headless(_args([tiny_csv], out, epochs=50)) == 130
    printed = capsys.readouterr()
    assert "interrupted: stopping after the current step" in printed.err
    assert printed.out.startswith("interrupted after epoch 1 of 50 (Ctrl+C); the 1 epoch done were written")
    rows = _read_csv(out / "metrics.csv")
    assert len(rows) == 1
    assert (out / "checkpoint.npz").stat().st_size > 0
    assert _png_spread(out / "hidden_layer1.png") > 10
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


def test_progress_redraws_in_place_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    progress = headless.Progress(total=4, stream=stream)
    report = SimpleNamespace(epoch=2, train_loss=0.5, val_loss=float("nan"), val_accuracy=0.75,
                             sequences_per_second=1234.0, compile_seconds=0.0, diverged=True,
                             skipped_steps=1, stopped=False)
    progress.update(report)
    progress.finish()
    text = stream.getvalue()
    assert text.startswith("\r") and text.endswith("\n")
    assert "epoch 2/4 [############............] train 0.5000  val nan  acc 75.0%  1,234 seq/s" in text
    assert "1 non-finite step(s) skipped" in text


def test_main_headless_bad_file_exit_code(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "main.py"), "--headless", str(tmp_path / "missing.csv"),
         "--out", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "missing.csv" in result.stderr
