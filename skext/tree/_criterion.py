"""Impurity, split gain and leaf value from channel sums: the only place criteria differ.

Every kernel sees a node or a histogram bin as a sums vector `s` (float64): s[0] is the row count
and s[1:] are the criterion's channels, summed over rows:

    gini / entropy             s[1 + k] = sum of w over rows of class k (a multi-output y: the
                               outputs' class columns side by side, J = params[PARAM_N_OUTPUTS])
    squared_error / friedman   s[1] = sum w, s[2] = sum w*y, s[3] = sum w*y^2
    poisson                    s[1] = sum w, s[2] = sum w*y, s[3] = sum w*y*log(y)
    *_mo (J > 1 outputs)       s[1] = sum w, s[2 + j] = sum w*y_j, s[2 + J] = sum over j of
                               w*y_j^2 (poisson: w*y_j*log(y_j))
    second_order (XGBoost)     s[1] = sum g, s[2] = sum h   (sample weights already applied)

A multi-output node's impurity is the mean of its outputs' impurities (scikit-learn's rule).

A split's gain is weighted_impurity(parent) - weighted_impurity(left) - weighted_impurity(right),
the quantity scikit-learn reports as impurity decrease and XGBoost as loss change (before gamma).
"""

import numpy as np
from numba import njit

from ._types import (
    CRITERION_ABSOLUTE_ERROR,
    CRITERION_ENTROPY,
    CRITERION_FRIEDMAN_MSE,
    CRITERION_GINI,
    CRITERION_POISSON,
    CRITERION_POISSON_MO,
    CRITERION_SECOND_ORDER,
    CRITERION_SQUARED_ERROR_MO,
    N_CRITERION_PARAMS,
    PARAM_ALPHA,
    PARAM_LAMBDA,
    PARAM_MAX_DELTA_STEP,
    PARAM_N_OUTPUTS,
)

_LOG2 = np.log(2.0)
_EPS = np.finfo(np.float64).eps
# A Poisson child whose sum of y is at or below this is no split (scikit-learn's rule: its
# prediction would be 0; the sum is a difference, so it may be a rounding error above 0).
_POISSON_EPSILON = np.finfo(np.float64).eps


@njit(cache=True, nogil=True, inline="always")
def _node_weight(s, criterion, params):
    """Weight that min_weight_leaf / min_child_weight bound: sum of w, or of h (second order)."""
    if criterion == CRITERION_GINI or criterion == CRITERION_ENTROPY:
        w = 0.0
        for k in range(1, s.shape[0]):
            w += s[k]
        return w / params[PARAM_N_OUTPUTS]
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


@njit(cache=True, nogil=True, inline="always")
def _clamped(a, b, n_terms):
    """a - b, or 0 where that is within the rounding of n_terms sums' terms (a multi-output
    node whose outputs are all pure would otherwise score a few ulps above 0, and be split)."""
    d = a - b
    if d <= n_terms * _EPS * (abs(a) + abs(b)):
        return 0.0
    return d


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
        # W - sum_j sq_j / (J W) with W = w / J, every output's weight (J = 1: w - sq / w); a
        # pure node's is 0 within the terms' rounding.
        return _clamped(w / params[PARAM_N_OUTPUTS], sq / w, s.shape[0])
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
        n_outputs = params[PARAM_N_OUTPUTS]
        if n_outputs == 1.0:
            return (w * np.log(w) - acc) / _LOG2
        # W log W - sum_j acc_j / J with W = w / J, every output's weight; a pure node's is 0
        # within the terms' rounding.
        return _clamped(w * np.log(w / n_outputs), acc, s.shape[0]) / (n_outputs * _LOG2)
    if criterion == CRITERION_SECOND_ORDER:
        return _second_order_loss(s[1], s[2], params)
    if criterion == CRITERION_ABSOLUTE_ERROR:
        # Not a function of the sums: the split search computes it from the rows (and tells a
        # pure node), grow_tree sets the tree's impurities after growth. A stand-in > 0 here.
        return s[1]
    if criterion == CRITERION_SQUARED_ERROR_MO:
        n_outputs = s.shape[0] - 3
        if s[1] <= 0.0:
            return 0.0
        acc = 0.0
        for j in range(n_outputs):
            acc += s[2 + j] * s[2 + j]
        return _clamped(s[2 + n_outputs], acc / s[1], s[0] + n_outputs + 1) / n_outputs
    if criterion == CRITERION_POISSON_MO:
        n_outputs = s.shape[0] - 3
        fitted = 0.0
        for j in range(n_outputs):
            if s[2 + j] <= _POISSON_EPSILON:
                return np.inf
            fitted += s[2 + j] * np.log(s[2 + j] / s[1])
        deviance = s[2 + n_outputs] - fitted
        if deviance <= s[0] * _POISSON_EPSILON * (abs(s[2 + n_outputs]) + abs(fitted)):
            return 0.0
        return deviance / n_outputs
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
    # squared_error / friedman_mse: sum w (y - mean)^2 = sum w y^2 - (sum w y)^2 / sum w; a pure
    # node's is 0 within the rounding of its sums (n_rows ulps of their size), where a few ulps
    # above 0 would split it on noise (and sums that differ in their last bits, a sparse fit's
    # and a dense one's, would disagree on it).
    if s[1] <= 0.0:
        return 0.0
    return _clamped(s[3], s[2] * s[2] / s[1], s[0] + 2)


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
    if criterion == CRITERION_POISSON_MO and (_poisson_mo_score(left, right) == -np.inf):
        return -np.inf
    return (
        _weighted_impurity(parent, criterion, params)
        - _weighted_impurity(left, criterion, params)
        - _weighted_impurity(right, criterion, params)
    )


