"""Exact greedy growth for the booster's tree_method="exact": XGBoost's column blocks.

Each feature's non-missing values are sorted once per fit (`SortedColumns`: row ids in ascending
value order, CSC-like) and reused by every node of every round. A tree grows level by level: every
row knows its open node (`row_slot`), and one forward pass over a sorted column accumulates the
left sums of all open nodes at once (missing values on the right), one backward pass their right
sums (missing values on the left), scoring every boundary between two distinct values:

    column f, sorted:  v0 v0 v1 | v2 v2 v3 ...      rows of nodes a, b, c interleaved
                               ^ candidate "x <= (v1 + v2) / 2" for the node of these rows

Features are scanned in parallel, each into its own slots of the OUT arrays; the winner of a node
is then taken in feature order, so trees do not depend on the thread count. Thresholds are the
midpoints between distinct training values (as the hist method's edges when a feature has at most
max_bin values, so both methods grow the same trees on such data).
"""

import numpy as np
from numba import njit, prange

from ._criterion import _second_order_loss, _second_order_split_score
from ._tree import Tree
from ._types import CRITERION_SECOND_ORDER, PARAM_ALPHA, PARAM_MAX_DELTA_STEP, TREE_LEAF


class SortedColumns:
    """Every feature's non-missing rows sorted by value, once per fit.

    Attributes
    ----------
    ptr : ndarray (n_features + 1,) int64; feature f's entries are ptr[f]:ptr[f + 1].
    rows : ndarray (n_entries,) int32, row ids in ascending value order per feature.
    values : ndarray (n_entries,) float64, the values in that order (NaN left out).
    """

    def __init__(self, X):
        counts = (~np.isnan(X)).sum(axis=0)
        self.ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.rows = np.empty(self.ptr[-1], dtype=np.int32)
        self.values = np.empty(self.ptr[-1])
        for f in range(X.shape[1]):
            column = X[:, f]
            present = np.flatnonzero(~np.isnan(column))
            order = present[np.argsort(column[present], kind="stable")]
            self.rows[self.ptr[f]:self.ptr[f + 1]] = order
            self.values[self.ptr[f]:self.ptr[f + 1]] = column[order]


@njit(cache=True, nogil=True, inline="always")
def _consider(f, s, n_left, g_left, h_left, threshold, missing_left, slot_sums, params, plain,
              min_child_weight, best_score, best_threshold, best_missing_left, best_left):
    """Score the candidate of node slot s on feature f with left sums (n, G, H) (in); keep it in
    best_*[f, s] (in/out) when both children hold min_child_weight and it beats the best."""
    g_right = slot_sums[s, 1] - g_left
    h_right = slot_sums[s, 2] - h_left
    if h_left < min_child_weight or h_right < min_child_weight:
        return
    score = _second_order_split_score(g_left, h_left, g_right, h_right, params, plain)
    if score > best_score[f, s]:
        best_score[f, s] = score
        best_threshold[f, s] = threshold
        best_missing_left[f, s] = missing_left
        best_left[f, s, 0] = n_left
        best_left[f, s, 1] = g_left
        best_left[f, s, 2] = h_left


