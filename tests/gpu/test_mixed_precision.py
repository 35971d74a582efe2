"""Mixed-precision utilities: exhaustive format checks, Hypothesis properties, the loss scaler as
a state machine against a pure model, master weights, and an fp16 training run."""

import ml_dtypes
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import gpu
from gpu import (
    BF16,
    FP16,
    DynamicLossScaler,
    MasterWeights,
    all_finite,
    bf16_bits_to_fp32,
    cast_stats,
    count_nonfinite,
    fp32_to_bf16_bits,
    to_bf16,
    to_fp16,
    ulp,
    unscale_and_check_,
    update_scale,
)

ALL16 = np.arange(65536, dtype=np.uint16)
finite32 = st.floats(allow_nan=False, allow_infinity=False, width=32)
finite64 = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e40, max_value=1e40)


# --- formats and casts: exhaustive over the 16-bit patterns --------------------------------------

def test_format_facts():
    assert (FP16.max, FP16.smallest_normal, FP16.smallest_subnormal, FP16.eps) == (
        65504.0, 2.0**-14, 2.0**-24, 2.0**-10)
    assert BF16.max == float(ml_dtypes.finfo(ml_dtypes.bfloat16).max)
    assert BF16.smallest_subnormal == 2.0**-133 and BF16.eps == 2.0**-7
    assert ulp(np.array([1.0]), FP16)[0] == 2.0**-10
    assert ulp(np.array([0.0, 1e-30]), FP16).tolist() == [2.0**-24, 2.0**-24]
    assert ulp(np.array([3.0]), BF16)[0] == 2.0**-6


@pytest.mark.parametrize("fmt", ["fp16", "bf16"])
def test_every_16_bit_pattern_round_trips_through_float32(fmt):
    if fmt == "fp16":
        values32 = ALL16.view(np.float16).astype(np.float32)
        back = to_fp16(values32).view(np.uint16)
    else:
        values32 = bf16_bits_to_fp32(ALL16)
        back = to_bf16(values32).view(np.uint16)
        np.testing.assert_array_equal(fp32_to_bf16_bits(values32)[~np.isnan(values32)],
                                      ALL16[~np.isnan(values32)])
    nan = np.isnan(values32)
    np.testing.assert_array_equal(back[~nan], ALL16[~nan])
    assert np.isnan(back.view(np.float16 if fmt == "fp16" else ml_dtypes.bfloat16)[nan]
                    .astype(np.float32)).all()


def test_agrees_with_numpy_and_ml_dtypes_on_random_float32_bit_patterns():
    bits = np.random.default_rng(0).integers(0, 2**32, size=2_000_000, dtype=np.uint64)
    x = bits.astype(np.uint32).view(np.float32)
    ok = ~np.isnan(x)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(to_fp16(x)[ok].view(np.uint16),
                                      x.astype(np.float16)[ok].view(np.uint16))
    with np.errstate(invalid="ignore"):
        reference = x.astype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(to_bf16(x)[ok].view(np.uint16), reference[ok].view(np.uint16))
    np.testing.assert_array_equal(fp32_to_bf16_bits(x)[ok], to_bf16(x)[ok].view(np.uint16))


@given(st.floats(allow_nan=False, width=64))
def test_float64_fp16_cast_matches_numpy_which_rounds_once(x):
    with np.errstate(over="ignore"):
        expected = np.array([x]).astype(np.float16)
    assert to_fp16(np.array([x])).view(np.uint16)[0] == expected.view(np.uint16)[0]


def _neighbours(value, fmt):
    bits = np.array([value]).astype(np.float32).astype(fmt.dtype).view(np.uint16)[0]
    out = []
    for b in (int(bits) - 1, int(bits), int(bits) + 1):
        if 0 <= b < 65536:
            v = float(np.array([b], dtype=np.uint16).view(fmt.dtype).astype(np.float64)[0])
            if np.isfinite(v):
                out.append(v)
    return out


