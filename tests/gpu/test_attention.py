"""gpu.flash_attention on every backend present (NumPy always; the CUDA kernel when a GPU is):
against the float64 reference inside FlashAttention's error budget, attention's properties, NaN
propagation, bad input, and on a GPU a poisoned output buffer fully overwritten."""

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from gpu import attention_reference, flash_attention, gpu_available
from gpu.attention import all_variants, kernel_variant
from gpu.reference import attention_naive_lowp

BF16 = np.dtype(ml_dtypes.bfloat16)
LOW_DTYPES = [np.dtype(np.float16), BF16]
ALL_DTYPES = [np.dtype(np.float32), *LOW_DTYPES]

BACKENDS = ["numpy", pytest.param("cupy", marks=[
    pytest.mark.gpu, pytest.mark.skipif(not gpu_available(), reason="no CuPy or no CUDA device")])]


@pytest.fixture(params=BACKENDS, scope="module")
def backend(request):
    return request.param


def attend(backend, q, k, v, **kwargs):
    """flash_attention on `backend`'s arrays, results back as NumPy."""
    if backend == "cupy":
        import cupy

        result = flash_attention(*(cupy.asarray(a) for a in (q, k, v)), **kwargs)
        return tuple(r.get() for r in result) if isinstance(result, tuple) else result.get()
    return flash_attention(q, k, v, **kwargs)


def random_qkv(q_shape, k_shape, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape).astype(dtype) for shape in (q_shape, k_shape, k_shape))


@st.composite
def problems(draw, head_dims=(8, 16, 32, 64, 128), max_n=130):
    batch, heads = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    n_q, n_k = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    head_dim = draw(st.sampled_from(head_dims))
    return ((batch, heads, n_q, head_dim), (batch, heads, n_k, head_dim),
            draw(st.booleans()), draw(st.integers(0, 2**16)))


def error_budget(out, q, k, v, causal):
    """FlashAttention's test rule: error <= 2 x the same-precision naive formula's error, plus
    twice the rounding error of values near the outputs' magnitude."""
    ref = attention_reference(q, k, v, causal=causal)
    naive = attention_naive_lowp(q, k, v, causal=causal).astype(np.float64)
    dtype = q.dtype
    rounding = np.abs((ref + 0.3).astype(dtype).astype(np.float64) - 0.3 - ref).max()
    err = np.abs(out.astype(np.float64) - ref).max()
    budget = 2 * np.abs(naive - ref).max() + 2 * rounding
    return err, budget


# --- against the references -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_hand_computed_case(backend, dtype):
    # one query, two keys with scores 0 and log 3 (scale 1): weights 1/4 and 3/4
    q = np.zeros((1, 1, 1, 64), dtype=dtype)
    q[..., 0] = 1
    k = np.zeros((1, 1, 2, 64), dtype=dtype)
    k[0, 0, 1, 0] = math.log(3.0)
    v = np.zeros((1, 1, 2, 64), dtype=dtype)
    v[0, 0, :, 0] = [4.0, 8.0]
    out, lse = attend(backend, q, k, v, scale=1.0, return_lse=True)
    assert out.dtype == dtype and lse.dtype == np.float32
    assert float(out[0, 0, 0, 0]) == pytest.approx(7.0, rel=1e-2)
    assert float(lse[0, 0, 0]) == pytest.approx(math.log(4.0), rel=1e-2)
    assert not np.any(out[0, 0, 0, 1:].astype(np.float32))


@given(problem=problems())
def test_float32_matches_the_float64_reference(backend, problem):
    q_shape, k_shape, causal, seed = problem
    q, k, v = random_qkv(q_shape, k_shape, seed)
    out, lse = attend(backend, q, k, v, causal=causal, return_lse=True)
    ref, ref_lse = attention_reference(q, k, v, causal=causal, return_lse=True)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lse, ref_lse, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", LOW_DTYPES, ids=str)
@pytest.mark.parametrize("head_dim", [64, 128, 40])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n_q, n_k", [(1, 1), (17, 17), (97, 97), (130, 65), (65, 130)])
def test_low_precision_error_is_within_twice_the_naive_formulas(backend, dtype, head_dim, causal,
                                                                 n_q, n_k):
    q, k, v = random_qkv((1, 2, n_q, head_dim), (1, 2, n_k, head_dim), n_q * 1000 + n_k, dtype)
    out = attend(backend, q, k, v, causal=causal)
    assert out.dtype == dtype and out.shape == q.shape
    assert np.isfinite(out.astype(np.float32)).all()
    err, budget = error_budget(out, q, k, v, causal)
    assert err <= budget, (err, budget)


@given(problem=problems(head_dims=(64, 128)), dtype=st.sampled_from(LOW_DTYPES))
def test_low_precision_budget_on_drawn_shapes(backend, problem, dtype):
    q_shape, k_shape, causal, seed = problem
    q, k, v = random_qkv(q_shape, k_shape, seed, dtype)
    err, budget = error_budget(attend(backend, q, k, v, causal=causal), q, k, v, causal)
    note(f"err {err}, budget {budget}")
    assert err <= budget


# --- properties -----------------------------------------------------------------------------------

