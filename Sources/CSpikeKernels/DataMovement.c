// Data movement for the event-driven kernels: transposes and spike bit packing, in a baseline
// and an AVX2 variant from one body (as in EventScatter.c). No arithmetic but one add per
// element in `sf_add_transposed`, so every result is exact, whichever variant runs.
#include "CSpikeKernels.h"
#include "Lanes.h"

#pragma clang fp contract(off)

/// The 8×8 block at src (row stride ls) transposed into dst (row stride ld): three rounds of
/// lane shuffles (pairs, quads, halves); `add` ≠ 0 adds the block to dst instead; else a
/// non-null `bias` adds bias[i] to the block's destination row i as it is written.
#define SF_SPLAT(x) ((sf_lanes){(x), (x), (x), (x), (x), (x), (x), (x)})
#define SF_TRANSPOSE_8X8(src, ls, dst, ld, add, bias) do {                                                 \
    const sf_lanes r0 = LANES_AT((src)), r1 = LANES_AT((src) + (ls)), r2 = LANES_AT((src) + 2 * (ls)); \
    const sf_lanes r3 = LANES_AT((src) + 3 * (ls)), r4 = LANES_AT((src) + 4 * (ls));                  \
    const sf_lanes r5 = LANES_AT((src) + 5 * (ls)), r6 = LANES_AT((src) + 6 * (ls));                  \
    const sf_lanes r7 = LANES_AT((src) + 7 * (ls));                                                   \
    const sf_lanes t0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13);                    \
    const sf_lanes t1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15);                  \
    const sf_lanes t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13);                    \
    const sf_lanes t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);                  \
    const sf_lanes t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13);                    \
    const sf_lanes t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);                  \
    const sf_lanes t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13);                    \
    const sf_lanes t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);                  \
    const sf_lanes u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);                    \
    const sf_lanes u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);                  \
    const sf_lanes u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);                    \
    const sf_lanes u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);                  \
    const sf_lanes u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);                    \
    const sf_lanes u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);                  \
    const sf_lanes u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);                    \
    const sf_lanes u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);                  \
    const sf_lanes c0 = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);                    \
    const sf_lanes c1 = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);                    \
    const sf_lanes c2 = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);                    \
    const sf_lanes c3 = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);                    \
    const sf_lanes c4 = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);                  \
    const sf_lanes c5 = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);                  \
    const sf_lanes c6 = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);                  \
    const sf_lanes c7 = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);                  \
    if (add) {                                                                                        \
        LANES_AT((dst)) = LANES_AT((dst)) + c0; LANES_AT((dst) + (ld)) = LANES_AT((dst) + (ld)) + c1;  \
        LANES_AT((dst) + 2 * (ld)) = LANES_AT((dst) + 2 * (ld)) + c2;                                 \
        LANES_AT((dst) + 3 * (ld)) = LANES_AT((dst) + 3 * (ld)) + c3;                                 \
        LANES_AT((dst) + 4 * (ld)) = LANES_AT((dst) + 4 * (ld)) + c4;                                 \
        LANES_AT((dst) + 5 * (ld)) = LANES_AT((dst) + 5 * (ld)) + c5;                                 \
        LANES_AT((dst) + 6 * (ld)) = LANES_AT((dst) + 6 * (ld)) + c6;                                 \
        LANES_AT((dst) + 7 * (ld)) = LANES_AT((dst) + 7 * (ld)) + c7;                                 \
    } else if (bias) {                                                                                \
        const float *b_ = (bias);                                                                     \
        LANES_AT((dst)) = c0 + SF_SPLAT(b_[0]); LANES_AT((dst) + (ld)) = c1 + SF_SPLAT(b_[1]);        \
        LANES_AT((dst) + 2 * (ld)) = c2 + SF_SPLAT(b_[2]); LANES_AT((dst) + 3 * (ld)) = c3 + SF_SPLAT(b_[3]); \
        LANES_AT((dst) + 4 * (ld)) = c4 + SF_SPLAT(b_[4]); LANES_AT((dst) + 5 * (ld)) = c5 + SF_SPLAT(b_[5]); \
        LANES_AT((dst) + 6 * (ld)) = c6 + SF_SPLAT(b_[6]); LANES_AT((dst) + 7 * (ld)) = c7 + SF_SPLAT(b_[7]); \
    } else {                                                                                          \
        LANES_AT((dst)) = c0; LANES_AT((dst) + (ld)) = c1; LANES_AT((dst) + 2 * (ld)) = c2;            \
        LANES_AT((dst) + 3 * (ld)) = c3; LANES_AT((dst) + 4 * (ld)) = c4;                             \
        LANES_AT((dst) + 5 * (ld)) = c5; LANES_AT((dst) + 6 * (ld)) = c6;                             \
        LANES_AT((dst) + 7 * (ld)) = c7;                                                              \
    }                                                                                                 \
} while (0)