@pytest.mark.parametrize("fmt", [FP16, BF16])
@given(x=finite64)
def test_cast_from_float64_is_the_nearest_value(fmt, x):
    assume(abs(x) <= fmt.max)
    cast = to_fp16 if fmt is FP16 else to_bf16
    r = float(cast(np.array([x])).astype(np.float64)[0])
    # No representable neighbour of the result is strictly closer to x.
    for n in _neighbours(r, fmt):
        assert abs(r - x) <= abs(n - x)


def test_bf16_from_float64_rounds_once_where_float32_would_round_twice():
    x = np.array([1 + 2**-8 + 2**-30])  # just above the tie between 1 and 1 + 2^-7
    assert float(to_bf16(x).astype(np.float64)[0]) == 1 + 2**-7
    assert float(x.astype(np.float32).astype(ml_dtypes.bfloat16).astype(np.float64)[0]) == 1.0


def test_ties_go_to_even():
    values = np.array([65504.0, 65519.99, 65520.0, -65520.0, 2.0**-25, 2.0**-25 * (1 + 2**-20),
                       3 * 2.0**-25], dtype=np.float64)
    got = to_fp16(values).astype(np.float64)
    assert got.tolist() == [65504.0, 65504.0, np.inf, -np.inf, 0.0, 2.0**-24, 2.0**-23]
    # bf16: 1 + 2^-8 is the tie between 1 and 1 + 2^-7 -> even (1); 1 + 3*2^-8 -> 1 + 2^-6.
    got = to_bf16(np.array([1 + 2**-8, 1 + 3 * 2**-8], dtype=np.float32)).astype(np.float64)
    assert got.tolist() == [1.0, 1 + 2**-6]


def test_signed_zero_nan_and_saturate():
    x = np.array([-0.0, 0.0, -1e-30, np.nan, 1e6, -1e6, np.inf], dtype=np.float32)
    h = to_fp16(x)
    assert np.signbit(h[[0, 2]]).all() and not np.signbit(h[1])
    assert np.isnan(h[3]) and h[4] == np.inf and h[5] == -np.inf
    s = to_fp16(x, saturate=True).astype(np.float64)
    assert s[4] == 65504.0 and s[5] == -65504.0 and s[6] == np.inf and np.isnan(s[3])
    b = to_bf16(np.array([3.5e38], dtype=np.float64), saturate=True).astype(np.float64)
    assert b[0] == BF16.max


@pytest.mark.parametrize("fmt", [FP16, BF16])
@given(a=finite32, b=finite32)
def test_cast_is_monotone(fmt, a, b):
    cast = to_fp16 if fmt is FP16 else to_bf16
    lo, hi = sorted((a, b))
    with np.errstate(over="ignore"):
        r = cast(np.array([lo, hi], dtype=np.float32)).astype(np.float64)
    assert r[0] <= r[1]


@pytest.mark.parametrize("fmt", [FP16, BF16])
@given(x=finite32)
def test_error_at_most_half_an_ulp(fmt, x):
    assume(abs(x) <= fmt.max)
    cast = to_fp16 if fmt is FP16 else to_bf16
    r = float(cast(np.array([x], dtype=np.float32)).astype(np.float64)[0])
    half_ulp = float(ulp(np.array([x]), fmt)[0]) / 2
    assert abs(r - x) <= half_ulp
    if abs(x) >= fmt.smallest_normal:
        assert abs(r - x) <= abs(x) * fmt.eps / 2


def test_checks_and_cast_stats():
    a = np.ones(10, dtype=np.float32)
    b = np.array([1.0, np.inf, np.nan], dtype=np.float32)
    assert all_finite(a) and not all_finite(a, b)
    assert count_nonfinite(b) == 2 and count_nonfinite(a) == 0
    stats = cast_stats(np.array([1e6, 1e-9, 3e-6, 1.0001, 0.0, 1.0], dtype=np.float32), FP16)
    # 3e-6 lands among fp16 subnormals (quantum 2^-24): 0.7% off, more than rel_tol 2^-8.
    assert (stats.overflow, stats.underflow, stats.subnormal, stats.precision_loss) == (1, 1, 1, 1)
    assert cast_stats(np.array([1.0001, 1 + 3 * 2**-9], dtype=np.float32), BF16,
                      rel_tol=2**-10).precision_loss == 1


