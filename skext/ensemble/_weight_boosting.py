"""AdaBoost: AdaBoostClassifier (SAMME, multi-class) and AdaBoostRegressor (AdaBoost.R2).

Two paths, one algorithm:
- fast path, when the estimator is a skext decision tree: X is binned once, each round grows the
  tree on the engine from the current weights and reads the training predictions off the grower's
  leaf assignment (no predict pass, no re-binning);
- generic path, any scikit-learn estimator: fit(X, y, sample_weight) (or, with
  boosting="resample", fit on a weighted bootstrap sample) and predict, as scikit-learn does.

The weight updates, stopping rules and the final combination (weighted vote for SAMME, weighted
median for R2) are scikit-learn's, line for line, so estimator_weights_ and estimator_errors_
compare one to one.
"""

from numbers import Integral, Real

import numpy as np
from numba import njit
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from ..tree import DecisionTreeClassifier, DecisionTreeRegressor
from ..tree._binning import BinMapper
from ..tree._classes import (
    CRITERIA_CLF,
    CRITERIA_REG,
    MAX_INT,
    classification_stats,
    encode_classes,
    encode_labels,
    regression_stats,
)
from ..tree._grower import grow_tree
from ..tree._tree import apply_forest, pack_trees, packed_views, predict_forest, tree_lists
from ..utils._compat import HasMethods, Interval, StrOptions, check_sample_weight, fit_context
from ..utils._validation import SPARSE_FORMATS, check_sparse_finite


@njit(cache=True, nogil=True)
def _scale_misclassified(y, y_pred, w, factor):
    """w[i] *= factor where y_pred[i] != y[i] (w: in/out): SAMME's exp(alpha_m) update."""
    for i in range(y.shape[0]):
        if y_pred[i] != y[i]:
            w[i] *= factor


