"""Best split of one node: draw features, get each one's histogram, scan its bins.

Called by the grower (_grower.py) for every node it may split. Every candidate "code <= b goes
left" is tried with the missing bin on the right and on the left; the better direction is the
learned default for NaN.
The best split is kept in small OUT arrays:

    best_gain (1,) float64       score of the best split so far (_children_score; -inf: none),
                                 turned into its gain by _find_best_split
    best_meta (3,) int64         feature, bin b (MISSING_BIN: every non-missing value left),
                                 missing_left (0/1)
    best_left (1 + C,) float64   sums of the left child
    best_threshold (1,) float64  a real threshold drawn by an extra-trees split, NaN when the
                                 split's threshold is its bin's edge
"""

import numpy as np
from numba import njit, prange

from ..utils._numba_cache import kernel_variant
from ._absolute_error import _FIND_ABSOLUTE_ERROR, _FIND_RANDOM_ABSOLUTE_ERROR
from ._criterion import (
    _children_score,
    _node_weight,
    _split_gain,
    _two_channel_score,
    _two_channel_weight,
)
from ._histogram import _build_feature_histogram_sparse, _clear_touched, _present_bins
from ._random import _draw_feature, _draw_threshold
from ._types import (
    CRITERION_ABSOLUTE_ERROR,
    CRITERION_ENTROPY,
    CRITERION_FRIEDMAN_MSE,
    CRITERION_GINI,
    CRITERION_NAMES,
    CRITERION_POISSON,
    CRITERION_POISSON_MO,
    CRITERION_SECOND_ORDER,
    CRITERION_SQUARED_ERROR,
    CRITERION_SQUARED_ERROR_MO,
    MISSING_BIN,
    N_HIST_BINS,
    PARAM_ALPHA,
    PARAM_MAX_DELTA_STEP,
)

# Scores closer than this (relative) are ties, which the first candidate wins (scikit-learn's rule
# for equal scores): the sums of a sparse fit's absent bins come by subtraction (_sparse.py) and
# differ from a dense fit's in their last bits, which must not pick another of several equally
# good splits (a node of two rows is split equally well by every feature that separates them).
_TIE_RTOL = 1e-13


@njit(cache=True, nogil=True, inline="always")
def _beats(score, best):
    """score beats best by more than a tie."""
    return score > best and (best == -np.inf or score - best > _TIE_RTOL * abs(best))


@njit(cache=True, nogil=True, inline="always")
def _ties(score, best):
    """score equals best up to a tie (best finite)."""
    return best > -np.inf and abs(score - best) <= _TIE_RTOL * abs(best)


# A loop counter's start: a literal 0 passed on to a kernel compiles it once for Literal[int](0)
# and again for int64.
_ZERO = np.int64(0)


@njit(cache=True, nogil=True, inline="always")
def _admissible(left, right, criterion, params, min_samples_leaf, min_weight_leaf):
    """Both children hold min_samples_leaf rows and min_weight_leaf weight."""
    if left[0] < min_samples_leaf or right[0] < min_samples_leaf:
        return False
    if min_weight_leaf > 0.0 and (_node_weight(left, criterion, params) < min_weight_leaf
                                  or _node_weight(right, criterion, params) < min_weight_leaf):
        return False
    return True


@njit(cache=True, nogil=True, inline="always")
def _consider(left, node_sums, right, criterion, params, min_samples_leaf, min_weight_leaf,
              feature, b, missing_left, best_gain, best_meta, best_left):
    """Score the candidate with left sums `left` (in); keep it when strictly better (ties keep the
    first candidate, scikit-learn's rule)."""
    for c in range(left.shape[0]):
        right[c] = node_sums[c] - left[c]
    if not _admissible(left, right, criterion, params, min_samples_leaf, min_weight_leaf):
        return
    score = _children_score(left, right, criterion, params)
    if _beats(score, best_gain[0]):
        best_gain[0] = score
        best_meta[0] = feature
        best_meta[1] = b
        if missing_left < 0:
            # No NaN in this node: NaN at predict time goes to the child with more rows, right
            # on a tie (scikit-learn's missing_go_to_left = n_left > n_right).
            best_meta[2] = 1 if left[0] > right[0] else 0
        else:
            best_meta[2] = missing_left
        for c in range(left.shape[0]):
            best_left[c] = left[c]


