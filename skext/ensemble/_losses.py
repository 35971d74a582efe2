"""Losses of the boosting estimators: value, negative gradient, constant fit and leaf re-estimation.

A loss sees raw predictions `raw` of shape (n_samples, K): K = 1 for regression and binary
classification, K = n_classes for multinomial log-loss. Conventions follow scikit-learn's
GradientBoosting so scores and attributes compare one to one:

    loss(y, raw, w)           the weighted mean loss reported in train_score_ / oob_scores_
                              (scikit-learn's scale: twice the half-losses for squared error and
                              binary log-loss, as its GradientBoosting reports them)
    init_raw(y, w)            the constant raw prediction minimising the loss, shape (K,)
    negative_gradient(y, raw) what each round's regression trees fit, shape (n_samples, K)
    leaf_values(...)          Friedman's terminal-region step: each leaf's value re-estimated for
                              the loss (mean, median, quantile, Huber step, Newton step)

y is float64: the target for regression, the class index 0 .. K-1 for classification.
"""

import numpy as np
from numba import njit, prange
from scipy.special import expit, logsumexp, softmax

# A Newton step whose hessian sum is below this is set to 0 (scikit-learn's _safe_divide).
_TINY_HESSIAN = 1e-150


@njit(cache=True, nogil=True)
def _weighted_percentile(values, weights, q):
    """The inverted-CDF weighted q-quantile (q in [0, 1]) of values: the smallest value whose
    cumulative weight reaches q * total weight, as scikit-learn's _weighted_percentile(average=
    False). NaN when every weight is 0."""
    order = np.argsort(values, kind="mergesort")
    total = 0.0
    for i in range(values.shape[0]):
        total += weights[i]
    if values.shape[0] == 0 or total <= 0.0:
        return np.nan
    target = q * total
    if target == 0.0:
        target = np.nextafter(0.0, 1.0)
    cum = 0.0
    for i in range(order.shape[0]):
        cum += weights[order[i]]
        if cum >= target:
            return values[order[i]]
    return values[order[-1]]


@njit(cache=True, nogil=True)
def _group_by_leaf(leaf, n_nodes):
    """Rows grouped by leaf: (order, offsets) with the rows of leaf j at order[offsets[j]:
    offsets[j + 1]], in increasing row order. Rows with leaf -1 (out of bag) are left out."""
    counts = np.zeros(n_nodes + 1, np.int64)
    for i in range(leaf.shape[0]):
        if leaf[i] >= 0:
            counts[leaf[i] + 1] += 1
    offsets = np.cumsum(counts)
    order = np.empty(offsets[-1], np.int64)
    fill = offsets[:-1].copy()
    for i in range(leaf.shape[0]):
        j = leaf[i]
        if j >= 0:
            order[fill[j]] = i
            fill[j] += 1
    return order, offsets


@njit(cache=True, nogil=True)
def _leaf_ratios(leaf, n_nodes, num, den):
    """Per leaf: sum(num) / sum(den) over its rows, 0 where |sum(den)| < 1e-150."""
    top = np.zeros(n_nodes)
    bottom = np.zeros(n_nodes)
    for i in range(leaf.shape[0]):
        j = leaf[i]
        if j >= 0:
            top[j] += num[i]
            bottom[j] += den[i]
    out = np.zeros(n_nodes)
    for j in range(n_nodes):
        if abs(bottom[j]) >= _TINY_HESSIAN:
            out[j] = top[j] / bottom[j]
    return out


@njit(cache=True, nogil=True)
def _leaf_percentiles(leaf, n_nodes, values, weights, q):
    """Per leaf: the weighted q-quantile of values over its rows (0 for a leaf without weight,
    which then leaves predictions unchanged)."""
    order, offsets = _group_by_leaf(leaf, n_nodes)
    out = np.zeros(n_nodes)
    for j in range(n_nodes):
        rows = order[offsets[j]:offsets[j + 1]]
        value = _weighted_percentile(values[rows], weights[rows], q)
        if not np.isnan(value):
            out[j] = value
    return out


@njit(cache=True, nogil=True)
def _leaf_huber_steps(leaf, n_nodes, residual, weights, delta):
    """Per leaf: Friedman's Huber step, median + weighted mean of the residuals' deviations from
    the median clipped to [-delta, delta] (0 for a leaf without weight)."""
    order, offsets = _group_by_leaf(leaf, n_nodes)
    out = np.zeros(n_nodes)
    for j in range(n_nodes):
        rows = order[offsets[j]:offsets[j + 1]]
        median = _weighted_percentile(residual[rows], weights[rows], 0.5)
        if np.isnan(median):
            continue
        top = 0.0
        bottom = 0.0
        for i in rows:
            d = residual[i] - median
            top += weights[i] * min(max(d, -delta), delta)
            bottom += weights[i]
        out[j] = median + top / bottom
    return out


