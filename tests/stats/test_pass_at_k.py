"""The unbiased estimator against exact enumeration, and a case worked by hand."""

from itertools import combinations
from math import comb

import pytest

from ekt_curate.stats.pass_at_k import mean_pass_at_k, pass_at_k


def brute_force(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of n samples (c of them passing) that contain a pass."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(samples[i] for i in subset) for subset in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 9))
def test_matches_enumeration_for_small_n(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_force(n, c, k), abs=1e-12), (n, c, k)


def test_hand_computed():
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # pass@1 is the pass rate
    assert pass_at_k(100, 37, 1) == pytest.approx(0.37)


def test_stable_where_binomials_overflow_floats():
    n, c, k = 2000, 3, 100
    exact = 1 - comb(n - c, k) / comb(n, k)  # exact with Python integers
    assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-12)


def test_k_larger_than_n_is_not_computable():
    assert pass_at_k(5, 5, 10) is None
    value, missing = mean_pass_at_k([(20, 1), (5, 2)], 10)
    assert value is None and missing == 1  # never silently averaged over the rest
    value, missing = mean_pass_at_k([(20, 1), (20, 0)], 10)
    assert value == pytest.approx((pass_at_k(20, 1, 10) + 0.0) / 2) and missing == 0


def test_bad_counts_are_errors():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
