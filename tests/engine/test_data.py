"""engine.data loaders on small fixtures written by the tests themselves."""

import hashlib
import os

import numpy as np
import pytest

from engine.data import TASKS, DataError, SequenceDataset, load_sequences, preview


def write(path, content, mode="w", encoding="utf-8"):
    if "b" in mode:
        path.write_bytes(content)
    else:
        path.write_text(content, encoding=encoding, newline="")
    return path


# ---------------------------------------------------------------------------------------- CSV
def test_univariate_csv_without_header_is_one_forecast_series(tmp_path):
    p = write(tmp_path / "series.csv", "\n".join(str(v) for v in [1.5, 2.0, 3.25, 4.0, 5.0]) + "\n")
    ds = load_sequences(p)
    assert ds.task == "forecast"
    assert ds.n_sequences == 1
    assert ds.sequences[0].dtype == np.float32
    np.testing.assert_allclose(ds.sequences[0][:, 0], [1.5, 2.0, 3.25, 4.0, 5.0])
    assert ds.feature_names == ["value"] and ds.target_names == ["value"]
    assert ds.labels is None and ds.n_outputs == 1 and ds.name == "series"


def test_multivariate_csv_with_header_date_column_and_target(tmp_path):
    p = write(tmp_path / "weather.csv",
              "date,temp,pressure,humidity\n"
              "2020-01-01,1.0,1000,0.5\n2020-01-02,2.0,1001,0.6\n2020-01-03,3.0,1002,0.7\n"
              "2020-01-04,4.0,1003,0.8\n")
    ds = load_sequences(p, target_column="pressure")
    assert ds.feature_names == ["temp", "pressure", "humidity"]
    assert ds.target_names == ["pressure"] and ds.n_outputs == 1 and ds.n_features == 3
    assert ds.sequences[0].shape == (4, 3)
    np.testing.assert_allclose(ds.sequences[0][:, 1], [1000, 1001, 1002, 1003])
    assert load_sequences(p, target_column=2).target_names == ["humidity"]
    pv = preview(p)
    assert pv.index_column == "date" and pv.has_header and pv.delimiter == ","
    assert pv.head.splitlines()[0] == "date,temp,pressure,humidity"


@pytest.mark.parametrize("sep", ["\t", ";", "|", "   "])
def test_delimiters_are_sniffed(tmp_path, sep):
    rows = [[i, i * 0.5] for i in range(1, 8)]
    text = "\n".join(sep.join(f"{v:g}" for v in r[::-1]) for r in rows) + "\n"
    ds = load_sequences(write(tmp_path / "d.dat", text))
    assert ds.sequences[0].shape == (7, 2)
    np.testing.assert_allclose(ds.sequences[0][:, 1], np.arange(1, 8))


def test_numeric_index_column_is_not_a_feature(tmp_path):
    p = write(tmp_path / "idx.csv", "".join(f"{i},{np.sin(i):.5f},{np.cos(i):.5f}\n" for i in range(10)))
    ds = load_sequences(p)
    assert ds.n_features == 2
    np.testing.assert_allclose(ds.sequences[0][:, 0], np.sin(np.arange(10)), atol=1e-5)


def test_rows_layout_detected_and_forced(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(5, 30))
    p = write(tmp_path / "many.csv", "\n".join(",".join(f"{v:.4f}" for v in r) for r in data) + "\n")
    ds = load_sequences(p)
    assert ds.n_sequences == 5 and list(ds.lengths) == [30] * 5 and ds.task == "forecast"
    small = write(tmp_path / "small.csv", "1,2,3\n4,5,6\n")
    assert load_sequences(small).n_sequences == 1
    rows = load_sequences(small, layout="rows")
    assert rows.n_sequences == 2 and rows.sequences[1][:, 0].tolist() == [4, 5, 6]


def test_rows_layout_nan_padding_gives_variable_lengths(tmp_path):
    lines = [",".join(["1"] * 25), ",".join(["2"] * 20 + ["NaN"] * 5), ",".join(["3"] * 22 + [""] * 3)]
    ds = load_sequences(write(tmp_path / "pad.csv", "\n".join(lines) + "\n"), layout="rows")
    assert list(ds.lengths) == [25, 20, 22]


