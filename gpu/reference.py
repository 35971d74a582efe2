"""NumPy twins of the flash-attention kernel: the naive float64 formula, and the tiled
online-softmax algorithm step by step as gpu/kernels/flash_fwd.cu runs it, so the CPU tests test
the method the kernel uses (FlashAttention-2 forward, Dao 2023).

Layout everywhere: q (B, H, Nq, D), k and v (B, H, Nk, D); causal masks are top-left aligned like
torch's `is_causal` (query i sees keys j <= i).
"""

import math

import numpy as np

LOG2E = math.log2(math.e)
LN2 = math.log(2.0)


def causal_mask(n_q, n_k, row_start=0, col_start=0, n_rows=None, n_cols=None):
    """Boolean (n_rows, n_cols) mask, True where query row i may see key column j (j <= i)."""
    rows = row_start + np.arange(n_q if n_rows is None else n_rows)[:, None]
    cols = col_start + np.arange(n_k if n_cols is None else n_cols)[None, :]
    return cols <= rows


def attention_reference(q, k, v, *, causal=False, scale=None, return_lse=False):
    """softmax(scale * q k^T) v in float64, the N x N scores materialised (the ground truth).

    Parameters
    ----------
    q : ndarray of shape (B, H, Nq, D)
    k, v : ndarray of shape (B, H, Nk, D)
    causal : bool, default=False
        Query i attends to keys j <= i (top-left aligned).
    scale : float, default=None
        Score scale; None means 1 / sqrt(D).
    return_lse : bool, default=False
        Also return the natural log-sum-exp of each row's scaled scores, shape (B, H, Nq).

    Returns
    -------
    out : ndarray of float64, shape (B, H, Nq, D)
    lse : ndarray of float64, shape (B, H, Nq), only when ``return_lse``

    Examples
    --------
    >>> import numpy as np
    >>> q = k = v = np.eye(2).reshape(1, 1, 2, 2)
    >>> attention_reference(q, k, v, scale=1.0).round(3)[0, 0]
    array([[0.731, 0.269],
           [0.269, 0.731]])
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = scale * (q @ np.swapaxes(k, -1, -2))                     # (B, H, Nq, Nk)
    if causal:
        scores = np.where(causal_mask(q.shape[-2], k.shape[-2]), scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    p = np.exp(scores - row_max)
    row_sum = p.sum(axis=-1, keepdims=True)
    out = (p / row_sum) @ v
    if not return_lse:
        return out
    return out, (row_max + np.log(row_sum))[..., 0]


def attention_naive_lowp(q, k, v, *, causal=False, scale=None):
    """The naive formula with every intermediate rounded to the inputs' dtype (products summed in
    float32, as a GPU matmul does): the same-precision baseline whose error, doubled, is the error
    budget of the flash kernel (FlashAttention's test convention)."""
    dtype = q.dtype
    q32, k32, v32 = (np.asarray(a).astype(np.float32) for a in (q, k, v))
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)

    def rnd(x):
        return np.asarray(x, dtype=np.float32).astype(dtype).astype(np.float32)

    scores = rnd(rnd(q32 @ np.swapaxes(k32, -1, -2)) * np.float32(scale))
    if causal:
        scores = np.where(causal_mask(q.shape[-2], k.shape[-2]), scores, -np.inf)
    p = rnd(np.exp(scores - scores.max(axis=-1, keepdims=True)))
    p = rnd(p / p.sum(axis=-1, keepdims=True))
    return rnd(p @ v32).astype(dtype)


