"""Histogram kernels: per (feature, bin) sums of a node's per-sample channels.

Called by the grower (_grower.py) for the nodes it may split. A histogram is float64
(n_features, N_HIST_BINS, 1 + C):
channel 0 counts rows, channels 1..C sum `stats` (see _criterion.py for what they hold); boosting's
second-order trees keep countless ones, (n_features, N_HIST_BINS, 2) of (g, h) (_grower). Two ways
to get one: build it from the node's rows, or, for the larger child, subtract the smaller child's
histogram from the parent's (LightGBM's trick), which halves the row passes.

Two access patterns. Forests' kernels (_build_histogram) read node-ordered copies of the data
(the grower keeps X_binned and stats permuted so that every node's rows are one contiguous block
[start, end)): every pass is sequential. The gather kernels (_build_histograms_rows) read rows
through their ids, prefetching ahead: the boosters' every node and a forest tree's large root.
"""

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..utils._numba_cache import kernel_variant
from ._types import MISSING_BIN, N_HIST_BINS

# Rows ahead whose data the gather kernels prefetch: a row's codes and channels are two cache
# misses when a node's rows are scattered over the matrix; 16 rows (~2 us of work) cover the
# memory latency. Measured at 400k x 28: a node of 50k scattered rows 13.9 -> 5.4 ms.
PREFETCH_AHEAD = 16


def _prefetch_codegen(context, builder, signature, args, write=False):
    """llvm.prefetch (read, or write when write, high locality) of array[args[1:]]. No Numba
    API exposes it; "p0i8" is LLVM 14's name, which newer LLVMs upgrade."""
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
    builder.call(function, [builder.bitcast(pointer, i8_pointer), ir.Constant(i32, int(write)),
                            ir.Constant(i32, 3), ir.Constant(i32, 1)])
    return context.get_dummy_value()


if numba.config.DISABLE_JIT:
    # NUMBA_DISABLE_JIT=1 (tox -e nojit) runs the kernels as Python: a cache hint is a no-op.
    def _prefetch(array, i, j):
        """Pure-Python twin of the intrinsic: nothing to hint."""

    def prefetch_1d(array, i):
        """Pure-Python twin of the intrinsic: nothing to hint."""

    def prefetch_write_1d(array, i):
        """Pure-Python twin of the intrinsic: nothing to hint."""

else:
    @intrinsic
    def _prefetch(typingctx, array, i, j):
        """Hint the cache to fetch array[i, j] (2-D array)."""
        return types.void(array, i, j), _prefetch_codegen

    @intrinsic
    def prefetch_1d(typingctx, array, i):
        """Hint the cache to fetch array[i] (1-D array)."""
        return types.void(array, i), _prefetch_codegen

    @intrinsic
    def prefetch_write_1d(typingctx, array, i):
        """Hint the cache to fetch array[i] (1-D array) for a write."""
        return types.void(array, i), lambda *args: _prefetch_codegen(*args, write=True)


def _make_build_histogram(n_channels, parallel):
    """The histogram kernel for a fixed channel count (a closure constant): the per-row update
    of 1 + n_channels float64 slots then compiles to straight-line (vector) adds, 3x faster than
    a loop over a run-time count (2.0 vs 6.3 ns per (row, feature) measured on 100k x 28).
    n_channels = -1: the count is read from stats_node at run time. parallel: features are
    split over Numba's threads (each feature's bins are written by one thread only, so the
    result does not depend on the thread count). The serial twin loops with range: its closure
    differs from the threaded one's, and so does its cache key (which ignores jit options,
    numba#6845)."""
    loop = prange if parallel else range

    @kernel_variant(f"_build_histogram_c{n_channels}_" + ("parallel" if parallel else "serial"),
                    parallel=parallel)
    def build(X_node, stats_node, start, end, features, hist):
        n = n_channels if n_channels > 0 else stats_node.shape[1]
        # Feature-outer: one feature's 256 x (1 + C) bins stay in L1 while its column streams.
        for j in loop(features.shape[0]):
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
# Any other count (multi-class): read at run time.
_BUILD_ANY = _make_build_histogram(-1, False)
# Threaded twins, for one tree at a time (boosting); forests parallelise over trees instead.
_BUILD_C2_PAR = _make_build_histogram(2, True)
_BUILD_C3_PAR = _make_build_histogram(3, True)
_BUILD_ANY_PAR = _make_build_histogram(-1, True)


