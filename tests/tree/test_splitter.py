"""Split search: the Numba kernel against a brute-force NumPy search."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skext.tree._criterion import _split_gain, _weighted_impurity, criterion_params
from skext.tree._histogram import _build_histogram, _build_histograms_rows
from skext.tree._random import new_rng_state
from skext.tree._splitter import (
    _best_of_scans,
    _draw_feature,
    _find_best_split_naive,
    _scan_nodes,
    scan_buffers,
    split_finder,
)
from skext.tree._types import (
    CRITERION_ENTROPY,
    CRITERION_FRIEDMAN_MSE,
    CRITERION_GINI,
    CRITERION_SECOND_ORDER,
    CRITERION_SQUARED_ERROR,
    MISSING_BIN,
    N_HIST_BINS,
)

PARAMS = criterion_params(1.0)


def _kernel(X, stats, criterion, min_samples_leaf=1, min_weight_leaf=0.0, full=False,
            params=PARAMS, countless=False, threaded=False, seed=0):
    """One node's best split: _find_best_split's serial loop, or (threaded) the same draws
    and _scan_nodes over threads, as the grower runs them."""
    n_slots = stats.shape[1] + 1
    node = np.r_[len(X), stats.sum(axis=0)]
    pool = np.arange(X.shape[1], dtype=np.int32)
    node_hist = np.zeros((0, 0, 0))
    if countless:
        node_hist = np.zeros((len(pool), N_HIST_BINS, n_slots - 1))
        _build_histograms_rows(X, stats, np.arange(len(X), dtype=np.int32), pool,
                               np.array([[0, len(X)]]), np.zeros(1, np.int64),
                               np.full(1, -1), node_hist[None], np.empty((0, 0, 0, 0)), False,
                               1, stats.shape[1], False)
    elif full:
        node_hist = np.zeros((len(pool), N_HIST_BINS, n_slots))
        _build_histogram(X, stats, 0, len(X), pool, node_hist, False, stats.shape[1])
    best_gain, best_meta, best_left = np.empty(1), np.empty(3, np.int64), np.empty(n_slots)
    if threaded:
        rng_state = new_rng_state(seed)
        order = np.arange(len(pool), dtype=np.int32)
        for i in range(len(pool)):
            _draw_feature(rng_state, order, i)
        per_pair = scan_buffers(len(pool), n_slots)
        _scan_nodes(node_hist[None], np.zeros(1, np.int64), node[None], pool, order[None],
                    criterion, stats.shape[1], not countless, params, min_samples_leaf,
                    min_weight_leaf, per_pair)
        _best_of_scans(per_pair, 0, len(pool), node, criterion, params, np.empty(n_slots),
                       best_gain, best_meta, best_left)
        return best_gain[0], best_meta.copy(), best_left.copy(), node
    find = split_finder(criterion, stats.shape[1], not countless, False)
    find(X, stats, 0, len(X), node, node_hist, pool, np.ones(len(pool), np.uint8),
         np.empty(len(pool), np.int32), len(pool), np.zeros((X.shape[1], 255)),
         np.zeros((X.shape[1], 255)), params, min_samples_leaf, min_weight_leaf,
         new_rng_state(seed), np.zeros((N_HIST_BINS, n_slots)), np.empty(N_HIST_BINS, np.int32),
         np.empty(N_HIST_BINS, np.int32), np.empty(n_slots), np.empty(n_slots),
         np.empty(n_slots), best_gain, best_meta, best_left, np.empty(1))
    return best_gain[0], best_meta.copy(), best_left.copy(), node


_ALL_CRITERIA = [CRITERION_GINI, CRITERION_ENTROPY, CRITERION_SQUARED_ERROR,
                 CRITERION_FRIEDMAN_MSE, CRITERION_SECOND_ORDER]


@st.composite
def node_data(draw, criteria=_ALL_CRITERIA, n_classes=(2, 3)):
    n = draw(st.integers(2, 60))
    d = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    X = rng.integers(0, draw(st.integers(1, 12)), size=(n, d)).astype(np.uint8)
    X[rng.random((n, d)) < draw(st.sampled_from([0.0, 0.2]))] = MISSING_BIN
    criterion = draw(st.sampled_from(criteria))
    w = rng.integers(1, 3, n).astype(float)
    if criterion in (CRITERION_GINI, CRITERION_ENTROPY):
        # Two classes take the scalar scan, three the general one.
        k = draw(st.sampled_from(n_classes))
        stats = np.eye(k)[rng.integers(0, k, n)] * w[:, None]
    elif criterion in (CRITERION_SQUARED_ERROR, CRITERION_FRIEDMAN_MSE):
        y = rng.normal(size=n)
        stats = np.column_stack([w, w * y, w * y * y])
    else:
        stats = np.column_stack([rng.normal(size=n), rng.random(n) + 0.1])
    return X, stats, criterion, draw(st.integers(1, 3))


def _found_brute_force_split(gain, meta, X, stats, criterion, params, min_samples_leaf,
                             min_weight_leaf):
    """Assert the kernel found a split exactly when the brute force did, with its gain; return
    whether there is one."""
    ref_gain, ref_f, _, _ = _find_best_split_naive(
        X, stats, np.arange(len(X)), range(X.shape[1]), criterion, params, min_samples_leaf,
        min_weight_leaf)
    assert (meta[0] >= 0) == (ref_f >= 0)
    if ref_f >= 0:
        assert np.isclose(gain, ref_gain, rtol=1e-9, atol=1e-9)
    return ref_f >= 0

# --- reference --------------------------------------------------------------------------------


def test_hand_computed_split_learns_missing_direction():
    # Class 1 iff x is missing or x >= 2: the best split is x <= bin 1 with NaN going right.
    X = np.array([[0], [1], [2], [3], [MISSING_BIN], [MISSING_BIN]], dtype=np.uint8)
    stats = np.eye(2)[[0, 0, 1, 1, 1, 1]]
    gain, meta, left, node = _kernel(X, stats, CRITERION_GINI)
    assert meta.tolist() == [0, 1, 0]
    assert np.isclose(gain, _weighted_impurity(node, CRITERION_GINI, PARAMS))
    # Flip the classes of the missing rows: NaN must now go left.
    stats = np.eye(2)[[0, 0, 1, 1, 0, 0]]
    _, meta, _, _ = _kernel(X, stats, CRITERION_GINI)
    assert meta.tolist() == [0, 1, 1]


@given(node_data(), st.booleans(), st.sampled_from([0.0, 1.5]))
def test_kernel_matches_brute_force(data, full, min_weight_leaf):
    X, stats, criterion, min_samples_leaf = data
    gain, meta, left, node = _kernel(X, stats, criterion, min_samples_leaf, min_weight_leaf,
                                     full=full)
    if not _found_brute_force_split(gain, meta, X, stats, criterion, PARAMS, min_samples_leaf,
                                    min_weight_leaf):
        return
    # Rows of the chosen split, recomputed: left + right = parent and the gain is the stated one.
    codes = X[:, meta[0]]
    goes_left = np.where(codes == MISSING_BIN, meta[2] == 1, codes <= meta[1])
    ones = np.ones((len(X), 1))
    np.testing.assert_allclose(left, np.hstack([ones, stats])[goes_left].sum(axis=0), atol=1e-9)
    right = node - left
    assert right[0] >= min_samples_leaf and left[0] >= min_samples_leaf
    assert np.isclose(_split_gain(left, right, node, criterion, PARAMS), gain, atol=1e-9)


@given(node_data([CRITERION_GINI, CRITERION_SQUARED_ERROR, CRITERION_FRIEDMAN_MSE], (2,)),
       st.sampled_from([0.5, 1.5, 3.0]), st.booleans())
def test_scalar_scans_weigh_children_as_brute_force(data, min_weight_leaf, full):
    """The scalar scans (binary gini, squared_error, friedman_mse) apply min_weight_leaf to the
    children's weights as the reference does."""
    X, stats, criterion, min_samples_leaf = data
    gain, meta, _, _ = _kernel(X, stats, criterion, min_samples_leaf, min_weight_leaf, full=full)
    _found_brute_force_split(gain, meta, X, stats, criterion, PARAMS, min_samples_leaf,
                             min_weight_leaf)


