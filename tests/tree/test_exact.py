"""Exact greedy growth (the booster's tree_method="exact"): sorted columns, level-wise scans."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skext.tree._criterion import _second_order_loss, criterion_params
from skext.tree._exact import SortedColumns, grow_tree_exact

PARAMS = criterion_params(1.0)


def _data(seed, n=300, d=4, nan=0.1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).round(1)  # ties between values
    X[rng.random(X.shape) < nan] = np.nan
    p = 1.0 / (1.0 + np.exp(-rng.normal(size=n)))
    y = (rng.random(n) < p).astype(float)
    return X, np.column_stack([p - y, p * (1.0 - p)])


def _naive_best_split(X, stats, rows):
    """Reference: every midpoint between distinct values of every feature, NaN rows on the
    right then on the left, scored by the second-order gain (lambda 1). (gain, feature,
    threshold, missing_left), first best in (feature, threshold, side) order."""
    G, H = stats[rows].sum(axis=0)
    parent = _second_order_loss(G, H, PARAMS)
    best = (-np.inf, -1, np.nan, -1)
    for f in range(X.shape[1]):
        x = X[rows, f]
        values = np.unique(x[~np.isnan(x)])
        for a, b in zip(values[:-1], values[1:]):
            t = 0.5 * (a + b)
            for missing_left in (0, 1):
                left = (x <= t) | (np.isnan(x) & (missing_left == 1))
                gl, hl = stats[rows[left]].sum(axis=0)
                gr, hr = G - gl, H - hl
                if hl < 1e-9 or hr < 1e-9:
                    continue
                gain = (-_second_order_loss(gl, hl, PARAMS) - _second_order_loss(gr, hr, PARAMS)
                        + parent)
                if gain > best[0] + 1e-12:
                    best = (gain, f, t, missing_left)
    return best


# --- reference --------------------------------------------------------------------------------


def test_sorted_columns_hold_each_feature_in_value_order():
    X, _ = _data(0)
    columns = SortedColumns(X)
    for f in range(X.shape[1]):
        rows = columns.rows[columns.ptr[f]:columns.ptr[f + 1]]
        values = columns.values[columns.ptr[f]:columns.ptr[f + 1]]
        present = np.flatnonzero(~np.isnan(X[:, f]))
        assert sorted(rows) == list(present)  # every non-missing row once, NaN left out
        np.testing.assert_array_equal(values, X[rows, f])
        assert np.all(np.diff(values) >= 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_root_split_is_the_brute_force_best(seed):
    X, stats = _data(seed)
    rows = np.arange(len(X))
    tree, _ = grow_tree_exact(SortedColumns(X), X, stats, rows, params=PARAMS, max_depth=1,
                              min_weight_leaf=1e-9)
    gain, f, t, missing_left = _naive_best_split(X, stats, rows)
    assert tree.feature[0] == f
    assert tree.threshold[0] == pytest.approx(t)
    assert tree.missing_go_to_left[0] == missing_left


# --- properties -------------------------------------------------------------------------------


@given(st.integers(0, 10_000), st.integers(1, 5))
def test_leaves_partition_the_rows_and_match_apply(seed, max_depth):
    """Every row of the tree lands in exactly one leaf, the one apply() routes it to (NaN
    included); rows outside the tree get -1; each leaf's count is its rows'."""
    X, stats = _data(seed)
    rows = np.arange(0, len(X), 3)
    tree, leaf = grow_tree_exact(SortedColumns(X), X, stats, rows, params=PARAMS,
                                 max_depth=max_depth, min_weight_leaf=1.0)
    np.testing.assert_array_equal(leaf[rows], tree.apply(X[rows]))
    assert (np.delete(leaf, rows) == -1).all()
    assert (tree.children_left[leaf[rows]] == -1).all()
    counts = np.bincount(leaf[rows], minlength=tree.node_count)
    is_leaf = tree.children_left == -1
    np.testing.assert_array_equal(counts[is_leaf], tree.n_node_samples[is_leaf])
    assert tree.max_depth <= max_depth


def test_children_sum_to_their_parent():
    X, stats = _data(5)
    tree, _ = grow_tree_exact(SortedColumns(X), X, stats, np.arange(len(X)), params=PARAMS,
                              max_depth=4)
    split = np.flatnonzero(tree.children_left != -1)
    n = tree.n_node_samples
    np.testing.assert_array_equal(n[split], n[tree.children_left[split]]
                                  + n[tree.children_right[split]])
