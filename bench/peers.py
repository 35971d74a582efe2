"""Which estimator is measured against which peer, and with which parameters.

Each workload names one skext estimator and its peers with the same hyper-parameters and thread
count. Parameter names are shared where the peer is scikit-learn; a peer whose package is not
installed is reported as skipped."""

import importlib

# family -> (skext class path, [(peer name, class path)], parameters shared by both sides)
FAMILIES = {
    "RandomForestClassifier": (
        "skext.ensemble.RandomForestClassifier",
        [("sklearn", "sklearn.ensemble.RandomForestClassifier")],
        {"n_estimators": 100},
    ),
    "ExtraTreesClassifier": (
        "skext.ensemble.ExtraTreesClassifier",
        [("sklearn", "sklearn.ensemble.ExtraTreesClassifier")],
        {"n_estimators": 100},
    ),
    "RandomForestRegressor": (
        "skext.ensemble.RandomForestRegressor",
        [("sklearn", "sklearn.ensemble.RandomForestRegressor")],
        {"n_estimators": 100},
    ),
    "ExtraTreesRegressor": (
        "skext.ensemble.ExtraTreesRegressor",
        [("sklearn", "sklearn.ensemble.ExtraTreesRegressor")],
        {"n_estimators": 100},
    ),
}

# suite -> [(dataset, family, extra parameters)]
SUITES = {
    "tiny": [
        ("breast_cancer", "RandomForestClassifier", {"n_estimators": 5}),
        ("diabetes", "ExtraTreesRegressor", {"n_estimators": 5}),
    ],
    "quick": [
        ("clf-higgs-like-20k", "RandomForestClassifier", {"n_estimators": 50}),
        ("clf-higgs-like-20k", "ExtraTreesClassifier", {"n_estimators": 50}),
        ("multiclass-10k", "RandomForestClassifier", {}),
        ("hastie-10k", "RandomForestClassifier", {}),
        ("friedman1-10k", "RandomForestRegressor", {}),
        ("breast_cancer", "RandomForestClassifier", {}),
        ("digits", "ExtraTreesClassifier", {}),
        ("diabetes", "RandomForestRegressor", {}),
    ],
    "full": [
        ("clf-higgs-like-100k", "RandomForestClassifier", {}),
        ("clf-higgs-like-100k", "ExtraTreesClassifier", {}),
        ("multiclass-10k", "RandomForestClassifier", {}),
        ("hastie-10k", "RandomForestClassifier", {}),
        ("friedman1-10k", "RandomForestRegressor", {}),
        ("friedman1-10k", "ExtraTreesRegressor", {}),
        ("breast_cancer", "RandomForestClassifier", {}),
        ("digits", "ExtraTreesClassifier", {}),
        ("diabetes", "RandomForestRegressor", {}),
    ],
}


def resolve(path):
    """The class at 'package.module.Class', or None when the package is not installed."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None


def make_pair(family, extra, n_jobs, random_state=0):
    """[(side, estimator or None)] for skext and each peer, with identical parameters."""
    ours, peers, shared = FAMILIES[family]
    params = {**shared, **extra, "n_jobs": n_jobs, "random_state": random_state}
    sides = [("skext", resolve(ours))] + [(name, resolve(path)) for name, path in peers]
    return [(side, cls(**params) if cls is not None else None) for side, cls in sides]
