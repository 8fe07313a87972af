// Event-driven scatters over sparse spike inputs, in two variants (baseline, AVX2) from one
// body: each `*_body` function is always inlined into a plain wrapper and into one with
// __attribute__((target("avx2"))), so the same 8-lane vector code becomes SSE or AVX2.
#include "CSpikeKernels.h"
#include "Lanes.h"

// a·b + c stays a product and a sum, two roundings, as in the Swift reference kernels.
#pragma clang fp contract(off)

#ifdef SF_X86
#include <cpuid.h>
#include <immintrin.h>
#endif

/// dst[0..<count] += v·src[0..<count], eight lanes at a time, then one by one: the same
/// operation per element as `SpikeMatmul.addScaled` (whose v = 1 shortcut, a plain add, gives
/// the same bits: 1·x = x exactly).
SF_INLINE void add_scaled(const float *restrict src, float v, float *restrict dst, int64_t count) {
    const sf_lanes scale = {v, v, v, v, v, v, v, v};
    int64_t i = 0;
    for (; i + 8 <= count; i += 8) LANES_AT(dst + i) = LANES_AT(dst + i) + scale * LANES_AT(src + i);
    for (; i < count; i++) dst[i] += v * src[i];
}

/// `add_scaled` for the paper's 32 channels: a constant count the compiler unrolls.
SF_INLINE void add_scaled_32(const float *restrict src, float v, float *restrict dst) {
    add_scaled(src, v, dst, 32);
}

int sf_cpu_has_avx2(void) {
#ifdef SF_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned osxsave = 1u << 27, avx = 1u << 28;
    if ((c & (osxsave | avx)) != (osxsave | avx)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6u) != 6u) return 0;                 // XMM and YMM state enabled by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) != 0;                   // AVX2
#else
    return 0;
#endif
}

/// A nonzero input pixel: its row and column shifted by the padding (yy + p, xx + p) and value.
typedef struct { int32_t row, column; float v; } sf_active_pixel;

/// Pixels a scatter collects before it processes them (a 12 KB stack buffer).
enum { SF_ACTIVE_CHUNK = 1024 };

/// Appends to `list` the nonzero pixels of row `yy` of a plane from column `*xx` on, in column
/// order, while fewer than SF_ACTIVE_CHUNK are listed; advances `*xx` (width when the row is
/// done). Eight columns at a time by a compare and a sign mask, then their set bits: no branch
/// per zero pixel, which at spike densities would be mispredicted on every spike.
SF_INLINE int64_t list_active(const float *row, int64_t width, int64_t yy, int64_t pad, int64_t *xx,
                              sf_active_pixel *list, int64_t n) {
    int64_t x = *xx;
#ifdef SF_X86
    const __m128 zero = _mm_setzero_ps();
    for (; x + 8 <= width && n + 8 <= SF_ACTIVE_CHUNK; x += 8) {
        unsigned mask = (unsigned)_mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(row + x), zero))
                      | (unsigned)_mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(row + x + 4), zero)) << 4;
        while (mask) {
            const int64_t b = __builtin_ctz(mask);
            mask &= mask - 1;
            list[n++] = (sf_active_pixel){(int32_t)(yy + pad), (int32_t)(x + b + pad), row[x + b]};
        }
    }
#endif
    for (; x < width && n < SF_ACTIVE_CHUNK; x++) {
        list[n] = (sf_active_pixel){(int32_t)(yy + pad), (int32_t)(x + pad), row[x]};
        n += row[x] != 0;                              // written always, kept when nonzero
    }
    *xx = x;
    return n;
}

/// Runs the body (the last argument) for every tap (ki, kj) through which the pixel at
/// padding-shifted (`row`, `column`) reaches an output pixel (`a`, `b`) with stride s > 1, ki
/// then kj ascending: s divides row − ki exactly when ki ≡ row (mod s), so ki starts at
/// row mod s and steps by s (one division per pixel and axis, none per tap). `k`, `s`, `oh`,
/// `ow` in scope.
#define SF_EACH_STRIDED_TAP(row, column, ...)                                                    \
    for (int64_t ki = (row) % s; ki < k && ki <= (row); ki += s) {                              \
        const int64_t a = ((row) - ki) / s;                                                     \
        if (a >= oh) continue;                                                                  \
        for (int64_t kj = (column) % s; kj < k && kj <= (column); kj += s) {                    \
            const int64_t b = ((column) - kj) / s;                                              \
            if (b >= ow) continue;                                                              \
            __VA_ARGS__                                                                         \
        }                                                                                       \
    }

