"""Where Numba caches skext's compiled kernels, and what happens when nowhere is writable.

Every kernel is `@njit(cache=True)`: Numba writes its machine code beside the source
(__pycache__), else in the user's cache directory, else (NUMBA_CACHE_DIR) where it is told. On an
install where none of those is writable (read-only site-packages and no writable home, as in
some containers) Numba refuses to decorate a cached function, so `import skext` would fail.
`ensure_cache_location` runs before any kernel is defined: in that case it points Numba at a
directory under the system's temporary directory, with one warning. It asks Numba's own cache
machinery (numba.core.caching.FunctionCache, numba 0.68), which honours NUMBA_CACHE_DIR and
NUMBA_CACHE_LOCATOR_CLASSES, whether it can place a cache for a function of this package.
"""

import os
import tempfile
import warnings

import numba
from numba.core import caching


def _probe():
    """A function of this package standing for skext's kernels in the cache test."""


def _cache_is_writable():
    """Whether Numba finds a writable cache location for a function of this package (what it
    checks when a `cache=True` kernel is decorated; it raises RuntimeError when none is)."""
    try:
        caching.FunctionCache(_probe)
    except RuntimeError:
        return False
    return True


def fallback_cache_dir():
    """The per-user cache directory used when Numba finds no writable location."""
    return os.path.join(tempfile.gettempdir(), f"skext-numba-cache-{os.getuid()}")


def ensure_cache_location():
    """Make sure Numba can cache skext's kernels; returns the directory chosen when a fallback
    was needed, else None."""
    if numba.config.DISABLE_JIT or _cache_is_writable():
        return None
    cache_dir = fallback_cache_dir()
    os.makedirs(cache_dir, exist_ok=True)
    numba.config.CACHE_DIR = cache_dir
    # Worker processes started later (joblib's loky, Dask) read the environment.
    os.environ["NUMBA_CACHE_DIR"] = cache_dir
    warnings.warn(
        f"skext: no writable location for Numba's cache of compiled kernels (the package "
        f"directory and the user cache directory are read-only); caching them in {cache_dir}. "
        f"Set NUMBA_CACHE_DIR to a persistent writable directory to keep them across "
        f"machines or containers.", RuntimeWarning, stacklevel=3)
    return cache_dir


def kernel_variant(name, **options):
    """`@njit(cache=True, nogil=True, **options)` for a kernel a factory makes once per variant,
    under a name of its own (the variant's constants in it).

    Numba names a compiled function's symbol after its __qualname__ and a per-process counter
    (its uid). Two variants of one factory share the qualname, so a variant compiled in one
    process and another compiled in a second process at the same counter value get the same
    symbol with different bodies; a third process that loads both from the cache links every
    call to whichever body came first (numba#10486, open): a multi-output extra-trees fit that
    followed a Poisson fit ran the Poisson split search. A name per variant makes the symbols
    differ (and gives each variant its own cache file)."""

    def wrap(fn):
        fn.__name__ = fn.__qualname__ = name
        return numba.njit(cache=True, nogil=True, **options)(fn)

    return wrap
