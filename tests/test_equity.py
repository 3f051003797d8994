"""Gini and Palma ratio of travel time, by eye and against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from bereikbaarheid.measures import equity


def test_equal_times_have_no_inequality():
    assert equity.gini(np.full(5, 600.0), np.ones(5)) == 0.0
    assert equity.palma(np.full(10, 600.0), np.ones(10)) == pytest.approx(0.25)


def test_gini_by_eye():
    # Two residents, one with 0 and one with 10 minutes: sum |xi - xj| = 2 * 10,
    # 2 * W^2 * mean = 2 * 4 * 5 = 40, so G = 0.5.
    assert equity.gini(np.array([0.0, 600.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    # A cell of 3 residents counts as 3 cells of 1.
    a = equity.gini(np.array([60.0, 600.0]), np.array([3.0, 1.0]))
    b = equity.gini(np.array([60.0, 60.0, 60.0, 600.0]), np.ones(4))
    assert a == pytest.approx(b)


def test_palma_by_eye():
    # Ten residents with times 1..10: top 10 % holds 10, bottom 40 % holds 1+2+3+4.
    x = np.arange(1.0, 11.0)
    assert equity.palma(x, np.ones(10)) == pytest.approx(10 / 10)
    # One cell of 10 residents straddles both marks: top = 0.1 * 10 * t, bottom = 0.4 * 10 * t.
    assert equity.palma(np.array([300.0]), np.array([10.0])) == pytest.approx(0.25)


def test_missing_and_unweighted_entries_do_not_count():
    x = np.array([0.0, 600.0, np.nan, np.inf, 5.0])
    w = np.array([1.0, 1.0, 5.0, 5.0, 0.0])
    assert equity.gini(x, w) == pytest.approx(0.5)
    assert np.isnan(equity.gini(np.array([np.nan]), np.array([1.0])))
    assert np.isnan(equity.palma(np.array([0.0, 0.0]), np.ones(2)))


@hsettings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 7200), st.integers(1, 50)), min_size=1, max_size=30))
def test_gini_equals_the_double_sum_over_residents(cells):
    x = np.array([c[0] for c in cells])
    w = np.array([c[1] for c in cells], np.float64)
    if np.dot(x, w) == 0:
        return
    diff = np.abs(x[:, None] - x[None, :])
    expected = (w[:, None] * w[None, :] * diff).sum() / (2 * w.sum() ** 2 * np.dot(x, w) / w.sum())
    assert equity.gini(x, w) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@hsettings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 7200), st.integers(1, 20)), min_size=1, max_size=30))
def test_palma_equals_the_ratio_over_expanded_residents(cells):
    # Expand every cell into its residents, ten "slices" per resident, so the
    # 40 % and 90 % marks fall on slice boundaries.
    x = np.repeat([c[0] for c in cells], [10 * c[1] for c in cells])
    x = np.sort(x)
    n = len(x)
    bottom, top = x[: round(0.4 * n)].sum(), x[round(0.9 * n):].sum()
    w = np.array([c[1] for c in cells], np.float64)
    got = equity.palma(np.array([c[0] for c in cells]), w)
    assert got == pytest.approx(top / bottom, rel=1e-9)


# Values with ties, missing values and zero weights, in cells spread over areas.
_cells = st.lists(st.tuples(st.sampled_from([np.nan, np.inf, 0.0, 60.0, 60.0, 90.5, 600.0]),
                            st.sampled_from([0.0, 0.0, 1.0, 2.5, 7.0, np.nan]),
                            st.integers(0, 3), st.booleans()), max_size=40)


def _bits(v: float) -> int:
    return int(np.float64(v).view(np.int64))


@hsettings(max_examples=200, deadline=None)
@given(_cells)
def test_presorted_statistics_equal_the_unsorted_ones_to_the_bit(cells):
    x = np.array([c[0] for c in cells], np.float64)
    w = np.array([c[1] for c in cells], np.float64)
    xs, ws = equity.sorted_valid(x, w)
    assert _bits(equity.gini(xs, ws, presorted=True)) == _bits(equity.gini(x, w))
    assert _bits(equity.palma(xs, ws, presorted=True)) == _bits(equity.palma(x, w))
    finite = np.isfinite(x) & np.isfinite(w)
    for q in (0.5, 0.9):
        assert _bits(equity.weighted_quantile(xs, ws, q, presorted=True)) == _bits(
            equity.weighted_quantile(x[finite], w[finite], q))


@hsettings(max_examples=200, deadline=None)
@given(_cells)
def test_sorted_by_area_equals_sorting_each_area_alone(cells):
    import pandas as pd

    from bereikbaarheid.measures import areas

    x = np.array([c[0] for c in cells], np.float64)
    w = np.array([c[1] for c in cells], np.float64)
    code = [f"GM{c[2]:04d}" for c in cells]
    keep = np.array([c[3] for c in cells], bool)
    table = pd.DataFrame({"municipality_code": code, "municipality_name": code})
    area_list = areas.areas(table, "R", "region")
    assert [a[1] for a in area_list] == ["R", *sorted(set(code))]
    for given_keep in (None, keep):
        got = areas.sorted_by_area(x, w, area_list, given_keep)
        assert len(got) == len(area_list)
        for (_, _, _, cells_at), (gx, gw) in zip(area_list, got):
            k = np.ones(len(x), bool) if given_keep is None else given_keep
            wx, ww = equity.sorted_valid(x[cells_at][k[cells_at]], w[cells_at][k[cells_at]])
            np.testing.assert_array_equal(gx, wx)
            np.testing.assert_array_equal(gw, ww)