/// sums [Ho·Wo, O] += the forward scatter of `n` listed pixels of channel c: for each pixel in
/// list order, for ki, kj ascending over the taps that reach an output pixel,
/// sums[pixel, :] += v · Wᵀ[(c·k + ki)·k + kj, :]. With stride s, tap ki reaches output row
/// i = (row − ki)/s where s divides row − ki (likewise columns).
SF_INLINE void scatter_to_pixels(const sf_active_pixel *list, int64_t n, int64_t c, const sf_conv_geometry *g,
                                 const float *wt, float *sums) {
    const int64_t k = g->kernel, oh = g->out_height, ow = g->out_width, outC = g->out_channels, s = g->stride;
    for (int64_t e = 0; e < n; e++) {
        const int64_t row = list[e].row, column = list[e].column;   // yy + p, xx + p
        const float v = list[e].v;
        if (s != 1) {
            SF_EACH_STRIDED_TAP(row, column, {
                add_scaled(wt + ((c * k + ki) * k + kj) * outC, v, sums + (a * ow + b) * outC, outC);
            })
            continue;
        }
        const int64_t kiLow = row - oh + 1 > 0 ? row - oh + 1 : 0, kiHigh = row < k - 1 ? row : k - 1;
        const int64_t kjLow = column - ow + 1 > 0 ? column - ow + 1 : 0, kjHigh = column < k - 1 ? column : k - 1;
        for (int64_t ki = kiLow; ki <= kiHigh; ki++) {
            const float *taps = wt + (c * k + ki) * k * outC;
            float *pixels = sums + ((row - ki) * ow + column) * outC;   // output pixel of kj = 0
            if (outC == 32) {
                for (int64_t kj = kjLow; kj <= kjHigh; kj++) add_scaled_32(taps + kj * 32, v, pixels - kj * 32);
            } else {
                for (int64_t kj = kjLow; kj <= kjHigh; kj++)
                    add_scaled(taps + kj * outC, v, pixels - kj * outC, outC);
            }
        }
    }
}

/// dWᵀ[tap, :] += Σ v · dYᵀ[pixel, :] over the `n` listed pixels of one channel that reach an
/// output pixel through tap (ki, kj) (with stride s: where s divides row − ki and column − kj), in list order: the weight gradient with the tap's row held
/// in registers (32 columns as four 8-lane sums, then 8, then one by one) instead of loaded and
/// stored per pixel. Per element the adds are those of the reference in the same order.
SF_INLINE void accumulate_tap(const sf_active_pixel *list, int64_t n, int64_t ki, int64_t kj,
                              const sf_conv_geometry *g, const float *dyT, float *dst) {
    const int64_t oh = g->out_height, ow = g->out_width, outC = g->out_channels, s = g->stride;
    int64_t col = 0;
#define SF_EACH_REACHING_PIXEL(...)                                                          \
    for (int64_t e = 0; e < n; e++) {                                                        \
        int64_t i = list[e].row - ki, j = list[e].column - kj;                               \
        if (s != 1) {                                                                        \
            if (i < 0 || j < 0 || i % s != 0 || j % s != 0) continue;                        \
            i /= s; j /= s;                                                                  \
        }                                                                                    \
        if ((uint64_t)i >= (uint64_t)oh || (uint64_t)j >= (uint64_t)ow) continue;            \
        const float v = list[e].v;                                                           \
        const float *src = dyT + (i * ow + j) * outC + col;                                  \
        __VA_ARGS__                                                                          \
    }
    for (; col + 32 <= outC; col += 32) {
        sf_lanes a0 = LANES_AT(dst + col), a1 = LANES_AT(dst + col + 8);
        sf_lanes a2 = LANES_AT(dst + col + 16), a3 = LANES_AT(dst + col + 24);
        SF_EACH_REACHING_PIXEL({
            const sf_lanes s = {v, v, v, v, v, v, v, v};
            a0 = a0 + s * LANES_AT(src); a1 = a1 + s * LANES_AT(src + 8);
            a2 = a2 + s * LANES_AT(src + 16); a3 = a3 + s * LANES_AT(src + 24);
        })
        LANES_AT(dst + col) = a0; LANES_AT(dst + col + 8) = a1;
        LANES_AT(dst + col + 16) = a2; LANES_AT(dst + col + 24) = a3;
    }
    for (; col + 8 <= outC; col += 8) {
        sf_lanes a = LANES_AT(dst + col);
        SF_EACH_REACHING_PIXEL({
            const sf_lanes s = {v, v, v, v, v, v, v, v};
            a = a + s * LANES_AT(src);
        })
        LANES_AT(dst + col) = a;
    }
    for (; col < outC; col++) {
        float a = dst[col];
        SF_EACH_REACHING_PIXEL({ a += v * src[0]; })
        dst[col] = a;
    }
#undef SF_EACH_REACHING_PIXEL
}

