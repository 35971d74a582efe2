"""GPU kernels with NumPy twins; importable without CuPy.

- Mixed precision (gpu.mixed_precision): FP16/BF16 formats and RNE casts, non-finite checks,
  GradScaler-style dynamic loss scaling, fp32 master weights, for NumPy and CuPy arrays.
- Flash attention: issue #7 (not built yet).
"""

from ._backend import gpu_available
from .mixed_precision import (
    BF16,
    FP16,
    CastStats,
    DynamicLossScaler,
    FloatFormat,
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

__all__ = [
    "BF16",
    "FP16",
    "CastStats",
    "DynamicLossScaler",
    "FloatFormat",
    "MasterWeights",
    "all_finite",
    "bf16_bits_to_fp32",
    "cast_stats",
    "count_nonfinite",
    "fp32_to_bf16_bits",
    "gpu_available",
    "to_bf16",
    "to_fp16",
    "ulp",
    "unscale_and_check_",
    "update_scale",
]
