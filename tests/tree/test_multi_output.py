"""Multi-output y (n_samples, n_outputs) for the decision trees and forests, against
scikit-learn's on the same data: shapes and attributes, trees equal where the split search is
exact (at most 255 distinct values per feature, no ties between features), forest scores within
the usual tolerances, a property (an output repeated changes nothing) and bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import ensemble as sk_ensemble
from sklearn import tree as sk_tree
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import accuracy_score, r2_score

import skext


def _multilabel(n=2000, seed=0):
    """Three binary labels and a three-class output from their sum (count features: at most a
    few dozen distinct values each, so skext's bins are scikit-learn's thresholds)."""
    X, Y = make_multilabel_classification(n, 10, n_classes=3, random_state=seed)
    Y = Y.copy()
    Y[:, 2] += Y[:, 1]
    return X.astype(float), Y


def _regression(n=600, seed=0):
    """Three correlated targets of rounded features (<= 255 distinct values per feature)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).round(1)
    base = X[:, 0] + 2 * X[:, 1] * (X[:, 2] > 0)
    Y = np.column_stack((base, base - X[:, 3], 0.5 * base + X[:, 4] ** 2))
    return X, Y + 0.1 * rng.normal(size=Y.shape)


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_classifier_tree_equals_sklearns(criterion):
    X, Y = _multilabel()
    ours = skext.DecisionTreeClassifier(criterion=criterion, max_depth=4).fit(X, Y)
    theirs = sk_tree.DecisionTreeClassifier(criterion=criterion, max_depth=4,
                                            random_state=0).fit(X, Y)
    assert ours.n_outputs_ == theirs.n_outputs_ == 3
    assert isinstance(ours.classes_, list) and len(ours.classes_) == 3
    for a, b in zip(ours.classes_, theirs.classes_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.n_classes_, theirs.n_classes_)
    pred = ours.predict(X)
    assert pred.shape == (len(X), 3)
    np.testing.assert_array_equal(pred, theirs.predict(X))
    proba, sk_proba = ours.predict_proba(X), theirs.predict_proba(X)
    assert isinstance(proba, list) and [p.shape[1] for p in proba] == [2, 2, 3]
    for a, b in zip(proba, sk_proba):
        np.testing.assert_allclose(a, b, atol=1e-12)
    log_proba = ours.predict_log_proba(X)
    with np.errstate(divide="ignore"):
        for a, b in zip(log_proba, proba):
            np.testing.assert_allclose(a, np.log(b))
    # Impurity is the mean of the outputs' impurities (scikit-learn's), node by node.
    np.testing.assert_allclose(ours.tree_.impurity[0], theirs.tree_.impurity[0], rtol=1e-12)
    np.testing.assert_allclose(np.sort(ours.tree_.impurity), np.sort(theirs.tree_.impurity),
                               atol=1e-12)
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_,
                               atol=1e-12)


@pytest.mark.parametrize("criterion", ["squared_error", "friedman_mse", "poisson"])
def test_regressor_tree_equals_sklearns(criterion):
    X, Y = _regression()
    if criterion == "poisson":
        Y = np.abs(Y)
    ours = skext.DecisionTreeRegressor(criterion=criterion, max_depth=4).fit(X, Y)
    kwargs = {"criterion": "squared_error" if criterion == "friedman_mse" else criterion}
    theirs = sk_tree.DecisionTreeRegressor(max_depth=4, random_state=0, **kwargs).fit(X, Y)
    assert ours.n_outputs_ == 3
    pred = ours.predict(X)
    assert pred.shape == (len(X), 3)
    assert ours.tree_.node_count == theirs.tree_.node_count
    np.testing.assert_allclose(pred, theirs.predict(X), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours.tree_.impurity[0], theirs.tree_.impurity[0], rtol=1e-10)
    np.testing.assert_allclose(np.sort(ours.tree_.impurity), np.sort(theirs.tree_.impurity),
                               rtol=1e-8, atol=1e-9)


