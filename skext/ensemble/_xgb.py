"""XGBClassifier and XGBRegressor: an XGBoost-style second-order booster on the shared engine.

Each round computes the objective's gradient g and hessian h at the current margins and grows one
tree per output on the engine's second-order criterion (gain 1/2 [G_L^2/(H_L+lambda) +
G_R^2/(H_R+lambda) - G^2/(H+lambda)], split when >= gamma; leaf -T_alpha(G)/(H+lambda) clipped by
max_delta_step; min_child_weight bounds H), then adds learning_rate times it. Names, defaults and
the fit / predict signatures are xgboost's scikit-learn API (xgboost >= 2: eval_metric and
early_stopping_rounds in the constructor).

Built so far (issue #3 is open): tree_method="hist" with depthwise and lossguide growth, the
objectives in _objectives.py, subsample, colsample_bytree / colsample_bynode, scale_pos_weight,
sample_weight, missing values, eval_set with early stopping and the listed metrics,
iteration_range, importance types. Not yet: tree_method="exact", colsample_bylevel < 1,
reg:absoluteerror / reg:quantileerror, xgb_model continuation, JSON dump; they raise.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import log_loss, mean_absolute_error, roc_auc_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..tree._binning import BinMapper
from ..tree._classes import MAX_INT, encode_classes, encode_labels
from ..tree._grower import grow_tree
from ..tree._tree import _apply_forest, _predict_forest, tree_lists
from ..tree._types import CRITERION_SECOND_ORDER, MAX_BINS
from ..utils._compat import check_sample_weight
from ..utils._parallel import n_threads, numba_threads
from ._base import scaled_output_values
from ._objectives import (
    CLASSIFICATION_OBJECTIVES,
    NOT_YET,
    REGRESSION_OBJECTIVES,
    Logistic,
    Softmax,
)

_METRICS_LOWER_IS_BETTER = {"rmse": True, "mae": True, "logloss": True, "error": True,
                            "auc": False, "mlogloss": True, "merror": True}
_IMPORTANCE_TYPES = ("gain", "weight", "cover", "total_gain", "total_cover")


def _metric(name, y, pred, margin, w):
    """xgboost's evaluation metrics on predictions (probabilities for classifiers)."""
    if name == "rmse":
        return float(np.sqrt(np.average((y - pred) ** 2, weights=w)))
    if name == "mae":
        return float(mean_absolute_error(y, pred, sample_weight=w))
    if name == "logloss":
        return float(log_loss(y, np.clip(pred, 1e-15, 1 - 1e-15), sample_weight=w,
                              labels=[0, 1]))
    if name == "error":
        return float(np.average((pred > 0.5) != y, weights=w))
    if name == "auc":
        return float(roc_auc_score(y, pred, sample_weight=w))
    if name == "mlogloss":
        return float(log_loss(y, pred, sample_weight=w, labels=np.arange(pred.shape[1])))
    if name == "merror":
        return float(np.average(np.argmax(pred, axis=1) != y, weights=w))
    raise ValueError(f"eval_metric {name!r} is not supported; use one of "
                     f"{sorted(_METRICS_LOWER_IS_BETTER)}.")


