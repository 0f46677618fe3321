"""engine.data.loading and engine.data.options: combining files, cheap previews, fixes named per front end."""

import numpy as np
import pytest

from engine.data import DataError, load_sequences, preview
from engine.data.errors import data_error
from engine.data.options import DEFAULTS, OPTIONS, Fix, render, render_fixes


# ------------------------------------------------------------------------------------ options
def test_every_option_has_one_declaration_with_its_front_end_names():
    assert set(DEFAULTS) == set(OPTIONS)
    for key in ("nonfinite", "delimiter", "has_header", "target_column", "skip_non_numeric", "layout"):
        assert OPTIONS[key].flag.startswith("--") and OPTIONS[key].label
    with pytest.raises(DataError, match="unknown loading option"):
        load_sequences("x.csv", nonfinte="drop")


def test_a_fix_is_named_as_each_front_end_names_it(tmp_path):
    p = tmp_path / "gaps.csv"
    p.write_text("v\n1.0\n2.0\n\n3.0\nnan\n5.0\n")
    with pytest.raises(DataError) as err:
        load_sequences(p)
    e = err.value
    assert e.fixes == (Fix("nonfinite", "drop"), Fix("nonfinite", "interpolate"))
    assert str(e) == render(e, "api") and str(e).endswith("pass nonfinite='drop' or nonfinite='interpolate'")
    assert e.render("cli").endswith("clean the file, or pass --nonfinite drop or --nonfinite interpolate")
    assert e.render("dialog").endswith('clean the file, or choose "drop" or "interpolate" for '
                                       '"missing / non-finite values"')
    assert e.render("cli").startswith("gaps.csv, line 6: missing or NaN value")
    assert load_sequences(p, **dict([e.fixes[1]])).lengths[0] == 5


def test_a_sequence_over_the_length_limit_names_the_limit_that_reads_it(tmp_path):
    """It said "pass a larger max_length", which the window had no control for: a dead end there."""
    p = tmp_path / "long.csv"
    p.write_text("v\n" + "".join(f"{i}.5\n" for i in range(150)))
    with pytest.raises(DataError) as err:
        load_sequences(p, max_length=100)
    e = err.value
    assert e.fixes == (Fix("max_length", 150),)
    assert e.render("cli").endswith("pass --max-length 150 or shorten the sequence")
    assert e.render("dialog").endswith('choose "150" for "maximum sequence length" or shorten the sequence')
    assert load_sequences(p, **dict(e.fixes)).lengths[0] == 150


def test_rendering_booleans_lists_and_plain_errors():
    assert render_fixes([Fix("has_header", False)], "cli") == "pass --no-header"
    assert render_fixes([Fix("has_header", True)], "dialog") == 'choose "yes" for "header row"'
    assert render_fixes([Fix("index_columns", [])], "cli") == "pass --index-columns none"
    assert render_fixes([Fix("delimiter", "\t")], "cli") == "pass --delimiter tab"
    assert render_fixes([Fix("delimiter", ";")], "cli") == "pass --delimiter ';'"
    plain = DataError("no files given; choose at least one file")
    assert render(plain, "cli") == str(plain) == plain.render("dialog")
    e = data_error("a.csv", "is odd", "{fix} to go on", line=3, fixes=[Fix("skip_non_numeric", True)])
    assert str(e) == "a.csv, line 3: is odd; pass skip_non_numeric=True to go on"
    assert e.render("dialog") == 'a.csv, line 3: is odd; tick "skip non-numeric rows" to go on'
    with pytest.raises(ValueError, match="unknown style"):
        render(e, "web")


# ----------------------------------------------------------------------------- several files
def _ucr(path, n: int, length: int, seed: int):
    rng = np.random.default_rng(seed)
    path.write_text("".join(f"{1 + k % 2}," + ",".join(f"{v:.3f}" for v in rng.normal(size=length)) + "\n"
                            for k in range(n)))
    return path


