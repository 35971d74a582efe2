"""Datasets the benchmarks make themselves (no downloads), deterministic for a given name."""

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
    make_friedman1,
    make_hastie_10_2,
)
from sklearn.model_selection import train_test_split


def _higgs_like(n_samples):
    # PERF_NOTES.md's clf-higgs-like workload.
    return make_classification(n_samples, n_features=28, n_informative=20, n_redundant=4,
                               flip_y=0.05, random_state=0)


def _sparse_text_like(n_samples, n_features=5000, density=0.005, n_signal=50):
    """A CSR matrix like bag-of-words counts (issue "every input": 100k x 5000 training rows at
    0.5% density, a binary target whose log-odds are linear in 50 of the features)."""
    rng = np.random.default_rng(0)
    X = sp.random(n_samples, n_features, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.integers(1, 6, k).astype(np.float64))
    coef = np.zeros(n_features)
    coef[rng.choice(n_features, n_signal, replace=False)] = rng.normal(0, 1.5, n_signal)
    logit = X @ coef
    y = (rng.random(n_samples) < 1 / (1 + np.exp(-(logit - np.median(logit))))).astype(int)
    return X, y


MAKERS = {
    "sparse-100k-5000": (lambda: _sparse_text_like(125_000), "binary"),
    "clf-higgs-like-20k": (lambda: _higgs_like(25_000), "binary"),
    "clf-higgs-like-100k": (lambda: _higgs_like(125_000), "binary"),
    # issue #3's booster benchmark: 400k training rows x 28.
    "clf-higgs-like-400k": (lambda: _higgs_like(500_000), "binary"),
    "multiclass-10k": (lambda: make_classification(12_500, n_features=20, n_informative=12,
                                                   n_classes=5, random_state=0), "multiclass"),
    "hastie-10k": (lambda: make_hastie_10_2(12_500, random_state=0), "binary"),
    # PERF_NOTES.md's hastie 80k (training rows).
    "hastie-100k": (lambda: make_hastie_10_2(100_000, random_state=0), "binary"),
    "friedman1-10k": (lambda: make_friedman1(12_500, noise=1.0, random_state=0), "regression"),
    "breast_cancer": (lambda: load_breast_cancer(return_X_y=True), "binary"),
    "digits": (lambda: load_digits(return_X_y=True), "multiclass"),
    "diabetes": (lambda: load_diabetes(return_X_y=True), "regression"),
}


def load(name):
    """(X_train, X_test, y_train, y_test, task): an 80/20 split, the same on every call."""
    make, task = MAKERS[name]
    X, y = make()
    stratify = None if task == "regression" else y
    X = X.astype(np.float64) if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0,
                                              stratify=stratify)
    return X_tr, X_te, y_tr, y_te, task


def scaling_data(n_samples, n_features):
    """The clf-higgs-like generator at any size (scaling curves): 70% informative features."""
    informative = max(2, int(0.7 * n_features))
    redundant = min(n_features - informative, max(0, n_features // 7))
    return make_classification(n_samples, n_features=n_features, n_informative=informative,
                               n_redundant=redundant, flip_y=0.05, random_state=0)
