"""BinMapper and _map_to_bins: codes must agree with the real thresholds trees store."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skext.tree._binning import BinMapper, _map_to_bins_naive
from skext.tree._types import MISSING_BIN

# --- reference --------------------------------------------------------------------------------


def test_hand_computed_edges_are_midpoints():
    X = np.array([[1.0], [2.0], [2.0], [4.0], [np.nan]])
    mapper = BinMapper().fit(X)
    np.testing.assert_array_equal(mapper.bin_thresholds_[0], [1.5, 3.0])
    np.testing.assert_array_equal(mapper.transform(X)[:, 0], [0, 1, 1, 2, MISSING_BIN])
    assert mapper.n_bins_[0] == 3
    assert mapper.missing_values_in_feature_[0]


@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 4)),
              elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))),
       st.integers(2, 255))
def test_kernel_matches_searchsorted(X, max_bins):
    mapper = BinMapper(max_bins=max_bins).fit(X)
    expected = _map_to_bins_naive(X, mapper.bin_thresholds_)
    np.testing.assert_array_equal(mapper.transform(X), expected)


# --- properties -------------------------------------------------------------------------------


@given(arrays(np.float64, st.tuples(st.integers(2, 300), st.just(1)),
              elements=st.floats(-1e3, 1e3)), st.integers(2, 20))
def test_codes_respect_thresholds_and_bin_count(X, max_bins):
    """code b <=> edges[b-1] < x <= edges[b]: what lets trees store real thresholds."""
    mapper = BinMapper(max_bins=max_bins).fit(X)
    codes = mapper.transform(X)[:, 0]
    edges = mapper.bin_thresholds_[0]
    assert mapper.n_bins_[0] <= max_bins
    assert np.all(np.diff(edges) > 0)
    for b in np.unique(codes):
        x = X[codes == b, 0]
        if b < len(edges):
            assert np.all(x <= edges[b])
        if b > 0:
            assert np.all(x > edges[b - 1])


def test_few_distinct_values_get_one_bin_each():
    X = np.repeat(np.arange(10.0), 7)[:, None]
    assert BinMapper(max_bins=255).fit(X).n_bins_[0] == 10


def test_constant_and_all_nan_features():
    X = np.column_stack([np.full(20, 3.0), np.full(20, np.nan)])
    mapper = BinMapper().fit(X)
    codes = mapper.transform(X)
    assert np.all(codes[:, 0] == 0)
    assert np.all(codes[:, 1] == MISSING_BIN)
    np.testing.assert_array_equal(mapper.n_bins_, [1, 1])


def test_zero_weight_rows_do_not_move_edges():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    extra = rng.normal(size=(10, 2)) * 100
    weights = np.r_[np.ones(50), np.zeros(10)]
    with_zero = BinMapper().fit(np.vstack([X, extra]), weights)
    without = BinMapper().fit(X)
    for a, b in zip(with_zero.bin_thresholds_, without.bin_thresholds_):
        np.testing.assert_array_equal(a, b)


def test_weighted_quantiles_follow_weights():
    """Heavy rows pull the quantile edges towards them."""
    X = np.arange(1000.0)[:, None]
    weights = np.where(X[:, 0] < 100, 100.0, 1.0)
    edges = BinMapper(max_bins=10).fit(X, weights).bin_thresholds_[0]
    assert np.sum(edges < 100) >= 8


def test_subsample_caps_rows_used():
    X = np.random.default_rng(0).normal(size=(5000, 1))
    a = BinMapper(max_bins=16, subsample=1000, random_state=0).fit(X)
    b = BinMapper(max_bins=16, subsample=1000, random_state=0).fit(X)
    np.testing.assert_array_equal(a.bin_thresholds_[0], b.bin_thresholds_[0])
    assert a.n_bins_[0] == 16


def test_threads_and_unit_weights_do_not_change_edges():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 5))
    X[rng.random(X.shape) < 0.05] = np.nan
    X[:, 2] = np.round(X[:, 2], 1)
    reference = BinMapper(max_bins=63).fit(X)
    for mapper in (BinMapper(max_bins=63, n_threads=3).fit(X),
                   BinMapper(max_bins=63).fit(X, np.ones(len(X))),
                   BinMapper(max_bins=63).fit(X, np.full(len(X), 0.25))):
        np.testing.assert_array_equal(mapper.edges_, reference.edges_)
        np.testing.assert_array_equal(mapper.representatives_, reference.representatives_)


def test_invalid_max_bins():
    with pytest.raises(ValueError, match="max_bins"):
        BinMapper(max_bins=256).fit(np.zeros((3, 1)))
