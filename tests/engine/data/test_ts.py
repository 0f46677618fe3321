"""engine.data.ts: comments, form feeds, float32 range, early refusal of huge cases, preview."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.data import DataError, load_sequences, preview

from .helpers import load_error

HEADER = "@problemName toy\n@univariate true\n@classLabel true a b\n@data\n"


def test_form_feed_in_a_comment_keeps_the_file_and_its_line_numbers(tmp_path):
    p = tmp_path / "ff.ts"
    p.write_text("# exported\x0cpage two of the notes\n" + HEADER + "1,2,3:a\n3,2,1:b\n1,x,2:a\n")
    assert "ff.ts, line 8: 'x' is not a number" in load_error(p)
    p.write_text("# exported\x0cpage two\n" + HEADER + "1,2,3:a\n3,2,1:b\n")
    assert load_sequences(p).n_sequences == 2


def test_percent_comment_lines_are_comments(tmp_path):
    p = tmp_path / "aeon.ts"
    p.write_text("% aeon sample file\n%\n" + HEADER + "% a comment between cases\n1,2,3:a\n3,2,1:b\n")
    ds = load_sequences(p)
    assert ds.n_sequences == 2 and ds.class_names == ["a", "b"]


@pytest.mark.parametrize("value", ["1e39", "-3.5e38"])
def test_values_beyond_float32_are_refused_not_turned_into_inf(tmp_path, value):
    p = tmp_path / "big.ts"
    p.write_text(HEADER + f"1,2,3:a\n3,{value},1:b\n")
    msg = load_error(p)
    assert "big.ts, line 6:" in msg and "at step 2 is too large for float32" in msg
    ds = load_sequences(p, nonfinite="interpolate")
    assert np.isfinite(ds.sequences[1]).all()


def test_preview_shows_the_first_cases(tmp_path):
    p = tmp_path / "cases.ts"
    comments = "".join(f"# comment line {i}\n" for i in range(30))
    cases = "".join(f"{i},{i + 1},{i + 2}:{'ab'[i % 2]}\n" for i in range(40))
    p.write_text(comments + HEADER + cases)
    head = preview(p, rows=5).head.splitlines()
    assert "@data" in head and head[-5:] == [f"{i},{i + 1},{i + 2}:{'ab'[i % 2]}" for i in range(5)]
    assert not any(line.startswith("#") for line in head)


def test_preview_cuts_a_long_case(tmp_path):
    p = tmp_path / "long.ts"
    p.write_text(HEADER + ",".join(["1.5"] * 5000) + ":a\n" + "1,2:b\n")
    head = preview(p).head.splitlines()
    assert head[-2].endswith(" ...") and len(head[-2]) < 200 and head[-1] == "1,2:b"


def test_case_over_max_length_is_refused_with_its_line(tmp_path):
    p = tmp_path / "huge.ts"
    with open(p, "w") as f:                        # 3 MB case: longer than one read piece
        f.write(HEADER + "1,2,3:a\n")
        f.write(",".join(["0.25"] * 700_000) + ":b\n")
    msg = load_error(p, max_length=100_000)
    assert "huge.ts, line 6: case has 700,000 values in one dimension, over the limit of 100,000 steps" in msg
    assert load_sequences(p).lengths.tolist() == [3, 700_000]


def test_utf16_and_old_mac_line_endings(tmp_path):
    text = HEADER + "1,2,3:a\n3,2,1:b\n"
    p = tmp_path / "u16.ts"
    p.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    assert load_sequences(p).n_sequences == 2
    p = tmp_path / "mac.ts"
    p.write_bytes(text.replace("\n", "\r").encode())
    assert load_sequences(p).n_sequences == 2


values = st.lists(st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), st.just("?")), min_size=1,
                  max_size=12)


@settings(max_examples=60, deadline=None)
@given(cases=st.lists(st.tuples(values, st.sampled_from("ab")), min_size=2, max_size=6))
def test_ts_values_round_trip(tmp_path_factory, cases):
    p = tmp_path_factory.mktemp("ts") / "prop.ts"
    lines = [",".join(v if v == "?" else repr(float(v)) for v in vs) + ":" + label for vs, label in cases]
    p.write_text(HEADER + "\n".join(lines) + "\n")
    try:
        ds = load_sequences(p, task="forecast", nonfinite="drop")
    except DataError as exc:
        assert str(exc).startswith("prop.ts")
        return
    for seq, (vs, _) in zip(ds.sequences, [c for c in cases if any(v != "?" for v in c[0])]):
        expected = np.array([v for v in vs if v != "?"], dtype=np.float32)
        np.testing.assert_array_equal(seq[:, 0], expected)
