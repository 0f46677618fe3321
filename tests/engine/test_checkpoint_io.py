"""The bytes of a checkpoint: crafted archives are refused cleanly, saves are atomic and tidy."""

import errno
import io
import json
import os
import stat
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from engine import checkpoint, checkpoint_io
from engine.checkpoint import CheckpointError

CONFIG = {"cell": "elman", "hidden_sizes": [3], "optimizer": "sgd", "epochs": 2}


@pytest.fixture
def good(tmp_path):
    params = {"W1": np.ones((2, 3), np.float32), "c": np.zeros(3, np.float32)}
    return checkpoint.save(tmp_path / "good.npz", params, CONFIG, {}, 1,
                           [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.6}])


def _central_entries(data: bytes) -> list:
    """Offsets of the central-directory file headers."""
    out, i = [], data.find(b"PK\x01\x02")
    while i >= 0:
        out.append(i)
        i = data.find(b"PK\x01\x02", i + 4)
    return out


def _patch(data: bytes, offset: int, fmt: str, value) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def _patched(good, tmp_path, field_offset, fmt, value, name="bad.npz"):
    data = open(good, "rb").read()
    for entry in _central_entries(data):
        data = _patch(data, entry + field_offset, fmt, value)
    bad = tmp_path / name
    bad.write_bytes(data)
    return bad


# Central directory header: version needed at +6, flags at +8, method at +10, sizes at +20/+24.
@pytest.mark.parametrize("field_offset, fmt, value, message", [
    (6, "<H", 0xFF, "corrupt or truncated"),  # "zip file version 25.5" (NotImplementedError before)
    (8, "<H", 0x1, "encrypted"),  # RuntimeError "password required" before
    (10, "<H", 99, "compression method 99"),  # NotImplementedError before
    (24, "<I", 0xFFFFFFF0, "sizes the file cannot hold"),  # a member claiming 4 GB
], ids=["version", "encrypted", "compression", "huge-size"])
def test_crafted_zip_headers_are_a_checkpoint_error(good, tmp_path, field_offset, fmt, value, message):
    bad = _patched(good, tmp_path, field_offset, fmt, value)
    with pytest.raises(CheckpointError, match=message) as info:
        checkpoint.load(bad)
    assert "bad.npz" in str(info.value)


