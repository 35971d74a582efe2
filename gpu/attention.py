"""`flash_attention`: validation, then the CUDA kernel (CuPy arrays) or the NumPy implementation of
the same tiled algorithm (NumPy arrays). The kernel source is gpu/kernels/flash_fwd.cu, compiled
by CuPy once per variant (kernel kind, head dim, causal, dtype) and cached.
"""

import math
from functools import cache
from pathlib import Path

import ml_dtypes
import numpy as np

from .reference import LOG2E, flash_attention_tiled

KERNEL_SOURCE = Path(__file__).with_name("kernels") / "flash_fwd.cu"
MMA_HEAD_DIMS = (64, 128)       # tensor-core path
MAX_HEAD_DIM = 256              # SIMT path
NUM_WARPS = 4
MMA_BLOCK_N = 64
SIMT_KEYS = 32
_ELEM_KIND = {np.dtype(np.float16): 0, np.dtype(ml_dtypes.bfloat16): 1,
              np.dtype(np.float32): 2}
_DTYPE_NAMES = "float16, bfloat16 (ml_dtypes) or float32"


def _array_module(a):
    module = type(a).__module__.split(".")[0]
    if module == "cupy":
        import cupy

        return cupy
    return np


def _check_inputs(q, k, v, scale):
    """Shapes, dtypes and scale; returns the resolved scale. Raises ValueError/TypeError."""
    modules = {_array_module(a) for a in (q, k, v)}
    if len(modules) != 1:
        raise TypeError("q, k and v must all be NumPy arrays or all be CuPy arrays")
    for name, a in (("q", q), ("k", k), ("v", v)):
        if not hasattr(a, "ndim") or a.ndim != 4:
            raise ValueError(f"{name} must be a 4-D array (batch, heads, seq_len, head_dim); "
                             f"got shape {getattr(a, 'shape', None)}")
    dtypes = {np.dtype(a.dtype) for a in (q, k, v)}
    if len(dtypes) != 1:
        raise TypeError(f"q, k and v must share one dtype; got {q.dtype}, {k.dtype}, {v.dtype}")
    if np.dtype(q.dtype) not in _ELEM_KIND:
        raise TypeError(f"unsupported dtype {q.dtype}: expected {_DTYPE_NAMES}")
    if k.shape != v.shape:
        raise ValueError(f"k and v must have the same shape; got {k.shape} and {v.shape}")
    if q.shape[:2] != k.shape[:2] or q.shape[3] != k.shape[3]:
        raise ValueError("q (B, H, Nq, D) and k, v (B, H, Nk, D) must agree on B, H and D; "
                         f"got q {q.shape}, k {k.shape}")
    if q.shape[2] < 1 or k.shape[2] < 1:
        raise ValueError(f"sequence lengths must be >= 1; got Nq={q.shape[2]}, Nk={k.shape[2]}")
    head_dim = q.shape[3]
    if not 1 <= head_dim <= MAX_HEAD_DIM:
        raise ValueError(f"head_dim must be in [1, {MAX_HEAD_DIM}]; got {head_dim}")
    if scale is None:
        return 1.0 / math.sqrt(head_dim)
    scale = float(scale)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0; got {scale}")
    return scale


def kernel_variant(dtype, head_dim, causal):
    """The compile-time variant that runs these inputs on a GPU: (kind, macros). "mma" (tensor
    cores) for float16/bfloat16 with head_dim in (64, 128), else "simt" (fp32 FMA, any head_dim
    <= 256)."""
    elem_kind = _ELEM_KIND[np.dtype(dtype)]
    macros = {"IS_CAUSAL": int(bool(causal)), "ELEM_KIND": elem_kind, "NUM_WARPS": NUM_WARPS}
    if elem_kind != 2 and head_dim in MMA_HEAD_DIMS:
        return "mma", {**macros, "HEAD_DIM": head_dim, "BLOCK_N": MMA_BLOCK_N}
    return "simt", {**macros, "FA_SIMT": 1}


def all_variants():
    """Every variant the launcher can pick: what the nvcc test and the device check build."""
    variants = []
    for dtype in _ELEM_KIND:
        for causal in (False, True):
            for head_dim in (*MMA_HEAD_DIMS, 32):
                variant = kernel_variant(dtype, head_dim, causal)
                if variant not in variants:
                    variants.append(variant)
    return variants


def variant_options(macros):
    """Compiler options (-D flags) of a variant, identical for CuPy and nvcc."""
    return tuple(f"-D{name}={value}" for name, value in sorted(macros.items()))


def shared_memory_bytes(kind, macros, head_dim):
    """Dynamic shared memory a launch needs (must match the kernel's smem carving)."""
    if kind == "mma":
        row = macros["HEAD_DIM"] + 8
        return (16 * NUM_WARPS + 4 * MMA_BLOCK_N) * row * 2   # Q + 2 x K + 2 x V tiles
    return 4 * (SIMT_KEYS * (head_dim + 1) + SIMT_KEYS * head_dim + NUM_WARPS * head_dim)