def _make_scan_feature(criterion):
    """The exhaustive scan of one feature's present bins (histogram in, best_* in/out), compiled
    with `criterion` frozen (a closure constant), so the criterion's branches fold away in the
    engine's hottest loop (3x faster than a runtime id). Its loop is written here, not in an
    inlined helper: inlining it cost ~1.5 s of the first fit's compile.

    The loop keeps its best candidate in scalars and writes best_* once: this scan runs for
    every (node, drawn feature, present bin)."""

    @kernel_variant(f"_scan_{CRITERION_NAMES[criterion]}")
    def _scan(hist_f, codes, n_present, has_missing, node_sums, params, min_samples_leaf,
              min_weight_leaf, feature, cum, left, right, best_gain, best_meta, best_left):
        n_slots = cum.shape[0]
        missing = hist_f.shape[0] - 1  # MISSING_BIN's slot (compact sparse histograms: the last)
        best_score = best_gain[0]
        best_idx = -1
        best_dir = 0
        cum[:] = 0.0
        for idx in range(n_present):
            b = codes[idx]
            for c in range(n_slots):
                cum[c] += hist_f[b, c]
            last = idx == n_present - 1
            if last and not has_missing:
                break
            # NaN (if any) on the right, then on the left: one scoring site in a loop, which
            # halves this scan's code (and its compile time) against two written out.
            for direction in range(2 if has_missing and not last else 1):
                for c in range(n_slots):
                    left[c] = cum[c] + hist_f[missing, c] if direction == 1 else cum[c]
                    right[c] = node_sums[c] - left[c]
                if _admissible(left, right, criterion, params, min_samples_leaf,
                               min_weight_leaf):
                    score = _children_score(left, right, criterion, params)
                    if _beats(score, best_score):
                        best_score = score
                        best_idx = idx
                        best_dir = direction
        _record_best(hist_f, codes, n_present, has_missing, node_sums, feature, best_score,
                     best_idx, best_dir, best_gain, best_meta, best_left)

    return _scan


@njit(cache=True, nogil=True, inline="always")
def _record_best(hist_f, codes, n_present, has_missing, node_sums, feature, best_score, best_idx,
                 best_dir, best_gain, best_meta, best_left):
    """Write a scan's winner (present-bin index best_idx, NaN side best_dir; -1: none better than
    best_gain on entry) into best_* (out), its left sums re-summed from the histogram."""
    if best_idx < 0:
        return
    best_gain[0] = best_score
    best_meta[0] = feature
    best_meta[1] = MISSING_BIN if best_idx == n_present - 1 else codes[best_idx]
    best_left[:] = 0.0
    for idx in range(best_idx + 1):
        for c in range(best_left.shape[0]):
            best_left[c] += hist_f[codes[idx], c]
    if best_dir == 1:
        for c in range(best_left.shape[0]):
            best_left[c] += hist_f[hist_f.shape[0] - 1, c]  # MISSING_BIN's slot
    if has_missing:
        best_meta[2] = best_dir
    else:
        # No NaN in this node: NaN at predict time goes to the child with more rows, right
        # on a tie (scikit-learn's missing_go_to_left = n_left > n_right).
        best_meta[2] = 1 if 2.0 * best_left[0] > node_sums[0] else 0


@njit(cache=True, nogil=True, inline="always")
def _candidate_score(n_left, a_left, b_left, n_all, a_all, b_all, min_samples_leaf,
                     min_weight_leaf, criterion, params, plain, counted=True):
    """Score of the candidate with left sums (count, a, b) of a node (n_all, a_all, b_all), a
    and b being channels 1 and 2 (_two_channel_score); -inf when a child has fewer than
    min_samples_leaf rows or, with min_weight_leaf > 0, less weight than min_weight_leaf
    (_admissible's rule). counted=False: no counts (the grower uses countless histograms only
    with min_samples_leaf <= 1, which every candidate between present bins meets)."""
    if counted and (n_left < min_samples_leaf or n_all - n_left < min_samples_leaf):
        return -np.inf
    a_right = a_all - a_left
    b_right = b_all - b_left
    if min_weight_leaf > 0.0 and (
            _two_channel_weight(a_left, b_left, criterion) < min_weight_leaf
            or _two_channel_weight(a_right, b_right, criterion) < min_weight_leaf):
        return -np.inf
    return _two_channel_score(a_left, b_left, a_right, b_right, criterion, params, plain)


