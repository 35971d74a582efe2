"""XGBClassifier and XGBRegressor: an XGBoost-style second-order booster on the shared engine.

Each round computes the objective's gradient g and hessian h at the current margins and grows one
tree per output on the engine's second-order criterion (gain 1/2 [G_L^2/(H_L+lambda) +
G_R^2/(H_R+lambda) - G^2/(H+lambda)], split when >= gamma; leaf -T_alpha(G)/(H+lambda) clipped by
max_delta_step; min_child_weight bounds H), then adds learning_rate times it. Names, defaults and
the fit / predict signatures are xgboost's scikit-learn API (xgboost >= 2: eval_metric and
early_stopping_rounds in the constructor). The fitted model is a Booster (_xgb_booster.py):
objective, base margin and the weak learner (booster="gbtree"), with JSON save/load and dumps.

tree_method "hist" (default; "approx" and "auto" run as hist) bins features into max_bin
hessian-weighted quantiles; "exact" searches every distinct value of columns sorted once
(skext/tree/_exact.py). Not built: booster "gblinear" / "dart" (the learner seam is ready for
them), native categorical features, device="cuda".
"""

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import log_loss, mean_absolute_error, roc_auc_score
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..tree._binning import BinMapper
from ..tree._classes import MAX_INT, encode_classes, encode_labels
from ..tree._exact import SortedColumns
from ..tree._grower import GrowBuffers
from ..tree._tree import dense_from_sparse
from ..tree._types import CRITERION_SECOND_ORDER, INDEX_DTYPE, MAX_BINS
from ..utils._compat import check_sample_weight
from ..utils._parallel import n_threads, numba_threads
from ..utils._validation import SPARSE_FORMATS
from ._objectives import (
    CLASSIFICATION_OBJECTIVES,
    REGRESSION_OBJECTIVES,
    Logistic,
    Softmax,
)
from ._xgb_booster import LEARNERS, Booster

_METRICS_LOWER_IS_BETTER = {"rmse": True, "mae": True, "logloss": True, "error": True,
                            "auc": False, "mlogloss": True, "merror": True, "quantile": True,
                            "poisson-nloglik": True, "gamma-nloglik": True,
                            "tweedie-nloglik": True}
# colsample_bylevel masks this many depths when the depth is unbounded (lossguide); deeper
# levels reuse the last mask.
_UNBOUNDED_LEVELS = 64


def _metric(name, y, pred, margin, w, objective):
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
    if name == "quantile":
        alphas = getattr(objective, "alphas", np.array([0.5]))
        diff = y[:, None] - margin
        loss = np.where(diff >= 0, alphas * diff, (alphas - 1) * diff).mean(axis=1)
        return float(np.average(loss, weights=w))
    mu = np.maximum(pred, 1e-12)
    if name == "poisson-nloglik":
        return float(np.average(mu - y * np.log(mu) + gammaln(y + 1), weights=w))
    if name == "gamma-nloglik":
        return float(np.average(y / mu + np.log(mu), weights=w))
    if name == "tweedie-nloglik":
        rho = getattr(objective, "rho", 1.5)
        return float(np.average(-y * mu ** (1 - rho) / (1 - rho) + mu ** (2 - rho) / (2 - rho),
                                weights=w))
    raise ValueError(f"eval_metric {name!r} is not supported; use one of "
                     f"{sorted(_METRICS_LOWER_IS_BETTER)}.")


