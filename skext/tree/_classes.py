"""DecisionTreeClassifier and DecisionTreeRegressor: scikit-learn's API on the shared engine.

fit validates, bins X once (BinMapper), turns y and sample_weight into per-sample channels and
calls grow_tree; predict walks the stored Tree over raw X. The helpers at the top are shared with
the forests (ensemble/_forest.py), which bin once and grow many trees.
"""

from abc import abstractmethod

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.special import xlogy
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._compat import (
    Integral,
    Interval,
    Real,
    RealNotInt,
    StrOptions,
    check_sample_weight,
    fit_context,
)
from ..utils._validation import SPARSE_FORMATS, check_sparse_finite
from ._binning import BinMapper
from ._grower import grow_tree
from ._types import (
    CRITERION_ABSOLUTE_ERROR,
    CRITERION_ENTROPY,
    CRITERION_FRIEDMAN_MSE,
    CRITERION_GINI,
    CRITERION_POISSON,
    CRITERION_SQUARED_ERROR,
    MAX_BINS,
)

CRITERIA_CLF = {"gini": CRITERION_GINI, "entropy": CRITERION_ENTROPY,
                "log_loss": CRITERION_ENTROPY}
CRITERIA_REG = {"squared_error": CRITERION_SQUARED_ERROR, "friedman_mse": CRITERION_FRIEDMAN_MSE,
                "poisson": CRITERION_POISSON, "absolute_error": CRITERION_ABSOLUTE_ERROR}
# scikit-learn's impurity-decrease tolerance (sklearn/tree/_tree.pyx EPSILON).
_EPSILON = np.finfo(np.float64).eps
MAX_INT = np.iinfo(np.int32).max

# Parameters every tree-based estimator shares, as scikit-learn declares them.
TREE_CONSTRAINTS = {
    "max_depth": [Interval(Integral, 1, None, closed="left"), None],
    "min_samples_split": [
        Interval(Integral, 2, None, closed="left"),
        Interval(RealNotInt, 0.0, 1.0, closed="right"),
    ],
    "min_samples_leaf": [
        Interval(Integral, 1, None, closed="left"),
        Interval(RealNotInt, 0.0, 1.0, closed="neither"),
    ],
    "min_weight_fraction_leaf": [Interval(Real, 0.0, 0.5, closed="both")],
    "max_features": [
        Interval(Integral, 1, None, closed="left"),
        Interval(RealNotInt, 0.0, 1.0, closed="right"),
        StrOptions({"sqrt", "log2"}),
        None,
    ],
    "max_leaf_nodes": [Interval(Integral, 2, None, closed="left"), None],
    "min_impurity_decrease": [Interval(Real, 0.0, None, closed="left")],
    "max_bins": [Interval(Integral, 2, MAX_BINS, closed="both")],
}


def resolve_max_features(max_features, n_features):
    """Features drawn per node, as scikit-learn reads max_features."""
    if max_features is None:
        return n_features
    if max_features == "sqrt":
        return max(1, int(np.sqrt(n_features)))
    if max_features == "log2":
        return max(1, int(np.log2(n_features)))
    if isinstance(max_features, (int, np.integer)):
        if max_features > n_features:
            raise ValueError(
                f"max_features must be <= n_features ({n_features}), got {max_features}.")
        return int(max_features)
    return max(1, int(max_features * n_features))


def resolve_min_samples(min_samples_split, min_samples_leaf, n_samples):
    """Integer min_samples_split and min_samples_leaf (fractions are of n_samples, rounded up)."""
    if isinstance(min_samples_leaf, (int, np.integer)):
        leaf = int(min_samples_leaf)
    else:
        leaf = int(np.ceil(min_samples_leaf * n_samples))
    if isinstance(min_samples_split, (int, np.integer)):
        split = int(min_samples_split)
    else:
        split = max(2, int(np.ceil(min_samples_split * n_samples)))
    return max(split, 2 * leaf), leaf


def classification_stats(y_encoded, n_classes, sample_weight):
    """Channels for gini/entropy: the sample's weight in its class column (n_samples, n_classes);
    for a multi-output y (y_encoded (n_samples, n_outputs), n_classes one count per output) the
    outputs' class columns side by side, (n_samples, sum of n_classes)."""
    sample_weight = np.asarray(sample_weight, np.float64)
    if np.ndim(y_encoded) == 2:
        offsets = np.concatenate(([0], np.cumsum(n_classes)[:-1]))
        stats = np.zeros((len(y_encoded), int(np.sum(n_classes))))
        stats[np.arange(len(y_encoded))[:, None], offsets + y_encoded] = sample_weight[:, None]
        return stats
    stats = np.zeros((len(y_encoded), n_classes))
    _put_weights(np.asarray(y_encoded, dtype=np.intp), sample_weight, stats)
    return stats


