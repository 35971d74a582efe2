"""Tree storage and the prediction kernels over raw X."""

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skext.tree import DecisionTreeRegressor
from skext.tree._tree import (
    _APPLY_FOREST,
    _FIXED_STEPS_MAX_DEPTH,
    _PREDICT_FOREST,
    _block_rows,
    _predict_forest_naive,
    apply_forest,
    predict_forest,
    tree_lists,
)
from skext.utils._parallel import numba_threads


def _trees(seed, n_trees=3, nan=True):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, 4))
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) + rng.normal(size=600)
    # Shallow and full-depth trees: the kernels walk trees of depth <= 16 with fixed steps and
    # deeper ones by lanes that take the next row at their leaf.
    trees = [DecisionTreeRegressor(max_depth=(5, None)[i % 2], max_features=2,
                                   random_state=i).fit(X, y).tree_ for i in range(n_trees)]
    assert n_trees == 1 or max(t.max_depth for t in trees) > _FIXED_STEPS_MAX_DEPTH
    # Not a multiple of the lane count.
    X_test = rng.normal(size=(517, 4))
    if nan:
        X_test[rng.random(X_test.shape) < 0.1] = np.nan
    return trees, X_test

# --- reference --------------------------------------------------------------------------------


@given(st.integers(0, 1000))
def test_forest_predict_matches_per_tree_sum(seed):
    trees, X = _trees(seed)
    nodes, values, depths = tree_lists(trees)
    out = np.empty((len(X), 1))
    predict_forest(X, nodes, values, depths, out)
    np.testing.assert_allclose(out, _predict_forest_naive(X, trees), rtol=1e-12)
    np.testing.assert_allclose(out, sum(t.predict(X) for t in trees), rtol=1e-12)


@pytest.mark.parametrize("nan", [True, False])
def test_forest_predict_same_for_any_blocking_and_nan_test(nan):
    """Blocks of any size, and the loop without the NaN test (taken when X has no NaN), give
    bit-identical sums and leaves."""
    trees, X = _trees(1, n_trees=4, nan=nan)
    nodes, values, depths = tree_lists(trees)
    expected = _predict_forest_naive(X, trees)
    leaves = np.column_stack([tree.apply(X) for tree in trees])
    first = None
    for block in (8, 16, 1024, 4096):
        for nan_aware in (True, False) if not nan else (True,):
            out = np.empty((len(X), 1))
            _PREDICT_FOREST[nan_aware](X, nodes, values, depths, out, block)
            np.testing.assert_allclose(out, expected, rtol=1e-12)
            first = out if first is None else first
            np.testing.assert_array_equal(out, first)
            applied = np.empty((len(X), len(trees)), np.int32)
            _APPLY_FOREST[nan_aware](X, nodes, depths, applied, block)
            np.testing.assert_array_equal(applied, leaves)


@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_block_rows(n_jobs):
    budget = 4 << 20
    with numba_threads(n_jobs):
        threads = numba.get_num_threads()  # n_jobs, capped by the machine
        for n_samples, n_features in [(1, 1), (7, 3), (2051, 4), (25_000, 28), (10**6, 100)]:
            # A forest that fits in L2: blocks of rows that fit there too.
            small = _block_rows(n_samples, n_features, 300_000)
            assert small % 8 == 0 and 8 <= small <= max(8, (256 << 10) // (8 * n_features) + 8)
            # A large forest: one block per thread while the rows fit the L3 budget.
            block = _block_rows(n_samples, n_features, 50 << 20)
            n_blocks = -(-n_samples // block)
            assert block % 8 == 0
            if n_samples * n_features * 8 <= budget * threads and n_samples >= 8 * threads:
                assert n_blocks == threads
            assert block * n_features * 8 <= budget + 8 * n_features * 8


def test_apply_returns_each_trees_leaf():
    trees, X = _trees(0)
    nodes, _, depths = tree_lists(trees)
    out = np.empty((len(X), len(trees)), np.int32)
    apply_forest(X, nodes, depths, out)
    for t, tree in enumerate(trees):
        leaves = out[:, t]
        np.testing.assert_array_equal(leaves, tree.apply(X))
        assert np.all(tree.children_left[leaves] == -1)


def test_sklearn_vocabulary():
    tree = _trees(0, 1)[0][0]
    is_leaf = tree.children_left == -1
    assert tree.node_count == len(tree.threshold) == len(tree.value)
    assert np.all(tree.feature[is_leaf] == -2)
    assert np.all(tree.children_right[~is_leaf] == tree.children_left[~is_leaf] + 1)
    assert tree.n_leaves == is_leaf.sum()
    # Children partition their parent's samples.
    split = np.flatnonzero(~is_leaf)
    np.testing.assert_array_equal(
        tree.n_node_samples[split],
        tree.n_node_samples[tree.children_left[split]]
        + tree.n_node_samples[tree.children_right[split]])
