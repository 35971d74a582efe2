"""Gradient boosting against scikit-learn's GradientBoosting, and its sklearn-API behaviour."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import ensemble as sk_ensemble
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
    make_friedman1,
    make_hastie_10_2,
)
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skext.ensemble import GradientBoostingClassifier, GradientBoostingRegressor


def _coarse_data(seed=0, n=600):
    """Features with < 255 distinct values: skext's bins are then exact, and its trees split
    exactly where scikit-learn's do."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 5)) * 15) / 15
    y = X[:, 0] + np.sin(3 * X[:, 1]) + 0.3 * rng.normal(size=n)
    return X, y


# --- same trees as scikit-learn -----------------------------------------------------------------

@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_regression_equals_sklearn_when_bins_are_exact(loss):
    # Same splits, same leaf re-estimation, same loss scale: equal to rounding.
    X, y = _coarse_data()
    ours = GradientBoostingRegressor(loss=loss, n_estimators=20, random_state=0).fit(X, y)
    theirs = sk_ensemble.GradientBoostingRegressor(loss=loss, n_estimators=20,
                                                   random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.train_score_, theirs.train_score_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-9)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_loss_equals_sklearn_when_bins_are_exact(n_classes):
    X, y = _coarse_data()
    y = np.digitize(y, [0.3] if n_classes == 2 else [-0.5, 0.7])
    ours = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, y)
    theirs = sk_ensemble.GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.train_score_, theirs.train_score_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-9)
    # Deep near-zero-gain splits may pick another feature that separates the same rows.
    np.testing.assert_allclose(ours.feature_importances_, theirs.feature_importances_,
                               atol=0.005)


@pytest.mark.parametrize("loss", ["absolute_error", "quantile"])
def test_discrete_gradient_losses_close_to_sklearn(loss):
    # Gradients of +-1 / alpha make many splits tie; tie-breaking may differ, scores do not.
    X, y = _coarse_data()
    ours = GradientBoostingRegressor(loss=loss, n_estimators=20, random_state=0).fit(X, y)
    theirs = sk_ensemble.GradientBoostingRegressor(loss=loss, n_estimators=20,
                                                   random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.train_score_, theirs.train_score_, rtol=0.03)


# --- scores against scikit-learn (same parameters) ----------------------------------------------

@pytest.mark.parametrize("name, params", [
    ("breast_cancer", {}),
    ("breast_cancer_exponential", {"loss": "exponential"}),
    ("digits", {"n_estimators": 20, "max_depth": 3}),
    ("hastie", {"n_estimators": 100}),
])
def test_classifier_accuracy_matches_sklearn(name, params):
    if name.startswith("breast_cancer"):
        X, y = load_breast_cancer(return_X_y=True)
    elif name == "digits":
        X, y = load_digits(return_X_y=True)
    else:
        X, y = make_hastie_10_2(3000, random_state=0)
    ours = cross_val_score(GradientBoostingClassifier(random_state=0, **params), X, y, cv=3)
    theirs = cross_val_score(sk_ensemble.GradientBoostingClassifier(random_state=0, **params),
                             X, y, cv=3)
    assert ours.mean() >= theirs.mean() - 0.01


@pytest.mark.parametrize("name, loss", [
    ("diabetes", "squared_error"), ("friedman1", "squared_error"), ("friedman1", "huber"),
    ("friedman1", "absolute_error"),
])
def test_regressor_r2_matches_sklearn(name, loss):
    X, y = (load_diabetes(return_X_y=True) if name == "diabetes"
            else make_friedman1(1500, noise=1.0, random_state=0))
    ours = cross_val_score(GradientBoostingRegressor(loss=loss, random_state=0), X, y, cv=3)
    theirs = cross_val_score(sk_ensemble.GradientBoostingRegressor(loss=loss, random_state=0),
                             X, y, cv=3)
    assert ours.mean() >= theirs.mean() - 0.02


# --- the boosting loop --------------------------------------------------------------------------

@pytest.mark.parametrize("Model, data", [
    (GradientBoostingClassifier, lambda: load_breast_cancer(return_X_y=True)),
    (GradientBoostingClassifier, lambda: load_digits(n_class=4, return_X_y=True)),
    (GradientBoostingRegressor, lambda: make_friedman1(300, random_state=0)),
])
def test_last_stage_equals_predict(Model, data):
    X, y = data()
    model = Model(n_estimators=15, subsample=0.8, random_state=0).fit(X, y)
    stages = list(model.staged_predict(X))
    assert len(stages) == model.n_estimators_ == 15
    np.testing.assert_array_equal(stages[-1], model.predict(X))
    if Model is GradientBoostingClassifier:
        probas = list(model.staged_predict_proba(X))
        np.testing.assert_allclose(probas[-1], model.predict_proba(X), atol=1e-12)
        decisions = list(model.staged_decision_function(X))
        np.testing.assert_allclose(decisions[-1], model.decision_function(X), atol=1e-12)
        np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), model.predict_proba(X))