/// Thirty-two floats (one pixel's or one tap's row of the paper's 32 channels), loaded and stored
/// unaligned: the compiler splits it into what the variant has (two zmm, four ymm, eight xmm),
/// so one body serves every variant.
typedef float sf_row32 __attribute__((vector_size(128), aligned(4)));
typedef struct __attribute__((packed, may_alias)) { sf_row32 v; } sf_unaligned_row32;
#define ROW32_AT(p) (((sf_unaligned_row32 *)(p))->v)
#define ROW32_SPLAT(s) ((sf_row32){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, \
                                   s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s})

/// Calls TAP(ki, kj, offset) for the nine taps of a 3×3 kernel in (ki, kj) order, `offset` the
/// pixel offset (ki·Wo + kj) of the output the tap reaches from a pixel's kj = ki = 0 output.
#define SF_NINE_TAPS(TAP, ow) \
    TAP(0, 0, 0) TAP(0, 1, 1) TAP(0, 2, 2) \
    TAP(1, 0, (ow)) TAP(1, 1, (ow) + 1) TAP(1, 2, (ow) + 2) \
    TAP(2, 0, 2 * (ow)) TAP(2, 1, 2 * (ow) + 1) TAP(2, 2, 2 * (ow) + 2)

/// Bit i set where x[i] ≠ 0, for the `count` ≤ 8 floats at x (a compare and a sign mask per
/// four floats where all eight are there).
SF_INLINE unsigned nonzero_mask8(const float *x, int64_t count) {
#ifdef SF_X86
    if (count >= 8) {
        const __m128 zero = _mm_setzero_ps();
        return (unsigned)_mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(x), zero))
             | (unsigned)_mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(x + 4), zero)) << 4;
    }
#endif
    unsigned mask = 0;
    for (int64_t i = 0; i < count && i < 8; i++) mask |= (unsigned)(x[i] != 0) << i;
    return mask;
}

/// Bit i set where row[x + i] ≠ 0, for the eight columns from x of a row `width` long (fewer at
/// its end: a last partial group reads the row's last eight columns, overlapping the previous
/// group, and shifts, so nothing past the row is read).
SF_INLINE unsigned row_group_mask(const float *row, int64_t width, int64_t x) {
    return x + 8 <= width || width < 8 ? nonzero_mask8(row + x, width - x)
                                       : nonzero_mask8(row + width - 8, 8) >> (x + 8 - width);
}

