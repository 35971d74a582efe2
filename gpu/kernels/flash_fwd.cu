// Flash attention forward (FlashAttention-2, Dao 2023): out = softmax(scale * Q K^T) V without the
// N x N score matrix. NumPy twin, step for step: gpu/reference.py::flash_attention_tiled.
//
//   per CTA: one (batch, head, query tile of BLOCK_M rows)
//   Q_i -> registers; m_i = -inf; l_i = 0; acc = 0                 (fp32, per query row)
//   c = scale * log2(e)                                             (exp via exp2 and one FMA)
//   for each key tile j (causal: tiles wholly above the diagonal skipped):
//       S = Q_i K_j^T                                               (fp32 accumulate)
//       S = -inf where key >= Nk (tail tile) or key > query (causal, diagonal tiles only)
//       m_new = max(m_i, rowmax S); ms = (m_new == -inf) ? 0 : m_new * c      (-inf guard)
//       P = exp2(S c - ms); alpha = exp2(m_i c - ms)
//       l_i = alpha l_i + rowsum P;  acc = alpha acc + lowp(P) V_j;  m_i = m_new
//   out = acc / l_i (cast to the input dtype); lse = (m_i c + log2 l_i) ln 2  (fp32, natural log)
//
// Two kernels, chosen by macro (one CuPy module per variant, the same flags under nvcc in tests):
//   FA_SIMT undefined: flash_fwd_mma, tensor cores (mma.sync m16n8k16, fp16/bf16 in, fp32 acc).
//     HEAD_DIM in {64, 128}; BLOCK_M = 16 * NUM_WARPS query rows, each warp owns 16 rows so the
//     row max / sum stay inside a quad of lanes ("split-Q"); BLOCK_N keys per tile; K/V tiles
//     double-buffered in shared memory by cp.async (zero-fill past Nk), rows padded by 8 elements
//     so the 8 row addresses of an ldmatrix fall in distinct bank groups.
//   FA_SIMT defined: flash_fwd_simt, plain fp32 FMA, any head_dim <= 256 (runtime), one warp per
//     query row, 32 keys per tile (a key per lane): the float32 path and the ground truth on a GPU.
// Other macros: IS_CAUSAL (0/1), ELEM_KIND (0 fp16, 1 bf16, 2 fp32 - SIMT only).
//
// Layout: q, out (B, H, Nq, D); k, v (B, H, Nk, D); lse (B, H, Nq) fp32; all contiguous, bases
// 16-byte aligned (the Python launcher copies otherwise). Grid (query tiles, H, B).

#include <cuda_fp16.h>
#include <cuda_bf16.h>

#ifndef IS_CAUSAL
#define IS_CAUSAL 0
#endif
#ifndef ELEM_KIND
#define ELEM_KIND 0
#endif
#ifndef NUM_WARPS
#define NUM_WARPS 4
#endif

#if ELEM_KIND == 0
typedef __half elem_t;
__device__ __forceinline__ float to_float(elem_t x) { return __half2float(x); }
__device__ __forceinline__ elem_t from_float(float x) { return __float2half_rn(x); }
#elif ELEM_KIND == 1
typedef __nv_bfloat16 elem_t;
__device__ __forceinline__ float to_float(elem_t x) { return __bfloat162float(x); }
__device__ __forceinline__ elem_t from_float(float x) { return __float2bfloat16_rn(x); }
#else
typedef float elem_t;
__device__ __forceinline__ float to_float(elem_t x) { return x; }
__device__ __forceinline__ elem_t from_float(float x) { return x; }
#endif

#define LN2_F 0.6931471805599453f
// no <math.h> under NVRTC, so no INFINITY macro: -inf from its bits
#define NEG_INF __int_as_float(0xff800000)

#ifndef FA_SIMT
// ================================ tensor-core path ============================================

#ifndef HEAD_DIM
#define HEAD_DIM 128
#endif
#ifndef BLOCK_N
#define BLOCK_N 64
#endif
#define BLOCK_M (16 * NUM_WARPS)
#define N_THREADS (32 * NUM_WARPS)
#define ROW (HEAD_DIM + 8)              // padded smem row, elements: +16 B shifts each row's banks
#define CHUNKS_PER_ROW (HEAD_DIM / 8)   // 16-byte chunks per global row

