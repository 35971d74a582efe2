"""Grows one tree: the node loop and its stopping rules.

The estimators call `grow_tree` with binned X and per-sample channels; it returns a `Tree` with
real thresholds. The node loop itself is compiled (a full-depth forest tree has ~10^4 nodes, and
~20 us of Python per node would cost more than the histograms), one kernel per family
(_make_grow: forests and single trees vs boosters, serial vs threaded, the criterion), chosen in
Python by grow_tree, so that a fit compiles only what it runs.

Forests and single trees expand nodes depth-first (a stack), with max_leaf_nodes best-first (the
pending leaf of largest gain); each node owns a contiguous slice start:end of three node-ordered
arrays, the row ids, a copy of their binned codes and a copy of their channels, partitioned
stably by each split (_partition.py), so histogram passes read memory sequentially. Boosters
(gather mode) keep row ids only, read every node's rows through them, and grow a depthwise tree a
whole level per step (one parallel region per phase: split rows, build histograms, scan).
"""

import threading

import numba
import numpy as np
from numba import njit

from ..utils._numba_cache import kernel_variant
from ._absolute_error import node_medians
from ._criterion import _node_weight, _weighted_impurity, criterion_params
from ._histogram import (
    _build_histogram,
    _build_histograms_rows,
    _scratch_blocks,
    _subtract_histograms,
)
from ._partition import (
    _gather_rows,
    _partition,
    _partition_rows,
    _split_rows,
    _split_rows_parallel,
    _split_rows_sparse,
    _split_rows_sparse_parallel,
    _write_leaves,
    _write_leaves_parallel,
)
from ._random import new_rng_state
from ._sparse import (
    SparseBinned,
    build_histograms_sparse,
    hist_width,
    no_csr,
    partition_sparse,
    prebuild_drawn,
    scratch_blocks_sparse,
    sum_node_rows,
)
from ._splitter import (
    _best_of_scans,
    _draw_feature,
    _find_best_split,
    _scan_nodes,
    scan_buffers,
)
from ._tree import Tree
from ._types import (
    CRITERION_ABSOLUTE_ERROR,
    CRITERION_NAMES,
    CRITERION_SECOND_ORDER,
    GROW_NODE_DTYPE,
    INDEX_DTYPE,
    MAX_BINS,
    MISSING_BIN,
    MULTI_OUTPUT_CRITERIA,
    N_HIST_BINS,
    TREE_LEAF,
)

# Impurity at or below this is a pure node (scikit-learn's EPSILON).
_EPSILON = np.finfo(np.float64).eps
# Nodes with fewer rows use sparse per-feature histograms instead of full ones: building and
# scanning all 256 bins of every feature costs more than the rows themselves below this.
_FULL_HISTOGRAM_MIN_ROWS = 256
# Node slots allocated at first; doubled when a split needs more.
_INITIAL_NODE_CAPACITY = 1023
# Counters that start at a constant are started from these: a kernel called with a literal
# constant is compiled for that Literal type, and again for int64 once the counter moves
# (~0.5 s of a cold fit per kernel).
_ZERO = np.int64(0)
_ONE = np.int64(1)


if numba.config.DISABLE_JIT:
    # NUMBA_DISABLE_JIT=1 (tox -e nojit): a plain structured array's element is a numpy.void,
    # whose fields are items, not the attributes the kernels use; a recarray's are both.
    def _records(nodes):
        """Pure-Python twin: the nodes as a recarray."""
        return nodes.view(np.recarray)
else:
    @njit(cache=True, nogil=True, inline="always")
    def _records(nodes):
        """The nodes themselves (Numba's records have attribute fields)."""
        return nodes


@njit(cache=True, nogil=True)
def _new_nodes(n):
    """n fresh GROW_NODE_DTYPE records: leaves without a histogram or a candidate split."""
    nodes = _records(np.zeros(n, GROW_NODE_DTYPE))
    for i in range(n):
        node = nodes[i]
        node.hist_slot = -1
        node.cand_gain = -np.inf
        node.cand_threshold = np.nan
        node.drawn_threshold = np.nan
        node.feature = TREE_LEAF
        node.left = TREE_LEAF
        node.right = TREE_LEAF
    return nodes


@njit(cache=True, nogil=True, inline="always")
def _doubled(a, fill):
    """a with its first axis doubled, the new part set to fill."""
    return np.concatenate((a, np.full_like(a, fill)))


# The node loop's bookkeeping, shared by every grower variant (compiled once per process, not
# once per family: none of it depends on the variant's constants).


@njit(cache=True, nogil=True)
def _splittable(node, node_sums, criterion, params, max_depth, min_samples_split,
                min_samples_leaf, min_weight_leaf):
    """Whether a node (a GROW_NODE_DTYPE record, its sums) may be split: the stopping rules."""
    n = node.end - node.start
    w = _node_weight(node_sums, criterion, params)
    if (node.depth >= max_depth or n < min_samples_split or n < 2 * min_samples_leaf
            or w < 2.0 * min_weight_leaf):
        return False
    if criterion != CRITERION_SECOND_ORDER:
        if w <= 0.0 or _weighted_impurity(node_sums, criterion, params) / w <= _EPSILON:
            return False
    return True