/// Runs the body (the last argument) for every nonzero pixel of one plane [height, width] in
/// raster order, with `row` and `column` its coordinates shifted by the padding (yy + p, xx + p)
/// and `v` its value: eight columns at a time by a compare and a sign mask, then their set
/// bits (a row's last eight columns, overlapping the previous group, for its tail), so no
/// branch per zero pixel and no list.
#define SF_EACH_ACTIVE_PIXEL(plane, height, width, pad, ...)                                     \
    for (int64_t yy_ = 0; yy_ < (height); yy_++) {                                             \
        const float *rowValues_ = (plane) + yy_ * (width);                                     \
        const int64_t row = yy_ + (pad);                                                       \
        for (int64_t x_ = 0; x_ < (width); x_ += 8) {                                          \
            unsigned mask_ = row_group_mask(rowValues_, (width), x_);                          \
            while (mask_) {                                                                    \
                const int64_t xx_ = x_ + __builtin_ctz(mask_);                                 \
                mask_ &= mask_ - 1;                                                            \
                const int64_t column = xx_ + (pad);                                            \
                const float v = rowValues_[xx_];                                               \
                __VA_ARGS__                                                                    \
            }                                                                                  \
        }                                                                                      \
    }

/// TAP(ki, kj, offset) for each of the nine taps that reaches an output pixel from the pixel at
/// (`row`, `column`) (padding-shifted coordinates in scope, as `oh` and `ow`).
#define SF_TAP_IF_INSIDE(TAP, ki, kj, offset) \
    if ((uint64_t)(row - ki) < (uint64_t)oh && (uint64_t)(column - kj) < (uint64_t)ow) TAP(ki, kj, offset)
#define SF_NINE_TAPS_IF_INSIDE(TAP, ow) \
    SF_TAP_IF_INSIDE(TAP, 0, 0, 0) SF_TAP_IF_INSIDE(TAP, 0, 1, 1) SF_TAP_IF_INSIDE(TAP, 0, 2, 2) \
    SF_TAP_IF_INSIDE(TAP, 1, 0, (ow)) SF_TAP_IF_INSIDE(TAP, 1, 1, (ow) + 1) SF_TAP_IF_INSIDE(TAP, 1, 2, (ow) + 2) \
    SF_TAP_IF_INSIDE(TAP, 2, 0, 2 * (ow)) SF_TAP_IF_INSIDE(TAP, 2, 1, 2 * (ow) + 1) SF_TAP_IF_INSIDE(TAP, 2, 2, 2 * (ow) + 2)

/// The body both 3×3 directions share, for one block of 32 of the output channels: for every
/// nonzero pixel of `plane` in raster order (SF_EACH_ACTIVE_PIXEL), `s` its value in 32 lanes and
/// `pixels` the block's 32 floats in the row of `base` of its ki = kj = 0 output pixel (rows `ld`
/// floats apart, the block at `base`), TAP for each of its nine taps in (ki, kj) order — all of
/// them with no bounds test where the pixel is not on the border (row and column ≥ 2 and inside
/// the output), else those that reach an output pixel. `oh`, `ow` and `ld` in scope.
#define SF_EACH_ACTIVE_PIXEL_NINE_TAPS(plane, g, base, TAP)                                        \
    SF_EACH_ACTIVE_PIXEL(plane, (g)->height, (g)->width, (g)->padding, {                        \
        const sf_row32 s = ROW32_SPLAT(v);                                                      \
        __typeof__(base) pixels = (base) + (row * ow + column) * ld;                            \
        if (row >= 2 && row < oh && column >= 2 && column < ow) {                               \
            SF_NINE_TAPS(TAP, ow)                                                               \
        } else {                                                                                \
            SF_NINE_TAPS_IF_INSIDE(TAP, ow)                                                     \
        }                                                                                       \
    })

