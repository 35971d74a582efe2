"""criterion="absolute_error": the split search of scikit-learn's MAE criterion on the node's rows,
and each node's weighted median and mean absolute error after growth.

A histogram of sums cannot give a median, so this criterion scans the rows, exactly as
scikit-learn does (its MAE criterion, 1.9): a node's rows are ranked by y once per output; for
each drawn feature the rows are put in bin order (a counting sort of their codes), and a forward
and a backward pass insert them one at a time into a Fenwick tree over the ranks (sums of w and
w y), which gives after each insertion the weighted median (the smallest rank whose cumulative
weight exceeds half the total; the mid-point of two values when the cumulative weight hits half
exactly) and the absolute error sum_{y >= m} w (y - m) + sum_{y < m} w (m - y). Candidates are the
bin boundaries, NaN tried on either side (two more passes when the node has missing values). The
cost is O(n log n) per node and feature, scikit-learn's.

stats for this criterion: (w, y_1, ..., y_J), one column per output; the grower keeps node-ordered
copies at every node and builds no histograms (_grower._make_grow). The node's impurity is
the mean absolute error averaged over outputs; a split's gain is the decrease of its sum over
rows, divided by J. Leaf values and node impurities are computed after growth from the rows of
each node (node_medians), as the sums cannot give them.
"""

import numpy as np
from numba import njit

from ..utils._numba_cache import kernel_variant
from ._random import _draw_feature, _draw_threshold
from ._types import MISSING_BIN, N_HIST_BINS

# A node whose absolute error per unit weight is at or below this is pure (scikit-learn's EPSILON).
_EPSILON = np.finfo(np.float64).eps


@njit(cache=True, nogil=True)
def _prefix_errors(order, lo, hi, ranks, sorted_y, w, bit_w, bit_wy, out):
    """out[p] += the absolute error of rows order[lo:p + 1] around their weighted median, for p
    in lo..hi-1 (rows inserted in that order; ranks / sorted_y: one output's node-local ranks and
    sorted values, w: node-ordered weights; bit_*: Fenwick scratch of len(sorted_y) + 1)."""
    size = sorted_y.shape[0]
    for i in range(size + 1):
        bit_w[i] = 0.0
        bit_wy[i] = 0.0
    top = 1
    while top * 2 <= size:
        top *= 2
    total_w = 0.0
    total_wy = 0.0
    for p in range(lo, hi):
        r = order[p]
        rank = ranks[r]
        wr = w[r]
        yr = sorted_y[rank]
        total_w += wr
        total_wy += wr * yr
        i = rank + 1
        while i <= size:
            bit_w[i] += wr
            bit_wy[i] += wr * yr
            i += i & -i
        half = 0.5 * total_w
        # pos: how many ranks have cumulative weight <= half; rank pos is the median's.
        pos = 0
        w_left = 0.0
        wy_left = 0.0
        step = top
        while step > 0:
            nxt = pos + step
            if nxt <= size and w_left + bit_w[nxt] <= half:
                pos = nxt
                w_left += bit_w[nxt]
                wy_left += bit_wy[nxt]
            step //= 2
        median = sorted_y[pos]
        if w_left == half:
            # The cumulative weight reaches half exactly at an earlier rank: the mid-point.
            prev = 0
            acc = 0.0
            step = top
            while step > 0:
                nxt = prev + step
                if nxt <= size and acc + bit_w[nxt] < half:
                    prev = nxt
                    acc += bit_w[nxt]
                step //= 2
            median = 0.5 * (sorted_y[prev] + median)
        w_right = total_w - w_left
        wy_right = total_wy - wy_left
        out[p] += (wy_right - median * w_right) + (median * w_left - wy_left)