def _make_scan_scalar(criterion):
    """The exhaustive scan for a criterion that reads two channels (_two_channel_score: binary gini,
    squared_error, friedman_mse, second order), with the count and the two sums in scalars:
    the engine's hottest loop, 6-7x faster than through the sums arrays (gini: 45 -> 6 ns per
    bin; second order: 348 -> 52 us per node). Same candidates, same order, same scores as
    the general scan (_make_scan_feature), so the same winner (countless (g, h) histograms:
    _scan_gh).
    Ties: the first candidate of the feature wins within a feature; across features, the
    first one visited, except for the second-order criterion, where the lower feature index
    wins (xgboost's rule), so a booster's split does not depend on the visiting order."""
    lower_feature_wins = criterion == CRITERION_SECOND_ORDER

    @kernel_variant(f"_scan_scalar_{CRITERION_NAMES[criterion]}")
    def _scan(hist_f, codes, n_present, has_missing, node_sums, params, min_samples_leaf,
              min_weight_leaf, feature, best_gain, best_meta, best_left):
        n_all, a_all, b_all = node_sums[0], node_sums[1], node_sums[2]
        n_miss = hist_f[hist_f.shape[0] - 1, 0]
        a_miss = hist_f[hist_f.shape[0] - 1, 1]
        b_miss = hist_f[hist_f.shape[0] - 1, 2]
        plain = params[PARAM_ALPHA] == 0.0 and params[PARAM_MAX_DELTA_STEP] == 0.0
        best_score = best_gain[0]
        best_idx = -1
        best_dir = 0
        # An equal score takes the lead from a higher-index feature's best (first one only).
        take_tie = lower_feature_wins and best_score > -np.inf and feature < best_meta[0]
        n_left = 0.0
        a_left = 0.0
        b_left = 0.0
        for idx in range(n_present):
            b = codes[idx]
            n_left += hist_f[b, 0]
            a_left += hist_f[b, 1]
            b_left += hist_f[b, 2]
            last = idx == n_present - 1
            if last and not has_missing:
                break
            # NaN (if any) on the right.
            score = _candidate_score(n_left, a_left, b_left, n_all, a_all, b_all,
                                     min_samples_leaf, min_weight_leaf, criterion, params, plain)
            if _beats(score, best_score) or (take_tie and best_idx < 0
                                               and _ties(score, best_score)):
                best_score = score
                best_idx = idx
                best_dir = 0
            if has_missing and not last:
                # NaN on the left.
                score = _candidate_score(n_left + n_miss, a_left + a_miss, b_left + b_miss,
                                         n_all, a_all, b_all, min_samples_leaf, min_weight_leaf,
                                         criterion, params, plain)
                if _beats(score, best_score) or (take_tie and best_idx < 0
                                               and _ties(score, best_score)):
                    best_score = score
                    best_idx = idx
                    best_dir = 1
        _record_best(hist_f, codes, n_present, has_missing, node_sums, feature, best_score,
                     best_idx, best_dir, best_gain, best_meta, best_left)

    return _scan


# Multi-class gini and entropy, multi-output regression: the general scan over the sums arrays.
_SCAN_GINI = _make_scan_feature(CRITERION_GINI)
_SCAN_ENTROPY = _make_scan_feature(CRITERION_ENTROPY)
_SCAN_SQUARED_ERROR_MO = _make_scan_feature(CRITERION_SQUARED_ERROR_MO)
_SCAN_POISSON_MO = _make_scan_feature(CRITERION_POISSON_MO)
_SCAN_GINI_BINARY = _make_scan_scalar(CRITERION_GINI)
_SCAN_SQUARED_ERROR = _make_scan_scalar(CRITERION_SQUARED_ERROR)
_SCAN_FRIEDMAN_MSE = _make_scan_scalar(CRITERION_FRIEDMAN_MSE)
_SCAN_SECOND_ORDER = _make_scan_scalar(CRITERION_SECOND_ORDER)
_SCAN_POISSON = _make_scan_scalar(CRITERION_POISSON)


