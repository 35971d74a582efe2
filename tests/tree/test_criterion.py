"""Impurities, gains and leaf values against their textbook formulas."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skext.tree._criterion import (
    _children_score,
    _second_order_weight,
    _split_gain,
    _weighted_impurity,
    criterion_params,
    leaf_values,
)
from skext.tree._types import (
    CRITERION_ENTROPY,
    CRITERION_FRIEDMAN_MSE,
    CRITERION_GINI,
    CRITERION_SECOND_ORDER,
    CRITERION_SQUARED_ERROR,
)

NO_PARAMS = criterion_params()
counts = st.lists(st.floats(0.0, 50.0), min_size=2, max_size=5)

# --- reference --------------------------------------------------------------------------------


def test_gini_and_entropy_hand_computed():
    s = np.array([4.0, 1.0, 3.0])  # count, class weights 1 and 3
    assert np.isclose(_weighted_impurity(s, CRITERION_GINI, NO_PARAMS), 4 * (1 - 1 / 16 - 9 / 16))
    entropy = -(0.25 * np.log2(0.25) + 0.75 * np.log2(0.75))
    assert np.isclose(_weighted_impurity(s, CRITERION_ENTROPY, NO_PARAMS), 4 * entropy)


def test_squared_error_is_weighted_variance_sum():
    y = np.array([1.0, 2.0, 6.0])
    w = np.array([1.0, 2.0, 1.0])
    s = np.array([3.0, w.sum(), (w * y).sum(), (w * y * y).sum()])
    mean = np.average(y, weights=w)
    assert np.isclose(_weighted_impurity(s, CRITERION_SQUARED_ERROR, NO_PARAMS),
                      np.sum(w * (y - mean) ** 2))


def test_friedman_improvement():
    left = np.array([2.0, 2.0, 2.0, 2.0])   # mean 1
    right = np.array([2.0, 2.0, 6.0, 18.0])  # mean 3
    parent = left + right
    expected = 2.0 * 2.0 / 4.0 * (1.0 - 3.0) ** 2
    assert np.isclose(_split_gain(left, right, parent, CRITERION_FRIEDMAN_MSE, NO_PARAMS), expected)


@given(st.floats(-100, 100), st.floats(0, 100), st.floats(0, 10), st.floats(0, 10),
       st.floats(0, 5))
def test_second_order_weight_and_loss(g, h, lam, alpha, max_delta_step):
    """Leaf weight minimises G w + (H + lambda) w^2 / 2 + alpha |w| (within max_delta_step)."""
    params = criterion_params(lam, alpha, max_delta_step)
    w = _second_order_weight(g, h, params)
    if h + lam <= 0:
        assert w == 0.0
        return
    def loss(v):
        return g * v + 0.5 * (h + lam) * v * v + alpha * abs(v)
    bound = max_delta_step if max_delta_step > 0 else np.inf
    assert abs(w) <= bound + 1e-12
    grid = np.clip(w + np.linspace(-1, 1, 41), -bound, bound)
    assert all(loss(w) <= loss(v) + 1e-9 for v in grid)
    s = np.array([1.0, g, h])
    assert np.isclose(_weighted_impurity(s, CRITERION_SECOND_ORDER, params), loss(w))


def test_leaf_values():
    sums = np.array([[3.0, 1.0, 2.0]])
    np.testing.assert_allclose(leaf_values(sums, CRITERION_GINI, NO_PARAMS), [[1 / 3, 2 / 3]])
    sums = np.array([[3.0, 2.0, 5.0, 20.0]])
    np.testing.assert_allclose(leaf_values(sums, CRITERION_SQUARED_ERROR, NO_PARAMS), [[2.5]])
    sums = np.array([[3.0, -4.0, 2.0]])
    np.testing.assert_allclose(leaf_values(sums, CRITERION_SECOND_ORDER, np.array([1.0, 0, 0])),
                               [[4.0 / 3.0]])

# --- properties -------------------------------------------------------------------------------


@given(counts, counts, st.sampled_from([CRITERION_GINI, CRITERION_ENTROPY]))
def test_impurity_gain_is_non_negative(left_counts, right_counts, criterion):
    n = min(len(left_counts), len(right_counts))
    left = np.array([1.0] + left_counts[:n])
    right = np.array([1.0] + right_counts[:n])
    gain = _split_gain(left, right, left + right, criterion, NO_PARAMS)
    assert gain >= -1e-9 * (1 + left.sum() + right.sum())


@given(counts, counts, st.sampled_from([CRITERION_GINI, CRITERION_ENTROPY]))
def test_children_score_ranks_like_gain(a, b, criterion):
    """The scan maximises _children_score; it must differ from the gain by a parent-only term."""
    n = min(len(a), len(b)) - 1
    if n < 1:
        return
    parent = np.array([2.0] + [x + y + 1.0 for x, y in zip(a[:n + 1], b[:n + 1])])
    left1 = np.array([1.0] + [x + 0.5 for x in a[:n + 1]])
    left2 = np.array([1.0] + [y + 0.5 for y in b[:n + 1]])
    diffs = []
    for left in (left1, left2):
        right = parent - left
        right[0] = 1.0
        diffs.append(_split_gain(left, right, parent, criterion, NO_PARAMS)
                     - _children_score(left, right, criterion, NO_PARAMS))
    assert np.isclose(diffs[0], diffs[1], rtol=1e-9, atol=1e-6)
