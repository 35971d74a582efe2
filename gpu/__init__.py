"""GPU kernels (flash attention, mixed precision) with NumPy references; importable without CuPy.

The kernels themselves land in their own issues (#7 flash attention, #8 mixed precision); this
package already answers whether a GPU can be used.
"""

from ._backend import gpu_available

__all__ = ["gpu_available"]