@given(problem=problems(head_dims=(16, 63)))
def test_adding_a_constant_to_a_score_row_changes_nothing(backend, problem):
    """Softmax is shift-invariant: an extra dimension with q = c_i / scale and k = 1 adds c_i to
    every score of row i."""
    q_shape, k_shape, causal, seed = problem
    q, k, v = random_qkv(q_shape, k_shape, seed)
    scale = 1 / math.sqrt(q.shape[-1])
    shifts = np.random.default_rng(seed).uniform(-20, 20, q_shape[:3] + (1,)).astype(np.float32)
    q2 = np.concatenate([q, shifts / scale], axis=-1)
    k2 = np.concatenate([k, np.ones(k_shape[:3] + (1,), np.float32)], axis=-1)
    v2 = np.concatenate([v, np.zeros(k_shape[:3] + (1,), np.float32)], axis=-1)
    out = attend(backend, q, k, v, causal=causal, scale=scale)
    shifted = attend(backend, q2, k2, v2, causal=causal, scale=scale)
    np.testing.assert_allclose(shifted[..., :-1], out, rtol=1e-4, atol=2e-5)


@given(problem=problems(head_dims=(16, 64)), a=st.floats(-4, 4), b=st.floats(-4, 4))
def test_rows_are_convex_combinations_of_v_and_linear_in_v(backend, problem, a, b):
    q_shape, k_shape, causal, seed = problem
    q, k, v = random_qkv(q_shape, k_shape, seed)
    out = attend(backend, q, k, v, causal=causal)
    low, high = v.min(axis=2, keepdims=True), v.max(axis=2, keepdims=True)
    assert np.all(out >= low - 1e-5) and np.all(out <= high + 1e-5)
    ones = attend(backend, q, k, np.ones_like(v), causal=causal)
    np.testing.assert_allclose(ones, 1.0, rtol=1e-6)
    affine = attend(backend, q, k, (a * v + b).astype(np.float32), causal=causal)
    np.testing.assert_allclose(affine, a * out + b, rtol=1e-4, atol=1e-4 * (1 + abs(a) + abs(b)))


@given(problem=problems(head_dims=(8, 64)))
def test_non_causal_attention_is_permutation_invariant(backend, problem):
    q_shape, k_shape, _, seed = problem
    q, k, v = random_qkv(q_shape, k_shape, seed)
    rng = np.random.default_rng(seed + 1)
    key_order, query_order = rng.permutation(k_shape[2]), rng.permutation(q_shape[2])
    out = attend(backend, q, k, v)
    np.testing.assert_allclose(attend(backend, q, k[:, :, key_order], v[:, :, key_order]), out,
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(attend(backend, q[:, :, query_order], k, v), out[:, :, query_order],
                               rtol=1e-4, atol=1e-5)


@given(problem=problems(head_dims=(16, 64)), cut=st.integers(0, 129))
def test_causal_rows_do_not_see_later_keys(backend, problem, cut):
    q_shape, k_shape, _, seed = problem
    q, k, v = random_qkv(q_shape, k_shape, seed)
    cut = min(cut, k_shape[2] - 1)
    k2, v2 = k.copy(), v.copy()
    k2[:, :, cut + 1:] = 7.0
    v2[:, :, cut + 1:] = -3.0
    out = attend(backend, q, k, v, causal=True)
    changed = attend(backend, q, k2, v2, causal=True)
    np.testing.assert_allclose(changed[:, :, :cut + 1], out[:, :, :cut + 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:, :, 0], v[:, :, 0], rtol=1e-6, atol=1e-6)


def test_batches_and_heads_are_independent_and_default_scale(backend):
    q, k, v = random_qkv((2, 3, 70, 64), (2, 3, 50, 64), 5, np.float16)
    out = attend(backend, q, k, v, causal=True)
    for b in range(2):
        for h in range(3):
            one = attend(backend, q[b:b + 1, h:h + 1], k[b:b + 1, h:h + 1], v[b:b + 1, h:h + 1],
                         causal=True)
            np.testing.assert_array_equal(one[0, 0], out[b, h])
    np.testing.assert_array_equal(attend(backend, q, k, v, causal=True, scale=1 / 8.0), out)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("where", ["q", "k", "v"])
def test_nan_rows_propagate_as_in_the_reference(backend, dtype, where):
    q, k, v = random_qkv((1, 1, 40, 64), (1, 1, 40, 64), 3, dtype)
    arrays = {"q": q, "k": k, "v": v}
    arrays[where][0, 0, 11, 5] = np.nan
    out = attend(backend, arrays["q"], arrays["k"], arrays["v"]).astype(np.float32)
    ref = attention_reference(arrays["q"], arrays["k"], arrays["v"])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(ref))
    assert np.isnan(out).any()


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, error, match", [
    (lambda q, k, v: (q[0], k, v), ValueError, "q must be a 4-D array"),
    (lambda q, k, v: (q, k[:, :, :5], v), ValueError, "k and v must have the same shape"),
    (lambda q, k, v: (q, k[..., :32], v[..., :32]), ValueError, "must agree on B, H and D"),
    (lambda q, k, v: (q[:, :1], k, v), ValueError, "must agree on B, H and D"),
    (lambda q, k, v: (q, k.astype(np.float16), v), TypeError, "share one dtype"),
    (lambda q, k, v: (q.astype(np.float64), k.astype(np.float64), v.astype(np.float64)),
     TypeError, "unsupported dtype float64"),
    (lambda q, k, v: (q[:, :, :0], k, v), ValueError, "sequence lengths must be >= 1"),
    (lambda q, k, v: (np.zeros((1, 2, 4, 264), np.float32), np.zeros((1, 2, 4, 264), np.float32),
                      np.zeros((1, 2, 4, 264), np.float32)), ValueError, r"head_dim must be in"),
])
def test_bad_input_gets_a_clear_error(change, error, match):
    q, k, v = random_qkv((1, 2, 8, 64), (1, 2, 8, 64), 0)
    with pytest.raises(error, match=match):
        flash_attention(*change(q, k, v))


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_scale_must_be_positive_and_finite(scale):
    q, k, v = random_qkv((1, 1, 4, 16), (1, 1, 4, 16), 0)
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        flash_attention(q, k, v, scale=scale)


