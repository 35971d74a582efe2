"""Binned sparse X: storage whose memory follows the non-zeros, and the kernels that read it.

A sparse X (scipy CSR/CSC) is binned into `SparseBinned`: per feature the code of an absent entry
(`absent`: the code of 0.0 for the scikit-learn families, MISSING_BIN for XGB*), and the CSR of the
entries whose code differs from it (row pointers, feature ids ascending within a row, codes):
5 bytes a stored entry and 8 a row, where dense codes take n_samples x n_features bytes (500 MB
at 100k x 5000). Stored entries in their feature's absent bin (explicit zeros for the scikit-learn
families) are dropped: they behave as absent ones.

The grower (_grower.py, its `sparse` variants) reads it three ways:
- histograms over a node's stored entries only (its rows' CSR entries, each added to its
  feature's bin when the feature is wanted), then every wanted feature's absent bin set to the
  node's sums less that feature's stored ones (LightGBM / xgboost's zero-bin subtraction);
- compact histograms: (n_features, n_hist_bins, slots) with n_hist_bins the fit's largest
  feature bin count + 1 and MISSING_BIN's slot the last (_splitter's scans read the missing
  slot as hist_f.shape[0] - 1), so 5000 features of six values take 5000 x 7 bins, not 5000 x 256;
- a row's code of one feature (partitions) by a binary search of its CSR entries.
"""

import numpy as np
from numba import njit, prange

from ..utils._numba_cache import kernel_variant
from ._random import _draw_feature, _uniform
from ._types import MISSING_BIN, N_HIST_BINS, X_BINNED_DTYPE


class SparseBinned:
    """The binned training matrix of a sparse X (see module doc); what `BinMapper.transform`
    returns for sparse X. `csr` is the tuple the kernels take: (indptr (n_samples + 1,) int64,
    features (nnz,) int32, codes (nnz,) uint8, absent (n_features,) uint8)."""

    def __init__(self, indptr, features, codes, absent, shape):
        self.csr = (indptr, features, codes, absent)
        self.shape = shape

    @property
    def nbytes(self):
        return sum(a.nbytes for a in self.csr)

    def toarray(self):
        """The dense codes (n_samples, n_features) uint8 (tests, and the row-based criteria)."""
        indptr, features, codes, absent = self.csr
        dense = np.empty(self.shape, dtype=X_BINNED_DTYPE)
        dense[:] = absent
        rows = np.repeat(np.arange(self.shape[0]), np.diff(indptr))
        dense[rows, features] = codes
        return dense


def no_csr():
    """The kernels' csr argument of a dense fit (typed as a sparse one's, so no new variant)."""
    return (np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, X_BINNED_DTYPE),
            np.zeros(0, X_BINNED_DTYPE))


def hist_width(bin_mapper, sparse):
    """Width of the fit's histograms: every code for dense X (MISSING_BIN = 255 indexes them
    directly), the largest bin count + 1 for sparse X (compact, see module doc)."""
    if not sparse:
        return N_HIST_BINS
    return int(bin_mapper.n_bins_.max(initial=1)) + 1


@njit(cache=True, nogil=True)
def csc_codes_to_csr(indptr, indices, codes, absent, n_rows):
    """The CSR (row pointers, features, codes) of a CSC matrix's codes (indptr, indices, codes),
    without the entries whose code is their feature's absent code."""
    n_features = indptr.shape[0] - 1
    row_ptr = np.zeros(n_rows + 1, np.int64)
    for f in range(n_features):
        for k in range(indptr[f], indptr[f + 1]):
            if codes[k] != absent[f]:
                row_ptr[indices[k] + 1] += 1
    for r in range(n_rows):
        row_ptr[r + 1] += row_ptr[r]
    nnz = row_ptr[n_rows]
    out_features = np.empty(nnz, np.int32)
    out_codes = np.empty(nnz, codes.dtype)
    fill = row_ptr[:n_rows].copy()
    for f in range(n_features):  # columns in order: features ascend within every row
        for k in range(indptr[f], indptr[f + 1]):
            if codes[k] != absent[f]:
                at = fill[indices[k]]
                out_features[at] = f
                out_codes[at] = codes[k]
                fill[indices[k]] += 1
    return row_ptr, out_features, out_codes


