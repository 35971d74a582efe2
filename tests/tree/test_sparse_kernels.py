"""The sparse binned storage (tree/_sparse.py) and the kernels that read it, against NumPy."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from skext.tree import _sparse
from skext.tree._binning import BinMapper
from skext.tree._histogram import _build_histogram_naive
from skext.tree._sparse import (
    SparseBinned,
    build_histograms_sparse,
    build_sparse_histograms,
    partition_sparse,
    prebuild_drawn,
    sparse_code,
)
from skext.tree._types import MISSING_BIN


def _binned(seed, n=60, d=7, density=0.3, absent_is_missing=False):
    """(sparse X, its SparseBinned, the dense equivalent's codes)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.integers(-3, 4, k).astype(float))
    binner = BinMapper(absent_is_missing=absent_is_missing).fit(X)
    dense = np.full(X.shape, np.nan if absent_is_missing else 0.0)
    coo = X.tocoo()
    dense[coo.row, coo.col] = coo.data  # stored zeros are 0.0 either way
    return X, binner.transform(X), binner.transform(dense)


def _compact(hist):
    """A full (n, 256, S) histogram in the compact layout of width w: bins 0..w-2 and the
    missing bin last."""
    def to(width):
        out = hist[:, :width].copy()
        out[:, width - 1] = hist[:, MISSING_BIN]
        return out
    return to


@given(seed=st.integers(0, 2**31 - 1), absent_is_missing=st.booleans())
@settings(max_examples=30, deadline=None)
def test_storage_holds_the_dense_codes_and_follows_the_non_zeros(seed, absent_is_missing):
    """toarray() is the dense equivalent's codes; only entries off their feature's absent code
    are stored (explicit zeros of the scikit-learn families are not), features ascending."""
    X, binned, dense_codes = _binned(seed, absent_is_missing=absent_is_missing)
    assert isinstance(binned, SparseBinned)
    np.testing.assert_array_equal(binned.toarray(), dense_codes)
    indptr, features, codes, absent = binned.csr
    assert features.size == (dense_codes != absent).sum() <= X.nnz
    for r in range(X.shape[0]):
        assert (np.diff(features[indptr[r]:indptr[r + 1]]) > 0).all()
        for f in range(X.shape[1]):
            assert sparse_code.py_func(binned.csr, r, f) == dense_codes[r, f]


def test_storage_memory_follows_the_non_zeros():
    X = sp.random(20_000, 2_000, density=0.005, format="csr", random_state=0)
    binned = BinMapper().fit_transform(X)
    assert binned.nbytes <= 5 * X.nnz + 8 * (X.shape[0] + 1) + X.shape[1]
    assert binned.nbytes < X.shape[0] * X.shape[1] / 20


@given(seed=st.integers(0, 2**31 - 1), n_wanted=st.integers(1, 7),
       absent_is_missing=st.booleans(), by_id=st.booleans())
@settings(max_examples=40, deadline=None)
def test_histograms_over_stored_entries_equal_the_dense_ones(seed, n_wanted, absent_is_missing,
                                                             by_id):
    """build_sparse_histograms (both its binary-search and entry-walking ways, chosen by the
    number of wanted features) equals the dense histogram of the same rows in the compact
    layout, the absent bin by subtraction included."""
    rng = np.random.default_rng(seed)
    X, binned, dense_codes = _binned(seed, absent_is_missing=absent_is_missing)
    stats = rng.normal(size=(X.shape[0], 2))
    rows = rng.permutation(X.shape[0]).astype(np.int32)
    start, end = 5, 5 + rng.integers(1, X.shape[0] - 5)
    node_rows = rows[start:end]
    node_sums = np.concatenate(([end - start], stats[node_rows].sum(axis=0)))
    pool = rng.permutation(X.shape[1]).astype(np.int32)
    wanted = rng.permutation(len(pool))[:n_wanted]
    width = int(dense_codes[dense_codes != MISSING_BIN].max(initial=0)) + 2
    hists = np.full((len(pool), width, 3), 7.0)
    slot_of = np.full(X.shape[1], -1, np.int64)
    # Node-ordered channels (forests) or read through the row ids (boosters).
    channels = stats if by_id else stats[rows]
    build_sparse_histograms(binned.csr, channels, rows, start, end, node_sums, pool, wanted,
                            slot_of, hists, True, by_id)
    expected = _compact(_build_histogram_naive(dense_codes, stats, node_rows, pool[wanted]))(
        width)
    np.testing.assert_allclose(hists[wanted], expected, atol=1e-12)
    assert (slot_of == -1).all()


@pytest.mark.parametrize("parallel", [False, True])
def test_booster_histograms_with_sibling_subtraction(parallel):
    """Gather mode: a target's histograms of every pool feature, and its parent's slot turned
    into the sibling's (parent - child), countless or counted; the root's rows in two
    blocks (partial histograms summed), the child's in one."""
    rng = np.random.default_rng(1)
    n = 2 * _sparse._HIST_BLOCK + 500
    X, binned, dense_codes = _binned(1, n=n, absent_is_missing=True)
    stats = rng.normal(size=(X.shape[0], 2))
    rows = rng.permutation(X.shape[0]).astype(np.int32)
    pool = np.arange(X.shape[1], dtype=np.int32)
    width = int(dense_codes[dense_codes != MISSING_BIN].max(initial=0)) + 2
    full = _compact(_build_histogram_naive(dense_codes, stats, rows, pool))(width)
    for counted in (True, False):
        pool_hist = np.zeros((2, len(pool), width, 3 if counted else 2))
        scratch = np.zeros((8, len(pool), width, pool_hist.shape[3]))
        slot_of = np.full(X.shape[1], -1, np.int64)
        sums = np.concatenate(([n], stats.sum(axis=0)))[None]
        bounds = np.array([[0, n]])
        build_histograms_sparse(binned.csr, stats, rows, pool, bounds, np.array([0]),
                                np.array([-1]), sums, pool_hist, scratch, slot_of, counted,
                                parallel)
        np.testing.assert_allclose(pool_hist[0], full if counted else full[..., 1:], atol=1e-12)
        child_rows = rows[:110]  # one block
        child = _compact(_build_histogram_naive(dense_codes, stats, child_rows, pool))(width)
        child_sums = np.concatenate(([110.0], stats[child_rows].sum(axis=0)))[None]
        build_histograms_sparse(binned.csr, stats, rows, pool, np.array([[0, 110]]),
                                np.array([1]), np.array([0]), child_sums, pool_hist, scratch,
                                slot_of, counted, parallel)
        keep = slice(None) if counted else slice(1, None)
        np.testing.assert_allclose(pool_hist[1], child[..., keep], atol=1e-12)
        np.testing.assert_allclose(pool_hist[0], (full - child)[..., keep], atol=1e-12)


@given(seed=st.integers(0, 2**31 - 1), missing_left=st.booleans())
@settings(max_examples=30, deadline=None)
def test_partition_sparse_is_the_stable_partition(seed, missing_left):
    rng = np.random.default_rng(seed)
    X, binned, dense_codes = _binned(seed, absent_is_missing=bool(seed % 2))
    rows = rng.permutation(X.shape[0]).astype(np.int32)
    stats = rng.normal(size=(X.shape[0], 2))
    stats_node = stats[rows]
    f = int(rng.integers(X.shape[1]))
    split_bin = int(rng.integers(0, 5))
    start, end = 3, X.shape[0] - 2
    codes = dense_codes[rows[start:end], f]
    goes_left = np.where(codes == MISSING_BIN, missing_left, codes <= split_bin)
    expected = np.concatenate((rows[start:end][goes_left], rows[start:end][~goes_left]))
    mid = partition_sparse(rows, stats_node, np.empty_like(rows), np.empty_like(stats_node),
                           start, end, binned.csr, f, split_bin, missing_left)
    assert mid == start + goes_left.sum()
    np.testing.assert_array_equal(rows[start:end], expected)
    np.testing.assert_array_equal(stats_node, stats[rows])


@given(seed=st.integers(0, 2**31 - 1), max_features=st.integers(1, 7),
       random_splits=st.booleans())
@settings(max_examples=30, deadline=None)
def test_prebuild_leaves_the_random_state_and_builds_what_the_search_draws(seed, max_features,
                                                                           random_splits):
    """prebuild_drawn replays the search's draws on a copy: the caller's state is untouched and
    at least max_features (or all) features' histograms are built, each equal to the dense
    one."""
    rng = np.random.default_rng(seed)
    X, binned, dense_codes = _binned(seed, n=40, density=0.1)
    stats = rng.normal(size=(X.shape[0], 1))
    rows = np.arange(X.shape[0], dtype=np.int32)
    pool = np.arange(X.shape[1], dtype=np.int32)
    width = int(dense_codes[dense_codes != MISSING_BIN].max(initial=0)) + 2
    hists = np.full((len(pool), width, 2), np.nan)
    state = np.array([seed], np.uint64)
    node_sums = np.array([X.shape[0], stats.sum()])
    prebuild_drawn(binned.csr, rows, stats, 0, X.shape[0], node_sums, pool,
                   np.ones(len(pool), np.uint8), np.empty(len(pool), np.int32), max_features,
                   random_splits, state, hists, np.empty(len(pool), np.int64),
                   np.full(X.shape[1], -1, np.int64), np.empty(256, np.int32))
    assert state[0] == seed
    built = ~np.isnan(hists[:, 0, 0])
    assert built.sum() >= min(max_features, len(pool))
    expected = _compact(_build_histogram_naive(dense_codes, stats, rows, pool))(width)
    np.testing.assert_allclose(hists[built], expected[built], atol=1e-12)