def test_quoted_fields_bom_crlf_and_comments(tmp_path):
    p = write(tmp_path / "q.csv", b'\xef\xbb\xbf# exported\r\n"a","b"\r\n"1","2"\r\n"3","4"\r\n\r\n"5","6"\r\n',
              mode="wb")
    ds = load_sequences(p)
    assert ds.feature_names == ["a", "b"]
    np.testing.assert_allclose(ds.sequences[0], [[1, 2], [3, 4], [5, 6]])


def test_skip_non_numeric_rows_is_reported(tmp_path):
    p = write(tmp_path / "sunspots.csv", "year,value\n1700,5\n1701,11\n1702,n/a\n1703,23\n1704,36\n")
    with pytest.raises(DataError) as err:
        load_sequences(p)
    msg = str(err.value)
    assert "sunspots.csv, line 4" in msg and "'n/a' is not a number" in msg and "column 'value'" in msg
    assert "skip_non_numeric=True" in msg
    assert err.value.render("dialog").endswith('remove it, or tick "skip non-numeric rows"')
    assert err.value.render("cli").endswith("remove it, or pass --skip-non-numeric")
    ds = load_sequences(p, skip_non_numeric=True)
    assert ds.sequences[0][:, 0].tolist() == [5, 11, 23, 36]
    assert any("skipped 1 row" in n and "line 4" in n for n in ds.notes)


def test_nonfinite_reject_drop_interpolate(tmp_path):
    p = write(tmp_path / "gaps.csv", "x\n1\n2\nnan\n4\ninf\n6\n")
    with pytest.raises(DataError) as err:
        load_sequences(p)
    assert "gaps.csv, line 4" in str(err.value) and "interpolate" in str(err.value)
    dropped = load_sequences(p, nonfinite="drop")
    assert dropped.sequences[0][:, 0].tolist() == [1, 2, 4, 6]
    assert any("dropped 2" in n for n in dropped.notes)
    interp = load_sequences(p, nonfinite="interpolate")
    np.testing.assert_allclose(interp.sequences[0][:, 0], [1, 2, 3, 4, 5, 6])
    assert any("interpolated 2" in n for n in interp.notes)


def test_loading_never_modifies_the_file(tmp_path):
    p = write(tmp_path / "keep.csv", "a,b\n1,2\n3,4\n5,6\n")
    before = (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns)
    load_sequences(p)
    preview(p)
    assert (hashlib.sha256(p.read_bytes()).hexdigest(), os.stat(p).st_mtime_ns) == before


# ---------------------------------------------------------------------------------------- UCR
def _ucr_text(labels, rng, length=12, sep="\t"):
    return "".join(f"{lab}{sep}" + sep.join(f"{v:.3f}" for v in rng.normal(size=length)) + "\n" for lab in labels)


def test_ucr_layout_classification(tmp_path):
    rng = np.random.default_rng(0)
    p = write(tmp_path / "Coffee_TRAIN.tsv", _ucr_text([1, 2, 2, 1, 3, 3], rng))
    ds = load_sequences(p)
    assert ds.task == "classify_sequence" and ds.format == "ucr"
    assert ds.class_names == ["1", "2", "3"] and ds.labels.tolist() == [0, 1, 1, 0, 2, 2]
    assert ds.labels.dtype == np.int64 and ds.n_outputs == 3 and list(ds.lengths) == [12] * 6


def test_ucr_string_labels_and_float_integer_labels(tmp_path):
    rng = np.random.default_rng(1)
    p = write(tmp_path / "ecg.csv", _ucr_text(["normal", "abnormal", "normal"], rng, sep=","))
    ds = load_sequences(p)
    assert ds.class_names == ["abnormal", "normal"] and ds.labels.tolist() == [1, 0, 1]
    q = write(tmp_path / "x_TEST.txt", _ucr_text(["1.0000000e+00", "-1.0000000e+00"], rng, sep="  "))
    ds = load_sequences(q)
    assert ds.class_names == ["-1", "1"] and ds.labels.tolist() == [1, 0]


def test_ucr_bad_label_is_reported(tmp_path):
    rng = np.random.default_rng(2)
    p = write(tmp_path / "bad_TRAIN.tsv", _ucr_text([1, 2.5, 1], rng))
    with pytest.raises(DataError, match=r"bad_TRAIN.tsv, line 2: class label '2.5' is not an integer"):
        load_sequences(p)


def test_one_class_only_is_an_error(tmp_path):
    rng = np.random.default_rng(3)
    p = write(tmp_path / "one_TRAIN.tsv", _ucr_text([4, 4, 4], rng))
    with pytest.raises(DataError, match="only one class"):
        load_sequences(p)
    assert load_sequences(p, task="forecast").task == "forecast"


