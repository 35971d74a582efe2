"""Tree: a grown tree as flat arrays with real thresholds, and the prediction kernels.

The grower returns a Tree; estimators keep it as ``tree_`` (scikit-learn's attribute names:
children_left, children_right, feature, threshold, value, impurity, n_node_samples,
weighted_n_node_samples). Ensembles pack their trees into one node array (`pack_trees`) so one
kernel call predicts the whole forest over raw float X: no binning at predict time, NaN follows
each node's learned direction.
"""

import numpy as np
from numba import njit, prange

from ._criterion import _node_weights_and_impurities, leaf_values
from ._types import NODE_DTYPE, TREE_LEAF

# scikit-learn's value of feature/threshold at a leaf.
TREE_UNDEFINED = -2
# Rows per parallel block in prediction: each block is independent, so results do not depend on
# the thread count.
_PREDICT_BLOCK = 256


class Tree:
    """One fitted tree (arrays indexed by node id; node 0 is the root).

    Attributes
    ----------
    nodes : structured ndarray (NODE_DTYPE): threshold, feature, left, right, missing_left.
    value : ndarray (node_count, n_outputs) float64, the prediction at each node.
    impurity, weighted_n_node_samples, gain : ndarray (node_count,) float64.
    n_node_samples : ndarray (node_count,) int64.
    max_depth : int.
    """

    @classmethod
    def from_arrays(cls, feature, threshold, missing_left, left, right, sums, gain, depth,
                    criterion, params):
        tree = cls()
        n = len(feature)
        nodes = np.zeros(n, dtype=NODE_DTYPE)
        is_leaf = left == TREE_LEAF
        nodes["feature"] = np.where(is_leaf, TREE_UNDEFINED, feature)
        nodes["threshold"] = np.where(is_leaf, float(TREE_UNDEFINED), threshold)
        nodes["left"] = left
        nodes["right"] = right
        nodes["missing_left"] = missing_left
        tree.nodes = nodes
        tree.value = leaf_values(sums, criterion, params)
        tree.impurity = np.empty(n)
        tree.weighted_n_node_samples = np.empty(n)
        _node_weights_and_impurities(sums, criterion, params, tree.weighted_n_node_samples,
                                     tree.impurity)
        tree.n_node_samples = sums[:, 0].astype(np.int64)
        tree.gain = gain
        tree.max_depth = int(depth.max())
        return tree

    # scikit-learn's tree_ vocabulary.
    @property
    def node_count(self):
        return len(self.nodes)

    @property
    def children_left(self):
        return self.nodes["left"]

    @property
    def children_right(self):
        return self.nodes["right"]

    @property
    def feature(self):
        return self.nodes["feature"]

    @property
    def threshold(self):
        return self.nodes["threshold"]

    @property
    def missing_go_to_left(self):
        return self.nodes["missing_left"]

    @property
    def n_leaves(self):
        return int(np.sum(self.nodes["left"] == TREE_LEAF))

    @property
    def n_outputs(self):
        return 1

    def apply(self, X):
        """Leaf id of every row of X (n_samples, n_features) float64."""
        out = np.empty((X.shape[0], 1), dtype=np.int32)
        _apply_forest(X, self.nodes, np.zeros(1, dtype=np.int64), out)
        return out[:, 0]

    def predict(self, X):
        """Value of the leaf each row lands in, (n_samples, n_outputs)."""
        return self.value[self.apply(X)]

    def compute_feature_importances(self, n_features, normalize=True):
        """Impurity-based importances: sum over splits of the weighted impurity decrease
        W_node * i_node - W_left * i_left - W_right * i_right (scikit-learn's definition)."""
        importances = np.zeros(n_features)
        weighted = self.weighted_n_node_samples * self.impurity
        split = np.flatnonzero(self.nodes["left"] != TREE_LEAF)
        left = self.nodes["left"][split]
        right = self.nodes["right"][split]
        decrease = weighted[split] - weighted[left] - weighted[right]
        np.add.at(importances, self.nodes["feature"][split], decrease)
        total = importances.sum()
        if normalize and total > 0.0:
            importances /= total
        return importances


def pack_trees(trees):
    """One node array and one value array for a list of trees.

    Returns (nodes, values, roots): child ids are shifted to global ids; roots[t] is the root of
    tree t, so `_predict_forest(X, nodes, values, roots, ...)` evaluates every tree in one call."""
    sizes = np.array([t.node_count for t in trees], dtype=np.int64)
    roots = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    nodes = np.concatenate([t.nodes for t in trees])
    for root, size in zip(roots, sizes):
        block = nodes[root:root + size]
        is_split = block["left"] != TREE_LEAF
        block["left"][is_split] += root
        block["right"][is_split] += root
    values = np.concatenate([t.value for t in trees])
    return nodes, values, roots


@njit(cache=True, nogil=True, inline="always")
def _find_leaf(x, nodes, node):
    """Leaf reached by row x (n_features,) from `node`, NaN following missing_left."""
    while nodes[node].left != TREE_LEAF:
        rec = nodes[node]
        v = x[rec.feature]
        if np.isnan(v):
            node = rec.left if rec.missing_left else rec.right
        elif v <= rec.threshold:
            node = rec.left
        else:
            node = rec.right
    return node


@njit(cache=True, nogil=True, parallel=True)
def _predict_forest(X, nodes, values, roots, out):
    """Sum over trees of each row's leaf value, trees added in order.

    X      (n_samples, n_features) float64 (in)
    nodes  (n_nodes,) NODE_DTYPE           (in)  packed forest (pack_trees)
    values (n_nodes, n_outputs) float64    (in)
    roots  (n_trees,) int64                (in)
    out    (n_samples, n_outputs) float64  (out)
    """
    n_samples = X.shape[0]
    n_blocks = (n_samples + _PREDICT_BLOCK - 1) // _PREDICT_BLOCK
    for blk in prange(n_blocks):
        lo = blk * _PREDICT_BLOCK
        hi = min(n_samples, lo + _PREDICT_BLOCK)
        out[lo:hi, :] = 0.0
        # Tree-outer within a block: a tree's upper levels stay in cache for the block's rows.
        for t in range(roots.shape[0]):
            for i in range(lo, hi):
                leaf = _find_leaf(X[i], nodes, roots[t])
                for k in range(values.shape[1]):
                    out[i, k] += values[leaf, k]


@njit(cache=True, nogil=True, parallel=True)
def _apply_forest(X, nodes, roots, out):
    """Leaf id (global, within the packed arrays) of each row in each tree: out (n_samples,
    n_trees) int32 (out)."""
    n_samples = X.shape[0]
    n_blocks = (n_samples + _PREDICT_BLOCK - 1) // _PREDICT_BLOCK
    for blk in prange(n_blocks):
        lo = blk * _PREDICT_BLOCK
        hi = min(n_samples, lo + _PREDICT_BLOCK)
        for t in range(roots.shape[0]):
            for i in range(lo, hi):
                out[i, t] = _find_leaf(X[i], nodes, roots[t])


def _predict_forest_naive(X, trees):
    """Reference for tests: per-tree Python traversal, summed."""
    total = 0.0
    for tree in trees:
        leaves = []
        for x in X:
            node = 0
            while tree.nodes["left"][node] != TREE_LEAF:
                f = tree.nodes["feature"][node]
                if np.isnan(x[f]):
                    go_left = bool(tree.nodes["missing_left"][node])
                else:
                    go_left = x[f] <= tree.nodes["threshold"][node]
                node = tree.nodes["left"][node] if go_left else tree.nodes["right"][node]
            leaves.append(node)
        total = total + tree.value[np.array(leaves)]
    return total
