// Direct stride-1 convolution over dense input (the transposed convolution that gives conv2's
// dL/dx in training, and dense forwards), in three variants from one body: baseline (SSE on
// x86-64), AVX2 + FMA, and AVX-512, chosen at run time by `sf_direct_conv_level`.
//
// Per image: the input [C, H, W] is copied channels-last into a zero-bordered grid
// [(H + 2p)·(W + 2p), C]; the output is computed channels-last on the padded width,
// out[q, o] for q = y·Wp + x, as
//
//     out[q, :] = Σ_{tap = (ki, kj)} Σ_c in[q + ki·Wp + kj, c] · P[tap, c, :]
//
// (P = the weight packed [k·k, C, O]): one matrix product per tap with a constant row shift,
// so no [C·k·k, Ho·Wo] column matrix is written. Columns x ≥ Wo of the padded width are
// computed and dropped (2 of 16 for the paper's 14×14 maps). A register block of R output
// rows × 32 (or 8) output channels stays in vector registers over all taps and channels.
// Unlike the event-driven kernels, products and sums may fuse (FMA): the result matches the
// plain convolution to rounding, not bit for bit, as a GEMM does.
#include "CSpikeKernels.h"
#include "Lanes.h"
#include <string.h>

#pragma clang fp contract(fast)

#ifdef SF_X86
#include <cpuid.h>
#endif

typedef float sf_v8 __attribute__((vector_size(32), aligned(4)));
typedef float sf_v16 __attribute__((vector_size(64), aligned(4)));
typedef struct __attribute__((packed, may_alias)) { sf_v8 v; } sf_unaligned_v8;
typedef struct __attribute__((packed, may_alias)) { sf_v16 v; } sf_unaligned_v16;

/// One float in every lane.
#define SPLAT_8(s) ((sf_v8){s, s, s, s, s, s, s, s})
#define SPLAT_16(s) ((sf_v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s})

/// Output rows a call's padded grid is rounded up to: a multiple of every block's R below.
enum { SF_ROW_QUANTUM = 12 };

int sf_direct_conv_level(void) {
#ifdef SF_X86
    if (!sf_cpu_has_avx2()) return 0;                     // AVX2 and the OS's YMM state (EventScatter.c)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 12))) return 0;   // FMA
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 1;
    const unsigned avx512f = 1u << 16, avx512vl = 1u << 31;
    if ((b & (avx512f | avx512vl)) != (avx512f | avx512vl)) return 1;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xe0u) == 0xe0u ? 2 : 1;                 // opmask and ZMM state enabled by the OS
#else
    return 0;
#endif
}

int64_t sf_direct_conv_packed_weight_count(const sf_conv_geometry *g) {
    return g->kernel * g->kernel * g->in_channels * g->out_channels;
}

void sf_direct_conv_pack_weight(const float *weight, const sf_conv_geometry *g, float *packed) {
    const int64_t k = g->kernel, inC = g->in_channels, outC = g->out_channels;
    for (int64_t o = 0; o < outC; o++)
        for (int64_t c = 0; c < inC; c++)
            for (int64_t tap = 0; tap < k * k; tap++)
                packed[(tap * inC + c) * outC + o] = weight[(o * inC + c) * k * k + tap];
}

/// Rows of the padded grid one image needs: Ho·Wp rounded up to SF_ROW_QUANTUM, plus the
/// largest tap shift (k − 1)·(Wp + 1).
SF_INLINE int64_t output_rows(const sf_conv_geometry *g) {
    const int64_t q = g->out_height * (g->width + 2 * g->padding);
    return (q + SF_ROW_QUANTUM - 1) / SF_ROW_QUANTUM * SF_ROW_QUANTUM;
}
SF_INLINE int64_t input_rows(const sf_conv_geometry *g) {
    return output_rows(g) + (g->kernel - 1) * (g->width + 2 * g->padding + 1);
}

int64_t sf_direct_conv_scratch_count(const sf_conv_geometry *g) {
    return input_rows(g) * g->in_channels + output_rows(g) * g->out_channels;
}

