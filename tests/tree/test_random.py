"""The kernels' explicit-state random numbers (splitmix64)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from skext.tree._random import _next_uint64, _randint, _uniform, new_rng_state


def _splitmix64(seed, n):
    """Reference: splitmix64 in Python integers (Steele, Lea, Flood 2014; Vigna's constants)."""
    mask = (1 << 64) - 1
    state = (seed * 2654435761 + 0x9E3779B97F4A7C15) & mask
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


@given(st.integers(0, 2**31 - 1))
def test_matches_reference_splitmix64(seed):
    state = new_rng_state(seed)
    assert [int(_next_uint64(state)) for _ in range(5)] == _splitmix64(seed, 5)


def test_same_seed_same_stream_and_seeds_differ():
    a, b, c = new_rng_state(7), new_rng_state(7), new_rng_state(8)
    draws = [[_uniform(s) for _ in range(20)] for s in (a, b, c)]
    assert draws[0] == draws[1]
    assert draws[0] != draws[2]


def test_uniform_and_randint_distributions():
    state = new_rng_state(0)
    u = np.array([_uniform(state) for _ in range(20_000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert scipy_stats.kstest(u, "uniform").pvalue > 1e-3
    k = np.array([_randint(state, 3, 10) for _ in range(20_000)])
    assert k.min() == 3 and k.max() == 9
    counts = np.bincount(k - 3)
    assert scipy_stats.chisquare(counts).pvalue > 1e-3