@njit(cache=True, nogil=True)
def _scan_gh(hist_f, node_sums, params, min_weight_leaf, feature, best_gain, best_meta,
             best_left):
    """The second-order scan of a countless (g, h) histogram (see _grower): the candidates,
    scores and tie rule of _make_scan_scalar's, read off the bins in place, where a list of
    present bins first (_present_bins) and the sums re-read through it cost 4x the scoring
    (28 features x 255 bins: 22 -> 9 ns per bin, one thread). A bin is present when either sum is
    non-zero; absent bins add nothing, so best_left, summed over every bin up to the split's,
    has the same bits. best_left[0] is left 0 (no counts)."""
    g_all, h_all = node_sums[1], node_sums[2]
    g_miss = hist_f[hist_f.shape[0] - 1, 0]
    h_miss = hist_f[hist_f.shape[0] - 1, 1]
    has_missing = g_miss != 0.0 or h_miss != 0.0
    plain = params[PARAM_ALPHA] == 0.0 and params[PARAM_MAX_DELTA_STEP] == 0.0
    last = hist_f.shape[0] - 2
    while last >= 0 and hist_f[last, 0] == 0.0 and hist_f[last, 1] == 0.0:
        last -= 1
    best_score = best_gain[0]
    best_bin = -1
    best_dir = 0
    # An equal score takes the lead from a higher-index feature's best (first one only).
    take_tie = best_score > -np.inf and feature < best_meta[0]
    g_left = 0.0
    h_left = 0.0
    for b in range(last + 1):
        g = hist_f[b, 0]
        h = hist_f[b, 1]
        if g == 0.0 and h == 0.0:
            continue
        g_left += g
        h_left += h
        if b == last and not has_missing:
            break
        # NaN (if any) on the right.
        score = _candidate_score(0.0, g_left, h_left, 0.0, g_all, h_all, 1, min_weight_leaf,
                                 CRITERION_SECOND_ORDER, params, plain, False)
        if _beats(score, best_score) or (take_tie and best_bin < 0
                                               and _ties(score, best_score)):
            best_score = score
            best_bin = b
            best_dir = 0
        if has_missing and b != last:
            # NaN on the left.
            score = _candidate_score(0.0, g_left + g_miss, h_left + h_miss, 0.0, g_all, h_all,
                                     1, min_weight_leaf, CRITERION_SECOND_ORDER, params, plain,
                                     False)
            if _beats(score, best_score) or (take_tie and best_bin < 0
                                               and _ties(score, best_score)):
                best_score = score
                best_bin = b
                best_dir = 1
    if best_bin < 0:
        return
    best_gain[0] = best_score
    best_meta[0] = feature
    best_meta[1] = MISSING_BIN if best_bin == last else best_bin
    best_left[:] = 0.0
    for b in range(best_bin + 1):
        best_left[1] += hist_f[b, 0]
        best_left[2] += hist_f[b, 1]
    if best_dir == 1:
        best_left[1] += g_miss
        best_left[2] += h_miss
    # No NaN in the node: NaN goes right (xgboost's rule; its forward scan's default).
    best_meta[2] = best_dir if has_missing else 0


@njit(cache=True, nogil=True, inline="always")
def _scan_feature(hist_f, codes, n_present, has_missing, node_sums, criterion, n_channels,
                  counted, params, min_samples_leaf, min_weight_leaf, feature, cum, left, right,
                  best_gain, best_meta, best_left):
    """Exhaustive scan of one feature: the frozen-criterion scan for (criterion, n_channels:
    the stats' channel count, counted: hist_f has a count slot). Inlined, so a caller whose
    selectors are compile-time constants (the grower's) compiles only the scan it runs."""
    args = (hist_f, codes, n_present, has_missing, node_sums, params, min_samples_leaf,
            min_weight_leaf, feature)
    if not counted:
        _scan_gh(hist_f, node_sums, params, min_weight_leaf, feature, best_gain, best_meta,
                 best_left)
    elif criterion == CRITERION_GINI and n_channels == 2:
        _SCAN_GINI_BINARY(*args, best_gain, best_meta, best_left)
    elif criterion == CRITERION_GINI:
        _SCAN_GINI(*args, cum, left, right, best_gain, best_meta, best_left)
    elif criterion == CRITERION_ENTROPY:
        _SCAN_ENTROPY(*args, cum, left, right, best_gain, best_meta, best_left)
    elif criterion == CRITERION_SQUARED_ERROR:
        _SCAN_SQUARED_ERROR(*args, best_gain, best_meta, best_left)
    elif criterion == CRITERION_FRIEDMAN_MSE:
        _SCAN_FRIEDMAN_MSE(*args, best_gain, best_meta, best_left)
    elif criterion == CRITERION_POISSON:
        _SCAN_POISSON(*args, best_gain, best_meta, best_left)
    elif criterion == CRITERION_SQUARED_ERROR_MO:
        _SCAN_SQUARED_ERROR_MO(*args, cum, left, right, best_gain, best_meta, best_left)
    elif criterion == CRITERION_POISSON_MO:
        _SCAN_POISSON_MO(*args, cum, left, right, best_gain, best_meta, best_left)
    else:
        _SCAN_SECOND_ORDER(*args, best_gain, best_meta, best_left)