def _write_zip(path, members: dict, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


def _npy_bytes(array=None, header=None, body=b""):
    buf = io.BytesIO()
    if header is None:
        np.save(buf, array)
        return buf.getvalue()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + body


def _meta(params=(("W1", [2, 3], "float32"),), **changes):
    meta = {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "epoch": 0, "config": CONFIG,
            "history": [], "params": [list(p) for p in params], "optimizer_state": [], "extra": {}}
    meta.update(changes)
    return np.frombuffer(json.dumps(meta).encode(), np.uint8)


def test_npy_header_claiming_a_terabyte_allocates_nothing(tmp_path):
    huge = _npy_bytes(header={"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**6)}, body=b"\0" * 64)
    bad = _write_zip(tmp_path / "tera.npz", {"__meta__.npy": _npy_bytes(_meta()), "param/W1.npy": huge})
    with pytest.raises(CheckpointError, match=r"tera.npz: parameter 'W1' has shape \(1000000, 1000000\)"):
        checkpoint.load(bad)
    # Listed with the huge shape too: the header still has to match the bytes actually present.
    bad = _write_zip(tmp_path / "tera2.npz", {"__meta__.npy": _npy_bytes(_meta([("W1", [10**6, 10**6], "float32")])),
                                               "param/W1.npy": huge})
    with pytest.raises(CheckpointError, match="declares 4,000,000,000,000 bytes of data but holds 64"):
        checkpoint.load(bad)


def test_zip_bomb_member_is_refused_before_it_is_inflated(tmp_path):
    zeros = np.zeros(8 << 20, np.float32)  # 32 MB of zeros deflates to ~32 KB (1000x)
    bad = _write_zip(tmp_path / "bomb.npz", {"__meta__.npy": _npy_bytes(_meta([("W1", [8 << 20], "float32")])),
                                              "param/W1.npy": _npy_bytes(zeros)}, method=zipfile.ZIP_DEFLATED)
    with pytest.raises(CheckpointError, match="bomb.npz: member 'param/W1.npy' claims .* compressed"):
        checkpoint.load(bad)


def test_object_and_wrong_dtype_members_are_refused(tmp_path):
    obj = _npy_bytes(header={"descr": "|O", "fortran_order": False, "shape": (2, 3)}, body=b"\0" * 48)
    bad = _write_zip(tmp_path / "obj.npz", {"__meta__.npy": _npy_bytes(_meta()), "param/W1.npy": obj})
    with pytest.raises(CheckpointError, match="holds object, not float32 or float64"):
        checkpoint.load(bad)
    meta_f = _npy_bytes(np.zeros(4, np.float32))
    bad = _write_zip(tmp_path / "meta.npz", {"__meta__.npy": meta_f})
    with pytest.raises(CheckpointError, match="holds float32, not uint8"):
        checkpoint.load(bad)


def test_deeply_nested_metadata_is_a_checkpoint_error(tmp_path):
    nested = b'{"format": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    bad = _write_zip(tmp_path / "deep.npz", {"__meta__.npy": _npy_bytes(np.frombuffer(nested, np.uint8))})
    with pytest.raises(CheckpointError, match="deep.npz: the checkpoint's metadata is nested too deeply"):
        checkpoint.load(bad)


def test_npy_and_csv_under_a_checkpoint_name_say_what_they_are(tmp_path):
    npy = tmp_path / "array.npz"
    with open(npy, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(CheckpointError, match="array.npz is not an RNN Scope checkpoint .a single NumPy array"):
        checkpoint.load(npy)
    csv = tmp_path / "series.csv"
    csv.write_text("t,value\n1,2.5\n2,3.5\n")
    with pytest.raises(CheckpointError, match="series.csv is not an RNN Scope checkpoint .it looks like a text") as info:
        checkpoint.load(csv)
    assert "pickle" not in str(info.value)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="the file is empty"):
        checkpoint.load(empty)


def test_folders_and_fifos_are_refused_without_blocking(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder"):
        checkpoint.load(tmp_path)
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="pipe.npz is not a regular file"):
        checkpoint.load(fifo)


# ------------------------------------------------------------------------------------- saving
def test_save_uses_the_umask_and_leaves_no_temporary_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = checkpoint.save(tmp_path / "a.npz", {"W1": np.zeros((2, 3), np.float32)}, CONFIG, {}, 0, [])
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # not mkstemp's 0600
    assert os.listdir(tmp_path) == ["a.npz"]


def test_stale_temporary_files_are_removed_on_the_next_save(tmp_path):
    # A save killed mid-write (here: a child process that exits at once) leaves its temp file.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f".ckpt-{dead.stdout.strip()}-0123abcd.npz.tmp"
    stale.write_bytes(b"half a checkpoint")
    old_style = tmp_path / ".ckpt-k3j2h1.npz.tmp"  # mkstemp's naming, from earlier versions
    old_style.write_bytes(b"x")
    os.utime(old_style, (1, 1))
    live = tmp_path / f".ckpt-{os.getppid()}-89abcdef.npz.tmp"  # a live process may be writing it
    live.write_bytes(b"in progress")
    unrelated = tmp_path / ".ckpt-notes.txt"
    unrelated.write_text("mine")
    checkpoint.save(tmp_path / "a.npz", {"W1": np.zeros(2, np.float32)}, CONFIG, {}, 0, [])
    assert sorted(os.listdir(tmp_path)) == sorted([".ckpt-notes.txt", live.name, "a.npz"])


@pytest.fixture
def small_tmpfs(tmp_path):
    """mount(options) -> a fresh tmpfs folder (needs root and mount; skipped where it cannot be mounted).
    Root ignores permission bits, so a read-only or full disk needs a real file system."""
    mounted = []

    def mount(options):
        mnt = tmp_path / f"fs{len(mounted)}"
        mnt.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mnt)],
                          capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounted.append(mnt)
        return mnt

    yield mount
    for mnt in mounted:
        subprocess.run(["umount", str(mnt)], check=False)


def test_saving_to_a_read_only_folder_names_the_target(small_tmpfs):
    mnt = small_tmpfs("ro,size=64k")
    with pytest.raises(CheckpointError) as info:
        checkpoint.save(mnt / "model.npz", {"W1": np.zeros(2, np.float32)}, CONFIG, {}, 0, [])
    message = str(info.value)
    assert "model.npz" in message and "not writable" in message and ".tmp" not in message


def test_read_only_error_is_named_for_the_target(tmp_path, monkeypatch):
    # Root can write anywhere, so the refusal is simulated where the OS gives it: creating the file.
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".ckpt-1-ab.npz.tmp"))

    monkeypatch.setattr(checkpoint_io.os, "open", refuse)
    with pytest.raises(CheckpointError, match="cannot save checkpoint .*model.npz: folder .* is not writable") as info:
        checkpoint.save(tmp_path / "model.npz", {"W1": np.zeros(2, np.float32)}, CONFIG, {}, 0, [])
    assert ".tmp" not in str(info.value)


def test_full_disk_is_a_clear_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = checkpoint.save(tmp_path / "model.npz", {"W1": np.ones(2, np.float32)}, CONFIG, {}, 0, [])
    before = open(target, "rb").read()
    real_savez = np.savez

    def full_disk(fh, **arrays):
        real_savez(fh, **arrays)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", full_disk)
    with pytest.raises(CheckpointError, match="model.npz: the disk is full") as info:
        checkpoint.save(target, {"W1": np.zeros(2, np.float32)}, CONFIG, {}, 1, [])
    assert ".tmp" not in str(info.value)
    assert open(target, "rb").read() == before and os.listdir(tmp_path) == ["model.npz"]


def test_full_disk_on_a_real_small_file_system(small_tmpfs):
    mnt = small_tmpfs("size=64k")
    with pytest.raises(CheckpointError, match="the disk is full"):
        checkpoint.save(mnt / "big.npz", {"W1": np.zeros(100_000, np.float32)}, CONFIG, {}, 0, [])
    assert os.listdir(mnt) == []


def test_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        return real_fsync(fd)

    monkeypatch.setattr(checkpoint_io.os, "fsync", spy)
    checkpoint.save(tmp_path / "a.npz", {"W1": np.zeros(2, np.float32)}, CONFIG, {}, 0, [])
    assert synced == [False, True]  # the file, then its folder
