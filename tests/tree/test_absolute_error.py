"""criterion="absolute_error" for the regression trees and forests: against scikit-learn's on the
same data (exact where the split search is: at most 255 distinct values per feature, shallow
trees, before ties between candidates of equal absolute error set in), a brute-force split
search with NaN on either side, the weighted median's definition, forests' scores."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import ensemble as sk_ensemble
from sklearn import tree as sk_tree
from sklearn.metrics import r2_score

import skext
from skext.tree._absolute_error import node_medians


def _heavy_tailed(n=800, seed=0):
    """Rounded features (<= 255 distinct values each), a target with Student-t(2) noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).round(1)
    return X, X[:, 0] + 2 * np.abs(X[:, 1]) + rng.standard_t(2, size=n)


@pytest.mark.parametrize("max_depth", [1, 3, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_tree_equals_sklearns(max_depth, weighted):
    X, y = _heavy_tailed()
    w = np.random.default_rng(1).integers(1, 4, len(y)).astype(float) if weighted else None
    ours = skext.DecisionTreeRegressor(criterion="absolute_error", max_depth=max_depth).fit(
        X, y, sample_weight=w)
    theirs = sk_tree.DecisionTreeRegressor(criterion="absolute_error", max_depth=max_depth,
                                           random_state=0).fit(X, y, sample_weight=w)
    assert ours.tree_.node_count == theirs.tree_.node_count
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.sort(ours.tree_.impurity), np.sort(theirs.tree_.impurity),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_,
                               atol=1e-9)


def test_multi_output_tree_equals_sklearns():
    X, y = _heavy_tailed()
    Y = np.column_stack([y, 3 * X[:, 2] + np.random.default_rng(2).normal(size=len(y))])
    ours = skext.DecisionTreeRegressor(criterion="absolute_error", max_depth=4).fit(X, Y)
    theirs = sk_tree.DecisionTreeRegressor(criterion="absolute_error", max_depth=4,
                                           random_state=0).fit(X, Y)
    assert ours.predict(X).shape == (len(X), 2)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.tree_.impurity[0], theirs.tree_.impurity[0], rtol=1e-12)


@pytest.mark.parametrize("name", ["RandomForestRegressor", "ExtraTreesRegressor"])
def test_forest_scores_as_sklearns(name):
    X, y = _heavy_tailed(2000)
    train, test = slice(0, 1000), slice(1000, None)
    params = dict(n_estimators=40, criterion="absolute_error", min_samples_leaf=3,
                  random_state=0)
    ours = getattr(skext, name)(**params).fit(X[train], y[train]).predict(X[test])
    theirs = getattr(sk_ensemble, name)(**params).fit(X[train], y[train]).predict(X[test])
    assert r2_score(y[test], ours) >= r2_score(y[test], theirs) - 0.02


def _median(y, w):
    """scikit-learn's weighted median, by its definition."""
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    cum = np.cumsum(w)
    half = cum[-1] / 2
    m = np.flatnonzero(cum > half)[0]
    return (y[m - 1] + y[m]) / 2 if m > 0 and cum[m - 1] == half else y[m]


def _error(y, w):
    return np.sum(w * np.abs(y - _median(y, w)))


def _brute_force(codes, y, w, min_samples_leaf):
    """Smallest summed absolute error over (feature, bin b, NaN side) of 'code <= b left';
    255 marks a missing value."""
    best = np.inf
    for f in range(codes.shape[1]):
        c = codes[:, f]
        missing = c == 255
        present = np.unique(c[~missing])
        for idx, b in enumerate(present):
            last = idx == len(present) - 1
            if last and not missing.any():
                break
            for nan_left in ([False, True] if missing.any() and not last else [False]):
                left = ((c <= b) & ~missing) | (missing & nan_left)
                if left.sum() < min_samples_leaf or (~left).sum() < min_samples_leaf:
                    continue
                best = min(best, _error(y[left], w[left]) + _error(y[~left], w[~left]))
    return best


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 40), min_samples_leaf=st.integers(1, 3),
       with_nan=st.booleans(), integer_weights=st.booleans())