@njit(cache=True, nogil=True, inline="always")
def _random_split_feature(hist_f, codes, n_present, has_missing, node_sums, representatives_f,
                          edges_f, criterion, params, min_samples_leaf, min_weight_leaf, feature,
                          rng_state, cum, left, right, best_gain, best_meta, best_left,
                          best_threshold):
    """Extra-trees: one threshold drawn uniformly between the node's smallest and largest value
    (bin representatives), both NaN directions tried. With one present value and NaN, the split
    is non-missing vs missing. The stored threshold is the draw itself, clipped into the gap
    between the two bins it falls between, so training rows are routed as at predict time.
    Inlined, so that the grower's constant criterion selects _consider's score."""
    t, cut = _draw_threshold(rng_state, codes, n_present, representatives_f, edges_f)
    cum[:] = 0.0
    for idx in range(cut + 1):
        for c in range(cum.shape[0]):
            cum[c] += hist_f[codes[idx], c]
    split_bin = MISSING_BIN if cut == n_present - 1 else codes[cut]
    missing = hist_f.shape[0] - 1  # MISSING_BIN's slot
    # NaN (if any) on the right, then on the left; one (inlined) scoring site.
    for direction in range(2 if has_missing and split_bin != MISSING_BIN else 1):
        for c in range(cum.shape[0]):
            left[c] = cum[c] + hist_f[missing, c] if direction == 1 else cum[c]
        _consider(left, node_sums, right, criterion, params, min_samples_leaf, min_weight_leaf,
                  feature, split_bin, direction if has_missing else -1, best_gain, best_meta,
                  best_left)
    if best_meta[0] == feature:
        best_threshold[0] = t if split_bin != MISSING_BIN else np.nan


def _make_scan_nodes(criterion, n_channels, counted):
    """The exhaustive scan of every pool feature of several nodes' full histograms (the children
    of one step of the grower, a level of a depthwise tree) in one loop over (node, feature)
    pairs over Numba's threads, for one (criterion, n_channels, counted) (_scan_feature's
    selectors, frozen here): feature idx visited idx-th by node e, pool[orders[e, idx]] of
    the histogram hist_pool[slots[e]], leaves its own best in row e * len(pool) + idx of
    per_pair's gains, metas and lefts (gain -inf, feature -1: none). _best_of_scans then takes
    each node's first best in its visiting order: the split the serial loop of
    _find_best_split finds with the same draws."""

    @kernel_variant(f"_scan_nodes_{CRITERION_NAMES[criterion]}_c{n_channels}"
                    + ("" if counted else "_countless"), parallel=True)
    def scan_nodes(hist_pool, slots, node_sums, pool, orders, params, min_samples_leaf,
                   min_weight_leaf, per_pair):
        codes, gains, metas, lefts, cums, lbufs, rbufs = per_pair
        n_pool = pool.shape[0]
        for p in prange(slots.shape[0] * n_pool):
            e = p // n_pool
            pos = orders[e, p % n_pool]
            hist_f = hist_pool[slots[e], pos]
            gains[p] = -np.inf
            metas[p, 0] = -1
            if counted:
                n_present, has_missing = _present_bins(hist_f, codes[p], -1, codes[p])
                if n_present + (1 if has_missing else 0) <= 1:
                    continue
            else:
                n_present, has_missing = 0, False
            _scan_feature(hist_f, codes[p], n_present, has_missing, node_sums[e], criterion,
                          n_channels, counted, params, min_samples_leaf, min_weight_leaf,
                          pool[pos], cums[p], lbufs[p], rbufs[p], gains[p:p + 1], metas[p],
                          lefts[p])

    return scan_nodes


# The threaded scans the growers run: boosters' countless and counted second order, and
# GradientBoosting's regression criteria (any other criterion scans serially).
_SCAN_NODES_GH = _make_scan_nodes(CRITERION_SECOND_ORDER, 2, False)
_SCAN_NODES_SECOND_ORDER = _make_scan_nodes(CRITERION_SECOND_ORDER, 2, True)
_SCAN_NODES_FRIEDMAN_MSE = _make_scan_nodes(CRITERION_FRIEDMAN_MSE, 2, True)
_SCAN_NODES_SQUARED_ERROR = _make_scan_nodes(CRITERION_SQUARED_ERROR, 2, True)
_SCAN_NODES_GINI_BINARY = _make_scan_nodes(CRITERION_GINI, 2, True)
_SCAN_NODES_GINI = _make_scan_nodes(CRITERION_GINI, -1, True)
_SCAN_NODES_ENTROPY = _make_scan_nodes(CRITERION_ENTROPY, -1, True)


@njit(cache=True, nogil=True, inline="always")
def _scan_nodes(hist_pool, slots, node_sums, pool, orders, criterion, n_channels, counted,
                params, min_samples_leaf, min_weight_leaf, per_pair):
    """The threaded scan of several nodes (_make_scan_nodes) for these selectors; inlined, so
    that a grower with constant selectors compiles only its own."""
    args = (hist_pool, slots, node_sums, pool, orders, params, min_samples_leaf,
            min_weight_leaf, per_pair)
    if not counted:
        _SCAN_NODES_GH(*args)
    elif criterion == CRITERION_SECOND_ORDER:
        _SCAN_NODES_SECOND_ORDER(*args)
    elif criterion == CRITERION_FRIEDMAN_MSE:
        _SCAN_NODES_FRIEDMAN_MSE(*args)
    elif criterion == CRITERION_SQUARED_ERROR:
        _SCAN_NODES_SQUARED_ERROR(*args)
    elif criterion == CRITERION_GINI and n_channels == 2:
        _SCAN_NODES_GINI_BINARY(*args)
    elif criterion == CRITERION_GINI:
        _SCAN_NODES_GINI(*args)
    else:
        _SCAN_NODES_ENTROPY(*args)