/// The forward scatter of one channel c for a 3×3 kernel, output channels [col, col + 32) of
/// `ld` (a multiple of 32: the paper's 32, and 64, 128 …): the channel's nine rows of Wᵀ
/// (their 32 columns) are loaded once (in registers where the variant has enough: AVX-512's 32
/// zmm), and a pixel whose nine taps all reach an output pixel (all but the border) adds them
/// with no bounds test (a border pixel tests each tap). Per output element the same adds in the
/// same order as `scatter_to_pixels` (pixels in raster order, taps ki, kj ascending).
// plane [H, W] (sparse), wt = Wᵀ [C·9, ld] → sums [Ho·Wo, ld] += (columns col ..< col + 32)
SF_INLINE void scatter_channel_to_pixels_k3(const float *plane, int64_t c, const sf_conv_geometry *g,
                                            const float *wt, float *sums, int64_t ld, int64_t col) {
    const int64_t oh = g->out_height, ow = g->out_width;
    const float *w = wt + c * 9 * ld + col;
    sums += col;
#define LOAD_TAP(ki, kj, offset) const sf_row32 w##ki##kj = ROW32_AT(w + (ki * 3 + kj) * ld);
    SF_NINE_TAPS(LOAD_TAP, ow)
#undef LOAD_TAP
#define ADD_TAP(ki, kj, offset) ROW32_AT(pixels - (offset) * ld) = ROW32_AT(pixels - (offset) * ld) + s * w##ki##kj;
    if (g->width > 64) {
        SF_EACH_ACTIVE_PIXEL_NINE_TAPS(plane, g, sums, ADD_TAP)
        return;
    }
    // Rows of up to 64 pixels as one mask, so that a pixel whose right neighbour is active too
    // (strokes make runs) adds with it: per image row ki the pair reaches four output pixels,
    // each loaded and stored once, the left pixel's add before the right one's (raster order).
    const int64_t width = g->width, pad = g->padding;
    for (int64_t yy = 0; yy < g->height; yy++) {
        const float *rowValues = plane + yy * width;
        const int64_t row = yy + pad;
        uint64_t mask = 0;
        for (int64_t x = 0; x < width; x += 8) mask |= (uint64_t)row_group_mask(rowValues, width, x) << x;
        const int interiorRow = row >= 2 && row < oh;
        while (mask) {
            const int64_t xx = __builtin_ctzll(mask);
            mask &= mask - 1;
            const int64_t column = xx + pad;
            const sf_row32 s = ROW32_SPLAT(rowValues[xx]);
            float *pixels = sums + (row * ow + column) * ld;            // output pixel of ki = kj = 0
            if (interiorRow && column >= 2 && column + 1 < ow && xx + 1 < width && (mask & (1ull << (xx + 1)))) {
                mask &= mask - 1;                                       // the right neighbour, taken here
                const sf_row32 s2 = ROW32_SPLAT(rowValues[xx + 1]);
#define ADD_PAIR_ROW(ki)                                                                          \
    {                                                                                           \
        float *o = pixels - ki * ow * ld;                           /* output of the pixel's kj = 0 */ \
        ROW32_AT(o + ld) = ROW32_AT(o + ld) + s2 * w##ki##0;                                    \
        ROW32_AT(o) = (ROW32_AT(o) + s * w##ki##0) + s2 * w##ki##1;                             \
        ROW32_AT(o - ld) = (ROW32_AT(o - ld) + s * w##ki##1) + s2 * w##ki##2;                   \
        ROW32_AT(o - 2 * ld) = ROW32_AT(o - 2 * ld) + s * w##ki##2;                             \
    }
                ADD_PAIR_ROW(0) ADD_PAIR_ROW(1) ADD_PAIR_ROW(2)
#undef ADD_PAIR_ROW
            } else if (interiorRow && column >= 2 && column < ow) {
                SF_NINE_TAPS(ADD_TAP, ow)
            } else {
                SF_NINE_TAPS_IF_INSIDE(ADD_TAP, ow)
            }
        }
    }
#undef ADD_TAP
}

/// The weight gradient of one channel for a 3×3 kernel, output channels [col, col + 32) of `ld`
/// (a multiple of 32): the channel's nine rows of dWᵀ (their 32 columns) are held as sums (in
/// registers where the variant has enough) over the whole plane, each pixel adding
/// v·dYᵀ[pixel] to every tap that reaches an output pixel (a border pixel tests each tap). Per
/// element the adds of `accumulate_tap` in the same pixel order.
// plane [H, W] (sparse), dyT = dYᵀ [Ho·Wo, ld] → dst = the channel's dWᵀ rows [9, ld] += (columns col ..< col + 32)
SF_INLINE void accumulate_channel_taps_k3(const float *plane, const sf_conv_geometry *g, const float *dyT,
                                          float *dst, int64_t ld, int64_t col) {
    const int64_t oh = g->out_height, ow = g->out_width;
    dyT += col;
    dst += col;
#define LOAD_SUM(ki, kj, offset) sf_row32 a##ki##kj = ROW32_AT(dst + (ki * 3 + kj) * ld);
    SF_NINE_TAPS(LOAD_SUM, ow)
#undef LOAD_SUM
#define ADD_TAP(ki, kj, offset) a##ki##kj = a##ki##kj + s * ROW32_AT(pixels - (offset) * ld);
    SF_EACH_ACTIVE_PIXEL_NINE_TAPS(plane, g, dyT, ADD_TAP)
#undef ADD_TAP
#define STORE_SUM(ki, kj, offset) ROW32_AT(dst + (ki * 3 + kj) * ld) = a##ki##kj;
    SF_NINE_TAPS(STORE_SUM, ow)
#undef STORE_SUM
}

int sf_event_conv_k3_path(const sf_conv_geometry *g) {
    return g->kernel == 3 && g->out_channels % 32 == 0 && g->padding <= 2 && g->stride == 1;
}

// image [C, H, W] (sparse); table and target as `direction` says (see the header).
// Per channel, the nonzero pixels are listed in raster order (SF_ACTIVE_CHUNK at a time), then
// scattered. Every target element receives the reference's adds in the reference's order
// (EventConv2dKernel.forEachActiveTapAnyStride: channel, row, column, then ki, kj ascending):
// forward, an output pixel's contributions come in (c, ki, kj) order either way; weight
// gradient, a tap's contributions come in pixel order within its channel either way.
SF_INLINE void scatter_body(const float *image, const sf_conv_geometry *g,
                            const float *table, float *target, sf_scatter_direction direction) {
    const int64_t k = g->kernel, pad = g->padding, oh = g->out_height, s = g->stride;
    const int64_t width = g->width, plane = g->height * g->width, outC = g->out_channels;
    // 3×3, a multiple of 32 output channels, stride 1, every input row reaching an output row
    // (p ≤ 2): one pass per channel and block of 32 output channels (the paper's 32 as a
    // constant, so that its one block compiles to the code it had).
    if (sf_event_conv_k3_path(g)) {
        for (int64_t c = 0; c < g->in_channels; c++) {
            if (direction == SF_SCATTER_TO_PIXELS) {
                if (outC == 32) scatter_channel_to_pixels_k3(image + c * plane, c, g, table, target, 32, 0);
                else for (int64_t col = 0; col < outC; col += 32)
                    scatter_channel_to_pixels_k3(image + c * plane, c, g, table, target, outC, col);
            } else {
                if (outC == 32) accumulate_channel_taps_k3(image + c * plane, g, table, target + c * 9 * 32, 32, 0);
                else for (int64_t col = 0; col < outC; col += 32)
                    accumulate_channel_taps_k3(image + c * plane, g, table, target + c * 9 * outC, outC, col);
            }
        }
        return;
    }
    sf_active_pixel list[SF_ACTIVE_CHUNK];
    for (int64_t c = 0; c < g->in_channels; c++) {
        int64_t yy = 0, xx = 0;
        while (yy < g->height) {
            int64_t n = 0;
            while (yy < g->height && n < SF_ACTIVE_CHUNK) {
                // rows that reach no output row (padding > k − 1, or between strides) contribute nothing
                int reaches = 0;
                for (int64_t ki = 0; ki < k && ki <= yy + pad && !reaches; ki++)
                    reaches = (yy + pad - ki) % s == 0 && (yy + pad - ki) / s < oh;
                if (reaches) n = list_active(image + c * plane + yy * width, width, yy, pad, &xx, list, n);
                else xx = width;
                if (xx == width) { yy++; xx = 0; }
            }
            if (direction == SF_SCATTER_TO_PIXELS) {
                scatter_to_pixels(list, n, c, g, table, target);
            } else if (s != 1) {
                // per pixel, each reaching tap's row of dWᵀ in memory (k·k·O floats, in L1):
                // a tap's adds still come in list order, and no tap scans the whole list
                const int64_t ow = g->out_width;
                for (int64_t e = 0; e < n; e++) {
                    const int64_t row = list[e].row, column = list[e].column;
                    SF_EACH_STRIDED_TAP(row, column, {
                        add_scaled(table + (a * ow + b) * outC, list[e].v, target + ((c * k + ki) * k + kj) * outC, outC);
                    })
                }
            } else {
                for (int64_t ki = 0; ki < k; ki++)
                    for (int64_t kj = 0; kj < k; kj++)
                        accumulate_tap(list, n, ki, kj, g, table, target + ((c * k + ki) * k + kj) * outC);
            }
        }
    }
}

/// Lists in `list` the indices j in [begin, end) with x[j] ≠ 0, ascending (at most
/// SF_ACTIVE_CHUNK, from `*j` on; advances `*j`), as `list_active` does for pixels.
SF_INLINE int64_t list_nonzero(const float *x, int64_t *j, int64_t end, int32_t *list) {
    int64_t i = *j, n = 0;
#ifdef SF_X86
    const __m128 zero = _mm_setzero_ps();
    for (; i + 8 <= end && n + 8 <= SF_ACTIVE_CHUNK; i += 8) {
        unsigned mask = (unsigned)_mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(x + i), zero))
                      | (unsigned)_mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(x + i + 4), zero)) << 4;
        while (mask) {
            list[n++] = (int32_t)(i + __builtin_ctz(mask));
            mask &= mask - 1;
        }
    }
