"""Histogram kernels: per (feature, bin) sums of a node's per-sample channels.

Called by the split search for every node. A histogram is float64 (n_features, N_HIST_BINS, 1 + C):
channel 0 counts rows, channels 1..C sum `stats` (see _criterion.py for what they hold). Two ways to
get one: build it from the node's rows, or, for the larger child, subtract the smaller child's
histogram from the parent's (LightGBM's trick), which halves the row passes.

The kernels read node-ordered copies of the data (the grower keeps X_binned and stats permuted so
that every node's rows are one contiguous block [start, end)): every pass is sequential, where an
index indirection would miss the cache on every row.
"""

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._types import MISSING_BIN, N_HIST_BINS

# Rows ahead whose data the gather kernels prefetch: a row's codes and channels are two cache
# misses when a node's rows are scattered over the matrix; 16 rows (~2 us of work) cover the
# memory latency. Measured at 400k x 28: a node of 50k scattered rows 13.9 -> 5.4 ms.
PREFETCH_AHEAD = 16


def _prefetch_codegen(context, builder, signature, args):
    """llvm.prefetch (read, high locality) of array[args[1:]]. No Numba API exposes it; "p0i8"
    is LLVM 14's name, which newer LLVMs upgrade."""
    array_type = signature.args[0]
    array_struct = context.make_array(array_type)(context, builder, args[0])
    index = [context.cast(builder, args[k], signature.args[k], types.intp)
             for k in range(1, len(args))]
    pointer = cgutils.get_item_pointer(context, builder, array_type, array_struct, index,
                                       wraparound=False)
    i8_pointer = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    function = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [i8_pointer, i32, i32, i32]),
        "llvm.prefetch.p0i8")
    builder.call(function, [builder.bitcast(pointer, i8_pointer), ir.Constant(i32, 0),
                            ir.Constant(i32, 3), ir.Constant(i32, 1)])
    return context.get_dummy_value()


@intrinsic
def _prefetch(typingctx, array, i, j):
    """Hint the cache to fetch array[i, j] (2-D array)."""
    return types.void(array, i, j), _prefetch_codegen


@intrinsic
def prefetch_1d(typingctx, array, i):
    """Hint the cache to fetch array[i] (1-D array)."""
    return types.void(array, i), _prefetch_codegen


def _make_build_histogram(n_channels, parallel):
    """The histogram kernel for a fixed channel count (a closure constant): the per-row update
    of 1 + n_channels float64 slots then compiles to straight-line (vector) adds, 3x faster than
    a loop over a run-time count (2.0 vs 6.3 ns per (row, feature) measured on 100k x 28).
    n_channels = -1: the count is read from stats_node at run time. parallel: features are
    split over Numba's threads (each feature's bins are written by one thread only, so the
    result does not depend on the thread count)."""

    @njit(cache=True, nogil=True, parallel=parallel)
    def build(X_node, stats_node, start, end, features, hist):
        n = n_channels if n_channels > 0 else stats_node.shape[1]
        # Feature-outer: one feature's 256 x (1 + C) bins stay in L1 while its column streams.
        for j in prange(features.shape[0]):
            f = features[j]
            for i in range(start, end):
                b = X_node[i, f]
                hist[j, b, 0] += 1.0
                for c in range(n):
                    hist[j, b, 1 + c] += stats_node[i, c]

    return build


# Channel counts the estimators use: 1, 2 (binary classes, or g/h), 3 (regression w, wy, wy^2), 4.
_BUILD_C1 = _make_build_histogram(1, False)
_BUILD_C2 = _make_build_histogram(2, False)
_BUILD_C3 = _make_build_histogram(3, False)
_BUILD_C4 = _make_build_histogram(4, False)
# Threaded twins, for one tree at a time (boosting); forests parallelise over trees instead.
_BUILD_C2_PAR = _make_build_histogram(2, True)
_BUILD_C3_PAR = _make_build_histogram(3, True)
_BUILD_ANY_PAR = _make_build_histogram(-1, True)


# Any other count (multi-class): read at run time.
_build_histogram_generic = _make_build_histogram(-1, False)


