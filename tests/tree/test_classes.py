"""DecisionTreeClassifier / DecisionTreeRegressor against scikit-learn, and bad input."""

import pickle

import numpy as np
import pytest
from sklearn import tree as sk_tree
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score

from skext.tree import DecisionTreeClassifier, DecisionTreeRegressor


@pytest.mark.parametrize("loader", [load_breast_cancer, load_wine, load_iris])
@pytest.mark.parametrize("params", [dict(max_depth=3), dict(max_leaf_nodes=8),
                                    dict(criterion="entropy", min_samples_leaf=5)])
def test_classifier_matches_sklearn_exactly_binned_data(loader, params):
    """<= 255 distinct values per feature: our bins are sklearn's thresholds, so the trees agree
    up to ties between equally good features."""
    X, y = loader(return_X_y=True)
    X = np.round(X, 1)
    ours = cross_val_score(DecisionTreeClassifier(random_state=0, **params), X, y, cv=5).mean()
    theirs = cross_val_score(sk_tree.DecisionTreeClassifier(random_state=0, **params), X, y,
                             cv=5).mean()
    assert abs(ours - theirs) <= 0.03


def test_regressor_identical_to_sklearn_when_no_ties():
    X, y = load_diabetes(return_X_y=True)
    ours = DecisionTreeRegressor(max_depth=3).fit(X, y)
    theirs = sk_tree.DecisionTreeRegressor(max_depth=3).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-12)
    # Node ids differ (sklearn numbers depth-first, we number children in pairs).
    np.testing.assert_allclose(np.sort(ours.tree_.impurity), np.sort(theirs.tree_.impurity),
                               rtol=1e-9)
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_, rtol=1e-9)


def test_missing_values_learned_and_predicted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] > 0).astype(int)
    X[y == 1, 1] = np.nan  # missingness is the signal in feature 1
    X[:, 0] = rng.normal(size=400)  # feature 0 becomes noise
    clf = DecisionTreeClassifier(max_depth=1).fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.predict([[0.0, np.nan]])[0] == 1
    assert clf.predict([[0.0, 0.5]])[0] == 0


def test_nan_at_predict_without_nan_in_training_goes_to_larger_child():
    X = np.r_[np.zeros(30), np.ones(10)][:, None]
    y = np.r_[np.zeros(30), np.ones(10)]
    reg = DecisionTreeRegressor(max_depth=1).fit(X, y)
    assert reg.predict([[np.nan]])[0] == 0.0


def test_zero_weight_equals_removed_rows():
    X, y = load_breast_cancer(return_X_y=True)
    w = np.ones(len(y))
    w[::3] = 0
    a = DecisionTreeClassifier(random_state=0).fit(X, y, sample_weight=w)
    b = DecisionTreeClassifier(random_state=0).fit(X[w > 0], y[w > 0])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_class_weight_balanced_shifts_predictions():
    X, y = load_breast_cancer(return_X_y=True)
    keep = np.r_[np.flatnonzero(y == 0)[:30], np.flatnonzero(y == 1)]
    X, y = X[keep], y[keep]
    plain = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    balanced = DecisionTreeClassifier(max_depth=1, class_weight="balanced",
                                      random_state=0).fit(X, y)
    assert (balanced.predict(X) == 0).sum() >= (plain.predict(X) == 0).sum()


def test_string_labels_and_pickle():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = DecisionTreeClassifier(random_state=0).fit(X, labels)
    assert set(clf.predict(X)) == set(labels)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))


def test_apply_depth_and_leaves():
    X, y = load_iris(return_X_y=True)
    clf = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    leaves = clf.apply(X)
    assert set(leaves) <= set(np.flatnonzero(clf.tree_.children_left == -1))
    assert clf.get_depth() == 2 and clf.get_n_leaves() == len(set(leaves))

# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [DecisionTreeClassifier, DecisionTreeRegressor])
def test_bad_input_messages(Estimator):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="Input y contains NaN"):
        Estimator().fit(X, np.where(y == 0, np.nan, 1.0))
    with pytest.raises(ValueError, match="Input y contains infinity"):
        Estimator().fit(X, np.where(y == 0, np.inf, 1.0))
    with pytest.raises(ValueError, match="Input X contains infinity"):
        Estimator().fit(np.where(X > 1, np.inf, X), y)
    with pytest.raises(ValueError, match="Negative values in data"):
        Estimator().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="0 sample"):
        Estimator().fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(NotFittedError):
        Estimator().predict(X)
    fitted = Estimator().fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        fitted.predict(X[:, :2])
    with pytest.raises(ValueError, match="max_depth"):
        Estimator(max_depth=0).fit(X, y)


def test_regressor_rejects_unsupported_criterion():
    with pytest.raises(ValueError, match="criterion"):
        DecisionTreeRegressor(criterion="mae").fit(np.zeros((4, 1)), np.arange(4.0))