#endif
    for (; i < end && n < SF_ACTIVE_CHUNK; i++) {
        list[n] = (int32_t)i;
        n += x[i] != 0;
    }
    *j = i;
    return n;
}

/// y[col … col + 8·N) += Σ x[j] · Wᵀ[j, same columns] over the listed j, in list order, held
/// in N eight-lane sums (a constant N: the loops unroll and the sums stay in registers).
#define SF_ROW_BLOCK(N)                                                                          \
    for (; col + 8 * (N) <= out; col += 8 * (N)) {                                             \
        sf_lanes a[N];                                                                          \
        SF_UNROLL for (int k = 0; k < (N); k++) a[k] = LANES_AT(y + col + 8 * k);               \
        for (int64_t e = 0; e < n; e++) {                                                       \
            const float v = x[list[e]];                                                         \
            const sf_lanes s = {v, v, v, v, v, v, v, v};                                        \
            const float *src = wt + (int64_t)list[e] * out + col;                               \
            SF_UNROLL for (int k = 0; k < (N); k++) a[k] = a[k] + s * LANES_AT(src + 8 * k);    \
        }                                                                                       \
        SF_UNROLL for (int k = 0; k < (N); k++) LANES_AT(y + col + 8 * k) = a[k];               \
    }
#define SF_UNROLL _Pragma("clang loop unroll(full)")

