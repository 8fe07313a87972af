// One time step of the LIF neuron, forward and STBP backward (`LIFKernel.forwardStep` /
// `backwardStep`, paper eqs. 1–4, 8, 9), in a baseline and an AVX2 variant from one body (as
// EventScatter.c): the same float operations per neuron in the same order as the Swift
// reference, no FMA contraction, so the bits are the reference's whichever variant runs.
#include "CSpikeKernels.h"
#include "Lanes.h"
#include <stdlib.h>

#pragma clang fp contract(off)

typedef int32_t sf_mask __attribute__((vector_size(32)));
#define SPLAT(s) ((sf_lanes){s, s, s, s, s, s, s, s})

/// where(mask, a, b): a in the lanes whose mask is all ones, else b (bitwise, so exact); a
/// macro so that no vector crosses a function boundary.
#define select_lanes(mask, a, b) ((sf_lanes)(((sf_mask)(a) & (mask)) | ((sf_mask)(b) & ~(mask))))

/// The LIF update of eq. 1–3 from u[t−1] and I[t] (vthV, tauV, zero or vth, tau in scope): the
/// one expression both forward bodies use, in lanes and one neuron at a time.
#define LIF_UPDATE_LANES(up, current) (select_lanes((up) >= vthV, zero, tauV * (up)) + (current))
#define LIF_UPDATE(up, current) (((up) >= vth ? 0.0f : tau * (up)) + (current))

SF_INLINE void forward_body(const float *current, const float *previous, float *membrane,
                            float *spikes, int64_t n, float tau, float vth) {
    const sf_lanes vthV = SPLAT(vth), tauV = SPLAT(tau), zero = SPLAT(0.0f), one = SPLAT(1.0f);
    int64_t i = 0;
    if (previous) {
        for (; i + 8 <= n; i += 8) {
            const sf_lanes up = LANES_AT(previous + i);
            const sf_lanes u = LIF_UPDATE_LANES(up, LANES_AT(current + i));
            LANES_AT(membrane + i) = u;
            LANES_AT(spikes + i) = select_lanes(u >= vthV, one, zero);
        }
        for (; i < n; i++) {
            const float up = previous[i];
            const float u = LIF_UPDATE(up, current[i]);
            membrane[i] = u;
            spikes[i] = u >= vth ? 1.0f : 0.0f;
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            const sf_lanes u = LANES_AT(current + i);
            LANES_AT(membrane + i) = u;
            LANES_AT(spikes + i) = select_lanes(u >= vthV, one, zero);
        }
        for (; i < n; i++) {
            const float u = current[i];
            membrane[i] = u;
            spikes[i] = u >= vth ? 1.0f : 0.0f;
        }
    }
}

/// Eight floats stored to `p` bypassing the caches (two 16-byte non-temporal stores; p must be
/// 16-byte aligned): for data the next reads are far away, so that writing it costs no read
/// of the line first.
#ifdef SF_X86
#include <immintrin.h>
#define STREAM_LANES(p, v) (_mm_stream_ps((p), __builtin_shufflevector((v), (v), 0, 1, 2, 3)), \
                            _mm_stream_ps((p) + 4, __builtin_shufflevector((v), (v), 4, 5, 6, 7)))
#else
#define STREAM_LANES(p, v) (LANES_AT(p) = (v))
#endif

