"""engine.run_reader: folders that are half-written, truncated, damaged, foreign, older or followed."""

import json
import subprocess
import sys

import numpy as np
import pytest

from engine.names import RunState
from engine.run_folder import (EVENTS, FORMAT, METRICS, RUN_JSON, VERSION, AppendLog, event_line, metrics_columns,
                               write_metrics_csv)
from engine.run_reader import RunFolderError, open_run

HISTORY = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.5 / e, "val_accuracy": None, "learning_rate": 0.01,
            "clip_norm": 5.0, "momentum": 0.9, "seconds": 0.5, "grad_norms": {"layer1": 0.1 * e, "head": 0.2},
            "weight_norms": {"layer1": 1.0, "head": 2.0}} for e in range(1, 4)]


def _meta(**changes):
    meta = {"format": FORMAT, "version": VERSION, "status": "finished", "config": {"cell": "elman"}}
    meta.update(changes)
    return meta


def _folder(tmp_path, meta=None, history=HISTORY):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / RUN_JSON).write_text(json.dumps(meta or _meta()))
    write_metrics_csv(folder / METRICS, history)
    return folder


def test_the_one_history_writer_round_trips_through_the_reader(tmp_path):
    reader = open_run(_folder(tmp_path))
    assert [e["epoch"] for e in reader.epochs] == [1, 2, 3]
    assert reader.columns == metrics_columns(["layer1", "head"])
    assert reader.epochs[1]["train_loss"] == 0.5 and reader.epochs[1]["val_accuracy"] is None
    assert reader.epochs[2]["grad_norms"] == {"layer1": 0.1 * 3, "head": 0.2}
    assert [e["wall_s"] for e in reader.epochs] == [0.5, 1.0, 1.5]  # running sum of the epochs' seconds
    assert reader.status is RunState.FINISHED and reader.notes == []


def test_a_truncated_last_line_waits_for_its_newline_and_poll_returns_only_news(tmp_path):
    folder = _folder(tmp_path)
    log = AppendLog(folder / EVENTS)
    log.write_line(event_line("set", 2, 1.0, name="learning_rate", old=0.01, new=0.005))
    with open(folder / METRICS, "a") as fh:
        fh.write("4,2.0,0.25,0.3")  # the writer is mid-row
    with open(folder / EVENTS, "a") as fh:
        fh.write('{"epoch": 4, "kind": "pa')
    reader = open_run(folder)
    assert [e["epoch"] for e in reader.epochs] == [1, 2, 3] and len(reader.events) == 1 and reader.notes == []
    assert not reader.poll()  # nothing new yet
    with open(folder / METRICS, "a") as fh:
        fh.write(",,0.01,5.0,0.9,0.4,0.2,1.0,2.0\n5,2.5,0.2,0.25,,0.01,5.0,0.9,0.5,0.2,1.0,2.0\n")
    with open(folder / EVENTS, "a") as fh:
        fh.write('use", "wall_s": 2.0}\n')
    update = reader.poll()
    assert [e["epoch"] for e in update.epochs] == [4, 5] and [e["kind"] for e in update.events] == ["pause"]
    assert [e["epoch"] for e in reader.epochs] == [1, 2, 3, 4, 5]
    assert reader.markers() == [(2, "lr 0.01 → 0.005"), (4, "pause")]


def test_a_damaged_line_in_the_middle_is_skipped_and_named(tmp_path):
    folder = _folder(tmp_path)
    text = (folder / METRICS).read_text().splitlines()
    text.insert(2, "2,1.0,0.5")  # a killed writer's partial row, terminated by a later resume
    text.append("3,9.0,0.1,0.1,,0.01,5.0,0.9,0.3,0.2,1.0,2.0")  # the resumed run's epoch 3 wins
    (folder / METRICS).write_text("\n".join(text) + "\n")
    (folder / EVENTS).write_text('{"kind": "start", "epoch": 0}\nnot json\n')
    reader = open_run(folder)
    assert [e["epoch"] for e in reader.epochs] == [1, 2, 3] and reader.epochs[2]["wall_s"] == 9.0
    assert reader.notes == [f"{folder / METRICS} line 3: damaged (3 values where the header has 12); skipped",
                            f"{folder / EVENTS} line 2: damaged (not an event object); skipped"]


