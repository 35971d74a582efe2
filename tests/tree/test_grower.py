"""Growth rules: stopping criteria, best-first growth, feature pools, determinism."""

import numpy as np
import pytest

from skext.tree._binning import BinMapper
from skext.tree._classes import classification_stats
from skext.tree._criterion import criterion_params
from skext.tree._grower import GrowBuffers, grow_tree
from skext.tree._histogram import _ROW_BLOCK
from skext.tree._types import CRITERION_GINI, CRITERION_SECOND_ORDER


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6))
    y = (X[:, 0] + X[:, 1] ** 2 + 0.3 * rng.normal(size=600) > 0.5).astype(int)
    mapper = BinMapper().fit(X)
    return X, y, mapper, mapper.transform(X), classification_stats(y, 2, np.ones(600))


def _preorder(tree):
    """The tree's node ids in depth-first preorder (scikit-learn's numbering)."""
    order, stack = [], [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if tree.children_left[node] != -1:
            stack += [tree.children_right[node], tree.children_left[node]]
    return np.array(order)


def _assert_same_tree(a, b, leaves_a=None, leaves_b=None):
    """The same tree, bit for bit, whatever the order its nodes were numbered in (gather mode
    grows depthwise trees level by level); leaves_*: each sample's leaf in either numbering."""
    order_a, order_b = _preorder(a), _preorder(b)
    assert len(order_a) == a.node_count and len(order_b) == b.node_count
    np.testing.assert_array_equal(a.nodes[["threshold", "feature"]][order_a],
                                  b.nodes[["threshold", "feature"]][order_b])
    np.testing.assert_array_equal(a.children_left[order_a] == -1, b.children_left[order_b] == -1)
    np.testing.assert_array_equal(a.value[order_a], b.value[order_b])
    np.testing.assert_array_equal(a.n_node_samples[order_a], b.n_node_samples[order_b])
    if leaves_a is not None:
        rank_a, rank_b = np.argsort(order_a), np.argsort(order_b)
        np.testing.assert_array_equal(leaves_a == -1, leaves_b == -1)
        np.testing.assert_array_equal(rank_a[leaves_a[leaves_a >= 0]],
                                      rank_b[leaves_b[leaves_b >= 0]])


def _grow(data, **kwargs):
    X, y, mapper, X_binned, stats = data
    return grow_tree(X_binned, stats, np.arange(len(X)), mapper, criterion=CRITERION_GINI,
                     min_gain=-1e-12, **kwargs)


def test_full_depth_tree_fits_training_data(data):
    tree = _grow(data)
    X, y = data[0], data[1]
    assert np.all(tree.predict(X).argmax(axis=1) == y)
    assert np.all(tree.impurity[tree.children_left == -1] == 0)


def test_tree_larger_than_the_initial_node_slots():
    # Random labels on distinct points: a full-depth tree needs thousands of nodes, so the
    # grower's node arrays are doubled several times mid-growth.
    rng = np.random.default_rng(1)
    X = rng.integers(0, 200, size=(3000, 3)).astype(float)
    y = rng.integers(0, 2, size=3000)
    mapper = BinMapper().fit(X)
    tree = grow_tree(mapper.transform(X), classification_stats(y, 2, np.ones(3000)),
                     np.arange(3000), mapper, criterion=CRITERION_GINI, min_gain=-1e-12)
    assert tree.node_count > 2 * 1023
    assert np.all(tree.predict(X).argmax(axis=1) == y)


@pytest.mark.parametrize("max_depth", [1, 3, 6])
def test_max_depth(data, max_depth):
    assert _grow(data, max_depth=max_depth).max_depth == max_depth


def test_min_samples_leaf_and_split(data):
    tree = _grow(data, min_samples_leaf=7, min_samples_split=30)
    is_leaf = tree.children_left == -1
    assert tree.n_node_samples[is_leaf].min() >= 7
    assert tree.n_node_samples[~is_leaf].min() >= 30


def _split_paths(tree, nodes):
    """Each node's path from the root, as ((feature, threshold, went_right), ...)."""
    paths, stack = {0: ()}, [0]
    while stack:
        node = stack.pop()
        if tree.children_left[node] != -1:
            split = (int(tree.feature[node]), float(tree.threshold[node]))
            paths[tree.children_left[node]] = paths[node] + (split + (False,),)
            paths[tree.children_right[node]] = paths[node] + (split + (True,),)
            stack += [tree.children_left[node], tree.children_right[node]]
    return {paths[node] for node in nodes}


@pytest.mark.parametrize("max_leaf_nodes", [2, 5, 17])
def test_best_first_leaf_count_and_order(data, max_leaf_nodes):
    """Best-first growth expands, at every step, the pending leaf whose best split has the
    largest gain. A node's best split does not depend on the growth order, so the full tree
    holds every candidate: expanding its nodes greedily by gain, max_leaf_nodes - 1 times,
    must give exactly the best-first tree's splits (a depth-first or breadth-first order
    would not)."""
    tree = _grow(data, max_leaf_nodes=max_leaf_nodes)
    assert tree.n_leaves == max_leaf_nodes
    full = _grow(data)
    frontier, expanded = [0], []
    for _ in range(max_leaf_nodes - 1):
        node = max((n for n in frontier if full.children_left[n] != -1),
                   key=lambda n: full.gain[n])
        frontier.remove(node)
        frontier += [full.children_left[node], full.children_right[node]]
        expanded.append(node)
    internal = np.flatnonzero(tree.children_left != -1)
    assert _split_paths(tree, internal) == _split_paths(full, expanded)


def test_min_gain_stops_weak_splits(data):
    weak = _grow(data)
    strong = grow_tree(data[3], data[4], np.arange(600), data[2], criterion=CRITERION_GINI,
                       min_gain=5.0)
    assert strong.node_count < weak.node_count
    assert strong.gain[strong.children_left != -1].min() >= 5.0


def test_feature_pool_restricts_features(data):
    tree = _grow(data, feature_pool=[1, 4])
    assert set(tree.feature[tree.children_left != -1]) <= {1, 4}


def test_every_split_is_the_best_of_its_node(data):
    """With every feature at every node the grower builds the larger child's histogram by
    subtraction; each node's stored gain must still be the brute-force best of its rows."""
    from skext.tree._splitter import _find_best_split_naive

    X, y, mapper, X_binned, stats = data
    tree = _grow(data, max_depth=4)
    node_rows = {0: np.arange(len(X))}
    for node in range(tree.node_count):
        rows = node_rows[node]
        if tree.children_left[node] == -1:
            continue
        f, t = tree.feature[node], tree.threshold[node]
        goes_left = X[rows, f] <= t
        node_rows[tree.children_left[node]] = rows[goes_left]
        node_rows[tree.children_right[node]] = rows[~goes_left]
        best = _find_best_split_naive(X_binned, stats, rows, range(X.shape[1]), CRITERION_GINI,
                                      criterion_params(), 1, 0.0)
        assert np.isclose(tree.gain[node], best[0], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kwargs", [{"max_depth": 4}, {"max_leaf_nodes": 9},
                                    {"max_leaf_nodes": 9, "max_features": 2, "seed": 5},
                                    {"max_leaf_nodes": 40, "min_samples_leaf": 7}])