def split_outputs(values, n_classes):
    """A multi-output classifier's (n_samples, sum of n_classes) values as scikit-learn's list
    of (n_samples, n_classes[k]) arrays."""
    return np.split(values, np.cumsum(n_classes)[:-1], axis=1)


def outputs_2d(y):
    """y (n_samples,) or (n_samples, n_outputs) -> (y, n_outputs): a single column becomes 1-D
    (scikit-learn's trees read it as one output)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    return y, 1 if y.ndim == 1 else y.shape[1]


def predict_classes(classes, proba):
    """Most probable class per sample: (n_samples,) for one output (proba an array), else
    (n_samples, n_outputs) from scikit-learn's list of per-output probabilities."""
    if not isinstance(proba, list):
        return classes[np.argmax(proba, axis=1)]
    out = np.empty((proba[0].shape[0], len(proba)), dtype=classes[0].dtype)
    for k, (c, p) in enumerate(zip(classes, proba)):
        out[:, k] = c[np.argmax(p, axis=1)]
    return out


@njit(cache=True, nogil=True)
def _put_weights(y_encoded, sample_weight, stats):
    """stats[i, y_encoded[i]] = sample_weight[i] (stats: out), 8x faster than fancy indexing
    (AdaBoost builds these every round)."""
    for i in range(y_encoded.shape[0]):
        stats[i, y_encoded[i]] = sample_weight[i]


def regression_stats(y, sample_weight, criterion=CRITERION_SQUARED_ERROR):
    """Channels per sample: (w, w y, w y^2) for squared_error / friedman_mse, (w, w y,
    w y log y) for poisson; a multi-output y (n_samples, J): (w, w y_1 .. w y_J, w sum_j y_j^2)
    (poisson: w sum_j y_j log y_j); absolute_error: (w, y_1 .. y_J), the rows' own values
    (its split search reads the rows, see _absolute_error.py)."""
    if criterion == CRITERION_ABSOLUTE_ERROR:
        return np.column_stack((sample_weight, y))
    third = xlogy(y, y) if criterion == CRITERION_POISSON else y * y
    if y.ndim == 2:
        return np.column_stack((sample_weight, sample_weight[:, None] * y,
                                sample_weight * third.sum(axis=1)))
    return np.column_stack((sample_weight, sample_weight * y, sample_weight * third))


def check_poisson_targets(y, sum_message):
    """scikit-learn's checks of a Poisson regression's y (its trees' and forests' wording of the
    second differs: sum_message)."""
    if np.any(y < 0):
        raise ValueError("Some value(s) of y are negative which is not allowed for Poisson "
                         "regression.")
    if np.sum(y) <= 0:
        raise ValueError(sum_message)


def encode_labels(classes, labels, message):
    """Indices into sorted `classes` of `labels`; ValueError(message) for a label not in it."""
    idx = np.clip(np.searchsorted(classes, labels), 0, len(classes) - 1)
    if not np.all(classes[idx] == labels):
        raise ValueError(message)
    return idx


def encode_classes(y):
    """Check classification targets; return (classes_, y encoded as 0..K-1). A multi-output y
    (n_samples, n_outputs): (list of each output's classes, (n_samples, n_outputs) codes)."""
    check_classification_targets(y)
    if y.ndim == 2:
        classes = []
        y_encoded = np.empty(y.shape, np.intp)
        for k in range(y.shape[1]):
            c, y_encoded[:, k] = np.unique(y[:, k], return_inverse=True)
            classes.append(c)
        return classes, y_encoded
    classes, y_encoded = np.unique(y, return_inverse=True)
    return classes, y_encoded.astype(np.intp)


def n_classes_of(classes):
    """n_classes_ as scikit-learn sets it: an int for one output, an int array per output."""
    if isinstance(classes, list):
        return np.array([len(c) for c in classes], dtype=np.intp)
    return len(classes)


