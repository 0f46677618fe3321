"""engine.run_folder: bounded snapshots, control.jsonl reading, atomic files."""

import numpy as np

from engine.run_folder import (CONTROL, MAX_CONTROL_LINE, ControlReader, SnapshotStore, append_command,
                               atomic_write_text, is_log_epoch)


def test_snapshots_keep_log_spaced_epochs_plus_the_last_fifty(tmp_path):
    store = SnapshotStore(tmp_path)
    hidden, gates = [np.zeros((5, 2), np.float32)], [{"z": np.ones((5, 2), np.float32)}]
    for epoch in range(1, 301):
        store.add(epoch, hidden, gates, probe_index=0)
    kept = sorted(int(p.stem[6:]) for p in (tmp_path / "snapshots").glob("epoch_*.npz"))
    log_spaced = [e for e in range(1, 251) if is_log_epoch(e)]
    assert log_spaced[:12] == [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25]
    assert kept == sorted(set(log_spaced) | set(range(251, 301)))
    assert not list((tmp_path / "snapshots").glob("*.tmp"))
    # A new store over the same folder (a resumed run) keeps pruning the same way.
    again = SnapshotStore(tmp_path)
    again.add(301, hidden, gates, probe_index=0)
    assert not (tmp_path / "snapshots" / "epoch_0000251.npz").exists()


def test_snapshots_of_a_big_probe_stay_within_the_budget(tmp_path):
    store = SnapshotStore(tmp_path, budget=2 << 20)
    big = [np.zeros((1000, 64), np.float32)]  # 128 KB per snapshot as float16
    for epoch in range(1, 201):
        store.add(epoch, big, [{}], probe_index=0)
    total = sum(p.stat().st_size for p in (tmp_path / "snapshots").iterdir())
    assert total < 3 << 20


def test_control_reader_takes_whole_lines_and_skips_oversized_ones(tmp_path):
    reader = ControlReader(tmp_path)
    assert reader.read() == []  # no control.jsonl yet
    append_command(tmp_path, "set", name="learning_rate", value=0.5)
    with open(tmp_path / CONTROL, "a") as fh:
        fh.write("\n" + "x" * (MAX_CONTROL_LINE + 10) + "\n" + '{"command": "st')
    lines = reader.read()
    assert lines == [(1, '{"command": "set", "name": "learning_rate", "value": 0.5}'), (3, None)]
    append_command(tmp_path, "op")  # completes nothing: a new line after the partial one
    with open(tmp_path / CONTROL, "a") as fh:
        fh.write("")
    assert reader.read() == [(4, '{"command": "st{"command": "op"}')]
    resumed = ControlReader(tmp_path, reader.offset, reader.line)
    assert resumed.read() == []


def test_atomic_write_leaves_the_old_file_when_it_fails(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    atomic_write_text(path, "old")

    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engine.run_folder.os.fsync", fail)
    try:
        atomic_write_text(path, "new")
    except OSError:
        pass
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["run.json"]