@njit(cache=True, nogil=True)
def scan_buffers(n_pairs, n_slots, n_hist_bins=N_HIST_BINS):
    """per_pair buffers of _scan_nodes for n_pairs (node, feature) pairs of histograms
    n_hist_bins wide (the present-bin lists: 160k pairs of a depth-5 level of 5000 features
    take 164 MB at 256 bins, 4.5 MB in a sparse fit's compact 7)."""
    return (np.empty((n_pairs, n_hist_bins), np.int32), np.empty(n_pairs),
            np.empty((n_pairs, 3), np.int64), np.empty((n_pairs, n_slots)),
            np.empty((n_pairs, n_slots)), np.empty((n_pairs, n_slots)),
            np.empty((n_pairs, n_slots)))


@njit(cache=True, nogil=True)
def _best_of_scans(per_pair, e, n_pool, node_sums, criterion, params, right, best_gain,
                   best_meta, best_left):
    """Node e's split from _scan_nodes' per-pair results: the first feature in its visiting
    order with the largest score, the lowest feature index for the second-order criterion
    (best_* out, as _find_best_split's)."""
    gains, metas, lefts = per_pair[1], per_pair[2], per_pair[3]
    best_gain[0] = -np.inf
    best_meta[0] = -1
    lower_feature_wins = criterion == CRITERION_SECOND_ORDER  # as _make_scan_scalar's scans
    for p in range(e * n_pool, (e + 1) * n_pool):
        if _beats(gains[p], best_gain[0]) or (lower_feature_wins and _ties(gains[p], best_gain[0])
                                              and metas[p, 0] < best_meta[0]):
            best_gain[0] = gains[p]
            for k in range(3):
                best_meta[k] = metas[p, k]
            for c in range(best_left.shape[0]):
                best_left[c] = lefts[p, c]
    _finish_best(node_sums, criterion, params, right, best_gain, best_meta, best_left)


@njit(cache=True, nogil=True, inline="always")
def _finish_best(node_sums, criterion, params, right, best_gain, best_meta, best_left):
    """The best candidate's score turned into its gain (right: scratch)."""
    if best_meta[0] >= 0:
        for c in range(best_left.shape[0]):
            right[c] = node_sums[c] - best_left[c]
        best_gain[0] = _split_gain(best_left, right, node_sums, criterion, params)


def _make_find_best_split(criterion, n_channels, counted, random_splits):
    """The split search of one node for one (criterion, n_channels: the stats' channel count,
    counted: the histograms have a count slot, random_splits: extra-trees thresholds), these
    frozen as closure constants: each variant is a kernel of its own, compiled once per process
    for every grower that runs it, with only its own scan inside (the other selectors' branches
    are pruned before typing). Selected by _find_best_split (the growers) or split_finder.

    The kernel: best split of the node whose rows are start:end of the node-ordered X_node /
    stats_node (see _histogram.py) over features drawn from `pool`.

    node_hist  (len(pool), 256, 1 + C) or (0, 0, 0): the node's full histogram when the grower
               keeps one (subtraction mode), else each drawn feature gets a sparse histogram;
               (len(pool), 256, 2): a countless (g, h) one (second order, exhaustive scan
               only, min_samples_leaf <= 1; see _grower).
    pool       (n_pool,) int32 candidate features; pool_order (n_pool,) int32 scratch
    allowed    (n_pool,) uint8, 0 for pool features this node may not use (xgboost's
               colsample_bylevel): skipped without counting as visited
    Features are drawn without replacement until max_features were visited and at least one of
    them is not constant in the node (scikit-learn's rule). best_* (out), see module doc.
    """

    @kernel_variant(f"_find_{CRITERION_NAMES[criterion]}_c{n_channels}"
                    + ("" if counted else "_countless") + ("_random" if random_splits else ""))
    def find_best_split(X_node, stats_node, start, end, node_sums, node_hist, pool, allowed,
                        pool_order, max_features, representatives, edges, params,
                        min_samples_leaf, min_weight_leaf, rng_state, scratch_hist, touched,
                        codes, cum, left, right, best_gain, best_meta, best_left,
                        best_threshold):
        best_gain[0] = -np.inf
        best_meta[0] = -1
        best_threshold[0] = np.nan
        n_pool = pool.shape[0]
        for i in range(n_pool):
            pool_order[i] = i
        use_full = node_hist.shape[0] > 0
        n_visited = 0
        n_nonconstant = 0
        i = _ZERO
        while i < n_pool and (n_visited < max_features or n_nonconstant == 0):
            pos = _draw_feature(rng_state, pool_order, i)
            i += 1
            if allowed[pos] == 0:
                continue
            n_visited += 1
            feature = pool[pos]
            if use_full:
                hist_f = node_hist[pos]
                n_touched = -1
            else:
                hist_f = scratch_hist
                n_touched = _build_feature_histogram_sparse(
                    X_node, stats_node, start, end, feature, hist_f, touched)
            n_present, has_missing = _present_bins(hist_f, touched, n_touched, codes, counted)
            if n_present + (1 if has_missing else 0) > 1:
                n_nonconstant += 1
                if random_splits:
                    _random_split_feature(hist_f, codes, n_present, has_missing, node_sums,
                                          representatives[feature], edges[feature], criterion,
                                          params, min_samples_leaf, min_weight_leaf, feature,
                                          rng_state, cum, left, right, best_gain, best_meta,
                                          best_left, best_threshold)
                else:
                    _scan_feature(hist_f, codes, n_present, has_missing, node_sums, criterion,
                                  n_channels, counted, params, min_samples_leaf,
                                  min_weight_leaf, feature, cum, left, right, best_gain,
                                  best_meta, best_left)
            if not use_full:
                _clear_touched(hist_f, touched, n_touched)
        _finish_best(node_sums, criterion, params, right, best_gain, best_meta, best_left)

    return find_best_split