class BaseDecisionTree(BaseEstimator):
    """Shared fit / predict of both decision trees."""

    _parameter_constraints = {
        **TREE_CONSTRAINTS,
        "splitter": [StrOptions({"best", "random"})],
        "random_state": ["random_state"],
    }

    def __init__(self, *, criterion, splitter="best", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=None,
                 random_state=None, max_leaf_nodes=None, min_impurity_decrease=0.0,
                 max_bins=MAX_BINS):
        self.criterion = criterion
        self.splitter = splitter
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.random_state = random_state
        self.max_leaf_nodes = max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease
        self.max_bins = max_bins

    @abstractmethod
    def _encode_targets(self, y, sample_weight):
        """Set target attributes; return (criterion id, per-sample channels)."""

    @fit_context
    def fit(self, X, y, sample_weight=None):
        """Build a decision tree from the training set (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or regression targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; rows of weight zero are ignored.

        Returns
        -------
        self : object
        """
        # 1. Validate input.
        if sp.issparse(y):
            raise TypeError("Sparse data was passed for y, but dense data is required. Use "
                            "'.toarray()' to convert to a dense numpy array.")
        X, y = validate_data(self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                             ensure_all_finite="allow-nan", multi_output=True,
                             y_numeric=isinstance(self, RegressorMixin))
        check_sparse_finite(self, X)
        y, self.n_outputs_ = outputs_2d(y)
        sample_weight = check_sample_weight(sample_weight, X)
        rng = check_random_state(self.random_state)
        tree_seed = rng.randint(MAX_INT)
        # 2. Bin X once, on the rows that carry weight.
        bin_mapper = BinMapper(self.max_bins, random_state=rng.randint(MAX_INT))
        X_binned = bin_mapper.fit_transform(X, sample_weight)
        # 3. Per-sample channels for the criterion.
        criterion, stats = self._encode_targets(y, sample_weight)
        # 4. Grow the tree.
        self.tree_ = grow_tree(X_binned, stats, np.flatnonzero(sample_weight > 0), bin_mapper,
                               criterion=criterion, seed=tree_seed, n_outputs=self.n_outputs_,
                               **self._grow_kwargs(X.shape, sample_weight.sum()))
        return self

    def _grow_kwargs(self, shape, total_weight):
        """grow_tree's stopping and sampling arguments from this tree's parameters, for data of
        `shape` and total sample weight (sets max_features_). Shared with AdaBoost's fast path,
        which grows this estimator's trees itself on data binned once."""
        n_samples, n_features = shape
        self.max_features_ = resolve_max_features(self.max_features, n_features)
        min_samples_split, min_samples_leaf = resolve_min_samples(
            self.min_samples_split, self.min_samples_leaf, n_samples)
        return dict(max_depth=self.max_depth, min_samples_split=min_samples_split,
                    min_samples_leaf=min_samples_leaf,
                    min_weight_leaf=self.min_weight_fraction_leaf * total_weight,
                    min_gain=(self.min_impurity_decrease - _EPSILON) * total_weight,
                    max_features=self.max_features_, max_leaf_nodes=self.max_leaf_nodes,
                    splitter=self.splitter)

    def _set_fitted(self, tree, n_features_in, feature_names_in=None, **attrs):
        """Make this (unfitted) estimator a fitted one around a tree grown elsewhere (boosting);
        attrs: further fitted attributes (classes_, n_classes_)."""
        self.tree_ = tree
        self.n_features_in_ = n_features_in
        if feature_names_in is not None:
            self.feature_names_in_ = feature_names_in
        self.n_outputs_ = 1
        for name, value in attrs.items():
            setattr(self, name, value)
        return self

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                          ensure_all_finite="allow-nan", reset=False)
        return check_sparse_finite(self, X)

    def apply(self, X):
        """Index of the leaf each sample ends up in, shape (n_samples,)."""
        X = self._validate_X_predict(X)
        return self.tree_.apply(X).astype(np.intp)

    def get_depth(self):
        """Depth of the tree (a lone root has depth 0)."""
        check_is_fitted(self)
        return self.tree_.max_depth

    def get_n_leaves(self):
        """Number of leaves of the tree."""
        check_is_fitted(self)
        return self.tree_.n_leaves

    @property
    def feature_importances_(self):
        """Normalised total impurity decrease brought by each feature (Gini importance)."""
        check_is_fitted(self)
        return self.tree_.compute_feature_importances(self.n_features_in_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class DecisionTreeClassifier(ClassifierMixin, BaseDecisionTree):
    """A decision tree classifier on skext's histogram engine (scikit-learn's API).

    Parameters
    ----------
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
    splitter : {"best", "random"}, default="best"
        "random" draws one threshold per feature (extra-trees).
    max_depth : int, default=None
    min_samples_split : int or float, default=2
    min_samples_leaf : int or float, default=1
    min_weight_fraction_leaf : float, default=0.0
    max_features : int, float, {"sqrt", "log2"} or None, default=None
    random_state : int, RandomState instance or None, default=None
    max_leaf_nodes : int, default=None
        Grow best-first with at most this many leaves.
    min_impurity_decrease : float, default=0.0
    class_weight : dict, "balanced" or None, default=None
    max_bins : int, default=255
        Bins per feature (skext's own parameter); features with at most max_bins distinct values
        are split exactly as scikit-learn would.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of them (one per output)
    n_classes_ : int or ndarray of shape (n_outputs,)
    max_features_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_outputs_ : int
    tree_ : Tree
    feature_importances_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    DecisionTreeRegressor, skext.ensemble.RandomForestClassifier

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skext.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    >>> round(clf.score(X, y), 2)
    0.97
    """

    _parameter_constraints = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": [StrOptions(set(CRITERIA_CLF))],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
    }

    def __init__(self, *, criterion="gini", splitter="best", max_depth=None, min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_features=None,
                 random_state=None, max_leaf_nodes=None, min_impurity_decrease=0.0,
                 class_weight=None, max_bins=MAX_BINS):
        super().__init__(
            criterion=criterion, splitter=splitter, max_depth=max_depth,
            min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf, max_features=max_features,
            random_state=random_state, max_leaf_nodes=max_leaf_nodes,
            min_impurity_decrease=min_impurity_decrease, max_bins=max_bins)
        self.class_weight = class_weight

    def _encode_targets(self, y, sample_weight):
        self.classes_, y_encoded = encode_classes(y)
        self.n_classes_ = n_classes_of(self.classes_)
        if self.class_weight is not None:
            sample_weight = sample_weight * compute_sample_weight(self.class_weight, y)
        return CRITERIA_CLF[self.criterion], classification_stats(
            y_encoded, self.n_classes_, sample_weight)

    def predict_proba(self, X):
        """Class probabilities: the weighted class fractions of each sample's leaf, (n_samples,
        n_classes), or a list of them, one per output."""
        X = self._validate_X_predict(X)
        proba = self.tree_.predict(X)
        return split_outputs(proba, self.n_classes_) if self.n_outputs_ > 1 else proba

    def predict_log_proba(self, X):
        """Logarithm of predict_proba."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return [np.log(p) for p in proba] if isinstance(proba, list) else np.log(proba)

    def predict(self, X):
        """Most probable class of each sample, (n_samples,) or (n_samples, n_outputs)."""
        proba = self.predict_proba(X)
        return predict_classes(self.classes_, proba)


class DecisionTreeRegressor(RegressorMixin, BaseDecisionTree):
    """A decision tree regressor on skext's histogram engine (scikit-learn's API).

    Parameters are DecisionTreeClassifier's, with criterion in {"squared_error",
    "friedman_mse", "poisson", "absolute_error"} (default "squared_error") and no class_weight.
    absolute_error predicts the weighted median of a leaf and scans the node's rows for splits
    (scikit-learn's method and cost, O(n log n) per node and feature), not histograms.

    Attributes
    ----------
    max_features_, n_features_in_, feature_names_in_, n_outputs_, tree_, feature_importances_

    See Also
    --------
    DecisionTreeClassifier, skext.ensemble.RandomForestRegressor

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skext.tree import DecisionTreeRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, y)
    >>> reg.get_depth()
    2
    """

    _parameter_constraints = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": [StrOptions(set(CRITERIA_REG))],
    }

    def __init__(self, *, criterion="squared_error", splitter="best", max_depth=None,
                 min_samples_split=2, min_samples_leaf=1, min_weight_fraction_leaf=0.0,
                 max_features=None, random_state=None, max_leaf_nodes=None,
                 min_impurity_decrease=0.0, max_bins=MAX_BINS):
        super().__init__(
            criterion=criterion, splitter=splitter, max_depth=max_depth,
            min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
            min_weight_fraction_leaf=min_weight_fraction_leaf, max_features=max_features,
            random_state=random_state, max_leaf_nodes=max_leaf_nodes,
            min_impurity_decrease=min_impurity_decrease, max_bins=max_bins)

    def _encode_targets(self, y, sample_weight):
        criterion = CRITERIA_REG[self.criterion]
        if criterion == CRITERION_POISSON:
            check_poisson_targets(y, "Sum of y is not positive which is necessary for Poisson "
                                     "regression.")
        return criterion, regression_stats(y.astype(np.float64), sample_weight, criterion)

    def predict(self, X):
        """Mean target of each sample's leaf, (n_samples,) or (n_samples, n_outputs)."""
        X = self._validate_X_predict(X)
        value = self.tree_.predict(X)
        return value if self.n_outputs_ > 1 else value[:, 0]
