"""engine.data: sktime .ts, NumPy .npy/.npz, several files at once, preview."""

import numpy as np
import pytest

from engine.data import DataError, load_sequences, preview

TS_UNIVARIATE = """# A comment
@problemName Toy
@timeStamps false
@missing true
@univariate true
@equalLength false
@classLabel true up down
@data
1.0,2.0,3.0,4.0:up
4.0,3.0,2.0:down
1,?,3,4,5:up
5,4,3,?,?:down
"""

TS_MULTIVARIATE = """@problemName Motion
@univariate false
@dimensions 2
@equalLength true
@seriesLength 3
@classLabel true 1 2
@data
1,2,3:10,20,30:1
3,2,1:30,20,10:2
1,1,1:5,5,5:1
"""


def test_ts_univariate_variable_length_missing_and_labels(tmp_path):
    p = tmp_path / "toy.ts"
    p.write_text(TS_UNIVARIATE)
    with pytest.raises(DataError, match=r"toy.ts, line 11: missing or NaN value"):
        load_sequences(p)    # the interior '?' in line 11
    ds = load_sequences(p, nonfinite="interpolate")
    assert ds.task == "classify_sequence" and ds.format == "ts"
    assert ds.class_names == ["up", "down"] and ds.labels.tolist() == [0, 1, 0, 1]
    assert list(ds.lengths) == [4, 3, 5, 3]       # trailing '?' is padding, trimmed
    np.testing.assert_allclose(ds.sequences[2][:, 0], [1, 2, 3, 4, 5])


def test_ts_multivariate(tmp_path):
    p = tmp_path / "motion.ts"
    p.write_text(TS_MULTIVARIATE)
    ds = load_sequences(p)
    assert ds.n_features == 2 and ds.feature_names == ["dim1", "dim2"]
    np.testing.assert_allclose(ds.sequences[1], [[3, 30], [2, 20], [1, 10]])
    assert ds.class_names == ["1", "2"] and ds.labels.tolist() == [0, 1, 0]


@pytest.mark.parametrize("body, message", [
    ("@problemName x\n@classLabel true a b\n1,2,3:a\n", "expected a header tag"),
    ("@problemName x\n@classLabel true a b\n", "no @data"),
    ("@classLabel true a b\n@data\n1,2,3:c\n", "not declared in @classLabel"),
    ("@classLabel true a b\n@data\n1,x,3:a\n", "'x' is not a number"),
    ("@dimensions 2\n@classLabel true a b\n@data\n1,2,3:a\n", "1 dimension"),
    ("@classLabel true a b\n@data\n1,2:1,2,3:a\n", "different lengths"),
    ("@targetLabel true\n@data\n1,2,3:0.5\n", "regression"),
    ("@classLabel maybe\n@data\n1,2:a\n", "true or false"),
])
def test_ts_bad_input(tmp_path, body, message):
    p = tmp_path / "bad.ts"
    p.write_text(body)
    with pytest.raises(DataError, match=message) as err:
        load_sequences(p)
    assert str(err.value).startswith("bad.ts")


def test_npy_shapes(tmp_path):
    for shape, n, width in (((20,), 1, 1), ((20, 3), 1, 3), ((4, 20, 2), 4, 2)):
        p = tmp_path / f"a{len(shape)}.npy"
        np.save(p, np.arange(np.prod(shape), dtype=np.float64).reshape(shape))
        ds = load_sequences(p)
        assert ds.n_sequences == n and ds.n_features == width and ds.task == "forecast"
        assert ds.format == "npy"


def test_npz_with_labels_lengths_and_names(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 10, 2))
    p = tmp_path / "set.npz"
    np.savez(p, X=X, y=np.array([0, 1, 2, 0, 1, 2]), lengths=np.array([10, 9, 8, 7, 6, 5]),
             feature_names=np.array(["a", "b"]), class_names=np.array(["cat", "dog", "eel"]))
    ds = load_sequences(p)
    assert ds.task == "classify_sequence" and ds.class_names == ["cat", "dog", "eel"]
    assert list(ds.lengths) == [10, 9, 8, 7, 6, 5] and ds.feature_names == ["a", "b"]
    np.testing.assert_allclose(ds.sequences[3], X[3, :7], rtol=1e-6)
    q = tmp_path / "strings.npz"
    np.savez(q, X=X[:, :, 0], y=np.array(["a", "b", "a", "b", "a", "b"]))
    ds = load_sequences(q)     # 2-D X with one label per row: rows are univariate sequences
    assert ds.n_sequences == 6 and ds.n_features == 1 and ds.class_names == ["a", "b"]


