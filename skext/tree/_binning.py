"""BinMapper: real-valued features -> uint8 codes, the first step of every fit.

Per feature, bin edges are weighted quantiles of the training values (exact midpoints between
distinct values when a feature has at most max_bins of them, as scikit-learn's thresholds are);
NaN maps to the reserved code MISSING_BIN. The edges stay with the trees, so a split on "code <= b"
is stored as the real threshold "x <= edges[b]" and prediction never needs the binner.

Sparse X (scipy CSR/CSC) is binned from its columns without densifying the float values: a
column's absent entries are one value (0.0, scikit-learn's meaning, or missing with
absent_is_missing, xgboost's) weighted by their count, so the edges are those of the dense
equivalent; transform returns a SparseBinned (_sparse.py): the absent code of every feature and
the CSR of the other entries' codes, whose memory follows the non-zeros.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from ._sparse import SparseBinned, csc_codes_to_csr
from ._types import MAX_BINS, MISSING_BIN, X_BINNED_DTYPE

# Rows used to find the edges (scikit-learn's HistGradientBoosting uses the same cap).
BINNING_SUBSAMPLE = 200_000


def _feature_edges(values, weights, max_bins):
    """Edges and per-bin representative values of one feature's non-NaN training values.

    weights None means unit weights (one sort instead of an argsort and a gather).
    Returns (edges, representatives): code b holds edges[b-1] < x <= edges[b]; representatives[b] is
    a real value inside bin b (the value itself when bins are exact), used by random splits."""
    if values.size == 0:
        return np.empty(0), np.zeros(1)
    if weights is None:
        sorted_values = np.sort(values)
    else:
        order = np.argsort(values, kind="stable")
        sorted_values = values[order]
    is_new = np.empty(sorted_values.size, dtype=bool)
    is_new[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=is_new[1:])
    distinct = sorted_values[is_new]
    if distinct.size <= max_bins:
        return (distinct[:-1] + distinct[1:]) * 0.5, distinct
    if weights is None:
        cum_weights = np.arange(1.0, sorted_values.size + 1.0)
    else:
        cum_weights = np.cumsum(weights[order])
    targets = cum_weights[-1] * np.arange(1, max_bins) / max_bins
    quantiles = np.unique(sorted_values[np.searchsorted(cum_weights, targets, side="left")])
    # Cut halfway between each quantile and the next distinct value, never above the maximum.
    next_idx = np.searchsorted(distinct, quantiles, side="right")
    keep = next_idx < distinct.size
    edges = (quantiles[keep] + distinct[next_idx[keep]]) * 0.5
    lower = np.concatenate(([distinct[0]], edges))
    upper = np.concatenate((edges, [distinct[-1]]))
    return edges, (lower + upper) * 0.5


def canonical_csc(X):
    """Sparse X as CSC with duplicate entries summed (scipy's meaning of a duplicate)."""
    X = X.tocsc()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


class BinMapper:
    """Quantile binning of every feature into at most ``max_bins`` codes plus a missing code.

    Parameters
    ----------
    max_bins : int, default=255
        Non-missing bins per feature, 2 <= max_bins <= 255.
    subsample : int, default=200_000
        Rows (drawn without replacement) the edges are computed on.
    random_state : int or numpy.random.RandomState, default=None
        Draws the subsample.
    n_threads : int, default=1
        Features sorted concurrently (NumPy's sorts release the GIL); the edges do not depend
        on it.
    absent_is_missing : bool, default=False
        Sparse X: an absent entry is missing (xgboost's convention) rather than 0.0
        (scikit-learn's). Explicitly stored zeros are 0.0 either way.

    Attributes
    ----------
    n_bins_ : ndarray of shape (n_features,), int32
        Non-missing bins of each feature (1 for a constant or all-NaN feature).
    bin_thresholds_ : list of ndarray
        The edges of each feature (n_bins_[f] - 1 values).
    edges_ : ndarray of shape (n_features, MAX_BINS), float64
        ``bin_thresholds_`` padded with +inf, for the kernels.
    representatives_ : ndarray of shape (n_features, MAX_BINS), float64
        A real value inside each bin (for random thresholds).
    missing_values_in_feature_ : ndarray of shape (n_features,), bool
        Whether the training data had NaN in each feature.
    """

    def __init__(self, max_bins=MAX_BINS, subsample=BINNING_SUBSAMPLE, random_state=None,
                 n_threads=1, absent_is_missing=False):
        self.max_bins = max_bins
        self.subsample = subsample
        self.random_state = random_state
        self.n_threads = n_threads
        self.absent_is_missing = absent_is_missing

    def fit(self, X, sample_weight=None):
        """Find the edges on X (n_samples, n_features) float64; rows of zero weight are ignored."""
        if not 2 <= self.max_bins <= MAX_BINS:
            raise ValueError(f"max_bins must be in [2, {MAX_BINS}], got {self.max_bins}.")
        n_samples, n_features = X.shape
        rows = np.arange(n_samples)
        if sample_weight is not None:
            rows = rows[sample_weight > 0]
        if rows.size > self.subsample:
            rng = np.random.default_rng(self._seed())
            rows = np.sort(rng.choice(rows, self.subsample, replace=False))
        weights = None if sample_weight is None else sample_weight[rows]
        if weights is not None and np.all(weights == weights[0]):
            weights = None     # equal weights give the same quantiles as unit weights
        subsampled = rows.size < n_samples
        if sp.issparse(X):
            X = canonical_csc(X)
            results = self._few_valued_edges(X, rows)
            edges_of = self._sparse_edges(X, rows, weights)
        else:
            results = [None] * n_features
            edges_of = self._dense_edges(X, rows, weights, subsampled)
        todo = [f for f in range(n_features) if results[f] is None]
        if self.n_threads > 1 and len(todo) > 1:
            with ThreadPoolExecutor(self.n_threads) as pool:
                for f, result in zip(todo, pool.map(edges_of, todo)):
                    results[f] = result
        else:
            for f in todo:
                results[f] = edges_of(f)
        self.bin_thresholds_ = [edges for edges, _, _ in results]
        self.n_bins_ = np.empty(n_features, dtype=np.int32)
        self.edges_ = np.full((n_features, MAX_BINS), np.inf)
        self.representatives_ = np.zeros((n_features, MAX_BINS))
        self.missing_values_in_feature_ = np.array([has_nan for _, _, has_nan in results])
        for f, (edges, representatives, _) in enumerate(results):
            self.n_bins_[f] = edges.size + 1
            self.edges_[f, : edges.size] = edges
            self.representatives_[f, : representatives.size] = representatives
        return self

    def _dense_edges(self, X, rows, weights, subsampled):
        """fit's per-feature work on dense X: f -> (edges, representatives, has_nan)."""

        def edges_of(f):
            # One column at a time: a copy of the subsampled rows would be 45 MB at 200k x 28,
            # and np.isnan(X) 11 MB.
            column = X[rows, f] if subsampled else X[:, f]
            finite = ~np.isnan(column)
            has_nan = np.isnan(X[:, f]).any() if subsampled else not finite.all()
            return (*_feature_edges(column[finite], None if weights is None else weights[finite],
                                    self.max_bins), has_nan)

        return edges_of

    def _few_valued_edges(self, X, rows):
        """Sparse X (canonical CSC): the results of _sparse_edges for every feature with at most
        max_bins distinct values among the selected rows (the absent 0.0 included), found for
        all features at once (one sort of the stored entries), None for the others. Their edges
        are the midpoints between distinct values, which do not depend on the weights: most
        columns of a sparse matrix (counts, one-hot codes) are such, and a Python call per
        feature cost more than the whole histogram work of a boosting fit (5000 features)."""
        n_samples, n_features = X.shape
        selected = np.zeros(n_samples, dtype=bool)
        selected[rows] = True
        distinct, n_distinct, has_nan = _column_distinct(
            X.indptr, X.indices, X.data.astype(np.float64, copy=False), selected, rows.size,
            self.absent_is_missing, self.max_bins)
        results = [None] * n_features
        for f in np.flatnonzero(n_distinct <= self.max_bins):
            d = distinct[f, :n_distinct[f]].copy()
            if d.size == 0:
                results[f] = (np.empty(0), np.zeros(1), bool(has_nan[f]))
            else:
                results[f] = ((d[:-1] + d[1:]) * 0.5, d, bool(has_nan[f]))
        return results

    def _sparse_edges(self, X, rows, weights):
        """fit's per-feature work on sparse X, read column by column (CSC): the stored entries of
        the selected rows, plus the absent ones as one value 0.0 weighted by their count (their
        weight) unless absent_is_missing. The edges equal the dense equivalent's: equal values
        are adjacent in the sorted order either way, so every quantile lands on the same value."""
        X = canonical_csc(X)
        n_samples = X.shape[0]
        selected = np.zeros(n_samples, dtype=bool)
        selected[rows] = True
        row_weight = np.zeros(n_samples)
        row_weight[rows] = 1.0 if weights is None else weights
        total_weight = row_weight.sum()

        def edges_of(f):
            lo, hi = X.indptr[f], X.indptr[f + 1]
            stored_rows = X.indices[lo:hi]
            keep = selected[stored_rows]
            values = X.data[lo:hi][keep]
            w = row_weight[stored_rows[keep]]
            # Absent rows' weight (a fractional sample_weight may round differently from the
            # dense cumulative sum, moving a quantile at a tie of weights: unit and integer
            # weights are exact).
            n_absent = rows.size - values.size
            absent_weight = total_weight - w.sum()
            finite = ~np.isnan(values)
            has_nan = not finite.all() or (self.absent_is_missing and hi - lo < n_samples)
            values, w = values[finite], w[finite]
            if n_absent > 0 and not self.absent_is_missing:
                values = np.append(values, 0.0)
                w = np.append(w, absent_weight)
            unit = weights is None and (n_absent == 0 or self.absent_is_missing)
            return (*_feature_edges(values, None if unit else w, self.max_bins), has_nan)

        return edges_of

    def _seed(self):
        rs = self.random_state
        if rs is None or isinstance(rs, (int, np.integer)):
            return rs
        return rs.randint(np.iinfo(np.int32).max)

    def transform(self, X):
        """Codes of X: uint8 (n_samples, n_features), C-contiguous, NaN -> MISSING_BIN; sparse X:
        a SparseBinned (absent entries -> the code of 0.0, or MISSING_BIN with
        absent_is_missing; its toarray() is the dense equivalent's codes)."""
        if sp.issparse(X):
            return self._transform_sparse(X)
        X = np.ascontiguousarray(X, dtype=np.float64)
        X_binned = np.empty(X.shape, dtype=X_BINNED_DTYPE)
        _map_to_bins(X, self.edges_, X_binned)
        return X_binned

    def _transform_sparse(self, X):
        """Sparse X -> SparseBinned (_sparse.py): the absent code of every feature and the CSR
        of the entries coded otherwise; the float X is never densified."""
        X = canonical_csc(X)
        if self.absent_is_missing:
            absent = np.full(X.shape[1], MISSING_BIN, dtype=X_BINNED_DTYPE)
        else:
            absent = (self.edges_ < 0.0).sum(axis=1).astype(X_BINNED_DTYPE)
        codes = np.empty(X.nnz, dtype=X_BINNED_DTYPE)
        _map_stored_to_bins(X.indptr, X.data.astype(np.float64, copy=False), self.edges_, codes)
        indptr, features, codes = csc_codes_to_csr(X.indptr, X.indices, codes, absent,
                                                   X.shape[0])
        return SparseBinned(indptr, features, codes, absent, X.shape)

    def fit_transform(self, X, sample_weight=None):
        return self.fit(X, sample_weight).transform(X)


@njit(cache=True, nogil=True, parallel=True)
def _map_to_bins(X, edges, X_binned):
    """Code of every value: the number of its feature's edges below it (searchsorted left).

    X        (n_samples, n_features) float64   (in)
    edges    (n_features, MAX_BINS) float64     (in)  ascending, padded with +inf after the
                                                      first n_bins[f] - 1 (at least one +inf)
    X_binned (n_samples, n_features) uint8      (out) code b: edges[b-1] < x <= edges[b]
    A fixed 8-step search over the padded edges, each step a select rather than a branch: a
    branching binary search mispredicts about every other step (400k x 28, 2 threads:
    0.39 -> 0.10 s).
    """
    for i in prange(X.shape[0]):
        for f in range(X.shape[1]):
            X_binned[i, f] = _bin_code(edges, f, X[i, f])


@njit(cache=True, nogil=True, inline="always")
def _bin_code(edges, f, x):
    """x's code in feature f (see _map_to_bins)."""
    if np.isnan(x):
        return MISSING_BIN
    pos = 0
    step = 128
    while step > 0:
        pos += step if edges[f, pos + step - 1] < x else 0
        step >>= 1
    return pos


@njit(cache=True, nogil=True)
def _column_distinct(indptr, indices, data, selected, n_selected, absent_is_missing, max_bins):
    """Per column of a CSC matrix: its ascending distinct non-NaN values among the selected
    rows, 0.0 included when a selected row is absent (unless absent_is_missing), in
    distinct[f, :n_distinct[f]] ((n_features, max_bins) out; n_distinct[f] = max_bins + 1:
    more than max_bins, not listed), and whether a selected row is NaN (or absent, with
    absent_is_missing)."""
    n_features = indptr.shape[0] - 1
    n_samples = selected.shape[0]
    distinct = np.empty((n_features, max_bins))
    n_distinct = np.zeros(n_features, np.int64)
    has_nan = np.zeros(n_features, np.bool_)
    buf = np.empty(max(n_samples, 1) + 1)
    for f in range(n_features):
        n = 0
        n_stored = 0
        for k in range(indptr[f], indptr[f + 1]):
            if not selected[indices[k]]:
                continue
            n_stored += 1
            v = data[k]
            if np.isnan(v):
                has_nan[f] = True
            else:
                buf[n] = v
                n += 1
        if absent_is_missing:
            has_nan[f] = has_nan[f] or indptr[f + 1] - indptr[f] < n_samples
        elif n_stored < n_selected:
            buf[n] = 0.0
            n += 1
        values = np.sort(buf[:n])
        m = 0
        for i in range(n):
            if i == 0 or values[i] != values[i - 1]:
                if m == max_bins:
                    m += 1
                    break
                distinct[f, m] = values[i]
                m += 1
        n_distinct[f] = m
    return distinct, n_distinct, has_nan


@njit(cache=True, nogil=True)
def _map_stored_to_bins(indptr, data, edges, codes):
    """The codes (out, (nnz,) uint8) of a CSC matrix's stored entries (indptr, data)."""
    for f in range(indptr.shape[0] - 1):
        for k in range(indptr[f], indptr[f + 1]):
            codes[k] = _bin_code(edges, f, data[k])


def _map_to_bins_naive(X, bin_thresholds):
    """Reference for tests: np.searchsorted per feature."""
    out = np.empty(X.shape, dtype=X_BINNED_DTYPE)
    for f, edges in enumerate(bin_thresholds):
        codes = np.searchsorted(edges, X[:, f], side="left")
        out[:, f] = np.where(np.isnan(X[:, f]), MISSING_BIN, codes)
    return out