@njit(cache=True, nogil=True)
def _build_histogram(X_node, stats_node, start, end, features, hist, parallel=False):
    """Accumulate the histograms of `features` over the rows start:end.

    X_node     (n_rows, n_features) uint8  (in)  binned rows in node order
    stats_node (n_rows, C) float64         (in)  per-sample channels in node order
    features   (n_hist_features,) int32    (in)  feature of each histogram slot
    hist       (n_hist_features, 256, 1 + C) (in/out) zeroed by the caller, accumulated into
    parallel   bool                        (in)  features over Numba's threads
    """
    n_channels = stats_node.shape[1]
    if parallel:
        if n_channels == 2:
            _BUILD_C2_PAR(X_node, stats_node, start, end, features, hist)
        elif n_channels == 3:
            _BUILD_C3_PAR(X_node, stats_node, start, end, features, hist)
        else:
            _BUILD_ANY_PAR(X_node, stats_node, start, end, features, hist)
    elif n_channels == 2:
        _BUILD_C2(X_node, stats_node, start, end, features, hist)
    elif n_channels == 3:
        _BUILD_C3(X_node, stats_node, start, end, features, hist)
    elif n_channels == 1:
        _BUILD_C1(X_node, stats_node, start, end, features, hist)
    elif n_channels == 4:
        _BUILD_C4(X_node, stats_node, start, end, features, hist)
    else:
        _build_histogram_generic(X_node, stats_node, start, end, features, hist)


# Rows per block of the threaded row-gather kernel: blocks are fixed (not one per thread), each
# sums into its own histogram, and the blocks are merged in order, so the result does not depend
# on the thread count. 8192 rows x 28 features take ~0.3 ms to histogram, 20x the merge.
_ROW_BLOCK = 8192
_BLOCKS_PER_WAVE = 4


def _make_build_histogram_rows(n_channels, parallel):
    """The gather kernel: histograms over X[rows[i]], stats[rows[i]] (the grower's gather mode
    and every lazy root). Row-outer: each row's codes (one cache line) are read once for all
    features, where a feature-outer pass would stream the node's scattered rows once per
    feature (measured 2x faster at 400k x 28, whose binned matrix outgrows the L2 cache).
    Nodes of more than _ROW_BLOCK rows are summed in fixed blocks into private histograms,
    merged in block order (parallel: the blocks over Numba's threads); the serial twin does
    the same, so the sums do not depend on the thread count. The rows
    PREFETCH_AHEAD ahead are prefetched (rows of deep nodes are scattered)."""

    @njit(cache=True, nogil=True, inline="always")
    def accumulate(X_binned, stats, rows, lo, hi, features, hist):
        n = n_channels if n_channels > 0 else stats.shape[1]
        n_features = features.shape[0]
        for i in range(lo, hi):
            if i + PREFETCH_AHEAD < hi:
                ahead = rows[i + PREFETCH_AHEAD]
                _prefetch(X_binned, ahead, 0)
                _prefetch(stats, ahead, 0)
            r = rows[i]
            for j in range(n_features):
                b = X_binned[r, features[j]]
                hist[j, b, 0] += 1.0
                for c in range(n):
                    hist[j, b, 1 + c] += stats[r, c]

    # The serial twin runs the same blocks and merge with range for prange: the same sums in
    # the same order, so a fit is bit-identical for any n_jobs.
    @njit(cache=True, nogil=True, parallel=parallel)
    def build_blocks(X_binned, stats, rows, features, scratch, first, count):
        n_rows = rows.shape[0]
        for k in prange(count):
            lo = (first + k) * _ROW_BLOCK
            scratch[k] = 0.0
            accumulate(X_binned, stats, rows, lo, min(n_rows, lo + _ROW_BLOCK), features,
                       scratch[k])

    @njit(cache=True, nogil=True, parallel=parallel)
    def merge(scratch, count, hist):
        for j in prange(hist.shape[0]):
            for k in range(count):
                for b in range(hist.shape[1]):
                    for c in range(hist.shape[2]):
                        hist[j, b, c] += scratch[k, j, b, c]

    @njit(cache=True, nogil=True)
    def build(X_binned, stats, rows, features, hist, scratch):
        n_blocks = (rows.shape[0] + _ROW_BLOCK - 1) // _ROW_BLOCK
        if n_blocks <= 1:
            accumulate(X_binned, stats, rows, 0, rows.shape[0], features, hist)
            return
        # Waves of _BLOCKS_PER_WAVE blocks, each merged into hist in block order: the scratch
        # stays small (4 x 172 KB at 28 features) and the order of the sums stays fixed.
        wave = min(n_blocks, _BLOCKS_PER_WAVE)
        for first in range(0, n_blocks, wave):
            count = min(wave, n_blocks - first)
            build_blocks(X_binned, stats, rows, features, scratch, first, count)
            merge(scratch, count, hist)

    return build


_ROWS_C2 = _make_build_histogram_rows(2, False)
_ROWS_C3 = _make_build_histogram_rows(3, False)
_ROWS_ANY = _make_build_histogram_rows(-1, False)
_ROWS_C2_PAR = _make_build_histogram_rows(2, True)
_ROWS_C3_PAR = _make_build_histogram_rows(3, True)
_ROWS_ANY_PAR = _make_build_histogram_rows(-1, True)