# --- loss scaling --------------------------------------------------------------------------------

@given(st.lists(finite32, min_size=1, max_size=50), st.integers(-20, 20))
def test_power_of_two_scaling_round_trips_bitwise(values, k):
    g = np.array(values, dtype=np.float32)
    scale = 2.0**k
    with np.errstate(over="ignore", under="ignore"):
        scaled = g * np.float32(scale)
    assume(np.isfinite(scaled).all())
    # No underflow: every non-zero value stays normal after scaling.
    assume(np.all((g == 0) | (np.abs(scaled) >= np.finfo(np.float32).tiny)))
    found = unscale_and_check_([scaled], 1.0 / scale)
    assert not found
    np.testing.assert_array_equal(scaled.view(np.uint32), g.view(np.uint32))


@given(st.integers(0, 3), st.integers(0, 99), st.sampled_from([np.inf, -np.inf, np.nan]))
def test_found_inf_detects_one_bad_value_anywhere(which, where, bad):
    grads = [np.ones(100, dtype=np.float32) for _ in range(4)]
    assert not unscale_and_check_([g.copy() for g in grads], 0.5)
    grads[which][where] = bad
    assert unscale_and_check_(grads, 0.5)
    assert grads[(which + 1) % 4][0] == 0.5  # every array still unscaled


class _ScalerModel:
    """The pure model of GradScaler's update (10 lines)."""

    def __init__(self, scale, growth, backoff, interval):
        self.scale, self.tracker = scale, 0
        self.growth, self.backoff, self.interval = growth, backoff, interval

    def update(self, found_inf):
        if found_inf:
            self.scale, self.tracker = self.scale * self.backoff, 0
        elif self.tracker + 1 == self.interval:
            grown = np.float32(self.scale * self.growth)
            self.scale, self.tracker = (grown if np.isfinite(grown) else self.scale), 0
        else:
            self.tracker += 1


class ScalerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.scaler = DynamicLossScaler(init_scale=2.0**10, growth_interval=3)
        self.model = _ScalerModel(np.float32(2.0**10), 2.0, 0.5, 3)
        self.params = np.arange(4, dtype=np.float32)
        self.stepped = False

    @rule(overflow=st.booleans())
    def iteration(self, overflow):
        grads = [np.full(4, 1.0, dtype=np.float32) * np.float32(self.scaler.get_scale())]
        if overflow:
            grads[0][1] = np.inf
        before = self.params.copy()
        previous_scale = self.scaler.get_scale()

        def apply(gs):
            self.params -= 0.1 * gs[0]
            return True

        result = self.scaler.step(apply, grads)
        if overflow:
            assert result is None
            np.testing.assert_array_equal(self.params.view(np.uint32), before.view(np.uint32))
        else:
            assert result is True and np.allclose(grads[0], 1.0)
        self.scaler.update()
        self.model.update(overflow)
        ratio = self.scaler.get_scale() / previous_scale
        assert ratio in (0.5, 1.0, 2.0)

    @rule()
    def illegal_orders(self):
        grads = [np.ones(2, dtype=np.float32)]
        self.scaler.unscale_(grads)
        with pytest.raises(RuntimeError):
            self.scaler.unscale_(grads)
        self.scaler.step(lambda gs: None, grads)
        with pytest.raises(RuntimeError):
            self.scaler.step(lambda gs: None, grads)
        self.scaler.update()
        self.model.update(False)

    @precondition(lambda self: True)
    @rule()
    def update_without_check_raises(self):
        with pytest.raises(RuntimeError, match="No inf checks"):
            self.scaler.update()

    @invariant()
    def matches_model(self):
        assert self.scaler.get_scale() > 0
        assert self.scaler.get_scale() == float(self.model.scale)
        assert self.scaler.state_dict()["_growth_tracker"] == self.model.tracker
        assert 0 <= self.model.tracker < 3


