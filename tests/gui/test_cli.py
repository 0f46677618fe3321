"""The command line as scripts see it: real subprocesses, their streams, exit codes and files.

Full and read-only disks are real: a tmpfs mounted in a private mount namespace (``unshare -m``,
with ``-r`` when not root), so nothing outside the test process sees it; skipped where the kernel
refuses. Qt's graphics libraries are hidden with a ``sitecustomize`` on PYTHONPATH that makes
``import PyQt5.QtGui`` fail as it does without libGL.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT

PYTHON = sys.executable
MAIN = str(ROOT / "main.py")
FAST = ["--epochs", "2", "--hidden", "4", "--batch-size", "4"]
NO_QT_GUI = '''
import importlib.abc, sys

class _NoQtGraphics(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ("PyQt5.QtGui", "PyQt5.QtWidgets", "PyQt5.QtOpenGL"):
            raise ImportError("libGL.so.1: cannot open shared object file: No such file or directory")
        return None

sys.meta_path.insert(0, _NoQtGraphics())
'''


def _env(**extra) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def _run(*argv, env=None, cwd=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, MAIN, *map(str, argv)], cwd=cwd or ROOT, env=env or _env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wave_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "wave.csv"
    path.write_text("value\n" + "".join(f"{v:.5f}\n" for v in np.sin(np.arange(60) / 4.0)))
    return path


def _one_error_line(stderr: str) -> str:
    """The last line of stderr is the error; nothing else on stderr looks like one."""
    lines = stderr.splitlines()
    assert lines and lines[-1].startswith("rnn-scope: error: "), stderr
    assert sum("error" in line.lower() for line in lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[-1]


def _in_tmpfs(options: str, mountpoint, *argv, copy_to=None):
    """Run main.py with a fresh tmpfs (mount ``options``) at ``mountpoint``; copy what it holds after."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare(1) is not installed")
    os.makedirs(mountpoint, exist_ok=True)
    script = ('mount -t tmpfs -o "$1" tmpfs "$2" || exit 77; mnt=$2; copy=$3; shift 3; "$@"; rc=$?; '
              '[ -n "$copy" ] && cp -a "$mnt/." "$copy/"; exit $rc')
    namespace = [unshare, "-m"] + ([] if os.geteuid() == 0 else ["-r"])
    result = subprocess.run([*namespace, "sh", "-c", script, "sh", options, str(mountpoint), str(copy_to or ""),
                             PYTHON, MAIN, *map(str, argv)],
                            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=180)
    if result.returncode == 77 or result.stderr.startswith("unshare:"):
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    return result


