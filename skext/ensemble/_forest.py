"""Forests of randomized trees: RandomForest* (Breiman) and ExtraTrees* (Geurts et al.).

fit bins X once, then grows trees in parallel threads (joblib, threading backend: the grow kernel
releases the GIL), each from its own seed drawn from random_state exactly as scikit-learn draws
them, so bootstrap samples equal scikit-learn's and results never depend on n_jobs. The trees are
packed into one node array for prediction (one kernel call for the whole forest).
"""

from abc import abstractmethod
from numbers import Integral
from warnings import warn

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ..tree import DecisionTreeClassifier, DecisionTreeRegressor
from ..tree._binning import BinMapper
from ..tree._classes import (
    _EPSILON,
    CRITERIA_CLF,
    CRITERIA_REG,
    MAX_INT,
    TREE_CONSTRAINTS,
    check_poisson_targets,
    classification_stats,
    encode_classes,
    n_classes_of,
    predict_classes,
    regression_stats,
    resolve_max_features,
    resolve_min_samples,
    split_outputs,
)
from ..tree._grower import grow_tree
from ..tree._tree import apply_forest, predict_forest, tree_lists
from ..tree._types import MAX_BINS
from ..utils._compat import Interval, RealNotInt, StrOptions, check_sample_weight, fit_context
from ..utils._parallel import n_threads, numba_threads
from ..utils._validation import SPARSE_FORMATS, check_sparse_finite
from ._base import mean_tree_importances

_TREE_PARAMS = ("criterion", "max_depth", "min_samples_split", "min_samples_leaf",
                "min_weight_fraction_leaf", "max_features", "max_leaf_nodes",
                "min_impurity_decrease", "max_bins")


def _n_samples_bootstrap(n_samples, max_samples):
    """Rows drawn per tree (scikit-learn's _get_n_samples_bootstrap)."""
    if max_samples is None:
        return n_samples
    if isinstance(max_samples, Integral):
        if max_samples > n_samples:
            raise ValueError(f"`max_samples` must be <= n_samples={n_samples} but got value "
                             f"{max_samples}")
        return max_samples
    return max(round(n_samples * max_samples), 1)


def _bootstrap_counts(seed, n_samples, n_samples_bootstrap):
    """Times each row is drawn: scikit-learn's draw from RandomState(seed), so the same seeds give
    the same bootstrap samples as scikit-learn's forests."""
    indices = np.random.RandomState(seed).randint(0, n_samples, n_samples_bootstrap,
                                                  dtype=np.int32)
    return indices, np.bincount(indices, minlength=n_samples)