# The split searches the growers run: exhaustive (counted histograms, countless (g, h) ones)
# and extra-trees, per criterion (binary gini has its scalar scan, see _scan_feature).
_FIND_GINI_BINARY = _make_find_best_split(CRITERION_GINI, 2, True, False)
_FIND_GINI = _make_find_best_split(CRITERION_GINI, -1, True, False)
_FIND_ENTROPY = _make_find_best_split(CRITERION_ENTROPY, -1, True, False)
_FIND_SQUARED_ERROR = _make_find_best_split(CRITERION_SQUARED_ERROR, -1, True, False)
_FIND_FRIEDMAN_MSE = _make_find_best_split(CRITERION_FRIEDMAN_MSE, -1, True, False)
_FIND_SECOND_ORDER = _make_find_best_split(CRITERION_SECOND_ORDER, -1, True, False)
_FIND_POISSON = _make_find_best_split(CRITERION_POISSON, -1, True, False)
_FIND_GH = _make_find_best_split(CRITERION_SECOND_ORDER, -1, False, False)
_FIND_RANDOM_GINI = _make_find_best_split(CRITERION_GINI, -1, True, True)
_FIND_RANDOM_ENTROPY = _make_find_best_split(CRITERION_ENTROPY, -1, True, True)
_FIND_RANDOM_SQUARED_ERROR = _make_find_best_split(CRITERION_SQUARED_ERROR, -1, True, True)
_FIND_RANDOM_FRIEDMAN_MSE = _make_find_best_split(CRITERION_FRIEDMAN_MSE, -1, True, True)
_FIND_RANDOM_SECOND_ORDER = _make_find_best_split(CRITERION_SECOND_ORDER, -1, True, True)
_FIND_RANDOM_POISSON = _make_find_best_split(CRITERION_POISSON, -1, True, True)
_FIND_SQUARED_ERROR_MO = _make_find_best_split(CRITERION_SQUARED_ERROR_MO, -1, True, False)
_FIND_POISSON_MO = _make_find_best_split(CRITERION_POISSON_MO, -1, True, False)
_FIND_RANDOM_SQUARED_ERROR_MO = _make_find_best_split(CRITERION_SQUARED_ERROR_MO, -1, True, True)
_FIND_RANDOM_POISSON_MO = _make_find_best_split(CRITERION_POISSON_MO, -1, True, True)


def split_finder(criterion, n_channels, counted, random_splits):
    """The split-search kernel _find_best_split selects for these selectors (for Python callers:
    tests and bench/)."""
    kind = "_FIND_RANDOM_" if random_splits else "_FIND_"
    if not counted and not random_splits:
        return _FIND_GH
    if criterion == CRITERION_GINI and n_channels == 2 and not random_splits:
        return _FIND_GINI_BINARY
    return globals()[kind + CRITERION_NAMES[criterion].upper()]


