"""XGBClassifier / XGBRegressor against xgboost (hist) and NumPy references of the objectives."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_friedman1
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from skext.ensemble import XGBClassifier, XGBRegressor
from skext.ensemble._objectives import (
    Gamma,
    Logistic,
    Poisson,
    PseudoHuber,
    Softmax,
    SquaredError,
    Tweedie,
)

xgboost = pytest.importorskip("xgboost")

PARAMS = dict(n_estimators=60, max_depth=3, learning_rate=0.2, random_state=0, n_jobs=1)


def _split(X, y):
    return train_test_split(X, y, test_size=0.3, random_state=0)


# --- against xgboost -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["breast_cancer", "digits"])
def test_classifier_accuracy_matches_xgboost(name):
    X, y = (load_breast_cancer if name == "breast_cancer" else load_digits)(return_X_y=True)
    X_tr, X_te, y_tr, y_te = _split(X, y)
    ours = XGBClassifier(**PARAMS).fit(X_tr, y_tr).score(X_te, y_te)
    theirs = xgboost.XGBClassifier(tree_method="hist", **PARAMS).fit(X_tr, y_tr).score(X_te,
                                                                                      y_te)
    assert ours >= theirs - 0.01


@pytest.mark.parametrize("name, objective", [
    ("friedman1", "reg:squarederror"), ("diabetes", "reg:squarederror"),
    ("friedman1", "reg:pseudohubererror"), ("poisson", "count:poisson"),
    ("gamma", "reg:gamma"), ("poisson", "reg:tweedie"),
])
def test_regressor_matches_xgboost(name, objective):
    rng = np.random.default_rng(0)
    if name == "friedman1":
        X, y = make_friedman1(2000, noise=1.0, random_state=0)
    elif name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    else:
        X = rng.normal(size=(3000, 5))
        mean = np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])
        y = rng.poisson(mean).astype(float) if name == "poisson" else rng.gamma(2.0, mean / 2)
    X_tr, X_te, y_tr, y_te = _split(X, y)
    ours = XGBRegressor(objective=objective, **PARAMS).fit(X_tr, y_tr)
    theirs = xgboost.XGBRegressor(objective=objective, tree_method="hist", **PARAMS).fit(X_tr,
                                                                                        y_tr)
    # R^2 of the predicted means within 0.02 of xgboost's (as the other boosters' tests).
    assert (r2_score(y_te, ours.predict(X_te))
            >= r2_score(y_te, theirs.predict(X_te)) - 0.02)


def test_early_stopping_and_evals_result_follow_xgboost():
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = _split(X, y)
    kw = dict(n_estimators=500, learning_rate=0.3, max_depth=3, eval_metric="logloss",
              early_stopping_rounds=10, random_state=0)
    ours = XGBClassifier(**kw).fit(X_tr, y_tr, eval_set=[(X_te, y_te)])
    history = ours.evals_result()["validation_0"]["logloss"]
    assert ours.best_iteration < len(history) - 1 < 499
    assert len(history) == ours.best_iteration + 11
    assert ours.best_score == min(history)
    # predict uses the best iteration; iteration_range=(0, 0) means every tree.
    best = ours.predict_proba(X_te, iteration_range=(0, ours.best_iteration + 1))
    np.testing.assert_array_equal(ours.predict_proba(X_te), best)
    assert not np.array_equal(ours.predict_proba(X_te, iteration_range=(0, 0)), best)


# --- objectives against NumPy references ---------------------------------------------------------

def _loss(obj, y, r):
    """Per-sample losses whose margin derivatives the objectives' gradients are."""
    if isinstance(obj, SquaredError):
        return 0.5 * (r[:, 0] - y) ** 2
    if isinstance(obj, PseudoHuber):
        z = (r[:, 0] - y) / obj.slope
        return obj.slope**2 * (np.sqrt(1 + z * z) - 1)
    if isinstance(obj, Logistic):
        return np.logaddexp(0, r[:, 0]) - y * r[:, 0]
    if isinstance(obj, Softmax):
        return logsumexp(r, axis=1) - r[np.arange(len(y)), y.astype(int)]
    if isinstance(obj, Poisson):
        return np.exp(r[:, 0]) - y * r[:, 0]
    if isinstance(obj, Gamma):
        return y * np.exp(-r[:, 0]) + r[:, 0]
    rho = obj.rho
    return (-y * np.exp((1 - rho) * r[:, 0]) / (1 - rho)
            + np.exp((2 - rho) * r[:, 0]) / (2 - rho))


OBJECTIVES = [SquaredError(), PseudoHuber(1.5), Logistic(), Softmax(3), Poisson(0.7), Gamma(),
              Tweedie(1.3)]


@pytest.mark.parametrize("obj", OBJECTIVES, ids=lambda o: o.name)
@given(seed=st.integers(0, 10_000))
def test_gradient_and_hessian_are_the_loss_derivatives(obj, seed):
    rng = np.random.default_rng(seed)
    n, K = 20, obj.n_outputs
    raw = rng.normal(size=(n, K))
    if isinstance(obj, Softmax):
        y = rng.integers(0, 3, n).astype(float)
    elif isinstance(obj, Logistic):
        y = rng.integers(0, 2, n).astype(float)
    elif isinstance(obj, (Poisson, Gamma, Tweedie)):
        y = rng.gamma(2.0, 1.0, n)
    else:
        y = rng.normal(size=n) * 2
    grad, hess = obj.grad_hess(y, raw)
    eps = 1e-5
    for k in range(K):
        up, down = raw.copy(), raw.copy()
        up[:, k] += eps
        down[:, k] -= eps
        d1 = (_loss(obj, y, up) - _loss(obj, y, down)) / (2 * eps)
        # Second derivative from the (just checked) gradient: better conditioned than a second
        # difference of the loss.
        d2 = (obj.grad_hess(y, up)[0][:, k] - obj.grad_hess(y, down)[0][:, k]) / (2 * eps)
        np.testing.assert_allclose(grad[:, k], d1, rtol=1e-5, atol=1e-6)
        # xgboost's deliberate deviations: the multiclass hessian is 2 p (1 - p), Poisson's is
        # multiplied by exp(max_delta_step).
        factor = (2.0 if isinstance(obj, Softmax)
                  else np.exp(obj.max_delta_step) if isinstance(obj, Poisson) else 1.0)
        np.testing.assert_allclose(hess[:, k], factor * d2, rtol=1e-3, atol=1e-5)