# ---------------------------------------------------------------------------------------- text
def test_text_utf8_vocabulary_and_ids(tmp_path):
    p = write(tmp_path / "poem.txt", "héllo wörld\nhello\n")
    ds = load_sequences(p)
    assert ds.task == "next_token" and ds.is_text and ds.feature_names == []
    text = "".join(ds.vocabulary[i] for i in ds.sequences[0])
    assert text == "héllo wörld\nhello\n"
    assert ds.vocabulary == sorted(set(text)) and ds.sequences[0].dtype == np.uint16  # 2 bytes a character
    assert ds.n_features == ds.n_outputs == len(ds.vocabulary)


def test_text_latin1_fallback_bom_and_crlf(tmp_path):
    latin = write(tmp_path / "latin.txt", "caf\xe9 na\xefve\r\n".encode("latin-1") * 3, mode="wb")
    ds = load_sequences(latin)
    assert "é" in ds.vocabulary and "\r" not in ds.vocabulary
    assert any("decoded as" in n for n in ds.notes)
    bom = write(tmp_path / "bom.txt", b"\xef\xbb\xbfabcabc", mode="wb")
    assert load_sequences(bom).vocabulary == ["a", "b", "c"]


def test_text_rare_character_cap(tmp_path):
    p = write(tmp_path / "rare.txt", "a" * 50 + "b" * 30 + "c" * 20 + "xyz")
    ds = load_sequences(p, max_vocab=4)
    assert ds.vocabulary == ["a", "b", "c", "<unk>"]
    unk = ds.vocabulary.index("<unk>")
    assert (ds.sequences[0][-3:] == unk).all() and (ds.sequences[0][:100] != unk).all()
    assert any("<unk>" in n for n in ds.notes)


def test_numeric_txt_is_a_table_not_text(tmp_path):
    p = write(tmp_path / "numbers.txt", "1.0 2.0\n3.0 4.0\n5.0 6.0\n")
    assert load_sequences(p).task == "forecast"
    assert load_sequences(p, format="text").task == "next_token"


# ---------------------------------------------------------------------------------------- dataset
def test_with_task_and_summary(tmp_path):
    rng = np.random.default_rng(4)
    ds = load_sequences(write(tmp_path / "w_TRAIN.tsv", _ucr_text([1, 2, 1, 2], rng)))
    fc = ds.with_task("forecast")
    assert fc.labels is None and fc.task == "forecast"
    back = fc.with_task("classify_sequence")
    assert back.labels.tolist() == ds.labels.tolist()
    s = ds.summary()
    assert s["sequences"] == 4 and s["task"] == "classify_sequence" and s["classes"] == ["1", "2"]
    assert s["class_counts"] == {"1": 2, "2": 2} and s["min_length"] == s["max_length"] == 12
    with pytest.raises(DataError):
        ds.with_task("next_token")
    assert set(TASKS) == {"classify_sequence", "next_token", "forecast"}


def test_dataset_can_be_built_directly():
    ds = SequenceDataset(sequences=[np.arange(5.0), np.arange(7.0)], task="forecast")
    assert ds.n_features == 1 and ds.sequences[0].shape == (5, 1) and ds.sequences[0].dtype == np.float32
    assert issubclass(DataError, ValueError)


def test_with_targets_by_name_or_index():
    ds = SequenceDataset(sequences=[np.zeros((5, 3))], feature_names=["a", "b", "c"], task="forecast")
    assert ds.with_targets("b").target_names == ["b"]
    assert ds.with_targets([2, -3]).target_names == ["c", "a"]
    assert ds.with_targets(1).target_indices == [1]
    with pytest.raises(DataError, match="target column 3 is out of range"):
        ds.with_targets(3)
    with pytest.raises(DataError, match="target 'z' is not a feature"):
        ds.with_targets("z")


def test_explicit_csv_format_turns_off_the_ucr_guess(tmp_path):
    rng = np.random.default_rng(5)
    p = write(tmp_path / "Gun_TRAIN.tsv", _ucr_text([1, 2, 1, 2], rng))
    assert load_sequences(p).task == "classify_sequence"
    plain = load_sequences(p, format="csv")
    assert plain.task == "forecast" and plain.format == "csv"
    assert load_sequences(p, format="ucr").task == "classify_sequence"