@pytest.mark.parametrize("y, message", [
    (np.array([0.5, 1.0, 2.0]), "not an integer"),
    (np.array([1 + 2j, 1, 1]), "integers or strings"),
    (np.zeros((3, 2), dtype=int), "one label per sequence"),
])
def test_npz_bad_labels(tmp_path, y, message):
    p = tmp_path / "bad.npz"
    np.savez(p, X=np.zeros((3, 5, 1)), y=y)
    with pytest.raises(DataError, match=message):
        load_sequences(p)


def test_npz_without_x(tmp_path):
    p = tmp_path / "k.npz"
    np.savez(p, a=np.zeros(3), b=np.zeros(3))
    with pytest.raises(DataError, match="no array named 'X'.*numpy.savez"):
        load_sequences(p)


def test_several_files_each_a_sequence_with_folder_labels(tmp_path):
    for cls in ("walk", "run"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            (tmp_path / cls / f"{i}.csv").write_text("ax,ay\n" + "".join(f"{i + k},{k}\n" for k in range(5 + i)))
    paths = sorted(tmp_path.glob("*/*.csv"))
    ds = load_sequences(paths)
    assert ds.n_sequences == 6 and ds.task == "forecast" and ds.feature_names == ["ax", "ay"]
    labelled = load_sequences(paths, label_from_folder=True)
    assert labelled.task == "classify_sequence" and labelled.class_names == ["run", "walk"]
    assert labelled.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert len(labelled.source_paths) == 6
    appended = load_sequences(paths, multi_file="append")
    assert appended.n_sequences == 1 and appended.lengths[0] == sum(5 + i for i in range(3)) * 2


def test_several_files_schema_mismatch(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (tmp_path / "b.csv").write_text("x,y,z\n1,2,3\n3,4,5\n")
    with pytest.raises(DataError, match=r"b.csv: has 3 feature column\(s\) but a.csv has 2"):
        load_sequences([tmp_path / "a.csv", tmp_path / "b.csv"])
    (tmp_path / "c.txt").write_text("some words here\n")
    with pytest.raises(DataError, match="text"):
        load_sequences([tmp_path / "a.csv", tmp_path / "c.txt"])


def test_several_text_files_share_one_vocabulary(tmp_path):
    (tmp_path / "a.txt").write_text("abab\n")
    (tmp_path / "b.txt").write_text("cdcd\n")
    ds = load_sequences([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert ds.n_sequences == 2 and ds.vocabulary == ["\n", "a", "b", "c", "d"]
    joined = load_sequences([tmp_path / "a.txt", tmp_path / "b.txt"], multi_file="append")
    assert joined.n_sequences == 1 and joined.lengths[0] == 10


def test_preview_reports_format_task_counts(tmp_path):
    p = tmp_path / "w_TRAIN.tsv"
    rng = np.random.default_rng(0)
    p.write_text("".join(f"{c}\t" + "\t".join(f"{v:.2f}" for v in rng.normal(size=8)) + "\n"
                         for c in [1, 2] * 8))
    pv = preview(p, rows=3)
    assert pv.format == "ucr" and pv.task == "classify_sequence" and pv.n_sequences == 16
    assert pv.min_length == pv.max_length == 8 and pv.class_names == ["1", "2"]
    assert len(pv.head.splitlines()) == 3 and pv.head.startswith("1\t")
    assert pv.dataset is not None and pv.dataset.n_sequences == 16
    assert "classify_sequence" in pv.describe()
    q = tmp_path / "arr.npy"
    np.save(q, np.zeros((3, 4, 2)))
    pq = preview(q)
    assert "(3, 4, 2)" in pq.head and pq.n_sequences == 3