/// `forward_body` on I = sums + bias, the bias repeating every `channels` neurons (channels-last
/// rows): the add first, as a convolution adds its bias, then the same LIF update, so the bits
/// of a separate bias pass followed by `forward_body`. With `kept`, u is also written there,
/// streamed past the caches where `kept` is 16-byte aligned (a training pass's kept membranes,
/// read again only by the backward).
SF_INLINE void forward_biased_body(const float *sums, const float *bias, int64_t channels, const float *previous,
                                   float *membrane, float *spikes, float *kept, int64_t n, float tau, float vth) {
    const sf_lanes vthV = SPLAT(vth), tauV = SPLAT(tau), zero = SPLAT(0.0f), one = SPLAT(1.0f);
    const int64_t vectorEnd = channels / 8 * 8;
    const int stream = kept && ((uintptr_t)kept & 15) == 0 && channels % 4 == 0;
#define KEEP_LANES(i, u) if (kept) { if (stream) STREAM_LANES(kept + (i), (u)); else LANES_AT(kept + (i)) = (u); }
    for (int64_t row = 0; row < n; row += channels) {
        int64_t c = 0;
        if (previous) {
            for (; c < vectorEnd; c += 8) {
                const int64_t i = row + c;
                const sf_lanes current = LANES_AT(sums + i) + LANES_AT(bias + c);
                const sf_lanes up = LANES_AT(previous + i);
                const sf_lanes u = LIF_UPDATE_LANES(up, current);
                LANES_AT(membrane + i) = u;
                LANES_AT(spikes + i) = select_lanes(u >= vthV, one, zero);
                KEEP_LANES(i, u)
            }
            for (; c < channels; c++) {
                const int64_t i = row + c;
                const float up = previous[i];
                const float u = LIF_UPDATE(up, sums[i] + bias[c]);
                membrane[i] = u;
                spikes[i] = u >= vth ? 1.0f : 0.0f;
                if (kept) kept[i] = u;
            }
        } else {
            for (; c < vectorEnd; c += 8) {
                const int64_t i = row + c;
                const sf_lanes u = LANES_AT(sums + i) + LANES_AT(bias + c);
                LANES_AT(membrane + i) = u;
                LANES_AT(spikes + i) = select_lanes(u >= vthV, one, zero);
                KEEP_LANES(i, u)
            }
            for (; c < channels; c++) {
                const int64_t i = row + c;
                const float u = sums[i] + bias[c];
                membrane[i] = u;
                spikes[i] = u >= vth ? 1.0f : 0.0f;
                if (kept) kept[i] = u;
            }
        }
    }
#undef KEEP_LANES
#ifdef SF_X86
    if (stream) _mm_sfence();   // the streamed stores before any later read of `kept`
#endif
}

SF_INLINE void backward_body(const float *grad_spikes, const float *extra, const float *membrane,
                             const float *next, float *grad_current, int64_t n, float tau, float vth,
                             float half_width, float height) {
    const sf_lanes vthV = SPLAT(vth), tauV = SPLAT(tau), zero = SPLAT(0.0f);
    const sf_lanes halfV = SPLAT(half_width), minusHalfV = SPLAT(-half_width), heightV = SPLAT(height);
    int64_t i = 0;
    // h(u) of eq. 9 as the reference computes it: d = u − V_th, height where −a/2 < d < a/2.
#define SURROGATE(u) select_lanes(((u) - vthV < halfV) & ((u) - vthV > minusHalfV), heightV, zero)
    if (next) {
        for (; i + 8 <= n; i += 8) {
            const sf_lanes u = LANES_AT(membrane + i), dNext = LANES_AT(next + i);
            sf_lanes dO = LANES_AT(grad_spikes + i) - dNext * tauV * u;
            if (extra) dO += LANES_AT(extra + i);
            LANES_AT(grad_current + i) = dO * SURROGATE(u) + select_lanes(u >= vthV, zero, dNext * tauV);
        }
        for (; i < n; i++) {
            const float u = membrane[i], dNext = next[i];
            float dO = grad_spikes[i] - dNext * tau * u;
            if (extra) dO += extra[i];
            const float d = u - vth;
            const float h = (d < half_width && d > -half_width) ? height : 0.0f;
            grad_current[i] = dO * h + (u >= vth ? 0.0f : dNext * tau);
        }
    } else {
        for (; i + 8 <= n; i += 8) {
            const sf_lanes u = LANES_AT(membrane + i);
            sf_lanes dO = LANES_AT(grad_spikes + i);
            if (extra) dO += LANES_AT(extra + i);
            LANES_AT(grad_current + i) = dO * SURROGATE(u);
        }
        for (; i < n; i++) {
            const float u = membrane[i];
            float dO = grad_spikes[i];
            if (extra) dO += extra[i];
            const float d = u - vth;
            grad_current[i] = dO * ((d < half_width && d > -half_width) ? height : 0.0f);
        }
    }
#undef SURROGATE
}

