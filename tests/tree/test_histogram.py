"""Histogram kernels against np.add.at, and the identities split search relies on."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skext.tree._histogram import (
    _build_feature_histogram_sparse,
    _build_histogram,
    _build_histogram_naive,
    _clear_touched,
    _present_bins,
    _subtract_histograms,
)
from skext.tree._types import MISSING_BIN, N_HIST_BINS


@st.composite
def binned_data(draw, max_rows=80):
    n = draw(st.integers(1, max_rows))
    d = draw(st.integers(1, 4))
    c = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_bins = draw(st.integers(1, 255))
    X = rng.integers(0, n_bins, size=(n, d)).astype(np.uint8)
    X[rng.random((n, d)) < 0.1] = MISSING_BIN
    stats = rng.normal(size=(n, c))
    return X, stats


def _fast(X, stats, rows, features):
    hist = np.zeros((len(features), N_HIST_BINS, 1 + stats.shape[1]))
    _build_histogram(np.ascontiguousarray(X[rows]), np.ascontiguousarray(stats[rows]), 0,
                     len(rows), features, hist)
    return hist

# --- reference --------------------------------------------------------------------------------


def test_hand_computed():
    X = np.array([[0], [2], [2], [MISSING_BIN]], dtype=np.uint8)
    stats = np.array([[1.0], [2.0], [3.0], [4.0]])
    hist = _fast(X, stats, np.arange(4), np.array([0], np.int32))
    assert hist[0, 0].tolist() == [1.0, 1.0]
    assert hist[0, 2].tolist() == [2.0, 5.0]
    assert hist[0, MISSING_BIN].tolist() == [1.0, 4.0]
    assert hist[0, 1].tolist() == [0.0, 0.0]


@given(binned_data())
def test_full_kernel_matches_naive(data):
    X, stats = data
    features = np.arange(X.shape[1], dtype=np.int32)
    rows = np.arange(len(X))
    np.testing.assert_allclose(_fast(X, stats, rows, features),
                               _build_histogram_naive(X, stats, rows, features), atol=1e-12)


@given(binned_data())
def test_sparse_kernel_matches_naive_and_clears(data):
    X, stats = data
    rows = np.arange(len(X))
    hist_f = np.zeros((N_HIST_BINS, 1 + stats.shape[1]))
    touched = np.empty(N_HIST_BINS, np.int32)
    for f in range(X.shape[1]):
        n_touched = _build_feature_histogram_sparse(X, stats, 0, len(X), f, hist_f, touched)
        expected = _build_histogram_naive(X, stats, rows, [f])[0]
        np.testing.assert_allclose(hist_f, expected, atol=1e-12)
        assert sorted(touched[:n_touched]) == sorted(np.unique(X[:, f]))
        codes = np.empty(N_HIST_BINS, np.int32)
        n_present, has_missing = _present_bins(hist_f, touched.copy(), n_touched, codes)
        present = np.unique(X[:, f][X[:, f] != MISSING_BIN])
        np.testing.assert_array_equal(codes[:n_present], present)
        assert has_missing == (X[:, f] == MISSING_BIN).any()
        _clear_touched(hist_f, touched, n_touched)
        assert not hist_f.any()

# --- properties -------------------------------------------------------------------------------


@given(binned_data())
def test_bin_sums_equal_totals(data):
    X, stats = data
    hist = _fast(X, stats, np.arange(len(X)), np.arange(X.shape[1], dtype=np.int32))
    for j in range(X.shape[1]):
        assert hist[j, :, 0].sum() == len(X)
        np.testing.assert_allclose(hist[j, :, 1:].sum(axis=0), stats.sum(axis=0), atol=1e-9)


@given(binned_data(), st.integers(0, 2**31 - 1))
def test_parent_minus_child_is_sibling(data, seed):
    X, stats = data
    features = np.arange(X.shape[1], dtype=np.int32)
    in_left = np.random.default_rng(seed).random(len(X)) < 0.5
    parent = _fast(X, stats, np.arange(len(X)), features)
    left = _fast(X, stats, np.flatnonzero(in_left), features)
    right = _fast(X, stats, np.flatnonzero(~in_left), features)
    sibling = np.empty_like(parent)
    _subtract_histograms(parent, left, sibling)
    np.testing.assert_allclose(sibling, right, atol=1e-9)
    np.testing.assert_array_equal(sibling[..., 0], right[..., 0])  # counts stay exact


@given(binned_data(), st.integers(0, 2**31 - 1))
def test_permutation_invariant(data, seed):
    X, stats = data
    features = np.arange(X.shape[1], dtype=np.int32)
    perm = np.random.default_rng(seed).permutation(len(X))
    np.testing.assert_allclose(_fast(X, stats, np.arange(len(X)), features),
                               _fast(X, stats, perm, features), atol=1e-9)


@given(binned_data(max_rows=30), st.integers(0, 2**31 - 1))
def test_weighted_equals_repeated_rows(data, seed):
    """Channels scaled by an integer weight == the row repeated that many times (count aside)."""
    X, stats = data
    features = np.arange(X.shape[1], dtype=np.int32)
    weights = np.random.default_rng(seed).integers(1, 4, len(X))
    weighted = _fast(X, stats * weights[:, None], np.arange(len(X)), features)
    repeated = _fast(X, stats, np.repeat(np.arange(len(X)), weights), features)
    np.testing.assert_allclose(weighted[..., 1:], repeated[..., 1:], atol=1e-9)