// src [rows, columns] → dst [columns, rows] (= srcᵀ, or += srcᵀ when add ≠ 0, or srcᵀ + bias
// [columns] per dst row when bias is non-null): 32×32 tiles so both sides stay in cache, 8×8
// register blocks inside, the edges element by element.
SF_INLINE void transpose_body(const float *src, int64_t rows, int64_t columns, float *dst, int add, const float *bias) {
    enum { tile = 32 };
    for (int64_t r0 = 0; r0 < rows; r0 += tile) {
        const int64_t r1 = r0 + tile < rows ? r0 + tile : rows, rBlocks = r0 + (r1 - r0) / 8 * 8;
        for (int64_t c0 = 0; c0 < columns; c0 += tile) {
            const int64_t c1 = c0 + tile < columns ? c0 + tile : columns, cBlocks = c0 + (c1 - c0) / 8 * 8;
            for (int64_t r = r0; r < rBlocks; r += 8) {
                for (int64_t c = c0; c < cBlocks; c += 8)
                    SF_TRANSPOSE_8X8(src + r * columns + c, columns, dst + c * rows + r, rows, add, bias ? bias + c : 0);
                for (int64_t rr = r; rr < r + 8; rr++)
                    for (int64_t cc = cBlocks; cc < c1; cc++) {
                        if (add) dst[cc * rows + rr] += src[rr * columns + cc];
                        else dst[cc * rows + rr] = bias ? src[rr * columns + cc] + bias[cc] : src[rr * columns + cc];
                    }
            }
            for (int64_t rr = rBlocks; rr < r1; rr++)
                for (int64_t cc = c0; cc < c1; cc++) {
                    if (add) dst[cc * rows + rr] += src[rr * columns + cc];
                    else dst[cc * rows + rr] = bias ? src[rr * columns + cc] + bias[cc] : src[rr * columns + cc];
                }
        }
    }
}

// x [count] (0/1) → words [⌈count/64⌉]; 0 when some element is neither 0 nor 1.
SF_INLINE int pack_body(const float *x, int64_t count, uint64_t *words) {
    const sf_lanes one = {1, 1, 1, 1, 1, 1, 1, 1}, zero = {0, 0, 0, 0, 0, 0, 0, 0};
    typedef int32_t sf_mask __attribute__((vector_size(32), aligned(4)));
    const sf_mask bit = {1, 2, 4, 8, 16, 32, 64, 128};
    for (int64_t base = 0, w = 0; base < count; base += 64, w++) {
        uint64_t bits = 0;
        int64_t i = base;
        const int64_t end = base + 64 < count ? base + 64 : count;
        sf_mask other = {0, 0, 0, 0, 0, 0, 0, 0};
        for (; i + 8 <= end; i += 8) {
            const sf_lanes v = LANES_AT(x + i);
            const sf_mask isOne = v == one;
            other |= ~(isOne | (v == zero));
            const sf_mask b = isOne & bit;
            const int32_t byte = b[0] | b[1] | b[2] | b[3] | b[4] | b[5] | b[6] | b[7];
            bits |= (uint64_t)byte << (i - base);
        }
        if (other[0] | other[1] | other[2] | other[3] | other[4] | other[5] | other[6] | other[7]) return 0;
        for (; i < end; i++) {
            if (x[i] == 1) bits |= (uint64_t)1 << (i - base);
            else if (x[i] != 0) return 0;
        }
        words[w] = bits;
    }
    return 1;
}

