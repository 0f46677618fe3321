"""engine.text_pattern: visible characters, label strides, select-by-pattern ranking."""
import numpy as np
import pytest

from engine.text_pattern import most_selective_unit, rank_units, tick_stride, visible_char


def test_visible_char_shows_whitespace_and_control_characters():
    assert [visible_char(c) for c in " \n\tab"] == ["␣", "↵", "⇥", "a", "b"]
    assert visible_char("\x01") == "\u2401"
    assert visible_char("<unk>") == "<unk>"


def test_tick_stride_keeps_labels_apart():
    assert tick_stride(10, 200, 15) == 1  # 20 px per step
    assert tick_stride(100, 200, 15) == 8  # 2 px per step: every 8th step, 16 px apart
    assert tick_stride(0, 200, 15) == 1


def test_rank_units_finds_the_unit_high_on_the_span_and_low_elsewhere():
    T, H = 20, 4
    a = np.zeros((T, H))
    a[5:8, 2] = 0.9  # unit 2: on the span only
    a[:, 1] = 0.9  # unit 1: high everywhere (not selective)
    a[5:8, 3] = 0.5
    a[12:, 3] = 0.5  # unit 3: on the span and elsewhere too
    ranked = rank_units(a, 5, 8)
    assert [s.unit for s in ranked] == [2, 3, 0, 1]
    assert ranked[0].score == pytest.approx(0.9)
    assert ranked[0].span_mean == pytest.approx(0.9) and ranked[0].rest_mean == pytest.approx(0.0)
    assert ranked[1].score == pytest.approx(0.5 - 0.5 * 8 / 17)
    assert [s.unit for s in rank_units(a, 5, 8, top=2)] == [2, 3]


def test_rank_units_ignores_nonfinite_and_checks_the_span():
    a = np.zeros((6, 2))
    a[1:3, 0] = 1.0
    a[4, 0] = np.nan  # left out of "elsewhere"
    a[1:3, 1] = np.nan  # no finite value on the span: last
    ranked = rank_units(a, 1, 3)
    assert [s.unit for s in ranked] == [0, 1]
    assert ranked[0].rest_mean == 0.0 and ranked[1].score == -np.inf
    with pytest.raises(ValueError, match="span"):
        rank_units(a, 3, 3)
    with pytest.raises(ValueError, match="span"):
        rank_units(a, 0, 7)


def test_most_selective_unit_is_the_widest_spread():
    a = np.zeros((10, 3))
    a[:, 0] = 0.8
    a[::2, 1] = 0.6
    a[::3, 2] = 0.1
    assert most_selective_unit(a) == 1
    # a unit that only moves while it leaves the zero start state is not selective
    b = np.zeros((40, 2))
    b[:, 0] = 1.0
    b[:3, 0] = [-1.0, 0.0, 0.5]
    b[::2, 1] = 0.3
    assert most_selective_unit(b) == 1