@njit(cache=True, nogil=True)
def _histogram_scratch(n_rows, n_features, n_slots):
    """Scratch for _build_histogram_rows over at most n_rows rows: one histogram per block of a
    wave (empty when a single block will do). Allocate once per tree: a fresh 0.7 MB buffer
    per node is a fresh mapping, page-faulted in each time."""
    n_blocks = (n_rows + _ROW_BLOCK - 1) // _ROW_BLOCK
    count = 0 if n_blocks <= 1 else min(n_blocks, _BLOCKS_PER_WAVE)
    return np.empty((count, n_features, N_HIST_BINS, n_slots))


@njit(cache=True, nogil=True)
def _build_histogram_rows(X_binned, stats, rows, features, hist, parallel, scratch):
    """Histograms of `features` over X_binned[rows] (hist (in/out) as _build_histogram's; it
    receives sums, so it may already hold some). scratch: from _histogram_scratch (out)."""
    n_channels = stats.shape[1]
    if parallel:
        if n_channels == 2:
            _ROWS_C2_PAR(X_binned, stats, rows, features, hist, scratch)
        elif n_channels == 3:
            _ROWS_C3_PAR(X_binned, stats, rows, features, hist, scratch)
        else:
            _ROWS_ANY_PAR(X_binned, stats, rows, features, hist, scratch)
    elif n_channels == 2:
        _ROWS_C2(X_binned, stats, rows, features, hist, scratch)
    elif n_channels == 3:
        _ROWS_C3(X_binned, stats, rows, features, hist, scratch)
    else:
        _ROWS_ANY(X_binned, stats, rows, features, hist, scratch)


def _build_histogram_naive(X_binned, stats, rows, features):
    """Reference for tests: np.add.at over the rows `rows` of X_binned, one feature at a time."""
    n_channels = stats.shape[1]
    hist = np.zeros((len(features), N_HIST_BINS, 1 + n_channels))
    values = np.hstack([np.ones((len(rows), 1)), stats[rows]])
    for j, f in enumerate(features):
        np.add.at(hist[j], X_binned[rows, f], values)
    return hist


@njit(cache=True, nogil=True)
def _build_feature_histogram_sparse(X_node, stats_node, start, end, feature, hist_f, touched):
    """One feature's histogram over the rows start:end (node order, as _build_histogram),
    recording which bins were touched so that small nodes neither scan nor clear all 256 bins.

    hist_f  (256, 1 + C) float64 (in/out) all zero on entry
    touched (256,) int32         (out)    touched[:n_touched] = bins hit, in first-hit order
    Returns n_touched.
    """
    n_channels = stats_node.shape[1]
    n_touched = 0
    for i in range(start, end):
        b = X_node[i, feature]
        if hist_f[b, 0] == 0.0:
            touched[n_touched] = b
            n_touched += 1
        hist_f[b, 0] += 1.0
        for c in range(n_channels):
            hist_f[b, 1 + c] += stats_node[i, c]
    return n_touched


@njit(cache=True, nogil=True)
def _clear_touched(hist_f, touched, n_touched):
    """Zero the bins a sparse build touched (hist_f in/out, touched (in))."""
    for k in range(n_touched):
        hist_f[touched[k], :] = 0.0


@njit(cache=True, nogil=True)
def _subtract_histograms(parent, child, sibling):
    """sibling = parent - child, all (n_hist_features, 256, 1 + C) float64 (sibling: out)."""
    p = parent.reshape(-1)
    c = child.reshape(-1)
    s = sibling.reshape(-1)
    for i in range(p.shape[0]):
        s[i] = p[i] - c[i]


@njit(cache=True, nogil=True)
def _present_bins(hist_f, touched, n_touched, codes):
    """Ascending non-missing codes with rows in them, and whether the missing bin has rows.

    hist_f  (256, 1 + C) (in); touched (256,) int32 (in/out, sorted in place when used)
    n_touched: bins listed in touched, or -1 when unknown (a full histogram)
    codes   (256,) int32 (out) codes[:n_present]
    Returns (n_present, has_missing).
    """
    n_present = 0
    if n_touched < 0 or n_touched > 32:
        for b in range(MISSING_BIN):
            if hist_f[b, 0] > 0.0:
                codes[n_present] = b
                n_present += 1
    else:
        # Few bins: insertion sort of the touched list beats scanning 255 bins.
        for k in range(n_touched):
            b = touched[k]
            if b == MISSING_BIN:
                continue
            pos = n_present
            while pos > 0 and codes[pos - 1] > b:
                codes[pos] = codes[pos - 1]
                pos -= 1
            codes[pos] = b
            n_present += 1
    return n_present, hist_f[MISSING_BIN, 0] > 0.0
