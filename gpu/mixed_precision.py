"""FP16 / BF16 mixed-precision utilities (Micikevicius et al. 2018) for NumPy and CuPy arrays.

- Formats: FP16, BF16 facts and ulp(x, fmt).
- Casting: to_fp16 / to_bf16 with round-to-nearest-even, rounding once from float32 or float64
  (ml_dtypes rounds float64 to bfloat16 through float32, twice); fp32 <-> bf16 bit helpers.
- Checks: all_finite, count_nonfinite, cast_stats (overflow / underflow / precision loss).
- Loss scaling with torch.amp.GradScaler's semantics: unscale_and_check_ (one fused pass per array,
  a CuPy ElementwiseKernel on the GPU), update_scale (the pure state update), DynamicLossScaler.
- MasterWeights: fp32 master copies of fp16/bf16 parameters, SGD (momentum) and Adam steps on the
  masters, low-precision copies refreshed by RNE casting.

Every function takes NumPy or CuPy arrays and answers in the same array module; the CuPy path is the
same arithmetic (the GPU flushes fp32 denormals in fused kernels: documented where it matters).
"""

from dataclasses import dataclass

import ml_dtypes
import numpy as np

bfloat16 = np.dtype(ml_dtypes.bfloat16)


@dataclass(frozen=True)
class FloatFormat:
    """Facts of a binary floating-point format."""

    name: str
    dtype: np.dtype
    bits: int
    exponent_bits: int
    mantissa_bits: int  # stored fraction bits (precision - 1)
    max: float
    smallest_normal: float
    smallest_subnormal: float
    eps: float  # 2 ** -mantissa_bits, the gap above 1

    @property
    def min_exponent(self):
        """Exponent of the smallest normal number."""
        return int(np.log2(self.smallest_normal))


FP16 = FloatFormat("float16", np.dtype(np.float16), 16, 5, 10, 65504.0, 2.0**-14, 2.0**-24,
                   2.0**-10)
BF16 = FloatFormat("bfloat16", bfloat16, 16, 8, 7, float((2 - 2.0**-7) * 2.0**127), 2.0**-126,
                   2.0**-133, 2.0**-7)
FP32 = FloatFormat("float32", np.dtype(np.float32), 32, 8, 23, float(np.finfo(np.float32).max),
                   2.0**-126, 2.0**-149, 2.0**-23)
_FORMATS = {"float16": FP16, "bfloat16": BF16, "float32": FP32}


def _format(fmt):
    if isinstance(fmt, FloatFormat):
        return fmt
    key = np.dtype(fmt).name if not isinstance(fmt, str) else fmt
    if key not in _FORMATS:
        raise TypeError(f"unsupported format {fmt!r}; expected one of {sorted(_FORMATS)}.")
    return _FORMATS[key]


def _xp(a):
    """The array module of a (cupy for CuPy arrays, else numpy)."""
    module = type(a).__module__.split(".")[0]
    if module == "cupy":
        import cupy

        return cupy
    return np


def _check_float(a, name="x", allowed=("float16", "bfloat16", "float32", "float64")):
    dtype = np.dtype(a.dtype)
    if dtype.name not in allowed:
        kind = "integer" if np.issubdtype(dtype, np.integer) else "unsupported"
        raise TypeError(f"{name} has {kind} dtype {dtype}; expected one of {list(allowed)}.")


def ulp(x, fmt):
    """Unit in the last place of |x| in format fmt: 2 ** (max(floor(log2|x|), emin) - p), with
    p the stored fraction bits (the smallest subnormal at and below the normal range)."""
    fmt = _format(fmt)
    xp = _xp(x) if hasattr(x, "dtype") else np
    x = xp.abs(xp.asarray(x, dtype=xp.float64))
    _, e = xp.frexp(x)
    # frexp(0) gives exponent 0; zero and subnormals share the smallest normal's quantum.
    exponent = xp.where(x < fmt.smallest_normal, fmt.min_exponent,
                        xp.maximum(e - 1, fmt.min_exponent))
    return xp.ldexp(xp.ones_like(x), exponent - fmt.mantissa_bits)


