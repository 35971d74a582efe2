"""Impurity, split gain and leaf value from channel sums: the only place criteria differ.

Every kernel sees a node or a histogram bin as a sums vector `s` (float64): s[0] is the row count
and s[1:] are the criterion's channels, summed over rows:

    gini / entropy             s[1 + k] = sum of w over rows of class k
    squared_error / friedman   s[1] = sum w, s[2] = sum w*y, s[3] = sum w*y^2
    poisson                    s[1] = sum w, s[2] = sum w*y, s[3] = sum w*y*log(y)
    second_order (XGBoost)     s[1] = sum g, s[2] = sum h   (sample weights already applied)

A split's gain is weighted_impurity(parent) - weighted_impurity(left) - weighted_impurity(right),
the quantity scikit-learn reports as impurity decrease and XGBoost as loss change (before gamma).
"""

import numpy as np
from numba import njit

from ._types import (
    CRITERION_ENTROPY,
    CRITERION_FRIEDMAN_MSE,
    CRITERION_GINI,
    CRITERION_POISSON,
    CRITERION_SECOND_ORDER,
    PARAM_ALPHA,
    PARAM_LAMBDA,
    PARAM_MAX_DELTA_STEP,
)

_LOG2 = np.log(2.0)
# A Poisson child whose sum of y is at or below this is no split (scikit-learn's rule: its
# prediction would be 0; the sum is a difference, so it may be a rounding error above 0).
_POISSON_EPSILON = np.finfo(np.float64).eps


@njit(cache=True, nogil=True, inline="always")
def _node_weight(s, criterion):
    """Weight that min_weight_leaf / min_child_weight bound: sum of w, or of h (second order)."""
    if criterion == CRITERION_GINI or criterion == CRITERION_ENTROPY:
        w = 0.0
        for k in range(1, s.shape[0]):
            w += s[k]
        return w
    if criterion == CRITERION_SECOND_ORDER:
        return s[2]
    return s[1]


@njit(cache=True, nogil=True)
def _second_order_weight(g, h, params):
    """XGBoost's leaf weight -T_alpha(G) / (H + lambda), clipped to max_delta_step when > 0."""
    lam = params[PARAM_LAMBDA]
    alpha = params[PARAM_ALPHA]
    mds = params[PARAM_MAX_DELTA_STEP]
    if g > alpha:
        t = g - alpha
    elif g < -alpha:
        t = g + alpha
    else:
        t = 0.0
    denom = h + lam
    if denom <= 0.0:
        return 0.0
    w = -t / denom
    if mds > 0.0:
        if w > mds:
            w = mds
        elif w < -mds:
            w = -mds
    return w


@njit(cache=True, nogil=True, inline="always")
def _second_order_loss(g, h, params):
    """Regularised leaf loss G w + (H + lambda) w^2 / 2 + alpha |w| at XGBoost's leaf weight."""
    wt = _second_order_weight(g, h, params)
    return g * wt + 0.5 * (h + params[PARAM_LAMBDA]) * wt * wt + params[PARAM_ALPHA] * abs(wt)


@njit(cache=True, nogil=True, inline="always")
def _plain_score(gl, hl, gr, hr, lam):
    """_second_order_score without alpha and max_delta_step: (G_L^2/(H_L + lambda) +
    G_R^2/(H_R + lambda)) / 2, a side with H + lambda <= 0 scoring 0 (its weight is 0)."""
    dl = hl + lam
    dr = hr + lam
    score = 0.0
    if dl > 0.0:
        score += gl * gl / dl
    if dr > 0.0:
        score += gr * gr / dr
    return 0.5 * score