/// `forward_biased_body` over one channels-last image [height, width, channels] two rows at a
/// time, followed by the 2×2 pool of the two rows' spikes while they are in a stack buffer, so
/// the full-size spikes are never written: average (((s[2i, 2j] + s[2i, 2j+1]) + (s[2i+1, 2j]
/// + s[2i+1, 2j+1])) · ¼ per channel: the channels-last pool's expression) or, with `maximum`,
/// the window's maximum as the bitwise OR of the four spikes (0.0f and 1.0f: the OR of their
/// bits is 1.0f exactly where one is 1, the maximum). A last odd row or column gets its LIF
/// update and no pooled output, as the pool drops it.
SF_INLINE void forward_pool2_body(const float *sums, const float *bias, int64_t channels, const float *previous,
                                  float *membrane, float *kept, int64_t height, int64_t width, float *pooled,
                                  float tau, float vth, int maximum) {
    const int64_t rowCount = width * channels, pw = width / 2;
    enum { STACK_FLOATS = 8192 };                       // two rows of up to 32 KB on the stack
    float stackSpikes[STACK_FLOATS];
    float *spikes = 2 * rowCount <= STACK_FLOATS ? stackSpikes : malloc(sizeof(float) * (size_t)(2 * rowCount));
    if (!spikes) abort();
    for (int64_t y = 0; y < height; y++) {
        const int64_t offset = y * rowCount;
        float *rowSpikes = spikes + (y % 2) * rowCount;
        forward_biased_body(sums + offset, bias, channels, previous ? previous + offset : 0, membrane + offset,
                            rowSpikes, kept ? kept + offset : 0, rowCount, tau, vth);
        if (y % 2 == 0) continue;
        float *out = pooled + (y / 2) * pw * channels;
        const sf_lanes quarter = SPLAT(0.25f);
        if (maximum) {
            for (int64_t j = 0; j < pw; j++) {
                const float *r0 = spikes + 2 * j * channels, *r1 = r0 + rowCount;
                float *o = out + j * channels;
                int64_t c = 0;
                for (; c + 8 <= channels; c += 8)
                    LANES_AT(o + c) = (sf_lanes)(((sf_mask)LANES_AT(r0 + c) | (sf_mask)LANES_AT(r0 + channels + c))
                                                 | ((sf_mask)LANES_AT(r1 + c) | (sf_mask)LANES_AT(r1 + channels + c)));
                for (; c < channels; c++) {
                    const float a = r0[c], b = r0[channels + c], d = r1[c], e = r1[channels + c];
                    o[c] = (a > 0 || b > 0 || d > 0 || e > 0) ? 1.0f : 0.0f;
                }
            }
            continue;
        }
        for (int64_t j = 0; j < pw; j++) {
            const float *r0 = spikes + 2 * j * channels, *r1 = r0 + rowCount;
            float *o = out + j * channels;
            int64_t c = 0;
            for (; c + 8 <= channels; c += 8)
                LANES_AT(o + c) = ((LANES_AT(r0 + c) + LANES_AT(r0 + channels + c))
                                   + (LANES_AT(r1 + c) + LANES_AT(r1 + channels + c))) * quarter;
            for (; c < channels; c++) o[c] = ((r0[c] + r0[channels + c]) + (r1[c] + r1[channels + c])) * 0.25f;
        }
    }
    if (spikes != stackSpikes) free(spikes);
}

