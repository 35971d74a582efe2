"""Row partitioning: the stable partitions of node-ordered and row-id growth agree."""

import numpy as np
import pytest

from skext.tree._partition import (
    _PARTITION_BLOCK,
    _partition_rows,
    _split_rows,
    _split_rows_parallel,
    _split_rows_sparse,
    _split_rows_sparse_parallel,
)
from skext.tree._sparse import SparseBinned, csc_codes_to_csr, no_csr
from skext.tree._types import MISSING_BIN
from skext.utils._parallel import numba_threads


def _sparse_binned(X_binned, absent):
    """X_binned as a SparseBinned whose absent code of feature f is absent[f]."""
    import scipy.sparse as sp
    X = sp.csc_matrix(X_binned.astype(np.int64) + 1)  # every entry stored
    codes = (X.data - 1).astype(np.uint8)
    indptr, features, codes = csc_codes_to_csr(X.indptr.astype(np.int64), X.indices, codes,
                                               absent, X_binned.shape[0])
    binned = SparseBinned(indptr, features, codes, absent, X_binned.shape)
    np.testing.assert_array_equal(binned.toarray(), X_binned)
    return binned


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("assign", [False, True])
def test_split_rows_of_several_nodes(n_jobs, assign, sparse):
    """One call splits several nodes (a level; one larger than a partition block, one below,
    one of one row, two over a block boundary whose rows all go left, all right) as the serial
    stable partition of each would: the same row order on both sides, for any thread count,
    the missing bin sent to its side; rows outside the nodes untouched. With assign, each row's
    leaf is written and no row moves. sparse: the codes read from a SparseBinned (one
    feature's absent code the missing one)."""
    rng = np.random.default_rng(0)
    block = _PARTITION_BLOCK
    n = 5 * block + 123
    X_binned = rng.integers(0, MISSING_BIN + 1, (n, 3)).astype(np.uint8)
    columns = np.ascontiguousarray(X_binned.T)
    rows = rng.permutation(n).astype(np.int32)
    bounds = np.array([[5, 2 * block + 9], [2 * block + 9, 3 * block - 8],
                       [3 * block - 8, 3 * block - 7], [3 * block - 7, 4 * block + 20],
                       [4 * block + 20, n - 7]])
    splits = np.array([[1, 100, 0], [2, 30, 1], [0, 200, 1], [1, MISSING_BIN - 1, 1],
                       [2, -1, 0]])
    first_child = np.array([1, 3, 5, 7, 9])
    expected, expected_mids = rows.copy(), []
    for (lo, hi), (f, b, m) in zip(bounds, splits):
        expected_mids.append(_partition_rows(expected, X_binned[:, f], np.empty(n, np.int32),
                                             lo, hi, b, m == 1))
    assert expected_mids[3] == bounds[3, 1] and expected_mids[4] == bounds[4, 0]
    threaded, mids, leaves = rows.copy(), np.empty(5, np.int64), np.full(n, -1, np.int32)
    with numba_threads(n_jobs):
        if sparse:
            csr = _sparse_binned(X_binned, np.array([7, MISSING_BIN, 0], np.uint8)).csr
            kernel = _split_rows_sparse_parallel if n_jobs > 1 else _split_rows_sparse
            columns = np.empty((1, 0), np.uint8)
        else:
            csr = no_csr()
            kernel = _split_rows_parallel if n_jobs > 1 else _split_rows
        kernel(threaded, columns, csr, np.empty(n, np.int32), bounds, splits, mids, assign,
               first_child, leaves)
    np.testing.assert_array_equal(mids, expected_mids)
    if assign:
        np.testing.assert_array_equal(threaded, rows)
        for e, ((lo, hi), mid) in enumerate(zip(bounds, mids)):
            np.testing.assert_array_equal(leaves[expected[lo:mid]], first_child[e])
            np.testing.assert_array_equal(leaves[expected[mid:hi]], first_child[e] + 1)
        assert (leaves[rows[:5]] == -1).all() and (leaves[rows[n - 7:]] == -1).all()
        return
    np.testing.assert_array_equal(threaded, expected)
    for (lo, hi), (f, b, m), mid in zip(bounds, splits, mids):
        codes = X_binned[expected[lo:hi], f]
        left = np.where(codes == MISSING_BIN, m == 1, codes <= b)
        assert left[:mid - lo].all() and not left[mid - lo:].any()
    np.testing.assert_array_equal(threaded[:5], rows[:5])
    np.testing.assert_array_equal(threaded[n - 7:], rows[n - 7:])
