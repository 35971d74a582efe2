"""criterion="poisson" (half Poisson deviance) for the regression trees and forests, against
scikit-learn's on the same data and a brute-force split search."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import ensemble as sk_ensemble
from sklearn import tree as sk_tree
from sklearn.metrics import mean_poisson_deviance, r2_score

import skext
from skext.tree._classes import regression_stats
from skext.tree._criterion import _split_gain
from skext.tree._types import CRITERION_POISSON, MISSING_BIN
from tests.tree.test_splitter import PARAMS, _found_brute_force_split, _kernel


def _counts(n=2000, seed=0):
    """Poisson counts whose log-mean is linear in integer features (at most 20 distinct values:
    skext's bins are then scikit-learn's thresholds)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 20, size=(n, 5)).astype(float)
    mu = np.exp(0.1 * X[:, 0] - 0.05 * X[:, 1] + 0.3 * (X[:, 2] > 10))
    return X, rng.poisson(mu).astype(float)


@pytest.mark.parametrize("max_depth", [2, 4])
def test_tree_equals_sklearns(max_depth):
    X, y = _counts()
    ours = skext.DecisionTreeRegressor(criterion="poisson", max_depth=max_depth).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(criterion="poisson", max_depth=max_depth,
                                           random_state=0).fit(X, y)
    assert ours.tree_.node_count == theirs.tree_.node_count
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12)
    # Node impurity is scikit-learn's half Poisson deviance per unit weight.
    np.testing.assert_allclose(ours.tree_.impurity[0], theirs.tree_.impurity[0], rtol=1e-12)
    np.testing.assert_allclose(np.sort(ours.tree_.impurity), np.sort(theirs.tree_.impurity),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["RandomForestRegressor", "ExtraTreesRegressor"])
def test_forest_scores_as_sklearns(name):
    X, y = _counts(3000)
    train, test = slice(0, 2000), slice(2000, None)
    params = dict(n_estimators=60, criterion="poisson", min_samples_leaf=5, random_state=0)
    ours = getattr(skext, name)(**params).fit(X[train], y[train]).predict(X[test])
    theirs = getattr(sk_ensemble, name)(**params).fit(X[train], y[train]).predict(X[test])
    assert abs(r2_score(y[test], ours) - r2_score(y[test], theirs)) < 0.02
    assert abs(mean_poisson_deviance(y[test], ours)
               - mean_poisson_deviance(y[test], theirs)) < 0.02
    assert (ours > 0).all()   # no leaf predicts 0: a child with sum(y) = 0 is never made


def test_pure_and_zero_sum_children_are_not_split():
    X = np.arange(8.0).reshape(-1, 1)
    # A single 1 among zeros: every split leaves a side with sum(y) = 0.
    tree = skext.DecisionTreeRegressor(criterion="poisson").fit(X, [0, 0, 0, 1, 0, 0, 0, 0])
    assert tree.tree_.node_count == 1
    # Equal non-integer y: a pure node (its deviance is 0, not the sums' rounding).
    tree = skext.DecisionTreeRegressor(criterion="poisson").fit(X, np.full(8, 2.7))
    assert tree.tree_.node_count == 1 and tree.tree_.impurity[0] == 0.0


@pytest.mark.parametrize("name, message", [
    ("DecisionTreeRegressor", "Sum of y is not positive which is necessary for Poisson"),
    ("RandomForestRegressor", "Sum of y is not strictly positive which is necessary for Poisson"),
    ("ExtraTreesRegressor", "Sum of y is not strictly positive which is necessary for Poisson"),
])
def test_bad_targets_rejected_with_sklearns_messages(name, message):
    X = np.arange(12.0).reshape(-1, 2)
    est = getattr(skext, name)(criterion="poisson")
    with pytest.raises(ValueError, match="Some value\\(s\\) of y are negative which is not "
                                         "allowed for Poisson regression"):
        est.fit(X, [1, 2, -1, 0, 3, 1])
    with pytest.raises(ValueError, match=message):
        est.fit(X, np.zeros(6))


@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 60), min_samples_leaf=st.integers(1, 3),
       full=st.booleans(), missing=st.sampled_from([0.0, 0.2]))
def test_split_search_matches_brute_force(seed, n, min_samples_leaf, full, missing):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 8, size=(n, 3)).astype(np.uint8)
    X[rng.random(X.shape) < missing] = MISSING_BIN
    y = rng.poisson(rng.choice([0.3, 2.0]), size=n).astype(float)
    stats = regression_stats(y, rng.integers(1, 3, n).astype(float), CRITERION_POISSON)
    gain, meta, left, node = _kernel(X, stats, CRITERION_POISSON, min_samples_leaf, full=full)
    if _found_brute_force_split(gain, meta, X, stats, CRITERION_POISSON, PARAMS,
                                min_samples_leaf, 0.0):
        assert left[2] > 0 and node[2] - left[2] > 0
        assert np.isclose(_split_gain(left, node - left, node, CRITERION_POISSON, PARAMS), gain)
