"""Grows one tree: the node loop, row partitioning and stopping rules.

The estimators call `grow_tree` with binned X and per-sample channels; it returns a `Tree` with real
thresholds. The node loop itself is one @njit kernel (`_grow`), not Python: a full-depth forest
tree has ~10^4 nodes, and ~20 us of Python per node would cost more than the histograms. Nodes are
expanded depth-first (a stack) or, with max_leaf_nodes, best-first (the pending leaf of largest
gain). Each node owns a contiguous slice start:end of three node-ordered arrays, the row ids, a
copy of their binned codes and a copy of their channels; a split partitions all three stably, so
histogram passes read memory sequentially:

    rows / X_node / stats_node: [ .... node ........ ]  ->  [ .. left .. | .. right .. ]
"""

import numpy as np
from numba import njit, prange
from numba.typed import List

from ._criterion import _node_weight, _weighted_impurity
from ._histogram import (
    PREFETCH_AHEAD,
    _build_histogram,
    _build_histogram_rows,
    _histogram_scratch,
    _prefetch,
    _row_blocks,
    _subtract_histograms,
)
from ._random import new_rng_state
from ._splitter import _find_best_split, feature_scan_buffers
from ._tree import Tree
from ._types import (
    CRITERION_SECOND_ORDER,
    INDEX_DTYPE,
    MAX_BINS,
    MISSING_BIN,
    N_HIST_BINS,
    TREE_LEAF,
)

# Impurity at or below this is a pure node (scikit-learn's EPSILON).
_EPSILON = np.finfo(np.float64).eps
# Nodes with fewer rows use sparse per-feature histograms instead of full ones: building and
# scanning all 256 bins of every feature costs more than the rows themselves below this.
_FULL_HISTOGRAM_MIN_ROWS = 256
# Nodes of at least this many rows are partitioned over Numba's threads when the grower runs
# parallel (boosting), in blocks of _PARTITION_BLOCK rows. A node's scattered rows cost ~10 ns
# each to partition (a cache miss apiece), so even 8k-row nodes gain (400k x 28, depth 6: the
# partitions of levels 3-5, 4.4 -> 3.1 ms each, with the threshold lowered from 64k).
_PARALLEL_PARTITION_MIN_ROWS = 8192
_PARTITION_BLOCK = 4096
# Node slots allocated at first; doubled when a split needs more.
_INITIAL_NODE_CAPACITY = 1023


@njit(cache=True, nogil=True, inline="always")
def _doubled(a, fill):
    """a with its first axis doubled, the new part set to fill."""
    return np.concatenate((a, np.full_like(a, fill)))


@njit(cache=True, nogil=True)
def _gather_rows(X_binned, stats, rows, X_node, stats_node):
    """X_node[i] = X_binned[rows[i]], stats_node[i] = stats[rows[i]] (out: X_node, stats_node)."""
    for i in range(rows.shape[0]):
        r = rows[i]
        for f in range(X_binned.shape[1]):
            X_node[i, f] = X_binned[r, f]
        for c in range(stats.shape[1]):
            stats_node[i, c] = stats[r, c]


@njit(cache=True, nogil=True, inline="always")
def _goes_left(code, split_bin, missing_left):
    """The split rule: code <= split_bin goes left, the missing bin to its learned side."""
    return missing_left if code == MISSING_BIN else code <= split_bin


@njit(cache=True, nogil=True)
def _partition_rows(rows, X_binned, tmp_rows, start, end, feature, split_bin, missing_left):
    """Stable partition of rows[start:end] (in/out) by the split, reading codes through the row
    ids (no node-ordered copy moves). Returns where the right child starts. Branch-free: every
    row is written to both sides and only the counters advance (the side of a row is a coin
    flip for the branch predictor; 1.7x faster on 230k rows)."""
    n_left = start
    n_right = 0
    for i in range(start, end):
        if i + PREFETCH_AHEAD < end:
            _prefetch(X_binned, rows[i + PREFETCH_AHEAD], feature)
        r = rows[i]
        b = X_binned[r, feature]
        goes_left = _goes_left(b, split_bin, missing_left)
        rows[n_left] = r
        tmp_rows[n_right] = r
        n_left += goes_left
        n_right += 1 - goes_left
    rows[n_left:end] = tmp_rows[:n_right]
    return n_left