/// y [out] += Σ x[j] · Wᵀ[j, :] over the listed j, in list order, the row of y held in
/// registers 64 columns at a time (eight independent sums, so that the adds' latency does not
/// bound the loop), then 32, then 8, then one by one.
SF_INLINE void accumulate_row(const float *x, const int32_t *list, int64_t n, const float *wt, int64_t out, float *y) {
    int64_t col = 0;
    SF_ROW_BLOCK(8)
    SF_ROW_BLOCK(4)
    SF_ROW_BLOCK(1)
    for (; col < out; col++) {
        float a = y[col];
        for (int64_t e = 0; e < n; e++) a += x[list[e]] * wt[(int64_t)list[e] * out + col];
        y[col] = a;
    }
}
#undef SF_ROW_BLOCK

// x [rows, in] (sparse), wt = Wᵀ [in, out] → y [rows, out] +=, rows [row_begin, row_end).
// Each element of y gets x[r, j]·Wᵀ[j, c] added for the nonzero x[r, j], j ascending, as in the
// reference (`SpikeMatmul.accumulateForwardReference`).
SF_INLINE void rows_forward_body(const float *x, int64_t row_begin, int64_t row_end, int64_t in,
                                 const float *wt, int64_t out, float *y) {
    int32_t list[SF_ACTIVE_CHUNK];
    for (int64_t r = row_begin; r < row_end; r++) {
        const float *xr = x + r * in;
        int64_t j = 0;
        while (j < in) {
            const int64_t n = list_nonzero(xr, &j, in, list);
            accumulate_row(xr, list, n, wt, out, y + r * out);
        }
    }
}

