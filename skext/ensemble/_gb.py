"""Friedman's gradient boosting: GradientBoostingClassifier and GradientBoostingRegressor.

Each round fits one regression tree per output (K = n_classes for multinomial log-loss, else 1)
to the loss's negative gradient on the shared engine, re-estimates every leaf for the loss
(Friedman's terminal-region step, _losses.py) and adds learning_rate times the tree. X is binned
once per fit; the trees store real thresholds, so prediction packs every tree into one array and
walks raw X in one kernel call.

Randomness (subsample, max_features) comes from one seed per stage derived from random_state and
the stage index, so fitting n rounds then m more with warm_start gives the same model as fitting
n + m rounds at once.
"""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone, is_classifier
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from ..tree import DecisionTreeRegressor
from ..tree._binning import BinMapper
from ..tree._classes import (
    _EPSILON,
    CRITERIA_REG,
    MAX_INT,
    TREE_CONSTRAINTS,
    encode_classes,
    resolve_max_features,
    resolve_min_samples,
)
from ..tree._grower import grow_tree
from ..tree._tree import apply_forest, pack_trees, predict_forest, tree_lists
from ..tree._types import MAX_BINS
from ..utils._compat import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    check_sample_weight,
    fit_context,
)
from ..utils._parallel import n_threads, numba_threads
from ..utils._validation import SPARSE_FORMATS, check_sparse_finite
from ._base import mean_tree_importances, scaled_output_values
from ._losses import (
    AbsoluteError,
    BinomialLoss,
    ExponentialLoss,
    HuberLoss,
    MultinomialLoss,
    QuantileLoss,
    SquaredError,
    gradient_stats,
)


def _stage_rng(base_seed, stage):
    """The RandomState of one boosting stage: a function of (random_state's draw, stage)."""
    seed = np.random.SeedSequence([base_seed, stage]).generate_state(1)[0]
    return np.random.RandomState(seed)


