"""Tree: a grown tree as flat arrays with real thresholds, and the prediction kernels.

The grower returns a Tree; estimators keep it as ``tree_`` (scikit-learn's attribute names:
children_left, children_right, feature, threshold, value, impurity, n_node_samples,
weighted_n_node_samples). Ensembles hand their trees to one kernel call (`tree_lists`: every
tree's nodes and values as pieces of two packed arrays, which `pack_trees` makes the trees' own
storage after a fit, so nothing is copied), which predicts the whole forest over raw float X: no
binning at predict time, NaN follows each node's learned direction.
"""

import numba
import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from ..utils._numba_cache import kernel_variant
from ._criterion import _node_weights_and_impurities, leaf_values
from ._histogram import prefetch_1d
from ._types import (
    FEATURE_MASK,
    MISSING_RIGHT_BIT,
    PREDICT_NODE_DTYPE,
    TREE_LEAF,
)

# scikit-learn's value of feature/threshold at a leaf.
TREE_UNDEFINED = -2
# Prediction walks blocks of rows over Numba's threads, each block tree by tree (a row's sum over
# trees is in tree order whatever the blocking, so results do not depend on it). A forest small
# enough to stay in L2 (boosting: 100 depth-6 trees are 0.3 MB) is walked by blocks of at most
# _PREDICT_SMALL_BYTES of X, so that rows and trees both stay in cache: 0.097 s for 100k rows of
# 28 features where 4 MB blocks took 0.27 s. A larger forest (100 deep RF trees: 50 MB) is
# walked by one block per thread, split further only while a block's X would exceed
# _PREDICT_BLOCK_BYTES: each tree then stays in L2 while its block's rows stream through it,
# instead of the whole forest being reloaded for every small block (0.29 s single-threaded on
# the 100-tree bench forest, 25k x 28 rows, where 2048-row blocks took 0.51 s).
_PREDICT_SMALL_FOREST = 1 << 20
_PREDICT_SMALL_BYTES = 256 << 10
_PREDICT_BLOCK_BYTES = 4 << 20
# Sparse X is predicted in dense row blocks of at most this many bytes (_dense_row_blocks).
_SPARSE_BLOCK_BYTES = 4 << 20
# Nodes in a 64-byte cache line (_tree_leaves's prefetch stride).
_NODES_PER_LINE = 64 // PREDICT_NODE_DTYPE.itemsize
# Rows walked interleaved, one per lane (_tree_leaves); 12 and 16 lanes measured no faster.
_PREDICT_GROUP = 8
# Trees at most this deep are walked with a fixed number of steps (_tree_leaves): 7x faster for
# 200 stumps than a walk that tests for leaves, whose loop control dominates on shallow trees,
# and 1.15x on 31-leaf lossguide trees (depth 9-17) although rows at shallow leaves idle.
_FIXED_STEPS_MAX_DEPTH = 16