@njit(cache=True, nogil=True, inline="always")
def _poisson_mo_score(left, right):
    """-(deviance_l + deviance_r) of a multi-output Poisson split up to the parent's terms:
    sum over outputs and sides of S log(S / W); -inf when a side's sum of an output's y is 0."""
    score = 0.0
    for j in range(left.shape[0] - 3):
        lj = left[2 + j]
        rj = right[2 + j]
        if lj <= _POISSON_EPSILON or rj <= _POISSON_EPSILON:
            return -np.inf
        score += lj * np.log(lj / left[1]) + rj * np.log(rj / right[1])
    return score


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
    if criterion == CRITERION_SQUARED_ERROR_MO:
        # sum w y_j^2 cancels with the parent's, output by output.
        score = 0.0
        for j in range(left.shape[0] - 3):
            score += left[2 + j] * left[2 + j] / left[1] + right[2 + j] * right[2 + j] / right[1]
        return score
    if criterion == CRITERION_POISSON_MO:
        return _poisson_mo_score(left, right)
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


def criterion_params(reg_lambda=0.0, reg_alpha=0.0, max_delta_step=0.0, n_outputs=1):
    """The kernels' params array (see _types: PARAM_*)."""
    params = np.zeros(N_CRITERION_PARAMS)
    params[PARAM_LAMBDA] = reg_lambda
    params[PARAM_ALPHA] = reg_alpha
    params[PARAM_MAX_DELTA_STEP] = max_delta_step
    params[PARAM_N_OUTPUTS] = n_outputs
    return params


def leaf_values(sums, criterion, params):
    """Prediction value of every node from its sums (n_nodes, 1 + n_channels) -> (n_nodes, n_out).

    Class fractions (classification; each output's side by side for a multi-output y), weighted
    mean (regression; one column per output) or XGBoost's leaf weight."""
    if criterion in (CRITERION_GINI, CRITERION_ENTROPY):
        w = sums[:, 1:].sum(axis=1, keepdims=True)
        values = sums[:, 1:] / np.where(w > 0.0, w, 1.0)
        n_outputs = params[PARAM_N_OUTPUTS]
        if n_outputs != 1.0:
            # w is every output's weight added up: each output's fractions sum to 1 / J.
            values *= n_outputs
        return values
    if criterion == CRITERION_ABSOLUTE_ERROR:
        # Medians are set by grow_tree from the rows (_absolute_error.node_medians).
        return np.zeros((sums.shape[0], sums.shape[1] - 2))
    if criterion in (CRITERION_SQUARED_ERROR_MO, CRITERION_POISSON_MO):
        w = sums[:, 1:2]
        return sums[:, 2:sums.shape[1] - 1] / np.where(w > 0.0, w, 1.0)
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
        w = _node_weight(sums[i], criterion, params)
        weights[i] = w
        impurities[i] = _weighted_impurity(sums[i], criterion, params) / w if w > 0.0 else 0.0
