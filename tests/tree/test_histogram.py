"""Histogram kernels against np.add.at, and the identities split search relies on."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skext.tree._histogram import (
    _ROW_BLOCK,
    _build_feature_histogram_sparse,
    _build_histogram,
    _build_histogram_naive,
    _build_histograms_rows,
    _clear_touched,
    _present_bins,
    _row_blocks,
    _scratch_blocks,
    _subtract_histograms,
)
from skext.tree._types import MISSING_BIN, N_HIST_BINS
from skext.utils._parallel import numba_threads


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
                     len(rows), features, hist, False, stats.shape[1])
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


def _gathered(X, stats, rows, features, counted, parallel, bounds=None, parents=None,
              pool=None):
    """Histograms of the nodes rows[lo:hi] (bounds; default: one node, all of rows) into
    slots 0.. of a pool (given, or a fresh one), as the grower's gather mode builds them."""
    slots = stats.shape[1] + (1 if counted else 0)
    bounds = np.array([[0, len(rows)]]) if bounds is None else np.asarray(bounds, np.int64)
    if pool is None:
        pool = np.full((len(bounds), len(features), N_HIST_BINS, slots), np.nan)
    parents = np.full(len(bounds), -1) if parents is None else np.asarray(parents, np.int64)
    scratch = np.full((_scratch_blocks(bounds), len(features), N_HIST_BINS, slots), np.nan)
    _build_histograms_rows(X, stats, rows, features, bounds, np.arange(len(bounds)), parents,
                           pool, scratch, parallel, 2, stats.shape[1], counted)
    return pool[:len(bounds)] if len(bounds) > 1 else pool[0]


@pytest.mark.parametrize("counted", [True, False])
@pytest.mark.parametrize("features", [None, [3, 0, 2], [0, 1, 2, 3, 4]])
def test_gather_kernel_matches_naive(counted, features):
    """The row-gather kernel over several blocks (and the direct path when the features are
    all columns in order), with and without the count slot, any thread count: the naive
    histogram, and the same bits serial or threaded."""
    rng = np.random.default_rng(0)
    n = 2 * _ROW_BLOCK + 77
    X = rng.integers(0, N_HIST_BINS, (n, 5)).astype(np.uint8)
    stats = np.column_stack([rng.normal(size=n), rng.random(n)])
    rows = np.sort(rng.choice(n, n - 500, replace=False)).astype(np.int32)
    features = np.arange(5, dtype=np.int32) if features is None else np.array(features, np.int32)
    expected = _build_histogram_naive(X, stats, rows, features)
    if not counted:
        expected = expected[..., 1:]
    serial = _gathered(X, stats, rows, features, counted, False)
    np.testing.assert_allclose(serial, expected, atol=1e-9)
    for n_jobs in (1, 2):
        with numba_threads(n_jobs):
            np.testing.assert_array_equal(_gathered(X, stats, rows, features, counted, True),
                                          serial)


@pytest.mark.parametrize("parallel", [False, True])
def test_gather_kernel_builds_several_nodes_and_their_siblings(parallel):
    """One call for a level's nodes (single-block and multi-block ones, an empty one): each
    node's histogram as if built alone, and each parent's slot turned into the sibling's
    histogram (parent - node), bit for bit the same serial or threaded."""
    rng = np.random.default_rng(1)
    n = 4 * _ROW_BLOCK
    X = rng.integers(0, N_HIST_BINS, (n, 3)).astype(np.uint8)
    stats = np.column_stack([rng.normal(size=n), rng.random(n)])
    rows = rng.permutation(n).astype(np.int32)
    features = np.arange(3, dtype=np.int32)
    cuts = [0, 100, 100, 2 * _ROW_BLOCK + 5, n - 7]
    bounds = np.array(list(zip(cuts[:-1], cuts[1:])))
    parent_rows = [rows[lo:hi + 50] for lo, hi in bounds]  # each node's parent: 50 more rows
    pool = np.zeros((2 * len(bounds), 3, N_HIST_BINS, 2))
    for t, r in enumerate(parent_rows):
        pool[len(bounds) + t] = _gathered(X, stats, r, features, False, False)
    hists = _gathered(X, stats, rows, features, False, parallel, bounds,
                      parents=len(bounds) + np.arange(len(bounds)), pool=pool)
    for t, (lo, hi) in enumerate(bounds):
        alone = _gathered(X, stats, rows[lo:hi], features, False, False)
        np.testing.assert_array_equal(hists[t], alone)
        sibling = _build_histogram_naive(X, stats, rows[hi:hi + 50], features)[..., 1:]
        np.testing.assert_allclose(pool[len(bounds) + t], sibling, atol=1e-9)
    serial_pool = pool.copy()
    for t, r in enumerate(parent_rows):
        serial_pool[len(bounds) + t] = _gathered(X, stats, r, features, False, False)
    _gathered(X, stats, rows, features, False, not parallel, bounds,
              parents=len(bounds) + np.arange(len(bounds)), pool=serial_pool)
    np.testing.assert_array_equal(serial_pool, pool)


def test_row_blocks_depend_on_the_row_count_only():
    assert _row_blocks(10) == (_ROW_BLOCK, 1)
    assert _row_blocks(3 * _ROW_BLOCK) == (_ROW_BLOCK, 3)
    block, n_blocks = _row_blocks(400_000)
    assert n_blocks <= 16 and block * n_blocks >= 400_000 > block * (n_blocks - 1)


def test_countless_present_bins():
    """(g, h) histograms: a bin is present when either sum is non-zero, the missing bin too."""
    hist_f = np.zeros((N_HIST_BINS, 2))
    hist_f[3] = [0.0, 0.5]
    hist_f[7] = [-1.0, 0.0]
    hist_f[9] = [2.0, 1.0]
    codes = np.empty(N_HIST_BINS, np.int32)
    n_present, has_missing = _present_bins(hist_f, codes.copy(), -1, codes, False)
    assert codes[:n_present].tolist() == [3, 7, 9] and not has_missing
    hist_f[MISSING_BIN] = [0.0, 1e-3]
    assert _present_bins(hist_f, codes.copy(), -1, codes, False) == (3, True)

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
