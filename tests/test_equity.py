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