#if ELEM_KIND == 2
#error "the tensor-core path takes fp16 or bf16 (ELEM_KIND 0 or 1)"
#endif
#if HEAD_DIM % 16 != 0 || BLOCK_N % 16 != 0
#error "HEAD_DIM and BLOCK_N must be multiples of 16"
#endif

// generic -> 32-bit shared-window address, in PTX so it needs no header under NVRTC
__device__ __forceinline__ unsigned smem_addr(const void* p) {
    unsigned addr;
    asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }\n" : "=r"(addr) : "l"(p));
    return addr;
}

// 16-byte global -> shared copy; src_bytes = 0 zero-fills the destination (rows past N).
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                 :: "r"(smem_addr(dst)), "l"(src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n"); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" :: "n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const void* p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(p)));
}

// d (16x8 fp32) += a (16x16, row) * b (16x8, col)
__device__ __forceinline__ void mma_16816(float (&d)[4], const unsigned (&a)[4],
                                          unsigned b0, unsigned b1) {
#if ELEM_KIND == 0
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
#else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
#endif
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// two fp32 -> one register of two low-precision values, the lower column in the low half
__device__ __forceinline__ unsigned pack2(float lo, float hi) {
#if ELEM_KIND == 0
    __half2 h = __floats2half2_rn(lo, hi);
#else
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
#endif
    return *reinterpret_cast<unsigned*>(&h);
}

// rows [row_start, row_start + n_rows) of a (N, HEAD_DIM) matrix -> padded smem tile; zero past n
__device__ __forceinline__ void load_tile(elem_t* dst, const elem_t* src, int row_start,
                                          int n_rows, int n) {
    for (int c = threadIdx.x; c < n_rows * CHUNKS_PER_ROW; c += N_THREADS) {
        int r = c / CHUNKS_PER_ROW, col = (c % CHUNKS_PER_ROW) * 8;
        int row = row_start + r;
        bool valid = row < n;
        cp_async_16(dst + r * ROW + col, src + (long long)(valid ? row : 0) * HEAD_DIM + col,
                    valid ? 16 : 0);
    }
}

extern "C" __global__ void __launch_bounds__(N_THREADS)
flash_fwd_mma(const elem_t* __restrict__ q, const elem_t* __restrict__ k,
              const elem_t* __restrict__ v, elem_t* __restrict__ out, float* __restrict__ lse,
              int n_q, int n_k, float scale_log2)
{
    extern __shared__ __align__(16) unsigned char smem_raw[];
    elem_t* q_s = reinterpret_cast<elem_t*>(smem_raw);        // (BLOCK_M, ROW)
    elem_t* k_s = q_s + BLOCK_M * ROW;                          // (2, BLOCK_N, ROW)
    elem_t* v_s = k_s + 2 * BLOCK_N * ROW;                      // (2, BLOCK_N, ROW)

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane >> 2, t = lane & 3;                      // mma fragment row group, column pair
    // causal: the heaviest query tiles (most key tiles) launch first
    const int q_tile = IS_CAUSAL ? (int)(gridDim.x - 1 - blockIdx.x) : (int)blockIdx.x;
    const int q_start = q_tile * BLOCK_M;
    const long long bh = (long long)blockIdx.z * gridDim.y + blockIdx.y;
    const elem_t* q_bh = q + bh * n_q * HEAD_DIM;
    const elem_t* k_bh = k + bh * n_k * HEAD_DIM;
    const elem_t* v_bh = v + bh * n_k * HEAD_DIM;
    const int n_keys = IS_CAUSAL ? min(n_k, q_start + BLOCK_M) : n_k;
    const int n_tiles = (n_keys + BLOCK_N - 1) / BLOCK_N;
    const int row0 = q_start + warp * 16 + g, row1 = row0 + 8; // this thread's two query rows

    // ---- prologue: Q tile and key/value tile 0 in flight ----
    load_tile(q_s, q_bh, q_start, BLOCK_M, n_q);
    load_tile(k_s, k_bh, 0, BLOCK_N, n_k);
    load_tile(v_s, v_bh, 0, BLOCK_N, n_k);
    cp_async_commit();

    unsigned q_frag[HEAD_DIM / 16][4];                          // A fragments of this warp's 16 x D
    float acc[HEAD_DIM / 8][4];                                 // O: 16 x D fp32 (C fragments)
    float m_i[2] = {NEG_INF, NEG_INF}, l_i[2] = {0.f, 0.f};
#pragma unroll
    for (int dt = 0; dt < HEAD_DIM / 8; ++dt)
        acc[dt][0] = acc[dt][1] = acc[dt][2] = acc[dt][3] = 0.f;

    for (int j = 0; j < n_tiles; ++j) {
        const int kv_start = j * BLOCK_N;
        const int buf = j & 1;
        // ---- prefetch tile j + 1 into the other buffer, then wait for tile j ----
        if (j + 1 < n_tiles) {
            load_tile(k_s + (buf ^ 1) * BLOCK_N * ROW, k_bh, kv_start + BLOCK_N, BLOCK_N, n_k);
            load_tile(v_s + (buf ^ 1) * BLOCK_N * ROW, v_bh, kv_start + BLOCK_N, BLOCK_N, n_k);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if (j == 0) {
#pragma unroll
            for (int kk = 0; kk < HEAD_DIM / 16; ++kk)
                ldmatrix_x4(q_frag[kk], q_s + (warp * 16 + (lane % 16)) * ROW + kk * 16
                                        + (lane / 16) * 8);
        }
        const elem_t* k_tile = k_s + buf * BLOCK_N * ROW;       // (BLOCK_N, ROW)
        const elem_t* v_tile = v_s + buf * BLOCK_N * ROW;       // (BLOCK_N, ROW)

        // ---- S = Q K^T: 16 x BLOCK_N per warp ----
        float s[BLOCK_N / 8][4];
#pragma unroll
        for (int nt = 0; nt < BLOCK_N / 8; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
        for (int np = 0; np < BLOCK_N / 16; ++np) {
#pragma unroll
            for (int kk = 0; kk < HEAD_DIM / 16; ++kk) {
                // matrices: keys 16np+{0..7, 0..7, 8..15, 8..15} x dims 16kk+{0..7, 8..15, ...}
                const int mi = lane / 8;
                unsigned b[4];
                ldmatrix_x4(b, k_tile + (np * 16 + (mi / 2) * 8 + lane % 8) * ROW + kk * 16
                               + (mi % 2) * 8);
                mma_16816(s[2 * np], q_frag[kk], b[0], b[1]);
                mma_16816(s[2 * np + 1], q_frag[kk], b[2], b[3]);
            }
        }

        // ---- mask the tail tile and the diagonal tiles ----
        if (kv_start + BLOCK_N > n_k || (IS_CAUSAL && kv_start + BLOCK_N - 1 > q_start)) {
#pragma unroll
            for (int nt = 0; nt < BLOCK_N / 8; ++nt) {
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int col = kv_start + nt * 8 + 2 * t + (e & 1);
                    const int row = e < 2 ? row0 : row1;
                    if (col >= n_k || (IS_CAUSAL && col > row)) s[nt][e] = NEG_INF;
                }
            }
        }

        // ---- online softmax: rows row0 (e = 0, 1) and row1 (e = 2, 3), quad-wide ----
        float m_scaled[2], alpha[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            float mx = m_i[r];
#pragma unroll
            for (int nt = 0; nt < BLOCK_N / 8; ++nt)
                mx = fmaxf(mx, fmaxf(s[nt][2 * r], s[nt][2 * r + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            m_scaled[r] = mx == NEG_INF ? 0.f : mx * scale_log2;
            alpha[r] = exp2f(m_i[r] * scale_log2 - m_scaled[r]);
            m_i[r] = mx;
        }
        float row_sum[2] = {0.f, 0.f};
#pragma unroll
        for (int nt = 0; nt < BLOCK_N / 8; ++nt) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                s[nt][e] = exp2f(fmaf(s[nt][e], scale_log2, -m_scaled[e >> 1]));
                row_sum[e >> 1] += s[nt][e];
            }
        }
        // partial (per-thread) sums; the quad reduction waits until the end
        l_i[0] = alpha[0] * l_i[0] + row_sum[0];
        l_i[1] = alpha[1] * l_i[1] + row_sum[1];
#pragma unroll
        for (int dt = 0; dt < HEAD_DIM / 8; ++dt) {
            acc[dt][0] *= alpha[0]; acc[dt][1] *= alpha[0];
            acc[dt][2] *= alpha[1]; acc[dt][3] *= alpha[1];
        }

        // ---- acc += lowp(P) V: P's C fragments are A fragments as they stand ----
#pragma unroll
        for (int kk = 0; kk < BLOCK_N / 16; ++kk) {
            const unsigned p_frag[4] = {pack2(s[2 * kk][0], s[2 * kk][1]),
                                        pack2(s[2 * kk][2], s[2 * kk][3]),
                                        pack2(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                        pack2(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int dd = 0; dd < HEAD_DIM / 16; ++dd) {
                // transposed matrices: keys 16kk+{0..7, 8..15, 0..7, 8..15} x dims 16dd+{0..7, 0..7, 8..15, 8..15}
                const int mi = lane / 8;
                unsigned b[4];
                ldmatrix_x4_trans(b, v_tile + (kk * 16 + (mi % 2) * 8 + lane % 8) * ROW
                                     + dd * 16 + (mi / 2) * 8);
                mma_16816(acc[2 * dd], p_frag, b[0], b[1]);
                mma_16816(acc[2 * dd + 1], p_frag, b[2], b[3]);
            }
        }
        __syncthreads();                                        // buffer buf is free again
    }

    // ---- epilogue: reduce l over the quad, divide once, store rows < Nq ----
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        l_i[r] += __shfl_xor_sync(0xffffffffu, l_i[r], 1);
        l_i[r] += __shfl_xor_sync(0xffffffffu, l_i[r], 2);
    }
    const float inv0 = 1.f / l_i[0], inv1 = 1.f / l_i[1];
    elem_t* out_bh = out + bh * n_q * HEAD_DIM;
#pragma unroll
    for (int dt = 0; dt < HEAD_DIM / 8; ++dt) {
        const int col = dt * 8 + 2 * t;
        if (row0 < n_q)
            *reinterpret_cast<unsigned*>(out_bh + (long long)row0 * HEAD_DIM + col) =
                pack2(acc[dt][0] * inv0, acc[dt][1] * inv0);
        if (row1 < n_q)
            *reinterpret_cast<unsigned*>(out_bh + (long long)row1 * HEAD_DIM + col) =
                pack2(acc[dt][2] * inv1, acc[dt][3] * inv1);
    }
    if (t == 0) {
        if (row0 < n_q) lse[bh * n_q + row0] = (m_i[0] * scale_log2 + log2f(l_i[0])) * LN2_F;
        if (row1 < n_q) lse[bh * n_q + row1] = (m_i[1] * scale_log2 + log2f(l_i[1])) * LN2_F;
    }
}

#else
// ================================ SIMT path (fp32 math, any head_dim <= 256) ===================

#define SIMT_ROWS NUM_WARPS             // query rows per CTA: one per warp
#define KEYS 32                         // keys per tile: one per lane
#define MAX_DIMS_PER_LANE 8             // head_dim <= 256

// dynamic smem: k_s (KEYS, head_dim + 1) fp32 (odd stride: lane j reads row j conflict-free),
// v_s (KEYS, head_dim), q_s (SIMT_ROWS, head_dim)
extern "C" __global__ void __launch_bounds__(32 * NUM_WARPS)
flash_fwd_simt(const elem_t* __restrict__ q, const elem_t* __restrict__ k,
               const elem_t* __restrict__ v, elem_t* __restrict__ out, float* __restrict__ lse,
               int n_q, int n_k, int head_dim, float scale_log2)
{
    extern __shared__ float smem_f[];
    const int k_stride = head_dim + 1;
    float* k_s = smem_f;                                        // (KEYS, head_dim + 1)
    float* v_s = k_s + KEYS * k_stride;                         // (KEYS, head_dim)
    float* q_s = v_s + KEYS * head_dim;                         // (SIMT_ROWS, head_dim)

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int q_tile = IS_CAUSAL ? (int)(gridDim.x - 1 - blockIdx.x) : (int)blockIdx.x;
    const int q_start = q_tile * SIMT_ROWS;
    const int row = q_start + warp;
    const long long bh = (long long)blockIdx.z * gridDim.y + blockIdx.y;
    const elem_t* k_bh = k + bh * n_k * head_dim;
    const elem_t* v_bh = v + bh * n_k * head_dim;
    const int n_keys = IS_CAUSAL ? min(n_k, q_start + SIMT_ROWS) : n_k;

    for (int i = threadIdx.x; i < SIMT_ROWS * head_dim; i += 32 * NUM_WARPS) {
        const int r = q_start + i / head_dim;
        q_s[i] = r < n_q ? to_float(q[(bh * n_q + r) * head_dim + i % head_dim]) : 0.f;
    }
    float acc[MAX_DIMS_PER_LANE];                               // dims lane + 32 i
#pragma unroll
    for (int i = 0; i < MAX_DIMS_PER_LANE; ++i) acc[i] = 0.f;
    float m_i = NEG_INF, l_i = 0.f;

    for (int kv_start = 0; kv_start < n_keys; kv_start += KEYS) {
        __syncthreads();                                        // previous tile fully read
        for (int i = threadIdx.x; i < KEYS * head_dim; i += 32 * NUM_WARPS) {
            const int r = i / head_dim, d = i % head_dim, key = kv_start + r;
            const bool valid = key < n_k;
            k_s[r * k_stride + d] = valid ? to_float(k_bh[(long long)key * head_dim + d]) : 0.f;
            v_s[r * head_dim + d] = valid ? to_float(v_bh[(long long)key * head_dim + d]) : 0.f;
        }
        __syncthreads();
        if (row >= n_q) continue;                               // warp-uniform
        // ---- s = q . k for key kv_start + lane ----
        float s = 0.f;
        for (int d = 0; d < head_dim; ++d) s = fmaf(q_s[warp * head_dim + d], k_s[lane * k_stride + d], s);
        const int key = kv_start + lane;
        if (key >= n_k || (IS_CAUSAL && key > row)) s = NEG_INF;
        // ---- online softmax over the warp ----
        float mx = fmaxf(m_i, s);
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
        const float m_scaled = mx == NEG_INF ? 0.f : mx * scale_log2;
        const float p = exp2f(fmaf(s, scale_log2, -m_scaled));
        const float alpha = exp2f(m_i * scale_log2 - m_scaled);
        float p_sum = p;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) p_sum += __shfl_xor_sync(0xffffffffu, p_sum, o);
        l_i = alpha * l_i + p_sum;
        m_i = mx;
        // ---- acc = alpha acc + p V (fp32 P: this path is the precise one) ----
#pragma unroll
        for (int i = 0; i < MAX_DIMS_PER_LANE; ++i) acc[i] *= alpha;
        for (int jj = 0; jj < KEYS; ++jj) {
            const float pj = __shfl_sync(0xffffffffu, p, jj);
#pragma unroll
            for (int i = 0; i < MAX_DIMS_PER_LANE; ++i) {
                const int d = lane + 32 * i;
                if (d < head_dim) acc[i] = fmaf(pj, v_s[jj * head_dim + d], acc[i]);
            }
        }
    }
    if (row < n_q) {
        const float inv = 1.f / l_i;
#pragma unroll
        for (int i = 0; i < MAX_DIMS_PER_LANE; ++i) {
            const int d = lane + 32 * i;
            if (d < head_dim) out[(bh * n_q + row) * head_dim + d] = from_float(acc[i] * inv);
        }
        if (lane == 0) lse[bh * n_q + row] = (m_i * scale_log2 + log2f(l_i)) * LN2_F;
    }
}
#endif