/// One register block: out[r, j·LANES …] = Σ_t Σ_c in[r + offsets[t], c] · w[t, c, j·LANES …]
/// for r < R, j < NV (rows of `in` are c_in floats, rows of `w` and `out` are o_stride).
#define SF_UNROLL _Pragma("clang loop unroll(full)")
#define SF_DEFINE_BLOCK(NAME, VT, UT, LANES, NV, R)                                                  \
    SF_INLINE void NAME(const float *restrict in, int64_t c_in, const int64_t *restrict offsets,   \
                        int64_t taps, const float *restrict w, int64_t o_stride, float *restrict out) { \
        VT acc[R][NV];                                                                             \
        SF_UNROLL for (int r = 0; r < R; r++)                                                      \
            SF_UNROLL for (int j = 0; j < NV; j++) acc[r][j] = (VT){0};                            \
        for (int64_t t = 0; t < taps; t++) {                                                       \
            const float *src = in + offsets[t] * c_in;                                             \
            const float *wt = w + t * c_in * o_stride;                                             \
            for (int64_t c = 0; c < c_in; c++) {                                                   \
                VT wv[NV];                                                                         \
                SF_UNROLL for (int j = 0; j < NV; j++) wv[j] = ((const UT *)(wt + c * o_stride + j * LANES))->v; \
                SF_UNROLL for (int r = 0; r < R; r++) {                                            \
                    const float s = src[r * c_in + c];                                             \
                    const VT a = SPLAT_##LANES(s);                                                 \
                    SF_UNROLL for (int j = 0; j < NV; j++) acc[r][j] += a * wv[j];                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        SF_UNROLL for (int r = 0; r < R; r++)                                                      \
            SF_UNROLL for (int j = 0; j < NV; j++) ((UT *)(out + r * o_stride + j * LANES))->v = acc[r][j];   \
    }

// Blocks by shape: vN = 8-lane vectors (two xmm on SSE, one ymm), zN = 16-lane (one zmm),
// "16x6" = 16 output columns × 6 rows. Register budgets: SSE and AVX2 16, AVX-512 32 (the
// accumulators, the block's row of B, one broadcast).
SF_DEFINE_BLOCK(v8x1, sf_v8, sf_unaligned_v8, 8, 1, 1)
SF_DEFINE_BLOCK(v8x4, sf_v8, sf_unaligned_v8, 8, 1, 4)
SF_DEFINE_BLOCK(v8x8, sf_v8, sf_unaligned_v8, 8, 1, 8)
SF_DEFINE_BLOCK(v8x12, sf_v8, sf_unaligned_v8, 8, 1, 12)
SF_DEFINE_BLOCK(v16x1, sf_v8, sf_unaligned_v8, 8, 2, 1)
SF_DEFINE_BLOCK(v16x2, sf_v8, sf_unaligned_v8, 8, 2, 2)
SF_DEFINE_BLOCK(v16x4, sf_v8, sf_unaligned_v8, 8, 2, 4)
SF_DEFINE_BLOCK(v16x6, sf_v8, sf_unaligned_v8, 8, 2, 6)
SF_DEFINE_BLOCK(z32x1, sf_v16, sf_unaligned_v16, 16, 2, 1)
SF_DEFINE_BLOCK(z32x8, sf_v16, sf_unaligned_v16, 16, 2, 8)
SF_DEFINE_BLOCK(z32x12, sf_v16, sf_unaligned_v16, 16, 2, 12)
SF_DEFINE_BLOCK(z32x14, sf_v16, sf_unaligned_v16, 16, 2, 14)

/// The whole call for one variant: for each image, fill the padded channels-last grid (from
/// [C, H, W], or row by row from [H, W, C] with SF_DIRECT_CONV_INPUT_CHANNELS_LAST), run the
/// blocks (COLUMNS output channels at a time, then 8), write [O, Ho, Wo] (or, with
/// SF_DIRECT_CONV_OUTPUT_CHANNELS_LAST, [Ho, Wo, O]) plus bias. Where
/// an output row is exactly ROW_R wide (the paper's 14), the wide blocks run row by row with
/// ROW_BLOCK, skipping the padded width's dropped columns.
#define SF_DEFINE_DRIVER(NAME, BLOCK, COLUMNS, R, BLOCK8, R8, ROW_BLOCK, ROW_R)                        \
    static void NAME(const float *input, int64_t images, const sf_conv_geometry *g, const float *packed,  \
                     const float *bias, float *output, float *scratch, int layout) {                      \
        const int64_t k = g->kernel, p = g->padding, inC = g->in_channels, outC = g->out_channels;      \
        const int64_t h = g->height, w = g->width, oh = g->out_height, ow = g->out_width;               \
        const int64_t wp = w + 2 * p, rows = output_rows(g);                                            \
        float *grid = scratch, *sums = scratch + input_rows(g) * inC;                                   \
        memset(grid, 0, sizeof(float) * input_rows(g) * inC);                                           \
        int64_t offsets[k * k];                                                                         \
        for (int64_t ki = 0; ki < k; ki++)                                                              \
            for (int64_t kj = 0; kj < k; kj++) offsets[ki * k + kj] = ki * wp + kj;                     \
        for (int64_t n = 0; n < images; n++) {                                                          \
            const float *x = input + n * inC * h * w;                                                   \
            if (layout & SF_DIRECT_CONV_INPUT_CHANNELS_LAST) {                                          \
                for (int64_t y = 0; y < h; y++)                                                         \
                    memcpy(grid + ((y + p) * wp + p) * inC, x + y * w * inC, sizeof(float) * w * inC);  \
            } else {                                                                                    \
                for (int64_t c = 0; c < inC; c++)                                                       \
                    for (int64_t y = 0; y < h; y++) {                                                   \
                        float *dst = grid + ((y + p) * wp + p) * inC + c;                               \
                        const float *src = x + (c * h + y) * w;                                         \
                        for (int64_t xx = 0; xx < w; xx++) dst[xx * inC] = src[xx];                     \
                    }                                                                                   \
            }                                                                                           \
            int64_t o0 = 0;                                                                             \
            for (; o0 + COLUMNS <= outC; o0 += COLUMNS) {                                               \
                if (ow == ROW_R) {                                                                      \
                    for (int64_t y = 0; y < oh; y++)                                                    \
                        ROW_BLOCK(grid + y * wp * inC, inC, offsets, k * k, packed + o0, outC,        \
                                    sums + y * wp * outC + o0);                                         \
                } else {                                                                                \
                    for (int64_t q = 0; q < rows; q += R)                                               \
                        BLOCK(grid + q * inC, inC, offsets, k * k, packed + o0, outC, sums + q * outC + o0); \
                }                                                                                       \
            }                                                                                           \
            for (; o0 + 8 <= outC; o0 += 8)                                                             \
                for (int64_t q = 0; q < rows; q += R8)                                                  \
                    BLOCK8(grid + q * inC, inC, offsets, k * k, packed + o0, outC, sums + q * outC + o0); \
            float *out = output + n * outC * oh * ow;                                                   \
            if (layout & SF_DIRECT_CONV_OUTPUT_CHANNELS_LAST) {                                         \
                for (int64_t y = 0; y < oh; y++)                                                        \
                    for (int64_t xx = 0; xx < ow; xx++) {                                               \
                        const float *src = sums + (y * wp + xx) * outC;                                 \
                        float *dst = out + (y * ow + xx) * outC;                                        \
                        /* no `bias ? bias[o] : 0` in the loop: a vectorised masked load from a NULL \
                           bias faults in every lane and is suppressed in microcode (slow on AMD) */      \
                        if (bias) {                                                                     \
                            for (int64_t o = 0; o < outC; o++) dst[o] = src[o] + bias[o];               \
                        } else {                                                                        \
                            for (int64_t o = 0; o < outC; o++) dst[o] = src[o];                         \
                        }                                                                               \
                    }                                                                                   \
            } else {                                                                                    \
                for (int64_t o = 0; o < outC; o++) {                                                    \
                    const float b = bias ? bias[o] : 0;                                                 \
                    for (int64_t y = 0; y < oh; y++)                                                    \
                        for (int64_t xx = 0; xx < ow; xx++)                                             \
                            out[(o * oh + y) * ow + xx] = sums[(y * wp + xx) * outC + o] + b;            \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

/// C [m, n] = A [m, k] · B [k, n], all row-major, n a multiple of 8: column blocks of COLUMNS
/// (then 8), row blocks of R (then 1), each block one pass over its columns of B, not packed.
#define SF_DEFINE_ROW_PRODUCT(NAME, BLOCK, COLUMNS, R, BLOCK_1, BLOCK8, R8, BLOCK8_1)                    \
    static void NAME(const float *a, int64_t m, int64_t k, const float *b, int64_t n, float *c) {          \
        const int64_t zero = 0;                                                                         \
        int64_t j = 0;                                                                                  \
        for (; j + COLUMNS <= n; j += COLUMNS) {                                                        \
            int64_t r = 0;                                                                              \
            for (; r + R <= m; r += R) BLOCK(a + r * k, k, &zero, 1, b + j, n, c + r * n + j);            \
            for (; r < m; r++) BLOCK_1(a + r * k, k, &zero, 1, b + j, n, c + r * n + j);                \
        }                                                                                               \
        for (; j + 8 <= n; j += 8) {                                                                    \
            int64_t r = 0;                                                                              \
            for (; r + R8 <= m; r += R8) BLOCK8(a + r * k, k, &zero, 1, b + j, n, c + r * n + j);         \
            for (; r < m; r++) BLOCK8_1(a + r * k, k, &zero, 1, b + j, n, c + r * n + j);                 \
        }                                                                                               \
    }

SF_DEFINE_DRIVER(direct_baseline, v16x2, 16, 2, v8x4, 4, v16x2, 0)
SF_DEFINE_ROW_PRODUCT(rows_baseline, v16x2, 16, 2, v16x1, v8x4, 4, v8x1)
#ifdef SF_X86
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
SF_DEFINE_DRIVER(direct_avx2, v16x6, 16, 6, v8x12, 12, v16x6, 0)
SF_DEFINE_ROW_PRODUCT(rows_avx2, v16x4, 16, 4, v16x1, v8x12, 12, v8x1)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512vl"))), apply_to = function)
SF_DEFINE_DRIVER(direct_avx512, z32x12, 32, 12, v8x12, 12, z32x14, 14)
SF_DEFINE_ROW_PRODUCT(rows_avx512, z32x8, 32, 8, z32x1, v8x8, 8, v8x1)
#pragma clang attribute pop
#else
#define direct_avx2 direct_baseline
#define direct_avx512 direct_baseline
#define rows_avx2 rows_baseline
#define rows_avx512 rows_baseline
#endif

void sf_row_product(const float *a, int64_t m, int64_t k, const float *b, int64_t n, float *c, int level) {
    if (n % 8 != 0) return;
    switch (level) {
    case 2: rows_avx512(a, m, k, b, n, c); break;
    case 1: rows_avx2(a, m, k, b, n, c); break;
    default: rows_baseline(a, m, k, b, n, c); break;
    }
}

void sf_direct_conv_stride1(const float *input, int64_t images, const sf_conv_geometry *geometry,
                            const float *packed_weight, const float *bias, float *output, float *scratch,
                            int layout, int level) {
    if (geometry->out_channels % 8 != 0 || geometry->out_height <= 0 || geometry->out_width <= 0) return;
    switch (level) {
    case 2: direct_avx512(input, images, geometry, packed_weight, bias, output, scratch, layout); break;
    case 1: direct_avx2(input, images, geometry, packed_weight, bias, output, scratch, layout); break;
    default: direct_baseline(input, images, geometry, packed_weight, bias, output, scratch, layout); break;
    }
}
