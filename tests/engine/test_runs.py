"""engine.runs.Run: the run folder round trip, resume, fork, control.jsonl, full disk. Tiny models."""

import errno
import json

import numpy as np
import pytest

from engine import checkpoint
from engine.data import SequenceDataset
from engine.names import RunState
from engine.run_folder import append_command
from engine.run_reader import open_run
from engine.runs import Run
from engine.training import TrainingConfig

CONFIG = TrainingConfig(cell="gru", hidden_sizes=(3,), batch_size=4, epochs=3, learning_rate=1e-2)


def sine_dataset(n=10, length=16):
    rng = np.random.default_rng(0)
    t = np.arange(length)
    return SequenceDataset(sequences=[np.sin(0.5 * t + p)[:, None] for p in rng.uniform(0, 6, n)],
                           task="forecast", name="sine")


def _kinds(reader):
    """Event kinds without the periodic checkpoints (their timing depends on the machine's speed)."""
    kinds = [e["kind"] for e in reader.events]
    return [k for i, k in enumerate(kinds) if k != "checkpoint" or kinds[i + 1:i + 2] in (["finish"], [])]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One 3-epoch run with a live change after epoch 1, and its reports."""
    folder = tmp_path_factory.mktemp("runs") / "first"
    ds = sine_dataset()
    run = Run.start(CONFIG, ds, folder)
    reports = []
    for report in run.epochs():
        reports.append(report)
        if report.epoch == 1:
            run.update(learning_rate=5e-3, clip_norm=0)
    run.close()
    return dict(folder=folder, run=run, reports=reports, dataset=ds)


def test_round_trip_curves_events_and_snapshots_are_what_the_run_saw(finished):
    run, reports = finished["run"], finished["reports"]
    assert run.state is RunState.FINISHED and [r.epoch for r in reports] == [1, 2, 3]
    reader = open_run(finished["folder"])
    assert reader.status is RunState.FINISHED and reader.notes == []
    for row, entry in zip(reader.epochs, run.history, strict=True):
        for key in ("epoch", "train_loss", "val_loss", "learning_rate", "clip_norm", "momentum", "wall_s"):
            assert row[key] == entry[key], key  # floats written with repr round-trip exactly
        assert row["grad_norms"] == entry["grad_norms"] and row["weight_norms"] == entry["weight_norms"]
    epochs, val = reader.curve("val_loss")
    assert list(epochs) == [1, 2, 3] and list(val) == [r.val_loss for r in reports]
    assert _kinds(reader) == ["start", "set", "set", "checkpoint", "finish"]
    lr_change = next(e for e in reader.events if e["kind"] == "set")
    assert (lr_change["name"], lr_change["old"], lr_change["new"], lr_change["epoch"]) == ("learning_rate", 1e-2,
                                                                                         5e-3, 1)
    assert reader.markers() == [(1, "lr 0.01 → 0.005"), (1, "clip 5 → off")]
    assert [r.learning_rate for r in reports] == [1e-2, 5e-3, 5e-3]
    assert reader.snapshot_epochs() == [1, 2, 3]
    hidden, gates, probe = reader.snapshot(2)
    np.testing.assert_allclose(hidden[0], reports[1].hidden[0], atol=2e-3)  # stored as float16
    assert set(gates[0]) == {"z", "r"} and probe == reports[1].probe_index
    np.testing.assert_allclose(gates[0]["z"], reports[1].gates[0]["z"], atol=2e-3)
    meta = reader.meta
    best = min(reports, key=lambda r: r.val_loss)
    assert meta["best"] == {"epoch": best.epoch, "val_loss": best.val_loss}
    assert meta["config"]["learning_rate"] == 5e-3 and meta["seed"] == 0 and meta["epoch"] == 3
    assert meta["dataset"]["task"] == "forecast" and meta["dataset"]["fingerprint"].startswith("sha256:")
    assert set(meta["versions"]) == {"python", "pytensor", "jax", "numpy", "rnn_scope"}
    assert checkpoint.load(reader.checkpoint_path).epoch == 3
    assert checkpoint.load(reader.best_path).epoch == best.epoch


def test_a_new_run_refuses_a_folder_that_holds_one(finished):
    with pytest.raises(FileExistsError, match="already holds a run; resume it"):
        Run.start(CONFIG, finished["dataset"], finished["folder"])


def test_fork_from_best_records_its_parent_and_inherits_the_curve(finished, tmp_path):
    source = finished["folder"]
    best = open_run(source).meta["best"]["epoch"]
    fork = Run.fork(source, tmp_path / "fork", finished["dataset"], checkpoint="best", learning_rate=1e-3, epochs=5)
    reports = list(fork.epochs())
    fork.close()
    assert [r.epoch for r in reports] == list(range(best + 1, 6)) and reports[0].learning_rate == 1e-3
    reader = open_run(tmp_path / "fork")
    assert reader.meta["parent"] == {"folder": str(source.resolve()), "name": open_run(source).name,
                                     "epoch": best, "checkpoint": "best"}
    assert [e["epoch"] for e in reader.epochs] == [1, 2, 3, 4, 5]
    assert [e["train_loss"] for e in reader.epochs[:best]] == [e["train_loss"] for e in finished["run"].history[:best]]
    fork_event = next(e for e in reader.events if e["kind"] == "fork")
    assert fork_event["epoch"] == best and fork_event["changes"] == {"learning_rate": 1e-3, "epochs": 5}
    with pytest.raises(ValueError, match="checkpoint must be 'latest' or 'best'"):
        Run.fork(source, tmp_path / "other", finished["dataset"], checkpoint="worst")


def test_resume_continues_in_place_appending(finished, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(finished["folder"], folder)
    header = (folder / "metrics.csv").read_text().splitlines()[0]
    with pytest.raises(ValueError, match="already trained 3 epochs"):
        Run.reopen(folder, finished["dataset"], epochs=3)
    run = Run.reopen(folder, finished["dataset"], epochs=5)
    assert [r.epoch for r in run.epochs()] == [4, 5]
    run.close()
    reader = open_run(folder)
    assert [e["epoch"] for e in reader.epochs] == [1, 2, 3, 4, 5] and reader.status is RunState.FINISHED
    assert (folder / "metrics.csv").read_text().splitlines()[0] == header
    assert _kinds(reader)[-4:] == ["finish", "resume_run", "checkpoint", "finish"]
    assert reader.epochs[3]["wall_s"] > reader.epochs[2]["wall_s"]  # wall time continues across the resume


def test_resume_refuses_changed_data(finished, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(finished["folder"], folder)
    other = sine_dataset(n=11)
    with pytest.raises(ValueError, match="changed since the run started"):
        Run.reopen(folder, other, epochs=5)


def test_control_commands_steer_the_run_and_bad_lines_are_rejected(tmp_path):
    folder = tmp_path / "steered"
    run = Run.start(CONFIG.replace(epochs=1000), sine_dataset(), folder)
    assert run.step().epoch == 1
    append_command(folder, "set", name="learning_rate", value=2e-3)
    lines = ["not json", '["a list"]', '{"command": "fly"}', '{"command": "set", "name": "cell", "value": "lstm"}',
             '{"command": "set", "name": "momentum", "value": 7}', '{"command": "set", "name": "epochs"}',
             '{"command": "pause"}']
    with open(folder / "control.jsonl", "a") as fh:
        fh.write("\n".join(lines) + "\n" + '{"command": "resu')  # the last line is still being written
    assert run.poll_control() == 8
    assert run.config.learning_rate == 2e-3 and run.config.momentum == 0.9
    assert run.state is RunState.PAUSED
    assert run.step().learning_rate == 2e-3  # a single step while paused
    with open(folder / "control.jsonl", "a") as fh:
        fh.write('me"}\n{"command": "stop"}\n')
    assert run.poll_control() == 2
    assert run.step() is None and run.state is RunState.STOPPED
    run.close()
    reader = open_run(folder)
    rejected = [e for e in reader.events if e["kind"] == "rejected"]
    assert [e["line"] for e in rejected] == [2, 3, 4, 5, 6, 7]
    assert "not JSON" in rejected[0]["reason"] and "unknown command 'fly'" in rejected[2]["reason"]
    assert "cannot set 'cell'" in rejected[3]["reason"] and "momentum must be in [0, 1)" in rejected[4]["reason"]
    kinds = [e["kind"] for e in reader.events if e["kind"] not in ("rejected", "checkpoint")]
    assert kinds == ["start", "set", "pause", "resume", "stop"] and reader.events[-1]["kind"] == "checkpoint"
    assert reader.status is RunState.STOPPED and reader.meta["control"]["line"] == 10
    # A resumed run does not apply the commands again.
    again = Run.reopen(folder, epochs=1000, dataset=run.trainer.dataset)
    assert again.poll_control() == 0
    again.close()


def test_a_step_command_trains_one_epoch_and_pauses_again(tmp_path):
    """control.jsonl's "step" (the window's Step on a run it follows): a running run pauses, trains
    one epoch and stays paused; another step trains one more; epochs() does not go on by itself."""
    folder = tmp_path / "stepped"
    run = Run.start(CONFIG.replace(epochs=1000), sine_dataset(), folder)
    epochs = run.epochs(poll_s=0.01)
    assert next(epochs).epoch == 1 and run.state is RunState.RUNNING
    append_command(folder, "step")
    assert next(epochs).epoch == 2 and run.state is RunState.PAUSED
    append_command(folder, "step")
    assert next(epochs).epoch == 3 and run.state is RunState.PAUSED
    append_command(folder, "stop")
    assert list(epochs) == [] and run.epoch == 3 and run.state is RunState.STOPPED
    run.close()
    kinds = [e["kind"] for e in open_run(folder).events if e["kind"] != "checkpoint"]
    assert kinds == ["start", "pause", "step", "step", "stop"]


def test_more_epochs_reopen_an_ended_run_paused(tmp_path):
    run = Run.start(CONFIG.replace(epochs=1), sine_dataset(), tmp_path / "short")
    assert [r.epoch for r in run.epochs()] == [1] and run.state is RunState.FINISHED
    run.update(epochs=2)
    assert run.state is RunState.PAUSED
    assert run.step().epoch == 2 and run.step() is None and run.state is RunState.FINISHED
    run.close()


def test_full_disk_stops_the_run_and_keeps_the_last_complete_checkpoint(tmp_path, monkeypatch):
    folder = tmp_path / "full"
    run = Run.start(CONFIG.replace(epochs=10), sine_dataset(), folder, checkpoint_interval_s=0)
    assert run.step().epoch == 1 and run.step().epoch == 2
    assert checkpoint.load(folder / "checkpoint.npz").epoch == 2
    real_savez = np.savez

    def savez_then_disk_full(fh, **arrays):
        real_savez(fh, **{k: v for k, v in list(arrays.items())[:1]})  # part of the file, then ENOSPC
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", savez_then_disk_full)
    run.step()
    monkeypatch.undo()
    assert run.state is RunState.FAILED
    assert "No space left on device" in run.message and "last complete checkpoint" in run.message
    assert run.step() is None
    assert checkpoint.load(folder / "checkpoint.npz").epoch == 2  # the complete one, not the torn one
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    meta = json.loads((folder / "run.json").read_text())
    assert meta["status"] == "failed" and "No space left" in meta["message"]
    run.close()


def test_a_run_without_a_folder_tells_its_listeners(tmp_path):
    run = Run.start(CONFIG.replace(epochs=2), sine_dataset())
    heard = []
    run.listeners.append(heard.append)
    run.listeners.append(lambda record: 1 / 0)  # a broken view does not end the run
    run.update(learning_rate=2e-3)
    assert [r.epoch for r in run.epochs()] == [1, 2]
    assert run.folder is None and not list(tmp_path.iterdir())
    kinds = [(r["kind"], r.get("state") or r.get("name")) for r in heard]
    assert kinds == [("set", "learning_rate"), ("state", "compiling"), ("state", "running"), ("state", "finished"),
                     ("finish", None)]


def test_the_core_does_not_import_tensorboard():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, engine.runs, engine.run_reader; from engine.training import Trainer; "
            "print('tensorboardX' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=120)
    assert out.stdout.strip() == "False"


def test_a_folder_still_being_written_is_not_taken_over(finished, tmp_path):
    import shutil
    import socket
    import subprocess
    import sys

    folder = tmp_path / "busy"
    shutil.copytree(finished["folder"], folder)
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        meta = json.loads((folder / "run.json").read_text())
        meta.update(status="running", writer={"host": socket.gethostname(), "pid": writer.pid})
        (folder / "run.json").write_text(json.dumps(meta))
        with pytest.raises(FileExistsError, match=f"still being trained by process {writer.pid}"):
            Run.reopen(folder, finished["dataset"], epochs=5)
    finally:
        writer.kill()
        writer.wait()
    run = Run.reopen(folder, finished["dataset"], epochs=4)  # its writer is gone: interrupted, resumable
    assert [r.epoch for r in run.epochs()] == [4]
    run.close()


def test_stop_before_training_then_more_epochs_trains_again(tmp_path):
    run = Run.start(CONFIG.replace(epochs=2), sine_dataset(), tmp_path / "s")
    run.stop()
    assert run.step() is None and run.state is RunState.STOPPED
    run.update(epochs=3)
    assert run.state is RunState.PAUSED and run.step().epoch == 1 and not run.trainer._stop.is_set()
    run.close()


def test_the_trainer_owns_the_best_epoch_and_a_fork_keeps_its_parents_as_the_bar(finished, tmp_path):
    """One owner: run.json's "best" is Trainer.best; a fork whose epochs are all worse than the
    parent's best leaves best.npz alone (the bar comes from the inherited history)."""
    source = finished["folder"]
    parent_best = open_run(source).meta["best"]
    fork = Run.fork(source, tmp_path / "worse", finished["dataset"], checkpoint="latest", learning_rate=5.0,
                    epochs=5)  # a rate this high makes the next epochs worse
    assert fork.trainer.best.epoch == parent_best["epoch"] and fork.trainer.best.params is None
    fork.pause_on_divergence = False  # a refused step must not wait for a resume here
    reports = list(fork.epochs())
    fork.close()
    meta = open_run(tmp_path / "worse").meta
    assert meta["best"] == fork.trainer.best.record()
    if all(r.val_loss >= parent_best["val_loss"] for r in reports):
        assert meta["best"] == parent_best and not (tmp_path / "worse" / "best.npz").exists()
    else:  # beaten after all: then it is a fork epoch, and best.npz holds it
        assert meta["best"]["epoch"] > 3 and (tmp_path / "worse" / "best.npz").exists()


