"""GPU kernels with NumPy twins; importable without CuPy.

- Mixed precision (gpu.mixed_precision): FP16/BF16 formats and RNE casts, non-finite checks,
  GradScaler-style dynamic loss scaling, fp32 master weights, for NumPy and CuPy arrays.
- Flash attention (gpu.attention, gpu.reference): FlashAttention-2 forward as a CuPy raw kernel
  (gpu/kernels/flash_fwd.cu) with the same tiled algorithm in NumPy and a float64 reference.
"""

from ._backend import gpu_available
from .attention import flash_attention
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
from .reference import attention_reference, flash_attention_tiled

__all__ = [
    "BF16",
    "FP16",
    "CastStats",
    "DynamicLossScaler",
    "FloatFormat",
    "MasterWeights",
    "all_finite",
    "attention_reference",
    "bf16_bits_to_fp32",
    "cast_stats",
    "count_nonfinite",
    "flash_attention",
    "flash_attention_tiled",
    "fp32_to_bf16_bits",
    "gpu_available",
    "to_bf16",
    "to_fp16",
    "ulp",
    "unscale_and_check_",
    "update_scale",
]
