"""Every dtype and record layout of the tree engine, each with its reason.

Imported by the kernels (binning, histogram, split, grow, predict) and by the plain-Python layers
that allocate their buffers, so a layout change happens in one place.
"""

import numpy as np

# Binned feature codes: one byte per cell keeps X_binned (n_samples x n_features, row-major so a
# node's rows are read one cache line each) small enough to stay cache-resident.
X_BINNED_DTYPE = np.uint8
# Code reserved for NaN. Real values use codes 0 .. max_bins - 1 <= 254.
MISSING_BIN = 255
# Histogram width: every code, the missing one included.
N_HIST_BINS = 256
# Largest number of non-missing bins a feature may have.
MAX_BINS = 255

# Per-sample channels and every sum of them (histograms, node sums): float64, as scikit-learn's
# HistGradientBoosting does for its sums, so a sum barely depends on the order of its terms and
# row counts (channel 0) stay exact integers.
STATS_DTYPE = np.float64
# Row indices and node indices.
INDEX_DTYPE = np.int32
# Thresholds are real values taken from the bin edges, so prediction needs no binner.
THRESHOLD_DTYPE = np.float64

# Marker for "no child" in left/right and "no feature" in feature, as scikit-learn's TREE_LEAF.
TREE_LEAF = -1

# Criterion ids shared by the split kernels (_criterion.py) and the estimators.
CRITERION_GINI = 0
CRITERION_ENTROPY = 1
CRITERION_SQUARED_ERROR = 2
CRITERION_FRIEDMAN_MSE = 3
CRITERION_SECOND_ORDER = 4
CRITERION_POISSON = 5
# The regression criteria of a multi-output y (n_outputs > 1), each its own variant (the general
# scan over the sums arrays; the single-output ones scan two channels in scalars). Channels:
# sum w, sum w y_j for each output j, and one sum over the outputs of w y_j^2 (w y_j log y_j).
# friedman_mse is squared_error there, as in scikit-learn 1.9 (which maps the one to the other).
CRITERION_SQUARED_ERROR_MO = 6
CRITERION_POISSON_MO = 7
# Mean absolute error around the weighted median: scanned on the rows (_absolute_error.py),
# stats (w, y_1, ..., y_J) for any number of outputs J.
CRITERION_ABSOLUTE_ERROR = 8
MULTI_OUTPUT_CRITERIA = {CRITERION_SQUARED_ERROR: CRITERION_SQUARED_ERROR_MO,
                         CRITERION_FRIEDMAN_MSE: CRITERION_SQUARED_ERROR_MO,
                         CRITERION_POISSON: CRITERION_POISSON_MO}
# Their names, as the compiled grower variants are named (_grower._grow_kernel).
CRITERION_NAMES = ("gini", "entropy", "squared_error", "friedman_mse", "second_order",
                   "poisson", "squared_error_mo", "poisson_mo", "absolute_error")

# The criterion's parameters, packed in one float64 array for the kernels: second-order (XGBoost)
# regularisation, and the number of outputs, whose mean impurity gini / entropy report for a
# multi-output y (their channels are the outputs' class columns side by side).
PARAM_LAMBDA = 0
PARAM_ALPHA = 1
PARAM_MAX_DELTA_STEP = 2
PARAM_N_OUTPUTS = 3
N_CRITERION_PARAMS = 4


# A node as the grower keeps it while growing (one record per node, one array grown in one call;
# the channel sums and the best split's left sums, whose width is the tree's, are 2-D arrays
# beside it). start:end are the node's rows; hist_slot its histogram in the grower's pool (-1:
# none); cand_* the best split found for it, made if the node is expanded; assigned: a leaf
# whose rows' leaf ids were already written.
GROW_NODE_DTYPE = np.dtype(
    [
        ("start", np.int64),
        ("end", np.int64),
        ("depth", np.int64),
        ("hist_slot", np.int64),
        ("gain", np.float64),
        ("drawn_threshold", np.float64),
        ("cand_gain", np.float64),
        ("cand_threshold", np.float64),
        ("cand_feature", np.int64),
        ("cand_bin", np.int64),
        ("cand_missing_left", np.int64),
        ("feature", np.int32),
        ("split_bin", np.int32),
        ("left", np.int32),
        ("right", np.int32),
        ("missing_left", np.uint8),
        ("assigned", np.uint8),
    ]
)

# One tree node, as Tree stores it and the prediction kernels read it: 16 bytes, four to a cache
# line. The grower allocates children in pairs, so right == left + 1 and the child is
# `left + go_right` without a branch. A leaf points to itself with threshold +inf, so a traversal
# that reaches it stays there (the kernels step rows until none moves, or a fixed number of
# steps). `feature` carries the missing-goes-right flag in its top bit.
PREDICT_NODE_DTYPE = np.dtype(
    [
        ("threshold", np.float64),
        ("left", np.int32),
        ("feature", np.uint32),
    ]
)
MISSING_RIGHT_BIT = np.uint32(1 << 31)
FEATURE_MASK = np.uint32((1 << 31) - 1)