class BaseWeightBoosting(BaseEstimator):
    """The boosting loop shared by both AdaBoost estimators."""

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "boosting": [StrOptions({"reweight", "resample"})],
    }

    def __init__(self, estimator=None, *, n_estimators=50, learning_rate=1.0, random_state=None,
                 boosting="reweight"):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.boosting = boosting

    @fit_context
    def fit(self, X, y, sample_weight=None):
        """Build a boosted ensemble from the training set (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; NaN is allowed when the estimator allows it (skext trees do).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Initial weights, 1 / n_samples when None.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                             ensure_all_finite="allow-nan" if self._fast_path() else True,
                             y_numeric=not is_classifier(self))
        check_sparse_finite(self, X)
        sample_weight = check_sample_weight(sample_weight, X).copy()
        if sample_weight.sum() <= 0:
            raise ValueError("sample_weight must have a positive sum.")
        sample_weight /= sample_weight.sum()
        y = self._encode_y(y)
        self.estimator_ = (clone(self.estimator) if self.estimator is not None
                           else self._default_estimator())
        if self.boosting == "reweight" and not has_fit_parameter(self.estimator_,
                                                                 "sample_weight"):
            raise TypeError(
                f"{self.estimator_.__class__.__name__} does not support sample_weight, which "
                f"boosting='reweight' passes to it; use boosting='resample' (each round fits "
                f"on a weighted bootstrap sample instead).")
        random_state = check_random_state(self.random_state)
        self.estimators_ = []
        self.estimator_weights_ = np.zeros(self.n_estimators)
        self.estimator_errors_ = np.ones(self.n_estimators)
        self._fast = self._fast_path()
        if self._fast:
            self._prepare_fast(X, y, sample_weight)

        epsilon = np.finfo(np.float64).eps
        zero_weight = sample_weight == 0.0
        for iboost in range(self.n_estimators):
            # scikit-learn's guard against weights underflowing to zero.
            sample_weight = np.clip(sample_weight, epsilon, None)
            sample_weight[zero_weight] = 0.0
            estimator, y_pred = self._fit_round(X, y, sample_weight, random_state)
            sample_weight, weight, error = self._boost(iboost, estimator, y, y_pred,
                                                       sample_weight)
            if sample_weight is None:
                break
            self.estimator_weights_[iboost] = weight
            self.estimator_errors_[iboost] = error
            if error == 0:
                break
            total = np.sum(sample_weight)
            if not np.isfinite(total) or total <= 0:
                break
            if iboost < self.n_estimators - 1:
                sample_weight /= total
        self._finish_fast()
        return self

    def _fast_path(self):
        """Whether the estimator is one of skext's trees (then the loop runs on the engine)."""
        estimator = self.estimator if self.estimator is not None else self._default_estimator()
        return type(estimator) in (DecisionTreeClassifier, DecisionTreeRegressor)

    # --- one round ----------------------------------------------------------------------------

    def _fit_round(self, X, y, sample_weight, random_state):
        """Fit the next estimator on the current distribution; return it with its predictions
        on the training rows (encoded classes for the classifier)."""
        seed = random_state.randint(MAX_INT)
        if self.boosting == "resample":
            drawn = random_state.choice(len(y), size=len(y), replace=True,
                                        p=sample_weight / sample_weight.sum())
            fit_weight = np.bincount(drawn, minlength=len(y)).astype(np.float64)
        else:
            drawn = None
            fit_weight = sample_weight
        if self._fast:
            # A skext tree's constructor takes its get_params(): cheaper than clone() per round.
            estimator = type(self.estimator_)(**{**self._tree_params, "random_state": seed})
        else:
            estimator = clone(self.estimator_)
            if "random_state" in estimator.get_params():
                estimator.set_params(random_state=seed)
        if self._fast:
            y_pred = self._grow_fast(estimator, X, y, fit_weight, seed)
        else:
            y_fit = self._decode_y(y)
            if drawn is not None:
                estimator.fit(X[drawn], y_fit[drawn])
            else:
                estimator.fit(X, y_fit, sample_weight=fit_weight)
            y_pred = self._encode_pred(estimator.predict(X))
        self.estimators_.append(estimator)
        return estimator, y_pred

    def _prepare_fast(self, X, y, sample_weight):
        """Bin X once (on the initial weights) for every round's tree."""
        self._tree_params = self.estimator_.get_params(deep=False)
        self._bin_mapper = BinMapper(self.estimator_.max_bins,
                                     random_state=check_random_state(self.random_state)
                                     .randint(MAX_INT))
        self._X_binned = self._bin_mapper.fit_transform(X, sample_weight)

    def _grow_fast(self, estimator, X, y, fit_weight, seed):
        """Grow estimator's tree on the binned data; its predictions on the training rows come
        from the grower's leaf of each row (rows of weight 0 walk the tree)."""
        criterion, stats, fit_weight = self._fast_stats(estimator, y, fit_weight)
        # DecisionTree*.fit draws its tree seed from random_state = seed the same way.
        tree_seed = np.random.RandomState(seed).randint(MAX_INT)
        tree, leaf = grow_tree(self._X_binned, stats, np.flatnonzero(fit_weight > 0),
                               self._bin_mapper, criterion=criterion, seed=tree_seed,
                               return_leaves=True,
                               **estimator._grow_kwargs(X.shape, fit_weight.sum()))
        outside = leaf < 0
        if outside.any():
            leaf[outside] = tree.apply(X[outside])
        estimator._set_fitted(tree, self.n_features_in_, getattr(self, "feature_names_in_", None),
                              **self._fitted_attrs())
        return self._leaf_predictions(tree)[leaf]

    def _finish_fast(self):
        if self._fast:
            del self._X_binned, self._bin_mapper, self._tree_params
            self._pack()

    def _pack(self):
        """Each tree's node predictions, for reading its leaves after the one-call apply."""
        pack_trees([est.tree_ for est in self.estimators_])
        self._leaf_pred = [self._leaf_predictions(est.tree_) for est in self.estimators_]

    def _predictions(self, X, limit=None):
        """(n_samples, n_used) predictions of the first `limit` estimators (encoded classes for
        the classifier): one apply kernel call on the fast path."""
        used = self.estimators_[:limit]
        if getattr(self, "_fast", False):
            nodes, _, depths = tree_lists([est.tree_ for est in used])
            leaves = np.empty((X.shape[0], len(depths)), dtype=np.int32)
            apply_forest(X, nodes, depths, leaves)
            return np.column_stack([pred[leaves[:, m]] for m, pred in enumerate(self._leaf_pred)])
        return np.column_stack([self._encode_pred(est.predict(X)) for est in used])

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=np.float64, reset=False,
                          ensure_all_finite="allow-nan" if self._fast else True)
        return check_sparse_finite(self, X)

    @property
    def feature_importances_(self):
        """Estimator-weighted mean of the estimators' feature_importances_."""
        check_is_fitted(self)
        norm = self.estimator_weights_.sum()
        if norm <= 0:
            raise ValueError("Feature importances are not defined: every estimator weight is "
                             "zero.")
        return sum(weight * est.feature_importances_
                   for weight, est in zip(self.estimator_weights_, self.estimators_)) / norm

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._fast_path()
        # skext's trees take sparse X; another base estimator says for itself.
        tags.input_tags.sparse = (self._fast_path()
                                  or get_tags(self.estimator).input_tags.sparse)
        return tags