class XGBModel(BaseEstimator):
    """Shared fit / predict of XGBClassifier and XGBRegressor (xgboost's parameter names; None
    means xgboost's default)."""

    def __init__(self, *, n_estimators=None, max_depth=None, max_leaves=None, max_bin=None,
                 grow_policy=None, learning_rate=None, objective=None, booster=None,
                 tree_method=None, n_jobs=None, gamma=None, min_child_weight=None,
                 max_delta_step=None, subsample=None, colsample_bytree=None,
                 colsample_bylevel=None, colsample_bynode=None, reg_alpha=None,
                 reg_lambda=None, scale_pos_weight=None, base_score=None, random_state=None,
                 missing=np.nan, importance_type=None, eval_metric=None,
                 early_stopping_rounds=None, verbosity=None, device=None,
                 tweedie_variance_power=None, huber_slope=None):
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.max_leaves = max_leaves
        self.max_bin = max_bin
        self.grow_policy = grow_policy
        self.learning_rate = learning_rate
        self.objective = objective
        self.booster = booster
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self.gamma = gamma
        self.min_child_weight = min_child_weight
        self.max_delta_step = max_delta_step
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.colsample_bylevel = colsample_bylevel
        self.colsample_bynode = colsample_bynode
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.scale_pos_weight = scale_pos_weight
        self.base_score = base_score
        self.random_state = random_state
        self.missing = missing
        self.importance_type = importance_type
        self.eval_metric = eval_metric
        self.early_stopping_rounds = early_stopping_rounds
        self.verbosity = verbosity
        self.device = device
        self.tweedie_variance_power = tweedie_variance_power
        self.huber_slope = huber_slope

    # --- parameters ------------------------------------------------------------------------

    def _resolved(self):
        """Parameters with xgboost's defaults filled in, checked."""
        def value(name, default):
            v = getattr(self, name)
            return default if v is None else v

        p = {
            "n_estimators": value("n_estimators", 100), "max_depth": value("max_depth", 6),
            "max_leaves": value("max_leaves", 0), "max_bin": value("max_bin", 256),
            "grow_policy": value("grow_policy", "depthwise"),
            "learning_rate": value("learning_rate", 0.3), "booster": value("booster", "gbtree"),
            "tree_method": value("tree_method", "hist"), "gamma": value("gamma", 0.0),
            "min_child_weight": value("min_child_weight", 1.0),
            "max_delta_step": self.max_delta_step, "subsample": value("subsample", 1.0),
            "colsample_bytree": value("colsample_bytree", 1.0),
            "colsample_bylevel": value("colsample_bylevel", 1.0),
            "colsample_bynode": value("colsample_bynode", 1.0),
            "reg_alpha": value("reg_alpha", 0.0), "reg_lambda": value("reg_lambda", 1.0),
            "scale_pos_weight": value("scale_pos_weight", 1.0),
            "tweedie_variance_power": value("tweedie_variance_power", 1.5),
            "huber_slope": value("huber_slope", 1.0),
        }
        checks = [
            ("n_estimators", p["n_estimators"] >= 1), ("max_depth", p["max_depth"] >= 0),
            ("max_leaves", p["max_leaves"] >= 0), ("max_bin", p["max_bin"] >= 2),
            ("learning_rate", p["learning_rate"] >= 0), ("gamma", p["gamma"] >= 0),
            ("min_child_weight", p["min_child_weight"] >= 0),
            ("subsample", 0 < p["subsample"] <= 1),
            ("colsample_bytree", 0 < p["colsample_bytree"] <= 1),
            ("colsample_bynode", 0 < p["colsample_bynode"] <= 1),
            ("reg_alpha", p["reg_alpha"] >= 0), ("reg_lambda", p["reg_lambda"] >= 0),
            ("scale_pos_weight", p["scale_pos_weight"] > 0),
            ("grow_policy", p["grow_policy"] in ("depthwise", "lossguide")),
            ("booster", p["booster"] == "gbtree"),
            ("max_delta_step", p["max_delta_step"] is None or p["max_delta_step"] >= 0),
        ]
        for name, ok in checks:
            if not ok:
                raise ValueError(f"Invalid value for {name}: {p[name]!r}.")
        if p["tree_method"] not in ("hist", "auto", "approx"):
            raise ValueError(f"tree_method={p['tree_method']!r} is not supported yet (only "
                             "'hist'; 'auto' and 'approx' run as 'hist').")
        if p["colsample_bylevel"] != 1.0:
            raise ValueError("colsample_bylevel < 1 is not supported yet; use "
                             "colsample_bynode.")
        if self.device not in (None, "cpu"):
            raise ValueError(f"device={self.device!r}: skext's booster runs on the CPU.")
        if p["max_depth"] == 0 and p["max_leaves"] == 0:
            raise ValueError("max_depth=0 needs max_leaves > 0 (grow_policy='lossguide').")
        return p

    # --- fit --------------------------------------------------------------------------------

    def fit(self, X, y, *, sample_weight=None, base_margin=None, eval_set=None, verbose=True,
            xgb_model=None, sample_weight_eval_set=None):
        """Fit the booster (xgboost's XGBModel.fit signature).

        eval_set: list of (X, y) pairs evaluated after every round with eval_metric; the last
        one drives early_stopping_rounds; verbose (True or a period in rounds) prints them as
        xgboost does. base_margin and xgb_model (continued training) are not supported yet.
        """
        if base_margin is not None or xgb_model is not None:
            raise ValueError("base_margin and xgb_model are not supported yet.")
        p = self._resolved()
        X, y = self._validate_fit(X, y)
        sample_weight = check_sample_weight(sample_weight, X)
        y = self._encode_y(y, sample_weight)
        objective = self._make_objective(p)
        objective.check_labels(y)
        self._objective = objective
        K = objective.n_outputs
        w = sample_weight.copy()
        if p["scale_pos_weight"] != 1.0 and objective.is_classification and K == 1:
            w[y == 1] *= p["scale_pos_weight"]

        rng = check_random_state(self.random_state)
        if self.base_score is None:
            self._base_margin = objective.base_margin(y, w)
        else:
            self._base_margin = objective.margin_from_base_score(self.base_score)
        if K > 1:
            self._base_margin = np.broadcast_to(self._base_margin, (K,)).astype(float)
        margin = np.tile(self._base_margin, (len(y), 1))

        # Hessian-weighted quantile sketch at the starting margins (xgboost's hist).
        _, h0 = objective.grad_hess(y, margin)
        bin_mapper = BinMapper(min(int(p["max_bin"]), MAX_BINS),
                               random_state=rng.randint(MAX_INT), n_threads=n_threads(self.n_jobs))
        X_binned = bin_mapper.fit_transform(X, w * h0.mean(axis=1))

        evals = self._prepare_evals(eval_set, sample_weight_eval_set)
        metrics = self._metric_names(objective)
        self.evals_result_ = {f"validation_{i}": {m: [] for m in metrics}
                              for i in range(len(evals))}
        n_features = X.shape[1]
        n_bytree = max(1, int(round(p["colsample_bytree"] * n_features)))
        params = np.array([p["reg_lambda"], p["reg_alpha"], p["max_delta_step"] or 0.0])
        grow = dict(criterion=CRITERION_SECOND_ORDER, params=params,
                    max_depth=None if p["max_depth"] == 0 else int(p["max_depth"]),
                    min_weight_leaf=float(p["min_child_weight"]),
                    # xgboost's loss_chg is twice the engine's gain (its CalcGain has no 1/2);
                    # it splits when loss_chg > max(gamma, kRtEps = 1e-6). Difference: gamma
                    # pre-prunes here, xgboost prunes after growing.
                    min_gain=max(float(p["gamma"]), 1e-6) / 2,
                    max_leaf_nodes=(int(p["max_leaves"]) if p["grow_policy"] == "lossguide"
                                    and p["max_leaves"] > 0 else None),
                    parallel=n_threads(self.n_jobs) > 1, gather=True)
        self._trees = []
        self._best_iteration = self._best_score = None
        best_score, stale = None, 0
        n_rows = len(y)
        with numba_threads(self.n_jobs):
            for it in range(int(p["n_estimators"])):
                grad, hess = objective.grad_hess(y, margin)
                rows = np.arange(n_rows)
                if p["subsample"] < 1.0:
                    rows = np.sort(rng.permutation(n_rows)[:max(1, int(p["subsample"]
                                                                      * n_rows))])
                rows = rows[w[rows] > 0]
                pool = (np.sort(rng.permutation(n_features)[:n_bytree])
                        if n_bytree < n_features else None)
                n_pool = n_bytree
                max_features = max(1, int(round(p["colsample_bynode"] * n_pool)))
                round_trees = []
                for k in range(K):
                    stats = np.column_stack((w * grad[:, k], w * hess[:, k]))
                    tree, leaf = grow_tree(X_binned, stats, rows, bin_mapper, feature_pool=pool,
                                           max_features=max_features,
                                           seed=rng.randint(MAX_INT), return_leaves=True,
                                           **grow)
                    outside = leaf < 0
                    if outside.any():
                        leaf[outside] = tree.apply(X[outside])
                    margin[:, k] += p["learning_rate"] * tree.value[leaf, 0]
                    round_trees.append(tree)
                self._trees.append(round_trees)
                if evals:
                    stop, best_score, stale = self._evaluate(evals, metrics, it, best_score,
                                                             stale, p["learning_rate"])
                    period = 1 if verbose is True else int(verbose or 0)
                    if period and (it % period == 0 or stop):
                        print(f"[{it}]\t" + "\t".join(
                            f"{name}-{m}:{values[m][-1]:.5f}"
                            for name, values in self.evals_result_.items() for m in metrics))
                    if stop:
                        break
        self.n_features_in_ = n_features
        self._lr = p["learning_rate"]
        self._pack()
        if self._best_iteration is None:
            self._best_iteration = len(self._trees) - 1
        return self

    @property
    def best_iteration(self):
        """Index of the best round (the last one without early stopping)."""
        check_is_fitted(self, "_trees")
        return self._best_iteration

    @property
    def best_score(self):
        """The early-stopping metric's best value on the last eval set."""
        if getattr(self, "_best_score", None) is None:
            raise AttributeError("best_score is only defined with early_stopping_rounds.")
        return self._best_score

    def _validate_fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False,
                             y_numeric=not isinstance(self, ClassifierMixin))
        if not np.isnan(self.missing):
            X = np.where(X == self.missing, np.nan, X)
        if np.isinf(X).any():
            raise ValueError("Input X contains infinity.")
        return X, y

    def _prepare_evals(self, eval_set, weights):
        evals = []
        for i, (Xe, ye) in enumerate(eval_set or []):
            Xe = self._validate_X(Xe, reset=False, fitted=False)
            ye = self._encode_eval_y(np.asarray(ye))
            we = None if weights is None else np.asarray(weights[i], dtype=float)
            evals.append([Xe, ye, we, np.tile(self._base_margin, (len(ye), 1))])
        return evals

    def _metric_names(self, objective):
        metric = self.eval_metric or objective.default_metric
        return [metric] if isinstance(metric, str) else list(metric)

    def _evaluate(self, evals, metrics, it, best_score, stale, lr):
        """Update each eval set's margins with this round's trees, record the metrics, and
        decide early stopping on the last metric of the last eval set."""
        for i, (Xe, ye, we, margin) in enumerate(evals):
            for k, tree in enumerate(self._trees[-1]):
                margin[:, k] += lr * tree.predict(Xe)[:, 0]
            pred = self._objective.transform(margin)
            for m in metrics:
                self.evals_result_[f"validation_{i}"][m].append(_metric(m, ye, pred, margin,
                                                                        we))
        if self.early_stopping_rounds is None:
            return False, best_score, stale
        last = self.evals_result_[f"validation_{len(evals) - 1}"][metrics[-1]][-1]
        lower = _METRICS_LOWER_IS_BETTER[metrics[-1]]
        if best_score is None or (last < best_score if lower else last > best_score):
            self._best_iteration, self._best_score = it, last
            return False, last, 0
        stale += 1
        return stale >= self.early_stopping_rounds, best_score, stale

    def _pack(self):
        self._tree_values = scaled_output_values(
            [t for round_trees in self._trees for t in round_trees],
            self._objective.n_outputs, self._lr)

    # --- predict ----------------------------------------------------------------------------

    def _validate_X(self, X, reset=False, fitted=True):
        if fitted:
            check_is_fitted(self, "_trees")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite=False, reset=reset)
        if not np.isnan(self.missing):
            X = np.where(X == self.missing, np.nan, X)
        return X

    def _tree_range(self, iteration_range):
        """Flat indices lo:hi of the trees of rounds iteration_range = (start, stop); stop 0
        means the last round (xgboost's convention)."""
        K = self._objective.n_outputs
        start, stop = iteration_range
        if stop == 0:
            stop = len(self._trees)
        return start * K, stop * K

    def _margin(self, X, iteration_range=None):
        X = self._validate_X(X)
        K = self._objective.n_outputs
        lo, hi = self._tree_range((0, self._best_iteration + 1) if iteration_range is None
                                  else iteration_range)
        trees = [t for round_trees in self._trees for t in round_trees][lo:hi]
        margin = np.tile(self._base_margin, (len(X), 1))
        if trees:
            nodes, values, depths = tree_lists(trees, self._tree_values[lo:hi])
            out = np.empty((len(X), K))
            with numba_threads(self.n_jobs):
                _predict_forest(X, nodes, values, depths, out)
            margin = margin + out
        return margin

    def apply(self, X, iteration_range=None):
        """Leaf index of each sample in each tree of the rounds in iteration_range (default:
        all), (n_samples, n_trees)."""
        X = self._validate_X(X)
        lo, hi = self._tree_range(iteration_range or (0, 0))
        trees = [t for round_trees in self._trees for t in round_trees][lo:hi]
        nodes, _, depths = tree_lists(trees)
        out = np.empty((len(X), len(trees)), dtype=np.int32)
        _apply_forest(X, nodes, depths, out)
        return out

    def evals_result(self):
        """Metric values per eval set and round: {"validation_0": {"rmse": [...]}, ...}."""
        check_is_fitted(self, "_trees")
        return self.evals_result_

    @property
    def feature_importances_(self):
        """Importances of importance_type ("gain" by default: mean gain of the splits on each
        feature; "weight": number of splits; "cover": mean hessian sum; total_*), normalised to
        sum to 1 as xgboost's scikit-learn API does."""
        check_is_fitted(self, "_trees")
        kind = self.importance_type or "gain"
        if kind not in _IMPORTANCE_TYPES:
            raise ValueError(f"importance_type must be one of {_IMPORTANCE_TYPES}, got "
                             f"{kind!r}.")
        n = self.n_features_in_
        count, gain, cover = np.zeros(n), np.zeros(n), np.zeros(n)
        for round_trees in self._trees:
            for tree in round_trees:
                split = tree.children_left != -1
                f = tree.feature[split]
                np.add.at(count, f, 1.0)
                np.add.at(gain, f, tree.gain[split])
                np.add.at(cover, f, tree.weighted_n_node_samples[split])
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = {"weight": count, "total_gain": gain, "total_cover": cover,
                      "gain": np.where(count > 0, gain / count, 0.0),
                      "cover": np.where(count > 0, cover / count, 0.0)}[kind]
        total = scores.sum()
        return scores / total if total > 0 else scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class XGBRegressor(RegressorMixin, XGBModel):
    """xgboost.XGBRegressor's API on skext's engine (see the module doc for what is built).

    objective: "reg:squarederror" (default), "reg:pseudohubererror", "reg:logistic",
    "count:poisson", "reg:gamma", "reg:tweedie".

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skext.ensemble import XGBRegressor
    >>> X, y = make_friedman1(n_samples=1000, random_state=0)
    >>> reg = XGBRegressor(n_estimators=50, max_depth=3).fit(X[:800], y[:800])
    >>> reg.score(X[800:], y[800:]) > 0.8
    True
    """

    def _encode_y(self, y, sample_weight):
        y = np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity.")
        return y

    def _encode_eval_y(self, y):
        return np.asarray(y, dtype=np.float64)

    def _make_objective(self, p):
        name = self.objective or "reg:squarederror"
        if name in NOT_YET:
            raise ValueError(f"objective={name!r} is not supported yet.")
        if name not in REGRESSION_OBJECTIVES:
            raise ValueError(f"objective={name!r} is not a regression objective; use one of "
                             f"{sorted(REGRESSION_OBJECTIVES)}.")
        return REGRESSION_OBJECTIVES[name](p)

    def predict(self, X, output_margin=False, iteration_range=None):
        """Predictions (margins with output_margin=True); by default up to best_iteration."""
        margin = self._margin(X, iteration_range)
        return margin[:, 0] if output_margin else self._objective.transform(margin)