def _make_find_absolute_error(random_splits):
    """The split search of one node for criterion="absolute_error" (exhaustive, or extra-trees'
    one drawn threshold per feature): _splitter._make_find_best_split's signature and feature
    draws, the candidates scored on the rows (module doc); the histogram arguments unused.
    best_gain is the gain itself (weighted absolute error decrease / J)."""

    @kernel_variant("_find_absolute_error" + ("_random" if random_splits else ""))
    def find_absolute_error(X_node, stats_node, start, end, node_sums, node_hist, pool, allowed,
                            pool_order, max_features, representatives, edges, params,
                            min_samples_leaf, min_weight_leaf, rng_state, scratch_hist, touched,
                            codes, cum, left, right, best_gain, best_meta, best_left,
                            best_threshold):
        best_gain[0] = -np.inf
        best_meta[0] = -1
        best_threshold[0] = np.nan
        n = end - start
        n_outputs = stats_node.shape[1] - 1
        w = np.empty(n)
        for p in range(n):
            w[p] = stats_node[start + p, 0]
        # Node-local ranks and sorted values of every output.
        ranks = np.empty((n_outputs, n), np.int64)
        sorted_y = np.empty((n_outputs, n))
        y = np.empty(n)
        for j in range(n_outputs):
            for p in range(n):
                y[p] = stats_node[start + p, 1 + j]
            idx = np.argsort(y)
            for k in range(n):
                ranks[j, idx[k]] = k
                sorted_y[j, k] = y[idx[k]]
        bit_w = np.empty(n + 1)
        bit_wy = np.empty(n + 1)
        identity = np.arange(n)
        node_error = np.zeros(n)
        for j in range(n_outputs):
            _prefix_errors(identity, 0, n, ranks[j], sorted_y[j], w, bit_w, bit_wy, node_error)
        parent = node_error[n - 1]
        if parent <= _EPSILON * node_sums[1] * n_outputs:
            return  # a pure node
        counts = np.zeros(N_HIST_BINS, np.int64)
        weights = np.zeros(N_HIST_BINS)
        fwd = np.empty(n, np.int64)
        bwd = np.empty(n, np.int64)
        err_a = np.empty(n)
        err_b = np.empty(n)
        err_c = np.empty(n)
        err_d = np.empty(n)
        offsets = np.empty(N_HIST_BINS, np.int64)  # a present bin's next slot in bin order
        best_score = -np.inf
        n_pool = pool.shape[0]
        for i in range(n_pool):
            pool_order[i] = i
        n_visited = 0
        n_nonconstant = 0
        i = 0
        while i < n_pool and (n_visited < max_features or n_nonconstant == 0):
            pos = _draw_feature(rng_state, pool_order, i)
            i += 1
            if allowed[pos] == 0:
                continue
            n_visited += 1
            feature = pool[pos]
            counts[:] = 0
            weights[:] = 0.0
            for p in range(n):
                b = X_node[start + p, feature]
                counts[b] += 1
                weights[b] += w[p]
            n_present = 0
            for b in range(MISSING_BIN):
                if counts[b] > 0:
                    codes[n_present] = b
                    n_present += 1
            n_miss = counts[MISSING_BIN]
            has_missing = n_miss > 0
            if n_present + (1 if has_missing else 0) <= 1:
                continue
            n_nonconstant += 1
            # Rows in bin order, missing ones first (forward) / first of the reversed order.
            fill = n_miss
            for k in range(n_present):
                offsets[codes[k]] = fill
                fill += counts[codes[k]]
            miss_fill = 0
            for p in range(n):
                b = X_node[start + p, feature]
                if b == MISSING_BIN:
                    fwd[miss_fill] = p
                    bwd[miss_fill] = p
                    miss_fill += 1
                else:
                    fwd[offsets[b]] = p
                    offsets[b] += 1
            for p in range(n_miss, n):
                bwd[n - 1 - (p - n_miss)] = fwd[p]
            err_a[:] = 0.0
            err_b[:] = 0.0
            err_c[:] = 0.0
            err_d[:] = 0.0
            for j in range(n_outputs):
                # a: missing, then bins ascending; c: missing, then bins descending;
                # b / d: the same without the missing rows (only when there are some).
                _prefix_errors(fwd, 0, n, ranks[j], sorted_y[j], w, bit_w, bit_wy, err_a)
                _prefix_errors(bwd, 0, n, ranks[j], sorted_y[j], w, bit_w, bit_wy, err_c)
                if has_missing:
                    _prefix_errors(fwd, n_miss, n, ranks[j], sorted_y[j], w, bit_w, bit_wy,
                                   err_b)
                    _prefix_errors(bwd, n_miss, n, ranks[j], sorted_y[j], w, bit_w, bit_wy,
                                   err_d)
            first = 0
            last_idx = n_present - 1
            if random_splits:
                t, cut = _draw_threshold(rng_state, codes, n_present, representatives[feature],
                                         edges[feature])
                first = cut
                last_idx = cut
            w_miss = weights[MISSING_BIN]
            c_left = 0
            w_left = 0.0
            for k in range(first):
                c_left += counts[codes[k]]
                w_left += weights[codes[k]]
            for k in range(first, last_idx + 1):
                c_left += counts[codes[k]]
                w_left += weights[codes[k]]
                is_last = k == n_present - 1
                if is_last and not has_missing:
                    break
                for direction in range(2 if has_missing and not is_last else 1):
                    if direction == 0:
                        # NaN (if any) right.
                        n_l = c_left
                        wl = w_left
                        el = err_b[n_miss + c_left - 1] if has_missing else err_a[c_left - 1]
                        n_r = n - n_l
                        er = err_c[n_r - 1]
                    else:
                        n_l = c_left + n_miss
                        wl = w_left + w_miss
                        el = err_a[n_l - 1]
                        n_r = n - n_l
                        er = err_d[n_miss + n_r - 1]
                    wr = node_sums[1] - wl
                    if n_l < min_samples_leaf or n_r < min_samples_leaf:
                        continue
                    if min_weight_leaf > 0.0 and (wl < min_weight_leaf or wr < min_weight_leaf):
                        continue
                    score = -(el + er)
                    if score > best_score:
                        best_score = score
                        best_meta[0] = feature
                        best_meta[1] = MISSING_BIN if is_last else codes[k]
                        if has_missing:
                            best_meta[2] = direction
                        else:
                            best_meta[2] = 1 if 2 * n_l > n else 0
                        best_gain[0] = (parent + score) / n_outputs
                        if random_splits:
                            best_threshold[0] = t if not is_last else np.nan
        if best_meta[0] < 0:
            return
        # The winner's left sums, from its rows.
        feature = best_meta[0]
        split_bin = best_meta[1]
        best_left[:] = 0.0
        for p in range(n):
            b = X_node[start + p, feature]
            goes_left = b == MISSING_BIN and best_meta[2] == 1
            if b != MISSING_BIN and (split_bin == MISSING_BIN or b <= split_bin):
                goes_left = True
            if goes_left:
                best_left[0] += 1.0
                for c in range(stats_node.shape[1]):
                    best_left[1 + c] += stats_node[start + p, c]

    return find_absolute_error