@njit(cache=True, nogil=True, inline="always")
def sparse_code(csr, r, f):
    """Row r's code of feature f: its stored entry's (binary search), else the absent code."""
    indptr, features, codes, absent = csr
    lo = indptr[r]
    hi = indptr[r + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        g = features[mid]
        if g < f:
            lo = mid + 1
        elif g > f:
            hi = mid
        else:
            return codes[mid]
    return absent[f]


@njit(cache=True, nogil=True, inline="always")
def _slot(code, n_bins):
    """A code's bin in a compact histogram of n_bins bins (MISSING_BIN's is the last)."""
    return n_bins - 1 if code == MISSING_BIN else code


@njit(cache=True, nogil=True)
def build_sparse_histograms(csr, stats, rows, start, end, node_sums, pool, wanted, slot_of,
                            hists, counted, by_id):
    """The histograms of the pool features wanted[:] (positions in pool) over the rows
    rows[start:end] into hists[wanted[k]] (out, zeroed here; (n_pool, n_bins, slots)).

    stats: per-sample channels, stats[r] row r's (by_id, boosters: (n_samples, C)) or
    stats[i] rows[i]'s (node order, forests: (n_rows, C)); node_sums (1 + C,) the
    node's count and channel sums; counted: slot 0 counts rows (else the slots are the C
    channels). slot_of (n_features,) int64 scratch, -1 everywhere on entry and on return.
    The stored entries are added to their bins, then each feature's absent bin gets the node's
    sums less the feature's stored ones. With few wanted features and long rows, each row's
    code of each is found by binary search instead of walking every entry of the rows."""
    _accumulate_stored(csr, stats, rows, start, end, pool, wanted, slot_of, hists, counted, by_id)
    _fill_absent(csr, node_sums, pool, wanted, hists, counted)


@njit(cache=True, nogil=True)
def _accumulate_stored(csr, stats, rows, start, end, pool, wanted, slot_of, hists, counted,
                       by_id):
    """build_sparse_histograms' first half: hists[wanted[k]] zeroed, then the stored entries
    of the rows start:end added (absent bins still to fill)."""
    indptr, features, codes, absent = csr
    n_bins = hists.shape[1]
    n_slots = hists.shape[2]
    n_channels = stats.shape[1]
    off = 1 if counted else 0
    n_wanted = wanted.shape[0]
    for k in range(n_wanted):
        h = hists[wanted[k]]
        for b in range(n_bins):
            for s in range(n_slots):
                h[b, s] = 0.0
    n_rows = end - start
    n_entries = 0
    for i in range(start, end):
        r = rows[i]
        n_entries += indptr[r + 1] - indptr[r]
    per_row = n_entries / max(n_rows, 1)
    if n_wanted * (1.0 + np.log2(1.0 + per_row)) < per_row:
        for k in range(n_wanted):
            f = pool[wanted[k]]
            h = hists[wanted[k]]
            a = absent[f]
            for i in range(start, end):
                r = rows[i]
                b = sparse_code(csr, r, f)
                if b == a:
                    continue
                b = _slot(b, n_bins)
                sr = r if by_id else i
                if counted:
                    h[b, 0] += 1.0
                for c in range(n_channels):
                    h[b, off + c] += stats[sr, c]
    else:
        for k in range(n_wanted):
            slot_of[pool[wanted[k]]] = wanted[k]
        for i in range(start, end):
            r = rows[i]
            sr = r if by_id else i
            if n_channels == 2:
                # (g, h) or two classes: the row's channels in registers (the compiler reloads
                # them per entry otherwise, as hists might alias stats): 1.5x faster.
                s0 = stats[sr, 0]
                s1 = stats[sr, 1]
                for e in range(indptr[r], indptr[r + 1]):
                    p = slot_of[features[e]]
                    if p < 0:
                        continue
                    b = _slot(codes[e], n_bins)
                    if counted:
                        hists[p, b, 0] += 1.0
                    hists[p, b, off] += s0
                    hists[p, b, off + 1] += s1
                continue
            for e in range(indptr[r], indptr[r + 1]):
                p = slot_of[features[e]]
                if p < 0:
                    continue
                b = _slot(codes[e], n_bins)
                if counted:
                    hists[p, b, 0] += 1.0
                for c in range(n_channels):
                    hists[p, b, off + c] += stats[sr, c]
        for k in range(n_wanted):
            slot_of[pool[wanted[k]]] = -1


@njit(cache=True, nogil=True)
def _fill_absent(csr, node_sums, pool, wanted, hists, counted):
    """build_sparse_histograms' second half: each wanted feature's absent bin += the node's
    sums less the feature's stored ones."""
    absent = csr[3]
    n_bins = hists.shape[1]
    n_slots = hists.shape[2]
    off = 1 if counted else 0
    for k in range(wanted.shape[0]):
        h = hists[wanted[k]]
        a = _slot(absent[pool[wanted[k]]], n_bins)
        for s in range(n_slots):
            stored = 0.0
            for b in range(n_bins):
                stored += h[b, s]
            h[a, s] += node_sums[s + 1 - off] - stored


def _make_build_histograms_sparse(parallel):
    """Gather mode (boosters): every pool feature's histogram of each target node (bounds[t]:
    its rows in rows), into hist_pool[slots[t]]; a target whose parents[t] >= 0 is the smaller
    child of that slot's node, which becomes the larger child's by subtraction. Each target's
    rows are cut into equal blocks (_block_tasks), all the call's blocks dealt to Numba's
    threads (parallel); a target of several blocks sums their partial histograms (scratch,
    (>= blocks, n_pool, n_bins, slots)) in block order. The blocks do not depend on the thread
    count, nor does the result."""
    loop = prange if parallel else range

    @kernel_variant("_build_histograms_sparse_" + ("parallel" if parallel else "serial"),
                    parallel=parallel)
    def build(csr, stats, rows, pool, bounds, slots, parents, target_sums, hist_pool, scratch,
              slot_of, counted):
        n_pool = pool.shape[0]
        wanted = np.arange(n_pool)
        n_targets = slots.shape[0]
        task_target, task_lo, task_hi, task_scratch = _block_tasks(bounds)
        for q in loop(task_target.shape[0]):
            t = task_target[q]
            lo = task_lo[q]
            hi = task_hi[q]
            # Each thread its own feature map (one thread: the caller's).
            own = np.full(slot_of.shape[0], -1, np.int64) if parallel else slot_of
            dest = hist_pool[slots[t]] if task_scratch[q] < 0 else scratch[task_scratch[q]]
            _accumulate_stored(csr, stats, rows, lo, hi, pool, wanted, own, dest, counted, True)
        for t in loop(n_targets):
            hist = hist_pool[slots[t]]
            flat = hist.reshape(-1)
            first = True
            for q in range(task_target.shape[0]):
                if task_target[q] != t or task_scratch[q] < 0:
                    continue
                part = scratch[task_scratch[q]].reshape(-1)
                for i in range(flat.shape[0]):
                    flat[i] = part[i] if first else flat[i] + part[i]
                first = False
            _fill_absent(csr, target_sums[t], pool, wanted, hist, counted)
            if parents[t] >= 0:
                parent = hist_pool[parents[t]].reshape(-1)
                for i in range(parent.shape[0]):
                    parent[i] -= flat[i]

    return build


# Blocks of a booster's histogram build (_make_build_histograms_sparse): a target of n rows is
# cut into min(n // _HIST_BLOCK, _MAX_BLOCKS) (at least one) equal blocks, a function of n alone,
# so the sums do not depend on the thread count; each block beyond one costs a partial histogram
# to zero and add (840 KB for 5000 features of 7 bins), so blocks are large.
_HIST_BLOCK = 16384
_MAX_BLOCKS = 16


@njit(cache=True, nogil=True, inline="always")
def _n_blocks(n_rows):
    return max(1, min(n_rows // _HIST_BLOCK, _MAX_BLOCKS))


@njit(cache=True, nogil=True)
def _block_tasks(bounds):
    """The blocks of each target's rows bounds[t] (_n_blocks of them, equal): (target, first
    row, end row, scratch index or -1 for a target of one block, written in place)."""
    n_tasks = 0
    for t in range(bounds.shape[0]):
        n_tasks += _n_blocks(bounds[t, 1] - bounds[t, 0])
    task_target = np.empty(n_tasks, np.int64)
    task_lo = np.empty(n_tasks, np.int64)
    task_hi = np.empty(n_tasks, np.int64)
    task_scratch = np.full(n_tasks, -1, np.int64)
    q = 0
    n_scratch = 0
    for t in range(bounds.shape[0]):
        n_rows = bounds[t, 1] - bounds[t, 0]
        n_blocks = _n_blocks(n_rows)
        for k in range(n_blocks):
            task_target[q] = t
            task_lo[q] = bounds[t, 0] + k * n_rows // n_blocks
            task_hi[q] = bounds[t, 0] + (k + 1) * n_rows // n_blocks
            if n_blocks > 1:
                task_scratch[q] = n_scratch
                n_scratch += 1
            q += 1
    return task_target, task_lo, task_hi, task_scratch


@njit(cache=True, nogil=True)
def scratch_blocks_sparse(bounds):
    """Partial histograms a build over these targets needs in scratch (_block_tasks)."""
    n = 0
    for t in range(bounds.shape[0]):
        n_blocks = _n_blocks(bounds[t, 1] - bounds[t, 0])
        n += n_blocks if n_blocks > 1 else 0
    return n


_BUILD_HISTOGRAMS_SPARSE = _make_build_histograms_sparse(False)
_BUILD_HISTOGRAMS_SPARSE_PAR = _make_build_histograms_sparse(True)


@njit(cache=True, nogil=True, inline="always")
def build_histograms_sparse(csr, stats, rows, pool, bounds, slots, parents, target_sums,
                            hist_pool, scratch, slot_of, counted, parallel):
    """_make_build_histograms_sparse's kernel for `parallel`; inlined, so that a grower whose
    parallel is a constant compiles only its own."""
    if parallel:
        _BUILD_HISTOGRAMS_SPARSE_PAR(csr, stats, rows, pool, bounds, slots, parents,
                                     target_sums, hist_pool, scratch, slot_of, counted)
    else:
        _BUILD_HISTOGRAMS_SPARSE(csr, stats, rows, pool, bounds, slots, parents, target_sums,
                                 hist_pool, scratch, slot_of, counted)


@njit(cache=True, nogil=True)
def prebuild_drawn(csr, rows, stats_node, start, end, node_sums, pool, allowed, pool_order,
                   max_features, random_splits, rng_state, hists, drawn, slot_of, codes):
    """Forests on sparse X: the histograms (into hists[pos], see build_sparse_histograms) of
    exactly the features the node's split search (_splitter._make_find_best_split) will draw,
    found by replaying its draws on a copy of the random state: max_features features at a
    time (one histogram pass for all), then one at a time while none is non-constant; for
    extra-trees one at a time, each non-constant feature with two present values consuming the
    threshold draw that search will make (_random._draw_threshold). The search then reads them
    as a full histogram. stats_node: the node's rows' channels in node order (rows[start:end])."""
    state = rng_state.copy()
    n_pool = pool.shape[0]
    for i in range(n_pool):
        pool_order[i] = i
    i = 0
    n_visited = 0
    n_nonconstant = 0
    while i < n_pool and (n_visited < max_features or n_nonconstant == 0):
        want = 1 if random_splits or n_visited >= max_features else max_features - n_visited
        n_batch = 0
        while i < n_pool and n_batch < want:
            pos = _draw_feature(state, pool_order, i)
            i += 1
            if allowed[pos] == 0:
                continue
            drawn[n_batch] = pos
            n_batch += 1
        n_visited += n_batch
        build_sparse_histograms(csr, stats_node, rows, start, end, node_sums, pool,
                                drawn[:n_batch], slot_of, hists, True, False)
        for k in range(n_batch):
            hist_f = hists[drawn[k]]
            n_present, has_missing = _present(hist_f, codes)
            if n_present + (1 if has_missing else 0) > 1:
                n_nonconstant += 1
                if random_splits and n_present >= 2:
                    _uniform(state)


@njit(cache=True, nogil=True, inline="always")
def _present(hist_f, codes):
    """(n_present, has_missing) of a counted histogram (_histogram._present_bins' rule)."""
    n_present = 0
    missing = hist_f.shape[0] - 1
    for b in range(missing):
        if hist_f[b, 0] > 0.0:
            codes[n_present] = b
            n_present += 1
    return n_present, hist_f[missing, 0] > 0.0


@njit(cache=True, nogil=True)
def sum_node_rows(stats_node, start, end, out):
    """out (1 + C,) (out) = (count, channel sums) of the node-ordered rows start:end."""
    out[0] = end - start
    for c in range(stats_node.shape[1]):
        acc = 0.0
        for i in range(start, end):
            acc += stats_node[i, c]
        out[1 + c] = acc


@njit(cache=True, nogil=True)
def partition_sparse(rows, stats_node, tmp_rows, tmp_stats, start, end, csr, feature, split_bin,
                     missing_left):
    """_partition._partition for sparse X: the node start:end of rows and stats_node (in/out)
    partitioned stably by the split, each row's code found in its CSR entries. Returns where
    the right child starts."""
    n_left = start
    n_right = 0
    n_channels = stats_node.shape[1]
    for i in range(start, end):
        b = sparse_code(csr, rows[i], feature)
        goes_left = missing_left if b == MISSING_BIN else b <= split_bin
        if goes_left:
            if n_left != i:
                rows[n_left] = rows[i]
                for c in range(n_channels):
                    stats_node[n_left, c] = stats_node[i, c]
            n_left += 1
        else:
            tmp_rows[n_right] = rows[i]
            for c in range(n_channels):
                tmp_stats[n_right, c] = stats_node[i, c]
            n_right += 1
    for k in range(n_right):
        rows[n_left + k] = tmp_rows[k]
        for c in range(n_channels):
            stats_node[n_left + k, c] = tmp_stats[k, c]
    return n_left

