"""engine.data.npy: headers checked before any data is read, zip members bounded, no escapes."""

import io
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import DataError, load_sequences

from .helpers import load_error


def _npy_bytes(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _bomb(path, n_values: int, declared: int | None = None):
    """A .npz whose X.npy member is ``n_values`` float64 zeros, written in chunks (never held)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (n_values,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("X.npy", "w") as member:
            member.write(header.getvalue())
            chunk = bytes(8 << 20)
            for _ in range(n_values * 8 // len(chunk)):
                member.write(chunk)
    if declared is not None:            # lie about the uncompressed size in both headers
        data = bytearray(open(path, "rb").read())
        for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            i = data.find(sig)
            data[i + offset:i + offset + 4] = struct.pack("<I", declared)
        open(path, "wb").write(bytes(data))


def test_zip_bomb_is_refused_from_its_declared_size(tmp_path):
    p = tmp_path / "bomb.npz"
    _bomb(p, 256 << 20 >> 3)                       # 256 MB of zeros in ~1 MB
    assert p.stat().st_size < 2 << 20
    msg = load_error(p, size_limit=32 << 20)
    assert "member 'X.npy' would decompress to 256.0 MB, over the 32.0 MB size limit" in msg


def test_zip_member_that_lies_about_its_size_is_read_only_as_far_as_declared(tmp_path):
    p = tmp_path / "liar.npz"
    _bomb(p, 64 << 20 >> 3, declared=4096)         # 64 MB real, 4 KB declared
    msg = load_error(p, size_limit=1 << 20)
    assert "Bad CRC-32" in msg or "truncated: its header says 64.0 MB of data, 3.9 KB are there" in msg


def test_member_header_shape_is_checked_against_the_limit(tmp_path):
    p = tmp_path / "claims.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 12,)})
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("X.npy", header.getvalue() + bytes(800))
    assert "truncated" in load_error(p, size_limit=1 << 20) or "size limit" in load_error(p)
    assert "over the 1.0 MB size limit" in load_error(p, size_limit=1 << 20)


def test_npz_that_is_a_zip_of_something_else(tmp_path):
    p = tmp_path / "other.npz"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "not an array")
    msg = load_error(p)
    assert "member 'readme.txt' is not a NumPy array" in msg and "AttributeError" not in msg
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("X.npy", b"hello")
        zf.writestr("y.npy", b"world")
    assert "is not a NumPy array" in load_error(p)


def _patched(tmp_path, name, patch):
    good = tmp_path / "good.npz"
    np.savez(good, X=np.arange(30.0).reshape(3, 10, 1), y=np.array([0, 1, 0]))
    data = bytearray(good.read_bytes())
    patch(data)
    p = tmp_path / name
    p.write_bytes(bytes(data))
    return p


def _every(data, sig, offset, value, fmt="<H"):
    i = data.find(sig)
    while i >= 0:
        data[i + offset:i + offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
        i = data.find(sig, i + 4)


@pytest.mark.parametrize("name, patch, words", [
    ("version.npz", lambda d: (_every(d, b"PK\x03\x04", 4, 99), _every(d, b"PK\x01\x02", 6, 99)), "zip feature"),
    ("encrypted.npz", lambda d: (_every(d, b"PK\x03\x04", 6, 1), _every(d, b"PK\x01\x02", 8, 1)), "encrypted"),
    ("method.npz", lambda d: (_every(d, b"PK\x03\x04", 8, 77), _every(d, b"PK\x01\x02", 10, 77)), "zip feature"),
])
def test_crafted_zip_headers_are_data_errors_naming_the_file(tmp_path, name, patch, words):
    assert words in load_error(_patched(tmp_path, name, patch))


def test_large_npy_header_is_not_called_pickled(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (4,)}
    text = repr(header).encode("latin-1")
    text += b" " * (65536 - len(text) - 13) + b"\n"
    p = tmp_path / "wide.npy"
    p.write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text + np.arange(4.0).tobytes())
    msg = load_error(p)
    assert "pickle" not in msg and "header" in msg and "64.0 KB" in msg


def test_npy_shape_larger_than_the_file_is_truncated(tmp_path):
    p = tmp_path / "short.npy"
    p.write_bytes(_npy_bytes(np.zeros((4, 1000, 2)))[:5000])
    assert "truncated" in load_error(p)


def test_float64_npy_too_large_for_float32_is_refused(tmp_path):
    p = tmp_path / "huge.npy"
    np.save(p, np.array([1.0, 2.0, 1e39, 3.0]))
    assert "too large for float32" in load_error(p)
    z = tmp_path / "huge.npz"
    np.savez(z, X=np.array([[1.0, 2.0, 3.0], [4.0, -1e300, 6.0]]), y=np.array([0, 1]))
    assert "too large for float32" in load_error(z)
    ds = load_sequences(p, nonfinite="interpolate")
    np.testing.assert_allclose(ds.sequences[0][:, 0], [1, 2, 2.5, 3])


def test_npy_streams_sequences_and_keeps_values(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 7, 3))
    for order in ("C", "F"):
        p = tmp_path / f"x{order}.npy"
        np.save(p, np.asarray(X, order=order))
        ds = load_sequences(p)
        np.testing.assert_allclose(np.stack(ds.sequences), X.astype(np.float32))
    p = tmp_path / "ints.npz"
    np.savez(p, X=np.arange(24, dtype=np.int16).reshape(4, 6), y=np.array([1, 2, 1, 2]))
    ds = load_sequences(p)
    assert ds.n_sequences == 4 and ds.sequences[1].dtype == np.float32
    np.testing.assert_array_equal(ds.sequences[1][:, 0], np.arange(6, 12))


def _good_npz() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, X=np.arange(60.0).reshape(3, 10, 2), y=np.array([0, 1, 0]),
                        feature_names=np.array(["a", "b"]))
    return buf.getvalue()


GOOD_NPZ = _good_npz()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD_NPZ) - 1), st.integers(1, 255)), min_size=1, max_size=4),
       cut=st.one_of(st.none(), st.integers(1, len(GOOD_NPZ))))
def test_fuzzed_npz_is_loaded_or_a_data_error(tmp_path, flips, cut):
    data = bytearray(GOOD_NPZ)
    for i, x in flips:
        data[i] ^= x
    p = tmp_path / "fuzz.npz"
    p.write_bytes(bytes(data[:cut]))
    try:
        load_sequences(p, size_limit=1 << 20)
    except DataError as exc:
        assert str(exc).startswith("fuzz.npz") and ";" in str(exc), exc


def _peak_bytes(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_preview_reads_only_the_head_of_a_big_array(tmp_path):
    """The window previews on its GUI thread, and a .npy/.npz under the size limit was read whole
    there (a 1 GB member froze the window for seconds); now the header, the small members and the
    first items within PREVIEW_BYTES, the whole array being checked by the load on the worker."""
    from engine.data import preview
    from engine.data.npy import PREVIEW_BYTES

    rng = np.random.default_rng(0)
    npz = tmp_path / "big.npz"
    np.savez(npz, X=rng.random((2000, 200, 8), dtype=np.float32), y=np.arange(2000) % 3)  # 12.8 MB of X
    npy = tmp_path / "long.npy"
    np.save(npy, rng.random((800_000, 4), dtype=np.float32))  # one 12.8 MB sequence
    pv, peak = _peak_bytes(lambda: preview(str(npz)))
    assert peak < 3 * PREVIEW_BYTES, f"preview of a 12.8 MB .npz held {peak / 2**20:.1f} MB"
    assert pv.estimated and pv.n_sequences == 2000 and (pv.min_length, pv.max_length) == (200, 200)
    assert pv.class_names == ["0", "1", "2"] and "[0] label 0 length 200" in pv.head
    assert "of 2,000 sequence(s)" in pv.notes[-1]
    pv, peak = _peak_bytes(lambda: preview(str(npy)))
    assert peak < 3 * PREVIEW_BYTES, f"preview of a 12.8 MB .npy held {peak / 2**20:.1f} MB"
    assert pv.estimated and pv.n_sequences == 1 and pv.max_length == 800_000
    assert load_sequences(npz).n_sequences == 2000  # the load still reads all of it
    small = tmp_path / "small.npz"
    np.savez(small, X=rng.random((20, 10, 2)), y=np.arange(20) % 2)
    assert not preview(str(small)).estimated  # a small array is previewed whole, as before
