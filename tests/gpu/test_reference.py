"""gpu/reference.py: the tiled online-softmax algorithm (the kernel's method, in NumPy) against the
float64 formula for any tile size, and the properties attention must have."""

import math

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from gpu.reference import (
    attention_reference,
    attention_state,
    causal_mask,
    flash_attention_tiled,
    merge_states,
    n_kv_tiles,
)


@st.composite
def qkv_shapes(draw, max_n=150, head_dims=(8, 16, 32, 64)):
    batch, heads = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n_q, n_k = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    head_dim = draw(st.sampled_from(head_dims))
    return (batch, heads, n_q, head_dim), (batch, heads, n_k, head_dim)


def random_qkv(q_shape, k_shape, seed, dtype=np.float32, spread=1.0):
    rng = np.random.default_rng(seed)
    q = (rng.standard_normal(q_shape) * spread).astype(dtype)
    k = (rng.standard_normal(k_shape) * spread).astype(dtype)
    v = rng.standard_normal(k_shape).astype(dtype)
    return q, k, v


# --- reference ------------------------------------------------------------------------------------

def test_hand_computed_two_keys():
    # scores 0 and log 3 -> weights 1/4, 3/4
    q = np.array([[[[1.0]]]])
    k = np.array([[[[0.0], [math.log(3.0)]]]])
    v = np.array([[[[4.0], [8.0]]]])
    out, lse = attention_reference(q, k, v, scale=1.0, return_lse=True)
    assert out[0, 0, 0, 0] == pytest.approx(0.25 * 4 + 0.75 * 8)
    assert lse[0, 0, 0] == pytest.approx(math.log(4.0))
    tiled, tiled_lse = flash_attention_tiled(q, k, v, scale=1.0, return_lse=True,
                                             block_m=1, block_n=1)
    assert tiled[0, 0, 0, 0] == pytest.approx(7.0, rel=1e-6)
    assert tiled_lse[0, 0, 0] == pytest.approx(math.log(4.0), rel=1e-6)


def test_causal_mask_is_top_left_aligned_like_torch():
    np.testing.assert_array_equal(causal_mask(3, 5), np.tril(np.ones((3, 5), dtype=bool)))
    np.testing.assert_array_equal(causal_mask(5, 3), np.tril(np.ones((5, 3), dtype=bool)))


def test_causal_tiles_above_the_diagonal_are_skipped():
    assert n_kv_tiles(0, 64, 1000, 64, causal=True) == 1
    assert n_kv_tiles(64, 64, 1000, 64, causal=True) == 2
    assert n_kv_tiles(64, 64, 100, 64, causal=True) == 2
    assert n_kv_tiles(0, 64, 1000, 64, causal=False) == 16


@given(shapes=qkv_shapes(), block_m=st.integers(1, 80), block_n=st.integers(1, 80),
       causal=st.booleans(), seed=st.integers(0, 2**16))
def test_tiled_equals_float64_reference_for_any_tiles(shapes, block_m, block_n, causal, seed):
    """The kernel's algorithm (online softmax over tiles, exp2, masking, skipping) is exact up to
    float32 rounding for every tile size, including tiles larger than N and ragged tails."""
    q, k, v = random_qkv(*shapes, seed)
    out, lse = flash_attention_tiled(q, k, v, causal=causal, return_lse=True, block_m=block_m,
                                     block_n=block_n, p_dtype=np.float32)
    ref, ref_lse = attention_reference(q, k, v, causal=causal, return_lse=True)
    note(f"max err {np.abs(out - ref).max()}")
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(lse, ref_lse, rtol=1e-5, atol=2e-5)


@given(shapes=qkv_shapes(), causal=st.booleans(), seed=st.integers(0, 2**16))
def test_lse_is_logsumexp_of_scaled_scores(shapes, causal, seed):
    q, k, v = random_qkv(*shapes, seed)
    scale = 0.3
    _, lse = flash_attention_tiled(q, k, v, causal=causal, scale=scale, return_lse=True,
                                   block_m=16, block_n=16)
    scores = scale * (q.astype(np.float64) @ np.swapaxes(k, -1, -2).astype(np.float64))
    if causal:
        scores = np.where(causal_mask(q.shape[2], k.shape[2]), scores, -np.inf)
    top = scores.max(axis=-1)
    expected = top + np.log(np.exp(scores - top[..., None]).sum(axis=-1))
    np.testing.assert_allclose(lse, expected, rtol=1e-5, atol=2e-5)


# --- properties (of the reference and the tiled algorithm alike) ----------------------------------

@given(shapes=qkv_shapes(max_n=60), seed=st.integers(0, 2**16))
def test_merging_two_key_halves_equals_the_whole(shapes, seed):
    """Split-KV: the (m, l, acc) states of disjoint key sets merge into the full state, the
    associativity the online softmax relies on."""
    q, k, v = random_qkv(*shapes, seed)
    half = max(1, k.shape[2] // 2)
    if half == k.shape[2]:
        return
    left = attention_state(q, k[:, :, :half], v[:, :, :half])
    right = attention_state(q, k[:, :, half:], v[:, :, half:])
    m, l_sum, acc = merge_states(left, right)
    out, lse = attention_reference(q, k, v, return_lse=True)
    np.testing.assert_allclose(acc / l_sum[..., None], out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m + np.log(l_sum), lse, rtol=1e-10)
    # merging is order-free
    m2, l2, acc2 = merge_states(right, left)
    np.testing.assert_allclose(acc2 / l2[..., None], out, rtol=1e-10, atol=1e-12)