@njit(cache=True, nogil=True)
def _sum_rows(stats, rows, out):
    """out (1 + C,) (in/out) += (1, stats[r]) summed over rows."""
    for i in range(rows.shape[0]):
        out[0] += 1.0
        for c in range(stats.shape[1]):
            out[1 + c] += stats[rows[i], c]


@njit(cache=True, nogil=True)
def _queue(nodes, evaluated, pending, n_pending, free, n_free, level_order):
    """Queue the evaluated nodes that have a split in pending (in/out): level by level (a
    queue, level_order) or depth-first (a stack: right pushed first, so the left child is
    expanded first; best-first picks from it by gain). The others are leaves and hand their
    histogram slots back to free (in/out). Returns (n_pending, n_free)."""
    n = evaluated.shape[0]
    for k in range(n):
        node = evaluated[k] if level_order else evaluated[n - 1 - k]
        if nodes[node].cand_gain > -np.inf:
            pending[n_pending] = node
            n_pending += 1
        elif nodes[node].hist_slot >= 0:
            free[n_free] = nodes[node].hist_slot
            n_free += 1
            nodes[node].hist_slot = -1
    return n_pending, n_free


@njit(cache=True, nogil=True)
def _next_batch(nodes, pending, n_pending, batch, max_leaf_nodes, whole_level):
    """The nodes split this step, into batch (out), taken from pending (in/out): best-first
    (max_leaf_nodes > 0) the pending node of largest gain (the first on ties), whole_level the
    whole queue (a level), else the top of the stack. Returns (n_batch, n_pending)."""
    if max_leaf_nodes > 0:
        k_best = 0
        for k in range(1, n_pending):
            if nodes[pending[k]].cand_gain > nodes[pending[k_best]].cand_gain:
                k_best = k
        batch[0] = pending[k_best]
        for k in range(k_best, n_pending - 1):
            pending[k] = pending[k + 1]
        return 1, n_pending - 1
    if whole_level:
        for k in range(n_pending):
            batch[k] = pending[k]
        return n_pending, 0
    batch[0] = pending[n_pending - 1]
    return 1, n_pending - 1


@njit(cache=True, nogil=True)
def _with_room(nodes, sums, cand_left, pending, batch, n_needed):
    """The per-node arrays doubled until they hold n_needed nodes (new nodes fresh)."""
    while nodes.shape[0] < n_needed:
        nodes = _records(np.concatenate((nodes, _new_nodes(nodes.shape[0]))))
        sums = _doubled(sums, 0.0)
        cand_left = _doubled(cand_left, 0.0)
        pending = _doubled(pending, 0)
        batch = _doubled(batch, 0)
    return nodes, sums, cand_left, pending, batch


@njit(cache=True, nogil=True)
def _children_get_histograms(nodes, batch, mids, children_split, min_rows):
    """Whether each split's smaller child gets a histogram built (its sibling one by
    subtraction): when the parent had one, the children will be split, and the larger child
    has at least min_rows rows (below, the children use sparse per-feature histograms)."""
    gets_hist = np.empty(batch.shape[0], np.bool_)
    for e in range(batch.shape[0]):
        parent = nodes[batch[e]]
        n_l = mids[e] - parent.start
        n_r = parent.end - mids[e]
        gets_hist[e] = (parent.hist_slot >= 0 and children_split
                        and max(n_l, n_r) >= min_rows)
    return gets_hist


@njit(cache=True, nogil=True)
def _make_children(nodes, sums, cand_left, batch, mids, n_nodes, assign, gets_hist, free, n_free,
                   target_bounds, target_slots, target_parents, target_nodes):
    """Split the nodes of batch at mids (their right children's first rows): each parent takes
    its candidate split, its children are nodes n_nodes, n_nodes + 1, ... in the batch's order
    (in/out: nodes, sums). assign: the children's rows' leaves are already written. Each
    split's smaller child with gets_hist takes a free histogram slot (a target to build, into
    target_* (out) in order) and the larger one its parent's slot (parent - smaller); the
    others free their parent's slot. Returns n_free."""
    n_slots = sums.shape[1]
    n_targets = 0
    for e in range(batch.shape[0]):
        node = batch[e]
        parent = nodes[node]
        mid = mids[e]
        parent.feature = parent.cand_feature
        parent.split_bin = parent.cand_bin
        parent.drawn_threshold = parent.cand_threshold
        parent.missing_left = parent.cand_missing_left
        parent.gain = parent.cand_gain
        l_node = n_nodes + 2 * e
        r_node = l_node + 1
        parent.left = l_node
        parent.right = r_node
        for child, lo, hi in ((nodes[l_node], parent.start, mid),
                              (nodes[r_node], mid, parent.end)):
            child.start = lo
            child.end = hi
            child.depth = parent.depth + 1
            child.assigned = assign
        for c in range(n_slots):
            sums[l_node, c] = cand_left[node, c]
            sums[r_node, c] = sums[node, c] - cand_left[node, c]
        # Counts from the partition: exact (not a float difference), and countless
        # histograms have none.
        sums[l_node, 0] = mid - parent.start
        sums[r_node, 0] = parent.end - mid
        parent_slot = parent.hist_slot
        parent.hist_slot = -1
        if parent_slot < 0:
            continue
        if not gets_hist[e]:
            free[n_free] = parent_slot
            n_free += 1
            continue
        small, large = ((l_node, r_node) if mid - parent.start <= parent.end - mid
                        else (r_node, l_node))
        n_free -= 1
        nodes[small].hist_slot = free[n_free]
        nodes[large].hist_slot = parent_slot
        target_bounds[n_targets, 0] = nodes[small].start
        target_bounds[n_targets, 1] = nodes[small].end
        target_slots[n_targets] = nodes[small].hist_slot
        target_parents[n_targets] = parent_slot
        target_nodes[n_targets] = small
        n_targets += 1
    return n_free


