"""Property tests: hostile or near-valid files give a DataError or a valid dataset, nothing else."""

import itertools
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.data import TASKS, DataError, SequenceDataset, load_sequences
from engine.data.text import id_dtype

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_counter = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


def check_valid(ds: SequenceDataset):
    assert isinstance(ds, SequenceDataset) and ds.task in TASKS and ds.n_sequences >= 1
    for s in ds.sequences:
        assert len(s) >= 1
        if ds.is_text:
            assert s.dtype == id_dtype(len(ds.vocabulary)) and s.min() >= 0 and s.max() < len(ds.vocabulary)
        else:
            assert s.dtype == np.float32 and s.ndim == 2 and np.isfinite(s).all()
    if ds.task == "classify_sequence":
        assert len(ds.labels) == ds.n_sequences and len(np.unique(ds.labels)) >= 2
    try:
        split = ds.split(validation_fraction=0.3, seed=1)
    except DataError:
        return
    for arrays in (split.train, split.val):
        assert len(arrays) >= 1 and arrays.x.shape[1] == split.window
        assert arrays.mask.shape == arrays.x.shape[:2]
        assert np.isfinite(arrays.mask).all() and ((arrays.mask == 0) | (arrays.mask == 1)).all()
        if not ds.is_text:
            assert np.isfinite(arrays.x).all()


def load_or_data_error(path, **options):
    before = path.read_bytes()
    try:
        ds = load_sequences(path, **options)
    except DataError as err:
        assert str(err)
        event("DataError")
        ds = None
    assert path.read_bytes() == before     # loading never modifies the file
    if ds is not None:
        event(f"valid {ds.task}")
        check_valid(ds)
    return ds


def fresh(folder, suffix):
    return folder / f"f{next(_counter)}{suffix}"


@SETTINGS
@given(data=st.binary(min_size=0, max_size=600),
       suffix=st.sampled_from([".csv", ".tsv", ".txt", ".ts", ".npy", ".npz", ".dat", ""]))
def test_random_bytes(folder, data, suffix):
    p = fresh(folder, suffix)
    p.write_bytes(data)
    load_or_data_error(p)
    os.unlink(p)


_numbers = st.floats(-1e4, 1e4, allow_nan=False).map(lambda v: f"{v:.4g}")
_specials = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(lambda v: f"{v:g}"),
    st.sampled_from(["", "nan", "NaN", "?", "n/a", "1e400", "-", "1,5", '"2"', "2020-01-01", "abc", " ", "#",
                     "\x00", "\u00e9", "1.0.0", "0x10", "1_000"]),
)
_delimiters = st.sampled_from([",", "\t", ";", " ", "|"])


@st.composite
def mutate(draw, rows):
    """Apply up to three small corruptions to a clean table (list of lists of cells)."""
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, 3))):
        if not rows:
            break
        i = draw(st.integers(0, len(rows) - 1))
        kind = draw(st.sampled_from(["special", "drop", "add", "blank", "dup"]))
        if kind == "special" and rows[i]:
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(_specials)
        elif kind == "drop" and rows[i]:
            rows[i].pop()
        elif kind == "add":
            rows[i].append(draw(_numbers))
        elif kind == "blank":
            rows.insert(i, [])
        elif kind == "dup":
            rows.insert(i, list(rows[i]))
    return rows


@st.composite
def near_csv(draw):
    sep = draw(_delimiters)
    n_cols = draw(st.integers(1, 5))
    n_rows = draw(st.integers(0, 25 if n_cols < 3 else 8))
    rows = [draw(st.lists(_numbers, min_size=n_cols, max_size=n_cols)) for _ in range(n_rows)]
    if draw(st.booleans()):   # a label or date column
        first = draw(st.sampled_from(["label", "date", "index"]))
        for k, r in enumerate(rows):
            r.insert(0, {"label": str(k % 2 + 1), "date": f"2020-01-{k % 28 + 1:02d}", "index": str(k)}[first])
    rows = draw(mutate(rows))
    lines = [sep.join(r) for r in rows]
    if draw(st.booleans()) and rows:
        width = max(len(r) for r in rows)
        lines.insert(0, sep.join(draw(st.lists(st.sampled_from(["date", "a", "b", "value", "", "t"]),
                                               min_size=width, max_size=width))))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    prefix = draw(st.sampled_from(["", "\ufeff", "# comment\n", "\n\n"]))
    return (prefix + text).encode("utf-8")


@SETTINGS
@given(content=near_csv(), suffix=st.sampled_from([".csv", ".txt", "_TRAIN.tsv"]),
       nonfinite=st.sampled_from(["reject", "drop", "interpolate"]), skip=st.booleans(),
       layout=st.sampled_from([None, "rows", "columns"]))
def test_near_valid_csv(folder, content, suffix, nonfinite, skip, layout):
    p = fresh(folder, suffix)
    p.write_bytes(content)
    load_or_data_error(p, nonfinite=nonfinite, skip_non_numeric=skip, layout=layout)
    os.unlink(p)


@st.composite
def near_ts(draw):
    n_dims = draw(st.integers(1, 2))
    labelled = draw(st.booleans())
    header = ["@problemName toy", f"@univariate {'true' if n_dims == 1 else 'false'}",
              f"@dimensions {n_dims}", "@equalLength false", "@missing true", "@timeStamps false",
              "@classLabel true a b" if labelled else "@classLabel false", "@data"]
    if draw(st.booleans()):
        header.insert(draw(st.integers(0, len(header))),
                      draw(st.sampled_from(["# note", "@classLabel", "@targetLabel true", "@seriesLength x",
                                            "@dimensions 3", "", "@timeStamps true", "@univariate maybe"])))
    if draw(st.integers(0, 5)) == 0:
        header.remove("@data")
    cases = []
    for _ in range(draw(st.integers(0, 8))):
        length = draw(st.integers(1, 8))
        dims = [draw(st.lists(_numbers, min_size=length, max_size=length)) for _ in range(n_dims)]
        if draw(st.integers(0, 3)) == 0:
            dims = draw(mutate(dims))
        parts = [",".join(d) for d in dims]
        if labelled:
            parts.append(draw(st.sampled_from(["a", "b", "a", "b", "c", ""])))
        cases.append(":".join(parts))
    return "\n".join(header + cases).encode("utf-8")


@SETTINGS
@given(content=near_ts(), nonfinite=st.sampled_from(["reject", "drop", "interpolate"]))
def test_near_valid_ts(folder, content, nonfinite):
    p = fresh(folder, ".ts")
    p.write_bytes(content)
    load_or_data_error(p, nonfinite=nonfinite)
    os.unlink(p)


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4),
       dtype=st.sampled_from(["f4", "f8", "i4", "u1", "?", "c8", "U3", "S2", "M8[s]"]),
       cut=st.integers(0, 400))
def test_near_valid_npy(folder, shape, dtype, cut):
    p = fresh(folder, ".npy")
    np.save(p, np.zeros(shape, dtype=dtype))
    data = p.read_bytes()
    if cut and cut < len(data):
        p.write_bytes(data[:cut])
    load_or_data_error(p)
    os.unlink(p)
