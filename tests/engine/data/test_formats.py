"""engine.data.formats: the shared float32 cast refuses values that would become inf."""

import numpy as np
import pytest

from engine.data import DataError
from engine.data.formats import clean_nonfinite, to_float32_checked

from .helpers import load_error


def test_rows_and_ucr_tables_refuse_values_beyond_float32(tmp_path):
    ucr = tmp_path / "Big_TRAIN.tsv"
    ucr.write_text("1\t0.5\t1.5\t2.5\n2\t1.0\t1e39\t3.0\n1\t0.1\t0.2\t0.3\n")
    assert "line 2" in load_error(ucr) and "too large for float32" in load_error(ucr)
    rows = tmp_path / "rows.csv"
    rows.write_text("\n".join(",".join(["1.5"] * 25) for _ in range(3)) + "\n" + ",".join(["2e39"] * 25) + "\n")
    assert "too large for float32" in load_error(rows, layout="rows")


def test_cast_is_checked_after_the_cast():
    locate = lambda t, j: (7, f"(column {j})")        # noqa: E731
    with pytest.raises(DataError, match=r"x.csv, line 7: 1e\+39 \(column 1\) is too large for float32"):
        to_float32_checked(np.array([[1.0, 2.0], [3.0, 1e39]]), "x.csv", locate)
    out = clean_nonfinite(np.array([[1.0], [1e300], [3.0]]), "interpolate", "x.csv", locate, counts := {})
    assert out.dtype == np.float32 and out[:, 0].tolist() == [1.0, 2.0, 3.0] and counts["interpolated"] == 1
    assert to_float32_checked(np.array([np.inf]), "x", locate).tolist() == [np.inf]   # inf is the policy's job