@njit(cache=True, nogil=True, parallel=True)
def _partition_rows_parallel(rows, X_binned, tmp_rows, flags, start, end, feature, split_bin,
                             missing_left):
    """_partition_rows over Numba's threads, with the same result (the stable partition is
    unique, so it does not depend on the thread count): each block of _PARTITION_BLOCK rows
    reads its rows' codes (the scattered reads, all the cost) into side flags and counts its
    left rows; then each block writes its rows at its offsets, from the prefix sums of the
    counts. Measured at 400k rows, depth 6: partitions were a quarter of a boosting round.
    flags: scratch of at least end - start bytes."""
    n = end - start
    n_blocks = (n + _PARTITION_BLOCK - 1) // _PARTITION_BLOCK
    goes_left = flags
    n_left = np.empty(n_blocks, np.int64)
    for k in prange(n_blocks):
        lo = start + k * _PARTITION_BLOCK
        hi = min(end, lo + _PARTITION_BLOCK)
        count = 0
        for i in range(lo, hi):
            if i + PREFETCH_AHEAD < hi:
                _prefetch(X_binned, rows[i + PREFETCH_AHEAD], feature)
            b = X_binned[rows[i], feature]
            side = _goes_left(b, split_bin, missing_left)
            goes_left[i - start] = side
            count += side
        n_left[k] = count
    left_at = np.empty(n_blocks, np.int64)
    right_at = np.empty(n_blocks, np.int64)
    mid = start + n_left.sum()
    next_left = start
    next_right = mid
    for k in range(n_blocks):
        left_at[k] = next_left
        right_at[k] = next_right
        next_left += n_left[k]
        next_right += min(_PARTITION_BLOCK, end - start - k * _PARTITION_BLOCK) - n_left[k]
    for k in prange(n_blocks):
        lo = start + k * _PARTITION_BLOCK
        hi = min(end, lo + _PARTITION_BLOCK)
        at_left = left_at[k]
        at_right = right_at[k]
        for i in range(lo, hi):
            side = goes_left[i - start]
            tmp_rows[at_left if side else at_right] = rows[i]
            at_left += side
            at_right += 1 - side
    for k in prange(n_blocks):
        lo = start + k * _PARTITION_BLOCK
        hi = min(end, lo + _PARTITION_BLOCK)
        rows[lo:hi] = tmp_rows[lo:hi]
    return mid


def _make_assign_leaves(parallel):
    """The last split of a branch (both children final leaves) in gather mode: each row's leaf
    written straight into leaf_out (out), and the rows counted instead of moved; returns where
    the right child would start. Saves the partition's writes and a later pass over those
    rows (most of a depth-limited tree's rows end at its last level)."""

    @njit(cache=True, nogil=True, parallel=parallel)
    def assign(rows, X_binned, start, end, feature, split_bin, missing_left, l_node, r_node,
               leaf_out):
        n_left = 0
        for i in prange(start, end):
            r = rows[i]
            side = _goes_left(X_binned[r, feature], split_bin, missing_left)
            leaf_out[r] = l_node if side else r_node
            n_left += 1 if side else 0
        return start + n_left

    return assign


_assign_leaves = _make_assign_leaves(False)
_assign_leaves_parallel = _make_assign_leaves(True)


@njit(cache=True, nogil=True)
def _partition(rows, X_node, stats_node, tmp_rows, tmp_X, tmp_stats, start, end, feature,
               split_bin, missing_left, rows_only):
    """Stable in-place partition of the node start:end of rows, X_node and stats_node (in/out)
    by the split; tmp_* are scratch of the same shapes. Returns where the right child starts.
    rows_only: move the row ids only (the children are final leaves: nothing reads their X_node
    or stats_node again), which saves most of the partition's cost at the last level."""
    if rows_only:
        n_left = start
        n_right = 0
        for i in range(start, end):
            b = X_node[i, feature]
            if _goes_left(b, split_bin, missing_left):
                rows[n_left] = rows[i]
                n_left += 1
            else:
                tmp_rows[n_right] = rows[i]
                n_right += 1
        rows[n_left:end] = tmp_rows[:n_right]
        return n_left
    n_left = start
    n_right = 0
    # Rows move as 8-byte words: X_node's rows are padded to a multiple of 8 codes (_grow).
    words = X_node.view(np.uint64)
    tmp_words = tmp_X.view(np.uint64)
    n_words = words.shape[1]
    n_channels = stats_node.shape[1]
    for i in range(start, end):
        b = X_node[i, feature]
        goes_left = _goes_left(b, split_bin, missing_left)
        if goes_left:
            if n_left != i:
                rows[n_left] = rows[i]
                for w in range(n_words):
                    words[n_left, w] = words[i, w]
                for c in range(n_channels):
                    stats_node[n_left, c] = stats_node[i, c]
            n_left += 1
        else:
            tmp_rows[n_right] = rows[i]
            for w in range(n_words):
                tmp_words[n_right, w] = words[i, w]
            for c in range(n_channels):
                tmp_stats[n_right, c] = stats_node[i, c]
            n_right += 1
    for k in range(n_right):
        rows[n_left + k] = tmp_rows[k]
        for w in range(n_words):
            words[n_left + k, w] = tmp_words[k, w]
        for c in range(n_channels):
            stats_node[n_left + k, c] = tmp_stats[k, c]
    return n_left


