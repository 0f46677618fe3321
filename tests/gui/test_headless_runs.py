"""A headless run in another process: steered through control.jsonl, killed with -9, reopened, resumed.

This is what a window following a run trained elsewhere relies on (issue 8): the folder is
readable while the run writes it, commands appended by another process land between epochs and
are logged, and a killed run leaves every flushed epoch behind.
"""
import json
import subprocess

import pytest

from engine import checkpoint
from engine.names import RunState
from engine.run_folder import append_command
from engine.run_reader import open_run
from tests.gui.headless_child import ROOT, child_env as _env, headless as _headless, start, \
    wait_for as _wait_for, wave_csv


def _events(folder):
    path = folder / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


@pytest.mark.slow
def test_a_subprocess_run_is_steered_through_control_jsonl_survives_kill_9_and_resumes(tmp_path):
    data = wave_csv(tmp_path / "wave.csv")
    out = tmp_path / "run"
    proc = start(data, "--epochs", 1_000_000, "--hidden", 3, "--batch-size", 4, "--lr", 0.01, "--out", out,
                 log=tmp_path / "child-stderr.txt")
    try:
        reader = _wait_for(lambda: (out / "metrics.csv").exists() and open_run(out), proc, what="the run folder")
        _wait_for(lambda: reader.poll() is not None and len(reader.epochs) >= 2, proc, what="two epochs")
        assert reader.status is RunState.RUNNING
        with open(out / "control.jsonl", "a") as fh:  # one write: the run reads the three lines together
            fh.write('{"command": "set", "name": "learning_rate", "value": 0.0005}\n'
                     '{"command": "set", "name": "hidden_sizes", "value": [8]}\n{broken\n')
        changed = _wait_for(lambda: [e for e in _events(out) if e["kind"] == "set"], proc, what="the set event")
        assert changed[0]["name"] == "learning_rate" and changed[0]["new"] == 0.0005
        assert changed[0]["source"] == "control"
        _wait_for(lambda: any(e["learning_rate"] == 0.0005 for e in reader.poll().epochs), proc,
                  what="an epoch at the new learning rate in metrics.csv")
        append_command(out, "set", name="momentum", value=0.5)  # what a window following the run does
        _wait_for(lambda: any(e["momentum"] == 0.5 for e in reader.poll().epochs), proc, what="the momentum change")
        rejected = [e for e in _events(out) if e["kind"] == "rejected"]
        assert [e["line"] for e in rejected] == [2, 3] and "cannot set 'hidden_sizes'" in rejected[0]["reason"]
        first_new = min(e["epoch"] for e in reader.epochs if e["learning_rate"] == 0.0005)
        assert first_new > changed[0]["epoch"]  # landed between epochs, after the one in flight
        # A change is checkpointed after the next epoch, so a resume continues with it.
        _wait_for(lambda: [e for e in _events(out) if e["kind"] == "checkpoint" and e["epoch"] > changed[0]["epoch"]],
                  proc, what="a checkpoint after the change")
        assert proc.poll() is None  # a bad command never stopped the run
    finally:
        proc.kill()  # SIGKILL: no chance to write anything more
        proc.wait(timeout=30)
    assert proc.returncode == -9

    complete_rows = (out / "metrics.csv").read_bytes().count(b"\n") - 1
    reopened = open_run(out)
    assert reopened.status is RunState.INTERRUPTED
    assert len(reopened.epochs) >= complete_rows - len(reopened.notes) and len(reopened.epochs) >= 2
    assert [e["epoch"] for e in reopened.epochs] == list(range(1, len(reopened.epochs) + 1))
    saved = checkpoint.load(out / "checkpoint.npz").epoch  # the last complete checkpoint
    assert 1 <= saved <= len(reopened.epochs)

    target = saved + 2
    done = subprocess.run(_headless("--resume", out, "--epochs", target), cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    resumed = open_run(out)
    assert resumed.status is RunState.FINISHED and checkpoint.load(out / "checkpoint.npz").epoch == target
    assert resumed.epochs[target - 1]["learning_rate"] == 0.0005  # the change lives on in the checkpoint
    assert [e["kind"] for e in resumed.events].count("resume_run") == 1
    assert (out / "loss.png").exists()