@njit(cache=True, nogil=True)
def _unassigned_leaves(nodes):
    """The leaves whose rows' leaf ids are still to be written: their row ranges (n, 2) and
    ids (n,) int32."""
    n = 0
    for node in range(nodes.shape[0]):
        n += nodes[node].left == TREE_LEAF and nodes[node].assigned == 0
    bounds = np.empty((n, 2), np.int64)
    ids = np.empty(n, np.int32)
    n = 0
    for node in range(nodes.shape[0]):
        leaf = nodes[node]
        if leaf.left == TREE_LEAF and leaf.assigned == 0:
            bounds[n, 0] = leaf.start
            bounds[n, 1] = leaf.end
            ids[n] = node
            n += 1
    return bounds, ids


@njit(cache=True, nogil=True)
def _reserve_slots(hist_pool, free, n_free, n_needed):
    """(hist_pool, free, n_free) with at least n_needed free slots: the pool doubled (its live
    histograms copied) when short. free[:n_free] lists the free slots."""
    if n_free >= n_needed:
        return hist_pool, free, n_free
    size = hist_pool.shape[0]
    new_size = max(2 * size, size + n_needed - n_free)
    grown = np.empty((new_size, hist_pool.shape[1], hist_pool.shape[2], hist_pool.shape[3]))
    # An element loop, not grown[:size] = hist_pool: the slice assignment compiles Numba's
    # shape-mismatch error path with its string formatting (~4 s of a cold first fit).
    flat = grown.reshape(-1)
    live = hist_pool.reshape(-1)
    for i in range(live.shape[0]):
        flat[i] = live[i]
    grown_free = np.empty(new_size, np.int64)
    for k in range(n_free):
        grown_free[k] = free[k]
    for k in range(new_size - size):
        grown_free[n_free + k] = new_size - 1 - k
    return grown, grown_free, n_free + new_size - size


@njit(cache=True, nogil=True)
def _fitted_scratch(scratch, n_blocks, n_pool, hist_slots, n_hist_bins=N_HIST_BINS):
    """scratch if it holds n_blocks histograms of this shape, else a new one that does."""
    if (scratch.shape[0] >= n_blocks and scratch.shape[1] == n_pool
            and scratch.shape[2] == n_hist_bins and scratch.shape[3] == hist_slots):
        return scratch
    return np.empty((max(n_blocks, scratch.shape[0]), n_pool, n_hist_bins, hist_slots))