class BaseGradientBoosting(BaseEstimator):
    """Shared fit / predict of both gradient boosting estimators."""

    _parameter_constraints = {
        **TREE_CONSTRAINTS,
        "learning_rate": [Interval(Real, 0.0, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "criterion": [StrOptions(set(CRITERIA_REG))],
        "subsample": [Interval(Real, 0.0, 1.0, closed="right")],
        "init": [StrOptions({"zero"}), None, HasMethods(["fit", "predict"])],
        "random_state": ["random_state"],
        "alpha": [Interval(Real, 0.0, 1.0, closed="neither")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        # Cost-complexity pruning is not implemented: only 0.0 (no pruning) is accepted.
        "ccp_alpha": [Options(Real, {0.0})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, loss, learning_rate, n_estimators, subsample, criterion,
                 min_samples_split, min_samples_leaf, min_weight_fraction_leaf, max_depth,
                 min_impurity_decrease, init, random_state, max_features, alpha, verbose,
                 max_leaf_nodes, warm_start, validation_fraction, n_iter_no_change, tol,
                 ccp_alpha, max_bins, n_jobs):
        self.loss = loss
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.subsample = subsample
        self.criterion = criterion
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_depth = max_depth
        self.min_impurity_decrease = min_impurity_decrease
        self.init = init
        self.random_state = random_state
        self.max_features = max_features
        self.alpha = alpha
        self.verbose = verbose
        self.max_leaf_nodes = max_leaf_nodes
        self.warm_start = warm_start
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.ccp_alpha = ccp_alpha
        self.max_bins = max_bins
        self.n_jobs = n_jobs

    # --- fit --------------------------------------------------------------------------------

    @fit_context
    def fit(self, X, y, sample_weight=None, monitor=None):
        """Fit the gradient boosting model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN marks a missing value.
        y : array-like of shape (n_samples,)
            Class labels or regression targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; rows of weight zero are ignored.
        monitor : callable, default=None
            Called after each stage as monitor(i, self, locals()); returning True stops the
            fit (scikit-learn's hook).

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                             ensure_all_finite="allow-nan", y_numeric=not is_classifier(self))
        check_sparse_finite(self, X)
        weighted = sample_weight is not None
        sample_weight = check_sample_weight(sample_weight, X)
        y = self._encode_y(y, sample_weight)
        self._loss = self._make_loss()
        K = self._loss.n_outputs()
        self.n_trees_per_iteration_ = K

        # Hold out the validation set of early stopping (stratified for classifiers).
        X_val = y_val = w_val = None
        if self.n_iter_no_change is not None:
            stratify = y if is_classifier(self) else None
            X, X_val, y, y_val, sample_weight, w_val = train_test_split(
                X, y, sample_weight, random_state=self.random_state,
                test_size=self.validation_fraction, stratify=stratify)
            if is_classifier(self) and len(np.unique(y)) < self.n_classes_:
                raise ValueError(
                    "The training data after the early stopping split is missing some "
                    "classes. Try using another random seed.")

        n_samples, n_features = X.shape
        rng = check_random_state(self.random_state)
        base_seed = rng.randint(MAX_INT)
        bin_mapper = BinMapper(self.max_bins, random_state=rng.randint(MAX_INT),
                               n_threads=n_threads(self.n_jobs))
        X_binned = bin_mapper.fit_transform(X, sample_weight)

        if not (self.warm_start and hasattr(self, "estimators_")):
            self._clear_state()
            self._init_model(X, y, sample_weight, weighted)
            tree_sum = np.zeros((X.shape[0], K))
            begin = 0
        else:
            begin = self.estimators_.shape[0]
            if self.n_estimators < begin:
                raise ValueError(
                    f"n_estimators={self.n_estimators} must be larger or equal to "
                    f"estimators_.shape[0]={begin} when warm_start==True")
            tree_sum = self._tree_sum(X)
        self.max_features_ = resolve_max_features(self.max_features, n_features)
        self._grow_params = self._tree_params(n_samples)

        with numba_threads(self.n_jobs):
            n_stages = self._fit_stages(X, X_binned, bin_mapper, y, tree_sum, sample_weight,
                                        base_seed, begin, X_val, y_val, w_val, monitor)
        self._resize(n_stages)
        self.n_estimators_ = n_stages
        self._pack()
        return self

    def _tree_params(self, n_samples):
        min_samples_split, min_samples_leaf = resolve_min_samples(
            self.min_samples_split, self.min_samples_leaf, n_samples)
        return dict(criterion=CRITERIA_REG[self.criterion], max_depth=self.max_depth,
                    min_samples_split=min_samples_split, min_samples_leaf=min_samples_leaf,
                    max_features=self.max_features_, max_leaf_nodes=self.max_leaf_nodes,
                    parallel=n_threads(self.n_jobs) > 1)

    def _clear_state(self):
        for name in ("estimators_", "train_score_", "oob_improvement_", "oob_scores_",
                     "oob_score_", "init_", "_init_raw", "_tree_values"):
            if hasattr(self, name):
                delattr(self, name)
        self.estimators_ = np.empty((0, self.n_trees_per_iteration_), dtype=object)
        self.train_score_ = np.empty(0)
        if self.subsample < 1.0:
            self.oob_improvement_ = np.empty(0)
            self.oob_scores_ = np.empty(0)

    def _init_model(self, X, y, sample_weight, weighted):
        """The initial raw prediction: zero, or the prediction (through the loss's link) of an
        init estimator, by default scikit-learn's: DummyClassifier(strategy="prior") or a
        DummyRegressor of the loss's constant (mean, median, alpha-quantile). weighted: whether
        the user passed sample_weight (unweighted quantiles interpolate, as scikit-learn's)."""
        if self.init == "zero":
            self.init_ = "zero"
            self._init_raw = np.zeros(self.n_trees_per_iteration_)
            return
        if self.init is not None:
            self.init_ = clone(self.init)
        elif is_classifier(self):
            self.init_ = DummyClassifier(strategy="prior")
        elif self.loss in ("absolute_error", "huber"):
            self.init_ = DummyRegressor(strategy="quantile", quantile=0.5)
        elif self.loss == "quantile":
            self.init_ = DummyRegressor(strategy="quantile", quantile=self.alpha)
        else:
            self.init_ = DummyRegressor(strategy="mean")
        y_fit = self.classes_[y.astype(np.intp)] if is_classifier(self) else y
        if not weighted:
            self.init_.fit(X, y_fit)
        elif has_fit_parameter(self.init_, "sample_weight"):
            self.init_.fit(X, y_fit, sample_weight=sample_weight)
        else:
            raise ValueError(f"The initial estimator {self.init_.__class__.__name__} does not "
                             "support sample weights.")
        # The default estimators predict a constant: keep it, skip them at predict time.
        self._init_raw = (self._init_estimator_raw(X[:1])[0] if self.init is None else None)

    def _init_raw_pred(self, X, n):
        """Initial raw predictions (n, K) for rows X."""
        if self._init_raw is not None:
            return np.tile(self._init_raw, (n, 1))
        return self._init_estimator_raw(X)

    def _fit_stages(self, X, X_binned, bin_mapper, y, tree_sum, w, base_seed, begin, X_val,
                    y_val, w_val, monitor):
        """Boosting rounds begin .. n_estimators-1; returns the number of stages kept.

        tree_sum (n_samples, K) (in/out): the trees' sum so far. Raw predictions are always
        init + tree_sum with the trees added in order from zero, as the predict kernel adds
        them, so training, predict, staged_* and warm_start see bit-identical values."""
        loss = self._loss
        K = self.n_trees_per_iteration_
        n_samples = len(y)
        init = self._init_raw_pred(X, n_samples)
        stats = np.empty((n_samples, 3))
        do_oob = self.subsample < 1.0
        n_inbag = max(1, int(self.subsample * n_samples))
        self._resize(self.n_estimators)
        if self.n_iter_no_change is not None:
            loss_history = np.full(self.n_iter_no_change, np.inf)
            init_val = self._init_raw_pred(X_val, X_val.shape[0])
            sum_val = self._tree_sum(X_val) if begin else np.zeros_like(init_val)
        start_time = time.time()
        if self.verbose:
            print(f"{'Iter':>10} {'Train Loss':>16} {'Remaining Time':>16}")

        i = begin
        for i in range(begin, self.n_estimators):
            stage_rng = _stage_rng(base_seed, i)
            raw = init + tree_sum
            inbag = np.ones(n_samples, dtype=bool)
            if do_oob:
                inbag = np.zeros(n_samples, dtype=bool)
                inbag[stage_rng.permutation(n_samples)[:n_inbag]] = True
                if i == 0:
                    initial_oob_loss = loss.loss(y[~inbag], raw[~inbag], w[~inbag])
            w_stage = w * inbag
            loss.before_round(y, raw, w)
            neg_grad = loss.negative_gradient(y, raw)
            rows = np.flatnonzero(w_stage > 0)
            total_weight = w_stage.sum()
            for k in range(K):
                gradient_stats(np.ascontiguousarray(neg_grad[:, k]), w_stage, stats)
                tree, leaf = grow_tree(
                    X_binned, stats, rows, bin_mapper,
                    min_weight_leaf=self.min_weight_fraction_leaf * total_weight,
                    min_gain=(self.min_impurity_decrease - _EPSILON) * total_weight,
                    seed=stage_rng.randint(MAX_INT), return_leaves=True, **self._grow_params)
                # Rows the tree was not grown on (out of bag, zero weight) walk it.
                outside = leaf < 0
                if outside.any():
                    leaf[outside] = tree.apply(X[outside])
                is_leaf = tree.children_left == -1
                values = loss.leaf_values(np.where(inbag, leaf, -1), tree.node_count, y, raw,
                                          neg_grad, w_stage, k)
                tree.value[is_leaf, 0] = values[is_leaf]
                tree_sum[:, k] += (self.learning_rate * tree.value[:, 0])[leaf]
                self.estimators_[i, k] = self._as_estimator(tree)

            raw = init + tree_sum
            if do_oob:
                self.train_score_[i] = loss.loss(y[inbag], raw[inbag], w[inbag])
                self.oob_scores_[i] = loss.loss(y[~inbag], raw[~inbag], w[~inbag])
                previous = initial_oob_loss if i == 0 else self.oob_scores_[i - 1]
                self.oob_improvement_[i] = previous - self.oob_scores_[i]
                self.oob_score_ = self.oob_scores_[i]
            else:
                self.train_score_[i] = loss.loss(y, raw, w)

            if self.verbose and (self.verbose > 1 or (i + 1) % 10 == 0 or i == begin):
                remaining = (self.n_estimators - i - 1) * (time.time() - start_time) / (
                    i - begin + 1)
                print(f"{i + 1:>10} {self.train_score_[i]:>16.4f} {remaining:>15.2f}s")
            if monitor is not None and monitor(i, self, locals()):
                break
            if self.n_iter_no_change is not None:
                for k in range(K):
                    leaf_val = self.estimators_[i, k].tree_.apply(X_val)
                    sum_val[:, k] += (self.learning_rate
                                      * self.estimators_[i, k].tree_.value[:, 0])[leaf_val]
                validation_loss = loss.loss(y_val, init_val + sum_val, w_val)
                # Stop unless this stage beats one of the last n_iter_no_change by tol.
                if np.any(validation_loss + self.tol < loss_history):
                    loss_history[i % len(loss_history)] = validation_loss
                else:
                    break
        return i + 1

    def _as_estimator(self, tree):
        """A fitted DecisionTreeRegressor wrapping one boosting tree (scikit-learn's
        estimators_ holds estimators, not bare trees)."""
        est = DecisionTreeRegressor(
            criterion=self.criterion, max_depth=self.max_depth,
            min_samples_split=self.min_samples_split, min_samples_leaf=self.min_samples_leaf,
            min_weight_fraction_leaf=self.min_weight_fraction_leaf,
            max_features=self.max_features, max_leaf_nodes=self.max_leaf_nodes,
            min_impurity_decrease=self.min_impurity_decrease, max_bins=self.max_bins)
        return est._set_fitted(tree, self.n_features_in_,
                               getattr(self, "feature_names_in_", None),
                               max_features_=self.max_features_)

    def _resize(self, n_stages):
        """Grow or truncate the per-stage attributes to n_stages."""
        def fit_length(a, fill):
            if len(a) >= n_stages:
                return a[:n_stages]
            extra = np.full((n_stages - len(a),) + a.shape[1:], fill, dtype=a.dtype)
            return np.concatenate((a, extra))

        self.estimators_ = fit_length(self.estimators_, None)
        self.train_score_ = fit_length(self.train_score_, 0.0)
        if self.subsample < 1.0:
            self.oob_improvement_ = fit_length(getattr(self, "oob_improvement_", np.empty(0)),
                                               0.0)
            self.oob_scores_ = fit_length(getattr(self, "oob_scores_", np.empty(0)), 0.0)
            if n_stages:
                self.oob_score_ = self.oob_scores_[n_stages - 1]

    def _pack(self):
        """Each tree's values as the one-call kernel sums them: scaled by learning_rate, in
        column k for a class-k tree (zeros elsewhere)."""
        trees = [est.tree_ for est in self.estimators_.ravel()]
        pack_trees(trees)
        self._tree_values = scaled_output_values(trees, self.n_trees_per_iteration_,
                                                 self.learning_rate)

    def _trees(self):
        return tree_lists([est.tree_ for est in self.estimators_.ravel()], self._tree_values)

    # --- predict ----------------------------------------------------------------------------

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                          ensure_all_finite="allow-nan", reset=False)
        return check_sparse_finite(self, X)

    def _init_estimator_raw(self, X):
        """Raw predictions of a user init estimator, through the loss's link."""
        if is_classifier(self):
            eps = np.finfo(np.float64).eps
            p = np.clip(self.init_.predict_proba(X), eps, 1 - eps)
            if p.shape[1] != self.n_classes_:
                raise ValueError("The init estimator must predict the same classes as y.")
            if self.n_trees_per_iteration_ == 1:
                p1 = p[:, 1]
                logit = np.log(p1 / (1 - p1))
                scale = 0.5 if isinstance(self._loss, ExponentialLoss) else 1.0
                return (scale * logit)[:, None]
            log_p = np.log(p)
            return log_p - log_p.mean(axis=1, keepdims=True)
        return np.asarray(self.init_.predict(X), dtype=np.float64).reshape(-1, 1)

    def _raw_predict(self, X):
        """Raw predictions (n_samples, K) of the whole model (X already validated)."""
        return self._init_raw_pred(X, X.shape[0]) + self._tree_sum(X)

    def _tree_sum(self, X):
        """Sum of every tree's (learning_rate-scaled) value, (n_samples, K), one kernel call."""
        nodes, values, depths = self._trees()
        out = np.empty((X.shape[0], self.n_trees_per_iteration_))
        predict_forest(X, nodes, values, depths, out)
        return out

    def _staged_raw_predict(self, X):
        """Yield the raw predictions (n_samples, K) after each stage."""
        X = self._validate_X_predict(X)
        nodes, _, depths = self._trees()
        leaves = np.empty((X.shape[0], len(depths)), dtype=np.int32)
        apply_forest(X, nodes, depths, leaves)
        init = self._init_raw_pred(X, X.shape[0])
        tree_sum = np.zeros_like(init)
        K = self.n_trees_per_iteration_
        values = self._tree_values
        for i in range(self.n_estimators_):
            for k in range(K):
                tree_sum[:, k] += values[i * K + k][leaves[:, i * K + k], k]
            yield init + tree_sum

    def apply(self, X):
        """Leaf index of each sample in each tree, shape (n_samples, n_estimators, K)
        (K = 1 for binary classification; the regressor returns (n_samples, n_estimators))."""
        X = self._validate_X_predict(X)
        nodes, _, depths = self._trees()
        out = np.empty((X.shape[0], len(depths)), dtype=np.int32)
        apply_forest(X, nodes, depths, out)
        out = out.astype(np.float64)
        return out.reshape(X.shape[0], self.n_estimators_, self.n_trees_per_iteration_)

    @property
    def feature_importances_(self):
        """Mean over the trees that split of their total squared-error decrease per feature,
        normalised to sum to 1 (scikit-learn's definition)."""
        check_is_fitted(self)
        return mean_tree_importances([est.tree_ for est in self.estimators_.ravel()],
                                     self.n_features_in_, normalize_trees=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags


class GradientBoostingClassifier(ClassifierMixin, BaseGradientBoosting):
    """Gradient boosting for classification (Friedman), on skext's histogram engine.

    scikit-learn's GradientBoostingClassifier parameters, attributes and methods. Differences:
    X is binned into at most ``max_bins`` quantile bins per feature (splits are exact when a
    feature has no more distinct values), missing values (NaN) are supported, and
    ``criterion`` still selects "friedman_mse" (default) or "squared_error".

    Parameters
    ----------
    loss : {"log_loss", "exponential"}, default="log_loss"
    learning_rate : float, default=0.1
    n_estimators : int, default=100
    subsample : float, default=1.0
        Fraction of rows drawn (without replacement) per stage; < 1 gives stochastic gradient
        boosting and the out-of-bag attributes.
    criterion : {"friedman_mse", "squared_error"}, default="friedman_mse"
    min_samples_split, min_samples_leaf, min_weight_fraction_leaf, max_depth (3),
    min_impurity_decrease, max_features, max_leaf_nodes : as scikit-learn's trees
    init : estimator, "zero" or None, default=None
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    warm_start : bool, default=False
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=None
    tol : float, default=1e-4
    ccp_alpha : 0.0
        Cost-complexity pruning is not implemented; only 0.0 is accepted.
    max_bins : int, default=255
        Bins per feature (skext's own parameter).
    n_jobs : int, default=None
        Threads building each tree's histograms and the per-round loss terms (skext's own
        parameter; scikit-learn's GradientBoosting is single-threaded). None means 1, -1 all
        cores; results do not depend on it.

    Attributes
    ----------
    n_estimators_, n_trees_per_iteration_, estimators_ (ndarray of DecisionTreeRegressor,
    shape (n_estimators_, K)), train_score_, oob_improvement_, oob_scores_, oob_score_, init_,
    classes_, n_classes_, max_features_, feature_importances_, n_features_in_,
    feature_names_in_

    Examples
    --------
    >>> from sklearn.datasets import make_hastie_10_2
    >>> from skext.ensemble import GradientBoostingClassifier
    >>> X, y = make_hastie_10_2(n_samples=2000, random_state=0)
    >>> clf = GradientBoostingClassifier(n_estimators=50, random_state=0).fit(X[:1500], y[:1500])
    >>> clf.score(X[1500:], y[1500:]) > 0.8
    True
    """

    _parameter_constraints = {
        **BaseGradientBoosting._parameter_constraints,
        "loss": [StrOptions({"log_loss", "exponential"})],
    }

    def __init__(self, *, loss="log_loss", learning_rate=0.1, n_estimators=100, subsample=1.0,
                 criterion="friedman_mse", min_samples_split=2, min_samples_leaf=1,
                 min_weight_fraction_leaf=0.0, max_depth=3, min_impurity_decrease=0.0,
                 init=None, random_state=None, max_features=None, verbose=0,
                 max_leaf_nodes=None, warm_start=False, validation_fraction=0.1,
                 n_iter_no_change=None, tol=1e-4, ccp_alpha=0.0, max_bins=MAX_BINS,
                 n_jobs=None):
        super().__init__(
            loss=loss, learning_rate=learning_rate, n_estimators=n_estimators,
            subsample=subsample, criterion=criterion, min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf, min_weight_fraction_leaf=min_weight_fraction_leaf,
            max_depth=max_depth, min_impurity_decrease=min_impurity_decrease, init=init,
            random_state=random_state, max_features=max_features, alpha=0.9, verbose=verbose,
            max_leaf_nodes=max_leaf_nodes, warm_start=warm_start,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            tol=tol, ccp_alpha=ccp_alpha, max_bins=max_bins, n_jobs=n_jobs)

    def _encode_y(self, y, sample_weight):
        classes, y_encoded = encode_classes(y)
        if hasattr(self, "classes_") and self.warm_start and hasattr(self, "estimators_"):
            if not np.array_equal(classes, self.classes_):
                raise ValueError("warm_start needs the same classes as the previous fit.")
        self.classes_ = classes
        self.n_classes_ = len(classes)
        n_weighted = len(np.unique(y_encoded[sample_weight > 0]))
        if n_weighted < 2:
            raise ValueError(
                "y contains 1 class after sample_weight trimmed classes with zero weights, "
                "while a minimum of 2 classes are required.")
        return y_encoded.astype(np.float64)

    def _make_loss(self):
        if self.loss == "exponential":
            if self.n_classes_ != 2:
                raise ValueError(
                    f"loss='{self.loss}' is only suitable for a binary classification problem, "
                    f"you have n_classes={self.n_classes_}. Please use loss='log_loss' instead.")
            return ExponentialLoss()
        if self.n_classes_ == 2:
            return BinomialLoss()
        return MultinomialLoss(self.n_classes_)

    def decision_function(self, X):
        """Raw scores: (n_samples,) for two classes, else (n_samples, n_classes)."""
        raw = self._raw_predict(self._validate_X_predict(X))
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def staged_decision_function(self, X):
        """decision_function after each stage (a generator)."""
        for raw in self._staged_raw_predict(X):
            yield raw[:, 0] if raw.shape[1] == 1 else raw

    def predict(self, X):
        """Most probable class of each sample."""
        return self._decode(self.decision_function(X))

    def _decode(self, raw):
        encoded = (raw >= 0).astype(int) if raw.ndim == 1 else np.argmax(raw, axis=1)
        return self.classes_[encoded]

    def staged_predict(self, X):
        """predict after each stage (a generator)."""
        for raw in self.staged_decision_function(X):
            yield self._decode(raw)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        raw = self._raw_predict(self._validate_X_predict(X))
        return self._loss.proba(raw)

    def predict_log_proba(self, X):
        """Logarithm of predict_proba."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def staged_predict_proba(self, X):
        """predict_proba after each stage (a generator)."""
        for raw in self._staged_raw_predict(X):
            yield self._loss.proba(raw)


class GradientBoostingRegressor(RegressorMixin, BaseGradientBoosting):
    """Gradient boosting for regression (Friedman), on skext's histogram engine.

    Parameters are GradientBoostingClassifier's, with loss in {"squared_error",
    "absolute_error", "huber", "quantile"} (default "squared_error") and alpha (default 0.9),
    the quantile of the huber and quantile losses.

    Attributes
    ----------
    n_estimators_, estimators_ (shape (n_estimators_, 1)), train_score_, oob_improvement_,
    oob_scores_, oob_score_, init_, max_features_, feature_importances_, n_features_in_,
    feature_names_in_

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skext.ensemble import GradientBoostingRegressor
    >>> X, y = make_friedman1(n_samples=1000, random_state=0)
    >>> reg = GradientBoostingRegressor(random_state=0).fit(X[:800], y[:800])
    >>> reg.score(X[800:], y[800:]) > 0.8
    True
    """

    _parameter_constraints = {
        **BaseGradientBoosting._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "huber", "quantile"})],
    }

    def __init__(self, *, loss="squared_error", learning_rate=0.1, n_estimators=100,
                 subsample=1.0, criterion="friedman_mse", min_samples_split=2,
                 min_samples_leaf=1, min_weight_fraction_leaf=0.0, max_depth=3,
                 min_impurity_decrease=0.0, init=None, random_state=None, max_features=None,
                 alpha=0.9, verbose=0, max_leaf_nodes=None, warm_start=False,
                 validation_fraction=0.1, n_iter_no_change=None, tol=1e-4, ccp_alpha=0.0,
                 max_bins=MAX_BINS, n_jobs=None):
        super().__init__(
            loss=loss, learning_rate=learning_rate, n_estimators=n_estimators,
            subsample=subsample, criterion=criterion, min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf, min_weight_fraction_leaf=min_weight_fraction_leaf,
            max_depth=max_depth, min_impurity_decrease=min_impurity_decrease, init=init,
            random_state=random_state, max_features=max_features, alpha=alpha, verbose=verbose,
            max_leaf_nodes=max_leaf_nodes, warm_start=warm_start,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            tol=tol, ccp_alpha=ccp_alpha, max_bins=max_bins, n_jobs=n_jobs)

    def _encode_y(self, y, sample_weight):
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        return y

    def _make_loss(self):
        if self.loss == "squared_error":
            return SquaredError()
        if self.loss == "absolute_error":
            return AbsoluteError()
        if self.loss == "huber":
            return HuberLoss(self.alpha)
        return QuantileLoss(self.alpha)

    def predict(self, X):
        """Predicted target of each sample."""
        return self._raw_predict(self._validate_X_predict(X))[:, 0]

    def staged_predict(self, X):
        """predict after each stage (a generator)."""
        for raw in self._staged_raw_predict(X):
            yield raw[:, 0]

    def apply(self, X):
        """Leaf index of each sample in each tree, shape (n_samples, n_estimators)
        (scikit-learn's regressor drops the classifier's per-class axis)."""
        return super().apply(X)[:, :, 0]