def test_warm_start_equals_one_fit():
    # Row subsampling and max_features draw from per-stage seeds: 30 + 20 rounds == 50 rounds.
    X, y = make_hastie_10_2(600, random_state=0)
    params = dict(subsample=0.7, max_features=5, random_state=3)
    once = GradientBoostingClassifier(n_estimators=50, **params).fit(X, y)
    warm = GradientBoostingClassifier(n_estimators=30, warm_start=True, **params).fit(X, y)
    warm.set_params(n_estimators=50).fit(X, y)
    np.testing.assert_array_equal(warm.decision_function(X), once.decision_function(X))
    np.testing.assert_array_equal(warm.train_score_, once.train_score_)
    with pytest.raises(ValueError, match="must be larger or equal"):
        warm.set_params(n_estimators=10).fit(X, y)


def test_bit_identical_for_any_n_jobs():
    X, y = make_hastie_10_2(3000, random_state=0)
    models = [GradientBoostingClassifier(n_estimators=20, subsample=0.8, random_state=0,
                                         n_jobs=n_jobs).fit(X, y) for n_jobs in (1, 2, -1)]
    for model in models[1:]:
        np.testing.assert_array_equal(model.train_score_, models[0].train_score_)
        np.testing.assert_array_equal(model.predict_proba(X), models[0].predict_proba(X))


def test_early_stopping():
    X, y = make_friedman1(1000, noise=0.5, random_state=0)
    model = GradientBoostingRegressor(n_estimators=1000, learning_rate=0.3, n_iter_no_change=5,
                                      validation_fraction=0.2, random_state=0).fit(X, y)
    assert 5 < model.n_estimators_ < 1000
    assert model.estimators_.shape == (model.n_estimators_, 1)
    assert len(model.train_score_) == model.n_estimators_
    assert len(list(model.staged_predict(X))) == model.n_estimators_


def test_quantile_regression_covers_alpha_on_held_out_data():
    # Heteroscedastic noise: the quantiles are not the mean shifted by a constant.
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(8000, 2))
    y = 2 * X[:, 0] + (0.5 + X[:, 1]) * rng.normal(size=8000)
    for alpha in (0.1, 0.5, 0.9):
        model = GradientBoostingRegressor(loss="quantile", alpha=alpha, max_depth=2,
                                          random_state=0).fit(X[:4000], y[:4000])
        coverage = np.mean(y[4000:] <= model.predict(X[4000:]))
        assert abs(coverage - alpha) <= 0.02


def test_subsample_gives_oob_attributes():
    X, y = make_hastie_10_2(800, random_state=0)
    model = GradientBoostingClassifier(n_estimators=30, subsample=0.5, random_state=0).fit(X, y)
    assert model.oob_improvement_.shape == model.oob_scores_.shape == (30,)
    assert model.oob_score_ == model.oob_scores_[-1]
    assert model.oob_improvement_[:5].sum() > 0
    assert not hasattr(GradientBoostingClassifier(n_estimators=3).fit(X, y), "oob_scores_")


def test_init_estimator_and_zero():
    X, y = make_friedman1(400, random_state=0)
    zero = GradientBoostingRegressor(init="zero", n_estimators=1, learning_rate=1.0,
                                     max_depth=1).fit(X, y)
    assert zero.init_ == "zero"
    # One stump from zero: each side predicts its mean.
    assert set(np.round(zero.predict(X), 9)) == set(np.round(
        [y[zero.apply(X)[:, 0] == leaf].mean() for leaf in (1, 2)], 9))
    custom = GradientBoostingRegressor(init=DummyRegressor(strategy="constant", constant=5.0),
                                       n_estimators=0 + 1, learning_rate=0.0).fit(X, y)
    np.testing.assert_allclose(custom.predict(X), 5.0)
    clf = GradientBoostingClassifier(init=LogisticRegression(), n_estimators=5).fit(
        *load_breast_cancer(return_X_y=True))
    assert clf.score(*load_breast_cancer(return_X_y=True)) > 0.9