class _RoundData:
    """What the learner needs each round, fixed for the whole fit: binned and raw X, labels,
    weights, the objective, the grower's settings and the sampling fractions."""

    def __init__(self, X, X_binned, bin_mapper, y, sample_weight, objective, grow, p):
        self.X, self.X_binned, self.bin_mapper = X, X_binned, bin_mapper
        self.y, self.sample_weight, self.objective, self.grow = y, sample_weight, objective, grow
        self.subsample = p["subsample"]
        n_features = X.shape[1]
        self.n_features = n_features
        self.n_bytree = max(1, int(round(p["colsample_bytree"] * n_features)))
        self.bylevel = p["colsample_bylevel"]
        self.bynode = p["colsample_bynode"]
        self.n_levels = (int(p["max_depth"]) + 1 if p["max_depth"] > 0 else _UNBOUNDED_LEVELS)
        # tree_method="exact": every column sorted once, reused by every node of every round.
        self.columns = SortedColumns(X) if p["tree_method"] == "exact" else None
        # Every round's rows without subsampling, and the trees' (g, h) buffer: made once, as
        # fresh arrays of n rows each round cost page faults more than their arithmetic.
        self.weighted_rows = np.flatnonzero(sample_weight > 0).astype(INDEX_DTYPE)
        self.stats = np.empty((len(y), 2))
        self.buffers = GrowBuffers(len(y)) if X_binned is not None else None

    def draw_rows(self, rng):
        """This round's rows: a subsample without replacement, rows of zero weight dropped."""
        if self.subsample >= 1.0:
            return self.weighted_rows
        n_rows = len(self.y)
        rows = np.sort(rng.permutation(n_rows)[:max(1, int(self.subsample * n_rows))])
        return rows[self.sample_weight[rows] > 0].astype(INDEX_DTYPE)

    def draw_features(self, rng):
        """(tree's feature pool, per-depth masks over it or None, features drawn per node at
        each depth): colsample_bytree, then colsample_bylevel of those, then bynode."""
        pool = (np.sort(rng.permutation(self.n_features)[:self.n_bytree])
                if self.n_bytree < self.n_features else None)
        n_pool = self.n_bytree
        if self.bylevel >= 1.0:
            return pool, None, max(1, int(round(self.bynode * n_pool)))
        n_level = max(1, int(round(self.bylevel * n_pool)))
        masks = np.zeros((self.n_levels, n_pool), dtype=bool)
        for level in range(self.n_levels):
            masks[level, rng.permutation(n_pool)[:n_level]] = True
        return pool, masks, max(1, int(round(self.bynode * n_level)))


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
                 tweedie_variance_power=None, huber_slope=None, quantile_alpha=None):
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
        self.quantile_alpha = quantile_alpha

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
            "quantile_alpha": self.quantile_alpha,
        }
        checks = [
            ("n_estimators", p["n_estimators"] >= 1), ("max_depth", p["max_depth"] >= 0),
            ("max_leaves", p["max_leaves"] >= 0), ("max_bin", p["max_bin"] >= 2),
            ("learning_rate", p["learning_rate"] >= 0), ("gamma", p["gamma"] >= 0),
            ("min_child_weight", p["min_child_weight"] >= 0),
            ("subsample", 0 < p["subsample"] <= 1),
            ("colsample_bytree", 0 < p["colsample_bytree"] <= 1),
            ("colsample_bylevel", 0 < p["colsample_bylevel"] <= 1),
            ("colsample_bynode", 0 < p["colsample_bynode"] <= 1),
            ("reg_alpha", p["reg_alpha"] >= 0), ("reg_lambda", p["reg_lambda"] >= 0),
            ("scale_pos_weight", p["scale_pos_weight"] > 0),
            ("grow_policy", p["grow_policy"] in ("depthwise", "lossguide")),
            ("booster", p["booster"] in ("gbtree", "gblinear", "dart")),
            ("max_delta_step", p["max_delta_step"] is None or p["max_delta_step"] >= 0),
        ]
        for name, ok in checks:
            if not ok:
                raise ValueError(f"Invalid value for {name}: {p[name]!r}.")
        if p["booster"] not in LEARNERS:
            raise ValueError(f"booster={p['booster']!r} is not supported yet (only 'gbtree').")
        if p["tree_method"] not in ("hist", "auto", "approx", "exact"):
            raise ValueError(f"Invalid value for tree_method: {p['tree_method']!r}; use 'hist', "
                             "'approx', 'auto' or 'exact'.")
        if p["tree_method"] == "exact" and p["grow_policy"] != "depthwise":
            raise ValueError("tree_method='exact' grows depthwise only (as xgboost's).")
        if self.device not in (None, "cpu"):
            raise ValueError(f"device={self.device!r}: skext's booster runs on the CPU.")
        if p["max_depth"] == 0 and p["max_leaves"] == 0:
            raise ValueError("max_depth=0 needs max_leaves > 0 (grow_policy='lossguide').")
        return p

    # --- fit --------------------------------------------------------------------------------

    def fit(self, X, y, *, sample_weight=None, base_margin=None, eval_set=None, verbose=True,
            xgb_model=None, sample_weight_eval_set=None, base_margin_eval_set=None):
        """Fit the booster (xgboost's XGBModel.fit signature).

        eval_set: list of (X, y) pairs evaluated after every round with eval_metric; the last
        one drives early_stopping_rounds; verbose (True or a period in rounds) prints them as
        xgboost does. base_margin: per-sample starting margins (n_samples,) or (n_samples, K)
        in place of base_score (give them again to predict). xgb_model: a fitted XGB* model, a
        Booster or a path written by save_model, whose rounds this fit continues.
        """
        # 1. Parameters, data, labels, objective.
        p = self._resolved()
        X, y = self._validate_fit(X, y)
        sample_weight = check_sample_weight(sample_weight, X)
        y = self._encode_y(y, sample_weight)
        objective = self._make_objective(p)
        objective.check_labels(y)
        K = objective.n_outputs
        w = sample_weight
        if p["scale_pos_weight"] != 1.0 and objective.is_classification and K == 1:
            w = sample_weight.copy()  # may be the caller's array
            w[y == 1] *= p["scale_pos_weight"]
        # xgboost's default seed is 0: with random_state=None its fits are repeatable too.
        rng = check_random_state(0 if self.random_state is None else self.random_state)

        # 2. Starting margins: a continued model's, given per-row ones, or the base score.
        prior = self._prior_booster(xgb_model, K, X.shape[1])
        if prior is not None:
            constant = prior.base_margin
        elif self.base_score is None:
            constant = np.broadcast_to(objective.base_margin(y, w), (K,)).astype(float)
        else:
            constant = np.broadcast_to(objective.margin_from_base_score(self.base_score),
                                       (K,)).astype(float)
        learner = prior.learner.copy() if prior is not None else LEARNERS[p["booster"]](K)
        margin = self._start_margin(constant, base_margin, len(y), K)
        with numba_threads(self.n_jobs):
            margin += learner.margin(X, (0, len(learner.rounds)), self.n_jobs)
        booster = Booster(objective, constant, learner, X.shape[1],
                          getattr(self, "feature_names_in_", None))

        # 3. Bin X on a hessian-weighted quantile sketch at the starting margins (hist; the
        #    exact method sorts the raw columns instead).
        bin_seed = rng.randint(MAX_INT)
        bin_mapper = X_binned = None
        if p["tree_method"] != "exact":
            # (The starting gradients are temporaries, not kept through the rounds.)
            hess_weights = w * objective.grad_hess(y, margin)[1].mean(axis=1)
            bin_mapper = BinMapper(min(int(p["max_bin"]), MAX_BINS), random_state=bin_seed,
                                   n_threads=n_threads(self.n_jobs), absent_is_missing=True)
            X_binned = bin_mapper.fit_transform(X, hess_weights)
            del hess_weights
        data = _RoundData(X, X_binned, bin_mapper, y, w, objective, self._grow_settings(p), p)

        # 4. Evaluation sets, metrics.
        evals = self._prepare_evals(eval_set, sample_weight_eval_set, base_margin_eval_set,
                                    booster)
        metrics = self._metric_names(objective)
        self.evals_result_ = {f"validation_{i}": {m: [] for m in metrics}
                              for i in range(len(evals))}

        # 5. Boosting rounds, evaluated and early-stopped on the last eval set's last metric.
        n_prior = len(learner.rounds)
        best = SimpleNamespace(iteration=None, score=None, stale=0)
        with numba_threads(self.n_jobs):
            if K == 1:
                # The objective writes straight into the trees' (g, h) pairs (boost_round
                # multiplies the weights in place): no separate gradient arrays (6.4 MB at 400k).
                grad, hess = data.stats[:, :1], data.stats[:, 1:]
            else:
                grad, hess = np.empty_like(margin), np.empty_like(margin)
            for it in range(n_prior, n_prior + int(p["n_estimators"])):
                objective.grad_hess_into(y, margin, grad, hess)
                learner.boost_round(data, grad, hess, margin, rng, p["learning_rate"])
                if evals and self._evaluate(booster, evals, metrics, it, best, verbose):
                    break
        booster.best_iteration = (best.iteration if best.iteration is not None
                                  else len(learner.rounds) - 1)
        self._Booster = booster
        self._best_score = best.score if self.early_stopping_rounds is not None else None
        return self

    def _grow_settings(self, p):
        """Keyword arguments of grow_tree for every tree of the fit."""
        params = np.array([p["reg_lambda"], p["reg_alpha"], p["max_delta_step"] or 0.0])
        return dict(criterion=CRITERION_SECOND_ORDER, params=params,
                    max_depth=None if p["max_depth"] == 0 else int(p["max_depth"]),
                    min_weight_leaf=float(p["min_child_weight"]),
                    # xgboost's loss_chg is twice the engine's gain (its CalcGain has no 1/2);
                    # it splits when loss_chg > max(gamma, kRtEps = 1e-6). Difference: gamma
                    # pre-prunes here, xgboost prunes after growing.
                    min_gain=max(float(p["gamma"]), 1e-6) / 2,
                    max_leaf_nodes=(int(p["max_leaves"]) if p["grow_policy"] == "lossguide"
                                    and p["max_leaves"] > 0 else None),
                    parallel=n_threads(self.n_jobs) > 1, gather=True)

    def _prior_booster(self, xgb_model, n_outputs, n_features):
        """The Booster a fit continues from (xgb_model), checked against this fit's shape."""
        if xgb_model is None:
            return None
        if isinstance(xgb_model, XGBModel):
            prior = xgb_model.get_booster()
        elif isinstance(xgb_model, Booster):
            prior = xgb_model
        else:
            prior = Booster().load_model(xgb_model)
        if prior.learner.n_outputs != n_outputs or prior.n_features != n_features:
            raise ValueError(f"xgb_model has {prior.learner.n_outputs} outputs and "
                             f"{prior.n_features} features; this fit needs {n_outputs} and "
                             f"{n_features}.")
        return prior

    @staticmethod
    def _start_margin(constant, base_margin, n_samples, n_outputs):
        if base_margin is None:
            return np.tile(constant, (n_samples, 1))
        margin = np.asarray(base_margin, dtype=np.float64)
        if margin.ndim == 1:
            margin = margin[:, None]
        if margin.shape != (n_samples, n_outputs) or not np.isfinite(margin).all():
            raise ValueError(f"base_margin must be finite with shape ({n_samples},) or "
                             f"({n_samples}, {n_outputs}); got {np.shape(base_margin)}.")
        return margin.copy()

    @property
    def best_iteration(self):
        """Index of the best round (the last one without early stopping)."""
        return self.get_booster().best_iteration

    @property
    def best_score(self):
        """The early-stopping metric's best value on the last eval set."""
        if getattr(self, "_best_score", None) is None:
            raise AttributeError("best_score is only defined with early_stopping_rounds.")
        return self._best_score

    def get_booster(self):
        """The fitted Booster (predict_margin, get_dump, get_score, save_model)."""
        check_is_fitted(self, "_Booster")
        return self._Booster

    def get_num_boosting_rounds(self):
        return self.get_booster().num_boosted_rounds()

    def save_model(self, fname):
        """Write the model (and the estimator's classes, feature names) as JSON."""
        booster = self.get_booster()
        config = booster.to_config()
        config["estimator"] = self._estimator_config()
        import json

        with open(fname, "w") as f:
            json.dump(config, f)

    def load_model(self, fname):
        """Restore a model written by save_model; returns self."""
        import json

        with open(fname) as f:
            config = json.load(f)
        self._Booster = Booster.from_config(config)
        self._restore_estimator_config(config.get("estimator", {}))
        self.n_features_in_ = self._Booster.n_features
        if self._Booster.feature_names is not None:
            self.feature_names_in_ = np.asarray(self._Booster.feature_names, dtype=object)
        return self

    def _estimator_config(self):
        return {}

    def _restore_estimator_config(self, config):
        pass

    def _validate_fit(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                             ensure_all_finite=False,
                             y_numeric=not isinstance(self, ClassifierMixin))
        X = self._missing_as_nan(X)
        values = X.data if sp.issparse(X) else X
        # fmax/fmin skip NaN and make no n x d temporary (np.isinf(X) is 11 MB at 400k x 28).
        if values.size and (np.isinf(np.fmax.reduce(values, axis=None))
                            or np.isinf(np.fmin.reduce(values, axis=None))):
            raise ValueError("Input X contains infinity.")
        if sp.issparse(X) and self.get_params()["tree_method"] == "exact":
            # The exact method sorts dense columns: absent entries become NaN (missing).
            X = dense_from_sparse(X, absent=np.nan)
        return X, y

    def _missing_as_nan(self, X):
        """X with the `missing` value replaced by NaN (sparse X: its stored entries; absent
        entries are missing already, xgboost's sparsity-aware convention)."""
        if np.isnan(self.missing):
            return X
        if sp.issparse(X):
            X = X.copy()
            X.data[X.data == self.missing] = np.nan
            return X
        return np.where(X == self.missing, np.nan, X)

    def _prepare_evals(self, eval_set, weights, base_margins, booster):
        evals = []
        for i, (Xe, ye) in enumerate(eval_set or []):
            Xe = self._validate_X(Xe, reset=False, fitted=False)
            ye = self._encode_eval_y(np.asarray(ye))
            we = None if weights is None else np.asarray(weights[i], dtype=float)
            margin = self._start_margin(booster.base_margin,
                                        None if base_margins is None else base_margins[i],
                                        len(ye), booster.learner.n_outputs)
            margin += booster.learner.margin(Xe, (0, len(booster.learner.rounds)), self.n_jobs)
            evals.append((Xe, ye, we, margin))
        return evals

    def _metric_names(self, objective):
        metric = self.eval_metric or objective.default_metric
        return [metric] if isinstance(metric, str) else list(metric)

    def _evaluate(self, booster, evals, metrics, it, best, verbose):
        """Add round `it` to each eval set's margins, record the metrics, print them, and say
        whether early stopping ends the fit (last metric of the last eval set)."""
        rounds = (it, it + 1)
        for i, (Xe, ye, we, margin) in enumerate(evals):
            margin += booster.learner.margin(Xe, rounds, self.n_jobs)
            pred = booster.objective.transform(margin)
            for m in metrics:
                self.evals_result_[f"validation_{i}"][m].append(
                    _metric(m, ye, pred, margin, we, booster.objective))
        stop = False
        if self.early_stopping_rounds is not None:
            last = self.evals_result_[f"validation_{len(evals) - 1}"][metrics[-1]][-1]
            lower = _METRICS_LOWER_IS_BETTER[metrics[-1]]
            if best.score is None or (last < best.score if lower else last > best.score):
                best.iteration, best.score, best.stale = it, last, 0
            else:
                best.stale += 1
                stop = best.stale >= self.early_stopping_rounds
        period = 1 if verbose is True else int(verbose or 0)
        if period and (it % period == 0 or stop):
            print(f"[{it}]\t" + "\t".join(f"{name}-{m}:{values[m][-1]:.5f}"
                                          for name, values in self.evals_result_.items()
                                          for m in metrics))
        return stop

    # --- predict ----------------------------------------------------------------------------

    def _validate_X(self, X, reset=False, fitted=True):
        if fitted:
            check_is_fitted(self, "_Booster")
        X = validate_data(self, X, accept_sparse=SPARSE_FORMATS, dtype=np.float64,
                          ensure_all_finite=False, reset=reset)
        return self._missing_as_nan(X)

    def _margin(self, X, iteration_range=None, base_margin=None):
        X = self._validate_X(X)
        booster = self._Booster
        if iteration_range is None:
            iteration_range = (0, booster.best_iteration + 1)
        if base_margin is not None:
            base_margin = self._start_margin(booster.base_margin, base_margin, X.shape[0],
                                             booster.learner.n_outputs)
        return booster.predict_margin(X, iteration_range, base_margin, self.n_jobs)

    def apply(self, X, iteration_range=None):
        """Leaf index of each sample in each tree of the rounds in iteration_range (default:
        all), (n_samples, n_trees)."""
        X = self._validate_X(X)
        return self._Booster.apply(X, iteration_range or (0, 0))

    def evals_result(self):
        """Metric values per eval set and round: {"validation_0": {"rmse": [...]}, ...}."""
        check_is_fitted(self, "_Booster")
        return self.evals_result_

    @property
    def feature_importances_(self):
        """Importances of importance_type ("gain" by default: mean gain of the splits on each
        feature; "weight": number of splits; "cover": mean hessian sum; total_*), normalised to
        sum to 1 as xgboost's scikit-learn API does."""
        scores = self.get_booster().importance(self.importance_type or "gain")
        total = scores.sum()
        return scores / total if total > 0 else scores

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags


