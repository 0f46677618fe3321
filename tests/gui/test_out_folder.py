"""The headless output folder: refused when it holds an earlier run, written atomically."""
import errno
import os

import pytest

from gui import out_folder
from gui.cli_output import UsageError
from gui.out_folder import OutFolder, OutputError


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "out"  # tmp_path itself holds the test's settings folder
    path.mkdir()
    return path


def test_a_folder_with_our_files_is_refused_and_others_are_fine(folder):
    (folder / "notes.txt").write_text("not ours")
    OutFolder(folder).prepare()  # someone's folder without our files: fine
    (folder / "history.csv").write_text("epoch\n1\n")
    with pytest.raises(UsageError, match=r"already holds an earlier run's results \(history.csv\); "
                                         r"pass --overwrite"):
        OutFolder(folder).prepare()
    OutFolder(folder, overwrite=True).prepare()
    OutFolder(folder, resume=True).prepare()


def test_prepare_creates_the_folder_and_clears_stale_temp_files(folder):
    out = OutFolder(folder / "a" / "b")
    out.prepare()
    assert out.path.is_dir()
    stale = out.path / ".rnn-scope-loss.0badf00d.tmp.png"  # left by a process killed mid-write
    stale.write_bytes(b"half a png")
    OutFolder(out.path).prepare()
    assert not stale.exists()


def test_written_atomically_with_the_users_umask(folder):
    out = OutFolder(folder)
    old = os.umask(0o027)
    try:
        path = out.write_bytes("history.csv", b"epoch\n1\n")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"epoch\n1\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(folder) == ["history.csv"] and out.written == [path]


def test_a_failed_write_keeps_the_previous_file(folder, monkeypatch):
    out = OutFolder(folder)
    out.write_bytes("loss.png", b"the previous run's plot")
    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(out_folder.os, "fsync", full_disk)
    with pytest.raises(OutputError) as exc:
        out.write_bytes("loss.png", b"a new plot")
    monkeypatch.setattr(out_folder.os, "fsync", real_fsync)
    assert str(exc.value) == f"cannot write {folder / 'loss.png'}: No space left on device"
    assert (folder / "loss.png").read_bytes() == b"the previous run's plot"
    assert os.listdir(folder) == ["loss.png"]  # the temp file is gone too


def test_a_short_write_is_caught(folder):
    out = OutFolder(folder)

    def produce(tmp):
        tmp.write_bytes(b"12")  # as if the disk filled after two bytes without an error

    def complete(tmp):
        if tmp.stat().st_size != 4:
            raise OutputError(errno.EIO, "only 2 of 4 bytes were written")

    with pytest.raises(OutputError, match="history.csv: only 2 of 4 bytes were written"):
        out.write_with("history.csv", produce, complete)
    assert os.listdir(folder) == []


def test_finish_removes_only_earlier_files_this_run_did_not_write(folder):
    for name in ("hidden_layer1.png", "hidden_layer2.png", "notes.txt"):
        (folder / name).write_bytes(b"old")
    out = OutFolder(folder, overwrite=True)
    out.prepare()
    out.write_bytes("hidden_layer1.png", b"new")
    assert [p.name for p in out.finish()] == ["hidden_layer2.png"]
    assert sorted(os.listdir(folder)) == ["hidden_layer1.png", "notes.txt"]
