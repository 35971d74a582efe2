"""Thread counts: joblib's reading of n_jobs, applied to Numba's parallel kernels."""

from contextlib import contextmanager

import numba
from joblib import effective_n_jobs


def n_threads(n_jobs):
    """Threads n_jobs asks for (None -> 1, -1 -> all cores), capped by Numba's pool."""
    return max(1, min(effective_n_jobs(n_jobs), numba.config.NUMBA_NUM_THREADS))


@contextmanager
def numba_threads(n_jobs):
    """Run the enclosed parallel kernels with n_jobs threads (Numba's setting is per thread)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads(n_jobs))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