// x [rows, in] (sparse), dY [rows, out] → dWᵀ [in, out] += for input columns [begin, end):
// rows ascending, then the row's nonzero columns ascending, as in the reference.
SF_INLINE void rows_weight_gradient_body(const float *x, int64_t rows, int64_t in, int64_t begin, int64_t end,
                                         const float *dy, int64_t out, float *dwt) {
    int32_t list[SF_ACTIVE_CHUNK];
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * in, *dyr = dy + r * out;
        int64_t j = begin;
        while (j < end) {
            const int64_t n = list_nonzero(xr, &j, end, list);
            for (int64_t e = 0; e < n; e++) add_scaled(dyr, xr[list[e]], dwt + (int64_t)list[e] * out, out);
        }
    }
}

// MARK: the two variants of each kernel

static void scatter_baseline(const float *image, const sf_conv_geometry *g, const float *table,
                                     float *target, sf_scatter_direction direction) {
    scatter_body(image, g, table, target, direction);
}
static void rows_forward_baseline(const float *x, int64_t b, int64_t e, int64_t in, const float *wt,
                                  int64_t out, float *y) {
    rows_forward_body(x, b, e, in, wt, out, y);
}
static void rows_weight_gradient_baseline(const float *x, int64_t rows, int64_t in, int64_t b, int64_t e,
                                          const float *dy, int64_t out, float *dwt) {
    rows_weight_gradient_body(x, rows, in, b, e, dy, out, dwt);
}

#ifdef SF_X86
#define SF_AVX2 __attribute__((target("avx2")))
SF_AVX2 static void scatter_avx2(const float *image, const sf_conv_geometry *g, const float *table,
                                         float *target, sf_scatter_direction direction) {
    scatter_body(image, g, table, target, direction);
}
SF_AVX2 static void rows_forward_avx2(const float *x, int64_t b, int64_t e, int64_t in, const float *wt,
                                      int64_t out, float *y) {
    rows_forward_body(x, b, e, in, wt, out, y);
}
SF_AVX2 static void rows_weight_gradient_avx2(const float *x, int64_t rows, int64_t in, int64_t b, int64_t e,
                                              const float *dy, int64_t out, float *dwt) {
    rows_weight_gradient_body(x, rows, in, b, e, dy, out, dwt);
}
/// The scatters' AVX-512 build: the 32-float rows of the 3×3, 32-channel path become two zmm
/// (a channel's nine weight rows or weight-gradient sums then stay in registers); the rest as AVX2.
__attribute__((target("avx2,avx512f,avx512vl"))) static void scatter_avx512(
    const float *image, const sf_conv_geometry *g, const float *table, float *target, sf_scatter_direction direction) {
    scatter_body(image, g, table, target, direction);
}
#else
#define scatter_avx512 scatter_baseline
#define scatter_avx2 scatter_baseline
#define rows_forward_avx2 rows_forward_baseline
#define rows_weight_gradient_avx2 rows_weight_gradient_baseline
#endif

void sf_event_conv_scatter(const float *image, const sf_conv_geometry *geometry, const float *table,
                           float *target, sf_scatter_direction direction, int level) {
    if (level >= 2) scatter_avx512(image, geometry, table, target, direction);
    else if (level == 1) scatter_avx2(image, geometry, table, target, direction);
    else scatter_baseline(image, geometry, table, target, direction);
}

void sf_spike_rows_forward(const float *x, int64_t row_begin, int64_t row_end, int64_t in_features,
                           const float *wt, int64_t out_features, float *y, int avx2) {
    if (avx2) rows_forward_avx2(x, row_begin, row_end, in_features, wt, out_features, y);
    else rows_forward_baseline(x, row_begin, row_end, in_features, wt, out_features, y);
}

void sf_spike_rows_weight_gradient(const float *x, int64_t rows, int64_t in_features,
                                   int64_t column_begin, int64_t column_end,
                                   const float *dy, int64_t out_features, float *dwt, int avx2) {
    if (avx2) rows_weight_gradient_avx2(x, rows, in_features, column_begin, column_end, dy, out_features, dwt);
    else rows_weight_gradient_baseline(x, rows, in_features, column_begin, column_end, dy, out_features, dwt);
}