class BaseForest(BaseEstimator):
    """Shared fit / predict of the four forests."""

    _parameter_constraints = {
        **TREE_CONSTRAINTS,
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "oob_score": ["boolean", callable],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "max_samples": [
            None,
            Interval(RealNotInt, 0.0, 1.0, closed="right"),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_features_mode": [StrOptions({"node", "tree"})],
    }
    _splitter = "best"

    def __init__(self, *, n_estimators, criterion, max_depth, min_samples_split,
                 min_samples_leaf, min_weight_fraction_leaf, max_features, max_leaf_nodes,
                 min_impurity_decrease, bootstrap, oob_score, n_jobs, random_state, verbose,
                 warm_start, max_samples, max_bins, max_features_mode):
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.max_samples = max_samples
        self.max_bins = max_bins
        self.max_features_mode = max_features_mode

    @abstractmethod
    def _encode_targets(self, y):
        """Set target attributes; return (criterion id, y as the engine reads it)."""

    @abstractmethod
    def _tree_stats(self, y_engine, weights, indices):
        """Per-sample channels of one tree from its row weights (bootstrap counts included)."""

    @abstractmethod
    def _make_tree_estimator(self, seed):
        """An unfitted tree estimator carrying this forest's tree parameters."""

    @fit_context
    def fit(self, X, y, sample_weight=None):
        """Build a forest of trees from the training set (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or regression targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by the bootstrap counts of each tree.

        Returns
        -------
        self : object
        """
        # 1. Validate input and parameters.
        if sp.issparse(y):
            raise ValueError("sparse multilabel-indicator for y is not supported.")
        X, y = validate_data(self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                             ensure_all_finite="allow-nan", multi_output=True,
                             y_numeric=isinstance(self, RegressorMixin))
        check_sparse_finite(self, X)
        if y.ndim == 2 and y.shape[1] == 1:
            warn("A column-vector y was passed when a 1d array was expected. Please change the "
                 "shape of y to (n_samples,), for example using ravel().",
                 DataConversionWarning, stacklevel=2)
            y = y[:, 0]
        sample_weight = check_sample_weight(sample_weight, X)
        if not self.bootstrap and self.max_samples is not None:
            raise ValueError("`max_sample` cannot be set if `bootstrap=False`. Either switch to "
                             "`bootstrap=True` or set `max_sample=None`.")
        if not self.bootstrap and self.oob_score:
            raise ValueError("Out of bag estimation only available if bootstrap=True")
        if self.oob_score and isinstance(self, ClassifierMixin):
            y_type = type_of_target(y)
            if y_type == "multiclass-multioutput":
                raise ValueError(
                    f"The type of target cannot be used to compute OOB estimates. Got {y_type} "
                    "while only the following are supported: continuous, "
                    "continuous-multioutput, binary, multiclass, multilabel-indicator.")
        n_samples, n_features = X.shape
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        criterion, y_engine = self._encode_targets(y)

        # 2. Seeds: scikit-learn's sequence (earlier trees' seeds skipped on warm start).
        rng = check_random_state(self.random_state)
        if not self.warm_start or not hasattr(self, "estimators_"):
            self.estimators_ = []
        n_more = self.n_estimators - len(self.estimators_)
        if n_more < 0:
            raise ValueError(f"n_estimators={self.n_estimators} must be larger or equal to "
                             f"len(estimators_)={len(self.estimators_)} when warm_start==True")
        if n_more == 0:
            warn("Warm-start fitting without increasing n_estimators does not fit new trees.",
                 stacklevel=2)
            return self
        if self.estimators_:
            rng.randint(MAX_INT, size=len(self.estimators_))
        seeds = [rng.randint(MAX_INT) for _ in range(n_more)]

        # 3. Bin X once, on the rows that carry weight.
        bin_mapper = BinMapper(self.max_bins, random_state=rng.randint(MAX_INT),
                               n_threads=n_threads(self.n_jobs))
        X_binned = bin_mapper.fit_transform(X, sample_weight)

        # 4. Grow the trees in threads.
        self.max_features_ = resolve_max_features(self.max_features, n_features)
        min_samples_split, min_samples_leaf = resolve_min_samples(
            self.min_samples_split, self.min_samples_leaf, n_samples)
        n_boot = (_n_samples_bootstrap(n_samples, self.max_samples) if self.bootstrap
                  else n_samples)
        grow_kwargs = dict(
            criterion=criterion, max_depth=self.max_depth, min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf, max_leaf_nodes=self.max_leaf_nodes,
            splitter=self._splitter, n_outputs=self.n_outputs_)
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(
            delayed(self._grow_one)(seed, X, X_binned, y_engine, sample_weight, bin_mapper,
                                    n_boot, grow_kwargs)
            for seed in seeds)

        # 5. Keep the trees as fitted tree estimators, packed for prediction.
        for seed, (tree, _, _) in zip(seeds, results):
            estimator = self._make_tree_estimator(seed)
            estimator.tree_ = tree
            estimator.n_features_in_ = n_features
            estimator.n_outputs_ = self.n_outputs_
            estimator.max_features_ = self.max_features_
            if hasattr(self, "classes_"):
                estimator.classes_ = self.classes_
                estimator.n_classes_ = self.n_classes_
            self.estimators_.append(estimator)

        # 6. Out-of-bag estimate.
        if self.oob_score:
            if len(self.estimators_) > n_more:
                raise ValueError("oob_score with warm_start needs every tree's out-of-bag rows; "
                                 "refit with warm_start=False.")
            self._set_oob_score(y, results)
        return self

    def _grow_one(self, seed, X, X_binned, y_engine, sample_weight, bin_mapper, n_boot,
                  grow_kwargs):
        """Grow one tree (runs in a worker thread); returns (tree, oob rows, oob values)."""
        n_samples, n_features = X_binned.shape
        weights = sample_weight
        indices = None
        if self.bootstrap:
            indices, counts = _bootstrap_counts(seed, n_samples, n_boot)
            weights = sample_weight * counts
        stats = self._tree_stats(y_engine, weights, indices)
        rows = np.flatnonzero(weights > 0)
        if self.max_features_mode == "tree":
            # Random subspace: the tree sees max_features_ features, every one at every node.
            feature_rng = np.random.RandomState(seed)
            pool = np.sort(feature_rng.choice(n_features, self.max_features_, replace=False))
            max_features = None
        else:
            pool, max_features = None, self.max_features_
        total_weight = weights.sum()
        tree = grow_tree(
            X_binned, stats, rows, bin_mapper, **grow_kwargs,
            min_weight_leaf=self.min_weight_fraction_leaf * total_weight,
            min_gain=(self.min_impurity_decrease - _EPSILON) * total_weight,
            max_features=max_features, feature_pool=pool, seed=seed)
        if not self.oob_score:
            return tree, None, None
        oob_rows = np.flatnonzero(counts == 0)
        return tree, oob_rows, tree.predict(X[oob_rows])

    def _set_oob_score(self, y, results):
        n_outputs = results[0][0].value.shape[1]
        total = np.zeros((len(y), n_outputs))
        n_predictions = np.zeros(len(y))
        for _, oob_rows, oob_values in results:
            total[oob_rows] += oob_values
            n_predictions[oob_rows] += 1
        if (n_predictions == 0).any():
            warn("Some inputs do not have OOB scores. This probably means too few trees were "
                 "used to compute any reliable OOB estimates.", UserWarning, stacklevel=3)
            n_predictions[n_predictions == 0] = 1
        self._store_oob(y, total / n_predictions[:, None])

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                          ensure_all_finite="allow-nan", reset=False)
        return check_sparse_finite(self, X)

    def _predict_mean(self, X):
        """Mean of the trees' leaf values, (n_samples, n_outputs), one kernel call."""
        X = self._validate_X_predict(X)
        nodes, values, depths = tree_lists([e.tree_ for e in self.estimators_])
        out = np.empty((X.shape[0], self.estimators_[0].tree_.value.shape[1]))
        with numba_threads(self.n_jobs):
            predict_forest(X, nodes, values, depths, out)
        return out / len(depths)

    def apply(self, X):
        """Leaf index of each sample in each tree, shape (n_samples, n_estimators)."""
        X = self._validate_X_predict(X)
        nodes, _, depths = tree_lists([e.tree_ for e in self.estimators_])
        out = np.empty((X.shape[0], len(depths)), dtype=np.int32)
        with numba_threads(self.n_jobs):
            apply_forest(X, nodes, depths, out)
        return out.astype(np.intp)

    @property
    def feature_importances_(self):
        """Mean of the trees' normalised impurity-based importances, normalised."""
        check_is_fitted(self)
        return mean_tree_importances([e.tree_ for e in self.estimators_], self.n_features_in_,
                                     normalize_trees=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class ForestClassifier(ClassifierMixin, BaseForest):
    """Classification side of the forests."""

    _parameter_constraints = {
        **BaseForest._parameter_constraints,
        "criterion": [StrOptions(set(CRITERIA_CLF))],
        "class_weight": [StrOptions({"balanced_subsample", "balanced"}), dict, list, None],
    }

    def _encode_targets(self, y):
        classes, y_encoded = encode_classes(y)
        if self.warm_start and hasattr(self, "classes_") and self.estimators_:
            same = (len(classes) == len(self.classes_)
                    and all(np.array_equal(a, b) for a, b in zip(classes, self.classes_))
                    if isinstance(classes, list) else np.array_equal(classes, self.classes_))
            if not same:
                raise ValueError("warm_start needs the same classes as the first fit.")
        self.classes_ = classes
        self.n_classes_ = n_classes_of(classes)
        return CRITERIA_CLF[self.criterion], (y_encoded, y)

    def _tree_stats(self, y_engine, weights, indices):
        y_encoded, y = y_engine
        if self.class_weight == "balanced_subsample":
            weights = weights * compute_sample_weight("balanced", y, indices=indices)
        elif self.class_weight is not None:
            weights = weights * compute_sample_weight(self.class_weight, y)
        return classification_stats(y_encoded, self.n_classes_, weights)

    def _make_tree_estimator(self, seed):
        return DecisionTreeClassifier(**{p: getattr(self, p) for p in _TREE_PARAMS},
                                      splitter=self._splitter, random_state=seed)

    def _store_oob(self, y, mean_values):
        scorer = self.oob_score if callable(self.oob_score) else accuracy_score
        if self.n_outputs_ == 1:
            self.oob_decision_function_ = mean_values
            self.oob_score_ = scorer(y, self.classes_[np.argmax(mean_values, axis=1)])
            return
        # scikit-learn's layout (n_samples, n_classes, n_outputs), outputs with fewer classes
        # padded with zeros, and its score: of the encoded labels.
        per_output = split_outputs(mean_values, self.n_classes_)
        oob = np.zeros((len(y), max(self.n_classes_), self.n_outputs_))
        for k, values in enumerate(per_output):
            oob[:, :values.shape[1], k] = values
        self.oob_decision_function_ = oob
        _, y_encoded = encode_classes(y)
        self.oob_score_ = scorer(y_encoded, np.argmax(oob, axis=1))

    def predict_proba(self, X):
        """Mean over trees of the leaf class fractions, shape (n_samples, n_classes), or a list
        of them, one per output."""
        proba = self._predict_mean(X)
        return split_outputs(proba, self.n_classes_) if self.n_outputs_ > 1 else proba

    def predict_log_proba(self, X):
        """Logarithm of predict_proba."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return [np.log(p) for p in proba] if isinstance(proba, list) else np.log(proba)

    def predict(self, X):
        """Class of highest mean probability, (n_samples,) or (n_samples, n_outputs)."""
        proba = self.predict_proba(X)
        return predict_classes(self.classes_, proba)


class ForestRegressor(RegressorMixin, BaseForest):
    """Regression side of the forests."""

    _parameter_constraints = {
        **BaseForest._parameter_constraints,
        "criterion": [StrOptions(set(CRITERIA_REG))],
    }

    def _encode_targets(self, y):
        if self.criterion == "poisson":
            check_poisson_targets(y, "Sum of y is not strictly positive which is necessary for "
                                     "Poisson regression.")
        return CRITERIA_REG[self.criterion], y.astype(np.float64)

    def _tree_stats(self, y_engine, weights, indices):
        return regression_stats(y_engine, weights, CRITERIA_REG[self.criterion])

    def _make_tree_estimator(self, seed):
        return DecisionTreeRegressor(**{p: getattr(self, p) for p in _TREE_PARAMS},
                                     splitter=self._splitter, random_state=seed)

    def _store_oob(self, y, mean_values):
        self.oob_prediction_ = mean_values if self.n_outputs_ > 1 else mean_values[:, 0]
        scorer = self.oob_score if callable(self.oob_score) else r2_score
        self.oob_score_ = scorer(y, self.oob_prediction_)

    def predict(self, X):
        """Mean over trees of the leaf values, (n_samples,) or (n_samples, n_outputs)."""
        mean = self._predict_mean(X)
        return mean if self.n_outputs_ > 1 else mean[:, 0]


class RandomForestClassifier(ForestClassifier):
    """A random forest classifier (Breiman 2001) on skext's histogram engine; scikit-learn's API.

    Parameters
    ----------
    n_estimators : int, default=100
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
    max_depth : int, default=None
    min_samples_split : int or float, default=2
    min_samples_leaf : int or float, default=1
    min_weight_fraction_leaf : float, default=0.0
    max_features : {"sqrt", "log2", None}, int or float, default="sqrt"
        Features drawn at each node ("sqrt": Breiman's recommendation; "log2": k = log2(d)).
    max_leaf_nodes : int, default=None
    min_impurity_decrease : float, default=0.0
    bootstrap : bool, default=True
    oob_score : bool or callable, default=False
    n_jobs : int, default=None
        Trees grown in parallel threads; results do not depend on it.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    warm_start : bool, default=False
    class_weight : "balanced", "balanced_subsample", dict or None, default=None
    max_samples : int or float, default=None
    max_bins : int, default=255
        Bins per feature (skext's own parameter).
    max_features_mode : {"node", "tree"}, default="node"
        "node": max_features drawn afresh at every node (Breiman's forest); "tree": drawn once per
        tree, which then uses them at every node (the random-subspace method).

    Attributes
    ----------
    estimators_ : list of DecisionTreeClassifier
    classes_ : ndarray of shape (n_classes,) or list of them (one per output)
    n_classes_ : int or ndarray of shape (n_outputs,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_outputs_ : int
    feature_importances_ : ndarray of shape (n_features_in_,)
    oob_score_ : float
    oob_decision_function_ : ndarray of shape (n_samples, n_classes) or (n_samples,
        max(n_classes_), n_outputs)

    See Also
    --------
    ExtraTreesClassifier, sklearn.ensemble.RandomForestClassifier

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skext.ensemble import RandomForestClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    """

    _splitter = "best"

    def __init__(self, n_estimators=100, *, criterion="gini", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, min_weight_fraction_leaf=0.0,
                 max_features="sqrt", max_leaf_nodes=None, min_impurity_decrease=0.0,
                 bootstrap=True, oob_score=False, n_jobs=None, random_state=None, verbose=0,
                 warm_start=False, class_weight=None, max_samples=None, max_bins=MAX_BINS,
                 max_features_mode="node"):
        super().__init__(
            n_estimators=n_estimators, criterion=criterion, max_depth=max_depth,
            min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf, max_features=max_features,
            max_leaf_nodes=max_leaf_nodes, min_impurity_decrease=min_impurity_decrease,
            bootstrap=bootstrap, oob_score=oob_score, n_jobs=n_jobs, random_state=random_state,
            verbose=verbose, warm_start=warm_start, max_samples=max_samples, max_bins=max_bins,
            max_features_mode=max_features_mode)
        self.class_weight = class_weight


class RandomForestRegressor(ForestRegressor):
    """A random forest regressor (Breiman 2001) on skext's histogram engine; scikit-learn's API.

    Parameters
    ----------
    n_estimators : int, default=100
    criterion : {"squared_error", "friedman_mse", "poisson"}, default="squared_error"
    max_depth : int, default=None
    min_samples_split : int or float, default=2
    min_samples_leaf : int or float, default=1
    min_weight_fraction_leaf : float, default=0.0
    max_features : {"sqrt", "log2", None}, int or float, default=1.0
        Features drawn at each node ("sqrt": Breiman's recommendation; "log2": k = log2(d)).
    max_leaf_nodes : int, default=None
    min_impurity_decrease : float, default=0.0
    bootstrap : bool, default=True
    oob_score : bool or callable, default=False
    n_jobs : int, default=None
        Trees grown in parallel threads; results do not depend on it.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    warm_start : bool, default=False
    max_samples : int or float, default=None
    max_bins : int, default=255
        Bins per feature (skext's own parameter).
    max_features_mode : {"node", "tree"}, default="node"
        "node": max_features drawn afresh at every node (Breiman's forest); "tree": drawn once per
        tree, which then uses them at every node (the random-subspace method).

    Attributes
    ----------
    estimators_ : list of DecisionTreeRegressor
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_outputs_ : int
    feature_importances_ : ndarray of shape (n_features_in_,)
    oob_score_ : float
    oob_prediction_ : ndarray of shape (n_samples,) or (n_samples, n_outputs)

    See Also
    --------
    ExtraTreesRegressor, sklearn.ensemble.RandomForestRegressor

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skext.ensemble import RandomForestRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = RandomForestRegressor(n_estimators=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _splitter = "best"

    def __init__(self, n_estimators=100, *, criterion="squared_error", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, min_weight_fraction_leaf=0.0,
                 max_features=1.0, max_leaf_nodes=None, min_impurity_decrease=0.0,
                 bootstrap=True, oob_score=False, n_jobs=None, random_state=None, verbose=0,
                 warm_start=False, max_samples=None, max_bins=MAX_BINS,
                 max_features_mode="node"):
        super().__init__(
            n_estimators=n_estimators, criterion=criterion, max_depth=max_depth,
            min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf, max_features=max_features,
            max_leaf_nodes=max_leaf_nodes, min_impurity_decrease=min_impurity_decrease,
            bootstrap=bootstrap, oob_score=oob_score, n_jobs=n_jobs, random_state=random_state,
            verbose=verbose, warm_start=warm_start, max_samples=max_samples, max_bins=max_bins,
            max_features_mode=max_features_mode)


class ExtraTreesClassifier(ForestClassifier):
    """An extra-trees classifier (Geurts et al. 2006: random thresholds) on skext's engine.

    Parameters
    ----------
    n_estimators : int, default=100
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
    max_depth : int, default=None
    min_samples_split : int or float, default=2
    min_samples_leaf : int or float, default=1
    min_weight_fraction_leaf : float, default=0.0
    max_features : {"sqrt", "log2", None}, int or float, default="sqrt"
        Features drawn at each node ("sqrt": Breiman's recommendation; "log2": k = log2(d)).
    max_leaf_nodes : int, default=None
    min_impurity_decrease : float, default=0.0
    bootstrap : bool, default=False
    oob_score : bool or callable, default=False
    n_jobs : int, default=None
        Trees grown in parallel threads; results do not depend on it.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    warm_start : bool, default=False
    class_weight : "balanced", "balanced_subsample", dict or None, default=None
    max_samples : int or float, default=None
    max_bins : int, default=255
        Bins per feature (skext's own parameter).
    max_features_mode : {"node", "tree"}, default="node"
        "node": max_features drawn afresh at every node (Breiman's forest); "tree": drawn once per
        tree, which then uses them at every node (the random-subspace method).

    Attributes
    ----------
    estimators_ : list of DecisionTreeClassifier
    classes_ : ndarray of shape (n_classes,) or list of them (one per output)
    n_classes_ : int or ndarray of shape (n_outputs,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_outputs_ : int
    feature_importances_ : ndarray of shape (n_features_in_,)
    oob_score_ : float
    oob_decision_function_ : ndarray of shape (n_samples, n_classes) or (n_samples,
        max(n_classes_), n_outputs)

    See Also
    --------
    RandomForestClassifier, sklearn.ensemble.ExtraTreesClassifier

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skext.ensemble import ExtraTreesClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = ExtraTreesClassifier(n_estimators=20, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    """

    _splitter = "random"

    def __init__(self, n_estimators=100, *, criterion="gini", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, min_weight_fraction_leaf=0.0,
                 max_features="sqrt", max_leaf_nodes=None, min_impurity_decrease=0.0,
                 bootstrap=False, oob_score=False, n_jobs=None, random_state=None, verbose=0,
                 warm_start=False, class_weight=None, max_samples=None, max_bins=MAX_BINS,
                 max_features_mode="node"):
        super().__init__(
            n_estimators=n_estimators, criterion=criterion, max_depth=max_depth,
            min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf, max_features=max_features,
            max_leaf_nodes=max_leaf_nodes, min_impurity_decrease=min_impurity_decrease,
            bootstrap=bootstrap, oob_score=oob_score, n_jobs=n_jobs, random_state=random_state,
            verbose=verbose, warm_start=warm_start, max_samples=max_samples, max_bins=max_bins,
            max_features_mode=max_features_mode)
        self.class_weight = class_weight


class ExtraTreesRegressor(ForestRegressor):
    """An extra-trees regressor (Geurts et al. 2006: random thresholds) on skext's engine.

    Parameters
    ----------
    n_estimators : int, default=100
    criterion : {"squared_error", "friedman_mse", "poisson"}, default="squared_error"
    max_depth : int, default=None
    min_samples_split : int or float, default=2
    min_samples_leaf : int or float, default=1
    min_weight_fraction_leaf : float, default=0.0
    max_features : {"sqrt", "log2", None}, int or float, default=1.0
        Features drawn at each node ("sqrt": Breiman's recommendation; "log2": k = log2(d)).
    max_leaf_nodes : int, default=None
    min_impurity_decrease : float, default=0.0
    bootstrap : bool, default=False
    oob_score : bool or callable, default=False
    n_jobs : int, default=None
        Trees grown in parallel threads; results do not depend on it.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    warm_start : bool, default=False
    max_samples : int or float, default=None
    max_bins : int, default=255
        Bins per feature (skext's own parameter).
    max_features_mode : {"node", "tree"}, default="node"
        "node": max_features drawn afresh at every node (Breiman's forest); "tree": drawn once per
        tree, which then uses them at every node (the random-subspace method).

    Attributes
    ----------
    estimators_ : list of DecisionTreeRegressor
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_outputs_ : int
    feature_importances_ : ndarray of shape (n_features_in_,)
    oob_score_ : float
    oob_prediction_ : ndarray of shape (n_samples,) or (n_samples, n_outputs)

    See Also
    --------
    RandomForestRegressor, sklearn.ensemble.ExtraTreesRegressor

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skext.ensemble import ExtraTreesRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = ExtraTreesRegressor(n_estimators=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _splitter = "random"

    def __init__(self, n_estimators=100, *, criterion="squared_error", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, min_weight_fraction_leaf=0.0,
                 max_features=1.0, max_leaf_nodes=None, min_impurity_decrease=0.0,
                 bootstrap=False, oob_score=False, n_jobs=None, random_state=None, verbose=0,
                 warm_start=False, max_samples=None, max_bins=MAX_BINS,
                 max_features_mode="node"):
        super().__init__(
            n_estimators=n_estimators, criterion=criterion, max_depth=max_depth,
            min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf, max_features=max_features,
            max_leaf_nodes=max_leaf_nodes, min_impurity_decrease=min_impurity_decrease,
            bootstrap=bootstrap, oob_score=oob_score, n_jobs=n_jobs, random_state=random_state,
            verbose=verbose, warm_start=warm_start, max_samples=max_samples, max_bins=max_bins,
            max_features_mode=max_features_mode)
