"""Run folders as the Runs view sees them: table rows, the config diff, rename/note/delete rules."""
import json

import pytest

from engine.names import RunState
from engine.run_folder import RUN_JSON, atomic_write_text, json_text
from engine.run_reader import open_run
from gui.run_listing import RunListing
from gui.run_summaries import COLUMNS, config_diff, default_runs_dir, delete_run, rename_run, set_note, summary_row
from tests.gui.run_folders import write_run


def read_all(runs_dir):
    """(readers, notes) of a runs folder, read to the end."""
    listing = RunListing(runs_dir)
    listing.scan()
    listing.read_some(float("inf"))
    return listing.readers(), listing.notes()


def test_rows_read_the_folder_and_sort_by_value(tmp_path):
    write_run(tmp_path / "a", "first", [1.0, 0.5, 0.25], learning_rate=0.01)
    write_run(tmp_path / "b", "second", [0.9, 0.8])
    (tmp_path / "not-a-run").mkdir()
    readers, notes = read_all(tmp_path)
    assert sorted(r.name for r in readers) == ["first", "second"] and notes == []
    row = summary_row(next(r for r in readers if r.name == "first"))
    assert list(row) == list(COLUMNS)
    assert row["learning rate"] == ("0.01", 0.01) and row["best val loss"][0] == "0.25"
    assert row["epochs"] == ("3 / 3", 3) and row["duration"] == ("0:02", 1.5)
    assert row["status"][0] == "finished" and row["hidden sizes"] == ("16", 16)


def test_the_table_shows_test_accuracy_where_a_test_set_was_scored(tmp_path):
    scored = write_run(tmp_path / "a", "scored", [1.0, 0.5])
    meta = json.loads((scored / RUN_JSON).read_text())
    meta["test"] = {"accuracy": 0.875, "loss": 0.4, "n": 40, "epoch": 2, "weights": "best",
                    "task": "classify_sequence"}
    atomic_write_text(scored / RUN_JSON, json_text(meta))
    write_run(tmp_path / "b", "unscored", [0.9])
    readers, _ = read_all(tmp_path)
    rows = {r.name: summary_row(r) for r in readers}
    assert rows["scored"]["test accuracy"] == ("87.5%", 0.875)
    assert rows["unscored"]["test accuracy"][0] == ""  # absent, not 0 %


def test_a_damaged_folder_is_skipped_with_a_note_naming_the_file(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / RUN_JSON).write_text("{not json")
    readers, notes = read_all(tmp_path)
    assert readers == [] and len(notes) == 1 and "run.json" in notes[0] and "line 1" in notes[0]


def test_config_diff_shows_only_what_differs(tmp_path):
    a = open_run(write_run(tmp_path / "a", "a", [1.0], learning_rate=0.01))
    b = open_run(write_run(tmp_path / "b", "b", [1.0], learning_rate=0.001, cell="lstm"))
    c = open_run(write_run(tmp_path / "c", "c", [1.0], learning_rate=0.01))
    assert config_diff([a, b, c]) == [("cell", ["gru", "lstm", "gru"]), ("learning_rate", [0.01, 0.001, 0.01])]
    assert config_diff([a, c]) == []


def test_rename_note_and_delete_an_ended_run_but_never_one_being_written(tmp_path):
    done = open_run(write_run(tmp_path / "done", "done", [1.0]))
    rename_run(done, "  baseline   gru ")
    set_note(done, "lr too high?")
    meta = json.loads((tmp_path / "done" / RUN_JSON).read_text())
    assert meta["name"] == "baseline gru" and meta["note"] == "lr too high?" and done.name == "baseline gru"
    with pytest.raises(ValueError, match="empty"):
        rename_run(done, "   ")
    # "running" written by a process on another host: taken at its word, so it is being written
    live_folder = write_run(tmp_path / "live", "live", [1.0], status="running")
    meta = json.loads((live_folder / RUN_JSON).read_text())
    meta["writer"] = {"host": "elsewhere", "pid": 1}
    atomic_write_text(live_folder / RUN_JSON, json_text(meta))
    live = open_run(live_folder)
    assert live.status is RunState.RUNNING
    for edit in (lambda r: rename_run(r, "x"), lambda r: set_note(r, "x"), delete_run):
        with pytest.raises(RuntimeError, match="still running"):
            edit(live)
    delete_run(done)
    assert not (tmp_path / "done").exists() and live_folder.exists()


def test_default_runs_dir_follows_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_runs_dir() == tmp_path / "rnn-scope" / "runs"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert str(default_runs_dir()).endswith(".local/share/rnn-scope/runs")


def test_new_run_folders_never_collide(tmp_path):
    from gui.run_summaries import new_run_folder

    first = new_run_folder(tmp_path, "my data/2.csv")
    assert first.parent == tmp_path and first.name.endswith("_my_data_2.csv") and first.is_dir()
    second = new_run_folder(tmp_path, "my data/2.csv")  # the same second: reserved, so never the same
    assert second != first and second.is_dir() and not any(second.iterdir())