@njit(cache=True, nogil=True, parallel=True)
def _level_best_splits(ptr, col_rows, col_values, row_slot, stats, slot_sums, allowed, params,
                       min_child_weight, best_score, best_threshold, best_missing_left,
                       best_left):
    """Best split of every open node on every feature (one level of the tree).

    ptr, col_rows, col_values: SortedColumns (in); row_slot (n_samples,) int32 (in): the open
    node (slot) of each row, -1 for rows outside the tree or in closed leaves; stats
    (n_samples, 2) float64 (in): weighted g, h; slot_sums (S, 3) (in): count, G, H of each open
    node over all its rows (missing included); allowed (S, n_features) uint8 (in): features each
    node may split on; params (lambda, alpha, max_delta_step); min_child_weight bounds H.
    best_score, best_threshold (n_features, S) float64, best_missing_left (n_features, S)
    uint8, best_left (n_features, S, 3) float64: OUT, per feature and node (score -inf: none).
    """
    n_features = ptr.shape[0] - 1
    n_slots = slot_sums.shape[0]
    plain = params[PARAM_ALPHA] == 0.0 and params[PARAM_MAX_DELTA_STEP] == 0.0
    for f in prange(n_features):
        cnt = np.zeros(n_slots)
        g = np.zeros(n_slots)
        h = np.zeros(n_slots)
        last = np.zeros(n_slots)
        for s in range(n_slots):
            best_score[f, s] = -np.inf
        # Forward: running left sums; missing values stay on the right.
        for k in range(ptr[f], ptr[f + 1]):
            r = col_rows[k]
            s = row_slot[r]
            if s < 0 or allowed[s, f] == 0:
                continue
            v = col_values[k]
            if cnt[s] > 0.0 and v != last[s]:
                _consider(f, s, cnt[s], g[s], h[s], 0.5 * (last[s] + v), 0, slot_sums, params,
                          plain, min_child_weight, best_score, best_threshold,
                          best_missing_left, best_left)
            cnt[s] += 1.0
            g[s] += stats[r, 0]
            h[s] += stats[r, 1]
            last[s] = v
        # Every non-missing value left, the missing ones right (threshold +inf), as the hist
        # method's missing-bin split.
        present = cnt.copy()
        for s in range(n_slots):
            if 0.0 < cnt[s] < slot_sums[s, 0]:
                _consider(f, s, cnt[s], g[s], h[s], np.inf, 0, slot_sums, params, plain,
                          min_child_weight, best_score, best_threshold, best_missing_left,
                          best_left)
        # Backward: running right sums; missing values join the left.
        cnt[:] = 0.0
        g[:] = 0.0
        h[:] = 0.0
        for k in range(ptr[f + 1] - 1, ptr[f] - 1, -1):
            r = col_rows[k]
            s = row_slot[r]
            if s < 0 or allowed[s, f] == 0:
                continue
            v = col_values[k]
            if cnt[s] > 0.0 and v != last[s]:
                _consider(f, s, slot_sums[s, 0] - cnt[s], slot_sums[s, 1] - g[s],
                          slot_sums[s, 2] - h[s], 0.5 * (v + last[s]), 1, slot_sums, params,
                          plain, min_child_weight, best_score, best_threshold,
                          best_missing_left, best_left)
            cnt[s] += 1.0
            g[s] += stats[r, 0]
            h[s] += stats[r, 1]
            last[s] = v
        # A node without missing values in this feature sends NaN (at predict time) to the
        # child with more rows (right on a tie), as the hist method does.
        for s in range(n_slots):
            if best_score[f, s] > -np.inf and present[s] == slot_sums[s, 0]:
                best_missing_left[f, s] = 1 if 2.0 * best_left[f, s, 0] > slot_sums[s, 0] else 0


@njit(cache=True, nogil=True)
def _route_rows(X, rows, position, split_feature, split_threshold, split_missing_left,
                split_left, row_slot, child_slot):
    """Send the rows of the nodes split this level to their children (position in/out) and give
    every row its next-level slot (row_slot out; child_slot (n_nodes,) int32 in: slot of each
    node at the next level, -1 if it will not be split further)."""
    for i in range(rows.shape[0]):
        r = rows[i]
        node = position[r]
        f = split_feature[node]
        if f >= 0:
            v = X[r, f]
            if np.isnan(v):
                go_left = split_missing_left[node] == 1
            else:
                go_left = v <= split_threshold[node]
            node = split_left[node] + (0 if go_left else 1)
            position[r] = node
        row_slot[r] = child_slot[node]


@njit(cache=True, nogil=True)
def _node_sums(rows, position, stats, sums):
    """sums (n_nodes, 3) (out): row count, G, H of each node's rows (leaves of this tree)."""
    for i in range(rows.shape[0]):
        r = rows[i]
        p = position[r]
        sums[p, 0] += 1.0
        sums[p, 1] += stats[r, 0]
        sums[p, 2] += stats[r, 1]