class AdaBoostClassifier(ClassifierMixin, BaseWeightBoosting):
    """AdaBoost classifier (SAMME; discrete AdaBoost for two classes), scikit-learn's API.

    Each round fits the estimator to the current sample weights D_m, computes its weighted
    error e_m and its weight alpha_m = learning_rate * (log((1 - e_m) / e_m) + log(K - 1)),
    multiplies the weights of misclassified samples by exp(alpha_m) and renormalises. A perfect
    estimator ends the fit; one no better than chance (e_m >= 1 - 1/K) is dropped and ends it.

    Parameters
    ----------
    estimator : object, default=None
        The base estimator; None means skext's DecisionTreeClassifier(max_depth=1), a stump.
        skext trees take the fast path (data binned once); any other scikit-learn classifier
        works through its own fit / predict.
    n_estimators : int, default=50
    learning_rate : float, default=1.0
    random_state : int, RandomState instance or None, default=None
    boosting : {"reweight", "resample"}, default="reweight"
        How D_m reaches the estimator: as sample_weight ("reweight", the estimator must accept
        it) or as a weighted bootstrap sample drawn from D_m ("resample", Freund and Schapire's
        original formulation; works with any estimator). skext's own parameter.

    Attributes
    ----------
    estimator_, estimators_, estimator_weights_, estimator_errors_, classes_, n_classes_,
    feature_importances_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> from sklearn.datasets import make_hastie_10_2
    >>> from skext.ensemble import AdaBoostClassifier
    >>> X, y = make_hastie_10_2(n_samples=4000, random_state=0)
    >>> clf = AdaBoostClassifier(n_estimators=200, random_state=0).fit(X[:2000], y[:2000])
    >>> clf.score(X[2000:], y[2000:]) > 0.8
    True
    """

    def _default_estimator(self):
        return DecisionTreeClassifier(max_depth=1)

    def _encode_y(self, y):
        self.classes_, y_encoded = encode_classes(y)
        self.n_classes_ = len(self.classes_)
        return y_encoded

    def _decode_y(self, y):
        return self.classes_[y]

    def _encode_pred(self, pred):
        """Class labels -> indices into classes_ (a label outside classes_ is an error)."""
        return encode_labels(self.classes_, pred,
                             "The estimator predicted a label that is not in classes_.")

    def _fast_stats(self, estimator, y, fit_weight):
        if estimator.class_weight is not None:
            fit_weight = fit_weight * compute_sample_weight(estimator.class_weight,
                                                            self.classes_[y])
        return (CRITERIA_CLF[estimator.criterion],
                classification_stats(y, self.n_classes_, fit_weight), fit_weight)

    def _fitted_attrs(self):
        return {"classes_": self.classes_, "n_classes_": self.n_classes_}

    @staticmethod
    def _leaf_predictions(tree):
        return np.argmax(tree.value, axis=1)

    def _boost(self, iboost, estimator, y, y_pred, sample_weight):
        """One SAMME update (scikit-learn's _boost_discrete): (new weights, alpha_m, e_m), or
        (None, None, None) when the estimator is no better than chance."""
        # NumPy's pairwise sums: e_m is then reproducible by any reference written in NumPy.
        error = float(np.average(y_pred != y, weights=sample_weight))
        if error <= 0:
            return sample_weight, 1.0, 0.0
        K = self.n_classes_
        if error >= 1.0 - 1.0 / K:
            self.estimators_.pop(-1)
            if not self.estimators_:
                raise ValueError("BaseClassifier in AdaBoostClassifier ensemble is worse than "
                                 "random, ensemble can not be fit.")
            return None, None, None
        weight = self.learning_rate * (np.log((1.0 - error) / error) + np.log(K - 1.0))
        if iboost != self.n_estimators - 1:
            _scale_misclassified(y, y_pred, sample_weight, np.exp(weight))
        return sample_weight, weight, error

    # --- predict ------------------------------------------------------------------------------

    def _staged_votes(self, X):
        """Yield the weighted class votes (n_samples, K) after each estimator, and the weight
        total they are divided by."""
        X = self._validate_X_predict(X)
        predictions = self._predictions(X)
        votes = np.zeros((X.shape[0], self.n_classes_))
        rows = np.arange(X.shape[0])
        norm = 0.0
        K = self.n_classes_
        for m, weight in enumerate(self.estimator_weights_[:len(self.estimators_)]):
            # SAMME's symmetric coding: +w for the predicted class, -w / (K - 1) for the others.
            if K > 1:
                votes -= weight / (K - 1)
                votes[rows, predictions[:, m]] += weight + weight / (K - 1)
            norm += weight
            yield votes, norm

    def _pack(self):
        super()._pack()
        # SAMME's coded vote of each node's class: w for it, -w / (K - 1) for the others.
        K = self.n_classes_
        self._votes = []
        for w, pred in zip(self.estimator_weights_, self._leaf_pred):
            onehot = pred[:, None] == np.arange(K)[None, :]
            self._votes.append(np.where(onehot, w, -w / (K - 1)) if K > 1
                               else np.zeros((len(pred), 1)))
        self._votes = packed_views(self._votes)

    def _decision(self, votes, norm):
        pred = votes / norm
        if self.n_classes_ == 2:
            return pred[:, 1] - pred[:, 0]
        return pred

    def decision_function(self, X):
        """Weighted vote per class, divided by the sum of all estimator weights: shape
        (n_samples,) for two classes (positive favours classes_[1]), else (n_samples, K)."""
        if not getattr(self, "_fast", False):
            *_, (votes, _) = self._staged_votes(X)
            return self._decision(votes, self.estimator_weights_.sum())
        # Fast path: each leaf holds its tree's coded vote; one kernel call sums them all.
        X = self._validate_X_predict(X)
        nodes, votes_per_node, depths = tree_lists([est.tree_ for est in self.estimators_],
                                                   self._votes)
        votes = np.empty((X.shape[0], self.n_classes_))
        predict_forest(X, nodes, votes_per_node, depths, votes)
        return self._decision(votes, self.estimator_weights_.sum())

    def staged_decision_function(self, X):
        """decision_function after each boosting iteration (a generator)."""
        for votes, norm in self._staged_votes(X):
            yield self._decision(votes, norm)

    def _decode(self, decision):
        if self.n_classes_ == 2:
            return self.classes_[(decision > 0).astype(int)]
        return self.classes_[np.argmax(decision, axis=1)]

    def predict(self, X):
        """The class with the largest weighted vote."""
        return self._decode(self.decision_function(X))

    def staged_predict(self, X):
        """predict after each boosting iteration (a generator)."""
        for decision in self.staged_decision_function(X):
            yield self._decode(decision)

    def _proba(self, decision):
        if self.n_classes_ == 2:
            decision = np.column_stack((-decision, decision)) / 2
        else:
            decision = decision / (self.n_classes_ - 1)
        return softmax(decision, axis=1)

    def predict_proba(self, X):
        """Class probabilities: softmax of the decision function (scaled as scikit-learn's)."""
        return self._proba(self.decision_function(X))

    def staged_predict_proba(self, X):
        """predict_proba after each boosting iteration (a generator)."""
        for decision in self.staged_decision_function(X):
            yield self._proba(decision)

    def predict_log_proba(self, X):
        """Logarithm of predict_proba."""
        return np.log(self.predict_proba(X))

    def staged_score(self, X, y, sample_weight=None):
        """Accuracy after each boosting iteration (a generator)."""
        for pred in self.staged_predict(X):
            yield accuracy_score(y, pred, sample_weight=sample_weight)