// words → x [count] (1.0 where the bit is set, else 0.0)
SF_INLINE void unpack_body(const uint64_t *words, int64_t count, float *x) {
    typedef int32_t sf_mask __attribute__((vector_size(32), aligned(4)));
    const sf_mask bit = {1, 2, 4, 8, 16, 32, 64, 128};
    const int32_t oneBits = 0x3f800000;                  // 1.0f
    const sf_mask one = {oneBits, oneBits, oneBits, oneBits, oneBits, oneBits, oneBits, oneBits};
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const int32_t byte = (int32_t)((words[i / 64] >> (i % 64)) & 0xff);
        const sf_mask b = {byte, byte, byte, byte, byte, byte, byte, byte};
        LANES_AT(x + i) = (sf_lanes)(((b & bit) != 0) & one);   // all ones & 1.0f's bits, or 0
    }
    for (; i < count; i++) x[i] = (words[i / 64] >> (i % 64)) & 1 ? 1.0f : 0.0f;
}

// input [images, C, H, W] → columns [C·k·k, images·Ho·Wo] (stride s, zero padding p).
// Declared no_builtin so that the copy loops stay inline moves, not one memcpy call per run.
SF_INLINE void im2col_body(const float *input, int64_t images, const sf_conv_geometry *g,
                           float *columns, int64_t stride) {
    const int64_t k = g->kernel, pad = g->padding, h = g->height, w = g->width, s = g->stride;
    const int64_t oh = g->out_height, ow = g->out_width, pixels = oh * ow;
    for (int64_t c = 0; c < g->in_channels; c++) {
        for (int64_t ki = 0; ki < k; ki++) {
            for (int64_t kj = 0; kj < k; kj++) {
                float *row = columns + ((c * k + ki) * k + kj) * stride;
                // output columns x with 0 ≤ x·s − p + kj < w
                const int64_t xStart = pad - kj > 0 ? (pad - kj + s - 1) / s : 0;
                const int64_t last = w - 1 + pad - kj;             // the largest x·s that is inside
                const int64_t xEnd = last < 0 ? 0 : (last / s + 1 < ow ? last / s + 1 : ow);
                for (int64_t img = 0; img < images; img++) {
                    const float *plane = input + (img * g->in_channels + c) * h * w;
                    float *dst = row + img * pixels;
                    for (int64_t y = 0; y < oh; y++) {
                        float *out = dst + y * ow;
                        const int64_t iy = y * s - pad + ki;
                        if (iy < 0 || iy >= h || xStart >= xEnd) {
                            for (int64_t x = 0; x < ow; x++) out[x] = 0;
                            continue;
                        }
                        const float *src = plane + iy * w - pad + kj;   // src[x·s] = x[iy, x·s − p + kj]
                        for (int64_t x = 0; x < xStart; x++) out[x] = 0;
                        int64_t x = xStart;
                        if (s == 1) {
                            for (; x + 8 <= xEnd; x += 8) LANES_AT(out + x) = LANES_AT(src + x);
                            for (; x < xEnd; x++) out[x] = src[x];
                        } else {
                            for (; x < xEnd; x++) out[x] = src[x * s];
                        }
                        for (x = xEnd; x < ow; x++) out[x] = 0;
                    }
                }
            }
        }
    }
}

/// sums[c] += Σ_r m[r, c], each column summed from 0 in row order first (as the plain loop),
/// in blocks of 256 columns held in a stack row; eight columns per vector add.
SF_INLINE void column_sums_body(const float *m, int64_t rows, int64_t columns, float *sums) {
    enum { BLOCK = 256 };
    float acc[BLOCK];
    for (int64_t c0 = 0; c0 < columns; c0 += BLOCK) {
        const int64_t width = columns - c0 < BLOCK ? columns - c0 : BLOCK;
        for (int64_t c = 0; c < width; c++) acc[c] = 0;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = m + r * columns + c0;
            int64_t c = 0;
            for (; c + 8 <= width; c += 8) LANES_AT(acc + c) = LANES_AT(acc + c) + LANES_AT(row + c);
            for (; c < width; c++) acc[c] += row[c];
        }
        for (int64_t c = 0; c < width; c++) sums[c0 + c] += acc[c];
    }
}

