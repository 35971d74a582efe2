"""pytest-benchmark micro benchmarks of the engine, each beside a peer in the same run:

    pytest bench --benchmark-only --benchmark-group-by=param:workload

- histogram: skext's kernel vs scikit-learn HistGradientBoosting's HistogramBuilder (both 2
  threads, gradient + hessian channels), and the bandwidth floor: one pass that only streams the
  binned matrix (its time is the floor the histogram's is reported against, extra_info
  "ratio_to_floor" and "ns_per_update");
- split search: skext's scan of a full root histogram vs the NumPy reference of the same search;
- one tree: skext's DecisionTreeClassifier vs scikit-learn's, full depth.

BENCH_ROWS (default 100000) sizes the data: make_classification x 28 features."""

import os

import numba
import numpy as np
import pytest
from sklearn.datasets import make_classification

from bench.report import floor_seconds, stream_codes
from skext.tree._binning import BinMapper
from skext.tree._histogram import _build_histogram
from skext.tree._types import CRITERION_SECOND_ORDER, N_HIST_BINS

N_ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
N_THREADS = 2


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(N_ROWS, n_features=28, n_informative=20, n_redundant=4,
                               flip_y=0.05, random_state=0)
    mapper = BinMapper().fit(X)
    X_binned = mapper.transform(X)
    rng = np.random.default_rng(0)
    grad_hess = np.column_stack((rng.normal(size=N_ROWS), rng.uniform(0.1, 1, N_ROWS)))
    return X, y, mapper, X_binned, grad_hess


@pytest.mark.parametrize("workload", ["histogram"])
@pytest.mark.parametrize("side", ["skext", "sklearn-hist", "floor"])
def test_histogram(benchmark, data, workload, side):
    _, _, _, X_binned, grad_hess = data
    n_rows, n_features = X_binned.shape
    previous = numba.get_num_threads()
    numba.set_num_threads(min(N_THREADS, numba.config.NUMBA_NUM_THREADS))
    try:
        if side == "skext":
            features = np.arange(n_features, dtype=np.int32)
            hist = np.zeros((n_features, N_HIST_BINS, 3))

            def run():
                hist[:] = 0.0
                _build_histogram(X_binned, grad_hess, 0, n_rows, features, hist, True,
                                 grad_hess.shape[1])

        elif side == "sklearn-hist":
            from sklearn.ensemble._hist_gradient_boosting.histogram import HistogramBuilder

            builder = HistogramBuilder(np.asfortranarray(X_binned), N_HIST_BINS,
                                       grad_hess[:, 0].astype(np.float32),
                                       grad_hess[:, 1].astype(np.float32), False, N_THREADS)
            rows = np.arange(n_rows, dtype=np.uint32)

            def run():
                builder.compute_histograms_brute(rows)

        else:
            def run():
                stream_codes(X_binned)

        run()  # warm-up
        benchmark.pedantic(run, rounds=10, iterations=1)
        best = benchmark.stats.stats.min
        floor = floor_seconds(X_binned)
        benchmark.extra_info.update(ratio_to_floor=best / floor,
                                    ns_per_update=best / (n_rows * n_features) * 1e9)
    finally:
        numba.set_num_threads(previous)


def _skext_root_split(X_binned, grad_hess, mapper):
    """A call running skext's split search over a prebuilt full root histogram (the histogram
    is built once, outside the timing)."""
    from skext.tree._random import new_rng_state
    from skext.tree._splitter import split_finder

    n, d = X_binned.shape
    pool = np.arange(d, dtype=np.int32)
    hist = np.zeros((d, N_HIST_BINS, 3))
    _build_histogram(X_binned, grad_hess, 0, n, pool, hist, False, grad_hess.shape[1])
    node_sums = hist[0].sum(axis=0)
    params = np.array([1.0, 0.0, 0.0])
    scratch = dict(
        scratch_hist=np.zeros((N_HIST_BINS, 3)), touched=np.empty(N_HIST_BINS, np.int32),
        codes=np.empty(N_HIST_BINS, np.int32), cum=np.empty(3), left=np.empty(3),
        right=np.empty(3), best_gain=np.empty(1), best_meta=np.empty(3, np.int64),
        best_left=np.empty(3), best_threshold=np.empty(1))
    pool_order = np.empty(d, np.int32)
    allowed = np.ones(d, np.uint8)
    find = split_finder(CRITERION_SECOND_ORDER, 2, True, False)

    def run():
        find(X_binned, grad_hess, 0, n, node_sums, hist, pool, allowed, pool_order, d,
             mapper.representatives_, mapper.edges_, params, 1, 0.0, new_rng_state(0),
             *scratch.values())
        return scratch["best_gain"][0], scratch["best_meta"].copy()

    return run


@pytest.mark.parametrize("workload", ["split search"])
@pytest.mark.parametrize("side", ["skext", "numpy-reference"])
def test_split_search(benchmark, data, workload, side):
    from skext.tree._splitter import _find_best_split_naive

    _, _, mapper, X_binned, grad_hess = data
    n = min(len(X_binned), 20_000)  # the reference is slow
    if side == "skext":
        run = _skext_root_split(X_binned[:n], grad_hess[:n], mapper)
        run()
        benchmark.pedantic(run, rounds=20, iterations=1)
    else:
        features = np.arange(X_binned.shape[1], dtype=np.int32)
        params = np.array([1.0, 0.0, 0.0])
        benchmark.pedantic(_find_best_split_naive,
                           args=(X_binned, grad_hess, np.arange(n), features,
                                 CRITERION_SECOND_ORDER, params, 1, 0.0),
                           rounds=1, iterations=1)


@pytest.mark.parametrize("workload", ["one tree"])
@pytest.mark.parametrize("side", ["skext", "sklearn"])
def test_one_tree(benchmark, data, workload, side):
    X, y, *_ = data
    if side == "skext":
        from skext.tree import DecisionTreeClassifier
    else:
        from sklearn.tree import DecisionTreeClassifier
    tree = DecisionTreeClassifier(random_state=0)
    tree.fit(X[:500], y[:500])
    benchmark.pedantic(tree.fit, args=(X, y), rounds=3, iterations=1)
    benchmark.extra_info.update(n_leaves=int(tree.get_n_leaves()))