class Tree:
    """One fitted tree (arrays indexed by node id; node 0 is the root).

    Stored compactly, as prediction reads it (a forest of deep trees holds millions of nodes):

    nodes : structured ndarray (PREDICT_NODE_DTYPE): threshold, left child (right = left + 1; a
        leaf points to itself), feature with the missing-goes-right flag in its top bit.
    value : ndarray (node_count, n_outputs) float64, the prediction at each node.
    impurity, weighted_n_node_samples : ndarray (node_count,) float64.
    n_node_samples : ndarray (node_count,) int64.
    max_depth : int.

    scikit-learn's tree_ vocabulary (children_left, children_right, feature, threshold,
    missing_go_to_left) and the split gains are derived from these on access.
    """

    @classmethod
    def from_arrays(cls, feature, threshold, missing_left, left, right, sums, depth, criterion,
                    params):
        tree = cls()
        n = len(feature)
        is_leaf = left == TREE_LEAF
        if not np.all(right[~is_leaf] == left[~is_leaf] + 1):
            raise ValueError("a Tree needs right children at left + 1.")
        nodes = np.empty(n, dtype=PREDICT_NODE_DTYPE)
        nodes["threshold"] = np.where(is_leaf, np.inf, threshold)
        nodes["left"] = np.where(is_leaf, np.arange(n), left)
        missing_right = ~is_leaf & (missing_left == 0)
        nodes["feature"] = (np.where(is_leaf, 0, feature).astype(np.uint32)
                            | np.where(missing_right, MISSING_RIGHT_BIT, np.uint32(0)))
        tree.nodes = nodes
        tree.value = leaf_values(sums, criterion, params)
        tree.impurity = np.empty(n)
        tree.weighted_n_node_samples = np.empty(n)
        _node_weights_and_impurities(sums, criterion, params, tree.weighted_n_node_samples,
                                     tree.impurity)
        tree.n_node_samples = sums[:, 0].astype(np.int64)
        tree.max_depth = int(depth.max())
        return tree

    # scikit-learn's tree_ vocabulary.
    @property
    def node_count(self):
        return len(self.nodes)

    @property
    def _is_leaf(self):
        return self.nodes["left"] == np.arange(len(self.nodes))

    @property
    def children_left(self):
        return np.where(self._is_leaf, TREE_LEAF, self.nodes["left"]).astype(np.int32)

    @property
    def children_right(self):
        return np.where(self._is_leaf, TREE_LEAF, self.nodes["left"] + 1).astype(np.int32)

    @property
    def feature(self):
        return np.where(self._is_leaf, TREE_UNDEFINED,
                        (self.nodes["feature"] & FEATURE_MASK).astype(np.int32))

    @property
    def threshold(self):
        return np.where(self._is_leaf, float(TREE_UNDEFINED), self.nodes["threshold"])

    @property
    def missing_go_to_left(self):
        right = (self.nodes["feature"] & MISSING_RIGHT_BIT) != 0
        return (~self._is_leaf & ~right).astype(np.uint8)

    @property
    def n_leaves(self):
        return int(np.sum(self._is_leaf))

    @property
    def n_outputs(self):
        return 1

    @property
    def gain(self):
        """Each split's weighted impurity decrease W i - W_l i_l - W_r i_r (0 at leaves)."""
        weighted = self.weighted_n_node_samples * self.impurity
        split = np.flatnonzero(~self._is_leaf)
        left = self.nodes["left"][split]
        out = np.zeros(self.node_count)
        out[split] = weighted[split] - weighted[left] - weighted[left + 1]
        return out

    def apply(self, X, absent=0.0):
        """Leaf id of every row of X (n_samples, n_features) float64 or sparse (absent: the value
        of its absent entries, see predict_forest)."""
        out = np.empty((X.shape[0], 1), dtype=np.int32)
        apply_forest(X, *tree_lists([self])[::2], out, absent)
        return out[:, 0]

    def predict(self, X):
        """Value of the leaf each row lands in, (n_samples, n_outputs)."""
        return self.value[self.apply(X)]

    def compute_feature_importances(self, n_features, normalize=True):
        """Impurity-based importances: sum over splits of the weighted impurity decrease
        W_node * i_node - W_left * i_left - W_right * i_right (scikit-learn's definition)."""
        importances = np.zeros(n_features)
        split = np.flatnonzero(~self._is_leaf)
        np.add.at(importances, self.nodes["feature"][split] & FEATURE_MASK, self.gain[split])
        total = importances.sum()
        if normalize and total > 0.0:
            importances /= total
        return importances


def _packed(arrays):
    """(packed, offsets): arrays concatenated along their first axis, piece t at
    packed[offsets[t]:offsets[t + 1]]. No copy when they already are consecutive pieces of one
    array (packed_views makes them so; any consecutive run of them, as a range of boosting
    rounds) or there is one."""
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    first = arrays[0]
    if len(arrays) == 1 and first.flags.c_contiguous:
        return first, offsets
    base = first.base
    if (isinstance(base, np.ndarray) and base.flags.c_contiguous and base.ndim == first.ndim
            and base.dtype == first.dtype and base.shape[1:] == first.shape[1:]):
        row = base.strides[0]
        start = (first.ctypes.data - base.ctypes.data) // row
        if start + offsets[-1] <= len(base) and all(
                a.base is base and a.ctypes.data == base.ctypes.data + (start + offsets[t]) * row
                for t, a in enumerate(arrays)):
            return base[start:start + offsets[-1]], offsets
    return np.ascontiguousarray(np.concatenate(arrays)), offsets