def _round_to_format(x, fmt):
    """x (float32/float64) rounded to the nearest value of fmt, ties to even, once, computed in
    float64: scale by the power of two of x's quantum (exact), rint (round half even), scale back
    (exact); beyond the largest finite value -> inf. Returns float64 values all representable in
    fmt, signs of zero kept, NaN kept."""
    xp = _xp(x)
    with np.errstate(over="ignore", invalid="ignore"):
        x64 = x.astype(xp.float64)
        quantum = ulp(x64, fmt)
        rounded = xp.rint(x64 / quantum) * quantum
        rounded = xp.where(xp.abs(rounded) > fmt.max, xp.copysign(xp.inf, x64), rounded)
    # rint(-0.3) is -0.0, keep; inf / quantum stays inf.
    return rounded


def to_fp16(x, saturate=False):
    """float16 copy of x (float32 or float64) with round-to-nearest-even, rounded once.

    saturate=True: finite values beyond the range become +-65504 instead of +-inf (inf and NaN
    stay as they are)."""
    _check_float(x, allowed=("float32", "float64", "float16"))
    return _cast(x, FP16, saturate)


def to_bf16(x, saturate=False):
    """bfloat16 (ml_dtypes) copy of x (float32 or float64) with round-to-nearest-even, rounded
    once (saturate as to_fp16)."""
    _check_float(x, allowed=("float32", "float64", "bfloat16"))
    return _cast(x, BF16, saturate)


def _cast(x, fmt, saturate):
    xp = _xp(x)
    if x.dtype == fmt.dtype:
        return x.copy()
    rounded = _round_to_format(x, fmt)
    if saturate:
        finite = xp.isfinite(x)
        rounded = xp.where(finite, xp.clip(rounded, -fmt.max, fmt.max), rounded)
    # Every value is now exact in fmt, so this cast does not round again.
    return rounded.astype(np.float32).astype(fmt.dtype)