def test_class_weight_per_output_equals_sklearns():
    X, Y = _multilabel()
    class_weight = [{0: 1.0, 1: 3.0}, {0: 2.0, 1: 1.0}, {0: 1.0, 1: 1.0, 2: 5.0}]
    for cw in (class_weight, "balanced"):
        ours = skext.DecisionTreeClassifier(max_depth=4, class_weight=cw).fit(X, Y)
        theirs = sk_tree.DecisionTreeClassifier(max_depth=4, class_weight=cw,
                                                random_state=0).fit(X, Y)
        for a, b in zip(ours.predict_proba(X), theirs.predict_proba(X)):
            np.testing.assert_allclose(a, b, atol=1e-12)
    with pytest.raises(ValueError, match="For multi-output, class_weight should be a list"):
        skext.DecisionTreeClassifier(class_weight={0: 1.0, 1: 2.0}).fit(X, Y)


@pytest.mark.parametrize("name", ["RandomForestClassifier", "ExtraTreesClassifier"])
def test_forest_classifier_scores_near_sklearns(name):
    X, Y = _multilabel(4000)
    train, test = slice(0, 2000), slice(2000, None)
    kwargs = dict(n_estimators=60, random_state=0, n_jobs=2)
    ours = getattr(skext, name)(**kwargs).fit(X[train], Y[train])
    theirs = getattr(sk_ensemble, name)(**kwargs).fit(X[train], Y[train])
    pred = ours.predict(X[test])
    assert pred.shape == (2000, 3)
    ours_acc = np.mean([accuracy_score(Y[test, k], pred[:, k]) for k in range(3)])
    sk_pred = theirs.predict(X[test])
    sk_acc = np.mean([accuracy_score(Y[test, k], sk_pred[:, k]) for k in range(3)])
    assert ours_acc >= sk_acc - 0.01
    proba = ours.predict_proba(X[test])
    assert [p.shape for p in proba] == [(2000, 2), (2000, 2), (2000, 3)]
    for p in proba:
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
    for tree in ours.estimators_:
        assert tree.n_outputs_ == 3


@pytest.mark.parametrize("name", ["RandomForestRegressor", "ExtraTreesRegressor"])
def test_forest_regressor_scores_near_sklearns(name):
    X, Y = _regression(3000)
    train, test = slice(0, 1500), slice(1500, None)
    ours = getattr(skext, name)(n_estimators=50, random_state=0).fit(X[train], Y[train])
    theirs = getattr(sk_ensemble, name)(n_estimators=50, random_state=0).fit(X[train],
                                                                              Y[train])
    pred = ours.predict(X[test])
    assert pred.shape == (1500, 3)
    assert r2_score(Y[test], pred) >= r2_score(Y[test], theirs.predict(X[test])) - 0.02


def test_forest_oob_per_output():
    X, Y = _multilabel(1500)
    labels = Y[:, :2]  # multilabel-indicator: scikit-learn computes its OOB score
    ours = skext.RandomForestClassifier(40, oob_score=True, random_state=0).fit(X, labels)
    theirs = sk_ensemble.RandomForestClassifier(40, oob_score=True, random_state=0).fit(
        X, labels)
    assert ours.oob_decision_function_.shape == theirs.oob_decision_function_.shape == (
        1500, 2, 2)
    np.testing.assert_allclose(ours.oob_decision_function_.sum(axis=1), 1.0)
    assert abs(ours.oob_score_ - theirs.oob_score_) < 0.03
    with pytest.raises(ValueError, match="Got multiclass-multioutput"):
        skext.RandomForestClassifier(5, oob_score=True).fit(X, Y)
    Xr, Yr = _regression(1500)
    reg = skext.RandomForestRegressor(40, oob_score=True, random_state=0).fit(Xr, Yr)
    sk_reg = sk_ensemble.RandomForestRegressor(40, oob_score=True, random_state=0).fit(Xr, Yr)
    assert reg.oob_prediction_.shape == (1500, 3)
    assert abs(reg.oob_score_ - sk_reg.oob_score_) < 0.02