def test_missing_files_and_an_older_format_open(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / RUN_JSON).write_text(json.dumps({"format": FORMAT, "version": 0, "status": "stopped"}))
    reader = open_run(folder)  # no metrics, events or snapshots yet; run.json without newer keys
    assert reader.epochs == [] and reader.events == [] and reader.snapshot_epochs() == []
    assert reader.status is RunState.STOPPED and reader.name == "old" and reader.checkpoint_path is None
    only_metrics = tmp_path / "only_metrics"
    only_metrics.mkdir()
    write_metrics_csv(only_metrics / METRICS, HISTORY)
    reader = open_run(only_metrics)
    assert len(reader.epochs) == 3 and "run.json: missing" in reader.notes[0]


@pytest.mark.parametrize("make, message", [
    (lambda f: None, "not an RNN Scope run folder (it has no run.json and no metrics.csv)"),
    (lambda f: (f / RUN_JSON).write_text('{"format": "rnn-scope-run",\n "version": }'), "run.json line 2: not valid JSON"),
    (lambda f: (f / RUN_JSON).write_text('{"format": "mlflow"}'), "run.json line 1: not an RNN Scope run"),
    (lambda f: (f / RUN_JSON).write_text(json.dumps(_meta(version=VERSION + 1))),
     f"written by a newer RNN Scope (run format {VERSION + 1}"),
    (lambda f: (f / METRICS).write_text("step,loss\n1,0.5\n"), "metrics.csv line 1: the columns are not an RNN Scope"),
])
def test_a_foreign_folder_is_a_clear_error_naming_file_and_line(tmp_path, make, message):
    folder = tmp_path / "foreign"
    folder.mkdir()
    make(folder)
    with pytest.raises(RunFolderError, match=message.replace("(", "\\(").replace(")", "\\)")):
        open_run(folder)


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(RunFolderError, match="no such folder"):
        open_run(tmp_path / "nope")


def test_an_active_run_whose_writer_died_reads_as_interrupted(tmp_path):
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    writer = {"host": socket.gethostname(), "pid": int(dead)}
    assert open_run(_folder(tmp_path, _meta(status="running", writer=writer))).status is RunState.INTERRUPTED
    alive = dict(writer, pid=__import__("os").getpid())
    other = tmp_path / "b"
    other.mkdir()
    (other / RUN_JSON).write_text(json.dumps(_meta(status="running", writer=alive)))
    assert open_run(other).status is RunState.RUNNING
    (other / RUN_JSON).write_text(json.dumps(_meta(status="running", writer=dict(writer, host="elsewhere"))))
    assert open_run(other).status is RunState.RUNNING  # another machine's writer is taken at its word


def test_a_lazy_reader_reads_the_table_facts_cheaply_and_the_same_curves(tmp_path):
    folder = _folder(tmp_path)
    with open(folder / METRICS, "a") as fh:
        fh.write("2,1.0,0.45,0.5,,0.01,5.0,0.9,0.2,0.2,1.0,2.0\n4,2.0,0.25,0.3")  # epoch 2 again; a partial row
    full, lazy = open_run(folder), open_run(folder, lazy=True)
    assert lazy.last_row() == full.last_row() and lazy.last_row()["epoch"] == 2  # the row written last
    for column in ("val_loss", "train_loss", "grad_norm_layer1"):
        for a, b in zip(lazy.curve(column), full.curve(column)):
            np.testing.assert_array_equal(a, b)
    assert not lazy._loaded  # the curves came from the columns, not from per-row dicts
    assert lazy.epochs == full.epochs and lazy._loaded
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / METRICS).write_text("time,price\n1,2\n")
    with pytest.raises(RunFolderError, match="not an RNN Scope run"):
        open_run(tmp_path / "foreign", lazy=True)