def grow_tree_exact(columns, X, stats, rows, *, params, max_depth=None, min_weight_leaf=0.0,
                    min_gain=0.0, feature_pool=None, level_masks=None, max_features=None,
                    seed=0, **ignored):
    """Grow one tree with the exact greedy search; returns (Tree, leaf of every sample (-1 for
    samples not in rows)), as grow_tree(..., return_leaves=True).

    columns : SortedColumns of X; X (n_samples, n_features) float64 raw (NaN missing);
    stats (n_samples, 2): weighted gradients and hessians; rows: the rows of this tree.
    params (lambda, alpha, max_delta_step); min_weight_leaf = min_child_weight; a node splits
    when its best gain >= min_gain. feature_pool / level_masks / max_features: the features a
    node may use, as grow_tree's (colsample_bytree / bylevel / bynode).
    """
    n_samples, n_features = X.shape
    stats = np.ascontiguousarray(stats, dtype=np.float64)
    params = np.asarray(params, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int32)
    pool = np.arange(n_features) if feature_pool is None else np.asarray(feature_pool)
    max_depth = np.iinfo(np.int32).max if max_depth is None else max_depth
    rng = np.random.default_rng(seed)

    position = np.full(n_samples, -1, dtype=np.int32)
    position[rows] = 0
    row_slot = np.full(n_samples, -1, dtype=np.int32)
    row_slot[rows] = 0
    root = np.zeros((1, 3))
    _node_sums(rows, position, stats, root)
    sums = [root[0]]
    feature, threshold, missing_left, left, depth = [-1], [np.inf], [0], [TREE_LEAF], [0]
    open_nodes = [0] if max_depth > 0 else []
    level = 0
    while open_nodes:
        S = len(open_nodes)
        slot_sums = np.array([sums[node] for node in open_nodes])
        allowed = np.zeros((S, n_features), dtype=np.uint8)
        level_pool = pool if level_masks is None else pool[
            level_masks[min(level, len(level_masks) - 1)]]
        n_draw = len(level_pool) if max_features is None else min(int(max_features),
                                                                   len(level_pool))
        for s in range(S):
            drawn = (level_pool if n_draw == len(level_pool)
                     else rng.choice(level_pool, n_draw, replace=False))
            allowed[s, drawn] = 1
        best_score = np.empty((n_features, S))
        best_threshold = np.empty((n_features, S))
        best_missing_left = np.zeros((n_features, S), dtype=np.uint8)
        best_left = np.empty((n_features, S, 3))
        _level_best_splits(columns.ptr, columns.rows, columns.values, row_slot, stats, slot_sums,
                           allowed, params, float(min_weight_leaf), best_score, best_threshold,
                           best_missing_left, best_left)
        split_feature = np.full(len(feature), -1, dtype=np.int32)
        split_threshold = np.zeros(len(feature))
        split_missing_left = np.zeros(len(feature), dtype=np.uint8)
        split_left = np.zeros(len(feature), dtype=np.int32)
        next_open = []
        for s, node in enumerate(open_nodes):
            f = int(np.argmax(best_score[:, s]))          # first feature on ties
            if best_score[f, s] == -np.inf:
                continue
            gain = best_score[f, s] + _second_order_loss(sums[node][1], sums[node][2], params)
            if gain < min_gain:
                continue
            l_sums = best_left[f, s].copy()
            r_sums = sums[node] - l_sums
            child = len(feature)
            feature[node], threshold[node] = f, best_threshold[f, s]
            missing_left[node], left[node] = int(best_missing_left[f, s]), child
            split_feature[node], split_threshold[node] = f, best_threshold[f, s]
            split_missing_left[node], split_left[node] = best_missing_left[f, s], child
            for child_sums in (l_sums, r_sums):
                sums.append(child_sums)
                feature.append(-1)
                threshold.append(np.inf)
                missing_left.append(0)
                left.append(TREE_LEAF)
                depth.append(depth[node] + 1)
                if depth[node] + 1 < max_depth:
                    next_open.append(len(feature) - 1)
        child_slot = np.full(len(feature), -1, dtype=np.int32)
        child_slot[next_open] = np.arange(len(next_open), dtype=np.int32)
        _route_rows(X, rows, position, split_feature, split_threshold, split_missing_left,
                    split_left, row_slot, child_slot)
        open_nodes = next_open
        level += 1

    left_arr = np.asarray(left, dtype=np.int32)
    right_arr = np.where(left_arr == TREE_LEAF, TREE_LEAF, left_arr + 1).astype(np.int32)
    tree = Tree.from_arrays(np.asarray(feature, dtype=np.int32), np.asarray(threshold),
                            np.asarray(missing_left, dtype=np.uint8), left_arr, right_arr,
                            np.array(sums), np.asarray(depth), CRITERION_SECOND_ORDER, params)
    leaf = np.full(n_samples, -1, dtype=np.int32)
    leaf[rows] = position[rows]
    return tree, leaf