_FIND_ABSOLUTE_ERROR = _make_find_absolute_error(False)
_FIND_RANDOM_ABSOLUTE_ERROR = _make_find_absolute_error(True)


def node_medians(left, leaf, Y, w):
    """Every node's weighted median per output and impurity (mean absolute error around it,
    averaged over outputs), from the rows of each node: left (n_nodes,) the grower's left
    children (-1 at leaves, right = left + 1), leaf (n_rows,) each row's leaf, Y (n_rows, J),
    w (n_rows,) > 0. Returns (values (n_nodes, J), impurity (n_nodes,), weight (n_nodes,)).

    The median is scikit-learn's (the first value whose cumulative weight exceeds half the
    node's weight, or the mid-point of two values when the cumulative weight reaches half
    exactly), found for all nodes at once: (node, y)-sorted pairs, one cumulative sum."""
    n_nodes = len(left)
    parent = np.full(n_nodes, -1, np.int64)
    split = np.flatnonzero(left >= 0)
    parent[left[split]] = split
    parent[left[split] + 1] = split
    # (node, row) for every node on each row's path.
    node_ids, row_ids = [], []
    cur = leaf.astype(np.int64)
    rows = np.arange(len(leaf))
    while len(cur):
        node_ids.append(cur)
        row_ids.append(rows)
        keep = parent[cur] >= 0
        cur, rows = parent[cur][keep], rows[keep]
    node_ids = np.concatenate(node_ids)
    row_ids = np.concatenate(row_ids)
    weight = np.bincount(node_ids, weights=w[row_ids], minlength=n_nodes)
    values = np.zeros((n_nodes, Y.shape[1]))
    errors = np.zeros(n_nodes)
    for j in range(Y.shape[1]):
        order = np.lexsort((Y[row_ids, j], node_ids))
        node_sorted = node_ids[order]
        y_sorted = Y[row_ids[order], j]
        w_sorted = w[row_ids[order]]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(node_sorted)) + 1))
        sizes = np.diff(np.append(starts, len(order)))
        group_nodes = node_sorted[starts]
        cum = np.cumsum(w_sorted)
        # Within-group cumulative weights (exact for integer weights: bootstrap counts).
        within = cum - np.repeat(np.where(starts > 0, cum[starts - 1], 0.0), sizes)
        half = 0.5 * weight[group_nodes]
        # Each group's first pair above half: within grows along a group, so it comes after
        # the group's pairs at or below half (the last pair is above: weights are > 0).
        first_above = starts + np.add.reduceat(
            (within <= np.repeat(half, sizes)).astype(np.int64), starts)
        prev = np.maximum(first_above - 1, 0)
        exact = (first_above > starts) & (within[prev] == half)
        median = np.where(exact, 0.5 * (y_sorted[prev] + y_sorted[first_above]),
                          y_sorted[first_above])
        values[group_nodes, j] = median
        abs_dev = w_sorted * np.abs(y_sorted - np.repeat(median, sizes))
        errors[group_nodes] += np.add.reduceat(abs_dev, starts)
    impurity = errors / (np.where(weight > 0, weight, 1.0) * Y.shape[1])
    return values, impurity, weight
