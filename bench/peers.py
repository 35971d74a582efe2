"""Which estimator is measured against which peer, and with which parameters.

Each workload names one skext estimator and its peers with the same hyper-parameters and thread
count. Parameter names are shared where the peer is scikit-learn; a peer whose package is not
installed is reported as skipped."""

import importlib

# Parameter mapping of a peer whose names differ from skext's: renamed names, and fixed values
# that make the peer do the same work (HistGradientBoosting: max_iter rounds, no early stopping,
# depth-3 trees of at most 8 leaves like scikit-learn's GradientBoosting with max_depth=3).
HGB_FROM_GB = {"rename": {"n_estimators": "max_iter"},
               "fixed": {"early_stopping": False, "max_leaf_nodes": None}}

# LightGBM from xgboost's parameters (issue #6's documented mapping): a depth-6 tree as at most
# num_leaves = 2^6 - 1 = 63 leaves with max_depth 6, xgboost's defaults lambda = 1 and
# min_child_weight = 1 (hessian), no minimum row count (xgboost has none), 255 bins, quiet.
LGBM_FROM_XGB = {"rename": {},
                 "fixed": {"num_leaves": 63, "reg_lambda": 1.0, "min_child_weight": 1.0,
                           "min_child_samples": 1, "max_bin": 255, "verbose": -1}}

# Best-first growth with 31 leaves on all three (issue #3): xgboost's lossguide / max_leaves is
# LightGBM's own growth with num_leaves.
LGBM_FROM_XGB_LOSSGUIDE = {"rename": {"max_leaves": "num_leaves"}, "drop": ["grow_policy"],
                           "fixed": {**{k: v for k, v in LGBM_FROM_XGB["fixed"].items()
                                        if k != "num_leaves"}, "max_depth": -1}}

# family -> (skext class path, [(peer name, class path, mapping or None)], parameters of both)
FAMILIES = {
    "RandomForestClassifier": (
        "skext.ensemble.RandomForestClassifier",
        [("sklearn", "sklearn.ensemble.RandomForestClassifier", None)],
        {"n_estimators": 100},
    ),
    "ExtraTreesClassifier": (
        "skext.ensemble.ExtraTreesClassifier",
        [("sklearn", "sklearn.ensemble.ExtraTreesClassifier", None)],
        {"n_estimators": 100},
    ),
    "RandomForestRegressor": (
        "skext.ensemble.RandomForestRegressor",
        [("sklearn", "sklearn.ensemble.RandomForestRegressor", None)],
        {"n_estimators": 100},
    ),
    "ExtraTreesRegressor": (
        "skext.ensemble.ExtraTreesRegressor",
        [("sklearn", "sklearn.ensemble.ExtraTreesRegressor", None)],
        {"n_estimators": 100},
    ),
    "AdaBoostClassifier": (
        "skext.ensemble.AdaBoostClassifier",
        [("sklearn", "sklearn.ensemble.AdaBoostClassifier", None)],
        {"n_estimators": 200},
    ),
    "AdaBoostRegressor": (
        "skext.ensemble.AdaBoostRegressor",
        [("sklearn", "sklearn.ensemble.AdaBoostRegressor", None)],
        {"n_estimators": 50},
    ),
    "XGBClassifier": (
        "skext.ensemble.XGBClassifier",
        [("xgboost", "xgboost.XGBClassifier", {"rename": {}, "fixed": {"tree_method": "hist"}}),
         ("lightgbm", "lightgbm.LGBMClassifier", LGBM_FROM_XGB)],
        {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3},
    ),
    "XGBClassifier-lossguide31": (
        "skext.ensemble.XGBClassifier",
        [("xgboost", "xgboost.XGBClassifier", {"rename": {}, "fixed": {"tree_method": "hist"}}),
         ("lightgbm", "lightgbm.LGBMClassifier", LGBM_FROM_XGB_LOSSGUIDE)],
        {"n_estimators": 100, "grow_policy": "lossguide", "max_leaves": 31, "max_depth": 0,
         "learning_rate": 0.3},
    ),
    "XGBRegressor": (
        "skext.ensemble.XGBRegressor",
        [("xgboost", "xgboost.XGBRegressor", {"rename": {}, "fixed": {"tree_method": "hist"}}),
         ("lightgbm", "lightgbm.LGBMRegressor", LGBM_FROM_XGB)],
        {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.3},
    ),
    "GradientBoostingClassifier": (
        "skext.ensemble.GradientBoostingClassifier",
        [("sklearn", "sklearn.ensemble.GradientBoostingClassifier", None),
         ("sklearn-hist", "sklearn.ensemble.HistGradientBoostingClassifier", HGB_FROM_GB)],
        {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1},
    ),
    "GradientBoostingRegressor": (
        "skext.ensemble.GradientBoostingRegressor",
        [("sklearn", "sklearn.ensemble.GradientBoostingRegressor", None),
         ("sklearn-hist", "sklearn.ensemble.HistGradientBoostingRegressor", HGB_FROM_GB)],
        {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1},
    ),
}

