"""Every bad input from issue 4 gives a DataError that names the file and says what to do."""

import os
import pickle

import numpy as np
import pytest

from engine.data import DataError, load_sequences, preview
from engine.data import files as data_files

from .data.helpers import load_error


@pytest.mark.parametrize("name", ["empty.csv", "empty.txt", "empty.ts", "empty"])
def test_empty_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    assert "is empty" in load_error(p)


@pytest.mark.parametrize("name", ["blank.csv", "blank.txt", "blank"])
def test_whitespace_only(tmp_path, name):
    p = tmp_path / name
    p.write_text("  \n\t\n   \r\n")
    assert "whitespace" in load_error(p) or "no data" in load_error(p)


@pytest.mark.parametrize("name", ["garbage.bin", "garbage.csv", "garbage.txt", "garbage.ts"])
def test_binary_garbage(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(np.random.default_rng(0).integers(0, 256, size=4096, dtype=np.uint8).tobytes())
    assert "binary" in load_error(p)


def test_undecodable_text(tmp_path):
    p = tmp_path / "weird.txt"
    # invalid UTF-8 whose Latin-1 reading is mostly C1 control characters (and not valid cp1252)
    p.write_bytes(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D] * 40) + b"abc")
    assert "re-save the file as UTF-8" in load_error(p)


def test_truncated_npy_and_npz(tmp_path):
    full = tmp_path / "full.npy"
    np.save(full, np.arange(1000.0))
    cut = tmp_path / "cut.npy"
    cut.write_bytes(full.read_bytes()[:500])
    assert "truncated" in load_error(cut)
    head_only = tmp_path / "head.npy"
    head_only.write_bytes(full.read_bytes()[:20])
    assert "truncated" in load_error(head_only)
    zfull = tmp_path / "full.npz"
    np.savez(zfull, X=np.arange(1000.0))
    zcut = tmp_path / "cut.npz"
    zcut.write_bytes(zfull.read_bytes()[:300])
    assert "truncated" in load_error(zcut)
    fake = tmp_path / "fake.npy"
    fake.write_text("1,2,3\n")
    assert "NumPy" in load_error(fake)


class _Boom:
    """Unpickling this would create a file: proves the loader never unpickles."""
    marker = None

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_objects_are_never_loaded(tmp_path):
    marker = tmp_path / "unpickled-marker"
    _Boom.marker = str(marker)
    p = tmp_path / "evil.npy"
    np.save(p, np.array([_Boom(), 1], dtype=object), allow_pickle=True)
    assert "pickled" in load_error(p)
    z = tmp_path / "evil.npz"
    np.savez(z, X=np.array([_Boom(), 1], dtype=object))
    assert "pickled" in load_error(z)
    raw = tmp_path / "evil.pkl.npy"
    raw.write_bytes(pickle.dumps(_Boom()))
    load_error(raw)
    assert not marker.exists()


def test_ragged_rows(tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")
    msg = load_error(p)
    assert "ragged.csv, line 3" in msg and "2 field(s)" in msg


def test_non_numeric_cell(tmp_path):
    p = tmp_path / "cells.csv"
    p.write_text("a,b\n1,2\n3,oops\n")
    msg = load_error(p)
    assert "line 3" in msg and "'oops' is not a number (column 'b')" in msg


def test_single_value(tmp_path):
    p = tmp_path / "one.csv"
    p.write_text("42\n")
    assert "single value" in load_error(p)
    t = tmp_path / "one.txt"
    t.write_text("x")
    assert "single character" in load_error(t)


def test_fewer_sequences_than_the_split_needs(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text("1\n2\n3\n")
    ds = load_sequences(p)
    with pytest.raises(DataError, match="too short to split"):
        ds.split()


def test_sequences_longer_than_the_limit(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("\n".join(str(i * 0.5) for i in range(50)) + "\n")
    msg = load_error(p, max_length=10)
    assert "50 steps" in msg and "max_length" in msg


def test_size_limit_is_checked_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "big.csv"
    p.write_text("1\n2\n" * 100)

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(data_files, "_open", no_open)
    monkeypatch.setattr(np, "loadtxt", no_open)
    msg = load_error(p, size_limit=100)
    assert "size limit" in msg and "size_limit" in msg


def test_directory_and_missing_path(tmp_path):
    assert "folder" in load_error(tmp_path)
    assert "does not exist" in load_error(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="no files"):
        load_sequences([])


def test_permission_denied(tmp_path, monkeypatch):
    p = tmp_path / "secret.csv"
    p.write_text("1\n2\n3\n")
    p.chmod(0)
    try:
        if os.access(p, os.R_OK):   # running as root: simulate the refusal at open time
            def denied(*args, **kwargs):
                raise PermissionError(13, "Permission denied")
            monkeypatch.setattr(data_files, "_open", denied)
        assert "permission denied" in load_error(p)
    finally:
        p.chmod(0o644)


def test_bad_options_are_data_errors(tmp_path):
    p = tmp_path / "ok.csv"
    p.write_text("1\n2\n3\n")
    for options in ({"format": "xls"}, {"task": "regress"}, {"nonfinite": "ignore"}, {"multi_file": "zip"},
                    {"max_vocab": 1}, {"size_limit": -5}, {"colour": "red"}, {"layout": "diagonal"},
                    {"delimiter": "@@"}, {"target_column": "nope"}, {"task": "classify_sequence"},
                    {"task": "next_token"}):
        with pytest.raises(DataError):
            load_sequences(p, **options)
    with pytest.raises(DataError):
        preview(p, format="xls")


def test_text_task_override_refused(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("hello there\n")
    assert "next_token" in load_error(p, task="forecast")


def test_ragged_row_next_to_a_date_column(tmp_path):
    p = tmp_path / "dated.csv"
    p.write_text("date,x\n2020-01-01,1\n2020-01-02,2,3\n2020-01-03,4\n")
    assert "dated.csv, line 3: has 3 field(s) but the header has 2" in load_error(p)


def test_broken_zip_is_closed_after_the_error(tmp_path):
    import gc
    import warnings

    p = tmp_path / "broken.npz"
    p.write_bytes(b"PK\x05\x06" + b"\x00" * 10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert "not a valid .npz" in load_error(p)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
