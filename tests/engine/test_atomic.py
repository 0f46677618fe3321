"""engine.atomic: the one atomic writer (run.json, metrics exports, snapshots, checkpoints, --out files)."""
import errno
import os
import stat

import pytest

from engine import atomic


def test_a_file_is_replaced_whole_with_the_users_umask_and_the_folder_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        return real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", spy)
    old = os.umask(0o027)
    try:
        path = atomic.write_text_atomically(tmp_path / "run.json", "{}\n")
    finally:
        os.umask(old)
    assert path.read_text() == "{}\n" and path.stat().st_mode & 0o777 == 0o640
    assert synced == [False, True]  # the file, then its folder
    assert os.listdir(tmp_path) == ["run.json"]


def test_a_failure_at_any_step_keeps_the_old_file_and_removes_the_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    atomic.write_bytes_atomically(path, b"old")

    def refuse(tmp):
        raise OSError(errno.EIO, "refused by the check")

    with pytest.raises(OSError, match="refused"):
        atomic.write_bytes_atomically(path, b"new", check=refuse)
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "disk full")))
    with pytest.raises(OSError) as info:
        atomic.write_bytes_atomically(path, b"new")
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["checkpoint.npz"]


def test_a_short_write_is_refused(tmp_path):
    def short(fh):
        fh.write(b"1234")
        fh.flush()
        os.truncate(fh.name, 2)  # as if the disk filled after two bytes without an error

    with pytest.raises(OSError, match="shorter than its data"):
        atomic.write_file_atomically(tmp_path / "a.bin", short)
    assert os.listdir(tmp_path) == []


def test_the_caller_names_the_temporary_file(tmp_path):
    made = []

    def make_temp(folder, name):
        made.append(folder / f".mine-{name}")
        made[-1].touch()
        return made[-1]

    atomic.write_text_atomically(tmp_path / "x.txt", "x", make_temp=make_temp)
    assert made == [tmp_path / ".mine-x.txt"] and os.listdir(tmp_path) == ["x.txt"]