# suite -> [(dataset, family, extra parameters)]
SUITES = {
    "tiny": [
        ("breast_cancer", "RandomForestClassifier", {"n_estimators": 5}),
        ("diabetes", "ExtraTreesRegressor", {"n_estimators": 5}),
        ("breast_cancer", "GradientBoostingClassifier", {"n_estimators": 5}),
    ],
    "quick": [
        ("clf-higgs-like-20k", "RandomForestClassifier", {"n_estimators": 50}),
        ("clf-higgs-like-20k", "ExtraTreesClassifier", {"n_estimators": 50}),
        ("multiclass-10k", "RandomForestClassifier", {}),
        ("hastie-10k", "RandomForestClassifier", {}),
        ("friedman1-10k", "RandomForestRegressor", {}),
        ("friedman1-10k", "ExtraTreesRegressor", {}),
        ("friedman1-10k", "AdaBoostRegressor", {}),
        ("breast_cancer", "RandomForestClassifier", {}),
        ("digits", "ExtraTreesClassifier", {}),
        ("diabetes", "RandomForestRegressor", {}),
        ("hastie-10k", "GradientBoostingClassifier", {}),
        ("hastie-10k", "AdaBoostClassifier", {}),
        ("clf-higgs-like-20k", "XGBClassifier", {}),
        ("friedman1-10k", "XGBRegressor", {}),
        ("breast_cancer", "GradientBoostingClassifier", {}),
        ("diabetes", "GradientBoostingRegressor", {}),
    ],
    "full": [
        ("clf-higgs-like-100k", "RandomForestClassifier", {}),
        ("clf-higgs-like-100k", "ExtraTreesClassifier", {}),
        ("hastie-100k", "GradientBoostingClassifier", {}),
        ("hastie-100k", "AdaBoostClassifier", {}),
        ("clf-higgs-like-100k", "XGBClassifier", {}),
        ("clf-higgs-like-400k", "XGBClassifier", {}),
        ("clf-higgs-like-400k", "XGBClassifier-lossguide31", {}),
        ("multiclass-10k", "XGBClassifier", {}),
        ("friedman1-10k", "XGBRegressor", {}),
        ("clf-higgs-like-100k", "GradientBoostingClassifier", {}),
        ("friedman1-10k", "GradientBoostingRegressor", {}),
        ("multiclass-10k", "RandomForestClassifier", {}),
        ("hastie-10k", "RandomForestClassifier", {}),
        ("friedman1-10k", "RandomForestRegressor", {}),
        ("friedman1-10k", "ExtraTreesRegressor", {}),
        ("breast_cancer", "RandomForestClassifier", {}),
        ("digits", "ExtraTreesClassifier", {}),
        ("diabetes", "RandomForestRegressor", {}),
    ],
    # issue #2's forest benchmark alone (bench/results/rf100k/).
    "rf100k": [
        ("clf-higgs-like-100k", "RandomForestClassifier", {}),
    ],
    # Sparse input (bench/results/sparse/): CSR 100k x 5000 at 0.5% density, nobody densifies.
    "sparse": [
        ("sparse-100k-5000", "XGBClassifier", {}),
        ("sparse-100k-5000", "RandomForestClassifier", {"n_estimators": 20}),
    ],
    # issue #3's booster benchmark alone (bench/results/xgb400k/).
    "xgb400k": [
        ("clf-higgs-like-400k", "XGBClassifier", {}),
        ("clf-higgs-like-400k", "XGBClassifier-lossguide31", {}),
    ],
}


def resolve(path):
    """The class at 'package.module.Class', or None when the package is not installed."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        return None


def map_params(params, mapping):
    """A peer's parameters from skext's: renamed, dropped and fixed per the mapping (None: same
    names)."""
    if mapping is None:
        return dict(params)
    out = {mapping["rename"].get(k, k): v for k, v in params.items()
           if k not in mapping.get("drop", ())}
    out.update(mapping["fixed"])
    return out


def _build(cls, params):
    """cls(**params); n_jobs is left out for an estimator without it (scikit-learn's
    GradientBoosting is single-threaded; the harness caps every side's threads anyway)."""
    if "n_jobs" not in cls().get_params():
        params = {k: v for k, v in params.items() if k != "n_jobs"}
    return cls(**params)


def make_pair(family, extra, n_jobs, random_state=0):
    """[(side, estimator or None)] for skext and each peer, with the same parameters (mapped to
    the peer's names where they differ)."""
    ours, peer_list, shared = FAMILIES[family]
    params = {**shared, **extra, "n_jobs": n_jobs, "random_state": random_state}
    sides = [("skext", resolve(ours), None)] + list(
        (name, resolve(path), mapping) for name, path, mapping in peer_list)
    return [(side, _build(cls, map_params(params, mapping)) if cls is not None else None)
            for side, cls, mapping in sides]


# Scaling curves (suite -> settings): fit time against n_samples (at 28 features) and against
# n_features (at n_features_rows rows) on the clf-higgs-like generator, per family and peer. A
# side whose fit took longer than budget_s is not run at the larger sizes (reported as skipped).
SCALING = {
    "tiny": {"families": {"GradientBoostingClassifier": {"n_estimators": 5}},
             "n_samples": [300, 600], "n_features": [4, 8], "n_features_rows": 300,
             "budget_s": 30.0},
    "full": {"families": {"RandomForestClassifier": {"n_estimators": 20},
                          "ExtraTreesClassifier": {"n_estimators": 20},
                          "GradientBoostingClassifier": {},
                          "AdaBoostClassifier": {}},
             "n_samples": [10_000, 30_000, 100_000, 300_000, 1_000_000],
             "n_features": [7, 14, 28, 56], "n_features_rows": 30_000, "budget_s": 60.0},
}