@given(node_data(), st.sampled_from([(1.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.5, 0.3, 0.0),
                                     (1.0, 0.0, 0.4), (2.0, 0.2, 0.3)]),
       st.sampled_from([0.0, 0.5]), st.booleans())
def test_second_order_scan_matches_brute_force(data, params, min_weight_leaf, full):
    """The booster's scalar scan (plain G^2/(H + lambda) when alpha = max_delta_step = 0, the
    general regularised loss otherwise) finds the brute-force optimum."""
    X, stats, _, min_samples_leaf = data
    rng = np.random.default_rng(len(X))
    stats = np.column_stack([rng.normal(size=len(X)), rng.random(len(X)) + 0.1])
    params = criterion_params(*params)
    gain, meta, left, node = _kernel(X, stats, CRITERION_SECOND_ORDER, min_samples_leaf,
                                     min_weight_leaf, full=full, params=params)
    if not _found_brute_force_split(gain, meta, X, stats, CRITERION_SECOND_ORDER, params,
                                    min_samples_leaf, min_weight_leaf):
        return
    assert np.isclose(_split_gain(left, node - left, node, CRITERION_SECOND_ORDER, params), gain,
                      atol=1e-9)



@given(node_data([CRITERION_SECOND_ORDER]), st.sampled_from([(1.0, 0.0, 0.0), (0.5, 0.3, 0.4)]),
       st.sampled_from([0.0, 0.5]))
