"""Tree storage and the prediction kernels over raw X."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skext.tree import DecisionTreeRegressor
from skext.tree._tree import _apply_forest, _predict_forest, _predict_forest_naive, tree_lists


def _trees(seed, n_trees=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) + rng.normal(size=200)
    # Shallow and full-depth trees: the kernels walk trees of depth <= 8 with fixed steps and
    # deeper ones in lock-step groups.
    trees = [DecisionTreeRegressor(max_depth=(5, None)[i % 2], max_features=2,
                                   random_state=i).fit(X, y).tree_ for i in range(n_trees)]
    assert n_trees == 1 or max(t.max_depth for t in trees) > 8
    # More rows than one prediction block (2048), and not a multiple of the lock-step group.
    X_test = rng.normal(size=(2051, 4))
    X_test[rng.random(X_test.shape) < 0.1] = np.nan
    return trees, X_test

# --- reference --------------------------------------------------------------------------------


@given(st.integers(0, 1000))
def test_forest_predict_matches_per_tree_sum(seed):
    trees, X = _trees(seed)
    nodes, values, depths = tree_lists(trees)
    out = np.empty((len(X), 1))
    _predict_forest(X, nodes, values, depths, out)
    np.testing.assert_allclose(out, _predict_forest_naive(X, trees), rtol=1e-12)
    np.testing.assert_allclose(out, sum(t.predict(X) for t in trees), rtol=1e-12)


def test_apply_returns_each_trees_leaf():
    trees, X = _trees(0)
    nodes, _, depths = tree_lists(trees)
    out = np.empty((len(X), len(trees)), np.int32)
    _apply_forest(X, nodes, depths, out)
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