def test_backend_names_and_array_modules_are_checked():
    q, k, v = random_qkv((1, 1, 4, 16), (1, 1, 4, 16), 0)
    with pytest.raises(ValueError, match="backend must be"):
        flash_attention(q, k, v, backend="torch")
    with pytest.raises(TypeError, match="backend='cupy' needs CuPy arrays"):
        flash_attention(q, k, v, backend="cupy")
    assert flash_attention(q, k, v, backend="numpy").shape == q.shape


def test_variant_choice():
    assert kernel_variant(np.float16, 128, True)[0] == "mma"
    assert kernel_variant(BF16, 64, False)[0] == "mma"
    assert kernel_variant(np.float16, 96, False)[0] == "simt"
    assert kernel_variant(np.float32, 64, False)[0] == "simt"
    kinds = [kind for kind, _ in all_variants()]
    assert kinds.count("mma") == 8 and kinds.count("simt") == 6


# --- on the device only ---------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.skipif(not gpu_available(), reason="no CuPy or no CUDA device")
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("head_dim", [64, 128, 24])
@pytest.mark.parametrize("causal", [False, True])
def test_poisoned_output_is_fully_overwritten(dtype, head_dim, causal):
    import cupy

    from gpu.attention import _flash_attention_cupy

    q, k, v = (cupy.asarray(a) for a in random_qkv((2, 3, 77, head_dim), (2, 3, 131, head_dim), 9,
                                                   dtype))
    out = cupy.full(q.shape, np.nan, dtype=q.dtype)
    lse = cupy.full(q.shape[:3], np.nan, dtype=cupy.float32)
    _flash_attention_cupy(q, k, v, causal, 1 / math.sqrt(head_dim), out=out, lse=lse)
    assert bool(cupy.isfinite(out.astype(cupy.float32)).all())
    assert bool(cupy.isfinite(lse).all())


@pytest.mark.gpu
@pytest.mark.skipif(not gpu_available(), reason="no CuPy or no CUDA device")
def test_strided_and_misaligned_device_inputs_are_copied():
    import cupy

    q, k, v = random_qkv((1, 2, 50, 64), (1, 2, 50, 64), 4, np.float16)
    expected = flash_attention(*(cupy.asarray(a) for a in (q, k, v))).get()
    wide = cupy.asarray(np.repeat(q, 2, axis=-1))[..., ::2]            # non-contiguous view of q
    np.testing.assert_array_equal(
        flash_attention(wide, cupy.asarray(k), cupy.asarray(v)).get(), expected)
    flat = cupy.empty(q.size + 1, dtype=q.dtype)                      # base 2 bytes off
    shifted = flat[1:].reshape(q.shape)
    shifted[...] = cupy.asarray(q)
    got = flash_attention(shifted, cupy.asarray(k), cupy.asarray(v)).get()
    np.testing.assert_array_equal(got, expected)


@pytest.mark.gpu
@pytest.mark.skipif(not gpu_available(), reason="no CuPy or no CUDA device")
@pytest.mark.parametrize("dtype", LOW_DTYPES, ids=str)
def test_tensor_core_and_simt_kernels_agree(dtype):
    """Both kernels on the same inputs: the SIMT kernel keeps P in fp32, so they differ only by
    P's rounding to the input dtype."""
    import cupy

    q, k, v = random_qkv((1, 4, 300, 64), (1, 4, 300, 64), 2, dtype)
    mma = flash_attention(*(cupy.asarray(a) for a in (q, k, v)), causal=True).get()
    pad = np.zeros((1, 4, 300, 8), dtype=dtype)       # head_dim 72 takes the SIMT path, same math
    simt = flash_attention(*(cupy.asarray(np.concatenate([a, pad], axis=-1)) for a in (q, k, v)),
                           causal=True, scale=1 / 8.0).get()[..., :64]
    err, budget = error_budget(mma, q, k, v, True)
    assert err <= budget
    assert np.abs(mma.astype(np.float32) - simt.astype(np.float32)).max() <= budget