def test_a_framed_run_resumes_framed_from_its_file_or_with_the_file_given(tmp_path):
    """Before: run.json did not say the data was framed, so --resume reloaded the file as it is and
    the checkpoint's input weights (k values per step) did not fit."""
    from engine.data import load_sequences

    path = tmp_path / "Toy_TRAIN.ts"
    rows = [",".join(str(v) for v in np.sin(np.arange(16) * (0.2 + 0.3 * (i % 2)))) + f":{'ab'[i % 2]}"
            for i in range(8)]
    path.write_text("@problemName toy\n@univariate true\n@classLabel true a b\n@data\n" + "\n".join(rows) + "\n")
    framed = load_sequences(path, frame=4)
    folder = tmp_path / "framed"
    run = Run.start(CONFIG.replace(epochs=1), framed, folder)
    list(run.epochs())
    run.close()
    assert json.loads((folder / "run.json").read_text())["dataset"]["frame"] == 4
    for epochs, given in ((2, None), (3, load_sequences(path)), (4, load_sequences(path, frame=2))):
        # run.json's paths, the file loaded again, or loaded framed otherwise (was: "the data changed")
        run = Run.reopen(folder, given, epochs=epochs)
        assert run.trainer.dataset.frame == 4 and run.step().epoch == epochs
        run.close()