def test_two_different_ucr_datasets_are_not_merged_silently(tmp_path):
    a = _ucr(tmp_path / "GunPoint_TRAIN.csv", 6, 15, 0)
    b = _ucr(tmp_path / "ECG200_TRAIN.csv", 6, 9, 1)
    with pytest.raises(DataError) as err:
        load_sequences([a, b])
    assert "ECG200_TRAIN.csv: looks like another dataset than GunPoint_TRAIN.csv" in str(err.value)
    assert err.value.fixes == (Fix("multi_file", "merge"),)
    assert "--multi-file merge" in err.value.render("cli")
    with pytest.raises(DataError):
        preview([a, b])
    merged = load_sequences([a, b], multi_file="merge")
    assert merged.n_sequences == 12 and sorted(set(merged.lengths)) == [9, 15]


def test_train_and_test_of_one_dataset_still_combine(tmp_path):
    a = _ucr(tmp_path / "GunPoint_TRAIN.csv", 6, 15, 0)
    b = _ucr(tmp_path / "GunPoint_TEST.csv", 4, 15, 1)
    assert load_sequences([a, b]).n_sequences == 10
    c = _ucr(tmp_path / "GunPoint_TEST.tsv", 4, 12, 1)   # same name, other fixed length
    with pytest.raises(DataError, match="length 12"):
        load_sequences([a, c])


# --------------------------------------------------------------------------------- preview
def test_preview_reads_only_the_head_of_a_large_table(tmp_path):
    p = tmp_path / "large.csv"
    rng = np.random.default_rng(0)
    np.savetxt(p, rng.normal(size=(120_000, 3)), delimiter=",", fmt="%.6f", header="a,b,c", comments="")
    with open(p, "a") as f:
        f.write("1,2,oops\n")           # past the head: only the full load may see it
    pv = preview(p)
    assert pv.estimated and pv.dataset is None and pv.feature_names == ["a", "b", "c"]
    assert pv.n_sequences == 1 and abs(pv.max_length - 120_001) < 0.1 * 120_001
    assert "about" in pv.describe() and any("estimates" in n for n in pv.notes)
    with pytest.raises(DataError, match="line 120002: 'oops' is not a number"):
        load_sequences(p)


def test_preview_of_a_large_ucr_file_estimates_sequences(tmp_path):
    p = _ucr(tmp_path / "Big_TRAIN.tsv", 3000, 60, 0)
    pv = preview(p)
    assert pv.estimated and pv.task == "classify_sequence" and pv.class_names == ["1", "2"]
    assert abs(pv.n_sequences - 3000) < 300 and pv.min_length == pv.max_length == 60


def test_preview_of_a_small_file_is_the_full_load(tmp_path):
    p = tmp_path / "small.csv"
    p.write_text("a,b\n1,2\n3,4\n5,6\n")
    pv = preview(p)
    assert not pv.estimated and pv.dataset is not None and pv.n_sequences == 1 and pv.max_length == 3


def test_preview_of_a_large_text_reads_its_head(tmp_path):
    p = tmp_path / "book.txt"
    p.write_text("the quick brown fox jumps over the lazy dog\n" * 20_000 + "\x00\x01binary tail\n")
    pv = preview(p)
    assert pv.estimated and pv.dataset is None and pv.task == "next_token" and pv.format == "text"
    assert pv.vocabulary_size == 28 and abs(pv.max_length - 880_000) < 100_000
    assert "28 characters" in pv.describe()
    with pytest.raises(DataError, match="binary"):     # only the full load reads the tail
        load_sequences(p)


def test_a_too_short_sequence_of_several_files_names_its_file_and_its_number_there(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    a.write_text("0.1,0.2\n0.3,0.4\n0.2,0.1\n")
    b.write_text("0.5,0.6\n0.7,0.8\n")
    c.write_text("0.1,0.2\n")  # one step: a forecast needs two
    with pytest.raises(DataError) as err:
        load_sequences([str(a), str(b), str(c)])
    assert str(err.value).startswith("c.csv: sequence 1 has only 1 step(s)")
    assert err.value.path == str(c)