def _pack_in_place(owners, name):
    """Replace each owner's array attribute `name` by a view of one packed copy, one array at a
    time, so that each original can be freed as soon as it is copied (no moment holds two
    copies of a whole forest)."""
    arrays = [getattr(owner, name) for owner in owners]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    packed = np.empty((offsets[-1],) + arrays[0].shape[1:], dtype=arrays[0].dtype)
    del arrays
    for t, owner in enumerate(owners):
        view = packed[offsets[t]:offsets[t + 1]]
        view[...] = getattr(owner, name)
        setattr(owner, name, view)


def pack_trees(trees):
    """Make the trees' nodes and values consecutive pieces of two arrays (each tree keeps a
    view), so that tree_lists hands them to the kernels without a copy: boosters call it at
    the end of fit, and tree_lists on a forest's first predict (and after unpickling). Not at
    the end of a forest's fit: the packed copy of a forest of deep trees (96 MB for the rf100k
    bench) raised its peak fit memory by 48 MB, the originals' freed memory staying resident."""
    if trees:
        _pack_in_place(trees, "nodes")
        _pack_in_place(trees, "value")


def packed_views(arrays):
    """The arrays as consecutive views of one packed copy (what _packed reads without a
    copy)."""
    if not arrays:
        return []
    packed, offsets = _packed(arrays)
    return [packed[offsets[t]:offsets[t + 1]] for t in range(len(arrays))]


def tree_lists(trees, values=None):
    """What the ensemble kernels take: (nodes, values, depths), nodes = (packed
    PREDICT_NODE_DTYPE array, offsets), values = (packed (n, n_outputs) float64, offsets) (see
    _packed), depths an int64 array. values: per-tree value arrays to use instead of each
    tree's .value (the boosters pass scaled or recoded ones).

    Packed arrays rather than numba.typed.List: a typed list built from Python compiles its
    constructor and append in every new process (0.66 s of a warm first fit)."""
    nodes = _packed([tree.nodes for tree in trees])
    if values is None and nodes[0].base is None and len(trees) > 1:
        # Not yet packed (a forest's first predict, or unpickled trees): pack the trees in
        # place once, so that this and every later call copy nothing.
        pack_trees(trees)
        nodes = _packed([tree.nodes for tree in trees])
    value_list = _packed([tree.value for tree in trees] if values is None else list(values))
    depths = np.array([tree.max_depth for tree in trees], dtype=np.int64)
    return nodes, value_list, depths