@pytest.mark.parametrize("estimator", [
    skext.DecisionTreeClassifier(max_depth=4, random_state=0),
    skext.ExtraTreesClassifier(10, random_state=0),
    skext.RandomForestRegressor(10, random_state=0),
])
def test_sparse_multi_output_equals_dense(estimator):
    X, Y = _multilabel(500)
    X[X < 2] = 0.0
    dense = estimator.fit(X, Y).predict(X)
    np.testing.assert_array_equal(estimator.fit(sp.csr_matrix(X), Y).predict(sp.csr_matrix(X)),
                                  dense)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n_copies=st.integers(2, 3),
       criterion=st.sampled_from(["gini", "entropy", "squared_error", "poisson"]))
def test_repeated_output_gives_the_single_output_tree(seed, n_copies, criterion):
    """The mean impurity of J copies of one output is that output's, so the tree's partition of
    the training rows, its impurities and every output's prediction are the single-output
    tree's (random sample weights: no two partitions score alike, which rounding could order
    either way; one partition reached through two features may still be numbered either
    way, so nodes are compared as sorted impurities and rows by their predictions)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 8, size=(120, 4)).astype(float)
    weight = rng.uniform(0.5, 2.0, 120)
    if criterion in ("gini", "entropy"):
        y = (X[:, 0] + rng.integers(0, 3, 120)) % 3
        cls = skext.DecisionTreeClassifier
    else:
        y = np.abs(X[:, 1] - X[:, 2] + rng.normal(size=120)) + 0.1
        cls = skext.DecisionTreeRegressor
    single = cls(criterion=criterion, max_depth=4).fit(X, y, sample_weight=weight)
    multi = cls(criterion=criterion, max_depth=4).fit(X, np.column_stack([y] * n_copies),
                                                      sample_weight=weight)
    assert multi.tree_.node_count == single.tree_.node_count
    np.testing.assert_allclose(np.sort(multi.tree_.impurity), np.sort(single.tree_.impurity),
                               rtol=1e-9, atol=1e-12)
    if cls is skext.DecisionTreeClassifier:
        for proba in multi.predict_proba(X):
            np.testing.assert_allclose(proba, single.predict_proba(X), atol=1e-12)
    else:
        for k in range(n_copies):
            np.testing.assert_allclose(multi.predict(X)[:, k], single.predict(X), rtol=1e-9)


def test_one_column_y_is_one_output():
    X, Y = _multilabel(300)
    column = skext.DecisionTreeClassifier(random_state=0).fit(X, Y[:, :1])
    flat = skext.DecisionTreeClassifier(random_state=0).fit(X, Y[:, 0])
    assert column.n_outputs_ == 1 and column.n_classes_ == 2
    np.testing.assert_array_equal(column.predict(X), flat.predict(X))
    with pytest.warns(UserWarning, match="A column-vector y was passed"):
        skext.RandomForestRegressor(5).fit(X, Y[:, :1].astype(float))


def test_bad_multi_output_input():
    X, Y = _multilabel(100)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        skext.DecisionTreeClassifier().fit(X, Y[:50])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        skext.RandomForestRegressor(5).fit(X, Y[:50].astype(float))
    Y_neg = Y.astype(float)
    Y_neg[0, 1] = -1.0
    with pytest.raises(ValueError, match="Some value\\(s\\) of y are negative"):
        skext.DecisionTreeRegressor(criterion="poisson").fit(X, Y_neg)
    with pytest.raises(ValueError, match="y should be a 1d array"):
        skext.GradientBoostingClassifier().fit(X, Y)


def test_sparse_y_rejected():
    X, Y = _multilabel(50)
    with pytest.raises(TypeError, match="Sparse data was passed for y"):
        skext.DecisionTreeClassifier().fit(X, sp.csr_matrix(Y))
    with pytest.raises(ValueError, match="sparse multilabel-indicator for y is not supported"):
        skext.RandomForestClassifier(5).fit(X, sp.csr_matrix(Y))