@cache
def _compiled_kernel(kind, options):
    import cupy

    module = cupy.RawModule(code=KERNEL_SOURCE.read_text(), options=options, backend="nvrtc")
    return module.get_function("flash_fwd_" + kind)


def _device_ready(cupy, a):
    """A C-contiguous array whose base is 16-byte aligned (the kernel's vector copies need it)."""
    a = cupy.ascontiguousarray(a)
    if a.data.ptr % 16:
        a = a.copy()
    return a


def _flash_attention_cupy(q, k, v, causal, scale, out=None, lse=None):
    """Launch the kernel; `out`/`lse` may be given preallocated (the tests poison them)."""
    import cupy

    q, k, v = (_device_ready(cupy, a) for a in (q, k, v))
    batch, heads, n_q, head_dim = q.shape
    n_k = k.shape[2]
    kind, macros = kernel_variant(q.dtype, head_dim, causal)
    kernel = _compiled_kernel(kind, variant_options(macros))
    smem = shared_memory_bytes(kind, macros, head_dim)
    if smem > 48 * 1024 and kernel.max_dynamic_shared_size_bytes < smem:
        kernel.max_dynamic_shared_size_bytes = smem
    if out is None:
        out = cupy.empty(q.shape, dtype=q.dtype)
    if lse is None:
        lse = cupy.empty((batch, heads, n_q), dtype=cupy.float32)
    rows_per_cta = 16 * NUM_WARPS if kind == "mma" else NUM_WARPS
    grid = (-(-n_q // rows_per_cta), heads, batch)
    scale_log2 = np.float32(scale * LOG2E)
    args = (q, k, v, out, lse, np.int32(n_q), np.int32(n_k))
    args += (scale_log2,) if kind == "mma" else (np.int32(head_dim), scale_log2)
    kernel(grid, (32 * NUM_WARPS,), args, shared_mem=smem)
    return out, lse


def flash_attention(q, k, v, *, causal=False, scale=None, return_lse=False, backend="auto"):
    """Attention softmax(scale * q k^T) v without materialising the score matrix.

    Parameters
    ----------
    q : array of shape (B, H, Nq, D)
        NumPy or CuPy; float16, bfloat16 (ml_dtypes) or float32.
    k, v : arrays of shape (B, H, Nk, D)
        Same array module and dtype as q.
    causal : bool, default=False
        Query i attends to keys j <= i, top-left aligned like torch's ``is_causal``
        (FlashAttention >= 2.1 aligns bottom-right when Nq != Nk).
    scale : float, default=None
        Score scale, > 0; None means 1 / sqrt(D).
    return_lse : bool, default=False
        Also return the float32 natural log-sum-exp of each row's scaled scores, (B, H, Nq).
    backend : {"auto", "numpy", "cupy"}, default="auto"
        "auto" runs the CUDA kernel on CuPy arrays and the NumPy implementation of the same tiled
        algorithm on NumPy arrays; the others insist on one and require matching arrays.

    Returns
    -------
    out : array of shape (B, H, Nq, D), q's dtype and array module
    lse : float32 array of shape (B, H, Nq), only when ``return_lse``

    Notes
    -----
    On a GPU, float16/bfloat16 with D in (64, 128) run the tensor-core kernel (P rounded to the
    input dtype before P @ V, as FlashAttention does); float32 or other D <= 256 run the SIMT
    kernel in fp32. NaN or inf in an input row propagates as in `attention_reference`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpu import attention_reference, flash_attention
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((1, 2, 100, 64)).astype(np.float32) for _ in range(3))
    >>> out = flash_attention(q, k, v, causal=True)
    >>> bool(np.abs(out - attention_reference(q, k, v, causal=True)).max() < 1e-5)
    True
    """
    if backend not in ("auto", "numpy", "cupy"):
        raise ValueError(f"backend must be 'auto', 'numpy' or 'cupy'; got {backend!r}")
    scale = _check_inputs(q, k, v, scale)
    xp = _array_module(q)
    if backend == "cupy" and xp is np:
        raise TypeError("backend='cupy' needs CuPy arrays (cupy.asarray(q), ...)")
    if backend == "numpy" and xp is not np:
        raise TypeError("backend='numpy' needs NumPy arrays (q.get(), ...)")
    if xp is np:
        # the kernel's method; tile sizes change only the order of float32 roundings
        kind, _ = kernel_variant(q.dtype, q.shape[3], causal)
        out, lse = flash_attention_tiled(q, k, v, causal=causal, scale=scale, return_lse=True,
                                         block_m=64, block_n=64,
                                         p_dtype=q.dtype if kind == "mma" else np.float32)
    else:
        out, lse = _flash_attention_cupy(q, k, v, causal, scale)
    return (out, lse) if return_lse else out