def fp32_to_bf16_bits(x):
    """uint16 bits of bfloat16(x) for float32 x, round-to-nearest-even on the bit pattern
    (u + 0x7FFF + ((u >> 16) & 1)) >> 16; NaN becomes a quiet NaN of the same sign."""
    _check_float(x, allowed=("float32",))
    xp = _xp(x)
    u = x.view(xp.uint32).astype(xp.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(xp.uint16)
    quiet_nan = ((u >> 16) | 0x0040).astype(xp.uint16)
    return xp.where(xp.isnan(x), quiet_nan, rounded)


def bf16_bits_to_fp32(bits):
    """float32 values of bfloat16 bit patterns (uint16): exact, the bits shifted up."""
    xp = _xp(bits)
    return (bits.astype(xp.uint32) << 16).view(xp.float32)


# --- checks --------------------------------------------------------------------------------------

def all_finite(*arrays):
    """True when no array holds inf or NaN."""
    for a in arrays:
        _check_float(a)
        if not bool(_xp(a).isfinite(a.astype(np.float32) if a.dtype == bfloat16 else a).all()):
            return False
    return True


def count_nonfinite(a):
    """Number of inf and NaN elements of a."""
    _check_float(a, "a")
    xp = _xp(a)
    values = a.astype(np.float32) if a.dtype == bfloat16 else a
    return int((~xp.isfinite(values)).sum())


@dataclass(frozen=True)
class CastStats:
    """What casting an array to a low-precision format would do to it."""

    n: int
    overflow: int          # finite values that become +-inf
    underflow: int         # non-zero values that become 0
    subnormal: int         # non-zero values that land in the subnormal range
    precision_loss: int    # finite, non-zero results off by more than rel_tol relatively


def cast_stats(x, fmt, rel_tol=2.0**-8):
    """Overflow / underflow / precision statistics of casting x (float32/float64) to fmt."""
    _check_float(x, allowed=("float32", "float64"))
    fmt = _format(fmt)
    xp = _xp(x)
    rounded = _round_to_format(x, fmt)
    finite = xp.isfinite(x)
    nonzero = finite & (x != 0)
    overflow = finite & ~xp.isfinite(rounded)
    underflow = nonzero & (rounded == 0)
    subnormal = nonzero & (rounded != 0) & (xp.abs(rounded) < fmt.smallest_normal)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = xp.abs(rounded - x) / xp.abs(x)
    loss = nonzero & xp.isfinite(rounded) & (rounded != 0) & (rel > rel_tol)
    return CastStats(int(x.size), int(overflow.sum()), int(underflow.sum()),
                     int(subnormal.sum()), int(loss.sum()))


# --- loss scaling --------------------------------------------------------------------------------

_unscale_kernels = {}


def _cupy_unscale(g, inv_scale, found):
    """One fused pass on the GPU: flag a non-finite element, multiply by inv_scale."""
    import cupy

    kernel = _unscale_kernels.get(g.dtype)
    if kernel is None:
        kernel = cupy.ElementwiseKernel(
            "T inv", "T g, raw int32 found",
            "if (!isfinite((double)g)) { found[0] = 1; } g = g * inv;",
            "skext_unscale_and_check")
        _unscale_kernels[g.dtype] = kernel
    kernel(g.dtype.type(inv_scale), g, found)


def unscale_and_check_(grads, inv_scale, allow_fp16=False):
    """Multiply every gradient array in place by inv_scale and say whether any element of any
    array is inf or NaN (torch's _amp_foreach_non_finite_check_and_unscale_: the multiply is
    skipped when inv_scale == 1). Gradients should be float32 (master gradients); float16 ones
    are refused unless allow_fp16 (their unscaled values may underflow)."""
    if not np.isfinite(inv_scale) or inv_scale <= 0:
        raise ValueError(f"inv_scale must be a positive finite number, got {inv_scale}.")
    found = False
    for g in grads:
        _check_float(g, "gradient", allowed=("float16", "float32", "float64"))
        if g.dtype == np.float16 and not allow_fp16:
            raise ValueError("Attempting to unscale FP16 gradients.")
        xp = _xp(g)
        if xp is np:
            if not np.isfinite(g).all():
                found = True
            if inv_scale != 1.0:
                g *= g.dtype.type(inv_scale)
        else:
            flag = xp.zeros(1, dtype=xp.int32)
            if inv_scale != 1.0:
                _cupy_unscale(g, inv_scale, flag)
            else:
                flag[0] = int(not bool(xp.isfinite(g).all()))
            found = found or bool(flag[0])
    return found


def update_scale(scale, growth_tracker, found_inf, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000):
    """The loss-scale update after a step (torch's _amp_update_scale_), pure:
    found_inf -> (scale * backoff, 0); else the growth_interval-th clean step in a row ->
    (scale * growth if that is finite in float32, else scale; 0); else (scale, tracker + 1).
    Scale is float32."""
    scale = np.float32(scale)
    if found_inf:
        return np.float32(scale * np.float32(backoff_factor)), 0
    if growth_tracker + 1 == growth_interval:
        with np.errstate(over="ignore"):
            grown = np.float32(scale * np.float32(growth_factor))
        return (grown if np.isfinite(grown) else scale), 0
    return scale, growth_tracker + 1


_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class DynamicLossScaler:
    """torch.amp.GradScaler's state machine for NumPy / CuPy training loops.

    Per iteration: loss = scaler.scale(loss); backward; scaler.unscale_(grads) (optional);
    scaler.step(apply_fn, grads) (unscales if needed; calls apply_fn(grads) only when every
    gradient is finite, else skips the step); scaler.update(). Calling unscale_ twice, step twice,
    or update with no inf check recorded raises RuntimeError, as in torch.

    Parameters
    ----------
    init_scale : float, default=2**16
    growth_factor : float > 1, default=2.0
    backoff_factor : float in (0, 1), default=0.5
    growth_interval : int >= 1, default=2000
        Clean steps in a row before the scale grows.
    min_scale, max_scale : float or None, default None
        Optional bounds on the scale (torch has none).
    """

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, min_scale=None, max_scale=None):
        if not (np.isfinite(init_scale) and init_scale > 0):
            raise ValueError(f"init_scale must be a positive finite number, got {init_scale}.")
        if not growth_factor > 1.0:
            raise ValueError(f"The growth factor must be > 1.0, got {growth_factor}.")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"The backoff factor must be < 1.0 and > 0, got {backoff_factor}.")
        if int(growth_interval) != growth_interval or growth_interval < 1:
            raise ValueError(f"growth_interval must be a positive integer, got "
                             f"{growth_interval}.")
        for name, bound in (("min_scale", min_scale), ("max_scale", max_scale)):
            if bound is not None and not bound > 0:
                raise ValueError(f"{name} must be positive, got {bound}.")
        self._scale = np.float32(init_scale)
        self.growth_factor = float(growth_factor)
        self.backoff_factor = float(backoff_factor)
        self.growth_interval = int(growth_interval)
        self.min_scale = min_scale
        self.max_scale = max_scale
        self._growth_tracker = 0
        self._stage = _READY
        self._found_inf = None

    def get_scale(self):
        return float(self._scale)

    def scale(self, loss):
        """loss times the current scale."""
        return loss * self._scale

    def unscale_(self, grads):
        """Divide the gradients in place by the scale (multiply by float32(1 / scale)) and
        record whether any is inf or NaN."""
        if self._stage == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if self._stage == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = float(np.float32(1.0 / float(self._scale)))
        self._found_inf = unscale_and_check_(grads, inv)
        self._stage = _UNSCALED
        return self._found_inf

    def step(self, apply_fn, grads):
        """Unscale if not done yet; apply_fn(grads) when every gradient is finite (its result is
        returned), otherwise skip the step and return None."""
        if self._stage == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if self._stage == _READY:
            self.unscale_(grads)
        self._stage = _STEPPED
        if self._found_inf:
            return None
        return apply_fn(grads)

    def update(self, new_scale=None):
        """End the iteration: back off after an overflow, grow after growth_interval clean
        steps (see update_scale), or set new_scale when given."""
        if new_scale is not None:
            if not (np.isfinite(new_scale) and new_scale > 0):
                raise ValueError(f"new_scale must be a positive finite number, got {new_scale}.")
            self._scale = np.float32(new_scale)
        else:
            if self._found_inf is None:
                raise RuntimeError("No inf checks were recorded prior to update().")
            self._scale, self._growth_tracker = update_scale(
                self._scale, self._growth_tracker, self._found_inf, self.growth_factor,
                self.backoff_factor, self.growth_interval)
            if self.min_scale is not None:
                self._scale = np.float32(max(self._scale, self.min_scale))
            if self.max_scale is not None:
                self._scale = np.float32(min(self._scale, self.max_scale))
        self._stage = _READY
        self._found_inf = None

    def state_dict(self):
        return {"scale": float(self._scale), "growth_factor": self.growth_factor,
                "backoff_factor": self.backoff_factor, "growth_interval": self.growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state):
        self._scale = np.float32(state["scale"])
        self.growth_factor = state["growth_factor"]
        self.backoff_factor = state["backoff_factor"]
        self.growth_interval = state["growth_interval"]
        self._growth_tracker = state["_growth_tracker"]