@njit(cache=True, nogil=True, inline="always")
def _build_histogram(X_node, stats_node, start, end, features, hist, parallel, n_channels):
    """Accumulate the histograms of `features` over the rows start:end.

    X_node     (n_rows, n_features) uint8  (in)  binned rows in node order
    stats_node (n_rows, C) float64         (in)  per-sample channels in node order
    features   (n_hist_features,) int32    (in)  feature of each histogram slot
    hist       (n_hist_features, 256, 1 + C) (in/out) zeroed by the caller, accumulated into
    parallel   bool                        (in)  features over Numba's threads
    n_channels int                         (in)  C, which selects the kernel
    Inlined: a caller whose parallel and n_channels are compile-time constants (the grower's)
    compiles only the kernel it runs.
    """
    args = (X_node, stats_node, start, end, features, hist)
    if parallel:
        if n_channels == 2:
            _BUILD_C2_PAR(*args)
        elif n_channels == 3:
            _BUILD_C3_PAR(*args)
        else:
            _BUILD_ANY_PAR(*args)
    elif n_channels == 2:
        _BUILD_C2(*args)
    elif n_channels == 3:
        _BUILD_C3(*args)
    elif n_channels == 1:
        _BUILD_C1(*args)
    elif n_channels == 4:
        _BUILD_C4(*args)
    else:
        _BUILD_ANY(*args)


# Blocks of the row-gather kernel: a node of n rows is cut into ceil(n / block) blocks of block =
# max(_ROW_BLOCK, ceil(n / _MAX_BLOCKS)) rows, a function of n alone, so the sums and their order
# do not depend on the thread count. The first block sums into the node's histogram, each other
# one into its own scratch histogram; a merge adds those in block order. 8192 rows x 28 features
# take ~0.3 ms, 20x their merge; at most 16 blocks bound the scratch (16 x 114 KB at 28 features)
# and make every node one parallel region (waves of 4 blocks, each with its own merge, cost 6 of
# 23 ms at the 400k-row root).
_ROW_BLOCK = 8192
_MAX_BLOCKS = 16