def test_class_names_come_from_run_json_bounded_and_older_folders_number_them(tmp_path):
    from engine.limits import MAX_CLASS_NAME_CHARS, MAX_STORED_CLASS_NAMES

    folder = _folder(tmp_path, _meta(dataset={"task": "classify_sequence", "class_names": ["up", "down"]}))
    assert open_run(folder).class_names == ["up", "down"]
    (folder / RUN_JSON).write_text(json.dumps(_meta(dataset={"task": "classify_sequence"})))  # before they were stored
    assert open_run(folder).class_names == []
    (folder / RUN_JSON).write_text(json.dumps(_meta(dataset={"class_names": "up,down"})))  # damaged: numbered
    assert open_run(folder).class_names == []
    many = ["x" * 100] * (MAX_STORED_CLASS_NAMES + 5)  # written by hand: still bounded on reading
    (folder / RUN_JSON).write_text(json.dumps(_meta(dataset={"class_names": many})))
    names = open_run(folder).class_names
    assert len(names) == MAX_STORED_CLASS_NAMES and {len(n) for n in names} == {MAX_CLASS_NAME_CHARS}


def test_the_speed_is_the_training_set_over_the_median_epoch_gap_and_none_without_its_size(tmp_path):
    walls = [3.0, 4.0, 5.0, 65.0, 66.0, 67.0]  # epochs 1..6, paused for a minute before epoch 4
    history = [{**HISTORY[0], "epoch": e, "wall_s": w} for e, w in enumerate(walls, start=1)]
    for sub in "abc":
        (tmp_path / sub).mkdir()
    reader = open_run(_folder(tmp_path, _meta(dataset={"n_train": 40}), history))
    assert reader.sequences_per_second() == 40.0  # the pause's 60 s gap is one of five: the median is 1 s
    assert open_run(_folder(tmp_path / "a", _meta(dataset={"n_train": 40}), history[:1])).sequences_per_second() is None
    assert open_run(_folder(tmp_path / "b", _meta(dataset={}), history)).sequences_per_second() is None
    gap = [history[0], {**history[2], "epoch": 3}]  # epochs 1 and 3: no consecutive pair
    assert open_run(_folder(tmp_path / "c", _meta(dataset={"n_train": 40}), gap)).sequences_per_second() is None


def test_a_follower_reading_snapshots_a_fast_writer_thins_sees_them_whole_or_gone(tmp_path):
    """A live writer prunes snapshots between a follower's listing and its read: that file is
    SnapshotGone (skipped), never a damaged snapshot; every file read is whole."""
    import threading

    from engine.run_folder import SnapshotStore
    from engine.run_reader import SnapshotGone

    folder = _folder(tmp_path, _meta(config={"cell": "gru"}))
    store = SnapshotStore(folder, keep_last=2)
    store.add(1, [np.ones((40, 8))], [{"z": np.ones((40, 8))}], 0)
    reader = open_run(folder)
    done, damaged, gone, read = threading.Event(), [], [], []

    def write():
        for epoch in range(2, 400):  # epochs 7, 9, 11, ... are thinned away at once
            store.add(epoch, [np.full((40, 8), epoch)], [{"z": np.full((40, 8), epoch)}], 0)
        done.set()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    while not done.is_set() or not read:
        for epoch in reader.snapshot_epochs():
            try:
                hidden, gates, _, _ = reader.snapshot_with_text(epoch)
            except SnapshotGone:
                gone.append(epoch)
            except RunFolderError as exc:
                damaged.append(str(exc))
            else:
                assert hidden[0][0, 0] in (1, epoch) and gates[0]["z"].shape == (40, 8)
                read.append(epoch)
    writer.join()
    assert damaged == [] and read


def test_a_truly_damaged_snapshot_is_named_not_raised_as_a_zip_error(tmp_path):
    from engine.run_folder import SnapshotStore, snapshot_name
    from engine.run_reader import SnapshotGone

    folder = _folder(tmp_path)
    SnapshotStore(folder).add(1, [np.ones((40, 8))], [{}], 0)
    path = folder / "snapshots" / snapshot_name(1)
    path.write_bytes(path.read_bytes()[:300])  # truncated: no zip directory
    reader = open_run(folder)
    with pytest.raises(RunFolderError, match=r"epoch_0000001\.npz: damaged snapshot") as info:
        reader.snapshot_with_text(1)
    assert not isinstance(info.value, SnapshotGone)
    with pytest.raises(SnapshotGone, match="epoch_0000002.npz"):
        reader.snapshot(2)
