"""Pieces every ensemble shares."""

import numpy as np

from ..tree._tree import packed_views


def mean_tree_importances(trees, n_features, normalize_trees):
    """scikit-learn's ensemble feature_importances_: the mean over the trees that split of each
    tree's impurity-based importances (normalised per tree first when normalize_trees, as the
    forests do; raw for gradient boosting), normalised to sum to 1; zeros if no tree splits."""
    per_tree = [tree.compute_feature_importances(n_features, normalize=normalize_trees)
                for tree in trees if tree.node_count > 1]
    if not per_tree:
        return np.zeros(n_features)
    mean = np.mean(per_tree, axis=0)
    return mean / mean.sum()


def scaled_output_values(trees, n_outputs, learning_rate):
    """Per-tree value arrays for the one-call predict kernel of a booster with K = n_outputs
    trees per round (trees in round-major order): learning_rate (one value, or one per tree)
    times each tree's value in column k = tree index % K, zeros elsewhere; views of one packed
    array, which the kernels read without a copy."""
    rates = np.broadcast_to(np.asarray(learning_rate, dtype=np.float64), (len(trees),))
    out = []
    for i, tree in enumerate(trees):
        wide = np.zeros((tree.node_count, n_outputs))
        wide[:, i % n_outputs] = rates[i] * tree.value[:, 0]
        out.append(wide)
    return packed_views(out)