def test_progress_on_stderr_summary_on_stdout_quiet_and_json(wave_csv, tmp_path):
    out = tmp_path / "out"
    result = _run("--headless", wave_csv, *FAST, "--out", out, "--quiet", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet: no progress at all
    summary = json.loads(result.stdout)  # stdout holds the JSON object and nothing else
    assert summary["status"] == "finished" and summary["exit_code"] == 0
    assert summary["epochs"] == summary["epochs_requested"] == 2
    assert summary["final"]["epoch"] == 2 and summary["final"]["val_loss"] > 0
    assert summary["best"]["val_loss"] <= summary["final"]["val_loss"]
    assert summary["plots"] is True
    assert sorted(summary["files"]) == ["best.npz", "checkpoint.npz", "events.jsonl", "hidden_layer1.png",
                                        "loss.png", "metrics.csv", "run.json", "saliency.png", "spectrum_layer1.png",
                                        "steps.csv", "trajectory.png"]
    for path in summary["files"].values():
        assert os.path.getsize(path) > 0
    with open(summary["files"]["metrics.csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[-1]["val_loss"]) == pytest.approx(summary["final"]["val_loss"])


def test_earlier_results_are_refused_unless_overwrite(wave_csv, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "hidden_layer2.png").write_bytes(b"from a 2-layer run")
    (out / "notes.txt").write_text("the user's own file")
    result = _run("--headless", wave_csv, *FAST, "--out", out)
    assert result.returncode == 2
    assert "hidden_layer2.png" in _one_error_line(result.stderr) and "--overwrite" in result.stderr
    assert "epoch 1/" not in result.stderr  # refused before training

    result = _run("--headless", wave_csv, *FAST, "--out", out, "--overwrite")
    assert result.returncode == 0, result.stderr
    names = {p.name for p in out.iterdir()}
    assert {"run.json", "hidden_layer1.png", "loss.png", "notes.txt"} <= names and "hidden_layer2.png" not in names
    assert "removed the earlier run's hidden_layer2.png" in result.stdout


def test_ctrl_c_exits_130_and_writes_the_epochs_done(wave_csv, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([PYTHON, MAIN, "--headless", str(wave_csv), "--epochs", "100000", "--hidden", "4",
                             "--out", str(out)], cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if line.startswith("epoch "):
                break  # the first epoch has been reported: training is under way
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    with open(out / "metrics.csv", newline="") as f:
        done = len(list(csv.DictReader(f)))
    assert done >= 1
    assert stdout.startswith(f"interrupted after epoch {done} of 100000 (Ctrl+C); ")
    assert "were written" in stdout and (out / "checkpoint.npz").stat().st_size > 0


def test_a_run_that_diverged_exits_3_not_0(wave_csv, tmp_path):
    """--lr 1e38 is finite in float32: every step was refused, the losses were NaN and the run
    exited 0 with "done", as if it had trained."""
    out = tmp_path / "out"
    result = _run("--headless", wave_csv, *FAST, "--lr", "1e38", "--no-plots", "--out", out, "--json")
    assert result.returncode == 3, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "diverged" and summary["exit_code"] == 3
    assert summary["final"]["val_loss"] is None and summary["epochs"] == 2
    assert "checkpoint.npz" in summary["files"] and (out / "events.jsonl").exists()  # written all the same
    result = _run("--headless", wave_csv, *FAST, "--lr", "1e38", "--no-plots", "--out", out, "--overwrite")
    assert result.returncode == 3 and result.stdout.startswith("diverged: 2 epochs")
    assert "lower --lr" in result.stdout and "3 diverged" in _run("--help").stdout


def test_bad_flags_print_one_line():
    for argv, expected in ((["--epochs", "0"], "--epochs: must be greater than 0"),
                           (["--hidden", "100000"], "4096"),
                           (["--cell", "transformer"], "invalid choice"),
                           (["--no-such-flag"], "unrecognized arguments")):
        result = _run(*argv)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert expected in result.stderr and "see rnn-scope --help" in result.stderr
        assert result.stdout == ""


def test_unwritable_out_is_refused_before_training(wave_csv, tmp_path):
    readonly = tmp_path / "readonly"
    result = _in_tmpfs("ro,size=1m", readonly, "--headless", wave_csv, *FAST, "--out", readonly)
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result.stderr)
    assert str(readonly) in line and "not writable" in line and "Read-only file system" in line
    assert "epoch" not in result.stderr  # discovered before training, not after


def test_full_disk_while_drawing_is_a_clear_error_and_leaves_no_cut_file(wave_csv, tmp_path):
    # 64 KB holds this run's folder (~36 KB, ~52 KB at its peak) but not loss.png as well (~35 KB)
    disk, copy = tmp_path / "disk", tmp_path / "copy"
    copy.mkdir()
    result = _in_tmpfs("size=64k", disk, "--headless", wave_csv, *FAST, "--out", disk / "out", copy_to=copy)
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result.stderr)
    assert "loss.png: No space left on device" in line and ".tmp" not in line
    assert "libpng" not in result.stderr
    left = sorted(p.name for p in (copy / "out").iterdir())
    assert "run.json" in left and not [n for n in left if n.endswith(".png") or ".tmp" in n]  # no cut PNG


@pytest.mark.parametrize("size, where", [("24k", "cannot save checkpoint"), ("4k", "run folder")])
def test_full_disk_while_training_or_at_the_start(wave_csv, tmp_path, size, where):
    # 24 KB: the run's checkpoint save fails after an epoch; 4 KB: creating the run folder fails
    disk = tmp_path / "disk"
    result = _in_tmpfs(f"size={size}", disk, "--headless", wave_csv, *FAST, "--out", disk / "out")
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result.stderr)
    assert "No space left on device" in line and where in line and "[Errno" not in line


def test_without_qt_graphics_libraries(wave_csv, tmp_path):
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "sitecustomize.py").write_text(NO_QT_GUI)
    env = _env(PYTHONPATH=os.pathsep.join([str(stub), str(ROOT)]))
    out = tmp_path / "out"
    result = _run("--headless", wave_csv, *FAST, "--out", out, env=env)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert "libGL.so.1" in line and "apt-get install -y" in line and "--no-plots" in line
    assert "epoch" not in result.stderr and not out.exists()  # said before training

    result = _run("--headless", wave_csv, *FAST, "--out", out, "--no-plots", env=env)
    assert result.returncode == 0, result.stderr
    assert "run.json" in {p.name for p in out.iterdir()} and not list(out.glob("*.png"))
    assert "(no PNGs: --no-plots)" in result.stdout


def test_a_file_name_the_terminal_cannot_encode(wave_csv, tmp_path):
    name = os.fsdecode(b"wave_\xff.csv")  # not UTF-8: Python holds it as a lone surrogate
    (tmp_path / name).write_bytes(wave_csv.read_bytes())
    env = _env(PYTHONIOENCODING="utf-8:strict")
    result = _run("--headless", tmp_path / name, *FAST, "--out", tmp_path / "out", env=env)
    assert result.returncode == 0, result.stderr
    assert "wave_\\udcff" in result.stderr  # the header line names the data set, escaped
    bad = tmp_path / os.fsdecode(b"bad_\xff.csv")
    bad.write_text("a,b\n1,2\n3,oops\n")
    result = _run("--headless", bad, "--out", tmp_path / "out2", env=env)
    assert result.returncode == 2
    assert "bad_\\udcff.csv" in _one_error_line(result.stderr)


def test_a_bundled_sample_by_name_from_any_folder(tmp_path):
    result = _run("--headless", "words.txt", "--epochs", "1", "--hidden", "4", "--out", tmp_path / "out",
                  "--no-plots", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "bundled sample words.txt" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["dataset"] == "words" and summary["task"] == "next_token"
    result = _run("--headless", "--sample", "nope", cwd=tmp_path)
    assert result.returncode == 2 and "words.txt" in result.stderr and result.stderr.count("\n") == 1


def test_help_lists_the_samples_and_the_new_flags():
    result = _run("--help")
    assert result.returncode == 0
    for text in ("--sample", "words.txt", "waveforms_TRAIN.tsv", "--quiet", "--json", "--overwrite",
                 "--no-plots", "--verbose", "--log-file", "--nonfinite", "--delimiter", "--header",
                 "--no-header", "--target-column", "--skip-non-numeric", "--layout", "130"):
        assert text in result.stdout, text


def test_verbose_and_log_file(wave_csv, tmp_path):
    log = tmp_path / "logs" / "run.log"
    result = _run("--headless", wave_csv, *FAST, "--out", tmp_path / "out", "--no-plots", "--verbose",
                  "--log-file", log)
    assert result.returncode == 0, result.stderr
    assert "INFO gui.headless: headless run: wave ->" in result.stderr
    text = log.read_text()
    assert "INFO gui.headless: headless run ended: {'status': 'finished'" in text

    result = _run("--headless", wave_csv, "--log-file", tmp_path)  # a folder, not a file
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot write the log file" in result.stderr