def test_gather_mode_grows_the_same_tree(data, kwargs):
    """Reading rows through their ids (boosting's mode) instead of node-ordered copies sums the
    same rows in the same order: the same tree, bit for bit, NaN included, numbered level by
    level when depthwise. A level-wise tree draws its nodes' feature orders in another order
    (the draws break ties between features), so deep trees of ties and feature sampling are
    compared best-first only."""
    X, y, _, _, stats = data
    X = X.copy()
    X[np.random.default_rng(1).random(X.shape) < 0.1] = np.nan
    mapper = BinMapper().fit(X)
    X_binned = mapper.transform(X)
    rows = np.arange(0, len(X), 2)
    trees = [grow_tree(X_binned, stats, rows, mapper, criterion=CRITERION_GINI, gather=gather,
                       return_leaves=True, **kwargs) for gather in (False, True)]
    _assert_same_tree(trees[0][0], trees[1][0], trees[0][1], trees[1][1])


@pytest.mark.parametrize("kwargs", [{"max_depth": 5}, {"max_leaf_nodes": 9}])
def test_gather_mode_draws_do_not_depend_on_threads(data, kwargs):
    """Gather mode with a feature draw per node (colsample_bynode): the same seed grows the
    same tree serial or over threads (the threads scan a level's nodes together, after the
    serial grower's draws), and another seed another tree."""
    X, y, mapper, X_binned, stats = data
    rows = np.arange(len(X))
    grown = [grow_tree(X_binned, stats, rows, mapper, criterion=CRITERION_GINI, gather=True,
                       max_features=3, seed=seed, parallel=parallel, return_leaves=True,
                       **kwargs)
             for seed, parallel in [(4, False), (4, True), (5, True)]]
    np.testing.assert_array_equal(grown[0][0].nodes, grown[1][0].nodes)
    np.testing.assert_array_equal(grown[0][1], grown[1][1])
    assert not np.array_equal(grown[0][0].feature, grown[2][0].feature)


def test_same_seed_same_tree(data):
    a = _grow(data, max_features=2, seed=3)
    b = _grow(data, max_features=2, seed=3)
    np.testing.assert_array_equal(a.nodes, b.nodes)
    c = _grow(data, max_features=2, seed=4)
    assert a.nodes.shape != c.nodes.shape or not np.array_equal(a.nodes, c.nodes)


