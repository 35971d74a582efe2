"""Explicit-state random numbers for the kernels (splitmix64).

Every tree gets its own state, seeded from the estimator's random_state, and passes it through the
kernels: results never depend on which thread grows which tree (the umap/pynndescent pattern).
"""

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
# Shifts as uint64: Numba turns uint64 op int64 into float64.
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_INV_2_53 = 1.0 / 9007199254740992.0


def new_rng_state(seed):
    """A one-element uint64 state array for the kernels, from an integer seed."""
    return np.array([np.uint64(seed) * np.uint64(2654435761) + _GOLDEN], dtype=np.uint64)


@njit(cache=True, nogil=True)
def _next_uint64(state):
    """Advance state (in/out, uint64[1]) and return 64 random bits."""
    state[0] += _GOLDEN
    z = state[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def _uniform(state):
    """A float64 uniform on [0, 1)."""
    return float(_next_uint64(state) >> _S11) * _INV_2_53


@njit(cache=True, nogil=True)
def _randint(state, low, high):
    """An integer uniform on [low, high); high > low."""
    return low + int(_uniform(state) * (high - low))


@njit(cache=True, nogil=True, inline="always")
def _draw_threshold(rng_state, codes, n_present, representatives_f, edges_f):
    """Extra-trees' threshold of one feature in a node whose present bins are codes[:n_present]:
    (t, cut), t drawn uniformly between the smallest and largest value (bin representatives),
    clipped into the gap between present bins cut and cut + 1 (so training rows are routed as
    at predict time); with one present bin (t, cut) = (+inf, 0) and nothing is drawn."""
    t = np.inf
    cut = 0
    if n_present >= 2:
        low = representatives_f[codes[0]]
        high = representatives_f[codes[n_present - 1]]
        t = low + _uniform(rng_state) * (high - low)
        while cut < n_present - 2 and representatives_f[codes[cut + 1]] <= t:
            cut += 1
        t = min(max(t, edges_f[codes[cut]]), edges_f[codes[cut + 1] - 1])
    return t, cut


@njit(cache=True, nogil=True, inline="always")
def _draw_feature(rng_state, pool_order, i):
    """The i-th feature visited: swap a uniform draw from pool_order[i:] into place i (a
    partial Fisher-Yates shuffle, in/out pool_order); returns its position in the pool."""
    j = _randint(rng_state, i, pool_order.shape[0])
    pos = pool_order[j]
    pool_order[j] = pool_order[i]
    pool_order[i] = pos
    return pos