# Rows per block of the threaded reductions: partial sums per fixed block, added in block order,
# so a loss value does not depend on the thread count.
_SUM_BLOCK = 4096


@njit(cache=True, nogil=True, parallel=True)
def _binomial_deviance(y, raw, w):
    """Twice the weighted mean log-loss of logits raw: 2 sum w (log(1 + e^r) - y r) / sum w."""
    n = y.shape[0]
    n_blocks = (n + _SUM_BLOCK - 1) // _SUM_BLOCK
    totals = np.zeros(n_blocks)
    weights = np.zeros(n_blocks)
    for blk in prange(n_blocks):
        total = 0.0
        weight = 0.0
        for i in range(blk * _SUM_BLOCK, min(n, (blk + 1) * _SUM_BLOCK)):
            r = raw[i]
            # log(1 + e^r), stable for either sign of r.
            softplus = max(r, 0.0) + np.log1p(np.exp(-abs(r)))
            total += w[i] * (softplus - y[i] * r)
            weight += w[i]
        totals[blk] = total
        weights[blk] = weight
    # Added in block order by a plain loop: an array .sum() here would become a threaded
    # reduction (parallel=True) whose rounding depends on the thread count.
    total = 0.0
    weight = 0.0
    for blk in range(n_blocks):
        total += totals[blk]
        weight += weights[blk]
    return 2.0 * total / weight


@njit(cache=True, nogil=True, inline="always")
def expit_scalar(r):
    """scipy's expit in its stable form for either sign (1 / (1 + exp(-r)) for r >= 0,
    exp(r) / (1 + exp(r)) below), so results match scikit-learn's to the last bit. Written
    without a branch: exp(-|r|) is the exp of either form, and the sign only picks the
    numerator; a branch on the sign is a coin flip for the predictor (400k logistic
    gradients: 4.0 -> 2.0 ms)."""
    e = np.exp(-abs(r))
    return (1.0 if r >= 0.0 else e) / (1.0 + e)


@njit(cache=True, nogil=True, parallel=True)
def _binomial_negative_gradient(y, raw, out):
    """out = y - expit(raw), elementwise (out: (n,) float64)."""
    for i in prange(y.shape[0]):
        out[i] = y[i] - expit_scalar(raw[i])


@njit(cache=True, nogil=True, parallel=True)
def gradient_stats(neg_grad, w, out):
    """The channels of the regression tree fitted to a gradient column: out (n, 3) = (w, w g,
    w g^2), as regression_stats for squared_error / friedman_mse, without temporaries."""
    for i in prange(neg_grad.shape[0]):
        wg = w[i] * neg_grad[i]
        out[i, 0] = w[i]
        out[i, 1] = wg
        out[i, 2] = wg * neg_grad[i]


def _average(values, w):
    return float(np.sum(w * values) / np.sum(w))


class _Loss:
    """Base: a loss over raw predictions (n_samples, K). See the module doc."""

    is_classification = False
    n_classes = None

    def n_outputs(self):
        return 1

    def init_raw(self, y, w):
        raise NotImplementedError

    def loss(self, y, raw, w):
        raise NotImplementedError

    def negative_gradient(self, y, raw):
        raise NotImplementedError

    def before_round(self, y, raw, w):
        """Hook run at the start of each round on the in-bag rows (Huber sets its delta)."""

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        """Re-estimated value of every leaf of the tree fitted to neg_grad[:, k].

        leaf (n_samples,) int: each row's leaf, -1 for rows outside the tree (out of bag);
        returns (n_nodes,) float64 (only the leaves' entries are used)."""
        raise NotImplementedError


class SquaredError(_Loss):
    name = "squared_error"

    def init_raw(self, y, w):
        return np.array([_average(y, w)])

    def loss(self, y, raw, w):
        return _average((y - raw[:, 0]) ** 2, w)

    def negative_gradient(self, y, raw):
        return (y - raw[:, 0])[:, None]

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        return _leaf_ratios(leaf, n_nodes, w * neg_grad[:, 0], w)


class AbsoluteError(_Loss):
    name = "absolute_error"

    def init_raw(self, y, w):
        return np.array([_weighted_percentile(y, w, 0.5)])

    def loss(self, y, raw, w):
        return _average(np.abs(y - raw[:, 0]), w)

    def negative_gradient(self, y, raw):
        return np.sign(y - raw[:, 0])[:, None]

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        return _leaf_percentiles(leaf, n_nodes, y - raw[:, 0], w, 0.5)