def n_kv_tiles(q_start, block_m, n_k, block_n, causal):
    """Key tiles a query tile starting at row q_start visits: causal tiles wholly above the
    diagonal are skipped (kernel: same formula)."""
    n_keys = min(n_k, q_start + block_m) if causal else n_k
    return -(-n_keys // block_n)


def online_softmax_step(m_i, l_i, acc, scores, v_tile, c, p_dtype):
    """One kv-tile step of the online softmax for a block of query rows (all float32).

    m_i (..., rows), l_i (..., rows), acc (..., rows, D): state in; scores (..., rows, BLOCK_N)
    raw q.k^T, masked entries -inf; v_tile (..., BLOCK_N, D); c = scale * log2(e). Leading axes
    (batch, heads) broadcast. Returns the new (m_i, l_i, acc).
    """
    m_new = np.maximum(m_i, scores.max(axis=-1))
    # -inf guard: a row with every score masked so far keeps m = -inf; (-inf) - (-inf) would be NaN
    m_scaled = np.where(m_new == -np.inf, np.float32(0), m_new * c).astype(np.float32)
    p = np.exp2(scores * c - m_scaled[..., None]).astype(np.float32)        # (..., rows, BLOCK_N)
    alpha = np.exp2(m_i * c - m_scaled).astype(np.float32)                  # (..., rows)
    l_i = alpha * l_i + p.sum(axis=-1, dtype=np.float32)                     # fp32 P, as FA2
    p_low = p.astype(p_dtype).astype(np.float32)                             # P fed to the MMA
    acc = alpha[..., None] * acc + p_low @ v_tile                            # fp32 accumulate
    return m_new, l_i, acc


def flash_attention_tiled(q, k, v, *, causal=False, scale=None, return_lse=False,
                          block_m=64, block_n=64, p_dtype=None):
    """The kernel's algorithm in NumPy: per query tile, stream key/value tiles with a running
    row max and sum, rescale the float32 accumulator, divide once at the end.

    Mirrors gpu/kernels/flash_fwd.cu: exp2 with log2(e) folded into the scale, the -inf guard,
    tails masked to -inf only in the last key tile, causal masking only in tiles that cross the
    diagonal and skipping of tiles wholly above it, P cast to `p_dtype` (default: the inputs'
    dtype, as the tensor-core path feeds P to the MMA; float32 for the SIMT path) before P @ V,
    float32 accumulators, output cast to the inputs' dtype. LSE is float32, natural log.
    """
    dtype = np.asarray(q).dtype
    p_dtype = dtype if p_dtype is None else np.dtype(p_dtype)
    q32, k32, v32 = (np.asarray(a).astype(np.float32) for a in (q, k, v))
    batch, heads, n_q, head_dim = q32.shape
    n_k = k32.shape[-2]
    scale = 1.0 / math.sqrt(head_dim) if scale is None else float(scale)
    c = np.float32(scale * LOG2E)
    out = np.empty((batch, heads, n_q, head_dim), dtype=dtype)
    lse = np.empty((batch, heads, n_q), dtype=np.float32)
    for q_start in range(0, n_q, block_m):          # one "CTA" per query tile, all (b, h) at once
        q_tile = q32[:, :, q_start:q_start + block_m]                         # (B, H, rows, D)
        rows = q_tile.shape[2]
        m_i = np.full((batch, heads, rows), -np.inf, dtype=np.float32)
        l_i = np.zeros((batch, heads, rows), dtype=np.float32)
        acc = np.zeros((batch, heads, rows, head_dim), dtype=np.float32)
        for j in range(n_kv_tiles(q_start, block_m, n_k, block_n, causal)):
            kv_start = j * block_n
            k_tile = k32[:, :, kv_start:kv_start + block_n]                   # (B, H, cols, D)
            v_tile = v32[:, :, kv_start:kv_start + block_n]
            scores = (q_tile @ np.swapaxes(k_tile, -1, -2)).astype(np.float32)  # (B, H, rows, cols)
            if causal and kv_start + block_n - 1 > q_start:                  # crosses the diagonal
                mask = causal_mask(0, 0, q_start, kv_start, rows, k_tile.shape[2])
                scores = np.where(mask, scores, np.float32(-np.inf))
            m_i, l_i, acc = online_softmax_step(m_i, l_i, acc, scores, v_tile, c, p_dtype)
        out[:, :, q_start:q_start + rows] = (acc / l_i[..., None]).astype(dtype)
        lse[:, :, q_start:q_start + rows] = (m_i * c + np.log2(l_i)) * np.float32(LN2)
    return (out, lse) if return_lse else out


def merge_states(state_a, state_b):
    """Merge two partial attention states (m, l, acc) over disjoint key sets (split-KV): the
    associativity the online softmax rests on. m is the natural-log-scale row max of scaled
    scores; acc is the unnormalised sum of exp(s - m) v."""
    (m_a, l_a, acc_a), (m_b, l_b, acc_b) = state_a, state_b
    m = np.maximum(m_a, m_b)
    safe = np.where(np.isneginf(m), 0.0, m)
    wa, wb = np.exp(m_a - safe), np.exp(m_b - safe)
    return m, wa * l_a + wb * l_b, wa[..., None] * acc_a + wb[..., None] * acc_b


def attention_state(q, k, v, *, scale=None):
    """Unnormalised float64 state (m, l, acc) of non-causal attention of q over keys k, v."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = scale * (q @ np.swapaxes(k, -1, -2))
    m = scores.max(axis=-1)
    p = np.exp(scores - m[..., None])
    return m, p.sum(axis=-1), p @ v