def _make_grow(gather, parallel, criterion, n_channels, random_splits, countless, sparse):
    """The grower kernel of one family, its mode frozen as closure constants: Numba prunes the
    branches of the other modes before typing (and inlines the dispatchers that take these as
    selectors: _build_histogram, _build_histograms_rows, _find_best_split, _scan_nodes), so a
    fit compiles only the kernels it runs. grow_tree picks the variant (_grow_kernel).

    gather: keep no node-ordered copies (boosters); every node gets a full histogram read
        through its row ids, splits move row ids only, and a depthwise tree grows a level per
        step. Otherwise (forests, single trees) rows, codes and channels are kept in node order
        and nodes are grown depth-first, or best-first with max_leaf_nodes.
    parallel: Numba's threads build histograms, split rows and scan features (boosting, one
        tree at a time).
    criterion: one of the CRITERION_* ids; n_channels: stats' channel count (-1: more than 4,
        read at run time).
    random_splits: extra-trees thresholds.
    countless: (g, h) histograms without a count slot (second order, gather mode,
        min_samples_leaf <= 1, exhaustive splits): one 16-byte add per (row, feature) instead of
        24 (1.4-1.8x faster histograms, the bulk of a boosting round). Nothing needs the count:
        min_samples_leaf <= 1 holds between present bins, the children's counts come from the
        partition, and a node without NaN sends NaN right as xgboost does
        (see _splitter._record_best).
    sparse: X is a SparseBinned (_sparse.py), read through `csr`; histograms are compact
        (n_hist_bins wide) and built from the rows' stored entries. Forests and single trees
        keep node-ordered rows and channels but no codes, and build per node exactly the
        histograms of the features its split search will draw (_sparse.prebuild_drawn), never
        a full one; boosters build full compact histograms of every node (gather mode).
    """
    counted = not countless

    def grow(X_binned, columns, csr, n_hist_bins, stats, rows, pool, level_masks,
             level_max_features,
             representatives, edges, params, max_depth, min_samples_split, min_samples_leaf,
             min_weight_leaf, min_gain, max_leaf_nodes, rng_state, n_workers, tmp_rows, hist_pool,
             scratch, per_pair, leaf_out):
        """Grow one tree over rows (in/out: reordered so every leaf's rows are contiguous, except
        the children of a split whose rows _split_rows assigned to leaf_out unmoved).

        X_binned (n_samples, n_features) uint8 ((n_samples, 0) when sparse); columns: X_binned
        column-major (n_features, n_samples) in gather mode (the partitions read it, see
        _make_split_rows), else unused; csr: a SparseBinned's arrays (sparse) or _sparse.no_csr();
        n_hist_bins: the histograms' width (_sparse.hist_width);
        stats (n_samples, C) float64 per-sample channels;
        rows (n_rows,) int32 the rows in the tree (positive weight); pool (n_pool,) int32 features
        the tree may use; level_masks (n_levels, n_pool) uint8: the pool features nodes at depth
        d may use (row min(d, n_levels - 1)), of which level_max_features[d] are drawn per node;
        max_leaf_nodes > 0 selects best-first.
        A node is split when its best gain >= min_gain.
        representatives / edges (n_features, MAX_BINS): the binner's, for extra-trees thresholds.
        n_workers: the threads (parallel variants) that build histograms, split rows and scan
        features (the tree does not depend on it).
        tmp_rows (>= n_rows,) int32: scratch of the partitions;
        hist_pool (the node histograms), scratch (the histogram kernels'), per_pair (the scans'):
        buffers reused when their shape fits, else replaced, and returned (see GrowBuffers).
        leaf_out (n_samples,) int32 (out) or empty: each sample's leaf, -1 for samples not in rows
        (gather mode writes the last level's leaves during its splits, see _split_rows).
        Returns the nodes (n_nodes,) GROW_NODE_DTYPE (drawn_threshold NaN: the split's threshold
        is its bin's edge) and their sums (n_nodes, 1 + C); then hist_pool, scratch, per_pair.
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

        nodes = _new_nodes(capacity)
        sums = np.zeros((capacity, n_slots))
        cand_left = np.zeros((capacity, n_slots))  # the left sums of each node's best split

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
        # absolute_error scans the node's rows, never a histogram (_absolute_error.py).
        use_subtraction = gather or (every_feature and not random_splits and not sparse
                                     and criterion != CRITERION_ABSOLUTE_ERROR)
        hist_slots = n_slots - 1 if countless else n_slots
        # With a full root histogram nothing reads the root's node-ordered copy: build the histogram
        # through `rows` and fill X_node/stats_node after the root split, already in child order
        # (or never, when the children are final leaves: a stump moves no data at all).
        lazy_root = gather or (use_subtraction and n_rows >= _FULL_HISTOGRAM_MIN_ROWS)
        if not gather and not lazy_root:
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
        no_hist = np.zeros((0, 0, 0))
        # A depthwise tree in gather mode (boosting) is grown a level per step: the level's rows
        # split, its histograms built and its split searches run as one parallel region each,
        # where one region per node left the threads idle on the many small nodes of the deep
        # levels. Other trees take one node per step, depth-first (scikit-learn's order) or
        # best-first. The tree is the same either way, its nodes numbered level by level (ties
        # between features aside: the second-order criterion gives them to the lower index, the
        # others to the first feature drawn, and a level draws its nodes' features in its order).
        # The children of a step whose full histograms are scanned feature by feature over the
        # threads, all in one loop (_scan_nodes); the serial grower scans node by node.
        # Node histograms live in hist_pool slots (one per node that has one; a split hands its
        # parent's slot to the larger child, which is parent - smaller). Histograms of the pool's
        # features, with or without the count slot.
        if (hist_pool.shape[1] != n_pool or hist_pool.shape[2] != n_hist_bins
                or hist_pool.shape[3] != hist_slots):
            hist_pool = np.empty((0, n_pool, n_hist_bins, hist_slots))
        # Sparse X: forests' per-node histograms of the drawn features (one per pool feature,
        # only the drawn ones built), and the builders' feature -> histogram map.
        sparse_hists = np.empty((n_pool if sparse and not gather else 0, n_hist_bins, n_slots))
        drawn = np.empty(n_pool, np.int64)
        slot_of = np.full(csr[3].shape[0] if sparse else 0, -1, np.int64)
        n_free = hist_pool.shape[0]
        free = np.arange(n_free - 1, -1, -1)

        # The criterion as a run-time int64 for _splittable: passed as a closure constant it
        # would compile _splittable and _weighted_impurity once more, for its Literal type.
        criterion_id = np.int64(criterion)

        def splittable(node):
            return _splittable(nodes[node], sums[node], criterion_id, params, max_depth,
                               min_samples_split, min_samples_leaf, min_weight_leaf)

        def every_pool_feature(node):
            # The node's split search visits every pool feature of a full histogram.
            if nodes[node].hist_slot < 0 or random_splits:
                return False
            level = min(nodes[node].depth, level_masks.shape[0] - 1)
            visit_all = level_max_features[level] >= n_pool
            for k in range(n_pool):
                visit_all = visit_all and level_masks[level, k] == 1
            return visit_all

        def record(node):
            if best_meta[0] >= 0 and best_gain[0] >= min_gain:
                this = nodes[node]
                this.cand_gain = best_gain[0]
                this.cand_feature = best_meta[0]
                this.cand_bin = best_meta[1]
                this.cand_missing_left = best_meta[2]
                this.cand_threshold = best_threshold[0]
                for c in range(n_slots):
                    cand_left[node, c] = best_left[c]

        def evaluate(node):
            this = nodes[node]
            level = min(this.depth, level_masks.shape[0] - 1)
            if sparse and not gather:
                prebuild_drawn(csr, rows, stats_node, this.start, this.end, sums[node], pool,
                               level_masks[level], pool_order, level_max_features[level],
                               random_splits, rng_state, sparse_hists, drawn, slot_of, codes)
                node_hist = sparse_hists
            else:
                node_hist = hist_pool[this.hist_slot] if this.hist_slot >= 0 else no_hist
            _find_best_split(X_node, stats_node, this.start, this.end, sums[node], node_hist,
                             pool, level_masks[level], pool_order, level_max_features[level],
                             representatives, edges, criterion, n_channels, counted, params,
                             min_samples_leaf, min_weight_leaf, random_splits, rng_state,
                             scratch_hist, touched, codes, cum, lbuf, rbuf, best_gain, best_meta,
                             best_left, best_threshold)
            record(node)

        if n_rows < leaf_out.shape[0]:
            leaf_out[:] = -1
        # Root.
        nodes[0].start = 0
        nodes[0].end = n_rows
        nodes[0].depth = 0
        if not gather or sparse:
            _sum_rows(stats, rows, sums[0])
        no_parent = np.full(1, -1, np.int64)
        if lazy_root:
            hist_pool, free, n_free = _reserve_slots(hist_pool, free, n_free, _ONE)
            n_free -= 1
            nodes[0].hist_slot = free[n_free]
            bounds = np.zeros((1, 2), np.int64)
            bounds[0, 1] = n_rows
            root_slot = np.full(1, nodes[0].hist_slot, np.int64)
            if sparse:
                scratch = _fitted_scratch(scratch, scratch_blocks_sparse(bounds), n_pool,
                                          hist_slots, n_hist_bins)
                build_histograms_sparse(csr, stats, rows, pool, bounds, root_slot, no_parent,
                                        sums[:1], hist_pool, scratch, slot_of, counted,
                                        parallel)
            else:
                scratch = _fitted_scratch(scratch, _scratch_blocks(bounds), n_pool, hist_slots)
                _build_histograms_rows(X_binned, stats, rows, pool, bounds, root_slot,
                                       no_parent, hist_pool, scratch, parallel, n_workers,
                                       n_channels, counted)
        if gather and not sparse:
            # The root's sums off its histogram: every row is in one bin of each feature. A serial
            # sum over the rows is a chain of dependent adds (2 ms at 400k rows, 4% of a round).
            sums[0, 0] = n_rows
            first_feature = hist_pool[nodes[0].hist_slot, 0]
            offset = hist_slots - (n_slots - 1)
            for b in range(N_HIST_BINS):
                for c in range(n_slots - 1):
                    sums[0, 1 + c] += first_feature[b, offset + c]
        n_nodes = _ONE
        n_leaves = 1
        pending = np.empty(capacity, np.int64)
        batch = np.empty(capacity, np.int64)
        to_evaluate = np.zeros(1, np.int64)
        n_to_evaluate = 1
        n_pending = _ZERO

        while True:
            # Split searches of the nodes just made (the root, then each step's children), in order.
            if parallel and not random_splits and use_subtraction:
                # The serial loop's draws for every node that visits every pool feature, in node
                # order (others are searched serially in turn), then one scan of them all.
                n_pairs = n_to_evaluate * n_pool
                if (per_pair[1].shape[0] < n_pairs or per_pair[3].shape[1] != n_slots
                        or per_pair[0].shape[1] != n_hist_bins):
                    per_pair = scan_buffers(n_pairs, n_slots, n_hist_bins)
                orders = np.empty((n_to_evaluate, n_pool), np.int32)
                scanned = np.empty(n_to_evaluate, np.int64)
                n_scanned = 0
                for k in range(n_to_evaluate):
                    node = to_evaluate[k]
                    if not splittable(node):
                        continue
                    if not every_pool_feature(node):
                        evaluate(node)
                        continue
                    for i in range(n_pool):
                        pool_order[i] = i
                    for i in range(n_pool):
                        _draw_feature(rng_state, pool_order, i)
                    for i in range(n_pool):
                        orders[n_scanned, i] = pool_order[i]
                    scanned[n_scanned] = node
                    n_scanned += 1
                if n_scanned > 0:
                    node_sums = np.empty((n_scanned, n_slots))
                    slots = np.empty(n_scanned, np.int64)
                    for e in range(n_scanned):
                        for c in range(n_slots):
                            node_sums[e, c] = sums[scanned[e], c]
                        slots[e] = nodes[scanned[e]].hist_slot
                    _scan_nodes(hist_pool, slots, node_sums, pool, orders[:n_scanned], criterion,
                                n_channels, counted, params, min_samples_leaf, min_weight_leaf,
                                per_pair)
                    for e in range(n_scanned):
                        best_threshold[0] = np.nan
                        _best_of_scans(per_pair, e, n_pool, node_sums[e], criterion, params, rbuf,
                                       best_gain, best_meta, best_left)
                        record(scanned[e])
            else:
                for k in range(n_to_evaluate):
                    if splittable(to_evaluate[k]):
                        evaluate(to_evaluate[k])
            # Queue the nodes with a split: level by level (a queue), depth-first (a stack: right
            # pushed first, so the left child is expanded first) or best-first. The others are
            # leaves and let their histograms go.
            n_pending, n_free = _queue(nodes, to_evaluate[:n_to_evaluate], pending, n_pending,
                                       free, n_free, gather and max_leaf_nodes <= 0)
            if n_pending == 0:
                break

            # The nodes split this step.
            if max_leaf_nodes > 0 and n_leaves >= max_leaf_nodes:
                break
            n_batch, n_pending = _next_batch(nodes, pending, n_pending, batch, max_leaf_nodes,
                                             gather)
            if n_nodes + 2 * n_batch > nodes.shape[0]:
                nodes, sums, cand_left, pending, batch = _with_room(
                    nodes, sums, cand_left, pending, batch, n_nodes + 2 * n_batch)

            # Rows. Children at max_depth, or made by the split that reaches max_leaf_nodes, are
            # never split: they need no histogram, no split search and no data moved (gather mode
            # assigns their leaves instead). A step's nodes share their depth.
            children_split = (nodes[batch[0]].depth + 1 < max_depth
                              and (max_leaf_nodes <= 0 or n_leaves + n_batch < max_leaf_nodes))
            mids = np.empty(n_batch, np.int64)
            if gather:
                bounds = np.empty((n_batch, 2), np.int64)
                splits = np.empty((n_batch, 3), np.int64)
                first_child = np.empty(n_batch, np.int64)
                for e in range(n_batch):
                    split_node = nodes[batch[e]]
                    bounds[e, 0] = split_node.start
                    bounds[e, 1] = split_node.end
                    splits[e, 0] = split_node.cand_feature
                    splits[e, 1] = split_node.cand_bin
                    splits[e, 2] = split_node.cand_missing_left
                    first_child[e] = n_nodes + 2 * e
                assign = not children_split and leaf_out.shape[0] > 0
                split_args = (rows, columns, csr, tmp_rows, bounds, splits, mids, assign,
                              first_child, leaf_out)
                if sparse and parallel:
                    _split_rows_sparse_parallel(*split_args)
                elif sparse:
                    _split_rows_sparse(*split_args)
                elif parallel:
                    _split_rows_parallel(*split_args)
                else:
                    _split_rows(*split_args)
            else:
                node = batch[0]
                if node == 0 and lazy_root:
                    root = nodes[0]
                    mids[0] = _partition_rows(rows, X_binned[:, root.cand_feature], tmp_rows, 0,
                                              n_rows, root.cand_bin, root.cand_missing_left == 1)
                    if children_split:
                        _gather_rows(X_binned, stats, rows, X_node, stats_node)
                elif sparse:
                    split_node = nodes[node]
                    mids[0] = partition_sparse(rows, stats_node, tmp_rows, tmp_stats,
                                               split_node.start, split_node.end, csr,
                                               split_node.cand_feature, split_node.cand_bin,
                                               split_node.cand_missing_left == 1)
                else:
                    split_node = nodes[node]
                    mids[0] = _partition(rows, X_node, stats_node, tmp_rows, tmp_X, tmp_stats,
                                         split_node.start, split_node.end,
                                         split_node.cand_feature, split_node.cand_bin,
                                         split_node.cand_missing_left == 1, not children_split)
                assign = False

            # Children, numbered in the step's order; each split's smaller child gets a histogram
            # built and the larger one its parent's slot (parent - smaller) when they split on.
            gets_hist = _children_get_histograms(nodes, batch[:n_batch], mids, children_split,
                                                 _FULL_HISTOGRAM_MIN_ROWS if not gather else 0)
            n_targets = gets_hist.sum()
            hist_pool, free, n_free = _reserve_slots(hist_pool, free, n_free, n_targets)
            target_bounds = np.empty((n_targets, 2), np.int64)
            target_slots = np.empty(n_targets, np.int64)
            target_parents = np.empty(n_targets, np.int64)
            target_nodes = np.empty(n_targets, np.int64)
            n_free = _make_children(nodes, sums, cand_left, batch[:n_batch], mids, n_nodes,
                                    assign, gets_hist, free, n_free, target_bounds,
                                    target_slots, target_parents, target_nodes)
            n_nodes += 2 * n_batch
            n_leaves += n_batch
            if not gather and children_split:
                # The children's sums from their node-ordered rows, not parent - left (or a
                # sparse fit's absent bins by subtraction): that carries the rounding of the
                # parent's sums, where a small child's impurity is a difference of its own
                # (a pure child a few ulps above 0 would be split on noise).
                for child in range(n_nodes - 2 * n_batch, n_nodes):
                    sum_node_rows(stats_node, nodes[child].start, nodes[child].end, sums[child])
            # Histograms: the smaller children's built, the larger ones' by subtraction.
            if gather and sparse:
                target_sums = np.empty((n_targets, n_slots))
                for t in range(n_targets):
                    for c in range(n_slots):
                        target_sums[t, c] = sums[target_nodes[t], c]
                scratch = _fitted_scratch(scratch, scratch_blocks_sparse(target_bounds), n_pool,
                                          hist_slots, n_hist_bins)
                build_histograms_sparse(csr, stats, rows, pool, target_bounds, target_slots,
                                        target_parents, target_sums, hist_pool, scratch,
                                        slot_of, counted, parallel)
            elif gather:
                scratch = _fitted_scratch(scratch, _scratch_blocks(target_bounds), n_pool,
                                          hist_slots)
                _build_histograms_rows(X_binned, stats, rows, pool, target_bounds, target_slots,
                                       target_parents, hist_pool, scratch, parallel, n_workers,
                                       n_channels, counted)
            else:
                for t in range(n_targets):
                    small_hist = hist_pool[target_slots[t]]
                    small_hist[:] = 0.0
                    _build_histogram(X_node, stats_node, target_bounds[t, 0], target_bounds[t, 1],
                                     pool, small_hist, parallel, n_channels)
                    parent_hist = hist_pool[target_parents[t]]
                    _subtract_histograms(parent_hist, small_hist, parent_hist)
            n_to_evaluate = 2 * n_batch if children_split else 0
            if to_evaluate.shape[0] < n_to_evaluate:
                to_evaluate = np.empty(batch.shape[0] * 2, np.int64)
            for k in range(n_to_evaluate):
                to_evaluate[k] = n_nodes - n_to_evaluate + k

        if leaf_out.shape[0] > 0:
            # The other leaves: their rows are contiguous in rows.
            leaf_bounds, leaf_ids = _unassigned_leaves(nodes[:n_nodes])
            if parallel:
                _write_leaves_parallel(rows, leaf_bounds, leaf_ids, leaf_out)
            else:
                _write_leaves(rows, leaf_bounds, leaf_ids, leaf_out)
        return nodes[:n_nodes].copy(), sums[:n_nodes].copy(), hist_pool, scratch, per_pair

    return grow


# The grower variants made in this process, by mode (_grow_kernel); forests ask from threads.
_GROWERS = {}
_GROWERS_LOCK = threading.Lock()


def _grow_kernel(gather, parallel, criterion, n_channels, random_splits, countless, sparse):
    """The compiled grower of a family (see _make_grow), made once per process and named after
    its mode (kernel_variant), so that each variant has its own symbols and cache file and shows
    by name in Numba's compile events."""
    mode = (gather, parallel, criterion, n_channels, random_splits, countless, sparse)
    with _GROWERS_LOCK:
        if mode not in _GROWERS:
            grow = _make_grow(*mode)
            name = "_".join(["_grow", "rows" if gather else "nodes", CRITERION_NAMES[criterion],
                             f"c{n_channels}", "parallel" if parallel else "serial"]
                            + (["random"] if random_splits else [])
                            + (["sparse"] if sparse else [])
                            + (["countless"] if countless else []))
            _GROWERS[mode] = kernel_variant(name)(grow)
        return _GROWERS[mode]