def test_root_split_is_the_brute_force_optimum(seed, n, min_samples_leaf, with_nan,
                                               integer_weights):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 5, size=(n, 3)).astype(float)
    if with_nan:
        X[rng.random(X.shape) < 0.2] = np.nan
    y = rng.standard_t(3, size=n).round(1)
    w = (rng.integers(1, 4, n) if integer_weights else rng.uniform(0.5, 2, n)).astype(float)
    tree = skext.DecisionTreeRegressor(criterion="absolute_error", max_depth=1,
                                       min_samples_leaf=min_samples_leaf).fit(X, y, w)
    codes = np.where(np.isnan(X), 255, X).astype(int)
    best = _brute_force(codes, y, w, min_samples_leaf)
    root_error = _error(y, w)
    if tree.tree_.node_count == 1:
        # No split: none admissible, or none better than the root (a pure root).
        assert best == np.inf or root_error <= 1e-12 * w.sum() or best >= root_error - 1e-9
        return
    leaves = tree.apply(X)
    found = sum(_error(y[leaves == k], w[leaves == k]) for k in np.unique(leaves))
    assert found == pytest.approx(best, rel=1e-9, abs=1e-9)
    # Values are the leaves' weighted medians, impurities their mean absolute errors.
    for k in np.unique(leaves):
        rows = leaves == k
        assert tree.tree_.value[k, 0] == pytest.approx(_median(y[rows], w[rows]))
        assert tree.tree_.impurity[k] == pytest.approx(
            _error(y[rows], w[rows]) / w[rows].sum(), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.floats(-5, 5), st.integers(1, 3)),
                min_size=1, max_size=30))
def test_node_medians_by_definition(items):
    """node_medians of a stump's leaves (each row's leaf given) against the definition, the
    root (every row) included."""
    leaf_of = np.array([1 + (k % 2) for k, _, _ in items])
    y = np.array([[v] for _, v, _ in items])
    w = np.array([float(c) for _, _, c in items])
    left = np.array([1, -1, -1])
    values, impurity, weight = node_medians(left, leaf_of, y, w)
    for node, rows in ((0, np.ones(len(items), bool)), (1, leaf_of == 1), (2, leaf_of == 2)):
        if not rows.any():
            continue
        assert values[node, 0] == _median(y[rows, 0], w[rows])
        assert weight[node] == w[rows].sum()
        assert impurity[node] == pytest.approx(_error(y[rows, 0], w[rows]) / w[rows].sum(),
                                               abs=1e-12)


def test_constant_target_is_one_leaf():
    X = np.arange(10.0).reshape(-1, 1)
    tree = skext.DecisionTreeRegressor(criterion="absolute_error").fit(X, np.full(10, 1.5))
    assert tree.tree_.node_count == 1 and tree.tree_.impurity[0] == 0.0
    assert tree.predict(X[:2]).tolist() == [1.5, 1.5]


@pytest.mark.parametrize("criterion", ["squared_error", "poisson", "absolute_error"])
def test_nan_goes_to_the_larger_child_right_on_ties(criterion):
    """A split learned without NaN sends NaN to the child with more rows, right on a tie
    (scikit-learn's missing_go_to_left = n_left > n_right)."""
    X = np.array([[0, 1, 2, 3, 8, 9, 11, 12, 15]], dtype=float).T
    y = np.array([0.1, 0.2, 0.3, 0.2, 1.4, 1.4, 1.5, 1.6, 2.6])
    value = np.median if criterion == "absolute_error" else np.mean
    tree = skext.DecisionTreeRegressor(max_depth=1, criterion=criterion).fit(X, y)
    assert tree.predict([[np.nan]])[0] == pytest.approx(value(y[-5:]))
    tree = skext.DecisionTreeRegressor(max_depth=1, criterion=criterion).fit(X[:-1], y[:-1])
    assert tree.predict([[np.nan]])[0] == pytest.approx(value(y[-5:-1]))