TestScalerMachine = ScalerMachine.TestCase
TestScalerMachine.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)


def test_update_scale_growth_is_capped_at_finite_and_defaults_match_torch():
    scaler = DynamicLossScaler()
    state = scaler.state_dict()
    assert (state["scale"], state["growth_factor"], state["backoff_factor"],
            state["growth_interval"]) == (65536.0, 2.0, 0.5, 2000)
    big = np.float32(np.finfo(np.float32).max)
    assert update_scale(big, 1999, False) == (big, 0)
    assert update_scale(np.float32(8.0), 3, True) == (np.float32(4.0), 0)
    restored = DynamicLossScaler()
    restored.load_state_dict({**state, "scale": 8.0, "_growth_tracker": 5})
    assert restored.get_scale() == 8.0 and restored.state_dict()["_growth_tracker"] == 5


def test_bad_input():
    with pytest.raises(TypeError, match="integer"):
        to_fp16(np.arange(3))
    with pytest.raises(TypeError, match="unsupported"):
        to_bf16(np.array([1 + 1j]))
    with pytest.raises(TypeError, match="integer"):
        unscale_and_check_([np.arange(3)], 0.5)
    with pytest.raises(ValueError, match="FP16"):
        unscale_and_check_([np.ones(3, dtype=np.float16)], 0.5)
    for bad in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="inv_scale"):
            unscale_and_check_([np.ones(3, dtype=np.float32)], bad)
        with pytest.raises(ValueError, match="init_scale"):
            DynamicLossScaler(init_scale=bad)
    with pytest.raises(ValueError, match="growth factor"):
        DynamicLossScaler(growth_factor=1.0)
    for backoff in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="backoff factor"):
            DynamicLossScaler(backoff_factor=backoff)
    with pytest.raises(TypeError, match="parameter"):
        MasterWeights([np.ones(3, dtype=np.float32)])


# --- master weights and an fp16 training run -----------------------------------------------------

def test_master_weights_keep_updates_smaller_than_half_an_fp16_ulp():
    param = np.ones(4, dtype=np.float16)
    naive = np.ones(4, dtype=np.float16)
    weights = MasterWeights([param])
    grad = np.full(4, 1e-4, dtype=np.float16)  # lr * grad = 1e-4 < ulp(1-) / 2 = 2.4e-4
    for _ in range(100):
        # Applied to the fp16 weight directly, the update rounds away every time.
        naive = to_fp16(naive.astype(np.float32) - grad.astype(np.float32))
        weights.sgd_step([grad], lr=1.0)
        np.testing.assert_array_equal(param.view(np.uint16), to_fp16(weights.masters[0])
                                      .view(np.uint16))
    assert np.all(naive == 1.0)
    assert abs(float(weights.masters[0][0]) - (1 - 100 * float(np.float16(1e-4)))) < 1e-5
    assert float(param[0]) == float(to_fp16(np.float32([1 - 100 * 1e-4]))[0])


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("optimiser", ["sgd", "adam"])
def test_optimisers_minimise_a_quadratic_on_the_masters(dtype, optimiser):
    target = np.array([0.3, -1.7, 2.5], dtype=np.float32)
    param = np.zeros(3, dtype=dtype)
    weights = MasterWeights([param])
    for _ in range(300):
        grad = (param.astype(np.float32) - target).astype(dtype)  # low-precision gradient
        if optimiser == "sgd":
            weights.sgd_step([grad], lr=0.1, momentum=0.5)
        else:
            weights.adam_step([grad], lr=0.05)
        cast = to_fp16 if dtype == np.float16 else to_bf16
        np.testing.assert_array_equal(param.view(np.uint16),
                                      cast(weights.masters[0]).view(np.uint16))
    np.testing.assert_allclose(weights.masters[0], target, atol=0.02)