class GrowBuffers:
    """The n-row arrays grow_tree needs and the node histograms (hist_pool), the histogram
    kernels' block scratch and the split scans' per_pair buffers, kept by a fit that grows one
    tree at a time (boosting) and handed to every grow_tree call: fresh arrays of n rows or a
    few MB per tree are fresh mappings, whose page faults cost more than the work on them
    (~0.5 ms per MB on our machine). grow_tree's leaf output is `leaf`, overwritten by the next
    tree. In gather mode they also keep X_binned column-major (`columns`, made by the first
    tree): one GrowBuffers serves one X_binned."""

    def __init__(self, n_samples):
        self.columns = None  # gather mode: X_binned column-major, made by the first tree
        self.rows = np.empty(n_samples, INDEX_DTYPE)
        self.tmp_rows = np.empty(n_samples, INDEX_DTYPE)
        self.leaf = np.empty(n_samples, np.int32)
        self.hist_pool = np.empty((0, 0, 0, 0))
        self.scratch = np.empty((0, 0, 0, 0))
        self.per_pair = scan_buffers(0, 1)


def grow_tree(X_binned, stats, rows, bin_mapper, *, criterion, params=None, max_depth=None,
              min_samples_split=2, min_samples_leaf=1, min_weight_leaf=0.0, min_gain=0.0,
              max_features=None, feature_pool=None, max_leaf_nodes=None, splitter="best",
              seed=0, return_leaves=False, parallel=False, gather=False, level_masks=None,
              buffers=None, n_outputs=1):
    """Grow one tree and return it as a `Tree` with real-valued thresholds.

    Parameters
    ----------
    X_binned : ndarray (n_samples, n_features) uint8, or a SparseBinned for sparse X, from
        ``bin_mapper.transform``.
    stats : ndarray (n_samples, C) float64, per-sample channels for ``criterion`` (see
        _criterion.py); sample weights already multiplied in.
    rows : ndarray of int, the rows the tree is grown on (positive weight only).
    bin_mapper : fitted BinMapper, whose edges become the thresholds.
    criterion : int, one of the CRITERION_* ids.
    params : float64 array of second-order parameters (lambda, alpha, max_delta_step) or None.
    n_outputs : int, outputs of a multi-output y (gini / entropy: stats are the outputs' class
        columns side by side; regression: see _criterion.py for the channels, and the criterion
        becomes its multi-output variant, grown serially).
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
        copies of X_binned and stats (see _make_grow): cheaper when the binned matrix stays in cache
        and trees are shallow (boosting), dearer for deep trees over large data (forests).
    return_leaves : bool, also return each sample's leaf, (n_samples,) int32, -1 for samples
        not in `rows` (what boosting needs after a round, without walking the tree again).
    buffers : GrowBuffers for this X_binned (it keeps a column-major copy in gather mode) or
        None (fresh arrays).
    """
    n_features = X_binned.shape[1]
    pool = (np.arange(n_features, dtype=INDEX_DTYPE) if feature_pool is None
            else np.asarray(feature_pool, dtype=INDEX_DTYPE))
    params = criterion_params(*([] if params is None else params[:3]), n_outputs=n_outputs)
    if n_outputs > 1 and criterion in MULTI_OUTPUT_CRITERIA:
        criterion = MULTI_OUTPUT_CRITERIA[criterion]
        parallel = False  # the threaded node scans (_scan_nodes) have no multi-output variant
    by_rows = criterion == CRITERION_ABSOLUTE_ERROR
    if by_rows:
        parallel = gather = False  # node-ordered rows, serial (see _absolute_error.py)
    sparse = isinstance(X_binned, SparseBinned)
    if sparse and by_rows:
        X_binned = X_binned.toarray()  # absolute_error scans the node-ordered codes
        sparse = False
    csr = X_binned.csr if sparse else no_csr()
    if buffers is None:
        buffers = GrowBuffers(X_binned.shape[0])
    buffers.rows[:len(rows)] = rows
    rows = buffers.rows[:len(rows)]
    if level_masks is None:
        level_masks = np.ones((1, len(pool)), dtype=np.uint8)
    level_masks = np.ascontiguousarray(level_masks, dtype=np.uint8)
    if sparse:
        columns = np.empty((1, 0), np.uint8)
        X_binned = np.empty((X_binned.shape[0], 0), np.uint8)
    elif not gather:
        columns = np.empty((0, 0), np.uint8)
    elif buffers.columns is not None:
        columns = buffers.columns
    else:
        columns = buffers.columns = np.ascontiguousarray(X_binned.T)
    level_max_features = np.broadcast_to(
        np.asarray(len(pool) if max_features is None else max_features, dtype=np.int64),
        (level_masks.shape[0],)).copy()
    stats = np.ascontiguousarray(stats, dtype=np.float64)
    random_splits = splitter == "random"
    # Countless (g, h) histograms where nothing needs the count (see _make_grow).
    # (Sparse X keeps the count: a missing bin by subtraction would otherwise hold rounding
    # residue where the node has no missing row.)
    countless = (bool(gather) and criterion == CRITERION_SECOND_ORDER and min_samples_leaf <= 1
                 and not random_splits and not sparse)
    # Channel counts with kernels of their own (_histogram._build_histogram); -1 for the rest.
    n_channels = stats.shape[1] if stats.shape[1] <= 4 else -1
    grow = _grow_kernel(bool(gather), bool(parallel), int(criterion), n_channels,
                        random_splits, countless, sparse)
    nodes, sums, buffers.hist_pool, buffers.scratch, per_pair = grow(
        X_binned, columns, csr, hist_width(bin_mapper, sparse), stats, rows, pool, level_masks,
        level_max_features,
        bin_mapper.representatives_, bin_mapper.edges_, np.asarray(params, dtype=np.float64),
        np.iinfo(np.int64).max if max_depth is None else int(max_depth),
        int(min_samples_split), int(min_samples_leaf), float(min_weight_leaf), float(min_gain),
        -1 if max_leaf_nodes is None else int(max_leaf_nodes), new_rng_state(seed),
        numba.get_num_threads() if parallel else 1, buffers.tmp_rows, buffers.hist_pool,
        buffers.scratch, buffers.per_pair,
        buffers.leaf if return_leaves or by_rows else np.empty(0, np.int32))
    buffers.per_pair = per_pair
    # Bin b -> its upper edge; MISSING_BIN (every non-missing value left) -> +inf. edges_ is
    # padded with +inf, so a clipped index past a feature's last edge reads +inf too.
    # (The grower's gain is the criterion's, Friedman's improvement for friedman_mse; the Tree
    # reports the weighted impurity decrease, scikit-learn's importance quantity.)
    feature, split_bin, left = nodes["feature"], nodes["split_bin"], nodes["left"]
    is_split = left != TREE_LEAF
    edges = bin_mapper.edges_[np.where(is_split, feature, 0), np.minimum(split_bin, MAX_BINS - 1)]
    threshold = np.where(is_split & (split_bin != MISSING_BIN), edges, np.inf)
    threshold = np.where(np.isnan(nodes["drawn_threshold"]), threshold, nodes["drawn_threshold"])
    tree = Tree.from_arrays(feature, threshold, nodes["missing_left"], left, nodes["right"], sums,
                            nodes["depth"], criterion, params)
    if by_rows:
        # Medians and absolute errors are not functions of the sums: from each node's rows.
        tree.value, tree.impurity, tree.weighted_n_node_samples = node_medians(
            nodes["left"], buffers.leaf[rows], stats[rows, 1:], stats[rows, 0])
    if return_leaves:
        return tree, buffers.leaf
    return tree