# --- behaviour -----------------------------------------------------------------------------------

def test_leaf_weights_follow_lambda_alpha_and_max_delta_step():
    # One stump on two groups: leaf = -T_alpha(G) / (H + lambda) * learning_rate, clipped.
    X = np.array([[0.0]] * 4 + [[1.0]] * 4)
    y = np.array([1.0] * 4 + [3.0] * 4)
    model = XGBRegressor(n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.0,
                         reg_lambda=2.0, reg_alpha=0.5, min_child_weight=0).fit(X, y)
    # Group 1: G = -4, H = 4 -> -(-4 + 0.5) / 6; group 2: G = -12 -> 11.5 / 6. (With alpha = 1
    # the split would not pay: T(-4)^2/6 + T(-12)^2/6 < T(-16)^2/10, in xgboost too.)
    np.testing.assert_allclose(model.predict(np.array([[0.0], [1.0]])), [3.5 / 6, 11.5 / 6])
    no_split = XGBRegressor(n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.0,
                            reg_lambda=2.0, reg_alpha=1.0, min_child_weight=0).fit(X, y)
    np.testing.assert_allclose(no_split.predict(np.array([[0.0], [1.0]])), [1.5, 1.5])
    # max_delta_step clips the leaves: -4 / 5 = -0.8 stays, 12 / 5 = 2.4 becomes 1.
    y2 = np.array([-1.0] * 4 + [3.0] * 4)
    clipped = XGBRegressor(n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.0,
                           max_delta_step=1.0, min_child_weight=0).fit(X, y2)
    np.testing.assert_allclose(clipped.predict(np.array([[0.0], [1.0]])), [-0.8, 1.0])


def test_lossguide_max_leaves_missing_values_and_pickle():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    missing = rng.random(2000) < 0.2
    y = np.where(missing, 5.0, X[:, 0])
    X[missing, 0] = np.nan
    model = XGBRegressor(n_estimators=30, grow_policy="lossguide", max_leaves=7, max_depth=0,
                         learning_rate=0.3).fit(X, y)
    assert all(t.n_leaves <= 7 for round_trees in model._trees for t in round_trees)
    assert np.abs(model.predict(X[missing]) - 5.0).max() < 0.1
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert model.apply(X).shape == (2000, 30)
    np.testing.assert_array_equal(model.apply(X, iteration_range=(2, 5)), model.apply(X)[:, 2:5])


@pytest.mark.parametrize("kind", ["gain", "weight", "cover", "total_gain", "total_cover"])
def test_importance_types(kind):
    X, y = make_friedman1(1000, random_state=0)
    model = XGBRegressor(n_estimators=20, max_depth=3, importance_type=kind).fit(X, y)
    importances = model.feature_importances_
    assert np.isclose(importances.sum(), 1.0)
    # friedman1: features 5..9 are noise.
    assert importances[:5].sum() > importances[5:].sum()


def test_subsampling_is_reproducible_and_scale_pos_weight_shifts_probabilities():
    X, y = load_breast_cancer(return_X_y=True)
    kw = dict(n_estimators=20, subsample=0.7, colsample_bytree=0.5, colsample_bynode=0.5,
              random_state=4)
    a = XGBClassifier(**kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, XGBClassifier(**kw).fit(X, y).predict_proba(X))
    heavy = XGBClassifier(**kw, scale_pos_weight=10.0).fit(X, y).predict_proba(X)
    assert heavy[:, 1].mean() > a[:, 1].mean()


def test_bad_input():
    X, y = make_friedman1(100, random_state=0)
    for params, match in [({"learning_rate": -1}, "learning_rate"),
                          ({"subsample": 0.0}, "subsample"),
                          ({"grow_policy": "levelwise"}, "grow_policy"),
                          ({"tree_method": "exact"}, "not supported yet"),
                          ({"objective": "binary:logistic"}, "not a regression"),
                          ({"objective": "reg:quantileerror"}, "not supported yet"),
                          ({"eval_metric": "nope"}, "eval_metric")]:
        with pytest.raises(ValueError, match=match):
            XGBRegressor(n_estimators=2, **params).fit(X, y, eval_set=[(X, y)])
    for objective, labels, match in [("count:poisson", -np.ones(100), "non-negative"),
                                     ("reg:gamma", np.zeros(100), "positive"),
                                     ("reg:logistic", 2 * np.ones(100), r"\[0, 1\]")]:
        with pytest.raises(ValueError, match=match):
            XGBRegressor(n_estimators=2, objective=objective).fit(X, labels)
    with pytest.raises(ValueError, match="infinity"):
        XGBRegressor(n_estimators=2).fit(np.where(X > 0.99, np.inf, X), y)
    with pytest.raises(ValueError, match="1 class"):
        XGBClassifier(n_estimators=2).fit(X, np.zeros(100))