/// Whether window element `self` (row-major index in its k×k window, whose top-left membrane
/// is `corner`) is the one a max pool routes the gradient to, per channel: the first element
/// that spikes (u ≥ V_th), or the first element when none does (`MaxPool2dKernel`'s tie rule
/// on 0/1 spikes). Lanes of channels c … c+7 (vthV in scope).
#define MAX_CHOSEN_LANES(corner, self, k, width, channels, c) ({                                  \
    sf_mask earlier = (sf_mask){0}, any = (sf_mask){0}, mine = (sf_mask){0};                    \
    for (int64_t r = 0; r < (k) * (k); r++) {                                                   \
        const sf_mask s = (sf_mask)(LANES_AT((corner) + ((r / (k)) * (width) + r % (k)) * (channels) + (c)) >= vthV); \
        if (r < (self)) earlier |= s;                                                           \
        if (r == (self)) mine = s;                                                              \
        any |= s;                                                                               \
    }                                                                                           \
    (self) == 0 ? (mine | ~any) : (mine & ~earlier); })

/// `backward_body` over one channels-last image [height, width, channels] of a conv → LIF →
/// pool layer, the spikes' gradient read from the pool's: for an average pool g_o[y, x, :] =
/// pooled[(y/k)·pw + x/k, :] · scale inside the full windows, for a max pool (`maximum`,
/// `scale` unused) pooled[…] itself at the window's chosen element (`MAX_CHOSEN_LANES`, from
/// the membranes) and 0 at the others; 0 outside the full windows (the pool backward's
/// values), built per pixel in a row of `channels` floats; column_sums[c] = Σ_pixels δu[pixel, c]
/// from 0 in pixel order (the image's bias gradient). The bits of the spread, the step and the
/// column sums one after the other.
SF_INLINE void backward_pooled_body(const float *pooled, int64_t k, float scale, int64_t ph, int64_t pw,
                                    int64_t height, int64_t width, int64_t channels, const float *membrane,
                                    const float *next, float *grad_current, float *restrict column_sums,
                                    float tau, float vth, float half_width, float h, int maximum) {
    float gradSpikes[channels];
    const sf_lanes vthV = SPLAT(vth), zero = SPLAT(0.0f);
    for (int64_t c = 0; c < channels; c++) column_sums[c] = 0;
    // (wy, wx) = (y / k, x / k), the pixel's window, and (ay, ax) its place in it, counted
    for (int64_t y = 0, wy = 0, ay = 0; y < height; y++) {
        for (int64_t x = 0, wx = 0, ax = 0; x < width; x++) {
            const int64_t pixel = (y * width + x) * channels;
            const int inside = wy < ph && wx < pw;
            if (inside && maximum) {
                const float *src = pooled + (wy * pw + wx) * channels;
                const float *corner = membrane + (wy * k * width + wx * k) * channels;
                const int64_t self = ay * k + ax;
                int64_t c = 0;
                if (k == 2) {
                    // the four neurons of the window, in row-major order
                    const float *u0 = corner, *u1 = corner + channels, *u2 = corner + width * channels, *u3 = u2 + channels;
                    for (; c + 8 <= channels; c += 8) {
                        const sf_mask s0 = (sf_mask)(LANES_AT(u0 + c) >= vthV), s1 = (sf_mask)(LANES_AT(u1 + c) >= vthV);
                        sf_mask chosen;
                        if (self == 0) {
                            chosen = s0 | ~(s1 | (sf_mask)(LANES_AT(u2 + c) >= vthV) | (sf_mask)(LANES_AT(u3 + c) >= vthV));
                        } else if (self == 1) {
                            chosen = s1 & ~s0;
                        } else if (self == 2) {
                            chosen = (sf_mask)(LANES_AT(u2 + c) >= vthV) & ~(s0 | s1);
                        } else {
                            chosen = (sf_mask)(LANES_AT(u3 + c) >= vthV) & ~(s0 | s1 | (sf_mask)(LANES_AT(u2 + c) >= vthV));
                        }
                        LANES_AT(gradSpikes + c) = select_lanes(chosen, LANES_AT(src + c), zero);
                    }
                } else {
                    for (; c + 8 <= channels; c += 8)
                        LANES_AT(gradSpikes + c) = select_lanes(MAX_CHOSEN_LANES(corner, self, k, width, channels, c),
                                                                LANES_AT(src + c), zero);
                }
                for (; c < channels; c++) {
                    int earlier = 0, any = 0, mine = 0;
                    for (int64_t r = 0; r < k * k; r++) {
                        const int s = corner[((r / k) * width + r % k) * channels + c] >= vth;
                        if (r < self) earlier |= s;
                        if (r == self) mine = s;
                        any |= s;
                    }
                    gradSpikes[c] = (self == 0 ? (mine || !any) : (mine && !earlier)) ? src[c] : 0.0f;
                }
            } else if (inside) {
                const float *src = pooled + (wy * pw + wx) * channels;
                for (int64_t c = 0; c < channels; c++) gradSpikes[c] = src[c] * scale;
            } else {
                for (int64_t c = 0; c < channels; c++) gradSpikes[c] = 0;
            }
            backward_body(gradSpikes, 0, membrane + pixel, next ? next + pixel : 0, grad_current + pixel, channels,
                          tau, vth, half_width, h);
            for (int64_t c = 0; c < channels; c++) column_sums[c] += grad_current[pixel + c];
            if (++ax == k) { ax = 0; wx++; }
        }
        if (++ay == k) { ay = 0; wy++; }
    }
}