@njit(cache=True, nogil=True, inline="always")
def _row_blocks(n_rows):
    """(rows per block, number of blocks) of a gather over n_rows rows (one block at least,
    which zeroes the histogram of an empty node)."""
    block = max(_ROW_BLOCK, (n_rows + _MAX_BLOCKS - 1) // _MAX_BLOCKS)
    return block, max(1, (n_rows + block - 1) // block)


@njit(cache=True, nogil=True, inline="always")
def _accumulate_rows(X_binned, stats, rows, lo, hi, features, hist, n_channels, counted):
    """hist (in/out) += the sums of the rows rows[lo:hi] (see _make_build_histogram_rows);
    n_channels (-1: read from stats) and counted are the caller's compile-time constants."""
    offset = 1 if counted else 0
    n = n_channels if n_channels > 0 else stats.shape[1]
    n_features = features.shape[0]
    # Histogram slot j of every feature j (no column sampling): read the codes directly.
    # Through `features` costs a load per update and blocks unrolling (root 14.5 vs 9.5 ms).
    direct = n_features == X_binned.shape[1]
    for j in range(n_features):
        direct = direct and features[j] == j
    for i in range(lo, hi):
        if i + PREFETCH_AHEAD < hi:
            ahead = rows[i + PREFETCH_AHEAD]
            # A row may straddle two cache lines (28 codes do at 44% of rows): fetch both
            # ends. Only the first had been, which cost a miss on every straddling row
            # (scattered rows, 400k x 28: 25k rows 1.69 -> 1.34 ms, 6k 0.75 -> 0.52 ms).
            _prefetch(X_binned, ahead, 0)
            _prefetch(X_binned, ahead, X_binned.shape[1] - 1)
            _prefetch(stats, ahead, 0)
            _prefetch(stats, ahead, stats.shape[1] - 1)
        r = rows[i]
        if not counted and n_channels == 2:
            # (g, h) in registers: the store to hist may alias stats, so the compiler
            # would reload them for every feature.
            g = stats[r, 0]
            h = stats[r, 1]
            if direct:
                for j in range(n_features):
                    b = X_binned[r, j]
                    hist[j, b, 0] += g
                    hist[j, b, 1] += h
            else:
                for j in range(n_features):
                    b = X_binned[r, features[j]]
                    hist[j, b, 0] += g
                    hist[j, b, 1] += h
        else:
            for j in range(n_features):
                b = X_binned[r, j] if direct else X_binned[r, features[j]]
                if counted:
                    hist[j, b, 0] += 1.0
                for c in range(n):
                    hist[j, b, offset + c] += stats[r, c]


@njit(cache=True, nogil=True)
def _largest_first(sizes):
    """The indices of sizes in descending order, ties in index order (a stable insertion sort:
    a call's blocks are a few hundred at most, and np.argsort's mergesort alone took 1.3 s of
    a cold first fit to compile)."""
    order = np.empty(sizes.shape[0], np.int64)
    for q in range(sizes.shape[0]):
        pos = q
        while pos > 0 and sizes[order[pos - 1]] < sizes[q]:
            order[pos] = order[pos - 1]
            pos -= 1
        order[pos] = q
    return order


def _make_build_histogram_rows(n_channels, parallel, counted=True):
    """The gather kernel: histograms over X[rows[i]], stats[rows[i]] (the grower's gather mode
    and every lazy root). Row-outer: each row's codes (one cache line) are read once for all
    features, where a feature-outer pass would stream the node's scattered rows once per
    feature (measured 2x faster at 400k x 28, whose binned matrix outgrows the L2 cache).
    Nodes of more than _ROW_BLOCK rows are summed in blocks (_row_blocks) into private
    histograms, merged in block order; the blocks of all the nodes of a call (a level) are
    dealt to the threads largest first, each to the least loaded thread. The serial twin runs
    the same blocks, so the sums do not depend on the thread count. The rows
    PREFETCH_AHEAD ahead are prefetched (rows of deep nodes are scattered).
    counted=False: no count slot, the histogram is (F, 256, C) (see _grower's countless mode);
    the (g, h) pair is then one 16-byte add per (row, feature), 1.4-1.8x faster than with the
    count (measured 400k x 28, 2 threads: root 16.7 -> 11.7 ms, 100k scattered rows 5.2 -> 3.7)."""
    # The serial twin runs the same blocks and merges with range for prange: the same sums in
    # the same order, so a fit is bit-identical for any n_jobs (and its closure, so its cache
    # key, differs from the threaded one's).
    loop = prange if parallel else range

    @kernel_variant(f"_build_histogram_rows_c{n_channels}_"
                    + ("parallel" if parallel else "serial") + ("" if counted else "_countless"),
                    parallel=parallel)
    def build(X_binned, stats, rows, features, bounds, slots, parents, hist_pool, scratch,
              n_workers):
        n_targets = bounds.shape[0]
        n_features = features.shape[0]
        n_tasks = 0
        for t in range(n_targets):
            n_tasks += _row_blocks(bounds[t, 1] - bounds[t, 0])[1]
        task_target = np.empty(n_tasks, np.int64)
        task_block = np.empty(n_tasks, np.int64)
        task_rows = np.empty(n_tasks, np.int64)
        first_extra = np.empty(n_targets, np.int64)
        n_tasks = 0
        n_extra = 0
        for t in range(n_targets):
            n_rows = bounds[t, 1] - bounds[t, 0]
            block, n_blocks = _row_blocks(n_rows)
            first_extra[t] = n_extra - 1  # block k >= 1 sums into scratch[first_extra + k]
            n_extra += n_blocks - 1
            for k in range(n_blocks):
                task_target[n_tasks] = t
                task_block[n_tasks] = k
                task_rows[n_tasks] = min(block, n_rows - k * block)
                n_tasks += 1
        # Largest block first to the least loaded worker; the workers' lists in that order.
        by_size = _largest_first(task_rows)
        load = np.zeros(n_workers, np.int64)
        worker_of = np.empty(n_tasks, np.int64)
        for q in range(n_tasks):
            w = np.argmin(load)
            worker_of[by_size[q]] = w
            load[w] += task_rows[by_size[q]]
        worker_ptr = np.zeros(n_workers + 1, np.int64)
        for q in range(n_tasks):
            worker_ptr[worker_of[q] + 1] += 1
        worker_ptr = np.cumsum(worker_ptr)
        worker_tasks = np.empty(n_tasks, np.int64)
        filled = worker_ptr[:-1].copy()
        for q in range(n_tasks):
            task = by_size[q]
            worker_tasks[filled[worker_of[task]]] = task
            filled[worker_of[task]] += 1
        for w in loop(n_workers):
            for q in range(worker_ptr[w], worker_ptr[w + 1]):
                task = worker_tasks[q]
                t = task_target[task]
                k = task_block[task]
                block = _row_blocks(bounds[t, 1] - bounds[t, 0])[0]
                lo = bounds[t, 0] + k * block
                dst = hist_pool[slots[t]] if k == 0 else scratch[first_extra[t] + k]
                dst[:] = 0.0
                _accumulate_rows(X_binned, stats, rows, lo, lo + task_rows[task], features, dst,
                                 n_channels, counted)
        # Each target's blocks added in block order, then (subtraction) its sibling's histogram
        # = the parent's minus it, written in the parent's slot.
        for p in loop(n_targets * n_features):
            t = p // n_features
            j = p % n_features
            hist = hist_pool[slots[t], j]
            n_blocks = _row_blocks(bounds[t, 1] - bounds[t, 0])[1]
            for k in range(1, n_blocks):
                block_hist = scratch[first_extra[t] + k, j]
                for b in range(hist.shape[0]):
                    for c in range(hist.shape[1]):
                        hist[b, c] += block_hist[b, c]
            if parents[t] >= 0:
                parent = hist_pool[parents[t], j]
                for b in range(hist.shape[0]):
                    for c in range(hist.shape[1]):
                        parent[b, c] -= hist[b, c]

    return build


_ROWS_C2 = _make_build_histogram_rows(2, False)
_ROWS_C3 = _make_build_histogram_rows(3, False)
_ROWS_ANY = _make_build_histogram_rows(-1, False)
_ROWS_C2_PAR = _make_build_histogram_rows(2, True)
_ROWS_C3_PAR = _make_build_histogram_rows(3, True)
_ROWS_ANY_PAR = _make_build_histogram_rows(-1, True)
# Countless (g, h) pairs: second-order trees (_grower's countless mode).
_ROWS_GH = _make_build_histogram_rows(2, False, counted=False)
_ROWS_GH_PAR = _make_build_histogram_rows(2, True, counted=False)


@njit(cache=True, nogil=True)
def _scratch_blocks(bounds):
    """How many scratch histograms _build_histograms_rows needs for these targets."""
    n = 0
    for t in range(bounds.shape[0]):
        n += _row_blocks(bounds[t, 1] - bounds[t, 0])[1] - 1
    return n


@njit(cache=True, nogil=True, inline="always")
def _build_histograms_rows(X_binned, stats, rows, features, bounds, slots, parents, hist_pool,
                           scratch, parallel, n_workers, n_channels, counted):
    """Histograms of `features` over X_binned[rows[lo:hi]] for several nodes at once (a level
    of a depthwise tree: one parallel region for all, not one per node, so that nodes of a few
    thousand rows keep every thread busy).

    bounds  (n_targets, 2) int64: each target's rows rows[lo:hi]
    slots   (n_targets,) int64: the hist_pool slot each target's histogram is written to
    parents (n_targets,) int64: a slot from which each target's histogram is subtracted (the
            sibling by subtraction), or -1
    hist_pool (n_slots, n_hist_features, 256, n_hist_slots) float64 (in/out)
    scratch (>= _scratch_blocks(bounds), n_hist_features, 256, n_hist_slots) float64 (out)
    n_workers: the threads the blocks are spread over (parallel); any count gives the same sums.
    n_channels: stats.shape[1]; counted: hist_pool has a count slot (n_hist_slots = 1 + C),
    else it holds countless (g, h) histograms (n_channels 2).
    Inlined: a caller whose parallel, n_channels and counted are compile-time constants (the
    grower's) compiles only the kernel it runs.
    """
    args = (X_binned, stats, rows, features, bounds, slots, parents, hist_pool, scratch)
    if not counted:
        if parallel:
            _ROWS_GH_PAR(*args, n_workers)
        else:
            _ROWS_GH(*args, 1)
    elif parallel:
        if n_channels == 2:
            _ROWS_C2_PAR(*args, n_workers)
        elif n_channels == 3:
            _ROWS_C3_PAR(*args, n_workers)
        else:
            _ROWS_ANY_PAR(*args, n_workers)
    elif n_channels == 2:
        _ROWS_C2(*args, 1)
    elif n_channels == 3:
        _ROWS_C3(*args, 1)
    else:
        _ROWS_ANY(*args, 1)


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
def _present_bins(hist_f, touched, n_touched, codes, counted=True):
    """Ascending non-missing codes with rows in them, and whether the missing bin has rows.

    hist_f  (256, 1 + C) (in); touched (256,) int32 (in/out, sorted in place when used)
    n_touched: bins listed in touched, or -1 when unknown (a full histogram)
    codes   (256,) int32 (out) codes[:n_present]
    counted: hist_f has a count slot. Without one ((g, h) pairs, full histograms only), a bin
        is present when either sum is non-zero: no bin's mass is ever left out of a scan's
        sums, but a bin the subtraction left with rounding residue (parent minus child where
        the child held all the bin's rows) counts as present; its candidate routes the rows
        exactly as the previous bin's does, with the same gain up to that residue.
    Returns (n_present, has_missing).
    """
    n_present = 0
    missing = hist_f.shape[0] - 1  # MISSING_BIN's slot (the last: compact sparse histograms)
    if not counted:
        for b in range(missing):
            if hist_f[b, 0] != 0.0 or hist_f[b, 1] != 0.0:
                codes[n_present] = b
                n_present += 1
        return n_present, hist_f[missing, 0] != 0.0 or hist_f[missing, 1] != 0.0
    if n_touched < 0 or n_touched > 32:
        for b in range(missing):
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
    return n_present, hist_f[missing, 0] > 0.0