def test_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(42)
    X, y = rng.random((45, 5)), rng.normal(size=45)
    sw = rng.integers(0, 5, 45)
    weighted = GradientBoostingRegressor(n_estimators=10, random_state=0).fit(X, y,
                                                                              sample_weight=sw)
    repeated = GradientBoostingRegressor(n_estimators=10, random_state=0).fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), atol=1e-12)


def test_missing_values_are_learned():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    missing = rng.random(2000) < 0.3
    y = np.where(missing, 3.0, X[:, 1])
    X[missing, 0] = np.nan
    model = GradientBoostingRegressor(n_estimators=50, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.95
    assert np.allclose(model.predict(X[missing]), 3.0, atol=0.2)


def test_apply_shape_and_importances():
    X, y = load_digits(n_class=3, return_X_y=True)
    model = GradientBoostingClassifier(n_estimators=4, random_state=0).fit(X, y)
    leaves = model.apply(X)
    assert leaves.shape == (len(X), 4, 3)
    tree = model.estimators_[2, 1]
    np.testing.assert_array_equal(leaves[:, 2, 1], tree.apply(X))
    assert np.isclose(model.feature_importances_.sum(), 1.0)


def test_pickle_pandas_pipeline_gridsearch():
    X, y = load_breast_cancer(return_X_y=True)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(frame), clf.predict_proba(frame))
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators=10)),
        {"gradientboostingclassifier__max_depth": [1, 3]}, cv=3).fit(frame, y)
    assert search.best_score_ > 0.9


# --- bad input ----------------------------------------------------------------------------------

def test_bad_parameters():
    X, y = make_hastie_10_2(200, random_state=0)
    with pytest.raises(ValueError, match="loss"):
        GradientBoostingRegressor(loss="log_loss").fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        GradientBoostingClassifier(loss="squared_error").fit(X, y)
    with pytest.raises(ValueError, match="criterion"):
        GradientBoostingRegressor(criterion="gini").fit(X, y)
    for alpha in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="alpha"):
            GradientBoostingRegressor(loss="quantile", alpha=alpha).fit(X, y)
    with pytest.raises(ValueError, match="only suitable for a binary classification"):
        GradientBoostingClassifier(loss="exponential").fit(X, np.arange(200) % 3)
    with pytest.raises(ValueError, match="ccp_alpha"):
        GradientBoostingClassifier(ccp_alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        GradientBoostingRegressor().fit(X, np.where(np.arange(200) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match="minimum of 2 classes"):
        GradientBoostingClassifier().fit(X, y, sample_weight=(y > 0).astype(float))


@settings(max_examples=10)
@given(max_depth=st.integers(1, 5), learning_rate=st.floats(0.05, 1.0),
       min_samples_leaf=st.integers(1, 20), seed=st.integers(0, 1000))
def test_training_loss_never_increases(max_depth, learning_rate, min_samples_leaf, seed):
    """Squared error with every row in bag: each tree's leaves move the training predictions
    toward the leaf means (Friedman's exact line search, shrunk by a learning rate <= 1), so
    the training loss after each stage is at most the one before (STYLE's property)."""
    X, y = make_friedman1(n_samples=300, noise=1.0, random_state=seed)
    model = GradientBoostingRegressor(n_estimators=15, max_depth=max_depth,
                                      learning_rate=learning_rate,
                                      min_samples_leaf=min_samples_leaf, random_state=seed)
    loss = model.fit(X, y).train_score_
    assert np.all(np.diff(loss) <= 1e-12 * loss[:-1])
    assert loss[-1] < loss[0]


def test_apply_shapes_are_sklearns():
    """apply: (n_samples, n_estimators) for the regressor, (n_samples, n_estimators, K) for the
    classifier (K = 1 when binary), as scikit-learn's."""
    X, y = make_friedman1(200, random_state=0)
    ours = GradientBoostingRegressor(n_estimators=7).fit(X, y).apply(X)
    theirs = sk_ensemble.GradientBoostingRegressor(n_estimators=7).fit(X, y).apply(X)
    assert ours.shape == theirs.shape == (200, 7)
    Xc, yc = make_classification(200, random_state=0)
    ours = GradientBoostingClassifier(n_estimators=7).fit(Xc, yc).apply(Xc)
    theirs = sk_ensemble.GradientBoostingClassifier(n_estimators=7).fit(Xc, yc).apply(Xc)
    assert ours.shape == theirs.shape == (200, 7, 1)