class AdaBoostRegressor(RegressorMixin, BaseWeightBoosting):
    """AdaBoost.R2 regressor (Drucker, 1997), scikit-learn's API.

    Each round fits the estimator to the current distribution, scales its absolute errors by
    the largest one, applies the loss ("linear", "square" or "exponential"), and with the average
    loss L_m sets beta_m = L_m / (1 - L_m), estimator weight learning_rate * log(1 / beta_m),
    and multiplies each weight by beta_m ** ((1 - loss_i) * learning_rate). It stops at a perfect
    estimator or when L_m >= 0.5. The prediction is the weighted median of the estimators.

    Parameters
    ----------
    estimator : object, default=None
        None means skext's DecisionTreeRegressor(max_depth=3).
    n_estimators : int, default=50
    learning_rate : float, default=1.0
    loss : {"linear", "square", "exponential"}, default="linear"
    random_state : int, RandomState instance or None, default=None
    boosting : {"reweight", "resample"}, default="resample"
        As AdaBoostClassifier's, but resampling by default: Drucker's AdaBoost.R2 and
        scikit-learn's AdaBoostRegressor fit each round on a weighted bootstrap sample.

    Attributes
    ----------
    estimator_, estimators_, estimator_weights_, estimator_errors_, feature_importances_,
    n_features_in_, feature_names_in_

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skext.ensemble import AdaBoostRegressor
    >>> X, y = make_friedman1(n_samples=1000, random_state=0)
    >>> reg = AdaBoostRegressor(random_state=0).fit(X[:800], y[:800])
    >>> reg.score(X[800:], y[800:]) > 0.7
    True
    """

    _parameter_constraints = {
        **BaseWeightBoosting._parameter_constraints,
        "loss": [StrOptions({"linear", "square", "exponential"})],
    }

    def __init__(self, estimator=None, *, n_estimators=50, learning_rate=1.0, loss="linear",
                 random_state=None, boosting="resample"):
        super().__init__(estimator, n_estimators=n_estimators, learning_rate=learning_rate,
                         random_state=random_state, boosting=boosting)
        self.loss = loss

    def _default_estimator(self):
        return DecisionTreeRegressor(max_depth=3)

    def _encode_y(self, y):
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        return y

    def _decode_y(self, y):
        return y

    def _encode_pred(self, pred):
        return np.asarray(pred, dtype=np.float64)

    def _fast_stats(self, estimator, y, fit_weight):
        return CRITERIA_REG[estimator.criterion], regression_stats(y, fit_weight), fit_weight

    def _fitted_attrs(self):
        return {}

    @staticmethod
    def _leaf_predictions(tree):
        return tree.value[:, 0]

    def _boost(self, iboost, estimator, y, y_pred, sample_weight):
        """One AdaBoost.R2 update (scikit-learn's AdaBoostRegressor._boost)."""
        error_vect = np.abs(y_pred - y)
        mask = sample_weight > 0
        masked_weight = sample_weight[mask]
        masked_error = error_vect[mask]
        error_max = masked_error.max()
        if error_max != 0:
            masked_error /= error_max
        if self.loss == "square":
            masked_error **= 2
        elif self.loss == "exponential":
            masked_error = 1.0 - np.exp(-masked_error)
        error = (masked_weight * masked_error).sum()
        if error <= 0:
            return sample_weight, 1.0, 0.0
        if error >= 0.5:
            # Discard the estimator unless it is the only one.
            if len(self.estimators_) > 1:
                self.estimators_.pop(-1)
            return None, None, None
        beta = error / (1.0 - error)
        weight = self.learning_rate * np.log(1.0 / beta)
        if iboost != self.n_estimators - 1:
            sample_weight[mask] *= np.power(beta, (1.0 - masked_error) * self.learning_rate)
        return sample_weight, weight, error

    def _weighted_median(self, predictions, limit):
        """Per row, the prediction at which the cumulative estimator weight reaches half."""
        predictions = predictions[:, :limit]
        order = np.argsort(predictions, axis=1)
        cdf = np.cumsum(self.estimator_weights_[:limit][order], axis=1)
        median_or_above = cdf >= 0.5 * cdf[:, -1][:, None]
        pick = order[np.arange(len(predictions)), median_or_above.argmax(axis=1)]
        return predictions[np.arange(len(predictions)), pick]

    def predict(self, X):
        """Weighted median of the estimators' predictions."""
        X = self._validate_X_predict(X)
        predictions = self._predictions(X)
        return self._weighted_median(predictions, len(self.estimators_))

    def staged_predict(self, X):
        """predict after each boosting iteration (a generator)."""
        X = self._validate_X_predict(X)
        predictions = self._predictions(X)
        for m in range(1, len(self.estimators_) + 1):
            yield self._weighted_median(predictions, m)

    def staged_score(self, X, y, sample_weight=None):
        """R^2 after each boosting iteration (a generator)."""
        for pred in self.staged_predict(X):
            yield r2_score(y, pred, sample_weight=sample_weight)