// MARK: the two variants

static void transpose_baseline(const float *s, int64_t r, int64_t c, float *d, int add, const float *b) { transpose_body(s, r, c, d, add, b); }
static int pack_baseline(const float *x, int64_t n, uint64_t *w) { return pack_body(x, n, w); }
static void column_sums_baseline(const float *m, int64_t r, int64_t c, float *s) { column_sums_body(m, r, c, s); }
static void unpack_baseline(const uint64_t *w, int64_t n, float *x) { unpack_body(w, n, x); }
#define SF_NO_CALLS __attribute__((no_builtin("memcpy", "memset", "memmove")))
SF_NO_CALLS static void im2col_baseline(const float *x, int64_t n, const sf_conv_geometry *g, float *c, int64_t s) {
    im2col_body(x, n, g, c, s);
}
#ifdef SF_X86
#define SF_AVX2 __attribute__((target("avx2")))
SF_AVX2 static void transpose_avx2(const float *s, int64_t r, int64_t c, float *d, int add, const float *b) { transpose_body(s, r, c, d, add, b); }
SF_AVX2 static int pack_avx2(const float *x, int64_t n, uint64_t *w) { return pack_body(x, n, w); }
SF_AVX2 static void column_sums_avx2(const float *m, int64_t r, int64_t c, float *s) { column_sums_body(m, r, c, s); }
SF_AVX2 static void unpack_avx2(const uint64_t *w, int64_t n, float *x) { unpack_body(w, n, x); }
SF_AVX2 SF_NO_CALLS static void im2col_avx2(const float *x, int64_t n, const sf_conv_geometry *g, float *c, int64_t s) {
    im2col_body(x, n, g, c, s);
}
#else
#define transpose_avx2 transpose_baseline
#define pack_avx2 pack_baseline
#define column_sums_avx2 column_sums_baseline
#define unpack_avx2 unpack_baseline
#define im2col_avx2 im2col_baseline
#endif

void sf_transpose(const float *src, int64_t rows, int64_t columns, float *dst, int avx2) {
    if (avx2) transpose_avx2(src, rows, columns, dst, 0, 0); else transpose_baseline(src, rows, columns, dst, 0, 0);
}

void sf_transpose_add_bias(const float *src, int64_t rows, int64_t columns, float *dst, const float *bias, int avx2) {
    if (avx2) transpose_avx2(src, rows, columns, dst, 0, bias); else transpose_baseline(src, rows, columns, dst, 0, bias);
}

// t [columns, rows] is the source: w [rows, columns] += tᵀ.
void sf_add_transposed(const float *t, int64_t rows, int64_t columns, float *w, int avx2) {
    if (avx2) transpose_avx2(t, columns, rows, w, 1, 0); else transpose_baseline(t, columns, rows, w, 1, 0);
}

int sf_pack_spikes(const float *x, int64_t count, uint64_t *words, int avx2) {
    return avx2 ? pack_avx2(x, count, words) : pack_baseline(x, count, words);
}

void sf_unpack_spikes(const uint64_t *words, int64_t count, float *x, int avx2) {
    if (avx2) unpack_avx2(words, count, x); else unpack_baseline(words, count, x);
}

void sf_im2col(const float *input, int64_t images, const sf_conv_geometry *geometry,
               float *columns, int64_t column_stride, int avx2) {
    if (avx2) im2col_avx2(input, images, geometry, columns, column_stride);
    else im2col_baseline(input, images, geometry, columns, column_stride);
}

void sf_add_column_sums(const float *m, int64_t rows, int64_t columns, float *sums, int avx2) {
    if (avx2) column_sums_avx2(m, rows, columns, sums); else column_sums_baseline(m, rows, columns, sums);
}