@njit(cache=True, nogil=True)
def _grow(X_binned, stats, rows, pool, level_masks, level_max_features, representatives, edges,
          criterion, params,
          max_depth, min_samples_split, min_samples_leaf, min_weight_leaf, min_gain,
          max_leaf_nodes, random_splits, rng_state, parallel, gather, tmp_rows, flags, scratch,
          leaf_out):
    """Grow one tree over rows (in/out: reordered so every leaf's rows are contiguous, except
    the children of a split whose rows _make_assign_leaves wrote into leaf_out unmoved).

    X_binned (n_samples, n_features) uint8; stats (n_samples, C) float64 per-sample channels;
    rows (n_rows,) int32 the rows in the tree (positive weight); pool (n_pool,) int32 features the
    tree may use; level_masks (n_levels, n_pool) uint8: the pool features nodes at depth d may
    use (row min(d, n_levels - 1)), of which level_max_features[d] are drawn per node;
    max_leaf_nodes > 0 selects best-first.
    A node is split when its best gain >= min_gain. gather: keep no node-ordered copies; every
    node gets a full histogram read through its row ids and splits move row ids only.
    representatives / edges (n_features, MAX_BINS): the binner's, for extra-trees thresholds.
    tmp_rows (>= n_rows,) int32, flags (>= n_rows,) uint8: scratch of the partitions;
    scratch: of the histogram kernels, used when its shape fits (_histogram_scratch), else
    replaced (see GrowBuffers).
    leaf_out (n_samples,) int32 (out) or empty: each sample's leaf, -1 for samples not in rows
    (gather mode writes the last level's leaves during its splits, see _make_assign_leaves).
    Returns node arrays: feature, bin, drawn threshold (NaN: the bin's edge), missing_left, left,
    right, sums (n_nodes, 1 + C), gain, depth; the scratch.
    """
    n_rows = rows.shape[0]
    n_slots = stats.shape[1] + 1
    n_pool = pool.shape[0]
    # Node slots: a tree has at most 2 n_rows - 1 nodes (fewer under max_leaf_nodes/max_depth),
    # but a full-depth forest tree uses a tenth of that, so start small and double on demand
    # (~150 bytes a slot: the worst case would dominate a forest's peak memory).
    max_nodes = max(2 * n_rows - 1, 1)
    if max_leaf_nodes > 0:
        max_nodes = min(max_nodes, 2 * max_leaf_nodes - 1)
    if max_depth < 31:
        max_nodes = min(max_nodes, 2 ** (max_depth + 1) - 1)
    capacity = min(max_nodes, _INITIAL_NODE_CAPACITY)

    start = np.empty(capacity, np.int64)
    end = np.empty(capacity, np.int64)
    depth = np.empty(capacity, np.int64)
    sums = np.zeros((capacity, n_slots))
    feature = np.full(capacity, TREE_LEAF, np.int32)
    split_bin = np.zeros(capacity, np.int32)
    missing_left = np.zeros(capacity, np.uint8)
    left = np.full(capacity, TREE_LEAF, np.int32)
    right = np.full(capacity, TREE_LEAF, np.int32)
    gain = np.zeros(capacity)
    assigned = np.zeros(capacity, np.uint8)  # leaves whose rows leaf_out already holds
    cand_gain = np.full(capacity, -np.inf)
    cand_meta = np.zeros((capacity, 3), np.int64)
    cand_left = np.zeros((capacity, n_slots))
    cand_threshold = np.full(capacity, np.nan)
    drawn_threshold = np.full(capacity, np.nan)

    scratch_hist = np.zeros((N_HIST_BINS, n_slots))
    touched = np.empty(N_HIST_BINS, np.int32)
    codes = np.empty(N_HIST_BINS, np.int32)
    pool_order = np.empty(n_pool, np.int32)
    # Node-ordered copies of the tree's rows (see module doc) and the partition's scratch.
    n_copied = 0 if gather else n_rows
    # Rows padded to a multiple of 8 codes, so that _partition moves them as 8-byte words.
    X_node = np.empty((n_copied, (X_binned.shape[1] + 7) // 8 * 8), np.uint8)
    stats_node = np.empty((n_copied, n_slots - 1))
    # Subtraction needs every node to see every pool feature; extra-trees never builds full ones
    # (unless gathering, where every node has a full histogram of the pool).
    every_feature = level_masks.shape[0] == 1 and level_max_features[0] >= n_pool
    for k in range(n_pool):
        every_feature = every_feature and level_masks[0, k] == 1
    use_subtraction = gather or (every_feature and not random_splits)
    # Countless histograms: a second-order tree in gather mode keeps (g, h) per bin and no row
    # count, one 16-byte add per (row, feature) instead of 24 bytes (1.4-1.8x faster
    # histograms, the bulk of a boosting round). Nothing needs the count: min_samples_leaf <= 1
    # holds between present bins, the children's counts come from the partition, and a node
    # without NaN sends NaN right as xgboost does (see _splitter._record_best).
    countless = (gather and criterion == CRITERION_SECOND_ORDER and min_samples_leaf <= 1
                 and not random_splits)
    hist_slots = n_slots - 1 if countless else n_slots
    # With a full root histogram nothing reads the root's node-ordered copy: build the histogram
    # through `rows` and fill X_node/stats_node after the root split, already in child order
    # (or never, when the children are final leaves: a stump moves no data at all).
    lazy_root = gather or (use_subtraction and n_rows >= _FULL_HISTOGRAM_MIN_ROWS)
    if not lazy_root:
        _gather_rows(X_binned, stats, rows, X_node, stats_node)
    tmp_X = np.empty_like(X_node)
    tmp_stats = np.empty_like(stats_node)
    cum = np.empty(n_slots)
    lbuf = np.empty(n_slots)
    rbuf = np.empty(n_slots)
    best_gain = np.empty(1)
    best_meta = np.empty(3, np.int64)
    best_left = np.empty(n_slots)
    best_threshold = np.empty(1)

    # The threaded split scan's buffers, when growing in parallel with full histograms.
    per_feature = feature_scan_buffers(n_pool if parallel and use_subtraction else 0, n_slots)
    no_hist = np.zeros((0, 0, 0))
    hists = List()

    def evaluate(node, node_hist):
        n = end[node] - start[node]
        w = _node_weight(sums[node], criterion)
        if (depth[node] >= max_depth or n < min_samples_split or n < 2 * min_samples_leaf
                or w < 2.0 * min_weight_leaf):
            return
        if criterion != CRITERION_SECOND_ORDER:
            if w <= 0.0 or _weighted_impurity(sums[node], criterion, params) / w <= _EPSILON:
                return
        level = min(depth[node], level_masks.shape[0] - 1)
        _find_best_split(X_node, stats_node, start[node], end[node], sums[node], node_hist,
                         pool, level_masks[level], pool_order, level_max_features[level],
                         representatives, edges, criterion,
                         params, min_samples_leaf, min_weight_leaf, random_splits, rng_state,
                         scratch_hist, touched, codes, cum, lbuf, rbuf, best_gain, best_meta,
                         best_left, best_threshold, per_feature)
        if best_meta[0] >= 0 and best_gain[0] >= min_gain:
            cand_gain[node] = best_gain[0]
            cand_meta[node, :] = best_meta
            cand_left[node, :] = best_left
            cand_threshold[node] = best_threshold[0]

    if n_rows < leaf_out.shape[0]:
        leaf_out[:] = -1
    # Root.
    start[0] = 0
    end[0] = n_rows
    depth[0] = 0
    for i in range(n_rows):
        sums[0, 0] += 1.0
        for c in range(n_slots - 1):
            sums[0, 1 + c] += stats[rows[i], c]
    root_hist = no_hist
    # Scratch of the blocked row-gather kernel and a free list of node histograms, reused for
    # the whole tree (fresh large arrays per node cost page faults, ~20% of a 400k-row tree).
    free_hists = List()
    free_hists.append(no_hist)
    if lazy_root:
        root_hist = np.zeros((n_pool, N_HIST_BINS, hist_slots))
        if (scratch.shape[0] < _row_blocks(n_rows)[1] or scratch.shape[1] != n_pool
                or scratch.shape[3] != hist_slots):
            scratch = _histogram_scratch(n_rows, n_pool, hist_slots)
        _build_histogram_rows(X_binned, stats, rows, pool, root_hist, parallel, scratch)
    hists.append(root_hist)
    evaluate(0, root_hist)
    n_nodes = 1
    n_leaves = 1
    pending = np.empty(capacity, np.int64)
    n_pending = 0
    if cand_gain[0] > -np.inf:
        pending[0] = 0
        n_pending = 1

    while n_pending > 0:
        if max_leaf_nodes > 0:
            if n_leaves >= max_leaf_nodes:
                break
            # Best-first: the pending leaf with the largest gain (first one on ties).
            k_best = 0
            for k in range(1, n_pending):
                if cand_gain[pending[k]] > cand_gain[pending[k_best]]:
                    k_best = k
            node = pending[k_best]
            for k in range(k_best, n_pending - 1):
                pending[k] = pending[k + 1]
        else:
            node = pending[n_pending - 1]
        n_pending -= 1

        f = cand_meta[node, 0]
        # Children at max_depth are never split: they need no histogram and no data moved.
        children_split = depth[node] + 1 < max_depth
        if gather and not children_split and leaf_out.shape[0] > 0:
            if parallel and end[node] - start[node] >= _PARALLEL_PARTITION_MIN_ROWS:
                mid = _assign_leaves_parallel(rows, X_binned, start[node], end[node], f,
                                              cand_meta[node, 1], cand_meta[node, 2] == 1,
                                              n_nodes, n_nodes + 1, leaf_out)
            else:
                mid = _assign_leaves(rows, X_binned, start[node], end[node], f,
                                     cand_meta[node, 1], cand_meta[node, 2] == 1, n_nodes,
                                     n_nodes + 1, leaf_out)
            assigned[node] = 2  # its children's rows: see below
        elif gather or (node == 0 and lazy_root):
            if parallel and end[node] - start[node] >= _PARALLEL_PARTITION_MIN_ROWS:
                mid = _partition_rows_parallel(rows, X_binned, tmp_rows, flags, start[node],
                                               end[node], f, cand_meta[node, 1],
                                               cand_meta[node, 2] == 1)
            else:
                mid = _partition_rows(rows, X_binned, tmp_rows, start[node], end[node], f,
                                      cand_meta[node, 1], cand_meta[node, 2] == 1)
            if children_split and not gather:
                _gather_rows(X_binned, stats, rows, X_node, stats_node)
        else:
            mid = _partition(rows, X_node, stats_node, tmp_rows, tmp_X, tmp_stats, start[node],
                             end[node], f, cand_meta[node, 1], cand_meta[node, 2] == 1,
                             not children_split)
        feature[node] = f
        split_bin[node] = cand_meta[node, 1]
        drawn_threshold[node] = cand_threshold[node]
        missing_left[node] = cand_meta[node, 2]
        gain[node] = cand_gain[node]
        if n_nodes + 2 > capacity:
            capacity *= 2
            start = _doubled(start, 0)
            end = _doubled(end, 0)
            depth = _doubled(depth, 0)
            sums = _doubled(sums, 0.0)
            feature = _doubled(feature, TREE_LEAF)
            split_bin = _doubled(split_bin, 0)
            missing_left = _doubled(missing_left, 0)
            left = _doubled(left, TREE_LEAF)
            right = _doubled(right, TREE_LEAF)
            gain = _doubled(gain, 0.0)
            cand_gain = _doubled(cand_gain, -np.inf)
            cand_meta = _doubled(cand_meta, 0)
            cand_left = _doubled(cand_left, 0.0)
            cand_threshold = _doubled(cand_threshold, np.nan)
            drawn_threshold = _doubled(drawn_threshold, np.nan)
            pending = _doubled(pending, 0)
            assigned = _doubled(assigned, 0)
        l_node = n_nodes
        r_node = n_nodes + 1
        n_nodes += 2
        n_leaves += 1
        left[node] = l_node
        right[node] = r_node
        if assigned[node] == 2:
            assigned[node] = 0
            assigned[l_node] = 1
            assigned[r_node] = 1
        start[l_node] = start[node]
        end[l_node] = mid
        start[r_node] = mid
        end[r_node] = end[node]
        depth[l_node] = depth[node] + 1
        depth[r_node] = depth[node] + 1
        sums[l_node, :] = cand_left[node]
        for c in range(n_slots):
            sums[r_node, c] = sums[node, c] - cand_left[node, c]
        # Counts from the partition: exact (not a float difference), and countless
        # histograms have none.
        sums[l_node, 0] = end[l_node] - start[l_node]
        sums[r_node, 0] = end[r_node] - start[r_node]

        l_hist = no_hist
        r_hist = no_hist
        parent_hist = hists[node]
        n_l = mid - start[node]
        n_r = end[node] - mid
        reused = False
        if (parent_hist.shape[0] > 0 and children_split
                and (gather or max(n_l, n_r) >= _FULL_HISTOGRAM_MIN_ROWS)):
            if len(free_hists) > 1:
                small_hist = free_hists.pop()
                small_hist[:] = 0.0
            else:
                small_hist = np.zeros_like(parent_hist)
            reused = True
            small, small_end = (l_node, mid) if n_l <= n_r else (r_node, end[node])
            if gather:
                _build_histogram_rows(X_binned, stats, rows[start[small]:small_end], pool,
                                      small_hist, parallel, scratch)
            else:
                _build_histogram(X_node, stats_node, start[small], small_end, pool, small_hist,
                                 parallel)
            # The larger child's histogram = parent - smaller, in the parent's buffer.
            _subtract_histograms(parent_hist, small_hist, parent_hist)
            l_hist, r_hist = ((small_hist, parent_hist) if small == l_node
                              else (parent_hist, small_hist))
        hists[node] = no_hist
        if parent_hist.shape[0] > 0 and not reused:
            free_hists.append(parent_hist)
        hists.append(l_hist)
        hists.append(r_hist)
        evaluate(l_node, l_hist)
        evaluate(r_node, r_hist)
        # Right pushed first so the left child is expanded first (depth-first order).
        if cand_gain[r_node] > -np.inf:
            pending[n_pending] = r_node
            n_pending += 1
        else:
            if r_hist.shape[0] > 0:
                free_hists.append(r_hist)
            hists[r_node] = no_hist
        if cand_gain[l_node] > -np.inf:
            pending[n_pending] = l_node
            n_pending += 1
        else:
            if l_hist.shape[0] > 0:
                free_hists.append(l_hist)
            hists[l_node] = no_hist

    if leaf_out.shape[0] > 0:
        # The other leaves: their rows are contiguous in rows.
        for node in range(n_nodes):
            if left[node] == TREE_LEAF and assigned[node] == 0:
                for i in range(start[node], end[node]):
                    leaf_out[rows[i]] = node
    return (feature[:n_nodes].copy(), split_bin[:n_nodes].copy(),
            drawn_threshold[:n_nodes].copy(), missing_left[:n_nodes].copy(),
            left[:n_nodes].copy(), right[:n_nodes].copy(), sums[:n_nodes].copy(),
            gain[:n_nodes].copy(), depth[:n_nodes].copy(), scratch)


class GrowBuffers:
    """The n-row arrays grow_tree needs, kept by a fit that grows one tree at a time (boosting)
    and handed to every grow_tree call: fresh arrays of n rows per tree are fresh mappings,
    whose page faults cost more than the work on them (~0.5 ms per MB on our machine).
    grow_tree's leaf output is `leaf`, overwritten by the next tree."""

    def __init__(self, n_samples):
        self.rows = np.empty(n_samples, INDEX_DTYPE)
        self.tmp_rows = np.empty(n_samples, INDEX_DTYPE)
        self.flags = np.empty(n_samples, np.uint8)
        self.leaf = np.empty(n_samples, np.int32)
        self.scratch = np.empty((0, 0, 0, 0))


def grow_tree(X_binned, stats, rows, bin_mapper, *, criterion, params=None, max_depth=None,
              min_samples_split=2, min_samples_leaf=1, min_weight_leaf=0.0, min_gain=0.0,
              max_features=None, feature_pool=None, max_leaf_nodes=None, splitter="best",
              seed=0, return_leaves=False, parallel=False, gather=False, level_masks=None,
              buffers=None):
    """Grow one tree and return it as a `Tree` with real-valued thresholds.

    Parameters
    ----------
    X_binned : ndarray (n_samples, n_features) uint8, from ``bin_mapper.transform``.
    stats : ndarray (n_samples, C) float64, per-sample channels for ``criterion`` (see
        _criterion.py); sample weights already multiplied in.
    rows : ndarray of int, the rows the tree is grown on (positive weight only).
    bin_mapper : fitted BinMapper, whose edges become the thresholds.
    criterion : int, one of the CRITERION_* ids.
    params : float64 array of second-order parameters (lambda, alpha, max_delta_step) or None.
    min_gain : float, a node splits when its best gain (weighted impurity decrease) >= min_gain.
    max_features : int, features drawn per node (None: all of the pool), or with level_masks
        an int array, the count drawn at each depth.
    feature_pool : int array, the features this tree may use (None: all).
    level_masks : bool array (n_levels, len(pool)) or None, the pool features each depth may
        use (xgboost's colsample_bylevel; depths past the last row use the last row).
    max_leaf_nodes : int or None, best-first growth with at most this many leaves when set.
    splitter : "best" or "random" (extra-trees thresholds).
    seed : int, seeds the tree's own random stream.
    parallel : bool, build full histograms with Numba's threads (one tree at a time, as boosting
        grows them; the result does not depend on the thread count).
    gather : bool, read every node's rows through their ids instead of keeping node-ordered
        copies of X_binned and stats (see _grow): cheaper when the binned matrix stays in cache
        and trees are shallow (boosting), dearer for deep trees over large data (forests).
    return_leaves : bool, also return each sample's leaf, (n_samples,) int32, -1 for samples
        not in `rows` (what boosting needs after a round, without walking the tree again).
    buffers : GrowBuffers for X_binned's rows or None (fresh arrays).
    """
    n_features = X_binned.shape[1]
    pool = (np.arange(n_features, dtype=INDEX_DTYPE) if feature_pool is None
            else np.asarray(feature_pool, dtype=INDEX_DTYPE))
    if params is None:
        params = np.zeros(3)
    if buffers is None:
        buffers = GrowBuffers(X_binned.shape[0])
    buffers.rows[:len(rows)] = rows
    rows = buffers.rows[:len(rows)]
    if level_masks is None:
        level_masks = np.ones((1, len(pool)), dtype=np.uint8)
    level_masks = np.ascontiguousarray(level_masks, dtype=np.uint8)
    level_max_features = np.broadcast_to(
        np.asarray(len(pool) if max_features is None else max_features, dtype=np.int64),
        (level_masks.shape[0],)).copy()
    (feature, split_bin, drawn, missing_left, left, right, sums, gain, depth,
     buffers.scratch) = _grow(
        X_binned, np.ascontiguousarray(stats, dtype=np.float64), rows, pool, level_masks,
        level_max_features, bin_mapper.representatives_, bin_mapper.edges_, criterion,
        np.asarray(params, dtype=np.float64),
        np.iinfo(np.int64).max if max_depth is None else int(max_depth),
        int(min_samples_split), int(min_samples_leaf), float(min_weight_leaf), float(min_gain),
        -1 if max_leaf_nodes is None else int(max_leaf_nodes), splitter == "random",
        new_rng_state(seed), bool(parallel), bool(gather), buffers.tmp_rows, buffers.flags,
        buffers.scratch, buffers.leaf if return_leaves else np.empty(0, np.int32))
    # Bin b -> its upper edge; MISSING_BIN (every non-missing value left) -> +inf. edges_ is
    # padded with +inf, so a clipped index past a feature's last edge reads +inf too.
    is_split = left != TREE_LEAF
    edges = bin_mapper.edges_[np.where(is_split, feature, 0), np.minimum(split_bin, MAX_BINS - 1)]
    threshold = np.where(is_split & (split_bin != MISSING_BIN), edges, np.inf)
    threshold = np.where(np.isnan(drawn), threshold, drawn)
    # The grower's gain is the criterion's (Friedman's improvement for friedman_mse); the Tree
    # reports the weighted impurity decrease, scikit-learn's importance quantity.
    del gain
    tree = Tree.from_arrays(feature, threshold, missing_left, left, right, sums, depth,
                            criterion, params)
    if return_leaves:
        return tree, buffers.leaf
    return tree