class QuantileLoss(_Loss):
    """Pinball loss of the alpha-quantile."""

    name = "quantile"

    def __init__(self, alpha):
        self.alpha = alpha

    def init_raw(self, y, w):
        return np.array([_weighted_percentile(y, w, self.alpha)])

    def loss(self, y, raw, w):
        diff = y - raw[:, 0]
        return _average(np.where(diff >= 0, self.alpha * diff, (self.alpha - 1.0) * diff), w)

    def negative_gradient(self, y, raw):
        return np.where(y >= raw[:, 0], self.alpha, self.alpha - 1.0)[:, None]

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        return _leaf_percentiles(leaf, n_nodes, y - raw[:, 0], w, self.alpha)


class HuberLoss(_Loss):
    """Huber loss; delta is re-set every round to the alpha-quantile of |y - raw| (Friedman)."""

    name = "huber"

    def __init__(self, alpha):
        self.alpha = alpha
        self.delta = 1.0

    def init_raw(self, y, w):
        return np.array([_weighted_percentile(y, w, 0.5)])

    def before_round(self, y, raw, w):
        self.delta = float(_weighted_percentile(np.abs(y - raw[:, 0]), w, self.alpha))

    def loss(self, y, raw, w):
        a = np.abs(y - raw[:, 0])
        d = self.delta
        return _average(np.where(a <= d, 0.5 * a * a, d * (a - 0.5 * d)), w)

    def negative_gradient(self, y, raw):
        diff = y - raw[:, 0]
        return np.clip(diff, -self.delta, self.delta)[:, None]

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        return _leaf_huber_steps(leaf, n_nodes, y - raw[:, 0], w, self.delta)


class BinomialLoss(_Loss):
    """Binary log-loss on the logit; reported as twice the mean log-loss (the deviance)."""

    name = "log_loss"
    is_classification = True
    n_classes = 2

    def init_raw(self, y, w):
        eps = 10 * np.finfo(np.float64).eps
        p = np.clip(_average(y, w), eps, 1 - eps)
        return np.array([np.log(p / (1 - p))])

    def loss(self, y, raw, w):
        return _binomial_deviance(y, np.ascontiguousarray(raw[:, 0]), w)

    def negative_gradient(self, y, raw):
        out = np.empty((len(y), 1))
        _binomial_negative_gradient(y, np.ascontiguousarray(raw[:, 0]), out[:, 0])
        return out

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        g = neg_grad[:, 0]
        p = y - g
        return _leaf_ratios(leaf, n_nodes, w * g, w * p * (1.0 - p))

    def proba(self, raw):
        p = expit(raw[:, 0])
        return np.column_stack((1.0 - p, p))


class MultinomialLoss(_Loss):
    """Multinomial log-loss over K raw scores (softmax); K trees per round."""

    name = "log_loss"
    is_classification = True

    def __init__(self, n_classes):
        self.n_classes = n_classes

    def n_outputs(self):
        return self.n_classes

    def init_raw(self, y, w):
        eps = 10 * np.finfo(np.float64).eps
        p = np.array([_average(y == k, w) for k in range(self.n_classes)])
        p = np.clip(p, eps, 1 - eps)
        log_p = np.log(p)
        # scikit-learn's symmetric link: log p minus its mean (the geometric-mean reference).
        return log_p - log_p.mean()

    def loss(self, y, raw, w):
        picked = raw[np.arange(len(y)), y.astype(np.intp)]
        return _average(logsumexp(raw, axis=1) - picked, w)

    def negative_gradient(self, y, raw):
        onehot = (y[:, None] == np.arange(self.n_classes)[None, :]).astype(np.float64)
        return onehot - softmax(raw, axis=1)

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        g = neg_grad[:, k]
        p = (y == k) - g
        K = self.n_classes
        # Friedman's (K - 1) / K factor, kept as scikit-learn keeps it.
        return (K - 1) / K * _leaf_ratios(leaf, n_nodes, w * g, w * p * (1.0 - p))

    def proba(self, raw):
        return softmax(raw, axis=1)


class ExponentialLoss(_Loss):
    """AdaBoost's exponential loss on binary y in {0, 1}; probability expit(2 raw)."""

    name = "exponential"
    is_classification = True
    n_classes = 2

    def init_raw(self, y, w):
        eps = 10 * np.finfo(np.float64).eps
        p = np.clip(_average(y, w), eps, 1 - eps)
        return np.array([0.5 * np.log(p / (1 - p))])

    def loss(self, y, raw, w):
        r = raw[:, 0]
        return _average(y * np.exp(-r) + (1.0 - y) * np.exp(r), w)

    def negative_gradient(self, y, raw):
        r = raw[:, 0]
        return (y * np.exp(-r) - (1.0 - y) * np.exp(r))[:, None]

    def leaf_values(self, leaf, n_nodes, y, raw, neg_grad, w, k):
        g = neg_grad[:, 0]
        hess = np.where(y == 0, -g, g)
        return _leaf_ratios(leaf, n_nodes, w * g, w * hess)

    def proba(self, raw):
        p = expit(2.0 * raw[:, 0])
        return np.column_stack((1.0 - p, p))