# --- master weights ------------------------------------------------------------------------------

class MasterWeights:
    """float32 master copies of float16 / bfloat16 parameters.

    Updates go to the masters, so a step smaller than half a low-precision ulp of a weight is not
    lost; sync() refreshes the low-precision parameters (in place) by RNE casting. Gradients may
    be low precision; they are upcast to float32 before the update.
    """

    def __init__(self, params):
        self.params = list(params)
        for p in self.params:
            _check_float(p, "parameter", allowed=("float16", "bfloat16"))
        self.masters = [p.astype(np.float32) for p in self.params]
        self.state = [{} for _ in self.params]
        self.t = 0

    def step(self, update_fn, grads):
        """update_fn(master, grad32, state) updates each master in place; then sync()."""
        if len(grads) != len(self.masters):
            raise ValueError(f"expected {len(self.masters)} gradients, got {len(grads)}.")
        self.t += 1
        for master, grad, state in zip(self.masters, grads, self.state):
            update_fn(master, grad.astype(np.float32), state)
        self.sync()

    def sgd_step(self, grads, lr, momentum=0.0):
        """SGD with (heavy-ball) momentum on the masters."""
        def update(master, g, state):
            if momentum:
                buf = state.get("momentum")
                buf = g.copy() if buf is None else buf * np.float32(momentum) + g
                state["momentum"] = buf
                g = buf
            master -= np.float32(lr) * g

        self.step(update, grads)

    def adam_step(self, grads, lr, betas=(0.9, 0.999), eps=1e-8):
        """Adam (bias-corrected) on the masters."""
        b1, b2 = betas
        t = self.t + 1

        def update(master, g, state):
            m = state.get("m")
            v = state.get("v")
            m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
            v = (1 - b2) * g * g if v is None else b2 * v + (1 - b2) * g * g
            state["m"], state["v"] = m.astype(np.float32), v.astype(np.float32)
            m_hat = state["m"] / (1 - b1**t)
            v_hat = state["v"] / (1 - b2**t)
            master -= (np.float32(lr) * m_hat / (_xp(v_hat).sqrt(v_hat) + eps)).astype(
                np.float32)

        self.step(update, grads)

    def sync(self):
        """Low-precision parameters = RNE cast of the masters (in place)."""
        for p, master in zip(self.params, self.masters):
            p[...] = to_fp16(master) if p.dtype == np.float16 else to_bf16(master)