static void forward_baseline(const float *c, const float *p, float *m, float *s, int64_t n, float tau, float vth) {
    forward_body(c, p, m, s, n, tau, vth);
}
static void forward_biased_baseline(const float *c, const float *b, int64_t ch, const float *p, float *m, float *s,
                                    float *k, int64_t n, float tau, float vth) {
    forward_biased_body(c, b, ch, p, m, s, k, n, tau, vth);
}
static void backward_baseline(const float *g, const float *e, const float *u, const float *nx, float *d, int64_t n,
                              float tau, float vth, float hw, float h) {
    backward_body(g, e, u, nx, d, n, tau, vth, hw, h);
}
static void forward_pool2_baseline(const float *c, const float *b, int64_t ch, const float *p, float *m, float *k,
                                   int64_t h, int64_t w, float *o, float tau, float vth, int mx) {
    if (mx) forward_pool2_body(c, b, ch, p, m, k, h, w, o, tau, vth, 1);   /* each pool its own inlined copy */
    else forward_pool2_body(c, b, ch, p, m, k, h, w, o, tau, vth, 0);
}
static void backward_pooled_baseline(const float *g, int64_t k, float sc, int64_t ph, int64_t pw, int64_t hh, int64_t ww,
                                     int64_t ch, const float *u, const float *nx, float *d, float *cs, float tau,
                                     float vth, float hw, float h, int mx) {
    if (mx) backward_pooled_body(g, k, sc, ph, pw, hh, ww, ch, u, nx, d, cs, tau, vth, hw, h, 1);
    else backward_pooled_body(g, k, sc, ph, pw, hh, ww, ch, u, nx, d, cs, tau, vth, hw, h, 0);
}
#ifdef SF_X86
#define SF_AVX2 __attribute__((target("avx2")))
SF_AVX2 static void forward_pool2_avx2(const float *c, const float *b, int64_t ch, const float *p, float *m, float *k,
                                       int64_t h, int64_t w, float *o, float tau, float vth, int mx) {
    if (mx) forward_pool2_body(c, b, ch, p, m, k, h, w, o, tau, vth, 1);   /* each pool its own inlined copy */
    else forward_pool2_body(c, b, ch, p, m, k, h, w, o, tau, vth, 0);
}
SF_AVX2 static void backward_pooled_avx2(const float *g, int64_t k, float sc, int64_t ph, int64_t pw, int64_t hh,
                                         int64_t ww, int64_t ch, const float *u, const float *nx, float *d, float *cs,
                                         float tau, float vth, float hw, float h, int mx) {
    if (mx) backward_pooled_body(g, k, sc, ph, pw, hh, ww, ch, u, nx, d, cs, tau, vth, hw, h, 1);
    else backward_pooled_body(g, k, sc, ph, pw, hh, ww, ch, u, nx, d, cs, tau, vth, hw, h, 0);
}
SF_AVX2 static void forward_avx2(const float *c, const float *p, float *m, float *s, int64_t n, float tau, float vth) {
    forward_body(c, p, m, s, n, tau, vth);
}
SF_AVX2 static void forward_biased_avx2(const float *c, const float *b, int64_t ch, const float *p, float *m, float *s,
                                        float *k, int64_t n, float tau, float vth) {
    forward_biased_body(c, b, ch, p, m, s, k, n, tau, vth);
}
SF_AVX2 static void backward_avx2(const float *g, const float *e, const float *u, const float *nx, float *d, int64_t n,
                                  float tau, float vth, float hw, float h) {
    backward_body(g, e, u, nx, d, n, tau, vth, hw, h);
}
#else
#define backward_pooled_avx2 backward_pooled_baseline
#define forward_pool2_avx2 forward_pool2_baseline
#define forward_avx2 forward_baseline
#define forward_biased_avx2 forward_biased_baseline
#define backward_avx2 backward_baseline
#endif

