"""The Runs dock's listing: read a bounded amount at a time, and only the folders that changed."""
import shutil

import pytest

from engine import run_reader
from engine.run_folder import RUN_JSON
from gui.run_listing import RunListing
from tests.gui.run_folders import write_run


@pytest.fixture
def opened(monkeypatch):
    """The folders opened (RunReader built), in order."""
    names = []
    real_init = run_reader.RunReader.__init__

    def counting(reader, folder, **kwargs):
        names.append(folder.name)
        real_init(reader, folder, **kwargs)

    monkeypatch.setattr(run_reader.RunReader, "__init__", counting)
    return names


def test_a_refresh_reads_only_the_folders_that_changed(tmp_path, opened):
    for name in "abc":
        write_run(tmp_path / name, name, [1.0, 0.5])
    listing = RunListing(tmp_path)
    listing.scan()
    listing.read_some(float("inf"))
    assert opened == ["c", "b", "a"]  # newest name first
    opened.clear()
    listing.scan(again=True)
    assert listing.read_some(float("inf")) == [] and opened == []  # stamped, nothing re-read
    shutil.rmtree(tmp_path / "b")
    write_run(tmp_path / "b", "b2", [1.0, 0.5, 0.2])  # rewritten: read again
    write_run(tmp_path / "d", "d", [1.0])  # new: read
    listing.scan(again=True)
    assert sorted(listing.read_some(float("inf"))) == [tmp_path / "b", tmp_path / "d"]
    assert sorted(opened) == ["b", "d"] and [r.name for r in listing.readers()] == ["d", "c", "b2", "a"]


def test_reading_is_bounded_per_call_and_a_new_or_gone_folder_is_found_by_one_look(tmp_path, opened):
    runs = tmp_path / "runs"
    for k in range(6):
        write_run(runs / f"run{k}", f"run {k}", [1.0])
    listing = RunListing(runs)
    listing.scan()
    assert listing.read_some(0.0) == [runs / "run5"] and listing.pending  # one folder per call at least
    listing.read_some(float("inf"))
    assert not listing.pending and len(listing.readers()) == 6
    assert listing.scan_if_changed() == [] and not listing.pending  # nothing appeared: nothing queued
    reserved = runs / "run9"
    reserved.mkdir()  # a new run reserves its folder before it writes run.json
    shutil.rmtree(runs / "run0")
    assert listing.scan_if_changed() == [runs / "run0"]
    opened.clear()
    assert listing.read_some(float("inf")) == [] and opened == []  # no run.json: not a run yet
    elsewhere = write_run(tmp_path / "other", "run 9", [1.0])
    (elsewhere / RUN_JSON).rename(reserved / RUN_JSON)  # its run.json lands; the runs folder's listing stays
    listing.scan_if_changed()
    assert listing.read_some(float("inf")) == [reserved] and opened == ["run9"]
    assert [r.folder.name for r in listing.readers()][:2] == ["run9", "run5"]


def test_a_damaged_folder_gets_a_note_and_leaves_it_once_repaired(tmp_path):
    bad = write_run(tmp_path / "bad", "bad", [1.0])
    text = (bad / RUN_JSON).read_text()
    (bad / RUN_JSON).write_text("{not json")
    listing = RunListing(tmp_path)
    listing.scan()
    listing.read_some(float("inf"))
    assert listing.readers() == [] and "run.json" in listing.note(bad)
    (bad / RUN_JSON).write_text(text)
    assert listing.read(bad) and listing.note(bad) is None and listing.notes() == []
    assert [r.name for r in listing.readers()] == ["bad"]
