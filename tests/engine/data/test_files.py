"""engine.data.files: one checked descriptor per file, bounded reads, messages that say what happened."""

import os
import threading

import numpy as np

from engine.data import files, load_sequences

from .helpers import load_error

TS = "@problemName t\n@classLabel true a b\n@data\n1,2,3:a\n3,2,1:b\n1,1,2:a\n"


def _swap_to_dev_zero(monkeypatch, link, real_open):
    """Switch ``link`` to /dev/zero after the path was checked, just before it is opened."""
    def swapping_open(path, *args, **kwargs):
        if os.path.abspath(path) == os.path.abspath(link):
            os.unlink(link)
            os.symlink("/dev/zero", link)
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(files, "_open", swapping_open)


def _load_in_thread(path, timeout=20.0):
    """Load in a daemon thread with a byte bound on the process (so a spin cannot eat the machine)."""
    result = {}

    def run():
        try:
            load_sequences(path, size_limit=1 << 20)
            result["ok"] = True
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            result["error"] = exc
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the load spins on the swapped-in /dev/zero"
    return result


def test_file_swapped_for_dev_zero_between_check_and_read_is_refused(tmp_path, monkeypatch):
    for name, write in (("data.ts", lambda p: p.write_text(TS)), ("seq.npy", lambda p: np.save(p, np.arange(9.0))),
                        ("notes.txt", lambda p: p.write_text("hello there, general kenobi\n"))):
        target = tmp_path / ("real-" + name)
        write(target)
        link = tmp_path / name
        link.symlink_to(target)
        _swap_to_dev_zero(monkeypatch, str(link), os.open)
        result = _load_in_thread(str(link))
        assert "not a regular file" in str(result.get("error")), result
        monkeypatch.undo()


def test_file_deleted_mid_load_is_still_read_whole(tmp_path, monkeypatch):
    p = tmp_path / "vanishing.ts"
    p.write_text(TS)
    real = files.DataFile.head

    def head_then_delete(self, n):
        data = real(self, n)
        if os.path.exists(p):
            os.unlink(p)          # the descriptor keeps the file alive
        return data
    monkeypatch.setattr(files.DataFile, "head", head_then_delete)
    ds = load_sequences(p)
    assert ds.n_sequences == 3 and not p.exists()


def test_file_swapped_for_dev_zero_after_the_open_is_not_seen(tmp_path, monkeypatch):
    target = tmp_path / "real.ts"
    target.write_text(TS)
    link = tmp_path / "data.ts"
    link.symlink_to(target)
    real = files.DataFile.head

    def head_then_swap(self, n):
        data = real(self, n)
        if not os.path.realpath(link).startswith("/dev"):
            os.unlink(link)
            os.symlink("/dev/zero", link)   # on main this read /dev/zero until memory ran out
        return data
    monkeypatch.setattr(files.DataFile, "head", head_then_swap)
    assert load_sequences(link).n_sequences == 3


def test_file_removed_between_check_and_open_says_so(tmp_path, monkeypatch):
    p = tmp_path / "gone.ts"
    p.write_text(TS)
    real = files._open

    def remove_then_open(path, *args):
        os.unlink(path)
        return real(path, *args)
    monkeypatch.setattr(files, "_open", remove_then_open)
    msg = load_error(p)
    assert "no longer exists" in msg and "permission" not in msg


def test_locked_folder_is_not_called_missing(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    p = folder / "data.ts"
    p.write_text(TS)
    real_stat = os.stat

    def stat(path, *args, **kwargs):       # what a folder without x permission does (even as root)
        if str(path).startswith(str(folder) + os.sep):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)
    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os.path, "lexists", lambda path: not str(path).startswith(str(folder) + os.sep))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(folder)
                        else real_access(path, mode))
    msg = load_error(p)
    assert "does not exist" not in msg and "permission denied" in msg and "locked" in msg


def test_reads_never_go_past_the_size_checked_at_open(tmp_path):
    p = tmp_path / "growing.txt"
    p.write_text("abcdef" * 10)
    with files.open_data_file(p, None) as f:
        with open(p, "a") as grow:
            grow.write("X" * 1000)          # appended after the open: not read
        assert f.read_all() == b"abcdef" * 10
        assert f.stream().read() == b"abcdef" * 10


def test_file_cut_short_while_loading_says_it_changed(tmp_path, monkeypatch):
    p = tmp_path / "shrinking.ts"
    p.write_text(TS + "".join(f"{i},{i},{i}:a\n" for i in range(20000)))
    real = files.DataFile.head

    def head_then_truncate(self, n):
        data = real(self, n)
        os.truncate(p, 100)                  # another program rewrites the file meanwhile
        return data
    monkeypatch.setattr(files.DataFile, "head", head_then_truncate)
    msg = load_error(p)
    assert "changed while loading (it is now" in msg and "wait until the file is completely written" in msg
