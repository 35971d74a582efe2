"""Pieces every ensemble shares."""

import numpy as np


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