def _block_rows(n_samples, n_features, forest_bytes):
    """Rows per prediction block (see _PREDICT_SMALL_FOREST), a multiple of _PREDICT_GROUP."""
    row_bytes = 8 * max(1, n_features)
    if forest_bytes <= _PREDICT_SMALL_FOREST:
        rows = max(1, _PREDICT_SMALL_BYTES // row_bytes)
        return -(-rows // _PREDICT_GROUP) * _PREDICT_GROUP
    threads = numba.get_num_threads()
    max_rows = max(_PREDICT_GROUP, _PREDICT_BLOCK_BYTES // row_bytes)
    n_blocks = max(threads, -(-n_samples // max_rows))
    n_blocks = -(-n_blocks // threads) * threads
    rows = -(-n_samples // n_blocks)
    return max(_PREDICT_GROUP, -(-rows // _PREDICT_GROUP) * _PREDICT_GROUP)


def _walk_plan(X, forest_bytes):
    """What the walk kernels take besides the forest: X as C-contiguous float64, the rows per
    block, and whether X holds a NaN (else the NaN test is compiled out)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    # NaN anywhere makes the sum NaN (inf - inf too: a false alarm that only costs the NaN
    # test), without np.isnan(X)'s n x d temporary.
    return X, _block_rows(*X.shape, forest_bytes), bool(np.isnan(X.sum()))


def predict_forest(X, nodes, values, depths, out, absent=0.0):
    """Sum over trees of each row's leaf value, trees added in order, into out.

    X      (n_samples, n_features) float64, C-contiguous, or scipy sparse (in)
    nodes  (packed PREDICT_NODE_DTYPE array, offsets) (in)  every tree's (tree_lists)
    values (packed (n_nodes, n_outputs) float64, offsets) (in)
    depths (n_trees,) int64                        (in)
    out    (n_samples, n_outputs) float64          (out)
    absent: the value of sparse X's absent entries (0.0; NaN: missing, XGB*'s meaning)

    Runs on Numba's current thread count (numba_threads); the result does not depend on it.
    """
    if sp.issparse(X):
        for lo, hi, block in _dense_row_blocks(X, absent):
            predict_forest(block, nodes, values, depths, out[lo:hi])
        return
    X, block, nan_aware = _walk_plan(X, nodes[0].nbytes + values[0].nbytes)
    _PREDICT_FOREST[nan_aware](X, nodes, values, depths, out, block)


def apply_forest(X, nodes, depths, out, absent=0.0):
    """Leaf id (within its tree) of each row in each tree: out (n_samples, n_trees) int32."""
    if sp.issparse(X):
        for lo, hi, block in _dense_row_blocks(X, absent):
            apply_forest(block, nodes, depths, out[lo:hi])
        return
    X, block, nan_aware = _walk_plan(X, nodes[0].nbytes)
    _APPLY_FOREST[nan_aware](X, nodes, depths, out, block)


def _dense_row_blocks(X, absent):
    """Sparse X's rows as dense float64 blocks of at most _SPARSE_BLOCK_BYTES (absent entries
    `absent`): (lo, hi, block) for rows lo:hi. The walk kernels read these; the whole X is never
    dense at once."""
    X = X.tocsr()
    n_samples, n_features = X.shape
    step = max(1, _SPARSE_BLOCK_BYTES // (8 * max(1, n_features)))
    for lo in range(0, n_samples, step):
        hi = min(n_samples, lo + step)
        yield lo, hi, dense_from_sparse(X[lo:hi], absent)


def dense_from_sparse(X, absent=0.0):
    """Sparse X as a C-contiguous float64 array, absent entries `absent`, duplicates summed."""
    if absent == 0.0:
        return np.ascontiguousarray(X.toarray(), dtype=np.float64)
    coo = X.tocoo(copy=True)
    coo.sum_duplicates()
    dense = np.full(coo.shape, absent)
    dense[coo.row, coo.col] = coo.data
    return dense


@njit(cache=True, nogil=True, inline="always")
def _step(X_flat, base, nodes, node, nan_aware):
    """One level down from `node` for the row at X_flat[base:]: the child, or `node` itself at
    a leaf. Indices are unsigned (base uint64, node uint32): Numba then skips the negative-index
    wraparound, a third of this hot loop's instructions.

    nan_aware False (X has no NaN, checked by the caller) drops the missing-value test: the
    step is then 1.7x faster, the whole loop compiling to fewer, simpler instructions."""
    rec = nodes[node]
    # Fields by name, not attribute: the same code in Numba, and NUMBA_DISABLE_JIT's numpy.void
    # records have no attributes.
    code = rec["feature"]
    v = X_flat[base + np.uint64(code & FEATURE_MASK)]
    if nan_aware:
        go_right = (v > rec["threshold"]) | (np.isnan(v) & ((code & MISSING_RIGHT_BIT) != 0))
    else:
        go_right = v > rec["threshold"]
    return np.uint32(rec["left"]) + np.uint32(go_right)


@njit(cache=True, nogil=True, inline="always")
def _tree_leaves(X_flat, n_features, lo, hi, nodes, depth, leaf, lane_base, lane_row,
                 lane_node, next_nodes, values_flat, nan_aware):
    """Leaf of each row lo .. hi-1 of X (C-contiguous, flattened to X_flat) in the tree `nodes`
    (root 0), into leaf[:hi - lo].

    The rows are walked _PREDICT_GROUP at a time, interleaved one level per pass, so that their
    independent node loads overlap in the memory system instead of waiting one after another
    (a single walk is latency-bound). lane_base (uint64: a row's offset in X_flat), lane_row
    (int64), lane_node (uint32): (_PREDICT_GROUP,) scratch. A deep tree's walk also prefetches,
    a cache line per pass, values_flat (this tree's leaf values, read next) and next_nodes (the
    next tree), which are otherwise first read by scattered misses (10-20% of the 100-tree RF
    bench forest's prediction time)."""
    if depth <= _FIXED_STEPS_MAX_DEPTH:
        # Shallow tree (boosting): exactly `depth` branch-free steps, a row that reached its
        # leaf early stays on it; no loop exit to mispredict.
        i0 = lo
        while i0 + _PREDICT_GROUP <= hi:
            for g in range(_PREDICT_GROUP):
                lane_node[g] = 0
                lane_base[g] = (i0 + g) * n_features
            for _ in range(depth):
                for g in range(_PREDICT_GROUP):
                    lane_node[g] = _step(X_flat, lane_base[g], nodes, lane_node[g], nan_aware)
            for g in range(_PREDICT_GROUP):
                leaf[i0 - lo + g] = lane_node[g]
            i0 += _PREDICT_GROUP
        for i in range(i0, hi):
            node = np.uint32(0)
            for _ in range(depth):
                node = _step(X_flat, np.uint64(i * n_features), nodes, node, nan_aware)
            leaf[i - lo] = node
        return
    # Deep tree (forests: leaves 10 to 40 levels down): a lane that reaches its leaf takes the
    # next row at once. (Walking fixed groups until their deepest row is done spent 30% of its
    # steps idling at leaves, and measured 15-25% slower on the 100-tree RF bench forest.)
    # A lane with no row left (row -1) rests on a leaf of row lo's path.
    nxt = lo
    for g in range(_PREDICT_GROUP):
        lane_node[g] = 0
        lane_row[g] = nxt if nxt < hi else -1
        lane_base[g] = min(nxt, hi - 1) * n_features
        nxt = min(nxt + 1, hi)
    remaining = hi - lo
    ahead_values = 0
    ahead_nodes = 0
    while remaining > 0:
        if ahead_values < values_flat.shape[0]:
            prefetch_1d(values_flat, ahead_values)
            ahead_values += 8  # float64 a line
        elif ahead_nodes < next_nodes.shape[0]:
            prefetch_1d(next_nodes, ahead_nodes)
            ahead_nodes += _NODES_PER_LINE
        for g in range(_PREDICT_GROUP):
            node = lane_node[g]
            child = _step(X_flat, lane_base[g], nodes, node, nan_aware)
            if child == node:  # a leaf (rare branch: once per row)
                row = lane_row[g]
                if row >= 0:
                    leaf[row - lo] = node
                    remaining -= 1
                    if nxt < hi:
                        lane_row[g] = nxt
                        lane_base[g] = nxt * n_features
                        nxt += 1
                        child = np.uint32(0)
                    else:
                        lane_row[g] = -1
            lane_node[g] = child


@njit(cache=True, nogil=True, inline="always")
def _piece(packed, t):
    """Tree t's part of a (packed array, offsets) pair (tree_lists)."""
    array, offsets = packed
    return array[offsets[t]:offsets[t + 1]]


@njit(cache=True, nogil=True, inline="always")
def _lanes():
    """The lane scratch of _tree_leaves: (lane_base, lane_row, lane_node)."""
    return (np.empty(_PREDICT_GROUP, dtype=np.uint64), np.empty(_PREDICT_GROUP, dtype=np.int64),
            np.empty(_PREDICT_GROUP, dtype=np.uint32))


@njit(cache=True, nogil=True, inline="always")
def _predict_block(X, lo, hi, nodes, values, depths, out, nan_aware):
    """out[lo:hi] = the sum over trees of the rows' leaf values, trees in order."""
    leaf = np.empty(hi - lo, dtype=np.int32)
    lane_base, lane_row, lane_node = _lanes()
    X_flat = X.ravel()
    out[lo:hi, :] = 0.0
    # Tree-outer: a tree's nodes stay in cache while the block's rows pass through it.
    n_trees = depths.shape[0]
    for t in range(n_trees):
        tree_values = _piece(values, t)
        _tree_leaves(X_flat, X.shape[1], lo, hi, _piece(nodes, t), depths[t], leaf, lane_base,
                     lane_row, lane_node, _piece(nodes, min(t + 1, n_trees - 1)),
                     tree_values.ravel(), nan_aware)
        for i in range(lo, hi):
            for k in range(tree_values.shape[1]):
                out[i, k] += tree_values[leaf[i - lo], k]


@njit(cache=True, nogil=True, inline="always")
def _apply_block(X, lo, hi, nodes, depths, out, nan_aware):
    """out[lo:hi, t] = the rows' leaves in tree t."""
    leaf = np.empty(hi - lo, dtype=np.int32)
    lane_base, lane_row, lane_node = _lanes()
    X_flat = X.ravel()
    n_trees = depths.shape[0]
    no_values = np.empty(0)
    for t in range(n_trees):
        _tree_leaves(X_flat, X.shape[1], lo, hi, _piece(nodes, t), depths[t], leaf, lane_base,
                     lane_row, lane_node, _piece(nodes, min(t + 1, n_trees - 1)), no_values,
                     nan_aware)
        for i in range(lo, hi):
            out[i, t] = leaf[i - lo]


def _make_walk_blocks(nan_aware):
    """The per-block walks of one NaN mode, each a kernel of its own (not inlined into the
    threaded loops below: the parallel compile then analyses a two-line loop body, not the
    whole walk, ~2x less compile time): (predict_block, apply_block)."""

    @kernel_variant("_walk_predict_block" + ("_nan" if nan_aware else ""))
    def predict_block(X, lo, hi, nodes, values, depths, out):
        _predict_block(X, lo, hi, nodes, values, depths, out, nan_aware)

    @kernel_variant("_walk_apply_block" + ("_nan" if nan_aware else ""))
    def apply_block(X, lo, hi, nodes, depths, out):
        _apply_block(X, lo, hi, nodes, depths, out, nan_aware)

    return predict_block, apply_block


_PREDICT_BLOCK, _APPLY_BLOCK = _make_walk_blocks(False)
_PREDICT_BLOCK_NAN, _APPLY_BLOCK_NAN = _make_walk_blocks(True)


def _make_predict_forest(nan_aware):
    """predict_forest's kernel, with the NaN test compiled in or out (nan_aware, chosen in
    Python from X): blocks of `block` rows over Numba's threads."""

    @kernel_variant("_predict_forest" + ("_nan" if nan_aware else ""), parallel=True)
    def predict(X, nodes, values, depths, out, block):
        n_samples = X.shape[0]
        for blk in prange((n_samples + block - 1) // block):
            lo = blk * block
            hi = min(n_samples, lo + block)
            if nan_aware:
                _PREDICT_BLOCK_NAN(X, lo, hi, nodes, values, depths, out)
            else:
                _PREDICT_BLOCK(X, lo, hi, nodes, values, depths, out)

    return predict


_PREDICT_FOREST = {nan_aware: _make_predict_forest(nan_aware) for nan_aware in (False, True)}


def _make_apply_forest(nan_aware):
    """apply_forest's kernel, with the NaN test compiled in or out: blocks of `block` rows over
    Numba's threads."""

    @kernel_variant("_apply_forest" + ("_nan" if nan_aware else ""), parallel=True)
    def apply(X, nodes, depths, out, block):
        n_samples = X.shape[0]
        for blk in prange((n_samples + block - 1) // block):
            lo = blk * block
            hi = min(n_samples, lo + block)
            if nan_aware:
                _APPLY_BLOCK_NAN(X, lo, hi, nodes, depths, out)
            else:
                _APPLY_BLOCK(X, lo, hi, nodes, depths, out)

    return apply


_APPLY_FOREST = {nan_aware: _make_apply_forest(nan_aware) for nan_aware in (False, True)}


def _predict_forest_naive(X, trees):
    """Reference for tests: per-tree Python traversal, summed."""
    total = 0.0
    for tree in trees:
        leaves = []
        for x in X:
            node = 0
            left, right = tree.children_left, tree.children_right
            while left[node] != TREE_LEAF:
                f = tree.feature[node]
                if np.isnan(x[f]):
                    go_left = bool(tree.missing_go_to_left[node])
                else:
                    go_left = x[f] <= tree.threshold[node]
                node = left[node] if go_left else right[node]
            leaves.append(node)
        total = total + tree.value[np.array(leaves)]
    return total