@njit(cache=True, nogil=True, inline="always")
def _find_best_split(X_node, stats_node, start, end, node_sums, node_hist, pool, allowed,
                     pool_order, max_features, representatives, edges, criterion, n_channels,
                     counted, params, min_samples_leaf, min_weight_leaf, random_splits,
                     rng_state, scratch_hist, touched, codes, cum, left, right, best_gain,
                     best_meta, best_left, best_threshold):
    """The node's split search (_make_find_best_split) for these selectors. Inlined, so that a
    grower whose selectors are compile-time constants calls (and compiles) only its own; the
    search itself is not inlined (inlining it cost ~4 s of every grower variant's compile)."""
    args = (X_node, stats_node, start, end, node_sums, node_hist, pool, allowed, pool_order,
            max_features, representatives, edges, params, min_samples_leaf, min_weight_leaf,
            rng_state, scratch_hist, touched, codes, cum, left, right, best_gain, best_meta,
            best_left, best_threshold)
    if criterion == CRITERION_ABSOLUTE_ERROR:
        if random_splits:
            _FIND_RANDOM_ABSOLUTE_ERROR(*args)
        else:
            _FIND_ABSOLUTE_ERROR(*args)
    elif random_splits:
        if criterion == CRITERION_GINI:
            _FIND_RANDOM_GINI(*args)
        elif criterion == CRITERION_ENTROPY:
            _FIND_RANDOM_ENTROPY(*args)
        elif criterion == CRITERION_SQUARED_ERROR:
            _FIND_RANDOM_SQUARED_ERROR(*args)
        elif criterion == CRITERION_FRIEDMAN_MSE:
            _FIND_RANDOM_FRIEDMAN_MSE(*args)
        elif criterion == CRITERION_POISSON:
            _FIND_RANDOM_POISSON(*args)
        elif criterion == CRITERION_SQUARED_ERROR_MO:
            _FIND_RANDOM_SQUARED_ERROR_MO(*args)
        elif criterion == CRITERION_POISSON_MO:
            _FIND_RANDOM_POISSON_MO(*args)
        else:
            _FIND_RANDOM_SECOND_ORDER(*args)
    elif not counted:
        _FIND_GH(*args)
    elif criterion == CRITERION_GINI and n_channels == 2:
        _FIND_GINI_BINARY(*args)
    elif criterion == CRITERION_GINI:
        _FIND_GINI(*args)
    elif criterion == CRITERION_ENTROPY:
        _FIND_ENTROPY(*args)
    elif criterion == CRITERION_SQUARED_ERROR:
        _FIND_SQUARED_ERROR(*args)
    elif criterion == CRITERION_FRIEDMAN_MSE:
        _FIND_FRIEDMAN_MSE(*args)
    elif criterion == CRITERION_POISSON:
        _FIND_POISSON(*args)
    elif criterion == CRITERION_SQUARED_ERROR_MO:
        _FIND_SQUARED_ERROR_MO(*args)
    elif criterion == CRITERION_POISSON_MO:
        _FIND_POISSON_MO(*args)
    else:
        _FIND_SECOND_ORDER(*args)


def _find_best_split_naive(X_binned, stats, rows, features, criterion, params, min_samples_leaf,
                           min_weight_leaf):
    """Reference for tests: every (feature, threshold bin, NaN side) by brute force in NumPy.

    Returns (gain, feature, bin, missing_left) of the best split over `features` in the given
    order, bins ascending, NaN right before NaN left; gain -inf when there is none."""
    from ._criterion import _node_weight as weight
    from ._criterion import _split_gain as split_gain

    values = np.hstack([np.ones((len(rows), 1)), stats[rows]])
    node = values.sum(axis=0)
    best = (-np.inf, -1, -1, -1)
    for f in features:
        codes = X_binned[rows, f]
        is_missing = codes == MISSING_BIN
        present = np.unique(codes[~is_missing])
        if len(present) + int(is_missing.any()) < 2:
            continue
        for idx, b in enumerate(present):
            last = idx == len(present) - 1
            if last and not is_missing.any():
                break
            split_bin = MISSING_BIN if last else b
            sides = [0, 1] if is_missing.any() and not last else [0]
            for missing_left in sides:
                goes_left = (codes <= b) & ~is_missing
                if missing_left:
                    goes_left |= is_missing
                lsum = values[goes_left].sum(axis=0)
                rsum = node - lsum
                if lsum[0] < min_samples_leaf or rsum[0] < min_samples_leaf:
                    continue
                if (weight(lsum, criterion, params) < min_weight_leaf
                        or weight(rsum, criterion, params) < min_weight_leaf):
                    continue
                gain = split_gain(lsum, rsum, node, criterion, params)
                if gain > best[0]:
                    direction = missing_left if is_missing.any() else int(lsum[0] > rsum[0])
                    best = (gain, int(f), int(split_bin), direction)
    return best