void sf_lif_forward_step(const float *current, const float *previous_membrane, float *membrane, float *spikes,
                         int64_t neurons, float tau, float threshold, int avx2) {
    if (avx2) forward_avx2(current, previous_membrane, membrane, spikes, neurons, tau, threshold);
    else forward_baseline(current, previous_membrane, membrane, spikes, neurons, tau, threshold);
}

void sf_lif_forward_step_biased(const float *sums, const float *bias, int64_t channels, const float *previous_membrane,
                                float *membrane, float *spikes, float *kept_membrane, int64_t neurons, float tau,
                                float threshold, int avx2) {
    if (channels <= 0 || neurons % channels != 0) return;
    if (avx2) {
        forward_biased_avx2(sums, bias, channels, previous_membrane, membrane, spikes, kept_membrane, neurons, tau,
                            threshold);
    } else {
        forward_biased_baseline(sums, bias, channels, previous_membrane, membrane, spikes, kept_membrane, neurons, tau,
                                threshold);
    }
}

void sf_lif_backward_step(const float *grad_spikes, const float *extra_grad_spikes, const float *membrane,
                          const float *next_grad_current, float *grad_current, int64_t neurons, float tau,
                          float threshold, float half_width, float height, int avx2) {
    if (avx2) {
        backward_avx2(grad_spikes, extra_grad_spikes, membrane, next_grad_current, grad_current, neurons, tau, threshold,
                      half_width, height);
    } else {
        backward_baseline(grad_spikes, extra_grad_spikes, membrane, next_grad_current, grad_current, neurons, tau,
                          threshold, half_width, height);
    }
}

void sf_lif_backward_pooled_step(const float *pooled_grad, int64_t pool, float scale, int64_t pooled_height,
                                 int64_t pooled_width, int64_t height, int64_t width, int64_t channels,
                                 const float *membrane, const float *next_grad_current, float *grad_current,
                                 float *column_sums, float tau, float threshold, float half_width, float height_h,
                                 int maximum, int avx2) {
    if (pool <= 0 || channels <= 0) return;
    if (avx2) {
        backward_pooled_avx2(pooled_grad, pool, scale, pooled_height, pooled_width, height, width, channels, membrane,
                             next_grad_current, grad_current, column_sums, tau, threshold, half_width, height_h,
                             maximum);
    } else {
        backward_pooled_baseline(pooled_grad, pool, scale, pooled_height, pooled_width, height, width, channels,
                                 membrane, next_grad_current, grad_current, column_sums, tau, threshold, half_width,
                                 height_h, maximum);
    }
}

void sf_lif_forward_pool2_step(const float *sums, const float *bias, int64_t channels, const float *previous_membrane,
                               float *membrane, float *kept_membrane, int64_t height, int64_t width, float *pooled,
                               float tau, float threshold, int maximum, int avx2) {
    if (channels <= 0 || height <= 0 || width <= 0) return;
    if (avx2) {
        forward_pool2_avx2(sums, bias, channels, previous_membrane, membrane, kept_membrane, height, width, pooled, tau,
                           threshold, maximum);
    } else {
        forward_pool2_baseline(sums, bias, channels, previous_membrane, membrane, kept_membrane, height, width, pooled,
                               tau, threshold, maximum);
    }
}