@njit(cache=True, nogil=True, inline="always")
def _second_order_score(gl, hl, gr, hr, params):
    """Children's score of a second-order split: -(loss_left + loss_right). Without alpha and
    max_delta_step the loss at the optimal weight -G/(H + lambda) is -G^2 / (2 (H + lambda)),
    computed directly (the general path's soft-threshold, clipping and calls cost 30% of the
    split search)."""
    if params[PARAM_ALPHA] == 0.0 and params[PARAM_MAX_DELTA_STEP] == 0.0:
        return _plain_score(gl, hl, gr, hr, params[PARAM_LAMBDA])
    return -(_second_order_loss(gl, hl, params) + _second_order_loss(gr, hr, params))


@njit(cache=True, nogil=True, inline="always")
def _second_order_split_score(gl, hl, gr, hr, params, plain):
    """_second_order_score with the plain/general choice made once by the caller (plain: alpha
    and max_delta_step are 0), for the split-search loops that score every candidate."""
    if plain:
        return _plain_score(gl, hl, gr, hr, params[PARAM_LAMBDA])
    return _second_order_score(gl, hl, gr, hr, params)


@njit(cache=True, nogil=True)
def _weighted_impurity(s, criterion, params):
    """Node weight times node impurity (gini, entropy in bits, variance) or, for the second-order
    criterion, the regularised loss G w + (H + lambda) w^2 / 2 + alpha |w| at the leaf weight w."""
    if criterion == CRITERION_GINI:
        w = 0.0
        sq = 0.0
        for k in range(1, s.shape[0]):
            w += s[k]
            sq += s[k] * s[k]
        if w <= 0.0:
            return 0.0
        return w - sq / w
    if criterion == CRITERION_ENTROPY:
        w = 0.0
        acc = 0.0
        for k in range(1, s.shape[0]):
            c = s[k]
            w += c
            if c > 0.0:
                acc += c * np.log(c)
        if w <= 0.0:
            return 0.0
        return (w * np.log(w) - acc) / _LOG2
    if criterion == CRITERION_SECOND_ORDER:
        return _second_order_loss(s[1], s[2], params)
    if criterion == CRITERION_POISSON:
        # Half Poisson deviance: sum w (y log(y / mu) - y + mu) = sum w y log y - S log(S / W),
        # infinite for a node whose y sum is 0 (scikit-learn's).
        # A pure node (every y equal) has deviance 0, which the difference of sums only
        # approximates: within the sums' rounding (n ulps of their size) it is 0.
        if s[2] <= _POISSON_EPSILON:
            return np.inf
        fitted = s[2] * np.log(s[2] / s[1])
        deviance = s[3] - fitted
        if deviance <= s[0] * _POISSON_EPSILON * (abs(s[3]) + abs(fitted)):
            return 0.0
        return deviance
    # squared_error / friedman_mse: sum w (y - mean)^2 = sum w y^2 - (sum w y)^2 / sum w
    if s[1] <= 0.0:
        return 0.0
    return s[3] - s[2] * s[2] / s[1]


@njit(cache=True, nogil=True)
def _split_gain(left, right, parent, criterion, params):
    """Gain of splitting `parent` into `left` + `right` (all sums vectors, see module doc).

    friedman_mse ranks splits by Friedman's improvement w_l w_r (mean_l - mean_r)^2 / (w_l + w_r)
    (eq. 35 of Friedman 2001); every other criterion by the decrease of weighted impurity."""
    if criterion == CRITERION_FRIEDMAN_MSE:
        wl = left[1]
        wr = right[1]
        if wl <= 0.0 or wr <= 0.0:
            return -np.inf
        diff = wr * left[2] - wl * right[2]
        return diff * diff / (wl * wr * (wl + wr))
    if criterion == CRITERION_POISSON and (left[2] <= _POISSON_EPSILON
                                           or right[2] <= _POISSON_EPSILON):
        return -np.inf
    return (
        _weighted_impurity(parent, criterion, params)
        - _weighted_impurity(left, criterion, params)
        - _weighted_impurity(right, criterion, params)
    )