def _softmax_regression(n_steps, mode, seed=0):
    """Softmax regression trained with a loss weight of 2^-20 (tiny gradients, as in deep nets'
    activations): mode "fp32", "fp16" (fp16 weights/activations/gradients, no scaling) or
    "fp16-scaled" (+ dynamic loss scaling and fp32 master weights). Returns the final fp32 loss."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(512, 8)).astype(np.float32)
    true_w = rng.normal(size=(8, 3)).astype(np.float32)
    y = np.argmax(X @ true_w + rng.gumbel(size=(512, 3)), axis=1)
    onehot = np.eye(3, dtype=np.float32)[y]
    loss_weight = np.float32(2.0**-20)

    def loss_and_grad(W, Xd, scale):
        logits = (Xd.astype(np.float32) @ W.astype(np.float32))
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(len(y)), y])) * loss_weight
        dlogits = ((p - onehot) / len(y) * loss_weight * np.float32(scale))
        if mode != "fp32":
            dlogits = to_fp16(dlogits)  # fp16 activation gradients
        grad = Xd.astype(np.float32).T @ dlogits.astype(np.float32)  # fp32 accumulation
        return loss / loss_weight, (grad if mode == "fp32" else to_fp16(grad))

    lr = np.float32(2.0**20 * 0.5)  # compensates the loss weight
    if mode == "fp32":
        W = np.zeros((8, 3), dtype=np.float32)
        for _ in range(n_steps):
            _, g = loss_and_grad(W, X, 1.0)
            W -= lr * g
    elif mode == "fp16":
        W = np.zeros((8, 3), dtype=np.float16)
        X16 = to_fp16(X)
        for _ in range(n_steps):
            _, g = loss_and_grad(W, X16, 1.0)
            W = to_fp16(W.astype(np.float32) - lr * g.astype(np.float32))
    else:
        W = np.zeros((8, 3), dtype=np.float16)
        X16 = to_fp16(X)
        master = MasterWeights([W])
        scaler = DynamicLossScaler(init_scale=2.0**16, growth_interval=20)
        for _ in range(n_steps):
            _, g = loss_and_grad(W, X16, scaler.get_scale())
            grads = [g.astype(np.float32)]
            scaler.step(lambda gs: master.sgd_step(gs, lr=float(lr)), grads)
            scaler.update()
    final, _ = loss_and_grad(W.astype(np.float32), X, 1.0)
    return float(final), W


def test_fp16_training_with_loss_scaling_matches_fp32_where_plain_fp16_underflows():
    loss32, _ = _softmax_regression(200, "fp32")
    loss16, W16 = _softmax_regression(200, "fp16")
    scaled, _ = _softmax_regression(200, "fp16-scaled")
    initial = float(np.log(3.0))
    assert loss32 < 0.8 * initial
    # Without scaling the gradients flush to zero in fp16: the weights never move.
    assert np.all(W16 == 0) and abs(loss16 - initial) < 1e-6
    assert abs(scaled - loss32) <= 0.01 * loss32


# --- GPU twins (skipped without CuPy and a device) -----------------------------------------------

needs_gpu = pytest.mark.skipif(not gpu.gpu_available(), reason="needs CuPy and a CUDA device")


@pytest.mark.gpu
@needs_gpu
def test_gpu_casts_and_unscale_match_numpy_bitwise():
    import cupy

    x = np.random.default_rng(0).standard_normal(100_000).astype(np.float32) * 1e3
    for cast in (to_fp16, to_bf16):
        np.testing.assert_array_equal(cupy.asnumpy(cast(cupy.asarray(x))).view(np.uint16),
                                      cast(x).view(np.uint16))
    g_cpu = x.copy()
    g_gpu = cupy.asarray(x)
    g_gpu[123] = cupy.nan
    g_cpu[123] = np.nan
    assert unscale_and_check_([g_gpu], 2.0**-7) == unscale_and_check_([g_cpu], 2.0**-7) is True
    np.testing.assert_array_equal(cupy.asnumpy(g_gpu).view(np.uint32), g_cpu.view(np.uint32))