def test_a_text_runs_snapshots_keep_the_probes_characters(tmp_path):
    """An opened text run labels its heatmaps and colours its text from the snapshots alone."""
    vocab = ["<unk>", *"ab \n"]
    ids = np.array([(i * 7) % len(vocab) for i in range(120)], np.int32)
    ds = SequenceDataset(sequences=[ids], vocabulary=vocab, task="next_token", name="chars")
    config = TrainingConfig(cell="elman", hidden_sizes=(3,), batch_size=4, epochs=2, embedding_size=3, window=16)
    run = Run.start(config, ds, tmp_path / "text")
    reports = list(run.epochs())
    run.close()
    reader = open_run(tmp_path / "text")
    assert reports[-1].probe_text and "<unk>" in reports[-1].probe_text
    assert reader.snapshot_text(2) == reports[-1].probe_text
    assert len(reader.snapshot_text(2)) == reader.snapshot(2)[0][0].shape[0]
    numeric = open_run(_numeric_folder(tmp_path))
    assert numeric.snapshot_text(numeric.snapshot_epochs()[-1]) is None  # numeric data: no characters


def _numeric_folder(tmp_path):
    run = Run.start(CONFIG.replace(epochs=1), sine_dataset(), tmp_path / "numeric")
    list(run.epochs())
    run.close()
    return tmp_path / "numeric"
