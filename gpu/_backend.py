"""Device detection: is CuPy importable and a CUDA device usable? Never raises."""

from functools import lru_cache


@lru_cache(maxsize=1)
def gpu_available():
    """True when CuPy imports and at least one CUDA device answers (cached)."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # any import or driver failure means "no GPU"
        return False