@njit(cache=True, nogil=True, inline="always")
def _children_score(left, right, criterion, params):
    """What split search maximises: the children's part of the gain. Equal to
    -(weighted_impurity(left) + weighted_impurity(right)) up to terms that depend on the parent
    only (friedman_mse: Friedman's improvement), without evaluating the parent per candidate."""
    if criterion == CRITERION_GINI:
        wl = 0.0
        sql = 0.0
        wr = 0.0
        sqr = 0.0
        for k in range(1, left.shape[0]):
            wl += left[k]
            sql += left[k] * left[k]
            wr += right[k]
            sqr += right[k] * right[k]
        return sql / wl + sqr / wr
    if criterion == CRITERION_ENTROPY:
        return -(_weighted_impurity(left, criterion, params)
                 + _weighted_impurity(right, criterion, params))
    plain = params[PARAM_ALPHA] == 0.0 and params[PARAM_MAX_DELTA_STEP] == 0.0
    return _two_channel_score(left[1], left[2], right[1], right[2], criterion, params, plain)


@njit(cache=True, nogil=True, inline="always")
def _two_channel_score(la, lb, ra, rb, criterion, params, plain):
    """_children_score from channels 1 and 2 of each side, all that these criteria read:
    gini of two classes (the class weights), squared_error, friedman_mse and poisson (sum w,
    sum w y), second order (G, H; plain: alpha and max_delta_step are 0, see
    _second_order_split_score).
    The split-search loops keep these sums in scalars (_splitter._make_scan_scalar)."""
    if criterion == CRITERION_GINI:
        return (la * la + lb * lb) / (la + lb) + (ra * ra + rb * rb) / (ra + rb)
    if criterion == CRITERION_FRIEDMAN_MSE:
        diff = ra * lb - la * rb
        return diff * diff / (la * ra * (la + ra))
    if criterion == CRITERION_SECOND_ORDER:
        return _second_order_split_score(la, lb, ra, rb, params, plain)
    if criterion == CRITERION_POISSON:
        # -(deviance_l + deviance_r) up to the parent's sum w y log y: S log(S / W) per side.
        if lb <= _POISSON_EPSILON or rb <= _POISSON_EPSILON:
            return -np.inf
        return lb * np.log(lb / la) + rb * np.log(rb / ra)
    # squared_error: sum w y^2 cancels with the parent's.
    return lb * lb / la + rb * rb / ra


@njit(cache=True, nogil=True, inline="always")
def _two_channel_weight(a, b, criterion):
    """_node_weight from channels 1 and 2 (see _two_channel_score)."""
    if criterion == CRITERION_GINI:
        return a + b
    if criterion == CRITERION_SECOND_ORDER:
        return b
    return a


def leaf_values(sums, criterion, params):
    """Prediction value of every node from its sums (n_nodes, 1 + n_channels) -> (n_nodes, n_out).

    Class fractions (classification), weighted mean (regression) or XGBoost's leaf weight."""
    if criterion in (CRITERION_GINI, CRITERION_ENTROPY):
        w = sums[:, 1:].sum(axis=1, keepdims=True)
        return sums[:, 1:] / np.where(w > 0.0, w, 1.0)
    if criterion == CRITERION_SECOND_ORDER:
        out = np.empty((sums.shape[0], 1))
        for i in range(sums.shape[0]):
            out[i, 0] = _second_order_weight(sums[i, 1], sums[i, 2], params)
        return out
    w = sums[:, 1]
    return (sums[:, 2] / np.where(w > 0.0, w, 1.0))[:, None]


@njit(cache=True, nogil=True)
def _node_weights_and_impurities(sums, criterion, params, weights, impurities):
    """Per node (sums (n_nodes, 1 + C) in): weight (out) and impurity (out; scikit-learn's
    tree_.impurity, for second order the loss per unit of hessian)."""
    for i in range(sums.shape[0]):
        w = _node_weight(sums[i], criterion)
        weights[i] = w
        impurities[i] = _weighted_impurity(sums[i], criterion, params) / w if w > 0.0 else 0.0