class XGBClassifier(ClassifierMixin, XGBModel):
    """xgboost.XGBClassifier's API on skext's engine (see the module doc for what is built).

    objective: "binary:logistic" (default for two classes), "binary:logitraw",
    "multi:softprob" (default for more), "multi:softmax". Labels may be any values (xgboost
    requires 0..K-1; skext encodes them as scikit-learn classifiers do).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skext.ensemble import XGBClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    def _encode_y(self, y, sample_weight):
        self.classes_, y_encoded = encode_classes(y)
        self.n_classes_ = len(self.classes_)
        if self.n_classes_ < 2:
            raise ValueError("y contains 1 class; XGBClassifier needs at least 2 classes.")
        return y_encoded.astype(np.float64)

    def _encode_eval_y(self, y):
        return encode_labels(self.classes_, y, "eval_set labels must be classes seen in y."
                             ).astype(np.float64)

    def _make_objective(self, p):
        name = self.objective
        if name is None:
            name = "binary:logistic" if self.n_classes_ == 2 else "multi:softprob"
        if name not in CLASSIFICATION_OBJECTIVES:
            raise ValueError(f"objective={name!r} is not a classification objective; use one "
                             f"of {list(CLASSIFICATION_OBJECTIVES)}.")
        if name.startswith("multi:"):
            return Softmax(self.n_classes_, name)
        if self.n_classes_ > 2:
            raise ValueError(f"objective={name!r} needs two classes, y has {self.n_classes_}.")
        return Logistic(name)

    def predict_proba(self, X, iteration_range=None):
        """Class probabilities, (n_samples, n_classes)."""
        margin = self._margin(X, iteration_range)
        if self._objective.n_outputs == 1:
            p = 1.0 / (1.0 + np.exp(-margin[:, 0]))
            return np.column_stack((1.0 - p, p))
        return self._objective.transform(margin)

    def predict(self, X, output_margin=False, iteration_range=None):
        """Class labels (margins with output_margin=True)."""
        margin = self._margin(X, iteration_range)
        if output_margin:
            return margin[:, 0] if margin.shape[1] == 1 else margin
        if margin.shape[1] == 1:
            return self.classes_[(margin[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(margin, axis=1)]