class XGBRegressor(RegressorMixin, XGBModel):
    """xgboost.XGBRegressor's API on skext's engine (see the module doc for what is built).

    objective: "reg:squarederror" (default), "reg:absoluteerror", "reg:quantileerror" (with
    quantile_alpha, a float or a list: one output per alpha), "reg:pseudohubererror",
    "reg:logistic", "count:poisson", "reg:gamma", "reg:tweedie".

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
        if name not in REGRESSION_OBJECTIVES:
            raise ValueError(f"objective={name!r} is not a regression objective; use one of "
                             f"{sorted(REGRESSION_OBJECTIVES)}.")
        return REGRESSION_OBJECTIVES[name](p)

    def predict(self, X, output_margin=False, iteration_range=None, base_margin=None):
        """Predictions (margins with output_margin=True); by default up to best_iteration.
        (n_samples, n_alphas) for reg:quantileerror with several quantile_alpha."""
        margin = self._margin(X, iteration_range, base_margin)
        if output_margin:
            return margin[:, 0] if margin.shape[1] == 1 else margin
        return self._Booster.objective.transform(margin)


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

    def _estimator_config(self):
        return {"classes_": self.classes_.tolist()}

    def _restore_estimator_config(self, config):
        if "classes_" in config:
            self.classes_ = np.asarray(config["classes_"])
            self.n_classes_ = len(self.classes_)

    def predict_proba(self, X, iteration_range=None, base_margin=None):
        """Class probabilities, (n_samples, n_classes)."""
        margin = self._margin(X, iteration_range, base_margin)
        if margin.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-margin[:, 0]))
            return np.column_stack((1.0 - p, p))
        return self._Booster.objective.transform(margin)

    def predict(self, X, output_margin=False, iteration_range=None, base_margin=None):
        """Class labels (margins with output_margin=True)."""
        margin = self._margin(X, iteration_range, base_margin)
        if output_margin:
            return margin[:, 0] if margin.shape[1] == 1 else margin
        if margin.shape[1] == 1:
            return self.classes_[(margin[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(margin, axis=1)]
