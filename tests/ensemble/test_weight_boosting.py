"""AdaBoost against scikit-learn's and a NumPy reference of SAMME, fast and generic paths."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import ensemble as sk_ensemble
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_friedman1,
    make_hastie_10_2,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier as SkTree

from skext.ensemble import AdaBoostClassifier, AdaBoostRegressor
from skext.tree import DecisionTreeClassifier, DecisionTreeRegressor

# --- against scikit-learn ----------------------------------------------------------------------


def test_hastie_textbook_experiment():
    # ESL 10.1: 400 stumps take the test error from ~46% (one stump) to ~12%.
    X, y = make_hastie_10_2(12_000, random_state=1)
    X_tr, y_tr, X_te, y_te = X[:2000], y[:2000], X[2000:], y[2000:]
    ours = AdaBoostClassifier(n_estimators=400, random_state=0).fit(X_tr, y_tr)
    theirs = sk_ensemble.AdaBoostClassifier(n_estimators=400, random_state=0).fit(X_tr, y_tr)
    errors = [1 - s for s in ours.staged_score(X_te, y_te)]
    assert errors[0] > 0.4 and errors[-1] < 0.15
    assert ours.score(X_te, y_te) >= theirs.score(X_te, y_te) - 0.01


@pytest.mark.parametrize("name, depth", [("breast_cancer", 1), ("digits", 3)])
def test_classifier_accuracy_matches_sklearn(name, depth):
    X, y = (load_breast_cancer if name == "breast_cancer" else load_digits)(return_X_y=True)
    ours = AdaBoostClassifier(DecisionTreeClassifier(max_depth=depth), n_estimators=50,
                              random_state=0)
    theirs = sk_ensemble.AdaBoostClassifier(SkTree(max_depth=depth), n_estimators=50,
                                            random_state=0)
    assert (cross_val_score(ours, X, y, cv=3).mean()
            >= cross_val_score(theirs, X, y, cv=3).mean() - 0.01)


@pytest.mark.parametrize("name", ["friedman1", "diabetes"])
@pytest.mark.parametrize("boosting", ["resample", "reweight"])
def test_regressor_r2_matches_sklearn(name, boosting):
    # scikit-learn's AdaBoostRegressor resamples (our default); reweighting is the variant,
    # allowed 0.03.
    X, y = (make_friedman1(1000, noise=1.0, random_state=0) if name == "friedman1"
            else load_diabetes(return_X_y=True))
    ours = AdaBoostRegressor(n_estimators=50, random_state=0, boosting=boosting)
    theirs = sk_ensemble.AdaBoostRegressor(n_estimators=50, random_state=0)
    tolerance = 0.02 if boosting == "resample" else 0.03
    assert (cross_val_score(ours, X, y, cv=3).mean()
            >= cross_val_score(theirs, X, y, cv=3).mean() - tolerance)


def test_same_learner_gives_sklearns_weights_and_errors():
    # With scikit-learn's own tree as the learner (generic path) the loops are the same.
    X, y = load_breast_cancer(return_X_y=True)
    ours = AdaBoostClassifier(SkTree(max_depth=1), n_estimators=20, random_state=0).fit(X, y)
    theirs = sk_ensemble.AdaBoostClassifier(SkTree(max_depth=1), n_estimators=20,
                                            random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.estimator_weights_, theirs.estimator_weights_, rtol=1e-10)
    np.testing.assert_allclose(ours.estimator_errors_, theirs.estimator_errors_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-10)


# --- against a NumPy reference of SAMME --------------------------------------------------------


def _samme_reference(X, y, n_estimators, learning_rate, depth):
    """SAMME written out step by step (weights clipped at eps before each round, as
    scikit-learn's): each round a tree fitted with the current weights,
    weighted error e, alpha = lr (log((1 - e) / e) + log(K - 1)), misclassified weights times
    exp(alpha), renormalised."""
    K = len(np.unique(y))
    w = np.full(len(y), 1.0 / len(y))
    weights, errors = [], []
    rng = np.random.RandomState(0)
    for m in range(n_estimators):
        w = np.clip(w, np.finfo(float).eps, None)
        tree = DecisionTreeClassifier(max_depth=depth, random_state=rng.randint(2**31 - 1))
        wrong = tree.fit(X, y, sample_weight=w).predict(X) != y
        err = np.average(wrong, weights=w)
        if err <= 0:
            weights.append(1.0)
            errors.append(0.0)
            break
        if err >= 1 - 1 / K:
            break
        alpha = learning_rate * (np.log((1 - err) / err) + np.log(K - 1))
        weights.append(alpha)
        errors.append(err)
        if m < n_estimators - 1:
            w = np.where(wrong, w * np.exp(alpha), w)
            w /= w.sum()
    return np.array(weights), np.array(errors)


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), n_classes=st.integers(2, 4),
       learning_rate=st.floats(0.1, 1.0))
def test_weights_and_errors_match_samme_reference(seed, n_classes, learning_rate):
    rng = np.random.default_rng(seed)
    # Few distinct feature values: binning once (fast path) equals binning each round.
    X = rng.integers(0, 20, size=(120, 3)).astype(float)
    y = (X[:, 0] + 3 * rng.random(120)).astype(int) % n_classes
    if len(np.unique(y)) < 2:
        return
    model = AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=8,
                               learning_rate=learning_rate, random_state=0).fit(X, y)
    weights, errors = _samme_reference(X, y, 8, learning_rate, depth=2)
    n = len(model.estimators_)
    assert n == len(weights)
    np.testing.assert_allclose(model.estimator_weights_[:n], weights, rtol=1e-9)
    np.testing.assert_allclose(model.estimator_errors_[:n], errors, rtol=1e-9)


# --- behaviour ---------------------------------------------------------------------------------


def test_fast_path_equals_generic_path_when_bins_are_exact():
    # Integer features (< 255 values): binning once equals the tree re-binning every round.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 50, size=(300, 4)).astype(float)
    y = (X[:, 0] + X[:, 1] > 50).astype(int) ^ (rng.random(300) < 0.1)
    fast = AdaBoostClassifier(n_estimators=30, random_state=0).fit(X, y)

    class Wrapped(DecisionTreeClassifier):  # a subclass: not recognised, generic path
        pass

    generic = AdaBoostClassifier(Wrapped(max_depth=1), n_estimators=30, random_state=0).fit(X, y)
    assert fast._fast and not generic._fast
    np.testing.assert_allclose(fast.estimator_weights_, generic.estimator_weights_, rtol=1e-12)
    np.testing.assert_allclose(fast.decision_function(X), generic.decision_function(X),
                               rtol=1e-12)


def test_resample_is_reproducible_and_differs_from_reweight():
    X, y = make_hastie_10_2(1000, random_state=0)
    a = AdaBoostClassifier(n_estimators=20, boosting="resample", random_state=3).fit(X, y)
    b = AdaBoostClassifier(n_estimators=20, boosting="resample", random_state=3).fit(X, y)
    c = AdaBoostClassifier(n_estimators=20, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.estimator_weights_, b.estimator_weights_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.estimator_weights_, c.estimator_weights_)


def test_generic_path_with_logistic_regression_and_without_sample_weight():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    logistic = AdaBoostClassifier(LogisticRegression(), n_estimators=10, random_state=0)
    assert cross_val_score(logistic, X, y, cv=3).mean() > 0.93
    knn = AdaBoostClassifier(KNeighborsClassifier(), n_estimators=5, boosting="resample",
                             random_state=0).fit(X, y)
    assert knn.score(X, y) > 0.9
    with pytest.raises(TypeError, match="does not support sample_weight"):
        AdaBoostClassifier(KNeighborsClassifier()).fit(X, y)


def test_staged_methods_end_at_the_final_model():
    X, y = load_digits(n_class=3, return_X_y=True)
    model = AdaBoostClassifier(DecisionTreeClassifier(max_depth=2), n_estimators=15,
                               random_state=0).fit(X, y)
    decisions = list(model.staged_decision_function(X))
    assert len(decisions) == len(model.estimators_)
    np.testing.assert_allclose(decisions[-1], model.decision_function(X))
    np.testing.assert_array_equal(list(model.staged_predict(X))[-1], model.predict(X))
    np.testing.assert_allclose(list(model.staged_predict_proba(X))[-1], model.predict_proba(X))
    Xr, yr = make_friedman1(300, random_state=0)
    reg = AdaBoostRegressor(n_estimators=10, random_state=0).fit(Xr, yr)
    np.testing.assert_array_equal(list(reg.staged_predict(Xr))[-1], reg.predict(Xr))
    assert len(list(reg.staged_score(Xr, yr))) == len(reg.estimators_)


def test_stops_at_a_perfect_learner():
    X = np.arange(20, dtype=float)[:, None]
    y = (X[:, 0] > 9).astype(int)
    model = AdaBoostClassifier(n_estimators=10).fit(X, y)
    assert len(model.estimators_) == 1 and model.estimator_errors_[0] == 0.0


def test_missing_values_on_the_fast_path_and_pickle():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3))
    missing = rng.random(1000) < 0.3
    X[missing, 0] = np.nan
    y = missing.astype(int)
    model = AdaBoostClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert model.score(X, y) == 1.0
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert np.isclose(model.feature_importances_.sum(), 1.0)


def test_regressor_default_learner_and_weighted_median():
    X, y = make_friedman1(500, random_state=0)
    model = AdaBoostRegressor(n_estimators=7, random_state=0).fit(X, y)
    assert all(isinstance(e, DecisionTreeRegressor) and e.get_depth() <= 3
               for e in model.estimators_)
    # The weighted median is one of the estimators' predictions, row by row.
    preds = np.column_stack([e.predict(X) for e in model.estimators_])
    assert np.all(np.any(preds == model.predict(X)[:, None], axis=1))


# --- bad input ---------------------------------------------------------------------------------


def test_bad_parameters():
    X, y = make_hastie_10_2(100, random_state=0)
    for Model in (AdaBoostClassifier, AdaBoostRegressor):
        with pytest.raises(ValueError, match="learning_rate"):
            Model(learning_rate=0.0).fit(X, y)
        with pytest.raises(ValueError, match="n_estimators"):
            Model(n_estimators=0).fit(X, y)
        with pytest.raises(ValueError, match="boosting"):
            Model(boosting="bagging").fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        AdaBoostRegressor(loss="huber").fit(X, y)
