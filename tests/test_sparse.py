"""Sparse X (scipy CSR/CSC) in every estimator: the same trees as the dense equivalent (values
up to the rounding of sums).

The dense equivalent of a sparse X is X.toarray() for the scikit-learn families (an absent entry
is 0.0) and X with absent entries NaN for XGB* (xgboost's convention: absent means missing,
with the learned default direction). Explicitly stored zeros are 0.0 for both.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse._compressed import _cs_matrix
from sklearn.datasets import make_classification, make_regression

import skext
from skext.tree._binning import BinMapper
from skext.tree._sparse import SparseBinned

SKLEARN_FAMILIES = [
    "DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
    "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor", "AdaBoostClassifier",
    "AdaBoostRegressor",
]
XGB = ["XGBClassifier", "XGBRegressor"]
PREDICT_METHODS = ["predict", "predict_proba", "decision_function", "apply"]
STAGED_METHODS = ["staged_predict", "staged_predict_proba", "staged_decision_function"]


def _params(name):
    params = {"random_state": 0}
    if "Forest" in name or "Trees" in name:
        params.update(n_estimators=8, bootstrap=True, oob_score=True)
    if "Gradient" in name:
        params.update(n_estimators=8, subsample=0.8)
    if "AdaBoost" in name or "XGB" in name:
        params.update(n_estimators=8)
    return params


def _sparse_data(name, n_samples=240, n_features=12, density=0.3, seed=0):
    """(dense-equivalent X, sparse X as CSR, y): about 1 - density of the entries absent, some
    stored zeros among the rest."""
    rng = np.random.default_rng(seed)
    if "Classifier" in name:
        X, y = make_classification(n_samples, n_features, n_informative=6, random_state=seed)
    else:
        X, y = make_regression(n_samples, n_features, noise=1.0, random_state=seed)
    stored = rng.random(X.shape) < density
    X = np.where(stored, np.round(X, 1), 0.0)
    X[stored & (rng.random(X.shape) < 0.1)] = 0.0   # stored zeros
    # Built from coordinates, so the stored zeros are explicit entries.
    rows, cols = np.nonzero(stored)
    X_sparse = sp.csr_matrix((X[rows, cols], (rows, cols)), shape=X.shape)
    if name in XGB:
        X = np.where(stored, X, np.nan)
    return X, X_sparse, y


def _outputs(model, X):
    out = {}
    for method in PREDICT_METHODS:
        if hasattr(model, method):
            out[method] = np.asarray(getattr(model, method)(X))
    for method in STAGED_METHODS:
        if hasattr(model, method):
            out[method] = [np.asarray(stage) for stage in getattr(model, method)(X)]
    return out


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("name", SKLEARN_FAMILIES + XGB)
def test_sparse_fit_and_predict_equal_dense_equivalent(name, fmt):
    X, X_sparse, y = _sparse_data(name)
    X_sparse = X_sparse.asformat(fmt)
    dense = getattr(skext, name)(**_params(name)).fit(X, y)
    sparse = getattr(skext, name)(**_params(name)).fit(X_sparse, y)
    expected = _outputs(dense, X)
    for got in (_outputs(sparse, X_sparse), _outputs(dense, X_sparse), _outputs(sparse, X)):
        assert got.keys() == expected.keys()
        for method, value in expected.items():
            value = np.asarray(value)
            if method == "apply" or value.dtype.kind != "f":
                # The same trees: every sample in the same leaf, the same classes.
                np.testing.assert_array_equal(got[method], value, err_msg=f"{name}.{method}")
            else:
                # Values up to the rounding of sums: a sparse fit's absent bins come by
                # subtraction (tree/_sparse.py), so leaf sums may differ in their last bits.
                np.testing.assert_allclose(got[method], value, rtol=1e-10, atol=1e-12,
                                           err_msg=f"{name}.{method}")
    if hasattr(dense, "oob_score_"):
        assert sparse.oob_score_ == dense.oob_score_


@pytest.mark.parametrize("name", ["RandomForestClassifier", "XGBRegressor",
                                  "GradientBoostingClassifier"])
def test_sparse_never_densified_whole(name, monkeypatch):
    """Fit and predict densify at most a block of rows at a time, never the whole X."""
    X, X_sparse, y = _sparse_data(name, n_samples=2000, n_features=600, density=0.02)
    largest = []
    original = _cs_matrix.toarray

    def recording_toarray(self, *args, **kwargs):
        largest.append(self.shape[0] * self.shape[1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_cs_matrix, "toarray", recording_toarray)

    def no_dense_codes(self):
        raise AssertionError("the binned training matrix was densified")

    # Nor the binned matrix: its codes stay in the sparse storage (tree/_sparse.py).
    monkeypatch.setattr(SparseBinned, "toarray", no_dense_codes)
    model = getattr(skext, name)(**_params(name)).fit(X_sparse, y)
    model.predict(X_sparse)
    assert max(largest, default=0) < X.size // 2
    # The prediction went through more than one block and still equals the dense model's.
    monkeypatch.setattr(_cs_matrix, "toarray", original)
    np.testing.assert_allclose(model.predict(X_sparse),
                               getattr(skext, name)(**_params(name)).fit(X, y).predict(X),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", SKLEARN_FAMILIES)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_sparse_non_finite_rejected_with_sklearns_message(name, bad):
    X, X_sparse, y = _sparse_data(name, n_samples=60)
    X_bad = X_sparse.copy()
    X_bad.data[3] = bad
    match = "Input X contains NaN" if np.isnan(bad) else "Input X contains infinity"
    with pytest.raises(ValueError, match=match):
        getattr(skext, name)(**_params(name)).fit(X_bad, y)
    model = getattr(skext, name)(**_params(name)).fit(X_sparse, y)
    with pytest.raises(ValueError, match=match):
        model.predict(X_bad)


@pytest.mark.parametrize("name", XGB)
def test_xgb_sparse_nan_is_missing_and_inf_rejected(name):
    X, X_sparse, y = _sparse_data(name)
    X_nan = X_sparse.copy()
    X_nan.data[::7] = np.nan      # stored NaN: missing, like an absent entry
    coo = X_nan.tocoo()
    dense = np.full(X.shape, np.nan)
    dense[coo.row, coo.col] = coo.data
    a = getattr(skext, name)(**_params(name)).fit(X_nan, y).predict(X_nan)
    b = getattr(skext, name)(**_params(name)).fit(dense, y).predict(dense)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    X_inf = X_sparse.copy()
    X_inf.data[0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        getattr(skext, name)(**_params(name)).fit(X_inf, y)


def test_xgb_missing_value_on_sparse_stored_entries():
    """missing=0.0: stored zeros become missing too (absent ones are already)."""
    X, X_sparse, y = _sparse_data("XGBClassifier")
    a = skext.XGBClassifier(n_estimators=5, missing=0.0).fit(X_sparse, y).predict_proba(X_sparse)
    X_nan = np.where(X == 0.0, np.nan, X)
    b = skext.XGBClassifier(n_estimators=5).fit(X_nan, y).predict_proba(X_nan)
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@given(seed=st.integers(0, 2**31 - 1), density=st.sampled_from([0.0, 0.05, 0.5, 1.0]),
       max_bins=st.sampled_from([4, 255]), weighted=st.booleans(),
       subsample=st.sampled_from([30, 10**6]), absent_is_missing=st.booleans())
def test_sparse_binning_equals_dense_binning(seed, density, max_bins, weighted, subsample,
                                             absent_is_missing):
    """BinMapper on sparse X: the edges, missing flags and codes of the dense equivalent
    (absent entries 0.0, or NaN with absent_is_missing), weights and row subsampling included."""
    rng = np.random.default_rng(seed)
    n, d = 80, 5
    values = rng.integers(-6, 6, size=(n, d)) * rng.choice([1.0, 0.37], size=(n, d))
    stored = rng.random((n, d)) < density
    rows, cols = np.nonzero(stored)
    X_sparse = sp.csc_matrix((values[rows, cols], (rows, cols)), shape=(n, d))
    X_dense = np.where(stored, values, np.nan if absent_is_missing else 0.0)
    weights = rng.integers(0, 4, n).astype(float) if weighted else None

    def binner():
        return BinMapper(max_bins, subsample=subsample, random_state=seed,
                         absent_is_missing=absent_is_missing)

    a = binner().fit(X_sparse, weights)
    b = binner().fit(X_dense, weights)
    np.testing.assert_array_equal(a.edges_, b.edges_)
    np.testing.assert_array_equal(a.representatives_, b.representatives_)
    np.testing.assert_array_equal(a.missing_values_in_feature_, b.missing_values_in_feature_)
    np.testing.assert_array_equal(a.transform(X_sparse.tocsr()).toarray(), b.transform(X_dense))


@pytest.mark.parametrize("name", ["RandomForestClassifier", "ExtraTreesRegressor"])
def test_forest_sparse_y_rejected_with_sklearns_message(name):
    X, _, y = _sparse_data(name, n_samples=40)
    with pytest.raises(ValueError, match="sparse multilabel-indicator for y is not supported"):
        getattr(skext, name)(n_estimators=2).fit(X, sp.csr_matrix(y.reshape(-1, 1)))


def test_xgb_exact_method_on_sparse_equals_dense_equivalent():
    X, X_sparse, y = _sparse_data("XGBRegressor")
    params = dict(n_estimators=5, tree_method="exact")
    np.testing.assert_array_equal(
        skext.XGBRegressor(**params).fit(X_sparse, y).predict(X_sparse),
        skext.XGBRegressor(**params).fit(X, y).predict(X))