def test_random_splitter_thresholds_inside_node_range(data):
    """Extra-trees draw each threshold between the node's own smallest and largest value of
    the feature (not the column's), so both children get rows."""
    tree = _grow(data, splitter="random", max_depth=6)
    X = data[0]
    node_rows = {0: np.arange(len(X))}
    for node in range(tree.node_count):
        if tree.children_left[node] == -1:
            continue
        rows, f, t = node_rows[node], tree.feature[node], tree.threshold[node]
        assert X[rows, f].min() <= t < X[rows, f].max()
        goes_left = X[rows, f] <= t
        node_rows[tree.children_left[node]] = rows[goes_left]
        node_rows[tree.children_right[node]] = rows[~goes_left]
    # Deep nodes' ranges are narrower than their columns': the column check would pass a
    # threshold drawn from the column's range.
    deep = [n for n in node_rows if n > 6 and tree.children_left[n] != -1]
    assert any(np.ptp(X[node_rows[n], tree.feature[n]]) < 0.5 * np.ptp(X[:, tree.feature[n]])
               for n in deep)


@pytest.mark.parametrize("kwargs", [{"max_depth": 5}, {"max_leaf_nodes": 9},
                                    {"max_leaf_nodes": 9, "max_features": 3, "seed": 2}])
def test_countless_gather_grows_the_counted_tree(data, kwargs):
    """Second-order trees in gather mode keep (g, h) histograms without counts: the same splits
    and leaves as the counted histograms of node-ordered mode, NaN rows routed alike; only a
    node that saw no NaN sends NaN right (xgboost's rule) instead of to its larger child.
    Depthwise, gather mode grows level by level: ties between features go to the lower index
    (second order), so the order of the feature draws does not change the tree."""
    X = data[0].copy()
    rng = np.random.default_rng(3)
    X[rng.random(X.shape) < 0.1] = np.nan
    mapper = BinMapper().fit(X)
    X_binned = mapper.transform(X)
    p = 1.0 / (1.0 + np.exp(-rng.normal(size=len(X))))
    stats = np.column_stack([p - data[1], p * (1.0 - p)])
    rows = np.arange(0, len(X), 2)
    counted, countless = (
        grow_tree(X_binned, stats, rows, mapper, criterion=CRITERION_SECOND_ORDER,
                  params=np.array([1.0, 0.0, 0.0]), gather=gather, return_leaves=True, **kwargs)
        for gather in (False, True))
    a, b = counted[0], countless[0]
    order_a, order_b = _preorder(a), _preorder(b)
    np.testing.assert_array_equal(a.feature[order_a], b.feature[order_b])
    np.testing.assert_array_equal(a.children_left[order_a] == -1, b.children_left[order_b] == -1)
    np.testing.assert_array_equal(a.n_node_samples[order_a], b.n_node_samples[order_b])
    np.testing.assert_allclose(a.value[order_a], b.value[order_b], rtol=1e-9, atol=1e-12)
    rank_a, rank_b = np.argsort(order_a), np.argsort(order_b)
    np.testing.assert_array_equal(rank_a[counted[1][rows]], rank_b[countless[1][rows]])
    np.testing.assert_array_equal(rank_a[a.apply(X[rows])], rank_b[b.apply(X[rows])])


def test_reused_buffers_grow_the_fresh_trees():
    """One GrowBuffers for a sequence of trees (boosting's way; pools of different sizes, so the
    histogram scratch of these multi-block nodes is replaced, then reused; fewer rows than
    samples): every tree and its leaves as grown with fresh arrays."""
    rng = np.random.default_rng(0)
    n = 3 * _ROW_BLOCK
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
    mapper = BinMapper().fit(X)
    X_binned = mapper.transform(X)
    stats = classification_stats(y, 2, np.ones(n))
    buffers = GrowBuffers(n)
    for pool, rows in [(None, np.arange(n)), ([0, 2, 4], np.arange(n)), ([1, 3], np.arange(n)),
                       (None, np.sort(rng.choice(n, n - 1000, replace=False)))]:
        kwargs = dict(criterion=CRITERION_GINI, max_depth=4, feature_pool=pool, parallel=True,
                      gather=True, return_leaves=True)
        fresh = grow_tree(X_binned, stats, rows, mapper, **kwargs)
        reused = grow_tree(X_binned, stats, rows, mapper, buffers=buffers, **kwargs)
        np.testing.assert_array_equal(fresh[0].nodes, reused[0].nodes)
        np.testing.assert_array_equal(fresh[1], reused[1])
        assert (reused[1] == -1).sum() == n - len(rows)
        # Leaves written during the last level's splits, the others after: apply's leaves.
        np.testing.assert_array_equal(reused[1][rows], reused[0].apply(X[rows]))