def test_countless_second_order_scan_matches_brute_force(data, params, min_weight_leaf):
    """The scan over countless (g, h) histograms (the booster's): the brute-force optimum with
    min_samples_leaf 1; NaN goes right in a node without NaN (xgboost's rule), and the left
    sums carry no count."""
    X, stats, _, _ = data
    params = criterion_params(*params)
    gain, meta, left, node = _kernel(X, stats, CRITERION_SECOND_ORDER, 1, min_weight_leaf,
                                     params=params, countless=True)
    if not _found_brute_force_split(gain, meta, X, stats, CRITERION_SECOND_ORDER, params, 1,
                                    min_weight_leaf):
        return
    codes = X[:, meta[0]]
    if not (codes == MISSING_BIN).any():
        assert meta[2] == 0
    goes_left = np.where(codes == MISSING_BIN, meta[2] == 1, codes <= meta[1])
    assert left[0] == 0.0
    np.testing.assert_allclose(left[1:], stats[goes_left].sum(axis=0), atol=1e-9)
    assert 0 < goes_left.sum() < len(X)


@given(node_data(), st.sampled_from([0.0, 1.5]), st.booleans())
def test_threaded_feature_scan_picks_the_serial_split(data, min_weight_leaf, countless):
    """Scanning a full histogram's features over threads gives the serial scan's split (the
    first best in visiting order), every criterion, counted or countless (second order)."""
    X, stats, criterion, min_samples_leaf = data
    countless = countless and criterion == CRITERION_SECOND_ORDER
    if countless:
        min_samples_leaf = 1
    kwargs = dict(full=True, countless=countless)
    serial = _kernel(X, stats, criterion, min_samples_leaf, min_weight_leaf, **kwargs)
    threaded = _kernel(X, stats, criterion, min_samples_leaf, min_weight_leaf, threaded=True,
                       **kwargs)
    assert serial[1].tolist() == threaded[1].tolist()
    if serial[1][0] >= 0:
        assert serial[0] == threaded[0]
        np.testing.assert_array_equal(serial[2], threaded[2])

@given(node_data(criteria=[CRITERION_SECOND_ORDER]), st.booleans())
def test_second_order_ties_go_to_the_lower_feature(data, countless):
    """xgboost's rule: among features whose best splits score the same, the lowest index wins,
    whatever order the features are visited in (a duplicated column can never win)."""
    X, stats, criterion, _ = data
    X = np.column_stack([X, X])  # features k and k + d split alike
    d = X.shape[1] // 2
    for seed in range(4):
        for threaded in (False, True):
            gain, meta, _, _ = _kernel(X, stats, criterion, 1, full=True, countless=countless,
                                       threaded=threaded, seed=seed)
            if meta[0] >= 0:
                assert meta[0] < d


# --- properties -------------------------------------------------------------------------------


@given(node_data())
def test_impurity_gain_non_negative(data):
    X, stats, criterion, min_samples_leaf = data
    gain, meta, _, _ = _kernel(X, stats, criterion, min_samples_leaf)
    if meta[0] >= 0 and criterion != CRITERION_SECOND_ORDER:
        assert gain >= -1e-9


def test_min_weight_leaf_blocks_light_children():
    X = np.array([[0], [1], [1], [1]], dtype=np.uint8)
    stats = np.eye(2)[[0, 1, 1, 1]]
    _, meta, _, _ = _kernel(X, stats, CRITERION_GINI, min_weight_leaf=1.5)
    assert meta[0] == -1
